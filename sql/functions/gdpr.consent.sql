-- Consent and its withdrawal (GDPR Art. 7(3): withdrawing must be as easy as giving,
-- and stops what the consent covered at once). The catalog declares where a subject
-- kind's consents are kept and what each consent type covers: columns that hold what
-- was consented to (the photo) are emptied, message templates (the newsletter) stop.
-- Consents for a child name the guardian who gave them (Databeskyttelsesloven §6).

-- Where a kind's consents are (a declared table of that kind, linked directly).
CREATE OR REPLACE FUNCTION gdpr.declare_consent_table(p_kind text, p_schema name, p_table name,
    p_type_column name, p_withdrawn_column name, p_given_column name DEFAULT NULL,
    p_guardian_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('consent.%s', p_kind);
    v_oid oid;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.catalog_table t WHERE t.table_schema = p_schema AND t.table_name = p_table
                      AND t.kind = p_kind AND t.link = 'direct') THEN
        RAISE EXCEPTION 'catalog entry %: %.% is not a declared table of subject % linked by a direct column',
            v_entry, quote_ident(p_schema), quote_ident(p_table), p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_oid := gdpr.checked_table(p_schema, p_table, v_entry);
    PERFORM gdpr.checked_column(v_oid, p_type_column, v_entry || '.type');
    IF gdpr.checked_column(v_oid, p_withdrawn_column, v_entry || '.withdrawn')
       NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'catalog entry %.withdrawn: column % must be a date or timestamp', v_entry,
            quote_ident(p_withdrawn_column) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_given_column IS NOT NULL THEN
        PERFORM gdpr.checked_column(v_oid, p_given_column, v_entry || '.given');
    END IF;
    IF p_guardian_column IS NOT NULL
       AND gdpr.checked_column(v_oid, p_guardian_column, v_entry || '.guardian') <> 'text'::regtype THEN
        RAISE EXCEPTION 'catalog entry %.guardian: column % must be text', v_entry, quote_ident(p_guardian_column)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.consent_table (kind, table_schema, table_name, type_column, withdrawn_column, given_column,
                                    guardian_column)
    VALUES (p_kind, p_schema, p_table, p_type_column, p_withdrawn_column, p_given_column, p_guardian_column)
    ON CONFLICT (kind) DO UPDATE SET table_schema = excluded.table_schema, table_name = excluded.table_name,
        type_column = excluded.type_column, withdrawn_column = excluded.withdrawn_column,
        given_column = excluded.given_column, guardian_column = excluded.guardian_column;
