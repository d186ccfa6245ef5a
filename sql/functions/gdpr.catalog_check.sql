-- Catalog coverage (GDPR Art. 25 data protection by design, Art. 30 record): the
-- engine reports and erases only what the catalog declares, so a table or column of
-- personal data that nobody declared is never reported and never erased. These
-- functions find what the catalog misses, from the foreign-key graph (pg_constraint)
-- and from the names and a small sample of the content of columns. Used by
-- `pgdpr catalog check` (a migration-pipeline gate) and `pgdpr catalog discover`.
--
-- Findings name a table, a column and why; they never contain a sampled value.
-- The functions run with the caller's rights (SECURITY INVOKER): sampling reads
-- only what the calling DBA may read, and a table the caller cannot read is judged
-- by its column names only.

-- The personal-data category a column's NAME suggests, or NULL. p_linked: the table
-- is linked to a subject (declared, or reaching one through foreign keys); free
-- text, photos, addresses and 'other' are personal only there (a product's
-- description or a warehouse's city is not), while names, contact data, national
-- ids, bank numbers, birth dates and personal identifiers are flagged anywhere: a
-- standalone table of e-mail addresses is a subject kind nobody declared.
CREATE OR REPLACE FUNCTION gdpr.personal_name_category(p_column name, p_type regtype, p_linked boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN p_type = 'boolean'::regtype THEN NULL
        -- dates and timestamps are only personal as birth dates
        WHEN p_type IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
            CASE WHEN v.n ~ '(birth|(^|_)dob($|_)|f(oe|ø)dsel)' THEN 'birthdate' END
        WHEN v.n ~ '(^|_)(cpr|cpr_?n(o|r|umber)|ssn|personnummer|national_?id|social_?security(_?n(o|r|umber))?|tax_?id|passport(_?n(o|r|umber))?)$' THEN 'national_id'
        WHEN v.n ~ '(^|_)(iban|bic|swift|bank|bank_?reg|reg_?n(o|r)|bank_?account|account_?n(o|r|umber)|konto(_?n(r|ummer))?|card_?n(o|r|umber)|credit_?card)($|_)' THEN 'bank'
        WHEN v.n ~ '(^|_)(e_?mail|email_?address|mail_?address|phone|phone_?n(o|r|umber)|mobile|mobil|telephone|tlf|telefon|fax)($|_)' THEN 'contact'
        WHEN v.n ~ '(^|_)(first|last|given|family|full|middle|maiden|nick|display|contact|customer|recipient|person|billing|shipping|sur|for|efter)_?(name|navn)$'
          OR v.n ~ '^(surname|fornavn|efternavn)$' THEN 'name'
        WHEN v.n ~ '(^|_)(ip|ip_?address|user_?agent|device_?id|licen[cs]e_?plate|member_?card|key_?fob|username|user_?name|login|(customer|member|client|kunde)_?(no|nr|number|nummer))$' THEN 'identifier'
        WHEN v.n ~ '(birth|(^|_)dob($|_)|f(oe|ø)dsel)' THEN 'birthdate'
        WHEN NOT p_linked THEN NULL
        WHEN p_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype,
                        'real'::regtype, 'double precision'::regtype, 'money'::regtype) THEN NULL
        WHEN v.n ~ '(^|_)(street|street_?address|address|address_?line_?[0-9]*|addr[0-9]*|postcode|post_?code|postal_?code|zip|zip_?code|city|town|adresse|postnr)$' THEN 'address'
        WHEN v.n ~ '(^|_)(photo|picture|avatar|portrait|foto|billede)($|_)' THEN 'photo'
        WHEN v.n ~ '(^|_)(note|notes|comment|comments|remark|remarks|description|message|body|text|memo|bem(ae|æ)rkning|kommentar|feedback|review|reason)$' THEN 'free_text'
        WHEN v.n ~ '(^|_)(gender|sex|k(oe|ø)n|nationality|religion|health|diagnosis|allerg(y|ies)|helbred)$' THEN 'other'
    END
      FROM (SELECT lower(p_column::text) AS n) v
$$;
COMMENT ON FUNCTION gdpr.personal_name_category(name, regtype, boolean) IS
    'The personal-data category a column name suggests (catalog check heuristics), or NULL';

-- The foreign-key graph among ordinary and partitioned tables (partitions and the
-- constraints cloned onto them are left out: the partitioned parent stands for them).
-- not_null: every referencing column is NOT NULL, so every row belongs to a parent.
CREATE OR REPLACE FUNCTION gdpr.fk_edges()
RETURNS TABLE (child oid, parent oid, child_columns name[], parent_columns name[], not_null boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT k.conrelid, k.confrelid,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
           NOT EXISTS (SELECT FROM unnest(k.conkey) u(n)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                        WHERE NOT a.attnotnull)
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
      JOIN pg_catalog.pg_class p ON p.oid = k.confrelid
     WHERE k.contype = 'f' AND k.conparentid = 0
       AND NOT c.relispartition AND NOT p.relispartition
$$;
COMMENT ON FUNCTION gdpr.fk_edges() IS 'Foreign keys between tables (not partitions): the graph the catalog check walks';

-- Every table that reaches a subject's root table through foreign keys, with the
-- shortest path. strong: some path is made of NOT NULL references only (every row
-- of the table belongs to a subject); otherwise the table only mentions a subject
-- (an optional reference such as a class's instructor).
CREATE OR REPLACE FUNCTION gdpr.subject_reach(p_root oid)
RETURNS TABLE (table_oid oid, parent oid, link_columns name[], parent_columns name[], depth int,
               strong boolean, path text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE reach (table_oid, parent, link_columns, parent_columns, depth, strong, path, seen) AS (
        SELECT e.child, e.parent, e.child_columns, e.parent_columns, 1, e.not_null,
               format('%s (%s) -> %s', e.child::regclass, array_to_string(e.child_columns, ', '), e.parent::regclass),
               ARRAY[p_root, e.child]
          FROM gdpr.fk_edges() e
         WHERE e.parent = p_root AND e.child <> p_root
        UNION ALL
        SELECT e.child, e.parent, e.child_columns, e.parent_columns, r.depth + 1, r.strong AND e.not_null,
               format('%s (%s) -> %s', e.child::regclass, array_to_string(e.child_columns, ', '), r.path),
               r.seen || e.child
          FROM reach r
          JOIN gdpr.fk_edges() e ON e.parent = r.table_oid
         WHERE e.child <> ALL (r.seen) AND r.depth < 8
    )
    SELECT DISTINCT ON (r.table_oid) r.table_oid, r.parent, r.link_columns, r.parent_columns, r.depth,
           bool_or(r.strong) OVER (PARTITION BY r.table_oid), r.path
      FROM reach r
     ORDER BY r.table_oid, r.strong DESC, r.depth
$$;
COMMENT ON FUNCTION gdpr.subject_reach(oid) IS
    'Tables reaching a subject root table through foreign keys, with the shortest path';

-- Which columns of a table look personal by their sampled CONTENT. Reads at most
-- p_rows rows: a plain LIMIT on small tables, TABLESAMPLE SYSTEM on large ones (by
-- pg_class.reltuples), so it stays fast on a table of any size. Returns counts only,
-- never a value. Free text (long values with spaces) is reported as a candidate;
-- the caller decides whether the table is linked to a subject.
CREATE OR REPLACE FUNCTION gdpr.sample_personal_content(p_table regclass, p_columns name[], p_rows int DEFAULT 200)
RETURNS TABLE (column_name name, category text, matched int, sampled int)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tuples double precision;
    v_source text;
    v_select text;
    v_values text;
BEGIN
    IF p_columns IS NULL OR cardinality(p_columns) = 0
       OR NOT pg_catalog.has_table_privilege(p_table, 'SELECT') THEN
        RETURN;
    END IF;
    -- estimated rows; a partitioned table's are those of its partitions
    SELECT GREATEST(c.reltuples, 0) + COALESCE((SELECT sum(GREATEST(p.reltuples, 0))
                                                   FROM pg_catalog.pg_inherits i
                                                   JOIN pg_catalog.pg_class p ON p.oid = i.inhrelid
                                                  WHERE i.inhparent = c.oid), 0)
      INTO v_tuples FROM pg_catalog.pg_class c WHERE c.oid = p_table;
    SELECT string_agg(format('%I::text AS c%s', col, i), ', '),
           string_agg(format('(%L::name, s.c%s)', col, i), ', ')
      INTO v_select, v_values
      FROM unnest(p_columns) WITH ORDINALITY u(col, i);
    v_source := format('%s', p_table);
    IF v_tuples > 50000 THEN
        -- about 20 times the rows we want, in whole pages picked at random
        v_source := v_source || format(' TABLESAMPLE SYSTEM (%s)',
            LEAST(100, GREATEST(0.001, round((p_rows * 20 * 100 / v_tuples)::numeric, 4))));
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT u.col, m.category, m.matched::int, u.sampled::int
          FROM (SELECT v.col,
                       count(*) AS sampled,
                       count(*) FILTER (WHERE v.val ~* '[a-z0-9._%%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}') AS email,
                       count(*) FILTER (WHERE v.val ~ '(^|[^0-9])(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}($|[^0-9])') AS cpr,
                       count(*) FILTER (WHERE v.val ~ '(^|[^A-Z])[A-Z]{2}[0-9]{2} ?([A-Z0-9]{4} ?){2,7}[A-Z0-9]{1,4}($|[^A-Z0-9])') AS iban,
                       count(*) FILTER (WHERE v.val ~ '^\s*(\+|00)?[0-9][0-9 ()-]{6,16}[0-9]\s*$'
                                          AND length(regexp_replace(v.val, '[^0-9]', '', 'g')) BETWEEN 8 AND 15) AS phone,
                       count(*) FILTER (WHERE length(v.val) >= 25 AND v.val ~ '[[:alpha:]]+\s+[[:alpha:]]+\s+[[:alpha:]]+') AS prose
                  FROM (SELECT %s FROM %s LIMIT %s) s
                  CROSS JOIN LATERAL (VALUES %s) v(col, val)
                 WHERE v.val IS NOT NULL
                 GROUP BY v.col) u
         CROSS JOIN LATERAL (VALUES
               ('contact', u.email), ('national_id', u.cpr), ('bank', u.iban),
               ('contact', CASE WHEN u.phone * 2 >= u.sampled THEN u.phone ELSE 0 END),
               ('free_text', CASE WHEN u.prose * 2 >= u.sampled THEN u.prose ELSE 0 END)) m(category, matched)
         WHERE m.matched > 0$q$, v_select, v_source, p_rows, v_values);
END $$;
COMMENT ON FUNCTION gdpr.sample_personal_content(regclass, name[], int) IS
    'Columns whose sampled content looks personal (e-mail, CPR, IBAN, phone, free text): counts only, never values';

-- Columns the check never flags: keys and references (primary/foreign key columns),
-- the subject's tenant column wherever it appears, the catalog's own link, retain,
-- sensitive_when and anonymised-marker columns, and declared columns.
CREATE OR REPLACE FUNCTION gdpr.catalog_known_column(p_table oid, p_column name)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                    WHERE k.conrelid = p_table AND k.contype IN ('p', 'f') AND a.attname = p_column)
        OR EXISTS (SELECT FROM gdpr.subject_kind s
                    WHERE p_column IN (s.tenant_column)
                       OR (to_regclass(format('%I.%I', s.table_schema, s.table_name)) = p_table
                           AND p_column IN (s.key_column, s.anonymized_column)))
        OR EXISTS (SELECT FROM gdpr.catalog_table t
                    WHERE to_regclass(format('%I.%I', t.table_schema, t.table_name)) = p_table
                      AND p_column IN (t.link_column, t.parent_column, t.retain_column))
        OR EXISTS (SELECT FROM gdpr.catalog_table t
                     JOIN gdpr.subject_kind s USING (kind)
                    WHERE t.link = 'owned' AND to_regclass(format('%I.%I', s.table_schema, s.table_name)) = p_table
                      AND p_column = t.link_column)
        OR EXISTS (SELECT FROM gdpr.catalog_column c
                    WHERE to_regclass(format('%I.%I', c.table_schema, c.table_name)) = p_table
                      AND p_column IN (c.column_name, c.sensitive_when))
$$;

-- The personal-looking columns of a table that the catalog does not declare, by
-- name and by sampled content: the shared heuristics of check and discover.
CREATE OR REPLACE FUNCTION gdpr.personal_column_candidates(p_table oid, p_linked boolean, p_include_known boolean DEFAULT false)
RETURNS TABLE (column_name name, category text, reason text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_text name[];
BEGIN
    IF to_regclass('pg_temp.pgdpr_candidates') IS NULL THEN
        CREATE TEMP TABLE pgdpr_candidates (column_name name, category text, reason text, rank int);
    END IF;
    TRUNCATE pg_temp.pgdpr_candidates;
    INSERT INTO pg_temp.pgdpr_candidates
    SELECT a.attname, gdpr.personal_name_category(a.attname, a.atttypid::regtype, p_linked),
           format('its name suggests %s data', gdpr.personal_name_category(a.attname, a.atttypid::regtype, p_linked)), 1
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
       AND gdpr.personal_name_category(a.attname, a.atttypid::regtype, p_linked) IS NOT NULL
       AND (p_include_known OR NOT gdpr.catalog_known_column(p_table, a.attname));
    -- content: text and json columns not already flagged by name
    SELECT array_agg(a.attname ORDER BY a.attnum) INTO v_text
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype,
                          'json'::regtype, 'jsonb'::regtype)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_candidates x WHERE x.column_name = a.attname)
       AND (p_include_known OR NOT gdpr.catalog_known_column(p_table, a.attname));
    INSERT INTO pg_temp.pgdpr_candidates
    SELECT s.column_name, s.category,
           format('%s of %s sampled values look like %s', s.matched, s.sampled,
                  CASE s.category WHEN 'contact' THEN 'e-mail addresses or phone numbers'
                                  WHEN 'national_id' THEN 'CPR numbers' WHEN 'bank' THEN 'IBANs'
                                  ELSE 'free text' END), 2
      FROM gdpr.sample_personal_content(p_table::regclass, v_text) s
     WHERE s.category <> 'free_text' OR p_linked;
    RETURN QUERY SELECT DISTINCT ON (x.column_name) x.column_name, x.category, x.reason
                   FROM pg_temp.pgdpr_candidates x
                  ORDER BY x.column_name, x.rank,
                           array_position(ARRAY['national_id', 'bank', 'contact', 'free_text'], x.category);
END $$;
COMMENT ON FUNCTION gdpr.personal_column_candidates(oid, boolean, boolean) IS
    'Columns of a table that look personal by name or sampled content (catalog check and discover heuristics)';

-- The catalog check. severity 'error' fails `pgdpr catalog check`; 'warning' is
-- printed but passes (a table that only mentions a subject through an optional,
-- nullable reference and holds nothing else personal-looking).
--   missing_table / missing_column  declared, but no longer in the database (dropped or renamed)
--   undeclared_table                reaches a subject root table through foreign keys
--   undeclared_owned_table          a subject row points to it (an address, a profile)
--   undeclared_column               looks personal by name or sampled content
-- Scope: the schemas holding a declared table or subject (or p_schemas).
CREATE OR REPLACE FUNCTION gdpr.catalog_check(p_schemas name[] DEFAULT NULL)
RETURNS TABLE (severity text, finding text, table_name text, column_name text, category text, reason text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_schemas name[] := p_schemas;
    v_table record;
BEGIN
    IF v_schemas IS NULL THEN
        SELECT array_agg(DISTINCT s) INTO v_schemas
          FROM (SELECT table_schema FROM gdpr.catalog_table
                UNION SELECT table_schema FROM gdpr.subject_kind) x(s);
    END IF;

    IF to_regclass('pg_temp.pgdpr_findings') IS NULL THEN
        CREATE TEMP TABLE pgdpr_findings
            (severity text, finding text, table_name text, column_name text, category text, reason text);
    END IF;
    TRUNCATE pg_temp.pgdpr_findings;

    -- 1. declared, but gone: the catalog stores names, so a dropped or renamed table
    --    or column leaves a declaration that reports and erases nothing.
    INSERT INTO pg_temp.pgdpr_findings
    SELECT 'error', 'missing_table', format('%I.%I', t.table_schema, t.table_name), NULL, NULL,
           format('declared for subject %s but the table does not exist (dropped or renamed?)', t.kind)
      FROM gdpr.catalog_table t
     WHERE to_regclass(format('%I.%I', t.table_schema, t.table_name)) IS NULL;
    INSERT INTO pg_temp.pgdpr_findings
    SELECT 'error', 'missing_column', format('%I.%I', x.table_schema, x.table_name), x.column_name, x.category,
           format('declared as %s but the column does not exist (dropped or renamed?)', x.role)
      FROM (SELECT c.table_schema, c.table_name, c.column_name, c.category, 'a personal column ('
                   || c.category || ')' AS role
              FROM gdpr.catalog_column c
            UNION ALL
            SELECT t.table_schema, t.table_name, col, NULL, 'the ' || what || ' column'
              FROM gdpr.catalog_table t,
                   LATERAL (VALUES (t.link_column, 'link'), (t.retain_column, 'retain')) v(col, what)
             WHERE col IS NOT NULL AND t.link <> 'owned'
            UNION ALL
            SELECT s.table_schema, s.table_name, t.link_column, NULL, 'the owned_by column of ' || t.table_name
              FROM gdpr.catalog_table t JOIN gdpr.subject_kind s USING (kind) WHERE t.link = 'owned'
            UNION ALL
            SELECT s.table_schema, s.table_name, col, NULL, 'the subject ' || what || ' of ' || s.kind
              FROM gdpr.subject_kind s,
                   LATERAL (SELECT s.key_column, 'key' UNION ALL SELECT s.tenant_column, 'tenant column'
                            UNION ALL SELECT s.anonymized_column, 'anonymized column'
                            UNION ALL SELECT i, 'identifying column' FROM unnest(s.identifying) i) v(col, what)
             WHERE col IS NOT NULL) x
     WHERE to_regclass(format('%I.%I', x.table_schema, x.table_name)) IS NOT NULL
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = format('%I.%I', x.table_schema, x.table_name)::regclass
                          AND a.attname = x.column_name AND a.attnum > 0 AND NOT a.attisdropped);
    INSERT INTO pg_temp.pgdpr_findings
    SELECT DISTINCT 'error', 'missing_table', format('%I.%I', s.table_schema, s.table_name), NULL, NULL,
           format('the root table of subject %s does not exist (dropped or renamed?)', s.kind)
      FROM gdpr.subject_kind s
     WHERE to_regclass(format('%I.%I', s.table_schema, s.table_name)) IS NULL
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_findings f
                        WHERE f.table_name = format('%I.%I', s.table_schema, s.table_name));

    -- 2. tables linked to a subject that the catalog does not declare
    IF to_regclass('pg_temp.pgdpr_linked') IS NULL THEN
        CREATE TEMP TABLE pgdpr_linked (table_oid oid PRIMARY KEY, declared boolean);
    END IF;
    TRUNCATE pg_temp.pgdpr_linked;
    INSERT INTO pg_temp.pgdpr_linked
    SELECT to_regclass(format('%I.%I', t.table_schema, t.table_name)), true
      FROM gdpr.catalog_table t
     WHERE to_regclass(format('%I.%I', t.table_schema, t.table_name)) IS NOT NULL
    ON CONFLICT DO NOTHING;

    INSERT INTO pg_temp.pgdpr_findings
    SELECT CASE WHEN bool_or(r.strong) THEN 'error' ELSE 'warning' END, 'undeclared_table',
           r.table_oid::regclass::text, NULL, NULL,
           (array_agg(format('reaches subject %s through foreign keys: %s%s', s.kind, r.path,
                             CASE WHEN r.strong THEN '' ELSE ' (an optional, nullable reference only)' END)
                      ORDER BY r.strong DESC, r.depth))[1]
      FROM gdpr.subject_kind s
     CROSS JOIN LATERAL gdpr.subject_reach(to_regclass(format('%I.%I', s.table_schema, s.table_name))) r
      JOIN pg_catalog.pg_class c ON c.oid = r.table_oid
     WHERE to_regclass(format('%I.%I', s.table_schema, s.table_name)) IS NOT NULL
       AND c.relnamespace::regnamespace::name = ANY (v_schemas)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_linked l WHERE l.table_oid = r.table_oid)
     GROUP BY r.table_oid;

    -- a table the subject row points to (an address), other than the tenant's own table
    INSERT INTO pg_temp.pgdpr_findings
    SELECT 'error', 'undeclared_owned_table', e.parent::regclass::text, NULL, NULL,
           format('subject %s points to it through %s.(%s): an owned row (an address, a profile)?',
                  s.kind, e.child::regclass, array_to_string(e.child_columns, ', '))
      FROM gdpr.subject_kind s
      JOIN gdpr.fk_edges() e ON e.child = to_regclass(format('%I.%I', s.table_schema, s.table_name))
      JOIN pg_catalog.pg_class c ON c.oid = e.parent
     WHERE NOT (e.child_columns <@ ARRAY[s.tenant_column])
       AND e.parent <> e.child
       AND c.relnamespace::regnamespace::name = ANY (v_schemas)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_linked l WHERE l.table_oid = e.parent)
       AND NOT EXISTS (SELECT FROM gdpr.subject_kind s2
                        WHERE to_regclass(format('%I.%I', s2.table_schema, s2.table_name)) = e.parent)
       AND NOT EXISTS (SELECT FROM pg_temp.pgdpr_findings f WHERE f.table_name = e.parent::regclass::text);

    INSERT INTO pg_temp.pgdpr_linked
    SELECT to_regclass(f.table_name), false FROM pg_temp.pgdpr_findings f
     WHERE f.finding IN ('undeclared_table', 'undeclared_owned_table')
    ON CONFLICT DO NOTHING;

    -- 3. personal-looking columns the catalog does not declare, in every table of scope
    FOR v_table IN
        SELECT c.oid, l.table_oid IS NOT NULL AS linked, COALESCE(l.declared, false) AS declared
          FROM pg_catalog.pg_class c
          LEFT JOIN pg_temp.pgdpr_linked l ON l.table_oid = c.oid
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND c.relnamespace::regnamespace::name = ANY (v_schemas)
           AND c.relnamespace <> 'gdpr'::regnamespace
         ORDER BY c.oid::regclass::text
    LOOP
        INSERT INTO pg_temp.pgdpr_findings
        SELECT CASE WHEN v_table.linked AND NOT v_table.declared
                    THEN 'warning' ELSE 'error' END,
               'undeclared_column', v_table.oid::regclass::text, p.column_name, p.category,
               p.reason || CASE WHEN NOT v_table.linked
                                THEN ' (the table is not linked to any subject: a subject kind of its own?)'
                                WHEN NOT v_table.declared THEN ' (declare the table first)'
                                ELSE '' END
          FROM gdpr.personal_column_candidates(v_table.oid, v_table.linked) p;
    END LOOP;
    -- what the catalog declares not personal, with a reason (gdpr.not_personal)
    DELETE FROM pg_temp.pgdpr_findings f
     USING gdpr.not_personal n
     WHERE f.finding IN ('undeclared_table', 'undeclared_column', 'undeclared_owned_table')
       AND f.table_name = format('%I.%I', n.table_schema, n.table_name)
       AND (n.column_name = '' OR f.column_name = n.column_name);
    -- an undeclared table with personal-looking columns is more than a mention
    UPDATE pg_temp.pgdpr_findings f SET severity = 'error'
     WHERE f.finding = 'undeclared_table' AND EXISTS (
           SELECT FROM pg_temp.pgdpr_findings x
            WHERE x.finding = 'undeclared_column' AND x.table_name = f.table_name);

    RETURN QUERY SELECT * FROM pg_temp.pgdpr_findings x
                  ORDER BY x.severity, x.table_name, x.column_name NULLS FIRST, x.finding;
END $$;
COMMENT ON FUNCTION gdpr.catalog_check(name[]) IS
    'What the catalog misses: undeclared tables linked to a subject, personal-looking undeclared columns, '
    'declared tables and columns that no longer exist';

REVOKE ALL ON FUNCTION gdpr.fk_edges() FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.subject_reach(oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.sample_personal_content(regclass, name[], int) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.catalog_known_column(oid, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.personal_column_candidates(oid, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.catalog_check(name[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.fk_edges() TO pgdpr_admin, pgdpr_owner;
GRANT EXECUTE ON FUNCTION gdpr.subject_reach(oid) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.sample_personal_content(regclass, name[], int) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.catalog_known_column(oid, name) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.personal_column_candidates(oid, boolean, boolean) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.catalog_check(name[]) TO pgdpr_admin;
