CREATE SCHEMA club;
ALTER SCHEMA club OWNER TO postgres;
COMMENT ON SCHEMA club IS 'Reference club system (seed): customers, staff, bookings, accounts';
CREATE SCHEMA gdpr;
ALTER SCHEMA gdpr OWNER TO pgdpr_owner;
COMMENT ON SCHEMA gdpr IS 'pgdpr engine: catalog, audit trail and the functions built on them';
CREATE FUNCTION club.cpr_birth_date(p_cpr text) RETURNS date
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_day int; v_month int; v_yy int; v_digit7 int; v_year int;
BEGIN
    IF p_cpr !~ '^[0-9]{10}$' THEN
        RETURN NULL;
    END IF;
    v_day := substr(p_cpr, 1, 2)::int;
    v_month := substr(p_cpr, 3, 2)::int;
    v_yy := substr(p_cpr, 5, 2)::int;
    v_digit7 := substr(p_cpr, 7, 1)::int;
    v_year := CASE
        WHEN v_digit7 <= 3 THEN 1900 + v_yy
        WHEN v_digit7 IN (4, 9) THEN CASE WHEN v_yy <= 36 THEN 2000 + v_yy ELSE 1900 + v_yy END
        ELSE CASE WHEN v_yy <= 57 THEN 2000 + v_yy ELSE 1800 + v_yy END
    END;
    IF v_month NOT BETWEEN 1 AND 12 OR v_day < 1
       OR v_day > extract(day FROM (make_date(v_year, v_month, 1) + interval '1 month - 1 day')) THEN
        RETURN NULL;
    END IF;
    RETURN make_date(v_year, v_month, v_day);
END $_$;
ALTER FUNCTION club.cpr_birth_date(p_cpr text) OWNER TO postgres;
COMMENT ON FUNCTION club.cpr_birth_date(p_cpr text) IS 'Birth date encoded in a CPR number (century rule of the 7th digit), NULL if invalid';
CREATE FUNCTION club.valid_bank_account(p_reg text, p_account text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    IF p_reg IS NOT NULL AND p_reg !~ '^[0-9]{4}$' THEN
        RAISE EXCEPTION 'invalid bank registration number: it must be exactly 4 digits'
            USING ERRCODE = 'check_violation';
    END IF;
    IF p_account IS NOT NULL AND p_account !~ '^[0-9]{1,10}$' THEN
        RAISE EXCEPTION 'invalid bank account number: it must be 1 to 10 digits'
            USING ERRCODE = 'check_violation';
    END IF;
    IF (p_reg IS NULL) <> (p_account IS NULL) THEN
        RAISE EXCEPTION 'bank registration and account number go together: give both or neither'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN true;
END $_$;
ALTER FUNCTION club.valid_bank_account(p_reg text, p_account text) OWNER TO postgres;
CREATE FUNCTION club.valid_cpr(p_cpr text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    IF p_cpr IS NULL THEN
        RETURN true;
    END IF;
    IF p_cpr !~ '^[0-9]{10}$' THEN
        RAISE EXCEPTION 'invalid CPR number: it must be exactly 10 digits (DDMMYYSSSS, no dash)'
            USING ERRCODE = 'check_violation';
    END IF;
    IF club.cpr_birth_date(p_cpr) IS NULL THEN
        RAISE EXCEPTION 'invalid CPR number: the first six digits are not a real date (DDMMYY, century from the 7th digit)'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN true;
END $_$;
ALTER FUNCTION club.valid_cpr(p_cpr text) OWNER TO postgres;
CREATE FUNCTION club.valid_time_zone(p_zone text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names WHERE name = p_zone) THEN
        RAISE EXCEPTION 'unknown time zone %', quote_literal(p_zone) USING ERRCODE = 'check_violation';
    END IF;
    RETURN true;
END $$;
ALTER FUNCTION club.valid_time_zone(p_zone text) OWNER TO postgres;
CREATE FUNCTION gdpr.acting_tenant(p_requested text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_own text;
BEGIN
    IF gdpr.caller_is_admin() THEN
        RETURN p_requested;
    END IF;
    v_own := gdpr.caller_tenant();
    IF v_own IS NULL THEN
        RAISE EXCEPTION 'role % belongs to no club', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_requested IS NOT NULL AND p_requested <> v_own THEN
        RAISE EXCEPTION 'role % may not act for club %', gdpr.caller(), p_requested
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_own;
END $$;
ALTER FUNCTION gdpr.acting_tenant(p_requested text) OWNER TO postgres;
CREATE FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text DEFAULT NULL::text, p_details jsonb DEFAULT '{}'::jsonb) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO gdpr.audit_event (actor, action, kind, tenant, subject_key, purpose, details)
    VALUES (gdpr.caller(), p_action, p_kind, p_tenant, p_subject_key, p_purpose, COALESCE(p_details, '{}'))
    RETURNING id
$$;
ALTER FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) OWNER TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) IS 'Append one audit event (internal: called by the engine functions)';
CREATE FUNCTION gdpr.caller() RETURNS name
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)::name
$$;
ALTER FUNCTION gdpr.caller() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.caller() IS 'The role on whose behalf the current statement runs, also inside SECURITY DEFINER functions';
CREATE FUNCTION gdpr.caller_is_admin() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pgdpr_admin', 'MEMBER')
      FROM pg_catalog.pg_roles r WHERE r.rolname = gdpr.caller()
