-- Residue of erased values outside the tables (GDPR Art. 17). ANALYZE keeps sampled
-- column values in pg_statistic: the most common values and the histogram bounds that
-- pg_stats shows (for a unique column such as an e-mail address, the bounds are values
-- of real rows). An erased customer's e-mail stays there until the table is analysed
-- again, and autovacuum analyses a big table only after a tenth of it has changed:
-- for months, after a few erasures. So after erasures the ticker analyses the declared
-- tables whose statistics are older than the latest erasure of their kind (at the end
-- of `gdpr.tick()`, i.e. within a minute under pg_cron), not each erasure: ANALYZE
-- samples 30,000 rows of each table (docs/erasure.md, "Residue outside tables").
-- The audit trail holds no caller text (gdpr.audit_note, deleted with the subject).

-- The declared tables whose planner statistics predate the latest erasure of their
-- kind (or whose last analysis the server no longer knows, while statistics exist).
CREATE OR REPLACE FUNCTION gdpr.erasure_stale_statistics()
RETURNS TABLE (table_name regclass, erased_at timestamptz, analyzed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
REVOKE ALL ON FUNCTION gdpr.erasure_stale_statistics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.erasure_stale_statistics() TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.erasure_stale_statistics() IS
    'Declared tables whose planner statistics (pg_stats) may still hold values of erased subjects';

-- ANALYZE those tables, as the caller (SECURITY INVOKER: ANALYZE needs the table's owner,
-- a superuser, or from PostgreSQL 17 the MAINTAIN privilege; the pg_cron ticker is a
-- superuser). A table the caller may not analyse is reported (analyzed = false), never
-- skipped silently. Returns each table with the time its ANALYZE took.
CREATE OR REPLACE FUNCTION gdpr.analyze_erased_tables()
RETURNS TABLE (table_name regclass, analyzed boolean, ms numeric)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
REVOKE ALL ON FUNCTION gdpr.analyze_erased_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.analyze_erased_tables() TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.analyze_erased_tables() IS
    'ANALYZE the declared tables whose statistics predate the latest erasure (the ticker calls it)';
