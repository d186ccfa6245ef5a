-- The audit trail is append-only and kept for years, so nothing a caller typed goes
-- into it (GDPR Art. 5(1)(c), 17, 32): gdpr.audit_event.purpose holds one of the
-- engine's purpose codes, and a caller's own text (a report's purpose, an erasure's
-- reason) goes, numbers masked by pattern, into gdpr.audit_note, which erasing the
-- subject deletes. The login behind SET ROLE is recorded beside the role it acted as.
-- The insight report no longer masks free text by comparison with the subject's
-- values (a guessing oracle), so its statement cache loses that query.
-- depends: 0010.erasure-guard-update

CREATE TABLE gdpr.audit_note (
    event_id    bigint PRIMARY KEY REFERENCES gdpr.audit_event,
    kind        text,
    tenant      text,
    subject_key text,
    note        text NOT NULL CHECK (length(note) <= 200)
);
CREATE INDEX audit_note_subject ON gdpr.audit_note (kind, tenant, subject_key);
COMMENT ON TABLE gdpr.audit_note IS
    'What a caller wrote with an audited action (purpose, reason), numbers masked; deleted when the subject is erased';

ALTER TABLE gdpr.audit_event ADD COLUMN login name;
ALTER TABLE gdpr.audit_event ALTER COLUMN login SET DEFAULT SESSION_USER;
COMMENT ON COLUMN gdpr.audit_event.login IS 'The login (session user) behind actor, the role it acted as; NULL before 0011';
ALTER TABLE gdpr.legal_hold ADD COLUMN created_by_login name;
ALTER TABLE gdpr.legal_hold ALTER COLUMN created_by_login SET DEFAULT SESSION_USER;
ALTER TABLE gdpr.support_grant ADD COLUMN granted_by_login name;
ALTER TABLE gdpr.support_grant ALTER COLUMN granted_by_login SET DEFAULT SESSION_USER;

-- Earlier purposes were caller text: moved into notes (numbers masked by the same
-- pattern as gdpr.render_free_text), the event keeps the code 'note'.
ALTER TABLE gdpr.audit_event DISABLE TRIGGER audit_event_append_only;
WITH moved AS (
    INSERT INTO gdpr.audit_note (event_id, kind, tenant, subject_key, note)
    SELECT e.id, e.kind, e.tenant, e.subject_key,
           left(regexp_replace(e.purpose,
               '(?<![0-9])[0-3][-–—._/[:space:]]{0,3}[0-9][-–—._/[:space:]]{0,3}[01](?:[-–—._/[:space:]]{0,3}[0-9]){7}(?![0-9])'
               '|(?<![0-9])[0-9]{4}[-–—./[:space:]]{1,3}[0-9]{6,10}(?![0-9])|(?<![0-9])[0-9]{10,14}(?![0-9])',
               'kræver login', 'g'), 200)
      FROM gdpr.audit_event e
     WHERE e.purpose IS NOT NULL
       AND e.purpose NOT IN ('insight report', 'data export', 'saved before anonymisation', 'subject request')
       AND (e.action = 'anonymize' OR NOT EXISTS (SELECT FROM gdpr.erasure_ledger l
                        WHERE l.kind = e.kind AND l.tenant IS NOT DISTINCT FROM e.tenant
                          AND l.subject_key = e.subject_key AND l.erased_at < e.at))
    RETURNING event_id)
UPDATE gdpr.audit_event e SET purpose = 'note'
 WHERE e.purpose IS NOT NULL
   AND e.purpose NOT IN ('insight report', 'data export', 'saved before anonymisation', 'subject request');
ALTER TABLE gdpr.audit_event ENABLE ALWAYS TRIGGER audit_event_append_only;

ALTER TABLE gdpr.insight_statement DROP COLUMN secrets;
-- its generator no longer returns the secrets query (a new result type: recreated by
-- sql/functions/gdpr.insight_report.sql)
DROP FUNCTION IF EXISTS gdpr.insight_sections(text);
DROP FUNCTION IF EXISTS gdpr.insight_purpose(text, text, text, text);
-- renamed gdpr.audit_table_change (it audits the catalog tables too); its triggers
-- are created again by sql/functions/gdpr.rights.sql
DROP FUNCTION IF EXISTS gdpr.audit_rights_change() CASCADE;
