-- The proof of an erasure (GDPR Art. 5(2) accountability, Art. 17). It runs once,
-- inside the erasure's own transaction (gdpr.erase_batch, step 7), with the subject's
-- identifying values as the erasure captured them: the redaction's own patterns (the
-- same matcher, gdpr.redact), which live in that transaction's memory only. It
-- searches what is left of the subject, stores the verdict with the places it
-- searched and the places where it found something, and keeps nothing it could search
-- with later: no value, no hash. A salted hash of a CPR or phone number, with the salt
-- in the same database and its backups, is confirmed by trying every candidate.
--
-- The verdict is honest: `erased` only when every place the engine should search was
-- searched and nothing was found; `not_erased` when something was found (the catalog
-- missed it: the place is named); `incomplete` when a place could not be searched (a
-- table the engine may not read, a table the catalog does not know that is linked by
-- a foreign key to the subject's rows and holds some, a binary column holding a value).
--
-- gdpr.verify_erased, later, checks structurally what needs no value (the subject row's
-- erased columns, the deleted rows gone, the searched places unchanged) and returns the
-- stored verdict. It takes no value from its caller: no one can confirm a guess with it.

-- The places the proof of a kind covers, from the catalog and pg_catalog, in a fixed
-- order. how:
--   deleted     a declared table whose rows of the subject the erasure deletes
--   set:STRATEGY a declared column the erasure sets (null, constant, hash, year_only):
--               right after it, in its transaction, the column holds exactly that
--   searched    a column searched with the subject's patterns (any text form except binary)
--   binary      a column of a binary type (bytea): not searchable
--   undeclared  a table the catalog does not know, linked by a foreign key to a declared
--               table of the kind (other than one whose rows are deleted); its rows of
--               the subject are searched too, and make the verdict incomplete
--   unreadable  a table pgdpr_owner may not read
-- Number, date, time, boolean, network and enum columns are not searched: they cannot
-- hold a name, an e-mail address or a free text (a phone number kept as a number in an
-- undeclared column is the catalog check's to find: `pgdpr catalog check`).
-- Internal: rows for the engine (parent, fk_join) beside the public place.
CREATE OR REPLACE FUNCTION gdpr.proof_places(p_kind text)
RETURNS TABLE (table_schema name, table_name name, column_name name, how text, declared boolean,
               parent_schema name, parent_name name, fk_join text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH declared AS (
        SELECT t.table_schema, t.table_name, t.on_erase, t.link,
               format('%I.%I', t.table_schema, t.table_name)::regclass AS rel
          FROM gdpr.catalog_table t WHERE t.kind = p_kind),
    linked AS (  -- undeclared tables with a foreign key to a declared table of the kind
        SELECT n.nspname AS table_schema, r.relname AS table_name, c.conrelid AS rel,
               d.table_schema AS parent_schema, d.table_name AS parent_name,
               (SELECT string_agg(format('x.%I = a.%I', ka.attname, fa.attname), ' AND ' ORDER BY k.o)
                  FROM unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, fcol, o)
                  JOIN pg_catalog.pg_attribute ka ON ka.attrelid = c.conrelid AND ka.attnum = k.col
                  JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol) AS fk_join
          FROM pg_catalog.pg_constraint c
          JOIN declared d ON d.rel = c.confrelid AND NOT (d.on_erase = 'delete' AND d.link <> 'root')
          JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
         -- (a partition's copy of its partitioned table's foreign key: the table itself counts)
         WHERE c.contype = 'f' AND c.conparentid = 0
           AND NOT EXISTS (SELECT FROM gdpr.catalog_table t
                            WHERE t.table_schema = n.nspname AND t.table_name = r.relname)),
    tables AS (
        SELECT d.table_schema, d.table_name, d.rel, true AS declared, d.on_erase, d.link FROM declared d
        UNION
        SELECT l.table_schema, l.table_name, l.rel, false, NULL, NULL FROM linked l),
    places AS (
        -- tables whose rows of the subject are deleted
        SELECT t.table_schema, t.table_name, NULL::name AS column_name, 'deleted' AS how, true AS declared,
               NULL::name AS parent_schema, NULL::name AS parent_name, NULL::text AS fk_join
          FROM tables t WHERE t.declared AND t.on_erase = 'delete' AND t.link <> 'root'
        UNION ALL
        SELECT t.table_schema, t.table_name, NULL, 'unreadable', t.declared, NULL, NULL, NULL
          FROM tables t
         WHERE NOT (t.declared AND t.on_erase = 'delete' AND t.link <> 'root')
           AND NOT pg_catalog.has_table_privilege(t.rel, 'SELECT')
        UNION ALL
        SELECT l.table_schema, l.table_name, NULL, 'undeclared', false, l.parent_schema, l.parent_name, l.fk_join
          FROM linked l WHERE pg_catalog.has_table_privilege(l.rel, 'SELECT')
        UNION ALL
        SELECT t.table_schema, t.table_name, a.attname,
               CASE WHEN cc.erase IN ('null', 'constant', 'hash', 'random', 'year_only')
                         AND (t.on_erase IS DISTINCT FROM 'retain' OR NOT cc.part_of_record)
                        THEN 'set:' || cc.erase
                    WHEN COALESCE(NULLIF(ty.typbasetype, 0), ty.oid) = 'bytea'::regtype THEN 'binary'
                    ELSE 'searched' END,
               t.declared, NULL, NULL, NULL
          FROM tables t
          JOIN pg_catalog.pg_attribute a ON a.attrelid = t.rel AND a.attnum > 0 AND NOT a.attisdropped
          JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
          LEFT JOIN pg_catalog.pg_type bt ON bt.oid = NULLIF(ty.typbasetype, 0)
          LEFT JOIN gdpr.catalog_column cc
            ON t.declared AND cc.table_schema = t.table_schema AND cc.table_name = t.table_name
           AND cc.column_name = a.attname
         WHERE NOT (t.declared AND t.on_erase = 'delete' AND t.link <> 'root')
           AND pg_catalog.has_table_privilege(t.rel, 'SELECT')
           AND ((cc.erase IN ('null', 'constant', 'hash', 'random', 'year_only')
                 AND (t.on_erase IS DISTINCT FROM 'retain' OR NOT cc.part_of_record))
                OR COALESCE(bt.typcategory, ty.typcategory) IN ('S', 'U', 'A', 'C'))
        UNION ALL
        -- the engine's own tables that keep text a caller wrote about the subject
        SELECT 'gdpr', v.t, v.c, 'searched', true, NULL, NULL, NULL
          FROM (VALUES ('legal_hold'::name, 'reason'::name), ('audit_event', 'purpose'), ('audit_event', 'details'),
                       ('audit_note', 'note')) AS v(t, c))
    SELECT p.* FROM places p
     ORDER BY p.table_schema, p.table_name, p.column_name NULLS FIRST, p.how, p.parent_schema, p.parent_name
$$;
ALTER FUNCTION gdpr.proof_places(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.proof_places(text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.proof_places(text) IS
    'The places an erasure proof of a kind covers (table, column, how); internal';

-- The places as stored (table, column, how; linked tables with their parent) and their digest.
CREATE OR REPLACE FUNCTION gdpr.proof_scope(p_kind text, OUT digest text, OUT places jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_kind || ':' || q.places::text, 'UTF8')), 'hex'),
           q.places
      FROM (SELECT COALESCE(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'table', format('%I.%I', p.table_schema, p.table_name), 'column', p.column_name,
                       'how', p.how,
                       'linked_to', CASE WHEN p.parent_name IS NOT NULL
                                         THEN format('%I.%I', p.parent_schema, p.parent_name) END))
                       ORDER BY p.table_schema, p.table_name, p.column_name NULLS FIRST, p.how, p.parent_schema,
                                p.parent_name), '[]') AS places
              FROM gdpr.proof_places(p_kind) p) q
