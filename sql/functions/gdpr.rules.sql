-- Trigger rules (docs/rules.md "automatic anonymisation", docs/erasure.md "deactivate anonymisation";
-- GDPR Art. 5(1)(e) storage limitation): rules as rows per tenant (club), with
-- named conditions and actions from the registries (gdpr.conditions.sql,
-- gdpr.actions.sql), a schedule (gdpr.schedule.sql) and run history. Every change
-- is audited; every function acts on the caller's own club only (admins: any), and
-- only on a register the caller has access to (gdpr.rule_require_register_access).
-- A rule runs with its author's rights (gdpr.rule_author_refusal); a run stops when
-- cancelled and is never resumed then (gdpr.cancel_run, gdpr.tick_claim).
--
-- The eligibility of subjects is ONE set-based query built here from the catalog:
--   the subject table of the rule's tenant
--   AND <each condition's predicate>            (registry: configurable per rule)
--   AND <frequency: not fired for this subject> (per rule)
--   AND <built-in safety>                       (never configurable per rule):
--       not already anonymised (catalog), no active legal hold (gdpr.legal_hold),
--       and the subject table's registered safety (gdpr.rule_safety, e.g. debt).
-- Parameters: $1 tenant, $2 the run's "now", $3 the conditions' parameters (jsonb
-- array), $4 time zone, $5 keyset cursor, $6 limit, $7 rule id.

