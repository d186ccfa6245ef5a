-- Restriction of processing (GDPR Art. 18): while a subject's accuracy claim, an
-- objection or a legal claim is pending, the data stays but is only stored: no rule
-- acts on the subject, no message is queued or sent, no export goes to a third
-- party. Setting and lifting a restriction is audited; the reason's ground is a code
-- (Art. 18(1)(a)-(d)), the free-text note is pattern-redacted and deletable.

-- Is the subject's processing restricted at p_at? The one answer every feature asks
-- (rules, the outbox, the views' flag, exports to third parties). Not SECURITY
-- DEFINER: callers are the engine's own functions (pgdpr_owner), admins and the
-- views' owner; staff ask gdpr.active_restrictions for their own club.
CREATE OR REPLACE FUNCTION gdpr.subject_restricted(p_kind text, p_tenant text, p_subject_key text,
    p_at timestamptz DEFAULT now())
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT FROM gdpr.processing_restriction r
         WHERE r.kind OPERATOR(pg_catalog.=) p_kind
           AND r.tenant OPERATOR(pg_catalog.=) COALESCE(p_tenant, '')
           AND r.subject_key OPERATOR(pg_catalog.=) p_subject_key
           AND r.lifted_at IS NULL
           AND (r.until IS NULL OR r.until OPERATOR(pg_catalog.>) p_at))
