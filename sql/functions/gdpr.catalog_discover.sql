-- Catalog discovery (GDPR Art. 25, 30): a first draft of the catalog for a schema
-- the engine has never seen, from the foreign-key graph and the heuristics of the
-- catalog check (gdpr.catalog_check.sql). `pgdpr catalog discover` renders it as
-- TOML for a DBA to review and apply: every guess is marked for review, nothing is
-- declared by this function.

-- The subject table of a schema, guessed: the table with the most personal-looking
-- identifying columns (names, contact, national id), the most tables referencing
-- it, and a name like customers/users/members.
CREATE OR REPLACE FUNCTION gdpr.guess_subject_table(p_schema name) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema)
       AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY 3 * (SELECT count(*) FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                      AND gdpr.personal_name_category(a.attname, a.atttypid::regtype, false)
                          IN ('name', 'contact', 'national_id'))
            + (SELECT count(*) FROM gdpr.fk_edges() e WHERE e.parent = c.oid AND e.child <> c.oid)
            + CASE WHEN c.relname ~ '(customer|user|member|person|people|client|patient|employee|kunde|medlem)'
                   THEN 5 ELSE 0 END DESC,
              c.relname
     LIMIT 1
$$;

-- The key of a table as seen by the catalog: (key, tenant). A single-column primary
-- key is the key; in a composite (tenant, id) key the column that alone references
-- another table (the tenant's table) is the tenant and the other one the key.
CREATE OR REPLACE FUNCTION gdpr.guess_table_key(p_table oid, OUT key_column name, OUT tenant_column name)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH pk AS (
        SELECT array_agg(a.attname ORDER BY u.i) AS cols
          FROM pg_catalog.pg_constraint k
          CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY u(n, i)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
         WHERE k.conrelid = p_table AND k.contype = 'p'
    ), tenant AS (
        SELECT e.child_columns[1] AS col FROM gdpr.fk_edges() e, pk
         WHERE e.child = p_table AND cardinality(e.child_columns) = 1 AND e.child_columns[1] = ANY (pk.cols)
           AND cardinality(pk.cols) = 2
         LIMIT 1
    )
    SELECT CASE WHEN cardinality(pk.cols) = 1 THEN pk.cols[1]
                WHEN (SELECT col FROM tenant) IS NOT NULL
                     THEN (SELECT x FROM unnest(pk.cols) x WHERE x <> (SELECT col FROM tenant) LIMIT 1)
                ELSE pk.cols[cardinality(pk.cols)] END,
           (SELECT col FROM tenant)
      FROM pk
$$;

-- The draft: one row per table linked to the subject (the subject's own table
-- first), with its guessed link, erasure and personal columns.
--   role      root | direct | via | owned
--   strong    false when the table only mentions the subject through a nullable reference
--   columns   [{column, category, sensitive, erase, reason}]
CREATE OR REPLACE FUNCTION gdpr.catalog_discover(p_schema name, p_subject regclass DEFAULT NULL)
RETURNS TABLE (table_name text, role text, link_column name, parent text, parent_column name,
               strong boolean, on_erase text, retain_column name, path text,
               subject_key name, tenant_column name, identifying name[], anonymized_column name,
               columns jsonb)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_root regclass := COALESCE(p_subject, gdpr.guess_subject_table(p_schema));
    v_key record;
BEGIN
    IF v_root IS NULL THEN
        RAISE EXCEPTION 'schema % has no table to take as the subject', quote_ident(p_schema)
            USING ERRCODE = 'undefined_table';
    END IF;
    v_key := gdpr.guess_table_key(v_root);

    IF to_regclass('pg_temp.pgdpr_discovered') IS NULL THEN
        CREATE TEMP TABLE pgdpr_discovered (table_oid oid PRIMARY KEY, role text, link_column name,
            parent oid, parent_column name, strong boolean, path text, depth int);
    END IF;
    TRUNCATE pg_temp.pgdpr_discovered;
    INSERT INTO pg_temp.pgdpr_discovered VALUES (v_root, 'root', NULL, NULL, NULL, true, NULL, 0);
    -- tables reaching the subject: the column of the link that maps to the parent's key
    INSERT INTO pg_temp.pgdpr_discovered
    SELECT r.table_oid, CASE WHEN r.parent = v_root THEN 'direct' ELSE 'via' END,
           COALESCE((SELECT r.link_columns[i] FROM generate_subscripts(r.parent_columns, 1) i
                      WHERE r.parent_columns[i] = pk.key_column LIMIT 1),
                    r.link_columns[cardinality(r.link_columns)]),
           CASE WHEN r.parent <> v_root THEN r.parent END,
           CASE WHEN r.parent <> v_root THEN pk.key_column END,
           r.strong, r.path, r.depth
      FROM gdpr.subject_reach(v_root) r
      CROSS JOIN LATERAL gdpr.guess_table_key(r.parent) pk
      JOIN pg_catalog.pg_class c ON c.oid = r.table_oid
     WHERE c.relnamespace::regnamespace::name = p_schema;
    -- rows the subject points to (an address), not the tenant's table
    INSERT INTO pg_temp.pgdpr_discovered
    SELECT DISTINCT ON (e.parent) e.parent, 'owned',
           (SELECT e.child_columns[i] FROM generate_subscripts(e.child_columns, 1) i
             WHERE e.child_columns[i] IS DISTINCT FROM v_key.tenant_column ORDER BY i LIMIT 1),
           NULL,
           (SELECT e.parent_columns[i] FROM generate_subscripts(e.child_columns, 1) i
             WHERE e.child_columns[i] IS DISTINCT FROM v_key.tenant_column ORDER BY i LIMIT 1),
           true, format('%s (%s) -> %s', e.child::regclass, array_to_string(e.child_columns, ', '), e.parent::regclass), 1
      FROM gdpr.fk_edges() e
      JOIN pg_catalog.pg_class c ON c.oid = e.parent
     WHERE e.child = v_root AND e.parent <> v_root
       AND NOT (e.child_columns <@ ARRAY[v_key.tenant_column])
       AND c.relnamespace::regnamespace::name = p_schema
    ON CONFLICT DO NOTHING;

    RETURN QUERY
    SELECT d.table_oid::regclass::text, d.role, d.link_column, d.parent::regclass::text, d.parent_column,
           d.strong,
           CASE WHEN d.role = 'root' OR NOT d.strong THEN 'anonymize'
                WHEN d.role <> 'owned' AND m.amount IS NOT NULL AND m.booked IS NOT NULL THEN 'retain'
                ELSE 'delete' END,
           CASE WHEN d.role NOT IN ('root', 'owned') AND d.strong AND m.amount IS NOT NULL THEN m.booked END,
           d.path,
           CASE WHEN d.role = 'root' THEN v_key.key_column END,
           CASE WHEN d.role = 'root' THEN v_key.tenant_column END,
           CASE WHEN d.role = 'root' THEN ARRAY(
               SELECT x->>'column' FROM jsonb_array_elements(cols.list) x
                WHERE x->>'category' IN ('name', 'contact', 'national_id', 'identifier'))::name[] END,
           CASE WHEN d.role = 'root' THEN (
               SELECT a.attname FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = d.table_oid AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                  AND a.attname ~ '^(anonymi[sz]ed|erased|deleted)(_at|_on)?$' LIMIT 1) END,
           cols.list
      FROM pg_temp.pgdpr_discovered d
      -- accounting records: an amount and a booking date suggest a statutory retention
      CROSS JOIN LATERAL (
          SELECT (SELECT a.attname FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = d.table_oid AND a.attnum > 0 AND NOT a.attisdropped
                     AND a.atttypid IN ('numeric'::regtype, 'money'::regtype)
                     AND a.attname ~ '(amount|total|price|sum|bel(oe|ø)b)' LIMIT 1) AS amount,
                 (SELECT a.attname FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = d.table_oid AND a.attnum > 0 AND NOT a.attisdropped
                     AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                   ORDER BY a.attname ~ '(booked|paid|ordered|invoiced|placed)' DESC,
                            a.attname ~ '(created|_at$|date)' DESC, a.attnum LIMIT 1) AS booked) m
      CROSS JOIN LATERAL (
          SELECT COALESCE(jsonb_agg(jsonb_build_object(
                     'column', p.column_name, 'category', p.category,
                     'sensitive', p.category IN ('national_id', 'bank'),
                     'erase', CASE
                         WHEN a.atttypid IN ('json'::regtype, 'jsonb'::regtype) THEN 'redact'
                         WHEN p.category = 'birthdate' AND a.atttypid IN ('date'::regtype, 'timestamptz'::regtype,
                              'timestamp'::regtype) THEN 'year_only'
                         WHEN p.category = 'free_text' AND a.atttypid IN ('text'::regtype,
                              'character varying'::regtype) THEN 'redact'
                         WHEN NOT a.attnotnull THEN 'null'
                         WHEN p.category = 'name' AND a.atttypid IN ('text'::regtype, 'character varying'::regtype)
                              THEN 'constant:Anonymized'
                         WHEN a.atttypid IN ('text'::regtype, 'character varying'::regtype) THEN 'random'
                         ELSE 'keep' END,
                     'reason', p.reason) ORDER BY a.attnum), '[]'::jsonb) AS list
            FROM gdpr.personal_column_candidates(d.table_oid, true, true) p
            JOIN pg_catalog.pg_attribute a ON a.attrelid = d.table_oid AND a.attname = p.column_name
           WHERE p.column_name IS DISTINCT FROM d.link_column) cols
     ORDER BY d.depth, d.role <> 'root', d.role = 'owned' DESC, d.table_oid::regclass::text;
END $$;
COMMENT ON FUNCTION gdpr.catalog_discover(name, regclass) IS
    'A draft catalog for a schema: tables linked to the subject (FK graph), guessed links, erasure and personal columns';

REVOKE ALL ON FUNCTION gdpr.guess_subject_table(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.guess_table_key(oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.catalog_discover(name, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.guess_subject_table(name) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.guess_table_key(oid) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.catalog_discover(name, regclass) TO pgdpr_admin;
