-- The ticker (design.md "Scheduling"): called every minute by pg_cron
-- (`pgdpr cron install`: CALL gdpr.tick()) or by `pgdpr worker`. It runs every due
-- rule once per slot, even with two tickers at once (FOR UPDATE SKIP LOCKED on the
-- rule row, UNIQUE (rule_id, slot) on the run), one catch-up run after downtime
-- (the latest missed slot, not every one), resumes runs whose ticker died,
-- processes deferred erasures whose retention period has ended (Bogføringsloven), and
-- analyses the declared tables whose planner statistics predate the latest erasure.
--
-- gdpr.tick is a PROCEDURE that COMMITs after each batch, so a killed run keeps its
-- finished batches and the next tick finishes it. Call it outside a transaction
-- block: `CALL gdpr.tick();` (pg_cron does). It is SECURITY INVOKER (a procedure
-- with SECURITY DEFINER cannot commit); the steps it calls check the caller.

-- Heartbeat: the ticker is alive (`pgdpr cron status`, the worker).
CREATE OR REPLACE FUNCTION gdpr.tick_heartbeat(p_now timestamptz) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO gdpr.ticker (singleton, last_tick_at, last_now, last_by, ticks)
    VALUES (true, clock_timestamp(), p_now, gdpr.caller(), 1)
    ON CONFLICT (singleton) DO UPDATE SET last_tick_at = excluded.last_tick_at, last_now = excluded.last_now,
        last_by = excluded.last_by, ticks = gdpr.ticker.ticks + 1
$$;

-- The next run to work on, or NULL: first an unfinished scheduled run no one holds
-- (its ticker was killed: resume it), else the next due rule, claimed with SKIP LOCKED;
-- its slot is the latest scheduled instant at or before p_now (catch-up = one run).
-- p_seen: runs this tick already worked on (so a busy run is not picked again).
-- Stopping means stopped: a manual run belongs to the session that drives it and is
-- never resumed here; one whose session is gone (gdpr.rule_run_driven) is ended as
-- abandoned. A cancelled run is finished, so never picked. A resumed run of a rule
-- disabled or deleted since is ended by gdpr.run_batch without running.
CREATE OR REPLACE FUNCTION gdpr.tick_claim(p_now timestamptz, p_seen bigint[] DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- Deferred erasures (the erasure functions' gdpr.process_deferred_erasures), if installed.
CREATE OR REPLACE FUNCTION gdpr.tick_deferred_erasures(p_now timestamptz) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
END $$;

-- End a run whose batch failed as a whole (not one subject: those are recorded by
-- gdpr.run_batch), so that it does not block the ticker; its work so far stays.
CREATE OR REPLACE FUNCTION gdpr.abort_run(p_run_id bigint, p_sqlstate text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only the ticker (pgdpr_admin) aborts runs' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE gdpr.rule_run x SET finished_at = clock_timestamp(), error_count = x.error_count + 1,
           errors = x.errors || jsonb_build_array(jsonb_build_object('stage', 'batch', 'sqlstate', p_sqlstate))
     WHERE x.id = p_run_id AND x.finished_at IS NULL;
    RETURN gdpr.rule_run_summary(p_run_id);
END $$;

CREATE OR REPLACE PROCEDURE gdpr.tick(p_now timestamptz DEFAULT NULL, p_batch_size integer DEFAULT 1000)
LANGUAGE plpgsql AS $$
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

ALTER FUNCTION gdpr.tick_heartbeat(timestamptz) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.tick_claim(timestamptz, bigint[]) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.tick_deferred_erasures(timestamptz) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.abort_run(bigint, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.abort_run(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.abort_run(bigint, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.abort_run(bigint, text) IS 'End a run whose batch failed as a whole (internal: gdpr.tick)';
REVOKE ALL ON FUNCTION gdpr.tick_heartbeat(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.tick_claim(timestamptz, bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.tick_deferred_erasures(timestamptz) FROM PUBLIC;
REVOKE ALL ON PROCEDURE gdpr.tick(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.tick_heartbeat(timestamptz) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.tick_claim(timestamptz, bigint[]) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.tick_deferred_erasures(timestamptz) TO pgdpr_admin;
GRANT EXECUTE ON PROCEDURE gdpr.tick(timestamptz, integer) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.tick_heartbeat(timestamptz) IS 'Record that the ticker ran (internal)';
COMMENT ON FUNCTION gdpr.tick_claim(timestamptz, bigint[]) IS
    'Claim the next run for the ticker: an orphaned unfinished run, else a due rule (SKIP LOCKED)';
COMMENT ON FUNCTION gdpr.tick_deferred_erasures(timestamptz) IS 'Process deferred erasures if the erasure functions are installed';
COMMENT ON PROCEDURE gdpr.tick(timestamptz, integer) IS
    'The ticker: run every due rule once per slot, committing per batch; CALL outside a transaction block';
