-- Actions of trigger rules (docs/rules.md: "WHAT happens"). An action is a function applied
-- to one batch of subject keys, set-based:
--   f(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text,
--     p_subject_keys text[], p_params jsonb) RETURNS TABLE (subject_key text, outcome text, detail jsonb)
-- Outcomes: 'failed' is an error, 'anonymized', 'queued' and 'done' change the
-- subject, anything else ('held', 'already_anonymized', 'not_found', ...) is a skip
-- counted under that reason. Actions run as pgdpr_owner, so only functions owned by
-- pgdpr_owner or a superuser are accepted (gdpr.rule_trusted_function, checked at
-- registration and at every call). An action that erases must be registered with
-- erases = true: the rule functions then let only admins and members of
-- pgdpr_erasure put it in a rule, enable or run it.

-- anonymise: the set form of the erasure (GDPR Art. 17, docs/erasure.md), gdpr.anonymize_many.
-- Rules run with their author's rights: the caller (the ticker, or whoever runs the
-- rule by hand) and the rule's author must both hold the erasure right, checked here
-- too, so that an erasing function registered under a name marked non-erasing still
-- erases nothing for an author without the right. The erasure ledger names the rule
-- (rule_id) and its author (actor): the erasure is the author's decision, whoever's
-- session carried it out (the audit trail keeps that one).
CREATE OR REPLACE FUNCTION gdpr.action_anonymise(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text,
                                                 p_subject_keys text[], p_params jsonb)
