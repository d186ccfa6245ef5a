-- "View sensitive information" (docs/rights.md): one rendering of sensitive values,
-- shared by the masking views, the insight report and the export, so every path
-- shows a caller the same thing: the value, 'kræver login', or nothing.
--
-- Rights are per staff group and area (gdpr.group_right); a role's level is the most
-- permissive of its groups' (allowed > not_allowed > hidden), not_allowed without a
-- group. A superuser or the database owner reads every value; the vendor's support
-- role never does (docs/rights.md: the vendor's own staff are blocked by default).
--
-- Cost: the views evaluate the level ONCE per query as an uncorrelated scalar
-- subquery, (SELECT gdpr.sensitive_access('customers')), which PostgreSQL turns into
-- an InitPlan; only the inlinable gdpr.render_sensitive() runs per row. The
-- SECURITY DEFINER readers are plpgsql, not SQL: their plans are cached per session
-- (a non-inlined SQL function is planned again on every call before PostgreSQL 18).

-- A superuser or the owner of the current database: reads and writes everything.
-- pg_catalog only (pg_roles by oid, pg_database by name).
CREATE OR REPLACE FUNCTION gdpr.role_is_owner(p_role pg_catalog.oid) RETURNS pg_catalog.bool
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) p_role AND r.rolsuper)
        OR p_role OPERATOR(pg_catalog.=) (SELECT d.datdba FROM pg_catalog.pg_database d
                                           WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
$$;
COMMENT ON FUNCTION gdpr.role_is_owner(oid) IS 'True for a superuser or the owner of the current database';

-- Whose rights may a caller ask for (sensitive_access_of, register_access_of are
-- SECURITY DEFINER and read gdpr.group_right): their own (gdpr.caller(); a view or
-- policy passes CURRENT_USER, the same role), a role they are a member of (their
-- groups), or anyone's for an admin or the database owner. Staff of one club cannot
-- probe another club's groups. Cheap on the hot path: the first test (p_role is the
-- caller) settles every call a view makes, once per query. Not SECURITY DEFINER:
-- gdpr.caller() is the same inside and out; only the callers below use it.
CREATE OR REPLACE FUNCTION gdpr.check_rights_probe(p_role name, p_role_oid oid) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_caller name := gdpr.caller();
    v_caller_oid oid;
BEGIN
    IF p_role = v_caller THEN
        RETURN;
    END IF;
    v_caller_oid := pg_catalog.to_regrole(pg_catalog.quote_ident(v_caller));
    IF v_caller_oid IS NULL OR NOT (pg_catalog.pg_has_role(v_caller_oid, p_role_oid, 'MEMBER')
                                    OR gdpr.role_is_owner(v_caller_oid) OR gdpr.caller_is_admin()) THEN
        RAISE EXCEPTION 'role % may not read the rights of role %', v_caller, p_role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
