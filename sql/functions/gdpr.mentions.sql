-- Mentions of an erased subject in OTHER subjects' rows (GDPR Art. 17): a note on
-- another customer ("ring til Ingeborg Ørnsholt-Bæk, 20 99 88 77") names the erased
-- person and is their personal data too. The erasure (gdpr.erase_batch, step 5b)
-- removes the subject's specific forms (gdpr.redact_mentions: the full name, a title
-- with the family name, e-mail, phone, CPR, account, address, customer number, card,
-- key fob; not a first name or a postcode alone, which other people share) from
-- every declared free-text column (category free_text) of the tenant.
--
-- Affordable because a trigram index (pg_trgm, GIN) on gdpr.mention_text(column)
-- finds the few rows that can hold a mention: the text folded, æøå written ae oe aa,
-- separators removed, so '20 99 88 77', '2099-8877' and 'tlf.20998877' all contain
-- the key '20998877'. The engine creates and maintains these indexes
-- (gdpr.mention_index_plan: `pgdpr migrate` and catalog apply build them concurrently
-- after their transaction; gdpr.install_mention_indexes() in psql).
-- Without pg_trgm the same search reads the tenant's rows in full (correct, slower).

-- Create pg_trgm where the server has it and the installing role may (it is a
-- trusted extension: a database owner may). Otherwise say so and go on.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_trgm') THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_trgm') THEN
            BEGIN
                CREATE EXTENSION pg_trgm;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE WARNING 'pg_trgm could not be created (%): erasure searches other subjects'' free text without an index',
                    SQLERRM;
            END;
        ELSE
            RAISE WARNING 'pg_trgm is not available on this server: erasure searches other subjects'' free text without an index';
        END IF;
    END IF;
END $$;

-- The declared free-text columns searched for mentions: category free_text, of a
-- text or json type; in a retained table only the columns that are not part of the
-- statutory record (Bogføringsloven: the record stays unaltered until its period ends).
CREATE OR REPLACE FUNCTION gdpr.mention_columns()
RETURNS TABLE (table_schema name, table_name name, column_name name, kind text, is_json boolean, indexable boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.table_schema, c.table_name, c.column_name, t.kind,
           a.atttypid IN ('json'::regtype, 'jsonb'::regtype),
           a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype)
      FROM gdpr.catalog_column c
      JOIN gdpr.catalog_table t USING (table_schema, table_name)
      JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                         AND a.attname = c.column_name AND NOT a.attisdropped
     WHERE c.category = 'free_text'
       AND (t.on_erase <> 'retain' OR NOT c.part_of_record)
       AND a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype,
                          'json'::regtype, 'jsonb'::regtype)
     ORDER BY 1, 2, 3
$$;
ALTER FUNCTION gdpr.mention_columns() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.mention_columns() FROM PUBLIC;

