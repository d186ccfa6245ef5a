-- Anonymous, not pseudonymous (GDPR Recital 26; WP29 Opinion 05/2014 on anonymisation
-- techniques): after erasure the kept subject row must not single the person out. The
-- measure is k-anonymity among the erased subjects of a tenant: k of an erased subject
-- is the number of erased subjects of its kind and tenant whose kept row holds the same
-- quasi-identifiers (itself included). Someone who knows a person left and what they
-- were like (joined in 2019) can narrow the person's kept row down to k rows, no further.
--
-- Quasi-identifiers: the declared columns of the kind's root table that erasure leaves
-- with a value derived from the person, i.e. with strategy `keep` or `year_only` (the
-- join year). Not counted: `null` and `constant` columns (the same for everyone);
-- `redact` free text (the redaction and the proof answer for it); the key and tenant
-- columns (the link kept rows need: docs/erasure.md); columns the catalog does not
-- declare (not personal data by the catalog's account). Columns with strategy `hash`
-- keep a keyed hash of the person's value, unique by construction: anyone holding the
-- key can confirm a guess, so they are not counted in k but reported as `linkable`:
-- a kept row with a linkable column is pseudonymous whatever k says.
-- Only erased subjects count: a row that still names its person is no cover for an
-- anonymised one.

-- The quasi-identifier and linkable columns of a kind (see above).
CREATE OR REPLACE FUNCTION gdpr.kept_columns(p_kind text, OUT quasi_identifiers name[], OUT linkable name[])
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT COALESCE(array_agg(c.column_name ORDER BY c.column_name) FILTER (WHERE c.erase IN ('keep', 'year_only')), '{}'),
           COALESCE(array_agg(c.column_name ORDER BY c.column_name) FILTER (WHERE c.erase = 'hash'), '{}')
      FROM gdpr.subject_kind s
      JOIN gdpr.catalog_table t ON t.table_schema = s.table_schema AND t.table_name = s.table_name
                               AND t.kind = s.kind AND t.on_erase = 'anonymize'
      JOIN gdpr.catalog_column c ON c.table_schema = s.table_schema AND c.table_name = s.table_name
     WHERE s.kind = p_kind
$$;
ALTER FUNCTION gdpr.kept_columns(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.kept_columns(text) FROM PUBLIC;

-- The erased subjects of a kind as one query over its root table (alias r): tenant,
-- key and the kept quasi-identifiers as a row value `qi`, of one tenant ($1, NULL =
-- every tenant). Generated from the catalog; identifiers quoted.
CREATE OR REPLACE FUNCTION gdpr.erased_rows_sql(p_kind text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_s gdpr.subject_kind;
    v_types record;
    v_qi name[];
BEGIN
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = p_kind;
    SELECT * INTO v_types FROM gdpr.subject_types(p_kind);
    SELECT k.quasi_identifiers INTO v_qi FROM gdpr.kept_columns(p_kind) k;
    RETURN format(
        'SELECT %1$s AS tenant, r.%2$I::text AS subject_key, ROW(%3$s)::text AS qi
           FROM %4$I.%5$I r
          WHERE %6$s
            AND EXISTS (SELECT FROM gdpr.erasure_ledger l
                         WHERE l.kind = %7$L AND l.subject_key = r.%2$I::text AND %8$s)',
        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('r.%I::text', v_s.tenant_column) ELSE 'NULL::text' END,
        v_s.key_column,
        COALESCE((SELECT string_agg(format('r.%I', q), ', ' ORDER BY o) FROM unnest(v_qi) WITH ORDINALITY u(q, o)),
                 ''),
        v_s.table_schema, v_s.table_name,
        CASE WHEN v_s.tenant_column IS NOT NULL
             THEN format('($1::text IS NULL OR r.%I = $1::%s)', v_s.tenant_column, v_types.tenant_type)
             ELSE 'true' END,
        p_kind,
        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('l.tenant = r.%I::text', v_s.tenant_column)
             ELSE 'l.tenant IS NULL' END);
END $$;
ALTER FUNCTION gdpr.erased_rows_sql(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erased_rows_sql(text) FROM PUBLIC;

-- k of one erased subject; NULL when the subject is not erased (or not found).
CREATE OR REPLACE FUNCTION gdpr.k_anonymity(p_kind text, p_subject_key text, p_tenant text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_k integer;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('WITH e AS MATERIALIZED (%s)
                    SELECT count(*)::integer FROM e, (SELECT * FROM e WHERE e.subject_key = $2) s
                     WHERE e.tenant IS NOT DISTINCT FROM s.tenant AND e.qi = s.qi
                    HAVING count(*) > 0', gdpr.erased_rows_sql(p_kind))
       INTO v_k USING v_tenant, p_subject_key;
    RETURN v_k;
END $$;
ALTER FUNCTION gdpr.k_anonymity(text, text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.k_anonymity(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.k_anonymity(text, text, text) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.k_anonymity(text, text, text) IS
    'How many erased subjects of the club share this erased subject''s kept quasi-identifiers (k); NULL if not erased';

-- The figure for a tenant (NULL: every tenant, each its own groups): erased subjects,
-- the smallest k among them, how many are below the target of 5, and which columns
-- count. {"kind", "erased", "k_min", "target", "below_target", "quasi_identifiers", "linkable"}.
CREATE OR REPLACE FUNCTION gdpr.k_anonymity_summary(p_kind text, p_tenant text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tenant text := gdpr.acting_tenant(p_tenant);
    v_cols record;
    v_figures jsonb;
BEGIN
    IF NOT EXISTS (SELECT FROM gdpr.subject_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'unknown subject kind %', quote_literal(p_kind) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO v_cols FROM gdpr.kept_columns(p_kind);
    EXECUTE format('WITH g AS (SELECT count(*) AS n FROM (%s) e GROUP BY e.tenant, e.qi)
                    SELECT jsonb_build_object(''erased'', COALESCE(sum(g.n), 0), ''k_min'', min(g.n),
                                              ''below_target'', COALESCE(sum(g.n) FILTER (WHERE g.n < 5), 0))
                      FROM g', gdpr.erased_rows_sql(p_kind))
       INTO v_figures USING v_tenant;
    RETURN jsonb_build_object('kind', p_kind, 'tenant', v_tenant, 'target', 5,
                              'quasi_identifiers', to_jsonb(v_cols.quasi_identifiers),
                              'linkable', to_jsonb(v_cols.linkable)) || v_figures;
END $$;
ALTER FUNCTION gdpr.k_anonymity_summary(text, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.k_anonymity_summary(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.k_anonymity_summary(text, text) TO pgdpr_erasure, pgdpr_admin;
COMMENT ON FUNCTION gdpr.k_anonymity_summary(text, text) IS
    'Erased subjects of a club, the smallest k among them (target 5) and the kept columns that count';
