-- Declaring the catalog (design.md, "The catalog"). A DBA can do it in psql alone;
-- `pgdpr catalog apply FILE.toml` turns a TOML file into these calls, in one
-- transaction. Every identifier is checked against pg_catalog here and quoted with
-- format('%I') wherever it is used: a catalog can never inject SQL.

-- The oid of an existing table (plain or partitioned), or a clear error naming the entry.
CREATE OR REPLACE FUNCTION gdpr.checked_table(p_schema name, p_table name, p_entry text)
RETURNS oid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_oid oid;
BEGIN
    -- the engine's own tables and the system catalogs are never personal-data tables:
    -- the engine's functions would read or erase them as their owner
    IF p_schema IN ('gdpr', 'pg_catalog', 'information_schema') OR p_schema ~ '^pg_' THEN
        RAISE EXCEPTION 'catalog entry %: schema % belongs to the engine or the system', p_entry, quote_ident(p_schema)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT c.oid INTO v_oid
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = p_schema AND c.relname = p_table AND c.relkind IN ('r', 'p');
    IF v_oid IS NULL THEN
        RAISE EXCEPTION 'catalog entry %: table %.% does not exist', p_entry,
            quote_ident(p_schema), quote_ident(p_table)
            USING ERRCODE = 'undefined_table';
    END IF;
    RETURN v_oid;
END $$;

-- The type of an existing column, or a clear error naming the entry.
CREATE OR REPLACE FUNCTION gdpr.checked_column(p_table oid, p_column name, p_entry text)
RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO v_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = p_table AND a.attname = p_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF v_type IS NULL THEN
        RAISE EXCEPTION 'catalog entry %: column % does not exist in %', p_entry,
            quote_ident(p_column), p_table::regclass
            USING ERRCODE = 'undefined_column';
    END IF;
    RETURN v_type;
END $$;

CREATE OR REPLACE FUNCTION gdpr.declare_subject(
    p_kind text, p_schema name, p_table name, p_key name,
    p_tenant name DEFAULT NULL, p_identifying name[] DEFAULT '{}',
    p_anonymized_column name DEFAULT NULL, p_area text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('subject.%s', p_kind);
    v_oid oid;
    v_column name;
BEGIN
    IF p_kind IS NULL OR p_kind !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'catalog entry %: a subject kind is lower-case letters, digits and _', v_entry;
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    PERFORM gdpr.checked_column(v_oid, p_key, v_entry || '.key');
    IF p_tenant IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_tenant, v_entry || '.tenant');
    END IF;
    FOREACH v_column IN ARRAY COALESCE(p_identifying, '{}') LOOP
        PERFORM gdpr.checked_column(v_oid, v_column, v_entry || '.identifying');
    END LOOP;
    IF p_anonymized_column IS NOT NULL
       AND gdpr.checked_column(v_oid, p_anonymized_column, v_entry || '.anonymized')
           NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %.anonymized: column % must be a date or timestamp', v_entry,
            quote_ident(p_anonymized_column);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO pgdpr_owner', p_schema, p_table);
    IF COALESCE(p_area, p_kind) !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'catalog entry %.area: a rights area is lower-case letters, digits and _', v_entry;
    END IF;
    INSERT INTO gdpr.subject_kind AS s
        (kind, table_schema, table_name, key_column, tenant_column, identifying, anonymized_column, area)
    VALUES (p_kind, p_schema, p_table, p_key, p_tenant, COALESCE(p_identifying, '{}'), p_anonymized_column,
            COALESCE(p_area, p_kind))
    ON CONFLICT (kind) DO UPDATE SET area = excluded.area,
        table_schema = excluded.table_schema, table_name = excluded.table_name,
        key_column = excluded.key_column, tenant_column = excluded.tenant_column,
        identifying = excluded.identifying, anonymized_column = excluded.anonymized_column
    -- re-declaring what is already there changes nothing (no new row version, no audit event)
    WHERE (s.area, s.table_schema, s.table_name, s.key_column, s.tenant_column, s.identifying, s.anonymized_column)
          IS DISTINCT FROM (excluded.area, excluded.table_schema, excluded.table_name, excluded.key_column,
                            excluded.tenant_column, excluded.identifying, excluded.anonymized_column);
