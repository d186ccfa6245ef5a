-- The subject kernel: the one place that says which subject a key names, locks it,
-- and whether it is erased. Every entry point that takes a subject key (insight
-- report and export, erasure and its preview, legal holds, the proof) resolves it
-- here, so an unknown key and a key that exists in several clubs give the same
-- error everywhere (docs/architecture.md).

-- The error of a lookup that found p_found subjects for a key (0: not found; more
-- than 1: the key exists in several clubs and the caller, an admin, named none).
-- The message names the key (cut to 40 characters) and the club asked for, nothing
-- about other clubs.
CREATE OR REPLACE FUNCTION gdpr.require_one_subject(p_kind text, p_subject_key text, p_tenant text, p_found bigint)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_found = 0 THEN
        RAISE EXCEPTION '% % not found%', p_kind, left(COALESCE(p_subject_key, ''), 40),
            CASE WHEN p_tenant IS NOT NULL THEN format(' in club %s', p_tenant) ELSE '' END
            USING ERRCODE = 'no_data_found';
    ELSIF p_found > 1 THEN
        RAISE EXCEPTION '% % exists in more than one club: name the club', p_kind, left(p_subject_key, 40)
            USING ERRCODE = 'ambiguous_parameter';
    END IF;
END $$;
ALTER FUNCTION gdpr.require_one_subject(text, text, text, bigint) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.require_one_subject(text, text, text, bigint) FROM PUBLIC;

-- Whether a subject is erased is the engine's fact: an entry in gdpr.erasure_ledger,
-- which only the engine writes (never the subject row's anonymised-at column, which
-- anyone who may write the row could set or clear). A restored backup lacks the
-- entries made after it until `pgdpr ledger replay` erases those subjects again.
CREATE OR REPLACE FUNCTION gdpr.subject_erased(p_kind text, p_tenant text, p_subject_key text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM gdpr.erasure_ledger l
                    WHERE l.kind = p_kind AND l.subject_key = p_subject_key
                      AND (l.tenant = p_tenant OR (l.tenant IS NULL AND p_tenant IS NULL)))
$$;
ALTER FUNCTION gdpr.subject_erased(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.subject_erased(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.subject_erased(text, text, text) IS
    'True when the erasure ledger records the subject as erased; internal';

-- Lock the subject rows (FOR UPDATE, in key order) and classify them. A concurrent
-- insert of a row pointing at a locked subject waits on its foreign key check and
-- is then refused by gdpr.erasure_guard() (see gdpr.erasure_guard.sql).
-- p_tenant NULL = any tenant (admins only; callers resolve that).
CREATE OR REPLACE FUNCTION gdpr.lock_subjects(p_kind text, p_tenant text, p_keys text[])
RETURNS TABLE (subject_key text, tenant text, anonymized boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_anon text;
    v_keys text[] := p_keys;
    v_key text;
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind k WHERE k.kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    BEGIN
        EXECUTE format('SELECT $1::%s[]', v_types.key_type) USING v_keys;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        -- some keys are not even of the key's type: they are simply not found
        v_keys := '{}';
        FOREACH v_key IN ARRAY p_keys LOOP
            BEGIN
                EXECUTE format('SELECT $1::%s', v_types.key_type) USING v_key;
                v_keys := v_keys || v_key;
            EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
                NULL;
            END;
        END LOOP;
    END;
    -- erased: the ledger says so (gdpr.subject_erased), looked up by its index
    v_anon := format('EXISTS (SELECT FROM gdpr.erasure_ledger l WHERE l.kind = %L AND l.subject_key = r.%I::text AND %s)',
                     p_kind, v_s.key_column,
                     CASE WHEN v_s.tenant_column IS NOT NULL THEN format('l.tenant = r.%I::text', v_s.tenant_column)
                          ELSE 'l.tenant IS NULL' END);
    RETURN QUERY EXECUTE format(
            'SELECT r.%1$I::text, %2$s, %3$s FROM %4$I.%5$I r
              WHERE r.%1$I = ANY ($1::%6$s[]) %7$s ORDER BY r.%1$I FOR UPDATE OF r',
            v_s.key_column,
            CASE WHEN v_s.tenant_column IS NOT NULL THEN format('r.%I::text', v_s.tenant_column) ELSE 'NULL::text' END,
            v_anon, v_s.table_schema, v_s.table_name, v_types.key_type,
            CASE WHEN v_s.tenant_column IS NOT NULL
                 THEN format('AND ($2 IS NULL OR r.%I = $2::%s)', v_s.tenant_column, v_types.tenant_type) ELSE '' END)
        USING v_keys, p_tenant;
END $$;
ALTER FUNCTION gdpr.lock_subjects(text, text, text[]) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.lock_subjects(text, text, text[]) FROM PUBLIC;

-- Exactly one subject, locked (gdpr.lock_subjects), or the kernel's error.
CREATE OR REPLACE FUNCTION gdpr.lock_subject(p_kind text, p_tenant text, p_subject_key text,
    OUT subject_key text, OUT tenant text, OUT anonymized boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_found bigint;
BEGIN
    SELECT l.subject_key, l.tenant, l.anonymized, count(*) OVER ()
      INTO subject_key, tenant, anonymized, v_found
      FROM gdpr.lock_subjects(p_kind, p_tenant, ARRAY[p_subject_key]) l LIMIT 1;
    PERFORM gdpr.require_one_subject(p_kind, p_subject_key, p_tenant, COALESCE(v_found, 0));
END $$;
ALTER FUNCTION gdpr.lock_subject(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.lock_subject(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.lock_subject(text, text, text) IS
    'The one subject a key names (in the club, if given), locked; not found or ambiguous raise; internal';

-- Whether a legal hold is in force at an instant: placed before it (or at it, in the
-- placing transaction), not cleared by then, not yet ended. The one definition the
-- erasure, its preview, the rules, the hold listing, the compliance record and the
-- ledger replay use. Inlinable.
CREATE OR REPLACE FUNCTION gdpr.hold_active(p_hold gdpr.legal_hold, p_at pg_catalog.timestamptz)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_hold.created_at OPERATOR(pg_catalog.<=) p_at
       AND (p_hold.cleared_at IS NULL OR p_hold.cleared_at OPERATOR(pg_catalog.>) p_at)
       AND (p_hold.until IS NULL OR p_hold.until OPERATOR(pg_catalog.>) p_at)
$$;
COMMENT ON FUNCTION gdpr.hold_active(gdpr.legal_hold, timestamptz) IS
    'True when a legal hold is in force at the instant: placed, not cleared, not ended';
