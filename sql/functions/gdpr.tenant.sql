-- The tenants (clubs: the data controllers, seed S9) as the catalog declares them:
-- their display name for the record of processing (Art. 30) and their time zone for
-- the rules' schedules (seed S4). Engine functions ask here, never name a table.

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
