-- Grants of the rights model (docs/rights.md). The row policies and the views'
-- grants are generated from the catalog by gdpr.refresh_views(), which `pgdpr
-- migrate` runs after this folder.

-- create_staff_group / add_staff run with the DBA's privileges (they create roles);
-- the rights and support tables are otherwise written by SECURITY DEFINER functions.
-- Every row change is audited by trigger.
REVOKE ALL ON gdpr.staff_group, gdpr.group_right, gdpr.support_grant FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON gdpr.staff_group TO pgdpr_admin;
GRANT SELECT ON gdpr.group_right, gdpr.support_grant TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.audit(text, text, text, text, text, jsonb) TO pgdpr_admin;

-- The support role reads the generated views, whose inlined SQL functions
-- (gdpr.sensitive_access, gdpr.current_tenant) are resolved in its name.
GRANT USAGE ON SCHEMA gdpr TO pgdpr_support;

-- No staff, support or view-owner role may bypass row security, ever.
ALTER ROLE pgdpr_staff NOBYPASSRLS;
ALTER ROLE pgdpr_support NOBYPASSRLS;
ALTER ROLE pgdpr_view_owner NOBYPASSRLS;
