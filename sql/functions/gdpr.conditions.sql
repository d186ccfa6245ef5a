-- Conditions of trigger rules (docs/rules.md: "ONLY IF the customer can be anonymised"),
-- and the built-in safety of the club schema's customers (docs/erasure.md and the guide:
-- never a customer with debt or a coming booking). A condition is a function that
-- builds a boolean SQL expression over the subject row; the engine ANDs them into
-- one set-based query (NOT EXISTS anti-joins on the (club_id, customer_id, time)
-- indexes). Knowledge of the club schema lives here, in functions registered for
-- the subject table club.customers; the engine itself knows only the catalog.
--
-- Builder contract: f(p_alias text, p_params jsonb, p_params_ref text) RETURNS text.
-- In the expression: $2 = the run's "now" (timestamptz), $4 = the rule's time zone
-- (text), p_params_ref = an SQL expression of this condition's jsonb parameters.
-- Parameter values never become SQL text. Builders run as pgdpr_owner inside the
-- engine's SECURITY DEFINER functions, so only functions owned by pgdpr_owner or a
-- superuser are accepted (checked at registration and at every call: ownership can
-- change); a DBA creates one as a superuser and gives it to pgdpr_owner.
-- The built-in safety predicates use now(), never $2: the run's "now" may be moved
-- by an admin (the ticker, tests), the safety may not.

-- can_be_anonymised: no account movement / activity / reservation within x months
-- (each optional; 6 by default). A threshold given as null is left out; with every
-- one left out the condition selects everyone and a rule refuses it. Joining counts
-- as activity (Art. 5(1)(e): nobody has been inactive for longer than they have been a
-- member): a customer who joined within the longest given period is not eligible, so
-- eligibility counts from the later of joining and the last activity.
CREATE OR REPLACE FUNCTION gdpr.condition_club_can_be_anonymised(p_alias text, p_params jsonb, p_params_ref text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- birthday_today: the customer's birthday is today in the rule's time zone (the
-- seed's birthday-mail example; 29 February counts on 28 February in other years).
CREATE OR REPLACE FUNCTION gdpr.condition_club_birthday_today(p_alias text, p_params jsonb, p_params_ref text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN format(
        '%1$I.birth_date IS NOT NULL AND to_char(%1$I.birth_date, ''MM-DD'') = ANY (ARRAY['
        'to_char(($2 AT TIME ZONE $4)::date, ''MM-DD''), '
        'CASE WHEN to_char(($2 AT TIME ZONE $4)::date, ''MM-DD'') = ''02-28'''
        ' AND NOT to_char(($2 AT TIME ZONE $4)::date + 1, ''MM-DD'') = ''02-29'' THEN ''02-29'' END])',
        p_alias);
END $$;

-- The club schema's built-in safety for customers: no open balance (the sum of the
-- account movements is negative: the customer owes the club) and no booking or
-- reservation that has not happened yet. Applied to every rule on club.customers.
CREATE OR REPLACE FUNCTION gdpr.safety_club_customer(p_alias text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- Register a condition (DBA). The function must have the builder signature and be
-- owned by pgdpr_owner or a superuser (an admin's own function would run as pgdpr_owner).
CREATE OR REPLACE FUNCTION gdpr.register_condition(p_name text, p_function regproc, p_description text,
                                                   p_params jsonb DEFAULT '{}', p_subject_table text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
ALTER FUNCTION gdpr.register_condition(text, regproc, text, jsonb, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.register_condition(text, regproc, text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.register_condition(text, regproc, text, jsonb, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.register_condition(text, regproc, text, jsonb, text) IS
    'Register (or replace) a named rule condition: a function (p_alias, p_params, p_params_ref) -> SQL predicate';

-- The built-ins belong to pgdpr_owner whoever runs migrate (the registries trust only
-- pgdpr_owner's and superusers' functions); they are not SECURITY DEFINER.
ALTER FUNCTION gdpr.condition_club_can_be_anonymised(text, jsonb, text) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.condition_club_birthday_today(text, jsonb, text) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.safety_club_customer(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.condition_club_can_be_anonymised(text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.condition_club_birthday_today(text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.safety_club_customer(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.condition_club_can_be_anonymised(text, jsonb, text) TO pgdpr_owner;
GRANT EXECUTE ON FUNCTION gdpr.condition_club_birthday_today(text, jsonb, text) TO pgdpr_owner;
GRANT EXECUTE ON FUNCTION gdpr.safety_club_customer(text) TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.condition_club_can_be_anonymised(text, jsonb, text) IS
    'Condition can_be_anonymised (club schema): no account movement, activity, reservation within x months, not joined within the longest';
COMMENT ON FUNCTION gdpr.condition_club_birthday_today(text, jsonb, text) IS
    'Condition birthday_today (club schema): the customer''s birthday is today in the rule''s time zone';
COMMENT ON FUNCTION gdpr.safety_club_customer(text) IS
    'Built-in safety of club.customers: no open balance, no future table booking or reservation';

-- The built-in registrations (re-applied on every migrate; a DBA adds others).
INSERT INTO gdpr.rule_condition (name, function, subject_table, description, params) VALUES
    ('can_be_anonymised', 'gdpr.condition_club_can_be_anonymised', 'club.customers',
     'No account movement, no activity and no reservation within the given months (each optional), and a member for at least the longest of them',
     '{"no_account_movement_months": {"type": "months", "default": 6, "description": "no account movement within this many months"},
       "no_activity_months": {"type": "months", "default": 6, "description": "no activity (check-in) within this many months"},
       "no_reservation_months": {"type": "months", "default": 6, "description": "no reservation within this many months"}}'),
    ('birthday_today', 'gdpr.condition_club_birthday_today', 'club.customers',
     'The customer''s birthday is today in the rule''s time zone', '{}')
ON CONFLICT (name) DO UPDATE SET function = excluded.function, subject_table = excluded.subject_table,
    description = excluded.description, params = excluded.params;

INSERT INTO gdpr.rule_safety (subject_table, function, description) VALUES
    ('club.customers', 'gdpr.safety_club_customer', 'No open balance (debt), no future table booking or reservation')
ON CONFLICT (subject_table) DO UPDATE SET function = excluded.function, description = excluded.description;
