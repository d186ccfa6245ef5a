CREATE SCHEMA club;
ALTER SCHEMA club OWNER TO postgres;
COMMENT ON SCHEMA club IS 'Reference club system (seed): customers, staff, bookings, accounts';
CREATE SCHEMA club_app;
ALTER SCHEMA club_app OWNER TO postgres;
CREATE SCHEMA gdpr;
ALTER SCHEMA gdpr OWNER TO pgdpr_owner;
COMMENT ON SCHEMA gdpr IS 'pgdpr engine: catalog, audit trail and the functions built on them';
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';
CREATE FUNCTION club.cpr_birth_date(p_cpr text) RETURNS date
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_day int; v_month int; v_yy int; v_digit7 int; v_year int;
BEGIN
    IF p_cpr !~ '^[0-9]{10}$' THEN
        RETURN NULL;
    END IF;
    v_day := substr(p_cpr, 1, 2)::int;
    v_month := substr(p_cpr, 3, 2)::int;
    v_yy := substr(p_cpr, 5, 2)::int;
    v_digit7 := substr(p_cpr, 7, 1)::int;
    v_year := CASE
        WHEN v_digit7 <= 3 THEN 1900 + v_yy
        WHEN v_digit7 IN (4, 9) THEN CASE WHEN v_yy <= 36 THEN 2000 + v_yy ELSE 1900 + v_yy END
        ELSE CASE WHEN v_yy <= 57 THEN 2000 + v_yy ELSE 1800 + v_yy END
    END;
    IF v_month NOT BETWEEN 1 AND 12 OR v_day < 1
       OR v_day > extract(day FROM (make_date(v_year, v_month, 1) + interval '1 month - 1 day')) THEN
        RETURN NULL;
    END IF;
    RETURN make_date(v_year, v_month, v_day);
END $_$;
ALTER FUNCTION club.cpr_birth_date(p_cpr text) OWNER TO postgres;
COMMENT ON FUNCTION club.cpr_birth_date(p_cpr text) IS 'Birth date encoded in a CPR number (century rule of the 7th digit), NULL if invalid';
CREATE FUNCTION club.valid_bank_account(p_reg text, p_account text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    IF p_reg IS NOT NULL AND p_reg !~ '^[0-9]{4}$' THEN
        RAISE EXCEPTION 'invalid bank registration number: it must be exactly 4 digits'
            USING ERRCODE = 'check_violation';
    END IF;
    IF p_account IS NOT NULL AND p_account !~ '^[0-9]{1,10}$' THEN
        RAISE EXCEPTION 'invalid bank account number: it must be 1 to 10 digits'
            USING ERRCODE = 'check_violation';
    END IF;
    IF (p_reg IS NULL) <> (p_account IS NULL) THEN
        RAISE EXCEPTION 'bank registration and account number go together: give both or neither'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN true;
END $_$;
ALTER FUNCTION club.valid_bank_account(p_reg text, p_account text) OWNER TO postgres;
CREATE FUNCTION club.valid_cpr(p_cpr text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    IF p_cpr IS NULL THEN
        RETURN true;
    END IF;
    IF p_cpr !~ '^[0-9]{10}$' THEN
        RAISE EXCEPTION 'invalid CPR number: it must be exactly 10 digits (DDMMYYSSSS, no dash)'
            USING ERRCODE = 'check_violation';
    END IF;
    IF club.cpr_birth_date(p_cpr) IS NULL THEN
        RAISE EXCEPTION 'invalid CPR number: the first six digits are not a real date (DDMMYY, century from the 7th digit)'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN true;
END $_$;
ALTER FUNCTION club.valid_cpr(p_cpr text) OWNER TO postgres;
CREATE FUNCTION club.valid_time_zone(p_zone text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names WHERE name = p_zone) THEN
        RAISE EXCEPTION 'unknown time zone %', quote_literal(p_zone) USING ERRCODE = 'check_violation';
    END IF;
    RETURN true;
END $$;
ALTER FUNCTION club.valid_time_zone(p_zone text) OWNER TO postgres;
CREATE FUNCTION gdpr.abort_run(p_run_id bigint, p_sqlstate text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only the ticker (pgdpr_admin) aborts runs' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE gdpr.rule_run x SET finished_at = clock_timestamp(), error_count = x.error_count + 1,
           errors = x.errors || jsonb_build_array(jsonb_build_object('stage', 'batch', 'sqlstate', p_sqlstate))
     WHERE x.id = p_run_id AND x.finished_at IS NULL;
    RETURN gdpr.rule_run_summary(p_run_id);
END $$;
ALTER FUNCTION gdpr.abort_run(p_run_id bigint, p_sqlstate text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.abort_run(p_run_id bigint, p_sqlstate text) IS 'End a run whose batch failed as a whole (internal: gdpr.tick)';
CREATE FUNCTION gdpr.acting_tenant(p_requested text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.acting_tenant(p_requested text) OWNER TO postgres;
CREATE FUNCTION gdpr.action_anonymise(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) RETURNS TABLE(subject_key text, outcome text, detail jsonb)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_author name := (SELECT r.author FROM gdpr.rule r WHERE r.id = p_rule_id);
    v_result jsonb;
BEGIN
    IF NOT gdpr.rule_caller_may_erase() OR v_author IS NULL OR NOT gdpr.rule_role_may_erase(v_author) THEN
        RAISE EXCEPTION 'only admins and members of pgdpr_erasure may anonymise through a rule, and only through a rule whose author may (caller %, author %)',
            gdpr.caller(), COALESCE(v_author::text, 'unknown') USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF to_regprocedure('gdpr.anonymize_many(text,text,text[],text,bigint)') IS NULL THEN
        RAISE EXCEPTION 'action anonymise needs gdpr.anonymize_many (the erasure functions): run pgdpr migrate'
            USING ERRCODE = 'undefined_function';
    END IF;
    EXECUTE 'SELECT COALESCE(jsonb_agg(jsonb_build_object(''k'', a.subject_key::text, ''o'', a.outcome::text,'
            ' ''d'', a.detail::jsonb)), ''[]'') FROM gdpr.anonymize_many($1, $2, $3, $4, $5) a'
        INTO v_result
        USING p_kind, p_tenant, p_subject_keys,
              COALESCE(p_params ->> 'reason', format('automatic anonymisation, rule %s', p_rule_id)), p_rule_id;
    -- the ledger entries this call wrote (same transaction, same now()) name the author
    UPDATE gdpr.erasure_ledger l SET actor = v_author
     WHERE l.kind = p_kind AND l.tenant IS NOT DISTINCT FROM p_tenant AND l.rule_id = p_rule_id
       AND l.erased_at = now() AND l.actor = gdpr.caller() AND l.actor <> v_author
       AND l.subject_key IN (SELECT e ->> 'k' FROM jsonb_array_elements(v_result) e WHERE e ->> 'o' = 'anonymized');
    RETURN QUERY SELECT e ->> 'k', e ->> 'o', e -> 'd' FROM jsonb_array_elements(v_result) e;
END $_$;
ALTER FUNCTION gdpr.action_anonymise(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.action_anonymise(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) IS 'Action anonymise: gdpr.anonymize_many for a batch of subjects (irreversible)';
CREATE FUNCTION gdpr.action_queue_message(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) RETURNS TABLE(subject_key text, outcome text, detail jsonb)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM gdpr.rule_require_register_access(p_kind);
    RETURN QUERY
    WITH queued AS (
        INSERT INTO gdpr.outbox AS o (rule_id, run_id, kind, tenant, subject_key, template, payload)
        SELECT p_rule_id, p_run_id, p_kind, p_tenant, k.key, p_params ->> 'template',
               COALESCE(p_params -> 'payload', '{}')
          FROM unnest(p_subject_keys) AS k(key)
        RETURNING o.subject_key, o.id
    )
    SELECT q.subject_key, 'queued'::text, jsonb_build_object('outbox_id', q.id) FROM queued q;
END $$;
ALTER FUNCTION gdpr.action_queue_message(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.action_queue_message(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) IS 'Action queue_message: one message per subject in gdpr.outbox (params: template, payload)';
CREATE FUNCTION gdpr.active_legal_holds(p_kind text DEFAULT NULL::text, p_subject_key text DEFAULT NULL::text, p_tenant text DEFAULT NULL::text) RETURNS TABLE(id bigint, kind text, tenant text, subject_key text, hold_type text, reason text, created_by name, created_at timestamp with time zone, until timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT h.id, h.kind, h.tenant, h.subject_key, h.hold_type, h.reason, h.created_by, h.created_at, h.until
      FROM gdpr.legal_hold h
     WHERE gdpr.hold_active(h, now())
       AND (p_kind IS NULL OR h.kind = p_kind)
       AND (p_subject_key IS NULL OR h.subject_key = p_subject_key)
       AND (v_tenant IS NULL OR h.tenant = v_tenant)
       AND h.kind = ANY (gdpr.caller_register_kinds())
     ORDER BY h.kind, h.tenant, h.subject_key, h.id;
END $$;
ALTER FUNCTION gdpr.active_legal_holds(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.active_legal_holds(p_kind text, p_subject_key text, p_tenant text) IS 'Active legal holds of the caller''s club';
CREATE FUNCTION gdpr.active_restrictions(p_kind text DEFAULT NULL::text, p_subject_key text DEFAULT NULL::text, p_tenant text DEFAULT NULL::text) RETURNS TABLE(id bigint, kind text, tenant text, subject_key text, ground text, request_id bigint, created_by name, created_at timestamp with time zone, until timestamp with time zone, notes jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT r.id, r.kind, r.tenant, r.subject_key, r.ground, r.request_id, r.created_by, r.created_at, r.until,
           gdpr.subject_notes(ARRAY['restriction'], r.id)
      FROM gdpr.processing_restriction r
      JOIN gdpr.subject_kind k ON k.kind = r.kind
     WHERE r.lifted_at IS NULL AND (r.until IS NULL OR r.until > now())
       AND (p_kind IS NULL OR r.kind = p_kind)
       AND (p_subject_key IS NULL OR r.subject_key = p_subject_key)
       AND (v_tenant IS NULL OR r.tenant = v_tenant)
       AND (COALESCE(gdpr.caller_is_admin(), false) OR gdpr.register_access_of(gdpr.caller(), k.area) <> 'none')
     ORDER BY r.kind, r.tenant, r.subject_key, r.id;
END $$;
ALTER FUNCTION gdpr.active_restrictions(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.active_restrictions(p_kind text, p_subject_key text, p_tenant text) IS 'Active restrictions of processing of the caller''s club (GDPR Art. 18)';
CREATE FUNCTION gdpr.add_staff(p_tenant text, p_login_role name, p_groups name[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.add_staff(p_tenant text, p_login_role name, p_groups name[]) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.add_staff(p_tenant text, p_login_role name, p_groups name[]) IS 'Make a role staff of one club and member of the given staff groups';
CREATE FUNCTION gdpr.age_band_sql(p_kind text, p_alias text, p_on_ref text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    SELECT format('CASE WHEN %1$I.%2$I IS NULL THEN NULL::text
                        WHEN %1$I.%2$I::date > %3$s - interval ''13 years'' THEN ''under_13''
                        WHEN %1$I.%2$I::date > %3$s - interval ''18 years'' THEN ''under_18''
                        ELSE ''adult'' END', p_alias, b.column_name, p_on_ref)
      FROM gdpr.subject_birth_date b WHERE b.kind = p_kind
$_$;
ALTER FUNCTION gdpr.age_band_sql(p_kind text, p_alias text, p_on_ref text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.analyze_erased_tables() RETURNS TABLE(table_name regclass, analyzed boolean, ms numeric)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_t record;
    v_start timestamptz;
BEGIN
    FOR v_t IN SELECT s.table_name, c.relowner FROM gdpr.erasure_stale_statistics() s
                 JOIN pg_catalog.pg_class c ON c.oid = s.table_name ORDER BY 1::text LOOP
        table_name := v_t.table_name;
        analyzed := pg_has_role(current_user, v_t.relowner, 'USAGE')
            OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
            OR (current_setting('server_version_num')::int >= 170000
                AND has_table_privilege(v_t.table_name, 'MAINTAIN'));
        ms := NULL;
        IF analyzed THEN
            v_start := clock_timestamp();
            EXECUTE format('ANALYZE %s', v_t.table_name);
            ms := round((extract(epoch FROM clock_timestamp() - v_start) * 1000)::numeric, 1);
        ELSE
            RAISE WARNING '% may not analyse %: its statistics keep values of erased subjects until it is analysed',
                current_user, v_t.table_name;
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;
ALTER FUNCTION gdpr.analyze_erased_tables() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.analyze_erased_tables() IS 'ANALYZE the declared tables whose statistics predate the latest erasure (the ticker calls it)';
CREATE FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text, p_tenant text DEFAULT NULL::text, p_force boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_holds jsonb;
    v_category text := 'request';
    v_batch jsonb;
BEGIN
    PERFORM gdpr.require_erasure_right();
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    IF v_row.anonymized THEN
        RETURN jsonb_build_object('status', 'already_anonymized', 'kind', p_kind,
                                  'tenant', v_row.tenant, 'subject_key', v_row.subject_key);
    END IF;
    SELECT jsonb_agg(jsonb_build_object('id', h.id, 'hold_type', h.hold_type, 'until', h.until) ORDER BY h.id)
      INTO v_holds
      FROM gdpr.legal_hold h
     WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM v_row.tenant AND h.subject_key = v_row.subject_key
       AND gdpr.hold_active(h, now());
    IF v_holds IS NOT NULL THEN
        IF NOT p_force THEN
            RAISE EXCEPTION '% % is under legal hold #% (%): clear the hold or force the erasure',
                p_kind, v_row.subject_key, v_holds -> 0 ->> 'id', v_holds -> 0 ->> 'hold_type'
                USING ERRCODE = 'object_in_use';
        END IF;
        v_category := 'forced';
        PERFORM gdpr.audit('anonymize_forced', p_kind, v_row.tenant, v_row.subject_key, NULL,
                           jsonb_build_object('holds', v_holds));
    END IF;
    PERFORM gdpr.ensure_erasure_guards(p_kind);  -- a catalog applied after the last migrate
    v_batch := gdpr.erase_batch(p_kind, v_row.tenant, ARRAY[v_row.subject_key], p_reason, NULL, v_category);
    RETURN jsonb_build_object(
        'status', 'anonymized', 'kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
        'forced', v_holds IS NOT NULL, 'holds', COALESCE(v_holds, '[]'),
        'tables', v_batch -> 'tables',
        'proof', v_batch -> 'proof' -> v_row.subject_key,
        'deferred', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                         'table', format('%I.%I', d.table_schema, d.table_name), 'rows', d.rows_pending,
                         'next_due_at', d.next_due_at, 'last_due_at', d.last_due_at)), '[]')
                       FROM gdpr.deferred_erasure d
                      WHERE d.kind = p_kind AND d.tenant = COALESCE(v_row.tenant, '')
                        AND d.subject_key = v_row.subject_key AND d.done_at IS NULL));
END $$;
ALTER FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text, p_tenant text, p_force boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text, p_tenant text, p_force boolean) IS 'Erase one subject (GDPR Art. 17, docs/erasure.md): summary per table and the proof''s verdict';
CREATE FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text, p_rule_id bigint DEFAULT NULL::bigint) RETURNS TABLE(subject_key text, outcome text, detail jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    v_tenant text;
    v_locked jsonb;
    v_group record;
    v_todo text[];
    v_held text[];
    v_batch jsonb;
    v_key text;
    v_state text;
    v_constraint text;
    v_table text;
    v_category text := CASE WHEN p_rule_id IS NULL THEN 'request' ELSE 'rule' END;
BEGIN
    -- Who may erase: not only the EXECUTE grant, which a SECURITY DEFINER caller
    -- owned by pgdpr_owner (e.g. a rule run) would lend to anyone who may call it.
    PERFORM gdpr.require_erasure_right();
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind k WHERE k.kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    PERFORM gdpr.ensure_erasure_guards(p_kind);  -- a catalog applied after the last migrate
    -- lock and classify (jsonb, not a temporary table: no catalog churn per batch)
    SELECT COALESCE(jsonb_agg(jsonb_build_object('subject_key', l.subject_key, 'tenant', l.tenant,
                                                 'anonymized', l.anonymized)), '[]')
      INTO v_locked
      FROM gdpr.lock_subjects(p_kind, v_tenant, (SELECT array_agg(DISTINCT k) FROM unnest(p_subject_keys) k)) l;
    RETURN QUERY
    SELECT q.k, 'not_found', '{}'::jsonb FROM (SELECT DISTINCT k FROM unnest(p_subject_keys) k) q
     WHERE NOT EXISTS (SELECT FROM jsonb_to_recordset(v_locked) AS l(subject_key text)
                        WHERE l.subject_key = q.k)
    UNION ALL
    SELECT l.subject_key, 'already_anonymized', '{}'::jsonb
      FROM jsonb_to_recordset(v_locked) AS l(subject_key text, anonymized boolean) WHERE l.anonymized;
    FOR v_group IN SELECT l.tenant FROM jsonb_to_recordset(v_locked) AS l(tenant text, anonymized boolean)
                    WHERE NOT l.anonymized GROUP BY l.tenant LOOP
        SELECT array_agg(l.subject_key ORDER BY l.subject_key) FILTER (WHERE h.subject_key IS NULL),
               array_agg(l.subject_key ORDER BY l.subject_key) FILTER (WHERE h.subject_key IS NOT NULL)
          INTO v_todo, v_held
          FROM jsonb_to_recordset(v_locked) AS l(subject_key text, tenant text, anonymized boolean)
          LEFT JOIN (SELECT DISTINCT h.subject_key FROM gdpr.legal_hold h
                      WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM v_group.tenant
                        AND gdpr.hold_active(h, now())) h
            ON h.subject_key = l.subject_key
         WHERE NOT l.anonymized AND l.tenant IS NOT DISTINCT FROM v_group.tenant;
        IF v_held IS NOT NULL THEN
            INSERT INTO gdpr.audit_event (actor, action, kind, tenant, subject_key, details)
            SELECT gdpr.caller(), 'anonymize_skipped_hold', p_kind, v_group.tenant, k,
                   jsonb_build_object('rule_id', p_rule_id) FROM unnest(v_held) k;
            RETURN QUERY SELECT k, 'held', '{}'::jsonb FROM unnest(v_held) k;
        END IF;
        CONTINUE WHEN v_todo IS NULL;
        BEGIN
            v_batch := gdpr.erase_batch(p_kind, v_group.tenant, v_todo, p_reason, p_rule_id, v_category);
            RETURN QUERY SELECT k, 'anonymized', jsonb_build_object(
                'proof', v_batch -> 'proof' -> k ->> 'verdict', 'proof_hits', (v_batch -> 'proof' -> k -> 'hits')::bigint)
              FROM unnest(v_todo) k;
        EXCEPTION WHEN OTHERS THEN
            -- Isolate the failing subject(s): one subtransaction per subject.
            FOREACH v_key IN ARRAY v_todo LOOP
                BEGIN
                    v_batch := gdpr.erase_batch(p_kind, v_group.tenant, ARRAY[v_key], p_reason, p_rule_id, v_category);
                    RETURN QUERY SELECT v_key, 'anonymized', jsonb_build_object(
                        'proof', v_batch -> 'proof' -> v_key ->> 'verdict',
                        'proof_hits', (v_batch -> 'proof' -> v_key -> 'hits')::bigint);
                EXCEPTION WHEN OTHERS THEN
                    -- SQLSTATE, constraint and table only: a message could quote a value.
                    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME,
                                            v_table = TABLE_NAME;
                    PERFORM gdpr.audit('anonymize_failed', p_kind, v_group.tenant, v_key, NULL,
                        jsonb_build_object('sqlstate', v_state, 'constraint', NULLIF(v_constraint, ''),
                                           'table', NULLIF(v_table, ''), 'rule_id', p_rule_id));
                    RETURN QUERY SELECT v_key, 'failed',
                        jsonb_build_object('sqlstate', v_state, 'constraint', NULLIF(v_constraint, ''),
                                           'table', NULLIF(v_table, ''));
                END;
            END LOOP;
        END;
    END LOOP;
END $$;
ALTER FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text, p_rule_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text, p_rule_id bigint) IS 'Erase many subjects of a club, set-based; outcome per subject: anonymized, already_anonymized, held, not_found, failed';
CREATE FUNCTION gdpr.app_schema(p_schema name) RETURNS name
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT (p_schema || '_app')::name
$$;
ALTER FUNCTION gdpr.app_schema(p_schema name) OWNER TO postgres;
CREATE FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text DEFAULT NULL::text, p_details jsonb DEFAULT '{}'::jsonb) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) IS 'Append one audit event (internal: called by the engine functions); caller text goes to gdpr.audit_note';
CREATE FUNCTION gdpr.audit_purposes() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT ARRAY['insight report', 'data export', 'saved before anonymisation', 'subject request']
$$;
ALTER FUNCTION gdpr.audit_purposes() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.audit_purposes() IS 'The purpose codes an audit event keeps as given';
CREATE FUNCTION gdpr.audit_table_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
COMMENT ON FUNCTION gdpr.audit_table_change() IS 'Trigger: audit every change of staff groups, rights, support grants and the catalog';
CREATE FUNCTION gdpr.caller() RETURNS name
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN pg_catalog.current_setting('role') OPERATOR(pg_catalog.=) 'none' THEN SESSION_USER
                ELSE pg_catalog.current_setting('role')::pg_catalog.name END
$$;
ALTER FUNCTION gdpr.caller() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.caller() IS 'The role on whose behalf the current statement runs, also inside SECURITY DEFINER functions';
CREATE FUNCTION gdpr.caller_is_admin() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER')
      FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) gdpr.caller()
$$;
ALTER FUNCTION gdpr.caller_is_admin() OWNER TO postgres;
CREATE FUNCTION gdpr.caller_register_kinds() RETURNS text[]
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE(pg_catalog.array_agg(k.kind), '{}') FROM gdpr.subject_kind k
     WHERE gdpr.rule_role_register_access(gdpr.caller(), k.kind) <> 'none'
$$;
ALTER FUNCTION gdpr.caller_register_kinds() OWNER TO postgres;
CREATE FUNCTION gdpr.caller_tenant() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT gdpr.role_tenant((SELECT u.oid FROM pg_catalog.pg_roles u
                              WHERE u.rolname OPERATOR(pg_catalog.=) gdpr.caller()))
$$;
ALTER FUNCTION gdpr.caller_tenant() OWNER TO postgres;
CREATE FUNCTION gdpr.cancel_run(p_run_id bigint) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule;
BEGIN
    SELECT r.* INTO v_rule FROM gdpr.rule_run x JOIN gdpr.rule r ON r.id = x.rule_id WHERE x.id = p_run_id;
    IF NOT FOUND OR (NOT gdpr.caller_is_admin() AND gdpr.caller_tenant() IS DISTINCT FROM v_rule.tenant) THEN
        RAISE EXCEPTION 'no run %', p_run_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM gdpr.rule_require_register_access(v_rule.kind);
    PERFORM FROM gdpr.rule_run x WHERE x.id = p_run_id FOR UPDATE;
    RETURN gdpr.rule_run_stop(p_run_id, 'cancelled');
END $$;
ALTER FUNCTION gdpr.cancel_run(p_run_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.cancel_run(p_run_id bigint) IS 'Stop a run now: marked cancelled, never resumed; the work done so far stays; audited';
CREATE FUNCTION gdpr.catalog_changes_since(p_event_id bigint) RETURNS TABLE(change text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE split_part(e.action, '.', 2) WHEN 'insert' THEN 'declared' WHEN 'update' THEN 'changed'
                ELSE 'removed' END || ' ' ||
           CASE split_part(e.action, '.', 1)
               WHEN 'subject_kind' THEN 'subject ' || (r.row ->> 'kind')
               WHEN 'catalog_table' THEN 'table ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name')
               WHEN 'catalog_column' THEN 'column ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name')
                                          || '.' || (r.row ->> 'column_name')
               WHEN 'not_personal' THEN 'not personal ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name')
                                        || COALESCE('.' || NULLIF(r.row ->> 'column_name', ''), '')
               ELSE 'tenant table ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name') END
      FROM gdpr.audit_event e,
           LATERAL (SELECT COALESCE(e.details -> 'new', e.details) AS row) r
     WHERE e.id > p_event_id AND e.action ~ '^(subject_kind|catalog_table|catalog_column|tenant_table|not_personal)\.'
     ORDER BY e.id
$$;
ALTER FUNCTION gdpr.catalog_changes_since(p_event_id bigint) OWNER TO postgres;
CREATE FUNCTION gdpr.catalog_check(p_schemas name[] DEFAULT NULL::name[]) RETURNS TABLE(severity text, finding text, table_name text, column_name text, category text, reason text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_schemas name[] := p_schemas;
    v_table record;
BEGIN
    IF v_schemas IS NULL THEN
        SELECT array_agg(DISTINCT s) INTO v_schemas
          FROM (SELECT table_schema FROM gdpr.catalog_table
                UNION SELECT table_schema FROM gdpr.subject_kind) x(s);
    END IF;
    IF to_regclass('pg_temp.pgdpr_findings') IS NULL THEN
        CREATE TEMP TABLE pgdpr_findings
            (severity text, finding text, table_name text, column_name text, category text, reason text);
    END IF;
    TRUNCATE pg_temp.pgdpr_findings;
    -- 1. declared, but gone: the catalog stores names, so a dropped or renamed table
    --    or column leaves a declaration that reports and erases nothing.
    INSERT INTO pg_temp.pgdpr_findings
    SELECT 'error', 'missing_table', format('%I.%I', t.table_schema, t.table_name), NULL, NULL,
           format('declared for subject %s but the table does not exist (dropped or renamed?)', t.kind)
      FROM gdpr.catalog_table t
     WHERE to_regclass(format('%I.%I', t.table_schema, t.table_name)) IS NULL;
    INSERT INTO pg_temp.pgdpr_findings
    SELECT 'error', 'missing_column', format('%I.%I', x.table_schema, x.table_name), x.column_name, x.category,
           format('declared as %s but the column does not exist (dropped or renamed?)', x.role)
      FROM (SELECT c.table_schema, c.table_name, c.column_name, c.category, 'a personal column ('
                   || c.category || ')' AS role
              FROM gdpr.catalog_column c
            UNION ALL
            SELECT t.table_schema, t.table_name, col, NULL, 'the ' || what || ' column'
              FROM gdpr.catalog_table t,
                   LATERAL (VALUES (t.link_column, 'link'), (t.retain_column, 'retain')) v(col, what)
             WHERE col IS NOT NULL AND t.link <> 'owned'
            UNION ALL
            SELECT s.table_schema, s.table_name, t.link_column, NULL, 'the owned_by column of ' || t.table_name
              FROM gdpr.catalog_table t JOIN gdpr.subject_kind s USING (kind) WHERE t.link = 'owned'
            UNION ALL
            SELECT s.table_schema, s.table_name, col, NULL, 'the subject ' || what || ' of ' || s.kind
              FROM gdpr.subject_kind s,
                   LATERAL (SELECT s.key_column, 'key' UNION ALL SELECT s.tenant_column, 'tenant column'
                            UNION ALL SELECT s.anonymized_column, 'anonymized column'
                            UNION ALL SELECT i, 'identifying column' FROM unnest(s.identifying) i) v(col, what)
             WHERE col IS NOT NULL) x
     WHERE to_regclass(format('%I.%I', x.table_schema, x.table_name)) IS NOT NULL
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = format('%I.%I', x.table_schema, x.table_name)::regclass
                          AND a.attname = x.column_name AND a.attnum > 0 AND NOT a.attisdropped);
    INSERT INTO pg_temp.pgdpr_findings
    SELECT DISTINCT 'error', 'missing_table', format('%I.%I', s.table_schema, s.table_name), NULL, NULL,
           format('the root table of subject %s does not exist (dropped or renamed?)', s.kind)
      FROM gdpr.subject_kind s
     WHERE to_regclass(format('%I.%I', s.table_schema, s.table_name)) IS NULL
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_findings f
                        WHERE f.table_name = format('%I.%I', s.table_schema, s.table_name));
    -- 2. tables linked to a subject that the catalog does not declare
    IF to_regclass('pg_temp.pgdpr_linked') IS NULL THEN
        CREATE TEMP TABLE pgdpr_linked (table_oid oid PRIMARY KEY, declared boolean);
    END IF;
    TRUNCATE pg_temp.pgdpr_linked;
    INSERT INTO pg_temp.pgdpr_linked
    SELECT to_regclass(format('%I.%I', t.table_schema, t.table_name)), true
      FROM gdpr.catalog_table t
     WHERE to_regclass(format('%I.%I', t.table_schema, t.table_name)) IS NOT NULL
    ON CONFLICT DO NOTHING;
    INSERT INTO pg_temp.pgdpr_findings
    SELECT CASE WHEN bool_or(r.strong) THEN 'error' ELSE 'warning' END, 'undeclared_table',
           r.table_oid::regclass::text, NULL, NULL,
           (array_agg(format('reaches subject %s through foreign keys: %s%s', s.kind, r.path,
                             CASE WHEN r.strong THEN '' ELSE ' (an optional, nullable reference only)' END)
                      ORDER BY r.strong DESC, r.depth))[1]
      FROM gdpr.subject_kind s
     CROSS JOIN LATERAL gdpr.subject_reach(to_regclass(format('%I.%I', s.table_schema, s.table_name))) r
      JOIN pg_catalog.pg_class c ON c.oid = r.table_oid
     WHERE to_regclass(format('%I.%I', s.table_schema, s.table_name)) IS NOT NULL
       AND c.relnamespace::regnamespace::name = ANY (v_schemas)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_linked l WHERE l.table_oid = r.table_oid)
     GROUP BY r.table_oid;
    -- a table the subject row points to (an address), other than the tenant's own table
    INSERT INTO pg_temp.pgdpr_findings
    SELECT 'error', 'undeclared_owned_table', e.parent::regclass::text, NULL, NULL,
           format('subject %s points to it through %s.(%s): an owned row (an address, a profile)?',
                  s.kind, e.child::regclass, array_to_string(e.child_columns, ', '))
      FROM gdpr.subject_kind s
      JOIN gdpr.fk_edges() e ON e.child = to_regclass(format('%I.%I', s.table_schema, s.table_name))
      JOIN pg_catalog.pg_class c ON c.oid = e.parent
     WHERE NOT (e.child_columns <@ ARRAY[s.tenant_column])
       AND e.parent <> e.child
       AND c.relnamespace::regnamespace::name = ANY (v_schemas)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_linked l WHERE l.table_oid = e.parent)
       AND NOT EXISTS (SELECT FROM gdpr.subject_kind s2
                        WHERE to_regclass(format('%I.%I', s2.table_schema, s2.table_name)) = e.parent)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_findings f WHERE f.table_name = e.parent::regclass::text);
    INSERT INTO pg_temp.pgdpr_linked
    SELECT to_regclass(f.table_name), false FROM pg_temp.pgdpr_findings f
     WHERE f.finding IN ('undeclared_table', 'undeclared_owned_table')
    ON CONFLICT DO NOTHING;
    -- 3. personal-looking columns the catalog does not declare, in every table of scope
    FOR v_table IN
        SELECT c.oid, l.table_oid IS NOT NULL AS linked, COALESCE(l.declared, false) AS declared
          FROM pg_catalog.pg_class c
          LEFT JOIN pg_temp.pgdpr_linked l ON l.table_oid = c.oid
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND c.relnamespace::regnamespace::name = ANY (v_schemas)
           AND c.relnamespace <> 'gdpr'::regnamespace
         ORDER BY c.oid::regclass::text
    LOOP
        INSERT INTO pg_temp.pgdpr_findings
        SELECT CASE WHEN v_table.linked AND NOT v_table.declared
                    THEN 'warning' ELSE 'error' END,
               'undeclared_column', v_table.oid::regclass::text, p.column_name, p.category,
               p.reason || CASE WHEN NOT v_table.linked
                                THEN ' (the table is not linked to any subject: a subject kind of its own?)'
                                WHEN NOT v_table.declared THEN ' (declare the table first)'
                                ELSE '' END
          FROM gdpr.personal_column_candidates(v_table.oid, v_table.linked) p;
    END LOOP;
    -- what the catalog declares not personal, with a reason (gdpr.not_personal)
    DELETE FROM pg_temp.pgdpr_findings f
     USING gdpr.not_personal n
     WHERE f.finding IN ('undeclared_table', 'undeclared_column', 'undeclared_owned_table')
       AND f.table_name = format('%I.%I', n.table_schema, n.table_name)
       AND (n.column_name = '' OR f.column_name = n.column_name);
    -- an undeclared table with personal-looking columns is more than a mention
    UPDATE pg_temp.pgdpr_findings f SET severity = 'error'
     WHERE f.finding = 'undeclared_table' AND EXISTS (
           SELECT FROM pg_temp.pgdpr_findings x
            WHERE x.finding = 'undeclared_column' AND x.table_name = f.table_name);
    RETURN QUERY SELECT * FROM pg_temp.pgdpr_findings x
                  ORDER BY x.severity, x.table_name, x.column_name NULLS FIRST, x.finding;
END $$;
ALTER FUNCTION gdpr.catalog_check(p_schemas name[]) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.catalog_check(p_schemas name[]) IS 'What the catalog misses: undeclared tables linked to a subject, personal-looking undeclared columns, declared tables and columns that no longer exist';
CREATE FUNCTION gdpr.catalog_discover(p_schema name, p_subject regclass DEFAULT NULL::regclass) RETURNS TABLE(table_name text, role text, link_column name, parent text, parent_column name, strong boolean, on_erase text, retain_column name, path text, subject_key name, tenant_column name, identifying name[], anonymized_column name, columns jsonb)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_root regclass := COALESCE(p_subject, gdpr.guess_subject_table(p_schema));
    v_key record;
BEGIN
    IF v_root IS NULL THEN
        RAISE EXCEPTION 'schema % has no table to take as the subject', quote_ident(p_schema)
            USING ERRCODE = 'undefined_table';
    END IF;
    v_key := gdpr.guess_table_key(v_root);
    IF to_regclass('pg_temp.pgdpr_discovered') IS NULL THEN
        CREATE TEMP TABLE pgdpr_discovered (table_oid oid PRIMARY KEY, role text, link_column name,
            parent oid, parent_column name, strong boolean, path text, depth int);
    END IF;
    TRUNCATE pg_temp.pgdpr_discovered;
    INSERT INTO pg_temp.pgdpr_discovered VALUES (v_root, 'root', NULL, NULL, NULL, true, NULL, 0);
    -- tables reaching the subject: the column of the link that maps to the parent's key
    INSERT INTO pg_temp.pgdpr_discovered
    SELECT r.table_oid, CASE WHEN r.parent = v_root THEN 'direct' ELSE 'via' END,
           COALESCE((SELECT r.link_columns[i] FROM generate_subscripts(r.parent_columns, 1) i
                      WHERE r.parent_columns[i] = pk.key_column LIMIT 1),
                    r.link_columns[cardinality(r.link_columns)]),
           CASE WHEN r.parent <> v_root THEN r.parent END,
           CASE WHEN r.parent <> v_root THEN pk.key_column END,
           r.strong, r.path, r.depth
      FROM gdpr.subject_reach(v_root) r
      CROSS JOIN LATERAL gdpr.guess_table_key(r.parent) pk
      JOIN pg_catalog.pg_class c ON c.oid = r.table_oid
     WHERE c.relnamespace::regnamespace::name = p_schema;
    -- rows the subject points to (an address), not the tenant's table
    INSERT INTO pg_temp.pgdpr_discovered
    SELECT DISTINCT ON (e.parent) e.parent, 'owned',
           (SELECT e.child_columns[i] FROM generate_subscripts(e.child_columns, 1) i
             WHERE e.child_columns[i] IS DISTINCT FROM v_key.tenant_column ORDER BY i LIMIT 1),
           NULL,
           (SELECT e.parent_columns[i] FROM generate_subscripts(e.child_columns, 1) i
             WHERE e.child_columns[i] IS DISTINCT FROM v_key.tenant_column ORDER BY i LIMIT 1),
           true, format('%s (%s) -> %s', e.child::regclass, array_to_string(e.child_columns, ', '), e.parent::regclass), 1
      FROM gdpr.fk_edges() e
      JOIN pg_catalog.pg_class c ON c.oid = e.parent
     WHERE e.child = v_root AND e.parent <> v_root
       AND NOT (e.child_columns <@ ARRAY[v_key.tenant_column])
       AND c.relnamespace::regnamespace::name = p_schema
    ON CONFLICT DO NOTHING;
    RETURN QUERY
    SELECT d.table_oid::regclass::text, d.role, d.link_column, d.parent::regclass::text, d.parent_column,
           d.strong,
           CASE WHEN d.role = 'root' OR NOT d.strong THEN 'anonymize'
                WHEN d.role <> 'owned' AND m.amount IS NOT NULL AND m.booked IS NOT NULL THEN 'retain'
                ELSE 'delete' END,
           CASE WHEN d.role NOT IN ('root', 'owned') AND d.strong AND m.amount IS NOT NULL THEN m.booked END,
           d.path,
           CASE WHEN d.role = 'root' THEN v_key.key_column END,
           CASE WHEN d.role = 'root' THEN v_key.tenant_column END,
           CASE WHEN d.role = 'root' THEN ARRAY(
               SELECT x->>'column' FROM jsonb_array_elements(cols.list) x
                WHERE x->>'category' IN ('name', 'contact', 'national_id', 'identifier'))::name[] END,
           CASE WHEN d.role = 'root' THEN (
               SELECT a.attname FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = d.table_oid AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                  AND a.attname ~ '^(anonymi[sz]ed|erased|deleted)(_at|_on)?$' LIMIT 1) END,
           cols.list
      FROM pg_temp.pgdpr_discovered d
      -- accounting records: an amount and a booking date suggest a statutory retention
      CROSS JOIN LATERAL (
          SELECT (SELECT a.attname FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = d.table_oid AND a.attnum > 0 AND NOT a.attisdropped
                     AND a.atttypid IN ('numeric'::regtype, 'money'::regtype)
                     AND a.attname ~ '(amount|total|price|sum|bel(oe|ø)b)' LIMIT 1) AS amount,
                 (SELECT a.attname FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = d.table_oid AND a.attnum > 0 AND NOT a.attisdropped
                     AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                   ORDER BY a.attname ~ '(booked|paid|ordered|invoiced|placed)' DESC,
                            a.attname ~ '(created|_at$|date)' DESC, a.attnum LIMIT 1) AS booked) m
      CROSS JOIN LATERAL (
          SELECT COALESCE(jsonb_agg(jsonb_build_object(
                     'column', p.column_name, 'category', p.category,
                     'sensitive', p.category IN ('national_id', 'bank'),
                     'erase', CASE
                         WHEN a.atttypid IN ('json'::regtype, 'jsonb'::regtype) THEN 'redact'
                         WHEN p.category = 'birthdate' AND a.atttypid IN ('date'::regtype, 'timestamptz'::regtype,
                              'timestamp'::regtype) THEN 'year_only'
                         WHEN p.category = 'free_text' AND a.atttypid IN ('text'::regtype,
                              'character varying'::regtype) THEN 'redact'
                         WHEN NOT a.attnotnull THEN 'null'
                         WHEN p.category = 'name' AND a.atttypid IN ('text'::regtype, 'character varying'::regtype)
                              THEN 'constant:Anonymized'
                         WHEN a.atttypid IN ('text'::regtype, 'character varying'::regtype) THEN 'random'
                         ELSE 'keep' END,
                     'reason', p.reason) ORDER BY a.attnum), '[]'::jsonb) AS list
            FROM gdpr.personal_column_candidates(d.table_oid, true, true) p
            JOIN pg_catalog.pg_attribute a ON a.attrelid = d.table_oid AND a.attname = p.column_name
           WHERE p.column_name IS DISTINCT FROM d.link_column) cols
     ORDER BY d.depth, d.role <> 'root', d.role = 'owned' DESC, d.table_oid::regclass::text;
END $_$;
ALTER FUNCTION gdpr.catalog_discover(p_schema name, p_subject regclass) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.catalog_discover(p_schema name, p_subject regclass) IS 'A draft catalog for a schema: tables linked to the subject (FK graph), guessed links, erasure and personal columns';
CREATE FUNCTION gdpr.catalog_known_column(p_table oid, p_column name) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                    WHERE k.conrelid = p_table AND k.contype IN ('p', 'f') AND a.attname = p_column)
        OR EXISTS (SELECT FROM gdpr.subject_kind s
                    WHERE p_column IN (s.tenant_column)
                       OR (to_regclass(format('%I.%I', s.table_schema, s.table_name)) = p_table
                           AND p_column IN (s.key_column, s.anonymized_column)))
        OR EXISTS (SELECT FROM gdpr.catalog_table t
                    WHERE to_regclass(format('%I.%I', t.table_schema, t.table_name)) = p_table
                      AND p_column IN (t.link_column, t.parent_column, t.retain_column))
        OR EXISTS (SELECT FROM gdpr.catalog_table t
                     JOIN gdpr.subject_kind s USING (kind)
                    WHERE t.link = 'owned' AND to_regclass(format('%I.%I', s.table_schema, s.table_name)) = p_table
                      AND p_column = t.link_column)
        OR EXISTS (SELECT FROM gdpr.catalog_column c
                    WHERE to_regclass(format('%I.%I', c.table_schema, c.table_name)) = p_table
                      AND p_column IN (c.column_name, c.sensitive_when))
$$;
ALTER FUNCTION gdpr.catalog_known_column(p_table oid, p_column name) OWNER TO postgres;
CREATE FUNCTION gdpr.catalog_summary() RETURNS TABLE(kind text, table_name text, link text, on_erase text, personal_columns bigint, sensitive_columns bigint)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT t.kind, format('%I.%I', t.table_schema, t.table_name), t.link, t.on_erase,
           count(c.column_name), count(c.column_name) FILTER (WHERE c.sensitive OR c.sensitive_when IS NOT NULL)
      FROM gdpr.catalog_table t
      LEFT JOIN gdpr.catalog_column c USING (table_schema, table_name)
     GROUP BY t.kind, t.table_schema, t.table_name, t.link, t.on_erase, t.position
     ORDER BY t.kind, t.position, t.table_schema, t.table_name
$$;
ALTER FUNCTION gdpr.catalog_summary() OWNER TO postgres;
CREATE FUNCTION gdpr.change_rule(p_rule_id bigint, p_description text DEFAULT NULL::text, p_schedule text DEFAULT NULL::text, p_frequency text DEFAULT NULL::text, p_conditions jsonb DEFAULT NULL::jsonb, p_actions jsonb DEFAULT NULL::jsonb, p_max_subjects_per_run integer DEFAULT NULL::integer, p_time_zone text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_old gdpr.rule := gdpr.rule_for_caller(p_rule_id);
    v_rule gdpr.rule := v_old;
BEGIN
    v_rule.description := COALESCE(p_description, v_old.description);
    v_rule.schedule := COALESCE(p_schedule, v_old.schedule);
    v_rule.time_zone := COALESCE(p_time_zone, v_old.time_zone);
    IF p_frequency IS NOT NULL THEN
        v_rule.frequency_days := gdpr.rule_frequency_days(p_frequency);
    END IF;
    v_rule.conditions := COALESCE(p_conditions, v_old.conditions);
    v_rule.actions := COALESCE(p_actions, v_old.actions);
    v_rule.max_subjects_per_run := COALESCE(p_max_subjects_per_run, v_old.max_subjects_per_run);
    v_rule := gdpr.rule_check(v_rule);
    -- an erasing rule (before or after the change) is changed only by those who may erase
    PERFORM gdpr.rule_require_erasure_right(v_old.actions || v_rule.actions, 'change');
    IF p_max_subjects_per_run IS DISTINCT FROM v_old.max_subjects_per_run
       AND p_max_subjects_per_run > gdpr.rule_staff_max_per_run() AND NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'max subjects per run above % needs an admin, not %', gdpr.rule_staff_max_per_run(),
            p_max_subjects_per_run USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE gdpr.rule r SET description = btrim(v_rule.description), schedule = v_rule.schedule,
           time_zone = v_rule.time_zone, frequency_days = v_rule.frequency_days, conditions = v_rule.conditions,
           actions = v_rule.actions, max_subjects_per_run = v_rule.max_subjects_per_run,
           next_slot = CASE WHEN v_rule.schedule = v_old.schedule AND v_rule.time_zone = v_old.time_zone
                            THEN v_old.next_slot ELSE v_rule.next_slot END,
           changed_at = now(), changed_by = gdpr.caller(), author = gdpr.caller()
     WHERE r.id = p_rule_id;
    PERFORM gdpr.audit('rule_change', v_rule.kind, v_rule.tenant, NULL, NULL, jsonb_build_object(
        'rule_id', p_rule_id, 'schedule', v_rule.schedule, 'time_zone', v_rule.time_zone,
        'frequency_days', v_rule.frequency_days, 'conditions', v_rule.conditions, 'actions', v_rule.actions,
        'max_subjects_per_run', v_rule.max_subjects_per_run, 'author', gdpr.caller()));
    RETURN gdpr.show_rule(p_rule_id);
END $$;
ALTER FUNCTION gdpr.change_rule(p_rule_id bigint, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_time_zone text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.change_rule(p_rule_id bigint, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_time_zone text) IS 'Change a trigger rule (NULL keeps a setting); audited';
CREATE FUNCTION gdpr.check_erasure_plan() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_problem record;
BEGIN
    SELECT * INTO v_problem FROM gdpr.erasure_plan_problems() ORDER BY 1, 2 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'catalog: erasure cannot work at %: %', v_problem.place, v_problem.detail
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;
ALTER FUNCTION gdpr.check_erasure_plan() OWNER TO postgres;
CREATE FUNCTION gdpr.check_rights_probe(p_role name, p_role_oid oid) RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.check_rights_probe(p_role name, p_role_oid oid) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.check_rights_probe(p_role name, p_role_oid oid) IS 'Internal: refuse to tell a caller the rights of a role that is neither theirs nor one of their groups (admins: any)';
CREATE FUNCTION gdpr.check_time_zone(p_time_zone text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_time_zone IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names WHERE name = p_time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%": use an IANA name such as Europe/Copenhagen', p_time_zone
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN p_time_zone;
END $$;
ALTER FUNCTION gdpr.check_time_zone(p_time_zone text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.check_time_zone(p_time_zone text) IS 'The time zone if PostgreSQL knows it by name, else an error naming it';
CREATE FUNCTION gdpr.checked_column(p_table oid, p_column name, p_entry text) RETURNS regtype
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO v_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = p_table AND a.attname = p_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF v_type IS NULL THEN
        RAISE EXCEPTION 'catalog entry %: column % does not exist in %', p_entry,
            quote_ident(p_column), p_table::regclass
            USING ERRCODE = 'undefined_column';
    END IF;
    RETURN v_type;
END $$;
ALTER FUNCTION gdpr.checked_column(p_table oid, p_column name, p_entry text) OWNER TO postgres;
CREATE FUNCTION gdpr.checked_table(p_schema name, p_table name, p_entry text) RETURNS oid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_oid oid;
BEGIN
    -- the engine's own tables and the system catalogs are never personal-data tables:
    -- the engine's functions would read or erase them as their owner
    IF p_schema IN ('gdpr', 'pg_catalog', 'information_schema') OR p_schema ~ '^pg_' THEN
        RAISE EXCEPTION 'catalog entry %: schema % belongs to the engine or the system', p_entry, quote_ident(p_schema)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT c.oid INTO v_oid
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = p_schema AND c.relname = p_table AND c.relkind IN ('r', 'p');
    IF v_oid IS NULL THEN
        RAISE EXCEPTION 'catalog entry %: table %.% does not exist', p_entry,
            quote_ident(p_schema), quote_ident(p_table)
            USING ERRCODE = 'undefined_table';
    END IF;
    RETURN v_oid;
END $$;
ALTER FUNCTION gdpr.checked_table(p_schema name, p_table name, p_entry text) OWNER TO postgres;
CREATE FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_hold gdpr.legal_hold;
    v_tenant text;
BEGIN
    PERFORM gdpr.require_erasure_right();  -- not the EXECUTE grant alone (gdpr.anonymize.sql)
    v_tenant := gdpr.acting_tenant(NULL);
    -- a hold of a register the caller may not read answers like a missing one
    SELECT * INTO v_hold FROM gdpr.legal_hold h
     WHERE h.id = p_hold_id AND (v_tenant IS NULL OR h.tenant = v_tenant)
       AND h.kind = ANY (gdpr.caller_register_kinds())
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'legal hold % not found', p_hold_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_hold.cleared_at IS NOT NULL THEN
        RAISE EXCEPTION 'legal hold % was already cleared', p_hold_id USING ERRCODE = 'object_in_use';
    END IF;
    UPDATE gdpr.legal_hold SET cleared_at = now(), cleared_by = gdpr.caller() WHERE id = p_hold_id;
    PERFORM gdpr.audit('legal_hold_cleared', v_hold.kind, v_hold.tenant, v_hold.subject_key, NULL,
                       jsonb_build_object('hold_id', p_hold_id, 'hold_type', v_hold.hold_type));
END $$;
ALTER FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) IS 'Clear a legal hold (the subject becomes erasable again)';
CREATE FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text DEFAULT 'answered'::text, p_note text DEFAULT NULL::text, p_now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_now timestamptz := gdpr.request_clock(p_now);
    v_request gdpr.dsr_request := gdpr.request_for_change(p_request_id);
    v_events jsonb;
    v_due timestamptz;
BEGIN
    IF v_request.status <> 'open' THEN
        RAISE EXCEPTION 'request % is already closed (%)', p_request_id, v_request.status
            USING ERRCODE = 'object_in_use';
    END IF;
    IF p_outcome IS NULL OR p_outcome NOT IN ('answered', 'refused', 'withdrawn') THEN
        RAISE EXCEPTION 'a request is closed as answered, refused or withdrawn' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_outcome = 'refused' AND NULLIF(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION 'a refusal needs its reason (GDPR Art. 12(4))' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH answering AS (
        INSERT INTO gdpr.dsr_request_event (request_id, event_id)
        SELECT p_request_id, e.id
          FROM gdpr.audit_event e
         WHERE e.kind = v_request.kind AND COALESCE(e.tenant, '') = v_request.tenant
           AND e.subject_key = v_request.subject_key
           AND e.action = ANY (gdpr.request_answering_actions(v_request.request_type))
           AND e.at >= v_request.received_at
        ON CONFLICT DO NOTHING
        RETURNING event_id
    )
    SELECT COALESCE(jsonb_agg(jsonb_build_object('event_id', e.id, 'action', e.action, 'at', e.at)
                              ORDER BY e.id), '[]')
      INTO v_events
      FROM answering a JOIN gdpr.audit_event e ON e.id = a.event_id;
    IF p_outcome = 'answered' AND jsonb_array_length(v_events) = 0
       AND v_request.request_type IN ('access', 'portability', 'erasure', 'restriction') THEN
        RAISE EXCEPTION 'request % (%) has no % of % % since it was received: answer it first, or close it as refused',
            p_request_id, v_request.request_type,
            array_to_string(gdpr.request_answering_actions(v_request.request_type), ' or '),
            v_request.kind, v_request.subject_key USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    v_due := COALESCE(v_request.extended_due_at, v_request.due_at);
    UPDATE gdpr.dsr_request SET status = p_outcome, closed_at = v_now, closed_by = gdpr.caller()
     WHERE id = p_request_id;
    PERFORM gdpr.write_subject_note(v_request.kind, v_request.tenant, v_request.subject_key, 'request_closing',
                                    p_request_id, p_note);
    PERFORM gdpr.audit('request_closed', v_request.kind, NULLIF(v_request.tenant, ''), v_request.subject_key, NULL,
                       jsonb_build_object('request_id', p_request_id, 'outcome', p_outcome,
                                          'late', v_now > v_due, 'events', v_events));
    RETURN jsonb_build_object('request_id', p_request_id, 'status', p_outcome, 'closed_at', v_now,
                              'due_at', v_due, 'late', v_now > v_due, 'events', v_events);
END $$;
ALTER FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text, p_note text, p_now timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text, p_note text, p_now timestamp with time zone) IS 'Close a request as answered (linking the report, export or erasure that answered it), refused or withdrawn';
CREATE FUNCTION gdpr.column_label(p_column name) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    SELECT pg_catalog.upper(pg_catalog.left(w, 1)) || pg_catalog.substr(w, 2)
      FROM (SELECT pg_catalog.btrim(pg_catalog.replace(
                       pg_catalog.regexp_replace(p_column::text, '_(id|at|no)$', ''), '_', ' ')) AS w) x
$_$;
ALTER FUNCTION gdpr.column_label(p_column name) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.column_label(p_column name) IS 'A readable fallback label for a column without one in the catalog (class_id -> Class)';
CREATE FUNCTION gdpr.column_needs_basis(p_category text, p_sensitive boolean, p_sensitive_when name) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT p_category OPERATOR(pg_catalog.=) 'national_id'
        OR ((COALESCE(p_sensitive, false) OR p_sensitive_when IS NOT NULL)
            AND p_category OPERATOR(pg_catalog.<>) 'bank')
$$;
ALTER FUNCTION gdpr.column_needs_basis(p_category text, p_sensitive boolean, p_sensitive_when name) OWNER TO postgres;
CREATE FUNCTION gdpr.compliance_record(p_tenant text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_month timestamptz := date_trunc('month', now());
    v_kind record;
    v_type text;
    v_counts jsonb;
    v_subjects jsonb := '[]';
    v_tables jsonb;
    v_security jsonb;
    v_figures jsonb;
    v_section jsonb;
    v_record jsonb;
    v_controller gdpr.controller_record;
    v_processor gdpr.controller_record;
    v_transfers jsonb;
    v_warnings jsonb := '[]';
BEGIN
    SELECT * INTO v_controller FROM gdpr.controller_record c WHERE c.tenant = v_tenant;
    SELECT * INTO v_processor FROM gdpr.controller_record c WHERE c.tenant = '';
    -- Categories of data subjects, with the figures a supervisor asks for.
    FOR v_kind IN
        SELECT s.*, to_regclass(format('%I.%I', s.table_schema, s.table_name)) AS rel
          FROM gdpr.subject_kind s ORDER BY s.kind
    LOOP
        v_counts := jsonb_build_object('subjects', NULL, 'anonymised', NULL, 'anonymised_this_month', NULL);
        IF v_kind.rel IS NOT NULL THEN
            SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO v_type
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = v_kind.rel AND a.attname = v_kind.tenant_column AND NOT a.attisdropped;
            EXECUTE format(
                'SELECT jsonb_build_object(''subjects'', count(*) %s, ''anonymised'', %s, ''anonymised_this_month'', %s)
                   FROM %s s WHERE %s',
                CASE WHEN v_kind.anonymized_column IS NOT NULL
                     THEN format('FILTER (WHERE s.%I IS NULL)', v_kind.anonymized_column) ELSE '' END,
                CASE WHEN v_kind.anonymized_column IS NOT NULL
                     THEN format('count(*) FILTER (WHERE s.%I IS NOT NULL)', v_kind.anonymized_column) ELSE 'NULL' END,
                CASE WHEN v_kind.anonymized_column IS NOT NULL
                     THEN format('count(*) FILTER (WHERE s.%I >= $2)', v_kind.anonymized_column) ELSE 'NULL' END,
                v_kind.rel,
                CASE WHEN v_kind.tenant_column IS NOT NULL AND v_type IS NOT NULL
                     THEN format('($1 IS NULL OR s.%I = CAST($1 AS %s))', v_kind.tenant_column, v_type)
                     ELSE 'true' END)
               INTO v_counts USING v_tenant, v_month;
        END IF;
        v_subjects := v_subjects || (jsonb_build_object(
            'kind', v_kind.kind,
            'table', format('%I.%I', v_kind.table_schema, v_kind.table_name),
            'exists', v_kind.rel IS NOT NULL,
            'area', v_kind.area,
            'tenant_column', v_kind.tenant_column,
            'identifying', to_jsonb(v_kind.identifying)) || v_counts);
    END LOOP;
    -- Every declared table and column: where, why, on what basis, for how long, to whom.
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'table', format('%I.%I', t.table_schema, t.table_name),
               'kind', t.kind,
               'exists', r.rel IS NOT NULL,
               'title_da', t.title_da, 'title_en', t.title_en,
               'link', t.link,
               'link_description', CASE t.link
                   WHEN 'root' THEN 'the subject''s own row'
                   WHEN 'direct' THEN format('rows whose %s is the subject''s key', t.link_column)
                   WHEN 'via' THEN format('rows whose %s points to %s.%s', t.link_column, t.parent_schema, t.parent_name)
                   WHEN 'owned' THEN format('the row the subject''s %s points to', t.link_column) END,
               'purpose', t.purpose, 'legal_basis', t.legal_basis, 'retention', t.retention,
               'recipients', t.recipients, 'source', t.source,
               'on_erase', t.on_erase,
               'erasure', CASE t.on_erase
                   WHEN 'delete' THEN 'rows deleted when the subject is erased'
                   WHEN 'anonymize' THEN 'rows kept, personal columns scrubbed when the subject is erased'
                   ELSE format('rows kept until %s%s + %s, then erased (deferred erasure); columns not part '
                               'of the record scrubbed at once', t.retain_column,
                               CASE WHEN t.retain_from_year_end THEN ' (end of its year)' ELSE '' END,
                               t.retain_period) END,
               'retain_column', t.retain_column, 'retain_period', t.retain_period::text,
               'retain_from_year_end', t.retain_from_year_end,
               'security', CASE WHEN r.rel IS NOT NULL THEN gdpr.compliance_table_security(r.rel) END,
               'columns', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'column', c.column_name, 'category', c.category,
                              'label_da', c.label_da, 'label_en', c.label_en,
                              'sensitive', c.sensitive, 'sensitive_when', c.sensitive_when,
                              'erase', c.erase, 'part_of_record', c.part_of_record,
                              'erasure', CASE
                                  WHEN t.on_erase = 'delete' THEN 'deleted with the row'
                                  WHEN t.on_erase = 'retain' AND c.part_of_record
                                      THEN 'kept with the record, then deleted with the row'
                                  ELSE CASE c.erase WHEN 'null' THEN 'emptied' WHEN 'constant' THEN 'replaced by '
                                      || quote_literal(c.erase_constant) WHEN 'redact' THEN 'the subject''s '
                                      || 'identifying values removed from the text' WHEN 'year_only' THEN
                                      'reduced to the year' WHEN 'hash' THEN 'replaced by a keyed hash'
                                      WHEN 'random' THEN 'replaced by a random value'
                                      ELSE 'kept (not identifying on its own)' END END)
                          ORDER BY a.attnum NULLS LAST, c.column_name)
                     FROM gdpr.catalog_column c
                     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = r.rel AND a.attname = c.column_name
                    WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name), '[]'))
           ORDER BY t.kind, t.position, t.table_schema, t.table_name), '[]')
      INTO v_tables
      FROM gdpr.catalog_table t
     CROSS JOIN LATERAL (SELECT to_regclass(format('%I.%I', t.table_schema, t.table_name)) AS rel) r;
    -- Security measures in force (Art. 32), read from the database as it is now.
    v_security := jsonb_build_object(
        'row_security', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                    'table', x->>'table', 'enabled', x->'security'->'row_security',
                                    'forced', x->'security'->'row_security_forced',
                                    'policies', x->'security'->'policies')), '[]')
                           FROM jsonb_array_elements(v_tables) x WHERE (x->>'exists')::boolean),
        'direct_table_access', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                    'table', x->>'table', 'grants', x->'security'->'direct_access')), '[]')
                                  FROM jsonb_array_elements(v_tables) x
                                 WHERE (x->>'exists')::boolean
                                   AND jsonb_array_length(x->'security'->'direct_access') > 0),
        'sensitive_columns', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                    'table', format('%I.%I', c.table_schema, c.table_name), 'column', c.column_name,
                                    'area', s.area, 'category', c.category,
                                    'masked', CASE WHEN c.sensitive THEN 'always'
                                                   ELSE format('rows where %s is true', c.sensitive_when) END)
                                    ORDER BY s.area, c.table_schema, c.table_name, c.column_name), '[]')
                                FROM gdpr.catalog_column c
                                JOIN gdpr.catalog_table t USING (table_schema, table_name)
                                JOIN gdpr.subject_kind s ON s.kind = t.kind
                               WHERE c.sensitive OR c.sensitive_when IS NOT NULL),
        'masking_default', 'Without a right, a sensitive value reads ''kræver login''; the vendor''s '
                           'own staff are blocked by default',
        'masking_views', (SELECT COALESCE(jsonb_agg(format('%I.%I', n.nspname, c.relname)
                                                    ORDER BY n.nspname, c.relname), '[]')
                            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relkind = 'v' AND n.nspname NOT IN ('gdpr', 'pg_catalog', 'information_schema')
                             AND pg_catalog.pg_get_viewdef(c.oid) ~ 'render_sensitive|sensitive_access'),
        'security_definer_functions', (
            SELECT jsonb_build_object('count', count(*),
                       'search_path_pinned', count(*) FILTER (WHERE EXISTS (
                           SELECT FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%')),
                       'executable_by_public', count(*) FILTER (WHERE pg_catalog.has_function_privilege(
                           'public', p.oid, 'EXECUTE')))
              FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'gdpr'::regnamespace AND p.prosecdef),
        'audit_trail', jsonb_build_object(
            'present', to_regclass('gdpr.audit_event') IS NOT NULL,
            'append_only', EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                    WHERE g.tgrelid = 'gdpr.audit_event'::regclass
                                      AND g.tgfoid = 'gdpr.refuse_audit_change()'::regprocedure
                                      AND g.tgenabled <> 'D'),
            'events', (SELECT count(*) FROM gdpr.audit_event e WHERE v_tenant IS NULL OR e.tenant = v_tenant),
            'first_event_at', (SELECT min(e.at) FROM gdpr.audit_event e WHERE v_tenant IS NULL OR e.tenant = v_tenant)));
    -- Staff groups and their right to see sensitive values (rights: docs/rights.md).
    IF to_regclass('gdpr.group_right') IS NOT NULL AND to_regclass('gdpr.staff_group') IS NOT NULL THEN
        SELECT jsonb_build_object('installed', true, 'groups', COALESCE(jsonb_agg(jsonb_build_object(
                   'group', g.group_role, 'tenant', g.tenant, 'area', r.area,
                   'view_sensitive', COALESCE(r.view_sensitive, 'not_allowed'),
                   'register_access', COALESCE(r.register_access, 'read'))
                   ORDER BY g.tenant, g.group_role, r.area), '[]'))
          INTO v_section
          FROM gdpr.staff_group g
          LEFT JOIN gdpr.group_right r ON r.group_role = g.group_role
         WHERE v_tenant IS NULL OR g.tenant = v_tenant;
    ELSE
        v_section := jsonb_build_object('installed', false, 'groups', '[]'::jsonb);
    END IF;
    v_security := v_security || jsonb_build_object('group_rights', v_section);
    -- Trigger rules that act on subjects, their schedule and their last run (docs/rules.md).
    IF to_regclass('gdpr.rule') IS NOT NULL AND to_regclass('gdpr.rule_run') IS NOT NULL THEN
        SELECT jsonb_build_object('installed', true, 'rules', COALESCE(jsonb_agg(jsonb_build_object(
                   'id', r.id, 'tenant', r.tenant, 'kind', r.kind, 'description', r.description,
                   'schedule', r.schedule, 'time_zone', r.time_zone, 'enabled', r.enabled,
                   'frequency_days', r.frequency_days,
                   'conditions', r.conditions, 'actions', r.actions,
                   'erases', EXISTS (SELECT FROM jsonb_array_elements(r.actions) a
                                      JOIN gdpr.rule_action ra ON ra.name = a->>'name' WHERE ra.erases),
                   'next_slot', r.next_slot,
                   'last_run', (SELECT jsonb_build_object('started_at', u.started_at, 'finished_at', u.finished_at,
                                           'trigger', u.trigger, 'changed', u.changed, 'errors', u.error_count)
                                  FROM gdpr.rule_run u WHERE u.rule_id = r.id
                                 ORDER BY u.started_at DESC LIMIT 1))
                   ORDER BY r.tenant, r.id), '[]'))
          INTO v_section
          FROM gdpr.rule r
         WHERE r.deleted_at IS NULL AND (v_tenant IS NULL OR r.tenant = v_tenant);
        IF to_regclass('gdpr.ticker') IS NOT NULL THEN
            v_section := v_section || jsonb_build_object('last_tick_at', (SELECT k.last_tick_at FROM gdpr.ticker k));
        END IF;
    ELSE
        v_section := jsonb_build_object('installed', false, 'rules', '[]'::jsonb);
    END IF;
    v_security := v_security || jsonb_build_object('rules', v_section);
    -- Figures: subjects, anonymised this month, deferred erasures, legal holds by type.
    v_figures := jsonb_build_object(
        'subjects', (SELECT jsonb_object_agg(x->>'kind', x->'subjects') FROM jsonb_array_elements(v_subjects) x),
        'anonymised_this_month', (SELECT jsonb_object_agg(x->>'kind', x->'anonymised_this_month')
                                    FROM jsonb_array_elements(v_subjects) x));
    IF to_regprocedure('gdpr.pending_deferred_erasures(text, text, text)') IS NOT NULL THEN
        -- the erasure engine's own view of what is pending, for the same club
        SELECT jsonb_build_object('installed', true, 'subjects', count(DISTINCT (d.kind, d.tenant, d.subject_key)),
                                  'rows', COALESCE(sum(d.rows_pending), 0), 'next_due_at', min(d.next_due_at))
          INTO v_section
          FROM gdpr.pending_deferred_erasures(NULL, NULL, v_tenant) d;
    ELSE
        v_section := jsonb_build_object('installed', false);
    END IF;
    v_figures := v_figures || jsonb_build_object('pending_deferred_erasures', v_section);
    IF to_regclass('gdpr.legal_hold') IS NOT NULL THEN
        SELECT jsonb_build_object('installed', true, 'by_type', COALESCE(jsonb_object_agg(h.hold_type, h.n), '{}'))
          INTO v_section
          FROM (SELECT l.hold_type, count(*) AS n FROM gdpr.legal_hold l
                 WHERE gdpr.hold_active(l, now())
                   AND (v_tenant IS NULL OR l.tenant = v_tenant)
                 GROUP BY l.hold_type) h;
    ELSE
        v_section := jsonb_build_object('installed', false, 'by_type', '{}'::jsonb);
    END IF;
    v_figures := v_figures || jsonb_build_object('open_legal_holds', v_section);
    IF to_regclass('gdpr.erasure_ledger') IS NOT NULL THEN
        v_figures := v_figures || jsonb_build_object('erasures_this_month', (
            SELECT count(*) FROM gdpr.erasure_ledger l
             WHERE l.erased_at >= v_month AND (v_tenant IS NULL OR l.tenant = v_tenant)));
    END IF;
    -- Anonymous, not pseudonymous (Recital 26): per kind, the smallest group of the
    -- club's erased subjects sharing their kept quasi-identifiers (gdpr.k_anonymity.sql).
    IF to_regprocedure('gdpr.k_anonymity_summary(text, text)') IS NOT NULL THEN
        v_figures := v_figures || jsonb_build_object('k_anonymity', (
            SELECT COALESCE(jsonb_object_agg(s.kind, gdpr.k_anonymity_summary(s.kind, v_tenant) - 'kind' - 'tenant'),
                            '{}')
              FROM gdpr.subject_kind s
             WHERE to_regclass(format('%I.%I', s.table_schema, s.table_name)) IS NOT NULL));
        SELECT v_warnings || COALESCE(jsonb_agg(to_jsonb(w.text)), '[]') INTO v_warnings
          FROM (SELECT format('Erased %s subjects can be singled out: the smallest group sharing their kept values (%s) '
                              'is k = %s, below %s', k.key, k.value->'quasi_identifiers', k.value->>'k_min',
                              k.value->>'target') AS text
                  FROM jsonb_each(v_figures->'k_anonymity') k
                 WHERE (k.value->>'k_min')::integer < (k.value->>'target')::integer
                UNION ALL
                SELECT format('Erased %s subjects keep a keyed hash of %s: linkable by whoever holds the key', k.key,
                              k.value->'linkable')
                  FROM jsonb_each(v_figures->'k_anonymity') k
                 WHERE jsonb_array_length(k.value->'linkable') > 0 AND (k.value->>'erased')::integer > 0) w;
    END IF;
    v_transfers := jsonb_build_object(
        'statement', COALESCE(concat_ws(' ', v_controller.transfers, v_processor.transfers),
                              'No transfer to a third country is recorded'),
        'controller', v_controller.transfers, 'processor', v_processor.transfers,
        'catalog', (SELECT COALESCE(jsonb_agg(jsonb_build_object('table', x->>'table', 'recipients', x->>'recipients')),
                                    '[]')
                      FROM jsonb_array_elements(v_tables) x
                     WHERE x->>'recipients' ~* '(third.countr|tredjeland|outside the (EU|EEA)|uden for (EU|EØS)|USA)'));
    IF v_controller.transfers IS NULL AND v_processor.transfers IS NULL THEN
        v_transfers := v_transfers || jsonb_build_object('statement', CASE
            WHEN jsonb_array_length(v_transfers->'catalog') > 0
            THEN 'Recipients named in the catalog may be outside the EU/EEA: see the tables listed'
            ELSE 'No transfer to a third country: no recipient outside the EU/EEA is recorded' END);
    END IF;
    -- The register of data-subject requests (Art. 12(3)), restrictions (Art. 18),
    -- withdrawn consents (Art. 7(3)) and children (Databeskyttelsesloven §6).
    v_figures := v_figures || jsonb_build_object(
        'requests', gdpr.request_figures(v_tenant, now()),
        'active_restrictions', (SELECT count(*) FROM gdpr.processing_restriction r
                                 WHERE r.lifted_at IS NULL AND (r.until IS NULL OR r.until > now())
                                   AND (v_tenant IS NULL OR r.tenant = v_tenant)),
        'consents_withdrawn_this_month', (SELECT count(*) FROM gdpr.consent_withdrawal w
                                           WHERE w.withdrawn_at >= v_month
                                             AND (v_tenant IS NULL OR w.tenant = v_tenant)),
        'minors', gdpr.minor_figures(v_tenant, current_date));
    IF v_controller.contact IS NULL THEN
        v_warnings := v_warnings || to_jsonb('The controller''s contact details are not recorded '
                                             '(pgdpr controller set)'::text);
    END IF;
    IF v_controller.dpo_contact IS NULL THEN
        v_warnings := v_warnings || to_jsonb('No data-protection contact is recorded (pgdpr controller set)'::text);
    END IF;
    IF v_processor.contact IS NULL THEN
        v_warnings := v_warnings || to_jsonb('The processor''s contact details are not recorded '
                                             '(pgdpr controller set --processor)'::text);
    END IF;
    -- Storage limitation (Art. 5(1)(e)): a club whose data no enabled rule erases keeps
    -- it for ever, whatever the catalog's retention text says
    IF v_tenant IS NOT NULL AND NOT EXISTS (
           SELECT FROM gdpr.rule r, pg_catalog.jsonb_array_elements(r.actions) a
             JOIN gdpr.rule_action ra ON ra.name = a.value ->> 'name'
            WHERE r.tenant = v_tenant AND r.enabled AND r.deleted_at IS NULL AND ra.erases) THEN
        v_warnings := v_warnings || to_jsonb(format('Club %s has no enabled rule that erases: personal data is '
                                                    'kept until someone erases it by hand (GDPR Art. 5(1)(e); '
                                                    'pgdpr rules create)', v_tenant));
    END IF;
    IF (v_figures #>> '{requests,overdue}')::bigint > 0 THEN
        v_warnings := v_warnings || to_jsonb(format('%s data-subject request(s) are overdue',
                                                    v_figures #>> '{requests,overdue}'));
    END IF;
    v_record := jsonb_build_object(
        'generated_at', now(),
        'database', current_database(),
        'pgdpr_version', (SELECT i.pgdpr_version FROM gdpr.install_state i),
        'tenant', v_tenant,
        'controller', jsonb_build_object(
            'tenant', v_tenant,
            'name', COALESCE(v_controller.name, gdpr.tenant_name(v_tenant),
                             CASE WHEN v_tenant IS NOT NULL THEN 'club ' || v_tenant END,
                             NULLIF(current_setting('pgdpr.controller_name', true), ''),
                             'every club (tenant) of database ' || current_database()),
            'contact', v_controller.contact,
            'role', 'Data controller (GDPR Art. 4(7), 24): decides why and how the personal data is processed'),
        'data_protection_contact', jsonb_build_object('name', v_controller.dpo_name,
                                                      'contact', v_controller.dpo_contact),
        'processor', jsonb_build_object(
            'name', COALESCE(v_processor.name, NULLIF(current_setting('pgdpr.processor_name', true), ''),
                             'the vendor operating database ' || current_database()),
            'contact', v_processor.contact,
            'data_protection_contact', jsonb_build_object('name', v_processor.dpo_name,
                                                          'contact', v_processor.dpo_contact),
            'role', 'Data processor (GDPR Art. 28): hosts and operates the system on the controller''s '
                    || 'documented instructions; one club never sees another club''s data'),
        'subject_kinds', v_subjects,
        'tables', v_tables,
        'purposes', (SELECT COALESCE(jsonb_agg(jsonb_build_object('purpose', p.purpose, 'legal_basis', p.legal_basis,
                                         'tables', p.tables) ORDER BY p.first), '[]')
                       FROM (SELECT x->>'purpose' AS purpose, x->>'legal_basis' AS legal_basis,
                                    jsonb_agg(x->>'table' ORDER BY i) AS tables, min(i) AS first
                               FROM jsonb_array_elements(v_tables) WITH ORDINALITY e(x, i)
                              GROUP BY 1, 2) p),
        'data_categories', (SELECT COALESCE(jsonb_agg(jsonb_build_object('category', g.category,
                                         'sensitive', g.sensitive, 'columns', g.columns) ORDER BY g.category), '[]')
                              FROM (SELECT c.category, bool_or(c.sensitive OR c.sensitive_when IS NOT NULL) AS sensitive,
                                           jsonb_agg(format('%I.%I.%I', c.table_schema, c.table_name, c.column_name)
                                                     ORDER BY c.table_schema, c.table_name, c.column_name) AS columns
                                      FROM gdpr.catalog_column c GROUP BY c.category) g),
        'recipients', (SELECT COALESCE(jsonb_agg(jsonb_build_object('recipients', g.recipients, 'tables', g.tables)
                                       ORDER BY g.recipients), '[]')
                         FROM (SELECT x->>'recipients' AS recipients, jsonb_agg(x->>'table') AS tables
                                 FROM jsonb_array_elements(v_tables) x GROUP BY 1) g),
        -- Transfers to third countries (Art. 30(1)(e), 44-49): what the controller and the
        -- processor state, and every recipient of the catalog that names one.
        'transfers', v_transfers,
        'retention', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                  'category', c->>'category', 'table', x->>'table', 'column', c->>'column',
                                  'retention', x->>'retention', 'on_erase', x->>'on_erase', 'erasure', c->>'erasure',
                                  'deadline', CASE WHEN x->>'on_erase' = 'retain' AND (c->>'part_of_record')::boolean
                                                   THEN x->>'erasure' ELSE 'when the subject is erased: '
                                                   || (x->>'retention') END)
                                  ORDER BY c->>'category', x->>'table', c->>'column'), '[]')
                        FROM jsonb_array_elements(v_tables) x, jsonb_array_elements(x->'columns') c),
        -- Sensitive columns and the legal basis the catalog declares for each (Art. 9(2),
        -- Databeskyttelsesloven §11); the catalog refuses such a column without one.
        'special_categories', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                       'table', format('%I.%I', c.table_schema, c.table_name), 'column', c.column_name,
                                       'category', c.category,
                                       'masked', CASE WHEN c.sensitive THEN 'always'
                                                      WHEN c.sensitive_when IS NOT NULL
                                                      THEN format('rows where %s is true', c.sensitive_when) END,
                                       'basis', b.basis)
                                       ORDER BY c.table_schema, c.table_name, c.column_name), '[]')
                                 FROM gdpr.catalog_column c
                                 LEFT JOIN gdpr.column_legal_basis b USING (table_schema, table_name, column_name)
                                WHERE gdpr.column_needs_basis(c.category, c.sensitive, c.sensitive_when)),
        -- What the catalog declares not to be personal data, and why (gdpr.not_personal)
        'not_personal', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                 'table', format('%I.%I', n.table_schema, n.table_name),
                                 'column', NULLIF(n.column_name, ''), 'reason', n.reason)
                                 ORDER BY n.table_schema, n.table_name, n.column_name), '[]')
                           FROM gdpr.not_personal n),
        -- Art. 30(1)(g): the technical measures in force (the security section, read
        -- from the database) and the organisational ones the controller states.
        'measures', jsonb_build_object(
            'technical', jsonb_build_array(
                'Row security per club on every table holding personal data (forced, no bypass for staff roles)',
                'Sensitive values (CPR, bank, sensitive custom fields) masked per staff group right',
                'Append-only audit trail of every report, export, erasure, hold, request and rights change',
                'Erasure proof and an erasure ledger re-applied after a backup restore',
                'Engine functions run with a pinned search_path and are granted per role'),
            'organisational', COALESCE(v_controller.measures,
                'Staff groups with rights per area; requests logged with their deadline; '
                || 'this record reviewed when the catalog changes')),
        'security', v_security,
        'figures', v_figures,
        'warnings', v_warnings);
    -- Art. 30(1)(a)-(g) in one place, each point naming what answers it.
    v_record := v_record || jsonb_build_object('art30', jsonb_build_object(
        'a_controller', jsonb_build_object('controller', v_record->'controller',
                                           'data_protection_contact', v_record->'data_protection_contact',
                                           'processor', v_record->'processor'),
        'b_purposes', v_record->'purposes',
        'c_subject_categories', (SELECT COALESCE(jsonb_agg(x->>'kind'), '[]') FROM jsonb_array_elements(v_subjects) x),
        'c_data_categories', (SELECT COALESCE(jsonb_agg(x->>'category'), '[]')
                                FROM jsonb_array_elements(v_record->'data_categories') x),
        'd_recipients', v_record->'recipients',
        'e_transfers', v_transfers->>'statement',
        'f_retention', v_record->'retention',
        'g_measures', v_record->'measures'));
    PERFORM gdpr.audit('compliance_report', NULL, v_tenant, NULL, 'GDPR Art. 30 record of processing',
                       jsonb_build_object('tables', jsonb_array_length(v_tables)));
    RETURN v_record;
END $_$;
ALTER FUNCTION gdpr.compliance_record(p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.compliance_record(p_tenant text) IS 'GDPR Art. 30 record of processing for a club (or every club, admins only): built from the catalog and the live database; audited';
CREATE FUNCTION gdpr.compliance_table_security(p_table regclass) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'row_security', c.relrowsecurity,
        'row_security_forced', c.relforcerowsecurity,
        'policies', COALESCE((SELECT jsonb_agg(p.polname ORDER BY p.polname)
                                FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), '[]'),
        -- roles other than the owner and the engine holding privileges on the base table
        'direct_access', COALESCE((
            SELECT jsonb_agg(jsonb_build_object('role', g.grantee, 'privileges', g.privileges) ORDER BY g.grantee)
              FROM (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END
                           AS grantee,
                           string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) AS privileges
                      FROM pg_catalog.aclexplode(c.relacl) x
                     WHERE x.grantee <> c.relowner
                       AND x.grantee <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = 'pgdpr_owner')
                     GROUP BY x.grantee) g), '[]'))
      FROM pg_catalog.pg_class c WHERE c.oid = p_table
$$;
ALTER FUNCTION gdpr.compliance_table_security(p_table regclass) OWNER TO postgres;
CREATE FUNCTION gdpr.condition_club_birthday_today(p_alias text, p_params jsonb, p_params_ref text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    RETURN format(
        '%1$I.birth_date IS NOT NULL AND to_char(%1$I.birth_date, ''MM-DD'') = ANY (ARRAY['
        'to_char(($2 AT TIME ZONE $4)::date, ''MM-DD''), '
        'CASE WHEN to_char(($2 AT TIME ZONE $4)::date, ''MM-DD'') = ''02-28'''
        ' AND NOT to_char(($2 AT TIME ZONE $4)::date + 1, ''MM-DD'') = ''02-29'' THEN ''02-29'' END])',
        p_alias);
END $_$;
ALTER FUNCTION gdpr.condition_club_birthday_today(p_alias text, p_params jsonb, p_params_ref text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.condition_club_birthday_today(p_alias text, p_params jsonb, p_params_ref text) IS 'Condition birthday_today (club schema): the customer''s birthday is today in the rule''s time zone';
CREATE FUNCTION gdpr.condition_club_can_be_anonymised(p_alias text, p_params jsonb, p_params_ref text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_parts text[] := '{}';
    v_months text[] := '{}';
    v_check record;
BEGIN
    FOR v_check IN
        SELECT * FROM (VALUES
            ('no_account_movement_months', 'club', 'account_movements', 'booked_at'),
            ('no_activity_months', 'club', 'activities', 'occurred_at'),
            ('no_reservation_months', 'club', 'reservations', 'starts_at')) AS t(param, sch, tab, col)
    LOOP
        CONTINUE WHEN jsonb_typeof(p_params -> v_check.param) IS DISTINCT FROM 'number';
        v_parts := v_parts || format(
            'NOT EXISTS (SELECT FROM %I.%I x WHERE x.club_id = %I.club_id AND x.customer_id = %I.id'
            ' AND x.%I > $2 - make_interval(months => (%s ->> %L)::integer))',
            v_check.sch, v_check.tab, p_alias, p_alias, v_check.col, p_params_ref, v_check.param);
        v_months := v_months || format('(%s ->> %L)::integer', p_params_ref, v_check.param);
    END LOOP;
    IF cardinality(v_months) > 0 THEN
        -- the day of joining, in the rule's time zone ($4)
        v_parts := v_parts || format(
            '%I.member_since <= (($2 AT TIME ZONE $4) - make_interval(months => GREATEST(%s)))::date',
            p_alias, array_to_string(v_months, ', '));
    END IF;
    RETURN COALESCE(NULLIF(array_to_string(v_parts, ' AND '), ''), 'true');
END $_$;
ALTER FUNCTION gdpr.condition_club_can_be_anonymised(p_alias text, p_params jsonb, p_params_ref text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.condition_club_can_be_anonymised(p_alias text, p_params jsonb, p_params_ref text) IS 'Condition can_be_anonymised (club schema): no account movement, activity, reservation within x months, not joined within the longest';
CREATE FUNCTION gdpr.consent_withdrawn_for_template(p_kind text, p_tenant text, p_subject_key text, p_template text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_ct gdpr.consent_table;
    v_withdrawal record;
    v_types record;
    v_again boolean;
BEGIN
    SELECT w.consent_type, max(w.withdrawn_at) AS withdrawn_at INTO v_withdrawal
      FROM gdpr.consent_withdrawal w
      JOIN gdpr.consent_cover c ON c.kind = w.kind AND c.consent_type = w.consent_type
     WHERE w.kind = p_kind AND w.tenant = COALESCE(p_tenant, '') AND w.subject_key = p_subject_key
       AND p_template = ANY (c.stop_templates)
     GROUP BY w.consent_type
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO v_ct FROM gdpr.consent_table c WHERE c.kind = p_kind;
    IF v_ct.given_column IS NULL THEN
        RETURN true;
    END IF;
    -- given again after the withdrawal: an active consent row newer than it
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    EXECUTE format('SELECT EXISTS (SELECT FROM %I.%I t WHERE %s AND t.%I::text = $3 AND t.%I IS NULL AND t.%I > $4)',
                   v_ct.table_schema, v_ct.table_name,
                   gdpr.subject_filter(v_ct.table_schema, v_ct.table_name, 't', format('= $1::%s', v_types.key_type),
                                       format('= $2::%s', v_types.tenant_type)),
                   v_ct.type_column, v_ct.withdrawn_column, v_ct.given_column)
       INTO v_again USING p_subject_key, NULLIF(p_tenant, ''), v_withdrawal.consent_type, v_withdrawal.withdrawn_at;
    RETURN NOT v_again;
END $_$;
ALTER FUNCTION gdpr.consent_withdrawn_for_template(p_kind text, p_tenant text, p_subject_key text, p_template text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.create_rule(p_tenant text, p_description text, p_schedule text, p_frequency text DEFAULT 'once'::text, p_conditions jsonb DEFAULT '[]'::jsonb, p_actions jsonb DEFAULT '[]'::jsonb, p_max_subjects_per_run integer DEFAULT 1000, p_kind text DEFAULT 'customer'::text, p_time_zone text DEFAULT NULL::text, p_enabled boolean DEFAULT true) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule;
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'name the club (tenant) the rule is for' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM gdpr.rule_require_register_access(COALESCE(p_kind, 'customer'));
    v_rule.tenant := v_tenant;
    v_rule.kind := COALESCE(p_kind, 'customer');
    v_rule.description := p_description;
    v_rule.schedule := p_schedule;
    v_rule.time_zone := COALESCE(p_time_zone, gdpr.tenant_time_zone(v_tenant));
    v_rule.frequency_days := gdpr.rule_frequency_days(p_frequency);
    v_rule.conditions := p_conditions;
    v_rule.actions := p_actions;
    v_rule.max_subjects_per_run := COALESCE(p_max_subjects_per_run, 1000);
    v_rule := gdpr.rule_check(v_rule);
    PERFORM gdpr.rule_require_erasure_right(v_rule.actions, 'create');
    IF v_rule.max_subjects_per_run > gdpr.rule_staff_max_per_run() AND NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'max subjects per run above % needs an admin, not %', gdpr.rule_staff_max_per_run(),
            v_rule.max_subjects_per_run USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO gdpr.rule (tenant, kind, description, schedule, time_zone, frequency_days, conditions, actions,
                           max_subjects_per_run, enabled, created_by, author, next_slot)
    VALUES (v_rule.tenant, v_rule.kind, btrim(v_rule.description), v_rule.schedule, v_rule.time_zone,
            v_rule.frequency_days, v_rule.conditions, v_rule.actions, v_rule.max_subjects_per_run,
            COALESCE(p_enabled, true), gdpr.caller(), gdpr.caller(), v_rule.next_slot)
    RETURNING id INTO v_rule.id;
    PERFORM gdpr.audit('rule_create', v_rule.kind, v_rule.tenant, NULL, NULL, jsonb_build_object(
        'rule_id', v_rule.id, 'schedule', v_rule.schedule, 'time_zone', v_rule.time_zone,
        'frequency_days', v_rule.frequency_days, 'conditions', v_rule.conditions, 'actions', v_rule.actions,
        'max_subjects_per_run', v_rule.max_subjects_per_run, 'enabled', COALESCE(p_enabled, true),
        'author', gdpr.caller()));
    RETURN v_rule.id;
END $$;
ALTER FUNCTION gdpr.create_rule(p_tenant text, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_kind text, p_time_zone text, p_enabled boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.create_rule(p_tenant text, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_kind text, p_time_zone text, p_enabled boolean) IS 'Create a trigger rule (docs/rules.md): club, name, schedule, frequency, conditions, actions, per-run cap; audited';
CREATE FUNCTION gdpr.create_staff_group(p_tenant text, p_group name, p_description text DEFAULT NULL::text) RETURNS name
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
END $_$;
ALTER FUNCTION gdpr.create_staff_group(p_tenant text, p_group name, p_description text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.create_staff_group(p_tenant text, p_group name, p_description text) IS 'Create a staff group (a NOLOGIN role) of one club; needs CREATEROLE';
CREATE FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer, p_what text, p_names text[] DEFAULT NULL::text[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_part text;
    v_m text[];
    v_from integer;
    v_to integer;
    v_step integer;
    v_values integer[] := '{}';
    v_field text := lower(p_field);
BEGIN
    IF p_names IS NOT NULL THEN
        FOR i IN 1 .. array_length(p_names, 1) LOOP
            v_field := replace(v_field, p_names[i], (p_min + i - 1)::text);
        END LOOP;
    END IF;
    FOREACH v_part IN ARRAY string_to_array(v_field, ',') LOOP
        v_m := regexp_match(v_part, '^(\*|([0-9]{1,2})(-([0-9]{1,2}))?)(/([0-9]{1,2}))?$');
        IF v_m IS NULL THEN
            RAISE EXCEPTION 'unparseable schedule: % field "%" is not a cron field (*, n, a-b, */n, a-b/n, lists)',
                p_what, p_field USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF v_m[1] = '*' THEN
            v_from := p_min; v_to := p_max;
        ELSE
            v_from := v_m[2]::integer;
            v_to := COALESCE(v_m[4]::integer, CASE WHEN v_m[6] IS NULL THEN v_from ELSE p_max END);
        END IF;
        v_step := COALESCE(v_m[6]::integer, 1);
        IF v_from < p_min OR v_to > p_max OR v_from > v_to OR v_step < 1 THEN
            RAISE EXCEPTION 'unparseable schedule: % field "%" is out of range %-%', p_what, p_field, p_min, p_max
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_values := v_values || ARRAY(SELECT generate_series(v_from, v_to, v_step));
    END LOOP;
    IF p_what = 'day-of-week' THEN
        v_values := array_replace(v_values, 7, 0);
    END IF;
    RETURN ARRAY(SELECT DISTINCT v FROM unnest(v_values) v ORDER BY v);
END $_$;
ALTER FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer, p_what text, p_names text[]) OWNER TO postgres;
CREATE FUNCTION gdpr.current_tenant() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT gdpr.role_tenant((SELECT u.oid FROM pg_catalog.pg_roles u
                              WHERE u.rolname OPERATOR(pg_catalog.=) CURRENT_USER))
$$;
ALTER FUNCTION gdpr.current_tenant() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.current_tenant() IS 'Tenant key of current_user (from membership of a pgdpr_tenant_<key> role), NULL if none';
CREATE FUNCTION gdpr.declare_birth_date(p_kind text, p_column name) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_entry text := format('subject.%s.birth_date', p_kind);
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalog entry %: unknown subject kind %', v_entry, quote_literal(p_kind)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF gdpr.checked_column(gdpr.checked_table(v_s.table_schema, v_s.table_name, v_entry), p_column, v_entry)
       NOT IN ('date'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %: column % must be a date', v_entry, quote_ident(p_column)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.subject_birth_date (kind, column_name) VALUES (p_kind, p_column)
    ON CONFLICT (kind) DO UPDATE SET column_name = excluded.column_name;
END $$;
ALTER FUNCTION gdpr.declare_birth_date(p_kind text, p_column name) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_birth_date(p_kind text, p_column name) IS 'Declare the birth-date column of a subject kind (children are flagged: Databeskyttelsesloven §6)';
CREATE FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text DEFAULT 'null'::text, p_sensitive boolean DEFAULT false, p_erase_constant text DEFAULT NULL::text, p_part_of_record boolean DEFAULT true, p_label_da text DEFAULT NULL::text, p_label_en text DEFAULT NULL::text, p_sensitive_when name DEFAULT NULL::name) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := format('column %s.%s.%s', p_schema, p_table, p_column);
    v_oid oid;
    v_type regtype;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table) THEN
        RAISE EXCEPTION 'catalog entry %: table %.% is not declared', v_entry,
            quote_ident(p_schema), quote_ident(p_table);
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    v_type := gdpr.checked_column(v_oid, p_column, v_entry);
    IF p_category IS NULL OR p_category NOT IN ('name', 'address', 'contact', 'national_id', 'bank',
            'birthdate', 'free_text', 'photo', 'identifier', 'other') THEN
        RAISE EXCEPTION 'catalog entry %: unknown category %', v_entry, quote_nullable(p_category);
    END IF;
    IF p_erase IS NULL OR p_erase NOT IN ('null', 'constant', 'redact', 'year_only', 'hash', 'random', 'keep') THEN
        RAISE EXCEPTION 'catalog entry %: unknown erase strategy %', v_entry, quote_nullable(p_erase);
    END IF;
    IF (p_erase = 'constant') <> (p_erase_constant IS NOT NULL) THEN
        RAISE EXCEPTION 'catalog entry %: erase strategy constant needs a value (constant:VALUE)', v_entry;
    END IF;
    IF p_erase = 'year_only' AND v_type NOT IN ('date'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %: year_only needs a date column, not %', v_entry, v_type;
    END IF;
    IF p_erase IN ('redact', 'hash', 'random', 'constant')
       AND v_type NOT IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype)
       AND NOT (p_erase = 'redact' AND v_type IN ('jsonb'::regtype, 'json'::regtype)) THEN
        RAISE EXCEPTION 'catalog entry %: erase strategy % needs a text column, not %', v_entry, p_erase, v_type;
    END IF;
    IF p_sensitive_when IS NOT NULL
       AND gdpr.checked_column(v_oid, p_sensitive_when, v_entry || '.sensitive_when') <> 'boolean'::regtype THEN
        RAISE EXCEPTION 'catalog entry %: sensitive_when column % must be boolean', v_entry,
            quote_ident(p_sensitive_when);
    END IF;
    INSERT INTO gdpr.catalog_column AS c
        (table_schema, table_name, column_name, category, sensitive, sensitive_when, erase,
         erase_constant, part_of_record, label_da, label_en)
    VALUES (p_schema, p_table, p_column, p_category, COALESCE(p_sensitive, false), p_sensitive_when,
            p_erase, p_erase_constant, COALESCE(p_part_of_record, true), p_label_da, p_label_en)
    ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET
        category = excluded.category, sensitive = excluded.sensitive,
        sensitive_when = excluded.sensitive_when, erase = excluded.erase,
        erase_constant = excluded.erase_constant, part_of_record = excluded.part_of_record,
        label_da = excluded.label_da, label_en = excluded.label_en
    WHERE (c.category, c.sensitive, c.sensitive_when, c.erase, c.erase_constant, c.part_of_record, c.label_da,
           c.label_en)
          IS DISTINCT FROM (excluded.category, excluded.sensitive, excluded.sensitive_when, excluded.erase,
           excluded.erase_constant, excluded.part_of_record, excluded.label_da, excluded.label_en);
END $$;
ALTER FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) IS 'Declare a personal column: category, sensitivity and erasure strategy';
CREATE FUNCTION gdpr.declare_column_basis(p_schema name, p_table name, p_column name, p_basis text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := format('column %s.%s.%s', p_schema, p_table, p_column);
BEGIN
    PERFORM gdpr.checked_column(gdpr.checked_table(p_schema, p_table, v_entry), p_column, v_entry);
    IF p_basis IS NULL OR length(btrim(p_basis)) NOT BETWEEN 5 AND 500 THEN
        RAISE EXCEPTION 'catalog entry %: basis must name the legal basis (5 to 500 characters)', v_entry
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.column_legal_basis (table_schema, table_name, column_name, basis)
    VALUES (p_schema, p_table, p_column, btrim(p_basis))
    ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET basis = excluded.basis;
END $$;
ALTER FUNCTION gdpr.declare_column_basis(p_schema name, p_table name, p_column name, p_basis text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_column_basis(p_schema name, p_table name, p_column name, p_basis text) IS 'Declare the legal basis of a sensitive column (GDPR Art. 9(2), Databeskyttelsesloven §11), before the column';
CREATE FUNCTION gdpr.declare_consent_cover(p_kind text, p_consent_type text, p_erase_columns text[] DEFAULT '{}'::text[], p_stop_templates text[] DEFAULT '{}'::text[], p_description text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := format('consent.%s.covers.%s', p_kind, p_consent_type);
    v_column text;
    v_parts text[];
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.consent_table c WHERE c.kind = p_kind) THEN
        RAISE EXCEPTION 'catalog entry %: subject % has no declared consent table', v_entry, p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cardinality(COALESCE(p_erase_columns, '{}')) + cardinality(COALESCE(p_stop_templates, '{}')) = 0 THEN
        RAISE EXCEPTION 'catalog entry %: a consent covers at least one column (erase) or message (stop_messages)',
            v_entry USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH v_column IN ARRAY COALESCE(p_erase_columns, '{}') LOOP
        v_parts := string_to_array(v_column, '.');
        IF cardinality(v_parts) <> 3 OR NOT EXISTS (
            SELECT FROM gdpr.catalog_column c JOIN gdpr.catalog_table t USING (table_schema, table_name)
             JOIN pg_catalog.pg_attribute a
               ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
             WHERE c.table_schema = v_parts[1] AND c.table_name = v_parts[2] AND c.column_name = v_parts[3]
               AND t.kind = p_kind AND NOT a.attnotnull) THEN
            RAISE EXCEPTION 'catalog entry %: % is not a declared, nullable column (schema.table.column) of subject %',
                v_entry, v_column, p_kind USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    INSERT INTO gdpr.consent_cover (kind, consent_type, erase_columns, stop_templates, description)
    VALUES (p_kind, p_consent_type, COALESCE(p_erase_columns, '{}'), COALESCE(p_stop_templates, '{}'), p_description)
    ON CONFLICT (kind, consent_type) DO UPDATE SET erase_columns = excluded.erase_columns,
        stop_templates = excluded.stop_templates, description = excluded.description;
END $$;
ALTER FUNCTION gdpr.declare_consent_cover(p_kind text, p_consent_type text, p_erase_columns text[], p_stop_templates text[], p_description text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_consent_cover(p_kind text, p_consent_type text, p_erase_columns text[], p_stop_templates text[], p_description text) IS 'Declare what withdrawing a consent type erases (columns) or stops (message templates)';
CREATE FUNCTION gdpr.declare_consent_table(p_kind text, p_schema name, p_table name, p_type_column name, p_withdrawn_column name, p_given_column name DEFAULT NULL::name, p_guardian_column name DEFAULT NULL::name) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := format('consent.%s', p_kind);
    v_oid oid;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.catalog_table t WHERE t.table_schema = p_schema AND t.table_name = p_table
                      AND t.kind = p_kind AND t.link = 'direct') THEN
        RAISE EXCEPTION 'catalog entry %: %.% is not a declared table of subject % linked by a direct column',
            v_entry, quote_ident(p_schema), quote_ident(p_table), p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    PERFORM gdpr.checked_column(v_oid, p_type_column, v_entry || '.type');
    IF gdpr.checked_column(v_oid, p_withdrawn_column, v_entry || '.withdrawn')
       NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %.withdrawn: column % must be a date or timestamp', v_entry,
            quote_ident(p_withdrawn_column) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_given_column IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_given_column, v_entry || '.given');
    END IF;
    IF p_guardian_column IS NOT NULL
       AND gdpr.checked_column(v_oid, p_guardian_column, v_entry || '.guardian') <> 'text'::regtype THEN
        RAISE EXCEPTION 'catalog entry %.guardian: column % must be text', v_entry, quote_ident(p_guardian_column)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.consent_table (kind, table_schema, table_name, type_column, withdrawn_column, given_column,
                                    guardian_column)
    VALUES (p_kind, p_schema, p_table, p_type_column, p_withdrawn_column, p_given_column, p_guardian_column)
    ON CONFLICT (kind) DO UPDATE SET table_schema = excluded.table_schema, table_name = excluded.table_name,
        type_column = excluded.type_column, withdrawn_column = excluded.withdrawn_column,
        given_column = excluded.given_column, guardian_column = excluded.guardian_column;
END $$;
ALTER FUNCTION gdpr.declare_consent_table(p_kind text, p_schema name, p_table name, p_type_column name, p_withdrawn_column name, p_given_column name, p_guardian_column name) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_consent_table(p_kind text, p_schema name, p_table name, p_type_column name, p_withdrawn_column name, p_given_column name, p_guardian_column name) IS 'Declare the table holding a subject kind''s consents: type, withdrawn-at, given-at and guardian columns';
CREATE FUNCTION gdpr.declare_not_personal(p_schema name, p_table name, p_column name, p_reason text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := format('not_personal %s.%s%s', p_schema, p_table,
                           CASE WHEN p_column IS NOT NULL THEN '.' || p_column ELSE '' END);
    v_oid oid := gdpr.checked_table(p_schema, p_table, v_entry);
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'role % may not change the catalog', gdpr.caller() USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_column IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_column, v_entry);
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'catalog entry %: say why it is not personal data', v_entry
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM gdpr.catalog_table t WHERE t.table_schema = p_schema AND t.table_name = p_table
                  AND p_column IS NULL)
       OR EXISTS (SELECT FROM gdpr.catalog_column c WHERE c.table_schema = p_schema AND c.table_name = p_table
                     AND c.column_name = p_column) THEN
        RAISE EXCEPTION 'catalog entry %: it is declared as personal data', v_entry
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.not_personal AS n (table_schema, table_name, column_name, reason)
    VALUES (p_schema, p_table, COALESCE(p_column, ''), p_reason)
    ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET reason = excluded.reason
    WHERE n.reason IS DISTINCT FROM excluded.reason;
END $$;
ALTER FUNCTION gdpr.declare_not_personal(p_schema name, p_table name, p_column name, p_reason text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.declare_not_personal(p_schema name, p_table name, p_column name, p_reason text) IS 'Declare a table or column not to hold personal data, with the reason';
CREATE FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name DEFAULT NULL::name, p_identifying name[] DEFAULT '{}'::name[], p_anonymized_column name DEFAULT NULL::name, p_area text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_entry text := format('subject.%s', p_kind);
    v_oid oid;
    v_column name;
BEGIN
    IF p_kind IS NULL OR p_kind !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'catalog entry %: a subject kind is lower-case letters, digits and _', v_entry;
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    PERFORM gdpr.checked_column(v_oid, p_key, v_entry || '.key');
    IF p_tenant IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_tenant, v_entry || '.tenant');
    END IF;
    FOREACH v_column IN ARRAY COALESCE(p_identifying, '{}') LOOP
        PERFORM gdpr.checked_column(v_oid, v_column, v_entry || '.identifying');
    END LOOP;
    IF p_anonymized_column IS NOT NULL
       AND gdpr.checked_column(v_oid, p_anonymized_column, v_entry || '.anonymized')
           NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %.anonymized: column % must be a date or timestamp', v_entry,
            quote_ident(p_anonymized_column);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO pgdpr_owner', p_schema, p_table);
    IF COALESCE(p_area, p_kind) !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'catalog entry %.area: a rights area is lower-case letters, digits and _', v_entry;
    END IF;
    INSERT INTO gdpr.subject_kind AS s
        (kind, table_schema, table_name, key_column, tenant_column, identifying, anonymized_column, area)
    VALUES (p_kind, p_schema, p_table, p_key, p_tenant, COALESCE(p_identifying, '{}'), p_anonymized_column,
            COALESCE(p_area, p_kind))
    ON CONFLICT (kind) DO UPDATE SET area = excluded.area,
        table_schema = excluded.table_schema, table_name = excluded.table_name,
        key_column = excluded.key_column, tenant_column = excluded.tenant_column,
        identifying = excluded.identifying, anonymized_column = excluded.anonymized_column
    -- re-declaring what is already there changes nothing (no new row version, no audit event)
    WHERE (s.area, s.table_schema, s.table_name, s.key_column, s.tenant_column, s.identifying, s.anonymized_column)
          IS DISTINCT FROM (excluded.area, excluded.table_schema, excluded.table_name, excluded.key_column,
                            excluded.tenant_column, excluded.identifying, excluded.anonymized_column);
END $_$;
ALTER FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) IS 'Declare a kind of data subject and its root table';
CREATE FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name DEFAULT NULL::name, p_parent_schema name DEFAULT NULL::name, p_parent_table name DEFAULT NULL::name, p_parent_column name DEFAULT NULL::name, p_retain_column name DEFAULT NULL::name, p_retain_period interval DEFAULT NULL::interval, p_retain_from_year_end boolean DEFAULT false, p_recipients text DEFAULT NULL::text, p_source text DEFAULT NULL::text, p_position integer DEFAULT NULL::integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := format('table %s.%s', p_schema, p_table);
    v_subject gdpr.subject_kind;
    v_oid oid;
    v_root oid;
    v_parent oid;
    v_parent_column name := p_parent_column;
    v_link_type regtype;
    v_key_type regtype;
BEGIN
    SELECT * INTO v_subject FROM gdpr.subject_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalog entry %: unknown subject kind %', v_entry, quote_literal(p_kind);
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    v_root := gdpr.checked_table(v_subject.table_schema, v_subject.table_name, v_entry);
    IF p_link IS NULL OR p_link NOT IN ('root', 'direct', 'via', 'owned') THEN
        RAISE EXCEPTION 'catalog entry %: link must be root, direct, via or owned, not %', v_entry,
            quote_nullable(p_link);
    END IF;
    IF p_on_erase IS NULL OR p_on_erase NOT IN ('delete', 'anonymize', 'retain') THEN
        RAISE EXCEPTION 'catalog entry %: on_erase must be delete, anonymize or retain, not %', v_entry,
            quote_nullable(p_on_erase);
    END IF;
    v_key_type := gdpr.checked_column(v_root, v_subject.key_column, v_entry);
    CASE p_link
    WHEN 'root' THEN
        IF v_oid <> v_root THEN
            RAISE EXCEPTION 'catalog entry %: link root is only for the subject table %.%', v_entry,
                quote_ident(v_subject.table_schema), quote_ident(v_subject.table_name);
        END IF;
    WHEN 'direct' THEN
        v_link_type := gdpr.checked_column(v_oid, p_link_column, v_entry || '.link');
        IF v_link_type <> v_key_type THEN
            RAISE EXCEPTION 'catalog entry %: link column % is %, the subject key is %', v_entry,
                quote_ident(p_link_column), v_link_type, v_key_type;
        END IF;
    WHEN 'via' THEN
        IF p_parent_table IS NULL OR NOT EXISTS (
            SELECT FROM gdpr.catalog_table
             WHERE table_schema = p_parent_schema AND table_name = p_parent_table AND kind = p_kind) THEN
            RAISE EXCEPTION 'catalog entry %: parent %.% is not a declared table of subject %', v_entry,
                quote_ident(p_parent_schema), quote_ident(p_parent_table), p_kind;
        END IF;
        v_parent := gdpr.checked_table(p_parent_schema, p_parent_table, v_entry || '.parent');
        v_link_type := gdpr.checked_column(v_oid, p_link_column, v_entry || '.link');
        IF v_parent_column IS NULL THEN
            -- the single-column primary key of the parent
            SELECT a.attname INTO v_parent_column
              FROM pg_catalog.pg_constraint k
              JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid
               AND a.attnum = k.conkey[array_length(k.conkey, 1)]
             WHERE k.conrelid = v_parent AND k.contype = 'p';
        END IF;
        IF gdpr.checked_column(v_parent, v_parent_column, v_entry || '.parent') <> v_link_type THEN
            RAISE EXCEPTION 'catalog entry %: link column % and parent column % differ in type', v_entry,
                quote_ident(p_link_column), quote_ident(v_parent_column);
        END IF;
    WHEN 'owned' THEN
        v_link_type := gdpr.checked_column(v_root, p_link_column, v_entry || '.owned_by');
        IF v_parent_column IS NULL THEN
            SELECT a.attname INTO v_parent_column
              FROM pg_catalog.pg_constraint k
              JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid
               AND a.attnum = k.conkey[array_length(k.conkey, 1)]
             WHERE k.conrelid = v_oid AND k.contype = 'p';
        END IF;
        IF gdpr.checked_column(v_oid, v_parent_column, v_entry || '.key') <> v_link_type THEN
            RAISE EXCEPTION 'catalog entry %: owned_by column % and key % differ in type', v_entry,
                quote_ident(p_link_column), quote_ident(v_parent_column);
        END IF;
    END CASE;
    IF p_on_erase = 'retain' THEN
        IF p_retain_column IS NULL OR p_retain_period IS NULL THEN
            RAISE EXCEPTION 'catalog entry %: on_erase retain needs retain.from and retain.period', v_entry;
        END IF;
        IF gdpr.checked_column(v_oid, p_retain_column, v_entry || '.retain.from')
           NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
            RAISE EXCEPTION 'catalog entry %.retain.from: column % must be a date or timestamp', v_entry,
                quote_ident(p_retain_column);
        END IF;
    END IF;
    -- The engine's SECURITY DEFINER functions (owned by pgdpr_owner) read, scrub and
    -- delete the declared rows; the declaring DBA owns the table and grants that here
    -- (TRIGGER: gdpr.install_erasure_guards, run by gdpr.anonymize, adds the erasure guard).
    -- a table belongs to one kind: declaring it for a second kind would silently take
    -- it from the first (its rows would leave that kind's reports and erasure)
    IF EXISTS (SELECT FROM gdpr.catalog_table t
                WHERE t.table_schema = p_schema AND t.table_name = p_table AND t.kind <> p_kind) THEN
        RAISE EXCEPTION 'catalog entry %: the table is declared for subject kind %; a table belongs to one kind',
            v_entry, (SELECT t.kind FROM gdpr.catalog_table t WHERE t.table_schema = p_schema AND t.table_name = p_table)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRIGGER ON %I.%I TO pgdpr_owner', p_schema, p_table);
    INSERT INTO gdpr.catalog_table AS t
        (table_schema, table_name, kind, link, link_column, parent_schema, parent_name, parent_column,
         on_erase, retain_column, retain_period, retain_from_year_end,
         title_da, title_en, purpose, legal_basis, retention, recipients, source, position)
    VALUES (p_schema, p_table, p_kind, p_link,
            CASE WHEN p_link <> 'root' THEN p_link_column END,
            CASE WHEN p_link = 'via' THEN p_parent_schema END,
            CASE WHEN p_link = 'via' THEN p_parent_table END,
            CASE WHEN p_link IN ('via', 'owned') THEN v_parent_column END,
            p_on_erase,
            CASE WHEN p_on_erase = 'retain' THEN p_retain_column END,
            CASE WHEN p_on_erase = 'retain' THEN p_retain_period END,
            p_on_erase = 'retain' AND COALESCE(p_retain_from_year_end, false),
            p_title_da, p_title_en, p_purpose, p_legal_basis, p_retention,
            COALESCE(p_recipients, 'Ingen uden for klubben / none outside the club'),
            COALESCE(p_source, 'the data subject'),
            COALESCE(p_position, (SELECT count(*) FROM gdpr.catalog_table)::integer))
    ON CONFLICT (table_schema, table_name) DO UPDATE SET
        kind = excluded.kind, link = excluded.link, link_column = excluded.link_column,
        parent_schema = excluded.parent_schema, parent_name = excluded.parent_name,
        parent_column = excluded.parent_column, on_erase = excluded.on_erase,
        retain_column = excluded.retain_column, retain_period = excluded.retain_period,
        retain_from_year_end = excluded.retain_from_year_end,
        title_da = excluded.title_da, title_en = excluded.title_en, purpose = excluded.purpose,
        legal_basis = excluded.legal_basis, retention = excluded.retention,
        recipients = excluded.recipients, source = excluded.source, position = excluded.position
    WHERE (t.kind, t.link, t.link_column, t.parent_schema, t.parent_name, t.parent_column, t.on_erase,
           t.retain_column, t.retain_period, t.retain_from_year_end, t.title_da, t.title_en, t.purpose,
           t.legal_basis, t.retention, t.recipients, t.source, t.position)
          IS DISTINCT FROM (excluded.kind, excluded.link, excluded.link_column, excluded.parent_schema,
           excluded.parent_name, excluded.parent_column, excluded.on_erase, excluded.retain_column,
           excluded.retain_period, excluded.retain_from_year_end, excluded.title_da, excluded.title_en,
           excluded.purpose, excluded.legal_basis, excluded.retention, excluded.recipients, excluded.source,
           excluded.position);
END $$;
ALTER FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) IS 'Declare a table holding personal data: its link to the subject, erasure and Art. 30 record';
CREATE FUNCTION gdpr.declare_tenant(p_schema name, p_table name, p_key name, p_name_column name DEFAULT NULL::name, p_time_zone_column name DEFAULT NULL::name) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_entry text := 'tenant';
    v_oid oid := gdpr.checked_table(p_schema, p_table, 'tenant');
BEGIN
    PERFORM gdpr.checked_column(v_oid, p_key, v_entry || '.key');
    IF p_name_column IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_name_column, v_entry || '.name');
    END IF;
    IF p_time_zone_column IS NOT NULL
       AND gdpr.checked_column(v_oid, p_time_zone_column, v_entry || '.time_zone') <> 'text'::regtype THEN
        RAISE EXCEPTION 'catalog entry tenant.time_zone: column % must be text', quote_ident(p_time_zone_column);
    END IF;
    -- the engine's functions (owned by pgdpr_owner) read the name and time zone
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT ON %I.%I TO pgdpr_owner', p_schema, p_table);
    INSERT INTO gdpr.tenant_table AS t (table_schema, table_name, key_column, name_column, time_zone_column)
    VALUES (p_schema, p_table, p_key, p_name_column, p_time_zone_column)
    ON CONFLICT (singleton) DO UPDATE SET
        table_schema = excluded.table_schema, table_name = excluded.table_name, key_column = excluded.key_column,
        name_column = excluded.name_column, time_zone_column = excluded.time_zone_column
    WHERE (t.table_schema, t.table_name, t.key_column, t.name_column, t.time_zone_column)
          IS DISTINCT FROM (excluded.table_schema, excluded.table_name, excluded.key_column, excluded.name_column,
                            excluded.time_zone_column);
END $$;
ALTER FUNCTION gdpr.declare_tenant(p_schema name, p_table name, p_key name, p_name_column name, p_time_zone_column name) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_tenant(p_schema name, p_table name, p_key name, p_name_column name, p_time_zone_column name) IS 'Declare the table whose rows are the tenants, with their name and time zone columns';
CREATE FUNCTION gdpr.delete_rule(p_rule_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
BEGIN
    UPDATE gdpr.rule r SET enabled = false, deleted_at = now(), changed_at = now(), changed_by = gdpr.caller()
     WHERE r.id = p_rule_id;
    DELETE FROM gdpr.rule_subject s WHERE s.rule_id = p_rule_id;
    PERFORM gdpr.audit('rule_delete', v_rule.kind, v_rule.tenant, NULL, NULL, jsonb_build_object('rule_id', p_rule_id));
END $$;
ALTER FUNCTION gdpr.delete_rule(p_rule_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.delete_rule(p_rule_id bigint) IS 'Delete a trigger rule (its run history stays); audited';
CREATE FUNCTION gdpr.disable_rule(p_rule_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT gdpr.set_rule_enabled(p_rule_id, false)
$$;
ALTER FUNCTION gdpr.disable_rule(p_rule_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.disable_rule(p_rule_id bigint) IS 'Disable a trigger rule; audited';
CREATE FUNCTION gdpr.enable_rule(p_rule_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT gdpr.set_rule_enabled(p_rule_id, true)
$$;
ALTER FUNCTION gdpr.enable_rule(p_rule_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.enable_rule(p_rule_id bigint) IS 'Enable a trigger rule (from the next slot on); audited';
CREATE FUNCTION gdpr.ensure_erasure_guards(p_kind text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF EXISTS (SELECT FROM gdpr.erasure_guard_targets(p_kind) e
                WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                   WHERE g.tgrelid = e.rel AND g.tgname = e.trigger_name)) THEN
        PERFORM gdpr.install_erasure_guards(p_kind);
    END IF;
END $$;
ALTER FUNCTION gdpr.ensure_erasure_guards(p_kind text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.ensure_tenant_role(p_tenant text) RETURNS name
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
END $_$;
ALTER FUNCTION gdpr.ensure_tenant_role(p_tenant text) OWNER TO postgres;
CREATE FUNCTION gdpr.erase_batch(p_kind text, p_tenant text, p_keys text[], p_reason text, p_rule_id bigint, p_category text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_hashjoin TO 'off'
    SET enable_mergejoin TO 'off'
    SET jit TO 'off'
    AS $_$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_root text;
    v_key_match text;
    v_tenant_match text;
    v_name_cols text;
    v_other_cols text;
    v_salt bytea := gdpr.install_salt();
    v_keys text[];
    v_patterns text[];
    v_t record;
    v_src record;
    v_set text;
    v_tenant_cond text;
    v_count bigint;
    v_tables jsonb := '{}';
    v_owned jsonb := '{}';
    v_ids text[];
    v_table text;
    v_root_t gdpr.catalog_table;
    v_id_type text;
    v_refs text;
    v_proof jsonb;
    v_reason text;
    v_pattern text;
    v_extra_cols text;
    v_groups text;
    v_owned_join text;
    v_mentions jsonb;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT * INTO v_root_t FROM gdpr.catalog_table
     WHERE table_schema = v_s.table_schema AND table_name = v_s.table_name;
    v_root := format('%I.%I', v_s.table_schema, v_s.table_name);
    v_key_match := format('= ANY ($1::%s[])', v_types.key_type);
    v_tenant_match := CASE WHEN v_s.tenant_column IS NOT NULL THEN format('= $2::%s', v_types.tenant_type) END;
    -- 1. Capture, before anything changes, for the whole batch in one statement: the
    --    identifying values (the columns of category 'name' are names, matched as whole
    --    words; the full name is the names joined by a space; names shorter than 2 and
    --    other values shorter than 3 characters are left out: they would shred every
    --    text). From them and the subject's bank and address values, per subject, the
    --    redaction pattern (gdpr.redact_capture: every form staff write the values in,
    --    the subject-specific forms first, then those for its own rows only) and the keys
    --    of the mention search (step 5b). The patterns stay in this transaction's memory:
    --    the proof (step 7) searches with them, and nothing of them is stored.
    SELECT COALESCE(string_agg(format('r.%I::text', i.c), ', ' ORDER BY i.o) FILTER (WHERE cc.category = 'name'), ''),
           COALESCE(string_agg(format('r.%I::text', i.c), ', ' ORDER BY i.o) FILTER (WHERE cc.category IS DISTINCT FROM 'name'), '')
      INTO v_name_cols, v_other_cols
      FROM unnest(v_s.identifying) WITH ORDINALITY AS i(c, o)
      LEFT JOIN gdpr.catalog_column cc
        ON cc.table_schema = v_s.table_schema AND cc.table_name = v_s.table_name AND cc.column_name = i.c;
    -- Beyond the identifying columns, the redaction also takes the subject's bank and
    -- address values: the root's declared columns of category bank or address and those
    -- of the rows it owns (its address), each alone and, per table and category, in
    -- runs written together (registration and account number; street, postcode, city).
    WITH src AS (
        SELECT 'r' AS alias, v_s.table_schema AS sch, v_s.table_name AS tab, NULL::text AS joined, 0 AS n
        UNION ALL
        SELECT 'o' || row_number() OVER (ORDER BY t.position, t.table_schema, t.table_name),
               t.table_schema, t.table_name,
               format('LEFT JOIN %I.%I %s ON %s.%I = r.%I%s', t.table_schema, t.table_name, '%1$s', '%1$s',
                      t.parent_column, t.link_column,
                      CASE WHEN v_s.tenant_column IS NOT NULL AND EXISTS (
                                SELECT FROM pg_attribute a WHERE a.attrelid = format('%I.%I', t.table_schema, t.table_name)::regclass
                                   AND a.attname = v_s.tenant_column AND a.attnum > 0 AND NOT a.attisdropped)
                           THEN format(' AND %s.%I = r.%I', '%1$s', v_s.tenant_column, v_s.tenant_column) ELSE '' END),
               1
          FROM gdpr.catalog_table t WHERE t.kind = p_kind AND t.link = 'owned'
    ), cols AS (
        SELECT src.alias, src.n, c.category, a.attnum, a.attname
          FROM src
          JOIN gdpr.catalog_column c ON c.table_schema = src.sch AND c.table_name = src.tab
          JOIN pg_attribute a ON a.attrelid = format('%I.%I', src.sch, src.tab)::regclass AND a.attname = c.column_name
         WHERE c.category IN ('bank', 'address')
           AND NOT (src.n = 0 AND c.column_name = ANY (v_s.identifying))
    )
    SELECT COALESCE((SELECT string_agg(format('%s.%I::text', cols.alias, cols.attname), ', '
                                       ORDER BY cols.n, cols.alias, cols.attnum) FROM cols), ''),
           COALESCE((SELECT string_agg(g.expr, ', ' ORDER BY g.alias, g.category)
                       FROM (SELECT cols.alias, cols.category,
                                    format('concat_ws(E''\x1f'', %s)', string_agg(format('%s.%I::text', cols.alias, cols.attname),
                                                                                ', ' ORDER BY cols.attnum)) AS expr
                               FROM cols GROUP BY cols.alias, cols.category HAVING count(*) > 1) g), ''),
           COALESCE((SELECT string_agg(format(src.joined, src.alias), ' ' ORDER BY src.alias) FROM src WHERE src.n = 1), '')
      INTO v_extra_cols, v_groups, v_owned_join;
    EXECUTE format($q$
        WITH r AS MATERIALIZED (
                SELECT r.%1$I::text AS k, ARRAY[%2$s]::text[] AS names, ARRAY[%3$s]::text[] AS others,
                       ARRAY[%6$s]::text[] AS extra, ARRAY[%7$s]::text[] AS groups
                  FROM %4$s r %8$s WHERE %5$s)
        -- the redaction pattern and the mention search's keys come from r alone
        -- (gdpr.redact_capture)
        SELECT array_agg(r.k ORDER BY r.k), array_agg(x.pattern ORDER BY r.k),
               jsonb_agg(jsonb_build_object('pattern', x.pattern, 'keys', x.mention_keys) ORDER BY r.k)
          FROM r, LATERAL gdpr.redact_capture(r.names, r.others || r.extra, r.groups) x$q$,
        v_s.key_column, v_name_cols, v_other_cols, v_root,
        gdpr.subject_filter(v_s.table_schema, v_s.table_name, 'r', v_key_match, v_tenant_match),
        v_extra_cols, v_groups, v_owned_join)
      INTO v_keys, v_patterns, v_mentions USING p_keys, p_tenant;
    IF v_keys IS NULL THEN
        RETURN jsonb_build_object('keys', '[]'::jsonb, 'tables', '{}'::jsonb, 'proof', '{}'::jsonb);
    END IF;
    -- 2. The rows the subject rows own (addresses), remembered before the root row
    --    lets go of them.
    FOR v_t IN SELECT * FROM gdpr.catalog_table WHERE kind = p_kind AND link = 'owned' AND on_erase = 'delete' LOOP
        EXECUTE format('SELECT array_agg(r.%I::text) FROM %s r WHERE %s', v_t.link_column, v_root,
                       gdpr.subject_filter(v_s.table_schema, v_s.table_name, 'r', v_key_match, v_tenant_match))
           INTO v_ids USING v_keys, p_tenant;
        v_owned := v_owned || jsonb_build_object(format('%I.%I', v_t.table_schema, v_t.table_name),
                                                 to_jsonb(COALESCE(v_ids, '{}')));
    END LOOP;
    -- 3. Every other declared table, children before parents: one statement per table.
    FOR v_t IN
        WITH RECURSIVE d AS (
            SELECT t.table_schema, t.table_name, 0 AS depth FROM gdpr.catalog_table t
             WHERE t.kind = p_kind AND t.link = 'root'
            UNION ALL
            SELECT t.table_schema, t.table_name, 1 FROM gdpr.catalog_table t
             WHERE t.kind = p_kind AND t.link IN ('direct', 'owned') AND NOT (t.link = 'owned' AND t.on_erase = 'delete')
            UNION ALL
            SELECT t.table_schema, t.table_name, d.depth + 1 FROM gdpr.catalog_table t
              JOIN d ON t.parent_schema = d.table_schema AND t.parent_name = d.table_name
             WHERE t.kind = p_kind AND t.link = 'via')
        SELECT t.*, d.depth FROM d JOIN gdpr.catalog_table t USING (table_schema, table_name)
         WHERE d.depth > 0
         ORDER BY d.depth DESC, t.position, t.table_schema, t.table_name
    LOOP
        v_table := format('%I.%I', v_t.table_schema, v_t.table_name);
        IF v_t.on_erase = 'delete' THEN
            EXECUTE format('WITH d AS (DELETE FROM %s a WHERE %s RETURNING 1) SELECT count(*) FROM d', v_table,
                           gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a', v_key_match, v_tenant_match))
               INTO v_count USING v_keys, p_tenant;
            v_tables := v_tables || jsonb_build_object(v_table,
                jsonb_build_object('deleted', v_count, 'anonymized', 0, 'retained', 0));
            CONTINUE;
        END IF;
        SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        v_tenant_cond := CASE WHEN v_src.tenant_expr IS NOT NULL AND v_tenant_match IS NOT NULL
                              THEN format('%s %s', v_src.tenant_expr, v_tenant_match) ELSE 'true' END;
        v_set := gdpr.erase_set_list(v_t.table_schema, v_t.table_name, v_t.on_erase = 'retain');
        IF v_set IS NOT NULL THEN
            EXECUTE format(
                'WITH u AS (UPDATE %s a SET %s FROM unnest($1::%s[], $3::text[]) AS s(k, pattern) %s
                             WHERE %s = s.k AND %s AND %s RETURNING 1) SELECT count(*) FROM u',
                v_table, v_set, v_types.key_type, v_src.from_clause, v_src.key_expr, v_tenant_cond, v_src.where_clause)
               INTO v_count USING v_keys, p_tenant, v_patterns, v_salt;
        ELSE
            EXECUTE format('SELECT count(*) FROM %s a WHERE %s', v_table,
                           gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a', v_key_match, v_tenant_match))
               INTO v_count USING v_keys, p_tenant;
        END IF;
        IF v_t.on_erase = 'retain' THEN
            -- Deferred erasure: kept as they are until the statutory period ends.
            EXECUTE format(
                'WITH i AS (
                   INSERT INTO gdpr.deferred_erasure AS e
                          (kind, tenant, subject_key, table_schema, table_name, rows_pending, next_due_at, last_due_at)
                   SELECT $3, COALESCE($2, ''''), s.k::text, $5, $6, count(*), min(%1$s), max(%1$s)
                     FROM %2$s a %3$s, pg_catalog.unnest($1::%4$s[]) AS s(k)
                    WHERE %5$s = s.k AND %6$s AND %7$s
                    GROUP BY s.k
                   ON CONFLICT (kind, tenant, subject_key, table_schema, table_name) DO UPDATE
                      SET rows_pending = excluded.rows_pending, next_due_at = excluded.next_due_at,
                          last_due_at = excluded.last_due_at, done_at = NULL
                   RETURNING rows_pending)
                 SELECT COALESCE(sum(rows_pending), 0) FROM i',
                gdpr.retain_due_expr(v_t.table_schema, v_t.table_name, 'a'), v_table, v_src.from_clause,
                v_types.key_type, v_src.key_expr, v_tenant_cond, v_src.where_clause)
               INTO v_count USING v_keys, p_tenant, p_kind, v_salt, v_t.table_schema, v_t.table_name;
            v_tables := v_tables || jsonb_build_object(v_table,
                jsonb_build_object('deleted', 0, 'anonymized', 0, 'retained', v_count));
        ELSE
            v_tables := v_tables || jsonb_build_object(v_table,
                jsonb_build_object('deleted', 0, 'anonymized', v_count, 'retained', 0));
        END IF;
    END LOOP;
    -- 4. The subject row: scrubbed, marked anonymised, its owned rows let go.
    v_table := v_root;
    IF v_root_t.on_erase = 'delete' THEN
        EXECUTE format('WITH d AS (DELETE FROM %s a WHERE %s RETURNING 1) SELECT count(*) FROM d', v_root,
                       gdpr.subject_filter(v_s.table_schema, v_s.table_name, 'a', v_key_match, v_tenant_match))
           INTO v_count USING v_keys, p_tenant;
        v_tables := v_tables || jsonb_build_object(v_root,
            jsonb_build_object('deleted', v_count, 'anonymized', 0, 'retained', 0));
    ELSE
        SELECT concat_ws(', ',
                   gdpr.erase_set_list(v_s.table_schema, v_s.table_name, false),
                   CASE WHEN v_s.anonymized_column IS NOT NULL THEN format('%I = now()', v_s.anonymized_column) END,
                   (SELECT string_agg(format('%I = NULL', t.link_column), ', ')
                      FROM gdpr.catalog_table t WHERE t.kind = p_kind AND t.link = 'owned' AND t.on_erase = 'delete'))
          INTO v_set;
        SELECT * INTO v_src FROM gdpr.subject_source(v_s.table_schema, v_s.table_name, 'a');
        v_tenant_cond := CASE WHEN v_tenant_match IS NOT NULL
                              THEN format('%s %s', v_src.tenant_expr, v_tenant_match) ELSE 'true' END;
        IF v_set <> '' THEN
            EXECUTE format(
                'WITH u AS (UPDATE %s a SET %s FROM unnest($1::%s[], $3::text[]) AS s(k, pattern)
                             WHERE %s = s.k AND %s RETURNING 1) SELECT count(*) FROM u',
                v_root, v_set, v_types.key_type, v_src.key_expr, v_tenant_cond)
               INTO v_count USING v_keys, p_tenant, v_patterns, v_salt;
        ELSE
            v_count := cardinality(v_keys);
        END IF;
        v_tables := v_tables || jsonb_build_object(v_root,
            jsonb_build_object('deleted', 0, 'anonymized', v_count, 'retained', 0));
    END IF;
    -- 5. Owned rows nothing else points to any more (every foreign key checked).
    FOR v_t IN SELECT * FROM gdpr.catalog_table WHERE kind = p_kind AND link = 'owned' AND on_erase = 'delete' LOOP
        v_table := format('%I.%I', v_t.table_schema, v_t.table_name);
        SELECT format_type(a.atttypid, a.atttypmod) INTO v_id_type
          FROM pg_attribute a WHERE a.attrelid = v_table::regclass AND a.attname = v_t.parent_column;
        SELECT string_agg(format('NOT EXISTS (SELECT FROM %s x WHERE %s)', c.conrelid::regclass,
                   (SELECT string_agg(format('x.%I = a.%I', ka.attname, fa.attname), ' AND ')
                      FROM unnest(c.conkey, c.confkey) AS k(col, fcol)
                      JOIN pg_attribute ka ON ka.attrelid = c.conrelid AND ka.attnum = k.col
                      JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol)), ' AND ')
          INTO v_refs
          FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = v_table::regclass;
        SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        v_ids := ARRAY(SELECT jsonb_array_elements_text(v_owned -> v_table));
        EXECUTE format('WITH d AS (DELETE FROM %s a WHERE a.%I = ANY ($1::%s[]) AND %s AND %s RETURNING 1)
                        SELECT count(*) FROM d',
                       v_table, v_t.parent_column, v_id_type,
                       CASE WHEN v_tenant_match IS NOT NULL AND v_src.tenant_expr IS NOT NULL
                                 AND v_src.tenant_expr LIKE 'a.%'
                            THEN format('%s %s', v_src.tenant_expr, v_tenant_match) ELSE 'true' END,
                       COALESCE(v_refs, 'true'))
           INTO v_count USING v_ids, p_tenant;
        v_tables := v_tables || jsonb_build_object(v_table,
            jsonb_build_object('deleted', v_count, 'anonymized', 0, 'retained', 0));
    END LOOP;
    -- 5b. Mentions of these subjects in OTHER subjects' rows (a note on another
    --     customer naming this one): every declared free-text column of the tenant
    --     loses the subjects' specific forms (gdpr.redact_mentions); rows found by the
    --     mention keys (trigram index, gdpr.mentions.sql) and rewritten only when the
    --     text changes.
    PERFORM gdpr.erase_mentions(p_kind, p_tenant, v_mentions);
    -- 6. Ledger (no personal data) and audit trail, one row per subject.
    IF p_category <> 'replay' THEN
        INSERT INTO gdpr.erasure_ledger (kind, tenant, subject_key, erased_at, actor, rule_id, reason_category)
        SELECT p_kind, p_tenant, k, now(), gdpr.caller(), p_rule_id, p_category FROM unnest(v_keys) AS k;
    END IF;
    -- What callers wrote about these subjects (gdpr.audit_note) goes with them. The
    -- erasure's own reason (typed by a person, or a rule's or job's text) may quote a
    -- subject: the values of every subject of the batch are taken out, and CPR- and
    -- account-shaped numbers masked, before it is kept as the note of each event.
    DELETE FROM gdpr.audit_note n
     WHERE n.kind = p_kind AND n.tenant IS NOT DISTINCT FROM p_tenant AND n.subject_key = ANY (v_keys);
    v_reason := p_reason;
    IF v_reason IS NOT NULL THEN
        FOREACH v_pattern IN ARRAY v_patterns LOOP
            v_reason := gdpr.redact(v_reason, v_pattern);
        END LOOP;
        v_reason := NULLIF(left(gdpr.render_free_text(v_reason, 'not_allowed'), 200), '');
    END IF;
    WITH e AS (
        INSERT INTO gdpr.audit_event (actor, login, action, kind, tenant, subject_key, purpose, details)
        SELECT gdpr.caller(), SESSION_USER, 'anonymize', p_kind, p_tenant, u.k,
               CASE WHEN v_reason IS NOT NULL THEN 'note' END,
               jsonb_build_object('category', p_category, 'rule_id', p_rule_id, 'batch_size', cardinality(v_keys))
               || CASE WHEN cardinality(v_keys) = 1 THEN jsonb_build_object('tables', v_tables) ELSE '{}' END
          FROM unnest(v_keys) AS u(k)
        RETURNING id, subject_key)
    INSERT INTO gdpr.audit_note (event_id, kind, tenant, subject_key, note)
    SELECT e.id, p_kind, p_tenant, e.subject_key, v_reason FROM e WHERE v_reason IS NOT NULL;
    -- Caller text about the subject kept by the engine itself: the reasons of their
    -- legal holds (free text, e.g. 'gæld, cpr ...') lose the subject's values and
    -- every CPR- or account-shaped number.
    UPDATE gdpr.legal_hold h
       SET reason = gdpr.render_free_text(gdpr.redact(h.reason, u.pattern), 'not_allowed')
      FROM unnest(v_keys, v_patterns) AS u(k, pattern)
     WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM p_tenant AND h.subject_key = u.k
       AND h.reason IS DISTINCT FROM gdpr.render_free_text(gdpr.redact(h.reason, u.pattern), 'not_allowed');
    -- 7. The proof, in this transaction, with the patterns of step 1 (the redaction's
    --    own matcher): what is left is searched, the verdict stored (gdpr.proof_run).
    v_proof := gdpr.proof_run(p_kind, p_tenant, v_keys, v_patterns);
    RETURN jsonb_build_object('keys', to_jsonb(v_keys), 'tables', v_tables, 'proof', v_proof);
END $_$;
ALTER FUNCTION gdpr.erase_batch(p_kind text, p_tenant text, p_keys text[], p_reason text, p_rule_id bigint, p_category text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.erase_batch(p_kind text, p_tenant text, p_keys text[], p_reason text, p_rule_id bigint, p_category text) IS 'Erase a batch of locked subjects of one tenant, one statement per declared table; internal';
CREATE FUNCTION gdpr.erase_mentions(p_kind text, p_tenant text, p_mentions jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $_$
DECLARE
    v_patterns text[];
    v_likes text[];
    v_c record;
    v_src record;
    v_s gdpr.subject_kind;
    v_types record;
    v_tenant_cond text;
    v_new text;
    v_count bigint;
    v_result jsonb := '{}';
BEGIN
    SELECT array_agg(m.p ORDER BY m.o, k.o), array_agg(k.k ORDER BY m.o, k.o)
      INTO v_patterns, v_likes
      FROM (SELECT split_part(e.value ->> 'pattern', E'\x1f', 1) AS p, e.value -> 'keys' AS keys, e.o
              FROM jsonb_array_elements(p_mentions) WITH ORDINALITY AS e(value, o)) m,
           jsonb_array_elements_text(m.keys) WITH ORDINALITY AS k(k, o)
     WHERE m.p <> '';
    IF v_likes IS NULL THEN
        RETURN v_result;
    END IF;
    INSERT INTO gdpr.erasure_mention_pass (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    FOR v_c IN SELECT * FROM gdpr.mention_columns() LOOP
        SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_c.kind;
        SELECT * INTO v_types FROM gdpr.subject_types(v_c.kind);
        SELECT * INTO v_src FROM gdpr.subject_source(v_c.table_schema, v_c.table_name, 'a');
        v_tenant_cond := CASE WHEN p_tenant IS NOT NULL AND v_src.tenant_expr IS NOT NULL
                              THEN format('%s = $3::%s', v_src.tenant_expr, v_types.tenant_type) ELSE 'true' END;
        -- the mention forms of the subjects whose keys the row's text contains
        v_new := format('gdpr.redact_mentions(a.%1$I, (SELECT string_agg(DISTINCT s.p, ''|'')
                             FROM (SELECT gdpr.mention_text(a.%1$I::text) AS t OFFSET 0) x,
                                  unnest($1::text[], $2::text[]) AS s(p, lk)
                            WHERE x.t LIKE s.lk))', v_c.column_name);
        EXECUTE format(
            'WITH u AS (UPDATE %1$I.%2$I a SET %3$I = %4$s FROM (SELECT) AS one %5$s
                         WHERE %6$s AND %7$s AND gdpr.mention_text(a.%3$I::text) LIKE ANY ($2::text[])
                           AND %4$s IS DISTINCT FROM a.%3$I
                         RETURNING 1)
             SELECT count(*) FROM u',
            v_c.table_schema, v_c.table_name, v_c.column_name, v_new, v_src.from_clause,
            v_tenant_cond, v_src.where_clause)
           INTO v_count USING v_patterns, v_likes, p_tenant;
        IF v_count > 0 THEN
            v_result := v_result || jsonb_build_object(
                format('%I.%I.%I', v_c.table_schema, v_c.table_name, v_c.column_name), v_count);
        END IF;
    END LOOP;
    DELETE FROM gdpr.erasure_mention_pass WHERE xid = pg_current_xact_id();
    RETURN v_result;
END $_$;
ALTER FUNCTION gdpr.erase_mentions(p_kind text, p_tenant text, p_mentions jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.erase_mentions(p_kind text, p_tenant text, p_mentions jsonb) IS 'Remove a batch of subjects'' mentions from every declared free-text column of the tenant; internal';
CREATE FUNCTION gdpr.erase_set_list(p_schema name, p_table name, p_retained boolean) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    SELECT string_agg(format('%I = %s', c.column_name, CASE c.erase
               WHEN 'null' THEN 'NULL'
               WHEN 'constant' THEN format('%L', c.erase_constant)
               WHEN 'redact' THEN format('gdpr.redact(a.%I, s.pattern)', c.column_name)
               WHEN 'year_only' THEN format('pg_catalog.date_trunc(''year'', a.%I)::%s', c.column_name,
                                            format_type(at.atttypid, at.atttypmod))
               WHEN 'hash' THEN format('gdpr.keyed_hash(a.%I::text, $4)', c.column_name)
               -- a fresh value, derived from nothing about the person (unique columns)
               WHEN 'random' THEN 'pg_catalog.gen_random_uuid()::text'
           END), ', ' ORDER BY c.column_name)
      FROM gdpr.catalog_column c
      JOIN pg_catalog.pg_attribute at
        ON at.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND at.attname = c.column_name
     WHERE c.table_schema = p_schema AND c.table_name = p_table AND c.erase <> 'keep'
       AND (NOT p_retained OR NOT c.part_of_record)
$_$;
ALTER FUNCTION gdpr.erase_set_list(p_schema name, p_table name, p_retained boolean) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.erased_rows_sql(p_kind text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_qi name[];
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT k.quasi_identifiers INTO v_qi FROM gdpr.kept_columns(p_kind) k;
    RETURN format(
        'SELECT %1$s AS tenant, r.%2$I::text AS subject_key, ROW(%3$s)::text AS qi
           FROM %4$I.%5$I r
          WHERE %6$s
            AND EXISTS (SELECT FROM gdpr.erasure_ledger l
                         WHERE l.kind = %7$L AND l.subject_key = r.%2$I::text AND %8$s)',
        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('r.%I::text', v_s.tenant_column) ELSE 'NULL::text' END,
        v_s.key_column,
        COALESCE((SELECT string_agg(format('r.%I', q), ', ' ORDER BY o) FROM unnest(v_qi) WITH ORDINALITY u(q, o)),
                 ''),
        v_s.table_schema, v_s.table_name,
        CASE WHEN v_s.tenant_column IS NOT NULL
             THEN format('($1::text IS NULL OR r.%I = $1::%s)', v_s.tenant_column, v_types.tenant_type)
             ELSE 'true' END,
        p_kind,
        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('l.tenant = r.%I::text', v_s.tenant_column)
             ELSE 'l.tenant IS NULL' END);
END $_$;
ALTER FUNCTION gdpr.erased_rows_sql(p_kind text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.erasure_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_hashjoin TO 'on'
    SET enable_mergejoin TO 'on'
    AS $$
DECLARE
    v_sql text := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0]
                       ELSE gdpr.erasure_guard_query(TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP) END;
    v_subject text;
BEGIN
    IF v_sql IS NULL OR v_sql = '' THEN
        RETURN NULL;
    END IF;
    -- The erasure itself removing a subject's mentions from other subjects' rows, also
    -- from rows of subjects erased before (gdpr.erase_mentions; only the engine can
    -- write the pass, and only inside its own transaction).
    IF EXISTS (SELECT FROM gdpr.erasure_mention_pass p WHERE p.xid = pg_current_xact_id()) THEN
        RETURN NULL;
    END IF;
    -- On a via table the query locks the subjects first (see gdpr.erasure_guard_query)
    -- and may wait there for an erasure; its snapshot predates that wait. It runs a
    -- second time, with a snapshot taken after the locks, to read the ledger entry the
    -- erasure committed (READ COMMITTED: each statement takes a new snapshot).
    IF pg_catalog.strpos(v_sql, 'FOR KEY SHARE') > 0 THEN
        EXECUTE v_sql;
    END IF;
    EXECUTE v_sql INTO v_subject;
    IF v_subject IS NOT NULL THEN
        RAISE EXCEPTION '% is anonymised: % in %.% are refused', v_subject,
            CASE TG_OP WHEN 'UPDATE' THEN 'changes to its rows' ELSE 'new rows' END,
            quote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME)
            USING ERRCODE = 'check_violation',
                  HINT = 'The subject was erased (GDPR Art. 17); create a new one instead.';
    END IF;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.erasure_guard() OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.erasure_guard() IS 'Statement trigger: refuses new rows, and changes to declared columns of rows, of an anonymised subject';
CREATE FUNCTION gdpr.erasure_guard_query(p_schema name, p_table name, p_event text DEFAULT 'INSERT'::text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_src record;
    v_rows text;
    v_pk text;
    v_watched_old text;
    v_watched_new text;
    v_tenanted boolean;  -- rows and subjects are matched on the tenant too
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    IF v_t.link IS NULL OR v_t.link NOT IN ('direct', 'via') THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_src FROM gdpr.subject_source(p_schema, p_table, 'a');
    v_tenanted := v_s.tenant_column IS NOT NULL AND v_src.tenant_expr IS NOT NULL;
    v_rows := 'gdpr_new_rows a';
    IF p_event = 'UPDATE' THEN
        SELECT string_agg(format('o.%1$I = a.%1$I', at.attname), ' AND ' ORDER BY k.n)
          INTO v_pk
          FROM pg_catalog.pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n), pg_catalog.pg_attribute at
         WHERE i.indrelid = format('%I.%I', p_schema, p_table)::regclass AND i.indisprimary
           AND at.attrelid = i.indrelid AND at.attnum = k.attnum;
        SELECT string_agg(format('o.%I::text', w.c), ', ' ORDER BY w.c),
               string_agg(format('a.%I::text', w.c), ', ' ORDER BY w.c)
          INTO v_watched_old, v_watched_new
          FROM (SELECT c.column_name AS c FROM gdpr.catalog_column c  -- the declared columns,
                 WHERE c.table_schema = p_schema AND c.table_name = p_table
                UNION SELECT v_t.link_column                               -- the link,
                UNION SELECT v_s.tenant_column WHERE v_src.tenant_expr LIKE 'a.%'  -- the row's own tenant,
                UNION SELECT c.parent_column FROM gdpr.catalog_table c     -- and what via rows link by
                 WHERE c.parent_schema = p_schema AND c.parent_name = p_table AND c.link = 'via') w
         WHERE w.c IS NOT NULL;
        IF v_pk IS NOT NULL THEN
            v_rows := format('(SELECT a.* FROM gdpr_new_rows a WHERE NOT EXISTS (
                                  SELECT FROM gdpr_old_rows o WHERE %s AND ROW(%s) IS NOT DISTINCT FROM ROW(%s))) a',
                             v_pk, v_watched_old, v_watched_new);
        END IF;
    END IF;
    -- A statement racing an erasure must wait for it and then read its outcome. On a
    -- direct table it does without this query: a new or re-pointed row's foreign-key
    -- check locks the subject row (FOR KEY SHARE, waiting for the erasure's FOR
    -- UPDATE), and a changed row of the subject waits on the erasure's own rewrite of
    -- it. A via row's foreign key locks only its parent row, which the erasure's
    -- update does not block: there the query locks the subjects concerned (once each,
    -- FOR KEY SHARE) and reads the locked rows' newest version. Only there: the lock
    -- is taken after the statement's own row locks, the erasure's order reversed, so
    -- a multi-row update racing an erasure can deadlock with it.
    -- Erased means an entry in the erasure ledger (gdpr.subject_erased), which the
    -- erasure writes after its own changes to the rows.
    RETURN format(
        'WITH s AS MATERIALIZED (
             SELECT r.%1$I::text AS subject_key, %2$s AS tenant FROM %3$I.%4$I r
              WHERE (%5$s) IN (SELECT %6$s FROM %7$s %8$s WHERE %9$s) %11$s)
         SELECT %10$L || '' '' || s.subject_key FROM s
          WHERE EXISTS (SELECT FROM gdpr.erasure_ledger l WHERE l.kind = %10$L AND l.subject_key = s.subject_key
                           AND %12$s)
          LIMIT 1',
        v_s.key_column,
        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('r.%I::text', v_s.tenant_column) ELSE 'NULL::text' END,
        v_s.table_schema, v_s.table_name,
        CASE WHEN v_tenanted THEN format('r.%I, r.%I', v_s.tenant_column, v_s.key_column)
             ELSE format('r.%I', v_s.key_column) END,
        CASE WHEN v_tenanted THEN format('%s, %s', v_src.tenant_expr, v_src.key_expr) ELSE v_src.key_expr END,
        v_rows, v_src.from_clause, v_src.where_clause, v_s.kind,
        CASE WHEN v_t.link = 'via' THEN 'FOR KEY SHARE OF r' ELSE '' END,
        CASE WHEN v_s.tenant_column IS NOT NULL THEN 'l.tenant = s.tenant' ELSE 'l.tenant IS NULL' END);
END $_$;
ALTER FUNCTION gdpr.erasure_guard_query(p_schema name, p_table name, p_event text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.erasure_guard_targets(p_kind text) RETURNS TABLE(table_schema name, table_name name, rel regclass, trigger_name name, event text, transition text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT t.table_schema, t.table_name, format('%I.%I', t.table_schema, t.table_name)::regclass,
           e.trigger_name, e.event, e.transition
      FROM gdpr.catalog_table t JOIN gdpr.subject_kind s USING (kind),
           (VALUES ('gdpr_erasure_guard'::name, 'INSERT', 'NEW TABLE AS gdpr_new_rows'),
                   ('gdpr_erasure_guard_update'::name, 'UPDATE',
                    'OLD TABLE AS gdpr_old_rows NEW TABLE AS gdpr_new_rows')) AS e(trigger_name, event, transition)
     WHERE (p_kind IS NULL OR t.kind = p_kind) AND t.link IN ('direct', 'via')
$$;
ALTER FUNCTION gdpr.erasure_guard_targets(p_kind text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.erasure_plan_problems() RETURNS TABLE(problem text, place text, detail text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT 'not_null_erased', format('%I.%I.%I', c.table_schema, c.table_name, c.column_name),
           'erase = null, but the column is NOT NULL: choose erase = constant or keep'
      FROM gdpr.catalog_column c
      JOIN gdpr.catalog_table t USING (table_schema, table_name)
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
     WHERE c.erase = 'null' AND a.attnotnull AND t.on_erase <> 'delete'
       AND NOT (t.on_erase = 'retain' AND c.part_of_record)
    UNION ALL
    SELECT 'delete_blocked', f.conname::text,
           format('%s rows are deleted at erasure, but %s (on_erase %s) keeps rows that reference them '
                  'through foreign key %s, which neither cascades nor sets NULL',
                  f.confrelid::regclass, f.conrelid::regclass, child.on_erase, f.conname)
      FROM gdpr.catalog_table parent
      JOIN pg_catalog.pg_constraint f
        ON f.contype = 'f' AND f.confrelid = format('%I.%I', parent.table_schema, parent.table_name)::regclass
       AND f.confdeltype IN ('a', 'r')
      JOIN gdpr.catalog_table child
        ON f.conrelid = format('%I.%I', child.table_schema, child.table_name)::regclass
     WHERE parent.on_erase = 'delete' AND child.on_erase IN ('retain', 'anonymize')
       AND child.kind = parent.kind
       AND parent.link <> 'owned'  -- owned rows go only when nothing points to them any more
    UNION ALL
    SELECT 'owned_not_null', format('%I.%I.%I', k.table_schema, k.table_name, t.link_column),
           format('erasure lets go of the owned row in %I.%I by setting this link to NULL, but it is NOT NULL',
                  t.table_schema, t.table_name)
      FROM gdpr.catalog_table t
      JOIN gdpr.subject_kind k ON k.kind = t.kind
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid = format('%I.%I', k.table_schema, k.table_name)::regclass AND a.attname = t.link_column
     WHERE t.link = 'owned' AND t.on_erase = 'delete' AND a.attnotnull
$$;
ALTER FUNCTION gdpr.erasure_plan_problems() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.erasure_plan_problems() IS 'Erasure plans of the catalog that cannot work (NOT NULL erased to NULL, deletes blocked by kept rows)';
CREATE FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_tenant text;
    v_types record;
    v_s gdpr.subject_kind;
    v_row record;
    v_t record;
    v_count bigint;
    v_tables jsonb := '[]';
    v_holds jsonb;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    FOR v_t IN SELECT * FROM gdpr.catalog_table WHERE kind = p_kind ORDER BY position, table_schema, table_name LOOP
        EXECUTE format('SELECT count(*) FROM %I.%I a WHERE %s', v_t.table_schema, v_t.table_name,
                       gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a',
                           format('= $1::%s', v_types.key_type),
                           CASE WHEN v_s.tenant_column IS NOT NULL THEN format('= $2::%s', v_types.tenant_type) END))
           INTO v_count USING v_row.subject_key, v_row.tenant;
        v_tables := v_tables || jsonb_build_object('table', format('%I.%I', v_t.table_schema, v_t.table_name),
            'title', v_t.title_en, 'action', CASE v_t.on_erase WHEN 'delete' THEN 'delete'
                WHEN 'retain' THEN 'retain' ELSE 'anonymize' END,
            'rows', v_count, 'retain_period', v_t.retain_period);
    END LOOP;
    SELECT jsonb_agg(jsonb_build_object('id', h.id, 'hold_type', h.hold_type, 'created_by', h.created_by,
                                        'created_at', h.created_at, 'until', h.until) ORDER BY h.id)
      INTO v_holds
      FROM gdpr.legal_hold h
     WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM v_row.tenant AND h.subject_key = v_row.subject_key
       AND gdpr.hold_active(h, now());
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                              'already_anonymized', v_row.anonymized, 'tables', v_tables,
                              'holds', COALESCE(v_holds, '[]'));
END $_$;
ALTER FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text) IS 'What gdpr.anonymize would do to a subject: rows per table and action, active holds';
CREATE FUNCTION gdpr.erasure_stale_statistics() RETURNS TABLE(table_name regclass, erased_at timestamp with time zone, analyzed_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT x.rel, x.erased_at, x.analyzed_at
      FROM (SELECT format('%I.%I', t.table_schema, t.table_name)::regclass AS rel, e.erased_at,
                   GREATEST(s.last_analyze, s.last_autoanalyze) AS analyzed_at
              FROM (SELECT DISTINCT k.kind FROM gdpr.subject_kind k) k
              JOIN LATERAL (SELECT max(l.erased_at) AS erased_at FROM gdpr.erasure_ledger l
                             WHERE l.kind = k.kind) e ON e.erased_at IS NOT NULL
              JOIN gdpr.catalog_table t ON t.kind = k.kind
              JOIN pg_catalog.pg_stat_all_tables s
                ON s.relid = format('%I.%I', t.table_schema, t.table_name)::regclass) x
     WHERE x.analyzed_at < x.erased_at
        OR (x.analyzed_at IS NULL AND EXISTS (
                SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_catalog.pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname
                 WHERE c.oid = x.rel))
$$;
ALTER FUNCTION gdpr.erasure_stale_statistics() OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.erasure_stale_statistics() IS 'Declared tables whose planner statistics (pg_stats) may still hold values of erased subjects';
CREATE FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text, p_now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_now timestamptz := gdpr.request_clock(p_now);
    v_request gdpr.dsr_request := gdpr.request_for_change(p_request_id);
    v_due timestamptz;
BEGIN
    IF v_request.status <> 'open' THEN
        RAISE EXCEPTION 'request % is already closed (%)', p_request_id, v_request.status
            USING ERRCODE = 'object_in_use';
    END IF;
    IF v_request.extended_at IS NOT NULL THEN
        RAISE EXCEPTION 'request % was already extended: the deadline can be extended once', p_request_id
            USING ERRCODE = 'object_in_use';
    END IF;
    IF p_months IS NULL OR p_months NOT IN (1, 2) THEN
        RAISE EXCEPTION 'a deadline is extended by 1 or 2 months' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NULLIF(btrim(p_reason), '') IS NULL THEN
        RAISE EXCEPTION 'an extension needs its reason (the requester must be told why)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_now > v_request.due_at THEN
        RAISE EXCEPTION 'request % was due %: an extension must be decided before the first deadline',
            p_request_id, v_request.due_at USING ERRCODE = 'object_in_use';
    END IF;
    v_due := gdpr.request_due(v_request.received_at, v_request.tenant, 1 + p_months);
    UPDATE gdpr.dsr_request SET extended_due_at = v_due, extended_at = v_now, extended_by = gdpr.caller()
     WHERE id = p_request_id;
    PERFORM gdpr.write_subject_note(v_request.kind, v_request.tenant, v_request.subject_key, 'request_extension',
                                    p_request_id, p_reason);
    PERFORM gdpr.audit('request_extended', v_request.kind, NULLIF(v_request.tenant, ''), v_request.subject_key, NULL,
                       jsonb_build_object('request_id', p_request_id, 'months', p_months, 'due_at', v_due));
    RETURN v_due;
END $$;
ALTER FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text, p_now timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text, p_now timestamp with time zone) IS 'Extend a request''s deadline once by 1 or 2 months, with a reason, before the first deadline (Art. 12(3))';
CREATE FUNCTION gdpr.fk_edges() RETURNS TABLE(child oid, parent oid, child_columns name[], parent_columns name[], not_null boolean)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT k.conrelid, k.confrelid,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
           NOT EXISTS (SELECT FROM unnest(k.conkey) u(n)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                        WHERE NOT a.attnotnull)
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
      JOIN pg_catalog.pg_class p ON p.oid = k.confrelid
     WHERE k.contype = 'f' AND k.conparentid = 0
       AND NOT c.relispartition AND NOT p.relispartition
$$;
ALTER FUNCTION gdpr.fk_edges() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.fk_edges() IS 'Foreign keys between tables (not partitions): the graph the catalog check walks';
CREATE FUNCTION gdpr.forget_rectifications() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM gdpr.rectification r
     USING (SELECT DISTINCT e.kind, COALESCE(e.tenant, '') AS tenant, e.subject_key FROM erased e) e
     WHERE r.kind = e.kind AND r.tenant = e.tenant AND r.subject_key = e.subject_key;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.forget_rectifications() OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.forget_subject(p_kind text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_kept text;
BEGIN
    SELECT string_agg(format('%s %s', d.n, d.what), ', ') INTO v_kept FROM gdpr.kind_dependents(p_kind) d;
    IF v_kept IS NOT NULL THEN
        RAISE EXCEPTION 'subject kind % is not forgotten: the engine keeps % about its subjects', p_kind, v_kept
            USING ERRCODE = 'dependent_objects_still_exist';
    END IF;
    DELETE FROM gdpr.subject_kind WHERE kind = p_kind;
END $$;
ALTER FUNCTION gdpr.forget_subject(p_kind text) OWNER TO postgres;
CREATE FUNCTION gdpr.forget_subject_notes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM gdpr.subject_note n
     USING (SELECT DISTINCT e.kind, COALESCE(e.tenant, '') AS tenant, e.subject_key FROM erased e) e
     WHERE n.kind = e.kind AND n.tenant = e.tenant AND n.subject_key = e.subject_key;
    DELETE FROM gdpr.consent_withdrawal w
     USING (SELECT DISTINCT e.kind, COALESCE(e.tenant, '') AS tenant, e.subject_key FROM erased e) e
     WHERE w.kind = e.kind AND w.tenant = e.tenant AND w.subject_key = e.subject_key;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.forget_subject_notes() OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamp with time zone) IS 'Let the vendor support role read one club''s rows (no sensitive values) until a time (audited)';
CREATE FUNCTION gdpr.guess_subject_table(p_schema name) RETURNS regclass
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT c.oid::regclass
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema)
       AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY 3 * (SELECT count(*) FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                      AND gdpr.personal_name_category(a.attname, a.atttypid::regtype, false)
                          IN ('name', 'contact', 'national_id'))
            + (SELECT count(*) FROM gdpr.fk_edges() e WHERE e.parent = c.oid AND e.child <> c.oid)
            + CASE WHEN c.relname ~ '(customer|user|member|person|people|client|patient|employee|kunde|medlem)'
                   THEN 5 ELSE 0 END DESC,
              c.relname
     LIMIT 1
$$;
ALTER FUNCTION gdpr.guess_subject_table(p_schema name) OWNER TO postgres;
CREATE FUNCTION gdpr.guess_table_key(p_table oid, OUT key_column name, OUT tenant_column name) RETURNS record
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH pk AS (
        SELECT array_agg(a.attname ORDER BY u.i) AS cols
          FROM pg_catalog.pg_constraint k
          CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY u(n, i)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
         WHERE k.conrelid = p_table AND k.contype = 'p'
    ), tenant AS (
        SELECT e.child_columns[1] AS col FROM gdpr.fk_edges() e, pk
         WHERE e.child = p_table AND cardinality(e.child_columns) = 1 AND e.child_columns[1] = ANY (pk.cols)
           AND cardinality(pk.cols) = 2
         LIMIT 1
    )
    SELECT CASE WHEN cardinality(pk.cols) = 1 THEN pk.cols[1]
                WHEN (SELECT col FROM tenant) IS NOT NULL
                     THEN (SELECT x FROM unnest(pk.cols) x WHERE x <> (SELECT col FROM tenant) LIMIT 1)
                ELSE pk.cols[cardinality(pk.cols)] END,
           (SELECT col FROM tenant)
      FROM pk
$$;
ALTER FUNCTION gdpr.guess_table_key(p_table oid, OUT key_column name, OUT tenant_column name) OWNER TO postgres;
CREATE FUNCTION gdpr.hmac_sha256(p_message text, p_key bytea) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    WITH k AS (SELECT CASE WHEN pg_catalog.length(p_key) > 64 THEN pg_catalog.sha256(p_key) ELSE p_key END AS k),
    b AS (SELECT k.k || pg_catalog.decode(pg_catalog.repeat('00', 64 - pg_catalog.length(k.k)), 'hex') AS k FROM k),
    x AS (SELECT pg_catalog.decode(pg_catalog.string_agg(pg_catalog.lpad(pg_catalog.to_hex(
                     pg_catalog.get_byte(b.k, i) # 54), 2, '0'), '' ORDER BY i), 'hex') AS ipad,
                 pg_catalog.decode(pg_catalog.string_agg(pg_catalog.lpad(pg_catalog.to_hex(
                     pg_catalog.get_byte(b.k, i) # 92), 2, '0'), '' ORDER BY i), 'hex') AS opad
            FROM b, pg_catalog.generate_series(0, 63) AS i)
    SELECT pg_catalog.encode(pg_catalog.sha256(x.opad || pg_catalog.sha256(
               x.ipad || pg_catalog.convert_to(p_message, 'UTF8'))), 'hex')
      FROM x
$$;
ALTER FUNCTION gdpr.hmac_sha256(p_message text, p_key bytea) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.hmac_sha256(p_message text, p_key bytea) IS 'HMAC-SHA256 (hex) of a message; internal';
CREATE TABLE gdpr.legal_hold (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text,
    subject_key text NOT NULL,
    hold_type text NOT NULL,
    reason text NOT NULL,
    created_by name NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    until timestamp with time zone,
    cleared_at timestamp with time zone,
    cleared_by name,
    created_by_login name DEFAULT SESSION_USER,
    CONSTRAINT legal_hold_check CHECK (((cleared_at IS NULL) = (cleared_by IS NULL))),
    CONSTRAINT legal_hold_hold_type_check CHECK ((hold_type = ANY (ARRAY['debt'::text, 'doping'::text, 'litigation'::text, 'other'::text])))
);
ALTER TABLE gdpr.legal_hold OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.legal_hold IS 'Legal holds: active while cleared_at IS NULL AND (until IS NULL OR until > now())';
CREATE FUNCTION gdpr.hold_active(p_hold gdpr.legal_hold, p_at timestamp with time zone) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT p_hold.created_at OPERATOR(pg_catalog.<=) p_at
       AND (p_hold.cleared_at IS NULL OR p_hold.cleared_at OPERATOR(pg_catalog.>) p_at)
       AND (p_hold.until IS NULL OR p_hold.until OPERATOR(pg_catalog.>) p_at)
$$;
ALTER FUNCTION gdpr.hold_active(p_hold gdpr.legal_hold, p_at timestamp with time zone) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.hold_active(p_hold gdpr.legal_hold, p_at timestamp with time zone) IS 'True when a legal hold is in force at the instant: placed, not cleared, not ended';
CREATE FUNCTION gdpr.insight_collect(p_kind text, p_subject_key text, p_tenant text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_kind gdpr.subject_kind;
    v_key_type text;
    v_tenant_type text;
    v_tenant text;
    v_found bigint := 0;
    v_key text;
    v_subject_tenant text;
    v_anonymized_at timestamptz;
    v_access text;
    v_cache gdpr.insight_statement;
    v_statements text[];
    v_metas jsonb[];
    v_count integer;
    v_rows json;
    v_counts integer[] := '{}';
    v_rowsets json[] := '{}';
    v_time_zone text;
    v_saved_time_zone text := current_setting('TimeZone');
    v_result jsonb;
BEGIN
    SELECT * INTO v_kind FROM gdpr.subject_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(left(p_kind, 63))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    -- Register access 'none' (rights issue) holds for the report and the export too:
    -- such staff see no row of the area through the views, so none through here.
    -- Checked before the subject is looked up: the answer tells nothing about it.
    IF NOT gdpr.caller_is_admin() AND gdpr.register_access_of(gdpr.caller(), v_kind.area) = 'none' THEN
        RAISE EXCEPTION 'role % has no access to the % register', gdpr.caller(), v_kind.area
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod),
           (SELECT format_type(b.atttypid, b.atttypmod) FROM pg_catalog.pg_attribute b
             WHERE b.attrelid = a.attrelid AND b.attname = v_kind.tenant_column)
      INTO v_key_type, v_tenant_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = format('%I.%I', v_kind.table_schema, v_kind.table_name)::regclass
       AND a.attname = v_kind.key_column;
    -- The subject row: canonical key, its tenant, its anonymised state.
    BEGIN
        EXECUTE format(
            'SELECT count(*), min(s.%I::text), min(%s::text), min(%s) FROM %I.%I s WHERE s.%I = $1::%s%s',
            v_kind.key_column,
            CASE WHEN v_kind.tenant_column IS NOT NULL THEN format('s.%I', v_kind.tenant_column) ELSE 'NULL' END,
            -- erased: the engine's ledger says when (not the row's own column, which its
            -- writers could set or clear)
            format('(SELECT max(l.erased_at) FROM gdpr.erasure_ledger l WHERE l.kind = %L '
                   'AND l.subject_key = s.%I::text AND %s)', v_kind.kind, v_kind.key_column,
                   CASE WHEN v_kind.tenant_column IS NOT NULL THEN format('l.tenant = s.%I::text', v_kind.tenant_column)
                        ELSE 'l.tenant IS NULL' END),
            v_kind.table_schema, v_kind.table_name, v_kind.key_column, v_key_type,
            CASE WHEN v_kind.tenant_column IS NOT NULL AND v_tenant IS NOT NULL
                 THEN format(' AND s.%I = $2::%s', v_kind.tenant_column, v_tenant_type) ELSE '' END)
          INTO v_found, v_key, v_subject_tenant, v_anonymized_at
          USING p_subject_key, v_tenant;
    EXCEPTION WHEN data_exception THEN  -- a malformed key: same answer as an unknown one
        v_found := 0;
    END;
    PERFORM gdpr.require_one_subject(p_kind, p_subject_key, v_tenant, v_found);
    -- Evaluated once per call (performance-floor.md), the same function the masking views use.
    v_access := gdpr.sensitive_access_of(gdpr.caller(), v_kind.area);
    -- Art. 12(1): times in the club's own time zone (ISO-8601 with its offset), not UTC;
    -- the caller's setting is given back before returning
    v_time_zone := gdpr.tenant_time_zone(v_subject_tenant);
    PERFORM set_config('TimeZone', v_time_zone, true);
    v_cache := gdpr.insight_statements(p_kind);
    v_statements := v_cache.statements;
    v_metas := v_cache.metas;
    -- One set-based query per declared table.
    FOR i IN 1 .. COALESCE(array_length(v_statements, 1), 0) LOOP
        EXECUTE v_statements[i] INTO v_count, v_rows
          USING v_key, v_subject_tenant, v_access;
        v_counts[i] := v_count;
        v_rowsets[i] := v_rows;
    END LOOP;
    -- The document is assembled as json text and parsed into jsonb once: nesting
    -- jsonb values re-encodes them at every level, which costs more than the queries.
    v_result := (
        WITH sections AS (
            SELECT u.o, u.m, u.c, u.r FROM unnest(v_metas, v_counts, v_rowsets) WITH ORDINALITY AS u(m, c, r, o)
        )
        SELECT (left(json_build_object(
            'subject', json_build_object('kind', v_kind.kind, 'key', v_key, 'tenant', v_subject_tenant,
                                         'tenant_name', gdpr.tenant_name(v_subject_tenant),
                                         'time_zone', v_time_zone,
                                         'anonymized_at', v_anonymized_at,
                                         -- Art. 18: processing restricted; Databeskyttelsesloven § 6: a child
                                         'restricted', gdpr.subject_restricted(p_kind, v_subject_tenant, v_key),
                                         'age_band', gdpr.subject_age_band(p_kind, v_subject_tenant, v_key)),
            -- "anonymised on ..., what is still kept" (docs/erasure.md)
            'anonymized', CASE WHEN v_anonymized_at IS NOT NULL THEN json_build_object(
                'at', v_anonymized_at,
                'kept', COALESCE((SELECT json_agg(json_build_object(
                            'table', s.m -> 'table', 'title_da', s.m -> 'title_da', 'title_en', s.m -> 'title_en',
                            'count', s.c, 'on_erase', s.m -> 'on_erase', 'retention', s.m -> 'retention') ORDER BY s.o)
                          FROM sections s WHERE s.c > 0), '[]')) END,
            'sensitive_access', v_access,
            -- Art. 15(1)(a)-(h): purposes, categories, recipients, retention, source, rights.
            'information', json_build_object(
                'controller', COALESCE(gdpr.tenant_name(v_subject_tenant), v_subject_tenant),
                'purposes', (SELECT json_agg(DISTINCT jsonb_build_object('purpose', s.m -> 'purpose',
                                                                          'legal_basis', s.m -> 'legal_basis'))
                               FROM sections s),
                'categories', COALESCE((SELECT json_agg(DISTINCT cat.category)
                                          FROM sections s,
                                               jsonb_array_elements_text(s.m -> 'categories') AS cat(category)),
                                       '[]'),
                'recipients', (SELECT json_agg(DISTINCT s.m ->> 'recipients') FROM sections s),
                'sources', (SELECT json_agg(DISTINCT s.m ->> 'source') FROM sections s),
                'retention', (SELECT json_agg(json_build_object('title_da', s.m -> 'title_da',
                                  'title_en', s.m -> 'title_en', 'retention', s.m -> 'retention') ORDER BY s.o)
                                FROM sections s),
                'rights', gdpr.insight_rights(),
                'automated_decisions', 'Ingen automatiske afgørelser / no automated decision-making (Art. 22)',
                'generated_at', statement_timestamp()),
            'row_count', (SELECT COALESCE(sum(s.c), 0) FROM sections s),
            -- When pgdpr revealed or changed this subject's data (Art. 15, Art. 5(2)):
            -- day, action, purpose, format and how many times; never who did it.
            'access_history', (SELECT COALESCE(json_agg(json_build_object(
                                   'date', h.day, 'action', h.action, 'purpose', h.purpose, 'format', h.format,
                                   'times', h.times) ORDER BY h.day, h.first), '[]')
                                 FROM (SELECT (e.at AT TIME ZONE v_time_zone)::date AS day, e.action, e.purpose,
                                              e.details ->> 'format' AS format, count(*) AS times, min(e.id) AS first
                                         FROM gdpr.audit_event e
                                        WHERE e.kind = p_kind AND e.subject_key = v_key
                                          AND e.tenant IS NOT DISTINCT FROM v_subject_tenant
                                        GROUP BY 1, 2, 3, 4) h),
            -- Art. 16: which of the subject's data was corrected, when; old values of
            -- sensitive columns are not kept (gdpr.rectification.sql)
            'rectifications', gdpr.subject_rectifications(p_kind, v_subject_tenant, v_key, v_access)
        )::text, -1)
        -- then one object per table: its header (a jsonb object, so its text ends in
        -- '}') extended with the row count and the rows
        || ', "sections": [' || COALESCE((SELECT string_agg(
               left(s.m::text, -1) || ', "count": ' || s.c || ', "rows": ' || s.r::text || '}', ', ' ORDER BY s.o)
               FROM sections s), '') || ']}')::jsonb);
    PERFORM set_config('TimeZone', v_saved_time_zone, true);
    RETURN v_result;
END $_$;
ALTER FUNCTION gdpr.insight_collect(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_collect(p_kind text, p_subject_key text, p_tenant text) IS 'Internal: the insight report of one subject without its audit event (use gdpr.insight_report)';
CREATE FUNCTION gdpr.insight_columns(p_kind text) RETURNS TABLE(section text, title_da text, title_en text, purpose text, legal_basis text, retention text, recipients text, source text, field text, label_da text, label_en text, type text, category text, sensitive boolean)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT m ->> 'table', m ->> 'title_da', m ->> 'title_en', m ->> 'purpose', m ->> 'legal_basis',
           m ->> 'retention', m ->> 'recipients', m ->> 'source',
           c ->> 'name', c ->> 'label_da', c ->> 'label_en', c ->> 'type', c ->> 'category',
           (c ->> 'sensitive')::boolean
      FROM pg_catalog.unnest((gdpr.insight_statements(p_kind)).metas) WITH ORDINALITY AS s(m, spos)
     CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(m -> 'columns') WITH ORDINALITY AS col(c, cpos)
     ORDER BY s.spos, col.cpos
$$;
ALTER FUNCTION gdpr.insight_columns(p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_columns(p_kind text) IS 'The sections and columns of a subject kind''s insight report and export (catalog description, no personal data)';
CREATE FUNCTION gdpr.insight_fingerprint(p_kind text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH declared AS (
        SELECT ct.table_schema, ct.table_name, ct.xmin::text AS version,
               pg_catalog.to_regclass(pg_catalog.format('%I.%I', ct.table_schema, ct.table_name)) AS rel
          FROM gdpr.catalog_table ct
         WHERE ct.kind = p_kind
    )
    SELECT pg_catalog.md5(pg_catalog.concat_ws('|',
        (SELECT i.sql_digest FROM gdpr.install_state i),
        -- the generator itself, also when re-created by hand outside `pgdpr migrate`
        (SELECT pg_catalog.string_agg(p.xmin::text, ',' ORDER BY p.oid) FROM pg_catalog.pg_proc p
          WHERE p.pronamespace = 'gdpr'::regnamespace AND p.proname IN ('insight_sections', 'subject_filter')),
        (SELECT k.xmin::text FROM gdpr.subject_kind k WHERE k.kind = p_kind),
        (SELECT pg_catalog.string_agg(d.version || ':' || d.rel::oid, ',' ORDER BY d.table_schema, d.table_name)
           FROM declared d),
        (SELECT pg_catalog.string_agg(cc.xmin::text, ',' ORDER BY cc.table_schema, cc.table_name, cc.column_name)
           FROM gdpr.catalog_column cc
          WHERE (cc.table_schema, cc.table_name) IN (SELECT d.table_schema, d.table_name FROM declared d)),
        (SELECT pg_catalog.string_agg(a.attrelid::text || '.' || a.attnum || '.' || a.xmin::text, ','
                                      ORDER BY a.attrelid, a.attnum)
           FROM declared d JOIN pg_catalog.pg_attribute a ON a.attrelid = d.rel AND a.attnum > 0),
        (SELECT pg_catalog.string_agg(c.oid::text || '.' || c.xmin::text, ',' ORDER BY c.oid)
           FROM declared d JOIN pg_catalog.pg_constraint c ON c.conrelid = d.rel AND c.contype = 'p')))
$$;
ALTER FUNCTION gdpr.insight_fingerprint(p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_fingerprint(p_kind text) IS 'Internal: digest of everything the generated insight statements of a kind depend on';
CREATE FUNCTION gdpr.insight_report(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL::text, p_purpose text DEFAULT 'insight report'::text, p_format text DEFAULT 'json'::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_report jsonb;
BEGIN
    v_report := gdpr.insight_collect(p_kind, p_subject_key, p_tenant);
    PERFORM gdpr.audit('insight_report', p_kind, v_report #>> '{subject,tenant}', v_report #>> '{subject,key}',
        p_purpose,
        jsonb_build_object('format', left(p_format, 20),
                                      'sections', jsonb_array_length(v_report -> 'sections'),
                                      'rows', v_report -> 'row_count',
                                      -- Art. 33 evidence: the caller's level, what it saw in clear
                                      'sensitive_access', v_report -> 'sensitive_access',
                                      'unmasked', gdpr.insight_unmasked(v_report)));
    RETURN v_report;
END $$;
ALTER FUNCTION gdpr.insight_report(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_report(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text) IS 'Data Insight Report (GDPR Art. 15): all data held on one subject, the Art. 15(1) information and its access history, sensitive values rendered for the caller; writes one audit event';
CREATE FUNCTION gdpr.insight_rights() RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT '[
      {"right": "access", "article": "15", "da": "Ret til indsigt i de oplysninger, vi behandler om dig", "en": "The right of access to the data we process about you"},
      {"right": "rectification", "article": "16", "da": "Ret til at få urigtige oplysninger berigtiget", "en": "The right to have inaccurate data rectified"},
      {"right": "erasure", "article": "17", "da": "Ret til sletning (\"retten til at blive glemt\"), hvor vi ikke har pligt til at opbevare oplysningerne", "en": "The right to erasure (\"right to be forgotten\") where we are not obliged to keep the data"},
      {"right": "restriction", "article": "18", "da": "Ret til begrænsning af behandlingen", "en": "The right to restriction of processing"},
      {"right": "portability", "article": "20", "da": "Ret til at modtage dine oplysninger i et maskinlæsbart format (dataportabilitet)", "en": "The right to receive your data in a machine-readable format (data portability)"},
      {"right": "objection", "article": "21", "da": "Ret til indsigelse mod behandling baseret på legitim interesse", "en": "The right to object to processing based on legitimate interest"},
      {"right": "complaint", "article": "77", "da": "Ret til at klage til Datatilsynet, Carl Jacobsens Vej 35, 2500 Valby, dt@datatilsynet.dk, www.datatilsynet.dk", "en": "The right to lodge a complaint with the Danish Data Protection Agency (Datatilsynet), Carl Jacobsens Vej 35, 2500 Valby, dt@datatilsynet.dk, www.datatilsynet.dk"}
    ]'::jsonb
$$;
ALTER FUNCTION gdpr.insight_rights() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.insight_rights() IS 'The data subject''s rights (GDPR Art. 15-21, 77), Danish and English';
CREATE FUNCTION gdpr.insight_rows(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL::text, p_purpose text DEFAULT 'data export'::text, p_format text DEFAULT 'csv'::text, p_provided_only boolean DEFAULT false) RETURNS TABLE(section text, title_da text, title_en text, record integer, field text, label_da text, label_en text, value text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_report jsonb;
BEGIN
    v_report := gdpr.insight_collect(p_kind, p_subject_key, p_tenant);
    -- Art. 20(4): another person's key (the staff member who wrote a note) is not the
    -- subject's to take along; Art. 20(1): with p_provided_only, only the sections
    -- whose declared source is the subject (gdpr.source_is_subject)
    SELECT jsonb_set(v_report, '{sections}', COALESCE(jsonb_agg(
               jsonb_set(s, '{columns}', (SELECT COALESCE(jsonb_agg(CASE WHEN (c ->> 'third_party')::boolean
                                                   THEN c || '{"left_out": true}' ELSE c END ORDER BY cpos), '[]')
                                            FROM jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS col(c, cpos)))
               ORDER BY spos), '[]'))
      INTO v_report
      FROM jsonb_array_elements(v_report -> 'sections') WITH ORDINALITY AS sec(s, spos)
     WHERE NOT p_provided_only OR (s ->> 'provided_by_subject')::boolean;
    PERFORM gdpr.audit('export', p_kind, v_report #>> '{subject,tenant}', v_report #>> '{subject,key}',
        p_purpose,
        jsonb_build_object('format', left(p_format, 20),
                                      'sections', jsonb_array_length(v_report -> 'sections'),
                                      'rows', (SELECT COALESCE(sum((s ->> 'count')::integer), 0)
                                                 FROM jsonb_array_elements(v_report -> 'sections') s),
                                      'provided_only', p_provided_only,
                                      'sensitive_access', v_report -> 'sensitive_access',
                                      'unmasked', gdpr.insight_unmasked(v_report)));
    RETURN QUERY
        SELECT s ->> 'table', s ->> 'title_da', s ->> 'title_en', r.ord::integer,
               c ->> 'name', c ->> 'label_da', c ->> 'label_en',
               (r.rec -> (col.cpos - 1)::integer) #>> '{}'   -- jsonb text: dates already ISO-8601
          FROM jsonb_array_elements(v_report -> 'sections') WITH ORDINALITY AS sec(s, spos)
          CROSS JOIN LATERAL jsonb_array_elements(s -> 'rows') WITH ORDINALITY AS r(rec, ord)
          CROSS JOIN LATERAL jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS col(c, cpos)
         WHERE (c ->> 'left_out') IS NULL
         ORDER BY sec.spos, r.ord, col.cpos;
END $$;
ALTER FUNCTION gdpr.insight_rows(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text, p_provided_only boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_rows(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text, p_provided_only boolean) IS 'Portable export (GDPR Art. 20): the insight report as (section, record, field, value) rows; writes one audit event';
CREATE FUNCTION gdpr.insight_sections(p_kind text) RETURNS TABLE(table_schema name, table_name name, section_position integer, meta jsonb, statement text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    WITH subject AS (
        SELECT k.kind, k.tenant_column,
               pg_catalog.format_type(ka.atttypid, ka.atttypmod) AS key_type,
               pg_catalog.format_type(ta.atttypid, ta.atttypmod) AS tenant_type
          FROM gdpr.subject_kind k
          JOIN pg_catalog.pg_attribute ka
            ON ka.attrelid = pg_catalog.format('%I.%I', k.table_schema, k.table_name)::pg_catalog.regclass
           AND ka.attname = k.key_column
          LEFT JOIN pg_catalog.pg_attribute ta
            ON ta.attrelid = ka.attrelid AND ta.attname = k.tenant_column
         WHERE k.kind = p_kind
    ), declared AS (
        SELECT ct.*, pg_catalog.format('%I.%I', ct.table_schema, ct.table_name)::pg_catalog.regclass AS rel
          FROM gdpr.catalog_table ct
         WHERE ct.kind = p_kind
    ), cols AS (
        SELECT d.table_schema, d.table_name, a.attnum, a.attname,
               pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name,
               c.category, COALESCE(c.sensitive, false) AS sensitive, c.sensitive_when,
               -- Art. 12(1): every column has a label; one the catalog gave none reads as words
               COALESCE(c.label_da, fk.label, gdpr.column_label(a.attname)) AS label_da,
               COALESCE(c.label_en, fk.label, gdpr.column_label(a.attname)) AS label_en,
               fk.ref_table, fk.other_subject,
               CASE
                   WHEN c.sensitive THEN pg_catalog.format(
                       'gdpr.render_sensitive(t.%I::text, $3) AS %I', a.attname, a.attname)
                   WHEN c.sensitive_when IS NOT NULL THEN pg_catalog.format(
                       'CASE WHEN t.%I THEN gdpr.render_sensitive(t.%I::text, $3) ELSE t.%I::text END AS %I',
                       c.sensitive_when, a.attname, a.attname, a.attname)
                   -- free text: CPR- and account-shaped numbers masked by pattern, whoever's
                   -- they are, as in the views; never by comparison with the subject's values
                   -- (the caller controls the text: that comparison would be a guessing oracle)
                   WHEN c.category = 'free_text' THEN pg_catalog.format(
                       'gdpr.render_free_text(t.%I::text, $3) AS %I', a.attname, a.attname)
                   -- a key of a named thing (the class, the court, the custom field) reads as
                   -- its name, looked up in the same club (the foreign key includes the
                   -- tenant column); the key itself when the thing has no name
                   WHEN fk.name_expr IS NOT NULL THEN pg_catalog.format(
                       'COALESCE(%s, t.%I::text) AS %I', fk.name_expr, a.attname, a.attname)
                   ELSE pg_catalog.format('t.%I', a.attname)
               END AS expr
          FROM declared d
          CROSS JOIN subject s
          JOIN pg_catalog.pg_attribute a
            ON a.attrelid = d.rel AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname IS DISTINCT FROM s.tenant_column  -- the club id is not the customer's data
          LEFT JOIN gdpr.catalog_column c
            ON c.table_schema = d.table_schema AND c.table_name = d.table_name AND c.column_name = a.attname
          -- a foreign key through this column to another table's primary key, where that
          -- table has a column called name or title: the name that stands for the key
          LEFT JOIN LATERAL (
                SELECT CASE WHEN nm.attname IS NOT NULL THEN
                       pg_catalog.format('(SELECT r.%I::text FROM %s r WHERE %s)', nm.attname,
                                         f.confrelid::pg_catalog.regclass,
                                         (SELECT pg_catalog.string_agg(pg_catalog.format('r.%I OPERATOR(pg_catalog.=) t.%I',
                                                     ra.attname, la.attname), ' AND ')
                                            FROM ROWS FROM (pg_catalog.unnest(f.conkey), pg_catalog.unnest(f.confkey)) u(src, dst)
                                            JOIN pg_catalog.pg_attribute la ON la.attrelid = f.conrelid AND la.attnum = u.src
                                            JOIN pg_catalog.pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = u.dst))
                       END AS name_expr,
                       gdpr.column_label(a.attname) AS label,
                       f.confrelid::pg_catalog.regclass::text AS ref_table,
                       -- a key of another subject kind's person (the staff member who wrote
                       -- a note): that person's data, not the subject's (Art. 20(4))
                       EXISTS (SELECT FROM gdpr.subject_kind ok
                                WHERE ok.kind <> s.kind
                                  AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', ok.table_schema, ok.table_name))
                                      = f.confrelid) AS other_subject
                  FROM pg_catalog.pg_constraint f
                  JOIN pg_catalog.pg_constraint pk ON pk.conrelid = f.confrelid AND pk.contype = 'p'
                  LEFT JOIN LATERAL (
                        SELECT na.attname FROM pg_catalog.pg_attribute na
                         WHERE na.attrelid = f.confrelid AND na.attname IN ('name', 'title') AND NOT na.attisdropped
                           -- only a table the engine may read (the catalog's schemas grant it)
                           AND pg_catalog.has_column_privilege('pgdpr_owner', f.confrelid, na.attnum, 'SELECT')
                         ORDER BY na.attname LIMIT 1) nm ON true
                 WHERE f.conrelid = d.rel AND f.contype = 'f' AND a.attnum = ANY (f.conkey)
                   AND a.attname IS DISTINCT FROM s.tenant_column
                   AND f.confkey[pg_catalog.array_position(f.conkey, a.attnum)] = ANY (pk.conkey)
                   AND (nm.attname IS NOT NULL OR EXISTS (
                        SELECT FROM gdpr.subject_kind ok WHERE ok.kind <> s.kind
                           AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', ok.table_schema, ok.table_name))
                               = f.confrelid))
                 ORDER BY nm.attname IS NULL, f.oid LIMIT 1) fk ON true
    ), ordering AS (
        -- rows in primary key order (without the tenant column), for a stable report
        SELECT d.table_schema, d.table_name,
               pg_catalog.string_agg(pg_catalog.format('x.%I', a.attname), ', ' ORDER BY k.ord) AS order_by
          FROM declared d
          CROSS JOIN subject s
          JOIN pg_catalog.pg_constraint pk ON pk.conrelid = d.rel AND pk.contype = 'p'
          CROSS JOIN LATERAL pg_catalog.unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = d.rel AND a.attnum = k.attnum
         WHERE a.attname IS DISTINCT FROM s.tenant_column
         GROUP BY d.table_schema, d.table_name
    )
    SELECT d.table_schema, d.table_name, d.position,
           pg_catalog.jsonb_build_object(
               'table', pg_catalog.format('%I.%I', d.table_schema, d.table_name),
               'link', d.link, 'on_erase', d.on_erase,
               'title_da', d.title_da, 'title_en', d.title_en,
               'purpose', d.purpose, 'legal_basis', d.legal_basis, 'retention', d.retention,
               'recipients', d.recipients, 'source', d.source,
               'provided_by_subject', gdpr.source_is_subject(d.source),
               'categories', COALESCE((
                   SELECT pg_catalog.jsonb_agg(DISTINCT c.category) FROM cols c
                    WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name
                      AND c.category IS NOT NULL), '[]'),
               'columns', (
                   SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                              'name', c.attname, 'type', c.type_name, 'category', c.category,
                              'sensitive', c.sensitive OR c.sensitive_when IS NOT NULL,
                              'sensitive_when', c.sensitive_when,
                              'label_da', c.label_da, 'label_en', c.label_en,
                              'refers_to', c.ref_table, 'third_party', c.other_subject) ORDER BY c.attnum)
                     FROM cols c WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name)),
           pg_catalog.format(
               'SELECT pg_catalog.count(*)::integer, COALESCE(pg_catalog.json_agg(%s%s), ''[]'') '
               'FROM (SELECT %s FROM %I.%I t WHERE %s) x',
               -- each row an array of its values in column order (the section's "columns"
               -- name them): a third of the size of one object per row, and far cheaper to
               -- parse into jsonb; json_build_array takes 100 arguments, wider rows are
               -- built in pieces of 100 and joined
               (SELECT CASE WHEN pg_catalog.count(*) = 1 THEN pg_catalog.min(p.piece)
                            ELSE '(' || pg_catalog.string_agg(p.piece || '::jsonb', ' || ' ORDER BY p.n) || ')::json' END
                  FROM (SELECT (c.ord - 1) / 100 AS n,
                               'pg_catalog.json_build_array(' || pg_catalog.string_agg(pg_catalog.format('x.%I', c.attname),
                                   ', ' ORDER BY c.ord) || ')' AS piece
                          FROM (SELECT c.attname, pg_catalog.row_number() OVER (ORDER BY c.attnum) AS ord
                                  FROM cols c
                                 WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name) c
                         GROUP BY 1) p),
               ' ORDER BY ' || o.order_by,
               (SELECT pg_catalog.string_agg(c.expr, ', ' ORDER BY c.attnum) FROM cols c
                 WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name),
               d.table_schema, d.table_name,
               gdpr.subject_filter(d.table_schema, d.table_name, 't',
                   pg_catalog.format('= $1::%s', s.key_type),
                   CASE WHEN s.tenant_type IS NOT NULL THEN pg_catalog.format('= $2::%s', s.tenant_type) END))
      FROM declared d
      CROSS JOIN subject s
      LEFT JOIN ordering o ON o.table_schema = d.table_schema AND o.table_name = d.table_name
$_$;
ALTER FUNCTION gdpr.insight_sections(p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_sections(p_kind text) IS 'Internal: the generated per-table SELECT and section header of every declared table of a subject kind';
CREATE TABLE gdpr.insight_statement (
    kind text NOT NULL,
    fingerprint text NOT NULL,
    statements text[] NOT NULL,
    metas jsonb[] NOT NULL,
    built_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE gdpr.insight_statement OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.insight_statement IS 'Cache of the generated insight report statements per subject kind (SQL text only)';
CREATE FUNCTION gdpr.insight_statements(p_kind text) RETURNS gdpr.insight_statement
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_fingerprint text := gdpr.insight_fingerprint(p_kind);
    v_cached gdpr.insight_statement;
BEGIN
    SELECT * INTO v_cached FROM gdpr.insight_statement WHERE kind = p_kind;
    IF FOUND AND v_cached.fingerprint = v_fingerprint THEN
        RETURN v_cached;
    END IF;
    SELECT p_kind, v_fingerprint,
           COALESCE(array_agg(i.statement ORDER BY i.section_position, i.table_schema, i.table_name), '{}'),
           COALESCE(array_agg(i.meta ORDER BY i.section_position, i.table_schema, i.table_name), '{}'),
           now()
      INTO v_cached
      FROM gdpr.insight_sections(p_kind) i;
    IF current_setting('transaction_read_only') = 'off' THEN  -- a hot standby just generates
        INSERT INTO gdpr.insight_statement AS c (kind, fingerprint, statements, metas, built_at)
        VALUES (v_cached.kind, v_cached.fingerprint, v_cached.statements, v_cached.metas, v_cached.built_at)
        ON CONFLICT (kind) DO UPDATE SET fingerprint = excluded.fingerprint, statements = excluded.statements,
            metas = excluded.metas, built_at = excluded.built_at;
    END IF;
    RETURN v_cached;
END $$;
ALTER FUNCTION gdpr.insight_statements(p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_statements(p_kind text) IS 'Internal: the generated insight report statements of a subject kind (cached in gdpr.insight_statement)';
CREATE FUNCTION gdpr.insight_unmasked(p_report jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE(jsonb_agg(DISTINCT (s ->> 'table') || '.' || (c ->> 'name')), '[]')
      FROM jsonb_array_elements(p_report -> 'sections') AS sec(s)
     CROSS JOIN LATERAL jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS col(c, cpos)
     WHERE p_report ->> 'sensitive_access' = 'allowed' AND (c ->> 'sensitive')::boolean
       AND EXISTS (SELECT FROM jsonb_array_elements(s -> 'rows') AS r(rec)
                    WHERE jsonb_typeof(r.rec -> (col.cpos - 1)::integer) IS DISTINCT FROM 'null'
                      AND r.rec -> (col.cpos - 1)::integer IS NOT NULL
                      -- a column sensitive row by row (sensitive_when): only rows whose flag is true
                      AND (c ->> 'sensitive_when' IS NULL OR EXISTS (
                           SELECT FROM jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS f(fc, fpos)
                            WHERE f.fc ->> 'name' = c ->> 'sensitive_when'
                              AND r.rec -> (f.fpos - 1)::integer = 'true'::jsonb)))
$$;
ALTER FUNCTION gdpr.insight_unmasked(p_report jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.insight_unmasked(p_report jsonb) IS 'Internal: the sensitive columns a report showed in clear (names only), for its audit event';
CREATE FUNCTION gdpr.install_erasure_guards(p_kind text DEFAULT NULL::text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_t record;
    v_n integer := 0;
BEGIN
    FOR v_t IN
        SELECT q.*, g.tgargs AS current_args
          FROM (SELECT e.*, gdpr.erasure_guard_query(e.table_schema, e.table_name, e.event) AS query
                  FROM gdpr.erasure_guard_targets(p_kind) e) q
          LEFT JOIN pg_catalog.pg_trigger g ON g.tgrelid = q.rel AND g.tgname = q.trigger_name
         WHERE g.tgargs IS DISTINCT FROM convert_to(q.query, 'UTF8') || '\x00'::bytea
    LOOP
        BEGIN
            IF v_t.current_args IS NOT NULL THEN
                EXECUTE format('DROP TRIGGER %I ON %s', v_t.trigger_name, v_t.rel);
            END IF;
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s
                            FOR EACH STATEMENT EXECUTE FUNCTION gdpr.erasure_guard(%L)',
                           v_t.trigger_name, v_t.event, v_t.rel, v_t.transition, v_t.query);
            v_n := v_n + 1;
        EXCEPTION WHEN insufficient_privilege THEN
            -- a catalog declared before declare_table granted TRIGGER: the next
            -- `pgdpr migrate` (run by the table owner) installs it; erasure goes on.
            RAISE WARNING 'erasure guard not installed on %: run pgdpr migrate', v_t.rel;
        END;
    END LOOP;
    RETURN v_n;
END $$;
ALTER FUNCTION gdpr.install_erasure_guards(p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.install_erasure_guards(p_kind text) IS 'Install (or renew) the erasure guard triggers (insert, update) on every declared direct/via table';
CREATE FUNCTION gdpr.install_mention_indexes() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_p record;
    v_n integer := 0;
BEGIN
    FOR v_p IN SELECT * FROM gdpr.mention_index_plan(false) ORDER BY step LOOP
        BEGIN
            EXECUTE v_p.statement;
            v_n := v_n + CASE WHEN v_p.statement LIKE 'CREATE INDEX%' THEN 1 ELSE 0 END;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'mention index not created (%): run pgdpr migrate as the table''s owner', SQLERRM;
        END;
    END LOOP;
    RETURN v_n;
END $$;
ALTER FUNCTION gdpr.install_mention_indexes() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.install_mention_indexes() IS 'Create (or rebuild) the trigram indexes of the mention search on every declared free-text column';
CREATE FUNCTION gdpr.install_salt() RETURNS bytea
    LANGUAGE sql STABLE
    AS $$
    SELECT s.salt FROM gdpr.install_secret s
$$;
ALTER FUNCTION gdpr.install_salt() OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.install_salt() IS 'The per-install secret salt (readable by pgdpr_owner only); internal';
CREATE FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL::text) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_k integer;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('WITH e AS MATERIALIZED (%s)
                    SELECT count(*)::integer FROM e, (SELECT * FROM e WHERE e.subject_key = $2) s
                     WHERE e.tenant IS NOT DISTINCT FROM s.tenant AND e.qi = s.qi
                    HAVING count(*) > 0', gdpr.erased_rows_sql(p_kind))
       INTO v_k USING v_tenant, p_subject_key;
    RETURN v_k;
END $_$;
ALTER FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text) IS 'How many erased subjects of the club share this erased subject''s kept quasi-identifiers (k); NULL if not erased';
CREATE FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_cols record;
    v_figures jsonb;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_cols FROM gdpr.kept_columns(p_kind);
    EXECUTE format('WITH g AS (SELECT count(*) AS n FROM (%s) e GROUP BY e.tenant, e.qi)
                    SELECT jsonb_build_object(''erased'', COALESCE(sum(g.n), 0), ''k_min'', min(g.n),
                                              ''below_target'', COALESCE(sum(g.n) FILTER (WHERE g.n < 5), 0))
                      FROM g', gdpr.erased_rows_sql(p_kind))
       INTO v_figures USING v_tenant;
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_tenant, 'target', 5,
                              'quasi_identifiers', to_jsonb(v_cols.quasi_identifiers),
                              'linkable', to_jsonb(v_cols.linkable)) || v_figures;
END $$;
ALTER FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text) IS 'Erased subjects of a club, the smallest k among them (target 5) and the kept columns that count';
CREATE FUNCTION gdpr.kept_columns(p_kind text, OUT quasi_identifiers name[], OUT linkable name[]) RETURNS record
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE(array_agg(c.column_name ORDER BY c.column_name) FILTER (WHERE c.erase IN ('keep', 'year_only')), '{}'),
           COALESCE(array_agg(c.column_name ORDER BY c.column_name) FILTER (WHERE c.erase = 'hash'), '{}')
      FROM gdpr.subject_kind s
      JOIN gdpr.catalog_table t ON t.table_schema = s.table_schema AND t.table_name = s.table_name
                               AND t.kind = s.kind AND t.on_erase = 'anonymize'
      JOIN gdpr.catalog_column c ON c.table_schema = s.table_schema AND c.table_name = s.table_name
     WHERE s.kind = p_kind
$$;
ALTER FUNCTION gdpr.kept_columns(p_kind text, OUT quasi_identifiers name[], OUT linkable name[]) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.keyed_hash(p_value text, p_salt bytea) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(p_salt || pg_catalog.convert_to(p_value, 'UTF8')), 'hex')
$$;
ALTER FUNCTION gdpr.keyed_hash(p_value text, p_salt bytea) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.keyed_hash(p_value text, p_salt bytea) IS 'Keyed SHA-256 of a value (the hash erase strategy); internal';
CREATE FUNCTION gdpr.kind_dependents(p_kind text) RETURNS TABLE(what text, n bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_check record;
BEGIN
    FOR v_check IN
        SELECT * FROM (VALUES ('legal holds', 'gdpr.legal_hold', 'kind'),
                              ('rules', 'gdpr.rule', 'kind'),
                              ('erasure ledger entries', 'gdpr.erasure_ledger', 'kind'),
                              ('erasure proofs', 'gdpr.erasure_proof', 'kind'),
                              ('deferred erasures', 'gdpr.deferred_erasure', 'kind'),
                              ('data-subject requests', 'gdpr.dsr_request', 'kind')) AS c(what, rel, col)
         WHERE pg_catalog.to_regclass(c.rel) IS NOT NULL
           AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = pg_catalog.to_regclass(c.rel) AND a.attname = c.col AND NOT a.attisdropped)
    LOOP
        what := v_check.what;
        EXECUTE format('SELECT count(*) FROM %s WHERE %I = $1', v_check.rel, v_check.col) INTO n USING p_kind;
        IF n > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END $_$;
ALTER FUNCTION gdpr.kind_dependents(p_kind text) OWNER TO postgres;
CREATE FUNCTION gdpr.known_tenant(p_tenant text, p_exact boolean DEFAULT false) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_t gdpr.tenant_table;
    v_key text;
BEGIN
    SELECT * INTO v_t FROM gdpr.tenant_table;
    IF p_tenant IS NULL OR NOT FOUND THEN
        RETURN p_tenant;
    END IF;
    BEGIN
        EXECUTE format('SELECT t.%1$I::text FROM %2$I.%3$I t WHERE t.%1$I = $1::%4$s', v_t.key_column,
                       v_t.table_schema, v_t.table_name,
                       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = format('%I.%I', v_t.table_schema, v_t.table_name)::regclass
                           AND a.attname = v_t.key_column))
           INTO v_key USING p_tenant;
    EXCEPTION WHEN data_exception THEN
        v_key := NULL;
    END;
    IF v_key IS NULL THEN
        RAISE EXCEPTION 'club % does not exist', quote_literal(p_tenant) USING ERRCODE = 'invalid_parameter_value';
    ELSIF p_exact AND v_key <> p_tenant THEN
        RAISE EXCEPTION 'club key % is written %', quote_literal(p_tenant), quote_literal(v_key)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_key;
END $_$;
ALTER FUNCTION gdpr.known_tenant(p_tenant text, p_exact boolean) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.known_tenant(p_tenant text, p_exact boolean) IS 'The canonical key of an existing tenant (club); refuses an unknown club';
CREATE FUNCTION gdpr.ledger_export(p_since timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS TABLE(kind text, tenant text, subject_key text, erased_at timestamp with time zone, actor name, rule_id bigint, reason_category text, signature text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT l.kind, l.tenant, l.subject_key, l.erased_at, l.actor, l.rule_id, l.reason_category,
           gdpr.ledger_signature(l.kind, l.tenant, l.subject_key, l.erased_at, l.actor::text, l.rule_id,
                                 l.reason_category, s.salt)
      FROM gdpr.erasure_ledger l, gdpr.install_secret s
     WHERE p_since IS NULL OR l.erased_at >= p_since
     ORDER BY l.erased_at, l.id
$$;
ALTER FUNCTION gdpr.ledger_export(p_since timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.ledger_export(p_since timestamp with time zone) IS 'The erasure ledger (no personal data), oldest first, each entry signed with the install secret';
CREATE FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean DEFAULT false) RETURNS TABLE(kind text, tenant text, subject_key text, erased_at timestamp with time zone, outcome text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_salt bytea;
    v_entries jsonb;         -- one per (kind, tenant, subject); outcome set when already decided
    v_done jsonb;            -- decided entries
    v_group record;
    v_rows jsonb;
    v_todo text[];
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only pgdpr_admin may replay the erasure ledger' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF jsonb_typeof(p_entries) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'ledger entries must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM jsonb_array_elements(p_entries) e WHERE jsonb_typeof(e) <> 'object') THEN
        RAISE EXCEPTION 'every ledger entry must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_salt := gdpr.install_salt();
    -- 1. Validate each entry (fields, signature, kind, club); one entry per subject,
    --    a valid one before an invalid one, the earliest first.
    SELECT COALESCE(jsonb_agg(to_jsonb(d)), '[]') INTO v_entries
      FROM (SELECT DISTINCT ON (e.kind, e.tenant, e.subject_key)
                   e.kind, e.tenant, e.subject_key, e.erased_at, e.actor, e.rule_id, e.reason_category, v.outcome
              FROM jsonb_to_recordset(p_entries) AS e(kind text, tenant text, subject_key text, erased_at timestamptz,
                                                      actor text, rule_id bigint, reason_category text, signature text)
              LEFT JOIN gdpr.subject_kind k ON k.kind = e.kind
              CROSS JOIN LATERAL (SELECT CASE
                  WHEN e.kind IS NULL OR e.subject_key IS NULL OR e.erased_at IS NULL OR e.actor IS NULL
                       OR e.reason_category IS NULL
                       OR e.reason_category NOT IN ('request', 'rule', 'forced', 'replay') THEN 'invalid'
                  WHEN e.signature IS NULL
                       OR e.signature IS DISTINCT FROM gdpr.ledger_signature(e.kind, e.tenant, e.subject_key,
                              e.erased_at, e.actor, e.rule_id, e.reason_category, v_salt) THEN 'invalid_signature'
                  WHEN k.kind IS NULL THEN 'unknown_kind'
                  -- a kind with a club column needs the club (else nothing would be erased)
                  WHEN (k.tenant_column IS NOT NULL) <> (e.tenant IS NOT NULL) THEN 'invalid'
                  END AS outcome) v
             ORDER BY e.kind, e.tenant, e.subject_key, v.outcome IS NULL DESC, e.erased_at) d;
    SELECT COALESCE(jsonb_agg(x), '[]') INTO v_done
      FROM jsonb_array_elements(v_entries) x WHERE x ->> 'outcome' IS NOT NULL;
    -- 2. Per kind and club: lock the subjects, classify, and (apply) re-erase.
    FOR v_group IN SELECT g.kind, g.tenant, array_agg(g.subject_key ORDER BY g.subject_key) AS keys
                     FROM jsonb_to_recordset(v_entries) AS g(kind text, tenant text, subject_key text, outcome text)
                    WHERE g.outcome IS NULL GROUP BY g.kind, g.tenant LOOP
        BEGIN
            WITH l AS (SELECT * FROM gdpr.lock_subjects(v_group.kind, v_group.tenant, v_group.keys))
            SELECT jsonb_agg(to_jsonb(e) || jsonb_build_object(
                       'outcome', CASE WHEN l.subject_key IS NULL THEN 'not_found'
                                       WHEN l.anonymized THEN 'already_anonymized'
                                       WHEN h.holds IS NOT NULL AND e.reason_category <> 'forced' THEN 'held'
                                       WHEN p_apply THEN 'reapplied' ELSE 'missing' END,
                       'holds', h.holds))
              INTO v_rows
              FROM jsonb_to_recordset(v_entries) AS e(kind text, tenant text, subject_key text, erased_at timestamptz,
                                                      actor text, rule_id bigint, reason_category text, outcome text)
              LEFT JOIN l ON l.subject_key = e.subject_key
              -- holds that were active when the erasure happened (as this database knows them)
              LEFT JOIN LATERAL (
                    SELECT jsonb_agg(jsonb_build_object('id', h.id, 'hold_type', h.hold_type) ORDER BY h.id) AS holds
                      FROM gdpr.legal_hold h
                     WHERE h.kind = e.kind AND h.tenant IS NOT DISTINCT FROM l.tenant AND h.subject_key = l.subject_key
                       AND gdpr.hold_active(h, e.erased_at)) h ON true
             WHERE e.outcome IS NULL AND e.kind = v_group.kind AND e.tenant IS NOT DISTINCT FROM v_group.tenant;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            -- the club is not even of the club column's type
            SELECT jsonb_agg(to_jsonb(e) || jsonb_build_object('outcome', 'invalid'))
              INTO v_rows
              FROM jsonb_to_recordset(v_entries) AS e(kind text, tenant text, subject_key text, erased_at timestamptz,
                                                      actor text, rule_id bigint, reason_category text, outcome text)
             WHERE e.outcome IS NULL AND e.kind = v_group.kind AND e.tenant IS NOT DISTINCT FROM v_group.tenant;
        END;
        IF p_apply THEN
            SELECT array_agg(r.subject_key ORDER BY r.subject_key) INTO v_todo
              FROM jsonb_to_recordset(v_rows) AS r(subject_key text, outcome text) WHERE r.outcome = 'reapplied';
            IF v_todo IS NOT NULL THEN
                -- a forced erasure over a hold, re-applied: audited as forced again
                INSERT INTO gdpr.audit_event (actor, action, kind, tenant, subject_key, details)
                SELECT gdpr.caller(), 'anonymize_forced', v_group.kind, v_group.tenant, r.subject_key,
                       jsonb_build_object('holds', r.holds, 'ledger_replay', true, 'erased_at', r.erased_at)
                  FROM jsonb_to_recordset(v_rows) AS r(subject_key text, erased_at timestamptz, outcome text, holds jsonb)
                 WHERE r.outcome = 'reapplied' AND r.holds IS NOT NULL;
                PERFORM gdpr.install_erasure_guards(v_group.kind);
                PERFORM gdpr.erase_batch(v_group.kind, v_group.tenant, v_todo, 'ledger replay after restore',
                                         NULL, 'replay');
            END IF;
        END IF;
        v_done := v_done || COALESCE(v_rows, '[]');
    END LOOP;
    IF p_apply THEN
        -- the restored ledger gets the entries it lacks, with their original time; the
        -- actor is the admin who replayed them (the original actor is in the audit event)
        INSERT INTO gdpr.erasure_ledger (kind, tenant, subject_key, erased_at, actor, rule_id, reason_category,
                                         replayed_at)
        SELECT r.kind, r.tenant, r.subject_key, r.erased_at, gdpr.caller(), r.rule_id, r.reason_category,
               CASE WHEN r.outcome = 'reapplied' THEN now() END
          FROM jsonb_to_recordset(v_done) AS r(kind text, tenant text, subject_key text, erased_at timestamptz,
                                               rule_id bigint, reason_category text, outcome text)
         WHERE r.outcome IN ('reapplied', 'already_anonymized')
           AND NOT EXISTS (SELECT FROM gdpr.erasure_ledger l
                            WHERE l.kind = r.kind AND l.tenant IS NOT DISTINCT FROM r.tenant
                              AND l.subject_key = r.subject_key AND l.erased_at = r.erased_at);
    END IF;
    PERFORM gdpr.audit(CASE WHEN p_apply THEN 'ledger_replay' ELSE 'ledger_check' END, NULL, NULL, NULL, NULL,
                       jsonb_build_object(
                           'counts', (SELECT COALESCE(jsonb_object_agg(o.outcome, o.n), '{}')
                                        FROM (SELECT r.outcome, count(*) AS n
                                                FROM jsonb_to_recordset(v_done) AS r(outcome text)
                                               GROUP BY r.outcome) o),
                           -- what the file said about each re-applied entry (keys only, no values)
                           'entries', CASE WHEN p_apply THEN (
                               SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                          'kind', r.kind, 'tenant', r.tenant, 'subject_key', r.subject_key,
                                          'erased_at', r.erased_at, 'actor', r.actor, 'rule_id', r.rule_id,
                                          'reason_category', r.reason_category, 'outcome', r.outcome)), '[]')
                                 FROM jsonb_to_recordset(v_done) AS r(kind text, tenant text, subject_key text,
                                          erased_at timestamptz, actor text, rule_id bigint, reason_category text,
                                          outcome text)
                                WHERE r.outcome IN ('reapplied', 'already_anonymized')) END));
    RETURN QUERY SELECT r.kind, r.tenant, r.subject_key, r.erased_at, r.outcome
                   FROM jsonb_to_recordset(v_done) AS r(kind text, tenant text, subject_key text, erased_at timestamptz,
                                                        outcome text)
                  ORDER BY r.erased_at, r.kind, r.tenant, r.subject_key;
END $$;
ALTER FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean) IS 'Check (or with p_apply re-apply) signed exported ledger entries against this database, e.g. after a restore';
CREATE FUNCTION gdpr.ledger_signature(p_kind text, p_tenant text, p_subject_key text, p_erased_at timestamp with time zone, p_actor text, p_rule_id bigint, p_reason_category text, p_salt bytea) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT gdpr.hmac_sha256('pgdpr-ledger-v1:' || pg_catalog.jsonb_build_array(
               p_kind, p_tenant, p_subject_key,
               pg_catalog.to_char(p_erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               p_actor, p_rule_id, p_reason_category)::text, p_salt)
$$;
ALTER FUNCTION gdpr.ledger_signature(p_kind text, p_tenant text, p_subject_key text, p_erased_at timestamp with time zone, p_actor text, p_rule_id bigint, p_reason_category text, p_salt bytea) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.ledger_signature(p_kind text, p_tenant text, p_subject_key text, p_erased_at timestamp with time zone, p_actor text, p_rule_id bigint, p_reason_category text, p_salt bytea) IS 'HMAC of an exported erasure ledger entry, keyed with the install secret; internal';
CREATE FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(NULL);
    v_r gdpr.processing_restriction;
BEGIN
    SELECT * INTO v_r FROM gdpr.processing_restriction r
     WHERE r.id = p_restriction_id AND (v_tenant IS NULL OR r.tenant = v_tenant)
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'restriction % not found', p_restriction_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM gdpr.require_register_access(v_r.kind, 'write');
    IF v_r.lifted_at IS NOT NULL THEN
        RAISE EXCEPTION 'restriction % was already lifted', p_restriction_id USING ERRCODE = 'object_in_use';
    END IF;
    UPDATE gdpr.processing_restriction SET lifted_at = now(), lifted_by = gdpr.caller() WHERE id = p_restriction_id;
    PERFORM gdpr.write_subject_note(v_r.kind, v_r.tenant, v_r.subject_key, 'restriction_lifted', p_restriction_id,
                                    p_note);
    PERFORM gdpr.audit('restriction_lifted', v_r.kind, NULLIF(v_r.tenant, ''), v_r.subject_key, NULL,
                       jsonb_build_object('restriction_id', p_restriction_id, 'ground', v_r.ground));
END $$;
ALTER FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text) IS 'Lift a restriction of processing (audited)';
CREATE FUNCTION gdpr.list_requests(p_tenant text DEFAULT NULL::text, p_overdue boolean DEFAULT false, p_now timestamp with time zone DEFAULT NULL::timestamp with time zone, p_subject_key text DEFAULT NULL::text, p_kind text DEFAULT NULL::text) RETURNS TABLE(id bigint, kind text, tenant text, subject_key text, request_type text, received_at timestamp with time zone, verification text, due_at timestamp with time zone, extended_due_at timestamp with time zone, status text, overdue boolean, closed_at timestamp with time zone, answered_late boolean, events jsonb, notes jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_now timestamptz := COALESCE(p_now, now());
    v_kinds text[];
BEGIN
    SELECT COALESCE(array_agg(k.kind), '{}') INTO v_kinds
      FROM gdpr.subject_kind k
     WHERE COALESCE(gdpr.caller_is_admin(), false) OR gdpr.register_access_of(gdpr.caller(), k.area) <> 'none';
    IF cardinality(v_kinds) = 0 THEN
        RAISE EXCEPTION 'role % may not read the request register', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT r.id, r.kind, r.tenant, r.subject_key, r.request_type, r.received_at, r.verification, r.due_at,
           r.extended_due_at, r.status,
           r.status = 'open' AND v_now > COALESCE(r.extended_due_at, r.due_at),
           r.closed_at,
           r.status = 'answered' AND r.closed_at > COALESCE(r.extended_due_at, r.due_at),
           (SELECT COALESCE(jsonb_agg(jsonb_build_object('event_id', e.id, 'action', e.action, 'at', e.at)
                                      ORDER BY e.id), '[]')
              FROM gdpr.dsr_request_event x JOIN gdpr.audit_event e ON e.id = x.event_id
             WHERE x.request_id = r.id),
           gdpr.subject_notes(ARRAY['request_verification', 'request_extension', 'request_closing'], r.id)
      FROM gdpr.dsr_request r
     WHERE r.kind = ANY (v_kinds)
       AND (v_tenant IS NULL OR r.tenant = v_tenant)
       AND (p_kind IS NULL OR r.kind = p_kind)
       AND (p_subject_key IS NULL OR r.subject_key = p_subject_key)
       AND (NOT COALESCE(p_overdue, false)
            OR (r.status = 'open' AND v_now > COALESCE(r.extended_due_at, r.due_at)))
     ORDER BY COALESCE(r.extended_due_at, r.due_at), r.id;
END $$;
ALTER FUNCTION gdpr.list_requests(p_tenant text, p_overdue boolean, p_now timestamp with time zone, p_subject_key text, p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.list_requests(p_tenant text, p_overdue boolean, p_now timestamp with time zone, p_subject_key text, p_kind text) IS 'The request register of the caller''s club: deadlines, status, overdue, answered late, linked actions, notes';
CREATE FUNCTION gdpr.list_rules(p_tenant text DEFAULT NULL::text) RETURNS TABLE(id bigint, tenant text, kind text, description text, schedule text, time_zone text, frequency_days integer, conditions jsonb, actions jsonb, max_subjects_per_run integer, enabled boolean, next_slot timestamp with time zone, last_run_at timestamp with time zone, last_run_changed integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT r.id, r.tenant, r.kind, r.description, r.schedule, r.time_zone, r.frequency_days, r.conditions,
           r.actions, r.max_subjects_per_run, r.enabled, r.next_slot, lr.started_at, lr.changed
      FROM gdpr.rule r
      LEFT JOIN LATERAL (SELECT x.started_at, x.changed FROM gdpr.rule_run x WHERE x.rule_id = r.id
                          ORDER BY x.started_at DESC LIMIT 1) lr ON true
     WHERE r.deleted_at IS NULL AND (v_tenant IS NULL OR r.tenant = v_tenant)
       AND r.kind = ANY (gdpr.caller_register_kinds())
     ORDER BY r.tenant, r.id;
END $$;
ALTER FUNCTION gdpr.list_rules(p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.list_rules(p_tenant text) IS 'The trigger rules of the caller''s club (admins: of a club or all)';
CREATE FUNCTION gdpr.lock_subject(p_kind text, p_tenant text, p_subject_key text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_found bigint;
BEGIN
    SELECT l.subject_key, l.tenant, l.anonymized, count(*) OVER ()
      INTO subject_key, tenant, anonymized, v_found
      FROM gdpr.lock_subjects(p_kind, p_tenant, ARRAY[p_subject_key]) l LIMIT 1;
    PERFORM gdpr.require_one_subject(p_kind, p_subject_key, p_tenant, COALESCE(v_found, 0));
END $$;
ALTER FUNCTION gdpr.lock_subject(p_kind text, p_tenant text, p_subject_key text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.lock_subject(p_kind text, p_tenant text, p_subject_key text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) IS 'The one subject a key names (in the club, if given), locked; not found or ambiguous raise; internal';
CREATE FUNCTION gdpr.lock_subjects(p_kind text, p_tenant text, p_keys text[]) RETURNS TABLE(subject_key text, tenant text, anonymized boolean)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_anon text;
    v_keys text[] := p_keys;
    v_key text;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    BEGIN
        EXECUTE format('SELECT $1::%s[]', v_types.key_type) USING v_keys;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        -- some keys are not even of the key's type: they are simply not found
        v_keys := '{}';
        FOREACH v_key IN ARRAY p_keys LOOP
            BEGIN
                EXECUTE format('SELECT $1::%s', v_types.key_type) USING v_key;
                v_keys := v_keys || v_key;
            EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
                NULL;
            END;
        END LOOP;
    END;
    -- erased: the ledger says so (gdpr.subject_erased), looked up by its index
    v_anon := format('EXISTS (SELECT FROM gdpr.erasure_ledger l WHERE l.kind = %L AND l.subject_key = r.%I::text AND %s)',
                     p_kind, v_s.key_column,
                     CASE WHEN v_s.tenant_column IS NOT NULL THEN format('l.tenant = r.%I::text', v_s.tenant_column)
                          ELSE 'l.tenant IS NULL' END);
    RETURN QUERY EXECUTE format(
            'SELECT r.%1$I::text, %2$s, %3$s FROM %4$I.%5$I r
              WHERE r.%1$I = ANY ($1::%6$s[]) %7$s ORDER BY r.%1$I FOR UPDATE OF r',
            v_s.key_column,
            CASE WHEN v_s.tenant_column IS NOT NULL THEN format('r.%I::text', v_s.tenant_column) ELSE 'NULL::text' END,
            v_anon, v_s.table_schema, v_s.table_name, v_types.key_type,
            CASE WHEN v_s.tenant_column IS NOT NULL
                 THEN format('AND ($2 IS NULL OR r.%I = $2::%s)', v_s.tenant_column, v_types.tenant_type) ELSE '' END)
        USING v_keys, p_tenant;
END $_$;
ALTER FUNCTION gdpr.lock_subjects(p_kind text, p_tenant text, p_keys text[]) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.masked_number_pattern() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
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
ALTER FUNCTION gdpr.masked_number_pattern() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.masked_number_pattern() IS 'Regular expression of the CPR- and account-shaped numbers masked in free text';
CREATE FUNCTION gdpr.mention_columns() RETURNS TABLE(table_schema name, table_name name, column_name name, kind text, is_json boolean, indexable boolean)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT c.table_schema, c.table_name, c.column_name, t.kind,
           a.atttypid IN ('json'::regtype, 'jsonb'::regtype),
           a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype)
      FROM gdpr.catalog_column c
      JOIN gdpr.catalog_table t USING (table_schema, table_name)
      JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                         AND a.attname = c.column_name AND NOT a.attisdropped
     WHERE c.category = 'free_text'
       AND (t.on_erase <> 'retain' OR NOT c.part_of_record)
       AND a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype,
                          'json'::regtype, 'jsonb'::regtype)
     ORDER BY 1, 2, 3
$$;
ALTER FUNCTION gdpr.mention_columns() OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.mention_index_plan(p_concurrently boolean DEFAULT true) RETURNS TABLE(step integer, statement text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_trgm name;
    v_version text;
    v_c record;
    v_name text;
    v_index regclass;
    v_conc text := CASE WHEN p_concurrently THEN ' CONCURRENTLY' ELSE '' END;
BEGIN
    SELECT n.nspname INTO v_trgm
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF v_trgm IS NULL THEN
        RETURN;
    END IF;
    v_version := 'pgdpr mention search ' || md5(pg_get_functiondef('gdpr.mention_text(text)'::regprocedure)
                                                 || pg_get_functiondef('gdpr.redact_fold(text)'::regprocedure));
    step := 0;
    FOR v_c IN SELECT * FROM gdpr.mention_columns() m WHERE m.indexable LOOP
        v_name := left(v_c.table_name || '_' || v_c.column_name, 49) || '_gdpr_mention';
        v_index := to_regclass(format('%I.%I', v_c.table_schema, v_name));
        CONTINUE WHEN v_index IS NOT NULL AND obj_description(v_index, 'pg_class') IS NOT DISTINCT FROM v_version
                      AND (SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = v_index);
        IF v_index IS NOT NULL THEN
            step := step + 1;
            statement := format('DROP INDEX%s %s', v_conc, v_index);
            RETURN NEXT;
        END IF;
        step := step + 1;
        statement := format('CREATE INDEX%s %I ON %I.%I USING gin (gdpr.mention_text(%I) %I.gin_trgm_ops)',
                            v_conc, v_name, v_c.table_schema, v_c.table_name, v_c.column_name, v_trgm);
        RETURN NEXT;
        step := step + 1;
        statement := format('COMMENT ON INDEX %I.%I IS %L', v_c.table_schema, v_name, v_version);
        RETURN NEXT;
    END LOOP;
END $$;
ALTER FUNCTION gdpr.mention_index_plan(p_concurrently boolean) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.mention_index_plan(p_concurrently boolean) IS 'Statements that create or rebuild the trigram indexes of the mention search';
CREATE FUNCTION gdpr.mention_text(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.regexp_replace(
               pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(gdpr.redact_fold(p_text),
                   'æ', 'ae'), 'ø', 'oe'), 'å', 'aa'),
               '[^0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+', '', 'g')
$$;
ALTER FUNCTION gdpr.mention_text(p_text text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.mention_text(p_text text) IS 'A text as the mention search compares it: folded, æøå transliterated, separators removed';
CREATE FUNCTION gdpr.minor_figures(p_tenant text, p_on date DEFAULT CURRENT_DATE) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_row record;
    v_types record;
    v_counts jsonb;
    v_result jsonb := '{}';
    v_tenant_filter text;
    v_consents text;
BEGIN
    FOR v_row IN
        SELECT k.*, b.column_name AS birth_column, c.table_schema AS c_schema, c.table_name AS c_table,
               c.type_column, c.withdrawn_column, c.guardian_column
          FROM gdpr.subject_kind k
          JOIN gdpr.subject_birth_date b ON b.kind = k.kind
          LEFT JOIN gdpr.consent_table c ON c.kind = k.kind
         ORDER BY k.kind
    LOOP
        SELECT * INTO v_types FROM gdpr.subject_types(v_row.kind);
        v_tenant_filter := CASE WHEN v_row.tenant_column IS NOT NULL
            THEN format('($1 IS NULL OR s.%I = $1::%s)', v_row.tenant_column, v_types.tenant_type) ELSE 'true' END;
        v_consents := CASE WHEN v_row.guardian_column IS NOT NULL THEN format(
            '(SELECT count(*) FROM %I.%I t WHERE %s AND t.%I IS NULL AND t.%I IS NULL)',
            v_row.c_schema, v_row.c_table,
            gdpr.subject_filter(v_row.c_schema, v_row.c_table, 't', format('= s.%I', v_row.key_column),
                                CASE WHEN v_row.tenant_column IS NOT NULL
                                     THEN format('= s.%I', v_row.tenant_column) END),
            v_row.withdrawn_column, v_row.guardian_column) ELSE 'NULL::bigint' END;
        EXECUTE format('SELECT jsonb_build_object(
                            ''with_birth_date'', count(*) FILTER (WHERE b.band IS NOT NULL),
                            ''under_13'', count(*) FILTER (WHERE b.band = ''under_13''),
                            ''under_18'', count(*) FILTER (WHERE b.band IN (''under_13'', ''under_18'')),
                            ''under_13_consents_without_guardian'',
                                COALESCE(sum(b.unguarded) FILTER (WHERE b.band = ''under_13''), 0))
                          FROM (SELECT %s AS band, CASE WHEN %s THEN %s END AS unguarded
                                  FROM %I.%I s WHERE %s %s) b',
                       gdpr.age_band_sql(v_row.kind, 's', '$2'),
                       format('%s = ''under_13''', gdpr.age_band_sql(v_row.kind, 's', '$2')), v_consents,
                       v_row.table_schema, v_row.table_name, v_tenant_filter,
                       CASE WHEN v_row.anonymized_column IS NOT NULL
                            THEN format('AND s.%I IS NULL', v_row.anonymized_column) ELSE '' END)
           INTO v_counts USING p_tenant, p_on;
        v_result := v_result || jsonb_build_object(v_row.kind, v_counts || jsonb_build_object(
            'birth_date_column', v_row.birth_column, 'guardian_column', v_row.guardian_column));
    END LOOP;
    RETURN v_result;
END $_$;
ALTER FUNCTION gdpr.minor_figures(p_tenant text, p_on date) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.normalize_schedule(p_schedule text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_s text := lower(btrim(regexp_replace(COALESCE(p_schedule, ''), '\s+', ' ', 'g')));
    v_m text[];
    v_fields text[];
    v_day text;
BEGIN
    v_m := regexp_match(v_s, '^(daily|weekly|monthly)( at)? (([a-z0-9]+) (at )?)?([0-9]{1,2}):([0-9]{2})$');
    IF v_m IS NOT NULL THEN
        IF v_m[6]::integer > 23 OR v_m[7]::integer > 59 THEN
            RAISE EXCEPTION 'unparseable schedule "%": the time must be HH:MM between 00:00 and 23:59', p_schedule
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_day := v_m[4];
        IF v_m[1] = 'daily' AND v_day IS NULL THEN
            v_s := format('%s %s * * *', v_m[7]::integer, v_m[6]::integer);
        ELSIF v_m[1] = 'weekly' AND v_day IS NOT NULL THEN
            v_s := format('%s %s * * %s', v_m[7]::integer, v_m[6]::integer, left(v_day, 3));
        ELSIF v_m[1] = 'monthly' AND v_day ~ '^[0-9]{1,2}$' THEN
            v_s := format('%s %s %s * *', v_m[7]::integer, v_m[6]::integer, v_day::integer);
        ELSE
            RAISE EXCEPTION 'unparseable schedule "%": use ''daily HH:MM'', ''weekly DAY HH:MM'', ''monthly DAY HH:MM'' or 5 cron fields',
                p_schedule USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    v_fields := string_to_array(v_s, ' ');
    IF v_s = '' OR array_length(v_fields, 1) <> 5 THEN
        RAISE EXCEPTION 'unparseable schedule "%": use ''daily HH:MM'', ''weekly DAY HH:MM'', ''monthly DAY HH:MM'' or 5 cron fields',
            p_schedule USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- validate every field (raises naming the field)
    PERFORM gdpr.cron_field_values(v_fields[1], 0, 59, 'minute'),
            gdpr.cron_field_values(v_fields[2], 0, 23, 'hour'),
            gdpr.cron_field_values(v_fields[3], 1, 31, 'day-of-month'),
            gdpr.cron_field_values(v_fields[4], 1, 12, 'month',
                '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}'),
            gdpr.cron_field_values(v_fields[5], 0, 7, 'day-of-week', '{sun,mon,tue,wed,thu,fri,sat}');
    RETURN array_to_string(v_fields, ' ');
END $_$;
ALTER FUNCTION gdpr.normalize_schedule(p_schedule text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.normalize_schedule(p_schedule text) IS 'Schedule as 5-field cron: accepts daily HH:MM, weekly DAY HH:MM, monthly DAY HH:MM or cron; refuses the rest';
CREATE FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text, p_note text DEFAULT NULL::text, p_received_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_tenant text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_subject record;
    v_received timestamptz := COALESCE(p_received_at, now());
    v_id bigint;
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    IF p_type IS NULL OR p_type NOT IN ('access', 'portability', 'erasure', 'rectification', 'restriction',
                                        'objection') THEN
        RAISE EXCEPTION 'request type must be access, portability, erasure, rectification, restriction or objection'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_verification IS NULL OR p_verification NOT IN ('in_person_id', 'mitid', 'known_email', 'known_phone',
                                                        'signed_letter', 'other') THEN
        RAISE EXCEPTION 'verification must be in_person_id, mitid, known_email, known_phone, signed_letter or other'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_verification = 'other' AND NULLIF(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION 'verification other needs a note saying how the requester was identified'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_received > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'a request cannot be received in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    INSERT INTO gdpr.dsr_request (kind, tenant, subject_key, request_type, received_at, verification, due_at,
                                  opened_by)
    VALUES (p_kind, v_subject.tenant, v_subject.subject_key, p_type, v_received, p_verification,
            gdpr.request_due(v_received, v_subject.tenant, 1), gdpr.caller())
    RETURNING id INTO v_id;
    PERFORM gdpr.write_subject_note(p_kind, v_subject.tenant, v_subject.subject_key, 'request_verification',
                                    v_id, p_note);
    PERFORM gdpr.audit('request_opened', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('request_id', v_id, 'type', p_type, 'verification', p_verification,
                                          'received_at', v_received));
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text, p_note text, p_received_at timestamp with time zone, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text, p_note text, p_received_at timestamp with time zone, p_tenant text) IS 'Log a data-subject request (GDPR Art. 12(3)): type, receipt, how the requester was identified; due in one month';
CREATE FUNCTION gdpr.outbox_respects_restriction() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF gdpr.subject_restricted(NEW.kind, NEW.tenant, NEW.subject_key)
       OR gdpr.consent_withdrawn_for_template(NEW.kind, NEW.tenant, NEW.subject_key, NEW.template) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
ALTER FUNCTION gdpr.outbox_respects_restriction() OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.pending_deferred_erasures(p_kind text DEFAULT NULL::text, p_subject_key text DEFAULT NULL::text, p_tenant text DEFAULT NULL::text) RETURNS TABLE(kind text, tenant text, subject_key text, table_name text, rows_pending bigint, next_due_at timestamp with time zone, last_due_at timestamp with time zone, erased_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT d.kind, NULLIF(d.tenant, ''), d.subject_key, format('%I.%I', d.table_schema, d.table_name),
           d.rows_pending, d.next_due_at, d.last_due_at, d.created_at
      FROM gdpr.deferred_erasure d
     WHERE d.done_at IS NULL
       AND (p_kind IS NULL OR d.kind = p_kind)
       AND (p_subject_key IS NULL OR d.subject_key = p_subject_key)
       AND (v_tenant IS NULL OR d.tenant = v_tenant)
     ORDER BY d.next_due_at, d.kind, d.tenant, d.subject_key;
END $$;
ALTER FUNCTION gdpr.pending_deferred_erasures(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.pending_deferred_erasures(p_kind text, p_subject_key text, p_tenant text) IS 'Retained rows of erased subjects waiting for their period to end, per subject and table';
CREATE FUNCTION gdpr.personal_column_candidates(p_table oid, p_linked boolean, p_include_known boolean DEFAULT false) RETURNS TABLE(column_name name, category text, reason text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_text name[];
BEGIN
    IF to_regclass('pg_temp.pgdpr_candidates') IS NULL THEN
        CREATE TEMP TABLE pgdpr_candidates (column_name name, category text, reason text, rank int);
    END IF;
    TRUNCATE pg_temp.pgdpr_candidates;
    INSERT INTO pg_temp.pgdpr_candidates
    SELECT a.attname, gdpr.personal_name_category(a.attname, a.atttypid::regtype, p_linked),
           format('its name suggests %s data', gdpr.personal_name_category(a.attname, a.atttypid::regtype, p_linked)), 1
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
       AND gdpr.personal_name_category(a.attname, a.atttypid::regtype, p_linked) IS NOT NULL
       AND (p_include_known OR NOT gdpr.catalog_known_column(p_table, a.attname));
    -- content: text and json columns not already flagged by name
    SELECT array_agg(a.attname ORDER BY a.attnum) INTO v_text
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype,
                          'json'::regtype, 'jsonb'::regtype)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_candidates x WHERE x.column_name = a.attname)
       AND (p_include_known OR NOT gdpr.catalog_known_column(p_table, a.attname));
    INSERT INTO pg_temp.pgdpr_candidates
    SELECT s.column_name, s.category,
           format('%s of %s sampled values look like %s', s.matched, s.sampled,
                  CASE s.category WHEN 'contact' THEN 'e-mail addresses or phone numbers'
                                  WHEN 'national_id' THEN 'CPR numbers' WHEN 'bank' THEN 'IBANs'
                                  ELSE 'free text' END), 2
      FROM gdpr.sample_personal_content(p_table::regclass, v_text) s
     WHERE s.category <> 'free_text' OR p_linked;
    RETURN QUERY SELECT DISTINCT ON (x.column_name) x.column_name, x.category, x.reason
                   FROM pg_temp.pgdpr_candidates x
                  ORDER BY x.column_name, x.rank,
                           array_position(ARRAY['national_id', 'bank', 'contact', 'free_text'], x.category);
END $$;
ALTER FUNCTION gdpr.personal_column_candidates(p_table oid, p_linked boolean, p_include_known boolean) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.personal_column_candidates(p_table oid, p_linked boolean, p_include_known boolean) IS 'Columns of a table that look personal by name or sampled content (catalog check and discover heuristics)';
CREATE FUNCTION gdpr.personal_name_category(p_column name, p_type regtype, p_linked boolean) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    SELECT CASE
        WHEN p_type = 'boolean'::regtype THEN NULL
        -- dates and timestamps are only personal as birth dates
        WHEN p_type IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
            CASE WHEN v.n ~ '(birth|(^|_)dob($|_)|f(oe|ø)dsel)' THEN 'birthdate' END
        WHEN v.n ~ '(^|_)(cpr|cpr_?n(o|r|umber)|ssn|personnummer|national_?id|social_?security(_?n(o|r|umber))?|tax_?id|passport(_?n(o|r|umber))?)$' THEN 'national_id'
        WHEN v.n ~ '(^|_)(iban|bic|swift|bank|bank_?reg|reg_?n(o|r)|bank_?account|account_?n(o|r|umber)|konto(_?n(r|ummer))?|card_?n(o|r|umber)|credit_?card)($|_)' THEN 'bank'
        WHEN v.n ~ '(^|_)(e_?mail|email_?address|mail_?address|phone|phone_?n(o|r|umber)|mobile|mobil|telephone|tlf|telefon|fax)($|_)' THEN 'contact'
        WHEN v.n ~ '(^|_)(first|last|given|family|full|middle|maiden|nick|display|contact|customer|recipient|person|billing|shipping|sur|for|efter)_?(name|navn)$'
          OR v.n ~ '^(surname|fornavn|efternavn)$' THEN 'name'
        WHEN v.n ~ '(^|_)(ip|ip_?address|user_?agent|device_?id|licen[cs]e_?plate|member_?card|key_?fob|username|user_?name|login|(customer|member|client|kunde)_?(no|nr|number|nummer))$' THEN 'identifier'
        WHEN v.n ~ '(birth|(^|_)dob($|_)|f(oe|ø)dsel)' THEN 'birthdate'
        WHEN NOT p_linked THEN NULL
        WHEN p_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype,
                        'real'::regtype, 'double precision'::regtype, 'money'::regtype) THEN NULL
        WHEN v.n ~ '(^|_)(street|street_?address|address|address_?line_?[0-9]*|addr[0-9]*|postcode|post_?code|postal_?code|zip|zip_?code|city|town|adresse|postnr)$' THEN 'address'
        WHEN v.n ~ '(^|_)(photo|picture|avatar|portrait|foto|billede)($|_)' THEN 'photo'
        WHEN v.n ~ '(^|_)(note|notes|comment|comments|remark|remarks|description|message|body|text|memo|bem(ae|æ)rkning|kommentar|feedback|review|reason)$' THEN 'free_text'
        WHEN v.n ~ '(^|_)(gender|sex|k(oe|ø)n|nationality|religion|health|diagnosis|allerg(y|ies)|helbred)$' THEN 'other'
    END
      FROM (SELECT lower(p_column::text) AS n) v
$_$;
ALTER FUNCTION gdpr.personal_name_category(p_column name, p_type regtype, p_linked boolean) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.personal_name_category(p_column name, p_type regtype, p_linked boolean) IS 'The personal-data category a column name suggests (catalog check heuristics), or NULL';
CREATE FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamp with time zone DEFAULT now(), p_sample integer DEFAULT 10) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$  -- volatile: it audits
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
    v_now timestamptz := gdpr.rule_now(p_now);  -- staff: now() only
    v_params jsonb;
    v_breakdown jsonb;
    v_sample text[];
BEGIN
    v_params := (SELECT COALESCE(jsonb_agg(c -> 'params'), '[]') FROM jsonb_array_elements(v_rule.conditions) c);
    EXECUTE gdpr.rule_eligibility_sql(v_rule, 'breakdown') INTO v_breakdown
        USING v_rule.tenant, v_now, v_params, v_rule.time_zone, NULL::text, p_sample, v_rule.id;
    EXECUTE format('SELECT ARRAY(%s)', gdpr.rule_eligibility_sql(v_rule, 'batch')) INTO v_sample
        USING v_rule.tenant, v_now, v_params, v_rule.time_zone, NULL::text, GREATEST(COALESCE(p_sample, 10), 0), v_rule.id;
    PERFORM gdpr.audit('rule_preview', v_rule.kind, v_rule.tenant, NULL, NULL,
                       jsonb_build_object('rule_id', v_rule.id, 'count', v_breakdown -> 'eligible'));
    RETURN jsonb_build_object(
        'rule_id', v_rule.id, 'evaluated_at', v_now, 'count', v_breakdown -> 'eligible',
        'would_change', LEAST((v_breakdown ->> 'eligible')::integer, v_rule.max_subjects_per_run),
        'max_subjects_per_run', v_rule.max_subjects_per_run,
        'held_back', v_breakdown - 'eligible', 'sample', to_jsonb(v_sample));
END $$;
ALTER FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamp with time zone, p_sample integer) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamp with time zone, p_sample integer) IS 'How many subjects a rule would change now, and a sample of their keys; changes nothing';
CREATE FUNCTION gdpr.process_deferred_erasures(p_now timestamp with time zone DEFAULT now()) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $_$
DECLARE
    v_t record;
    v_types record;
    v_src record;
    v_table text;
    v_due text;
    v_referenced text;
    v_count bigint;
    v_done bigint;
    v_total_done bigint := 0;
    v_tables jsonb := '{}';
BEGIN
    FOR v_t IN
        -- depth: the longest chain of foreign keys from the table to other retained
        -- tables (cycles cut at 20); the deepest referrer is deleted first
        WITH RECURSIVE retained AS (
            SELECT t.*, format('%I.%I', t.table_schema, t.table_name)::regclass AS rel
              FROM gdpr.catalog_table t WHERE t.on_erase = 'retain'),
        chain AS (
            SELECT r.rel, c.confrelid AS target, 1 AS depth
              FROM retained r JOIN pg_catalog.pg_constraint c ON c.conrelid = r.rel AND c.contype = 'f'
             WHERE c.confrelid IN (SELECT x.rel FROM retained x) AND c.confrelid <> r.rel
            UNION ALL
            SELECT chain.rel, c.confrelid, chain.depth + 1
              FROM chain JOIN pg_catalog.pg_constraint c ON c.conrelid = chain.target AND c.contype = 'f'
             WHERE c.confrelid IN (SELECT x.rel FROM retained x) AND c.confrelid <> chain.target
               AND chain.depth < 20)
        SELECT r.*, COALESCE((SELECT max(chain.depth) FROM chain WHERE chain.rel = r.rel), 0) AS depth
          FROM retained r
         WHERE EXISTS (SELECT FROM gdpr.deferred_erasure d
                        WHERE d.table_schema = r.table_schema AND d.table_name = r.table_name
                          AND d.done_at IS NULL AND d.next_due_at <= p_now)
         ORDER BY depth DESC, r.table_schema, r.table_name
    LOOP
        v_table := format('%I.%I', v_t.table_schema, v_t.table_name);
        SELECT * INTO v_types FROM gdpr.subject_types(v_t.kind);
        SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        v_due := gdpr.retain_due_expr(v_t.table_schema, v_t.table_name, 'a');
        -- rows another row still points to (NO ACTION / RESTRICT foreign keys) wait for it
        SELECT string_agg(format('NOT EXISTS (SELECT FROM %s x WHERE %s)', c.conrelid::regclass,
                   (SELECT string_agg(format('x.%I = a.%I', ka.attname, fa.attname), ' AND ')
                      FROM unnest(c.conkey, c.confkey) AS k(col, fcol)
                      JOIN pg_catalog.pg_attribute ka ON ka.attrelid = c.conrelid AND ka.attnum = k.col
                      JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol)), ' AND ')
          INTO v_referenced
          FROM pg_catalog.pg_constraint c
         WHERE c.contype = 'f' AND c.confrelid = v_t.rel AND c.confdeltype IN ('a', 'r');
        -- delete the due rows of pending subjects, then recount what each still has
        EXECUTE format(
            'WITH due AS (SELECT d.subject_key, d.tenant FROM gdpr.deferred_erasure d
                           WHERE d.table_schema = $2 AND d.table_name = $3 AND d.done_at IS NULL
                             AND d.next_due_at <= $1),
                  del AS (DELETE FROM %1$s a USING due %2$s
                           WHERE %3$s = due.subject_key::%4$s %5$s AND %6$s AND %7$s <= $1 AND %8$s
                          RETURNING 1)
             SELECT count(*) FROM del',
            v_table, v_src.from_clause, v_src.key_expr, v_types.key_type,
            CASE WHEN v_src.tenant_expr IS NOT NULL AND v_types.tenant_type IS NOT NULL
                 THEN format('AND %s = NULLIF(due.tenant, '''')::%s', v_src.tenant_expr, v_types.tenant_type) ELSE '' END,
            v_src.where_clause, v_due, COALESCE(v_referenced, 'true'))
           INTO v_count USING p_now, v_t.table_schema, v_t.table_name;
        -- the due time is computed inside the lateral subquery: it may read the FROM
        -- items of a via table's parents
        EXECUTE format(
            'WITH left_over AS (
                SELECT d.id, count(a.due) AS n, min(a.due) AS next_due, max(a.due) AS last_due
                  FROM gdpr.deferred_erasure d
                  LEFT JOIN LATERAL (SELECT %1$s AS due FROM %2$s a %3$s
                                      WHERE %4$s = d.subject_key::%5$s %6$s AND %7$s) a ON true
                 WHERE d.table_schema = $2 AND d.table_name = $3 AND d.done_at IS NULL AND d.next_due_at <= $1
                 GROUP BY d.id),
             upd AS (UPDATE gdpr.deferred_erasure d
                        SET rows_pending = l.n, next_due_at = l.next_due, last_due_at = COALESCE(l.last_due, d.last_due_at),
                            done_at = CASE WHEN l.n = 0 THEN $1 END
                       FROM left_over l WHERE d.id = l.id RETURNING d.done_at)
             SELECT count(*) FILTER (WHERE done_at IS NOT NULL) FROM upd',
            v_due, v_table, v_src.from_clause,
            v_src.key_expr, v_types.key_type,
            CASE WHEN v_src.tenant_expr IS NOT NULL AND v_types.tenant_type IS NOT NULL
                 THEN format('AND %s = NULLIF(d.tenant, '''')::%s', v_src.tenant_expr, v_types.tenant_type) ELSE '' END,
            v_src.where_clause)
           INTO v_done USING p_now, v_t.table_schema, v_t.table_name;
        v_total_done := v_total_done + v_done;
        v_tables := v_tables || jsonb_build_object(v_table, v_count);
    END LOOP;
    IF v_tables <> '{}' THEN
        PERFORM gdpr.audit('deferred_erasure', NULL, NULL, NULL, NULL,
                           jsonb_build_object('tables', v_tables, 'subjects_done', v_total_done, 'as_of', p_now));
    END IF;
    RETURN jsonb_build_object('tables', v_tables, 'subjects_done', v_total_done, 'as_of', p_now);
END $_$;
ALTER FUNCTION gdpr.process_deferred_erasures(p_now timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.process_deferred_erasures(p_now timestamp with time zone) IS 'Erase retained rows of erased subjects whose statutory period ended (the rules ticker calls it)';
CREATE FUNCTION gdpr.proof_places(p_kind text) RETURNS TABLE(table_schema name, table_name name, column_name name, how text, declared boolean, parent_schema name, parent_name name, fk_join text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH declared AS (
        SELECT t.table_schema, t.table_name, t.on_erase, t.link,
               format('%I.%I', t.table_schema, t.table_name)::regclass AS rel
          FROM gdpr.catalog_table t WHERE t.kind = p_kind),
    linked AS (  -- undeclared tables with a foreign key to a declared table of the kind
        SELECT n.nspname AS table_schema, r.relname AS table_name, c.conrelid AS rel,
               d.table_schema AS parent_schema, d.table_name AS parent_name,
               (SELECT string_agg(format('x.%I = a.%I', ka.attname, fa.attname), ' AND ' ORDER BY k.o)
                  FROM unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, fcol, o)
                  JOIN pg_catalog.pg_attribute ka ON ka.attrelid = c.conrelid AND ka.attnum = k.col
                  JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol) AS fk_join
          FROM pg_catalog.pg_constraint c
          JOIN declared d ON d.rel = c.confrelid AND NOT (d.on_erase = 'delete' AND d.link <> 'root')
          JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
         -- (a partition's copy of its partitioned table's foreign key: the table itself counts)
         WHERE c.contype = 'f' AND c.conparentid = 0
           AND NOT EXISTS (SELECT FROM gdpr.catalog_table t
                            WHERE t.table_schema = n.nspname AND t.table_name = r.relname)),
    tables AS (
        SELECT d.table_schema, d.table_name, d.rel, true AS declared, d.on_erase, d.link FROM declared d
        UNION
        SELECT l.table_schema, l.table_name, l.rel, false, NULL, NULL FROM linked l),
    places AS (
        -- tables whose rows of the subject are deleted
        SELECT t.table_schema, t.table_name, NULL::name AS column_name, 'deleted' AS how, true AS declared,
               NULL::name AS parent_schema, NULL::name AS parent_name, NULL::text AS fk_join
          FROM tables t WHERE t.declared AND t.on_erase = 'delete' AND t.link <> 'root'
        UNION ALL
        SELECT t.table_schema, t.table_name, NULL, 'unreadable', t.declared, NULL, NULL, NULL
          FROM tables t
         WHERE NOT (t.declared AND t.on_erase = 'delete' AND t.link <> 'root')
           AND NOT pg_catalog.has_table_privilege(t.rel, 'SELECT')
        UNION ALL
        SELECT l.table_schema, l.table_name, NULL, 'undeclared', false, l.parent_schema, l.parent_name, l.fk_join
          FROM linked l WHERE pg_catalog.has_table_privilege(l.rel, 'SELECT')
        UNION ALL
        SELECT t.table_schema, t.table_name, a.attname,
               CASE WHEN cc.erase IN ('null', 'constant', 'hash', 'random', 'year_only')
                         AND (t.on_erase IS DISTINCT FROM 'retain' OR NOT cc.part_of_record)
                        THEN 'set:' || cc.erase
                    WHEN COALESCE(NULLIF(ty.typbasetype, 0), ty.oid) = 'bytea'::regtype THEN 'binary'
                    ELSE 'searched' END,
               t.declared, NULL, NULL, NULL
          FROM tables t
          JOIN pg_catalog.pg_attribute a ON a.attrelid = t.rel AND a.attnum > 0 AND NOT a.attisdropped
          JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
          LEFT JOIN pg_catalog.pg_type bt ON bt.oid = NULLIF(ty.typbasetype, 0)
          LEFT JOIN gdpr.catalog_column cc
            ON t.declared AND cc.table_schema = t.table_schema AND cc.table_name = t.table_name
           AND cc.column_name = a.attname
         WHERE NOT (t.declared AND t.on_erase = 'delete' AND t.link <> 'root')
           AND pg_catalog.has_table_privilege(t.rel, 'SELECT')
           AND ((cc.erase IN ('null', 'constant', 'hash', 'random', 'year_only')
                 AND (t.on_erase IS DISTINCT FROM 'retain' OR NOT cc.part_of_record))
                OR COALESCE(bt.typcategory, ty.typcategory) IN ('S', 'U', 'A', 'C'))
        UNION ALL
        -- the engine's own tables that keep text a caller wrote about the subject
        SELECT 'gdpr', v.t, v.c, 'searched', true, NULL, NULL, NULL
          FROM (VALUES ('legal_hold'::name, 'reason'::name), ('audit_event', 'purpose'), ('audit_event', 'details'),
                       ('audit_note', 'note')) AS v(t, c))
    SELECT p.* FROM places p
     ORDER BY p.table_schema, p.table_name, p.column_name NULLS FIRST, p.how, p.parent_schema, p.parent_name
$$;
ALTER FUNCTION gdpr.proof_places(p_kind text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.proof_places(p_kind text) IS 'The places an erasure proof of a kind covers (table, column, how); internal';
CREATE FUNCTION gdpr.proof_run(p_kind text, p_tenant text, p_keys text[], p_patterns text[]) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_hashjoin TO 'off'
    SET enable_mergejoin TO 'off'
    SET jit TO 'off'
    AS $_$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_scope record;
    v_t record;
    v_src record;
    v_from text;
    v_values text;
    v_tenant_cond text;
    v_branches text[] := '{}';
    v_counts jsonb;           -- [{k, table, column, mode, n}]
    v_global jsonb := '[]';   -- [{place, why}] for every subject of the batch
    v_result jsonb;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT * INTO v_scope FROM gdpr.proof_scope(p_kind);
    INSERT INTO gdpr.erasure_proof_scope (digest, kind, places) VALUES (v_scope.digest, p_kind, v_scope.places)
    ON CONFLICT (digest) DO NOTHING;
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'place', format('%I.%I', p.table_schema, p.table_name),
               'why', 'pgdpr_owner may not read it: GRANT SELECT ON it TO pgdpr_owner')), '[]')
      INTO v_global
      FROM gdpr.proof_places(p_kind) p WHERE p.how = 'unreadable';
    -- One branch per table (and per foreign key of an undeclared table) for the subject
    -- s: its cells the pattern is matched against (mode s), its binary cells holding a
    -- value (mode b), its rows in an undeclared table (mode r).
    FOR v_t IN
        SELECT p.table_schema, p.table_name, bool_or(p.declared) AS declared, f.parent_schema, f.parent_name, f.fk_join,
               string_agg(format('(%L, %s, %L)', p.column_name,
                                 CASE p.how WHEN 'searched' THEN format('x.%I::text', p.column_name)
                                            ELSE format('CASE WHEN x.%I IS NOT NULL THEN '''' END', p.column_name) END,
                                 CASE p.how WHEN 'searched' THEN 's' ELSE 'b' END), ', ' ORDER BY p.column_name)
                   FILTER (WHERE p.how IN ('searched', 'binary')) AS vals
          FROM gdpr.proof_places(p_kind) p
          LEFT JOIN (SELECT u.table_schema, u.table_name, u.parent_schema, u.parent_name, u.fk_join
                       FROM gdpr.proof_places(p_kind) u WHERE u.how = 'undeclared') f
            ON f.table_schema = p.table_schema AND f.table_name = p.table_name
         WHERE p.how IN ('searched', 'binary', 'undeclared') AND p.table_schema <> 'gdpr'
         GROUP BY p.table_schema, p.table_name, f.parent_schema, f.parent_name, f.fk_join
         ORDER BY p.table_schema, p.table_name, f.parent_schema, f.parent_name
    LOOP
        IF v_t.declared THEN
            SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'x');
            v_from := format('%I.%I x %s', v_t.table_schema, v_t.table_name, v_src.from_clause);
        ELSE
            SELECT * INTO v_src FROM gdpr.subject_source(v_t.parent_schema, v_t.parent_name, 'a');
            v_from := format('%I.%I x, %I.%I a %s', v_t.table_schema, v_t.table_name,
                             v_t.parent_schema, v_t.parent_name, v_src.from_clause);
            v_src.where_clause := v_t.fk_join || ' AND ' || v_src.where_clause;
        END IF;
        v_values := concat_ws(', ', CASE WHEN NOT v_t.declared THEN '(NULL::text, NULL::text, ''r'')' END, v_t.vals);
        CONTINUE WHEN v_values = '';
        v_tenant_cond := CASE WHEN v_src.tenant_expr IS NOT NULL AND v_types.tenant_type IS NOT NULL
                              THEN format('%s = $2::%s', v_src.tenant_expr, v_types.tenant_type) ELSE 'true' END;
        v_branches := v_branches || format(
            'SELECT %L::text, v.col, v.mode, v.val FROM %s, LATERAL (VALUES %s) AS v(col, val, mode)
              WHERE %s = s.k AND %s AND %s AND (v.val IS NOT NULL OR v.mode = ''r'')',
            format('%I.%I', v_t.table_schema, v_t.table_name), v_from, v_values,
            v_src.key_expr, v_tenant_cond, v_src.where_clause);
    END LOOP;
    -- The engine's own tables: the subject's legal hold reasons (redacted at erasure),
    -- the purpose and details of its audit events and the notes kept with them (the
    -- erasure's own reason, redacted), looked up by index.
    v_branches := v_branches || ARRAY[
        $b$SELECT 'gdpr.legal_hold', 'reason', 's', h.reason FROM gdpr.legal_hold h
            WHERE h.kind = $4 AND h.tenant IS NOT DISTINCT FROM $2 AND h.subject_key = s.k::text$b$,
        $b$SELECT 'gdpr.audit_event', v.c, 's', v.val
             FROM gdpr.audit_event e, LATERAL (VALUES ('purpose', e.purpose), ('details', e.details::text)) AS v(c, val)
            WHERE e.kind = $4 AND e.subject_key = s.k::text AND e.tenant IS NOT DISTINCT FROM $2
              AND v.val IS NOT NULL$b$,
        $b$SELECT 'gdpr.audit_note', 'note', 's', n.note FROM gdpr.audit_note n
            WHERE n.kind = $4 AND n.subject_key = s.k::text AND n.tenant IS NOT DISTINCT FROM $2$b$];
    -- One statement for the whole batch, subject by subject (a LATERAL subquery per
    -- key): each distinct value of the subject is matched once, and the subject's
    -- patterns compile once for all its places (PostgreSQL caches 32 compiled
    -- expressions per session: one statement per place would compile every subject's
    -- patterns again for each place). Planned at each call (EXECUTE): a plan cached
    -- while the engine's tables were small would keep scanning them whole as they grow.
    EXECUTE format($q$
        SELECT COALESCE(jsonb_agg(jsonb_build_object('k', z.k, 'table', z.t, 'column', z.col, 'mode', z.mode,
                                                     'n', z.n)), '[]')
          FROM (SELECT s.k::text AS k, v.t, v.col, v.mode, sum(v.n) AS n
                  FROM unnest($1::%1$s[], $3::text[]) AS s(k, pattern),
                       LATERAL (SELECT b.t, b.col, b.mode, b.val, count(*) AS n
                                  FROM (%2$s) AS b(t, col, mode, val)
                                 GROUP BY 1, 2, 3, 4 OFFSET 0) v
                 WHERE v.mode <> 's' OR gdpr.redact(v.val, s.pattern) IS DISTINCT FROM v.val
                 GROUP BY 1, 2, 3, 4) z$q$,
        v_types.key_type, array_to_string(v_branches, E'\n UNION ALL\n'))
      INTO v_counts USING p_keys, p_tenant, p_patterns, p_kind;
    -- The verdict per subject, stored (replacing an earlier one: a re-erasure after a
    -- restore proves again) and returned.
    WITH c AS (
        SELECT * FROM jsonb_to_recordset(v_counts) AS c(k text, "table" text, "column" text, mode text, n bigint)),
    agg AS (
        SELECT c.k,
               jsonb_agg(jsonb_build_object('table', c."table", 'column', c."column", 'hits', c.n)
                         ORDER BY c."table", c."column") FILTER (WHERE c.mode = 's') AS found,
               jsonb_agg(jsonb_build_object(
                   'place', CASE c.mode WHEN 'b' THEN c."table" || '.' || quote_ident(c."column") ELSE c."table" END,
                   'why', CASE c.mode
                       WHEN 'b' THEN format('a binary column, not searchable: %s cells hold a value', c.n)
                       ELSE format('not in the catalog, linked by a foreign key to the subject''s rows: %s rows', c.n) END)
                   ORDER BY c."table", c."column") FILTER (WHERE c.mode IN ('b', 'r')) AS unsearched
          FROM c GROUP BY c.k),
    per AS (
        SELECT u.k, COALESCE(a.found, '[]') AS found, v_global || COALESCE(a.unsearched, '[]') AS unsearched
          FROM unnest(p_keys) AS u(k)
          LEFT JOIN agg a ON a.k = u.k),
    stored AS (
        INSERT INTO gdpr.erasure_proof AS e (kind, tenant, subject_key, verdict, scope, found, unsearched, proved_at)
        SELECT p_kind, COALESCE(p_tenant, ''), per.k,
               CASE WHEN per.found <> '[]' THEN 'not_erased' WHEN per.unsearched <> '[]' THEN 'incomplete'
                    ELSE 'erased' END,
               v_scope.digest, per.found, per.unsearched, now()
          FROM per
        ON CONFLICT (kind, tenant, subject_key) DO UPDATE
           SET verdict = excluded.verdict, scope = excluded.scope, found = excluded.found,
               unsearched = excluded.unsearched, proved_at = excluded.proved_at
        RETURNING e.subject_key, e.verdict, e.found, e.unsearched)
    SELECT COALESCE(jsonb_object_agg(stored.subject_key, jsonb_build_object(
               'verdict', stored.verdict,
               'hits', (SELECT COALESCE(sum((f ->> 'hits')::bigint), 0) FROM jsonb_array_elements(stored.found) f),
               'places', stored.found, 'unsearched', stored.unsearched,
               'searched', jsonb_array_length(v_scope.places))), '{}')
      FROM stored
      INTO v_result;
    RETURN v_result;
END $_$;
ALTER FUNCTION gdpr.proof_run(p_kind text, p_tenant text, p_keys text[], p_patterns text[]) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.proof_run(p_kind text, p_tenant text, p_keys text[], p_patterns text[]) IS 'The proof of erased subjects, in the erasure''s transaction, with their redaction patterns; stores the verdict; internal';
CREATE FUNCTION gdpr.proof_scope(p_kind text, OUT digest text, OUT places jsonb) RETURNS record
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_kind || ':' || q.places::text, 'UTF8')), 'hex'),
           q.places
      FROM (SELECT COALESCE(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'table', format('%I.%I', p.table_schema, p.table_name), 'column', p.column_name,
                       'how', p.how,
                       'linked_to', CASE WHEN p.parent_name IS NOT NULL
                                         THEN format('%I.%I', p.parent_schema, p.parent_name) END))
                       ORDER BY p.table_schema, p.table_name, p.column_name NULLS FIRST, p.how, p.parent_schema,
                                p.parent_name), '[]') AS places
              FROM gdpr.proof_places(p_kind) p) q
$$;
ALTER FUNCTION gdpr.proof_scope(p_kind text, OUT digest text, OUT places jsonb) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.proof_structure(p_kind text, p_tenant text, p_key text) RETURNS TABLE(place text, problem text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_t record;
    v_conds text[];
    v_names text[];
    v_counts bigint[];
    v_filter text;
    i integer;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    FOR v_t IN SELECT * FROM gdpr.catalog_table t
                WHERE t.kind = p_kind AND NOT (t.link = 'owned' AND t.on_erase = 'delete')
                ORDER BY t.table_schema, t.table_name LOOP
        v_filter := gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a', format('= $1::%s', v_types.key_type),
                        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('= $2::%s', v_types.tenant_type) END);
        IF v_t.on_erase = 'delete' AND v_t.link <> 'root' THEN
            v_names := ARRAY[NULL::text];
            v_conds := ARRAY['true'];
        ELSE
            SELECT array_agg(c.column_name::text ORDER BY c.column_name),
                   array_agg(CASE c.erase
                       WHEN 'null' THEN format('a.%I IS NOT NULL', c.column_name)
                       WHEN 'constant' THEN format('a.%I IS DISTINCT FROM %L::%s', c.column_name, c.erase_constant,
                                                   format_type(at.atttypid, at.atttypmod))
                       WHEN 'year_only' THEN format('a.%1$I IS DISTINCT FROM pg_catalog.date_trunc(''year'', a.%1$I)::%2$s',
                                                    c.column_name, format_type(at.atttypid, at.atttypmod))
                       WHEN 'hash' THEN format('a.%I::text !~ ''^[0-9a-f]{64}$''', c.column_name)
                       WHEN 'random' THEN format('a.%I::text !~ ''^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$''',
                                                 c.column_name)
                   END ORDER BY c.column_name)
              INTO v_names, v_conds
              FROM gdpr.catalog_column c
              JOIN pg_catalog.pg_attribute at
                ON at.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND at.attname = c.column_name
             WHERE c.table_schema = v_t.table_schema AND c.table_name = v_t.table_name
               AND c.erase IN ('null', 'constant', 'hash', 'year_only')
               AND (v_t.on_erase <> 'retain' OR NOT c.part_of_record);
            IF v_t.link = 'root' THEN
                SELECT COALESCE(v_names, '{}') || array_agg(t.link_column::text ORDER BY t.link_column),
                       COALESCE(v_conds, '{}') || array_agg(format('a.%I IS NOT NULL', t.link_column) ORDER BY t.link_column)
                  INTO v_names, v_conds
                  FROM gdpr.catalog_table t WHERE t.kind = p_kind AND t.link = 'owned' AND t.on_erase = 'delete';
                IF v_s.anonymized_column IS NOT NULL THEN
                    v_names := COALESCE(v_names, '{}') || v_s.anonymized_column::text;
                    v_conds := COALESCE(v_conds, '{}') || format('a.%I IS NULL', v_s.anonymized_column);
                END IF;
            END IF;
        END IF;
        CONTINUE WHEN v_conds IS NULL OR cardinality(v_conds) = 0;
        EXECUTE format('SELECT ARRAY[%s]::bigint[] FROM %I.%I a WHERE %s',
                       (SELECT string_agg(format('count(*) FILTER (WHERE %s)', c), ', ' ORDER BY o)
                          FROM unnest(v_conds) WITH ORDINALITY AS u(c, o)),
                       v_t.table_schema, v_t.table_name, v_filter)
           INTO v_counts USING p_key, p_tenant;
        FOR i IN 1 .. cardinality(v_counts) LOOP
            CONTINUE WHEN v_counts[i] = 0;
            place := format('%I.%I', v_t.table_schema, v_t.table_name) || COALESCE('.' || quote_ident(v_names[i]), '');
            problem := CASE WHEN v_names[i] IS NULL THEN format('%s rows of the subject, which the erasure deletes', v_counts[i])
                            ELSE format('%s rows not in their erased state', v_counts[i]) END;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END $_$;
ALTER FUNCTION gdpr.proof_structure(p_kind text, p_tenant text, p_key text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.proof_structure(p_kind text, p_tenant text, p_key text) IS 'Places where an erased subject''s rows are no longer as the erasure left them (no value needed); internal';
CREATE FUNCTION gdpr.protected_tables() RETURNS TABLE(table_schema name, table_name name, relid oid, area text, tenant_column name, tenant_type text, declared boolean)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH schemas AS (
        SELECT DISTINCT t.table_schema FROM gdpr.catalog_table t
    ), tenant_columns AS (
        SELECT DISTINCT k.table_schema, k.tenant_column FROM gdpr.subject_kind k WHERE k.tenant_column IS NOT NULL
    ), tenant_tables AS (
        -- the referenced side of the root table's single-column tenant foreign key
        SELECT DISTINCT rc.oid AS relid, ra.attname AS key_column
          FROM gdpr.subject_kind k
          JOIN pg_catalog.pg_class c ON c.relname = k.table_name
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = k.table_schema
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = k.tenant_column
          JOIN pg_catalog.pg_constraint f ON f.conrelid = c.oid AND f.contype = 'f'
               AND f.conkey = ARRAY[a.attnum]
          JOIN pg_catalog.pg_class rc ON rc.oid = f.confrelid
          JOIN pg_catalog.pg_attribute ra ON ra.attrelid = rc.oid AND ra.attnum = f.confkey[1]
    ), candidates AS (
        SELECT n.nspname AS table_schema, c.relname AS table_name, c.oid AS relid
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname IN (SELECT s.table_schema FROM schemas s)
    )
    SELECT c.table_schema, c.table_name, c.relid, k.area,
           COALESCE(tt.key_column, a.attname),
           pg_catalog.format_type(ta.atttypid, ta.atttypmod),
           ct.table_name IS NOT NULL
      FROM candidates c
      LEFT JOIN gdpr.catalog_table ct ON ct.table_schema = c.table_schema AND ct.table_name = c.table_name
      LEFT JOIN gdpr.subject_kind k ON k.kind = ct.kind
      LEFT JOIN tenant_tables tt ON tt.relid = c.relid
      LEFT JOIN LATERAL (
            SELECT a.attname FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.relid AND NOT a.attisdropped AND a.attnum > 0
               AND a.attname IN (SELECT tc.tenant_column FROM tenant_columns tc
                                  WHERE tc.table_schema = c.table_schema
                                    AND (k.tenant_column IS NULL OR tc.tenant_column = k.tenant_column))
             ORDER BY a.attnum LIMIT 1) a ON true
      LEFT JOIN pg_catalog.pg_attribute ta ON ta.attrelid = c.relid AND ta.attname = COALESCE(tt.key_column, a.attname)
     WHERE ct.table_name IS NOT NULL OR tt.relid IS NOT NULL OR a.attname IS NOT NULL
     ORDER BY 1, 2
$$;
ALTER FUNCTION gdpr.protected_tables() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.protected_tables() IS 'Tables that get a protected view and row security: declared ones and the tenant-keyed rest of their schemas';
CREATE FUNCTION gdpr.prune_catalog(p_kinds text[], p_tables text[], p_columns text[]) RETURNS TABLE(removed text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_pending text;
BEGIN
    SELECT string_agg(DISTINCT format('%I.%I', d.table_schema, d.table_name), ', ') INTO v_pending
      FROM gdpr.deferred_erasure d JOIN gdpr.catalog_table t USING (table_schema, table_name)
     WHERE t.kind = ANY (p_kinds) AND t.table_schema || '.' || t.table_name <> ALL (p_tables)
       AND d.done_at IS NULL;
    IF v_pending IS NOT NULL THEN
        RAISE EXCEPTION 'catalog: % left out of the file but still has rows kept for deferred erasure', v_pending
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'keep the table in the catalog until its kept rows have been erased';
    END IF;
    RETURN QUERY
    WITH gone AS (
        DELETE FROM gdpr.catalog_table t
         WHERE t.kind = ANY (p_kinds) AND t.table_schema || '.' || t.table_name <> ALL (p_tables)
        RETURNING format('table %I.%I', t.table_schema, t.table_name) AS removed)
    SELECT g.removed FROM gone g;
    RETURN QUERY
    WITH gone AS (
        DELETE FROM gdpr.catalog_column c
         WHERE c.table_schema || '.' || c.table_name = ANY (p_tables)
           AND c.table_schema || '.' || c.table_name || '.' || c.column_name <> ALL (p_columns)
        RETURNING format('column %I.%I.%I', c.table_schema, c.table_name, c.column_name) AS removed)
    SELECT g.removed FROM gone g;
END $$;
ALTER FUNCTION gdpr.prune_catalog(p_kinds text[], p_tables text[], p_columns text[]) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.prune_catalog(p_kinds text[], p_tables text[], p_columns text[]) IS 'Remove from the catalog the tables and columns a re-applied catalog file no longer names';
CREATE FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text, p_guardian text DEFAULT NULL::text, p_tenant text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_subject record;
    v_ct gdpr.consent_table;
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_types record;
    v_band text;
    v_guardian text := NULLIF(btrim(p_guardian), '');
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    SELECT * INTO v_ct FROM gdpr.consent_table c WHERE c.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subject % has no declared consent table', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    IF v_subject.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    v_band := gdpr.subject_age_band(p_kind, v_subject.tenant, v_subject.subject_key, current_date);
    IF v_band = 'under_13' AND v_guardian IS NULL THEN
        RAISE EXCEPTION '% % is under 13: the consent must name the guardian who gives it (Databeskyttelsesloven §6)',
            p_kind, p_subject_key USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_guardian IS NOT NULL AND v_ct.guardian_column IS NULL THEN
        RAISE EXCEPTION 'the consent table of % has no declared guardian column', p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_t FROM gdpr.catalog_table t WHERE t.table_schema = v_ct.table_schema AND t.table_name = v_ct.table_name;
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    EXECUTE format('INSERT INTO %I.%I (%I, %I%s%s) VALUES ($1::%s, $3%s%s)',
                   v_ct.table_schema, v_ct.table_name, v_t.link_column, v_ct.type_column,
                   CASE WHEN v_guardian IS NOT NULL THEN format(', %I', v_ct.guardian_column) ELSE '' END,
                   CASE WHEN v_s.tenant_column IS NOT NULL THEN format(', %I', v_s.tenant_column) ELSE '' END,
                   v_types.key_type,
                   CASE WHEN v_guardian IS NOT NULL THEN ', $4' ELSE '' END,
                   CASE WHEN v_s.tenant_column IS NOT NULL THEN format(', $2::%s', v_types.tenant_type) ELSE '' END)
        USING v_subject.subject_key, NULLIF(v_subject.tenant, ''), p_consent_type, v_guardian;
    -- given again: the withdrawal no longer stops its messages (consent_withdrawn_for_template
    -- compares with the given-at column when one is declared; without one the record goes)
    IF v_ct.given_column IS NULL THEN
        DELETE FROM gdpr.consent_withdrawal w
         WHERE w.kind = p_kind AND w.tenant = v_subject.tenant AND w.subject_key = v_subject.subject_key
           AND w.consent_type = p_consent_type;
    END IF;
    PERFORM gdpr.audit('consent_given', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('consent_type', p_consent_type, 'age_band', v_band,
                                          'guardian_named', v_guardian IS NOT NULL));
    RETURN jsonb_build_object('kind', p_kind, 'subject_key', v_subject.subject_key, 'consent_type', p_consent_type,
                              'age_band', v_band, 'guardian_named', v_guardian IS NOT NULL);
END $_$;
ALTER FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text, p_guardian text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text, p_guardian text, p_tenant text) IS 'Record a consent; for a child under 13 the guardian who gives it must be named (Databeskyttelsesloven §6)';
CREATE FUNCTION gdpr.record_rectification(p_schema name, p_table name, p_kind text, p_tenant text, p_subject_key text, p_columns name[], p_sensitive name[], p_old jsonb) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH written AS (
        INSERT INTO gdpr.rectification (kind, tenant, subject_key, table_schema, table_name, column_name,
                                        actor, login, sensitive, old_value)
        SELECT p_kind, COALESCE(p_tenant, ''), p_subject_key, c.table_schema, c.table_name, c.column_name,
               gdpr.caller(), SESSION_USER, c.column_name = ANY (p_sensitive),
               CASE WHEN c.column_name = ANY (p_sensitive) THEN NULL
                    WHEN c.category = 'free_text' THEN gdpr.render_free_text(p_old ->> c.column_name, 'not_allowed')
                    ELSE p_old ->> c.column_name END
          FROM gdpr.catalog_column c
         WHERE c.table_schema = p_schema AND c.table_name = p_table AND c.column_name = ANY (p_columns)
        RETURNING 1)
    SELECT count(*)::integer FROM written
$$;
ALTER FUNCTION gdpr.record_rectification(p_schema name, p_table name, p_kind text, p_tenant text, p_subject_key text, p_columns name[], p_sensitive name[], p_old jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.record_rectification(p_schema name, p_table name, p_kind text, p_tenant text, p_subject_key text, p_columns name[], p_sensitive name[], p_old jsonb) IS 'Internal (gdpr.view_write): record corrected declared columns, no old value of sensitive ones';
CREATE FUNCTION gdpr.redact(p_value json, p_pattern text) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact(p_value::pg_catalog.text, p_pattern)::pg_catalog.json END
$$;
ALTER FUNCTION gdpr.redact(p_value json, p_pattern text) OWNER TO postgres;
CREATE FUNCTION gdpr.redact(p_value jsonb, p_pattern text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact(p_value::pg_catalog.text, p_pattern)::pg_catalog.jsonb END
$$;
ALTER FUNCTION gdpr.redact(p_value jsonb, p_pattern text) OWNER TO postgres;
CREATE FUNCTION gdpr.redact(p_text text, p_pattern text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_text IS NULL THEN p_text
                ELSE gdpr.redact_step(
                         gdpr.redact_step(p_text, pg_catalog.split_part(p_pattern, E'\x1f', 1), '[anonymiseret]'),
                         pg_catalog.split_part(p_pattern, E'\x1f', 2), '[anonymiseret]') END
$$;
ALTER FUNCTION gdpr.redact(p_text text, p_pattern text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact(p_text text, p_pattern text) IS 'A text with every match of a subject''s redaction patterns replaced by [anonymiseret]';
CREATE FUNCTION gdpr.redact_bounded(p_first text, p_regex text, p_last text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
    SELECT CASE WHEN p_first OPERATOR(pg_catalog.~) '^[0-9]' THEN '(?<![0-9])'
                WHEN p_first OPERATOR(pg_catalog.~) '^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]'
                    THEN '(?<![0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f])' ELSE '' END
           OPERATOR(pg_catalog.||) p_regex
           OPERATOR(pg_catalog.||) CASE WHEN p_last OPERATOR(pg_catalog.~) '[0-9]$' THEN '(?![0-9])'
                   WHEN p_last OPERATOR(pg_catalog.~) '[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]$'
                       THEN '(?![0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f])' ELSE '' END
$_$;
ALTER FUNCTION gdpr.redact_bounded(p_first text, p_regex text, p_last text) OWNER TO postgres;
CREATE FUNCTION gdpr.redact_capture(p_names text[], p_others text[], p_groups text[] DEFAULT '{}'::text[], OUT pattern text, OUT mention_keys text[]) RETURNS record
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
BEGIN
    WITH f AS MATERIALIZED (SELECT * FROM gdpr.redact_forms(p_names, p_others, p_groups))
    SELECT COALESCE(string_agg(f.regex, '|' ORDER BY f.weight DESC, f.regex) FILTER (WHERE f.mention), '')
           || E'\x1f'
           || COALESCE(string_agg(f.regex, '|' ORDER BY f.weight DESC, f.regex) FILTER (WHERE NOT f.mention), ''),
           -- a key that contains another one finds nothing more: each key is a GIN scan
           COALESCE((SELECT array_agg(k.k ORDER BY k.k)
                       FROM (SELECT DISTINCT u.k FROM f g, unnest(g.like_keys) AS u(k)
                              WHERE g.mention AND length(u.k) >= 5) k
                      WHERE NOT EXISTS (SELECT FROM f g2, unnest(g2.like_keys) AS o(k)
                                         WHERE g2.mention AND length(o.k) >= 5 AND o.k <> k.k
                                           AND k.k LIKE o.k)), '{}')
      INTO pattern, mention_keys
      FROM (SELECT DISTINCT ON (r.regex) r.* FROM f r ORDER BY r.regex, r.mention DESC) f;
END $$;
ALTER FUNCTION gdpr.redact_capture(p_names text[], p_others text[], p_groups text[], OUT pattern text, OUT mention_keys text[]) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_capture(p_names text[], p_others text[], p_groups text[], OUT pattern text, OUT mention_keys text[]) IS 'A subject''s redaction pattern (for gdpr.redact) and the keys of its mention search';
CREATE FUNCTION gdpr.redact_fold(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.translate(p_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ',
                                        'abcdefghijklmnopqrstuvwxyzàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþ')
$$;
ALTER FUNCTION gdpr.redact_fold(p_text text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_fold(p_text text) IS 'Lower case of ASCII and Latin-1 letters by an explicit mapping, whatever the database''s LC_CTYPE';
CREATE FUNCTION gdpr.redact_forms(p_names text[], p_others text[], p_groups text[] DEFAULT '{}'::text[]) RETURNS TABLE(regex text, like_keys text[], mention boolean, weight integer)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $_$
BEGIN
    RETURN QUERY
    WITH parts AS (
        SELECT n.i, w.j, w.word, n.i = max(n.i) OVER () AS family
          FROM unnest(p_names) WITH ORDINALITY AS n(v, i),
               LATERAL regexp_split_to_table(btrim(n.v), '[\s\u00a0-]+') WITH ORDINALITY AS w(word, j)
         WHERE length(w.word) >= 2
    ), given AS (
        SELECT p.word AS g FROM parts p WHERE NOT p.family
        UNION
        SELECT string_agg(p.word, ' ' ORDER BY p.i, p.j) FROM parts p WHERE NOT p.family HAVING count(*) > 1
    ), fam AS (
        SELECT p.word AS f, false AS whole FROM parts p WHERE p.family
        UNION
        SELECT string_agg(p.word, ' ' ORDER BY p.j), true FROM parts p WHERE p.family HAVING count(*) > 1
    ), title AS (
        SELECT '(?:hr|fru|frk)(?:\.[\s\u00a0]*|[\s\u00a0]+)' AS t
    ), vals AS (
        SELECT btrim(o) AS v FROM unnest(p_others) AS o WHERE btrim(o) <> ''
    ), nums AS (  -- values written as numbers: their digits; Danish phone numbers without +45
        SELECT v.v, CASE WHEN v.v ~ '^\s*(\+|00)\s*45' AND length(regexp_replace(v.v, '[^0-9]', '', 'g'))
                                  = CASE WHEN v.v ~ '^\s*00' THEN 12 ELSE 10 END
                         THEN right(regexp_replace(v.v, '[^0-9]', '', 'g'), 8)
                         ELSE regexp_replace(v.v, '[^0-9]', '', 'g') END AS core,
               v.v ~ '^\s*(\+|00)\s*45' AS dk_prefix
          FROM vals v
         WHERE v.v ~ '^[\s\u00a0]*\+?[0-9][0-9\s\u00a0().\/-]*$'
    )
    -- names in the subject's own rows: every part, with or without a title, genitive too
    SELECT gdpr.redact_bounded(p.word, '(?:' || title.t || ')?' || gdpr.redact_literal(p.word) || '(?:[''\u2019]?s)?', 'a'),
           NULL::text[], false, length(p.word)
      FROM parts p, title
    UNION ALL  -- a given name with the family name (whole or a part): a mention
    SELECT gdpr.redact_bounded(g.g, gdpr.redact_literal(g.g || ' ' || f.f) || '(?:[''\u2019]?s)?', 'a'),
           ARRAY['%' || gdpr.mention_text(g.g || f.f) || '%'], true, length(g.g || f.f) + 1
      FROM given g, fam f
    UNION ALL  -- a family name of several words, whole (Ørnsholt-Bæk)
    SELECT gdpr.redact_bounded(f.f, gdpr.redact_literal(f.f) || '(?:[''\u2019]?s)?', 'a'),
           ARRAY['%' || gdpr.mention_text(f.f) || '%'], true, length(f.f)
      FROM fam f WHERE f.whole
    UNION ALL  -- a title with the family name (whole or a part): a mention
    SELECT gdpr.redact_bounded('a', title.t || gdpr.redact_literal(f.f) || '(?:[''\u2019]?s)?', 'a'),
           ARRAY['%hr' || gdpr.mention_text(f.f) || '%', '%fru' || gdpr.mention_text(f.f) || '%',
                 '%frk' || gdpr.mention_text(f.f) || '%'], true, length(f.f) + 3
      FROM fam f, title
    UNION ALL  -- e-mail addresses, whole
    SELECT gdpr.redact_bounded(v.v, gdpr.redact_literal(v.v), v.v),
           ARRAY['%' || gdpr.mention_text(v.v) || '%'], true, length(v.v)
      FROM vals v WHERE strpos(v.v, '@') > 0
    UNION ALL  -- and their local part
    SELECT gdpr.redact_bounded(l.l, gdpr.redact_literal(l.l), l.l),
           ARRAY['%' || gdpr.mention_text(l.l) || '%'], length(l.l) >= 5, length(l.l)
      FROM (SELECT split_part(v.v, '@', 1) AS l FROM vals v WHERE strpos(v.v, '@') > 0) l
     WHERE length(l.l) >= 3
       AND gdpr.redact_fold(l.l) NOT IN (SELECT gdpr.redact_fold(p.word) FROM parts p)
    UNION ALL  -- numbers (phone, CPR, account, customer number written as digits ...)
    SELECT gdpr.redact_bounded(CASE WHEN n.dk_prefix THEN '+' ELSE n.core END,
               CASE WHEN n.dk_prefix
                    THEN '(?:(?:\+|00)[\s\u00a0./()_\u2013-]*4'
                         || '[\s\u00a0./()_\u2013-]*5'
                         || '[\s\u00a0./()_\u2013-]*)?'
                    WHEN n.v ~ '^\s*\+' THEN '\+?' ELSE '' END
               || CASE WHEN length(n.core) = 10 AND n.core ~ '^[0-3][0-9][01][0-9]'
                       -- a CPR number: DDMMYY SSSS, also DDMM19YY SSSS
                       THEN gdpr.redact_literal(left(n.core, 4))
                            || '[\s\u00a0./()_\u2013-]*(?:(?:19|20)'
                            || '[\s\u00a0./()_\u2013-]*)?'
                            || gdpr.redact_literal(substr(n.core, 5))
                       ELSE gdpr.redact_literal(n.core) END, n.core),
           CASE WHEN length(n.core) = 10 AND n.core ~ '^[0-3][0-9][01][0-9]'
                THEN ARRAY['%' || left(n.core, 4) || '%' || substr(n.core, 5) || '%']
                ELSE ARRAY['%' || n.core || '%'] END,
           length(n.core) >= 6, length(n.core)
      FROM nums n WHERE length(n.core) >= 3
    UNION ALL  -- a CPR number as YYYY-MM-DD SSSS
    SELECT gdpr.redact_bounded('1', '(?:19|20)[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(substr(n.core, 5, 2)) || '[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(substr(n.core, 3, 2)) || '[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(left(n.core, 2)) || '[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(right(n.core, 4)), '0'),
           ARRAY['%' || substr(n.core, 5, 2) || '%' || substr(n.core, 3, 2) || left(n.core, 2) || '%'
                 || right(n.core, 4) || '%'], true, 12
      FROM nums n WHERE length(n.core) = 10 AND n.core ~ '^[0-3][0-9][01][0-9]'
    UNION ALL  -- everything else: customer number, member card, key fob, address line, city
    SELECT gdpr.redact_bounded(v.v, gdpr.redact_literal(v.v), v.v),
           ARRAY['%' || gdpr.mention_text(v.v) || '%'],
           v.v ~ '[0-9]' AND length(v.v) >= 4, length(v.v)
      FROM vals v
     WHERE strpos(v.v, '@') = 0 AND length(v.v) >= 3 AND NOT EXISTS (SELECT FROM nums n WHERE n.v = v.v)
    UNION ALL  -- values written together (every run of two or more of a group, in order):
               -- registration and account number; street, postcode and city
    SELECT gdpr.redact_bounded(r.a[1], (SELECT string_agg(gdpr.redact_literal(x),
               '[\s\u00a0.,/()_\u2013-]*' ORDER BY o) FROM unnest(r.a) WITH ORDINALITY AS u(x, o)),
               r.a[cardinality(r.a)]),
           ARRAY['%' || gdpr.mention_text(array_to_string(r.a, '')) || '%'],
           -- a mention when one of the run is (an account, an address line), not for a
           -- postcode and city, which thousands share
           EXISTS (SELECT FROM unnest(r.a) AS x
                    WHERE length(regexp_replace(x, '[^0-9]', '', 'g')) >= 6
                       OR (x ~ '[0-9]' AND x ~ '[^0-9\s.,/()+-]' AND length(x) >= 4)),
           length(array_to_string(r.a, ' '))
      FROM (SELECT DISTINCT g.a[i:j] AS a
              FROM (SELECT array_remove(ARRAY(SELECT NULLIF(btrim(x), '')
                                                FROM unnest(string_to_array(p, E'\x1f')) WITH ORDINALITY AS e(x, o)
                                               ORDER BY o), NULL) AS a
                      FROM unnest(p_groups) AS p) g,
                   generate_series(1, cardinality(g.a)) AS i, generate_series(1, cardinality(g.a)) AS j
             WHERE j >= i + 1) r
    ;
END $_$;
ALTER FUNCTION gdpr.redact_forms(p_names text[], p_others text[], p_groups text[]) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_forms(p_names text[], p_others text[], p_groups text[]) IS 'The forms (regular expressions) in which a subject''s identifying values are redacted, with their mention keys';
CREATE FUNCTION gdpr.redact_literal(p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
           pg_catalog.regexp_replace(pg_catalog.translate(pg_catalog.regexp_replace(
               p_value,
               '([0-9])[^0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+(?=[0-9])', '\1', 'g'),
               'ÆØÅÉÜÖÄ', 'æøåéüöä'),
               '([^0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\s\u00a0-])', '\\\1', 'g'),
               '[\s\u00a0-]+', E'\x01', 'g'),
               '([0-9])(?=[0-9])', E'\\1\x02', 'g'),
               '[aA][aA]', E'\x03', 'g'),
               'æ', E'\x04'), 'ø', E'\x05'), 'å', '(?:[åÅ]|aa)'),
               'é', '[éÉ]'), 'ü', '[üÜ]'), 'ö', '[öÖ]'), 'ä', '[äÄ]'),
               E'\x04', '(?:[æÆ]|ae)'), E'\x05', '(?:[øØ]|oe)'), E'\x03', '(?:aa|[åÅ])'),
               E'\x01', '[\s\u00a0-]+'), E'\x02', '[\s\u00a0./()_\u2013-]*')
$$;
ALTER FUNCTION gdpr.redact_literal(p_value text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_literal(p_value text) IS 'Regular expression (flag i) of a literal value as staff write it: æøå, digit separators, spaces or hyphens';
CREATE FUNCTION gdpr.redact_mentions(p_value json, p_pattern text) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact_mentions(p_value::pg_catalog.text, p_pattern)::pg_catalog.json END
$$;
ALTER FUNCTION gdpr.redact_mentions(p_value json, p_pattern text) OWNER TO postgres;
CREATE FUNCTION gdpr.redact_mentions(p_value jsonb, p_pattern text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact_mentions(p_value::pg_catalog.text, p_pattern)::pg_catalog.jsonb END
$$;
ALTER FUNCTION gdpr.redact_mentions(p_value jsonb, p_pattern text) OWNER TO postgres;
CREATE FUNCTION gdpr.redact_mentions(p_text text, p_pattern text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_text IS NULL THEN p_text
                ELSE gdpr.redact_step(p_text, pg_catalog.split_part(p_pattern, E'\x1f', 1), '[anonymiseret]') END
$$;
ALTER FUNCTION gdpr.redact_mentions(p_text text, p_pattern text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_mentions(p_text text, p_pattern text) IS 'A text with every mention of a subject (the specific forms of its pattern) replaced by [anonymiseret]';
CREATE FUNCTION gdpr.redact_note(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.left(pg_catalog.regexp_replace(pg_catalog.btrim(p_text), gdpr.masked_number_pattern(),
                                                     '[nummer fjernet]', 'g'), 1000)
$$;
ALTER FUNCTION gdpr.redact_note(p_text text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_note(p_text text) IS 'A caller-written note with CPR- and account-shaped numbers replaced by a marker, at most 1000 characters';
CREATE FUNCTION gdpr.redact_pattern(p_names text[], p_others text[], p_groups text[] DEFAULT '{}'::text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT c.pattern FROM gdpr.redact_capture(p_names, p_others, p_groups) c
$$;
ALTER FUNCTION gdpr.redact_pattern(p_names text[], p_others text[], p_groups text[]) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.redact_pattern(p_names text[], p_others text[], p_groups text[]) IS 'The redaction pattern (for gdpr.redact) of a subject''s name words and other identifying values';
CREATE FUNCTION gdpr.redact_step(p_text text, p_pattern text, p_replacement text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_pattern OPERATOR(pg_catalog.=) '' THEN p_text
                ELSE pg_catalog.regexp_replace(p_text, p_pattern, p_replacement, 'gi') END
$$;
ALTER FUNCTION gdpr.redact_step(p_text text, p_pattern text, p_replacement text) OWNER TO postgres;
CREATE FUNCTION gdpr.redact_upper(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.translate(p_text, 'abcdefghijklmnopqrstuvwxyzàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþ',
                                        'ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ')
$$;
ALTER FUNCTION gdpr.redact_upper(p_text text) OWNER TO postgres;
CREATE FUNCTION gdpr.refresh_views() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_t record;
    v_app name;
    v_columns text;
    v_view text;
    v_count integer := 0;
    v_stale record;
    v_area_literal text;
    v_access text;
    v_gate text;
BEGIN
    -- Drop the views generated before (marked by their comment); they are rebuilt below.
    FOR v_stale IN
        SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'v' AND pg_catalog.obj_description(c.oid, 'pg_class') LIKE 'pgdpr generated view%'
    LOOP
        EXECUTE pg_catalog.format('DROP VIEW IF EXISTS %I.%I CASCADE', v_stale.nspname, v_stale.relname);
    END LOOP;
    FOR v_t IN SELECT * FROM gdpr.protected_tables() LOOP
        v_app := gdpr.app_schema(v_t.table_schema);
        v_area_literal := COALESCE(pg_catalog.quote_literal(v_t.area), 'NULL::text');
        EXECUTE pg_catalog.format('CREATE SCHEMA IF NOT EXISTS %I', v_app);
        EXECUTE pg_catalog.format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', v_app);
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO pgdpr_staff, pgdpr_support, pgdpr_admin', v_app);
        EXECUTE pg_catalog.format('GRANT USAGE, CREATE ON SCHEMA %I TO pgdpr_view_owner', v_app);
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO pgdpr_view_owner, pgdpr_owner', v_t.table_schema);
        -- Row security, enabled and forced (the owner too; pgdpr_owner bypasses it and
        -- its functions check the tenant themselves).
        IF v_t.tenant_column IS NOT NULL THEN
            EXECUTE pg_catalog.format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', v_t.table_schema, v_t.table_name);
            EXECUTE pg_catalog.format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', v_t.table_schema, v_t.table_name);
            EXECUTE pg_catalog.format('DROP POLICY IF EXISTS pgdpr_tenant ON %I.%I', v_t.table_schema, v_t.table_name);
            EXECUTE pg_catalog.format(
                'CREATE POLICY pgdpr_tenant ON %I.%I USING (%I = (SELECT CASE WHEN gdpr.register_access(%s) <> %L '
                'THEN gdpr.current_tenant()::%s END))',
                v_t.table_schema, v_t.table_name, v_t.tenant_column, v_area_literal, 'none', v_t.tenant_type);
            EXECUTE pg_catalog.format('DROP POLICY IF EXISTS pgdpr_support ON %I.%I', v_t.table_schema, v_t.table_name);
            -- The support tenants are an array the planner cannot see: it estimates
            -- `col = ANY (<parameter>)` as ten values (scalararraysel), ten clubs' rows, and
            -- on 50 clubs picked a parallel plan for a staff role's scan of its one club
            -- (1.5x the serial one). Bounding the array by its least and greatest element
            -- (a range of two parameters: estimated at 0.5%) changes no row and brings
            -- the estimate back to about one club.
            EXECUTE pg_catalog.format(
                'CREATE POLICY pgdpr_support ON %1$I.%2$I FOR SELECT TO pgdpr_view_owner '
                'USING (%3$I >= (SELECT s FROM pg_catalog.unnest(gdpr.support_tenants(CURRENT_USER)::%4$s[]) s '
                'ORDER BY 1 LIMIT 1) '
                'AND %3$I <= (SELECT s FROM pg_catalog.unnest(gdpr.support_tenants(CURRENT_USER)::%4$s[]) s '
                'ORDER BY 1 DESC LIMIT 1) '
                'AND %3$I = ANY ((SELECT gdpr.support_tenants(CURRENT_USER)::%4$s[])::%4$s[]))',
                v_t.table_schema, v_t.table_name, v_t.tenant_column, v_t.tenant_type);
        END IF;
        -- The view's select list: sensitive columns rendered per caller, the rest as is.
        -- The access level is an uncorrelated scalar subquery: an InitPlan, once per query.
        v_access := pg_catalog.format('(SELECT gdpr.sensitive_access(%s))', v_area_literal);
        SELECT pg_catalog.string_agg(
                 CASE
                   WHEN cc.sensitive THEN pg_catalog.format(
                       'gdpr.render_sensitive(t.%1$I::text, %2$s) AS %1$I',
                       a.attname, v_access)
                   WHEN cc.sensitive_when IS NOT NULL THEN pg_catalog.format(
                       'CASE WHEN t.%2$I THEN gdpr.render_sensitive(t.%1$I::text, %3$s) '
                       'ELSE t.%1$I::text END AS %1$I',
                       a.attname, cc.sensitive_when, v_access)
                   WHEN cc.category = 'free_text' AND a.atttypid IN ('text'::regtype, 'varchar'::regtype) THEN
                       pg_catalog.format(
                       'gdpr.render_free_text(t.%1$I::text, %3$s)::%2$s AS %1$I',
                       a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), v_access)
                   ELSE pg_catalog.format('t.%I', a.attname)
                 END, ', ' ORDER BY a.attnum)
          INTO v_columns
          FROM pg_catalog.pg_attribute a
          LEFT JOIN gdpr.catalog_column cc ON cc.table_schema = v_t.table_schema
               AND cc.table_name = v_t.table_name AND cc.column_name = a.attname
         WHERE a.attrelid = v_t.relid AND a.attnum > 0 AND NOT a.attisdropped;
        v_view := pg_catalog.format('%I.%I', v_app, v_t.table_name);
        -- A declared table without the tenant column, whose subject kind has one (the
        -- club only on the root table: order lines under an order under a customer):
        -- its rows are the caller's only through the subject row they belong to, which
        -- row security filters for the view owner. The view keeps a row only if that
        -- subject row is visible: the tenant comes through the parents.
        v_gate := NULL;
        IF v_t.tenant_column IS NULL AND v_t.declared THEN
            SELECT pg_catalog.format('EXISTS (SELECT FROM %I.%I gdpr_subject %s WHERE gdpr_subject.%I = %s AND %s)',
                                     k.table_schema, k.table_name, src.from_clause, k.key_column, src.key_expr,
                                     src.where_clause)
              INTO v_gate
              FROM gdpr.catalog_table ct
              JOIN gdpr.subject_kind k ON k.kind = ct.kind
              CROSS JOIN LATERAL gdpr.subject_source(ct.table_schema, ct.table_name, 't') src
             WHERE ct.table_schema = v_t.table_schema AND ct.table_name = v_t.table_name
               AND ct.link <> 'root' AND k.tenant_column IS NOT NULL;
        END IF;
        -- With a tenant column row security is the only row filter: a plain view (see the
        -- header). Without one the view itself gates the rows (register access, and the
        -- subject's club through its parents), and those quals must run before the
        -- caller's: a security_barrier view.
        EXECUTE pg_catalog.format(
            'CREATE VIEW %s %s AS SELECT %s FROM %I.%I t %s',
            v_view,
            CASE WHEN v_t.tenant_column IS NULL THEN 'WITH (security_barrier)' END,
            v_columns, v_t.table_schema, v_t.table_name,
            CASE WHEN v_t.tenant_column IS NULL THEN pg_catalog.format(
                'WHERE (SELECT gdpr.register_access(%s)) <> %L%s', v_area_literal, 'none',
                CASE WHEN v_gate IS NOT NULL THEN ' AND ' || v_gate ELSE '' END) END);
        EXECUTE pg_catalog.format('COMMENT ON VIEW %s IS %L', v_view,
            pg_catalog.format('pgdpr generated view of %I.%I (gdpr.refresh_views): sensitive columns per caller',
                              v_t.table_schema, v_t.table_name));
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER write_through INSTEAD OF INSERT OR UPDATE OR DELETE ON %s '
            'FOR EACH ROW EXECUTE FUNCTION gdpr.view_write(%L, %L, %L, %L)',
            v_view, v_t.table_schema, v_t.table_name, COALESCE(v_t.area, ''), COALESCE(v_t.tenant_column, ''));
        EXECUTE pg_catalog.format('GRANT SELECT ON %I.%I TO pgdpr_view_owner', v_t.table_schema, v_t.table_name);
        EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO pgdpr_owner',
                                  v_t.table_schema, v_t.table_name);
        EXECUTE pg_catalog.format('ALTER VIEW %s OWNER TO pgdpr_view_owner', v_view);
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', v_view);
        EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO pgdpr_staff', v_view);
        EXECUTE pg_catalog.format('GRANT SELECT ON %s TO pgdpr_support, pgdpr_admin', v_view);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $_$;
ALTER FUNCTION gdpr.refresh_views() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.refresh_views() IS 'Regenerate the protected views (<schema>_app.*) and the row policies from the catalog; run as the tables'' owner';
CREATE FUNCTION gdpr.refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'gdpr.audit_event is append-only: % is not allowed', tg_op
        USING ERRCODE = 'insufficient_privilege';
END $$;
ALTER FUNCTION gdpr.refuse_audit_change() OWNER TO postgres;
CREATE FUNCTION gdpr.register_access(p_area text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT gdpr.register_access_of(CURRENT_USER, p_area)
$$;
ALTER FUNCTION gdpr.register_access(p_area text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.register_access(p_area text) IS 'Register access (none, read, write) of the current role to an area''s tables';
CREATE FUNCTION gdpr.register_access_of(p_role name, p_area text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.register_access_of(p_role name, p_area text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.register_access_of(p_role name, p_area text) IS 'Register access (none, read, write) of a role to an area''s tables';
CREATE FUNCTION gdpr.register_action(p_name text, p_function regproc, p_description text, p_erases boolean DEFAULT false, p_params jsonb DEFAULT '{}'::jsonb, p_subject_table text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_name text := p_function::text;
BEGIN
    IF to_regprocedure(v_name || '(bigint,bigint,text,text,text[],jsonb)') IS NULL THEN
        RAISE EXCEPTION 'action function % must take (p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb)',
            v_name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM gdpr.rule_trusted_function(v_name, 'bigint,bigint,text,text,text[],jsonb', 'action', p_name);
    INSERT INTO gdpr.rule_action (name, function, subject_table, erases, description, params)
    VALUES (p_name, v_name, p_subject_table, COALESCE(p_erases, false), p_description, COALESCE(p_params, '{}'))
    ON CONFLICT (name) DO UPDATE SET function = excluded.function, subject_table = excluded.subject_table,
        erases = excluded.erases, description = excluded.description, params = excluded.params;
    PERFORM gdpr.audit('rule_action_register', NULL, NULL, NULL, NULL,
                       jsonb_build_object('action', p_name, 'function', v_name));
END $$;
ALTER FUNCTION gdpr.register_action(p_name text, p_function regproc, p_description text, p_erases boolean, p_params jsonb, p_subject_table text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.register_action(p_name text, p_function regproc, p_description text, p_erases boolean, p_params jsonb, p_subject_table text) IS 'Register (or replace) a named rule action: a function applied to a batch of subject keys';
CREATE FUNCTION gdpr.register_condition(p_name text, p_function regproc, p_description text, p_params jsonb DEFAULT '{}'::jsonb, p_subject_table text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_name text := p_function::text;
BEGIN
    IF to_regprocedure(v_name || '(text,jsonb,text)') IS NULL THEN
        RAISE EXCEPTION 'condition function % must take (p_alias text, p_params jsonb, p_params_ref text) and return text',
            v_name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM gdpr.rule_trusted_function(v_name, 'text,jsonb,text', 'condition', p_name);
    INSERT INTO gdpr.rule_condition (name, function, subject_table, description, params)
    VALUES (p_name, v_name, p_subject_table, p_description, COALESCE(p_params, '{}'))
    ON CONFLICT (name) DO UPDATE SET function = excluded.function, subject_table = excluded.subject_table,
        description = excluded.description, params = excluded.params;
    PERFORM gdpr.audit('rule_condition_register', NULL, NULL, NULL, NULL,
                       jsonb_build_object('condition', p_name, 'function', v_name));
END $$;
ALTER FUNCTION gdpr.register_condition(p_name text, p_function regproc, p_description text, p_params jsonb, p_subject_table text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.register_condition(p_name text, p_function regproc, p_description text, p_params jsonb, p_subject_table text) IS 'Register (or replace) a named rule condition: a function (p_alias, p_params, p_params_ref) -> SQL predicate';
CREATE FUNCTION gdpr.render_free_text(p_value text, p_access text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE p_access WHEN 'allowed'::text THEN p_value WHEN 'hidden'::text THEN regexp_replace(p_value, gdpr.masked_number_pattern(), ''::text, 'g'::text) ELSE regexp_replace(p_value, gdpr.masked_number_pattern(), 'kræver login'::text, 'g'::text) END;
ALTER FUNCTION gdpr.render_free_text(p_value text, p_access text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.render_free_text(p_value text, p_access text) IS 'Free text as a caller at the given access level reads it: CPR- and account-shaped numbers masked unless allowed';
CREATE FUNCTION gdpr.render_sensitive(p_value text, p_access text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE p_access WHEN 'allowed'::text THEN p_value WHEN 'hidden'::text THEN NULL::text ELSE CASE WHEN (p_value IS NULL) THEN NULL::text ELSE 'kræver login'::text END END;
ALTER FUNCTION gdpr.render_sensitive(p_value text, p_access text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.render_sensitive(p_value text, p_access text) IS 'A sensitive value as a caller at the given access level reads it: the value, ''kræver login'' or NULL';
CREATE FUNCTION gdpr.request_answering_actions(p_type text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE p_type
        WHEN 'access' THEN ARRAY['insight_report', 'export']
        WHEN 'portability' THEN ARRAY['export']
        WHEN 'erasure' THEN ARRAY['anonymize']
        WHEN 'restriction' THEN ARRAY['restriction_set']
        WHEN 'objection' THEN ARRAY['restriction_set', 'consent_withdrawn']
        WHEN 'rectification' THEN ARRAY['rectification']
        ELSE ARRAY[]::text[] END
$$;
ALTER FUNCTION gdpr.request_answering_actions(p_type text) OWNER TO postgres;
CREATE FUNCTION gdpr.request_clock(p_now timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_now IS NOT NULL AND NOT COALESCE(gdpr.caller_is_admin(), false) THEN
        RAISE EXCEPTION 'only an administrator may set the clock of the request register'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN COALESCE(p_now, now());
END $$;
ALTER FUNCTION gdpr.request_clock(p_now timestamp with time zone) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.request_due(p_received_at timestamp with time zone, p_tenant text, p_months integer) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT ((p_received_at AT TIME ZONE gdpr.tenant_time_zone(NULLIF(p_tenant, '')))
            + make_interval(months => p_months)) AT TIME ZONE gdpr.tenant_time_zone(NULLIF(p_tenant, ''))
$$;
ALTER FUNCTION gdpr.request_due(p_received_at timestamp with time zone, p_tenant text, p_months integer) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.request_figures(p_tenant text, p_now timestamp with time zone DEFAULT now()) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'open', count(*) FILTER (WHERE r.status = 'open'),
        'overdue', count(*) FILTER (WHERE r.status = 'open' AND p_now > COALESCE(r.extended_due_at, r.due_at)),
        'answered', count(*) FILTER (WHERE r.status = 'answered'),
        'answered_late', count(*) FILTER (WHERE r.status = 'answered'
                                            AND r.closed_at > COALESCE(r.extended_due_at, r.due_at)),
        'extended', count(*) FILTER (WHERE r.extended_at IS NOT NULL),
        'refused', count(*) FILTER (WHERE r.status = 'refused'),
        'withdrawn', count(*) FILTER (WHERE r.status = 'withdrawn'),
        'by_type', COALESCE((SELECT jsonb_object_agg(t.request_type, t.n)
                               FROM (SELECT q.request_type, count(*) AS n FROM gdpr.dsr_request q
                                      WHERE p_tenant IS NULL OR q.tenant = p_tenant GROUP BY 1) t), '{}'))
      FROM gdpr.dsr_request r
     WHERE p_tenant IS NULL OR r.tenant = p_tenant
$$;
ALTER FUNCTION gdpr.request_figures(p_tenant text, p_now timestamp with time zone) OWNER TO pgdpr_owner;
CREATE TABLE gdpr.dsr_request (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    request_type text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    verification text NOT NULL,
    due_at timestamp with time zone NOT NULL,
    extended_due_at timestamp with time zone,
    extended_at timestamp with time zone,
    extended_by name,
    status text DEFAULT 'open'::text NOT NULL,
    opened_by name NOT NULL,
    opened_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_at timestamp with time zone,
    closed_by name,
    CONSTRAINT dsr_request_check CHECK (((status = 'open'::text) = (closed_at IS NULL))),
    CONSTRAINT dsr_request_check1 CHECK (((extended_due_at IS NULL) = (extended_at IS NULL))),
    CONSTRAINT dsr_request_check2 CHECK (((extended_due_at IS NULL) OR ((extended_due_at > due_at) AND (extended_at <= due_at)))),
    CONSTRAINT dsr_request_check3 CHECK ((due_at > received_at)),
    CONSTRAINT dsr_request_request_type_check CHECK ((request_type = ANY (ARRAY['access'::text, 'portability'::text, 'erasure'::text, 'rectification'::text, 'restriction'::text, 'objection'::text]))),
    CONSTRAINT dsr_request_status_check CHECK ((status = ANY (ARRAY['open'::text, 'answered'::text, 'refused'::text, 'withdrawn'::text]))),
    CONSTRAINT dsr_request_verification_check CHECK ((verification = ANY (ARRAY['in_person_id'::text, 'mitid'::text, 'known_email'::text, 'known_phone'::text, 'signed_letter'::text, 'other'::text])))
);
ALTER TABLE gdpr.dsr_request OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.dsr_request IS 'Data-subject requests (GDPR Art. 12(3)): receipt, deadline, status; keys only';
CREATE FUNCTION gdpr.request_for_change(p_request_id bigint) RETURNS gdpr.dsr_request
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(NULL);
    v_request gdpr.dsr_request;
BEGIN
    SELECT * INTO v_request FROM gdpr.dsr_request r
     WHERE r.id = p_request_id AND (v_tenant IS NULL OR r.tenant = v_tenant)
     FOR UPDATE;
    IF NOT FOUND THEN  -- another club's request reads as missing, like a wrong number
        RAISE EXCEPTION 'request % not found', p_request_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM gdpr.require_register_access(v_request.kind, 'write');
    RETURN v_request;
END $$;
ALTER FUNCTION gdpr.request_for_change(p_request_id bigint) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.request_subject(p_kind text, p_subject_key text, p_tenant text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) RETURNS record
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT l.subject_key, COALESCE(l.tenant, ''), l.anonymized
      FROM gdpr.lock_subject(p_kind, gdpr.acting_tenant(p_tenant), p_subject_key) l
$$;
ALTER FUNCTION gdpr.request_subject(p_kind text, p_subject_key text, p_tenant text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.require_column_basis() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF gdpr.column_needs_basis(NEW.category, NEW.sensitive, NEW.sensitive_when) AND NOT EXISTS (
        SELECT FROM gdpr.column_legal_basis b
         WHERE b.table_schema = NEW.table_schema AND b.table_name = NEW.table_name
           AND b.column_name = NEW.column_name) THEN
        RAISE EXCEPTION 'catalog entry column %.%.%: a % column needs its legal basis declared first',
            NEW.table_schema, NEW.table_name, NEW.column_name,
            CASE WHEN NEW.category = 'national_id' THEN 'CPR (national id)' ELSE 'sensitive' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN NEW.category = 'national_id'
                              THEN 'name the Databeskyttelsesloven §11 basis: basis = "..." in the catalog file, '
                                   'or gdpr.declare_column_basis()'
                              ELSE 'name the GDPR Art. 9(2) basis: basis = "..." in the catalog file, '
                                   'or gdpr.declare_column_basis()' END;
    END IF;
    RETURN NEW;
END $$;
ALTER FUNCTION gdpr.require_column_basis() OWNER TO postgres;
CREATE FUNCTION gdpr.require_erasure_right() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT (COALESCE(gdpr.caller_is_admin(), false) OR pg_catalog.pg_has_role(gdpr.caller(), 'pgdpr_erasure', 'MEMBER')) THEN
        RAISE EXCEPTION 'role % may not erase: it needs pgdpr_erasure or pgdpr_admin', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_erasure_right() OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.require_erasure_right() IS 'Raise insufficient_privilege unless the caller is an admin or a member of pgdpr_erasure; internal';
CREATE FUNCTION gdpr.require_one_subject(p_kind text, p_subject_key text, p_tenant text, p_found bigint) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_found = 0 THEN
        RAISE EXCEPTION '% % not found%', p_kind, left(COALESCE(p_subject_key, ''), 40),
            CASE WHEN p_tenant IS NOT NULL THEN format(' in club %s', p_tenant) ELSE '' END
            USING ERRCODE = 'no_data_found';
    ELSIF p_found > 1 THEN
        RAISE EXCEPTION '% % exists in more than one club: name the club', p_kind, left(p_subject_key, 40)
            USING ERRCODE = 'ambiguous_parameter';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_one_subject(p_kind text, p_subject_key text, p_tenant text, p_found bigint) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.require_register_access(p_kind text, p_level text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_area text;
    v_level text;
BEGIN
    SELECT k.area INTO v_area FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(gdpr.caller_is_admin(), false) THEN
        RETURN;
    END IF;
    v_level := gdpr.register_access_of(gdpr.caller(), v_area);
    IF v_level = 'none' OR (p_level = 'write' AND v_level <> 'write') THEN
        RAISE EXCEPTION 'role % may not % the % register', gdpr.caller(),
            CASE p_level WHEN 'write' THEN 'change' ELSE 'read' END, v_area
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_register_access(p_kind text, p_level text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.require_request_of(p_request_id bigint, p_kind text, p_tenant text, p_subject_key text, p_key_as_given text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_request_id IS NOT NULL AND NOT EXISTS (
        SELECT FROM gdpr.dsr_request q WHERE q.id = p_request_id AND q.kind = p_kind
           AND q.tenant = p_tenant AND q.subject_key = p_subject_key) THEN
        RAISE EXCEPTION 'request % not found for % %', p_request_id, p_kind, p_key_as_given
            USING ERRCODE = 'no_data_found';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_request_of(p_request_id bigint, p_kind text, p_tenant text, p_subject_key text, p_key_as_given text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text, p_note text DEFAULT NULL::text, p_until timestamp with time zone DEFAULT NULL::timestamp with time zone, p_request_id bigint DEFAULT NULL::bigint, p_tenant text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_subject record;
    v_id bigint;
    v_cancelled bigint;
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    IF p_ground IS NULL OR p_ground NOT IN ('accuracy_contested', 'unlawful_processing', 'legal_claims',
                                            'objection_pending', 'other') THEN
        RAISE EXCEPTION 'ground must be accuracy_contested, unlawful_processing, legal_claims, objection_pending or other'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_ground = 'other' AND NULLIF(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION 'ground other needs a note' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_until IS NOT NULL AND p_until <= now() THEN
        RAISE EXCEPTION 'a restriction must end in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    IF v_subject.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    PERFORM gdpr.require_request_of(p_request_id, p_kind, v_subject.tenant, v_subject.subject_key, p_subject_key);
    INSERT INTO gdpr.processing_restriction (kind, tenant, subject_key, ground, request_id, created_by, until)
    VALUES (p_kind, v_subject.tenant, v_subject.subject_key, p_ground, p_request_id, gdpr.caller(), p_until)
    RETURNING id INTO v_id;
    PERFORM gdpr.write_subject_note(p_kind, v_subject.tenant, v_subject.subject_key, 'restriction', v_id, p_note);
    WITH cancelled AS (
        DELETE FROM gdpr.outbox o
         WHERE o.kind = p_kind AND o.tenant = v_subject.tenant AND o.subject_key = v_subject.subject_key
           AND o.sent_at IS NULL
        RETURNING 1)
    SELECT count(*) INTO v_cancelled FROM cancelled;
    PERFORM gdpr.audit('restriction_set', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('restriction_id', v_id, 'ground', p_ground, 'until', p_until,
                                          'request_id', p_request_id, 'messages_cancelled', v_cancelled));
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text, p_note text, p_until timestamp with time zone, p_request_id bigint, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text, p_note text, p_until timestamp with time zone, p_request_id bigint, p_tenant text) IS 'Restrict a subject''s processing (GDPR Art. 18): data kept, rules, messages and third-party exports stop';
CREATE FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamp with time zone DEFAULT now()) RETURNS SETOF text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT DISTINCT r.subject_key FROM gdpr.processing_restriction r
     WHERE r.kind OPERATOR(pg_catalog.=) p_kind
       AND r.tenant OPERATOR(pg_catalog.=) COALESCE(p_tenant, '')
       AND r.lifted_at IS NULL
       AND (r.until IS NULL OR r.until OPERATOR(pg_catalog.>) p_at)
$$;
ALTER FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamp with time zone) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamp with time zone) IS 'Keys of the subjects of a kind and club whose processing is restricted at a time';
CREATE FUNCTION gdpr.retain_due_expr(p_schema name, p_table name, p_alias text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT format('gdpr.retention_end(%s, %s, %s, %L::interval, %L::boolean)',
                  CASE WHEN a.atttypid = 'timestamptz'::regtype THEN format('%I.%I', p_alias, t.retain_column)
                       ELSE format('%I.%I::timestamp', p_alias, t.retain_column) END,
                  gdpr.tenant_time_zone_sql(src.tenant_expr), gdpr.tenant_financial_year_start_sql(src.tenant_expr),
                  t.retain_period, t.retain_from_year_end)
      FROM gdpr.catalog_table t
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid = format('%I.%I', t.table_schema, t.table_name)::regclass AND a.attname = t.retain_column
     CROSS JOIN LATERAL gdpr.subject_source(t.table_schema, t.table_name, p_alias) src
     WHERE t.table_schema = p_schema AND t.table_name = p_table AND t.on_erase = 'retain'
$$;
ALTER FUNCTION gdpr.retain_due_expr(p_schema name, p_table name, p_alias text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.retention_end(p_local timestamp without time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.timezone(p_zone,
               CASE WHEN p_from_year_end
                    THEN pg_catalog.date_trunc('year', p_local OPERATOR(pg_catalog.-)
                                                      pg_catalog.make_interval(0, p_first_month OPERATOR(pg_catalog.-) 1))
                         OPERATOR(pg_catalog.+) pg_catalog.make_interval(1, p_first_month OPERATOR(pg_catalog.-) 1)
                    ELSE p_local END
               OPERATOR(pg_catalog.+) p_period)
$$;
ALTER FUNCTION gdpr.retention_end(p_local timestamp without time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.retention_end(p_at timestamp with time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT gdpr.retention_end(pg_catalog.timezone(p_zone, p_at), p_zone, p_first_month, p_period, p_from_year_end)
$$;
ALTER FUNCTION gdpr.retention_end(p_at timestamp with time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.retention_end(p_at timestamp with time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) IS 'End of a retention period: from the end of the financial year (or the date) in the tenant''s time zone';
CREATE FUNCTION gdpr.revoke_support_access(p_tenant text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.revoke_support_access(p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.revoke_support_access(p_tenant text) IS 'End a club''s support access now (audited)';
CREATE FUNCTION gdpr.rights_overview(p_tenant text DEFAULT NULL::text) RETURNS TABLE(tenant text, group_role name, description text, area text, view_sensitive text, register_access text, members bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.rights_overview(p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.rights_overview(p_tenant text) IS 'Staff groups and their rights per area (own club for staff)';
CREATE FUNCTION gdpr.role_is_owner(p_role oid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) p_role AND r.rolsuper)
        OR p_role OPERATOR(pg_catalog.=) (SELECT d.datdba FROM pg_catalog.pg_database d
                                           WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
$$;
ALTER FUNCTION gdpr.role_is_owner(p_role oid) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.role_is_owner(p_role oid) IS 'True for a superuser or the owner of the current database';
CREATE FUNCTION gdpr.role_tenant(p_role oid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1
                THEN pg_catalog.substr(pg_catalog.min(t.rolname::pg_catalog.text), 14) END
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles t ON t.oid OPERATOR(pg_catalog.=) m.roleid
     WHERE m.member OPERATOR(pg_catalog.=) p_role
       AND pg_catalog.starts_with(t.rolname::pg_catalog.text, 'pgdpr_tenant_')
$$;
ALTER FUNCTION gdpr.role_tenant(p_role oid) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.role_tenant(p_role oid) IS 'Tenant key of a role (its one direct pgdpr_tenant_<key> membership), NULL if none or several';
CREATE TABLE gdpr.rule (
    id bigint NOT NULL,
    tenant text NOT NULL,
    kind text DEFAULT 'customer'::text NOT NULL,
    description text NOT NULL,
    schedule text NOT NULL,
    time_zone text DEFAULT 'Europe/Copenhagen'::text NOT NULL,
    frequency_days integer,
    conditions jsonb DEFAULT '[]'::jsonb NOT NULL,
    actions jsonb NOT NULL,
    max_subjects_per_run integer DEFAULT 1000 NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by name NOT NULL,
    changed_at timestamp with time zone,
    changed_by name,
    last_slot timestamp with time zone,
    next_slot timestamp with time zone,
    deleted_at timestamp with time zone,
    author name NOT NULL,
    CONSTRAINT rule_description_check CHECK (((length(description) >= 1) AND (length(description) <= 200))),
    CONSTRAINT rule_frequency_days_check CHECK ((frequency_days > 0)),
    CONSTRAINT rule_max_subjects_per_run_check CHECK ((max_subjects_per_run > 0))
);
ALTER TABLE gdpr.rule OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.rule IS 'Trigger rules (docs/rules.md): when, how often, only if, what';
COMMENT ON COLUMN gdpr.rule.author IS 'Role whose rights the rule runs with: its creator, or who last changed its definition or enabled it';
CREATE FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_admin boolean;
    v_in_club boolean;
BEGIN
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER'),
           pg_catalog.pg_has_role(r.oid, t.oid, 'MEMBER')
      INTO v_admin, v_in_club
      FROM pg_catalog.pg_roles r
      LEFT JOIN pg_catalog.pg_roles t ON t.rolname = gdpr.tenant_role(p_rule.tenant)
     WHERE r.rolname = p_rule.author;
    IF NOT FOUND THEN
        RETURN format('refused: the rule''s author %s no longer exists', p_rule.author);
    END IF;
    IF gdpr.rule_erases(p_rule.actions) AND NOT gdpr.rule_role_may_erase(p_rule.author) THEN
        RETURN format('refused: the rule''s author %s may no longer erase (pgdpr_erasure or pgdpr_admin)',
                      p_rule.author);
    END IF;
    IF NOT v_admin AND NOT COALESCE(v_in_club, false) THEN
        RETURN format('refused: the rule''s author %s no longer belongs to club %s', p_rule.author, p_rule.tenant);
    END IF;
    IF (gdpr.caller_is_admin() OR p_rule.author = gdpr.caller())
       AND gdpr.rule_role_register_access(p_rule.author, p_rule.kind) = 'none' THEN
        RETURN format('refused: the rule''s author %s has no access to the %s register', p_rule.author,
                      (SELECT k.area FROM gdpr.subject_kind k WHERE k.kind = p_rule.kind));
    END IF;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) IS 'Why the rule may not run with its author''s rights now (erasure right, club, register access), or NULL';
CREATE FUNCTION gdpr.rule_caller_may_erase() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT gdpr.rule_role_may_erase(gdpr.caller())
$$;
ALTER FUNCTION gdpr.rule_caller_may_erase() OWNER TO postgres;
CREATE FUNCTION gdpr.rule_check(p_rule gdpr.rule) RETURNS gdpr.rule
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_kind gdpr.subject_kind;
    v_table text;
    v_rule gdpr.rule := p_rule;
BEGIN
    SELECT * INTO v_kind FROM gdpr.subject_kind k WHERE k.kind = p_rule.kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind "%"', p_rule.kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_rule.description IS NULL OR btrim(v_rule.description) = '' THEN
        RAISE EXCEPTION 'a rule needs a descriptive name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_table := format('%s.%s', v_kind.table_schema, v_kind.table_name);
    v_rule.schedule := gdpr.normalize_schedule(p_rule.schedule);
    v_rule.time_zone := gdpr.check_time_zone(p_rule.time_zone);
    v_rule.conditions := gdpr.rule_normalize_items(p_rule.conditions, 'condition', v_table);
    v_rule.actions := gdpr.rule_normalize_items(p_rule.actions, 'action', v_table);
    IF jsonb_array_length(v_rule.actions) = 0 THEN
        RAISE EXCEPTION 'a rule needs at least one action (known: %)',
            (SELECT string_agg(name, ', ' ORDER BY name) FROM gdpr.rule_action) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- safe by default (Art. 5(1)(e), 25(2)): a rule without a condition would act on every
    -- subject of the club, whatever its action
    IF jsonb_array_length(v_rule.conditions) = 0 THEN
        RAISE EXCEPTION 'a rule needs at least one condition (known: %)',
            (SELECT string_agg(c.name, ', ' ORDER BY c.name) FROM gdpr.rule_condition c
              WHERE c.subject_table IS NULL OR c.subject_table = v_table) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_rule.max_subjects_per_run IS NULL OR v_rule.max_subjects_per_run < 1 THEN
        RAISE EXCEPTION 'max subjects per run must be at least 1, not %', v_rule.max_subjects_per_run
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_rule.next_slot := gdpr.schedule_slot(v_rule.schedule, v_rule.time_zone, now(), 1);
    IF v_rule.next_slot IS NULL THEN
        RAISE EXCEPTION 'schedule "%" never fires', v_rule.schedule USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_rule;
END $$;
ALTER FUNCTION gdpr.rule_check(p_rule gdpr.rule) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_eligibility_sql(p_rule gdpr.rule, p_mode text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_kind gdpr.subject_kind;
    v_base text[] := '{}';        -- tenant, not anonymised
    v_config text[] := '{}';      -- conditions and frequency
    v_safety jsonb := '{}';       -- reason -> predicate (true = may be changed)
    v_key_type text;
    v_tenant_type text;
    v_item record;
    v_function text;
    v_registered text;
    v_registered_safety jsonb;
    v_from text;
    v_inner text;
    v_all text;
BEGIN
    SELECT * INTO STRICT v_kind FROM gdpr.subject_kind k WHERE k.kind = p_rule.kind;
    v_from := format('%I.%I s', v_kind.table_schema, v_kind.table_name);
    SELECT format_type(a.atttypid, a.atttypmod) INTO v_key_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = format('%I.%I', v_kind.table_schema, v_kind.table_name)::regclass AND a.attname = v_kind.key_column;
    IF v_kind.tenant_column IS NOT NULL THEN
        SELECT format_type(a.atttypid, a.atttypmod) INTO v_tenant_type FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = format('%I.%I', v_kind.table_schema, v_kind.table_name)::regclass
           AND a.attname = v_kind.tenant_column;
        v_base := v_base || format('s.%I = CAST($1 AS %s)', v_kind.tenant_column, v_tenant_type);
    END IF;
    -- not erased: the anonymised-at column where the schema has one (set by the
    -- erasure; staff cannot write it), else the engine's ledger
    IF v_kind.anonymized_column IS NOT NULL THEN
        v_base := v_base || format('s.%I IS NULL', v_kind.anonymized_column);
    ELSE
        v_base := v_base || format(
            'NOT EXISTS (SELECT FROM gdpr.erasure_ledger l WHERE l.kind = %L AND l.subject_key = s.%I::text AND %s)',
            v_kind.kind, v_kind.key_column,
            CASE WHEN v_kind.tenant_column IS NOT NULL THEN 'l.tenant = $1' ELSE 'l.tenant IS NULL' END);
    END IF;
    -- conditions (configurable)
    FOR v_item IN SELECT e.value AS item, e.ordinality - 1 AS i FROM jsonb_array_elements(p_rule.conditions) WITH ORDINALITY e LOOP
        SELECT c.function INTO v_function FROM gdpr.rule_condition c WHERE c.name = v_item.item ->> 'name';
        IF v_function IS NULL THEN
            RAISE EXCEPTION 'rule %: condition "%" is no longer registered', p_rule.id, v_item.item ->> 'name';
        END IF;
        EXECUTE format('SELECT %s($1::text, $2::jsonb, $3::text)',
                       gdpr.rule_trusted_function(v_function, 'text,jsonb,text', 'condition', v_item.item ->> 'name'))
            INTO v_function USING 's', v_item.item -> 'params', format('($3 -> %s)', v_item.i);
        v_config := v_config || format('(%s)', v_function);
    END LOOP;
    -- frequency: at most once per subject, or once per N days
    v_config := v_config || format(
        'NOT EXISTS (SELECT FROM gdpr.rule_subject f WHERE f.rule_id = $7 AND f.subject_key = s.%I::text%s)',
        v_kind.key_column, CASE WHEN p_rule.frequency_days IS NULL THEN ''
                                ELSE format(' AND f.fired_at > $2 - make_interval(days => %s)', p_rule.frequency_days) END);
    -- built-in safety (not configurable), at the real now(), never at the run's $2
    -- (which an admin may move): active legal holds (docs/erasure.md) ...
    IF to_regclass('gdpr.legal_hold') IS NOT NULL THEN
        v_safety := v_safety || jsonb_build_object('legal_hold', format(
            'NOT EXISTS (SELECT FROM gdpr.legal_hold h WHERE h.kind = %L%s AND h.subject_key = s.%I::text'
            ' AND gdpr.hold_active(h, now()))',
            v_kind.kind, CASE WHEN v_kind.tenant_column IS NOT NULL THEN ' AND h.tenant = $1' ELSE '' END,
            v_kind.key_column));
    END IF;
    -- ... restriction of processing (GDPR Art. 18: the data is kept, nothing acts on it) ...
    v_safety := v_safety || jsonb_build_object('restricted', format(
        'NOT EXISTS (SELECT FROM gdpr.processing_restriction r WHERE r.kind = %L AND r.tenant = %s'
        ' AND r.subject_key = s.%I::text AND r.lifted_at IS NULL AND (r.until IS NULL OR r.until > now()))',
        v_kind.kind, CASE WHEN v_kind.tenant_column IS NOT NULL THEN '$1' ELSE '''''' END, v_kind.key_column));
    -- ... and the subject table's own safety (club.customers: debt, future bookings)
    SELECT f.function INTO v_registered FROM gdpr.rule_safety f
     WHERE f.subject_table = format('%s.%s', v_kind.table_schema, v_kind.table_name);
    IF v_registered IS NOT NULL THEN
        EXECUTE format('SELECT %s($1::text)', gdpr.rule_trusted_function(v_registered, 'text', 'safety',
                       format('%s.%s', v_kind.table_schema, v_kind.table_name)))
            INTO v_registered_safety USING 's';
        IF EXISTS (SELECT FROM jsonb_each_text(v_registered_safety) e WHERE e.value ~ '[$][0-9]') THEN
            -- safety must not depend on the run's parameters: $2 (the run's "now") would let
            -- a chosen instant switch it off
            RAISE EXCEPTION 'safety of %.%: predicates may not use query parameters ($n); use now()',
                v_kind.table_schema, v_kind.table_name;
        END IF;
        v_safety := v_safety || v_registered_safety;
    END IF;
    -- Two levels: the tenant's subjects that meet the conditions (anti-joins on the
    -- time indexes; OFFSET 0 keeps it a separate query level), then the safety as
    -- per-row checks on those few (IS TRUE keeps each a subplan, probed by index for
    -- the survivors only, instead of a join the planner would size for one row).
    v_inner := format(E'(SELECT s.* FROM %s\n WHERE %s%s\n OFFSET 0) s', v_from,
        array_to_string(v_base || v_config, E'\n   AND '),
        CASE WHEN p_mode = 'batch' THEN format(E'\n   AND ($5::text IS NULL OR s.%I > CAST($5 AS %s))',
                                               v_kind.key_column, v_key_type) ELSE '' END);
    v_all := COALESCE(NULLIF(array_to_string(ARRAY(SELECT format('(%s) IS TRUE', e.value)
                                                      FROM jsonb_each_text(v_safety) e ORDER BY e.key),
                                                E'\n   AND '), ''), 'true');
    IF p_mode = 'count' THEN
        RETURN format(E'SELECT count(*) FROM %s\n WHERE %s', v_inner, v_all);
    ELSIF p_mode = 'batch' THEN
        RETURN format(E'SELECT s.%1$I::text FROM %2$s\n WHERE %3$s\n ORDER BY s.%1$I LIMIT $6',
                      v_kind.key_column, v_inner, v_all);
    ELSIF p_mode = 'breakdown' THEN
        RETURN format(E'SELECT jsonb_build_object(''eligible'', count(*) FILTER (WHERE %s)%s) FROM %s',
            v_all,
            (SELECT string_agg(format(', %L, count(*) FILTER (WHERE (%s) IS NOT TRUE)', e.key, e.value), '')
               FROM jsonb_each_text(v_safety) e),
            v_inner);
    END IF;
    RAISE EXCEPTION 'unknown mode %', p_mode;
END $_$;
ALTER FUNCTION gdpr.rule_eligibility_sql(p_rule gdpr.rule, p_mode text) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_erases(p_actions jsonb) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT FROM jsonb_array_elements(COALESCE(p_actions, '[]')) a
                     JOIN gdpr.rule_action r ON r.name = a ->> 'name'
                    WHERE r.erases)
$$;
ALTER FUNCTION gdpr.rule_erases(p_actions jsonb) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_for_caller(p_rule_id bigint) RETURNS gdpr.rule
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule;
BEGIN
    SELECT * INTO v_rule FROM gdpr.rule r WHERE r.id = p_rule_id AND r.deleted_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no rule %', p_rule_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT gdpr.caller_is_admin() AND gdpr.caller_tenant() IS DISTINCT FROM v_rule.tenant THEN
        -- the same message as a missing rule: another club's rules are not even confirmed to exist
        RAISE EXCEPTION 'no rule %', p_rule_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM gdpr.rule_require_register_access(v_rule.kind);
    RETURN v_rule;
END $$;
ALTER FUNCTION gdpr.rule_for_caller(p_rule_id bigint) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_frequency_days(p_frequency text) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v text := lower(btrim(COALESCE(p_frequency, 'once')));
    v_m text[];
BEGIN
    IF v IN ('once', 'once per subject', 'at most once', '') THEN
        RETURN NULL;
    END IF;
    v_m := regexp_match(v, '^(every |once per |once every )?(-?[0-9]{1,6})( days?)?$');
    IF v_m IS NULL THEN
        RAISE EXCEPTION 'unknown frequency "%": use ''once'' (per subject) or ''every N days''', p_frequency
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_m[2]::integer < 1 THEN
        RAISE EXCEPTION 'frequency must be at least every 1 day, not %', v_m[2] USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_m[2]::integer;
END $_$;
ALTER FUNCTION gdpr.rule_frequency_days(p_frequency text) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_history(p_rule_id bigint DEFAULT NULL::bigint, p_tenant text DEFAULT NULL::text, p_limit integer DEFAULT 20) RETURNS TABLE(run_id bigint, rule_id bigint, tenant text, trigger text, slot timestamp with time zone, started_at timestamp with time zone, finished_at timestamp with time zone, candidates integer, changed integer, skipped jsonb, error_count integer, errors jsonb, capped boolean, batches integer, author name, started_by name, stopped text, stopped_by name)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    IF p_rule_id IS NOT NULL THEN
        PERFORM gdpr.rule_for_caller(p_rule_id);
    END IF;
    RETURN QUERY
    SELECT x.id, x.rule_id, r.tenant, x.trigger, x.slot, x.started_at, x.finished_at, x.candidates, x.changed,
           x.skipped, x.error_count, x.errors, x.capped, x.batches, x.author, x.started_by, x.stopped, x.stopped_by
      FROM gdpr.rule_run x JOIN gdpr.rule r ON r.id = x.rule_id
     WHERE (p_rule_id IS NULL OR x.rule_id = p_rule_id) AND (v_tenant IS NULL OR r.tenant = v_tenant)
       AND r.kind = ANY (gdpr.caller_register_kinds())
     ORDER BY x.started_at DESC, x.id DESC
     LIMIT COALESCE(p_limit, 20);
END $$;
ALTER FUNCTION gdpr.rule_history(p_rule_id bigint, p_tenant text, p_limit integer) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.rule_history(p_rule_id bigint, p_tenant text, p_limit integer) IS 'Runs of a rule (or of a club''s rules), newest first';
CREATE FUNCTION gdpr.rule_normalize_items(p_items jsonb, p_what text, p_subject_table text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_items jsonb;
    v_item jsonb;
    v_name text;
    v_given jsonb;
    v_entry record;
    v_params jsonb;
    v_spec record;
    v_value jsonb;
    v_out jsonb := '[]';
    v_known text;
    v_predicate text;
BEGIN
    v_items := CASE jsonb_typeof(COALESCE(p_items, '[]'))
        WHEN 'array' THEN COALESCE(p_items, '[]')
        WHEN 'object' THEN (SELECT COALESCE(jsonb_agg(jsonb_build_object('name', e.key, 'params', e.value)), '[]')
                              FROM jsonb_each(p_items) e)
        ELSE NULL END;
    IF v_items IS NULL THEN
        RAISE EXCEPTION '%s must be a JSON array or object', p_what USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_item IN SELECT value FROM jsonb_array_elements(v_items) LOOP
        IF jsonb_typeof(v_item) = 'string' THEN
            v_name := v_item #>> '{}';
            v_given := '{}';
        ELSIF jsonb_typeof(v_item) = 'object' AND jsonb_typeof(v_item -> 'name') = 'string' THEN
            v_name := v_item ->> 'name';
            v_given := COALESCE(v_item -> 'params', v_item - 'name');
        ELSE
            RAISE EXCEPTION 'each %s must be a name or an object with "name"', p_what USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_what = 'condition' THEN
            SELECT c.name, c.subject_table, c.params, c.function INTO v_entry FROM gdpr.rule_condition c WHERE c.name = v_name;
            SELECT string_agg(c.name, ', ' ORDER BY c.name) INTO v_known FROM gdpr.rule_condition c
             WHERE c.subject_table IS NULL OR c.subject_table = p_subject_table;
        ELSE
            SELECT a.name, a.subject_table, a.params, a.function INTO v_entry FROM gdpr.rule_action a WHERE a.name = v_name;
            SELECT string_agg(a.name, ', ' ORDER BY a.name) INTO v_known FROM gdpr.rule_action a
             WHERE a.subject_table IS NULL OR a.subject_table = p_subject_table;
        END IF;
        IF v_entry.name IS NULL THEN
            RAISE EXCEPTION 'unknown % "%" (known: %)', p_what, v_name, COALESCE(v_known, 'none')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF v_entry.subject_table IS NOT NULL AND v_entry.subject_table <> p_subject_table THEN
            RAISE EXCEPTION '% "%" applies to %, not to %', p_what, v_name, v_entry.subject_table, p_subject_table
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF jsonb_typeof(v_given) <> 'object' THEN
            RAISE EXCEPTION 'the parameters of % "%" must be a JSON object', p_what, v_name
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT string_agg(k, ', ') INTO v_known FROM jsonb_object_keys(v_given) k WHERE NOT v_entry.params ? k;
        IF v_known IS NOT NULL THEN
            RAISE EXCEPTION '% "%" has no parameter %: its parameters are %', p_what, v_name, v_known,
                COALESCE((SELECT string_agg(k, ', ') FROM jsonb_object_keys(v_entry.params) k), 'none')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_params := '{}';
        FOR v_spec IN SELECT e.key, e.value AS spec FROM jsonb_each(v_entry.params) e LOOP
            v_value := CASE WHEN v_given ? v_spec.key THEN v_given -> v_spec.key
                            ELSE COALESCE(v_spec.spec -> 'default', 'null') END;
            IF v_spec.spec ->> 'type' IN ('months', 'days', 'integer') AND jsonb_typeof(v_value) <> 'null' THEN
                IF jsonb_typeof(v_value) <> 'number' OR (v_value::text)::numeric <> trunc((v_value::text)::numeric) THEN
                    RAISE EXCEPTION '% "%": % must be a whole number', p_what, v_name, v_spec.key
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF (v_value::text)::numeric < 0 OR (v_value::text)::numeric > 1200 THEN
                    RAISE EXCEPTION '% "%": % must be between 0 and 1200, not %', p_what, v_name, v_spec.key, v_value
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
            ELSIF v_spec.spec ->> 'type' = 'text' AND jsonb_typeof(v_value) NOT IN ('string', 'null') THEN
                RAISE EXCEPTION '% "%": % must be a string', p_what, v_name, v_spec.key USING ERRCODE = 'invalid_parameter_value';
            ELSIF v_spec.spec ->> 'type' = 'object' AND jsonb_typeof(v_value) NOT IN ('object', 'null') THEN
                RAISE EXCEPTION '% "%": % must be a JSON object', p_what, v_name, v_spec.key USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF (v_spec.spec ->> 'required')::boolean AND jsonb_typeof(v_value) = 'null' THEN
                RAISE EXCEPTION '% "%" needs the parameter %', p_what, v_name, v_spec.key USING ERRCODE = 'invalid_parameter_value';
            END IF;
            v_params := v_params || jsonb_build_object(v_spec.key, v_value);
        END LOOP;
        IF p_what = 'condition' THEN  -- the builder must accept them (and validates its own way)
            EXECUTE format('SELECT %s($1::text, $2::jsonb, $3::text)',
                           gdpr.rule_trusted_function(v_entry.function, 'text,jsonb,text', 'condition', v_name))
                INTO v_predicate USING 's', v_params, '$3';
            -- safe by default (Art. 5(1)(e), 25(2)): a condition that selects every subject
            -- (every threshold left out) is no condition
            IF lower(btrim(COALESCE(v_predicate, ''))) IN ('', 'true', '(true)') THEN
                RAISE EXCEPTION 'condition "%" with these parameters selects every subject: give it at least one threshold',
                    v_name USING ERRCODE = 'invalid_parameter_value';
            END IF;
        ELSE
            PERFORM gdpr.rule_trusted_function(v_entry.function, 'bigint,bigint,text,text,text[],jsonb', 'action', v_name);
        END IF;
        v_out := v_out || jsonb_build_array(jsonb_build_object('name', v_name, 'params', v_params));
    END LOOP;
    RETURN v_out;
END $_$;
ALTER FUNCTION gdpr.rule_normalize_items(p_items jsonb, p_what text, p_subject_table text) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_now(p_now timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_now IS NOT NULL AND p_now <> now() AND NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin may evaluate a rule at another time than now: leave p_now out'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN COALESCE(p_now, now());
END $$;
ALTER FUNCTION gdpr.rule_now(p_now timestamp with time zone) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_require_erasure_right(p_actions jsonb, p_doing text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF gdpr.rule_erases(p_actions) AND NOT gdpr.rule_caller_may_erase() THEN
        RAISE EXCEPTION 'only admins and members of pgdpr_erasure may % a rule that anonymises (role % is neither)',
            p_doing, gdpr.caller() USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
ALTER FUNCTION gdpr.rule_require_erasure_right(p_actions jsonb, p_doing text) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_require_register_access(p_kind text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF gdpr.rule_role_register_access(gdpr.caller(), p_kind) = 'none' THEN
        RAISE EXCEPTION 'role % has no access to the % register', gdpr.caller(),
            COALESCE((SELECT k.area FROM gdpr.subject_kind k WHERE k.kind = p_kind), p_kind)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
ALTER FUNCTION gdpr.rule_require_register_access(p_kind text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.rule_require_register_access(p_kind text) IS 'Refuse a caller whose register access to the subject kind''s area is none (admins: every area)';
CREATE FUNCTION gdpr.rule_role_may_erase(p_role name) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE((SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER')
                            OR (EXISTS (SELECT FROM pg_catalog.pg_roles e WHERE e.rolname = 'pgdpr_erasure')
                                AND pg_catalog.pg_has_role(r.oid, 'pgdpr_erasure', 'MEMBER'))
                       FROM pg_catalog.pg_roles r WHERE r.rolname = p_role), false)
$$;
ALTER FUNCTION gdpr.rule_role_may_erase(p_role name) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_role_register_access(p_role name, p_kind text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = p_role
                  AND (r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER'))) THEN
        RETURN 'write';  -- a superuser or admin acts on every club and area
    END IF;
    RETURN gdpr.register_access_of(p_role, (SELECT k.area FROM gdpr.subject_kind k WHERE k.kind = p_kind));
END $$;
ALTER FUNCTION gdpr.rule_role_register_access(p_role name, p_kind text) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_run_audit(p_run_id bigint) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT gdpr.audit('rule_run', r.kind, r.tenant, NULL, NULL, jsonb_build_object(
               'rule_id', r.id, 'run_id', x.id, 'trigger', x.trigger, 'slot', x.slot, 'author', x.author,
               'started_by', x.started_by, 'candidates', x.candidates, 'changed', x.changed,
               'skipped', x.skipped, 'errors', x.error_count, 'capped', x.capped, 'stopped', x.stopped,
               'stopped_by', x.stopped_by))
      FROM gdpr.rule_run x JOIN gdpr.rule r ON r.id = x.rule_id
     WHERE x.id = p_run_id
$$;
ALTER FUNCTION gdpr.rule_run_audit(p_run_id bigint) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_run_driven(p_run_id bigint, p_by_me boolean DEFAULT false) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                         WHERE d.datname = pg_catalog.current_database())
                      AND l.classid = 1734636658::oid  -- 'gdpr'
                      AND l.objid = pg_catalog.oid(p_run_id % 2147483647)
                      AND (NOT p_by_me OR l.pid = pg_catalog.pg_backend_pid()))
$$;
ALTER FUNCTION gdpr.rule_run_driven(p_run_id bigint, p_by_me boolean) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_run_hold(p_run_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT gdpr.rule_run_driven(p_run_id, true) THEN
        PERFORM pg_catalog.pg_try_advisory_lock(1734636658, (p_run_id % 2147483647)::integer);
    END IF;
END $$;
ALTER FUNCTION gdpr.rule_run_hold(p_run_id bigint) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_run_release(p_run_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF gdpr.rule_run_driven(p_run_id, true) THEN
        PERFORM pg_catalog.pg_advisory_unlock(1734636658, (p_run_id % 2147483647)::integer);
    END IF;
END $$;
ALTER FUNCTION gdpr.rule_run_release(p_run_id bigint) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_run_stop(p_run_id bigint, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    UPDATE gdpr.rule_run x SET finished_at = clock_timestamp(), stopped = p_reason, stopped_by = gdpr.caller()
     WHERE x.id = p_run_id AND x.finished_at IS NULL;
    IF FOUND THEN
        PERFORM gdpr.rule_run_audit(p_run_id);
    END IF;
    PERFORM gdpr.rule_run_release(p_run_id);
    RETURN gdpr.rule_run_summary(p_run_id);
END $$;
ALTER FUNCTION gdpr.rule_run_stop(p_run_id bigint, p_reason text) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_run_summary(p_run_id bigint, p_busy boolean DEFAULT false) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object('run_id', x.id, 'rule_id', x.rule_id, 'done', x.finished_at IS NOT NULL,
                              'busy', p_busy, 'candidates', x.candidates, 'changed', x.changed,
                              'skipped', x.skipped, 'error_count', x.error_count, 'capped', x.capped,
                              'batches', x.batches, 'author', x.author, 'stopped', x.stopped)
      FROM gdpr.rule_run x WHERE x.id = p_run_id
$$;
ALTER FUNCTION gdpr.rule_run_summary(p_run_id bigint, p_busy boolean) OWNER TO postgres;
CREATE FUNCTION gdpr.rule_staff_max_per_run() RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT 1000 $$;
ALTER FUNCTION gdpr.rule_staff_max_per_run() OWNER TO postgres;
CREATE FUNCTION gdpr.rule_trusted_function(p_function text, p_args text, p_what text, p_name text) RETURNS regproc
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_proc regprocedure := to_regprocedure(p_function || '(' || p_args || ')');
    v_owner name;
    v_trusted boolean;
    v_kind "char";
    v_returns regtype;
BEGIN
    IF v_proc IS NULL THEN
        RAISE EXCEPTION '% "%": its function % (%) does not exist', p_what, p_name, p_function, p_args
            USING ERRCODE = 'undefined_function';
    END IF;
    SELECT r.rolname, r.rolname = 'pgdpr_owner' OR r.rolsuper, p.prokind, p.prorettype
      INTO v_owner, v_trusted, v_kind, v_returns
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_roles r ON r.oid = p.proowner WHERE p.oid = v_proc;
    IF NOT v_trusted THEN
        RAISE EXCEPTION '% "%": function % is owned by %, not by pgdpr_owner or a superuser: refused',
            p_what, p_name, v_proc, v_owner
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'as a superuser: ALTER FUNCTION ' || v_proc::text || ' OWNER TO pgdpr_owner';
    END IF;
    IF v_kind <> 'f' OR (p_what = 'condition' AND v_returns <> 'text'::regtype)
       OR (p_what = 'safety' AND v_returns <> 'jsonb'::regtype) THEN
        RAISE EXCEPTION '% "%": function % does not return what the contract says', p_what, p_name, v_proc
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_proc::oid::regproc;
END $$;
ALTER FUNCTION gdpr.rule_trusted_function(p_function text, p_args text, p_what text, p_name text) OWNER TO postgres;
CREATE FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_run gdpr.rule_run;
    v_rule gdpr.rule;
    v_params jsonb;
    v_sql text;
    v_limit integer;
    v_keys text[];
    v_current text[];
    v_action jsonb;
    v_function text;
    v_results jsonb;
    v_one jsonb;
    v_final jsonb := '{}';        -- subject key -> {"outcome", "detail"} for the subjects that stopped
    v_key text;
    v_state text;
    v_message text;
    v_table text;
    v_changed text[];
    v_skipped jsonb;
    v_errors jsonb;
    v_more boolean;
    v_done boolean := false;
BEGIN
    -- another club's run answers exactly like a missing one (not even "busy"), before any lock
    SELECT r.* INTO v_rule FROM gdpr.rule_run x JOIN gdpr.rule r ON r.id = x.rule_id WHERE x.id = p_run_id;
    IF NOT FOUND OR (NOT gdpr.caller_is_admin() AND gdpr.caller_tenant() IS DISTINCT FROM v_rule.tenant) THEN
        RAISE EXCEPTION 'no run %', p_run_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO v_run FROM gdpr.rule_run x WHERE x.id = p_run_id FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('run_id', p_run_id, 'done', false, 'busy', true);
    END IF;
    SELECT * INTO v_rule FROM gdpr.rule r WHERE r.id = v_run.rule_id;
    -- the caller's register access to the rule's area (the ticker's: every area)
    PERFORM gdpr.rule_require_register_access(v_rule.kind);
    IF v_run.finished_at IS NOT NULL THEN
        PERFORM gdpr.rule_run_release(p_run_id);
        RETURN gdpr.rule_run_summary(p_run_id);
    END IF;
    IF v_rule.deleted_at IS NOT NULL THEN
        RETURN gdpr.rule_run_stop(p_run_id, 'rule deleted');
    ELSIF NOT v_rule.enabled AND v_run.trigger = 'schedule' THEN  -- a disabled rule never runs scheduled
        RETURN gdpr.rule_run_stop(p_run_id, 'rule disabled');
    END IF;
    -- the erasure right is checked here, where the actions run as pgdpr_owner (the EXECUTE
    -- grant of gdpr.anonymize_many is not): manual runs, gdpr.run_rule and the ticker
    PERFORM gdpr.rule_require_erasure_right(v_rule.actions, 'run');
    -- and the author's rights, at every batch: a right lost midway stops the run
    v_message := gdpr.rule_author_refusal(v_rule);
    IF v_message IS NOT NULL THEN
        RETURN gdpr.rule_run_stop(p_run_id, v_message);
    END IF;
    IF v_run.trigger = 'manual' THEN
        PERFORM gdpr.rule_run_hold(p_run_id);  -- whoever drives a manual run holds it
    END IF;
    v_params := (SELECT COALESCE(jsonb_agg(c -> 'params'), '[]') FROM jsonb_array_elements(v_rule.conditions) c);
    v_sql := format('SELECT ARRAY(%s)', gdpr.rule_eligibility_sql(v_rule, 'batch'));
    v_limit := LEAST(GREATEST(COALESCE(p_batch_size, 1000), 1), v_rule.max_subjects_per_run - v_run.changed);
    IF v_limit <= 0 THEN
        -- the per-run cap is reached: report whether subjects are left for the next run
        EXECUTE v_sql INTO v_keys USING v_rule.tenant, v_run.evaluated_at, v_params, v_rule.time_zone, v_run.cursor, 1, v_rule.id;
        UPDATE gdpr.rule_run x SET finished_at = clock_timestamp(), capped = cardinality(v_keys) > 0 WHERE x.id = p_run_id;
        v_done := true;
    ELSE
        EXECUTE v_sql INTO v_keys USING v_rule.tenant, v_run.evaluated_at, v_params, v_rule.time_zone, v_run.cursor, v_limit, v_rule.id;
        IF cardinality(v_keys) = 0 THEN
            UPDATE gdpr.rule_run x SET finished_at = clock_timestamp() WHERE x.id = p_run_id;
            v_done := true;
        END IF;
    END IF;
    IF v_done THEN
        PERFORM gdpr.rule_run_audit(p_run_id);
        PERFORM gdpr.rule_run_release(p_run_id);
        RETURN gdpr.rule_run_summary(p_run_id);
    END IF;
    -- the actions, in order; a subject goes on to the next action only if the previous changed it
    v_current := v_keys;
    FOR v_action IN SELECT value FROM jsonb_array_elements(v_rule.actions) LOOP
        EXIT WHEN cardinality(v_current) = 0;
        SELECT a.function INTO v_function FROM gdpr.rule_action a WHERE a.name = v_action ->> 'name';
        IF v_function IS NULL THEN
            v_results := (SELECT jsonb_object_agg(k, jsonb_build_object('outcome', 'failed', 'detail', jsonb_build_object(
                              'sqlstate', '42883', 'action', v_action ->> 'name', 'reason', 'action no longer registered')))
                            FROM unnest(v_current) k);
        ELSE
            -- a function no longer owned by pgdpr_owner or a superuser fails the batch as a whole
            v_sql := format('SELECT COALESCE(jsonb_object_agg(r.subject_key, jsonb_build_object(''outcome'', r.outcome,'
                            ' ''detail'', r.detail)), ''{}'') FROM %s($1, $2, $3, $4, $5, $6) r',
                            gdpr.rule_trusted_function(v_function, 'bigint,bigint,text,text,text[],jsonb', 'action',
                                                       v_action ->> 'name'));
            BEGIN
                EXECUTE v_sql INTO v_results
                    USING v_rule.id, p_run_id, v_rule.kind, v_rule.tenant, v_current, v_action -> 'params';
            EXCEPTION WHEN OTHERS THEN
                -- the batch failed as a whole: again one subject at a time, so that only
                -- the failing subject is left out (error messages, not details: a
                -- constraint's DETAIL would hold personal values)
                v_results := '{}';
                FOREACH v_key IN ARRAY v_current LOOP
                    BEGIN
                        EXECUTE v_sql INTO v_one
                            USING v_rule.id, p_run_id, v_rule.kind, v_rule.tenant, ARRAY[v_key], v_action -> 'params';
                        v_results := v_results || v_one;
                    EXCEPTION WHEN OTHERS THEN
                        -- SQLSTATE, constraint and table only: a message could quote a value
                        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = CONSTRAINT_NAME,
                                                v_table = TABLE_NAME;
                        v_results := v_results || jsonb_build_object(v_key, jsonb_build_object('outcome', 'failed',
                            'detail', jsonb_build_object('sqlstate', v_state, 'constraint', NULLIF(v_message, ''),
                                                         'table', NULLIF(v_table, ''), 'action', v_action ->> 'name')));
                    END;
                END LOOP;
            END;
        END IF;
        -- subjects the action did not report on are skipped as "no_outcome"
        v_final := v_final || COALESCE((
            SELECT jsonb_object_agg(k, COALESCE(v_results -> k, '{"outcome": "no_outcome"}'))
              FROM unnest(v_current) k
             WHERE COALESCE(v_results -> k ->> 'outcome', 'no_outcome') NOT IN ('anonymized', 'queued', 'done')), '{}');
        v_current := ARRAY(SELECT k FROM unnest(v_current) k
                            WHERE v_results -> k ->> 'outcome' IN ('anonymized', 'queued', 'done'));
    END LOOP;
    v_changed := v_current;
    -- frequency: remember who the rule fired for
    INSERT INTO gdpr.rule_subject (rule_id, subject_key, fired_at)
    SELECT v_rule.id, k, v_run.evaluated_at FROM unnest(v_changed) k
    ON CONFLICT (rule_id, subject_key) DO UPDATE SET fired_at = excluded.fired_at;
    SELECT COALESCE(jsonb_object_agg(o, n), '{}') INTO v_skipped FROM (
        SELECT e.value ->> 'outcome' AS o, count(*) AS n FROM jsonb_each(v_final) e
         WHERE e.value ->> 'outcome' <> 'failed' GROUP BY 1) t;
    SELECT COALESCE(jsonb_agg(jsonb_build_object('subject_key', e.key) || COALESCE(e.value -> 'detail', '{}')), '[]')
      INTO v_errors FROM jsonb_each(v_final) e WHERE e.value ->> 'outcome' = 'failed';
    UPDATE gdpr.rule_run x SET
           changed = x.changed + cardinality(v_changed),
           skipped = (SELECT COALESCE(jsonb_object_agg(k, n), '{}') FROM (
                        SELECT k, sum(v::numeric)::bigint AS n FROM (
                            SELECT e.key AS k, e.value AS v FROM jsonb_each_text(x.skipped) e WHERE e.value ~ '^[0-9]+$'
                            UNION ALL SELECT e.key, e.value FROM jsonb_each_text(v_skipped) e) u GROUP BY k) t)
                     || (SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(x.skipped) e
                          WHERE jsonb_typeof(e.value) <> 'number'),
           errors = CASE WHEN jsonb_array_length(x.errors) >= 100 THEN x.errors
                         ELSE x.errors || (SELECT COALESCE(jsonb_agg(v), '[]') FROM (
                              SELECT v FROM jsonb_array_elements(v_errors) v LIMIT 100 - jsonb_array_length(x.errors)) t) END,
           error_count = x.error_count + jsonb_array_length(v_errors),
           batches = x.batches + 1,
           cursor = v_keys[cardinality(v_keys)],
           -- fewer than asked for: nothing is left, the run ends without another query
           finished_at = CASE WHEN cardinality(v_keys) < v_limit THEN clock_timestamp() END
     WHERE x.id = p_run_id
    RETURNING * INTO v_run;
    IF v_run.finished_at IS NOT NULL THEN
        PERFORM gdpr.rule_run_audit(p_run_id);
        PERFORM gdpr.rule_run_release(p_run_id);
    END IF;
    RETURN gdpr.rule_run_summary(p_run_id);
END $_$;
ALTER FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer) IS 'Process the next batch of a run (commit after each: a killed run resumes from its cursor)';
CREATE FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamp with time zone DEFAULT now(), p_batch_size integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_run_id bigint := gdpr.start_manual_run(p_rule_id, p_now);
    v_result jsonb;
BEGIN
    LOOP
        v_result := gdpr.run_batch(v_run_id, p_batch_size);
        EXIT WHEN (v_result ->> 'done')::boolean;
    END LOOP;
    RETURN v_result;
END $$;
ALTER FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamp with time zone, p_batch_size integer) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamp with time zone, p_batch_size integer) IS 'Run a rule now, whole, in one transaction';
CREATE FUNCTION gdpr.safety_club_customer(p_alias text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    RETURN jsonb_build_object(
        'open_balance', format(
            'COALESCE((SELECT sum(x.amount) FROM club.account_movements x'
            ' WHERE x.club_id = %1$I.club_id AND x.customer_id = %1$I.id), 0) >= 0', p_alias),
        'future_booking', format(
            'NOT EXISTS (SELECT FROM club.table_bookings x WHERE x.club_id = %1$I.club_id'
            ' AND x.customer_id = %1$I.id AND x.booked_for > now())'
            ' AND NOT EXISTS (SELECT FROM club.reservations x WHERE x.club_id = %1$I.club_id'
            ' AND x.customer_id = %1$I.id AND x.ends_at > now())', p_alias));
END $_$;
ALTER FUNCTION gdpr.safety_club_customer(p_alias text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.safety_club_customer(p_alias text) IS 'Built-in safety of club.customers: no open balance, no future table booking or reservation';
CREATE FUNCTION gdpr.sample_personal_content(p_table regclass, p_columns name[], p_rows integer DEFAULT 200) RETURNS TABLE(column_name name, category text, matched integer, sampled integer)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_tuples double precision;
    v_source text;
    v_select text;
    v_values text;
BEGIN
    IF p_columns IS NULL OR cardinality(p_columns) = 0
       OR NOT pg_catalog.has_table_privilege(p_table, 'SELECT') THEN
        RETURN;
    END IF;
    -- estimated rows; a partitioned table's are those of its partitions
    SELECT GREATEST(c.reltuples, 0) + COALESCE((SELECT sum(GREATEST(p.reltuples, 0))
                                                   FROM pg_catalog.pg_inherits i
                                                   JOIN pg_catalog.pg_class p ON p.oid = i.inhrelid
                                                  WHERE i.inhparent = c.oid), 0)
      INTO v_tuples FROM pg_catalog.pg_class c WHERE c.oid = p_table;
    SELECT string_agg(format('%I::text AS c%s', col, i), ', '),
           string_agg(format('(%L::name, s.c%s)', col, i), ', ')
      INTO v_select, v_values
      FROM unnest(p_columns) WITH ORDINALITY u(col, i);
    v_source := format('%s', p_table);
    IF v_tuples > 50000 THEN
        -- about 20 times the rows we want, in whole pages picked at random
        v_source := v_source || format(' TABLESAMPLE SYSTEM (%s)',
            LEAST(100, GREATEST(0.001, round((p_rows * 20 * 100 / v_tuples)::numeric, 4))));
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT u.col, m.category, m.matched::int, u.sampled::int
          FROM (SELECT v.col,
                       count(*) AS sampled,
                       count(*) FILTER (WHERE v.val ~* '[a-z0-9._%%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}') AS email,
                       count(*) FILTER (WHERE v.val ~ '(^|[^0-9])(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}($|[^0-9])') AS cpr,
                       count(*) FILTER (WHERE v.val ~ '(^|[^A-Z])[A-Z]{2}[0-9]{2} ?([A-Z0-9]{4} ?){2,7}[A-Z0-9]{1,4}($|[^A-Z0-9])') AS iban,
                       count(*) FILTER (WHERE v.val ~ '^\s*(\+|00)?[0-9][0-9 ()-]{6,16}[0-9]\s*$'
                                          AND length(regexp_replace(v.val, '[^0-9]', '', 'g')) BETWEEN 8 AND 15) AS phone,
                       count(*) FILTER (WHERE length(v.val) >= 25 AND v.val ~ '[[:alpha:]]+\s+[[:alpha:]]+\s+[[:alpha:]]+') AS prose
                  FROM (SELECT %s FROM %s LIMIT %s) s
                  CROSS JOIN LATERAL (VALUES %s) v(col, val)
                 WHERE v.val IS NOT NULL
                 GROUP BY v.col) u
         CROSS JOIN LATERAL (VALUES
               ('contact', u.email), ('national_id', u.cpr), ('bank', u.iban),
               ('contact', CASE WHEN u.phone * 2 >= u.sampled THEN u.phone ELSE 0 END),
               ('free_text', CASE WHEN u.prose * 2 >= u.sampled THEN u.prose ELSE 0 END)) m(category, matched)
         WHERE m.matched > 0$q$, v_select, v_source, p_rows, v_values);
END $_$;
ALTER FUNCTION gdpr.sample_personal_content(p_table regclass, p_columns name[], p_rows integer) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.sample_personal_content(p_table regclass, p_columns name[], p_rows integer) IS 'Columns whose sampled content looks personal (e-mail, CPR, IBAN, phone, free text): counts only, never values';
CREATE FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_f text[] := string_to_array(p_schedule, ' ');
    v_minutes integer[] := gdpr.cron_field_values(v_f[1], 0, 59, 'minute');
    v_hours integer[] := gdpr.cron_field_values(v_f[2], 0, 23, 'hour');
    v_doms integer[] := gdpr.cron_field_values(v_f[3], 1, 31, 'day-of-month');
    v_months integer[] := gdpr.cron_field_values(v_f[4], 1, 12, 'month',
                               '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}');
    v_dows integer[] := gdpr.cron_field_values(v_f[5], 0, 7, 'day-of-week', '{sun,mon,tue,wed,thu,fri,sat}');
    -- cron: when both day fields are restricted, either may match
    v_dom_any boolean := v_f[3] LIKE '*%';
    v_dow_any boolean := v_f[5] LIKE '*%';
    v_local timestamp := p_at AT TIME ZONE p_time_zone;
    v_today date := v_local::date;
    v_hour_now integer := extract(hour FROM v_local)::integer;
    v_day date;
    v_dom_ok boolean;
    v_dow_ok boolean;
    v_h integer;
    v_m integer;
    v_at timestamptz;
BEGIN
    IF p_direction NOT IN (-1, 1) THEN
        RAISE EXCEPTION 'p_direction must be -1 or 1';
    END IF;
    FOR i IN 0 .. 5 * 366 LOOP
        v_day := v_today + i * p_direction;
        CONTINUE WHEN NOT (extract(month FROM v_day)::integer = ANY (v_months));
        v_dom_ok := extract(day FROM v_day)::integer = ANY (v_doms);
        v_dow_ok := extract(dow FROM v_day)::integer = ANY (v_dows);
        CONTINUE WHEN NOT CASE
            WHEN v_dom_any AND v_dow_any THEN true
            WHEN v_dom_any THEN v_dow_ok
            WHEN v_dow_any THEN v_dom_ok
            ELSE v_dom_ok OR v_dow_ok END;
        FOR hi IN 1 .. array_length(v_hours, 1) LOOP
            v_h := v_hours[CASE WHEN p_direction = 1 THEN hi ELSE array_length(v_hours, 1) + 1 - hi END];
            -- on the first day only hours near the local hour can be on the right side
            -- of p_at (one hour of slack for daylight-saving shifts)
            CONTINUE WHEN i <= 1 AND v_day = v_today AND (
                (p_direction = -1 AND v_h > v_hour_now + 1) OR (p_direction = 1 AND v_h < v_hour_now - 1));
            FOR mi IN 1 .. array_length(v_minutes, 1) LOOP
                v_m := v_minutes[CASE WHEN p_direction = 1 THEN mi ELSE array_length(v_minutes, 1) + 1 - mi END];
                v_at := (v_day + make_time(v_h, v_m, 0)) AT TIME ZONE p_time_zone;
                IF (p_direction = -1 AND v_at <= p_at) OR (p_direction = 1 AND v_at > p_at) THEN
                    RETURN v_at;
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) IS 'Latest slot at or before (-1) / first slot after (+1) an instant, for a cron schedule in a time zone';
CREATE FUNCTION gdpr.sensitive_access(p_area text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT gdpr.sensitive_access_of(CURRENT_USER, p_area)
$$;
ALTER FUNCTION gdpr.sensitive_access(p_area text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.sensitive_access(p_area text) IS 'Access level (allowed, not_allowed, hidden) of the current role to an area''s sensitive columns';
CREATE FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) IS 'Access level (allowed, not_allowed, hidden) of a role to the sensitive columns of an area';
CREATE FUNCTION gdpr.sensitive_disclosures(p_kind text, p_subject_key text, p_tenant text, p_from timestamp with time zone DEFAULT NULL::timestamp with time zone, p_to timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS TABLE(at timestamp with time zone, actor name, login name, path text, format text, columns text[])
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT e.at, e.actor, e.login,
           CASE e.action WHEN 'insight_report' THEN 'report' WHEN 'export' THEN 'export' ELSE e.action END,
           e.details ->> 'format',
           ARRAY(SELECT pg_catalog.jsonb_array_elements_text(e.details -> 'unmasked') ORDER BY 1)
      FROM gdpr.audit_event e
     WHERE e.kind = p_kind AND e.subject_key = p_subject_key AND e.tenant IS NOT DISTINCT FROM p_tenant
       AND e.action IN ('insight_report', 'export')
       AND pg_catalog.jsonb_array_length(COALESCE(e.details -> 'unmasked', '[]')) > 0
       AND (p_from IS NULL OR e.at >= p_from) AND (p_to IS NULL OR e.at < p_to)
     ORDER BY e.at, e.id
$$;
ALTER FUNCTION gdpr.sensitive_disclosures(p_kind text, p_subject_key text, p_tenant text, p_from timestamp with time zone, p_to timestamp with time zone) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.sensitive_disclosures(p_kind text, p_subject_key text, p_tenant text, p_from timestamp with time zone, p_to timestamp with time zone) IS 'Who was shown a subject''s sensitive values in clear through the report or the export, when, which columns (GDPR Art. 33 evidence; admins)';
CREATE FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text, p_dpo_name text DEFAULT NULL::text, p_dpo_contact text DEFAULT NULL::text, p_transfers text DEFAULT NULL::text, p_measures text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text;
BEGIN
    IF p_tenant = '' THEN
        IF NOT COALESCE(gdpr.caller_is_admin(), false) THEN
            RAISE EXCEPTION 'only an administrator records the processor''s details'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        v_tenant := '';
    ELSE
        v_tenant := gdpr.acting_tenant(p_tenant);
        IF v_tenant IS NULL THEN
            RAISE EXCEPTION 'name the club whose details these are' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT COALESCE(gdpr.caller_is_admin(), false)
           AND gdpr.register_access_of(gdpr.caller(), NULL) <> 'write' THEN
            RAISE EXCEPTION 'role % may not change the club''s record of processing', gdpr.caller()
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF NULLIF(btrim(p_name), '') IS NULL OR NULLIF(btrim(p_contact), '') IS NULL THEN
        RAISE EXCEPTION 'the record needs a name and contact details' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.controller_record (tenant, name, contact, dpo_name, dpo_contact, transfers, measures, updated_by)
    VALUES (v_tenant, btrim(p_name), btrim(p_contact), NULLIF(btrim(p_dpo_name), ''), NULLIF(btrim(p_dpo_contact), ''),
            NULLIF(btrim(p_transfers), ''), NULLIF(btrim(p_measures), ''), gdpr.caller())
    ON CONFLICT (tenant) DO UPDATE SET name = excluded.name, contact = excluded.contact,
        dpo_name = excluded.dpo_name, dpo_contact = excluded.dpo_contact, transfers = excluded.transfers,
        measures = excluded.measures, updated_by = excluded.updated_by, updated_at = now();
    PERFORM gdpr.audit('controller_details_set', NULL, NULLIF(v_tenant, ''), NULL, NULL,
                       jsonb_build_object('processor', v_tenant = ''));
END $$;
ALTER FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text, p_dpo_name text, p_dpo_contact text, p_transfers text, p_measures text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text, p_dpo_name text, p_dpo_contact text, p_transfers text, p_measures text) IS 'Record a club''s (or, tenant '''', the processor''s) name, contact, data-protection contact, transfers and measures for the record of processing (GDPR Art. 30)';
CREATE FUNCTION gdpr.set_financial_year(p_tenant text, p_first_month integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text := gdpr.known_tenant(p_tenant, true);
BEGIN
    IF NOT COALESCE(gdpr.caller_is_admin(), false) THEN
        RAISE EXCEPTION 'role % may not declare a financial year: it needs pgdpr_admin', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_tenant IS NULL OR p_first_month IS NULL OR p_first_month NOT BETWEEN 1 AND 12 THEN
        RAISE EXCEPTION 'a financial year needs a club and the month it begins (1-12)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.tenant_financial_year AS f (tenant, first_month, set_by)
    VALUES (v_tenant, p_first_month, gdpr.caller())
    ON CONFLICT (tenant) DO UPDATE SET first_month = excluded.first_month, set_at = now(), set_by = excluded.set_by;
    PERFORM gdpr.audit('financial_year_set', NULL, v_tenant, NULL, NULL,
                       jsonb_build_object('first_month', p_first_month));
END $$;
ALTER FUNCTION gdpr.set_financial_year(p_tenant text, p_first_month integer) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.set_financial_year(p_tenant text, p_first_month integer) IS 'Declare the month a club''s financial year begins (1 = the calendar year, the default); audited';
CREATE FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone DEFAULT NULL::timestamp with time zone, p_tenant text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_id bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- before the subject is looked up or locked: the answer tells nothing about it
    PERFORM gdpr.rule_require_register_access(p_kind);
    IF p_hold_type IS NULL OR p_hold_type NOT IN ('debt', 'doping', 'litigation', 'other') THEN
        RAISE EXCEPTION 'hold type must be debt, doping, litigation or other' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a legal hold needs a reason' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_until IS NOT NULL AND p_until <= now() THEN
        RAISE EXCEPTION 'a legal hold must end in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    IF v_row.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    INSERT INTO gdpr.legal_hold (kind, tenant, subject_key, hold_type, reason, created_by, until)
    -- the reason is shown to every staff member who lists holds: its CPR- and
    -- account-shaped numbers are masked before it is kept (docs/rights.md)
    VALUES (p_kind, v_row.tenant, v_row.subject_key, p_hold_type, gdpr.render_free_text(p_reason, 'not_allowed'),
            gdpr.caller(), p_until)
    RETURNING id INTO v_id;
    PERFORM gdpr.audit('legal_hold_set', p_kind, v_row.tenant, v_row.subject_key, NULL,
                       jsonb_build_object('hold_id', v_id, 'hold_type', p_hold_type, 'until', p_until));
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone, p_tenant text) IS 'Keep a subject from being erased (docs/erasure.md): debt, doping, litigation or other, optionally until a time';
CREATE FUNCTION gdpr.set_right(p_group name, p_area text, p_right text, p_value text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.set_right(p_group name, p_area text, p_right text, p_value text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.set_right(p_group name, p_area text, p_right text, p_value text) IS 'Set a staff group''s right in an area: view_sensitive or register_access (audited)';
CREATE FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
BEGIN
    IF p_enabled THEN  -- enabling an erasing rule lets the ticker erase; disabling is always allowed
        PERFORM gdpr.rule_require_erasure_right(v_rule.actions, 'enable');
    END IF;
    UPDATE gdpr.rule r SET enabled = p_enabled, changed_at = now(), changed_by = gdpr.caller(),
           -- enabling is taking the rule on: it runs with the rights of whoever enabled it
           author = CASE WHEN p_enabled THEN gdpr.caller() ELSE r.author END,
           -- re-enabled: the next slot from now on, no catch-up of the disabled time
           next_slot = CASE WHEN p_enabled AND NOT v_rule.enabled
                            THEN gdpr.schedule_slot(r.schedule, r.time_zone, now(), 1) ELSE r.next_slot END,
           last_slot = CASE WHEN p_enabled AND NOT v_rule.enabled
                            THEN gdpr.schedule_slot(r.schedule, r.time_zone, now(), -1) ELSE r.last_slot END
     WHERE r.id = p_rule_id;
    PERFORM gdpr.audit(CASE WHEN p_enabled THEN 'rule_enable' ELSE 'rule_disable' END, v_rule.kind, v_rule.tenant,
                       NULL, NULL, jsonb_build_object('rule_id', p_rule_id));
END $$;
ALTER FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) IS 'Enable or disable a trigger rule; audited';
CREATE FUNCTION gdpr.show_rule(p_rule_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
BEGIN
    RETURN to_jsonb(v_rule) - 'deleted_at' || jsonb_build_object(
        'frequency', CASE WHEN v_rule.frequency_days IS NULL THEN 'once per subject'
                          ELSE format('every %s days', v_rule.frequency_days) END,
        'subjects_fired', (SELECT count(*) FROM gdpr.rule_subject s WHERE s.rule_id = p_rule_id),
        'runs', (SELECT count(*) FROM gdpr.rule_run x WHERE x.rule_id = p_rule_id));
END $$;
ALTER FUNCTION gdpr.show_rule(p_rule_id bigint) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.show_rule(p_rule_id bigint) IS 'One trigger rule as JSON';
CREATE FUNCTION gdpr.source_is_subject(p_source text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    SELECT COALESCE(p_source, 'the data subject') ~* '(^|[^a-zæøå])(the data subject|the customer|the member|the employee|kunden selv|medlemmet selv|medarbejderen selv|den registrerede)([^a-zæøå]|$)'
$_$;
ALTER FUNCTION gdpr.source_is_subject(p_source text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.source_is_subject(p_source text) IS 'Whether a declared source is the data subject (GDPR Art. 20(1): data the subject provided)';
CREATE FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamp with time zone DEFAULT now()) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
    v_now timestamptz := gdpr.rule_now(p_now);  -- staff: now() only
    v_run_id bigint;
BEGIN
    PERFORM gdpr.rule_require_erasure_right(v_rule.actions, 'run');
    v_run_id := gdpr.start_run(v_rule, clock_timestamp(), 'manual', v_now);
    PERFORM gdpr.rule_run_hold(v_run_id);
    RETURN v_run_id;
END $$;
ALTER FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamp with time zone) IS 'Start a manual run; drive it with gdpr.run_batch';
CREATE FUNCTION gdpr.start_run(p_rule gdpr.rule, p_slot timestamp with time zone, p_trigger text, p_now timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_run_id bigint;
    v_breakdown jsonb;
    v_refusal text := gdpr.rule_author_refusal(p_rule);
BEGIN
    INSERT INTO gdpr.rule_run (rule_id, slot, trigger, evaluated_at, started_by, author)
    VALUES (p_rule.id, p_slot, p_trigger, p_now, gdpr.caller(), p_rule.author)
    ON CONFLICT (rule_id, slot) DO NOTHING
    RETURNING id INTO v_run_id;
    IF v_run_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_refusal IS NOT NULL THEN
        PERFORM gdpr.rule_run_stop(v_run_id, v_refusal);
        RETURN v_run_id;
    END IF;
    EXECUTE gdpr.rule_eligibility_sql(p_rule, 'breakdown') INTO v_breakdown
        USING p_rule.tenant, p_now,
              (SELECT COALESCE(jsonb_agg(c -> 'params'), '[]') FROM jsonb_array_elements(p_rule.conditions) c),
              p_rule.time_zone, NULL::text, 0, p_rule.id;
    UPDATE gdpr.rule_run SET candidates = (v_breakdown ->> 'eligible')::integer,
           skipped = (SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(v_breakdown - 'eligible') e
                       WHERE e.value <> '0')
     WHERE id = v_run_id;
    RETURN v_run_id;
END $$;
ALTER FUNCTION gdpr.start_run(p_rule gdpr.rule, p_slot timestamp with time zone, p_trigger text, p_now timestamp with time zone) OWNER TO postgres;
CREATE FUNCTION gdpr.subject_age_band(p_kind text, p_tenant text, p_subject_key text, p_on date DEFAULT CURRENT_DATE) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_s gdpr.subject_kind;
    v_expr text := gdpr.age_band_sql(p_kind, 's', '$3');
    v_types record;
    v_band text;
BEGIN
    IF v_expr IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    EXECUTE format('SELECT %s FROM %I.%I s WHERE s.%I = $1::%s %s', v_expr, v_s.table_schema, v_s.table_name,
                   v_s.key_column, v_types.key_type,
                   CASE WHEN v_s.tenant_column IS NOT NULL
                        THEN format('AND s.%I = $2::%s', v_s.tenant_column, v_types.tenant_type) ELSE '' END)
       INTO v_band USING p_subject_key, NULLIF(p_tenant, ''), p_on;
    RETURN v_band;
END $_$;
ALTER FUNCTION gdpr.subject_age_band(p_kind text, p_tenant text, p_subject_key text, p_on date) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.subject_age_band(p_kind text, p_tenant text, p_subject_key text, p_on date) IS 'under_13, under_18 or adult from the declared birth-date column (Databeskyttelsesloven §6); NULL if unknown';
CREATE FUNCTION gdpr.subject_erased(p_kind text, p_tenant text, p_subject_key text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT FROM gdpr.erasure_ledger l
                    WHERE l.kind = p_kind AND l.subject_key = p_subject_key
                      AND (l.tenant = p_tenant OR (l.tenant IS NULL AND p_tenant IS NULL)))
$$;
ALTER FUNCTION gdpr.subject_erased(p_kind text, p_tenant text, p_subject_key text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.subject_erased(p_kind text, p_tenant text, p_subject_key text) IS 'True when the erasure ledger records the subject as erased; internal';
CREATE FUNCTION gdpr.subject_filter(p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_filter text;
    v_parent_alias text := p_alias || '_p';
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table %.% is not in the catalog', quote_ident(p_schema), quote_ident(p_table);
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    v_filter := CASE v_t.link
        WHEN 'root' THEN format('%I.%I %s', p_alias, v_s.key_column, p_key_match)
        WHEN 'direct' THEN format('%I.%I %s', p_alias, v_t.link_column, p_key_match)
        WHEN 'via' THEN format('%I.%I IN (SELECT %I.%I FROM %I.%I %I WHERE %s)',
            p_alias, v_t.link_column, v_parent_alias, v_t.parent_column,
            v_t.parent_schema, v_t.parent_name, v_parent_alias,
            gdpr.subject_filter(v_t.parent_schema, v_t.parent_name, v_parent_alias, p_key_match, p_tenant_match))
        -- the subject row is matched on its tenant too: with a per-tenant key, another
        -- tenant's subject of the same key must not lend us its address's id
        WHEN 'owned' THEN format('%I.%I IN (SELECT %I.%I FROM %I.%I %I WHERE %I.%I %s%s)',
            p_alias, v_t.parent_column, v_parent_alias, v_t.link_column,
            v_s.table_schema, v_s.table_name, v_parent_alias, v_parent_alias, v_s.key_column, p_key_match,
            CASE WHEN p_tenant_match IS NOT NULL AND v_s.tenant_column IS NOT NULL
                 THEN format(' AND %I.%I %s', v_parent_alias, v_s.tenant_column, p_tenant_match) ELSE '' END)
    END;
    IF p_tenant_match IS NOT NULL AND v_s.tenant_column IS NOT NULL AND EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = format('%I.%I', p_schema, p_table)::regclass
           AND a.attname = v_s.tenant_column AND NOT a.attisdropped) THEN
        v_filter := format('%I.%I %s AND %s', p_alias, v_s.tenant_column, p_tenant_match, v_filter);
    END IF;
    RETURN v_filter;
END $$;
ALTER FUNCTION gdpr.subject_filter(p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.subject_filter(p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text) IS 'WHERE clause selecting a declared table''s rows of the matched subjects (generated from the catalog)';
CREATE FUNCTION gdpr.subject_notes(p_topics text[], p_ref_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('topic', n.topic, 'note', n.note, 'written_by', n.written_by,
                                                 'written_at', n.written_at) ORDER BY n.id), '[]')
      FROM gdpr.subject_note n
     WHERE n.topic = ANY (p_topics) AND n.ref_id = p_ref_id
$$;
ALTER FUNCTION gdpr.subject_notes(p_topics text[], p_ref_id bigint) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.subject_reach(p_root oid) RETURNS TABLE(table_oid oid, parent oid, link_columns name[], parent_columns name[], depth integer, strong boolean, path text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH RECURSIVE reach (table_oid, parent, link_columns, parent_columns, depth, strong, path, seen) AS (
        SELECT e.child, e.parent, e.child_columns, e.parent_columns, 1, e.not_null,
               format('%s (%s) -> %s', e.child::regclass, array_to_string(e.child_columns, ', '), e.parent::regclass),
               ARRAY[p_root, e.child]
          FROM gdpr.fk_edges() e
         WHERE e.parent = p_root AND e.child <> p_root
        UNION ALL
        SELECT e.child, e.parent, e.child_columns, e.parent_columns, r.depth + 1, r.strong AND e.not_null,
               format('%s (%s) -> %s', e.child::regclass, array_to_string(e.child_columns, ', '), r.path),
               r.seen || e.child
          FROM reach r
          JOIN gdpr.fk_edges() e ON e.parent = r.table_oid
         WHERE e.child <> ALL (r.seen) AND r.depth < 8
    )
    SELECT DISTINCT ON (r.table_oid) r.table_oid, r.parent, r.link_columns, r.parent_columns, r.depth,
           bool_or(r.strong) OVER (PARTITION BY r.table_oid), r.path
      FROM reach r
     ORDER BY r.table_oid, r.strong DESC, r.depth
$$;
ALTER FUNCTION gdpr.subject_reach(p_root oid) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.subject_reach(p_root oid) IS 'Tables reaching a subject root table through foreign keys, with the shortest path';
CREATE FUNCTION gdpr.subject_rectifications(p_kind text, p_tenant text, p_subject_key text, p_access text) RETURNS json
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE(json_agg(json_build_object(
               'at', pg_catalog.to_char(r.changed_at AT TIME ZONE gdpr.tenant_time_zone(NULLIF(r.tenant, '')),
                                        'YYYY-MM-DD HH24:MI'),
               'table', pg_catalog.format('%I.%I', r.table_schema, r.table_name),
               'title_da', t.title_da, 'title_en', t.title_en,
               'column', r.column_name,
               'label_da', COALESCE(c.label_da, gdpr.column_label(r.column_name)),
               'label_en', COALESCE(c.label_en, gdpr.column_label(r.column_name)),
               'sensitive', r.sensitive,
               'old_value', CASE WHEN c.category = 'free_text' THEN gdpr.render_free_text(r.old_value, p_access)
                                 ELSE r.old_value END)
             ORDER BY r.changed_at, r.id), '[]')
      FROM gdpr.rectification r
      LEFT JOIN gdpr.catalog_table t ON t.table_schema = r.table_schema AND t.table_name = r.table_name
      LEFT JOIN gdpr.catalog_column c ON c.table_schema = r.table_schema AND c.table_name = r.table_name
           AND c.column_name = r.column_name
     WHERE r.kind = p_kind AND r.tenant = COALESCE(p_tenant, '') AND r.subject_key = p_subject_key
$$;
ALTER FUNCTION gdpr.subject_rectifications(p_kind text, p_tenant text, p_subject_key text, p_access text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.subject_rectifications(p_kind text, p_tenant text, p_subject_key text, p_access text) IS 'Internal (insight report): the corrections of one subject''s data, without who made them';
CREATE FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone DEFAULT now()) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT EXISTS (
        SELECT FROM gdpr.processing_restriction r
         WHERE r.kind OPERATOR(pg_catalog.=) p_kind
           AND r.tenant OPERATOR(pg_catalog.=) COALESCE(p_tenant, '')
           AND r.subject_key OPERATOR(pg_catalog.=) p_subject_key
           AND r.lifted_at IS NULL
           AND (r.until IS NULL OR r.until OPERATOR(pg_catalog.>) p_at))
$$;
ALTER FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone) IS 'True while the subject''s processing is restricted (GDPR Art. 18): no rules, messages or third-party exports';
CREATE FUNCTION gdpr.subject_source(p_schema name, p_table name, p_alias text, OUT from_clause text, OUT where_clause text, OUT key_expr text, OUT tenant_expr text) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_p record;
    v_palias text := p_alias || '_p';
    v_root_tenant text;
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table %.% is not in the catalog', quote_ident(p_schema), quote_ident(p_table);
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    IF v_s.tenant_column IS NOT NULL AND EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = format('%I.%I', p_schema, p_table)::regclass
           AND a.attname = v_s.tenant_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        tenant_expr := format('%I.%I', p_alias, v_s.tenant_column);
    END IF;
    from_clause := '';
    where_clause := 'true';
    CASE v_t.link
    WHEN 'root' THEN
        key_expr := format('%I.%I', p_alias, v_s.key_column);
    WHEN 'direct' THEN
        key_expr := format('%I.%I', p_alias, v_t.link_column);
    WHEN 'via' THEN
        SELECT * INTO v_p FROM gdpr.subject_source(v_t.parent_schema, v_t.parent_name, v_palias);
        from_clause := format(', %I.%I %I', v_t.parent_schema, v_t.parent_name, v_palias) || v_p.from_clause;
        where_clause := format('%I.%I = %I.%I AND ', p_alias, v_t.link_column, v_palias, v_t.parent_column)
            || v_p.where_clause;
        IF tenant_expr IS NOT NULL AND v_p.tenant_expr IS NOT NULL THEN
            where_clause := where_clause || format(' AND %s = %s', tenant_expr, v_p.tenant_expr);
        END IF;
        tenant_expr := COALESCE(tenant_expr, v_p.tenant_expr);
        key_expr := v_p.key_expr;
    WHEN 'owned' THEN
        from_clause := format(', %I.%I %I', v_s.table_schema, v_s.table_name, v_palias);
        where_clause := format('%I.%I = %I.%I', p_alias, v_t.parent_column, v_palias, v_t.link_column);
        IF v_s.tenant_column IS NOT NULL THEN
            v_root_tenant := format('%I.%I', v_palias, v_s.tenant_column);
            IF tenant_expr IS NOT NULL THEN
                where_clause := where_clause || format(' AND %s = %s', tenant_expr, v_root_tenant);
            END IF;
            tenant_expr := COALESCE(tenant_expr, v_root_tenant);
        END IF;
        key_expr := format('%I.%I', v_palias, v_s.key_column);
    END CASE;
END $$;
ALTER FUNCTION gdpr.subject_source(p_schema name, p_table name, p_alias text, OUT from_clause text, OUT where_clause text, OUT key_expr text, OUT tenant_expr text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.subject_source(p_schema name, p_table name, p_alias text, OUT from_clause text, OUT where_clause text, OUT key_expr text, OUT tenant_expr text) IS 'FROM items, join condition, subject key and tenant expressions of a declared table''s rows; internal';
CREATE FUNCTION gdpr.subject_types(p_kind text, OUT key_type text, OUT tenant_type text) RETURNS record
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT pg_catalog.format_type(k.atttypid, k.atttypmod), pg_catalog.format_type(t.atttypid, t.atttypmod)
      FROM gdpr.subject_kind s
      JOIN pg_catalog.pg_attribute k
        ON k.attrelid = format('%I.%I', s.table_schema, s.table_name)::regclass AND k.attname = s.key_column
      LEFT JOIN pg_catalog.pg_attribute t
        ON t.attrelid = k.attrelid AND t.attname = s.tenant_column
     WHERE s.kind = p_kind
$$;
ALTER FUNCTION gdpr.subject_types(p_kind text, OUT key_type text, OUT tenant_type text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.support_tenants(p_role name) RETURNS text[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.support_tenants(p_role name) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.support_tenants(p_role name) IS 'Tenants that granted the support role access that has not expired (empty for other roles)';
CREATE FUNCTION gdpr.tenant_attribute(p_tenant text, p_attribute text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_t gdpr.tenant_table;
    v_column name;
    v_value text;
BEGIN
    SELECT * INTO v_t FROM gdpr.tenant_table;
    v_column := CASE p_attribute WHEN 'name' THEN v_t.name_column WHEN 'time_zone' THEN v_t.time_zone_column END;
    IF p_tenant IS NULL OR v_column IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT %I::text FROM %I.%I WHERE %I::text = $1', v_column, v_t.table_schema, v_t.table_name,
                   v_t.key_column)
       INTO v_value USING p_tenant;
    RETURN v_value;
END $_$;
ALTER FUNCTION gdpr.tenant_attribute(p_tenant text, p_attribute text) OWNER TO postgres;
CREATE FUNCTION gdpr.tenant_financial_year_start(p_tenant text) RETURNS integer
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE((SELECT f.first_month::integer FROM gdpr.tenant_financial_year f WHERE f.tenant = p_tenant), 1)
$$;
ALTER FUNCTION gdpr.tenant_financial_year_start(p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.tenant_financial_year_start(p_tenant text) IS 'The month (1-12) a club''s financial year begins; 1 unless declared with gdpr.set_financial_year';
CREATE FUNCTION gdpr.tenant_financial_year_start_sql(p_tenant_expr text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE WHEN p_tenant_expr IS NULL OR m.map IS NULL THEN '1'
                ELSE format('COALESCE((%L::jsonb OPERATOR(pg_catalog.->>) (%s)::text)::integer, 1)', m.map, p_tenant_expr)
           END
      FROM (SELECT jsonb_object_agg(f.tenant, f.first_month) AS map
              FROM gdpr.tenant_financial_year f WHERE f.first_month <> 1) m
$$;
ALTER FUNCTION gdpr.tenant_financial_year_start_sql(p_tenant_expr text) OWNER TO pgdpr_owner;
CREATE FUNCTION gdpr.tenant_name(p_tenant text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT gdpr.tenant_attribute(p_tenant, 'name')
$$;
ALTER FUNCTION gdpr.tenant_name(p_tenant text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.tenant_name(p_tenant text) IS 'Display name of a tenant (the club), from the declared tenant table';
CREATE FUNCTION gdpr.tenant_role(p_tenant text) RETURNS name
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ('pgdpr_tenant_' || p_tenant)::name
$$;
ALTER FUNCTION gdpr.tenant_role(p_tenant text) OWNER TO postgres;
CREATE FUNCTION gdpr.tenant_time_zone(p_tenant text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT COALESCE(gdpr.tenant_attribute(p_tenant, 'time_zone'), 'Europe/Copenhagen')
$$;
ALTER FUNCTION gdpr.tenant_time_zone(p_tenant text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.tenant_time_zone(p_tenant text) IS 'Time zone of a tenant (the club) for rule schedules, Europe/Copenhagen by default';
CREATE FUNCTION gdpr.tenant_time_zone_sql(p_tenant_expr text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_t gdpr.tenant_table;
    v_default text := gdpr.tenant_time_zone(NULL);
    v_map jsonb;
BEGIN
    SELECT * INTO v_t FROM gdpr.tenant_table;
    IF p_tenant_expr IS NOT NULL AND v_t.time_zone_column IS NOT NULL THEN
        EXECUTE format('SELECT jsonb_object_agg(t.%1$I::text, t.%2$I::text) FROM %3$I.%4$I t
                         WHERE t.%2$I IS NOT NULL AND t.%2$I::text <> $1',
                       v_t.key_column, v_t.time_zone_column, v_t.table_schema, v_t.table_name)
           INTO v_map USING v_default;
    END IF;
    IF v_map IS NULL THEN
        RETURN quote_literal(v_default);
    END IF;
    RETURN format('COALESCE(%L::jsonb OPERATOR(pg_catalog.->>) (%s)::text, %L)', v_map, p_tenant_expr, v_default);
END $_$;
ALTER FUNCTION gdpr.tenant_time_zone_sql(p_tenant_expr text) OWNER TO pgdpr_owner;
CREATE PROCEDURE gdpr.tick(IN p_now timestamp with time zone DEFAULT NULL::timestamp with time zone, IN p_batch_size integer DEFAULT 1000)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_now timestamptz := COALESCE(p_now, now());
    v_seen bigint[] := '{}';
    v_run_id bigint;
    v_result jsonb;
    v_state text;
BEGIN
    PERFORM gdpr.tick_heartbeat(v_now);
    COMMIT;
    LOOP
        v_run_id := gdpr.tick_claim(v_now, v_seen);
        COMMIT;
        EXIT WHEN v_run_id IS NULL;
        v_seen := v_seen || v_run_id;
        LOOP
            v_state := NULL;
            BEGIN
                v_result := gdpr.run_batch(v_run_id, p_batch_size);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
            END;
            IF v_state IS NOT NULL THEN  -- the batch failed as a whole: end the run, go on
                v_result := gdpr.abort_run(v_run_id, v_state);
            END IF;
            COMMIT;
            EXIT WHEN (v_result ->> 'done')::boolean OR (v_result ->> 'busy')::boolean;
        END LOOP;
    END LOOP;
    PERFORM gdpr.tick_deferred_erasures(v_now);
    COMMIT;
    -- planner statistics still holding values of subjects erased since (gdpr.erasure_residue.sql)
    PERFORM gdpr.analyze_erased_tables();
    COMMIT;
END $$;
ALTER PROCEDURE gdpr.tick(IN p_now timestamp with time zone, IN p_batch_size integer) OWNER TO postgres;
COMMENT ON PROCEDURE gdpr.tick(IN p_now timestamp with time zone, IN p_batch_size integer) IS 'The ticker: run every due rule once per slot, committing per batch; CALL outside a transaction block';
CREATE FUNCTION gdpr.tick_claim(p_now timestamp with time zone, p_seen bigint[] DEFAULT '{}'::bigint[]) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_run_id bigint;
    v_rule gdpr.rule;
    v_slot timestamptz;
    v_state text;
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only the ticker (pgdpr_admin) runs scheduled rules' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM gdpr.rule_run_stop(y.id, 'abandoned: the session that ran it ended before it was done')
       FROM (SELECT x.id FROM gdpr.rule_run x
              WHERE x.finished_at IS NULL AND x.trigger = 'manual' AND NOT gdpr.rule_run_driven(x.id)
              ORDER BY x.id FOR UPDATE SKIP LOCKED) y;
    SELECT x.id INTO v_run_id FROM gdpr.rule_run x
     WHERE x.finished_at IS NULL AND x.trigger = 'schedule' AND x.id <> ALL (COALESCE(p_seen, '{}'))
     ORDER BY x.id FOR UPDATE SKIP LOCKED LIMIT 1;
    IF FOUND THEN
        RETURN v_run_id;
    END IF;
    LOOP
        SELECT * INTO v_rule FROM gdpr.rule r
         WHERE r.enabled AND r.deleted_at IS NULL AND r.next_slot <= p_now
         ORDER BY r.next_slot, r.id FOR UPDATE SKIP LOCKED LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        v_slot := gdpr.schedule_slot(v_rule.schedule, v_rule.time_zone, p_now, -1);
        UPDATE gdpr.rule r SET last_slot = GREATEST(r.last_slot, v_slot),
               next_slot = gdpr.schedule_slot(r.schedule, r.time_zone, p_now, 1)
         WHERE r.id = v_rule.id;
        IF v_slot IS NOT NULL AND v_slot > COALESCE(v_rule.last_slot, '-infinity') THEN
            BEGIN
                v_run_id := gdpr.start_run(v_rule, v_slot, 'schedule', p_now);
            EXCEPTION WHEN OTHERS THEN
                -- a broken rule (e.g. a condition whose function fails) must not stop the
                -- other rules: its slot is recorded as a failed run and the ticker goes on
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
                INSERT INTO gdpr.rule_run (rule_id, slot, trigger, evaluated_at, started_by, author, finished_at,
                                           errors, error_count)
                VALUES (v_rule.id, v_slot, 'schedule', p_now, gdpr.caller(), v_rule.author, clock_timestamp(),
                        jsonb_build_array(jsonb_build_object('stage', 'start', 'sqlstate', v_state)), 1)
                ON CONFLICT (rule_id, slot) DO NOTHING;
                v_run_id := NULL;
            END;
            IF v_run_id IS NOT NULL THEN
                RETURN v_run_id;
            END IF;
        END IF;
    END LOOP;
END $$;
ALTER FUNCTION gdpr.tick_claim(p_now timestamp with time zone, p_seen bigint[]) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.tick_claim(p_now timestamp with time zone, p_seen bigint[]) IS 'Claim the next run for the ticker: an orphaned unfinished run, else a due rule (SKIP LOCKED)';
CREATE FUNCTION gdpr.tick_deferred_erasures(p_now timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_result jsonb;
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only the ticker (pgdpr_admin) processes deferred erasures' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF to_regprocedure('gdpr.process_deferred_erasures(timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT to_jsonb(gdpr.process_deferred_erasures($1))' INTO v_result USING p_now;
    RETURN v_result;
END $_$;
ALTER FUNCTION gdpr.tick_deferred_erasures(p_now timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.tick_deferred_erasures(p_now timestamp with time zone) IS 'Process deferred erasures if the erasure functions are installed';
CREATE FUNCTION gdpr.tick_heartbeat(p_now timestamp with time zone) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO gdpr.ticker (singleton, last_tick_at, last_now, last_by, ticks)
    VALUES (true, clock_timestamp(), p_now, gdpr.caller(), 1)
    ON CONFLICT (singleton) DO UPDATE SET last_tick_at = excluded.last_tick_at, last_now = excluded.last_now,
        last_by = excluded.last_by, ticks = gdpr.ticker.ticks + 1
$$;
ALTER FUNCTION gdpr.tick_heartbeat(p_now timestamp with time zone) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.tick_heartbeat(p_now timestamp with time zone) IS 'Record that the ticker ran (internal)';
CREATE FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_proof gdpr.erasure_proof;
    v_scope record;
    v_then jsonb;
    v_problems jsonb;
    v_changed jsonb;
    v_verdict text;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    -- the subject must exist in the caller's club (an erased subject row stays)
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    SELECT * INTO v_proof FROM gdpr.erasure_proof e
     WHERE e.kind = p_kind AND e.tenant = COALESCE(v_row.tenant, '') AND e.subject_key = v_row.subject_key;
    IF NOT FOUND OR NOT v_row.anonymized THEN
        PERFORM gdpr.audit('verify_erased', p_kind, v_row.tenant, v_row.subject_key, NULL,
                           jsonb_build_object('verdict', 'no_proof'));
        RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                                  'verdict', 'no_proof', 'anonymized', v_row.anonymized);
    END IF;
    SELECT COALESCE(jsonb_agg(jsonb_build_object('place', s.place, 'problem', s.problem)), '[]') INTO v_problems
      FROM gdpr.proof_structure(p_kind, v_row.tenant, v_row.subject_key) s;
    SELECT * INTO v_scope FROM gdpr.proof_scope(p_kind);
    v_changed := '[]';
    IF v_scope.digest <> v_proof.scope THEN
        SELECT s.places INTO v_then FROM gdpr.erasure_proof_scope s WHERE s.digest = v_proof.scope;
        SELECT COALESCE(jsonb_agg(x.p || jsonb_build_object('change', x.change)), '[]') INTO v_changed
          FROM (SELECT n.p, 'not covered by the proof' AS change FROM jsonb_array_elements(v_scope.places) AS n(p)
                 WHERE NOT v_then @> jsonb_build_array(n.p)
                UNION ALL
                SELECT o.p, 'covered by the proof, gone or changed since' FROM jsonb_array_elements(v_then) AS o(p)
                 WHERE NOT v_scope.places @> jsonb_build_array(o.p)) x;
    END IF;
    v_verdict := CASE WHEN v_problems <> '[]' THEN 'not_erased'
                      WHEN v_changed <> '[]' AND v_proof.verdict = 'erased' THEN 'incomplete'
                      ELSE v_proof.verdict END;
    PERFORM gdpr.audit('verify_erased', p_kind, v_row.tenant, v_row.subject_key, NULL,
                       jsonb_build_object('verdict', v_verdict));
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                              'verdict', v_verdict, 'anonymized', v_row.anonymized,
                              'proof', jsonb_build_object('verdict', v_proof.verdict, 'proved_at', v_proof.proved_at),
                              'hits', (SELECT COALESCE(sum((f ->> 'hits')::bigint), 0)
                                         FROM jsonb_array_elements(v_proof.found) f),
                              'places', v_proof.found, 'unsearched', v_proof.unsearched,
                              'structure', v_problems, 'changed', v_changed);
END $$;
ALTER FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text) IS 'The stored verdict of an erased subject''s proof, re-checked without values (erased state, deleted rows, places unchanged)';
CREATE FUNCTION gdpr.view_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_schema name := tg_argv[0];
    v_table name := tg_argv[1];
    v_area text := NULLIF(tg_argv[2], '');
    v_tenant_column name := NULLIF(tg_argv[3], '');
    v_caller name := gdpr.caller();
    v_tenant text;
    v_new jsonb;
    v_old jsonb;
    v_sensitive name[];
    v_flags name[];
    v_was_sensitive boolean;
    v_unmask_area text;
    v_columns name[];
    v_key_where text;
    v_result jsonb;
    v_message text;
    v_state text;
    v_constraint text;
    v_declared record;
    v_src record;
    v_subject_key text;
    v_subject_tenant text;
    v_root gdpr.subject_kind;
BEGIN
    IF gdpr.register_access_of(v_caller, v_area) <> 'write' THEN
        RAISE EXCEPTION 'role % may not change %.%: register access is not write', v_caller, v_schema, v_table
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_tenant_column IS NOT NULL THEN
        v_tenant := gdpr.acting_tenant(NULL);
    END IF;
    IF tg_op <> 'DELETE' THEN
        v_new := pg_catalog.to_jsonb(NEW);
    END IF;
    IF tg_op <> 'INSERT' THEN
        v_old := pg_catalog.to_jsonb(OLD);
    END IF;
    -- the columns that are sensitive in this row (a sensitive_when flag set before or after)
    SELECT COALESCE(pg_catalog.array_agg(c.column_name), '{}') INTO v_sensitive
      FROM gdpr.catalog_column c
     WHERE c.table_schema = v_schema AND c.table_name = v_table
       AND (c.sensitive OR (c.sensitive_when IS NOT NULL
            AND (COALESCE((v_new->>c.sensitive_when)::boolean, false)
                 OR COALESCE((v_old->>c.sensitive_when)::boolean, false))));
    -- this table's sensitive_when flags, and whether the row was sensitive before
    SELECT COALESCE(pg_catalog.array_agg(DISTINCT c.sensitive_when), '{}'),
           COALESCE(pg_catalog.bool_or(COALESCE((v_old->>c.sensitive_when)::boolean, false)), false)
      INTO v_flags, v_was_sensitive
      FROM gdpr.catalog_column c
     WHERE c.table_schema = v_schema AND c.table_name = v_table AND c.sensitive_when IS NOT NULL;
    -- a flag of this row that another table's sensitive_when copies (through a foreign
    -- key) and that this update turns off: the area whose right it takes, if the
    -- caller lacks it
    IF tg_op = 'UPDATE' THEN
        SELECT k.area INTO v_unmask_area
          FROM (SELECT DISTINCT ra.attname AS flag, sk.area
                  FROM gdpr.catalog_column cc
                  JOIN gdpr.catalog_table ct ON ct.table_schema = cc.table_schema AND ct.table_name = cc.table_name
                  JOIN gdpr.subject_kind sk ON sk.kind = ct.kind
                  JOIN pg_catalog.pg_constraint f ON f.contype = 'f'
                       AND f.conrelid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', cc.table_schema, cc.table_name))
                       AND f.confrelid = pg_catalog.format('%I.%I', v_schema, v_table)::regclass
                  JOIN pg_catalog.pg_attribute fa ON fa.attrelid = f.conrelid AND fa.attname = cc.sensitive_when
                  CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(f.conkey), pg_catalog.unnest(f.confkey)) AS u(src, dst)
                  JOIN pg_catalog.pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = u.dst
                 WHERE cc.sensitive_when IS NOT NULL AND u.src = fa.attnum) k
         WHERE v_old->>k.flag = 'true'  -- text, not a cast: the planner may test other columns first
           AND (v_new->>k.flag) IS DISTINCT FROM 'true'
           AND gdpr.sensitive_access_of(v_caller, k.area) <> 'allowed'
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'role % may not make sensitive values readable through %.%', v_caller, v_schema, v_table
                USING ERRCODE = 'insufficient_privilege',
                      HINT = pg_catalog.format('clearing this flag unmasks values in the %s area: it needs the allowed right',
                                               v_unmask_area);
        END IF;
    END IF;
    IF v_tenant_column IS NOT NULL AND v_tenant IS NOT NULL THEN
        IF tg_op = 'INSERT' AND v_new->>v_tenant_column IS NULL THEN
            v_new := v_new || pg_catalog.jsonb_build_object(v_tenant_column, v_tenant);
        ELSIF tg_op <> 'DELETE' AND v_new->>v_tenant_column IS DISTINCT FROM v_tenant THEN
            RAISE EXCEPTION 'role % may only write rows of its own club', v_caller
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    -- the primary key of the base table selects the row (the view shows it unmasked)
    IF tg_op <> 'INSERT' THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('t.%I = ($1->>%L)::%s', a.attname, a.attname,
                                     pg_catalog.format_type(a.atttypid, a.atttypmod)), ' AND ')
          INTO v_key_where
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = pg_catalog.format('%I.%I', v_schema, v_table)::regclass AND i.indisprimary;
        IF v_key_where IS NULL THEN
            RAISE EXCEPTION '%.% has no primary key: write the base table through an engine function',
                v_schema, v_table USING ERRCODE = 'feature_not_supported';
        END IF;
        IF v_tenant_column IS NOT NULL AND v_tenant IS NOT NULL THEN
            v_key_where := v_key_where || pg_catalog.format(' AND t.%I::text = %L', v_tenant_column, v_tenant);
        END IF;
    END IF;
    -- What only the engine decides (GDPR Art. 17): a person is removed by erasure,
    -- never by deleting the subject row (which would leave no ledger entry for a
    -- restored backup and no audit event); whether a subject is erased is the
    -- ledger's fact, so the subject row's anonymised-at column is not staff's to set
    -- or clear; and what is left of an erased subject (the scrubbed subject row, rows
    -- kept by law) is read-only to staff.
    SELECT ct.kind, ct.link, sk.anonymized_column INTO v_declared
      FROM gdpr.catalog_table ct JOIN gdpr.subject_kind sk ON sk.kind = ct.kind
     WHERE ct.table_schema = v_schema AND ct.table_name = v_table;
    IF FOUND THEN
        IF v_declared.link = 'root' AND tg_op = 'DELETE' THEN
            RAISE EXCEPTION 'a % is removed by erasure, not by DELETE', v_declared.kind
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'gdpr.anonymize() or `pgdpr anonymize` erases the person and records it in the ledger';
        END IF;
        IF v_declared.link = 'root' AND v_declared.anonymized_column IS NOT NULL
           AND (v_new -> v_declared.anonymized_column::text) IS DISTINCT FROM
               (CASE WHEN tg_op = 'INSERT' THEN 'null'::jsonb ELSE v_old -> v_declared.anonymized_column::text END) THEN
            RAISE EXCEPTION 'only the erasure sets %.%.%', v_schema, v_table, v_declared.anonymized_column
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- a table without the club column (the club only on the subject row): a new or
        -- changed row must belong to a subject of the caller's own club
        SELECT * INTO v_root FROM gdpr.subject_kind k WHERE k.kind = v_declared.kind;
        IF v_tenant_column IS NULL AND v_root.tenant_column IS NOT NULL AND tg_op <> 'DELETE'
           AND v_declared.link <> 'root' AND NOT gdpr.caller_is_admin() THEN
            SELECT * INTO v_src FROM gdpr.subject_source(v_schema, v_table, 't');
            EXECUTE pg_catalog.format(
                'SELECT gdpr_subject.%I::text FROM %I.%I gdpr_subject, '
                'pg_catalog.jsonb_populate_record(NULL::%I.%I, $1) t %s WHERE gdpr_subject.%I = %s AND %s',
                v_root.tenant_column, v_root.table_schema, v_root.table_name, v_schema, v_table,
                v_src.from_clause, v_root.key_column, v_src.key_expr, v_src.where_clause)
               INTO v_subject_tenant USING v_new;
            IF v_subject_tenant IS DISTINCT FROM gdpr.acting_tenant(NULL) THEN
                RAISE EXCEPTION 'role % may only write rows of its own club', v_caller
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
        IF tg_op <> 'INSERT' THEN
            SELECT * INTO v_src FROM gdpr.subject_source(v_schema, v_table, 't');
            EXECUTE pg_catalog.format('SELECT %s::text, %s::text FROM %I.%I t %s WHERE %s AND %s',
                                      v_src.key_expr, COALESCE(v_src.tenant_expr, 'NULL'), v_schema, v_table,
                                      v_src.from_clause, v_key_where, v_src.where_clause)
               INTO v_subject_key, v_subject_tenant USING v_old;
            IF v_subject_key IS NOT NULL AND gdpr.subject_erased(v_declared.kind, v_subject_tenant, v_subject_key) THEN
                RAISE EXCEPTION '% % is erased: what is kept of it in %.% is read-only', v_declared.kind,
                    v_subject_key, v_schema, v_table
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
    END IF;
    BEGIN
        IF tg_op = 'INSERT' THEN
            SELECT pg_catalog.array_agg(k) INTO v_columns
              FROM pg_catalog.jsonb_each(v_new) AS e(k, v) WHERE v <> 'null'::jsonb;
            IF v_columns && v_sensitive AND gdpr.sensitive_access_of(v_caller, v_area) <> 'allowed' THEN
                RAISE EXCEPTION 'role % may not write sensitive values of %.%', v_caller, v_schema, v_table
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            EXECUTE pg_catalog.format(
                'INSERT INTO %I.%I AS t (%s) SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%I.%I, $1) r '
                'RETURNING pg_catalog.to_jsonb(t)',
                v_schema, v_table,
                (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(v_columns) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('r.%I', c), ', ') FROM pg_catalog.unnest(v_columns) c),
                v_schema, v_table)
              INTO v_result USING v_new;
            -- give back generated values (keys, defaults), the sensitive ones as the caller wrote them
            NEW := pg_catalog.jsonb_populate_record(NEW, v_result - v_sensitive::text[]);
            RETURN NEW;
        ELSIF tg_op = 'UPDATE' THEN
            SELECT pg_catalog.array_agg(k) INTO v_columns
              FROM pg_catalog.jsonb_each(v_new) AS e(k, v) WHERE v IS DISTINCT FROM v_old->k;
            -- a sensitive value written, a sensitive row changed, or a flag changed
            IF v_columns IS NOT NULL AND (v_columns && v_sensitive OR v_columns && v_flags OR v_was_sensitive)
               AND gdpr.sensitive_access_of(v_caller, v_area) <> 'allowed' THEN
                RAISE EXCEPTION 'role % may not write sensitive values of %.%', v_caller, v_schema, v_table
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF v_columns IS NOT NULL THEN
                EXECUTE pg_catalog.format(
                    'UPDATE %I.%I AS t SET (%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%I.%I, $2) r) '
                    'WHERE %s',
                    v_schema, v_table,
                    (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(v_columns) c),
                    (SELECT pg_catalog.string_agg(pg_catalog.format('r.%I', c), ', ') FROM pg_catalog.unnest(v_columns) c),
                    v_schema, v_table, v_key_where)
                  USING v_old, v_new - (SELECT COALESCE(pg_catalog.array_agg(k), '{}') FROM pg_catalog.jsonb_object_keys(v_new) k
                                          WHERE k <> ALL (v_columns));
                -- Art. 16: which declared column was corrected, when, by whom; no old
                -- value of a sensitive one (gdpr.rectification.sql)
                IF v_declared.kind IS NOT NULL AND v_subject_key IS NOT NULL THEN
                    PERFORM gdpr.record_rectification(v_schema, v_table, v_declared.kind, v_subject_tenant,
                                                      v_subject_key, v_columns, v_sensitive, v_old);
                END IF;
            END IF;
            RETURN NEW;
        ELSE
            EXECUTE pg_catalog.format('DELETE FROM %I.%I AS t WHERE %s', v_schema, v_table, v_key_where) USING v_old;
            RETURN OLD;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE,
                                v_constraint = CONSTRAINT_NAME;
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, CONSTRAINT = COALESCE(v_constraint, '');
    END;
END $_$;
ALTER FUNCTION gdpr.view_write() OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.view_write() IS 'INSTEAD OF trigger of the generated views: register access, own club, sensitive columns only with the right';
CREATE FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text, p_note text DEFAULT NULL::text, p_request_id bigint DEFAULT NULL::bigint, p_tenant text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_subject record;
    v_ct gdpr.consent_table;
    v_cover gdpr.consent_cover;
    v_types record;
    v_key_match text;
    v_tenant_match text;
    v_count bigint;
    v_withdrawn bigint;
    v_erased jsonb := '{}';
    v_column text;
    v_parts text[];
    v_cancelled bigint := 0;
    v_id bigint;
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    SELECT * INTO v_ct FROM gdpr.consent_table c WHERE c.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subject % has no declared consent table', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_cover FROM gdpr.consent_cover c WHERE c.kind = p_kind AND c.consent_type = p_consent_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'consent type % of % has no declared cover (what withdrawing it erases or stops)',
            quote_literal(p_consent_type), p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    IF v_subject.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    PERFORM gdpr.require_request_of(p_request_id, p_kind, v_subject.tenant, v_subject.subject_key, p_subject_key);
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    v_key_match := format('= $1::%s', v_types.key_type);
    v_tenant_match := format('= $2::%s', v_types.tenant_type);
    EXECUTE format('WITH w AS (UPDATE %I.%I t SET %I = now() WHERE %s AND t.%I::text = $3 AND t.%I IS NULL
                                RETURNING 1) SELECT count(*) FROM w',
                   v_ct.table_schema, v_ct.table_name, v_ct.withdrawn_column,
                   gdpr.subject_filter(v_ct.table_schema, v_ct.table_name, 't', v_key_match, v_tenant_match),
                   v_ct.type_column, v_ct.withdrawn_column)
       INTO v_withdrawn USING v_subject.subject_key, NULLIF(v_subject.tenant, ''), p_consent_type;
    IF v_withdrawn = 0 THEN
        RAISE EXCEPTION '% % has no active consent of type %', p_kind, p_subject_key, quote_literal(p_consent_type)
            USING ERRCODE = 'no_data_found';
    END IF;
    FOREACH v_column IN ARRAY v_cover.erase_columns LOOP
        v_parts := string_to_array(v_column, '.');
        EXECUTE format('WITH e AS (UPDATE %I.%I t SET %I = NULL WHERE %s AND t.%I IS NOT NULL RETURNING 1)
                        SELECT count(*) FROM e',
                       v_parts[1], v_parts[2], v_parts[3],
                       gdpr.subject_filter(v_parts[1]::name, v_parts[2]::name, 't', v_key_match, v_tenant_match),
                       v_parts[3])
           INTO v_count USING v_subject.subject_key, NULLIF(v_subject.tenant, '');
        v_erased := v_erased || jsonb_build_object(v_column, v_count);
    END LOOP;
    INSERT INTO gdpr.consent_withdrawal (kind, tenant, subject_key, consent_type, withdrawn_at, withdrawn_by,
                                         request_id)
    VALUES (p_kind, v_subject.tenant, v_subject.subject_key, p_consent_type, now(), gdpr.caller(), p_request_id)
    RETURNING id INTO v_id;
    IF cardinality(v_cover.stop_templates) > 0 THEN
        WITH cancelled AS (
            DELETE FROM gdpr.outbox o
             WHERE o.kind = p_kind AND o.tenant = v_subject.tenant AND o.subject_key = v_subject.subject_key
               AND o.sent_at IS NULL AND o.template = ANY (v_cover.stop_templates)
            RETURNING 1)
        SELECT count(*) INTO v_cancelled FROM cancelled;
    END IF;
    PERFORM gdpr.write_subject_note(p_kind, v_subject.tenant, v_subject.subject_key, 'consent_withdrawal', v_id,
                                    p_note);
    PERFORM gdpr.audit('consent_withdrawn', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('consent_type', p_consent_type, 'consents', v_withdrawn,
                                          'erased', v_erased, 'stopped', to_jsonb(v_cover.stop_templates),
                                          'messages_cancelled', v_cancelled, 'request_id', p_request_id));
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_subject.tenant, 'subject_key', v_subject.subject_key,
                              'consent_type', p_consent_type, 'consents', v_withdrawn, 'erased', v_erased,
                              'stopped', to_jsonb(v_cover.stop_templates), 'messages_cancelled', v_cancelled);
END $_$;
ALTER FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text, p_note text, p_request_id bigint, p_tenant text) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text, p_note text, p_request_id bigint, p_tenant text) IS 'Withdraw a consent (GDPR Art. 7(3)): erase the columns and stop the messages it covered, at once; audited';
CREATE FUNCTION gdpr.write_subject_note(p_kind text, p_tenant text, p_subject_key text, p_topic text, p_ref_id bigint, p_note text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO gdpr.subject_note (kind, tenant, subject_key, topic, ref_id, note, written_by)
    SELECT p_kind, COALESCE(p_tenant, ''), p_subject_key, p_topic, p_ref_id, gdpr.redact_note(p_note), gdpr.caller()
     WHERE NULLIF(btrim(p_note), '') IS NOT NULL
$$;
ALTER FUNCTION gdpr.write_subject_note(p_kind text, p_tenant text, p_subject_key text, p_topic text, p_ref_id bigint, p_note text) OWNER TO pgdpr_owner;
CREATE TABLE club.account_movements (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    amount numeric(12,2) NOT NULL,
    text text NOT NULL,
    payment_reference text,
    booked_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE ONLY club.account_movements FORCE ROW LEVEL SECURITY;
ALTER TABLE club.account_movements OWNER TO postgres;
ALTER TABLE club.account_movements ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.account_movements_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.activities (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    kind text NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE ONLY club.activities FORCE ROW LEVEL SECURITY;
ALTER TABLE club.activities OWNER TO postgres;
ALTER TABLE club.activities ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.activities_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.addresses (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    street text NOT NULL,
    postcode text NOT NULL,
    city text NOT NULL,
    CONSTRAINT addresses_postcode_check CHECK ((postcode ~ '^[0-9]{4}$'::text))
);
ALTER TABLE ONLY club.addresses FORCE ROW LEVEL SECURITY;
ALTER TABLE club.addresses OWNER TO postgres;
ALTER TABLE club.addresses ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.addresses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.class_enrollments (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    class_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    enrolled_at timestamp with time zone DEFAULT now() NOT NULL,
    attended boolean
);
ALTER TABLE ONLY club.class_enrollments FORCE ROW LEVEL SECURITY;
ALTER TABLE club.class_enrollments OWNER TO postgres;
ALTER TABLE club.class_enrollments ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.class_enrollments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.classes (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    instructor_id bigint
);
ALTER TABLE ONLY club.classes FORCE ROW LEVEL SECURITY;
ALTER TABLE club.classes OWNER TO postgres;
ALTER TABLE club.classes ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.classes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.clubs (
    id bigint NOT NULL,
    name text NOT NULL,
    time_zone text DEFAULT 'Europe/Copenhagen'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT clubs_time_zone_check CHECK (club.valid_time_zone(time_zone))
);
ALTER TABLE ONLY club.clubs FORCE ROW LEVEL SECURITY;
ALTER TABLE club.clubs OWNER TO postgres;
CREATE TABLE club.consents (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    consent_type text NOT NULL,
    version text,
    given_at timestamp with time zone DEFAULT now() NOT NULL,
    withdrawn_at timestamp with time zone,
    evidence text,
    guardian_name text,
    CONSTRAINT consents_consent_type_check CHECK ((consent_type = ANY (ARRAY['terms'::text, 'photo_marketing'::text, 'newsletter'::text])))
);
ALTER TABLE ONLY club.consents FORCE ROW LEVEL SECURITY;
ALTER TABLE club.consents OWNER TO postgres;
ALTER TABLE club.consents ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.consents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.custom_field_values (
    club_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    field_id bigint NOT NULL,
    is_sensitive boolean DEFAULT false NOT NULL,
    value text NOT NULL
);
ALTER TABLE ONLY club.custom_field_values FORCE ROW LEVEL SECURITY;
ALTER TABLE club.custom_field_values OWNER TO postgres;
CREATE TABLE club.custom_fields (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    is_sensitive boolean DEFAULT false NOT NULL
);
ALTER TABLE ONLY club.custom_fields FORCE ROW LEVEL SECURITY;
ALTER TABLE club.custom_fields OWNER TO postgres;
ALTER TABLE club.custom_fields ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.custom_fields_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.customers (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_no text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    address_id bigint,
    email text,
    phone text,
    birth_date date,
    cpr text,
    bank_reg text,
    bank_account text,
    photo bytea,
    member_card text,
    key_fob text,
    member_since date DEFAULT CURRENT_DATE NOT NULL,
    anonymized_at timestamp with time zone,
    CONSTRAINT customers_check CHECK (club.valid_bank_account(bank_reg, bank_account)),
    CONSTRAINT customers_cpr_check CHECK (club.valid_cpr(cpr))
);
ALTER TABLE ONLY club.customers FORCE ROW LEVEL SECURITY;
ALTER TABLE club.customers OWNER TO postgres;
ALTER TABLE club.customers ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.customers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.log_lines (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    staff_id bigint,
    written_at timestamp with time zone DEFAULT now() NOT NULL,
    text text NOT NULL
);
ALTER TABLE ONLY club.log_lines FORCE ROW LEVEL SECURITY;
ALTER TABLE club.log_lines OWNER TO postgres;
ALTER TABLE club.log_lines ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.log_lines_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.notes (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    staff_id bigint,
    written_at timestamp with time zone DEFAULT now() NOT NULL,
    text text NOT NULL
);
ALTER TABLE ONLY club.notes FORCE ROW LEVEL SECURITY;
ALTER TABLE club.notes OWNER TO postgres;
ALTER TABLE club.notes ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.reservations (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    resource_id bigint NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    CONSTRAINT reservations_check CHECK ((ends_at > starts_at))
);
ALTER TABLE ONLY club.reservations FORCE ROW LEVEL SECURITY;
ALTER TABLE club.reservations OWNER TO postgres;
ALTER TABLE club.reservations ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.reservations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.resources (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL
);
ALTER TABLE ONLY club.resources FORCE ROW LEVEL SECURITY;
ALTER TABLE club.resources OWNER TO postgres;
ALTER TABLE club.resources ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.resources_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.staff (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text,
    phone text,
    cpr text,
    role_name name,
    hired_at date DEFAULT CURRENT_DATE NOT NULL,
    anonymized_at timestamp with time zone,
    CONSTRAINT staff_cpr_check CHECK (club.valid_cpr(cpr))
);
ALTER TABLE ONLY club.staff FORCE ROW LEVEL SECURITY;
ALTER TABLE club.staff OWNER TO postgres;
ALTER TABLE club.staff ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.staff_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.table_bookings (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    booked_for timestamp with time zone NOT NULL,
    party_size integer NOT NULL,
    note text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT table_bookings_party_size_check CHECK (((party_size >= 1) AND (party_size <= 100)))
);
ALTER TABLE ONLY club.table_bookings FORCE ROW LEVEL SECURITY;
ALTER TABLE club.table_bookings OWNER TO postgres;
ALTER TABLE club.table_bookings ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.table_bookings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE VIEW club_app.account_movements AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.amount,
    gdpr.render_free_text(t.text, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS text,
    t.payment_reference,
    t.booked_at
   FROM club.account_movements t;
ALTER TABLE club_app.account_movements OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.account_movements IS 'pgdpr generated view of club.account_movements (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.activities AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.kind,
    t.occurred_at
   FROM club.activities t;
ALTER TABLE club_app.activities OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.activities IS 'pgdpr generated view of club.activities (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.addresses AS
 SELECT t.club_id,
    t.id,
    t.street,
    t.postcode,
    t.city
   FROM club.addresses t;
ALTER TABLE club_app.addresses OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.addresses IS 'pgdpr generated view of club.addresses (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.class_enrollments AS
 SELECT t.club_id,
    t.id,
    t.class_id,
    t.customer_id,
    t.enrolled_at,
    t.attended
   FROM club.class_enrollments t;
ALTER TABLE club_app.class_enrollments OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.class_enrollments IS 'pgdpr generated view of club.class_enrollments (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.classes AS
 SELECT t.club_id,
    t.id,
    t.name,
    t.starts_at,
    t.instructor_id
   FROM club.classes t;
ALTER TABLE club_app.classes OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.classes IS 'pgdpr generated view of club.classes (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.clubs AS
 SELECT t.id,
    t.name,
    t.time_zone,
    t.created_at
   FROM club.clubs t;
ALTER TABLE club_app.clubs OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.clubs IS 'pgdpr generated view of club.clubs (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.consents AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.consent_type,
    t.version,
    t.given_at,
    t.withdrawn_at,
    gdpr.render_free_text(t.evidence, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS evidence,
    t.guardian_name
   FROM club.consents t;
ALTER TABLE club_app.consents OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.consents IS 'pgdpr generated view of club.consents (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.custom_field_values AS
 SELECT t.club_id,
    t.customer_id,
    t.field_id,
    t.is_sensitive,
        CASE
            WHEN t.is_sensitive THEN gdpr.render_sensitive(t.value, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access))
            ELSE t.value
        END AS value
   FROM club.custom_field_values t;
ALTER TABLE club_app.custom_field_values OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.custom_field_values IS 'pgdpr generated view of club.custom_field_values (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.custom_fields AS
 SELECT t.club_id,
    t.id,
    t.name,
    t.is_sensitive
   FROM club.custom_fields t;
ALTER TABLE club_app.custom_fields OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.custom_fields IS 'pgdpr generated view of club.custom_fields (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.customers AS
 SELECT t.club_id,
    t.id,
    t.customer_no,
    t.first_name,
    t.last_name,
    t.address_id,
    t.email,
    t.phone,
    t.birth_date,
    gdpr.render_sensitive(t.cpr, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS cpr,
    gdpr.render_sensitive(t.bank_reg, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS bank_reg,
    gdpr.render_sensitive(t.bank_account, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS bank_account,
    t.photo,
    t.member_card,
    t.key_fob,
    t.member_since,
    t.anonymized_at
   FROM club.customers t;
ALTER TABLE club_app.customers OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.customers IS 'pgdpr generated view of club.customers (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.log_lines AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.staff_id,
    t.written_at,
    gdpr.render_free_text(t.text, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS text
   FROM club.log_lines t;
ALTER TABLE club_app.log_lines OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.log_lines IS 'pgdpr generated view of club.log_lines (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.notes AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.staff_id,
    t.written_at,
    gdpr.render_free_text(t.text, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS text
   FROM club.notes t;
ALTER TABLE club_app.notes OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.notes IS 'pgdpr generated view of club.notes (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.reservations AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.resource_id,
    t.starts_at,
    t.ends_at
   FROM club.reservations t;
ALTER TABLE club_app.reservations OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.reservations IS 'pgdpr generated view of club.reservations (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.resources AS
 SELECT t.club_id,
    t.id,
    t.name
   FROM club.resources t;
ALTER TABLE club_app.resources OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.resources IS 'pgdpr generated view of club.resources (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.staff AS
 SELECT t.club_id,
    t.id,
    t.first_name,
    t.last_name,
    t.email,
    t.phone,
    gdpr.render_sensitive(t.cpr, ( SELECT gdpr.sensitive_access('staff'::text) AS sensitive_access)) AS cpr,
    t.role_name,
    t.hired_at,
    t.anonymized_at
   FROM club.staff t;
ALTER TABLE club_app.staff OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.staff IS 'pgdpr generated view of club.staff (gdpr.refresh_views): sensitive columns per caller';
CREATE VIEW club_app.table_bookings AS
 SELECT t.club_id,
    t.id,
    t.customer_id,
    t.booked_for,
    t.party_size,
    gdpr.render_free_text(t.note, ( SELECT gdpr.sensitive_access('customers'::text) AS sensitive_access)) AS note,
    t.created_at
   FROM club.table_bookings t;
ALTER TABLE club_app.table_bookings OWNER TO pgdpr_view_owner;
COMMENT ON VIEW club_app.table_bookings IS 'pgdpr generated view of club.table_bookings (gdpr.refresh_views): sensitive columns per caller';
CREATE TABLE gdpr.audit_event (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    actor name NOT NULL,
    action text NOT NULL,
    kind text,
    tenant text,
    subject_key text,
    purpose text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    login name DEFAULT SESSION_USER
);
ALTER TABLE gdpr.audit_event OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.audit_event IS 'Append-only audit trail: keys and counts, no personal values';
COMMENT ON COLUMN gdpr.audit_event.login IS 'The login (session user) behind actor, the role it acted as; NULL before 0011';
ALTER TABLE gdpr.audit_event ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.audit_event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.audit_note (
    event_id bigint NOT NULL,
    kind text,
    tenant text,
    subject_key text,
    note text NOT NULL,
    CONSTRAINT audit_note_note_check CHECK ((length(note) <= 200))
);
ALTER TABLE gdpr.audit_note OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.audit_note IS 'What a caller wrote with an audited action (purpose, reason), numbers masked; deleted when the subject is erased';
CREATE TABLE gdpr.catalog_column (
    table_schema name NOT NULL,
    table_name name NOT NULL,
    column_name name NOT NULL,
    category text NOT NULL,
    sensitive boolean DEFAULT false NOT NULL,
    sensitive_when name,
    erase text NOT NULL,
    erase_constant text,
    part_of_record boolean DEFAULT true NOT NULL,
    label_da text,
    label_en text,
    CONSTRAINT catalog_column_category_check CHECK ((category = ANY (ARRAY['name'::text, 'address'::text, 'contact'::text, 'national_id'::text, 'bank'::text, 'birthdate'::text, 'free_text'::text, 'photo'::text, 'identifier'::text, 'other'::text]))),
    CONSTRAINT catalog_column_check CHECK (((erase = 'constant'::text) = (erase_constant IS NOT NULL))),
    CONSTRAINT catalog_column_check1 CHECK ((NOT (sensitive AND (sensitive_when IS NOT NULL)))),
    CONSTRAINT catalog_column_erase_check CHECK ((erase = ANY (ARRAY['null'::text, 'constant'::text, 'redact'::text, 'year_only'::text, 'hash'::text, 'random'::text, 'keep'::text])))
);
ALTER TABLE gdpr.catalog_column OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.catalog_column IS 'Personal columns: category, masking and erasure strategy';
CREATE TABLE gdpr.catalog_table (
    table_schema name NOT NULL,
    table_name name NOT NULL,
    kind text NOT NULL,
    link text NOT NULL,
    link_column name,
    parent_schema name,
    parent_name name,
    parent_column name,
    on_erase text NOT NULL,
    retain_column name,
    retain_period interval,
    retain_from_year_end boolean DEFAULT false NOT NULL,
    title_da text NOT NULL,
    title_en text NOT NULL,
    purpose text NOT NULL,
    legal_basis text NOT NULL,
    retention text NOT NULL,
    recipients text DEFAULT 'Ingen uden for klubben / none outside the club'::text NOT NULL,
    source text DEFAULT 'the data subject'::text NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    CONSTRAINT catalog_table_check CHECK (((link = 'root'::text) = (link_column IS NULL))),
    CONSTRAINT catalog_table_check1 CHECK (((link = ANY (ARRAY['via'::text, 'owned'::text])) = (parent_column IS NOT NULL))),
    CONSTRAINT catalog_table_check2 CHECK (((link = 'via'::text) = (parent_name IS NOT NULL))),
    CONSTRAINT catalog_table_check3 CHECK (((on_erase = 'retain'::text) = ((retain_column IS NOT NULL) AND (retain_period IS NOT NULL)))),
    CONSTRAINT catalog_table_link_check CHECK ((link = ANY (ARRAY['root'::text, 'direct'::text, 'via'::text, 'owned'::text]))),
    CONSTRAINT catalog_table_not_engine_table CHECK (((table_schema <> ALL (ARRAY['gdpr'::name, 'pg_catalog'::name, 'information_schema'::name])) AND (table_schema !~ '^pg_'::text))),
    CONSTRAINT catalog_table_on_erase_check CHECK ((on_erase = ANY (ARRAY['delete'::text, 'anonymize'::text, 'retain'::text])))
);
ALTER TABLE gdpr.catalog_table OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.catalog_table IS 'Tables holding personal data, their link to the subject and their Art. 30 record';
CREATE TABLE gdpr.column_legal_basis (
    table_schema name NOT NULL,
    table_name name NOT NULL,
    column_name name NOT NULL,
    basis text NOT NULL,
    CONSTRAINT column_legal_basis_basis_check CHECK (((length(btrim(basis)) >= 5) AND (length(btrim(basis)) <= 500)))
);
ALTER TABLE gdpr.column_legal_basis OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.column_legal_basis IS 'Legal basis of a sensitive column (GDPR Art. 9(2), Databeskyttelsesloven §11)';
CREATE TABLE gdpr.consent_cover (
    kind text NOT NULL,
    consent_type text NOT NULL,
    erase_columns text[] DEFAULT '{}'::text[] NOT NULL,
    stop_templates text[] DEFAULT '{}'::text[] NOT NULL,
    description text
);
ALTER TABLE gdpr.consent_cover OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.consent_cover IS 'What withdrawing a consent type erases or stops (GDPR Art. 7(3))';
CREATE TABLE gdpr.consent_table (
    kind text NOT NULL,
    table_schema name NOT NULL,
    table_name name NOT NULL,
    type_column name NOT NULL,
    withdrawn_column name NOT NULL,
    given_column name,
    guardian_column name
);
ALTER TABLE gdpr.consent_table OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.consent_table IS 'The declared table holding a subject kind''s consents';
CREATE TABLE gdpr.consent_withdrawal (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    consent_type text NOT NULL,
    withdrawn_at timestamp with time zone NOT NULL,
    withdrawn_by name NOT NULL,
    request_id bigint
);
ALTER TABLE gdpr.consent_withdrawal OWNER TO pgdpr_owner;
ALTER TABLE gdpr.consent_withdrawal ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.consent_withdrawal_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.controller_record (
    tenant text NOT NULL,
    name text NOT NULL,
    contact text NOT NULL,
    dpo_name text,
    dpo_contact text,
    transfers text,
    measures text,
    updated_by name NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT controller_record_contact_check CHECK (((length(btrim(contact)) >= 3) AND (length(btrim(contact)) <= 300))),
    CONSTRAINT controller_record_dpo_contact_check CHECK ((length(dpo_contact) <= 300)),
    CONSTRAINT controller_record_dpo_name_check CHECK ((length(dpo_name) <= 200)),
    CONSTRAINT controller_record_measures_check CHECK ((length(measures) <= 2000)),
    CONSTRAINT controller_record_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 200))),
    CONSTRAINT controller_record_transfers_check CHECK ((length(transfers) <= 1000))
);
ALTER TABLE gdpr.controller_record OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.controller_record IS 'Controller and processor details of the record of processing (GDPR Art. 30(1)(a), 30(2)(a))';
CREATE TABLE gdpr.deferred_erasure (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    table_schema name NOT NULL,
    table_name name NOT NULL,
    rows_pending bigint NOT NULL,
    next_due_at timestamp with time zone,
    last_due_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    done_at timestamp with time zone
);
ALTER TABLE gdpr.deferred_erasure OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.deferred_erasure IS 'Retained rows of erased subjects, erased when their period ends';
ALTER TABLE gdpr.deferred_erasure ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.deferred_erasure_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.dsr_request_event (
    request_id bigint NOT NULL,
    event_id bigint NOT NULL
);
ALTER TABLE gdpr.dsr_request_event OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.dsr_request_event IS 'Audit events (report, export, erasure, ...) that answered a request';
ALTER TABLE gdpr.dsr_request ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.dsr_request_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.erasure_ledger (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text,
    subject_key text NOT NULL,
    erased_at timestamp with time zone NOT NULL,
    actor name NOT NULL,
    rule_id bigint,
    reason_category text NOT NULL,
    replayed_at timestamp with time zone,
    CONSTRAINT erasure_ledger_reason_category_check CHECK ((reason_category = ANY (ARRAY['request'::text, 'rule'::text, 'forced'::text, 'replay'::text])))
);
ALTER TABLE gdpr.erasure_ledger OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.erasure_ledger IS 'Erasures without personal data; exported and replayed after a restore';
ALTER TABLE gdpr.erasure_ledger ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.erasure_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.erasure_mention_pass (
    xid xid8 NOT NULL
);
ALTER TABLE gdpr.erasure_mention_pass OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.erasure_mention_pass IS 'Transactions of an erasure rewriting other subjects'' free text; engine only, never committed with a row';
CREATE TABLE gdpr.erasure_proof (
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    verdict text NOT NULL,
    scope text NOT NULL,
    found jsonb DEFAULT '[]'::jsonb NOT NULL,
    unsearched jsonb DEFAULT '[]'::jsonb NOT NULL,
    proved_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT erasure_proof_verdict_check CHECK ((verdict = ANY (ARRAY['erased'::text, 'not_erased'::text, 'incomplete'::text])))
);
ALTER TABLE gdpr.erasure_proof OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.erasure_proof IS 'The verdict of each erasure''s proof: places found (table, column, cells) and places not searched; no values, no hashes';
CREATE TABLE gdpr.erasure_proof_scope (
    digest text NOT NULL,
    kind text NOT NULL,
    places jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE gdpr.erasure_proof_scope OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.erasure_proof_scope IS 'The places an erasure proof searched (table, column, how), per kind and catalog state; no personal data';
CREATE TABLE gdpr.group_right (
    group_role name NOT NULL,
    area text NOT NULL,
    view_sensitive text DEFAULT 'not_allowed'::text NOT NULL,
    register_access text DEFAULT 'read'::text NOT NULL,
    CONSTRAINT group_right_area_check CHECK ((area ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT group_right_register_access_check CHECK ((register_access = ANY (ARRAY['none'::text, 'read'::text, 'write'::text]))),
    CONSTRAINT group_right_view_sensitive_check CHECK ((view_sensitive = ANY (ARRAY['allowed'::text, 'not_allowed'::text, 'hidden'::text])))
);
ALTER TABLE gdpr.group_right OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.group_right IS 'Rights of a staff group per area: view sensitive values, register access';
CREATE TABLE gdpr.install_secret (
    singleton boolean DEFAULT true NOT NULL,
    salt bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT install_secret_singleton_check CHECK (singleton)
);
ALTER TABLE gdpr.install_secret OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.install_secret IS 'Per-install salt of keyed hashes; readable by pgdpr_owner only';
CREATE TABLE gdpr.install_state (
    singleton boolean DEFAULT true NOT NULL,
    sql_digest text NOT NULL,
    pgdpr_version text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT install_state_singleton_check CHECK (singleton)
);
ALTER TABLE gdpr.install_state OWNER TO pgdpr_owner;
ALTER TABLE gdpr.legal_hold ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.legal_hold_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.not_personal (
    table_schema name NOT NULL,
    table_name name NOT NULL,
    column_name name DEFAULT ''::name NOT NULL,
    reason text NOT NULL,
    CONSTRAINT not_personal_reason_check CHECK ((length(btrim(reason)) > 0)),
    CONSTRAINT not_personal_table_schema_check CHECK (((table_schema <> ALL (ARRAY['gdpr'::name, 'pg_catalog'::name, 'information_schema'::name])) AND (table_schema !~ '^pg_'::text)))
);
ALTER TABLE gdpr.not_personal OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.not_personal IS 'Tables and columns declared not to hold personal data, with the reason (catalog check skips them)';
CREATE TABLE gdpr.outbox (
    id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    rule_id bigint,
    run_id bigint,
    kind text NOT NULL,
    tenant text NOT NULL,
    subject_key text NOT NULL,
    template text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    sent_at timestamp with time zone
);
ALTER TABLE gdpr.outbox OWNER TO pgdpr_owner;
ALTER TABLE gdpr.outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.processing_restriction (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    ground text NOT NULL,
    request_id bigint,
    created_by name NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    until timestamp with time zone,
    lifted_at timestamp with time zone,
    lifted_by name,
    CONSTRAINT processing_restriction_check CHECK (((lifted_at IS NULL) = (lifted_by IS NULL))),
    CONSTRAINT processing_restriction_ground_check CHECK ((ground = ANY (ARRAY['accuracy_contested'::text, 'unlawful_processing'::text, 'legal_claims'::text, 'objection_pending'::text, 'other'::text])))
);
ALTER TABLE gdpr.processing_restriction OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.processing_restriction IS 'Restrictions of processing (GDPR Art. 18): active while lifted_at IS NULL AND (until IS NULL OR until > now())';
ALTER TABLE gdpr.processing_restriction ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.processing_restriction_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.rectification (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    table_schema name NOT NULL,
    table_name name NOT NULL,
    column_name name NOT NULL,
    changed_at timestamp with time zone DEFAULT statement_timestamp() NOT NULL,
    actor name NOT NULL,
    login name NOT NULL,
    sensitive boolean NOT NULL,
    old_value text,
    CONSTRAINT rectification_check CHECK (((NOT sensitive) OR (old_value IS NULL)))
);
ALTER TABLE gdpr.rectification OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.rectification IS 'Corrections of declared columns through the views (GDPR Art. 16): column, time, role and login; old values of non-sensitive columns only; deleted when the subject is erased';
ALTER TABLE gdpr.rectification ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.rectification_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.rule_action (
    name text NOT NULL,
    function text NOT NULL,
    subject_table text,
    erases boolean DEFAULT false NOT NULL,
    description text NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT rule_action_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text))
);
ALTER TABLE gdpr.rule_action OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.rule_action IS 'Named rule actions: SQL functions applied to a batch of subject keys';
CREATE TABLE gdpr.rule_condition (
    name text NOT NULL,
    function text NOT NULL,
    subject_table text,
    description text NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT rule_condition_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text))
);
ALTER TABLE gdpr.rule_condition OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.rule_condition IS 'Named rule conditions: SQL functions building an eligibility predicate';
ALTER TABLE gdpr.rule ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.rule_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.rule_run (
    id bigint NOT NULL,
    rule_id bigint NOT NULL,
    slot timestamp with time zone NOT NULL,
    trigger text NOT NULL,
    evaluated_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    started_by name NOT NULL,
    finished_at timestamp with time zone,
    candidates integer,
    changed integer DEFAULT 0 NOT NULL,
    skipped jsonb DEFAULT '{}'::jsonb NOT NULL,
    errors jsonb DEFAULT '[]'::jsonb NOT NULL,
    error_count integer DEFAULT 0 NOT NULL,
    capped boolean DEFAULT false NOT NULL,
    batches integer DEFAULT 0 NOT NULL,
    cursor text,
    author name,
    stopped text,
    stopped_by name,
    CONSTRAINT rule_run_trigger_check CHECK ((trigger = ANY (ARRAY['schedule'::text, 'manual'::text])))
);
ALTER TABLE gdpr.rule_run OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.rule_run IS 'Run history of trigger rules: one row per rule and slot';
COMMENT ON COLUMN gdpr.rule_run.author IS 'The rule''s author when the run started: the rights it ran with';
COMMENT ON COLUMN gdpr.rule_run.stopped IS 'Why the run ended before its work was done (cancelled, rule disabled or deleted, a right lost, abandoned)';
COMMENT ON COLUMN gdpr.rule_run.stopped_by IS 'Who stopped the run (the ticker, or whoever cancelled it)';
ALTER TABLE gdpr.rule_run ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.rule_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.rule_safety (
    subject_table text NOT NULL,
    function text NOT NULL,
    description text NOT NULL
);
ALTER TABLE gdpr.rule_safety OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.rule_safety IS 'Built-in safety per subject table, applied to every rule (not configurable per rule)';
CREATE TABLE gdpr.rule_subject (
    rule_id bigint NOT NULL,
    subject_key text NOT NULL,
    fired_at timestamp with time zone NOT NULL
);
ALTER TABLE gdpr.rule_subject OWNER TO pgdpr_owner;
CREATE TABLE gdpr.staff_group (
    group_role name NOT NULL,
    tenant text NOT NULL,
    description text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE gdpr.staff_group OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.staff_group IS 'Staff groups: NOLOGIN roles, each member of one tenant role and of pgdpr_staff';
CREATE TABLE gdpr.subject_birth_date (
    kind text NOT NULL,
    column_name name NOT NULL
);
ALTER TABLE gdpr.subject_birth_date OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.subject_birth_date IS 'The birth-date column of a subject kind (minors, Databeskyttelsesloven §6)';
CREATE TABLE gdpr.subject_kind (
    kind text NOT NULL,
    table_schema name NOT NULL,
    table_name name NOT NULL,
    key_column name NOT NULL,
    tenant_column name,
    identifying name[] DEFAULT '{}'::name[] NOT NULL,
    anonymized_column name,
    area text NOT NULL,
    CONSTRAINT subject_kind_area_check CHECK ((area ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT subject_kind_kind_check CHECK ((kind ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT subject_kind_not_engine_table CHECK (((table_schema <> ALL (ARRAY['gdpr'::name, 'pg_catalog'::name, 'information_schema'::name])) AND (table_schema !~ '^pg_'::text)))
);
ALTER TABLE gdpr.subject_kind OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.subject_kind IS 'Kinds of data subject (customer, staff, ...) and their root table';
CREATE TABLE gdpr.subject_note (
    id bigint NOT NULL,
    kind text NOT NULL,
    tenant text DEFAULT ''::text NOT NULL,
    subject_key text NOT NULL,
    topic text NOT NULL,
    ref_id bigint,
    note text NOT NULL,
    written_by name NOT NULL,
    written_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT subject_note_topic_check CHECK ((topic = ANY (ARRAY['request_verification'::text, 'request_extension'::text, 'request_closing'::text, 'restriction'::text, 'restriction_lifted'::text, 'consent_withdrawal'::text])))
);
ALTER TABLE gdpr.subject_note OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.subject_note IS 'Caller-written notes about a subject, CPR/account numbers redacted; deleted when the subject is erased';
ALTER TABLE gdpr.subject_note ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.subject_note_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.support_grant (
    id bigint NOT NULL,
    tenant text NOT NULL,
    granted_by name NOT NULL,
    granted_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    granted_by_login name DEFAULT SESSION_USER,
    CONSTRAINT support_grant_check CHECK ((expires_at > granted_at))
);
ALTER TABLE gdpr.support_grant OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.support_grant IS 'Time-limited access of the vendor support role to one club';
ALTER TABLE gdpr.support_grant ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.support_grant_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.tenant_financial_year (
    tenant text NOT NULL,
    first_month smallint NOT NULL,
    set_at timestamp with time zone DEFAULT now() NOT NULL,
    set_by name NOT NULL,
    CONSTRAINT tenant_financial_year_first_month_check CHECK (((first_month >= 1) AND (first_month <= 12)))
);
ALTER TABLE gdpr.tenant_financial_year OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.tenant_financial_year IS 'The month each tenant''s financial year begins (default: January); the end of the year starts retention';
CREATE TABLE gdpr.tenant_table (
    singleton boolean DEFAULT true NOT NULL,
    table_schema name NOT NULL,
    table_name name NOT NULL,
    key_column name NOT NULL,
    name_column name,
    time_zone_column name,
    CONSTRAINT tenant_table_singleton_check CHECK (singleton)
);
ALTER TABLE gdpr.tenant_table OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.tenant_table IS 'The table whose rows are the tenants (data controllers), declared by the catalog';
CREATE TABLE gdpr.ticker (
    singleton boolean DEFAULT true NOT NULL,
    last_tick_at timestamp with time zone NOT NULL,
    last_now timestamp with time zone NOT NULL,
    last_by name NOT NULL,
    ticks bigint DEFAULT 0 NOT NULL,
    CONSTRAINT ticker_singleton_check CHECK (singleton)
);
ALTER TABLE gdpr.ticker OWNER TO pgdpr_owner;
ALTER TABLE ONLY club.account_movements
    ADD CONSTRAINT account_movements_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.activities
    ADD CONSTRAINT activities_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.addresses
    ADD CONSTRAINT addresses_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.class_enrollments
    ADD CONSTRAINT class_enrollments_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.classes
    ADD CONSTRAINT classes_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.clubs
    ADD CONSTRAINT clubs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY club.consents
    ADD CONSTRAINT consents_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.custom_field_values
    ADD CONSTRAINT custom_field_values_pkey PRIMARY KEY (club_id, customer_id, field_id);
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_club_id_id_is_sensitive_key UNIQUE (club_id, id, is_sensitive);
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_club_id_name_key UNIQUE (club_id, name);
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_cpr_key UNIQUE (club_id, cpr);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_customer_no_key UNIQUE (club_id, customer_no);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_key_fob_key UNIQUE (club_id, key_fob);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_member_card_key UNIQUE (club_id, member_card);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.log_lines
    ADD CONSTRAINT log_lines_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.reservations
    ADD CONSTRAINT reservations_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.resources
    ADD CONSTRAINT resources_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_club_id_cpr_key UNIQUE (club_id, cpr);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_role_name_key UNIQUE (role_name);
ALTER TABLE ONLY club.table_bookings
    ADD CONSTRAINT table_bookings_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY gdpr.audit_event
    ADD CONSTRAINT audit_event_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.audit_note
    ADD CONSTRAINT audit_note_pkey PRIMARY KEY (event_id);
ALTER TABLE ONLY gdpr.catalog_column
    ADD CONSTRAINT catalog_column_pkey PRIMARY KEY (table_schema, table_name, column_name);
ALTER TABLE ONLY gdpr.catalog_table
    ADD CONSTRAINT catalog_table_pkey PRIMARY KEY (table_schema, table_name);
ALTER TABLE ONLY gdpr.column_legal_basis
    ADD CONSTRAINT column_legal_basis_pkey PRIMARY KEY (table_schema, table_name, column_name);
ALTER TABLE ONLY gdpr.consent_cover
    ADD CONSTRAINT consent_cover_pkey PRIMARY KEY (kind, consent_type);
ALTER TABLE ONLY gdpr.consent_table
    ADD CONSTRAINT consent_table_pkey PRIMARY KEY (kind);
ALTER TABLE ONLY gdpr.consent_withdrawal
    ADD CONSTRAINT consent_withdrawal_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.controller_record
    ADD CONSTRAINT controller_record_pkey PRIMARY KEY (tenant);
ALTER TABLE ONLY gdpr.deferred_erasure
    ADD CONSTRAINT deferred_erasure_kind_tenant_subject_key_table_schema_table_key UNIQUE (kind, tenant, subject_key, table_schema, table_name);
ALTER TABLE ONLY gdpr.deferred_erasure
    ADD CONSTRAINT deferred_erasure_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.dsr_request_event
    ADD CONSTRAINT dsr_request_event_pkey PRIMARY KEY (request_id, event_id);
ALTER TABLE ONLY gdpr.dsr_request
    ADD CONSTRAINT dsr_request_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.erasure_ledger
    ADD CONSTRAINT erasure_ledger_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.erasure_mention_pass
    ADD CONSTRAINT erasure_mention_pass_pkey PRIMARY KEY (xid);
ALTER TABLE ONLY gdpr.erasure_proof
    ADD CONSTRAINT erasure_proof_pkey PRIMARY KEY (kind, tenant, subject_key);
ALTER TABLE ONLY gdpr.erasure_proof_scope
    ADD CONSTRAINT erasure_proof_scope_pkey PRIMARY KEY (digest);
ALTER TABLE ONLY gdpr.group_right
    ADD CONSTRAINT group_right_pkey PRIMARY KEY (group_role, area);
ALTER TABLE ONLY gdpr.insight_statement
    ADD CONSTRAINT insight_statement_pkey PRIMARY KEY (kind);
ALTER TABLE ONLY gdpr.install_secret
    ADD CONSTRAINT install_secret_pkey PRIMARY KEY (singleton);
ALTER TABLE ONLY gdpr.install_state
    ADD CONSTRAINT install_state_pkey PRIMARY KEY (singleton);
ALTER TABLE ONLY gdpr.legal_hold
    ADD CONSTRAINT legal_hold_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.not_personal
    ADD CONSTRAINT not_personal_pkey PRIMARY KEY (table_schema, table_name, column_name);
ALTER TABLE ONLY gdpr.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.processing_restriction
    ADD CONSTRAINT processing_restriction_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.rectification
    ADD CONSTRAINT rectification_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.rule_action
    ADD CONSTRAINT rule_action_pkey PRIMARY KEY (name);
ALTER TABLE ONLY gdpr.rule_condition
    ADD CONSTRAINT rule_condition_pkey PRIMARY KEY (name);
ALTER TABLE ONLY gdpr.rule
    ADD CONSTRAINT rule_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.rule_run
    ADD CONSTRAINT rule_run_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.rule_run
    ADD CONSTRAINT rule_run_rule_id_slot_key UNIQUE (rule_id, slot);
ALTER TABLE ONLY gdpr.rule_safety
    ADD CONSTRAINT rule_safety_pkey PRIMARY KEY (subject_table);
ALTER TABLE ONLY gdpr.rule_subject
    ADD CONSTRAINT rule_subject_pkey PRIMARY KEY (rule_id, subject_key);
ALTER TABLE ONLY gdpr.staff_group
    ADD CONSTRAINT staff_group_pkey PRIMARY KEY (group_role);
ALTER TABLE ONLY gdpr.subject_birth_date
    ADD CONSTRAINT subject_birth_date_pkey PRIMARY KEY (kind);
ALTER TABLE ONLY gdpr.subject_kind
    ADD CONSTRAINT subject_kind_pkey PRIMARY KEY (kind);
ALTER TABLE ONLY gdpr.subject_kind
    ADD CONSTRAINT subject_kind_table_schema_table_name_key UNIQUE (table_schema, table_name);
ALTER TABLE ONLY gdpr.subject_note
    ADD CONSTRAINT subject_note_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.support_grant
    ADD CONSTRAINT support_grant_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.tenant_financial_year
    ADD CONSTRAINT tenant_financial_year_pkey PRIMARY KEY (tenant);
ALTER TABLE ONLY gdpr.tenant_table
    ADD CONSTRAINT tenant_table_pkey PRIMARY KEY (singleton);
ALTER TABLE ONLY gdpr.ticker
    ADD CONSTRAINT ticker_pkey PRIMARY KEY (singleton);
CREATE INDEX account_movements_customer ON club.account_movements USING btree (club_id, customer_id, booked_at);
CREATE INDEX account_movements_text_gdpr_mention ON club.account_movements USING gin (gdpr.mention_text(text) public.gin_trgm_ops);
COMMENT ON INDEX club.account_movements_text_gdpr_mention IS 'pgdpr mention search af148c7db95a1cee4c7b633d0f4206cd';
CREATE INDEX activities_customer ON club.activities USING btree (club_id, customer_id, occurred_at);
CREATE INDEX class_enrollments_class ON club.class_enrollments USING btree (club_id, class_id);
CREATE INDEX class_enrollments_customer ON club.class_enrollments USING btree (club_id, customer_id, enrolled_at);
CREATE INDEX consents_customer ON club.consents USING btree (club_id, customer_id, given_at);
CREATE INDEX consents_evidence_gdpr_mention ON club.consents USING gin (gdpr.mention_text(evidence) public.gin_trgm_ops);
COMMENT ON INDEX club.consents_evidence_gdpr_mention IS 'pgdpr mention search af148c7db95a1cee4c7b633d0f4206cd';
CREATE INDEX custom_field_values_field ON club.custom_field_values USING btree (club_id, field_id);
CREATE INDEX customers_address ON club.customers USING btree (club_id, address_id);
CREATE UNIQUE INDEX customers_id ON club.customers USING btree (id);
CREATE INDEX log_lines_customer ON club.log_lines USING btree (club_id, customer_id, written_at);
CREATE INDEX log_lines_text_gdpr_mention ON club.log_lines USING gin (gdpr.mention_text(text) public.gin_trgm_ops);
COMMENT ON INDEX club.log_lines_text_gdpr_mention IS 'pgdpr mention search af148c7db95a1cee4c7b633d0f4206cd';
CREATE INDEX notes_customer ON club.notes USING btree (club_id, customer_id, written_at);
CREATE INDEX notes_text_gdpr_mention ON club.notes USING gin (gdpr.mention_text(text) public.gin_trgm_ops);
COMMENT ON INDEX club.notes_text_gdpr_mention IS 'pgdpr mention search af148c7db95a1cee4c7b633d0f4206cd';
CREATE INDEX reservations_customer ON club.reservations USING btree (club_id, customer_id, starts_at);
CREATE UNIQUE INDEX staff_id ON club.staff USING btree (id);
CREATE INDEX table_bookings_customer ON club.table_bookings USING btree (club_id, customer_id, booked_for);
CREATE INDEX table_bookings_note_gdpr_mention ON club.table_bookings USING gin (gdpr.mention_text(note) public.gin_trgm_ops);
COMMENT ON INDEX club.table_bookings_note_gdpr_mention IS 'pgdpr mention search af148c7db95a1cee4c7b633d0f4206cd';
CREATE INDEX audit_event_action ON gdpr.audit_event USING btree (action, at);
CREATE INDEX audit_event_subject ON gdpr.audit_event USING btree (kind, subject_key, at);
CREATE INDEX audit_note_subject ON gdpr.audit_note USING btree (kind, tenant, subject_key);
CREATE INDEX consent_withdrawal_subject ON gdpr.consent_withdrawal USING btree (kind, tenant, subject_key, consent_type);
CREATE INDEX deferred_erasure_pending ON gdpr.deferred_erasure USING btree (table_schema, table_name, next_due_at) WHERE (done_at IS NULL);
CREATE INDEX dsr_request_open ON gdpr.dsr_request USING btree (tenant, due_at) WHERE (status = 'open'::text);
CREATE INDEX dsr_request_subject ON gdpr.dsr_request USING btree (kind, tenant, subject_key);
CREATE INDEX erasure_ledger_at ON gdpr.erasure_ledger USING btree (erased_at);
CREATE INDEX erasure_ledger_subject ON gdpr.erasure_ledger USING btree (kind, tenant, subject_key);
CREATE INDEX legal_hold_subject ON gdpr.legal_hold USING btree (kind, tenant, subject_key);
CREATE INDEX outbox_subject ON gdpr.outbox USING btree (kind, tenant, subject_key);
CREATE INDEX outbox_unsent ON gdpr.outbox USING btree (tenant, id) WHERE (sent_at IS NULL);
CREATE INDEX processing_restriction_active ON gdpr.processing_restriction USING btree (kind, tenant, subject_key) WHERE (lifted_at IS NULL);
CREATE INDEX rectification_subject ON gdpr.rectification USING btree (kind, tenant, subject_key, changed_at);
CREATE INDEX rule_due ON gdpr.rule USING btree (next_slot) WHERE (enabled AND (deleted_at IS NULL));
CREATE INDEX rule_run_unfinished ON gdpr.rule_run USING btree (id) WHERE (finished_at IS NULL);
CREATE INDEX rule_tenant ON gdpr.rule USING btree (tenant, id);
CREATE INDEX staff_group_tenant ON gdpr.staff_group USING btree (tenant);
CREATE INDEX subject_note_ref ON gdpr.subject_note USING btree (topic, ref_id);
CREATE INDEX subject_note_subject ON gdpr.subject_note USING btree (kind, tenant, subject_key);
CREATE INDEX support_grant_tenant ON gdpr.support_grant USING btree (tenant, expires_at) WHERE (revoked_at IS NULL);
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.account_movements FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'account_movements', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.activities FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'activities', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.addresses FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'addresses', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.class_enrollments FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'class_enrollments', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.classes FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'classes', 'staff', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.clubs FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'clubs', '', 'id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.consents FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'consents', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.custom_field_values FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'custom_field_values', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.custom_fields FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'custom_fields', '', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.customers FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'customers', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.log_lines FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'log_lines', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.notes FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'notes', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.reservations FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'reservations', 'customers', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.resources FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'resources', '', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.staff FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'staff', 'staff', 'club_id');
CREATE TRIGGER write_through INSTEAD OF INSERT OR DELETE OR UPDATE ON club_app.table_bookings FOR EACH ROW EXECUTE FUNCTION gdpr.view_write('club', 'table_bookings', 'customers', 'club_id');
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.catalog_column FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.catalog_column ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.catalog_table FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.catalog_table ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.group_right FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.group_right ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.not_personal FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.not_personal ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.staff_group FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.staff_group ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.subject_kind FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.subject_kind ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.support_grant FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.support_grant ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON gdpr.tenant_table FOR EACH ROW EXECUTE FUNCTION gdpr.audit_table_change();
ALTER TABLE gdpr.tenant_table ENABLE ALWAYS TRIGGER audit_change;
CREATE TRIGGER audit_event_append_only BEFORE DELETE OR UPDATE ON gdpr.audit_event FOR EACH ROW EXECUTE FUNCTION gdpr.refuse_audit_change();
ALTER TABLE gdpr.audit_event ENABLE ALWAYS TRIGGER audit_event_append_only;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON gdpr.audit_event FOR EACH STATEMENT EXECUTE FUNCTION gdpr.refuse_audit_change();
ALTER TABLE gdpr.audit_event ENABLE ALWAYS TRIGGER audit_event_no_truncate;
CREATE TRIGGER catalog_column_requires_basis BEFORE INSERT OR UPDATE ON gdpr.catalog_column FOR EACH ROW EXECUTE FUNCTION gdpr.require_column_basis();
CREATE TRIGGER erasure_ledger_forget_notes AFTER INSERT ON gdpr.erasure_ledger REFERENCING NEW TABLE AS erased FOR EACH STATEMENT EXECUTE FUNCTION gdpr.forget_subject_notes();
CREATE TRIGGER erasure_ledger_forget_rectifications AFTER INSERT ON gdpr.erasure_ledger REFERENCING NEW TABLE AS erased FOR EACH STATEMENT EXECUTE FUNCTION gdpr.forget_rectifications();
CREATE TRIGGER outbox_respects_restriction BEFORE INSERT ON gdpr.outbox FOR EACH ROW EXECUTE FUNCTION gdpr.outbox_respects_restriction();
ALTER TABLE ONLY club.account_movements
    ADD CONSTRAINT account_movements_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.activities
    ADD CONSTRAINT activities_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.addresses
    ADD CONSTRAINT addresses_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.class_enrollments
    ADD CONSTRAINT class_enrollments_club_id_class_id_fkey FOREIGN KEY (club_id, class_id) REFERENCES club.classes(club_id, id);
ALTER TABLE ONLY club.class_enrollments
    ADD CONSTRAINT class_enrollments_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.classes
    ADD CONSTRAINT classes_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.classes
    ADD CONSTRAINT classes_club_id_instructor_id_fkey FOREIGN KEY (club_id, instructor_id) REFERENCES club.staff(club_id, id);
ALTER TABLE ONLY club.consents
    ADD CONSTRAINT consents_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.custom_field_values
    ADD CONSTRAINT custom_field_values_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.custom_field_values
    ADD CONSTRAINT custom_field_values_club_id_field_id_is_sensitive_fkey FOREIGN KEY (club_id, field_id, is_sensitive) REFERENCES club.custom_fields(club_id, id, is_sensitive) ON UPDATE CASCADE;
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_address_id_fkey FOREIGN KEY (club_id, address_id) REFERENCES club.addresses(club_id, id);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.log_lines
    ADD CONSTRAINT log_lines_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.log_lines
    ADD CONSTRAINT log_lines_club_id_staff_id_fkey FOREIGN KEY (club_id, staff_id) REFERENCES club.staff(club_id, id);
ALTER TABLE ONLY club.notes
    ADD CONSTRAINT notes_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.notes
    ADD CONSTRAINT notes_club_id_staff_id_fkey FOREIGN KEY (club_id, staff_id) REFERENCES club.staff(club_id, id);
ALTER TABLE ONLY club.reservations
    ADD CONSTRAINT reservations_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.reservations
    ADD CONSTRAINT reservations_club_id_resource_id_fkey FOREIGN KEY (club_id, resource_id) REFERENCES club.resources(club_id, id);
ALTER TABLE ONLY club.resources
    ADD CONSTRAINT resources_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.table_bookings
    ADD CONSTRAINT table_bookings_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY gdpr.audit_note
    ADD CONSTRAINT audit_note_event_id_fkey FOREIGN KEY (event_id) REFERENCES gdpr.audit_event(id);
ALTER TABLE ONLY gdpr.catalog_column
    ADD CONSTRAINT catalog_column_table_schema_table_name_fkey FOREIGN KEY (table_schema, table_name) REFERENCES gdpr.catalog_table(table_schema, table_name) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.catalog_table
    ADD CONSTRAINT catalog_table_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.subject_kind(kind) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.catalog_table
    ADD CONSTRAINT catalog_table_parent_schema_parent_name_fkey FOREIGN KEY (parent_schema, parent_name) REFERENCES gdpr.catalog_table(table_schema, table_name) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.consent_cover
    ADD CONSTRAINT consent_cover_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.consent_table(kind) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.consent_table
    ADD CONSTRAINT consent_table_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.subject_kind(kind) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.consent_table
    ADD CONSTRAINT consent_table_table_schema_table_name_fkey FOREIGN KEY (table_schema, table_name) REFERENCES gdpr.catalog_table(table_schema, table_name) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.consent_withdrawal
    ADD CONSTRAINT consent_withdrawal_request_id_fkey FOREIGN KEY (request_id) REFERENCES gdpr.dsr_request(id);
ALTER TABLE ONLY gdpr.dsr_request_event
    ADD CONSTRAINT dsr_request_event_request_id_fkey FOREIGN KEY (request_id) REFERENCES gdpr.dsr_request(id);
ALTER TABLE ONLY gdpr.erasure_proof
    ADD CONSTRAINT erasure_proof_scope_fkey FOREIGN KEY (scope) REFERENCES gdpr.erasure_proof_scope(digest);
ALTER TABLE ONLY gdpr.group_right
    ADD CONSTRAINT group_right_group_role_fkey FOREIGN KEY (group_role) REFERENCES gdpr.staff_group(group_role) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.insight_statement
    ADD CONSTRAINT insight_statement_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.subject_kind(kind) ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.legal_hold
    ADD CONSTRAINT legal_hold_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.subject_kind(kind) ON UPDATE CASCADE;
ALTER TABLE ONLY gdpr.outbox
    ADD CONSTRAINT outbox_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES gdpr.rule(id);
ALTER TABLE ONLY gdpr.outbox
    ADD CONSTRAINT outbox_run_id_fkey FOREIGN KEY (run_id) REFERENCES gdpr.rule_run(id);
ALTER TABLE ONLY gdpr.processing_restriction
    ADD CONSTRAINT processing_restriction_request_id_fkey FOREIGN KEY (request_id) REFERENCES gdpr.dsr_request(id);
ALTER TABLE ONLY gdpr.rule_run
    ADD CONSTRAINT rule_run_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES gdpr.rule(id);
ALTER TABLE ONLY gdpr.rule_subject
    ADD CONSTRAINT rule_subject_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES gdpr.rule(id);
ALTER TABLE ONLY gdpr.subject_birth_date
    ADD CONSTRAINT subject_birth_date_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.subject_kind(kind) ON DELETE CASCADE;
ALTER TABLE club.account_movements ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.addresses ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.class_enrollments ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.classes ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.clubs ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.custom_field_values ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.custom_fields ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.log_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY pgdpr_support ON club.account_movements FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.activities FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.addresses FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.class_enrollments FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.classes FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.clubs FOR SELECT TO pgdpr_view_owner USING (((id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.consents FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.custom_field_values FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.custom_fields FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.customers FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.log_lines FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.notes FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.reservations FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.resources FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.staff FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_support ON club.table_bookings FOR SELECT TO pgdpr_view_owner USING (((club_id >= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s
 LIMIT 1)) AND (club_id <= ( SELECT s.s
   FROM unnest((gdpr.support_tenants(CURRENT_USER))::bigint[]) s(s)
  ORDER BY s.s DESC
 LIMIT 1)) AND (club_id = ANY (( SELECT (gdpr.support_tenants(CURRENT_USER))::bigint[] AS support_tenants)::bigint[]))));
CREATE POLICY pgdpr_tenant ON club.account_movements USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.activities USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.addresses USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.class_enrollments USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.classes USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('staff'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.clubs USING ((id = ( SELECT
        CASE
            WHEN (gdpr.register_access(NULL::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.consents USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.custom_field_values USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.custom_fields USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access(NULL::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.customers USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.log_lines USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.notes USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.reservations USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.resources USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access(NULL::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.staff USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('staff'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
CREATE POLICY pgdpr_tenant ON club.table_bookings USING ((club_id = ( SELECT
        CASE
            WHEN (gdpr.register_access('customers'::text) <> 'none'::text) THEN (gdpr.current_tenant())::bigint
            ELSE NULL::bigint
        END AS "case")));
ALTER TABLE club.reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.staff ENABLE ROW LEVEL SECURITY;
ALTER TABLE club.table_bookings ENABLE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA club TO pgdpr_owner;
GRANT USAGE ON SCHEMA club TO pgdpr_view_owner;
GRANT USAGE ON SCHEMA club_app TO pgdpr_staff;
GRANT USAGE ON SCHEMA club_app TO pgdpr_support;
GRANT USAGE ON SCHEMA club_app TO pgdpr_admin;
GRANT ALL ON SCHEMA club_app TO pgdpr_view_owner;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_erasure;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_admin;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_staff;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_support;
REVOKE ALL ON FUNCTION gdpr.abort_run(p_run_id bigint, p_sqlstate text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.abort_run(p_run_id bigint, p_sqlstate text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.action_anonymise(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.action_queue_message(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.active_legal_holds(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.active_legal_holds(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.active_legal_holds(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.active_legal_holds(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.active_restrictions(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.active_restrictions(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.active_restrictions(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.add_staff(p_tenant text, p_login_role name, p_groups name[]) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.add_staff(p_tenant text, p_login_role name, p_groups name[]) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.age_band_sql(p_kind text, p_alias text, p_on_ref text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.analyze_erased_tables() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.analyze_erased_tables() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text, p_tenant text, p_force boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text, p_tenant text, p_force boolean) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text, p_tenant text, p_force boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text, p_rule_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text, p_rule_id bigint) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text, p_rule_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.audit_table_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.caller_register_kinds() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.caller_register_kinds() TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.caller_register_kinds() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.cancel_run(p_run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.cancel_run(p_run_id bigint) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.cancel_run(p_run_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.catalog_changes_since(p_event_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.catalog_changes_since(p_event_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.catalog_check(p_schemas name[]) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.catalog_check(p_schemas name[]) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.catalog_discover(p_schema name, p_subject regclass) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.catalog_discover(p_schema name, p_subject regclass) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.catalog_known_column(p_table oid, p_column name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.catalog_known_column(p_table oid, p_column name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.change_rule(p_rule_id bigint, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_time_zone text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.change_rule(p_rule_id bigint, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_time_zone text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.change_rule(p_rule_id bigint, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_time_zone text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.check_erasure_plan() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.check_erasure_plan() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.check_rights_probe(p_role name, p_role_oid oid) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.check_rights_probe(p_role name, p_role_oid oid) TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.check_time_zone(p_time_zone text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.check_time_zone(p_time_zone text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.check_time_zone(p_time_zone text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.check_time_zone(p_time_zone text) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text, p_note text, p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text, p_note text, p_now timestamp with time zone) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text, p_note text, p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.column_needs_basis(p_category text, p_sensitive boolean, p_sensitive_when name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.column_needs_basis(p_category text, p_sensitive boolean, p_sensitive_when name) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.column_needs_basis(p_category text, p_sensitive boolean, p_sensitive_when name) TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.compliance_record(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.compliance_record(p_tenant text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.compliance_record(p_tenant text) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.compliance_table_security(p_table regclass) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.compliance_table_security(p_table regclass) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.compliance_table_security(p_table regclass) TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.condition_club_birthday_today(p_alias text, p_params jsonb, p_params_ref text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.condition_club_can_be_anonymised(p_alias text, p_params jsonb, p_params_ref text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.consent_withdrawn_for_template(p_kind text, p_tenant text, p_subject_key text, p_template text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.create_rule(p_tenant text, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_kind text, p_time_zone text, p_enabled boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.create_rule(p_tenant text, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_kind text, p_time_zone text, p_enabled boolean) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.create_rule(p_tenant text, p_description text, p_schedule text, p_frequency text, p_conditions jsonb, p_actions jsonb, p_max_subjects_per_run integer, p_kind text, p_time_zone text, p_enabled boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.create_staff_group(p_tenant text, p_group name, p_description text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.create_staff_group(p_tenant text, p_group name, p_description text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer, p_what text, p_names text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer, p_what text, p_names text[]) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer, p_what text, p_names text[]) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer, p_what text, p_names text[]) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.declare_birth_date(p_kind text, p_column name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_birth_date(p_kind text, p_column name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_column_basis(p_schema name, p_table name, p_column name, p_basis text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_column_basis(p_schema name, p_table name, p_column name, p_basis text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_consent_cover(p_kind text, p_consent_type text, p_erase_columns text[], p_stop_templates text[], p_description text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_consent_cover(p_kind text, p_consent_type text, p_erase_columns text[], p_stop_templates text[], p_description text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_consent_table(p_kind text, p_schema name, p_table name, p_type_column name, p_withdrawn_column name, p_given_column name, p_guardian_column name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_consent_table(p_kind text, p_schema name, p_table name, p_type_column name, p_withdrawn_column name, p_given_column name, p_guardian_column name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_not_personal(p_schema name, p_table name, p_column name, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_not_personal(p_schema name, p_table name, p_column name, p_reason text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_tenant(p_schema name, p_table name, p_key name, p_name_column name, p_time_zone_column name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_tenant(p_schema name, p_table name, p_key name, p_name_column name, p_time_zone_column name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.delete_rule(p_rule_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.delete_rule(p_rule_id bigint) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.delete_rule(p_rule_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.disable_rule(p_rule_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.disable_rule(p_rule_id bigint) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.disable_rule(p_rule_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.enable_rule(p_rule_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.enable_rule(p_rule_id bigint) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.enable_rule(p_rule_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.ensure_erasure_guards(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erase_batch(p_kind text, p_tenant text, p_keys text[], p_reason text, p_rule_id bigint, p_category text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erase_mentions(p_kind text, p_tenant text, p_mentions jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erase_set_list(p_schema name, p_table name, p_retained boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erased_rows_sql(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erasure_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erasure_guard_query(p_schema name, p_table name, p_event text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erasure_guard_targets(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.erasure_plan_problems() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.erasure_plan_problems() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.erasure_stale_statistics() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.erasure_stale_statistics() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text, p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text, p_now timestamp with time zone) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text, p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.fk_edges() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.fk_edges() TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.fk_edges() TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.forget_rectifications() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.forget_subject(p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.forget_subject(p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.forget_subject_notes() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamp with time zone) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.grant_support_access(p_tenant text, p_until timestamp with time zone) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.guess_subject_table(p_schema name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.guess_subject_table(p_schema name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.guess_table_key(p_table oid, OUT key_column name, OUT tenant_column name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.guess_table_key(p_table oid, OUT key_column name, OUT tenant_column name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.hmac_sha256(p_message text, p_key bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.insight_collect(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.insight_columns(p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.insight_columns(p_kind text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.insight_columns(p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.insight_fingerprint(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.insight_report(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.insight_report(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.insight_report(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.insight_rows(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text, p_provided_only boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.insight_rows(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text, p_provided_only boolean) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.insight_rows(p_kind text, p_subject_key text, p_tenant text, p_purpose text, p_format text, p_provided_only boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.insight_sections(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.insight_statements(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.insight_unmasked(p_report jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.install_erasure_guards(p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.install_erasure_guards(p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.install_mention_indexes() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.install_mention_indexes() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.install_salt() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.kept_columns(p_kind text, OUT quasi_identifiers name[], OUT linkable name[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.keyed_hash(p_value text, p_salt bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.kind_dependents(p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.kind_dependents(p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.known_tenant(p_tenant text, p_exact boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.known_tenant(p_tenant text, p_exact boolean) TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ledger_export(p_since timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.ledger_export(p_since timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.ledger_signature(p_kind text, p_tenant text, p_subject_key text, p_erased_at timestamp with time zone, p_actor text, p_rule_id bigint, p_reason_category text, p_salt bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.list_requests(p_tenant text, p_overdue boolean, p_now timestamp with time zone, p_subject_key text, p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.list_requests(p_tenant text, p_overdue boolean, p_now timestamp with time zone, p_subject_key text, p_kind text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.list_requests(p_tenant text, p_overdue boolean, p_now timestamp with time zone, p_subject_key text, p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.list_rules(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.list_rules(p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.list_rules(p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.lock_subject(p_kind text, p_tenant text, p_subject_key text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.lock_subjects(p_kind text, p_tenant text, p_keys text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.mention_columns() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.mention_index_plan(p_concurrently boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.mention_index_plan(p_concurrently boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.minor_figures(p_tenant text, p_on date) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.normalize_schedule(p_schedule text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.normalize_schedule(p_schedule text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.normalize_schedule(p_schedule text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.normalize_schedule(p_schedule text) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text, p_note text, p_received_at timestamp with time zone, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text, p_note text, p_received_at timestamp with time zone, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text, p_note text, p_received_at timestamp with time zone, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.outbox_respects_restriction() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.pending_deferred_erasures(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.pending_deferred_erasures(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.pending_deferred_erasures(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.pending_deferred_erasures(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.personal_column_candidates(p_table oid, p_linked boolean, p_include_known boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.personal_column_candidates(p_table oid, p_linked boolean, p_include_known boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamp with time zone, p_sample integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamp with time zone, p_sample integer) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamp with time zone, p_sample integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.process_deferred_erasures(p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.process_deferred_erasures(p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.proof_places(p_kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.proof_run(p_kind text, p_tenant text, p_keys text[], p_patterns text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.proof_scope(p_kind text, OUT digest text, OUT places jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.proof_structure(p_kind text, p_tenant text, p_key text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.protected_tables() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.protected_tables() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.prune_catalog(p_kinds text[], p_tables text[], p_columns text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.prune_catalog(p_kinds text[], p_tables text[], p_columns text[]) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text, p_guardian text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text, p_guardian text, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text, p_guardian text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.record_rectification(p_schema name, p_table name, p_kind text, p_tenant text, p_subject_key text, p_columns name[], p_sensitive name[], p_old jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.redact_note(p_text text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.redact_note(p_text text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.redact_note(p_text text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.redact_note(p_text text) TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.refresh_views() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.refresh_views() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.register_access_of(p_role name, p_area text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.register_access_of(p_role name, p_area text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.register_access_of(p_role name, p_area text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.register_access_of(p_role name, p_area text) TO pgdpr_support;
REVOKE ALL ON FUNCTION gdpr.register_action(p_name text, p_function regproc, p_description text, p_erases boolean, p_params jsonb, p_subject_table text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.register_action(p_name text, p_function regproc, p_description text, p_erases boolean, p_params jsonb, p_subject_table text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.register_condition(p_name text, p_function regproc, p_description text, p_params jsonb, p_subject_table text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.register_condition(p_name text, p_function regproc, p_description text, p_params jsonb, p_subject_table text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.request_answering_actions(p_type text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.request_answering_actions(p_type text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.request_answering_actions(p_type text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.request_clock(p_now timestamp with time zone) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.request_due(p_received_at timestamp with time zone, p_tenant text, p_months integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.request_figures(p_tenant text, p_now timestamp with time zone) FROM PUBLIC;
GRANT SELECT ON TABLE gdpr.dsr_request TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.request_for_change(p_request_id bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.request_subject(p_kind text, p_subject_key text, p_tenant text, OUT subject_key text, OUT tenant text, OUT anonymized boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.require_column_basis() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.require_erasure_right() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.require_one_subject(p_kind text, p_subject_key text, p_tenant text, p_found bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.require_register_access(p_kind text, p_level text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.require_request_of(p_request_id bigint, p_kind text, p_tenant text, p_subject_key text, p_key_as_given text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text, p_note text, p_until timestamp with time zone, p_request_id bigint, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text, p_note text, p_until timestamp with time zone, p_request_id bigint, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text, p_note text, p_until timestamp with time zone, p_request_id bigint, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamp with time zone) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.retain_due_expr(p_schema name, p_table name, p_alias text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.retention_end(p_local timestamp without time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.retention_end(p_local timestamp without time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.retention_end(p_at timestamp with time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.retention_end(p_at timestamp with time zone, p_zone text, p_first_month integer, p_period interval, p_from_year_end boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.revoke_support_access(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.revoke_support_access(p_tenant text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.revoke_support_access(p_tenant text) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.rights_overview(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rights_overview(p_tenant text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.rights_overview(p_tenant text) TO pgdpr_staff;
GRANT SELECT ON TABLE gdpr.rule TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_caller_may_erase() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_caller_may_erase() TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_caller_may_erase() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_check(p_rule gdpr.rule) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_check(p_rule gdpr.rule) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_check(p_rule gdpr.rule) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_eligibility_sql(p_rule gdpr.rule, p_mode text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_eligibility_sql(p_rule gdpr.rule, p_mode text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_eligibility_sql(p_rule gdpr.rule, p_mode text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_erases(p_actions jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_erases(p_actions jsonb) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_erases(p_actions jsonb) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_for_caller(p_rule_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_for_caller(p_rule_id bigint) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_for_caller(p_rule_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_frequency_days(p_frequency text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_frequency_days(p_frequency text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_frequency_days(p_frequency text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_history(p_rule_id bigint, p_tenant text, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_history(p_rule_id bigint, p_tenant text, p_limit integer) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.rule_history(p_rule_id bigint, p_tenant text, p_limit integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_normalize_items(p_items jsonb, p_what text, p_subject_table text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_normalize_items(p_items jsonb, p_what text, p_subject_table text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_normalize_items(p_items jsonb, p_what text, p_subject_table text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_now(p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_now(p_now timestamp with time zone) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_now(p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_require_erasure_right(p_actions jsonb, p_doing text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_require_erasure_right(p_actions jsonb, p_doing text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_require_erasure_right(p_actions jsonb, p_doing text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_require_register_access(p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_require_register_access(p_kind text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_require_register_access(p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_role_may_erase(p_role name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_role_may_erase(p_role name) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_role_may_erase(p_role name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_role_register_access(p_role name, p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_role_register_access(p_role name, p_kind text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_role_register_access(p_role name, p_kind text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_run_audit(p_run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_run_audit(p_run_id bigint) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_run_audit(p_run_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_run_driven(p_run_id bigint, p_by_me boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_run_driven(p_run_id bigint, p_by_me boolean) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_run_driven(p_run_id bigint, p_by_me boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_run_hold(p_run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_run_hold(p_run_id bigint) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_run_hold(p_run_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_run_release(p_run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_run_release(p_run_id bigint) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_run_release(p_run_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_run_stop(p_run_id bigint, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_run_stop(p_run_id bigint, p_reason text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_run_stop(p_run_id bigint, p_reason text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_run_summary(p_run_id bigint, p_busy boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_run_summary(p_run_id bigint, p_busy boolean) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_run_summary(p_run_id bigint, p_busy boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_staff_max_per_run() FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_staff_max_per_run() TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_staff_max_per_run() TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.rule_trusted_function(p_function text, p_args text, p_what text, p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.rule_trusted_function(p_function text, p_args text, p_what text, p_name text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.rule_trusted_function(p_function text, p_args text, p_what text, p_name text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamp with time zone, p_batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamp with time zone, p_batch_size integer) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamp with time zone, p_batch_size integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.safety_club_customer(p_alias text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.sample_personal_content(p_table regclass, p_columns name[], p_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.sample_personal_content(p_table regclass, p_columns name[], p_rows integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamp with time zone, p_direction integer) TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) TO pgdpr_support;
REVOKE ALL ON FUNCTION gdpr.sensitive_disclosures(p_kind text, p_subject_key text, p_tenant text, p_from timestamp with time zone, p_to timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.sensitive_disclosures(p_kind text, p_subject_key text, p_tenant text, p_from timestamp with time zone, p_to timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text, p_dpo_name text, p_dpo_contact text, p_transfers text, p_measures text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text, p_dpo_name text, p_dpo_contact text, p_transfers text, p_measures text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text, p_dpo_name text, p_dpo_contact text, p_transfers text, p_measures text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.set_financial_year(p_tenant text, p_first_month integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.set_financial_year(p_tenant text, p_first_month integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text, p_until timestamp with time zone, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.set_right(p_group name, p_area text, p_right text, p_value text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.set_right(p_group name, p_area text, p_right text, p_value text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.show_rule(p_rule_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.show_rule(p_rule_id bigint) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.show_rule(p_rule_id bigint) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamp with time zone) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.start_run(p_rule gdpr.rule, p_slot timestamp with time zone, p_trigger text, p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.start_run(p_rule gdpr.rule, p_slot timestamp with time zone, p_trigger text, p_now timestamp with time zone) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.start_run(p_rule gdpr.rule, p_slot timestamp with time zone, p_trigger text, p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.subject_age_band(p_kind text, p_tenant text, p_subject_key text, p_on date) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.subject_age_band(p_kind text, p_tenant text, p_subject_key text, p_on date) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.subject_erased(p_kind text, p_tenant text, p_subject_key text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.subject_notes(p_topics text[], p_ref_id bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.subject_reach(p_root oid) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.subject_reach(p_root oid) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.subject_rectifications(p_kind text, p_tenant text, p_subject_key text, p_access text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text, p_at timestamp with time zone) TO pgdpr_view_owner;
REVOKE ALL ON FUNCTION gdpr.subject_source(p_schema name, p_table name, p_alias text, OUT from_clause text, OUT where_clause text, OUT key_expr text, OUT tenant_expr text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.subject_types(p_kind text, OUT key_type text, OUT tenant_type text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.support_tenants(p_role name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.support_tenants(p_role name) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.support_tenants(p_role name) TO pgdpr_admin;
GRANT ALL ON FUNCTION gdpr.support_tenants(p_role name) TO pgdpr_support;
REVOKE ALL ON FUNCTION gdpr.tenant_attribute(p_tenant text, p_attribute text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tenant_attribute(p_tenant text, p_attribute text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.tenant_attribute(p_tenant text, p_attribute text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tenant_financial_year_start(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tenant_financial_year_start(p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tenant_financial_year_start_sql(p_tenant_expr text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.tenant_name(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tenant_name(p_tenant text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.tenant_name(p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tenant_time_zone(p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tenant_time_zone(p_tenant text) TO pgdpr_owner;
GRANT ALL ON FUNCTION gdpr.tenant_time_zone(p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tenant_time_zone_sql(p_tenant_expr text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE gdpr.tick(IN p_now timestamp with time zone, IN p_batch_size integer) FROM PUBLIC;
GRANT ALL ON PROCEDURE gdpr.tick(IN p_now timestamp with time zone, IN p_batch_size integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tick_claim(p_now timestamp with time zone, p_seen bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tick_claim(p_now timestamp with time zone, p_seen bigint[]) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tick_deferred_erasures(p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tick_deferred_erasures(p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.tick_heartbeat(p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.tick_heartbeat(p_now timestamp with time zone) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_erasure;
GRANT ALL ON FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.view_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text, p_note text, p_request_id bigint, p_tenant text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text, p_note text, p_request_id bigint, p_tenant text) TO pgdpr_staff;
GRANT ALL ON FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text, p_note text, p_request_id bigint, p_tenant text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.write_subject_note(p_kind text, p_tenant text, p_subject_key text, p_topic text, p_ref_id bigint, p_note text) FROM PUBLIC;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.account_movements TO pgdpr_owner;
GRANT SELECT ON TABLE club.account_movements TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.activities TO pgdpr_owner;
GRANT SELECT ON TABLE club.activities TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.addresses TO pgdpr_owner;
GRANT SELECT ON TABLE club.addresses TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.class_enrollments TO pgdpr_owner;
GRANT SELECT ON TABLE club.class_enrollments TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.classes TO pgdpr_owner;
GRANT SELECT ON TABLE club.classes TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.clubs TO pgdpr_owner;
GRANT SELECT ON TABLE club.clubs TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.consents TO pgdpr_owner;
GRANT SELECT ON TABLE club.consents TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.custom_field_values TO pgdpr_owner;
GRANT SELECT ON TABLE club.custom_field_values TO pgdpr_view_owner;
GRANT SELECT ON TABLE club.custom_fields TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.custom_fields TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.customers TO pgdpr_owner;
GRANT SELECT ON TABLE club.customers TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.log_lines TO pgdpr_owner;
GRANT SELECT ON TABLE club.log_lines TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.notes TO pgdpr_owner;
GRANT SELECT ON TABLE club.notes TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.reservations TO pgdpr_owner;
GRANT SELECT ON TABLE club.reservations TO pgdpr_view_owner;
GRANT SELECT ON TABLE club.resources TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.resources TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.staff TO pgdpr_owner;
GRANT SELECT ON TABLE club.staff TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,TRIGGER,UPDATE ON TABLE club.table_bookings TO pgdpr_owner;
GRANT SELECT ON TABLE club.table_bookings TO pgdpr_view_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.account_movements TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.account_movements TO pgdpr_support;
GRANT SELECT ON TABLE club_app.account_movements TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.activities TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.activities TO pgdpr_support;
GRANT SELECT ON TABLE club_app.activities TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.addresses TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.addresses TO pgdpr_support;
GRANT SELECT ON TABLE club_app.addresses TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.class_enrollments TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.class_enrollments TO pgdpr_support;
GRANT SELECT ON TABLE club_app.class_enrollments TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.classes TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.classes TO pgdpr_support;
GRANT SELECT ON TABLE club_app.classes TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.clubs TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.clubs TO pgdpr_support;
GRANT SELECT ON TABLE club_app.clubs TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.consents TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.consents TO pgdpr_support;
GRANT SELECT ON TABLE club_app.consents TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.custom_field_values TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.custom_field_values TO pgdpr_support;
GRANT SELECT ON TABLE club_app.custom_field_values TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.custom_fields TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.custom_fields TO pgdpr_support;
GRANT SELECT ON TABLE club_app.custom_fields TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.customers TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.customers TO pgdpr_support;
GRANT SELECT ON TABLE club_app.customers TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.log_lines TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.log_lines TO pgdpr_support;
GRANT SELECT ON TABLE club_app.log_lines TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.notes TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.notes TO pgdpr_support;
GRANT SELECT ON TABLE club_app.notes TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.reservations TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.reservations TO pgdpr_support;
GRANT SELECT ON TABLE club_app.reservations TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.resources TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.resources TO pgdpr_support;
GRANT SELECT ON TABLE club_app.resources TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.staff TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.staff TO pgdpr_support;
GRANT SELECT ON TABLE club_app.staff TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club_app.table_bookings TO pgdpr_staff;
GRANT SELECT ON TABLE club_app.table_bookings TO pgdpr_support;
GRANT SELECT ON TABLE club_app.table_bookings TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.audit_event TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.catalog_column TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.catalog_table TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.column_legal_basis TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.consent_cover TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.consent_table TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.consent_withdrawal TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.controller_record TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.dsr_request_event TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.group_right TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.not_personal TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.outbox TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.processing_restriction TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.processing_restriction TO pgdpr_view_owner;
GRANT SELECT ON TABLE gdpr.rectification TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.rule_action TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.rule_condition TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.rule_run TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.rule_safety TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.rule_subject TO pgdpr_admin;
GRANT SELECT,INSERT,UPDATE ON TABLE gdpr.staff_group TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.subject_birth_date TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.subject_kind TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.support_grant TO pgdpr_admin;
GRANT SELECT ON TABLE gdpr.ticker TO pgdpr_admin;