REVOKE ALL ON FUNCTION gdpr.check_rights_probe(name, oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.check_rights_probe(name, oid) TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.check_rights_probe(name, oid) IS
    'Internal: refuse to tell a caller the rights of a role that is neither theirs nor one of their groups (admins: any)';

-- The access level of a role to an area's sensitive columns: 'allowed',
-- 'not_allowed' or 'hidden'. SECURITY DEFINER: it reads gdpr.group_right, which the
-- staff roles cannot read themselves. Other SECURITY DEFINER functions call it as
-- gdpr.sensitive_access_of(gdpr.caller(), area).
CREATE OR REPLACE FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_role oid := pg_catalog.to_regrole(pg_catalog.quote_ident(p_role));
    v_level integer;
BEGIN
    IF v_role IS NULL THEN
        RETURN 'not_allowed';
    END IF;
    IF p_role <> gdpr.caller() THEN  -- the views' and policies' call (CURRENT_USER) skips the check
        PERFORM gdpr.check_rights_probe(p_role, v_role);
    END IF;
    IF gdpr.role_is_owner(v_role) THEN
        RETURN 'allowed';
    END IF;
    IF pg_catalog.pg_has_role(v_role, 'pgdpr_support', 'MEMBER') THEN
        RETURN 'not_allowed';  -- the vendor never reads a sensitive value (docs/rights.md)
    END IF;
    SELECT pg_catalog.max(CASE COALESCE(gr.view_sensitive, 'not_allowed')
                          WHEN 'allowed' THEN 3 WHEN 'not_allowed' THEN 2 ELSE 1 END)
      INTO v_level
      FROM gdpr.staff_group g
      LEFT JOIN gdpr.group_right gr ON gr.group_role = g.group_role AND gr.area = p_area
     WHERE g.tenant = gdpr.role_tenant(v_role)  -- a group's rights apply in its own club only
       AND pg_catalog.pg_has_role(v_role, pg_catalog.to_regrole(pg_catalog.quote_ident(g.group_role)), 'MEMBER');
    RETURN CASE v_level WHEN 3 THEN 'allowed' WHEN 1 THEN 'hidden' ELSE 'not_allowed' END;
END $$;
ALTER FUNCTION gdpr.sensitive_access_of(name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.sensitive_access_of(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.sensitive_access_of(name, text) TO pgdpr_staff, pgdpr_admin, pgdpr_support;
COMMENT ON FUNCTION gdpr.sensitive_access_of(name, text) IS
    'Access level (allowed, not_allowed, hidden) of a role to the sensitive columns of an area';

-- The access level of current_user (the querying role, in views and policies).
CREATE OR REPLACE FUNCTION gdpr.sensitive_access(p_area pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gdpr.sensitive_access_of(CURRENT_USER, p_area)
$$;
COMMENT ON FUNCTION gdpr.sensitive_access(text) IS
    'Access level (allowed, not_allowed, hidden) of the current role to an area''s sensitive columns';

-- How a sensitive value reads at an access level. Inlinable (plain SQL, no SET):
-- callers compute the access once per query and pass it in, as a sub-select that
-- PostgreSQL turns into an InitPlan. A SQL-standard body (RETURN ...): it is parsed
-- when the function is created, with the installer's search_path, and stored with
-- its operators resolved, so a caller's own "=" earlier in its search_path changes
-- nothing when the function is inlined into a view; and p_access is named once (a
-- simple CASE), which keeps the inlining when the argument is a sub-select.
CREATE OR REPLACE FUNCTION gdpr.render_sensitive(p_value pg_catalog.text, p_access pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE p_access WHEN 'allowed' THEN p_value WHEN 'hidden' THEN NULL::pg_catalog.text
                     ELSE CASE WHEN p_value IS NULL THEN NULL::pg_catalog.text ELSE 'kræver login' END END;
COMMENT ON FUNCTION gdpr.render_sensitive(text, text) IS
    'A sensitive value as a caller at the given access level reads it: the value, ''kræver login'' or NULL';

-- Register access (seed FAQ 7, which pgdpr lifts): 'none' (no rows), 'read' or
-- 'write' on an area's tables, the most permissive of the role's groups. A NULL area
-- (a tenant table outside the catalog: classes, resources, ...) takes the role's
-- best level in any area. Superuser/database owner: write; support role: read;
-- staff without a group: read (the default); any other role: none.
CREATE OR REPLACE FUNCTION gdpr.register_access_of(p_role name, p_area text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_role oid := pg_catalog.to_regrole(pg_catalog.quote_ident(p_role));
    v_level integer;
BEGIN
    IF v_role IS NULL THEN
        RETURN 'none';
    END IF;
    IF p_role <> gdpr.caller() THEN  -- the views' and policies' call (CURRENT_USER) skips the check
        PERFORM gdpr.check_rights_probe(p_role, v_role);
    END IF;
    IF gdpr.role_is_owner(v_role) THEN
        RETURN 'write';
    END IF;
    IF pg_catalog.pg_has_role(v_role, 'pgdpr_support', 'MEMBER') THEN
        RETURN 'read';
    END IF;
    SELECT pg_catalog.max(CASE COALESCE(gr.register_access, 'read') WHEN 'write' THEN 3 WHEN 'read' THEN 2 ELSE 1 END)
      INTO v_level
      FROM gdpr.staff_group g
      LEFT JOIN gdpr.group_right gr ON gr.group_role = g.group_role AND (gr.area = p_area OR p_area IS NULL)
     WHERE g.tenant = gdpr.role_tenant(v_role)  -- a group's rights apply in its own club only
       AND pg_catalog.pg_has_role(v_role, pg_catalog.to_regrole(pg_catalog.quote_ident(g.group_role)), 'MEMBER');
    IF v_level IS NULL THEN  -- in no staff group: staff read by default, anyone else nothing
        RETURN CASE WHEN pg_catalog.pg_has_role(v_role, 'pgdpr_staff', 'MEMBER') THEN 'read' ELSE 'none' END;
    END IF;
    RETURN CASE v_level WHEN 3 THEN 'write' WHEN 2 THEN 'read' ELSE 'none' END;
END $$;
ALTER FUNCTION gdpr.register_access_of(name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.register_access_of(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.register_access_of(name, text) TO pgdpr_staff, pgdpr_admin, pgdpr_support;
COMMENT ON FUNCTION gdpr.register_access_of(name, text) IS
    'Register access (none, read, write) of a role to an area''s tables';

CREATE OR REPLACE FUNCTION gdpr.register_access(p_area pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gdpr.register_access_of(CURRENT_USER, p_area)
$$;
COMMENT ON FUNCTION gdpr.register_access(text) IS
    'Register access (none, read, write) of the current role to an area''s tables';

-- The tenants whose rows the support role may read now: those with a granted, not
-- revoked, not expired gdpr.support_grant. Empty for every other role. Used by the
-- support policy of each tenant table as (SELECT gdpr.support_tenants(CURRENT_USER))
-- (an InitPlan); p_role must be the caller or a role it is a member of, so nobody can
-- ask on the support role's behalf which clubs granted access.
CREATE OR REPLACE FUNCTION gdpr.support_tenants(p_role name) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT COALESCE(pg_catalog.array_agg(DISTINCT s.tenant), '{}')
      FROM gdpr.support_grant s
     WHERE s.revoked_at IS NULL AND s.expires_at > pg_catalog.statement_timestamp()
       -- a transaction kept open does not keep the access: the grant is checked at each
       -- statement's time, and a support transaction older than five minutes reads
       -- nothing (under REPEATABLE READ its snapshot would not see a revocation)
       AND pg_catalog.statement_timestamp() - pg_catalog.now() <= interval '5 minutes'
       AND EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname = p_role AND NOT r.rolsuper
                      AND pg_catalog.pg_has_role(r.oid, 'pgdpr_support', 'MEMBER')
                      AND pg_catalog.pg_has_role(gdpr.caller(), r.oid, 'MEMBER')));
END $$;
ALTER FUNCTION gdpr.support_tenants(name) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.support_tenants(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.support_tenants(name) TO pgdpr_staff, pgdpr_admin, pgdpr_support;
COMMENT ON FUNCTION gdpr.support_tenants(name) IS
    'Tenants that granted the support role access that has not expired (empty for other roles)';

-- Free text (log lines, notes: catalog category free_text) is not sensitive as a
-- whole, but staff write CPR and bank account numbers into it ("ringede om CPR
-- 0101701234"): docs/rights.md locks a CPR "wherever it is shown". A caller without the
-- right reads every number SHAPED like one as 'kræver login' (hidden: removed),
-- whoever's it is: the text is never compared with the subject's own values, since
-- a caller who can write the text could then test guesses by reading it back.
--
-- The shapes (tests/test_attacks.py has the table of spellings); S is up to five
-- characters that are neither letters nor digits (space, no-break space, tab, dot,
-- comma, colon, plus, dashes, underscore, slash), between any two digits:
--   CPR: ten digits DDMMYY SSSS, the first of the day 0-3 and of the month 0-1:
--        2707524890, 270752-4890, 27.07.52-4890, 270752 4890, 2 7 0 7 5 2 4 8 9 0,
--        CPR2707524890, cpr_270752-4890, 2707524890a; also with a four-digit year,
--        DDMMYYYY SSSS (27071952-4890) and YYYY-MM-DD SSSS (1952-07-27 4890);
--   account: a four-digit registration number, S and 6-10 digits (1234-0012345678,
--        1234 12345678), the account in groups (6054 760 147 977), any unbroken run
--        of 10-19 digits, any number of 4-14 digits after "konto"/"kontonr" and the
--        registration number before it (konto 3399-3625, reg.nr. 6054 kontonr.
--        760147977: the words stay; also after "account"/"acct"), an IBAN (DK50 0040
--        0440 1162 43), and card numbers (16-19 digits, or four groups of four).
-- Digits next to a match must not be digits (a longer number is not cut up);
-- letters may be. Phone numbers (eight digits) are not masked; a date range can be.
CREATE OR REPLACE FUNCTION gdpr.masked_number_pattern() RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.replace(pg_catalog.replace('(?<![0-9])[0-3]S?[0-9]S?[01]S?[0-9]S?(?:(?:19|20)S?)?[0-9]S?[0-9](?:S?[0-9]){4}(?![0-9])'
           '|(?<![0-9])(?:19|20)[0-9]{2}S?[01][0-9]S?[0-3][0-9]S?[0-9]{4}(?![0-9])'
           '|(?<![0-9])[0-9]{4}S[0-9]{6,10}(?![0-9])'
           '|(?<![0-9])[0-9]{4}(?:S[0-9]{3}){2,3}(?![0-9])'
           '|(?<![0-9])[0-9]{4}(?:S[0-9]{4}){3}(?![0-9])'
           '|(?<![0-9])[0-9]{10,19}(?![0-9])'
           '|(?<![0-9])[0-9]{4}(?=S(?:[Kk][Oo][Nn][Tt][Oo]|[Aa][Cc][Cc]))'
           '|(?<=(?:[Kk][Oo][Nn][Tt][Oo](?:[Nn][Rr]|[Nn][Uu][Mm][Mm][Ee][Rr])?|[Aa][Cc][Cc][Oo][Uu][Nn][Tt]|[Aa][Cc][Cc][Tt])'
           '[^0-9[:alpha:]]{0,5})'
           '[0-9](?:S?[0-9]){3,13}(?![0-9])'
           '|(?<![[:alnum:]])[Dd][Kk][0-9]{2}(?:S?[0-9]{4}){3}S?[0-9]{2}(?![0-9])'
           , 'S?', '[^[:alnum:]]{0,5}'), 'S', '[^[:alnum:]]{1,5}')
$$;
COMMENT ON FUNCTION gdpr.masked_number_pattern() IS
    'Regular expression of the CPR- and account-shaped numbers masked in free text';

-- Free text as a caller at an access level reads it. Inlinable, with a SQL-standard
-- body like gdpr.render_sensitive; the regular expression runs only for callers
-- without the right. The same function renders free text in the views, the insight
-- report, the export, the audit notes and the legal-hold reasons.
CREATE OR REPLACE FUNCTION gdpr.render_free_text(p_value pg_catalog.text, p_access pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE p_access WHEN 'allowed' THEN p_value
                     WHEN 'hidden' THEN pg_catalog.regexp_replace(p_value, gdpr.masked_number_pattern(), '', 'g')
                     ELSE pg_catalog.regexp_replace(p_value, gdpr.masked_number_pattern(), 'kræver login', 'g') END;
COMMENT ON FUNCTION gdpr.render_free_text(text, text) IS
    'Free text as a caller at the given access level reads it: CPR- and account-shaped numbers masked unless allowed';
