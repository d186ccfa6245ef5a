-- The erasure right (GDPR Art. 17, docs/erasure.md): a NOLOGIN group role whose members may
-- call gdpr.anonymize / gdpr.anonymize_many and clear legal holds. A staff role is
-- granted it on top of its club role; it is a member of nothing itself.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgdpr_erasure') THEN
        CREATE ROLE pgdpr_erasure NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_erasure;
