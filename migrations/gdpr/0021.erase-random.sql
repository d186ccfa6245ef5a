-- The `random` erase strategy: a unique column (a customer number) gets a fresh random
-- value at erasure, derived from nothing about the person. A keyed hash of the old
-- value, with the key in the same database and its backups, lets anyone with them
-- confirm a guessed number (GDPR Recital 26: pseudonymous, not anonymous).
-- depends: 0020.not-personal

ALTER TABLE gdpr.catalog_column DROP CONSTRAINT catalog_column_erase_check;
ALTER TABLE gdpr.catalog_column ADD CONSTRAINT catalog_column_erase_check
    CHECK (erase IN ('null', 'constant', 'redact', 'year_only', 'hash', 'random', 'keep'));
