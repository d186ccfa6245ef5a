-- Schedules of trigger rules (docs/rules.md: "WHEN it runs, e.g. daily at 08:00"):
-- daily, weekly, monthly or 5-field cron, evaluated in the rule's time zone in SQL
-- (Debian's pg_cron 1.4 has no cron.timezone; pg_cron only calls gdpr.tick() every
-- minute). A slot is a local wall-clock time turned into an instant with AT TIME
-- ZONE, so a local time that does not exist (spring forward) or exists twice (fall
-- back) still yields exactly one instant: the rule runs once that day.

-- The values a cron field allows: '*', 'a', 'a-b', '*/n', 'a-b/n', lists of those,
-- month and weekday names. Day of week 7 is Sunday, like 0.
CREATE OR REPLACE FUNCTION gdpr.cron_field_values(p_field text, p_min integer, p_max integer,
                                                  p_what text, p_names text[] DEFAULT NULL)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- Normalise a schedule to 5-field cron: 'daily HH:MM', 'weekly DAY HH:MM',
-- 'monthly DAY-OF-MONTH HH:MM', or 5 cron fields (minute hour day month weekday).
CREATE OR REPLACE FUNCTION gdpr.normalize_schedule(p_schedule text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- A time zone PostgreSQL knows by name (the IANA database), else a clear error.
CREATE OR REPLACE FUNCTION gdpr.check_time_zone(p_time_zone text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_time_zone IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names WHERE name = p_time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%": use an IANA name such as Europe/Copenhagen', p_time_zone
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN p_time_zone;
END $$;

-- The scheduled instant nearest p_at: p_direction -1 = the latest slot at or before
-- p_at, +1 = the first slot after p_at. NULL if none within five years (e.g. 31 Feb).
CREATE OR REPLACE FUNCTION gdpr.schedule_slot(p_schedule text, p_time_zone text, p_at timestamptz,
                                              p_direction integer)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

-- Grants: helpers used by the SECURITY DEFINER rule functions (owner) and by DBAs.
REVOKE ALL ON FUNCTION gdpr.cron_field_values(text, integer, integer, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.normalize_schedule(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.check_time_zone(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.schedule_slot(text, text, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.cron_field_values(text, integer, integer, text, text[]) TO pgdpr_owner, pgdpr_admin, pgdpr_staff;
GRANT EXECUTE ON FUNCTION gdpr.normalize_schedule(text) TO pgdpr_owner, pgdpr_admin, pgdpr_staff;
GRANT EXECUTE ON FUNCTION gdpr.check_time_zone(text) TO pgdpr_owner, pgdpr_admin, pgdpr_staff;
GRANT EXECUTE ON FUNCTION gdpr.schedule_slot(text, text, timestamptz, integer) TO pgdpr_owner, pgdpr_admin, pgdpr_staff;
COMMENT ON FUNCTION gdpr.normalize_schedule(text) IS
    'Schedule as 5-field cron: accepts daily HH:MM, weekly DAY HH:MM, monthly DAY HH:MM or cron; refuses the rest';
COMMENT ON FUNCTION gdpr.schedule_slot(text, text, timestamptz, integer) IS
    'Latest slot at or before (-1) / first slot after (+1) an instant, for a cron schedule in a time zone';
COMMENT ON FUNCTION gdpr.check_time_zone(text) IS 'The time zone if PostgreSQL knows it by name, else an error naming it';
