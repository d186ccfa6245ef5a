-- Staff groups, rights and the vendor's support access (docs/rights.md).
--
-- A staff group is a NOLOGIN PostgreSQL role, member of its club's tenant role and
-- of pgdpr_staff; a staff login role (or the role a pooled backend switches to with
-- SET LOCAL ROLE) is a member of its groups and so of exactly one club. Rights live
-- in gdpr.group_right, read by gdpr.sensitive_access_of()/register_access_of().
--
-- Creating roles needs CREATEROLE, so create_staff_group and add_staff run with the
-- caller's privileges (a superuser or a DBA with CREATEROLE and admin of pgdpr_staff
-- and the tenant roles); they are granted to pgdpr_admin. Every row change of the
-- rights tables is audited by trigger, whichever path made it (GDPR Art. 5(2), 32).

-- Audit every change of the tables that decide what staff see: the rights
-- (staff_group, group_right, support_grant) and the catalog (subject_kind,
-- catalog_table, catalog_column, tenant_table: turning a column's sensitive flag off
-- unmasks it in every view and report). Whichever path made the change, the
-- declare functions or a direct UPDATE by an admin, the old and new row are kept
-- (they hold names of roles, tables and columns, no personal data).
CREATE OR REPLACE FUNCTION gdpr.audit_table_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_row jsonb := CASE WHEN tg_op = 'DELETE' THEN pg_catalog.to_jsonb(OLD) ELSE pg_catalog.to_jsonb(NEW) END;
    v_tenant text;
BEGIN
    v_tenant := COALESCE(v_row->>'tenant',
        (SELECT g.tenant FROM gdpr.staff_group g WHERE g.group_role = (v_row->>'group_role')::name));
    PERFORM gdpr.audit(
        pg_catalog.format('%s.%s', tg_table_name, pg_catalog.lower(tg_op)), NULL, v_tenant, NULL, NULL,
        CASE WHEN tg_op = 'UPDATE' THEN pg_catalog.jsonb_build_object('old', pg_catalog.to_jsonb(OLD), 'new', v_row)
             ELSE v_row END);
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.audit_table_change() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.audit_table_change() FROM PUBLIC;
COMMENT ON FUNCTION gdpr.audit_table_change() IS
    'Trigger: audit every change of staff groups, rights, support grants and the catalog';

DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['staff_group', 'group_right', 'support_grant',
                                   'subject_kind', 'catalog_table', 'catalog_column', 'tenant_table',
                                   'not_personal'] LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS audit_change ON gdpr.%I', v_table);
        EXECUTE pg_catalog.format('CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON gdpr.%I '
                                  'FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change()', v_table);
        -- also with session_replication_role = replica (as pg_restore may set it)
        EXECUTE pg_catalog.format('ALTER TABLE gdpr.%I ENABLE ALWAYS TRIGGER audit_change', v_table);
    END LOOP;
END $$;

-- Create (or adopt) a staff group of one club.
CREATE OR REPLACE FUNCTION gdpr.create_staff_group(p_tenant text, p_group name, p_description text DEFAULT NULL)
RETURNS name
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant_role name;
    v_existing text;
BEGIN
    IF p_group IS NULL OR p_group !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'a staff group name is lower-case letters, digits and _'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_group LIKE 'pgdpr\_%' THEN
        RAISE EXCEPTION 'staff group % uses the reserved prefix pgdpr_', p_group USING ERRCODE = 'reserved_name';
    END IF;
    SELECT tenant INTO v_existing FROM gdpr.staff_group WHERE group_role = p_group;
    IF v_existing IS NOT NULL AND v_existing <> p_tenant THEN
        RAISE EXCEPTION 'staff group % belongs to club %', p_group, v_existing USING ERRCODE = 'duplicate_object';
    END IF;
    v_tenant_role := gdpr.ensure_tenant_role(p_tenant);
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = p_group) THEN
        EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', p_group);
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = p_group
                   AND (rolsuper OR rolbypassrls OR rolcanlogin)) THEN
        RAISE EXCEPTION 'role % cannot be a staff group: it can log in or bypass row security', p_group
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles t ON t.oid = m.roleid
                   WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = p_group)
                     AND t.rolname LIKE 'pgdpr\_tenant\_%' AND t.rolname <> v_tenant_role) THEN
        RAISE EXCEPTION 'role % already belongs to another club', p_group USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE pg_catalog.format('GRANT %I, pgdpr_staff TO %I', v_tenant_role, p_group);
    INSERT INTO gdpr.staff_group (group_role, tenant, description)
    VALUES (p_group, p_tenant, p_description)
    ON CONFLICT (group_role) DO UPDATE SET description = excluded.description
        WHERE gdpr.staff_group.description IS DISTINCT FROM excluded.description;
    RETURN p_group;
