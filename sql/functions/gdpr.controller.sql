-- The controller's and processor's own details for the record of processing (GDPR
-- Art. 30(1)(a): name and contact details of the controller and of the
-- data-protection contact; Art. 30(2)(a): of the processor), with the transfers to
-- third countries (Art. 30(1)(e)) and the organisational measures (Art. 30(1)(g))
-- in the controller's own words. A club records its own; the vendor (an admin)
-- records the processor's under tenant ''.

CREATE OR REPLACE FUNCTION gdpr.set_controller_details(p_tenant text, p_name text, p_contact text,
    p_dpo_name text DEFAULT NULL, p_dpo_contact text DEFAULT NULL, p_transfers text DEFAULT NULL,
    p_measures text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text;
BEGIN
    IF p_tenant = '' THEN
        IF NOT COALESCE(gdpr.caller_is_admin(), false) THEN
            RAISE EXCEPTION 'only an administrator records the processor''s details'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        v_tenant := '';
    ELSE
        v_tenant := gdpr.acting_tenant(p_tenant);
        IF v_tenant IS NULL THEN
            RAISE EXCEPTION 'name the club whose details these are' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT COALESCE(gdpr.caller_is_admin(), false)
           AND gdpr.register_access_of(gdpr.caller(), NULL) <> 'write' THEN
            RAISE EXCEPTION 'role % may not change the club''s record of processing', gdpr.caller()
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF NULLIF(btrim(p_name), '') IS NULL OR NULLIF(btrim(p_contact), '') IS NULL THEN
        RAISE EXCEPTION 'the record needs a name and contact details' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO gdpr.controller_record (tenant, name, contact, dpo_name, dpo_contact, transfers, measures, updated_by)
    VALUES (v_tenant, btrim(p_name), btrim(p_contact), NULLIF(btrim(p_dpo_name), ''), NULLIF(btrim(p_dpo_contact), ''),
            NULLIF(btrim(p_transfers), ''), NULLIF(btrim(p_measures), ''), gdpr.caller())
    ON CONFLICT (tenant) DO UPDATE SET name = excluded.name, contact = excluded.contact,
        dpo_name = excluded.dpo_name, dpo_contact = excluded.dpo_contact, transfers = excluded.transfers,
        measures = excluded.measures, updated_by = excluded.updated_by, updated_at = now();
    PERFORM gdpr.audit('controller_details_set', NULL, NULLIF(v_tenant, ''), NULL, NULL,
                       jsonb_build_object('processor', v_tenant = ''));
END $$;
ALTER FUNCTION gdpr.set_controller_details(text, text, text, text, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.set_controller_details(text, text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.set_controller_details(text, text, text, text, text, text, text)
    TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.set_controller_details(text, text, text, text, text, text, text) IS
    'Record a club''s (or, tenant '''', the processor''s) name, contact, data-protection contact, transfers and '
    'measures for the record of processing (GDPR Art. 30)';

REVOKE ALL ON gdpr.controller_record FROM PUBLIC;
GRANT SELECT ON gdpr.controller_record TO pgdpr_admin;
