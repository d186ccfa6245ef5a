-- What the record of processing needs from the catalog beyond purposes and
-- retention: the legal basis of every sensitive column (GDPR Art. 9(2) for special
-- categories such as a health field; Databeskyttelsesloven §11 for a CPR number),
-- refused without one, and the birth-date column that flags children
-- (Databeskyttelsesloven §6: under 13 cannot consent alone to an information-society
-- service; under 18 is a minor).

-- A column needs a declared basis when it holds a national id, or is sensitive
-- (always or per row) for another reason than being a bank detail (bank numbers are
-- masked against fraud, not a special category).
CREATE OR REPLACE FUNCTION gdpr.column_needs_basis(p_category text, p_sensitive boolean, p_sensitive_when name)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_category OPERATOR(pg_catalog.=) 'national_id'
        OR ((COALESCE(p_sensitive, false) OR p_sensitive_when IS NOT NULL)
            AND p_category OPERATOR(pg_catalog.<>) 'bank')
$$;
REVOKE ALL ON FUNCTION gdpr.column_needs_basis(text, boolean, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.column_needs_basis(text, boolean, name) TO pgdpr_admin, pgdpr_owner;

CREATE OR REPLACE FUNCTION gdpr.declare_column_basis(p_schema name, p_table name, p_column name, p_basis text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('column %s.%s.%s', p_schema, p_table, p_column);
BEGIN
    PERFORM gdpr.checked_column(gdpr.checked_table(p_schema, p_table, v_entry), p_column, v_entry);
    IF p_basis IS NULL OR length(btrim(p_basis)) NOT BETWEEN 5 AND 500 THEN
        RAISE EXCEPTION 'catalog entry %: basis must name the legal basis (5 to 500 characters)', v_entry
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.column_legal_basis (table_schema, table_name, column_name, basis)
    VALUES (p_schema, p_table, p_column, btrim(p_basis))
    ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET basis = excluded.basis;
END $$;
REVOKE ALL ON FUNCTION gdpr.declare_column_basis(name, name, name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_column_basis(name, name, name, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.declare_column_basis(name, name, name, text) IS
    'Declare the legal basis of a sensitive column (GDPR Art. 9(2), Databeskyttelsesloven §11), before the column';

-- The catalog refuses a sensitive or national-id column without its basis, for
-- every writer (gdpr.declare_column, a DBA's INSERT or UPDATE).
CREATE OR REPLACE FUNCTION gdpr.require_column_basis() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF gdpr.column_needs_basis(NEW.category, NEW.sensitive, NEW.sensitive_when) AND NOT EXISTS (
        SELECT FROM gdpr.column_legal_basis b
         WHERE b.table_schema = NEW.table_schema AND b.table_name = NEW.table_name
           AND b.column_name = NEW.column_name) THEN
        RAISE EXCEPTION 'catalog entry column %.%.%: a % column needs its legal basis declared first',
            NEW.table_schema, NEW.table_name, NEW.column_name,
            CASE WHEN NEW.category = 'national_id' THEN 'CPR (national id)' ELSE 'sensitive' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN NEW.category = 'national_id'
                              THEN 'name the Databeskyttelsesloven §11 basis: basis = "..." in the catalog file, '
                                   'or gdpr.declare_column_basis()'
                              ELSE 'name the GDPR Art. 9(2) basis: basis = "..." in the catalog file, '
                                   'or gdpr.declare_column_basis()' END;
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION gdpr.require_column_basis() FROM PUBLIC;
CREATE OR REPLACE TRIGGER catalog_column_requires_basis
    BEFORE INSERT OR UPDATE ON gdpr.catalog_column
    FOR EACH ROW EXECUTE FUNCTION gdpr.require_column_basis();

-- The birth-date column of a subject kind's root table.
CREATE OR REPLACE FUNCTION gdpr.declare_birth_date(p_kind text, p_column name) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_entry text := format('subject.%s.birth_date', p_kind);
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalog entry %: unknown subject kind %', v_entry, quote_literal(p_kind)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF gdpr.checked_column(gdpr.checked_table(v_s.table_schema, v_s.table_name, v_entry), p_column, v_entry)
       NOT IN ('date'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %: column % must be a date', v_entry, quote_ident(p_column)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.subject_birth_date (kind, column_name) VALUES (p_kind, p_column)
    ON CONFLICT (kind) DO UPDATE SET column_name = excluded.column_name;
END $$;
REVOKE ALL ON FUNCTION gdpr.declare_birth_date(text, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_birth_date(text, name) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.declare_birth_date(text, name) IS
    'Declare the birth-date column of a subject kind (children are flagged: Databeskyttelsesloven §6)';

-- The SQL expression of a kind's age band for the root row under alias p_alias, at
-- the date $p_on_ref: 'under_13', 'under_18', 'adult', or NULL (no birth date).
CREATE OR REPLACE FUNCTION gdpr.age_band_sql(p_kind text, p_alias text, p_on_ref text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('CASE WHEN %1$I.%2$I IS NULL THEN NULL::text
                        WHEN %1$I.%2$I::date > %3$s - interval ''13 years'' THEN ''under_13''
                        WHEN %1$I.%2$I::date > %3$s - interval ''18 years'' THEN ''under_18''
                        ELSE ''adult'' END', p_alias, b.column_name, p_on_ref)
      FROM gdpr.subject_birth_date b WHERE b.kind = p_kind
$$;
ALTER FUNCTION gdpr.age_band_sql(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.age_band_sql(text, text, text) FROM PUBLIC;

-- One subject's age band at p_on. Internal (the engine's report, consent and
-- record functions call it); the one-line hook the insight report needs is
--   'minor', gdpr.subject_age_band(p_kind, tenant, key, current_date)
CREATE OR REPLACE FUNCTION gdpr.subject_age_band(p_kind text, p_tenant text, p_subject_key text,
    p_on date DEFAULT current_date)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_expr text := gdpr.age_band_sql(p_kind, 's', '$3');
    v_types record;
    v_band text;
BEGIN
    IF v_expr IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    EXECUTE format('SELECT %s FROM %I.%I s WHERE s.%I = $1::%s %s', v_expr, v_s.table_schema, v_s.table_name,
                   v_s.key_column, v_types.key_type,
                   CASE WHEN v_s.tenant_column IS NOT NULL
                        THEN format('AND s.%I = $2::%s', v_s.tenant_column, v_types.tenant_type) ELSE '' END)
       INTO v_band USING p_subject_key, NULLIF(p_tenant, ''), p_on;
    RETURN v_band;
END $$;
ALTER FUNCTION gdpr.subject_age_band(text, text, text, date) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.subject_age_band(text, text, text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.subject_age_band(text, text, text, date) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.subject_age_band(text, text, text, date) IS
    'under_13, under_18 or adult from the declared birth-date column (Databeskyttelsesloven §6); NULL if unknown';

-- Children per subject kind of a club, and their active consents without a named
-- guardian (internal: gdpr.compliance_record). Set-based: one query per kind.
CREATE OR REPLACE FUNCTION gdpr.minor_figures(p_tenant text, p_on date DEFAULT current_date) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_row record;
    v_types record;
    v_counts jsonb;
    v_result jsonb := '{}';
    v_tenant_filter text;
    v_consents text;
BEGIN
    FOR v_row IN
        SELECT k.*, b.column_name AS birth_column, c.table_schema AS c_schema, c.table_name AS c_table,
               c.type_column, c.withdrawn_column, c.guardian_column
          FROM gdpr.subject_kind k
          JOIN gdpr.subject_birth_date b ON b.kind = k.kind
          LEFT JOIN gdpr.consent_table c ON c.kind = k.kind
         ORDER BY k.kind
    LOOP
        SELECT * INTO v_types FROM gdpr.subject_types(v_row.kind);
        v_tenant_filter := CASE WHEN v_row.tenant_column IS NOT NULL
            THEN format('($1 IS NULL OR s.%I = $1::%s)', v_row.tenant_column, v_types.tenant_type) ELSE 'true' END;
        v_consents := CASE WHEN v_row.guardian_column IS NOT NULL THEN format(
            '(SELECT count(*) FROM %I.%I t WHERE %s AND t.%I IS NULL AND t.%I IS NULL)',
            v_row.c_schema, v_row.c_table,
            gdpr.subject_filter(v_row.c_schema, v_row.c_table, 't', format('= s.%I', v_row.key_column),
                                CASE WHEN v_row.tenant_column IS NOT NULL
                                     THEN format('= s.%I', v_row.tenant_column) END),
            v_row.withdrawn_column, v_row.guardian_column) ELSE 'NULL::bigint' END;
        EXECUTE format('SELECT jsonb_build_object(
                            ''with_birth_date'', count(*) FILTER (WHERE b.band IS NOT NULL),
                            ''under_13'', count(*) FILTER (WHERE b.band = ''under_13''),
                            ''under_18'', count(*) FILTER (WHERE b.band IN (''under_13'', ''under_18'')),
                            ''under_13_consents_without_guardian'',
                                COALESCE(sum(b.unguarded) FILTER (WHERE b.band = ''under_13''), 0))
                          FROM (SELECT %s AS band, CASE WHEN %s THEN %s END AS unguarded
                                  FROM %I.%I s WHERE %s %s) b',
                       gdpr.age_band_sql(v_row.kind, 's', '$2'),
                       format('%s = ''under_13''', gdpr.age_band_sql(v_row.kind, 's', '$2')), v_consents,
                       v_row.table_schema, v_row.table_name, v_tenant_filter,
                       CASE WHEN v_row.anonymized_column IS NOT NULL
                            THEN format('AND s.%I IS NULL', v_row.anonymized_column) ELSE '' END)
           INTO v_counts USING p_tenant, p_on;
        v_result := v_result || jsonb_build_object(v_row.kind, v_counts || jsonb_build_object(
            'birth_date_column', v_row.birth_column, 'guardian_column', v_row.guardian_column));
    END LOOP;
    RETURN v_result;
END $$;
ALTER FUNCTION gdpr.minor_figures(text, date) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.minor_figures(text, date) FROM PUBLIC;

REVOKE ALL ON gdpr.column_legal_basis, gdpr.subject_birth_date FROM PUBLIC;
GRANT SELECT ON gdpr.column_legal_basis, gdpr.subject_birth_date TO pgdpr_admin;
GRANT INSERT, UPDATE, DELETE ON gdpr.column_legal_basis, gdpr.subject_birth_date TO pgdpr_admin;
