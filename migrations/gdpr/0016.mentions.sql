-- Redaction of a subject's values in other subjects' rows (GDPR Art. 17: a note on
-- another customer that names the erased one is the erased person's data too).
-- The functions are in sql/functions/gdpr.erasure_common.sql and gdpr.mentions.sql.
-- depends: 0013.requests

-- The erasure's pass for its own rewrite of other subjects' free text: while an
-- erasure removes mentions, the erasure guard lets its updates through, also on rows
-- of subjects erased before (whose rows are otherwise closed to changes). One row per
-- transaction at most, inserted and deleted by gdpr.erase_mentions within the
-- erasure's transaction, so no other session ever sees one. Only pgdpr_owner (the
-- engine) may write it: a caller cannot open the guard.
CREATE TABLE gdpr.erasure_mention_pass (
    xid xid8 PRIMARY KEY
);
REVOKE ALL ON gdpr.erasure_mention_pass FROM PUBLIC;
COMMENT ON TABLE gdpr.erasure_mention_pass IS
    'Transactions of an erasure rewriting other subjects'' free text; engine only, never committed with a row';

-- gdpr.redact_pattern takes a third argument (values written together) with a
-- default: the two-argument form would make every call ambiguous.
DROP FUNCTION IF EXISTS gdpr.redact_pattern(text[], text[]);
