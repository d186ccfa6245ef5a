-- Erase subjects (GDPR Art. 17; docs/erasure.md "Anonymize user data"): irreversible. Per
-- the catalog, rows are deleted, scrubbed, or retained (deferred erasure); the
-- subject row stays with a visible anonymised state; free text loses every
-- identifying value of the subject; rows the subject row owns (its address) go when
-- nothing else points to them. Everything is generated from the catalog, one
-- statement per declared table for a whole batch of subjects (set-based).

-- The erasure itself, for a batch of locked, not yet anonymised, not held subjects
-- of one tenant. Internal (no grants): gdpr.anonymize, gdpr.anonymize_many and the
-- ledger replay call it. Returns {"keys", "tables": {t: {deleted, anonymized,
-- retained}}, "hits": {key: n}, "places": [...]}.
CREATE OR REPLACE FUNCTION gdpr.erase_batch(p_kind text, p_tenant text, p_keys text[], p_reason text,
    p_rule_id bigint, p_category text)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    -- Nested loops from the batch's keys into the (tenant, subject) indexes: a batch is
    -- a few hundred rows scattered over a big table, and each subject's rows come
    -- together, so its redaction expressions compile once (PostgreSQL caches 32).
    -- A hash join would read the tenant's whole table in physical order instead.
    SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_root text;
    v_key_match text;
    v_tenant_match text;
    v_name_cols text;
    v_other_cols text;
    v_salt bytea := gdpr.install_salt();
    v_keys text[];
    v_patterns text[];
    v_t record;
    v_src record;
    v_set text;
    v_tenant_cond text;
    v_count bigint;
    v_tables jsonb := '{}';
    v_owned jsonb := '{}';
    v_ids text[];
    v_table text;
    v_root_t gdpr.catalog_table;
    v_id_type text;
    v_refs text;
    v_proof jsonb;
    v_reason text;
    v_pattern text;
    v_extra_cols text;
    v_groups text;
    v_owned_join text;
    v_mentions jsonb;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT * INTO v_root_t FROM gdpr.catalog_table
     WHERE table_schema = v_s.table_schema AND table_name = v_s.table_name;
    v_root := format('%I.%I', v_s.table_schema, v_s.table_name);
    v_key_match := format('= ANY ($1::%s[])', v_types.key_type);
    v_tenant_match := CASE WHEN v_s.tenant_column IS NOT NULL THEN format('= $2::%s', v_types.tenant_type) END;

    -- 1. Capture, before anything changes, for the whole batch in one statement: the
    --    identifying values (the columns of category 'name' are names, matched as whole
    --    words; the full name is the names joined by a space; names shorter than 2 and
    --    other values shorter than 3 characters are left out: they would shred every
    --    text). From them and the subject's bank and address values, per subject, the
    --    redaction pattern (gdpr.redact_capture: every form staff write the values in,
    --    the subject-specific forms first, then those for its own rows only) and the keys
    --    of the mention search (step 5b). The patterns stay in this transaction's memory:
    --    the proof (step 7) searches with them, and nothing of them is stored.
    SELECT COALESCE(string_agg(format('r.%I::text', i.c), ', ' ORDER BY i.o) FILTER (WHERE cc.category = 'name'), ''),
           COALESCE(string_agg(format('r.%I::text', i.c), ', ' ORDER BY i.o) FILTER (WHERE cc.category IS DISTINCT FROM 'name'), '')
      INTO v_name_cols, v_other_cols
      FROM unnest(v_s.identifying) WITH ORDINALITY AS i(c, o)
      LEFT JOIN gdpr.catalog_column cc
        ON cc.table_schema = v_s.table_schema AND cc.table_name = v_s.table_name AND cc.column_name = i.c;
    -- Beyond the identifying columns, the redaction also takes the subject's bank and
    -- address values: the root's declared columns of category bank or address and those
    -- of the rows it owns (its address), each alone and, per table and category, in
    -- runs written together (registration and account number; street, postcode, city).
    WITH src AS (
        SELECT 'r' AS alias, v_s.table_schema AS sch, v_s.table_name AS tab, NULL::text AS joined, 0 AS n
        UNION ALL
        SELECT 'o' || row_number() OVER (ORDER BY t.position, t.table_schema, t.table_name),
               t.table_schema, t.table_name,
               format('LEFT JOIN %I.%I %s ON %s.%I = r.%I%s', t.table_schema, t.table_name, '%1$s', '%1$s',
                      t.parent_column, t.link_column,
                      CASE WHEN v_s.tenant_column IS NOT NULL AND EXISTS (
                                SELECT FROM pg_attribute a WHERE a.attrelid = format('%I.%I', t.table_schema, t.table_name)::regclass
                                   AND a.attname = v_s.tenant_column AND a.attnum > 0 AND NOT a.attisdropped)
                           THEN format(' AND %s.%I = r.%I', '%1$s', v_s.tenant_column, v_s.tenant_column) ELSE '' END),
               1
          FROM gdpr.catalog_table t WHERE t.kind = p_kind AND t.link = 'owned'
    ), cols AS (
        SELECT src.alias, src.n, c.category, a.attnum, a.attname
          FROM src
          JOIN gdpr.catalog_column c ON c.table_schema = src.sch AND c.table_name = src.tab
          JOIN pg_attribute a ON a.attrelid = format('%I.%I', src.sch, src.tab)::regclass AND a.attname = c.column_name
         WHERE c.category IN ('bank', 'address')
           AND NOT (src.n = 0 AND c.column_name = ANY (v_s.identifying))
    )
    SELECT COALESCE((SELECT string_agg(format('%s.%I::text', cols.alias, cols.attname), ', '
                                       ORDER BY cols.n, cols.alias, cols.attnum) FROM cols), ''),
           COALESCE((SELECT string_agg(g.expr, ', ' ORDER BY g.alias, g.category)
                       FROM (SELECT cols.alias, cols.category,
                                    format('concat_ws(E''\x1f'', %s)', string_agg(format('%s.%I::text', cols.alias, cols.attname),
                                                                                ', ' ORDER BY cols.attnum)) AS expr
                               FROM cols GROUP BY cols.alias, cols.category HAVING count(*) > 1) g), ''),
           COALESCE((SELECT string_agg(format(src.joined, src.alias), ' ' ORDER BY src.alias) FROM src WHERE src.n = 1), '')
      INTO v_extra_cols, v_groups, v_owned_join;
    EXECUTE format($q$
        WITH r AS MATERIALIZED (
                SELECT r.%1$I::text AS k, ARRAY[%2$s]::text[] AS names, ARRAY[%3$s]::text[] AS others,
                       ARRAY[%6$s]::text[] AS extra, ARRAY[%7$s]::text[] AS groups
                  FROM %4$s r %8$s WHERE %5$s)
        -- the redaction pattern and the mention search's keys come from r alone
        -- (gdpr.redact_capture)
        SELECT array_agg(r.k ORDER BY r.k), array_agg(x.pattern ORDER BY r.k),
               jsonb_agg(jsonb_build_object('pattern', x.pattern, 'keys', x.mention_keys) ORDER BY r.k)
          FROM r, LATERAL gdpr.redact_capture(r.names, r.others || r.extra, r.groups) x$q$,
        v_s.key_column, v_name_cols, v_other_cols, v_root,
        gdpr.subject_filter(v_s.table_schema, v_s.table_name, 'r', v_key_match, v_tenant_match),
        v_extra_cols, v_groups, v_owned_join)
      INTO v_keys, v_patterns, v_mentions USING p_keys, p_tenant;
    IF v_keys IS NULL THEN
        RETURN jsonb_build_object('keys', '[]'::jsonb, 'tables', '{}'::jsonb, 'proof', '{}'::jsonb);
    END IF;

    -- 2. The rows the subject rows own (addresses), remembered before the root row
    --    lets go of them.
    FOR v_t IN SELECT * FROM gdpr.catalog_table WHERE kind = p_kind AND link = 'owned' AND on_erase = 'delete' LOOP
        EXECUTE format('SELECT array_agg(r.%I::text) FROM %s r WHERE %s', v_t.link_column, v_root,
                       gdpr.subject_filter(v_s.table_schema, v_s.table_name, 'r', v_key_match, v_tenant_match))
           INTO v_ids USING v_keys, p_tenant;
        v_owned := v_owned || jsonb_build_object(format('%I.%I', v_t.table_schema, v_t.table_name),
                                                 to_jsonb(COALESCE(v_ids, '{}')));
    END LOOP;

    -- 3. Every other declared table, children before parents: one statement per table.
    FOR v_t IN
        WITH RECURSIVE d AS (
            SELECT t.table_schema, t.table_name, 0 AS depth FROM gdpr.catalog_table t
             WHERE t.kind = p_kind AND t.link = 'root'
            UNION ALL
            SELECT t.table_schema, t.table_name, 1 FROM gdpr.catalog_table t
             WHERE t.kind = p_kind AND t.link IN ('direct', 'owned') AND NOT (t.link = 'owned' AND t.on_erase = 'delete')
            UNION ALL
            SELECT t.table_schema, t.table_name, d.depth + 1 FROM gdpr.catalog_table t
              JOIN d ON t.parent_schema = d.table_schema AND t.parent_name = d.table_name
             WHERE t.kind = p_kind AND t.link = 'via')
        SELECT t.*, d.depth FROM d JOIN gdpr.catalog_table t USING (table_schema, table_name)
         WHERE d.depth > 0
         ORDER BY d.depth DESC, t.position, t.table_schema, t.table_name
    LOOP
        v_table := format('%I.%I', v_t.table_schema, v_t.table_name);
        IF v_t.on_erase = 'delete' THEN
            EXECUTE format('WITH d AS (DELETE FROM %s a WHERE %s RETURNING 1) SELECT count(*) FROM d', v_table,
                           gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a', v_key_match, v_tenant_match))
               INTO v_count USING v_keys, p_tenant;
            v_tables := v_tables || jsonb_build_object(v_table,
                jsonb_build_object('deleted', v_count, 'anonymized', 0, 'retained', 0));
            CONTINUE;
        END IF;
        SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        v_tenant_cond := CASE WHEN v_src.tenant_expr IS NOT NULL AND v_tenant_match IS NOT NULL
                              THEN format('%s %s', v_src.tenant_expr, v_tenant_match) ELSE 'true' END;
        v_set := gdpr.erase_set_list(v_t.table_schema, v_t.table_name, v_t.on_erase = 'retain');
        IF v_set IS NOT NULL THEN
            EXECUTE format(
                'WITH u AS (UPDATE %s a SET %s FROM unnest($1::%s[], $3::text[]) AS s(k, pattern) %s
                             WHERE %s = s.k AND %s AND %s RETURNING 1) SELECT count(*) FROM u',
                v_table, v_set, v_types.key_type, v_src.from_clause, v_src.key_expr, v_tenant_cond, v_src.where_clause)
               INTO v_count USING v_keys, p_tenant, v_patterns, v_salt;
        ELSE
            EXECUTE format('SELECT count(*) FROM %s a WHERE %s', v_table,
                           gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a', v_key_match, v_tenant_match))
               INTO v_count USING v_keys, p_tenant;
        END IF;
        IF v_t.on_erase = 'retain' THEN
            -- Deferred erasure: kept as they are until the statutory period ends.
            EXECUTE format(
                'WITH i AS (
                   INSERT INTO gdpr.deferred_erasure AS e
                          (kind, tenant, subject_key, table_schema, table_name, rows_pending, next_due_at, last_due_at)
                   SELECT $3, COALESCE($2, ''''), s.k::text, $5, $6, count(*), min(%1$s), max(%1$s)
                     FROM %2$s a %3$s, pg_catalog.unnest($1::%4$s[]) AS s(k)
                    WHERE %5$s = s.k AND %6$s AND %7$s
                    GROUP BY s.k
                   ON CONFLICT (kind, tenant, subject_key, table_schema, table_name) DO UPDATE
                      SET rows_pending = excluded.rows_pending, next_due_at = excluded.next_due_at,
                          last_due_at = excluded.last_due_at, done_at = NULL
                   RETURNING rows_pending)
                 SELECT COALESCE(sum(rows_pending), 0) FROM i',
                gdpr.retain_due_expr(v_t.table_schema, v_t.table_name, 'a'), v_table, v_src.from_clause,
                v_types.key_type, v_src.key_expr, v_tenant_cond, v_src.where_clause)
               INTO v_count USING v_keys, p_tenant, p_kind, v_salt, v_t.table_schema, v_t.table_name;
            v_tables := v_tables || jsonb_build_object(v_table,
                jsonb_build_object('deleted', 0, 'anonymized', 0, 'retained', v_count));
        ELSE
            v_tables := v_tables || jsonb_build_object(v_table,
                jsonb_build_object('deleted', 0, 'anonymized', v_count, 'retained', 0));
        END IF;
    END LOOP;

    -- 4. The subject row: scrubbed, marked anonymised, its owned rows let go.
    v_table := v_root;
    IF v_root_t.on_erase = 'delete' THEN
        EXECUTE format('WITH d AS (DELETE FROM %s a WHERE %s RETURNING 1) SELECT count(*) FROM d', v_root,
                       gdpr.subject_filter(v_s.table_schema, v_s.table_name, 'a', v_key_match, v_tenant_match))
           INTO v_count USING v_keys, p_tenant;
        v_tables := v_tables || jsonb_build_object(v_root,
            jsonb_build_object('deleted', v_count, 'anonymized', 0, 'retained', 0));
    ELSE
        SELECT concat_ws(', ',
                   gdpr.erase_set_list(v_s.table_schema, v_s.table_name, false),
                   CASE WHEN v_s.anonymized_column IS NOT NULL THEN format('%I = now()', v_s.anonymized_column) END,
                   (SELECT string_agg(format('%I = NULL', t.link_column), ', ')
                      FROM gdpr.catalog_table t WHERE t.kind = p_kind AND t.link = 'owned' AND t.on_erase = 'delete'))
          INTO v_set;
        SELECT * INTO v_src FROM gdpr.subject_source(v_s.table_schema, v_s.table_name, 'a');
        v_tenant_cond := CASE WHEN v_tenant_match IS NOT NULL
                              THEN format('%s %s', v_src.tenant_expr, v_tenant_match) ELSE 'true' END;
        IF v_set <> '' THEN
            EXECUTE format(
                'WITH u AS (UPDATE %s a SET %s FROM unnest($1::%s[], $3::text[]) AS s(k, pattern)
                             WHERE %s = s.k AND %s RETURNING 1) SELECT count(*) FROM u',
                v_root, v_set, v_types.key_type, v_src.key_expr, v_tenant_cond)
               INTO v_count USING v_keys, p_tenant, v_patterns, v_salt;
        ELSE
            v_count := cardinality(v_keys);
        END IF;
        v_tables := v_tables || jsonb_build_object(v_root,
            jsonb_build_object('deleted', 0, 'anonymized', v_count, 'retained', 0));
    END IF;

    -- 5. Owned rows nothing else points to any more (every foreign key checked).
    FOR v_t IN SELECT * FROM gdpr.catalog_table WHERE kind = p_kind AND link = 'owned' AND on_erase = 'delete' LOOP
        v_table := format('%I.%I', v_t.table_schema, v_t.table_name);
        SELECT format_type(a.atttypid, a.atttypmod) INTO v_id_type
          FROM pg_attribute a WHERE a.attrelid = v_table::regclass AND a.attname = v_t.parent_column;
        SELECT string_agg(format('NOT EXISTS (SELECT FROM %s x WHERE %s)', c.conrelid::regclass,
                   (SELECT string_agg(format('x.%I = a.%I', ka.attname, fa.attname), ' AND ')
                      FROM unnest(c.conkey, c.confkey) AS k(col, fcol)
                      JOIN pg_attribute ka ON ka.attrelid = c.conrelid AND ka.attnum = k.col
                      JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol)), ' AND ')
          INTO v_refs
          FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = v_table::regclass;
        SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'a');
        v_ids := ARRAY(SELECT jsonb_array_elements_text(v_owned -> v_table));
        EXECUTE format('WITH d AS (DELETE FROM %s a WHERE a.%I = ANY ($1::%s[]) AND %s AND %s RETURNING 1)
                        SELECT count(*) FROM d',
                       v_table, v_t.parent_column, v_id_type,
                       CASE WHEN v_tenant_match IS NOT NULL AND v_src.tenant_expr IS NOT NULL
                                 AND v_src.tenant_expr LIKE 'a.%'
                            THEN format('%s %s', v_src.tenant_expr, v_tenant_match) ELSE 'true' END,
                       COALESCE(v_refs, 'true'))
           INTO v_count USING v_ids, p_tenant;
        v_tables := v_tables || jsonb_build_object(v_table,
            jsonb_build_object('deleted', v_count, 'anonymized', 0, 'retained', 0));
    END LOOP;

    -- 5b. Mentions of these subjects in OTHER subjects' rows (a note on another
    --     customer naming this one): every declared free-text column of the tenant
    --     loses the subjects' specific forms (gdpr.redact_mentions); rows found by the
    --     mention keys (trigram index, gdpr.mentions.sql) and rewritten only when the
    --     text changes.
    PERFORM gdpr.erase_mentions(p_kind, p_tenant, v_mentions);

    -- 6. Ledger (no personal data) and audit trail, one row per subject.
    IF p_category <> 'replay' THEN
        INSERT INTO gdpr.erasure_ledger (kind, tenant, subject_key, erased_at, actor, rule_id, reason_category)
        SELECT p_kind, p_tenant, k, now(), gdpr.caller(), p_rule_id, p_category FROM unnest(v_keys) AS k;
    END IF;
    -- What callers wrote about these subjects (gdpr.audit_note) goes with them. The
    -- erasure's own reason (typed by a person, or a rule's or job's text) may quote a
    -- subject: the values of every subject of the batch are taken out, and CPR- and
    -- account-shaped numbers masked, before it is kept as the note of each event.
    DELETE FROM gdpr.audit_note n
     WHERE n.kind = p_kind AND n.tenant IS NOT DISTINCT FROM p_tenant AND n.subject_key = ANY (v_keys);
    v_reason := p_reason;
    IF v_reason IS NOT NULL THEN
        FOREACH v_pattern IN ARRAY v_patterns LOOP
            v_reason := gdpr.redact(v_reason, v_pattern);
        END LOOP;
        v_reason := NULLIF(left(gdpr.render_free_text(v_reason, 'not_allowed'), 200), '');
    END IF;
    WITH e AS (
        INSERT INTO gdpr.audit_event (actor, login, action, kind, tenant, subject_key, purpose, details)
        SELECT gdpr.caller(), SESSION_USER, 'anonymize', p_kind, p_tenant, u.k,
               CASE WHEN v_reason IS NOT NULL THEN 'note' END,
               jsonb_build_object('category', p_category, 'rule_id', p_rule_id, 'batch_size', cardinality(v_keys))
               || CASE WHEN cardinality(v_keys) = 1 THEN jsonb_build_object('tables', v_tables) ELSE '{}' END
          FROM unnest(v_keys) AS u(k)
        RETURNING id, subject_key)
    INSERT INTO gdpr.audit_note (event_id, kind, tenant, subject_key, note)
    SELECT e.id, p_kind, p_tenant, e.subject_key, v_reason FROM e WHERE v_reason IS NOT NULL;

    -- Caller text about the subject kept by the engine itself: the reasons of their
    -- legal holds (free text, e.g. 'gæld, cpr ...') lose the subject's values and
    -- every CPR- or account-shaped number.
    UPDATE gdpr.legal_hold h
       SET reason = gdpr.render_free_text(gdpr.redact(h.reason, u.pattern), 'not_allowed')
      FROM unnest(v_keys, v_patterns) AS u(k, pattern)
     WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM p_tenant AND h.subject_key = u.k
       AND h.reason IS DISTINCT FROM gdpr.render_free_text(gdpr.redact(h.reason, u.pattern), 'not_allowed');

    -- 7. The proof, in this transaction, with the patterns of step 1 (the redaction's
    --    own matcher): what is left is searched, the verdict stored (gdpr.proof_run).
    v_proof := gdpr.proof_run(p_kind, p_tenant, v_keys, v_patterns);
    RETURN jsonb_build_object('keys', to_jsonb(v_keys), 'tables', v_tables, 'proof', v_proof);
END $$;
ALTER FUNCTION gdpr.erase_batch(text, text, text[], text, bigint, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erase_batch(text, text, text[], text, bigint, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.erase_batch(text, text, text[], text, bigint, text) IS
    'Erase a batch of locked subjects of one tenant, one statement per declared table; internal';

-- The SET list that scrubs a declared table's personal columns (alias a; the
-- subject's pattern is s.pattern, the salt $4). In a retained table only the
-- columns that are not part of the record.
CREATE OR REPLACE FUNCTION gdpr.erase_set_list(p_schema name, p_table name, p_retained boolean) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(format('%I = %s', c.column_name, CASE c.erase
               WHEN 'null' THEN 'NULL'
               WHEN 'constant' THEN format('%L', c.erase_constant)
               WHEN 'redact' THEN format('gdpr.redact(a.%I, s.pattern)', c.column_name)
               WHEN 'year_only' THEN format('pg_catalog.date_trunc(''year'', a.%I)::%s', c.column_name,
                                            format_type(at.atttypid, at.atttypmod))
               WHEN 'hash' THEN format('gdpr.keyed_hash(a.%I::text, $4)', c.column_name)
               -- a fresh value, derived from nothing about the person (unique columns)
               WHEN 'random' THEN 'pg_catalog.gen_random_uuid()::text'
           END), ', ' ORDER BY c.column_name)
      FROM gdpr.catalog_column c
      JOIN pg_catalog.pg_attribute at
        ON at.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND at.attname = c.column_name
     WHERE c.table_schema = p_schema AND c.table_name = p_table AND c.erase <> 'keep'
       AND (NOT p_retained OR NOT c.part_of_record)
$$;
ALTER FUNCTION gdpr.erase_set_list(name, name, boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erase_set_list(name, name, boolean) FROM PUBLIC;

-- The erasure right, checked inside every function that erases or clears a hold:
-- the calling role (gdpr.caller(), also inside SECURITY DEFINER functions) must be an
-- admin or a member of pgdpr_erasure. The EXECUTE grant alone is not enough: a
-- SECURITY DEFINER function owned by pgdpr_owner may call these for anyone.
CREATE OR REPLACE FUNCTION gdpr.require_erasure_right() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (COALESCE(gdpr.caller_is_admin(), false) OR pg_catalog.pg_has_role(gdpr.caller(), 'pgdpr_erasure', 'MEMBER')) THEN
        RAISE EXCEPTION 'role % may not erase: it needs pgdpr_erasure or pgdpr_admin', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_erasure_right() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.require_erasure_right() FROM PUBLIC;
COMMENT ON FUNCTION gdpr.require_erasure_right() IS
    'Raise insufficient_privilege unless the caller is an admin or a member of pgdpr_erasure; internal';

-- Erase one subject (docs/erasure.md). All or nothing, in the caller's transaction.
CREATE OR REPLACE FUNCTION gdpr.anonymize(p_kind text, p_subject_key text, p_reason text,
    p_tenant text DEFAULT NULL, p_force boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET jit = off AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_holds jsonb;
    v_category text := 'request';
    v_batch jsonb;
BEGIN
    PERFORM gdpr.require_erasure_right();
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    IF v_row.anonymized THEN
        RETURN jsonb_build_object('status', 'already_anonymized', 'kind', p_kind,
                                  'tenant', v_row.tenant, 'subject_key', v_row.subject_key);
    END IF;
    SELECT jsonb_agg(jsonb_build_object('id', h.id, 'hold_type', h.hold_type, 'until', h.until) ORDER BY h.id)
      INTO v_holds
      FROM gdpr.legal_hold h
     WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM v_row.tenant AND h.subject_key = v_row.subject_key
       AND gdpr.hold_active(h, now());
    IF v_holds IS NOT NULL THEN
        IF NOT p_force THEN
            RAISE EXCEPTION '% % is under legal hold #% (%): clear the hold or force the erasure',
                p_kind, v_row.subject_key, v_holds -> 0 ->> 'id', v_holds -> 0 ->> 'hold_type'
                USING ERRCODE = 'object_in_use';
        END IF;
        v_category := 'forced';
        PERFORM gdpr.audit('anonymize_forced', p_kind, v_row.tenant, v_row.subject_key, NULL,
                           jsonb_build_object('holds', v_holds));
    END IF;
    PERFORM gdpr.ensure_erasure_guards(p_kind);  -- a catalog applied after the last migrate
    v_batch := gdpr.erase_batch(p_kind, v_row.tenant, ARRAY[v_row.subject_key], p_reason, NULL, v_category);
    RETURN jsonb_build_object(
        'status', 'anonymized', 'kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
        'forced', v_holds IS NOT NULL, 'holds', COALESCE(v_holds, '[]'),
        'tables', v_batch -> 'tables',
        'proof', v_batch -> 'proof' -> v_row.subject_key,
        'deferred', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                         'table', format('%I.%I', d.table_schema, d.table_name), 'rows', d.rows_pending,
                         'next_due_at', d.next_due_at, 'last_due_at', d.last_due_at)), '[]')
                       FROM gdpr.deferred_erasure d
                      WHERE d.kind = p_kind AND d.tenant = COALESCE(v_row.tenant, '')
                        AND d.subject_key = v_row.subject_key AND d.done_at IS NULL));
END $$;
ALTER FUNCTION gdpr.anonymize(text, text, text, text, boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.anonymize(text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.anonymize(text, text, text, text, boolean) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.anonymize(text, text, text, text, boolean) IS
    'Erase one subject (GDPR Art. 17, docs/erasure.md): summary per table and the proof''s verdict';

-- Erase many subjects of one tenant at once (the rules call this): one statement
-- per declared table for the whole batch. Held subjects are skipped. If the batch
-- fails, it is retried one subject at a time in subtransactions, so a failing
-- subject is reported 'failed' and leaves nothing half-done while the others succeed.
CREATE OR REPLACE FUNCTION gdpr.anonymize_many(p_kind text, p_tenant text, p_subject_keys text[], p_reason text,
    p_rule_id bigint DEFAULT NULL)
RETURNS TABLE (subject_key text, outcome text, detail jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET jit = off AS $$
DECLARE
    v_tenant text;
    v_locked jsonb;
    v_group record;
    v_todo text[];
    v_held text[];
    v_batch jsonb;
    v_key text;
    v_state text;
    v_constraint text;
    v_table text;
    v_category text := CASE WHEN p_rule_id IS NULL THEN 'request' ELSE 'rule' END;
BEGIN
    -- Who may erase: not only the EXECUTE grant, which a SECURITY DEFINER caller
    -- owned by pgdpr_owner (e.g. a rule run) would lend to anyone who may call it.
    PERFORM gdpr.require_erasure_right();
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind k WHERE k.kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    PERFORM gdpr.ensure_erasure_guards(p_kind);  -- a catalog applied after the last migrate
    -- lock and classify (jsonb, not a temporary table: no catalog churn per batch)
    SELECT COALESCE(jsonb_agg(jsonb_build_object('subject_key', l.subject_key, 'tenant', l.tenant,
                                                 'anonymized', l.anonymized)), '[]')
      INTO v_locked
      FROM gdpr.lock_subjects(p_kind, v_tenant, (SELECT array_agg(DISTINCT k) FROM unnest(p_subject_keys) k)) l;

    RETURN QUERY
    SELECT q.k, 'not_found', '{}'::jsonb FROM (SELECT DISTINCT k FROM unnest(p_subject_keys) k) q
     WHERE NOT EXISTS (SELECT FROM jsonb_to_recordset(v_locked) AS l(subject_key text)
                        WHERE l.subject_key = q.k)
    UNION ALL
    SELECT l.subject_key, 'already_anonymized', '{}'::jsonb
      FROM jsonb_to_recordset(v_locked) AS l(subject_key text, anonymized boolean) WHERE l.anonymized;

    FOR v_group IN SELECT l.tenant FROM jsonb_to_recordset(v_locked) AS l(tenant text, anonymized boolean)
                    WHERE NOT l.anonymized GROUP BY l.tenant LOOP
        SELECT array_agg(l.subject_key ORDER BY l.subject_key) FILTER (WHERE h.subject_key IS NULL),
               array_agg(l.subject_key ORDER BY l.subject_key) FILTER (WHERE h.subject_key IS NOT NULL)
          INTO v_todo, v_held
          FROM jsonb_to_recordset(v_locked) AS l(subject_key text, tenant text, anonymized boolean)
          LEFT JOIN (SELECT DISTINCT h.subject_key FROM gdpr.legal_hold h
                      WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM v_group.tenant
                        AND gdpr.hold_active(h, now())) h
            ON h.subject_key = l.subject_key
         WHERE NOT l.anonymized AND l.tenant IS NOT DISTINCT FROM v_group.tenant;
        IF v_held IS NOT NULL THEN
            INSERT INTO gdpr.audit_event (actor, action, kind, tenant, subject_key, details)
            SELECT gdpr.caller(), 'anonymize_skipped_hold', p_kind, v_group.tenant, k,
                   jsonb_build_object('rule_id', p_rule_id) FROM unnest(v_held) k;
            RETURN QUERY SELECT k, 'held', '{}'::jsonb FROM unnest(v_held) k;
        END IF;
        CONTINUE WHEN v_todo IS NULL;
        BEGIN
            v_batch := gdpr.erase_batch(p_kind, v_group.tenant, v_todo, p_reason, p_rule_id, v_category);
            RETURN QUERY SELECT k, 'anonymized', jsonb_build_object(
                'proof', v_batch -> 'proof' -> k ->> 'verdict', 'proof_hits', (v_batch -> 'proof' -> k -> 'hits')::bigint)
              FROM unnest(v_todo) k;
        EXCEPTION WHEN OTHERS THEN
            -- Isolate the failing subject(s): one subtransaction per subject.
            FOREACH v_key IN ARRAY v_todo LOOP
                BEGIN
                    v_batch := gdpr.erase_batch(p_kind, v_group.tenant, ARRAY[v_key], p_reason, p_rule_id, v_category);
                    RETURN QUERY SELECT v_key, 'anonymized', jsonb_build_object(
                        'proof', v_batch -> 'proof' -> v_key ->> 'verdict',
                        'proof_hits', (v_batch -> 'proof' -> v_key -> 'hits')::bigint);
                EXCEPTION WHEN OTHERS THEN
                    -- SQLSTATE, constraint and table only: a message could quote a value.
                    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME,
                                            v_table = TABLE_NAME;
                    PERFORM gdpr.audit('anonymize_failed', p_kind, v_group.tenant, v_key, NULL,
                        jsonb_build_object('sqlstate', v_state, 'constraint', NULLIF(v_constraint, ''),
                                           'table', NULLIF(v_table, ''), 'rule_id', p_rule_id));
                    RETURN QUERY SELECT v_key, 'failed',
                        jsonb_build_object('sqlstate', v_state, 'constraint', NULLIF(v_constraint, ''),
                                           'table', NULLIF(v_table, ''));
                END;
            END LOOP;
        END;
    END LOOP;
END $$;
ALTER FUNCTION gdpr.anonymize_many(text, text, text[], text, bigint) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.anonymize_many(text, text, text[], text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.anonymize_many(text, text, text[], text, bigint) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.anonymize_many(text, text, text[], text, bigint) IS
    'Erase many subjects of a club, set-based; outcome per subject: anonymized, already_anonymized, held, not_found, failed';

-- What gdpr.anonymize would do, without doing it (the CLI's confirmation and
-- --dry-run): rows per table and action, active holds, pending deferred erasures.
CREATE OR REPLACE FUNCTION gdpr.erasure_preview(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text;
    v_types record;
    v_s gdpr.subject_kind;
    v_row record;
    v_t record;
    v_count bigint;
    v_tables jsonb := '[]';
    v_holds jsonb;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    FOR v_t IN SELECT * FROM gdpr.catalog_table WHERE kind = p_kind ORDER BY position, table_schema, table_name LOOP
        EXECUTE format('SELECT count(*) FROM %I.%I a WHERE %s', v_t.table_schema, v_t.table_name,
                       gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a',
                           format('= $1::%s', v_types.key_type),
                           CASE WHEN v_s.tenant_column IS NOT NULL THEN format('= $2::%s', v_types.tenant_type) END))
           INTO v_count USING v_row.subject_key, v_row.tenant;
        v_tables := v_tables || jsonb_build_object('table', format('%I.%I', v_t.table_schema, v_t.table_name),
            'title', v_t.title_en, 'action', CASE v_t.on_erase WHEN 'delete' THEN 'delete'
                WHEN 'retain' THEN 'retain' ELSE 'anonymize' END,
            'rows', v_count, 'retain_period', v_t.retain_period);
    END LOOP;
    SELECT jsonb_agg(jsonb_build_object('id', h.id, 'hold_type', h.hold_type, 'created_by', h.created_by,
                                        'created_at', h.created_at, 'until', h.until) ORDER BY h.id)
      INTO v_holds
      FROM gdpr.legal_hold h
     WHERE h.kind = p_kind AND h.tenant IS NOT DISTINCT FROM v_row.tenant AND h.subject_key = v_row.subject_key
       AND gdpr.hold_active(h, now());
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                              'already_anonymized', v_row.anonymized, 'tables', v_tables,
                              'holds', COALESCE(v_holds, '[]'));
END $$;
ALTER FUNCTION gdpr.erasure_preview(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erasure_preview(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.erasure_preview(text, text, text) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.erasure_preview(text, text, text) IS
    'What gdpr.anonymize would do to a subject: rows per table and action, active holds';
