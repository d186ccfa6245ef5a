-- The erasure ledger and backups (docs/erasure.md: "whoever restores a backup must erase the
-- recently erased customers again themselves, and nothing warns them"). The ledger
-- holds no personal data (kind, club, subject key, time, actor or rule), so it can
-- be exported and kept outside the database; after a restore, replaying it re-applies
-- every erasure the restored database lacks (GDPR Art. 17 keeps applying to backups).
-- Every exported entry carries an HMAC keyed with the per-install secret
-- (gdpr.install_secret, which a restored backup still has): a crafted or altered
-- entry is not applied. The replay checks legal holds and records the replaying
-- admin as the actor; it keeps its working set in variables, never in a temporary
-- table a caller could have created beforehand (with a trigger on it).

-- The signature of one ledger entry: HMAC-SHA256 over its fields in a fixed form
-- (the time in UTC with microseconds, whatever the session's time zone). Internal.
CREATE OR REPLACE FUNCTION gdpr.ledger_signature(p_kind text, p_tenant text, p_subject_key text,
    p_erased_at timestamptz, p_actor text, p_rule_id bigint, p_reason_category text, p_salt bytea)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT gdpr.hmac_sha256('pgdpr-ledger-v1:' || pg_catalog.jsonb_build_array(
               p_kind, p_tenant, p_subject_key,
               pg_catalog.to_char(p_erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               p_actor, p_rule_id, p_reason_category)::text, p_salt)
$$;
ALTER FUNCTION gdpr.ledger_signature(text, text, text, timestamptz, text, bigint, text, bytea) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ledger_signature(text, text, text, timestamptz, text, bigint, text, bytea) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.ledger_signature(text, text, text, timestamptz, text, bigint, text, bytea) IS
    'HMAC of an exported erasure ledger entry, keyed with the install secret; internal';

-- The result gained a column (signature): an older definition is replaced.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_proc p
                WHERE p.oid = pg_catalog.to_regprocedure('gdpr.ledger_export(timestamptz)')
                  AND NOT 'signature' = ANY (p.proargnames)) THEN
        DROP FUNCTION gdpr.ledger_export(timestamptz);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION gdpr.ledger_export(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (kind text, tenant text, subject_key text, erased_at timestamptz, actor name, rule_id bigint,
               reason_category text, signature text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.kind, l.tenant, l.subject_key, l.erased_at, l.actor, l.rule_id, l.reason_category,
           gdpr.ledger_signature(l.kind, l.tenant, l.subject_key, l.erased_at, l.actor::text, l.rule_id,
                                 l.reason_category, s.salt)
      FROM gdpr.erasure_ledger l, gdpr.install_secret s
     WHERE p_since IS NULL OR l.erased_at >= p_since
     ORDER BY l.erased_at, l.id
$$;
ALTER FUNCTION gdpr.ledger_export(timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ledger_export(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.ledger_export(timestamptz) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.ledger_export(timestamptz) IS
    'The erasure ledger (no personal data), oldest first, each entry signed with the install secret';

-- Compare ledger entries (a JSON array of exported rows) with this database and,
-- when p_apply, re-erase every subject that exists here but is not anonymised
-- (set-based per kind and club). Outcome per entry:
--   invalid            a field is missing or malformed (e.g. no club for a kind that has one)
--   invalid_signature  the HMAC does not match (crafted, altered, or from another install)
--   unknown_kind       the catalog here does not know the kind
--   not_found          the subject is not in this database
--   already_anonymized nothing to do
--   held               a legal hold here was active when the erasure happened, and the
--                      entry is not a forced erasure: not applied (clear the hold first)
--   missing | reapplied  (check | apply); a forced entry over an active hold is audited
--                      as anonymize_forced
-- The replaying admin is the actor of what is done now; the entry's own actor, rule
-- and category are kept as data in the ledger_replay audit event.
CREATE OR REPLACE FUNCTION gdpr.ledger_replay(p_entries jsonb, p_apply boolean DEFAULT false)
RETURNS TABLE (kind text, tenant text, subject_key text, erased_at timestamptz, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
ALTER FUNCTION gdpr.ledger_replay(jsonb, boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ledger_replay(jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.ledger_replay(jsonb, boolean) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.ledger_replay(jsonb, boolean) IS
    'Check (or with p_apply re-apply) signed exported ledger entries against this database, e.g. after a restore';
