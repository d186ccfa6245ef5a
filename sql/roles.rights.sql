-- Roles of the rights model (docs/rights.md). Cluster-wide, created only if missing.
--   pgdpr_support     the vendor's support staff (their login roles are members). NOLOGIN.
--                     Sees no club's rows unless the club granted time-limited access
--                     (gdpr.grant_support_access), and never a sensitive value.
--   pgdpr_view_owner  owns the generated masking views (club_app.*). NOLOGIN and without
--                     BYPASSRLS, so the row policies of the base tables apply to every
--                     read through a view (design.md, "Security model").
-- Grants that involve the engine's other roles are in sql/policies/rights.sql, which
-- is loaded after sql/roles.sql.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgdpr_support') THEN
        CREATE ROLE pgdpr_support NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgdpr_view_owner') THEN
        CREATE ROLE pgdpr_view_owner NOLOGIN NOBYPASSRLS;
    END IF;
END $$;
ALTER ROLE pgdpr_support NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
ALTER ROLE pgdpr_view_owner NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