$$;
ALTER FUNCTION gdpr.caller_is_admin() OWNER TO postgres;
CREATE FUNCTION gdpr.caller_tenant() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.substr(t.rolname, 14)
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles t ON t.oid = m.roleid
     WHERE m.member = (SELECT u.oid FROM pg_catalog.pg_roles u WHERE u.rolname = gdpr.caller())
       AND t.rolname LIKE 'pgdpr\_tenant\_%'
     ORDER BY t.rolname
     LIMIT 1
$$;
ALTER FUNCTION gdpr.caller_tenant() OWNER TO postgres;
CREATE FUNCTION gdpr.catalog_summary() RETURNS TABLE(kind text, table_name text, link text, on_erase text, personal_columns bigint, sensitive_columns bigint)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT t.kind, format('%I.%I', t.table_schema, t.table_name), t.link, t.on_erase,
           count(c.column_name), count(c.column_name) FILTER (WHERE c.sensitive OR c.sensitive_when IS NOT NULL)
      FROM gdpr.catalog_table t
      LEFT JOIN gdpr.catalog_column c USING (table_schema, table_name)
     GROUP BY t.kind, t.table_schema, t.table_name, t.link, t.on_erase, t.position
     ORDER BY t.kind, t.position, t.table_schema, t.table_name
$$;
ALTER FUNCTION gdpr.catalog_summary() OWNER TO postgres;
CREATE FUNCTION gdpr.checked_column(p_table oid, p_column name, p_entry text) RETURNS regtype
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
ALTER FUNCTION gdpr.checked_column(p_table oid, p_column name, p_entry text) OWNER TO postgres;
CREATE FUNCTION gdpr.checked_table(p_schema name, p_table name, p_entry text) RETURNS oid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_oid oid;
BEGIN
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
ALTER FUNCTION gdpr.checked_table(p_schema name, p_table name, p_entry text) OWNER TO postgres;
CREATE FUNCTION gdpr.current_tenant() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.substr(t.rolname, 14)
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles t ON t.oid = m.roleid
     WHERE m.member = (SELECT u.oid FROM pg_catalog.pg_roles u WHERE u.rolname = CURRENT_USER)
       AND t.rolname LIKE 'pgdpr\_tenant\_%'
     ORDER BY t.rolname
     LIMIT 1
