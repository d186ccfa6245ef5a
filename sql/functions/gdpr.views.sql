-- The generated protected views (design.md, "Security model"; docs/rights.md).
--
-- gdpr.refresh_views() builds, from the catalog, one view <schema>_app.<table> (the
-- club schema: club_app) for every declared table and for every other table of that
-- schema that carries the tenant column, and puts row security on the base tables:
--   * views are owned by pgdpr_view_owner (no BYPASSRLS), so the base tables' forced
--     row policies filter every read by the querying role's club;
--   * a view over a table with a tenant column is a plain view (no security_barrier)
--     whose only row filter is that row security, and which masks in its select list
--     only. PostgreSQL 15 plans a security_barrier view as a subquery of its own and
--     drops the partial paths of any query level that has InitPlans (the access
--     levels, the tenant policy), so such a view never scanned in parallel. A plain
--     view is pulled up into the caller's query: its InitPlans sit at the top level,
--     where a Gather can take them. It stays leak-proof without the barrier because
--       - row security orders the policy quals before every qual of the caller's
--         query (security levels) unless the caller's qual is LEAKPROOF, which no
--         user-defined function can be without superuser rights, and
--       - the caller's quals are written against the view's output columns, which
--         after the pull-up ARE the masking expressions: a function in WHERE receives
--         gdpr.render_sensitive(...) / gdpr.render_free_text(...), never the raw value;
--     the persona suite's leaky-function probes run against exactly this form.
--     A view without a tenant column gates its rows in its own WHERE clause, so it
--     keeps security_barrier (that qual must run before the caller's);
--   * each sensitive column reads gdpr.render_sensitive(col::text, access) with the
--     access computed ONCE per query: an uncorrelated scalar subquery
--     (SELECT gdpr.sensitive_access(area)) per column, an InitPlan evaluated once, so
--     no function but the inlined CASE runs per row (a CTE would keep the view from
--     being pulled up); a sensitive_when column is masked only on the rows where its
--     flag is true;
--   * free-text columns read CPR-shaped numbers masked (gdpr.render_free_text);
--   * register access 'none' sees no row: the tenant policy's InitPlan yields NULL
--     for it (no per-row cost); a table without tenant column is gated in the view;
--   * writes go through one INSTEAD OF trigger, gdpr.view_write(), which records
--     every correction of a declared column of a subject (Art. 16, gdpr.rectification)
--     and needs
--     register access write, and the 'allowed' right to write a sensitive column, to
--     change a row that is sensitive (its sensitive_when flag set), to change a
--     sensitive_when flag, and to clear a flag another table's sensitive_when copies
--     through a foreign key (custom_fields.is_sensitive: ON UPDATE CASCADE would
--     unmask every value of the field);
--   * the tenant policy is <tenant col> = (SELECT CASE WHEN register access <> 'none'
--     THEN gdpr.current_tenant()::<type> END): no
--     table read, an index key, evaluated once (an InitPlan; the cast inside it, or it
--     would run per row); the support policy (for reads through the views only) lets
--     pgdpr_support see a club while its grant lasts (bounded by the least and the
--     greatest granted tenant, for the planner's estimate: see below).
-- Staff and application roles get privileges on the views only, never on base tables.
-- Run by `pgdpr migrate` and `pgdpr catalog apply`, as the owner of the tables.

-- The app schema of a base schema: club -> club_app.
CREATE OR REPLACE FUNCTION gdpr.app_schema(p_schema name) RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_schema || '_app')::name
$$;

-- The tables refresh_views() protects: declared ones (with area and tenant column)
-- and the schema's other tables having a tenant column of a subject kind there; the
-- tenant table itself (the target of the root table's tenant foreign key) is keyed
-- by its own key column.
CREATE OR REPLACE FUNCTION gdpr.protected_tables()
RETURNS TABLE (table_schema name, table_name name, relid oid, area text, tenant_column name,
               tenant_type text, declared boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
REVOKE ALL ON FUNCTION gdpr.protected_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.protected_tables() TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.protected_tables() IS
    'Tables that get a protected view and row security: declared ones and the tenant-keyed rest of their schemas';

-- (Re)generate every protected view, its trigger and grants, and the row policies.
CREATE OR REPLACE FUNCTION gdpr.refresh_views() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
END $$;
REVOKE ALL ON FUNCTION gdpr.refresh_views() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.refresh_views() TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.refresh_views() IS
    'Regenerate the protected views (<schema>_app.*) and the row policies from the catalog; run as the tables'' owner';

-- INSTEAD OF trigger of every generated view: one write path that checks register
-- access 'write', keeps the caller in their own club, and writes a sensitive column
-- only for a caller with the 'allowed' right (an unchanged masked value is left
-- alone). Unmasking without writing the value is refused the same way, generically
-- from the catalog and the foreign keys:
--   * an UPDATE of a row that is sensitive (a sensitive_when flag true in OLD): moving
--     a sensitive custom field value to a plain field, or clearing its flag, would
--     show it in clear;
--   * an UPDATE that changes a sensitive_when flag column;
--   * an UPDATE that turns off (true -> not true) a column that a foreign key copies
--     into another table's sensitive_when flag (club.custom_fields.is_sensitive: the
--     composite key with ON UPDATE CASCADE copies it to every value of the field);
--     the right asked for is that of the referencing table's area (customers).
-- Database errors are re-raised without their DETAIL, which would print the whole
-- failing row, sensitive values included.
CREATE OR REPLACE FUNCTION gdpr.view_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
END $$;
ALTER FUNCTION gdpr.view_write() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.view_write() FROM PUBLIC;
COMMENT ON FUNCTION gdpr.view_write() IS
    'INSTEAD OF trigger of the generated views: register access, own club, sensitive columns only with the right';