END $$;
REVOKE ALL ON FUNCTION gdpr.create_staff_group(text, name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.create_staff_group(text, name, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.create_staff_group(text, name, text) IS
    'Create a staff group (a NOLOGIN role) of one club; needs CREATEROLE';

-- Make a role staff of one club, member of the given groups of that club. The role
-- is created NOLOGIN when missing (a pooled backend SET LOCAL ROLEs to it); a role
-- that already belongs to another club is refused: a staff role has exactly one club.
CREATE OR REPLACE FUNCTION gdpr.add_staff(p_tenant text, p_login_role name, p_groups name[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant_role name := gdpr.tenant_role(p_tenant);
    v_group name;
    v_unknown name;
BEGIN
    IF p_login_role IS NULL OR p_login_role LIKE 'pgdpr\_%' THEN
        RAISE EXCEPTION 'a staff role needs a name outside the reserved prefix pgdpr_'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT g INTO v_unknown FROM pg_catalog.unnest(COALESCE(p_groups, '{}')) g
     WHERE NOT EXISTS (SELECT FROM gdpr.staff_group s WHERE s.group_role = g AND s.tenant = p_tenant)
     LIMIT 1;
    IF v_unknown IS NOT NULL THEN
        RAISE EXCEPTION '% is not a staff group of club %', v_unknown, p_tenant
            USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = p_login_role) THEN
        EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', p_login_role);
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = p_login_role AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role % bypasses row security and cannot be staff', p_login_role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles t
                WHERE t.rolname LIKE 'pgdpr\_tenant\_%' AND t.rolname <> v_tenant_role
                  AND pg_catalog.pg_has_role(p_login_role, t.oid, 'MEMBER')) THEN
        RAISE EXCEPTION 'role % already belongs to another club', p_login_role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.pg_has_role(p_login_role, 'pgdpr_support', 'MEMBER') THEN
        RAISE EXCEPTION 'role % is vendor support and cannot be club staff', p_login_role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- gdpr.current_tenant() reads direct membership: the staff role joins its club's
    -- tenant role itself, not only through its groups.
    EXECUTE pg_catalog.format('GRANT %I TO %I', gdpr.ensure_tenant_role(p_tenant), p_login_role);
    FOREACH v_group IN ARRAY COALESCE(p_groups, '{}') LOOP
        EXECUTE pg_catalog.format('GRANT %I TO %I', v_group, p_login_role);
    END LOOP;
    PERFORM gdpr.audit('staff.add', NULL, p_tenant, NULL, NULL,
        pg_catalog.jsonb_build_object('role', p_login_role, 'groups', COALESCE(p_groups, '{}')));
END $$;
REVOKE ALL ON FUNCTION gdpr.add_staff(text, name, name[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.add_staff(text, name, name[]) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.add_staff(text, name, name[]) IS
    'Make a role staff of one club and member of the given staff groups';

-- Set one right of a group: view_sensitive (allowed | not_allowed | hidden) or
-- register_access (none | read | write) in an area (customers, staff, ...).
CREATE OR REPLACE FUNCTION gdpr.set_right(p_group name, p_area text, p_right text, p_value text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.staff_group WHERE group_role = p_group) THEN
        RAISE EXCEPTION '% is not a staff group', p_group USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE area = p_area) THEN
        RAISE EXCEPTION 'unknown rights area % (the areas are the subject kinds'' areas: %)', p_area,
            (SELECT pg_catalog.string_agg(DISTINCT area, ', ') FROM gdpr.subject_kind)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_right = 'view_sensitive' THEN
        IF p_value IS NULL OR p_value NOT IN ('allowed', 'not_allowed', 'hidden') THEN
            RAISE EXCEPTION 'view_sensitive is allowed, not_allowed or hidden' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        INSERT INTO gdpr.group_right (group_role, area, view_sensitive) VALUES (p_group, p_area, p_value)
        ON CONFLICT (group_role, area) DO UPDATE SET view_sensitive = excluded.view_sensitive
            WHERE gdpr.group_right.view_sensitive <> excluded.view_sensitive;
    ELSIF p_right = 'register_access' THEN
        IF p_value IS NULL OR p_value NOT IN ('none', 'read', 'write') THEN
            RAISE EXCEPTION 'register_access is none, read or write' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        INSERT INTO gdpr.group_right (group_role, area, register_access) VALUES (p_group, p_area, p_value)
        ON CONFLICT (group_role, area) DO UPDATE SET register_access = excluded.register_access
            WHERE gdpr.group_right.register_access <> excluded.register_access;
    ELSE
        RAISE EXCEPTION 'unknown right %: view_sensitive or register_access', p_right
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;
ALTER FUNCTION gdpr.set_right(name, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.set_right(name, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.set_right(name, text, text, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.set_right(name, text, text, text) IS
    'Set a staff group''s right in an area: view_sensitive or register_access (audited)';

-- The rights table as the caller may see it: an admin every club (or the one named),
-- staff their own club's groups only.
CREATE OR REPLACE FUNCTION gdpr.rights_overview(p_tenant text DEFAULT NULL)
RETURNS TABLE (tenant text, group_role name, description text, area text,
               view_sensitive text, register_access text, members bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT g.tenant, g.group_role, g.description, a.area,
           COALESCE(r.view_sensitive, 'not_allowed'), COALESCE(r.register_access, 'read'),
           (SELECT pg_catalog.count(*) FROM pg_catalog.pg_auth_members m
              JOIN pg_catalog.pg_roles gr ON gr.oid = m.roleid WHERE gr.rolname = g.group_role)
      FROM gdpr.staff_group g
     CROSS JOIN (SELECT DISTINCT k.area FROM gdpr.subject_kind k) a
      LEFT JOIN gdpr.group_right r ON r.group_role = g.group_role AND r.area = a.area
     WHERE v_tenant IS NULL OR g.tenant = v_tenant
     ORDER BY g.tenant, g.group_role, a.area;
END $$;
ALTER FUNCTION gdpr.rights_overview(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.rights_overview(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.rights_overview(text) TO pgdpr_admin, pgdpr_staff;
COMMENT ON FUNCTION gdpr.rights_overview(text) IS 'Staff groups and their rights per area (own club for staff)';

-- A club lets the vendor's support role read its rows (never its sensitive values)
-- until p_until, at most 30 days ahead. Staff with write access, or an admin.
CREATE OR REPLACE FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamptz)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_id bigint;
BEGIN
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'name the club that grants support access' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT gdpr.caller_is_admin() AND gdpr.register_access_of(gdpr.caller(), NULL) <> 'write' THEN
        RAISE EXCEPTION 'role % may not grant support access', gdpr.caller() USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_until IS NULL OR p_until <= pg_catalog.now() OR p_until > pg_catalog.now() + interval '30 days' THEN
        RAISE EXCEPTION 'support access must end in the future and within 30 days'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.support_grant (tenant, granted_by, expires_at)
    VALUES (v_tenant, gdpr.caller(), p_until) RETURNING id INTO v_id;
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.grant_support_access(text, timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.grant_support_access(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.grant_support_access(text, timestamptz) TO pgdpr_admin, pgdpr_staff;
COMMENT ON FUNCTION gdpr.grant_support_access(text, timestamptz) IS
    'Let the vendor support role read one club''s rows (no sensitive values) until a time (audited)';

-- End a club's support access now. The same right as granting it (staff with write
-- access, or an admin): a read-only staff member cannot cut the vendor off mid-case.
CREATE OR REPLACE FUNCTION gdpr.revoke_support_access(p_tenant text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_count integer;
BEGIN
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'name the club that revokes support access' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the same right as granting: staff with write access, or an admin
    IF NOT gdpr.caller_is_admin() AND gdpr.register_access_of(gdpr.caller(), NULL) <> 'write' THEN
        RAISE EXCEPTION 'role % may not revoke support access', gdpr.caller() USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE gdpr.support_grant SET revoked_at = pg_catalog.statement_timestamp()
     WHERE tenant = v_tenant AND revoked_at IS NULL AND expires_at > pg_catalog.statement_timestamp();
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;
ALTER FUNCTION gdpr.revoke_support_access(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.revoke_support_access(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.revoke_support_access(text) TO pgdpr_admin, pgdpr_staff;
COMMENT ON FUNCTION gdpr.revoke_support_access(text) IS 'End a club''s support access now (audited)';
