-- The Data Insight Report (docs/insight-report.md, GDPR Art. 15) and its tabular form for the
-- portable export (docs/insight-report.md, GDPR Art. 20): everything the catalog says is held on
-- one subject, with the information Art. 15(1)(a)-(h) requires beside the data.
--
-- Generic: every statement is generated from the catalog (gdpr.catalog_table,
-- gdpr.catalog_column, gdpr.subject_filter), identifiers quoted with format('%I'),
-- values passed as parameters. One set-based query per declared table.
--
-- Sensitive columns (docs/rights.md) go through gdpr.render_sensitive() with the caller's
-- access level computed once per call: the same rendering the masking views use.
-- Tenant isolation (docs/rights.md): an unknown subject, another club's subject and a
-- malformed key all give the same error, so nothing can probe other clubs.

-- Whether a table's declared source is the data subject (Art. 20(1): the data "they
-- have provided"): the default source 'the data subject', or a source naming the
-- subject itself in Danish or English ("Kunden selv / the customer", "the employee").
-- A source naming anyone else (the club's staff, the payment provider, the access
-- system) is not. `pgdpr export --provided-only` keeps only such sections.
CREATE OR REPLACE FUNCTION gdpr.source_is_subject(p_source text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(p_source, 'the data subject') ~* '(^|[^a-zæøå])(the data subject|the customer|the member|the employee|kunden selv|medlemmet selv|medarbejderen selv|den registrerede)([^a-zæøå]|$)'
$$;
COMMENT ON FUNCTION gdpr.source_is_subject(text) IS
    'Whether a declared source is the data subject (GDPR Art. 20(1): data the subject provided)';

-- The generated SELECT and the section header of every declared table of a kind.
-- Each statement takes $1 = subject key (text, cast to the key's type), $2 = the
-- subject's tenant (text, cast to the tenant column's type), $3 = sensitive access
-- level; it returns (row count, json array of the rows, one array of values per row,
-- every column but the tenant column, sensitive ones and free text rendered as the
-- masking views render them: gdpr.render_sensitive, gdpr.render_free_text).
CREATE OR REPLACE FUNCTION gdpr.insight_sections(p_kind text)
RETURNS TABLE (table_schema name, table_name name, section_position integer, meta jsonb, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH subject AS (
        SELECT k.kind, k.tenant_column,
               pg_catalog.format_type(ka.atttypid, ka.atttypmod) AS key_type,
               pg_catalog.format_type(ta.atttypid, ta.atttypmod) AS tenant_type
          FROM gdpr.subject_kind k
          JOIN pg_catalog.pg_attribute ka
            ON ka.attrelid = pg_catalog.format('%I.%I', k.table_schema, k.table_name)::pg_catalog.regclass
           AND ka.attname = k.key_column
          LEFT JOIN pg_catalog.pg_attribute ta
            ON ta.attrelid = ka.attrelid AND ta.attname = k.tenant_column
         WHERE k.kind = p_kind
    ), declared AS (
        SELECT ct.*, pg_catalog.format('%I.%I', ct.table_schema, ct.table_name)::pg_catalog.regclass AS rel
          FROM gdpr.catalog_table ct
         WHERE ct.kind = p_kind
    ), cols AS (
        SELECT d.table_schema, d.table_name, a.attnum, a.attname,
               pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name,
               c.category, COALESCE(c.sensitive, false) AS sensitive, c.sensitive_when,
               -- Art. 12(1): every column has a label; one the catalog gave none reads as words
               COALESCE(c.label_da, fk.label, gdpr.column_label(a.attname)) AS label_da,
               COALESCE(c.label_en, fk.label, gdpr.column_label(a.attname)) AS label_en,
               fk.ref_table, fk.other_subject,
               CASE
                   WHEN c.sensitive THEN pg_catalog.format(
                       'gdpr.render_sensitive(t.%I::text, $3) AS %I', a.attname, a.attname)
                   WHEN c.sensitive_when IS NOT NULL THEN pg_catalog.format(
                       'CASE WHEN t.%I THEN gdpr.render_sensitive(t.%I::text, $3) ELSE t.%I::text END AS %I',
                       c.sensitive_when, a.attname, a.attname, a.attname)
                   -- free text: CPR- and account-shaped numbers masked by pattern, whoever's
                   -- they are, as in the views; never by comparison with the subject's values
                   -- (the caller controls the text: that comparison would be a guessing oracle)
                   WHEN c.category = 'free_text' THEN pg_catalog.format(
                       'gdpr.render_free_text(t.%I::text, $3) AS %I', a.attname, a.attname)
                   -- a key of a named thing (the class, the court, the custom field) reads as
                   -- its name, looked up in the same club (the foreign key includes the
                   -- tenant column); the key itself when the thing has no name
                   WHEN fk.name_expr IS NOT NULL THEN pg_catalog.format(
                       'COALESCE(%s, t.%I::text) AS %I', fk.name_expr, a.attname, a.attname)
                   ELSE pg_catalog.format('t.%I', a.attname)
               END AS expr
          FROM declared d
          CROSS JOIN subject s
          JOIN pg_catalog.pg_attribute a
            ON a.attrelid = d.rel AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname IS DISTINCT FROM s.tenant_column  -- the club id is not the customer's data
          LEFT JOIN gdpr.catalog_column c
            ON c.table_schema = d.table_schema AND c.table_name = d.table_name AND c.column_name = a.attname
          -- a foreign key through this column to another table's primary key, where that
          -- table has a column called name or title: the name that stands for the key
          LEFT JOIN LATERAL (
                SELECT CASE WHEN nm.attname IS NOT NULL THEN
                       pg_catalog.format('(SELECT r.%I::text FROM %s r WHERE %s)', nm.attname,
                                         f.confrelid::pg_catalog.regclass,
                                         (SELECT pg_catalog.string_agg(pg_catalog.format('r.%I OPERATOR(pg_catalog.=) t.%I',
                                                     ra.attname, la.attname), ' AND ')
                                            FROM ROWS FROM (pg_catalog.unnest(f.conkey), pg_catalog.unnest(f.confkey)) u(src, dst)
                                            JOIN pg_catalog.pg_attribute la ON la.attrelid = f.conrelid AND la.attnum = u.src
                                            JOIN pg_catalog.pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = u.dst))
                       END AS name_expr,
                       gdpr.column_label(a.attname) AS label,
                       f.confrelid::pg_catalog.regclass::text AS ref_table,
                       -- a key of another subject kind's person (the staff member who wrote
                       -- a note): that person's data, not the subject's (Art. 20(4))
                       EXISTS (SELECT FROM gdpr.subject_kind ok
                                WHERE ok.kind <> s.kind
                                  AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', ok.table_schema, ok.table_name))
                                      = f.confrelid) AS other_subject
                  FROM pg_catalog.pg_constraint f
                  JOIN pg_catalog.pg_constraint pk ON pk.conrelid = f.confrelid AND pk.contype = 'p'
                  LEFT JOIN LATERAL (
                        SELECT na.attname FROM pg_catalog.pg_attribute na
                         WHERE na.attrelid = f.confrelid AND na.attname IN ('name', 'title') AND NOT na.attisdropped
                           -- only a table the engine may read (the catalog's schemas grant it)
                           AND pg_catalog.has_column_privilege('pgdpr_owner', f.confrelid, na.attnum, 'SELECT')
                         ORDER BY na.attname LIMIT 1) nm ON true
                 WHERE f.conrelid = d.rel AND f.contype = 'f' AND a.attnum = ANY (f.conkey)
                   AND a.attname IS DISTINCT FROM s.tenant_column
                   AND f.confkey[pg_catalog.array_position(f.conkey, a.attnum)] = ANY (pk.conkey)
                   AND (nm.attname IS NOT NULL OR EXISTS (
                        SELECT FROM gdpr.subject_kind ok WHERE ok.kind <> s.kind
                           AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', ok.table_schema, ok.table_name))
                               = f.confrelid))
                 ORDER BY nm.attname IS NULL, f.oid LIMIT 1) fk ON true
    ), ordering AS (
        -- rows in primary key order (without the tenant column), for a stable report
        SELECT d.table_schema, d.table_name,
               pg_catalog.string_agg(pg_catalog.format('x.%I', a.attname), ', ' ORDER BY k.ord) AS order_by
          FROM declared d
          CROSS JOIN subject s
          JOIN pg_catalog.pg_constraint pk ON pk.conrelid = d.rel AND pk.contype = 'p'
          CROSS JOIN LATERAL pg_catalog.unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = d.rel AND a.attnum = k.attnum
         WHERE a.attname IS DISTINCT FROM s.tenant_column
         GROUP BY d.table_schema, d.table_name
    )
    SELECT d.table_schema, d.table_name, d.position,
           pg_catalog.jsonb_build_object(
               'table', pg_catalog.format('%I.%I', d.table_schema, d.table_name),
               'link', d.link, 'on_erase', d.on_erase,
               'title_da', d.title_da, 'title_en', d.title_en,
               'purpose', d.purpose, 'legal_basis', d.legal_basis, 'retention', d.retention,
               'recipients', d.recipients, 'source', d.source,
               'provided_by_subject', gdpr.source_is_subject(d.source),
               'categories', COALESCE((
                   SELECT pg_catalog.jsonb_agg(DISTINCT c.category) FROM cols c
                    WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name
                      AND c.category IS NOT NULL), '[]'),
               'columns', (
                   SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                              'name', c.attname, 'type', c.type_name, 'category', c.category,
                              'sensitive', c.sensitive OR c.sensitive_when IS NOT NULL,
                              'sensitive_when', c.sensitive_when,
                              'label_da', c.label_da, 'label_en', c.label_en,
                              'refers_to', c.ref_table, 'third_party', c.other_subject) ORDER BY c.attnum)
                     FROM cols c WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name)),
           pg_catalog.format(
               'SELECT pg_catalog.count(*)::integer, COALESCE(pg_catalog.json_agg(%s%s), ''[]'') '
               'FROM (SELECT %s FROM %I.%I t WHERE %s) x',
               -- each row an array of its values in column order (the section's "columns"
               -- name them): a third of the size of one object per row, and far cheaper to
               -- parse into jsonb; json_build_array takes 100 arguments, wider rows are
               -- built in pieces of 100 and joined
               (SELECT CASE WHEN pg_catalog.count(*) = 1 THEN pg_catalog.min(p.piece)
                            ELSE '(' || pg_catalog.string_agg(p.piece || '::jsonb', ' || ' ORDER BY p.n) || ')::json' END
                  FROM (SELECT (c.ord - 1) / 100 AS n,
                               'pg_catalog.json_build_array(' || pg_catalog.string_agg(pg_catalog.format('x.%I', c.attname),
                                   ', ' ORDER BY c.ord) || ')' AS piece
                          FROM (SELECT c.attname, pg_catalog.row_number() OVER (ORDER BY c.attnum) AS ord
                                  FROM cols c
                                 WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name) c
                         GROUP BY 1) p),
               ' ORDER BY ' || o.order_by,
               (SELECT pg_catalog.string_agg(c.expr, ', ' ORDER BY c.attnum) FROM cols c
                 WHERE c.table_schema = d.table_schema AND c.table_name = d.table_name),
               d.table_schema, d.table_name,
               gdpr.subject_filter(d.table_schema, d.table_name, 't',
                   pg_catalog.format('= $1::%s', s.key_type),
                   CASE WHEN s.tenant_type IS NOT NULL THEN pg_catalog.format('= $2::%s', s.tenant_type) END))
      FROM declared d
      CROSS JOIN subject s
      LEFT JOIN ordering o ON o.table_schema = d.table_schema AND o.table_name = d.table_name
