-- Rectification history (GDPR Art. 16): what the views' write path (gdpr.view_write)
-- records when a declared column of a subject's data is corrected, what the insight
-- report shows of it, and its deletion when the subject is erased. The table
-- (migration 0019.rectification) keeps column, time, role and login; an old value
-- only for a column that is not sensitive in that row.

-- Record the corrected declared columns of one row (called by gdpr.view_write after
-- the UPDATE, as the owner). One set-based INSERT; free text is kept with its CPR-
-- and account-shaped numbers masked, a sensitive column without its old value.
CREATE OR REPLACE FUNCTION gdpr.record_rectification(
    p_schema name, p_table name, p_kind text, p_tenant text, p_subject_key text,
    p_columns name[], p_sensitive name[], p_old jsonb)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH written AS (
        INSERT INTO gdpr.rectification (kind, tenant, subject_key, table_schema, table_name, column_name,
                                        actor, login, sensitive, old_value)
        SELECT p_kind, COALESCE(p_tenant, ''), p_subject_key, c.table_schema, c.table_name, c.column_name,
               gdpr.caller(), SESSION_USER, c.column_name = ANY (p_sensitive),
               CASE WHEN c.column_name = ANY (p_sensitive) THEN NULL
                    WHEN c.category = 'free_text' THEN gdpr.render_free_text(p_old ->> c.column_name, 'not_allowed')
                    ELSE p_old ->> c.column_name END
          FROM gdpr.catalog_column c
         WHERE c.table_schema = p_schema AND c.table_name = p_table AND c.column_name = ANY (p_columns)
        RETURNING 1)
    SELECT count(*)::integer FROM written
$$;
ALTER FUNCTION gdpr.record_rectification(name, name, text, text, text, name[], name[], jsonb) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.record_rectification(name, name, text, text, text, name[], name[], jsonb) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.record_rectification(name, name, text, text, text, name[], name[], jsonb) IS
    'Internal (gdpr.view_write): record corrected declared columns, no old value of sensitive ones';

-- The rectifications of one subject for its insight report: when (in the tenant's
-- time zone), which section and column (with labels), and the old value as the caller
-- may read it (free text masked as in the views). Never who made the correction: the
-- report is the subject's, the staff member's identity is the club's (admins read it
-- in gdpr.rectification).
CREATE OR REPLACE FUNCTION gdpr.subject_rectifications(
    p_kind text, p_tenant text, p_subject_key text, p_access text)
RETURNS json
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(json_agg(json_build_object(
               'at', pg_catalog.to_char(r.changed_at AT TIME ZONE gdpr.tenant_time_zone(NULLIF(r.tenant, '')),
                                        'YYYY-MM-DD HH24:MI'),
               'table', pg_catalog.format('%I.%I', r.table_schema, r.table_name),
               'title_da', t.title_da, 'title_en', t.title_en,
               'column', r.column_name,
               'label_da', COALESCE(c.label_da, gdpr.column_label(r.column_name)),
               'label_en', COALESCE(c.label_en, gdpr.column_label(r.column_name)),
               'sensitive', r.sensitive,
               'old_value', CASE WHEN c.category = 'free_text' THEN gdpr.render_free_text(r.old_value, p_access)
                                 ELSE r.old_value END)
             ORDER BY r.changed_at, r.id), '[]')
      FROM gdpr.rectification r
      LEFT JOIN gdpr.catalog_table t ON t.table_schema = r.table_schema AND t.table_name = r.table_name
      LEFT JOIN gdpr.catalog_column c ON c.table_schema = r.table_schema AND c.table_name = r.table_name
           AND c.column_name = r.column_name
     WHERE r.kind = p_kind AND r.tenant = COALESCE(p_tenant, '') AND r.subject_key = p_subject_key
$$;
ALTER FUNCTION gdpr.subject_rectifications(text, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.subject_rectifications(text, text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.subject_rectifications(text, text, text, text) IS
    'Internal (insight report): the corrections of one subject''s data, without who made them';

-- A readable label for a column the catalog gave none (Art. 12(1)): words instead of
-- the identifier, a trailing "_id" read as the thing it points to ("class_id" ->
-- "Class"). IMMUTABLE: used while generating the report statements.
CREATE OR REPLACE FUNCTION gdpr.column_label(p_column name) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.upper(pg_catalog.left(w, 1)) || pg_catalog.substr(w, 2)
      FROM (SELECT pg_catalog.btrim(pg_catalog.replace(
                       pg_catalog.regexp_replace(p_column::text, '_(id|at|no)$', ''), '_', ' ')) AS w) x
$$;
COMMENT ON FUNCTION gdpr.column_label(name) IS
    'A readable fallback label for a column without one in the catalog (class_id -> Class)';

-- Erasing a subject deletes its rectification history (old values are personal
-- data). Set-based, beside gdpr.forget_subject_notes.
CREATE OR REPLACE FUNCTION gdpr.forget_rectifications() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM gdpr.rectification r
     USING (SELECT DISTINCT e.kind, COALESCE(e.tenant, '') AS tenant, e.subject_key FROM erased e) e
     WHERE r.kind = e.kind AND r.tenant = e.tenant AND r.subject_key = e.subject_key;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.forget_rectifications() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.forget_rectifications() FROM PUBLIC;
CREATE OR REPLACE TRIGGER erasure_ledger_forget_rectifications
    AFTER INSERT ON gdpr.erasure_ledger REFERENCING NEW TABLE AS erased
    FOR EACH STATEMENT EXECUTE FUNCTION gdpr.forget_rectifications();

REVOKE ALL ON gdpr.rectification FROM PUBLIC;
GRANT SELECT ON gdpr.rectification TO pgdpr_admin;
