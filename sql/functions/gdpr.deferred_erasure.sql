-- Deferred erasure (GDPR Art. 17(3)(b), Bogføringsloven § 10: accounting records are
-- kept 5 years from the end of the financial year and may not be altered). Rows of
-- `retain` tables of an erased subject stay as they are (only columns that are not
-- part of the record were scrubbed at erasure, and the subject row no longer names
-- anyone); when a row's period ends the retention job deletes it. The rules ticker
-- calls gdpr.process_deferred_erasures(); pending work is visible per subject and
-- in total through gdpr.pending_deferred_erasures().

-- When a retained period ends, for a record date given as local time of the tenant
-- (p_local) or as a point in time (p_at, read in the tenant's time zone p_zone). With
-- p_from_year_end the period runs from the end of the financial year the date falls
-- in (the year begins on the 1st of month p_first_month), otherwise from the date
-- itself. The arithmetic is done in local time and the result placed in the tenant's
-- zone, so neither the session's TimeZone nor a daylight-saving change moves it: a
-- movement booked 2025-01-01 00:30 in Copenhagen belongs to 2025 and is kept until
-- 2031-01-01 00:00 Copenhagen time. Plain SQL without SET, every operator qualified,
-- so the planner may inline it.
CREATE OR REPLACE FUNCTION gdpr.retention_end(p_local timestamp, p_zone text, p_first_month integer,
    p_period interval, p_from_year_end boolean) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.timezone(p_zone,
               CASE WHEN p_from_year_end
                    THEN pg_catalog.date_trunc('year', p_local OPERATOR(pg_catalog.-)
                                                      pg_catalog.make_interval(0, p_first_month OPERATOR(pg_catalog.-) 1))
                         OPERATOR(pg_catalog.+) pg_catalog.make_interval(1, p_first_month OPERATOR(pg_catalog.-) 1)
                    ELSE p_local END
               OPERATOR(pg_catalog.+) p_period)
$$;
CREATE OR REPLACE FUNCTION gdpr.retention_end(p_at timestamptz, p_zone text, p_first_month integer,
    p_period interval, p_from_year_end boolean) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT gdpr.retention_end(pg_catalog.timezone(p_zone, p_at), p_zone, p_first_month, p_period, p_from_year_end)
$$;
ALTER FUNCTION gdpr.retention_end(timestamp, text, integer, interval, boolean) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.retention_end(timestamptz, text, integer, interval, boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.retention_end(timestamp, text, integer, interval, boolean),
                       gdpr.retention_end(timestamptz, text, integer, interval, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.retention_end(timestamp, text, integer, interval, boolean),
                          gdpr.retention_end(timestamptz, text, integer, interval, boolean) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.retention_end(timestamptz, text, integer, interval, boolean) IS
    'End of a retention period: from the end of the financial year (or the date) in the tenant''s time zone';

-- When a retained row (alias p_alias) of a declared table may be erased: a SQL
-- expression over the row (and the FROM items of gdpr.subject_source for the same
-- alias, which every caller includes), its tenant's time zone and financial year
-- looked up per row (gdpr.tenant_time_zone_sql), so one statement serves the rows of
-- many tenants. Made anew for each statement that uses it.
CREATE OR REPLACE FUNCTION gdpr.retain_due_expr(p_schema name, p_table name, p_alias text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
ALTER FUNCTION gdpr.retain_due_expr(name, name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.retain_due_expr(name, name, text) FROM PUBLIC;

-- Erase every retained row whose period ended by p_now: one DELETE per retain table
-- for all pending subjects, in foreign-key order: a retained table whose rows point to
-- another retained table's rows goes first (an invoice's lines before the invoice).
-- A due row that a row of any table still points to (a foreign key without ON DELETE
-- action) stays pending until that row is gone: the job never fails on it, and the
-- other tenants' rows are not held up. Returns {"tables": {t: rows}, "subjects_done": n}.
CREATE OR REPLACE FUNCTION gdpr.process_deferred_erasures(p_now timestamptz DEFAULT now())
RETURNS jsonb
-- JIT off: its compile time dominated these statements (as in gdpr.erase_batch)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
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
