-- "View sensitive information" (seed S6, S7): one rendering of sensitive values,
-- shared by the masking views, the insight report and the export, so every path
-- shows a caller the same thing: the value, 'kræver login', or nothing.
--
-- Until a right is granted, every role but a superuser or the database owner reads
-- 'kræver login' (the vendor's own staff are blocked by default, seed S7).

-- The access level of a role to an area's sensitive columns: 'allowed',
-- 'not_allowed' or 'hidden'.
CREATE OR REPLACE FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN r.rolsuper OR r.oid = d.datdba THEN 'allowed' ELSE 'not_allowed' END
      FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
     WHERE r.rolname = p_role AND d.datname = pg_catalog.current_database()
$$;
COMMENT ON FUNCTION gdpr.sensitive_access_of(name, text) IS
    'Access level (allowed, not_allowed, hidden) of a role to the sensitive columns of an area';

-- The access level of current_user (the querying role, in views and policies).
CREATE OR REPLACE FUNCTION gdpr.sensitive_access(p_area text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gdpr.sensitive_access_of(CURRENT_USER, p_area)
$$;
COMMENT ON FUNCTION gdpr.sensitive_access(text) IS
    'Access level (allowed, not_allowed, hidden) of the current role to an area''s sensitive columns';

-- How a sensitive value reads at an access level. Inlinable: callers compute the
-- access once per query (an uncorrelated subquery, an InitPlan) and pass it in.
CREATE OR REPLACE FUNCTION gdpr.render_sensitive(p_value text, p_access text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_access WHEN 'allowed' THEN p_value WHEN 'hidden' THEN NULL::text
                ELSE CASE WHEN p_value IS NULL THEN NULL::text ELSE 'kræver login' END END
$$;
COMMENT ON FUNCTION gdpr.render_sensitive(text, text) IS
    'A sensitive value as a caller at the given access level reads it: the value, ''kræver login'' or NULL';