END $$;
REVOKE ALL ON FUNCTION gdpr.declare_consent_table(text, name, name, name, name, name, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_consent_table(text, name, name, name, name, name, name) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.declare_consent_table(text, name, name, name, name, name, name) IS
    'Declare the table holding a subject kind''s consents: type, withdrawn-at, given-at and guardian columns';

-- What a consent type covers: declared columns ('schema.table.column', of the same
-- subject kind, nullable) emptied at withdrawal, and outbox templates that stop.
CREATE OR REPLACE FUNCTION gdpr.declare_consent_cover(p_kind text, p_consent_type text,
    p_erase_columns text[] DEFAULT '{}', p_stop_templates text[] DEFAULT '{}', p_description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entry text := format('consent.%s.covers.%s', p_kind, p_consent_type);
    v_column text;
    v_parts text[];
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.consent_table c WHERE c.kind = p_kind) THEN
        RAISE EXCEPTION 'catalog entry %: subject % has no declared consent table', v_entry, p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cardinality(COALESCE(p_erase_columns, '{}')) + cardinality(COALESCE(p_stop_templates, '{}')) = 0 THEN
        RAISE EXCEPTION 'catalog entry %: a consent covers at least one column (erase) or message (stop_messages)',
            v_entry USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH v_column IN ARRAY COALESCE(p_erase_columns, '{}') LOOP
        v_parts := string_to_array(v_column, '.');
        IF cardinality(v_parts) <> 3 OR NOT EXISTS (
            SELECT FROM gdpr.catalog_column c JOIN gdpr.catalog_table t USING (table_schema, table_name)
             JOIN pg_catalog.pg_attribute a
               ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
             WHERE c.table_schema = v_parts[1] AND c.table_name = v_parts[2] AND c.column_name = v_parts[3]
               AND t.kind = p_kind AND NOT a.attnotnull) THEN
            RAISE EXCEPTION 'catalog entry %: % is not a declared, nullable column (schema.table.column) of subject %',
                v_entry, v_column, p_kind USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    INSERT INTO gdpr.consent_cover (kind, consent_type, erase_columns, stop_templates, description)
    VALUES (p_kind, p_consent_type, COALESCE(p_erase_columns, '{}'), COALESCE(p_stop_templates, '{}'), p_description)
    ON CONFLICT (kind, consent_type) DO UPDATE SET erase_columns = excluded.erase_columns,
        stop_templates = excluded.stop_templates, description = excluded.description;
END $$;
REVOKE ALL ON FUNCTION gdpr.declare_consent_cover(text, text, text[], text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.declare_consent_cover(text, text, text[], text[], text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.declare_consent_cover(text, text, text[], text[], text) IS
    'Declare what withdrawing a consent type erases (columns) or stops (message templates)';

-- Has the subject withdrawn a consent covering this message template (and not given
-- it again since)? Internal: the outbox trigger asks.
CREATE OR REPLACE FUNCTION gdpr.consent_withdrawn_for_template(p_kind text, p_tenant text, p_subject_key text,
    p_template text)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_ct gdpr.consent_table;
    v_withdrawal record;
    v_types record;
    v_again boolean;
BEGIN
    SELECT w.consent_type, max(w.withdrawn_at) AS withdrawn_at INTO v_withdrawal
      FROM gdpr.consent_withdrawal w
      JOIN gdpr.consent_cover c ON c.kind = w.kind AND c.consent_type = w.consent_type
     WHERE w.kind = p_kind AND w.tenant = COALESCE(p_tenant, '') AND w.subject_key = p_subject_key
       AND p_template = ANY (c.stop_templates)
     GROUP BY w.consent_type
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO v_ct FROM gdpr.consent_table c WHERE c.kind = p_kind;
    IF v_ct.given_column IS NULL THEN
        RETURN true;
    END IF;
    -- given again after the withdrawal: an active consent row newer than it
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    EXECUTE format('SELECT EXISTS (SELECT FROM %I.%I t WHERE %s AND t.%I::text = $3 AND t.%I IS NULL AND t.%I > $4)',
                   v_ct.table_schema, v_ct.table_name,
                   gdpr.subject_filter(v_ct.table_schema, v_ct.table_name, 't', format('= $1::%s', v_types.key_type),
                                       format('= $2::%s', v_types.tenant_type)),
                   v_ct.type_column, v_ct.withdrawn_column, v_ct.given_column)
       INTO v_again USING p_subject_key, NULLIF(p_tenant, ''), v_withdrawal.consent_type, v_withdrawal.withdrawn_at;
    RETURN NOT v_again;
END $$;
ALTER FUNCTION gdpr.consent_withdrawn_for_template(text, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.consent_withdrawn_for_template(text, text, text, text) FROM PUBLIC;

-- Withdraw a consent (Art. 7(3)): the subject's active consents of that type get
-- their withdrawal time, the columns it covered are emptied and the messages it
-- covered stop, in one transaction, audited. The consent rows stay (they prove when
-- consent was given and withdrawn; the insight report shows them).
CREATE OR REPLACE FUNCTION gdpr.withdraw_consent(p_kind text, p_subject_key text, p_consent_type text,
    p_note text DEFAULT NULL, p_request_id bigint DEFAULT NULL, p_tenant text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_subject record;
    v_ct gdpr.consent_table;
    v_cover gdpr.consent_cover;
    v_types record;
    v_key_match text;
    v_tenant_match text;
    v_count bigint;
    v_withdrawn bigint;
    v_erased jsonb := '{}';
    v_column text;
    v_parts text[];
    v_cancelled bigint := 0;
    v_id bigint;
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    SELECT * INTO v_ct FROM gdpr.consent_table c WHERE c.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subject % has no declared consent table', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_cover FROM gdpr.consent_cover c WHERE c.kind = p_kind AND c.consent_type = p_consent_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'consent type % of % has no declared cover (what withdrawing it erases or stops)',
            quote_literal(p_consent_type), p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    IF v_subject.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    PERFORM gdpr.require_request_of(p_request_id, p_kind, v_subject.tenant, v_subject.subject_key, p_subject_key);
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    v_key_match := format('= $1::%s', v_types.key_type);
    v_tenant_match := format('= $2::%s', v_types.tenant_type);

    EXECUTE format('WITH w AS (UPDATE %I.%I t SET %I = now() WHERE %s AND t.%I::text = $3 AND t.%I IS NULL
                                RETURNING 1) SELECT count(*) FROM w',
                   v_ct.table_schema, v_ct.table_name, v_ct.withdrawn_column,
                   gdpr.subject_filter(v_ct.table_schema, v_ct.table_name, 't', v_key_match, v_tenant_match),
                   v_ct.type_column, v_ct.withdrawn_column)
       INTO v_withdrawn USING v_subject.subject_key, NULLIF(v_subject.tenant, ''), p_consent_type;
    IF v_withdrawn = 0 THEN
        RAISE EXCEPTION '% % has no active consent of type %', p_kind, p_subject_key, quote_literal(p_consent_type)
            USING ERRCODE = 'no_data_found';
    END IF;

    FOREACH v_column IN ARRAY v_cover.erase_columns LOOP
        v_parts := string_to_array(v_column, '.');
        EXECUTE format('WITH e AS (UPDATE %I.%I t SET %I = NULL WHERE %s AND t.%I IS NOT NULL RETURNING 1)
                        SELECT count(*) FROM e',
                       v_parts[1], v_parts[2], v_parts[3],
                       gdpr.subject_filter(v_parts[1]::name, v_parts[2]::name, 't', v_key_match, v_tenant_match),
                       v_parts[3])
           INTO v_count USING v_subject.subject_key, NULLIF(v_subject.tenant, '');
        v_erased := v_erased || jsonb_build_object(v_column, v_count);
    END LOOP;

    INSERT INTO gdpr.consent_withdrawal (kind, tenant, subject_key, consent_type, withdrawn_at, withdrawn_by,
                                         request_id)
    VALUES (p_kind, v_subject.tenant, v_subject.subject_key, p_consent_type, now(), gdpr.caller(), p_request_id)
    RETURNING id INTO v_id;
    IF cardinality(v_cover.stop_templates) > 0 THEN
        WITH cancelled AS (
            DELETE FROM gdpr.outbox o
             WHERE o.kind = p_kind AND o.tenant = v_subject.tenant AND o.subject_key = v_subject.subject_key
               AND o.sent_at IS NULL AND o.template = ANY (v_cover.stop_templates)
            RETURNING 1)
        SELECT count(*) INTO v_cancelled FROM cancelled;
    END IF;
    PERFORM gdpr.write_subject_note(p_kind, v_subject.tenant, v_subject.subject_key, 'consent_withdrawal', v_id,
                                    p_note);
    PERFORM gdpr.audit('consent_withdrawn', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('consent_type', p_consent_type, 'consents', v_withdrawn,
                                          'erased', v_erased, 'stopped', to_jsonb(v_cover.stop_templates),
                                          'messages_cancelled', v_cancelled, 'request_id', p_request_id));
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_subject.tenant, 'subject_key', v_subject.subject_key,
                              'consent_type', p_consent_type, 'consents', v_withdrawn, 'erased', v_erased,
                              'stopped', to_jsonb(v_cover.stop_templates), 'messages_cancelled', v_cancelled);
END $$;
ALTER FUNCTION gdpr.withdraw_consent(text, text, text, text, bigint, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.withdraw_consent(text, text, text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.withdraw_consent(text, text, text, text, bigint, text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.withdraw_consent(text, text, text, text, bigint, text) IS
    'Withdraw a consent (GDPR Art. 7(3)): erase the columns and stop the messages it covered, at once; audited';

-- Record a consent. A child under 13 cannot consent alone to an information-society
-- service (Databeskyttelsesloven §6): the guardian who consents is named, and a
-- consent for anyone under 18 keeps the guardian's name when one is given.
CREATE OR REPLACE FUNCTION gdpr.record_consent(p_kind text, p_subject_key text, p_consent_type text,
    p_guardian text DEFAULT NULL, p_tenant text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_subject record;
    v_ct gdpr.consent_table;
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_types record;
    v_band text;
    v_guardian text := NULLIF(btrim(p_guardian), '');
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    SELECT * INTO v_ct FROM gdpr.consent_table c WHERE c.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subject % has no declared consent table', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    IF v_subject.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    v_band := gdpr.subject_age_band(p_kind, v_subject.tenant, v_subject.subject_key, current_date);
    IF v_band = 'under_13' AND v_guardian IS NULL THEN
        RAISE EXCEPTION '% % is under 13: the consent must name the guardian who gives it (Databeskyttelsesloven §6)',
            p_kind, p_subject_key USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_guardian IS NOT NULL AND v_ct.guardian_column IS NULL THEN
        RAISE EXCEPTION 'the consent table of % has no declared guardian column', p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_t FROM gdpr.catalog_table t WHERE t.table_schema = v_ct.table_schema AND t.table_name = v_ct.table_name;
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    EXECUTE format('INSERT INTO %I.%I (%I, %I%s%s) VALUES ($1::%s, $3%s%s)',
                   v_ct.table_schema, v_ct.table_name, v_t.link_column, v_ct.type_column,
                   CASE WHEN v_guardian IS NOT NULL THEN format(', %I', v_ct.guardian_column) ELSE '' END,
                   CASE WHEN v_s.tenant_column IS NOT NULL THEN format(', %I', v_s.tenant_column) ELSE '' END,
                   v_types.key_type,
                   CASE WHEN v_guardian IS NOT NULL THEN ', $4' ELSE '' END,
                   CASE WHEN v_s.tenant_column IS NOT NULL THEN format(', $2::%s', v_types.tenant_type) ELSE '' END)
        USING v_subject.subject_key, NULLIF(v_subject.tenant, ''), p_consent_type, v_guardian;
    -- given again: the withdrawal no longer stops its messages (consent_withdrawn_for_template
    -- compares with the given-at column when one is declared; without one the record goes)
    IF v_ct.given_column IS NULL THEN
        DELETE FROM gdpr.consent_withdrawal w
         WHERE w.kind = p_kind AND w.tenant = v_subject.tenant AND w.subject_key = v_subject.subject_key
           AND w.consent_type = p_consent_type;
    END IF;
    PERFORM gdpr.audit('consent_given', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('consent_type', p_consent_type, 'age_band', v_band,
                                          'guardian_named', v_guardian IS NOT NULL));
    RETURN jsonb_build_object('kind', p_kind, 'subject_key', v_subject.subject_key, 'consent_type', p_consent_type,
                              'age_band', v_band, 'guardian_named', v_guardian IS NOT NULL);
END $$;
ALTER FUNCTION gdpr.record_consent(text, text, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.record_consent(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.record_consent(text, text, text, text, text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.record_consent(text, text, text, text, text) IS
    'Record a consent; for a child under 13 the guardian who gives it must be named (Databeskyttelsesloven §6)';

REVOKE ALL ON gdpr.consent_table, gdpr.consent_cover, gdpr.consent_withdrawal FROM PUBLIC;
GRANT SELECT ON gdpr.consent_table, gdpr.consent_cover, gdpr.consent_withdrawal TO pgdpr_admin;
GRANT INSERT, UPDATE, DELETE ON gdpr.consent_table, gdpr.consent_cover TO pgdpr_admin;