RETURNS TABLE (subject_key text, outcome text, detail jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_author name := (SELECT r.author FROM gdpr.rule r WHERE r.id = p_rule_id);
    v_result jsonb;
BEGIN
    IF NOT gdpr.rule_caller_may_erase() OR v_author IS NULL OR NOT gdpr.rule_role_may_erase(v_author) THEN
        RAISE EXCEPTION 'only admins and members of pgdpr_erasure may anonymise through a rule, and only through a rule whose author may (caller %, author %)',
            gdpr.caller(), COALESCE(v_author::text, 'unknown') USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF to_regprocedure('gdpr.anonymize_many(text,text,text[],text,bigint)') IS NULL THEN
        RAISE EXCEPTION 'action anonymise needs gdpr.anonymize_many (the erasure functions): run pgdpr migrate'
            USING ERRCODE = 'undefined_function';
    END IF;
    EXECUTE 'SELECT COALESCE(jsonb_agg(jsonb_build_object(''k'', a.subject_key::text, ''o'', a.outcome::text,'
            ' ''d'', a.detail::jsonb)), ''[]'') FROM gdpr.anonymize_many($1, $2, $3, $4, $5) a'
        INTO v_result
        USING p_kind, p_tenant, p_subject_keys,
              COALESCE(p_params ->> 'reason', format('automatic anonymisation, rule %s', p_rule_id)), p_rule_id;
    -- the ledger entries this call wrote (same transaction, same now()) name the author
    UPDATE gdpr.erasure_ledger l SET actor = v_author
     WHERE l.kind = p_kind AND l.tenant IS NOT DISTINCT FROM p_tenant AND l.rule_id = p_rule_id
       AND l.erased_at = now() AND l.actor = gdpr.caller() AND l.actor <> v_author
       AND l.subject_key IN (SELECT e ->> 'k' FROM jsonb_array_elements(v_result) e WHERE e ->> 'o' = 'anonymized');
    RETURN QUERY SELECT e ->> 'k', e ->> 'o', e -> 'd' FROM jsonb_array_elements(v_result) e;
END $$;

-- queue_message: a message per subject in gdpr.outbox (the seed's birthday-mail
-- example); it changes no personal data and shows the trigger system is general. It
-- acts on the register (a message to each subject): the caller's register access is
-- checked here too, beside gdpr.run_batch's check.
CREATE OR REPLACE FUNCTION gdpr.action_queue_message(p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text,
                                                     p_subject_keys text[], p_params jsonb)
RETURNS TABLE (subject_key text, outcome text, detail jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gdpr.rule_require_register_access(p_kind);
    RETURN QUERY
    WITH queued AS (
        INSERT INTO gdpr.outbox AS o (rule_id, run_id, kind, tenant, subject_key, template, payload)
        SELECT p_rule_id, p_run_id, p_kind, p_tenant, k.key, p_params ->> 'template',
               COALESCE(p_params -> 'payload', '{}')
          FROM unnest(p_subject_keys) AS k(key)
        RETURNING o.subject_key, o.id
    )
    SELECT q.subject_key, 'queued'::text, jsonb_build_object('outbox_id', q.id) FROM queued q;
END $$;

-- Register an action (DBA): a function owned by pgdpr_owner or a superuser; p_erases
-- true for any action that erases or anonymises personal data.
CREATE OR REPLACE FUNCTION gdpr.register_action(p_name text, p_function regproc, p_description text,
                                                p_erases boolean DEFAULT false, p_params jsonb DEFAULT '{}',
                                                p_subject_table text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_name text := p_function::text;
BEGIN
    IF to_regprocedure(v_name || '(bigint,bigint,text,text,text[],jsonb)') IS NULL THEN
        RAISE EXCEPTION 'action function % must take (p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text, p_subject_keys text[], p_params jsonb)',
            v_name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM gdpr.rule_trusted_function(v_name, 'bigint,bigint,text,text,text[],jsonb', 'action', p_name);
    INSERT INTO gdpr.rule_action (name, function, subject_table, erases, description, params)
    VALUES (p_name, v_name, p_subject_table, COALESCE(p_erases, false), p_description, COALESCE(p_params, '{}'))
    ON CONFLICT (name) DO UPDATE SET function = excluded.function, subject_table = excluded.subject_table,
        erases = excluded.erases, description = excluded.description, params = excluded.params;
    PERFORM gdpr.audit('rule_action_register', NULL, NULL, NULL, NULL,
                       jsonb_build_object('action', p_name, 'function', v_name));
END $$;
ALTER FUNCTION gdpr.register_action(text, regproc, text, boolean, jsonb, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.register_action(text, regproc, text, boolean, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.register_action(text, regproc, text, boolean, jsonb, text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.register_action(text, regproc, text, boolean, jsonb, text) IS
    'Register (or replace) a named rule action: a function applied to a batch of subject keys';

ALTER FUNCTION gdpr.action_anonymise(bigint, bigint, text, text, text[], jsonb) OWNER TO pgdpr_owner;
ALTER FUNCTION gdpr.action_queue_message(bigint, bigint, text, text, text[], jsonb) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.action_anonymise(bigint, bigint, text, text, text[], jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION gdpr.action_queue_message(bigint, bigint, text, text, text[], jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.action_anonymise(bigint, bigint, text, text, text[], jsonb) TO pgdpr_owner;
GRANT EXECUTE ON FUNCTION gdpr.action_queue_message(bigint, bigint, text, text, text[], jsonb) TO pgdpr_owner;
COMMENT ON FUNCTION gdpr.action_anonymise(bigint, bigint, text, text, text[], jsonb) IS
    'Action anonymise: gdpr.anonymize_many for a batch of subjects (irreversible)';
COMMENT ON FUNCTION gdpr.action_queue_message(bigint, bigint, text, text, text[], jsonb) IS
    'Action queue_message: one message per subject in gdpr.outbox (params: template, payload)';

INSERT INTO gdpr.rule_action (name, function, subject_table, erases, description, params) VALUES
    ('anonymise', 'gdpr.action_anonymise', NULL, true,
     'Anonymise the subject (irreversible; GDPR Art. 17)',
     '{"reason": {"type": "text", "default": null, "description": "reason recorded in the erasure ledger"}}'),
    ('queue_message', 'gdpr.action_queue_message', NULL, false,
     'Queue a message to the subject in gdpr.outbox (e.g. a birthday mail)',
     '{"template": {"type": "text", "required": true, "description": "message template name"},
       "payload": {"type": "object", "default": null, "description": "extra data for the template"}}')
ON CONFLICT (name) DO UPDATE SET function = excluded.function, subject_table = excluded.subject_table,
    erases = excluded.erases, description = excluded.description, params = excluded.params;