-- "once" / "once per subject" -> NULL (at most once per subject); "every N days",
-- "N days" or "N" -> N.
CREATE OR REPLACE FUNCTION gdpr.rule_frequency_days(p_frequency text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- Who may erase through a rule: an erasing action (registry
-- flag rule_action.erases) runs inside SECURITY DEFINER code as pgdpr_owner, so the
-- EXECUTE grant of gdpr.anonymize_many (pgdpr_erasure, pgdpr_admin) is never checked
-- there. The rule functions check it themselves: a superuser, an admin or a member of
-- pgdpr_erasure. Asked of the caller AND of the rule's author (gdpr.rule.author): a rule
-- runs with its author's rights, so the ticker (an admin) erases only for an author who
-- may. Membership is pg_catalog knowledge: anyone may ask it of any role. A role that
-- no longer exists has no right.
CREATE OR REPLACE FUNCTION gdpr.rule_role_may_erase(p_role name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE((SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER')
                            OR (EXISTS (SELECT FROM pg_catalog.pg_roles e WHERE e.rolname = 'pgdpr_erasure')
                                AND pg_catalog.pg_has_role(r.oid, 'pgdpr_erasure', 'MEMBER'))
                       FROM pg_catalog.pg_roles r WHERE r.rolname = p_role), false)
$$;

CREATE OR REPLACE FUNCTION gdpr.rule_caller_may_erase() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT gdpr.rule_role_may_erase(gdpr.caller())
$$;

-- Register access (GDPR Art. 32, 25(2); docs/rights.md): a caller whose register access
-- to the area of a subject kind is 'none' sees no row of it through the views, so no
-- rule or legal-hold function may read or act on that register for them either (no
-- keys, no counts that tell debt, bookings, activity or birthdays, no messages, no
-- holds, no row locks). One answer: gdpr.register_access_of (admins: every area).
CREATE OR REPLACE FUNCTION gdpr.rule_role_register_access(p_role name, p_kind text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = p_role
                  AND (r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER'))) THEN
        RETURN 'write';  -- a superuser or admin acts on every club and area
    END IF;
    RETURN gdpr.register_access_of(p_role, (SELECT k.area FROM gdpr.subject_kind k WHERE k.kind = p_kind));
END $$;

CREATE OR REPLACE FUNCTION gdpr.rule_require_register_access(p_kind text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF gdpr.rule_role_register_access(gdpr.caller(), p_kind) = 'none' THEN
        RAISE EXCEPTION 'role % has no access to the % register', gdpr.caller(),
            COALESCE((SELECT k.area FROM gdpr.subject_kind k WHERE k.kind = p_kind), p_kind)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

-- The subject kinds whose register the caller may read (admins: all): list functions
-- show only rules, runs and holds of these.
CREATE OR REPLACE FUNCTION gdpr.caller_register_kinds() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(pg_catalog.array_agg(k.kind), '{}') FROM gdpr.subject_kind k
     WHERE gdpr.rule_role_register_access(gdpr.caller(), k.kind) <> 'none'
$$;

-- Does a rule's action list hold an erasing action?
CREATE OR REPLACE FUNCTION gdpr.rule_erases(p_actions jsonb) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM jsonb_array_elements(COALESCE(p_actions, '[]')) a
                     JOIN gdpr.rule_action r ON r.name = a ->> 'name'
                    WHERE r.erases)
$$;

-- Refuse (insufficient_privilege) when the actions erase and the caller may not erase.
CREATE OR REPLACE FUNCTION gdpr.rule_require_erasure_right(p_actions jsonb, p_doing text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF gdpr.rule_erases(p_actions) AND NOT gdpr.rule_caller_may_erase() THEN
        RAISE EXCEPTION 'only admins and members of pgdpr_erasure may % a rule that anonymises (role % is neither)',
            p_doing, gdpr.caller() USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

-- The "now" a rule is evaluated at: only admins (the ticker, tests) may pick another
-- instant than now(); for anyone else p_now would move the conditions' time window.
CREATE OR REPLACE FUNCTION gdpr.rule_now(p_now timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_now IS NOT NULL AND p_now <> now() AND NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin may evaluate a rule at another time than now: leave p_now out'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN COALESCE(p_now, now());
END $$;

-- The highest per-run cap a non-admin may set (a guard against a misconfigured rule
-- anonymising a whole club); admins may set more.
CREATE OR REPLACE FUNCTION gdpr.rule_staff_max_per_run() RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT 1000 $$;

-- A registered condition, action or safety function, if it may run inside the
-- engine's SECURITY DEFINER code: it must exist with the
-- contract's signature and be owned by pgdpr_owner or a superuser, so that only a
-- superuser decides what runs as pgdpr_owner (an admin who could register his own
-- function would run it as pgdpr_owner, with BYPASSRLS and the audit table). Checked
-- when registered AND every time it is called: ownership can change.
CREATE OR REPLACE FUNCTION gdpr.rule_trusted_function(p_function text, p_args text, p_what text, p_name text)
RETURNS regproc
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

-- Conditions or actions as given by a caller -> [{"name": ..., "params": {...}}], with
-- every name checked against its registry and every parameter against its schema.
-- Accepted shapes: ["name", ...], [{"name": n, "params": {...}}], [{"name": n, param: v}],
-- {"name": {params}}.
CREATE OR REPLACE FUNCTION gdpr.rule_normalize_items(p_items jsonb, p_what text, p_subject_table text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- The rule, if the caller may act on its club (else insufficient_privilege).
CREATE OR REPLACE FUNCTION gdpr.rule_for_caller(p_rule_id bigint) RETURNS gdpr.rule
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

-- Check a rule's definition; returns it normalised. Raises naming what is wrong.
CREATE OR REPLACE FUNCTION gdpr.rule_check(p_rule gdpr.rule) RETURNS gdpr.rule
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION gdpr.create_rule(
    p_tenant text, p_description text, p_schedule text, p_frequency text DEFAULT 'once',
    p_conditions jsonb DEFAULT '[]', p_actions jsonb DEFAULT '[]', p_max_subjects_per_run integer DEFAULT 1000,
    p_kind text DEFAULT 'customer', p_time_zone text DEFAULT NULL, p_enabled boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- Change a rule; NULL keeps a setting (frequency: pass 'once' to make it once per subject).
CREATE OR REPLACE FUNCTION gdpr.change_rule(
    p_rule_id bigint, p_description text DEFAULT NULL, p_schedule text DEFAULT NULL, p_frequency text DEFAULT NULL,
    p_conditions jsonb DEFAULT NULL, p_actions jsonb DEFAULT NULL, p_max_subjects_per_run integer DEFAULT NULL,
    p_time_zone text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION gdpr.set_rule_enabled(p_rule_id bigint, p_enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION gdpr.enable_rule(p_rule_id bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT gdpr.set_rule_enabled(p_rule_id, true)
$$;

CREATE OR REPLACE FUNCTION gdpr.disable_rule(p_rule_id bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT gdpr.set_rule_enabled(p_rule_id, false)
$$;

-- Delete a rule: it stops and disappears from lists; its run history stays
-- (accountability, Art. 5(2)).
CREATE OR REPLACE FUNCTION gdpr.delete_rule(p_rule_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
BEGIN
    UPDATE gdpr.rule r SET enabled = false, deleted_at = now(), changed_at = now(), changed_by = gdpr.caller()
     WHERE r.id = p_rule_id;
    DELETE FROM gdpr.rule_subject s WHERE s.rule_id = p_rule_id;
    PERFORM gdpr.audit('rule_delete', v_rule.kind, v_rule.tenant, NULL, NULL, jsonb_build_object('rule_id', p_rule_id));
END $$;

CREATE OR REPLACE FUNCTION gdpr.list_rules(p_tenant text DEFAULT NULL)
RETURNS TABLE (id bigint, tenant text, kind text, description text, schedule text, time_zone text,
               frequency_days integer, conditions jsonb, actions jsonb, max_subjects_per_run integer,
               enabled boolean, next_slot timestamptz, last_run_at timestamptz, last_run_changed integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION gdpr.show_rule(p_rule_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rule gdpr.rule := gdpr.rule_for_caller(p_rule_id);
BEGIN
    RETURN to_jsonb(v_rule) - 'deleted_at' || jsonb_build_object(
        'frequency', CASE WHEN v_rule.frequency_days IS NULL THEN 'once per subject'
                          ELSE format('every %s days', v_rule.frequency_days) END,
        'subjects_fired', (SELECT count(*) FROM gdpr.rule_subject s WHERE s.rule_id = p_rule_id),
        'runs', (SELECT count(*) FROM gdpr.rule_run x WHERE x.rule_id = p_rule_id));
END $$;

CREATE OR REPLACE FUNCTION gdpr.rule_history(p_rule_id bigint DEFAULT NULL, p_tenant text DEFAULT NULL,
                                             p_limit integer DEFAULT 20)
RETURNS TABLE (run_id bigint, rule_id bigint, tenant text, trigger text, slot timestamptz, started_at timestamptz,
               finished_at timestamptz, candidates integer, changed integer, skipped jsonb, error_count integer,
               errors jsonb, capped boolean, batches integer, author name, started_by name, stopped text,
               stopped_by name)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- The eligibility query of a rule (see the header). p_mode: 'count' (eligible now),
-- 'batch' (next keys in key order after the cursor $5, at most $6), 'breakdown'
-- (eligible, and per safety reason how many met the conditions but were held back).
CREATE OR REPLACE FUNCTION gdpr.rule_eligibility_sql(p_rule gdpr.rule, p_mode text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- How many subjects a rule would change now, and a sample of their keys. No change.
CREATE OR REPLACE FUNCTION gdpr.preview_rule(p_rule_id bigint, p_now timestamptz DEFAULT now(),
                                             p_sample integer DEFAULT 10)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$  -- volatile: it audits
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

-- Rules run with their author's rights (gdpr.rule.author: who created the rule, last
-- changed its definition or enabled it). Why the author may not run the rule now, or
-- NULL: an erasing rule whose author may no longer erase, an author who no longer
-- belongs to the rule's club, or whose register access to its area is 'none'. The
-- caller's own rights are checked by the callers (refused outright); this one ends
-- the run and says so in its history. The author's register access is asked where
-- the caller may ask it (the ticker and admins; gdpr.check_rights_probe refuses staff
-- asking about a colleague): a staff member who runs a colleague's rule by hand acts
-- with their own register access, which is checked for them.
CREATE OR REPLACE FUNCTION gdpr.rule_author_refusal(p_rule gdpr.rule) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

-- A manual run is driven by the session that started it (`pgdpr rules run`, psql), which
-- holds a session-level advisory lock on the run while it lives: the ticker never
-- resumes a manual run, it ends one whose session is gone ("abandoned"). The two-key
-- form (objsubid 2) keeps these locks apart from an application's one-key locks.
CREATE OR REPLACE FUNCTION gdpr.rule_run_driven(p_run_id bigint, p_by_me boolean DEFAULT false) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                         WHERE d.datname = pg_catalog.current_database())
                      AND l.classid = 1734636658::oid  -- 'gdpr'
                      AND l.objid = pg_catalog.oid(p_run_id % 2147483647)
                      AND (NOT p_by_me OR l.pid = pg_catalog.pg_backend_pid()))
$$;

CREATE OR REPLACE FUNCTION gdpr.rule_run_hold(p_run_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT gdpr.rule_run_driven(p_run_id, true) THEN
        PERFORM pg_catalog.pg_try_advisory_lock(1734636658, (p_run_id % 2147483647)::integer);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION gdpr.rule_run_release(p_run_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF gdpr.rule_run_driven(p_run_id, true) THEN
        PERFORM pg_catalog.pg_advisory_unlock(1734636658, (p_run_id % 2147483647)::integer);
    END IF;
END $$;

-- The audit event of a run that ended (keys and counts only).
CREATE OR REPLACE FUNCTION gdpr.rule_run_audit(p_run_id bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT gdpr.audit('rule_run', r.kind, r.tenant, NULL, NULL, jsonb_build_object(
               'rule_id', r.id, 'run_id', x.id, 'trigger', x.trigger, 'slot', x.slot, 'author', x.author,
               'started_by', x.started_by, 'candidates', x.candidates, 'changed', x.changed,
               'skipped', x.skipped, 'errors', x.error_count, 'capped', x.capped, 'stopped', x.stopped,
               'stopped_by', x.stopped_by))
      FROM gdpr.rule_run x JOIN gdpr.rule r ON r.id = x.rule_id
     WHERE x.id = p_run_id
$$;

-- End a run before its work is done, saying why in its history; its work so far stays.
CREATE OR REPLACE FUNCTION gdpr.rule_run_stop(p_run_id bigint, p_reason text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE gdpr.rule_run x SET finished_at = clock_timestamp(), stopped = p_reason, stopped_by = gdpr.caller()
     WHERE x.id = p_run_id AND x.finished_at IS NULL;
    IF FOUND THEN
        PERFORM gdpr.rule_run_audit(p_run_id);
    END IF;
    PERFORM gdpr.rule_run_release(p_run_id);
    RETURN gdpr.rule_run_summary(p_run_id);
END $$;

-- Start a run of a rule for a slot (internal: gdpr.tick_claim, gdpr.start_manual_run).
-- NULL when that slot has already been run (UNIQUE (rule_id, slot)). A rule its author
-- may not run now gets a run that ends at once, saying why.
CREATE OR REPLACE FUNCTION gdpr.start_run(p_rule gdpr.rule, p_slot timestamptz, p_trigger text, p_now timestamptz)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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

-- A manual run (`pgdpr rules run`): the caller then drives gdpr.run_batch() and holds
-- the run (gdpr.rule_run_hold) while its session lives. Disabled rules may be run by
-- hand (to try one before enabling it); the ticker never runs or resumes them.
CREATE OR REPLACE FUNCTION gdpr.start_manual_run(p_rule_id bigint, p_now timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- Stop a run now (Ctrl-C on `pgdpr rules run`, or anyone of the club who sees it
-- running): it is marked cancelled and never resumed; a batch in progress finishes
-- first (its row lock), the work done so far stays. Stopping needs no erasure right.
CREATE OR REPLACE FUNCTION gdpr.cancel_run(p_run_id bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION gdpr.rule_run_summary(p_run_id bigint, p_busy boolean DEFAULT false) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('run_id', x.id, 'rule_id', x.rule_id, 'done', x.finished_at IS NOT NULL,
                              'busy', p_busy, 'candidates', x.candidates, 'changed', x.changed,
                              'skipped', x.skipped, 'error_count', x.error_count, 'capped', x.capped,
                              'batches', x.batches, 'author', x.author, 'stopped', x.stopped)
      FROM gdpr.rule_run x WHERE x.id = p_run_id
$$;

-- One batch of a run, in the caller's transaction: the next subjects in key order
-- after the run's cursor, every action applied set-based, counters and cursor saved.
-- Commit after each batch (gdpr.tick does, `pgdpr rules run` does): a run killed
-- midway loses only its open batch, whose changes roll back whole, and the next
-- tick resumes it from the cursor. A subject that makes an action fail is retried
-- alone and recorded as an error; the others of its batch go on.
CREATE OR REPLACE FUNCTION gdpr.run_batch(p_run_id bigint, p_batch_size integer DEFAULT 1000) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- Run a rule now, whole, in the caller's transaction (psql). `pgdpr rules run` and
-- the ticker commit per batch instead.
CREATE OR REPLACE FUNCTION gdpr.run_rule(p_rule_id bigint, p_now timestamptz DEFAULT now(),
                                         p_batch_size integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- Privileges: staff manage their own club's rules; admins any club's. Internal
-- helpers run only inside the SECURITY DEFINER functions (as pgdpr_owner).
DO $$
DECLARE
    v_signature text;
BEGIN
    FOREACH v_signature IN ARRAY ARRAY[
        'gdpr.create_rule(text, text, text, text, jsonb, jsonb, integer, text, text, boolean)',
        'gdpr.change_rule(bigint, text, text, text, jsonb, jsonb, integer, text)',
        'gdpr.set_rule_enabled(bigint, boolean)', 'gdpr.enable_rule(bigint)', 'gdpr.disable_rule(bigint)',
        'gdpr.delete_rule(bigint)', 'gdpr.list_rules(text)', 'gdpr.show_rule(bigint)',
        'gdpr.rule_history(bigint, text, integer)', 'gdpr.preview_rule(bigint, timestamptz, integer)',
        'gdpr.start_manual_run(bigint, timestamptz)', 'gdpr.run_batch(bigint, integer)',
        'gdpr.run_rule(bigint, timestamptz, integer)', 'gdpr.cancel_run(bigint)']
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO pgdpr_owner', v_signature);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_signature);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pgdpr_staff, pgdpr_admin', v_signature);
    END LOOP;
    FOREACH v_signature IN ARRAY ARRAY[
        'gdpr.rule_frequency_days(text)',
        'gdpr.rule_normalize_items(jsonb, text, text)', 'gdpr.rule_for_caller(bigint)', 'gdpr.rule_check(gdpr.rule)',
        'gdpr.rule_eligibility_sql(gdpr.rule, text)', 'gdpr.start_run(gdpr.rule, timestamptz, text, timestamptz)',
        'gdpr.rule_run_summary(bigint, boolean)', 'gdpr.rule_caller_may_erase()', 'gdpr.rule_erases(jsonb)',
        'gdpr.rule_require_erasure_right(jsonb, text)', 'gdpr.rule_now(timestamptz)', 'gdpr.rule_staff_max_per_run()',
        'gdpr.rule_trusted_function(text, text, text, text)', 'gdpr.rule_role_may_erase(name)',
        'gdpr.rule_role_register_access(name, text)', 'gdpr.rule_require_register_access(text)',
        'gdpr.caller_register_kinds()', 'gdpr.rule_author_refusal(gdpr.rule)',
        'gdpr.rule_run_driven(bigint, boolean)', 'gdpr.rule_run_hold(bigint)', 'gdpr.rule_run_release(bigint)',
        'gdpr.rule_run_audit(bigint)', 'gdpr.rule_run_stop(bigint, text)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_signature);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pgdpr_owner, pgdpr_admin', v_signature);
    END LOOP;
END $$;
GRANT SELECT ON gdpr.rule, gdpr.rule_run, gdpr.rule_subject, gdpr.rule_condition, gdpr.rule_action,
      gdpr.rule_safety, gdpr.outbox, gdpr.ticker TO pgdpr_admin;
-- The registries change only through gdpr.register_condition / gdpr.register_action,
-- which accept functions owned by pgdpr_owner or a superuser: no direct writes.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON gdpr.rule_condition, gdpr.rule_action, gdpr.rule_safety FROM pgdpr_admin;

COMMENT ON FUNCTION gdpr.create_rule(text, text, text, text, jsonb, jsonb, integer, text, text, boolean) IS
    'Create a trigger rule (docs/rules.md): club, name, schedule, frequency, conditions, actions, per-run cap; audited';
COMMENT ON FUNCTION gdpr.change_rule(bigint, text, text, text, jsonb, jsonb, integer, text) IS
    'Change a trigger rule (NULL keeps a setting); audited';
COMMENT ON FUNCTION gdpr.enable_rule(bigint) IS 'Enable a trigger rule (from the next slot on); audited';
COMMENT ON FUNCTION gdpr.disable_rule(bigint) IS 'Disable a trigger rule; audited';
COMMENT ON FUNCTION gdpr.set_rule_enabled(bigint, boolean) IS 'Enable or disable a trigger rule; audited';
COMMENT ON FUNCTION gdpr.delete_rule(bigint) IS 'Delete a trigger rule (its run history stays); audited';
COMMENT ON FUNCTION gdpr.list_rules(text) IS 'The trigger rules of the caller''s club (admins: of a club or all)';
COMMENT ON FUNCTION gdpr.show_rule(bigint) IS 'One trigger rule as JSON';
COMMENT ON FUNCTION gdpr.rule_history(bigint, text, integer) IS 'Runs of a rule (or of a club''s rules), newest first';
COMMENT ON FUNCTION gdpr.preview_rule(bigint, timestamptz, integer) IS
    'How many subjects a rule would change now, and a sample of their keys; changes nothing';
COMMENT ON FUNCTION gdpr.start_manual_run(bigint, timestamptz) IS 'Start a manual run; drive it with gdpr.run_batch';
COMMENT ON FUNCTION gdpr.run_batch(bigint, integer) IS
    'Process the next batch of a run (commit after each: a killed run resumes from its cursor)';
COMMENT ON FUNCTION gdpr.run_rule(bigint, timestamptz, integer) IS 'Run a rule now, whole, in one transaction';
COMMENT ON FUNCTION gdpr.cancel_run(bigint) IS
    'Stop a run now: marked cancelled, never resumed; the work done so far stays; audited';
COMMENT ON FUNCTION gdpr.rule_author_refusal(gdpr.rule) IS
    'Why the rule may not run with its author''s rights now (erasure right, club, register access), or NULL';
COMMENT ON FUNCTION gdpr.rule_require_register_access(text) IS
    'Refuse a caller whose register access to the subject kind''s area is none (admins: every area)';
