-- No new personal rows for an erased subject (GDPR Art. 17 and the seed's promise
-- that anonymisation is final). gdpr.anonymize locks the subject row FOR UPDATE
-- first; a booking inserted meanwhile waits on its foreign key check (FOR KEY SHARE)
-- and then lands after the erasure. This guard refuses it with a clear error.
--
-- Why a trigger (design.md prefers constraints): the rule reads another table's
-- row (the subject's anonymised-at), which no CHECK or foreign key can express
-- without changing the user's schema. It is kept cheap: one AFTER INSERT trigger per
-- statement with a transition table, one index lookup per statement batch, no
-- trigger on updates or deletes. It is generic: the function reads the catalog, and
-- gdpr.install_erasure_guards() puts it on every declared direct/via table.

CREATE OR REPLACE FUNCTION gdpr.erasure_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_src record;
    v_key text;
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = TG_TABLE_SCHEMA AND table_name = TG_TABLE_NAME;
    IF NOT FOUND OR v_t.link NOT IN ('direct', 'via') THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    IF v_s.anonymized_column IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_src FROM gdpr.subject_source(TG_TABLE_SCHEMA, TG_TABLE_NAME, 'a');
    -- FOR KEY SHARE: wait for an erasure in progress, then read its outcome.
    EXECUTE format(
        'SELECT r.%1$I::text FROM gdpr_new_rows a %2$s, %3$I.%4$I r
          WHERE %5$s AND r.%1$I = %6$s %7$s AND r.%8$I IS NOT NULL
          LIMIT 1 FOR KEY SHARE OF r',
        v_s.key_column, v_src.from_clause, v_s.table_schema, v_s.table_name, v_src.where_clause, v_src.key_expr,
        CASE WHEN v_s.tenant_column IS NOT NULL AND v_src.tenant_expr IS NOT NULL
             THEN format('AND r.%I = %s', v_s.tenant_column, v_src.tenant_expr) ELSE '' END,
        v_s.anonymized_column)
       INTO v_key;
    IF v_key IS NOT NULL THEN
        RAISE EXCEPTION '% % is anonymised: new rows in %.% are refused', v_t.kind, v_key,
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

-- Put the guard on every declared direct/via table of the kind(s) that lacks it.
-- Called by every `pgdpr migrate` (below) and by gdpr.anonymize (a catalog applied
-- after the last migrate); declare_table grants pgdpr_owner TRIGGER for that.
CREATE OR REPLACE FUNCTION gdpr.install_erasure_guards(p_kind text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t record;
    v_n integer := 0;
BEGIN
    FOR v_t IN
        SELECT t.table_schema, t.table_name
          FROM gdpr.catalog_table t JOIN gdpr.subject_kind s USING (kind)
         WHERE (p_kind IS NULL OR t.kind = p_kind) AND t.link IN ('direct', 'via') AND s.anonymized_column IS NOT NULL
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
                            WHERE g.tgrelid = format('%I.%I', t.table_schema, t.table_name)::regclass
                              AND g.tgname = 'gdpr_erasure_guard')
    LOOP
        BEGIN
            EXECUTE format('CREATE TRIGGER gdpr_erasure_guard AFTER INSERT ON %I.%I
                            REFERENCING NEW TABLE AS gdpr_new_rows
                            FOR EACH STATEMENT EXECUTE FUNCTION gdpr.erasure_guard()',
                           v_t.table_schema, v_t.table_name);
            v_n := v_n + 1;
        EXCEPTION WHEN insufficient_privilege THEN
            -- a catalog declared before declare_table granted TRIGGER: the next
            -- `pgdpr migrate` (run by the table owner) installs it; erasure goes on.
            RAISE WARNING 'erasure guard not installed on %.%: run pgdpr migrate',
                quote_ident(v_t.table_schema), quote_ident(v_t.table_name);
        END;
    END LOOP;
    RETURN v_n;
END $$;
ALTER FUNCTION gdpr.install_erasure_guards(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.install_erasure_guards(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.install_erasure_guards(text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.install_erasure_guards(text) IS
    'Install the erasure guard trigger on every declared direct/via table that lacks it';

SELECT gdpr.install_erasure_guards();
