-- Who is calling, and for which tenant (club). The tenant comes from role
-- membership, never from a session setting that raw SQL could change: each tenant
-- has a NOLOGIN role pgdpr_tenant_<key>, and a staff role is a member of exactly one.

-- These functions are inlined into the masking views and row-security policies, so
-- PostgreSQL parses them in the querying role's session, with its search_path. They
-- have no SET clause (that would stop the inlining) and instead name every operator,
-- function and type with its schema (OPERATOR(pg_catalog.=), pg_catalog.substr, ...):
-- a role that creates its own "=" or substr() earlier in its search_path changes
-- nothing here (tests/test_lint.py checks the text, tests/test_attacks.py tries it).

-- The tenant of a role: the key of the one pgdpr_tenant_<key> role it is a direct
-- member of; NULL when it is a member of none or of several (a role granted a second
-- club's tenant role belongs to no club rather than to both). pg_catalog only.
CREATE OR REPLACE FUNCTION gdpr.role_tenant(p_role pg_catalog.oid) RETURNS pg_catalog.text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1
                THEN pg_catalog.substr(pg_catalog.min(t.rolname::pg_catalog.text), 14) END
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles t ON t.oid OPERATOR(pg_catalog.=) m.roleid
     WHERE m.member OPERATOR(pg_catalog.=) p_role
       AND pg_catalog.starts_with(t.rolname::pg_catalog.text, 'pgdpr_tenant_')
$$;
COMMENT ON FUNCTION gdpr.role_tenant(oid) IS
    'Tenant key of a role (its one direct pgdpr_tenant_<key> membership), NULL if none or several';

-- The tenant of current_user, for RLS policies and masking views (where current_user
-- is the querying role): an index-friendly, parallel-safe constant per query.
CREATE OR REPLACE FUNCTION gdpr.current_tenant() RETURNS pg_catalog.text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gdpr.role_tenant((SELECT u.oid FROM pg_catalog.pg_roles u
                              WHERE u.rolname OPERATOR(pg_catalog.=) CURRENT_USER))
$$;
COMMENT ON FUNCTION gdpr.current_tenant() IS
    'Tenant key of current_user (from membership of a pgdpr_tenant_<key> role), NULL if none';

-- The role that called a SECURITY DEFINER function. Inside such a function
-- current_user is the owner; the role set with SET [LOCAL] ROLE (checked against
-- membership by PostgreSQL, so it cannot be forged) or else the session user is
-- the caller. The login behind it is SESSION_USER (recorded beside it: gdpr.audit).
CREATE OR REPLACE FUNCTION gdpr.caller() RETURNS pg_catalog.name
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_catalog.current_setting('role') OPERATOR(pg_catalog.=) 'none' THEN SESSION_USER
                ELSE pg_catalog.current_setting('role')::pg_catalog.name END
$$;
COMMENT ON FUNCTION gdpr.caller() IS 'The role on whose behalf the current statement runs, also inside SECURITY DEFINER functions';

-- True when the caller may act on every tenant: a superuser or a member of pgdpr_admin.
CREATE OR REPLACE FUNCTION gdpr.caller_is_admin() RETURNS pg_catalog.bool
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER')
      FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) gdpr.caller()
$$;

-- The tenant of the caller (see gdpr.caller()).
CREATE OR REPLACE FUNCTION gdpr.caller_tenant() RETURNS pg_catalog.text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gdpr.role_tenant((SELECT u.oid FROM pg_catalog.pg_roles u
                              WHERE u.rolname OPERATOR(pg_catalog.=) gdpr.caller()))
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
        RETURN gdpr.known_tenant(p_requested);
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
        RAISE EXCEPTION 'tenant key must be 1-40 letters, digits or underscores'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one role per club: '01' is not a second name of club 1 (its rows would pass
    -- a policy comparing club_id = '01'::integer)
    PERFORM gdpr.known_tenant(p_tenant, true);
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
    END IF;
    RETURN v_role;
END $$;

-- The purposes an audit event may name as they are: the engine's own. Any other
-- text a caller passes is theirs and goes into gdpr.audit_note (see gdpr.audit).
CREATE OR REPLACE FUNCTION gdpr.audit_purposes() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY['insight report', 'data export', 'saved before anonymisation', 'subject request']
$$;
COMMENT ON FUNCTION gdpr.audit_purposes() IS 'The purpose codes an audit event keeps as given';

-- Write one audit event: the role (actor) and the login behind it (SESSION_USER,
-- also inside SECURITY DEFINER functions and after SET ROLE). Callers pass keys and
-- counts only, never personal values. A purpose that is not one of the engine's
-- codes is a caller's text: the append-only event says 'note', and the text, its
-- CPR- and account-shaped numbers masked (gdpr.render_free_text) and cut at 200
-- characters, goes into gdpr.audit_note, which erasing the subject deletes; about
-- an already erased subject it is not kept at all. No output shows a note to staff.
CREATE OR REPLACE FUNCTION gdpr.audit(
    p_action text, p_kind text, p_tenant text, p_subject_key text,
    p_purpose text DEFAULT NULL, p_details jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_note boolean := p_purpose IS NOT NULL AND NOT p_purpose = ANY (gdpr.audit_purposes());
    v_id bigint;
BEGIN
    INSERT INTO gdpr.audit_event (actor, login, action, kind, tenant, subject_key, purpose, details)
    VALUES (gdpr.caller(), SESSION_USER, p_action, p_kind, p_tenant, p_subject_key,
            CASE WHEN v_note THEN 'note' ELSE p_purpose END, COALESCE(p_details, '{}'))
    RETURNING id INTO v_id;
    IF v_note AND btrim(p_purpose) <> ''
       AND NOT (p_kind IS NOT NULL AND p_subject_key IS NOT NULL AND gdpr.subject_erased(p_kind, p_tenant, p_subject_key)) THEN
        INSERT INTO gdpr.audit_note (event_id, kind, tenant, subject_key, note)
        VALUES (v_id, p_kind, p_tenant, p_subject_key, left(gdpr.render_free_text(p_purpose, 'not_allowed'), 200));
    END IF;
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.audit(text, text, text, text, text, jsonb) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.audit(text, text, text, text, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.audit(text, text, text, text, text, jsonb) IS
    'Append one audit event (internal: called by the engine functions); caller text goes to gdpr.audit_note';
