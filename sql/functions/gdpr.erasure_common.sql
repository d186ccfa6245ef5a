-- Building blocks of erasure (GDPR Art. 17) and of its proof (Art. 5(2)): keyed
-- hashes with the per-install secret (the `hash` erase strategy, the ledger's
-- signature), the redaction pattern of a subject's identifying values (which the
-- proof matches with too), and the join that attributes a declared table's rows to
-- their subject's key (generated from the catalog).
-- Internal helpers: no grants; the SECURITY DEFINER erasure functions (owner
-- pgdpr_owner) call them. Not SECURITY DEFINER themselves, so they stay inlinable.

-- Keyed hash (hex SHA-256 of salt || value). The salt is gdpr.install_secret.salt,
-- readable by pgdpr_owner only; callers read it once per statement and pass it in.
CREATE OR REPLACE FUNCTION gdpr.keyed_hash(p_value text, p_salt bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(p_salt || pg_catalog.convert_to(p_value, 'UTF8')), 'hex')
$$;
ALTER FUNCTION gdpr.keyed_hash(text, bytea) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.keyed_hash(text, bytea) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.keyed_hash(text, bytea) IS 'Keyed SHA-256 of a value (the hash erase strategy); internal';

CREATE OR REPLACE FUNCTION gdpr.install_salt() RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT s.salt FROM gdpr.install_secret s
$$;
ALTER FUNCTION gdpr.install_salt() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.install_salt() FROM PUBLIC;
COMMENT ON FUNCTION gdpr.install_salt() IS 'The per-install secret salt (readable by pgdpr_owner only); internal';