$$;
ALTER FUNCTION gdpr.proof_scope(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.proof_scope(text) FROM PUBLIC;

-- The proof of a batch of subjects just erased, in the erasure's transaction: per
-- subject {verdict, hits, places: [{table, column, hits}], unsearched: [{place, why}]}.
-- p_patterns: the subjects' redaction patterns (gdpr.redact), in the order of p_keys.
-- A cell counts as a hit when the redaction would change it. Writes gdpr.erasure_proof
-- (the verdict and places, no values). Internal: gdpr.erase_batch calls it.
CREATE OR REPLACE FUNCTION gdpr.proof_run(p_kind text, p_tenant text, p_keys text[], p_patterns text[])
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    -- nested loops from the batch's keys into the (tenant, subject) indexes (as in erase_batch)
    SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_scope record;
    v_t record;
    v_src record;
    v_from text;
    v_values text;
    v_tenant_cond text;
    v_branches text[] := '{}';
    v_counts jsonb;           -- [{k, table, column, mode, n}]
    v_global jsonb := '[]';   -- [{place, why}] for every subject of the batch
    v_result jsonb;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT * INTO v_scope FROM gdpr.proof_scope(p_kind);
    INSERT INTO gdpr.erasure_proof_scope (digest, kind, places) VALUES (v_scope.digest, p_kind, v_scope.places)
    ON CONFLICT (digest) DO NOTHING;

    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'place', format('%I.%I', p.table_schema, p.table_name),
               'why', 'pgdpr_owner may not read it: GRANT SELECT ON it TO pgdpr_owner')), '[]')
      INTO v_global
      FROM gdpr.proof_places(p_kind) p WHERE p.how = 'unreadable';

    -- One branch per table (and per foreign key of an undeclared table) for the subject
    -- s: its cells the pattern is matched against (mode s), its binary cells holding a
    -- value (mode b), its rows in an undeclared table (mode r).
    FOR v_t IN
        SELECT p.table_schema, p.table_name, bool_or(p.declared) AS declared, f.parent_schema, f.parent_name, f.fk_join,
               string_agg(format('(%L, %s, %L)', p.column_name,
                                 CASE p.how WHEN 'searched' THEN format('x.%I::text', p.column_name)
                                            ELSE format('CASE WHEN x.%I IS NOT NULL THEN '''' END', p.column_name) END,
                                 CASE p.how WHEN 'searched' THEN 's' ELSE 'b' END), ', ' ORDER BY p.column_name)
                   FILTER (WHERE p.how IN ('searched', 'binary')) AS vals
          FROM gdpr.proof_places(p_kind) p
          LEFT JOIN (SELECT u.table_schema, u.table_name, u.parent_schema, u.parent_name, u.fk_join
                       FROM gdpr.proof_places(p_kind) u WHERE u.how = 'undeclared') f
            ON f.table_schema = p.table_schema AND f.table_name = p.table_name
         WHERE p.how IN ('searched', 'binary', 'undeclared') AND p.table_schema <> 'gdpr'
         GROUP BY p.table_schema, p.table_name, f.parent_schema, f.parent_name, f.fk_join
         ORDER BY p.table_schema, p.table_name, f.parent_schema, f.parent_name
    LOOP
        IF v_t.declared THEN
            SELECT * INTO v_src FROM gdpr.subject_source(v_t.table_schema, v_t.table_name, 'x');
            v_from := format('%I.%I x %s', v_t.table_schema, v_t.table_name, v_src.from_clause);
        ELSE
            SELECT * INTO v_src FROM gdpr.subject_source(v_t.parent_schema, v_t.parent_name, 'a');
            v_from := format('%I.%I x, %I.%I a %s', v_t.table_schema, v_t.table_name,
                             v_t.parent_schema, v_t.parent_name, v_src.from_clause);
            v_src.where_clause := v_t.fk_join || ' AND ' || v_src.where_clause;
        END IF;
        v_values := concat_ws(', ', CASE WHEN NOT v_t.declared THEN '(NULL::text, NULL::text, ''r'')' END, v_t.vals);
        CONTINUE WHEN v_values = '';
        v_tenant_cond := CASE WHEN v_src.tenant_expr IS NOT NULL AND v_types.tenant_type IS NOT NULL
                              THEN format('%s = $2::%s', v_src.tenant_expr, v_types.tenant_type) ELSE 'true' END;
        v_branches := v_branches || format(
            'SELECT %L::text, v.col, v.mode, v.val FROM %s, LATERAL (VALUES %s) AS v(col, val, mode)
              WHERE %s = s.k AND %s AND %s AND (v.val IS NOT NULL OR v.mode = ''r'')',
            format('%I.%I', v_t.table_schema, v_t.table_name), v_from, v_values,
            v_src.key_expr, v_tenant_cond, v_src.where_clause);
    END LOOP;
    -- The engine's own tables: the subject's legal hold reasons (redacted at erasure),
    -- the purpose and details of its audit events and the notes kept with them (the
    -- erasure's own reason, redacted), looked up by index.
    v_branches := v_branches || ARRAY[
        $b$SELECT 'gdpr.legal_hold', 'reason', 's', h.reason FROM gdpr.legal_hold h
            WHERE h.kind = $4 AND h.tenant IS NOT DISTINCT FROM $2 AND h.subject_key = s.k::text$b$,
        $b$SELECT 'gdpr.audit_event', v.c, 's', v.val
             FROM gdpr.audit_event e, LATERAL (VALUES ('purpose', e.purpose), ('details', e.details::text)) AS v(c, val)
            WHERE e.kind = $4 AND e.subject_key = s.k::text AND e.tenant IS NOT DISTINCT FROM $2
              AND v.val IS NOT NULL$b$,
        $b$SELECT 'gdpr.audit_note', 'note', 's', n.note FROM gdpr.audit_note n
            WHERE n.kind = $4 AND n.subject_key = s.k::text AND n.tenant IS NOT DISTINCT FROM $2$b$];

    -- One statement for the whole batch, subject by subject (a LATERAL subquery per
    -- key): each distinct value of the subject is matched once, and the subject's
    -- patterns compile once for all its places (PostgreSQL caches 32 compiled
    -- expressions per session: one statement per place would compile every subject's
    -- patterns again for each place). Planned at each call (EXECUTE): a plan cached
    -- while the engine's tables were small would keep scanning them whole as they grow.
    EXECUTE format($q$
        SELECT COALESCE(jsonb_agg(jsonb_build_object('k', z.k, 'table', z.t, 'column', z.col, 'mode', z.mode,
                                                     'n', z.n)), '[]')
          FROM (SELECT s.k::text AS k, v.t, v.col, v.mode, sum(v.n) AS n
                  FROM unnest($1::%1$s[], $3::text[]) AS s(k, pattern),
                       LATERAL (SELECT b.t, b.col, b.mode, b.val, count(*) AS n
                                  FROM (%2$s) AS b(t, col, mode, val)
                                 GROUP BY 1, 2, 3, 4 OFFSET 0) v
                 WHERE v.mode <> 's' OR gdpr.redact(v.val, s.pattern) IS DISTINCT FROM v.val
                 GROUP BY 1, 2, 3, 4) z$q$,
        v_types.key_type, array_to_string(v_branches, E'\n UNION ALL\n'))
      INTO v_counts USING p_keys, p_tenant, p_patterns, p_kind;

    -- The verdict per subject, stored (replacing an earlier one: a re-erasure after a
    -- restore proves again) and returned.
    WITH c AS (
        SELECT * FROM jsonb_to_recordset(v_counts) AS c(k text, "table" text, "column" text, mode text, n bigint)),
    agg AS (
        SELECT c.k,
               jsonb_agg(jsonb_build_object('table', c."table", 'column', c."column", 'hits', c.n)
                         ORDER BY c."table", c."column") FILTER (WHERE c.mode = 's') AS found,
               jsonb_agg(jsonb_build_object(
                   'place', CASE c.mode WHEN 'b' THEN c."table" || '.' || quote_ident(c."column") ELSE c."table" END,
                   'why', CASE c.mode
                       WHEN 'b' THEN format('a binary column, not searchable: %s cells hold a value', c.n)
                       ELSE format('not in the catalog, linked by a foreign key to the subject''s rows: %s rows', c.n) END)
                   ORDER BY c."table", c."column") FILTER (WHERE c.mode IN ('b', 'r')) AS unsearched
          FROM c GROUP BY c.k),
    per AS (
        SELECT u.k, COALESCE(a.found, '[]') AS found, v_global || COALESCE(a.unsearched, '[]') AS unsearched
          FROM unnest(p_keys) AS u(k)
          LEFT JOIN agg a ON a.k = u.k),
    stored AS (
        INSERT INTO gdpr.erasure_proof AS e (kind, tenant, subject_key, verdict, scope, found, unsearched, proved_at)
        SELECT p_kind, COALESCE(p_tenant, ''), per.k,
               CASE WHEN per.found <> '[]' THEN 'not_erased' WHEN per.unsearched <> '[]' THEN 'incomplete'
                    ELSE 'erased' END,
               v_scope.digest, per.found, per.unsearched, now()
          FROM per
        ON CONFLICT (kind, tenant, subject_key) DO UPDATE
           SET verdict = excluded.verdict, scope = excluded.scope, found = excluded.found,
               unsearched = excluded.unsearched, proved_at = excluded.proved_at
        RETURNING e.subject_key, e.verdict, e.found, e.unsearched)
    SELECT COALESCE(jsonb_object_agg(stored.subject_key, jsonb_build_object(
               'verdict', stored.verdict,
               'hits', (SELECT COALESCE(sum((f ->> 'hits')::bigint), 0) FROM jsonb_array_elements(stored.found) f),
               'places', stored.found, 'unsearched', stored.unsearched,
               'searched', jsonb_array_length(v_scope.places))), '{}')
      FROM stored
      INTO v_result;
    RETURN v_result;
END $$;
ALTER FUNCTION gdpr.proof_run(text, text, text[], text[]) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.proof_run(text, text, text[], text[]) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.proof_run(text, text, text[], text[]) IS
    'The proof of erased subjects, in the erasure''s transaction, with their redaction patterns; stores the verdict; internal';

-- What can be checked later without any value of the subject: the subject row marked
-- anonymised, its owned rows let go, every column the erasure sets still in its erased
-- state (NULL, the constant, January 1st, a hash), no row back in a table whose rows
-- the erasure deletes. Returns the places that fail (none: all is as the erasure left it).
CREATE OR REPLACE FUNCTION gdpr.proof_structure(p_kind text, p_tenant text, p_key text)
RETURNS TABLE (place text, problem text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_t record;
    v_conds text[];
    v_names text[];
    v_counts bigint[];
    v_filter text;
    i integer;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    FOR v_t IN SELECT * FROM gdpr.catalog_table t
                WHERE t.kind = p_kind AND NOT (t.link = 'owned' AND t.on_erase = 'delete')
                ORDER BY t.table_schema, t.table_name LOOP
        v_filter := gdpr.subject_filter(v_t.table_schema, v_t.table_name, 'a', format('= $1::%s', v_types.key_type),
                        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('= $2::%s', v_types.tenant_type) END);
        IF v_t.on_erase = 'delete' AND v_t.link <> 'root' THEN
            v_names := ARRAY[NULL::text];
            v_conds := ARRAY['true'];
        ELSE
            SELECT array_agg(c.column_name::text ORDER BY c.column_name),
                   array_agg(CASE c.erase
                       WHEN 'null' THEN format('a.%I IS NOT NULL', c.column_name)
                       WHEN 'constant' THEN format('a.%I IS DISTINCT FROM %L::%s', c.column_name, c.erase_constant,
                                                   format_type(at.atttypid, at.atttypmod))
                       WHEN 'year_only' THEN format('a.%1$I IS DISTINCT FROM pg_catalog.date_trunc(''year'', a.%1$I)::%2$s',
                                                    c.column_name, format_type(at.atttypid, at.atttypmod))
                       WHEN 'hash' THEN format('a.%I::text !~ ''^[0-9a-f]{64}$''', c.column_name)
                       WHEN 'random' THEN format('a.%I::text !~ ''^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$''',
                                                 c.column_name)
                   END ORDER BY c.column_name)
              INTO v_names, v_conds
              FROM gdpr.catalog_column c
              JOIN pg_catalog.pg_attribute at
                ON at.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND at.attname = c.column_name
             WHERE c.table_schema = v_t.table_schema AND c.table_name = v_t.table_name
               AND c.erase IN ('null', 'constant', 'hash', 'year_only')
               AND (v_t.on_erase <> 'retain' OR NOT c.part_of_record);
            IF v_t.link = 'root' THEN
                SELECT COALESCE(v_names, '{}') || array_agg(t.link_column::text ORDER BY t.link_column),
                       COALESCE(v_conds, '{}') || array_agg(format('a.%I IS NOT NULL', t.link_column) ORDER BY t.link_column)
                  INTO v_names, v_conds
                  FROM gdpr.catalog_table t WHERE t.kind = p_kind AND t.link = 'owned' AND t.on_erase = 'delete';
                IF v_s.anonymized_column IS NOT NULL THEN
                    v_names := COALESCE(v_names, '{}') || v_s.anonymized_column::text;
                    v_conds := COALESCE(v_conds, '{}') || format('a.%I IS NULL', v_s.anonymized_column);
                END IF;
            END IF;
        END IF;
        CONTINUE WHEN v_conds IS NULL OR cardinality(v_conds) = 0;
        EXECUTE format('SELECT ARRAY[%s]::bigint[] FROM %I.%I a WHERE %s',
                       (SELECT string_agg(format('count(*) FILTER (WHERE %s)', c), ', ' ORDER BY o)
                          FROM unnest(v_conds) WITH ORDINALITY AS u(c, o)),
                       v_t.table_schema, v_t.table_name, v_filter)
           INTO v_counts USING p_key, p_tenant;
        FOR i IN 1 .. cardinality(v_counts) LOOP
            CONTINUE WHEN v_counts[i] = 0;
            place := format('%I.%I', v_t.table_schema, v_t.table_name) || COALESCE('.' || quote_ident(v_names[i]), '');
            problem := CASE WHEN v_names[i] IS NULL THEN format('%s rows of the subject, which the erasure deletes', v_counts[i])
                            ELSE format('%s rows not in their erased state', v_counts[i]) END;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END $$;
ALTER FUNCTION gdpr.proof_structure(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.proof_structure(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.proof_structure(text, text, text) IS
    'Places where an erased subject''s rows are no longer as the erasure left them (no value needed); internal';

-- The proof of one erased subject, later (e.g. after a restore and replay): the stored
-- verdict, if what can be checked without values still holds. not_erased when a
-- structural check fails; incomplete when the places the proof covers changed since
-- (a table or column declared, dropped or added: the proof did not search it).
CREATE OR REPLACE FUNCTION gdpr.verify_erased(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_proof gdpr.erasure_proof;
    v_scope record;
    v_then jsonb;
    v_problems jsonb;
    v_changed jsonb;
    v_verdict text;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    -- the subject must exist in the caller's club (an erased subject row stays)
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    SELECT * INTO v_proof FROM gdpr.erasure_proof e
     WHERE e.kind = p_kind AND e.tenant = COALESCE(v_row.tenant, '') AND e.subject_key = v_row.subject_key;
    IF NOT FOUND OR NOT v_row.anonymized THEN
        PERFORM gdpr.audit('verify_erased', p_kind, v_row.tenant, v_row.subject_key, NULL,
                           jsonb_build_object('verdict', 'no_proof'));
        RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                                  'verdict', 'no_proof', 'anonymized', v_row.anonymized);
    END IF;
    SELECT COALESCE(jsonb_agg(jsonb_build_object('place', s.place, 'problem', s.problem)), '[]') INTO v_problems
      FROM gdpr.proof_structure(p_kind, v_row.tenant, v_row.subject_key) s;
    SELECT * INTO v_scope FROM gdpr.proof_scope(p_kind);
    v_changed := '[]';
    IF v_scope.digest <> v_proof.scope THEN
        SELECT s.places INTO v_then FROM gdpr.erasure_proof_scope s WHERE s.digest = v_proof.scope;
        SELECT COALESCE(jsonb_agg(x.p || jsonb_build_object('change', x.change)), '[]') INTO v_changed
          FROM (SELECT n.p, 'not covered by the proof' AS change FROM jsonb_array_elements(v_scope.places) AS n(p)
                 WHERE NOT v_then @> jsonb_build_array(n.p)
                UNION ALL
                SELECT o.p, 'covered by the proof, gone or changed since' FROM jsonb_array_elements(v_then) AS o(p)
                 WHERE NOT v_scope.places @> jsonb_build_array(o.p)) x;
    END IF;
    v_verdict := CASE WHEN v_problems <> '[]' THEN 'not_erased'
                      WHEN v_changed <> '[]' AND v_proof.verdict = 'erased' THEN 'incomplete'
                      ELSE v_proof.verdict END;
    PERFORM gdpr.audit('verify_erased', p_kind, v_row.tenant, v_row.subject_key, NULL,
                       jsonb_build_object('verdict', v_verdict));
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_row.tenant, 'subject_key', v_row.subject_key,
                              'verdict', v_verdict, 'anonymized', v_row.anonymized,
                              'proof', jsonb_build_object('verdict', v_proof.verdict, 'proved_at', v_proof.proved_at),
                              'hits', (SELECT COALESCE(sum((f ->> 'hits')::bigint), 0)
                                         FROM jsonb_array_elements(v_proof.found) f),
                              'places', v_proof.found, 'unsearched', v_proof.unsearched,
                              'structure', v_problems, 'changed', v_changed);
END $$;
ALTER FUNCTION gdpr.verify_erased(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.verify_erased(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.verify_erased(text, text, text) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.verify_erased(text, text, text) IS
    'The stored verdict of an erased subject''s proof, re-checked without values (erased state, deleted rows, places unchanged)';
