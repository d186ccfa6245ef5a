-- Deferred erasure (GDPR Art. 17(3)(b), Bogføringsloven § 10: accounting records are
-- kept 5 years from the end of the financial year and may not be altered). Rows of
-- `retain` tables of an erased subject stay as they are (only columns that are not
-- part of the record were scrubbed at erasure, and the subject row no longer names
-- anyone); when a row's period ends the retention job deletes it. The rules ticker
-- calls gdpr.process_deferred_erasures(); pending work is visible per subject and
-- in total through gdpr.pending_deferred_erasures().

-- When a retained row (alias p_alias) of a declared table may be erased.
CREATE OR REPLACE FUNCTION gdpr.retain_due_expr(p_schema name, p_table name, p_alias text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN t.retain_from_year_end
                THEN format('(pg_catalog.date_trunc(''year'', %I.%I) + interval ''1 year'' + %L::interval)::timestamptz',
                            p_alias, t.retain_column, t.retain_period)
                ELSE format('(%I.%I + %L::interval)::timestamptz', p_alias, t.retain_column, t.retain_period) END
      FROM gdpr.catalog_table t
     WHERE t.table_schema = p_schema AND t.table_name = p_table AND t.on_erase = 'retain'
$$;
ALTER FUNCTION gdpr.retain_due_expr(name, name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.retain_due_expr(name, name, text) FROM PUBLIC;

-- Erase every retained row whose period ended by p_now: one DELETE per retain
-- table for all pending subjects. Returns {"tables": {t: rows}, "subjects_done": n}.
CREATE OR REPLACE FUNCTION gdpr.process_deferred_erasures(p_now timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t record;
    v_s gdpr.subject_kind;
    v_types record;
    v_src record;
    v_table text;
    v_count bigint;
    v_done bigint;
    v_total_done bigint := 0;
    v_tables jsonb := '{}';
BEGIN
    FOR v_t IN
        SELECT t.* FROM gdpr.catalog_table t
         WHERE t.on_erase = 'retain'
           AND EXISTS (SELECT FROM gdpr.deferred_erasure d
                        WHERE d.table_schema = t.table_schema AND d.table_name = t.table_name
                          AND d.done_at IS NULL AND d.next_due_at <= p_now)
         ORDER BY t.table_schema, t.table_name
    LOOP
        v_table := format('%I.%I', v_t.table_schema, v_t.table_name);
        SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
        SELECT * INTO v_types FROM gdpr.subject_types(v_t.kind);
        SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        -- delete the due rows of pending subjects, then recount what each still has
        EXECUTE format(
            'WITH due AS (SELECT d.subject_key, d.tenant FROM gdpr.deferred_erasure d
                           WHERE d.table_schema = $2 AND d.table_name = $3 AND d.done_at IS NULL
                             AND d.next_due_at <= $1),
                  del AS (DELETE FROM %1$s a USING due %2$s
                           WHERE %3$s = due.subject_key::%4$s %5$s AND %6$s AND %7$s <= $1
                          RETURNING 1)
             SELECT count(*) FROM del',
            v_table, v_src.from_clause, v_src.key_expr, v_types.key_type,
            CASE WHEN v_src.tenant_expr IS NOT NULL AND v_types.tenant_type IS NOT NULL
                 THEN format('AND %s = NULLIF(due.tenant, '''')::%s', v_src.tenant_expr, v_types.tenant_type) ELSE '' END,
            v_src.where_clause, gdpr.retain_due_expr(v_t.table_schema, v_t.table_name, 'a'))
           INTO v_count USING p_now, v_t.table_schema, v_t.table_name;
        EXECUTE format(
            'WITH left_over AS (
                SELECT d.id, count(a.*) AS n, min(%1$s) AS next_due, max(%1$s) AS last_due
                  FROM gdpr.deferred_erasure d
                  LEFT JOIN LATERAL (SELECT a.* FROM %2$s a %3$s
                                      WHERE %4$s = d.subject_key::%5$s %6$s AND %7$s) a ON true
                 WHERE d.table_schema = $2 AND d.table_name = $3 AND d.done_at IS NULL AND d.next_due_at <= $1
                 GROUP BY d.id),
             upd AS (UPDATE gdpr.deferred_erasure d
                        SET rows_pending = l.n, next_due_at = l.next_due, last_due_at = COALESCE(l.last_due, d.last_due_at),
                            done_at = CASE WHEN l.n = 0 THEN $1 END
                       FROM left_over l WHERE d.id = l.id RETURNING d.done_at)
             SELECT count(*) FILTER (WHERE done_at IS NOT NULL) FROM upd',
            gdpr.retain_due_expr(v_t.table_schema, v_t.table_name, 'a'), v_table, v_src.from_clause,
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
END $$;
ALTER FUNCTION gdpr.process_deferred_erasures(timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.process_deferred_erasures(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.process_deferred_erasures(timestamptz) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.process_deferred_erasures(timestamptz) IS
    'Erase retained rows of erased subjects whose statutory period ended (the rules ticker calls it)';

-- Pending deferred erasures of the caller's club (admins: all, or the named club),
-- one row per subject and table; sum rows_pending for the total.
CREATE OR REPLACE FUNCTION gdpr.pending_deferred_erasures(p_kind text DEFAULT NULL, p_subject_key text DEFAULT NULL,
    p_tenant text DEFAULT NULL)
RETURNS TABLE (kind text, tenant text, subject_key text, table_name text, rows_pending bigint,
               next_due_at timestamptz, last_due_at timestamptz, erased_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
ALTER FUNCTION gdpr.pending_deferred_erasures(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.pending_deferred_erasures(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.pending_deferred_erasures(text, text, text) TO pgdpr_staff, pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.pending_deferred_erasures(text, text, text) IS
    'Retained rows of erased subjects waiting for their period to end, per subject and table';