-- HMAC-SHA256 (RFC 2104) of a message, hex: signs the exported erasure ledger
-- (gdpr.ledger.sql) with the per-install secret, so a crafted or altered entry is
-- refused by the replay. In plain SQL (pgcrypto is not required by the engine).
CREATE OR REPLACE FUNCTION gdpr.hmac_sha256(p_message text, p_key bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH k AS (SELECT CASE WHEN pg_catalog.length(p_key) > 64 THEN pg_catalog.sha256(p_key) ELSE p_key END AS k),
    b AS (SELECT k.k || pg_catalog.decode(pg_catalog.repeat('00', 64 - pg_catalog.length(k.k)), 'hex') AS k FROM k),
    x AS (SELECT pg_catalog.decode(pg_catalog.string_agg(pg_catalog.lpad(pg_catalog.to_hex(
                     pg_catalog.get_byte(b.k, i) # 54), 2, '0'), '' ORDER BY i), 'hex') AS ipad,
                 pg_catalog.decode(pg_catalog.string_agg(pg_catalog.lpad(pg_catalog.to_hex(
                     pg_catalog.get_byte(b.k, i) # 92), 2, '0'), '' ORDER BY i), 'hex') AS opad
            FROM b, pg_catalog.generate_series(0, 63) AS i)
    SELECT pg_catalog.encode(pg_catalog.sha256(x.opad || pg_catalog.sha256(
               x.ipad || pg_catalog.convert_to(p_message, 'UTF8'))), 'hex')
      FROM x
$$;
ALTER FUNCTION gdpr.hmac_sha256(text, bytea) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.hmac_sha256(text, bytea) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.hmac_sha256(text, bytea) IS 'HMAC-SHA256 (hex) of a message; internal';

-- The redaction pattern of one subject, for gdpr.redact: the subject's name values as
-- whole words, its other identifying values (and the full name) anywhere, each escaped,
-- longest first; digits match with or without spaces or dashes between them
-- ('+45 20 24 72 71' = '+4520247271', CPR '010170-1234' = '0101701234'). The two
-- alternations are separated by U+001F. Used by the erasure and by the audit trail's
-- redaction of caller text (the insight report's purpose).
CREATE OR REPLACE FUNCTION gdpr.redact_pattern(p_names text[], p_others text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH vals AS (
        SELECT pg_catalog.btrim(n) AS value, true AS is_word FROM pg_catalog.unnest(p_names) AS n
        UNION ALL
        SELECT pg_catalog.btrim(o), false FROM pg_catalog.unnest(p_others) AS o
        UNION ALL
        SELECT pg_catalog.array_to_string(p_names, ' '), false
         WHERE pg_catalog.cardinality(pg_catalog.array_remove(p_names, NULL)) > 1
    ), q AS (
        SELECT DISTINCT ON (vals.value) vals.value, vals.is_word,
               pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
                   pg_catalog.regexp_replace(pg_catalog.regexp_replace(
                       vals.value, '[[:cntrl:]]', ' ', 'g'), '([0-9])[[:space:]-]+(?=[0-9])', '\1', 'g'),
                   '([^[:alnum:][:space:]])', '\\\1', 'g'), '([0-9])(?=[0-9])', '\1[\\s-]*', 'g'),
                   '\s+', '\\s+', 'g') AS escaped
          FROM vals
         WHERE pg_catalog.length(vals.value) >= CASE WHEN vals.is_word THEN 2 ELSE 3 END
         ORDER BY vals.value, vals.is_word DESC
    )
    SELECT COALESCE(pg_catalog.string_agg(q.escaped, '|' ORDER BY pg_catalog.length(q.value) DESC, q.value)
                        FILTER (WHERE NOT q.is_word), '')
           || E'\x1f'
           || COALESCE('(^|[^[:alnum:]_])(?:'
                       || pg_catalog.string_agg(q.escaped, '|' ORDER BY pg_catalog.length(q.value) DESC, q.value)
                              FILTER (WHERE q.is_word)
                       || ')(?=[^[:alnum:]_]|$)', '')
      FROM q
$$;
COMMENT ON FUNCTION gdpr.redact_pattern(text[], text[]) IS
    'The redaction pattern (for gdpr.redact) of a subject''s name words and other identifying values';

-- One step of gdpr.redact: an empty pattern changes nothing.
CREATE OR REPLACE FUNCTION gdpr.redact_step(p_text text, p_pattern text, p_replacement text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern = '' THEN p_text
                ELSE pg_catalog.regexp_replace(p_text, p_pattern, p_replacement, 'gi') END
$$;

-- Remove every match of a subject's patterns (captured by gdpr.erase_batch) from a text
-- (free text, erase = redact). Inlinable SQL; each pattern compiles once per subject
-- and statement (PostgreSQL caches compiled expressions).
CREATE OR REPLACE FUNCTION gdpr.redact(p_text text, p_pattern text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_text IS NULL THEN p_text
                ELSE gdpr.redact_step(
                         gdpr.redact_step(p_text, pg_catalog.split_part(p_pattern, E'\x1f', 1), '[anonymiseret]'),
                         pg_catalog.split_part(p_pattern, E'\x1f', 2), '\1[anonymiseret]') END
$$;
COMMENT ON FUNCTION gdpr.redact(text, text) IS
    'A text with every match of a subject''s redaction patterns replaced by [anonymiseret]';

CREATE OR REPLACE FUNCTION gdpr.redact(p_value jsonb, p_pattern text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact(p_value::text, p_pattern)::jsonb END
$$;

CREATE OR REPLACE FUNCTION gdpr.redact(p_value json, p_pattern text) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact(p_value::text, p_pattern)::json END
$$;

-- How a declared table's rows (under alias p_alias) reach their subject: extra FROM
-- items (", parent alias_p ..."), the join condition, and the expressions of the
-- row's subject key and tenant. Generated from the catalog; identifiers quoted.
CREATE OR REPLACE FUNCTION gdpr.subject_source(p_schema name, p_table name, p_alias text,
    OUT from_clause text, OUT where_clause text, OUT key_expr text, OUT tenant_expr text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_p record;
    v_palias text := p_alias || '_p';
    v_root_tenant text;
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table %.% is not in the catalog', quote_ident(p_schema), quote_ident(p_table);
    END IF;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    IF v_s.tenant_column IS NOT NULL AND EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = format('%I.%I', p_schema, p_table)::regclass
           AND a.attname = v_s.tenant_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        tenant_expr := format('%I.%I', p_alias, v_s.tenant_column);
    END IF;
    from_clause := '';
    where_clause := 'true';
    CASE v_t.link
    WHEN 'root' THEN
        key_expr := format('%I.%I', p_alias, v_s.key_column);
    WHEN 'direct' THEN
        key_expr := format('%I.%I', p_alias, v_t.link_column);
    WHEN 'via' THEN
        SELECT * INTO v_p FROM gdpr.subject_source(v_t.parent_schema, v_t.parent_name, v_palias);
        from_clause := format(', %I.%I %I', v_t.parent_schema, v_t.parent_name, v_palias) || v_p.from_clause;
        where_clause := format('%I.%I = %I.%I AND ', p_alias, v_t.link_column, v_palias, v_t.parent_column)
            || v_p.where_clause;
        IF tenant_expr IS NOT NULL AND v_p.tenant_expr IS NOT NULL THEN
            where_clause := where_clause || format(' AND %s = %s', tenant_expr, v_p.tenant_expr);
        END IF;
        tenant_expr := COALESCE(tenant_expr, v_p.tenant_expr);
        key_expr := v_p.key_expr;
    WHEN 'owned' THEN
        from_clause := format(', %I.%I %I', v_s.table_schema, v_s.table_name, v_palias);
        where_clause := format('%I.%I = %I.%I', p_alias, v_t.parent_column, v_palias, v_t.link_column);
        IF v_s.tenant_column IS NOT NULL THEN
            v_root_tenant := format('%I.%I', v_palias, v_s.tenant_column);
            IF tenant_expr IS NOT NULL THEN
                where_clause := where_clause || format(' AND %s = %s', tenant_expr, v_root_tenant);
            END IF;
            tenant_expr := COALESCE(tenant_expr, v_root_tenant);
        END IF;
        key_expr := format('%I.%I', v_palias, v_s.key_column);
    END CASE;
END $$;
ALTER FUNCTION gdpr.subject_source(name, name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.subject_source(name, name, text) FROM PUBLIC;
COMMENT ON FUNCTION gdpr.subject_source(name, name, text) IS
    'FROM items, join condition, subject key and tenant expressions of a declared table''s rows; internal';

-- The SQL type names of a kind's key and tenant columns (for typed parameters).
CREATE OR REPLACE FUNCTION gdpr.subject_types(p_kind text, OUT key_type text, OUT tenant_type text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.format_type(k.atttypid, k.atttypmod), pg_catalog.format_type(t.atttypid, t.atttypmod)
      FROM gdpr.subject_kind s
      JOIN pg_catalog.pg_attribute k
        ON k.attrelid = format('%I.%I', s.table_schema, s.table_name)::regclass AND k.attname = s.key_column
      LEFT JOIN pg_catalog.pg_attribute t
        ON t.attrelid = k.attrelid AND t.attname = s.tenant_column
     WHERE s.kind = p_kind
$$;
ALTER FUNCTION gdpr.subject_types(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.subject_types(text) FROM PUBLIC;
