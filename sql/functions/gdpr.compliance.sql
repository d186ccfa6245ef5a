-- The record of processing activities (GDPR Art. 30; docs/compliance.md "Compliance report":
-- a club must be able to show what data it keeps, where, why and for how long).
-- Built from the catalog and the live database, never typed by hand: the purposes,
-- categories, recipients and retention come from gdpr.catalog_table/catalog_column,
-- the security measures (Art. 32) from pg_catalog and the engine's own tables as
-- they are in force right now, the figures from the data. Sections whose engine
-- table is not installed read {"installed": false} rather than failing.
-- Rendered by `pgdpr compliance-report` (HTML, Markdown, JSON).

-- Row security, policies and the roles with direct privileges on a declared table.
CREATE OR REPLACE FUNCTION gdpr.compliance_table_security(p_table regclass) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'row_security', c.relrowsecurity,
        'row_security_forced', c.relforcerowsecurity,
        'policies', COALESCE((SELECT jsonb_agg(p.polname ORDER BY p.polname)
                                FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), '[]'),
        -- roles other than the owner and the engine holding privileges on the base table
        'direct_access', COALESCE((
            SELECT jsonb_agg(jsonb_build_object('role', g.grantee, 'privileges', g.privileges) ORDER BY g.grantee)
              FROM (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END
                           AS grantee,
                           string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) AS privileges
                      FROM pg_catalog.aclexplode(c.relacl) x
                     WHERE x.grantee <> c.relowner
                       AND x.grantee <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = 'pgdpr_owner')
                     GROUP BY x.grantee) g), '[]'))
      FROM pg_catalog.pg_class c WHERE c.oid = p_table
$$;

