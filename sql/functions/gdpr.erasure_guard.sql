-- No new personal rows for an erased subject (GDPR Art. 17 and the seed's promise
-- that anonymisation is final). gdpr.anonymize locks the subject row FOR UPDATE
-- first; a booking inserted meanwhile waits on its foreign key check (FOR KEY SHARE)
-- and then lands after the erasure. This guard refuses it with a clear error.
--
-- Why a trigger (design.md prefers constraints): the rule reads another table's
-- row (the subject's anonymised-at), which no CHECK or foreign key can express
-- without changing the user's schema. It is kept cheap: one AFTER INSERT trigger per
-- statement with a transition table, one index lookup per inserted row's subject,
-- the query generated from the catalog at install time; no trigger on updates or
-- deletes. gdpr.install_erasure_guards() puts it on every declared direct/via table.

-- The guard's query for one declared table (NULL when the table is not guarded):
-- the first inserted row whose subject is anonymised, as '<kind> <key>'.
CREATE OR REPLACE FUNCTION gdpr.erasure_guard_query(p_schema name, p_table name) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_src record;
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    IF v_t.link IS NULL OR v_t.link NOT IN ('direct', 'via') OR v_s.anonymized_column IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_src FROM gdpr.subject_source(p_schema, p_table, 'a');
    -- FOR KEY SHARE: wait for an erasure in progress, then read its outcome.
    RETURN format(
        'SELECT %9$L || '' '' || r.%1$I::text FROM gdpr_new_rows a %2$s, %3$I.%4$I r
          WHERE %5$s AND r.%1$I = %6$s %7$s AND r.%8$I IS NOT NULL
          LIMIT 1 FOR KEY SHARE OF r',
        v_s.key_column, v_src.from_clause, v_s.table_schema, v_s.table_name, v_src.where_clause, v_src.key_expr,
        CASE WHEN v_s.tenant_column IS NOT NULL AND v_src.tenant_expr IS NOT NULL
             THEN format('AND r.%I = %s', v_s.tenant_column, v_src.tenant_expr) ELSE '' END,
        v_s.anonymized_column, v_s.kind);
END $$;
ALTER FUNCTION gdpr.erasure_guard_query(name, name) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erasure_guard_query(name, name) FROM PUBLIC;

-- The trigger function. Its query comes from the trigger's argument, generated from
-- the catalog by gdpr.install_erasure_guards (only a role that may EXECUTE this
-- function, i.e. pgdpr_owner or a superuser, can create a trigger with it), so the
-- insert path does no catalog lookup.
CREATE OR REPLACE FUNCTION gdpr.erasure_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_sql text := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0]
                       ELSE gdpr.erasure_guard_query(TG_TABLE_SCHEMA, TG_TABLE_NAME) END;
    v_subject text;
BEGIN
    IF v_sql IS NULL OR v_sql = '' THEN
        RETURN NULL;
    END IF;
    EXECUTE v_sql INTO v_subject;
    IF v_subject IS NOT NULL THEN
        RAISE EXCEPTION '% is anonymised: new rows in %.% are refused', v_subject,
            quote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME)
            USING ERRCODE = 'check_violation',
                  HINT = 'The subject was erased (GDPR Art. 17); create a new one instead.';
    END IF;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.erasure_guard() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erasure_guard() FROM PUBLIC;
COMMENT ON FUNCTION gdpr.erasure_guard() IS
    'Statement trigger: refuses new rows that point at an anonymised subject';

-- Put the guard on every declared direct/via table of the kind(s) that lacks it, and
-- renew it where the catalog changed its query. Called by every `pgdpr migrate`
-- (below) and by gdpr.anonymize (a catalog applied after the last migrate);
-- declare_table grants pgdpr_owner TRIGGER for that.
CREATE OR REPLACE FUNCTION gdpr.install_erasure_guards(p_kind text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t record;
    v_n integer := 0;
BEGIN
    FOR v_t IN
        SELECT q.*, g.tgargs AS current_args
          FROM (SELECT t.table_schema, t.table_name,
                       format('%I.%I', t.table_schema, t.table_name)::regclass AS rel,
                       gdpr.erasure_guard_query(t.table_schema, t.table_name) AS query
                  FROM gdpr.catalog_table t JOIN gdpr.subject_kind s USING (kind)
                 WHERE (p_kind IS NULL OR t.kind = p_kind) AND t.link IN ('direct', 'via')
                   AND s.anonymized_column IS NOT NULL) q
          LEFT JOIN pg_catalog.pg_trigger g ON g.tgrelid = q.rel AND g.tgname = 'gdpr_erasure_guard'
         WHERE g.tgargs IS DISTINCT FROM convert_to(q.query, 'UTF8') || '\x00'::bytea
    LOOP
        BEGIN
            IF v_t.current_args IS NOT NULL THEN
                EXECUTE format('DROP TRIGGER gdpr_erasure_guard ON %s', v_t.rel);
            END IF;
            EXECUTE format('CREATE TRIGGER gdpr_erasure_guard AFTER INSERT ON %s
                            REFERENCING NEW TABLE AS gdpr_new_rows
                            FOR EACH STATEMENT EXECUTE FUNCTION gdpr.erasure_guard(%L)',
                           v_t.rel, v_t.query);
            v_n := v_n + 1;
        EXCEPTION WHEN insufficient_privilege THEN
            -- a catalog declared before declare_table granted TRIGGER: the next
            -- `pgdpr migrate` (run by the table owner) installs it; erasure goes on.
            RAISE WARNING 'erasure guard not installed on %: run pgdpr migrate', v_t.rel;
        END;
    END LOOP;
    RETURN v_n;
END $$;
ALTER FUNCTION gdpr.install_erasure_guards(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.install_erasure_guards(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.install_erasure_guards(text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.install_erasure_guards(text) IS
    'Install (or renew) the erasure guard trigger on every declared direct/via table';

SELECT gdpr.install_erasure_guards();
