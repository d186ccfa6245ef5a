-- The engine's group roles. Roles are cluster-wide, so each is created only if
-- missing; re-applied on every migrate.
--   pgdpr_owner  owns SECURITY DEFINER functions; NOLOGIN; BYPASSRLS because its
--                functions enforce the caller's tenant themselves.
--   pgdpr_admin  a DBA or back-office job: may act on any tenant through the functions.
--   pgdpr_staff  every staff role of every club: may call the staff-facing functions.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgdpr_owner') THEN
        CREATE ROLE pgdpr_owner NOLOGIN BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgdpr_admin') THEN
        CREATE ROLE pgdpr_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgdpr_staff') THEN
        CREATE ROLE pgdpr_staff NOLOGIN;
    END IF;
END $$;

ALTER SCHEMA gdpr OWNER TO pgdpr_owner;
REVOKE ALL ON SCHEMA gdpr FROM PUBLIC;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_admin, pgdpr_staff;
REVOKE ALL ON ALL TABLES IN SCHEMA gdpr FROM PUBLIC;
GRANT SELECT ON gdpr.subject_kind, gdpr.catalog_table, gdpr.catalog_column TO pgdpr_admin;
GRANT SELECT ON gdpr.audit_event, gdpr.not_personal TO pgdpr_admin;

-- The engine's tables belong to pgdpr_owner, whose SECURITY DEFINER functions write
-- them; DBAs (pgdpr_admin) maintain the catalog through the declare functions.
DO $$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN
        SELECT c.oid::regclass FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'gdpr'::regnamespace AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO pgdpr_owner', v_table);
    END LOOP;
END $$;
GRANT INSERT, UPDATE, DELETE ON gdpr.subject_kind, gdpr.catalog_table, gdpr.catalog_column TO pgdpr_admin;
