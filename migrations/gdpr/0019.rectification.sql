-- Rectification history (GDPR Art. 16, Art. 5(2)): which declared column of a
-- subject's data was corrected through the protected views, when and by whom (the
-- role and the login behind it). The old value is kept only for columns that are not
-- sensitive (free text with its CPR- and account-shaped numbers masked); it is
-- personal data, so it lives here, not in the append-only audit trail, and erasing
-- the subject deletes it (trigger on gdpr.erasure_ledger, gdpr.rectification.sql).
-- depends: 0018.catalog-diff

CREATE TABLE gdpr.rectification (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    tenant        text NOT NULL DEFAULT '',   -- '' = no club, as in gdpr.subject_note
    subject_key   text NOT NULL,
    table_schema  name NOT NULL,
    table_name    name NOT NULL,
    column_name   name NOT NULL,
    changed_at    timestamptz NOT NULL DEFAULT statement_timestamp(),
    actor         name NOT NULL,              -- the role that wrote (gdpr.caller())
    login         name NOT NULL,              -- the login behind it (SESSION_USER)
    sensitive     boolean NOT NULL,           -- true: no old value kept
    old_value     text,
    CHECK (NOT sensitive OR old_value IS NULL)
);
CREATE INDEX rectification_subject ON gdpr.rectification (kind, tenant, subject_key, changed_at);
COMMENT ON TABLE gdpr.rectification IS
    'Corrections of declared columns through the views (GDPR Art. 16): column, time, role and login; '
    'old values of non-sensitive columns only; deleted when the subject is erased';
REVOKE ALL ON gdpr.rectification FROM PUBLIC;

-- The portable export can be limited to what the subject provided (Art. 20(1)): a
-- new parameter, so the old signature goes (re-created by sql/functions).
DROP FUNCTION IF EXISTS gdpr.insight_rows(text, text, text, text, text);
