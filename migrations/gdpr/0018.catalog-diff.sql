-- Re-applying a catalog is a diff, never a reset (`pgdpr catalog apply`, `pgdpr
-- demo`): a subject kind's legal holds no longer go with its declaration. Removing a
-- kind that still has holds, rules, ledger entries, proofs, deferred erasures or
-- requests is refused (gdpr.forget_subject); the foreign key backs that up.
-- depends: 0013.requests

ALTER TABLE gdpr.legal_hold DROP CONSTRAINT legal_hold_kind_fkey;
ALTER TABLE gdpr.legal_hold ADD CONSTRAINT legal_hold_kind_fkey
    FOREIGN KEY (kind) REFERENCES gdpr.subject_kind ON UPDATE CASCADE;
