-- The tenants (clubs: the data controllers, docs/rights.md) as the catalog declares them:
-- their display name for the record of processing (Art. 30) and their time zone for
-- the rules' schedules (docs/rules.md). Engine functions ask here, never name a table.

CREATE OR REPLACE FUNCTION gdpr.declare_tenant(
    p_schema name, p_table name, p_key name,
    p_name_column name DEFAULT NULL, p_time_zone_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := 'tenant';
    v_oid oid := gdpr.checked_table(p_schema, p_table, 'tenant');
BEGIN
    PERFORM gdpr.checked_column(v_oid, p_key, v_entry || '.key');
    IF p_name_column IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_name_column, v_entry || '.name');
    END IF;
    IF p_time_zone_column IS NOT NULL
       AND gdpr.checked_column(v_oid, p_time_zone_column, v_entry || '.time_zone') <> 'text'::regtype THEN
        RAISE EXCEPTION 'catalog entry tenant.time_zone: column % must be text', quote_ident(p_time_zone_column);
    END IF;
    -- the engine's functions (owned by pgdpr_owner) read the name and time zone
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgdpr_owner', p_schema);
    EXECUTE format('GRANT SELECT ON %I.%I TO pgdpr_owner', p_schema, p_table);
    INSERT INTO gdpr.tenant_table AS t (table_schema, table_name, key_column, name_column, time_zone_column)
    VALUES (p_schema, p_table, p_key, p_name_column, p_time_zone_column)
    ON CONFLICT (singleton) DO UPDATE SET
        table_schema = excluded.table_schema, table_name = excluded.table_name, key_column = excluded.key_column,
        name_column = excluded.name_column, time_zone_column = excluded.time_zone_column
    WHERE (t.table_schema, t.table_name, t.key_column, t.name_column, t.time_zone_column)
          IS DISTINCT FROM (excluded.table_schema, excluded.table_name, excluded.key_column, excluded.name_column,
                            excluded.time_zone_column);
END $$;
COMMENT ON FUNCTION gdpr.declare_tenant(name, name, name, name, name) IS
    'Declare the table whose rows are the tenants, with their name and time zone columns';