$$;
REVOKE ALL ON FUNCTION gdpr.subject_restricted(text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.subject_restricted(text, text, text, timestamptz)
    TO pgdpr_owner, pgdpr_admin, pgdpr_view_owner;
COMMENT ON FUNCTION gdpr.subject_restricted(text, text, text, timestamptz) IS
    'True while the subject''s processing is restricted (GDPR Art. 18): no rules, messages or third-party exports';

-- The restricted subjects of one kind and club at p_at, for set-based callers (a
-- rule's candidates, an export job) to leave out with one anti-join.
CREATE OR REPLACE FUNCTION gdpr.restricted_subject_keys(p_kind text, p_tenant text, p_at timestamptz DEFAULT now())
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT DISTINCT r.subject_key FROM gdpr.processing_restriction r
     WHERE r.kind OPERATOR(pg_catalog.=) p_kind
       AND r.tenant OPERATOR(pg_catalog.=) COALESCE(p_tenant, '')
       AND r.lifted_at IS NULL
       AND (r.until IS NULL OR r.until OPERATOR(pg_catalog.>) p_at)
$$;
REVOKE ALL ON FUNCTION gdpr.restricted_subject_keys(text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.restricted_subject_keys(text, text, timestamptz) TO pgdpr_owner, pgdpr_admin;
COMMENT ON FUNCTION gdpr.restricted_subject_keys(text, text, timestamptz) IS
    'Keys of the subjects of a kind and club whose processing is restricted at a time';

-- Restrict a subject's processing. Unsent messages queued for the subject are
-- cancelled at once. Returns the restriction's id.
CREATE OR REPLACE FUNCTION gdpr.restrict_processing(p_kind text, p_subject_key text, p_ground text,
    p_note text DEFAULT NULL, p_until timestamptz DEFAULT NULL, p_request_id bigint DEFAULT NULL,
    p_tenant text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_subject record;
    v_id bigint;
    v_cancelled bigint;
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    IF p_ground IS NULL OR p_ground NOT IN ('accuracy_contested', 'unlawful_processing', 'legal_claims',
                                            'objection_pending', 'other') THEN
        RAISE EXCEPTION 'ground must be accuracy_contested, unlawful_processing, legal_claims, objection_pending or other'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_ground = 'other' AND NULLIF(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION 'ground other needs a note' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_until IS NOT NULL AND p_until <= now() THEN
        RAISE EXCEPTION 'a restriction must end in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    IF v_subject.anonymized THEN
        RAISE EXCEPTION '% % is already anonymised', p_kind, p_subject_key USING ERRCODE = 'object_in_use';
    END IF;
    PERFORM gdpr.require_request_of(p_request_id, p_kind, v_subject.tenant, v_subject.subject_key, p_subject_key);
    INSERT INTO gdpr.processing_restriction (kind, tenant, subject_key, ground, request_id, created_by, until)
    VALUES (p_kind, v_subject.tenant, v_subject.subject_key, p_ground, p_request_id, gdpr.caller(), p_until)
    RETURNING id INTO v_id;
    PERFORM gdpr.write_subject_note(p_kind, v_subject.tenant, v_subject.subject_key, 'restriction', v_id, p_note);
    WITH cancelled AS (
        DELETE FROM gdpr.outbox o
         WHERE o.kind = p_kind AND o.tenant = v_subject.tenant AND o.subject_key = v_subject.subject_key
           AND o.sent_at IS NULL
        RETURNING 1)
    SELECT count(*) INTO v_cancelled FROM cancelled;
    PERFORM gdpr.audit('restriction_set', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('restriction_id', v_id, 'ground', p_ground, 'until', p_until,
                                          'request_id', p_request_id, 'messages_cancelled', v_cancelled));
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.restrict_processing(text, text, text, text, timestamptz, bigint, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.restrict_processing(text, text, text, text, timestamptz, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.restrict_processing(text, text, text, text, timestamptz, bigint, text)
    TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.restrict_processing(text, text, text, text, timestamptz, bigint, text) IS
    'Restrict a subject''s processing (GDPR Art. 18): data kept, rules, messages and third-party exports stop';

-- Lift a restriction (Art. 18(3): the subject is told before it is lifted).
CREATE OR REPLACE FUNCTION gdpr.lift_restriction(p_restriction_id bigint, p_note text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(NULL);
    v_r gdpr.processing_restriction;
BEGIN
    SELECT * INTO v_r FROM gdpr.processing_restriction r
     WHERE r.id = p_restriction_id AND (v_tenant IS NULL OR r.tenant = v_tenant)
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'restriction % not found', p_restriction_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM gdpr.require_register_access(v_r.kind, 'write');
    IF v_r.lifted_at IS NOT NULL THEN
        RAISE EXCEPTION 'restriction % was already lifted', p_restriction_id USING ERRCODE = 'object_in_use';
    END IF;
    UPDATE gdpr.processing_restriction SET lifted_at = now(), lifted_by = gdpr.caller() WHERE id = p_restriction_id;
    PERFORM gdpr.write_subject_note(v_r.kind, v_r.tenant, v_r.subject_key, 'restriction_lifted', p_restriction_id,
                                    p_note);
    PERFORM gdpr.audit('restriction_lifted', v_r.kind, NULLIF(v_r.tenant, ''), v_r.subject_key, NULL,
                       jsonb_build_object('restriction_id', p_restriction_id, 'ground', v_r.ground));
END $$;
ALTER FUNCTION gdpr.lift_restriction(bigint, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.lift_restriction(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.lift_restriction(bigint, text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.lift_restriction(bigint, text) IS 'Lift a restriction of processing (audited)';

-- Active restrictions of the caller's club (admins: any club, or the named one).
CREATE OR REPLACE FUNCTION gdpr.active_restrictions(p_kind text DEFAULT NULL, p_subject_key text DEFAULT NULL,
    p_tenant text DEFAULT NULL)
RETURNS TABLE (id bigint, kind text, tenant text, subject_key text, ground text, request_id bigint,
               created_by name, created_at timestamptz, until timestamptz, notes jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
BEGIN
    RETURN QUERY
    SELECT r.id, r.kind, r.tenant, r.subject_key, r.ground, r.request_id, r.created_by, r.created_at, r.until,
           gdpr.subject_notes(ARRAY['restriction'], r.id)
      FROM gdpr.processing_restriction r
      JOIN gdpr.subject_kind k ON k.kind = r.kind
     WHERE r.lifted_at IS NULL AND (r.until IS NULL OR r.until > now())
       AND (p_kind IS NULL OR r.kind = p_kind)
       AND (p_subject_key IS NULL OR r.subject_key = p_subject_key)
       AND (v_tenant IS NULL OR r.tenant = v_tenant)
       AND (COALESCE(gdpr.caller_is_admin(), false) OR gdpr.register_access_of(gdpr.caller(), k.area) <> 'none')
     ORDER BY r.kind, r.tenant, r.subject_key, r.id;
END $$;
ALTER FUNCTION gdpr.active_restrictions(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.active_restrictions(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.active_restrictions(text, text, text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.active_restrictions(text, text, text) IS
    'Active restrictions of processing of the caller''s club (GDPR Art. 18)';

-- No message is queued for a restricted subject, nor one a withdrawn consent
-- covered (the queue_message action and any other writer of the outbox): the row is
-- skipped, so the action reports only what it really queued.
CREATE OR REPLACE FUNCTION gdpr.outbox_respects_restriction() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF gdpr.subject_restricted(NEW.kind, NEW.tenant, NEW.subject_key)
       OR gdpr.consent_withdrawn_for_template(NEW.kind, NEW.tenant, NEW.subject_key, NEW.template) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
ALTER FUNCTION gdpr.outbox_respects_restriction() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.outbox_respects_restriction() FROM PUBLIC;
CREATE OR REPLACE TRIGGER outbox_respects_restriction
    BEFORE INSERT ON gdpr.outbox FOR EACH ROW EXECUTE FUNCTION gdpr.outbox_respects_restriction();

REVOKE ALL ON gdpr.processing_restriction FROM PUBLIC;
GRANT SELECT ON gdpr.processing_restriction TO pgdpr_admin, pgdpr_view_owner;
