-- Legal holds (docs/erasure.md, "Deaktivering af anonymisering"; GDPR Art. 17(3)(b)/(e):
-- erasure does not apply where the data is needed for a legal obligation or legal
-- claims): a debt, doping or litigation case keeps a subject from being erased. A
-- rule never anonymises a held subject; a manual anonymisation is refused unless
-- forced, which is audited. A hold with an expiry stops blocking when it expires.
-- The reason is free text typed by staff: when the subject is erased, gdpr.erase_batch
-- takes the subject's identifying values out of it, and the proof searches it.
-- A hold acts on a register: a caller whose register access to the subject kind's
-- area is 'none' may neither place one (nor so lock or probe the subject row), nor
-- see or clear one (gdpr.rule_require_register_access, gdpr.caller_register_kinds).

CREATE OR REPLACE FUNCTION gdpr.set_legal_hold(p_kind text, p_subject_key text, p_hold_type text, p_reason text,
    p_until timestamptz DEFAULT NULL, p_tenant text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text;
    v_row record;
    v_id bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- before the subject is looked up or locked: the answer tells nothing about it
    PERFORM gdpr.rule_require_register_access(p_kind);
    IF p_hold_type IS NULL OR p_hold_type NOT IN ('debt', 'doping', 'litigation', 'other') THEN
        RAISE EXCEPTION 'hold type must be debt, doping, litigation or other' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a legal hold needs a reason' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_until IS NOT NULL AND p_until <= now() THEN
        RAISE EXCEPTION 'a legal hold must end in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_tenant := gdpr.acting_tenant(p_tenant);
    SELECT * INTO v_row FROM gdpr.lock_subject(p_kind, v_tenant, p_subject_key);
    IF v_row.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    INSERT INTO gdpr.legal_hold (kind, tenant, subject_key, hold_type, reason, created_by, until)
    -- the reason is shown to every staff member who lists holds: its CPR- and
    -- account-shaped numbers are masked before it is kept (docs/rights.md)
    VALUES (p_kind, v_row.tenant, v_row.subject_key, p_hold_type, gdpr.render_free_text(p_reason, 'not_allowed'),
            gdpr.caller(), p_until)
    RETURNING id INTO v_id;
    PERFORM gdpr.audit('legal_hold_set', p_kind, v_row.tenant, v_row.subject_key, NULL,
                       jsonb_build_object('hold_id', v_id, 'hold_type', p_hold_type, 'until', p_until));
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.set_legal_hold(text, text, text, text, timestamptz, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.set_legal_hold(text, text, text, text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.set_legal_hold(text, text, text, text, timestamptz, text)
    TO pgdpr_staff, pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.set_legal_hold(text, text, text, text, timestamptz, text) IS
    'Keep a subject from being erased (docs/erasure.md): debt, doping, litigation or other, optionally until a time';

-- Clearing a hold makes the subject erasable again: the erasure right is needed.
CREATE OR REPLACE FUNCTION gdpr.clear_legal_hold(p_hold_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_hold gdpr.legal_hold;
    v_tenant text;
BEGIN
    PERFORM gdpr.require_erasure_right();  -- not the EXECUTE grant alone (gdpr.anonymize.sql)
    v_tenant := gdpr.acting_tenant(NULL);
    -- a hold of a register the caller may not read answers like a missing one
    SELECT * INTO v_hold FROM gdpr.legal_hold h
     WHERE h.id = p_hold_id AND (v_tenant IS NULL OR h.tenant = v_tenant)
       AND h.kind = ANY (gdpr.caller_register_kinds())
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'legal hold % not found', p_hold_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_hold.cleared_at IS NOT NULL THEN
        RAISE EXCEPTION 'legal hold % was already cleared', p_hold_id USING ERRCODE = 'object_in_use';
    END IF;
    UPDATE gdpr.legal_hold SET cleared_at = now(), cleared_by = gdpr.caller() WHERE id = p_hold_id;
    PERFORM gdpr.audit('legal_hold_cleared', v_hold.kind, v_hold.tenant, v_hold.subject_key, NULL,
                       jsonb_build_object('hold_id', p_hold_id, 'hold_type', v_hold.hold_type));
END $$;
ALTER FUNCTION gdpr.clear_legal_hold(bigint) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.clear_legal_hold(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.clear_legal_hold(bigint) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.clear_legal_hold(bigint) IS 'Clear a legal hold (the subject becomes erasable again)';

-- Active holds of the caller's club (admins: any club, or the named one).
CREATE OR REPLACE FUNCTION gdpr.active_legal_holds(p_kind text DEFAULT NULL, p_subject_key text DEFAULT NULL,
    p_tenant text DEFAULT NULL)
RETURNS TABLE (id bigint, kind text, tenant text, subject_key text, hold_type text, reason text,
               created_by name, created_at timestamptz, until timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT h.id, h.kind, h.tenant, h.subject_key, h.hold_type, h.reason, h.created_by, h.created_at, h.until
      FROM gdpr.legal_hold h
     WHERE gdpr.hold_active(h, now())
       AND (p_kind IS NULL OR h.kind = p_kind)
       AND (p_subject_key IS NULL OR h.subject_key = p_subject_key)
       AND (v_tenant IS NULL OR h.tenant = v_tenant)
       AND h.kind = ANY (gdpr.caller_register_kinds())
     ORDER BY h.kind, h.tenant, h.subject_key, h.id;
END $$;
ALTER FUNCTION gdpr.active_legal_holds(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.active_legal_holds(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.active_legal_holds(text, text, text) TO pgdpr_staff, pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.active_legal_holds(text, text, text) IS 'Active legal holds of the caller''s club';