-- The statements that create the trigram index of every mention column that lacks
-- it, and rebuild those made with another version of gdpr.mention_text (the index
-- comment records a hash of its definition) or left invalid by a failed concurrent
-- build. Index name: <table>_<column>_gdpr_mention. With p_concurrently the CLI runs
-- them one by one outside a transaction (CREATE INDEX CONCURRENTLY: `pgdpr migrate`
-- and catalog apply, after their own transaction, so neither holds its locks nor
-- blocks writes to the tables for the minutes a build takes at scale).
CREATE OR REPLACE FUNCTION gdpr.mention_index_plan(p_concurrently boolean DEFAULT true)
RETURNS TABLE (step integer, statement text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_trgm name;
    v_version text;
    v_c record;
    v_name text;
    v_index regclass;
    v_conc text := CASE WHEN p_concurrently THEN ' CONCURRENTLY' ELSE '' END;
BEGIN
    SELECT n.nspname INTO v_trgm
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF v_trgm IS NULL THEN
        RETURN;
    END IF;
    v_version := 'pgdpr mention search ' || md5(pg_get_functiondef('gdpr.mention_text(text)'::regprocedure)
                                                 || pg_get_functiondef('gdpr.redact_fold(text)'::regprocedure));
    step := 0;
    FOR v_c IN SELECT * FROM gdpr.mention_columns() m WHERE m.indexable LOOP
        v_name := left(v_c.table_name || '_' || v_c.column_name, 49) || '_gdpr_mention';
        v_index := to_regclass(format('%I.%I', v_c.table_schema, v_name));
        CONTINUE WHEN v_index IS NOT NULL AND obj_description(v_index, 'pg_class') IS NOT DISTINCT FROM v_version
                      AND (SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = v_index);
        IF v_index IS NOT NULL THEN
            step := step + 1;
            statement := format('DROP INDEX%s %s', v_conc, v_index);
            RETURN NEXT;
        END IF;
        step := step + 1;
        statement := format('CREATE INDEX%s %I ON %I.%I USING gin (gdpr.mention_text(%I) %I.gin_trgm_ops)',
                            v_conc, v_name, v_c.table_schema, v_c.table_name, v_c.column_name, v_trgm);
        RETURN NEXT;
        step := step + 1;
        statement := format('COMMENT ON INDEX %I.%I IS %L', v_c.table_schema, v_name, v_version);
        RETURN NEXT;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION gdpr.mention_index_plan(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.mention_index_plan(boolean) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.mention_index_plan(boolean) IS
    'Statements that create or rebuild the trigram indexes of the mention search';

-- The same in the caller's transaction (plain CREATE INDEX: writes to the table wait
-- for the build), for psql. Runs as the caller (an index needs the table's owner); a
-- table the caller does not own is a WARNING. Returns the indexes created.
CREATE OR REPLACE FUNCTION gdpr.install_mention_indexes() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_p record;
    v_n integer := 0;
BEGIN
    FOR v_p IN SELECT * FROM gdpr.mention_index_plan(false) ORDER BY step LOOP
        BEGIN
            EXECUTE v_p.statement;
            v_n := v_n + CASE WHEN v_p.statement LIKE 'CREATE INDEX%' THEN 1 ELSE 0 END;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'mention index not created (%): run pgdpr migrate as the table''s owner', SQLERRM;
        END;
    END LOOP;
    RETURN v_n;
END $$;
REVOKE ALL ON FUNCTION gdpr.install_mention_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.install_mention_indexes() TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.install_mention_indexes() IS
    'Create (or rebuild) the trigram indexes of the mention search on every declared free-text column';

-- Remove the mentions of a batch of subjects of one tenant from every mention column
-- (step 5b of gdpr.erase_batch). p_mentions: per subject {"pattern", "keys"} from
-- gdpr.redact_capture. One UPDATE per column for the whole batch: rows whose text
-- (gdpr.mention_text) contains a key of any subject (LIKE, the trigram index), each
-- rewritten with the mention forms of the subjects whose keys it contains, and only
-- when that changes it. The guard triggers let these updates through
-- (gdpr.erasure_mention_pass). Returns {table.column: rows}.
CREATE OR REPLACE FUNCTION gdpr.erase_mentions(p_kind text, p_tenant text, p_mentions jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    v_patterns text[];
    v_likes text[];
    v_c record;
    v_src record;
    v_s gdpr.subject_kind;
    v_types record;
    v_tenant_cond text;
    v_new text;
    v_count bigint;
    v_result jsonb := '{}';
BEGIN
    SELECT array_agg(m.p ORDER BY m.o, k.o), array_agg(k.k ORDER BY m.o, k.o)
      INTO v_patterns, v_likes
      FROM (SELECT split_part(e.value ->> 'pattern', E'\x1f', 1) AS p, e.value -> 'keys' AS keys, e.o
              FROM jsonb_array_elements(p_mentions) WITH ORDINALITY AS e(value, o)) m,
           jsonb_array_elements_text(m.keys) WITH ORDINALITY AS k(k, o)
     WHERE m.p <> '';
    IF v_likes IS NULL THEN
        RETURN v_result;
    END IF;
    INSERT INTO gdpr.erasure_mention_pass (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    FOR v_c IN SELECT * FROM gdpr.mention_columns() LOOP
        SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_c.kind;
        SELECT * INTO v_types FROM gdpr.subject_types(v_c.kind);
        SELECT * INTO v_src FROM gdpr.subject_source(v_c.table_schema, v_c.table_name, 'a');
        v_tenant_cond := CASE WHEN p_tenant IS NOT NULL AND v_src.tenant_expr IS NOT NULL
                              THEN format('%s = $3::%s', v_src.tenant_expr, v_types.tenant_type) ELSE 'true' END;
        -- the mention forms of the subjects whose keys the row's text contains
        v_new := format('gdpr.redact_mentions(a.%1$I, (SELECT string_agg(DISTINCT s.p, ''|'')
                             FROM (SELECT gdpr.mention_text(a.%1$I::text) AS t OFFSET 0) x,
                                  unnest($1::text[], $2::text[]) AS s(p, lk)
                            WHERE x.t LIKE s.lk))', v_c.column_name);
        EXECUTE format(
            'WITH u AS (UPDATE %1$I.%2$I a SET %3$I = %4$s FROM (SELECT) AS one %5$s
                         WHERE %6$s AND %7$s AND gdpr.mention_text(a.%3$I::text) LIKE ANY ($2::text[])
                           AND %4$s IS DISTINCT FROM a.%3$I
                         RETURNING 1)
             SELECT count(*) FROM u',
            v_c.table_schema, v_c.table_name, v_c.column_name, v_new, v_src.from_clause,
            v_tenant_cond, v_src.where_clause)
           INTO v_count USING v_patterns, v_likes, p_tenant;
        IF v_count > 0 THEN
            v_result := v_result || jsonb_build_object(
                format('%I.%I.%I', v_c.table_schema, v_c.table_name, v_c.column_name), v_count);
        END IF;
    END LOOP;
    DELETE FROM gdpr.erasure_mention_pass WHERE xid = pg_current_xact_id();
    RETURN v_result;
END $$;
ALTER FUNCTION gdpr.erase_mentions(text, text, jsonb) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erase_mentions(text, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.erase_mentions(text, text, jsonb) IS
    'Remove a batch of subjects'' mentions from every declared free-text column of the tenant; internal';