END $$;
COMMENT ON FUNCTION gdpr.declare_subject(text, name, name, name, name, name[], name, text) IS
    'Declare a kind of data subject and its root table';

CREATE OR REPLACE FUNCTION gdpr.declare_table(
    p_schema name, p_table name, p_kind text, p_link text,
    p_on_erase text, p_title_da text, p_title_en text,
    p_purpose text, p_legal_basis text, p_retention text,
    p_link_column name DEFAULT NULL,
    p_parent_schema name DEFAULT NULL, p_parent_table name DEFAULT NULL,
    p_parent_column name DEFAULT NULL,
    p_retain_column name DEFAULT NULL, p_retain_period interval DEFAULT NULL,
    p_retain_from_year_end boolean DEFAULT false,
    p_recipients text DEFAULT NULL, p_source text DEFAULT NULL,
    p_position integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('table %s.%s', p_schema, p_table);
    v_subject gdpr.subject_kind;
    v_oid oid;
    v_root oid;
    v_parent oid;
    v_parent_column name := p_parent_column;
    v_link_type regtype;
    v_key_type regtype;
BEGIN
    SELECT * INTO v_subject FROM gdpr.subject_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalog entry %: unknown subject kind %', v_entry, quote_literal(p_kind);
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    v_root := gdpr.checked_table(v_subject.table_schema, v_subject.table_name, v_entry);
    IF p_link IS NULL OR p_link NOT IN ('root', 'direct', 'via', 'owned') THEN
        RAISE EXCEPTION 'catalog entry %: link must be root, direct, via or owned, not %', v_entry,
            quote_nullable(p_link);
    END IF;
    IF p_on_erase IS NULL OR p_on_erase NOT IN ('delete', 'anonymize', 'retain') THEN
        RAISE EXCEPTION 'catalog entry %: on_erase must be delete, anonymize or retain, not %', v_entry,
            quote_nullable(p_on_erase);
    END IF;
    v_key_type := gdpr.checked_column(v_root, v_subject.key_column, v_entry);

    CASE p_link
    WHEN 'root' THEN
        IF v_oid <> v_root THEN
            RAISE EXCEPTION 'catalog entry %: link root is only for the subject table %.%', v_entry,
                quote_ident(v_subject.table_schema), quote_ident(v_subject.table_name);
        END IF;
    WHEN 'direct' THEN
        v_link_type := gdpr.checked_column(v_oid, p_link_column, v_entry || '.link');
        IF v_link_type <> v_key_type THEN
            RAISE EXCEPTION 'catalog entry %: link column % is %, the subject key is %', v_entry,
                quote_ident(p_link_column), v_link_type, v_key_type;
        END IF;
    WHEN 'via' THEN
        IF p_parent_table IS NULL OR NOT EXISTS (
            SELECT FROM gdpr.catalog_table
             WHERE table_schema = p_parent_schema AND table_name = p_parent_table AND kind = p_kind) THEN
            RAISE EXCEPTION 'catalog entry %: parent %.% is not a declared table of subject %', v_entry,
                quote_ident(p_parent_schema), quote_ident(p_parent_table), p_kind;
        END IF;
        v_parent := gdpr.checked_table(p_parent_schema, p_parent_table, v_entry || '.parent');
        v_link_type := gdpr.checked_column(v_oid, p_link_column, v_entry || '.link');
        IF v_parent_column IS NULL THEN
            -- the single-column primary key of the parent
            SELECT a.attname INTO v_parent_column
              FROM pg_catalog.pg_constraint k
              JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid
               AND a.attnum = k.conkey[array_length(k.conkey, 1)]
             WHERE k.conrelid = v_parent AND k.contype = 'p';
        END IF;
        IF gdpr.checked_column(v_parent, v_parent_column, v_entry || '.parent') <> v_link_type THEN
            RAISE EXCEPTION 'catalog entry %: link column % and parent column % differ in type', v_entry,
                quote_ident(p_link_column), quote_ident(v_parent_column);
        END IF;
    WHEN 'owned' THEN
        v_link_type := gdpr.checked_column(v_root, p_link_column, v_entry || '.owned_by');
        IF v_parent_column IS NULL THEN
            SELECT a.attname INTO v_parent_column
              FROM pg_catalog.pg_constraint k
              JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid
               AND a.attnum = k.conkey[array_length(k.conkey, 1)]
             WHERE k.conrelid = v_oid AND k.contype = 'p';
        END IF;
        IF gdpr.checked_column(v_oid, v_parent_column, v_entry || '.key') <> v_link_type THEN
            RAISE EXCEPTION 'catalog entry %: owned_by column % and key % differ in type', v_entry,
                quote_ident(p_link_column), quote_ident(v_parent_column);
        END IF;
    END CASE;

    IF p_on_erase = 'retain' THEN
        IF p_retain_column IS NULL OR p_retain_period IS NULL THEN
            RAISE EXCEPTION 'catalog entry %: on_erase retain needs retain.from and retain.period', v_entry;
        END IF;
        IF gdpr.checked_column(v_oid, p_retain_column, v_entry || '.retain.from')
           NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
            RAISE EXCEPTION 'catalog entry %.retain.from: column % must be a date or timestamp', v_entry,
                quote_ident(p_retain_column);
        END IF;
    END IF;

    -- The engine's SECURITY DEFINER functions (owned by pgdpr_owner) read, scrub and
    -- delete the declared rows; the declaring DBA owns the table and grants that here
    -- (TRIGGER: gdpr.install_erasure_guards, run by gdpr.anonymize, adds the erasure guard).
    -- a table belongs to one kind: declaring it for a second kind would silently take
    -- it from the first (its rows would leave that kind's reports and erasure)
    IF EXISTS (SELECT FROM gdpr.catalog_table t
                WHERE t.table_schema = p_schema AND t.table_name = p_table AND t.kind <> p_kind) THEN
        RAISE EXCEPTION 'catalog entry %: the table is declared for subject kind %; a table belongs to one kind',
            v_entry, (SELECT t.kind FROM gdpr.catalog_table t WHERE t.table_schema = p_schema AND t.table_name = p_table)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRIGGER ON %I.%I TO pgdpr_owner', p_schema, p_table);

    INSERT INTO gdpr.catalog_table AS t
        (table_schema, table_name, kind, link, link_column, parent_schema, parent_name, parent_column,
         on_erase, retain_column, retain_period, retain_from_year_end,
         title_da, title_en, purpose, legal_basis, retention, recipients, source, position)
    VALUES (p_schema, p_table, p_kind, p_link,
            CASE WHEN p_link <> 'root' THEN p_link_column END,
            CASE WHEN p_link = 'via' THEN p_parent_schema END,
            CASE WHEN p_link = 'via' THEN p_parent_table END,
            CASE WHEN p_link IN ('via', 'owned') THEN v_parent_column END,
            p_on_erase,
            CASE WHEN p_on_erase = 'retain' THEN p_retain_column END,
            CASE WHEN p_on_erase = 'retain' THEN p_retain_period END,
            p_on_erase = 'retain' AND COALESCE(p_retain_from_year_end, false),
            p_title_da, p_title_en, p_purpose, p_legal_basis, p_retention,
            COALESCE(p_recipients, 'Ingen uden for klubben / none outside the club'),
            COALESCE(p_source, 'the data subject'),
            COALESCE(p_position, (SELECT count(*) FROM gdpr.catalog_table)::integer))
    ON CONFLICT (table_schema, table_name) DO UPDATE SET
        kind = excluded.kind, link = excluded.link, link_column = excluded.link_column,
        parent_schema = excluded.parent_schema, parent_name = excluded.parent_name,
        parent_column = excluded.parent_column, on_erase = excluded.on_erase,
        retain_column = excluded.retain_column, retain_period = excluded.retain_period,
        retain_from_year_end = excluded.retain_from_year_end,
        title_da = excluded.title_da, title_en = excluded.title_en, purpose = excluded.purpose,
        legal_basis = excluded.legal_basis, retention = excluded.retention,
        recipients = excluded.recipients, source = excluded.source, position = excluded.position
    WHERE (t.kind, t.link, t.link_column, t.parent_schema, t.parent_name, t.parent_column, t.on_erase,
           t.retain_column, t.retain_period, t.retain_from_year_end, t.title_da, t.title_en, t.purpose,
           t.legal_basis, t.retention, t.recipients, t.source, t.position)
          IS DISTINCT FROM (excluded.kind, excluded.link, excluded.link_column, excluded.parent_schema,
           excluded.parent_name, excluded.parent_column, excluded.on_erase, excluded.retain_column,
           excluded.retain_period, excluded.retain_from_year_end, excluded.title_da, excluded.title_en,
           excluded.purpose, excluded.legal_basis, excluded.retention, excluded.recipients, excluded.source,
           excluded.position);
END $$;
COMMENT ON FUNCTION gdpr.declare_table(name, name, text, text, text, text, text, text, text, text,
    name, name, name, name, name, interval, boolean, text, text, integer) IS
    'Declare a table holding personal data: its link to the subject, erasure and Art. 30 record';

CREATE OR REPLACE FUNCTION gdpr.declare_column(
    p_schema name, p_table name, p_column name, p_category text,
    p_erase text DEFAULT 'null', p_sensitive boolean DEFAULT false,
    p_erase_constant text DEFAULT NULL, p_part_of_record boolean DEFAULT true,
    p_label_da text DEFAULT NULL, p_label_en text DEFAULT NULL,
    p_sensitive_when name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('column %s.%s.%s', p_schema, p_table, p_column);
    v_oid oid;
    v_type regtype;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table) THEN
        RAISE EXCEPTION 'catalog entry %: table %.% is not declared', v_entry,
            quote_ident(p_schema), quote_ident(p_table);
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    v_type := gdpr.checked_column(v_oid, p_column, v_entry);
    IF p_category IS NULL OR p_category NOT IN ('name', 'address', 'contact', 'national_id', 'bank',
            'birthdate', 'free_text', 'photo', 'identifier', 'other') THEN
        RAISE EXCEPTION 'catalog entry %: unknown category %', v_entry, quote_nullable(p_category);
    END IF;
    IF p_erase IS NULL OR p_erase NOT IN ('null', 'constant', 'redact', 'year_only', 'hash', 'random', 'keep') THEN
        RAISE EXCEPTION 'catalog entry %: unknown erase strategy %', v_entry, quote_nullable(p_erase);
    END IF;
    IF (p_erase = 'constant') <> (p_erase_constant IS NOT NULL) THEN
        RAISE EXCEPTION 'catalog entry %: erase strategy constant needs a value (constant:VALUE)', v_entry;
    END IF;
    IF p_erase = 'year_only' AND v_type NOT IN ('date'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %: year_only needs a date column, not %', v_entry, v_type;
    END IF;
    IF p_erase IN ('redact', 'hash', 'random', 'constant')
       AND v_type NOT IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype)
       AND NOT (p_erase = 'redact' AND v_type IN ('jsonb'::regtype, 'json'::regtype)) THEN
        RAISE EXCEPTION 'catalog entry %: erase strategy % needs a text column, not %', v_entry, p_erase, v_type;
    END IF;
    IF p_sensitive_when IS NOT NULL
       AND gdpr.checked_column(v_oid, p_sensitive_when, v_entry || '.sensitive_when') <> 'boolean'::regtype THEN
        RAISE EXCEPTION 'catalog entry %: sensitive_when column % must be boolean', v_entry,
            quote_ident(p_sensitive_when);
    END IF;
    INSERT INTO gdpr.catalog_column AS c
        (table_schema, table_name, column_name, category, sensitive, sensitive_when, erase,
         erase_constant, part_of_record, label_da, label_en)
    VALUES (p_schema, p_table, p_column, p_category, COALESCE(p_sensitive, false), p_sensitive_when,
            p_erase, p_erase_constant, COALESCE(p_part_of_record, true), p_label_da, p_label_en)
    ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET
        category = excluded.category, sensitive = excluded.sensitive,
        sensitive_when = excluded.sensitive_when, erase = excluded.erase,
        erase_constant = excluded.erase_constant, part_of_record = excluded.part_of_record,
        label_da = excluded.label_da, label_en = excluded.label_en
    WHERE (c.category, c.sensitive, c.sensitive_when, c.erase, c.erase_constant, c.part_of_record, c.label_da,
           c.label_en)
          IS DISTINCT FROM (excluded.category, excluded.sensitive, excluded.sensitive_when, excluded.erase,
           excluded.erase_constant, excluded.part_of_record, excluded.label_da, excluded.label_en);
END $$;
COMMENT ON FUNCTION gdpr.declare_column(name, name, name, text, text, boolean, text, boolean, text, text, name) IS
    'Declare a personal column: category, sensitivity and erasure strategy';

-- What the engine keeps about a subject kind beyond its declaration: legal holds,
-- rules, erasure ledger and proofs, deferred erasures, requests. Forgetting the kind
-- or a table would orphan them, so both are refused while any exist.
CREATE OR REPLACE FUNCTION gdpr.kind_dependents(p_kind text)
RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_check record;
BEGIN
    FOR v_check IN
        SELECT * FROM (VALUES ('legal holds', 'gdpr.legal_hold', 'kind'),
                              ('rules', 'gdpr.rule', 'kind'),
                              ('erasure ledger entries', 'gdpr.erasure_ledger', 'kind'),
                              ('erasure proofs', 'gdpr.erasure_proof', 'kind'),
                              ('deferred erasures', 'gdpr.deferred_erasure', 'kind'),
                              ('data-subject requests', 'gdpr.dsr_request', 'kind')) AS c(what, rel, col)
         WHERE pg_catalog.to_regclass(c.rel) IS NOT NULL
           AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = pg_catalog.to_regclass(c.rel) AND a.attname = c.col AND NOT a.attisdropped)
    LOOP
        what := v_check.what;
        EXECUTE format('SELECT count(*) FROM %s WHERE %I = $1', v_check.rel, v_check.col) INTO n USING p_kind;
        IF n > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END $$;

-- Remove a subject kind and its declarations, refused while the engine keeps
-- anything about its subjects (gdpr.kind_dependents). `pgdpr catalog apply` never
-- calls it: re-applying a catalog is a diff (gdpr.prune_catalog).
CREATE OR REPLACE FUNCTION gdpr.forget_subject(p_kind text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kept text;
BEGIN
    SELECT string_agg(format('%s %s', d.n, d.what), ', ') INTO v_kept FROM gdpr.kind_dependents(p_kind) d;
    IF v_kept IS NOT NULL THEN
        RAISE EXCEPTION 'subject kind % is not forgotten: the engine keeps % about its subjects', p_kind, v_kept
            USING ERRCODE = 'dependent_objects_still_exist';
    END IF;
    DELETE FROM gdpr.subject_kind WHERE kind = p_kind;
END $$;

-- After a catalog file's declarations: the tables of the file's kinds that the file
-- no longer names, and the columns of the file's tables it no longer names, are
-- removed from the catalog (a table with deferred erasures pending is refused: its
-- kept rows would never be erased). Nothing else is touched: subject kinds stay,
-- and with them holds, rules, ledger, proofs and requests.
CREATE OR REPLACE FUNCTION gdpr.prune_catalog(p_kinds text[], p_tables text[], p_columns text[])
RETURNS TABLE (removed text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_pending text;
BEGIN
    SELECT string_agg(DISTINCT format('%I.%I', d.table_schema, d.table_name), ', ') INTO v_pending
      FROM gdpr.deferred_erasure d JOIN gdpr.catalog_table t USING (table_schema, table_name)
     WHERE t.kind = ANY (p_kinds) AND t.table_schema || '.' || t.table_name <> ALL (p_tables)
       AND d.done_at IS NULL;
    IF v_pending IS NOT NULL THEN
        RAISE EXCEPTION 'catalog: % left out of the file but still has rows kept for deferred erasure', v_pending
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'keep the table in the catalog until its kept rows have been erased';
    END IF;
    RETURN QUERY
    WITH gone AS (
        DELETE FROM gdpr.catalog_table t
         WHERE t.kind = ANY (p_kinds) AND t.table_schema || '.' || t.table_name <> ALL (p_tables)
        RETURNING format('table %I.%I', t.table_schema, t.table_name) AS removed)
    SELECT g.removed FROM gone g;
    RETURN QUERY
    WITH gone AS (
        DELETE FROM gdpr.catalog_column c
         WHERE c.table_schema || '.' || c.table_name = ANY (p_tables)
           AND c.table_schema || '.' || c.table_name || '.' || c.column_name <> ALL (p_columns)
        RETURNING format('column %I.%I.%I', c.table_schema, c.table_name, c.column_name) AS removed)
    SELECT g.removed FROM gone g;
END $$;
COMMENT ON FUNCTION gdpr.prune_catalog(text[], text[], text[]) IS
    'Remove from the catalog the tables and columns a re-applied catalog file no longer names';

-- What changed in the catalog since an audit event id, one line per row declared,
-- changed or removed (the catalog tables are audited by trigger: gdpr.audit_table_change;
-- re-declaring an unchanged row writes nothing).
CREATE OR REPLACE FUNCTION gdpr.catalog_changes_since(p_event_id bigint)
RETURNS TABLE (change text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE split_part(e.action, '.', 2) WHEN 'insert' THEN 'declared' WHEN 'update' THEN 'changed'
                ELSE 'removed' END || ' ' ||
           CASE split_part(e.action, '.', 1)
               WHEN 'subject_kind' THEN 'subject ' || (r.row ->> 'kind')
               WHEN 'catalog_table' THEN 'table ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name')
               WHEN 'catalog_column' THEN 'column ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name')
                                          || '.' || (r.row ->> 'column_name')
               WHEN 'not_personal' THEN 'not personal ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name')
                                        || COALESCE('.' || NULLIF(r.row ->> 'column_name', ''), '')
               ELSE 'tenant table ' || (r.row ->> 'table_schema') || '.' || (r.row ->> 'table_name') END
      FROM gdpr.audit_event e,
           LATERAL (SELECT COALESCE(e.details -> 'new', e.details) AS row) r
     WHERE e.id > p_event_id AND e.action ~ '^(subject_kind|catalog_table|catalog_column|tenant_table|not_personal)\.'
     ORDER BY e.id
$$;

-- Catalog overview, one row per declared table (for `pgdpr catalog show` and status).
CREATE OR REPLACE FUNCTION gdpr.catalog_summary()
RETURNS TABLE (kind text, table_name text, link text, on_erase text,
               personal_columns bigint, sensitive_columns bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.kind, format('%I.%I', t.table_schema, t.table_name), t.link, t.on_erase,
           count(c.column_name), count(c.column_name) FILTER (WHERE c.sensitive OR c.sensitive_when IS NOT NULL)
      FROM gdpr.catalog_table t
      LEFT JOIN gdpr.catalog_column c USING (table_schema, table_name)
     GROUP BY t.kind, t.table_schema, t.table_name, t.link, t.on_erase, t.position
     ORDER BY t.kind, t.position, t.table_schema, t.table_name
$$;

-- The WHERE clause that selects a declared table's rows belonging to the subjects
-- whose key matches p_key_match (e.g. '= $1' or '= ANY ($1)'), with the table under
-- alias p_alias. Built from the catalog only; every identifier quoted. When the
-- table has the subject kind's tenant column, p_tenant_match (e.g. '= $2') is
-- added so lookups use (tenant, subject) indexes and never cross tenants.
CREATE OR REPLACE FUNCTION gdpr.subject_filter(
    p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_filter text;
    v_parent_alias text := p_alias || '_p';
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table %.% is not in the catalog', quote_ident(p_schema), quote_ident(p_table);
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    v_filter := CASE v_t.link
        WHEN 'root' THEN format('%I.%I %s', p_alias, v_s.key_column, p_key_match)
        WHEN 'direct' THEN format('%I.%I %s', p_alias, v_t.link_column, p_key_match)
        WHEN 'via' THEN format('%I.%I IN (SELECT %I.%I FROM %I.%I %I WHERE %s)',
            p_alias, v_t.link_column, v_parent_alias, v_t.parent_column,
            v_t.parent_schema, v_t.parent_name, v_parent_alias,
            gdpr.subject_filter(v_t.parent_schema, v_t.parent_name, v_parent_alias, p_key_match, p_tenant_match))
        -- the subject row is matched on its tenant too: with a per-tenant key, another
        -- tenant's subject of the same key must not lend us its address's id
        WHEN 'owned' THEN format('%I.%I IN (SELECT %I.%I FROM %I.%I %I WHERE %I.%I %s%s)',
            p_alias, v_t.parent_column, v_parent_alias, v_t.link_column,
            v_s.table_schema, v_s.table_name, v_parent_alias, v_parent_alias, v_s.key_column, p_key_match,
            CASE WHEN p_tenant_match IS NOT NULL AND v_s.tenant_column IS NOT NULL
                 THEN format(' AND %I.%I %s', v_parent_alias, v_s.tenant_column, p_tenant_match) ELSE '' END)
    END;
    IF p_tenant_match IS NOT NULL AND v_s.tenant_column IS NOT NULL AND EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = format('%I.%I', p_schema, p_table)::regclass
           AND a.attname = v_s.tenant_column AND NOT a.attisdropped) THEN
        v_filter := format('%I.%I %s AND %s', p_alias, v_s.tenant_column, p_tenant_match, v_filter);
    END IF;
    RETURN v_filter;
END $$;
COMMENT ON FUNCTION gdpr.subject_filter(name, name, text, text, text) IS
    'WHERE clause selecting a declared table''s rows of the matched subjects (generated from the catalog)';

REVOKE ALL ON FUNCTION gdpr.declare_subject(text, name, name, name, name, name[], name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.declare_table(name, name, text, text, text, text, text, text, text, text,
    name, name, name, name, name, interval, boolean, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.declare_column(name, name, name, text, text, boolean, text, boolean, text, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.forget_subject(text), gdpr.prune_catalog(text[], text[], text[]),
    gdpr.kind_dependents(text), gdpr.catalog_changes_since(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_subject(text, name, name, name, name, name[], name, text) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.declare_table(name, name, text, text, text, text, text, text, text, text,
    name, name, name, name, name, interval, boolean, text, text, integer) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.declare_column(name, name, name, text, text, boolean, text, boolean, text, text, name) TO pgdpr_admin;
GRANT EXECUTE ON FUNCTION gdpr.forget_subject(text), gdpr.prune_catalog(text[], text[], text[]),
    gdpr.kind_dependents(text), gdpr.catalog_changes_since(bigint) TO pgdpr_admin;

-- Erasure plans that cannot work, found when the catalog is applied rather than when
-- a person is erased (each names the column or the foreign key):
--   not_null_erased  a column erased to NULL that is NOT NULL (in a row erasure keeps);
--   delete_blocked   rows erasure deletes that a kept row of another declared table
--                    references through a foreign key that neither cascades nor sets NULL
--                    (owned rows excepted: they are deleted only once nothing points to them);
--   owned_not_null   a subject's link to its owned row, which erasure sets to NULL, is
--                    NOT NULL.
CREATE OR REPLACE FUNCTION gdpr.erasure_plan_problems()
RETURNS TABLE (problem text, place text, detail text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'not_null_erased', format('%I.%I.%I', c.table_schema, c.table_name, c.column_name),
           'erase = null, but the column is NOT NULL: choose erase = constant or keep'
      FROM gdpr.catalog_column c
      JOIN gdpr.catalog_table t USING (table_schema, table_name)
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
     WHERE c.erase = 'null' AND a.attnotnull AND t.on_erase <> 'delete'
       AND NOT (t.on_erase = 'retain' AND c.part_of_record)
    UNION ALL
    SELECT 'delete_blocked', f.conname::text,
           format('%s rows are deleted at erasure, but %s (on_erase %s) keeps rows that reference them '
                  'through foreign key %s, which neither cascades nor sets NULL',
                  f.confrelid::regclass, f.conrelid::regclass, child.on_erase, f.conname)
      FROM gdpr.catalog_table parent
      JOIN pg_catalog.pg_constraint f
        ON f.contype = 'f' AND f.confrelid = format('%I.%I', parent.table_schema, parent.table_name)::regclass
       AND f.confdeltype IN ('a', 'r')
      JOIN gdpr.catalog_table child
        ON f.conrelid = format('%I.%I', child.table_schema, child.table_name)::regclass
     WHERE parent.on_erase = 'delete' AND child.on_erase IN ('retain', 'anonymize')
       AND child.kind = parent.kind
       AND parent.link <> 'owned'  -- owned rows go only when nothing points to them any more
    UNION ALL
    SELECT 'owned_not_null', format('%I.%I.%I', k.table_schema, k.table_name, t.link_column),
           format('erasure lets go of the owned row in %I.%I by setting this link to NULL, but it is NOT NULL',
                  t.table_schema, t.table_name)
      FROM gdpr.catalog_table t
      JOIN gdpr.subject_kind k ON k.kind = t.kind
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid = format('%I.%I', k.table_schema, k.table_name)::regclass AND a.attname = t.link_column
     WHERE t.link = 'owned' AND t.on_erase = 'delete' AND a.attnotnull
$$;
REVOKE ALL ON FUNCTION gdpr.erasure_plan_problems() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.erasure_plan_problems() TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.erasure_plan_problems() IS
    'Erasure plans of the catalog that cannot work (NOT NULL erased to NULL, deletes blocked by kept rows)';

-- Refuse a catalog whose erasure plan cannot work (called by `pgdpr catalog apply`).
CREATE OR REPLACE FUNCTION gdpr.check_erasure_plan() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_problem record;
BEGIN
    SELECT * INTO v_problem FROM gdpr.erasure_plan_problems() ORDER BY 1, 2 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'catalog: erasure cannot work at %: %', v_problem.place, v_problem.detail
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;
REVOKE ALL ON FUNCTION gdpr.check_erasure_plan() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.check_erasure_plan() TO pgdpr_admin;

-- Declare a table (p_column NULL) or a column not to hold personal data, with the
-- reason (shown in the record of processing; `pgdpr catalog check` skips it).
CREATE OR REPLACE FUNCTION gdpr.declare_not_personal(p_schema name, p_table name, p_column name, p_reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('not_personal %s.%s%s', p_schema, p_table,
                           CASE WHEN p_column IS NOT NULL THEN '.' || p_column ELSE '' END);
    v_oid oid := gdpr.checked_table(p_schema, p_table, v_entry);
BEGIN
    IF NOT gdpr.caller_is_admin() THEN
        RAISE EXCEPTION 'role % may not change the catalog', gdpr.caller() USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_column IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_column, v_entry);
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'catalog entry %: say why it is not personal data', v_entry
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM gdpr.catalog_table t WHERE t.table_schema = p_schema AND t.table_name = p_table
                  AND p_column IS NULL)
       OR EXISTS (SELECT FROM gdpr.catalog_column c WHERE c.table_schema = p_schema AND c.table_name = p_table
                     AND c.column_name = p_column) THEN
        RAISE EXCEPTION 'catalog entry %: it is declared as personal data', v_entry
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.not_personal AS n (table_schema, table_name, column_name, reason)
    VALUES (p_schema, p_table, COALESCE(p_column, ''), p_reason)
    ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET reason = excluded.reason
    WHERE n.reason IS DISTINCT FROM excluded.reason;
END $$;
ALTER FUNCTION gdpr.declare_not_personal(name, name, name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.declare_not_personal(name, name, name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_not_personal(name, name, name, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.declare_not_personal(name, name, name, text) IS
    'Declare a table or column not to hold personal data, with the reason';