REVOKE ALL ON FUNCTION gdpr.declare_tenant(name, name, name, name, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_tenant(name, name, name, name, name) TO pgdpr_admin;

-- One column of a tenant's row, as text (NULL when no tenant table or column is declared).
CREATE OR REPLACE FUNCTION gdpr.tenant_attribute(p_tenant text, p_attribute text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.tenant_table;
    v_column name;
    v_value text;
BEGIN
    SELECT * INTO v_t FROM gdpr.tenant_table;
    v_column := CASE p_attribute WHEN 'name' THEN v_t.name_column WHEN 'time_zone' THEN v_t.time_zone_column END;
    IF p_tenant IS NULL OR v_column IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT %I::text FROM %I.%I WHERE %I::text = $1', v_column, v_t.table_schema, v_t.table_name,
                   v_t.key_column)
       INTO v_value USING p_tenant;
    RETURN v_value;
END $$;

-- A tenant key as the engine keeps it: the declared tenant table's key, written the
-- way the key column prints it. '01', ' 1' or '1.0' for club 1 are refused, naming
-- the canonical key, and so is a club that does not exist; NULL passes (no club
-- named). Without a declared tenant table every well-formed key is taken as given.
-- p_exact: also refuse a key that names an existing club in another spelling (the
-- key of a new role or grant); otherwise the canonical key is returned.
CREATE OR REPLACE FUNCTION gdpr.known_tenant(p_tenant text, p_exact boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.tenant_table;
    v_key text;
BEGIN
    SELECT * INTO v_t FROM gdpr.tenant_table;
    IF p_tenant IS NULL OR NOT FOUND THEN
        RETURN p_tenant;
    END IF;
    BEGIN
        EXECUTE format('SELECT t.%1$I::text FROM %2$I.%3$I t WHERE t.%1$I = $1::%4$s', v_t.key_column,
                       v_t.table_schema, v_t.table_name,
                       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = format('%I.%I', v_t.table_schema, v_t.table_name)::regclass
                           AND a.attname = v_t.key_column))
           INTO v_key USING p_tenant;
    EXCEPTION WHEN data_exception THEN
        v_key := NULL;
    END;
    IF v_key IS NULL THEN
        RAISE EXCEPTION 'club % does not exist', quote_literal(p_tenant) USING ERRCODE = 'invalid_parameter_value';
    ELSIF p_exact AND v_key <> p_tenant THEN
        RAISE EXCEPTION 'club key % is written %', quote_literal(p_tenant), quote_literal(v_key)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_key;
END $$;
REVOKE ALL ON FUNCTION gdpr.known_tenant(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.known_tenant(text, boolean) TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.known_tenant(text, boolean) IS
    'The canonical key of an existing tenant (club); refuses an unknown club';

CREATE OR REPLACE FUNCTION gdpr.tenant_name(p_tenant text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT gdpr.tenant_attribute(p_tenant, 'name')
$$;
COMMENT ON FUNCTION gdpr.tenant_name(text) IS 'Display name of a tenant (the club), from the declared tenant table';

-- A tenant's time zone for rule schedules; Europe/Copenhagen when none is declared.
CREATE OR REPLACE FUNCTION gdpr.tenant_time_zone(p_tenant text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(gdpr.tenant_attribute(p_tenant, 'time_zone'), 'Europe/Copenhagen')
$$;
COMMENT ON FUNCTION gdpr.tenant_time_zone(text) IS
    'Time zone of a tenant (the club) for rule schedules, Europe/Copenhagen by default';

REVOKE ALL ON FUNCTION gdpr.tenant_attribute(text, text), gdpr.tenant_name(text), gdpr.tenant_time_zone(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.tenant_attribute(text, text), gdpr.tenant_name(text), gdpr.tenant_time_zone(text)
    TO pgdpr_owner, pgdpr_admin;

-- The financial year of a tenant (Bogføringsloven § 10: accounting records are kept 5
-- years from the end of the financial year). A tenant whose year does not follow the
-- calendar declares the month it begins; it begins on the 1st of that month at
-- midnight in the tenant's time zone. Admins only; audited. A change applies to every
-- row still retained: see docs/erasure.md ("Bookkeeping") before changing it for a
-- club with pending deferred erasures.
CREATE OR REPLACE FUNCTION gdpr.set_financial_year(p_tenant text, p_first_month integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.known_tenant(p_tenant, true);
BEGIN
    IF NOT COALESCE(gdpr.caller_is_admin(), false) THEN
        RAISE EXCEPTION 'role % may not declare a financial year: it needs pgdpr_admin', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_tenant IS NULL OR p_first_month IS NULL OR p_first_month NOT BETWEEN 1 AND 12 THEN
        RAISE EXCEPTION 'a financial year needs a club and the month it begins (1-12)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.tenant_financial_year AS f (tenant, first_month, set_by)
    VALUES (v_tenant, p_first_month, gdpr.caller())
    ON CONFLICT (tenant) DO UPDATE SET first_month = excluded.first_month, set_at = now(), set_by = excluded.set_by;
    PERFORM gdpr.audit('financial_year_set', NULL, v_tenant, NULL, NULL,
                       jsonb_build_object('first_month', p_first_month));
END $$;
ALTER FUNCTION gdpr.set_financial_year(text, integer) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.set_financial_year(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.set_financial_year(text, integer) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.set_financial_year(text, integer) IS
    'Declare the month a club''s financial year begins (1 = the calendar year, the default); audited';

-- The month a tenant's financial year begins: 1 (January) unless declared.
CREATE OR REPLACE FUNCTION gdpr.tenant_financial_year_start(p_tenant text) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE((SELECT f.first_month::integer FROM gdpr.tenant_financial_year f WHERE f.tenant = p_tenant), 1)
$$;
ALTER FUNCTION gdpr.tenant_financial_year_start(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.tenant_financial_year_start(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.tenant_financial_year_start(text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.tenant_financial_year_start(text) IS
    'The month (1-12) a club''s financial year begins; 1 unless declared with gdpr.set_financial_year';

-- The same two answers (gdpr.tenant_time_zone, gdpr.tenant_financial_year_start) as
-- SQL expressions of a row's tenant (p_tenant_expr, generated from the catalog), for
-- set-based statements over many rows of many tenants. The tenants that differ from
-- the default (another time zone, a financial year not beginning in January) are read
-- when the expression is made and written into it as a jsonb constant, looked up per
-- row: a lookup in a constant instead of a subquery or a function call per row, which
-- cost several times the rest of the due-time computation. Made per statement, so the
-- statement sees the settings of its own transaction. Internal.
CREATE OR REPLACE FUNCTION gdpr.tenant_time_zone_sql(p_tenant_expr text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.tenant_table;
    v_default text := gdpr.tenant_time_zone(NULL);
    v_map jsonb;
BEGIN
    SELECT * INTO v_t FROM gdpr.tenant_table;
    IF p_tenant_expr IS NOT NULL AND v_t.time_zone_column IS NOT NULL THEN
        EXECUTE format('SELECT jsonb_object_agg(t.%1$I::text, t.%2$I::text) FROM %3$I.%4$I t
                         WHERE t.%2$I IS NOT NULL AND t.%2$I::text <> $1',
                       v_t.key_column, v_t.time_zone_column, v_t.table_schema, v_t.table_name)
           INTO v_map USING v_default;
    END IF;
    IF v_map IS NULL THEN
        RETURN quote_literal(v_default);
    END IF;
    RETURN format('COALESCE(%L::jsonb OPERATOR(pg_catalog.->>) (%s)::text, %L)', v_map, p_tenant_expr, v_default);
END $$;
ALTER FUNCTION gdpr.tenant_time_zone_sql(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.tenant_time_zone_sql(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION gdpr.tenant_financial_year_start_sql(p_tenant_expr text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN p_tenant_expr IS NULL OR m.map IS NULL THEN '1'
                ELSE format('COALESCE((%L::jsonb OPERATOR(pg_catalog.->>) (%s)::text)::integer, 1)', m.map, p_tenant_expr)
           END
      FROM (SELECT jsonb_object_agg(f.tenant, f.first_month) AS map
              FROM gdpr.tenant_financial_year f WHERE f.first_month <> 1) m
$$;
ALTER FUNCTION gdpr.tenant_financial_year_start_sql(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.tenant_financial_year_start_sql(text) FROM PUBLIC;