$$;
ALTER FUNCTION gdpr.current_tenant() OWNER TO postgres;
COMMENT ON FUNCTION gdpr.current_tenant() IS 'Tenant key of current_user (from membership of a pgdpr_tenant_<key> role), NULL if none';
CREATE FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text DEFAULT 'null'::text, p_sensitive boolean DEFAULT false, p_erase_constant text DEFAULT NULL::text, p_part_of_record boolean DEFAULT true, p_label_da text DEFAULT NULL::text, p_label_en text DEFAULT NULL::text, p_sensitive_when name DEFAULT NULL::name) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
    IF p_erase IS NULL OR p_erase NOT IN ('null', 'constant', 'redact', 'year_only', 'hash', 'keep') THEN
        RAISE EXCEPTION 'catalog entry %: unknown erase strategy %', v_entry, quote_nullable(p_erase);
    END IF;
    IF (p_erase = 'constant') <> (p_erase_constant IS NOT NULL) THEN
        RAISE EXCEPTION 'catalog entry %: erase strategy constant needs a value (constant:VALUE)', v_entry;
    END IF;
    IF p_erase = 'year_only' AND v_type NOT IN ('date'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %: year_only needs a date column, not %', v_entry, v_type;
    END IF;
    IF p_erase IN ('redact', 'hash', 'constant')
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
        label_da = excluded.label_da, label_en = excluded.label_en;
END $$;
ALTER FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) IS 'Declare a personal column: category, sensitivity and erasure strategy';
CREATE FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name DEFAULT NULL::name, p_identifying name[] DEFAULT '{}'::name[], p_anonymized_column name DEFAULT NULL::name, p_area text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
        identifying = excluded.identifying, anonymized_column = excluded.anonymized_column;
END $_$;
ALTER FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) IS 'Declare a kind of data subject and its root table';
CREATE FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name DEFAULT NULL::name, p_parent_schema name DEFAULT NULL::name, p_parent_table name DEFAULT NULL::name, p_parent_column name DEFAULT NULL::name, p_retain_column name DEFAULT NULL::name, p_retain_period interval DEFAULT NULL::interval, p_retain_from_year_end boolean DEFAULT false, p_recipients text DEFAULT NULL::text, p_source text DEFAULT NULL::text, p_position integer DEFAULT NULL::integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
    -- delete the declared rows; the declaring DBA owns the table and grants that here.
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO pgdpr_owner', p_schema, p_table);
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
        recipients = excluded.recipients, source = excluded.source, position = excluded.position;
END $$;
ALTER FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) IS 'Declare a table holding personal data: its link to the subject, erasure and Art. 30 record';
CREATE FUNCTION gdpr.ensure_tenant_role(p_tenant text) RETURNS name
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_role name := gdpr.tenant_role(p_tenant);
BEGIN
    IF p_tenant !~ '^[A-Za-z0-9_]{1,40}$' THEN
        RAISE EXCEPTION 'tenant key must be 1-40 letters, digits or underscores';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
    END IF;
    RETURN v_role;
