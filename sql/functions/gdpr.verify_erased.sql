-- The proof of an erasure (GDPR Art. 5(2) accountability, Art. 17): before erasing,
-- gdpr.erase_batch stores keyed hashes of the subject's identifying values
-- (gdpr.erasure_proof, no values); here every catalog column and every text or json
-- column of every declared table, and of every other table whose foreign key points
-- at the subject's root table (pg_constraint), is searched for them, and so is the
-- text callers wrote about the subject into the engine's own tables (legal hold
-- reasons, audit event purposes and details): each run of 1..n words of each value
-- is hashed and compared. Zero hits is the bar.

-- Hits per subject, table and column (only where there are hits): the number of
-- values (cells) holding at least one former identifying value. Internal.
-- p_skip_deleted: right after erase_batch, in its transaction, the declared tables
-- whose rows of these subjects it has just deleted hold none (the erasure guard
-- refuses new ones), so the proof in gdpr.anonymize skips them; verify_erased does not.
CREATE OR REPLACE FUNCTION gdpr.proof_scan(p_kind text, p_tenant text, p_keys text[])
RETURNS TABLE (subject_key text, table_name text, column_name text, hits bigint)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM gdpr.proof_scan(p_kind, p_tenant, p_keys, false)
$$;
ALTER FUNCTION gdpr.proof_scan(text, text, text[]) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.proof_scan(text, text, text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION gdpr.proof_scan(p_kind text, p_tenant text, p_keys text[], p_skip_deleted boolean)
RETURNS TABLE (subject_key text, table_name text, column_name text, hits bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_salt bytea := gdpr.install_salt();
    v_root regclass;
    v_t record;
    v_src record;
    v_names text;
    v_cols text;
    v_tenant_cond text;
    v_key_col name;
    v_tenant_col name;
    v_max_tokens integer;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    v_root := format('%I.%I', v_s.table_schema, v_s.table_name)::regclass;
    -- (planned at each call: see the engine's own tables below)
    EXECUTE 'SELECT COALESCE(max(p.max_tokens), 1) FROM gdpr.erasure_proof p
              WHERE p.kind = $1 AND p.tenant = COALESCE($2, '''') AND p.subject_key = ANY ($3)'
       INTO v_max_tokens USING p_kind, p_tenant, p_keys;
    FOR v_t IN
        SELECT format('%I.%I', t.table_schema, t.table_name)::regclass AS rel, t.table_schema, t.table_name,
               true AS declared, NULL::smallint[] AS conkey, NULL::smallint[] AS confkey
          FROM gdpr.catalog_table t
         WHERE t.kind = p_kind AND NOT (p_skip_deleted AND t.on_erase = 'delete' AND t.link IN ('direct', 'via'))
        UNION ALL
        SELECT c.conrelid::regclass, n.nspname, r.relname, false, c.conkey, c.confkey
          FROM pg_catalog.pg_constraint c
          JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
         WHERE c.contype = 'f' AND c.confrelid = v_root
           AND NOT EXISTS (SELECT FROM gdpr.catalog_table t
                            WHERE t.table_schema = n.nspname AND t.table_name = r.relname)
    LOOP
        SELECT string_agg(format('%L', a.attname), ', ' ORDER BY a.attnum),
               string_agg(format('a.%I::text', a.attname), ', ' ORDER BY a.attnum)
          INTO v_names, v_cols
          FROM pg_catalog.pg_attribute a
          JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
         WHERE a.attrelid = v_t.rel AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid <> 'bytea'::regtype
           -- right after erasure, a column it has just set to NULL, a constant, a hash or
           -- a year holds exactly that; verify_erased searches it too
           AND NOT (p_skip_deleted AND EXISTS (
                    SELECT FROM gdpr.catalog_column c, gdpr.catalog_table ct
                     WHERE c.table_schema = v_t.table_schema AND c.table_name = v_t.table_name
                       AND c.column_name = a.attname AND c.erase IN ('null', 'constant', 'hash', 'year_only')
                       AND ct.table_schema = c.table_schema AND ct.table_name = c.table_name
                       AND (ct.on_erase <> 'retain' OR NOT c.part_of_record)))
           AND (ty.typcategory = 'S' OR a.atttypid IN ('json'::regtype, 'jsonb'::regtype)
                OR EXISTS (SELECT FROM gdpr.catalog_column c
                            WHERE c.table_schema = v_t.table_schema AND c.table_name = v_t.table_name
                              AND c.column_name = a.attname));
        CONTINUE WHEN v_cols IS NULL;
        IF NOT has_table_privilege(v_t.rel, 'SELECT') THEN
            RAISE WARNING 'proof: % is linked to % but pgdpr_owner may not read it; grant SELECT to check it',
                v_t.rel, v_root;
            CONTINUE;
        END IF;
        IF v_t.declared THEN
            SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        ELSE
            -- a table the catalog does not know, linked by a foreign key to the root
            SELECT ka.attname INTO v_key_col
              FROM unnest(v_t.conkey, v_t.confkey) AS k(col, fcol)
              JOIN pg_catalog.pg_attribute ka ON ka.attrelid = v_t.rel AND ka.attnum = k.col
              JOIN pg_catalog.pg_attribute fa ON fa.attrelid = v_root AND fa.attnum = k.fcol
             WHERE fa.attname = v_s.key_column;
            CONTINUE WHEN v_key_col IS NULL;
            SELECT ka.attname INTO v_tenant_col
              FROM unnest(v_t.conkey, v_t.confkey) AS k(col, fcol)
              JOIN pg_catalog.pg_attribute ka ON ka.attrelid = v_t.rel AND ka.attnum = k.col
              JOIN pg_catalog.pg_attribute fa ON fa.attrelid = v_root AND fa.attnum = k.fcol
             WHERE fa.attname = v_s.tenant_column;
            SELECT ''::text AS from_clause, 'true'::text AS where_clause, format('a.%I', v_key_col) AS key_expr,
                   CASE WHEN v_tenant_col IS NOT NULL THEN format('a.%I', v_tenant_col) END AS tenant_expr
              INTO v_src;
        END IF;
        v_tenant_cond := CASE WHEN v_src.tenant_expr IS NOT NULL AND v_types.tenant_type IS NOT NULL
                              THEN format('%s = $2::%s', v_src.tenant_expr, v_types.tenant_type) ELSE 'true' END;
        -- Each distinct value of the batch is hashed once, in one call for all its
        -- n-grams (with the batch's largest word count: more n-grams never match a
        -- value they should not); then each subject holding it checks the hashes
        -- against its own proof row, looked up by primary key.
        RETURN QUERY EXECUTE format($q$
            SELECT x.k::text, %1$L::text, d.col::text, sum(x.n)::bigint
              FROM (SELECT v.col, v.val, array_agg(s.k) AS ks, array_agg(1) AS ns
                      FROM %2$s a %3$s, pg_catalog.unnest($1::%4$s[]) AS s(k),
                           LATERAL unnest(ARRAY[%5$s]::text[], ARRAY[%6$s]::text[]) AS v(col, val)
                     WHERE %7$s = s.k AND %8$s AND %9$s AND v.val IS NOT NULL
                     GROUP BY v.col, v.val) d,
                   LATERAL (SELECT gdpr.proof_value_hashes(d.val, $5, $4) AS hv OFFSET 0) h,
                   LATERAL unnest(d.ks, d.ns) AS x(k, n),
                   LATERAL (SELECT p.hashes FROM gdpr.erasure_proof p
                             WHERE p.kind = $3 AND p.tenant = COALESCE($2, '') AND p.subject_key = x.k::text
                             LIMIT 1) p
             WHERE h.hv && p.hashes
             GROUP BY 1, 2, 3$q$,
            v_t.rel::text, v_t.rel, v_src.from_clause, v_types.key_type, v_names, v_cols,
            v_src.key_expr, v_tenant_cond, v_src.where_clause)
          USING p_keys, p_tenant, p_kind, v_salt, v_max_tokens;
    END LOOP;

    -- The engine's own tables that keep text a caller wrote about the subject: the
    -- reasons of their legal holds (redacted at erasure) and the purpose and details
    -- of their audit events (append-only: a value that got there can never be
    -- removed, so a hit there must at least be visible). Driven by the batch's keys:
    -- each subject's hold, events and proof row are looked up by index (LATERAL
    -- subqueries that are not pulled up). With hash and merge joins off (above), a
    -- plain join could instead compare every key with every event of the kind (the
    -- audit trail only grows) or every proof row of the tenant. Planned at each call
    -- (EXECUTE), like the queries above: a plan cached by the session while these
    -- tables were small (e.g. after a few single erasures) would keep scanning them
    -- whole as they grow.
    RETURN QUERY EXECUTE $q$
    SELECT x.k, 'gdpr.legal_hold'::text, 'reason'::text, count(*)
      FROM pg_catalog.unnest($1) AS x(k),
           LATERAL (SELECT h.reason FROM gdpr.legal_hold h
                     WHERE h.kind = $3 AND h.tenant IS NOT DISTINCT FROM $2 AND h.subject_key = x.k
                    OFFSET 0) h,
           LATERAL (SELECT p.hashes FROM gdpr.erasure_proof p
                     WHERE p.kind = $3 AND p.tenant = COALESCE($2, '') AND p.subject_key = x.k
                     LIMIT 1) p
     WHERE gdpr.proof_value_hashes(h.reason, $5, $4) && p.hashes
     GROUP BY x.k$q$
      USING p_keys, p_tenant, p_kind, v_salt, v_max_tokens;
    -- (the events of a batch share their purpose and details: each distinct value is
    -- hashed once, as in the tables above)
    RETURN QUERY EXECUTE $q$
    SELECT x.k, 'gdpr.audit_event'::text, d.col, count(*)
      FROM (SELECT c.col, c.val, array_agg(e.k) AS ks
              FROM pg_catalog.unnest($1) AS e(k),
                   LATERAL (SELECT a.purpose, a.details FROM gdpr.audit_event a
                             WHERE a.kind = $3 AND a.subject_key = e.k AND a.tenant IS NOT DISTINCT FROM $2
                            OFFSET 0) a,
                   LATERAL (VALUES ('purpose'::text, a.purpose), ('details', a.details::text)) AS c(col, val)
             WHERE c.val IS NOT NULL
             GROUP BY c.col, c.val) d,
           LATERAL (SELECT gdpr.proof_value_hashes(d.val, $5, $4) AS hv OFFSET 0) h,
           LATERAL pg_catalog.unnest(d.ks) AS x(k),
           LATERAL (SELECT p.hashes FROM gdpr.erasure_proof p
                     WHERE p.kind = $3 AND p.tenant = COALESCE($2, '') AND p.subject_key = x.k
                     LIMIT 1) p
     WHERE h.hv && p.hashes
     GROUP BY x.k, d.col$q$
      USING p_keys, p_tenant, p_kind, v_salt, v_max_tokens;
END $$;
ALTER FUNCTION gdpr.proof_scan(text, text, text[], boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.proof_scan(text, text, text[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.proof_scan(text, text, text[], boolean) IS
    'Hits of erased subjects'' former identifying values (by keyed hash) per table and column; internal';

-- Repeat the proof for one erased subject, later (e.g. after a restore and replay).
CREATE OR REPLACE FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_proof gdpr.erasure_proof;
    v_hits bigint;
    v_places jsonb;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    -- the subject must exist in the caller's club (an erased subject row stays)
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    SELECT * INTO v_proof FROM gdpr.erasure_proof e
     WHERE e.kind = p_kind AND e.tenant = COALESCE(v_row.tenant, '') AND e.subject_key = v_row.subject_key;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                                  'verdict', 'no_proof', 'anonymized', v_row.anonymized);
    END IF;
    SELECT COALESCE(sum(p.hits), 0),
           COALESCE(jsonb_agg(jsonb_build_object('table', p.table_name, 'column', p.column_name, 'hits', p.hits)), '[]')
      INTO v_hits, v_places
      FROM gdpr.proof_scan(p_kind, v_row.tenant, ARRAY[v_row.subject_key]) p;
    PERFORM gdpr.audit('verify_erased', p_kind, v_row.tenant, v_row.subject_key, NULL,
                       jsonb_build_object('hits', v_hits));
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                              'verdict', CASE WHEN v_hits = 0 THEN 'erased' ELSE 'not_erased' END,
                              'hits', v_hits, 'places', v_places, 'anonymized', v_row.anonymized,
                              'captured_at', v_proof.captured_at);
END $$;
ALTER FUNCTION gdpr.verify_erased(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.verify_erased(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.verify_erased(text, text, text) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.verify_erased(text, text, text) IS
    'Search what is left of an erased subject for its former identifying values (keyed hashes): hits = 0 is the bar';
