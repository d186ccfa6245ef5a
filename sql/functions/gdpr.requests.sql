-- The request register (GDPR Art. 12(3)): a club logs every data-subject request
-- (access, portability, erasure, rectification, restriction, objection) when it
-- arrives, answers within one month, may extend once by up to two further months
-- with a reason recorded before the first deadline, and closes it with the engine
-- actions that answered it (report, export, erasure events) linked as proof.
-- The register keeps keys and codes only and outlives the subject's erasure; the
-- notes people type (how the requester was identified, why the deadline moved) are
-- kept pattern-redacted in gdpr.subject_note and deleted when the subject is erased.

-- A note as it is kept: every CPR- or account-shaped number (the shapes of
-- gdpr.masked_number_pattern(), the same the views mask) replaced by a marker, by
-- pattern, never by comparing with a stored value (no oracle). Inlinable.
CREATE OR REPLACE FUNCTION gdpr.redact_note(p_text pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.left(pg_catalog.regexp_replace(pg_catalog.btrim(p_text), gdpr.masked_number_pattern(),
                                                     '[nummer fjernet]', 'g'), 1000)
$$;
COMMENT ON FUNCTION gdpr.redact_note(text) IS
    'A caller-written note with CPR- and account-shaped numbers replaced by a marker, at most 1000 characters';
REVOKE ALL ON FUNCTION gdpr.redact_note(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.redact_note(text) TO pgdpr_staff, pgdpr_admin, pgdpr_owner;

-- Keep one note (internal: the request, restriction and consent functions call it).
CREATE OR REPLACE FUNCTION gdpr.write_subject_note(p_kind text, p_tenant text, p_subject_key text, p_topic text,
    p_ref_id bigint, p_note text)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO gdpr.subject_note (kind, tenant, subject_key, topic, ref_id, note, written_by)
    SELECT p_kind, COALESCE(p_tenant, ''), p_subject_key, p_topic, p_ref_id, gdpr.redact_note(p_note), gdpr.caller()
     WHERE NULLIF(btrim(p_note), '') IS NOT NULL
$$;
ALTER FUNCTION gdpr.write_subject_note(text, text, text, text, bigint, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.write_subject_note(text, text, text, text, bigint, text) FROM PUBLIC;

-- The notes of one request or restriction, as stored (already redacted).
CREATE OR REPLACE FUNCTION gdpr.subject_notes(p_topics text[], p_ref_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('topic', n.topic, 'note', n.note, 'written_by', n.written_by,
                                                 'written_at', n.written_at) ORDER BY n.id), '[]')
      FROM gdpr.subject_note n
     WHERE n.topic = ANY (p_topics) AND n.ref_id = p_ref_id
$$;
ALTER FUNCTION gdpr.subject_notes(text[], bigint) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.subject_notes(text[], bigint) FROM PUBLIC;

-- The caller must reach a subject kind's register at p_level ('read' or 'write'):
-- an admin always; staff through their groups' register access (gdpr.register_access_of).
CREATE OR REPLACE FUNCTION gdpr.require_register_access(p_kind text, p_level text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_area text;
    v_level text;
BEGIN
    SELECT k.area INTO v_area FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(gdpr.caller_is_admin(), false) THEN
        RETURN;
    END IF;
    v_level := gdpr.register_access_of(gdpr.caller(), v_area);
    IF v_level = 'none' OR (p_level = 'write' AND v_level <> 'write') THEN
        RAISE EXCEPTION 'role % may not % the % register', gdpr.caller(),
            CASE p_level WHEN 'write' THEN 'change' ELSE 'read' END, v_area
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_register_access(text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.require_register_access(text, text) FROM PUBLIC;

-- The one subject p_subject_key of the caller's club (admins: of p_tenant, or of the
-- only club that has it), locked (gdpr.lock_subject); the register keeps '' for "no club".
CREATE OR REPLACE FUNCTION gdpr.request_subject(p_kind text, p_subject_key text, p_tenant text,
    OUT subject_key text, OUT tenant text, OUT anonymized boolean)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.subject_key, COALESCE(l.tenant, ''), l.anonymized
      FROM gdpr.lock_subject(p_kind, gdpr.acting_tenant(p_tenant), p_subject_key) l
$$;
ALTER FUNCTION gdpr.request_subject(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.request_subject(text, text, text) FROM PUBLIC;

-- A request an action answers (consent withdrawal, restriction) must be one of the
-- subject's own (NULL: none named); p_key_as_given is the key as the caller wrote it,
-- for the message.
CREATE OR REPLACE FUNCTION gdpr.require_request_of(p_request_id bigint, p_kind text, p_tenant text,
    p_subject_key text, p_key_as_given text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_request_id IS NOT NULL AND NOT EXISTS (
        SELECT FROM gdpr.dsr_request q WHERE q.id = p_request_id AND q.kind = p_kind
           AND q.tenant = p_tenant AND q.subject_key = p_subject_key) THEN
        RAISE EXCEPTION 'request % not found for % %', p_request_id, p_kind, p_key_as_given
            USING ERRCODE = 'no_data_found';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_request_of(bigint, text, text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.require_request_of(bigint, text, text, text, text) FROM PUBLIC;

-- "Now" for a change to the register: the real clock, or a fixed one an admin passes
-- (tests, replaying a paper register). Staff cannot move the clock: a backdated close
-- or extension would fake a deadline kept.
CREATE OR REPLACE FUNCTION gdpr.request_clock(p_now timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_now IS NOT NULL AND NOT COALESCE(gdpr.caller_is_admin(), false) THEN
        RAISE EXCEPTION 'only an administrator may set the clock of the request register'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN COALESCE(p_now, now());
END $$;
ALTER FUNCTION gdpr.request_clock(timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.request_clock(timestamptz) FROM PUBLIC;

-- The deadline p_months calendar months after receipt, counted in the club's time
-- zone (a letter received 31 January is due 28/29 February).
CREATE OR REPLACE FUNCTION gdpr.request_due(p_received_at timestamptz, p_tenant text, p_months integer)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ((p_received_at AT TIME ZONE gdpr.tenant_time_zone(NULLIF(p_tenant, '')))
            + make_interval(months => p_months)) AT TIME ZONE gdpr.tenant_time_zone(NULLIF(p_tenant, ''))
$$;
ALTER FUNCTION gdpr.request_due(timestamptz, text, integer) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.request_due(timestamptz, text, integer) FROM PUBLIC;

-- The audit actions that answer a request of each type.
CREATE OR REPLACE FUNCTION gdpr.request_answering_actions(p_type text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_type
        WHEN 'access' THEN ARRAY['insight_report', 'export']
        WHEN 'portability' THEN ARRAY['export']
        WHEN 'erasure' THEN ARRAY['anonymize']
        WHEN 'restriction' THEN ARRAY['restriction_set']
        WHEN 'objection' THEN ARRAY['restriction_set', 'consent_withdrawn']
        WHEN 'rectification' THEN ARRAY['rectification']
        ELSE ARRAY[]::text[] END
$$;
REVOKE ALL ON FUNCTION gdpr.request_answering_actions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.request_answering_actions(text) TO pgdpr_owner, pgdpr_admin;

-- Log a request when it arrives. Returns its id. p_received_at defaults to now (a
-- letter received earlier is logged with its real date: the deadline runs from it).
CREATE OR REPLACE FUNCTION gdpr.open_request(p_kind text, p_subject_key text, p_type text, p_verification text,
    p_note text DEFAULT NULL, p_received_at timestamptz DEFAULT NULL, p_tenant text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_subject record;
    v_received timestamptz := COALESCE(p_received_at, now());
    v_id bigint;
BEGIN
    PERFORM gdpr.require_register_access(p_kind, 'write');
    IF p_type IS NULL OR p_type NOT IN ('access', 'portability', 'erasure', 'rectification', 'restriction',
                                        'objection') THEN
        RAISE EXCEPTION 'request type must be access, portability, erasure, rectification, restriction or objection'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_verification IS NULL OR p_verification NOT IN ('in_person_id', 'mitid', 'known_email', 'known_phone',
                                                        'signed_letter', 'other') THEN
        RAISE EXCEPTION 'verification must be in_person_id, mitid, known_email, known_phone, signed_letter or other'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_verification = 'other' AND NULLIF(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION 'verification other needs a note saying how the requester was identified'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_received > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'a request cannot be received in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_subject FROM gdpr.request_subject(p_kind, p_subject_key, p_tenant);
    INSERT INTO gdpr.dsr_request (kind, tenant, subject_key, request_type, received_at, verification, due_at,
                                  opened_by)
    VALUES (p_kind, v_subject.tenant, v_subject.subject_key, p_type, v_received, p_verification,
            gdpr.request_due(v_received, v_subject.tenant, 1), gdpr.caller())
    RETURNING id INTO v_id;
    PERFORM gdpr.write_subject_note(p_kind, v_subject.tenant, v_subject.subject_key, 'request_verification',
                                    v_id, p_note);
    PERFORM gdpr.audit('request_opened', p_kind, NULLIF(v_subject.tenant, ''), v_subject.subject_key, NULL,
                       jsonb_build_object('request_id', v_id, 'type', p_type, 'verification', p_verification,
                                          'received_at', v_received));
    RETURN v_id;
END $$;
ALTER FUNCTION gdpr.open_request(text, text, text, text, text, timestamptz, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.open_request(text, text, text, text, text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.open_request(text, text, text, text, text, timestamptz, text)
    TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.open_request(text, text, text, text, text, timestamptz, text) IS
    'Log a data-subject request (GDPR Art. 12(3)): type, receipt, how the requester was identified; due in one month';

-- One request of the caller's club, locked, for a change at register level p_level.
CREATE OR REPLACE FUNCTION gdpr.request_for_change(p_request_id bigint) RETURNS gdpr.dsr_request
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(NULL);
    v_request gdpr.dsr_request;
BEGIN
    SELECT * INTO v_request FROM gdpr.dsr_request r
     WHERE r.id = p_request_id AND (v_tenant IS NULL OR r.tenant = v_tenant)
     FOR UPDATE;
    IF NOT FOUND THEN  -- another club's request reads as missing, like a wrong number
        RAISE EXCEPTION 'request % not found', p_request_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM gdpr.require_register_access(v_request.kind, 'write');
    RETURN v_request;
END $$;
ALTER FUNCTION gdpr.request_for_change(bigint) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.request_for_change(bigint) FROM PUBLIC;

-- Extend the deadline once, by one or two further months (Art. 12(3)), with the
-- reason recorded before the first deadline passes. Returns the new deadline.
CREATE OR REPLACE FUNCTION gdpr.extend_request(p_request_id bigint, p_months integer, p_reason text,
    p_now timestamptz DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_now timestamptz := gdpr.request_clock(p_now);
    v_request gdpr.dsr_request := gdpr.request_for_change(p_request_id);
    v_due timestamptz;
BEGIN
    IF v_request.status <> 'open' THEN
        RAISE EXCEPTION 'request % is already closed (%)', p_request_id, v_request.status
            USING ERRCODE = 'object_in_use';
    END IF;
    IF v_request.extended_at IS NOT NULL THEN
        RAISE EXCEPTION 'request % was already extended: the deadline can be extended once', p_request_id
            USING ERRCODE = 'object_in_use';
    END IF;
    IF p_months IS NULL OR p_months NOT IN (1, 2) THEN
        RAISE EXCEPTION 'a deadline is extended by 1 or 2 months' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NULLIF(btrim(p_reason), '') IS NULL THEN
        RAISE EXCEPTION 'an extension needs its reason (the requester must be told why)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_now > v_request.due_at THEN
        RAISE EXCEPTION 'request % was due %: an extension must be decided before the first deadline',
            p_request_id, v_request.due_at USING ERRCODE = 'object_in_use';
    END IF;
    v_due := gdpr.request_due(v_request.received_at, v_request.tenant, 1 + p_months);
    UPDATE gdpr.dsr_request SET extended_due_at = v_due, extended_at = v_now, extended_by = gdpr.caller()
     WHERE id = p_request_id;
    PERFORM gdpr.write_subject_note(v_request.kind, v_request.tenant, v_request.subject_key, 'request_extension',
                                    p_request_id, p_reason);
    PERFORM gdpr.audit('request_extended', v_request.kind, NULLIF(v_request.tenant, ''), v_request.subject_key, NULL,
                       jsonb_build_object('request_id', p_request_id, 'months', p_months, 'due_at', v_due));
    RETURN v_due;
END $$;
ALTER FUNCTION gdpr.extend_request(bigint, integer, text, timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.extend_request(bigint, integer, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.extend_request(bigint, integer, text, timestamptz) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.extend_request(bigint, integer, text, timestamptz) IS
    'Extend a request''s deadline once by 1 or 2 months, with a reason, before the first deadline (Art. 12(3))';

-- Close a request: answered (the engine actions that answered it since receipt are
-- linked; access, portability, erasure and restriction need one), refused (Art.
-- 12(4): with the reason in a note) or withdrawn by the requester.
CREATE OR REPLACE FUNCTION gdpr.close_request(p_request_id bigint, p_outcome text DEFAULT 'answered',
    p_note text DEFAULT NULL, p_now timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_now timestamptz := gdpr.request_clock(p_now);
    v_request gdpr.dsr_request := gdpr.request_for_change(p_request_id);
    v_events jsonb;
    v_due timestamptz;
BEGIN
    IF v_request.status <> 'open' THEN
        RAISE EXCEPTION 'request % is already closed (%)', p_request_id, v_request.status
            USING ERRCODE = 'object_in_use';
    END IF;
    IF p_outcome IS NULL OR p_outcome NOT IN ('answered', 'refused', 'withdrawn') THEN
        RAISE EXCEPTION 'a request is closed as answered, refused or withdrawn' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_outcome = 'refused' AND NULLIF(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION 'a refusal needs its reason (GDPR Art. 12(4))' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH answering AS (
        INSERT INTO gdpr.dsr_request_event (request_id, event_id)
        SELECT p_request_id, e.id
          FROM gdpr.audit_event e
         WHERE e.kind = v_request.kind AND COALESCE(e.tenant, '') = v_request.tenant
           AND e.subject_key = v_request.subject_key
           AND e.action = ANY (gdpr.request_answering_actions(v_request.request_type))
           AND e.at >= v_request.received_at
        ON CONFLICT DO NOTHING
        RETURNING event_id
    )
    SELECT COALESCE(jsonb_agg(jsonb_build_object('event_id', e.id, 'action', e.action, 'at', e.at)
                              ORDER BY e.id), '[]')
      INTO v_events
      FROM answering a JOIN gdpr.audit_event e ON e.id = a.event_id;
    IF p_outcome = 'answered' AND jsonb_array_length(v_events) = 0
       AND v_request.request_type IN ('access', 'portability', 'erasure', 'restriction') THEN
        RAISE EXCEPTION 'request % (%) has no % of % % since it was received: answer it first, or close it as refused',
            p_request_id, v_request.request_type,
            array_to_string(gdpr.request_answering_actions(v_request.request_type), ' or '),
            v_request.kind, v_request.subject_key USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    v_due := COALESCE(v_request.extended_due_at, v_request.due_at);
    UPDATE gdpr.dsr_request SET status = p_outcome, closed_at = v_now, closed_by = gdpr.caller()
     WHERE id = p_request_id;
    PERFORM gdpr.write_subject_note(v_request.kind, v_request.tenant, v_request.subject_key, 'request_closing',
                                    p_request_id, p_note);
    PERFORM gdpr.audit('request_closed', v_request.kind, NULLIF(v_request.tenant, ''), v_request.subject_key, NULL,
                       jsonb_build_object('request_id', p_request_id, 'outcome', p_outcome,
                                          'late', v_now > v_due, 'events', v_events));
    RETURN jsonb_build_object('request_id', p_request_id, 'status', p_outcome, 'closed_at', v_now,
                              'due_at', v_due, 'late', v_now > v_due, 'events', v_events);
END $$;
ALTER FUNCTION gdpr.close_request(bigint, text, text, timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.close_request(bigint, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.close_request(bigint, text, text, timestamptz) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.close_request(bigint, text, text, timestamptz) IS
    'Close a request as answered (linking the report, export or erasure that answered it), refused or withdrawn';

-- The register of the caller's club (admins: any club, or the named one), for the
-- subject kinds whose register the caller may read. p_now is the clock "overdue" is
-- measured against (a read: anyone may pass a fixed one).
CREATE OR REPLACE FUNCTION gdpr.list_requests(p_tenant text DEFAULT NULL, p_overdue boolean DEFAULT false,
    p_now timestamptz DEFAULT NULL, p_subject_key text DEFAULT NULL, p_kind text DEFAULT NULL)
RETURNS TABLE (id bigint, kind text, tenant text, subject_key text, request_type text, received_at timestamptz,
               verification text, due_at timestamptz, extended_due_at timestamptz, status text, overdue boolean,
               closed_at timestamptz, answered_late boolean, events jsonb, notes jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_now timestamptz := COALESCE(p_now, now());
    v_kinds text[];
BEGIN
    SELECT COALESCE(array_agg(k.kind), '{}') INTO v_kinds
      FROM gdpr.subject_kind k
     WHERE COALESCE(gdpr.caller_is_admin(), false) OR gdpr.register_access_of(gdpr.caller(), k.area) <> 'none';
    IF cardinality(v_kinds) = 0 THEN
        RAISE EXCEPTION 'role % may not read the request register', gdpr.caller()
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT r.id, r.kind, r.tenant, r.subject_key, r.request_type, r.received_at, r.verification, r.due_at,
           r.extended_due_at, r.status,
           r.status = 'open' AND v_now > COALESCE(r.extended_due_at, r.due_at),
           r.closed_at,
           r.status = 'answered' AND r.closed_at > COALESCE(r.extended_due_at, r.due_at),
           (SELECT COALESCE(jsonb_agg(jsonb_build_object('event_id', e.id, 'action', e.action, 'at', e.at)
                                      ORDER BY e.id), '[]')
              FROM gdpr.dsr_request_event x JOIN gdpr.audit_event e ON e.id = x.event_id
             WHERE x.request_id = r.id),
           gdpr.subject_notes(ARRAY['request_verification', 'request_extension', 'request_closing'], r.id)
      FROM gdpr.dsr_request r
     WHERE r.kind = ANY (v_kinds)
       AND (v_tenant IS NULL OR r.tenant = v_tenant)
       AND (p_kind IS NULL OR r.kind = p_kind)
       AND (p_subject_key IS NULL OR r.subject_key = p_subject_key)
       AND (NOT COALESCE(p_overdue, false)
            OR (r.status = 'open' AND v_now > COALESCE(r.extended_due_at, r.due_at)))
     ORDER BY COALESCE(r.extended_due_at, r.due_at), r.id;
END $$;
ALTER FUNCTION gdpr.list_requests(text, boolean, timestamptz, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.list_requests(text, boolean, timestamptz, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.list_requests(text, boolean, timestamptz, text, text) TO pgdpr_staff, pgdpr_admin;
COMMENT ON FUNCTION gdpr.list_requests(text, boolean, timestamptz, text, text) IS
    'The request register of the caller''s club: deadlines, status, overdue, answered late, linked actions, notes';

-- The register's figures for the record of processing (internal: gdpr.compliance_record).
CREATE OR REPLACE FUNCTION gdpr.request_figures(p_tenant text, p_now timestamptz DEFAULT now()) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'open', count(*) FILTER (WHERE r.status = 'open'),
        'overdue', count(*) FILTER (WHERE r.status = 'open' AND p_now > COALESCE(r.extended_due_at, r.due_at)),
        'answered', count(*) FILTER (WHERE r.status = 'answered'),
        'answered_late', count(*) FILTER (WHERE r.status = 'answered'
                                            AND r.closed_at > COALESCE(r.extended_due_at, r.due_at)),
        'extended', count(*) FILTER (WHERE r.extended_at IS NOT NULL),
        'refused', count(*) FILTER (WHERE r.status = 'refused'),
        'withdrawn', count(*) FILTER (WHERE r.status = 'withdrawn'),
        'by_type', COALESCE((SELECT jsonb_object_agg(t.request_type, t.n)
                               FROM (SELECT q.request_type, count(*) AS n FROM gdpr.dsr_request q
                                      WHERE p_tenant IS NULL OR q.tenant = p_tenant GROUP BY 1) t), '{}'))
      FROM gdpr.dsr_request r
     WHERE p_tenant IS NULL OR r.tenant = p_tenant
$$;
ALTER FUNCTION gdpr.request_figures(text, timestamptz) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.request_figures(text, timestamptz) FROM PUBLIC;

-- When a subject is erased, every note people typed about them goes, with the
-- record of their withdrawn consents (the register row and the restriction codes,
-- which hold no personal value, stay as proof). Set-based, one statement each.
CREATE OR REPLACE FUNCTION gdpr.forget_subject_notes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM gdpr.subject_note n
     USING (SELECT DISTINCT e.kind, COALESCE(e.tenant, '') AS tenant, e.subject_key FROM erased e) e
     WHERE n.kind = e.kind AND n.tenant = e.tenant AND n.subject_key = e.subject_key;
    DELETE FROM gdpr.consent_withdrawal w
     USING (SELECT DISTINCT e.kind, COALESCE(e.tenant, '') AS tenant, e.subject_key FROM erased e) e
     WHERE w.kind = e.kind AND w.tenant = e.tenant AND w.subject_key = e.subject_key;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.forget_subject_notes() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.forget_subject_notes() FROM PUBLIC;
CREATE OR REPLACE TRIGGER erasure_ledger_forget_notes
    AFTER INSERT ON gdpr.erasure_ledger REFERENCING NEW TABLE AS erased
    FOR EACH STATEMENT EXECUTE FUNCTION gdpr.forget_subject_notes();

REVOKE ALL ON gdpr.subject_note, gdpr.dsr_request, gdpr.dsr_request_event FROM PUBLIC;
GRANT SELECT ON gdpr.dsr_request, gdpr.dsr_request_event TO pgdpr_admin;
