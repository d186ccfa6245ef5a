-- The erasure ledger and backups (seed S8: "whoever restores a backup must erase the
-- recently erased customers again themselves, and nothing warns them"). The ledger
-- holds no personal data (kind, club, subject key, time, actor or rule), so it can
-- be exported and kept outside the database; after a restore, replaying it re-applies
-- every erasure the restored database lacks (GDPR Art. 17 keeps applying to backups).

CREATE OR REPLACE FUNCTION gdpr.ledger_export(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (kind text, tenant text, subject_key text, erased_at timestamptz, actor name, rule_id bigint,
               reason_category text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.kind, l.tenant, l.subject_key, l.erased_at, l.actor, l.rule_id, l.reason_category
      FROM gdpr.erasure_ledger l
     WHERE p_since IS NULL OR l.erased_at >= p_since
     ORDER BY l.erased_at, l.id
$$;
ALTER FUNCTION gdpr.ledger_export(timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ledger_export(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.ledger_export(timestamptz) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.ledger_export(timestamptz) IS 'The erasure ledger (no personal data), oldest first';

-- Compare ledger entries (a JSON array of exported rows) with this database and,
-- when p_apply, re-erase every subject that exists here but is not anonymised
-- (set-based per kind and club; legal holds do not stop a replay: the erasure
-- already happened). Outcome per entry: reapplied | missing (check only) |
-- already_anonymized | not_found (the subject is not in this database) | unknown_kind.
CREATE OR REPLACE FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean DEFAULT false)
RETURNS TABLE (kind text, tenant text, subject_key text, erased_at timestamptz, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_group record;
    v_locked record;
    v_todo text[];
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'only pgdpr_admin may replay the erasure ledger' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF jsonb_typeof(p_entries) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'ledger entries must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS gdpr_ledger_replay
        (kind text, tenant text, subject_key text, erased_at timestamptz, actor name, rule_id bigint,
         reason_category text, outcome text) ON COMMIT DROP;
    TRUNCATE gdpr_ledger_replay;
    INSERT INTO gdpr_ledger_replay
    SELECT DISTINCT ON (e.kind, e.tenant, e.subject_key) e.kind, e.tenant, e.subject_key, e.erased_at,
           COALESCE(e.actor, 'unknown'), e.rule_id, COALESCE(e.reason_category, 'request'),
           CASE WHEN NOT EXISTS (SELECT FROM gdpr.subject_kind k WHERE k.kind = e.kind) THEN 'unknown_kind' END
      FROM jsonb_to_recordset(p_entries) AS e(kind text, tenant text, subject_key text, erased_at timestamptz,
                                              actor name, rule_id bigint, reason_category text)
     WHERE e.kind IS NOT NULL AND e.subject_key IS NOT NULL
     ORDER BY e.kind, e.tenant, e.subject_key, e.erased_at;

    FOR v_group IN SELECT r.kind, r.tenant, array_agg(r.subject_key) AS keys
                     FROM gdpr_ledger_replay r WHERE r.outcome IS NULL GROUP BY r.kind, r.tenant LOOP
        UPDATE gdpr_ledger_replay r
           SET outcome = CASE WHEN l.anonymized THEN 'already_anonymized'
                              WHEN p_apply THEN 'reapplied' ELSE 'missing' END
          FROM gdpr.lock_subjects(v_group.kind, v_group.tenant, v_group.keys) l
         WHERE r.kind = v_group.kind AND r.tenant IS NOT DISTINCT FROM v_group.tenant
           AND r.subject_key = l.subject_key AND r.outcome IS NULL;
        UPDATE gdpr_ledger_replay r SET outcome = 'not_found'
         WHERE r.kind = v_group.kind AND r.tenant IS NOT DISTINCT FROM v_group.tenant AND r.outcome IS NULL;
        IF p_apply THEN
            SELECT array_agg(r.subject_key ORDER BY r.subject_key) INTO v_todo
              FROM gdpr_ledger_replay r
             WHERE r.kind = v_group.kind AND r.tenant IS NOT DISTINCT FROM v_group.tenant AND r.outcome = 'reapplied';
            IF v_todo IS NOT NULL THEN
                PERFORM gdpr.install_erasure_guards(v_group.kind);
                PERFORM gdpr.erase_batch(v_group.kind, v_group.tenant, v_todo, 'ledger replay after restore',
                                         NULL, 'replay');
            END IF;
        END IF;
    END LOOP;

    IF p_apply THEN
        -- the restored ledger gets the entries it lacks, with their original time and actor
        INSERT INTO gdpr.erasure_ledger (kind, tenant, subject_key, erased_at, actor, rule_id, reason_category,
                                         replayed_at)
        SELECT r.kind, r.tenant, r.subject_key, r.erased_at, r.actor, r.rule_id, r.reason_category,
               CASE WHEN r.outcome = 'reapplied' THEN now() END
          FROM gdpr_ledger_replay r
         WHERE r.outcome IN ('reapplied', 'already_anonymized')
           AND NOT EXISTS (SELECT FROM gdpr.erasure_ledger l
                            WHERE l.kind = r.kind AND l.tenant IS NOT DISTINCT FROM r.tenant
                              AND l.subject_key = r.subject_key AND l.erased_at = r.erased_at);
    END IF;
    PERFORM gdpr.audit(CASE WHEN p_apply THEN 'ledger_replay' ELSE 'ledger_check' END, NULL, NULL, NULL, NULL,
                       (SELECT jsonb_object_agg(o.outcome, o.n)
                          FROM (SELECT r.outcome, count(*) AS n FROM gdpr_ledger_replay r GROUP BY r.outcome) o));
    RETURN QUERY SELECT r.kind, r.tenant, r.subject_key, r.erased_at, r.outcome
                   FROM gdpr_ledger_replay r ORDER BY r.erased_at, r.kind, r.tenant, r.subject_key;
END $$;
ALTER FUNCTION gdpr.ledger_replay(jsonb, boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ledger_replay(jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.ledger_replay(jsonb, boolean) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.ledger_replay(jsonb, boolean) IS
    'Check (or with p_apply re-apply) exported ledger entries against this database, e.g. after a restore';