END $_$;
ALTER FUNCTION gdpr.ensure_tenant_role(p_tenant text) OWNER TO postgres;
CREATE FUNCTION gdpr.forget_subject(p_kind text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    DELETE FROM gdpr.subject_kind WHERE kind = p_kind
$$;
ALTER FUNCTION gdpr.forget_subject(p_kind text) OWNER TO postgres;
CREATE FUNCTION gdpr.refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'gdpr.audit_event is append-only: % is not allowed', tg_op
        USING ERRCODE = 'insufficient_privilege';
END $$;
ALTER FUNCTION gdpr.refuse_audit_change() OWNER TO postgres;
CREATE FUNCTION gdpr.render_sensitive(p_value text, p_access text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE p_access WHEN 'allowed' THEN p_value WHEN 'hidden' THEN NULL::text
                ELSE CASE WHEN p_value IS NULL THEN NULL::text ELSE 'kræver login' END END
$$;
ALTER FUNCTION gdpr.render_sensitive(p_value text, p_access text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.render_sensitive(p_value text, p_access text) IS 'A sensitive value as a caller at the given access level reads it: the value, ''kræver login'' or NULL';
CREATE FUNCTION gdpr.sensitive_access(p_area text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT gdpr.sensitive_access_of(CURRENT_USER, p_area)
$$;
ALTER FUNCTION gdpr.sensitive_access(p_area text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.sensitive_access(p_area text) IS 'Access level (allowed, not_allowed, hidden) of the current role to an area''s sensitive columns';
CREATE FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN r.rolsuper OR r.oid = d.datdba THEN 'allowed' ELSE 'not_allowed' END
      FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
     WHERE r.rolname = p_role AND d.datname = pg_catalog.current_database()
$$;
ALTER FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.sensitive_access_of(p_role name, p_area text) IS 'Access level (allowed, not_allowed, hidden) of a role to the sensitive columns of an area';
CREATE FUNCTION gdpr.subject_filter(p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
        WHEN 'owned' THEN format('%I.%I IN (SELECT %I.%I FROM %I.%I %I WHERE %I.%I %s)',
            p_alias, v_t.parent_column, v_parent_alias, v_t.link_column,
            v_s.table_schema, v_s.table_name, v_parent_alias, v_parent_alias, v_s.key_column, p_key_match)
    END;
    IF p_tenant_match IS NOT NULL AND v_s.tenant_column IS NOT NULL AND EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = format('%I.%I', p_schema, p_table)::regclass
           AND a.attname = v_s.tenant_column AND NOT a.attisdropped) THEN
        v_filter := format('%I.%I %s AND %s', p_alias, v_s.tenant_column, p_tenant_match, v_filter);
    END IF;
    RETURN v_filter;
END $$;
ALTER FUNCTION gdpr.subject_filter(p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text) OWNER TO postgres;
COMMENT ON FUNCTION gdpr.subject_filter(p_schema name, p_table name, p_alias text, p_key_match text, p_tenant_match text) IS 'WHERE clause selecting a declared table''s rows of the matched subjects (generated from the catalog)';
CREATE FUNCTION gdpr.tenant_role(p_tenant text) RETURNS name
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ('pgdpr_tenant_' || p_tenant)::name
$$;
ALTER FUNCTION gdpr.tenant_role(p_tenant text) OWNER TO postgres;
CREATE TABLE club.account_movements (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    amount numeric(12,2) NOT NULL,
    text text NOT NULL,
    payment_reference text,
    booked_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE club.account_movements OWNER TO postgres;
ALTER TABLE club.account_movements ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.account_movements_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.activities (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    kind text NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE club.activities OWNER TO postgres;
ALTER TABLE club.activities ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.activities_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.addresses (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    street text NOT NULL,
    postcode text NOT NULL,
    city text NOT NULL,
    CONSTRAINT addresses_postcode_check CHECK ((postcode ~ '^[0-9]{4}$'::text))
);
ALTER TABLE club.addresses OWNER TO postgres;
ALTER TABLE club.addresses ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.addresses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.class_enrollments (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    class_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    enrolled_at timestamp with time zone DEFAULT now() NOT NULL,
    attended boolean
);
ALTER TABLE club.class_enrollments OWNER TO postgres;
ALTER TABLE club.class_enrollments ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.class_enrollments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.classes (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    instructor_id bigint
);
ALTER TABLE club.classes OWNER TO postgres;
ALTER TABLE club.classes ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.classes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.clubs (
    id bigint NOT NULL,
    name text NOT NULL,
    time_zone text DEFAULT 'Europe/Copenhagen'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT clubs_time_zone_check CHECK (club.valid_time_zone(time_zone))
);
ALTER TABLE club.clubs OWNER TO postgres;
CREATE TABLE club.consents (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    consent_type text NOT NULL,
    version text,
    given_at timestamp with time zone DEFAULT now() NOT NULL,
    withdrawn_at timestamp with time zone,
    evidence text,
    CONSTRAINT consents_consent_type_check CHECK ((consent_type = ANY (ARRAY['terms'::text, 'photo_marketing'::text, 'newsletter'::text])))
);
ALTER TABLE club.consents OWNER TO postgres;
ALTER TABLE club.consents ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.consents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.custom_field_values (
    club_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    field_id bigint NOT NULL,
    is_sensitive boolean DEFAULT false NOT NULL,
    value text NOT NULL
);
ALTER TABLE club.custom_field_values OWNER TO postgres;
CREATE TABLE club.custom_fields (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    is_sensitive boolean DEFAULT false NOT NULL
);
ALTER TABLE club.custom_fields OWNER TO postgres;
ALTER TABLE club.custom_fields ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.custom_fields_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.customers (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_no text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    address_id bigint,
    email text,
    phone text,
    birth_date date,
    cpr text,
    bank_reg text,
    bank_account text,
    photo bytea,
    member_card text,
    key_fob text,
    member_since date DEFAULT CURRENT_DATE NOT NULL,
    anonymized_at timestamp with time zone,
    CONSTRAINT customers_check CHECK (club.valid_bank_account(bank_reg, bank_account)),
    CONSTRAINT customers_cpr_check CHECK (club.valid_cpr(cpr))
);
ALTER TABLE club.customers OWNER TO postgres;
ALTER TABLE club.customers ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.customers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.log_lines (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    staff_id bigint,
    written_at timestamp with time zone DEFAULT now() NOT NULL,
    text text NOT NULL
);
ALTER TABLE club.log_lines OWNER TO postgres;
ALTER TABLE club.log_lines ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.log_lines_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.notes (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    staff_id bigint,
    written_at timestamp with time zone DEFAULT now() NOT NULL,
    text text NOT NULL
);
ALTER TABLE club.notes OWNER TO postgres;
ALTER TABLE club.notes ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.reservations (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    resource_id bigint NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    CONSTRAINT reservations_check CHECK ((ends_at > starts_at))
);
ALTER TABLE club.reservations OWNER TO postgres;
ALTER TABLE club.reservations ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.reservations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.resources (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL
);
ALTER TABLE club.resources OWNER TO postgres;
ALTER TABLE club.resources ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.resources_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.staff (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text,
    phone text,
    cpr text,
    role_name name,
    hired_at date DEFAULT CURRENT_DATE NOT NULL,
    anonymized_at timestamp with time zone,
    CONSTRAINT staff_cpr_check CHECK (club.valid_cpr(cpr))
);
ALTER TABLE club.staff OWNER TO postgres;
ALTER TABLE club.staff ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.staff_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE club.table_bookings (
    club_id bigint NOT NULL,
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    booked_for timestamp with time zone NOT NULL,
    party_size integer NOT NULL,
    note text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT table_bookings_party_size_check CHECK (((party_size >= 1) AND (party_size <= 100)))
);
ALTER TABLE club.table_bookings OWNER TO postgres;
ALTER TABLE club.table_bookings ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME club.table_bookings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.audit_event (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    actor name NOT NULL,
    action text NOT NULL,
    kind text,
    tenant text,
    subject_key text,
    purpose text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
);
ALTER TABLE gdpr.audit_event OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.audit_event IS 'Append-only audit trail: keys and counts, no personal values';
ALTER TABLE gdpr.audit_event ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME gdpr.audit_event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE gdpr.catalog_column (
    table_schema name NOT NULL,
    table_name name NOT NULL,
    column_name name NOT NULL,
    category text NOT NULL,
    sensitive boolean DEFAULT false NOT NULL,
    sensitive_when name,
    erase text NOT NULL,
    erase_constant text,
    part_of_record boolean DEFAULT true NOT NULL,
    label_da text,
    label_en text,
    CONSTRAINT catalog_column_category_check CHECK ((category = ANY (ARRAY['name'::text, 'address'::text, 'contact'::text, 'national_id'::text, 'bank'::text, 'birthdate'::text, 'free_text'::text, 'photo'::text, 'identifier'::text, 'other'::text]))),
    CONSTRAINT catalog_column_check CHECK (((erase = 'constant'::text) = (erase_constant IS NOT NULL))),
    CONSTRAINT catalog_column_check1 CHECK ((NOT (sensitive AND (sensitive_when IS NOT NULL)))),
    CONSTRAINT catalog_column_erase_check CHECK ((erase = ANY (ARRAY['null'::text, 'constant'::text, 'redact'::text, 'year_only'::text, 'hash'::text, 'keep'::text])))
);
ALTER TABLE gdpr.catalog_column OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.catalog_column IS 'Personal columns: category, masking and erasure strategy';
CREATE TABLE gdpr.catalog_table (
    table_schema name NOT NULL,
    table_name name NOT NULL,
    kind text NOT NULL,
    link text NOT NULL,
    link_column name,
    parent_schema name,
    parent_name name,
    parent_column name,
    on_erase text NOT NULL,
    retain_column name,
    retain_period interval,
    retain_from_year_end boolean DEFAULT false NOT NULL,
    title_da text NOT NULL,
    title_en text NOT NULL,
    purpose text NOT NULL,
    legal_basis text NOT NULL,
    retention text NOT NULL,
    recipients text DEFAULT 'Ingen uden for klubben / none outside the club'::text NOT NULL,
    source text DEFAULT 'the data subject'::text NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    CONSTRAINT catalog_table_check CHECK (((link = 'root'::text) = (link_column IS NULL))),
    CONSTRAINT catalog_table_check1 CHECK (((link = ANY (ARRAY['via'::text, 'owned'::text])) = (parent_column IS NOT NULL))),
    CONSTRAINT catalog_table_check2 CHECK (((link = 'via'::text) = (parent_name IS NOT NULL))),
    CONSTRAINT catalog_table_check3 CHECK (((on_erase = 'retain'::text) = ((retain_column IS NOT NULL) AND (retain_period IS NOT NULL)))),
    CONSTRAINT catalog_table_link_check CHECK ((link = ANY (ARRAY['root'::text, 'direct'::text, 'via'::text, 'owned'::text]))),
    CONSTRAINT catalog_table_on_erase_check CHECK ((on_erase = ANY (ARRAY['delete'::text, 'anonymize'::text, 'retain'::text])))
);
ALTER TABLE gdpr.catalog_table OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.catalog_table IS 'Tables holding personal data, their link to the subject and their Art. 30 record';
CREATE TABLE gdpr.install_state (
    singleton boolean DEFAULT true NOT NULL,
    sql_digest text NOT NULL,
    pgdpr_version text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT install_state_singleton_check CHECK (singleton)
);
ALTER TABLE gdpr.install_state OWNER TO pgdpr_owner;
CREATE TABLE gdpr.subject_kind (
    kind text NOT NULL,
    table_schema name NOT NULL,
    table_name name NOT NULL,
    key_column name NOT NULL,
    tenant_column name,
    identifying name[] DEFAULT '{}'::name[] NOT NULL,
    anonymized_column name,
    area text NOT NULL,
    CONSTRAINT subject_kind_area_check CHECK ((area ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT subject_kind_kind_check CHECK ((kind ~ '^[a-z][a-z0-9_]{0,62}$'::text))
);
ALTER TABLE gdpr.subject_kind OWNER TO pgdpr_owner;
COMMENT ON TABLE gdpr.subject_kind IS 'Kinds of data subject (customer, staff, ...) and their root table';
ALTER TABLE ONLY club.account_movements
    ADD CONSTRAINT account_movements_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.activities
    ADD CONSTRAINT activities_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.addresses
    ADD CONSTRAINT addresses_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.class_enrollments
    ADD CONSTRAINT class_enrollments_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.classes
    ADD CONSTRAINT classes_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.clubs
    ADD CONSTRAINT clubs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY club.consents
    ADD CONSTRAINT consents_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.custom_field_values
    ADD CONSTRAINT custom_field_values_pkey PRIMARY KEY (club_id, customer_id, field_id);
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_club_id_id_is_sensitive_key UNIQUE (club_id, id, is_sensitive);
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_club_id_name_key UNIQUE (club_id, name);
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_cpr_key UNIQUE (club_id, cpr);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_customer_no_key UNIQUE (club_id, customer_no);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_key_fob_key UNIQUE (club_id, key_fob);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_member_card_key UNIQUE (club_id, member_card);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.log_lines
    ADD CONSTRAINT log_lines_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.reservations
    ADD CONSTRAINT reservations_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.resources
    ADD CONSTRAINT resources_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_club_id_cpr_key UNIQUE (club_id, cpr);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_role_name_key UNIQUE (role_name);
ALTER TABLE ONLY club.table_bookings
    ADD CONSTRAINT table_bookings_pkey PRIMARY KEY (club_id, id);
ALTER TABLE ONLY gdpr.audit_event
    ADD CONSTRAINT audit_event_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gdpr.catalog_column
    ADD CONSTRAINT catalog_column_pkey PRIMARY KEY (table_schema, table_name, column_name);
ALTER TABLE ONLY gdpr.catalog_table
    ADD CONSTRAINT catalog_table_pkey PRIMARY KEY (table_schema, table_name);
ALTER TABLE ONLY gdpr.install_state
    ADD CONSTRAINT install_state_pkey PRIMARY KEY (singleton);
ALTER TABLE ONLY gdpr.subject_kind
    ADD CONSTRAINT subject_kind_pkey PRIMARY KEY (kind);
ALTER TABLE ONLY gdpr.subject_kind
    ADD CONSTRAINT subject_kind_table_schema_table_name_key UNIQUE (table_schema, table_name);
CREATE INDEX account_movements_customer ON club.account_movements USING btree (club_id, customer_id, booked_at);
CREATE INDEX activities_customer ON club.activities USING btree (club_id, customer_id, occurred_at);
CREATE INDEX class_enrollments_class ON club.class_enrollments USING btree (club_id, class_id);
CREATE INDEX class_enrollments_customer ON club.class_enrollments USING btree (club_id, customer_id, enrolled_at);
CREATE INDEX consents_customer ON club.consents USING btree (club_id, customer_id, given_at);
CREATE INDEX custom_field_values_field ON club.custom_field_values USING btree (club_id, field_id);
CREATE INDEX customers_address ON club.customers USING btree (club_id, address_id);
CREATE UNIQUE INDEX customers_id ON club.customers USING btree (id);
CREATE INDEX log_lines_customer ON club.log_lines USING btree (club_id, customer_id, written_at);
CREATE INDEX notes_customer ON club.notes USING btree (club_id, customer_id, written_at);
CREATE INDEX reservations_customer ON club.reservations USING btree (club_id, customer_id, starts_at);
CREATE UNIQUE INDEX staff_id ON club.staff USING btree (id);
CREATE INDEX table_bookings_customer ON club.table_bookings USING btree (club_id, customer_id, booked_for);
CREATE INDEX audit_event_action ON gdpr.audit_event USING btree (action, at);
CREATE INDEX audit_event_subject ON gdpr.audit_event USING btree (kind, subject_key, at);
CREATE TRIGGER audit_event_append_only BEFORE DELETE OR UPDATE ON gdpr.audit_event FOR EACH ROW EXECUTE FUNCTION gdpr.refuse_audit_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON gdpr.audit_event FOR EACH STATEMENT EXECUTE FUNCTION gdpr.refuse_audit_change();
ALTER TABLE ONLY club.account_movements
    ADD CONSTRAINT account_movements_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.activities
    ADD CONSTRAINT activities_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.addresses
    ADD CONSTRAINT addresses_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.class_enrollments
    ADD CONSTRAINT class_enrollments_club_id_class_id_fkey FOREIGN KEY (club_id, class_id) REFERENCES club.classes(club_id, id);
ALTER TABLE ONLY club.class_enrollments
    ADD CONSTRAINT class_enrollments_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.classes
    ADD CONSTRAINT classes_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.classes
    ADD CONSTRAINT classes_club_id_instructor_id_fkey FOREIGN KEY (club_id, instructor_id) REFERENCES club.staff(club_id, id);
ALTER TABLE ONLY club.consents
    ADD CONSTRAINT consents_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.custom_field_values
    ADD CONSTRAINT custom_field_values_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.custom_field_values
    ADD CONSTRAINT custom_field_values_club_id_field_id_is_sensitive_fkey FOREIGN KEY (club_id, field_id, is_sensitive) REFERENCES club.custom_fields(club_id, id, is_sensitive) ON UPDATE CASCADE;
ALTER TABLE ONLY club.custom_fields
    ADD CONSTRAINT custom_fields_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_address_id_fkey FOREIGN KEY (club_id, address_id) REFERENCES club.addresses(club_id, id);
ALTER TABLE ONLY club.customers
    ADD CONSTRAINT customers_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.log_lines
    ADD CONSTRAINT log_lines_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.log_lines
    ADD CONSTRAINT log_lines_club_id_staff_id_fkey FOREIGN KEY (club_id, staff_id) REFERENCES club.staff(club_id, id);
ALTER TABLE ONLY club.notes
    ADD CONSTRAINT notes_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.notes
    ADD CONSTRAINT notes_club_id_staff_id_fkey FOREIGN KEY (club_id, staff_id) REFERENCES club.staff(club_id, id);
ALTER TABLE ONLY club.reservations
    ADD CONSTRAINT reservations_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY club.reservations
    ADD CONSTRAINT reservations_club_id_resource_id_fkey FOREIGN KEY (club_id, resource_id) REFERENCES club.resources(club_id, id);
ALTER TABLE ONLY club.resources
    ADD CONSTRAINT resources_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.staff
    ADD CONSTRAINT staff_club_id_fkey FOREIGN KEY (club_id) REFERENCES club.clubs(id);
ALTER TABLE ONLY club.table_bookings
    ADD CONSTRAINT table_bookings_club_id_customer_id_fkey FOREIGN KEY (club_id, customer_id) REFERENCES club.customers(club_id, id);
ALTER TABLE ONLY gdpr.catalog_column
    ADD CONSTRAINT catalog_column_table_schema_table_name_fkey FOREIGN KEY (table_schema, table_name) REFERENCES gdpr.catalog_table(table_schema, table_name) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.catalog_table
    ADD CONSTRAINT catalog_table_kind_fkey FOREIGN KEY (kind) REFERENCES gdpr.subject_kind(kind) ON DELETE CASCADE;
ALTER TABLE ONLY gdpr.catalog_table
    ADD CONSTRAINT catalog_table_parent_schema_parent_name_fkey FOREIGN KEY (parent_schema, parent_name) REFERENCES gdpr.catalog_table(table_schema, table_name) ON DELETE CASCADE;
GRANT USAGE ON SCHEMA club TO pgdpr_owner;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_admin;
GRANT USAGE ON SCHEMA gdpr TO pgdpr_staff;
REVOKE ALL ON FUNCTION gdpr.audit(p_action text, p_kind text, p_tenant text, p_subject_key text, p_purpose text, p_details jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_column(p_schema name, p_table name, p_column name, p_category text, p_erase text, p_sensitive boolean, p_erase_constant text, p_part_of_record boolean, p_label_da text, p_label_en text, p_sensitive_when name) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_subject(p_kind text, p_schema name, p_table name, p_key name, p_tenant name, p_identifying name[], p_anonymized_column name, p_area text) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.declare_table(p_schema name, p_table name, p_kind text, p_link text, p_on_erase text, p_title_da text, p_title_en text, p_purpose text, p_legal_basis text, p_retention text, p_link_column name, p_parent_schema name, p_parent_table name, p_parent_column name, p_retain_column name, p_retain_period interval, p_retain_from_year_end boolean, p_recipients text, p_source text, p_position integer) TO pgdpr_admin;
REVOKE ALL ON FUNCTION gdpr.forget_subject(p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION gdpr.forget_subject(p_kind text) TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.account_movements TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.activities TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.addresses TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.class_enrollments TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.consents TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.custom_field_values TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.customers TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.log_lines TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.notes TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.reservations TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.staff TO pgdpr_owner;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE club.table_bookings TO pgdpr_owner;
GRANT SELECT ON TABLE gdpr.audit_event TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.catalog_column TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.catalog_table TO pgdpr_admin;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE gdpr.subject_kind TO pgdpr_admin;