CREATE OR REPLACE FUNCTION gdpr.compliance_record(p_tenant text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_month timestamptz := date_trunc('month', now());
    v_kind record;
    v_type text;
    v_counts jsonb;
    v_subjects jsonb := '[]';
    v_tables jsonb;
    v_security jsonb;
    v_figures jsonb;
    v_section jsonb;
    v_record jsonb;
    v_controller gdpr.controller_record;
    v_processor gdpr.controller_record;
    v_transfers jsonb;
    v_warnings jsonb := '[]';
BEGIN
    SELECT * INTO v_controller FROM gdpr.controller_record c WHERE c.tenant = v_tenant;
    SELECT * INTO v_processor FROM gdpr.controller_record c WHERE c.tenant = '';
    -- Categories of data subjects, with the figures a supervisor asks for.
    FOR v_kind IN
        SELECT s.*, to_regclass(format('%I.%I', s.table_schema, s.table_name)) AS rel
          FROM gdpr.subject_kind s ORDER BY s.kind
    LOOP
        v_counts := jsonb_build_object('subjects', NULL, 'anonymised', NULL, 'anonymised_this_month', NULL);
        IF v_kind.rel IS NOT NULL THEN
            SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO v_type
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = v_kind.rel AND a.attname = v_kind.tenant_column AND NOT a.attisdropped;
            EXECUTE format(
                'SELECT jsonb_build_object(''subjects'', count(*) %s, ''anonymised'', %s, ''anonymised_this_month'', %s)
                   FROM %s s WHERE %s',
                CASE WHEN v_kind.anonymized_column IS NOT NULL
                     THEN format('FILTER (WHERE s.%I IS NULL)', v_kind.anonymized_column) ELSE '' END,
                CASE WHEN v_kind.anonymized_column IS NOT NULL
                     THEN format('count(*) FILTER (WHERE s.%I IS NOT NULL)', v_kind.anonymized_column) ELSE 'NULL' END,
                CASE WHEN v_kind.anonymized_column IS NOT NULL
                     THEN format('count(*) FILTER (WHERE s.%I >= $2)', v_kind.anonymized_column) ELSE 'NULL' END,
                v_kind.rel,
                CASE WHEN v_kind.tenant_column IS NOT NULL AND v_type IS NOT NULL
                     THEN format('($1 IS NULL OR s.%I = CAST($1 AS %s))', v_kind.tenant_column, v_type)
                     ELSE 'true' END)
               INTO v_counts USING v_tenant, v_month;
        END IF;
        v_subjects := v_subjects || (jsonb_build_object(
            'kind', v_kind.kind,
            'table', format('%I.%I', v_kind.table_schema, v_kind.table_name),
            'exists', v_kind.rel IS NOT NULL,
            'area', v_kind.area,
            'tenant_column', v_kind.tenant_column,
            'identifying', to_jsonb(v_kind.identifying)) || v_counts);
    END LOOP;

    -- Every declared table and column: where, why, on what basis, for how long, to whom.
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'table', format('%I.%I', t.table_schema, t.table_name),
               'kind', t.kind,
               'exists', r.rel IS NOT NULL,
               'title_da', t.title_da, 'title_en', t.title_en,
               'link', t.link,
               'link_description', CASE t.link
                   WHEN 'root' THEN 'the subject''s own row'
                   WHEN 'direct' THEN format('rows whose %s is the subject''s key', t.link_column)
                   WHEN 'via' THEN format('rows whose %s points to %s.%s', t.link_column, t.parent_schema, t.parent_name)
                   WHEN 'owned' THEN format('the row the subject''s %s points to', t.link_column) END,
               'purpose', t.purpose, 'legal_basis', t.legal_basis, 'retention', t.retention,
               'recipients', t.recipients, 'source', t.source,
               'on_erase', t.on_erase,
               'erasure', CASE t.on_erase
                   WHEN 'delete' THEN 'rows deleted when the subject is erased'
                   WHEN 'anonymize' THEN 'rows kept, personal columns scrubbed when the subject is erased'
                   ELSE format('rows kept until %s%s + %s, then erased (deferred erasure); columns not part '
                               'of the record scrubbed at once', t.retain_column,
                               CASE WHEN t.retain_from_year_end THEN ' (end of its year)' ELSE '' END,
                               t.retain_period) END,
               'retain_column', t.retain_column, 'retain_period', t.retain_period::text,
               'retain_from_year_end', t.retain_from_year_end,
               'security', CASE WHEN r.rel IS NOT NULL THEN gdpr.compliance_table_security(r.rel) END,
               'columns', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'column', c.column_name, 'category', c.category,
                              'label_da', c.label_da, 'label_en', c.label_en,
                              'sensitive', c.sensitive, 'sensitive_when', c.sensitive_when,
                              'erase', c.erase, 'part_of_record', c.part_of_record,
                              'erasure', CASE
                                  WHEN t.on_erase = 'delete' THEN 'deleted with the row'
                                  WHEN t.on_erase = 'retain' AND c.part_of_record
                                      THEN 'kept with the record, then deleted with the row'
                                  ELSE CASE c.erase WHEN 'null' THEN 'emptied' WHEN 'constant' THEN 'replaced by '
                                      || quote_literal(c.erase_constant) WHEN 'redact' THEN 'the subject''s '
                                      || 'identifying values removed from the text' WHEN 'year_only' THEN
                                      'reduced to the year' WHEN 'hash' THEN 'replaced by a keyed hash'
                                      WHEN 'random' THEN 'replaced by a random value'
                                      ELSE 'kept (not identifying on its own)' END END)
                          ORDER BY a.attnum NULLS LAST, c.column_name)
                     FROM gdpr.catalog_column c
                     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = r.rel AND a.attname = c.column_name
                    WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name), '[]'))
           ORDER BY t.kind, t.position, t.table_schema, t.table_name), '[]')
      INTO v_tables
      FROM gdpr.catalog_table t
     CROSS JOIN LATERAL (SELECT to_regclass(format('%I.%I', t.table_schema, t.table_name)) AS rel) r;

    -- Security measures in force (Art. 32), read from the database as it is now.
    v_security := jsonb_build_object(
        'row_security', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                    'table', x->>'table', 'enabled', x->'security'->'row_security',
                                    'forced', x->'security'->'row_security_forced',
                                    'policies', x->'security'->'policies')), '[]')
                           FROM jsonb_array_elements(v_tables) x WHERE (x->>'exists')::boolean),
        'direct_table_access', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                    'table', x->>'table', 'grants', x->'security'->'direct_access')), '[]')
                                  FROM jsonb_array_elements(v_tables) x
                                 WHERE (x->>'exists')::boolean
                                   AND jsonb_array_length(x->'security'->'direct_access') > 0),
        'sensitive_columns', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                    'table', format('%I.%I', c.table_schema, c.table_name), 'column', c.column_name,
                                    'area', s.area, 'category', c.category,
                                    'masked', CASE WHEN c.sensitive THEN 'always'
                                                   ELSE format('rows where %s is true', c.sensitive_when) END)
                                    ORDER BY s.area, c.table_schema, c.table_name, c.column_name), '[]')
                                FROM gdpr.catalog_column c
                                JOIN gdpr.catalog_table t USING (table_schema, table_name)
                                JOIN gdpr.subject_kind s ON s.kind = t.kind
                               WHERE c.sensitive OR c.sensitive_when IS NOT NULL),
        'masking_default', 'Without a right, a sensitive value reads ''kræver login''; the vendor''s '
                           'own staff are blocked by default',
        'masking_views', (SELECT COALESCE(jsonb_agg(format('%I.%I', n.nspname, c.relname)
                                                    ORDER BY n.nspname, c.relname), '[]')
                            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relkind = 'v' AND n.nspname NOT IN ('gdpr', 'pg_catalog', 'information_schema')
                             AND pg_catalog.pg_get_viewdef(c.oid) ~ 'render_sensitive|sensitive_access'),
        'security_definer_functions', (
            SELECT jsonb_build_object('count', count(*),
                       'search_path_pinned', count(*) FILTER (WHERE EXISTS (
                           SELECT FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%')),
                       'executable_by_public', count(*) FILTER (WHERE pg_catalog.has_function_privilege(
                           'public', p.oid, 'EXECUTE')))
              FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'gdpr'::regnamespace AND p.prosecdef),
        'audit_trail', jsonb_build_object(
            'present', to_regclass('gdpr.audit_event') IS NOT NULL,
            'append_only', EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                    WHERE g.tgrelid = 'gdpr.audit_event'::regclass
                                      AND g.tgfoid = 'gdpr.refuse_audit_change()'::regprocedure
                                      AND g.tgenabled <> 'D'),
            'events', (SELECT count(*) FROM gdpr.audit_event e WHERE v_tenant IS NULL OR e.tenant = v_tenant),
            'first_event_at', (SELECT min(e.at) FROM gdpr.audit_event e WHERE v_tenant IS NULL OR e.tenant = v_tenant)));

    -- Staff groups and their right to see sensitive values (rights: docs/rights.md).
    IF to_regclass('gdpr.group_right') IS NOT NULL AND to_regclass('gdpr.staff_group') IS NOT NULL THEN
        SELECT jsonb_build_object('installed', true, 'groups', COALESCE(jsonb_agg(jsonb_build_object(
                   'group', g.group_role, 'tenant', g.tenant, 'area', r.area,
                   'view_sensitive', COALESCE(r.view_sensitive, 'not_allowed'),
                   'register_access', COALESCE(r.register_access, 'read'))
                   ORDER BY g.tenant, g.group_role, r.area), '[]'))
          INTO v_section
          FROM gdpr.staff_group g
          LEFT JOIN gdpr.group_right r ON r.group_role = g.group_role
         WHERE v_tenant IS NULL OR g.tenant = v_tenant;
    ELSE
        v_section := jsonb_build_object('installed', false, 'groups', '[]'::jsonb);
    END IF;
    v_security := v_security || jsonb_build_object('group_rights', v_section);

    -- Trigger rules that act on subjects, their schedule and their last run (docs/rules.md).
    IF to_regclass('gdpr.rule') IS NOT NULL AND to_regclass('gdpr.rule_run') IS NOT NULL THEN
        SELECT jsonb_build_object('installed', true, 'rules', COALESCE(jsonb_agg(jsonb_build_object(
                   'id', r.id, 'tenant', r.tenant, 'kind', r.kind, 'description', r.description,
                   'schedule', r.schedule, 'time_zone', r.time_zone, 'enabled', r.enabled,
                   'frequency_days', r.frequency_days,
                   'conditions', r.conditions, 'actions', r.actions,
                   'erases', EXISTS (SELECT FROM jsonb_array_elements(r.actions) a
                                      JOIN gdpr.rule_action ra ON ra.name = a->>'name' WHERE ra.erases),
                   'next_slot', r.next_slot,
                   'last_run', (SELECT jsonb_build_object('started_at', u.started_at, 'finished_at', u.finished_at,
                                           'trigger', u.trigger, 'changed', u.changed, 'errors', u.error_count)
                                  FROM gdpr.rule_run u WHERE u.rule_id = r.id
                                 ORDER BY u.started_at DESC LIMIT 1))
                   ORDER BY r.tenant, r.id), '[]'))
          INTO v_section
          FROM gdpr.rule r
         WHERE r.deleted_at IS NULL AND (v_tenant IS NULL OR r.tenant = v_tenant);
        IF to_regclass('gdpr.ticker') IS NOT NULL THEN
            v_section := v_section || jsonb_build_object('last_tick_at', (SELECT k.last_tick_at FROM gdpr.ticker k));
        END IF;
    ELSE
        v_section := jsonb_build_object('installed', false, 'rules', '[]'::jsonb);
    END IF;
    v_security := v_security || jsonb_build_object('rules', v_section);

    -- Figures: subjects, anonymised this month, deferred erasures, legal holds by type.
    v_figures := jsonb_build_object(
        'subjects', (SELECT jsonb_object_agg(x->>'kind', x->'subjects') FROM jsonb_array_elements(v_subjects) x),
        'anonymised_this_month', (SELECT jsonb_object_agg(x->>'kind', x->'anonymised_this_month')
                                    FROM jsonb_array_elements(v_subjects) x));
    IF to_regprocedure('gdpr.pending_deferred_erasures(text, text, text)') IS NOT NULL THEN
        -- the erasure engine's own view of what is pending, for the same club
        SELECT jsonb_build_object('installed', true, 'subjects', count(DISTINCT (d.kind, d.tenant, d.subject_key)),
                                  'rows', COALESCE(sum(d.rows_pending), 0), 'next_due_at', min(d.next_due_at))
          INTO v_section
          FROM gdpr.pending_deferred_erasures(NULL, NULL, v_tenant) d;
    ELSE
        v_section := jsonb_build_object('installed', false);
    END IF;
    v_figures := v_figures || jsonb_build_object('pending_deferred_erasures', v_section);
    IF to_regclass('gdpr.legal_hold') IS NOT NULL THEN
        SELECT jsonb_build_object('installed', true, 'by_type', COALESCE(jsonb_object_agg(h.hold_type, h.n), '{}'))
          INTO v_section
          FROM (SELECT l.hold_type, count(*) AS n FROM gdpr.legal_hold l
                 WHERE gdpr.hold_active(l, now())
                   AND (v_tenant IS NULL OR l.tenant = v_tenant)
                 GROUP BY l.hold_type) h;
    ELSE
        v_section := jsonb_build_object('installed', false, 'by_type', '{}'::jsonb);
    END IF;
    v_figures := v_figures || jsonb_build_object('open_legal_holds', v_section);
    IF to_regclass('gdpr.erasure_ledger') IS NOT NULL THEN
        v_figures := v_figures || jsonb_build_object('erasures_this_month', (
            SELECT count(*) FROM gdpr.erasure_ledger l
             WHERE l.erased_at >= v_month AND (v_tenant IS NULL OR l.tenant = v_tenant)));
    END IF;
    -- Anonymous, not pseudonymous (Recital 26): per kind, the smallest group of the
    -- club's erased subjects sharing their kept quasi-identifiers (gdpr.k_anonymity.sql).
    IF to_regprocedure('gdpr.k_anonymity_summary(text, text)') IS NOT NULL THEN
        v_figures := v_figures || jsonb_build_object('k_anonymity', (
            SELECT COALESCE(jsonb_object_agg(s.kind, gdpr.k_anonymity_summary(s.kind, v_tenant) - 'kind' - 'tenant'),
                            '{}')
              FROM gdpr.subject_kind s
             WHERE to_regclass(format('%I.%I', s.table_schema, s.table_name)) IS NOT NULL));
        SELECT v_warnings || COALESCE(jsonb_agg(to_jsonb(w.text)), '[]') INTO v_warnings
          FROM (SELECT format('Erased %s subjects can be singled out: the smallest group sharing their kept values (%s) '
                              'is k = %s, below %s', k.key, k.value->'quasi_identifiers', k.value->>'k_min',
                              k.value->>'target') AS text
                  FROM jsonb_each(v_figures->'k_anonymity') k
                 WHERE (k.value->>'k_min')::integer < (k.value->>'target')::integer
                UNION ALL
                SELECT format('Erased %s subjects keep a keyed hash of %s: linkable by whoever holds the key', k.key,
                              k.value->'linkable')
                  FROM jsonb_each(v_figures->'k_anonymity') k
                 WHERE jsonb_array_length(k.value->'linkable') > 0 AND (k.value->>'erased')::integer > 0) w;
    END IF;

    v_transfers := jsonb_build_object(
        'statement', COALESCE(concat_ws(' ', v_controller.transfers, v_processor.transfers),
                              'No transfer to a third country is recorded'),
        'controller', v_controller.transfers, 'processor', v_processor.transfers,
        'catalog', (SELECT COALESCE(jsonb_agg(jsonb_build_object('table', x->>'table', 'recipients', x->>'recipients')),
                                    '[]')
                      FROM jsonb_array_elements(v_tables) x
                     WHERE x->>'recipients' ~* '(third.countr|tredjeland|outside the (EU|EEA)|uden for (EU|EØS)|USA)'));
    IF v_controller.transfers IS NULL AND v_processor.transfers IS NULL THEN
        v_transfers := v_transfers || jsonb_build_object('statement', CASE
            WHEN jsonb_array_length(v_transfers->'catalog') > 0
            THEN 'Recipients named in the catalog may be outside the EU/EEA: see the tables listed'
            ELSE 'No transfer to a third country: no recipient outside the EU/EEA is recorded' END);
    END IF;

    -- The register of data-subject requests (Art. 12(3)), restrictions (Art. 18),
    -- withdrawn consents (Art. 7(3)) and children (Databeskyttelsesloven §6).
    v_figures := v_figures || jsonb_build_object(
        'requests', gdpr.request_figures(v_tenant, now()),
        'active_restrictions', (SELECT count(*) FROM gdpr.processing_restriction r
                                 WHERE r.lifted_at IS NULL AND (r.until IS NULL OR r.until > now())
                                   AND (v_tenant IS NULL OR r.tenant = v_tenant)),
        'consents_withdrawn_this_month', (SELECT count(*) FROM gdpr.consent_withdrawal w
                                           WHERE w.withdrawn_at >= v_month
                                             AND (v_tenant IS NULL OR w.tenant = v_tenant)),
        'minors', gdpr.minor_figures(v_tenant, current_date));

    IF v_controller.contact IS NULL THEN
        v_warnings := v_warnings || to_jsonb('The controller''s contact details are not recorded '
                                             '(pgdpr controller set)'::text);
    END IF;
    IF v_controller.dpo_contact IS NULL THEN
        v_warnings := v_warnings || to_jsonb('No data-protection contact is recorded (pgdpr controller set)'::text);
    END IF;
    IF v_processor.contact IS NULL THEN
        v_warnings := v_warnings || to_jsonb('The processor''s contact details are not recorded '
                                             '(pgdpr controller set --processor)'::text);
    END IF;
    -- Storage limitation (Art. 5(1)(e)): a club whose data no enabled rule erases keeps
    -- it for ever, whatever the catalog's retention text says
    IF v_tenant IS NOT NULL AND NOT EXISTS (
           SELECT FROM gdpr.rule r, pg_catalog.jsonb_array_elements(r.actions) a
             JOIN gdpr.rule_action ra ON ra.name = a.value ->> 'name'
            WHERE r.tenant = v_tenant AND r.enabled AND r.deleted_at IS NULL AND ra.erases) THEN
        v_warnings := v_warnings || to_jsonb(format('Club %s has no enabled rule that erases: personal data is '
                                                    'kept until someone erases it by hand (GDPR Art. 5(1)(e); '
                                                    'pgdpr rules create)', v_tenant));
    END IF;
    IF (v_figures #>> '{requests,overdue}')::bigint > 0 THEN
        v_warnings := v_warnings || to_jsonb(format('%s data-subject request(s) are overdue',
                                                    v_figures #>> '{requests,overdue}'));
    END IF;

    v_record := jsonb_build_object(
        'generated_at', now(),
        'database', current_database(),
        'pgdpr_version', (SELECT i.pgdpr_version FROM gdpr.install_state i),
        'tenant', v_tenant,
        'controller', jsonb_build_object(
            'tenant', v_tenant,
            'name', COALESCE(v_controller.name, gdpr.tenant_name(v_tenant),
                             CASE WHEN v_tenant IS NOT NULL THEN 'club ' || v_tenant END,
                             NULLIF(current_setting('pgdpr.controller_name', true), ''),
                             'every club (tenant) of database ' || current_database()),
            'contact', v_controller.contact,
            'role', 'Data controller (GDPR Art. 4(7), 24): decides why and how the personal data is processed'),
        'data_protection_contact', jsonb_build_object('name', v_controller.dpo_name,
                                                      'contact', v_controller.dpo_contact),
        'processor', jsonb_build_object(
            'name', COALESCE(v_processor.name, NULLIF(current_setting('pgdpr.processor_name', true), ''),
                             'the vendor operating database ' || current_database()),
            'contact', v_processor.contact,
            'data_protection_contact', jsonb_build_object('name', v_processor.dpo_name,
                                                          'contact', v_processor.dpo_contact),
            'role', 'Data processor (GDPR Art. 28): hosts and operates the system on the controller''s '
                    || 'documented instructions; one club never sees another club''s data'),
        'subject_kinds', v_subjects,
        'tables', v_tables,
        'purposes', (SELECT COALESCE(jsonb_agg(jsonb_build_object('purpose', p.purpose, 'legal_basis', p.legal_basis,
                                         'tables', p.tables) ORDER BY p.first), '[]')
                       FROM (SELECT x->>'purpose' AS purpose, x->>'legal_basis' AS legal_basis,
                                    jsonb_agg(x->>'table' ORDER BY i) AS tables, min(i) AS first
                               FROM jsonb_array_elements(v_tables) WITH ORDINALITY e(x, i)
                              GROUP BY 1, 2) p),
        'data_categories', (SELECT COALESCE(jsonb_agg(jsonb_build_object('category', g.category,
                                         'sensitive', g.sensitive, 'columns', g.columns) ORDER BY g.category), '[]')
                              FROM (SELECT c.category, bool_or(c.sensitive OR c.sensitive_when IS NOT NULL) AS sensitive,
                                           jsonb_agg(format('%I.%I.%I', c.table_schema, c.table_name, c.column_name)
                                                     ORDER BY c.table_schema, c.table_name, c.column_name) AS columns
                                      FROM gdpr.catalog_column c GROUP BY c.category) g),
        'recipients', (SELECT COALESCE(jsonb_agg(jsonb_build_object('recipients', g.recipients, 'tables', g.tables)
                                       ORDER BY g.recipients), '[]')
                         FROM (SELECT x->>'recipients' AS recipients, jsonb_agg(x->>'table') AS tables
                                 FROM jsonb_array_elements(v_tables) x GROUP BY 1) g),
        -- Transfers to third countries (Art. 30(1)(e), 44-49): what the controller and the
        -- processor state, and every recipient of the catalog that names one.
        'transfers', v_transfers,
        'retention', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                  'category', c->>'category', 'table', x->>'table', 'column', c->>'column',
                                  'retention', x->>'retention', 'on_erase', x->>'on_erase', 'erasure', c->>'erasure',
                                  'deadline', CASE WHEN x->>'on_erase' = 'retain' AND (c->>'part_of_record')::boolean
                                                   THEN x->>'erasure' ELSE 'when the subject is erased: '
                                                   || (x->>'retention') END)
                                  ORDER BY c->>'category', x->>'table', c->>'column'), '[]')
                        FROM jsonb_array_elements(v_tables) x, jsonb_array_elements(x->'columns') c),
        -- Sensitive columns and the legal basis the catalog declares for each (Art. 9(2),
        -- Databeskyttelsesloven §11); the catalog refuses such a column without one.
        'special_categories', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                       'table', format('%I.%I', c.table_schema, c.table_name), 'column', c.column_name,
                                       'category', c.category,
                                       'masked', CASE WHEN c.sensitive THEN 'always'
                                                      WHEN c.sensitive_when IS NOT NULL
                                                      THEN format('rows where %s is true', c.sensitive_when) END,
                                       'basis', b.basis)
                                       ORDER BY c.table_schema, c.table_name, c.column_name), '[]')
                                 FROM gdpr.catalog_column c
                                 LEFT JOIN gdpr.column_legal_basis b USING (table_schema, table_name, column_name)
                                WHERE gdpr.column_needs_basis(c.category, c.sensitive, c.sensitive_when)),
        -- What the catalog declares not to be personal data, and why (gdpr.not_personal)
        'not_personal', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                 'table', format('%I.%I', n.table_schema, n.table_name),
                                 'column', NULLIF(n.column_name, ''), 'reason', n.reason)
                                 ORDER BY n.table_schema, n.table_name, n.column_name), '[]')
                           FROM gdpr.not_personal n),
        -- Art. 30(1)(g): the technical measures in force (the security section, read
        -- from the database) and the organisational ones the controller states.
        'measures', jsonb_build_object(
            'technical', jsonb_build_array(
                'Row security per club on every table holding personal data (forced, no bypass for staff roles)',
                'Sensitive values (CPR, bank, sensitive custom fields) masked per staff group right',
                'Append-only audit trail of every report, export, erasure, hold, request and rights change',
                'Erasure proof and an erasure ledger re-applied after a backup restore',
                'Engine functions run with a pinned search_path and are granted per role'),
            'organisational', COALESCE(v_controller.measures,
                'Staff groups with rights per area; requests logged with their deadline; '
                || 'this record reviewed when the catalog changes')),
        'security', v_security,
        'figures', v_figures,
        'warnings', v_warnings);
    -- Art. 30(1)(a)-(g) in one place, each point naming what answers it.
    v_record := v_record || jsonb_build_object('art30', jsonb_build_object(
        'a_controller', jsonb_build_object('controller', v_record->'controller',
                                           'data_protection_contact', v_record->'data_protection_contact',
                                           'processor', v_record->'processor'),
        'b_purposes', v_record->'purposes',
        'c_subject_categories', (SELECT COALESCE(jsonb_agg(x->>'kind'), '[]') FROM jsonb_array_elements(v_subjects) x),
        'c_data_categories', (SELECT COALESCE(jsonb_agg(x->>'category'), '[]')
                                FROM jsonb_array_elements(v_record->'data_categories') x),
        'd_recipients', v_record->'recipients',
        'e_transfers', v_transfers->>'statement',
        'f_retention', v_record->'retention',
        'g_measures', v_record->'measures'));

    PERFORM gdpr.audit('compliance_report', NULL, v_tenant, NULL, 'GDPR Art. 30 record of processing',
                       jsonb_build_object('tables', jsonb_array_length(v_tables)));
    RETURN v_record;
END $$;
ALTER FUNCTION gdpr.compliance_record(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.compliance_record(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.compliance_record(text) TO pgdpr_admin, pgdpr_staff;
COMMENT ON FUNCTION gdpr.compliance_record(text) IS
    'GDPR Art. 30 record of processing for a club (or every club, admins only): built from the catalog and the '
    'live database; audited';

REVOKE ALL ON FUNCTION gdpr.compliance_table_security(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.compliance_table_security(regclass) TO pgdpr_admin, pgdpr_owner;