$$;
ALTER FUNCTION gdpr.insight_sections(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_sections(text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.insight_sections(text) IS
    'Internal: the generated per-table SELECT and section header of every declared table of a subject kind';

-- What the generated statements depend on: the kind's catalog rows, the declared
-- tables' columns and primary keys, the installed SQL and the generator functions.
-- Every catalog row gets a new xmin when it is changed, so the row versions (xmin)
-- stand for their contents: cheaper than reading the contents on every report.
CREATE OR REPLACE FUNCTION gdpr.insight_fingerprint(p_kind text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH declared AS (
        SELECT ct.table_schema, ct.table_name, ct.xmin::text AS version,
               pg_catalog.to_regclass(pg_catalog.format('%I.%I', ct.table_schema, ct.table_name)) AS rel
          FROM gdpr.catalog_table ct
         WHERE ct.kind = p_kind
    )
    SELECT pg_catalog.md5(pg_catalog.concat_ws('|',
        (SELECT i.sql_digest FROM gdpr.install_state i),
        -- the generator itself, also when re-created by hand outside `pgdpr migrate`
        (SELECT pg_catalog.string_agg(p.xmin::text, ',' ORDER BY p.oid) FROM pg_catalog.pg_proc p
          WHERE p.pronamespace = 'gdpr'::regnamespace AND p.proname IN ('insight_sections', 'subject_filter')),
        (SELECT k.xmin::text FROM gdpr.subject_kind k WHERE k.kind = p_kind),
        (SELECT pg_catalog.string_agg(d.version || ':' || d.rel::oid, ',' ORDER BY d.table_schema, d.table_name)
           FROM declared d),
        (SELECT pg_catalog.string_agg(cc.xmin::text, ',' ORDER BY cc.table_schema, cc.table_name, cc.column_name)
           FROM gdpr.catalog_column cc
          WHERE (cc.table_schema, cc.table_name) IN (SELECT d.table_schema, d.table_name FROM declared d)),
        (SELECT pg_catalog.string_agg(a.attrelid::text || '.' || a.attnum || '.' || a.xmin::text, ','
                                      ORDER BY a.attrelid, a.attnum)
           FROM declared d JOIN pg_catalog.pg_attribute a ON a.attrelid = d.rel AND a.attnum > 0),
        (SELECT pg_catalog.string_agg(c.oid::text || '.' || c.xmin::text, ',' ORDER BY c.oid)
           FROM declared d JOIN pg_catalog.pg_constraint c ON c.conrelid = d.rel AND c.contype = 'p')))
$$;
ALTER FUNCTION gdpr.insight_fingerprint(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_fingerprint(text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.insight_fingerprint(text) IS
    'Internal: digest of everything the generated insight statements of a kind depend on';

-- The generated statements of a kind, from the cache while its fingerprint holds,
-- else generated and (where the transaction may write) cached again.
CREATE OR REPLACE FUNCTION gdpr.insight_statements(p_kind text) RETURNS gdpr.insight_statement
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_fingerprint text := gdpr.insight_fingerprint(p_kind);
    v_cached gdpr.insight_statement;
BEGIN
    SELECT * INTO v_cached FROM gdpr.insight_statement WHERE kind = p_kind;
    IF FOUND AND v_cached.fingerprint = v_fingerprint THEN
        RETURN v_cached;
    END IF;
    SELECT p_kind, v_fingerprint,
           COALESCE(array_agg(i.statement ORDER BY i.section_position, i.table_schema, i.table_name), '{}'),
           COALESCE(array_agg(i.meta ORDER BY i.section_position, i.table_schema, i.table_name), '{}'),
           now()
      INTO v_cached
      FROM gdpr.insight_sections(p_kind) i;
    IF current_setting('transaction_read_only') = 'off' THEN  -- a hot standby just generates
        INSERT INTO gdpr.insight_statement AS c (kind, fingerprint, statements, metas, built_at)
        VALUES (v_cached.kind, v_cached.fingerprint, v_cached.statements, v_cached.metas, v_cached.built_at)
        ON CONFLICT (kind) DO UPDATE SET fingerprint = excluded.fingerprint, statements = excluded.statements,
            metas = excluded.metas, built_at = excluded.built_at;
    END IF;
    RETURN v_cached;
END $$;
ALTER FUNCTION gdpr.insight_statements(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_statements(text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.insight_statements(text) IS
    'Internal: the generated insight report statements of a subject kind (cached in gdpr.insight_statement)';

-- The data subject's rights (Art. 15(1)(e)-(f), Art. 77), in Danish and English.
CREATE OR REPLACE FUNCTION gdpr.insight_rights() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '[
      {"right": "access", "article": "15", "da": "Ret til indsigt i de oplysninger, vi behandler om dig", "en": "The right of access to the data we process about you"},
      {"right": "rectification", "article": "16", "da": "Ret til at få urigtige oplysninger berigtiget", "en": "The right to have inaccurate data rectified"},
      {"right": "erasure", "article": "17", "da": "Ret til sletning (\"retten til at blive glemt\"), hvor vi ikke har pligt til at opbevare oplysningerne", "en": "The right to erasure (\"right to be forgotten\") where we are not obliged to keep the data"},
      {"right": "restriction", "article": "18", "da": "Ret til begrænsning af behandlingen", "en": "The right to restriction of processing"},
      {"right": "portability", "article": "20", "da": "Ret til at modtage dine oplysninger i et maskinlæsbart format (dataportabilitet)", "en": "The right to receive your data in a machine-readable format (data portability)"},
      {"right": "objection", "article": "21", "da": "Ret til indsigelse mod behandling baseret på legitim interesse", "en": "The right to object to processing based on legitimate interest"},
      {"right": "complaint", "article": "77", "da": "Ret til at klage til Datatilsynet, Carl Jacobsens Vej 35, 2500 Valby, dt@datatilsynet.dk, www.datatilsynet.dk", "en": "The right to lodge a complaint with the Danish Data Protection Agency (Datatilsynet), Carl Jacobsens Vej 35, 2500 Valby, dt@datatilsynet.dk, www.datatilsynet.dk"}
    ]'::jsonb
$$;
COMMENT ON FUNCTION gdpr.insight_rights() IS 'The data subject''s rights (GDPR Art. 15-21, 77), Danish and English';

-- Everything held on one subject, as jsonb, without writing the audit event (the
-- callers below do). Resolves and checks the tenant; raises no_data_found with the
-- same message for an unknown subject, another tenant's subject or a malformed key.
CREATE OR REPLACE FUNCTION gdpr.insight_collect(p_kind text, p_subject_key text, p_tenant text)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind gdpr.subject_kind;
    v_key_type text;
    v_tenant_type text;
    v_tenant text;
    v_found bigint := 0;
    v_key text;
    v_subject_tenant text;
    v_anonymized_at timestamptz;
    v_access text;
    v_cache gdpr.insight_statement;
    v_statements text[];
    v_metas jsonb[];
    v_count integer;
    v_rows json;
    v_counts integer[] := '{}';
    v_rowsets json[] := '{}';
    v_time_zone text;
    v_saved_time_zone text := current_setting('TimeZone');
    v_result jsonb;
BEGIN
    SELECT * INTO v_kind FROM gdpr.subject_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(left(p_kind, 63))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    -- Register access 'none' (rights issue) holds for the report and the export too:
    -- such staff see no row of the area through the views, so none through here.
    -- Checked before the subject is looked up: the answer tells nothing about it.
    IF NOT gdpr.caller_is_admin() AND gdpr.register_access_of(gdpr.caller(), v_kind.area) = 'none' THEN
        RAISE EXCEPTION 'role % has no access to the % register', gdpr.caller(), v_kind.area
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    SELECT format_type(a.atttypid, a.atttypmod),
           (SELECT format_type(b.atttypid, b.atttypmod) FROM pg_catalog.pg_attribute b
             WHERE b.attrelid = a.attrelid AND b.attname = v_kind.tenant_column)
      INTO v_key_type, v_tenant_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = format('%I.%I', v_kind.table_schema, v_kind.table_name)::regclass
       AND a.attname = v_kind.key_column;

    -- The subject row: canonical key, its tenant, its anonymised state.
    BEGIN
        EXECUTE format(
            'SELECT count(*), min(s.%I::text), min(%s::text), min(%s) FROM %I.%I s WHERE s.%I = $1::%s%s',
            v_kind.key_column,
            CASE WHEN v_kind.tenant_column IS NOT NULL THEN format('s.%I', v_kind.tenant_column) ELSE 'NULL' END,
            -- erased: the engine's ledger says when (not the row's own column, which its
            -- writers could set or clear)
            format('(SELECT max(l.erased_at) FROM gdpr.erasure_ledger l WHERE l.kind = %L '
                   'AND l.subject_key = s.%I::text AND %s)', v_kind.kind, v_kind.key_column,
                   CASE WHEN v_kind.tenant_column IS NOT NULL THEN format('l.tenant = s.%I::text', v_kind.tenant_column)
                        ELSE 'l.tenant IS NULL' END),
            v_kind.table_schema, v_kind.table_name, v_kind.key_column, v_key_type,
            CASE WHEN v_kind.tenant_column IS NOT NULL AND v_tenant IS NOT NULL
                 THEN format(' AND s.%I = $2::%s', v_kind.tenant_column, v_tenant_type) ELSE '' END)
          INTO v_found, v_key, v_subject_tenant, v_anonymized_at
          USING p_subject_key, v_tenant;
    EXCEPTION WHEN data_exception THEN  -- a malformed key: same answer as an unknown one
        v_found := 0;
    END;
    PERFORM gdpr.require_one_subject(p_kind, p_subject_key, v_tenant, v_found);

    -- Evaluated once per call (performance-floor.md), the same function the masking views use.
    v_access := gdpr.sensitive_access_of(gdpr.caller(), v_kind.area);
    -- Art. 12(1): times in the club's own time zone (ISO-8601 with its offset), not UTC;
    -- the caller's setting is given back before returning
    v_time_zone := gdpr.tenant_time_zone(v_subject_tenant);
    PERFORM set_config('TimeZone', v_time_zone, true);
    v_cache := gdpr.insight_statements(p_kind);
    v_statements := v_cache.statements;
    v_metas := v_cache.metas;

    -- One set-based query per declared table.
    FOR i IN 1 .. COALESCE(array_length(v_statements, 1), 0) LOOP
        EXECUTE v_statements[i] INTO v_count, v_rows
          USING v_key, v_subject_tenant, v_access;
        v_counts[i] := v_count;
        v_rowsets[i] := v_rows;
    END LOOP;

    -- The document is assembled as json text and parsed into jsonb once: nesting
    -- jsonb values re-encodes them at every level, which costs more than the queries.
    v_result := (
        WITH sections AS (
            SELECT u.o, u.m, u.c, u.r FROM unnest(v_metas, v_counts, v_rowsets) WITH ORDINALITY AS u(m, c, r, o)
        )
        SELECT (left(json_build_object(
            'subject', json_build_object('kind', v_kind.kind, 'key', v_key, 'tenant', v_subject_tenant,
                                         'tenant_name', gdpr.tenant_name(v_subject_tenant),
                                         'time_zone', v_time_zone,
                                         'anonymized_at', v_anonymized_at,
                                         -- Art. 18: processing restricted; Databeskyttelsesloven § 6: a child
                                         'restricted', gdpr.subject_restricted(p_kind, v_subject_tenant, v_key),
                                         'age_band', gdpr.subject_age_band(p_kind, v_subject_tenant, v_key)),
            -- "anonymised on ..., what is still kept" (docs/erasure.md)
            'anonymized', CASE WHEN v_anonymized_at IS NOT NULL THEN json_build_object(
                'at', v_anonymized_at,
                'kept', COALESCE((SELECT json_agg(json_build_object(
                            'table', s.m -> 'table', 'title_da', s.m -> 'title_da', 'title_en', s.m -> 'title_en',
                            'count', s.c, 'on_erase', s.m -> 'on_erase', 'retention', s.m -> 'retention') ORDER BY s.o)
                          FROM sections s WHERE s.c > 0), '[]')) END,
            'sensitive_access', v_access,
            -- Art. 15(1)(a)-(h): purposes, categories, recipients, retention, source, rights.
            'information', json_build_object(
                'controller', COALESCE(gdpr.tenant_name(v_subject_tenant), v_subject_tenant),
                'purposes', (SELECT json_agg(DISTINCT jsonb_build_object('purpose', s.m -> 'purpose',
                                                                          'legal_basis', s.m -> 'legal_basis'))
                               FROM sections s),
                'categories', COALESCE((SELECT json_agg(DISTINCT cat.category)
                                          FROM sections s,
                                               jsonb_array_elements_text(s.m -> 'categories') AS cat(category)),
                                       '[]'),
                'recipients', (SELECT json_agg(DISTINCT s.m ->> 'recipients') FROM sections s),
                'sources', (SELECT json_agg(DISTINCT s.m ->> 'source') FROM sections s),
                'retention', (SELECT json_agg(json_build_object('title_da', s.m -> 'title_da',
                                  'title_en', s.m -> 'title_en', 'retention', s.m -> 'retention') ORDER BY s.o)
                                FROM sections s),
                'rights', gdpr.insight_rights(),
                'automated_decisions', 'Ingen automatiske afgørelser / no automated decision-making (Art. 22)',
                'generated_at', statement_timestamp()),
            'row_count', (SELECT COALESCE(sum(s.c), 0) FROM sections s),
            -- When pgdpr revealed or changed this subject's data (Art. 15, Art. 5(2)):
            -- day, action, purpose, format and how many times; never who did it.
            'access_history', (SELECT COALESCE(json_agg(json_build_object(
                                   'date', h.day, 'action', h.action, 'purpose', h.purpose, 'format', h.format,
                                   'times', h.times) ORDER BY h.day, h.first), '[]')
                                 FROM (SELECT (e.at AT TIME ZONE v_time_zone)::date AS day, e.action, e.purpose,
                                              e.details ->> 'format' AS format, count(*) AS times, min(e.id) AS first
                                         FROM gdpr.audit_event e
                                        WHERE e.kind = p_kind AND e.subject_key = v_key
                                          AND e.tenant IS NOT DISTINCT FROM v_subject_tenant
                                        GROUP BY 1, 2, 3, 4) h),
            -- Art. 16: which of the subject's data was corrected, when; old values of
            -- sensitive columns are not kept (gdpr.rectification.sql)
            'rectifications', gdpr.subject_rectifications(p_kind, v_subject_tenant, v_key, v_access)
        )::text, -1)
        -- then one object per table: its header (a jsonb object, so its text ends in
        -- '}') extended with the row count and the rows
        || ', "sections": [' || COALESCE((SELECT string_agg(
               left(s.m::text, -1) || ', "count": ' || s.c || ', "rows": ' || s.r::text || '}', ', ' ORDER BY s.o)
               FROM sections s), '') || ']}')::jsonb);
    PERFORM set_config('TimeZone', v_saved_time_zone, true);
    RETURN v_result;
END $$;
ALTER FUNCTION gdpr.insight_collect(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_collect(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.insight_collect(text, text, text) IS
    'Internal: the insight report of one subject without its audit event (use gdpr.insight_report)';

-- Which sensitive columns a report or export showed in clear (Art. 33 evidence: who
-- was shown an unmasked CPR, bank number or sensitive field): the caller's level is
-- 'allowed' and the column has a value in at least one row. Column names only, never
-- a value; kept in the audit event's details as "unmasked".
CREATE OR REPLACE FUNCTION gdpr.insight_unmasked(p_report jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(jsonb_agg(DISTINCT (s ->> 'table') || '.' || (c ->> 'name')), '[]')
      FROM jsonb_array_elements(p_report -> 'sections') AS sec(s)
     CROSS JOIN LATERAL jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS col(c, cpos)
     WHERE p_report ->> 'sensitive_access' = 'allowed' AND (c ->> 'sensitive')::boolean
       AND EXISTS (SELECT FROM jsonb_array_elements(s -> 'rows') AS r(rec)
                    WHERE jsonb_typeof(r.rec -> (col.cpos - 1)::integer) IS DISTINCT FROM 'null'
                      AND r.rec -> (col.cpos - 1)::integer IS NOT NULL
                      -- a column sensitive row by row (sensitive_when): only rows whose flag is true
                      AND (c ->> 'sensitive_when' IS NULL OR EXISTS (
                           SELECT FROM jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS f(fc, fpos)
                            WHERE f.fc ->> 'name' = c ->> 'sensitive_when'
                              AND r.rec -> (f.fpos - 1)::integer = 'true'::jsonb)))
$$;
ALTER FUNCTION gdpr.insight_unmasked(jsonb) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_unmasked(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.insight_unmasked(jsonb) IS
    'Internal: the sensitive columns a report showed in clear (names only), for its audit event';

-- The Data Insight Report (docs/insight-report.md, Art. 15): one call a DBA can run in psql.
CREATE OR REPLACE FUNCTION gdpr.insight_report(
    p_kind text, p_subject_key text, p_tenant text DEFAULT NULL,
    p_purpose text DEFAULT 'insight report', p_format text DEFAULT 'json')
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_report jsonb;
BEGIN
    v_report := gdpr.insight_collect(p_kind, p_subject_key, p_tenant);
    PERFORM gdpr.audit('insight_report', p_kind, v_report #>> '{subject,tenant}', v_report #>> '{subject,key}',
        p_purpose,
        jsonb_build_object('format', left(p_format, 20),
                                      'sections', jsonb_array_length(v_report -> 'sections'),
                                      'rows', v_report -> 'row_count',
                                      -- Art. 33 evidence: the caller's level, what it saw in clear
                                      'sensitive_access', v_report -> 'sensitive_access',
                                      'unmasked', gdpr.insight_unmasked(v_report)));
    RETURN v_report;
END $$;
ALTER FUNCTION gdpr.insight_report(text, text, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_report(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.insight_report(text, text, text, text, text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.insight_report(text, text, text, text, text) IS
    'Data Insight Report (GDPR Art. 15): all data held on one subject, the Art. 15(1) information and its '
    'access history, sensitive values rendered for the caller; writes one audit event';

-- The portable form (docs/insight-report.md, Art. 20): one row per field of every record.
CREATE OR REPLACE FUNCTION gdpr.insight_rows(
    p_kind text, p_subject_key text, p_tenant text DEFAULT NULL,
    p_purpose text DEFAULT 'data export', p_format text DEFAULT 'csv', p_provided_only boolean DEFAULT false)
RETURNS TABLE (section text, title_da text, title_en text, record integer,
               field text, label_da text, label_en text, value text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_report jsonb;
BEGIN
    v_report := gdpr.insight_collect(p_kind, p_subject_key, p_tenant);
    -- Art. 20(4): another person's key (the staff member who wrote a note) is not the
    -- subject's to take along; Art. 20(1): with p_provided_only, only the sections
    -- whose declared source is the subject (gdpr.source_is_subject)
    SELECT jsonb_set(v_report, '{sections}', COALESCE(jsonb_agg(
               jsonb_set(s, '{columns}', (SELECT COALESCE(jsonb_agg(CASE WHEN (c ->> 'third_party')::boolean
                                                   THEN c || '{"left_out": true}' ELSE c END ORDER BY cpos), '[]')
                                            FROM jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS col(c, cpos)))
               ORDER BY spos), '[]'))
      INTO v_report
      FROM jsonb_array_elements(v_report -> 'sections') WITH ORDINALITY AS sec(s, spos)
     WHERE NOT p_provided_only OR (s ->> 'provided_by_subject')::boolean;
    PERFORM gdpr.audit('export', p_kind, v_report #>> '{subject,tenant}', v_report #>> '{subject,key}',
        p_purpose,
        jsonb_build_object('format', left(p_format, 20),
                                      'sections', jsonb_array_length(v_report -> 'sections'),
                                      'rows', (SELECT COALESCE(sum((s ->> 'count')::integer), 0)
                                                 FROM jsonb_array_elements(v_report -> 'sections') s),
                                      'provided_only', p_provided_only,
                                      'sensitive_access', v_report -> 'sensitive_access',
                                      'unmasked', gdpr.insight_unmasked(v_report)));
    RETURN QUERY
        SELECT s ->> 'table', s ->> 'title_da', s ->> 'title_en', r.ord::integer,
               c ->> 'name', c ->> 'label_da', c ->> 'label_en',
               (r.rec -> (col.cpos - 1)::integer) #>> '{}'   -- jsonb text: dates already ISO-8601
          FROM jsonb_array_elements(v_report -> 'sections') WITH ORDINALITY AS sec(s, spos)
          CROSS JOIN LATERAL jsonb_array_elements(s -> 'rows') WITH ORDINALITY AS r(rec, ord)
          CROSS JOIN LATERAL jsonb_array_elements(s -> 'columns') WITH ORDINALITY AS col(c, cpos)
         WHERE (c ->> 'left_out') IS NULL
         ORDER BY sec.spos, r.ord, col.cpos;
END $$;
ALTER FUNCTION gdpr.insight_rows(text, text, text, text, text, boolean) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_rows(text, text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.insight_rows(text, text, text, text, text, boolean) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.insight_rows(text, text, text, text, text, boolean) IS
    'Portable export (GDPR Art. 20): the insight report as (section, record, field, value) rows; '
    'writes one audit event';

-- What every section and column of the export holds (the README of `pgdpr export
-- --zip`): the catalog's description only, no personal data, so no audit event.
CREATE OR REPLACE FUNCTION gdpr.insight_columns(p_kind text)
RETURNS TABLE (section text, title_da text, title_en text, purpose text, legal_basis text, retention text,
               recipients text, source text, field text, label_da text, label_en text, type text,
               category text, sensitive boolean)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m ->> 'table', m ->> 'title_da', m ->> 'title_en', m ->> 'purpose', m ->> 'legal_basis',
           m ->> 'retention', m ->> 'recipients', m ->> 'source',
           c ->> 'name', c ->> 'label_da', c ->> 'label_en', c ->> 'type', c ->> 'category',
           (c ->> 'sensitive')::boolean
      FROM pg_catalog.unnest((gdpr.insight_statements(p_kind)).metas) WITH ORDINALITY AS s(m, spos)
     CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(m -> 'columns') WITH ORDINALITY AS col(c, cpos)
     ORDER BY s.spos, col.cpos
$$;
ALTER FUNCTION gdpr.insight_columns(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.insight_columns(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.insight_columns(text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.insight_columns(text) IS
    'The sections and columns of a subject kind''s insight report and export (catalog description, no personal data)';
