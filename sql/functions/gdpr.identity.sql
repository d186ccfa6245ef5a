-- Who is calling, and for which tenant (club). The tenant comes from role
-- membership, never from a session setting that raw SQL could change: each tenant
-- has a NOLOGIN role pgdpr_tenant_<key>, and a staff role is a member of exactly one.

-- The tenant of current_user, for RLS policies and masking views (where current_user
-- is the querying role). pg_catalog only, no user table: stays an index-friendly,
-- parallel-safe constant per query.
CREATE OR REPLACE FUNCTION gdpr.current_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.substr(t.rolname, 14)
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles t ON t.oid = m.roleid
     WHERE m.member = (SELECT u.oid FROM pg_catalog.pg_roles u WHERE u.rolname = CURRENT_USER)
       AND t.rolname LIKE 'pgdpr\_tenant\_%'
     ORDER BY t.rolname
     LIMIT 1
$$;
COMMENT ON FUNCTION gdpr.current_tenant() IS
    'Tenant key of current_user (from membership of a pgdpr_tenant_<key> role), NULL if none';

-- The role that called a SECURITY DEFINER function. Inside such a function
-- current_user is the owner; the role set with SET [LOCAL] ROLE (checked against
-- membership by PostgreSQL, so it cannot be forged) or else the session user is
-- the caller.
CREATE OR REPLACE FUNCTION gdpr.caller() RETURNS name
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)::name
$$;
COMMENT ON FUNCTION gdpr.caller() IS 'The role on whose behalf the current statement runs, also inside SECURITY DEFINER functions';

-- True when the caller may act on every tenant: a superuser or a member of pgdpr_admin.
CREATE OR REPLACE FUNCTION gdpr.caller_is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER')
      FROM pg_catalog.pg_roles r WHERE r.rolname = gdpr.caller()
$$;

-- The tenant of the caller (see gdpr.caller()).
CREATE OR REPLACE FUNCTION gdpr.caller_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.substr(t.rolname, 14)
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles t ON t.oid = m.roleid
     WHERE m.member = (SELECT u.oid FROM pg_catalog.pg_roles u WHERE u.rolname = gdpr.caller())
       AND t.rolname LIKE 'pgdpr\_tenant\_%'
     ORDER BY t.rolname
     LIMIT 1
$$;

-- The tenant a SECURITY DEFINER function may act on: an admin names it (or NULL
-- for "whichever tenant the subject belongs to"); anyone else acts on their own
-- tenant only, and naming another is refused.
CREATE OR REPLACE FUNCTION gdpr.acting_tenant(p_requested text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_own text;
BEGIN
    IF gdpr.caller_is_admin() THEN
        RETURN p_requested;
    END IF;
    v_own := gdpr.caller_tenant();
    IF v_own IS NULL THEN
        RAISE EXCEPTION 'role % belongs to no club', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_requested IS NOT NULL AND p_requested <> v_own THEN
        RAISE EXCEPTION 'role % may not act for club %', gdpr.caller(), p_requested
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_own;
END $$;

-- The role name of a tenant, created on demand by gdpr.ensure_tenant_role().
CREATE OR REPLACE FUNCTION gdpr.tenant_role(p_tenant text) RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ('pgdpr_tenant_' || p_tenant)::name
$$;

CREATE OR REPLACE FUNCTION gdpr.ensure_tenant_role(p_tenant text) RETURNS name
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_role name := gdpr.tenant_role(p_tenant);
BEGIN
    IF p_tenant !~ '^[A-Za-z0-9_]{1,40}$' THEN
        RAISE EXCEPTION 'tenant key must be 1-40 letters, digits or underscores';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
    END IF;
    RETURN v_role;
END $$;

-- Write one audit event. Callers pass keys and counts only, never personal values.
CREATE OR REPLACE FUNCTION gdpr.audit(
    p_action text, p_kind text, p_tenant text, p_subject_key text,
    p_purpose text DEFAULT NULL, p_details jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO gdpr.audit_event (actor, action, kind, tenant, subject_key, purpose, details)
    VALUES (gdpr.caller(), p_action, p_kind, p_tenant, p_subject_key, p_purpose, COALESCE(p_details, '{}'))
    RETURNING id
$$;
ALTER FUNCTION gdpr.audit(text, text, text, text, text, jsonb) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.audit(text, text, text, text, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.audit(text, text, text, text, text, jsonb) IS
    'Append one audit event (internal: called by the engine functions)';
