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


-- Redaction of free text (erase = redact) as staff write it. Independent of the
-- database's LC_CTYPE: in a 'C' database the regular expressions' case-insensitive
-- flag and [[:alnum:]] know ASCII only, so lower-case æøå would not match Æ, Ø, Å and
-- would not count as letters. The patterns are matched with the flag (it folds ASCII
-- letters everywhere) and spell out the case variants of the others ([æÆ], [øØ],
-- [åÅ], [éÉ] ...: an explicit mapping, no ICU); word characters are explicit classes
-- of code points, not the locale's classes.
--
-- Word characters: digits, ASCII letters, and the letters of Latin-1 and Latin
-- Extended (U+00C0..U+024F without × and ÷). What may stand between two digits of a
-- number ('20 99 88 77', '20-99-88-77', '27.07.52-4890', '(20) 99 88 77'): white
-- space, dots, slashes, brackets, underscores, dashes (gdpr.masked_number_pattern()
-- allows any five non-alphanumerics; a class and a plain * compile to a far smaller
-- automaton than a bounded repeat, and every subject's pattern is compiled per
-- statement). gdpr.mention_text removes all of them (all non-word characters).

-- Lower case by an explicit mapping (ASCII and Latin-1), not by the locale.
CREATE OR REPLACE FUNCTION gdpr.redact_fold(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.translate(p_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ',
                                        'abcdefghijklmnopqrstuvwxyzàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþ')
$$;
COMMENT ON FUNCTION gdpr.redact_fold(text) IS
    'Lower case of ASCII and Latin-1 letters by an explicit mapping, whatever the database''s LC_CTYPE';

-- Upper case, the same mapping reversed.
CREATE OR REPLACE FUNCTION gdpr.redact_upper(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.translate(p_text, 'abcdefghijklmnopqrstuvwxyzàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþ',
                                        'ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ')
$$;

-- A text reduced to what the redaction's patterns compare: lower case (explicit
-- mapping), æ ø å written ae oe aa, everything that is not a word character removed
-- ('Hr. Ørnsholt-Bæk, tlf. 20 99 88 77' -> 'hroernsholtbaektlf20998877'). Whatever a
-- subject's mention pattern matches contains one of its keys (gdpr.redact_capture) in
-- this form, so a trigram index on it finds the candidate rows of other subjects
-- (gdpr.mentions.sql). Inlinable; operators and functions qualified. Changing it
-- changes the indexed values: gdpr.install_mention_indexes() rebuilds the indexes.
CREATE OR REPLACE FUNCTION gdpr.mention_text(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.regexp_replace(
               pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(gdpr.redact_fold(p_text),
                   'æ', 'ae'), 'ø', 'oe'), 'å', 'aa'),
               '[^0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+', '', 'g')
$$;
COMMENT ON FUNCTION gdpr.mention_text(text) IS
    'A text as the mention search compares it: folded, æøå transliterated, separators removed';

-- The regular expression of one literal value, to be matched with the 'i' flag: æ ø å
-- in both cases ([æÆ]: the flag folds ASCII letters only in a 'C' database) and also
-- as staff type them without a Danish keyboard (ae, oe, aa), 'aa' also as å
-- (Østergaard = Østergård), é ü ö ä in both cases; white space and hyphens between
-- words as any run of them (Ørnsholt-Bæk = Ørnsholt Bæk); digits with or without
-- separators between them ('+45 20 99 88 77' = '+4520998877', '010170-1234' =
-- '0101701234' = '01 01 70 12 34'); anything else escaped. One expression of string
-- functions (inlinable): it runs for every form of every subject of a batch.
-- Placeholders U+0001..U+0005 keep one step's output from the next step's reach.
CREATE OR REPLACE FUNCTION gdpr.redact_literal(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
           pg_catalog.regexp_replace(pg_catalog.translate(pg_catalog.regexp_replace(
               p_value,
               '([0-9])[^0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+(?=[0-9])', '\1', 'g'),
               'ÆØÅÉÜÖÄ', 'æøåéüöä'),
               '([^0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\s\u00a0-])', '\\\1', 'g'),
               '[\s\u00a0-]+', E'\x01', 'g'),
               '([0-9])(?=[0-9])', E'\\1\x02', 'g'),
               '[aA][aA]', E'\x03', 'g'),
               'æ', E'\x04'), 'ø', E'\x05'), 'å', '(?:[åÅ]|aa)'),
               'é', '[éÉ]'), 'ü', '[üÜ]'), 'ö', '[öÖ]'), 'ä', '[äÄ]'),
               E'\x04', '(?:[æÆ]|ae)'), E'\x05', '(?:[øØ]|oe)'), E'\x03', '(?:aa|[åÅ])'),
               E'\x01', '[\s\u00a0-]+'), E'\x02', '[\s\u00a0./()_\u2013-]*')
$$;
COMMENT ON FUNCTION gdpr.redact_literal(text) IS
    'Regular expression (flag i) of a literal value as staff write it: æøå, digit separators, spaces or hyphens';

-- The boundaries of a form: a value that starts (ends) with a letter must not touch
-- another letter or digit there, one that starts (ends) with a digit must not touch
-- another digit (letters may touch it: 'CPR2707524890', 'tlf20998877').
CREATE OR REPLACE FUNCTION gdpr.redact_bounded(p_first text, p_regex text, p_last text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_first OPERATOR(pg_catalog.~) '^[0-9]' THEN '(?<![0-9])'
                WHEN p_first OPERATOR(pg_catalog.~) '^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]'
                    THEN '(?<![0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f])' ELSE '' END
           OPERATOR(pg_catalog.||) p_regex
           OPERATOR(pg_catalog.||) CASE WHEN p_last OPERATOR(pg_catalog.~) '[0-9]$' THEN '(?![0-9])'
                   WHEN p_last OPERATOR(pg_catalog.~) '[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]$'
                       THEN '(?![0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f])' ELSE '' END
$$;

-- Every form in which a subject's identifying values are searched, with the key the
-- mention search looks for (a LIKE pattern over gdpr.mention_text) and whether the
-- form is specific enough to be removed from OTHER subjects' rows too (mention) or
-- only from the subject's own rows. Inputs: the name values (columns of category
-- 'name', in order: the last one is the family name), the other values (e-mail,
-- phone, CPR, customer number, member card, key fob, bank and address values), and
-- groups of values written together, joined by U+001F (registration and account
-- number; street, postcode and city), each run of two or more in order.
--   names, own rows: each part of two or more letters (Ørnsholt, Bæk), with or
--     without a title (Hr., Fru, Frk.) and in the genitive (Østergaards, Bæk's);
--   names, mentions: a given name (each, or all) with the family name (whole, or each
--     part), a family name of several parts, a title with the family name (whole, or
--     each part);
--   e-mail: whole (mention); its local part (mention when 5 or more characters and not
--     just a name, else own rows);
--   numbers: Danish phone numbers with or without +45/0045; CPR also with a four-digit
--     year (27071952-4890) and as YYYY-MM-DD SSSS; 6 or more digits are a mention,
--     3 to 5 (a registration number, a postcode) only in own rows;
--   other values: with a digit and 4 or more characters (an address line, a customer
--     number, a card) a mention, else (a city) own rows only, from 3 characters;
--   values written together: a mention when one of them is (account, address line),
--     else own rows only (postcode and city).
CREATE OR REPLACE FUNCTION gdpr.redact_forms(p_names text[], p_others text[], p_groups text[] DEFAULT '{}')
RETURNS TABLE (regex text, like_keys text[], mention boolean, weight integer)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    -- the planner's row estimates of unnest and regexp_split_to_table (10, 1000) make
    -- this small query look expensive enough to JIT-compile: seconds for microseconds;
    -- and planning it afresh for each subject (a custom plan) costs more than running it
    SET jit = off SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    WITH parts AS (
        SELECT n.i, w.j, w.word, n.i = max(n.i) OVER () AS family
          FROM unnest(p_names) WITH ORDINALITY AS n(v, i),
               LATERAL regexp_split_to_table(btrim(n.v), '[\s\u00a0-]+') WITH ORDINALITY AS w(word, j)
         WHERE length(w.word) >= 2
    ), given AS (
        SELECT p.word AS g FROM parts p WHERE NOT p.family
        UNION
        SELECT string_agg(p.word, ' ' ORDER BY p.i, p.j) FROM parts p WHERE NOT p.family HAVING count(*) > 1
    ), fam AS (
        SELECT p.word AS f, false AS whole FROM parts p WHERE p.family
        UNION
        SELECT string_agg(p.word, ' ' ORDER BY p.j), true FROM parts p WHERE p.family HAVING count(*) > 1
    ), title AS (
        SELECT '(?:hr|fru|frk)(?:\.[\s\u00a0]*|[\s\u00a0]+)' AS t
    ), vals AS (
        SELECT btrim(o) AS v FROM unnest(p_others) AS o WHERE btrim(o) <> ''
    ), nums AS (  -- values written as numbers: their digits; Danish phone numbers without +45
        SELECT v.v, CASE WHEN v.v ~ '^\s*(\+|00)\s*45' AND length(regexp_replace(v.v, '[^0-9]', '', 'g'))
                                  = CASE WHEN v.v ~ '^\s*00' THEN 12 ELSE 10 END
                         THEN right(regexp_replace(v.v, '[^0-9]', '', 'g'), 8)
                         ELSE regexp_replace(v.v, '[^0-9]', '', 'g') END AS core,
               v.v ~ '^\s*(\+|00)\s*45' AS dk_prefix
          FROM vals v
         WHERE v.v ~ '^[\s\u00a0]*\+?[0-9][0-9\s\u00a0().\/-]*$'
    )
    -- names in the subject's own rows: every part, with or without a title, genitive too
    SELECT gdpr.redact_bounded(p.word, '(?:' || title.t || ')?' || gdpr.redact_literal(p.word) || '(?:[''\u2019]?s)?', 'a'),
           NULL::text[], false, length(p.word)
      FROM parts p, title
    UNION ALL  -- a given name with the family name (whole or a part): a mention
    SELECT gdpr.redact_bounded(g.g, gdpr.redact_literal(g.g || ' ' || f.f) || '(?:[''\u2019]?s)?', 'a'),
           ARRAY['%' || gdpr.mention_text(g.g || f.f) || '%'], true, length(g.g || f.f) + 1
      FROM given g, fam f
    UNION ALL  -- a family name of several words, whole (Ørnsholt-Bæk)
    SELECT gdpr.redact_bounded(f.f, gdpr.redact_literal(f.f) || '(?:[''\u2019]?s)?', 'a'),
           ARRAY['%' || gdpr.mention_text(f.f) || '%'], true, length(f.f)
      FROM fam f WHERE f.whole
    UNION ALL  -- a title with the family name (whole or a part): a mention
    SELECT gdpr.redact_bounded('a', title.t || gdpr.redact_literal(f.f) || '(?:[''\u2019]?s)?', 'a'),
           ARRAY['%hr' || gdpr.mention_text(f.f) || '%', '%fru' || gdpr.mention_text(f.f) || '%',
                 '%frk' || gdpr.mention_text(f.f) || '%'], true, length(f.f) + 3
      FROM fam f, title
    UNION ALL  -- e-mail addresses, whole
    SELECT gdpr.redact_bounded(v.v, gdpr.redact_literal(v.v), v.v),
           ARRAY['%' || gdpr.mention_text(v.v) || '%'], true, length(v.v)
      FROM vals v WHERE strpos(v.v, '@') > 0
    UNION ALL  -- and their local part
    SELECT gdpr.redact_bounded(l.l, gdpr.redact_literal(l.l), l.l),
           ARRAY['%' || gdpr.mention_text(l.l) || '%'], length(l.l) >= 5, length(l.l)
      FROM (SELECT split_part(v.v, '@', 1) AS l FROM vals v WHERE strpos(v.v, '@') > 0) l
     WHERE length(l.l) >= 3
       AND gdpr.redact_fold(l.l) NOT IN (SELECT gdpr.redact_fold(p.word) FROM parts p)
    UNION ALL  -- numbers (phone, CPR, account, customer number written as digits ...)
    SELECT gdpr.redact_bounded(CASE WHEN n.dk_prefix THEN '+' ELSE n.core END,
               CASE WHEN n.dk_prefix
                    THEN '(?:(?:\+|00)[\s\u00a0./()_\u2013-]*4'
                         || '[\s\u00a0./()_\u2013-]*5'
                         || '[\s\u00a0./()_\u2013-]*)?'
                    WHEN n.v ~ '^\s*\+' THEN '\+?' ELSE '' END
               || CASE WHEN length(n.core) = 10 AND n.core ~ '^[0-3][0-9][01][0-9]'
                       -- a CPR number: DDMMYY SSSS, also DDMM19YY SSSS
                       THEN gdpr.redact_literal(left(n.core, 4))
                            || '[\s\u00a0./()_\u2013-]*(?:(?:19|20)'
                            || '[\s\u00a0./()_\u2013-]*)?'
                            || gdpr.redact_literal(substr(n.core, 5))
                       ELSE gdpr.redact_literal(n.core) END, n.core),
           CASE WHEN length(n.core) = 10 AND n.core ~ '^[0-3][0-9][01][0-9]'
                THEN ARRAY['%' || left(n.core, 4) || '%' || substr(n.core, 5) || '%']
                ELSE ARRAY['%' || n.core || '%'] END,
           length(n.core) >= 6, length(n.core)
      FROM nums n WHERE length(n.core) >= 3
    UNION ALL  -- a CPR number as YYYY-MM-DD SSSS
    SELECT gdpr.redact_bounded('1', '(?:19|20)[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(substr(n.core, 5, 2)) || '[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(substr(n.core, 3, 2)) || '[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(left(n.core, 2)) || '[\s\u00a0./()_\u2013-]*'
               || gdpr.redact_literal(right(n.core, 4)), '0'),
           ARRAY['%' || substr(n.core, 5, 2) || '%' || substr(n.core, 3, 2) || left(n.core, 2) || '%'
                 || right(n.core, 4) || '%'], true, 12
      FROM nums n WHERE length(n.core) = 10 AND n.core ~ '^[0-3][0-9][01][0-9]'
    UNION ALL  -- everything else: customer number, member card, key fob, address line, city
    SELECT gdpr.redact_bounded(v.v, gdpr.redact_literal(v.v), v.v),
           ARRAY['%' || gdpr.mention_text(v.v) || '%'],
           v.v ~ '[0-9]' AND length(v.v) >= 4, length(v.v)
      FROM vals v
     WHERE strpos(v.v, '@') = 0 AND length(v.v) >= 3 AND NOT EXISTS (SELECT FROM nums n WHERE n.v = v.v)
    UNION ALL  -- values written together (every run of two or more of a group, in order):
               -- registration and account number; street, postcode and city
    SELECT gdpr.redact_bounded(r.a[1], (SELECT string_agg(gdpr.redact_literal(x),
               '[\s\u00a0.,/()_\u2013-]*' ORDER BY o) FROM unnest(r.a) WITH ORDINALITY AS u(x, o)),
               r.a[cardinality(r.a)]),
           ARRAY['%' || gdpr.mention_text(array_to_string(r.a, '')) || '%'],
           -- a mention when one of the run is (an account, an address line), not for a
           -- postcode and city, which thousands share
           EXISTS (SELECT FROM unnest(r.a) AS x
                    WHERE length(regexp_replace(x, '[^0-9]', '', 'g')) >= 6
                       OR (x ~ '[0-9]' AND x ~ '[^0-9\s.,/()+-]' AND length(x) >= 4)),
           length(array_to_string(r.a, ' '))
      FROM (SELECT DISTINCT g.a[i:j] AS a
              FROM (SELECT array_remove(ARRAY(SELECT NULLIF(btrim(x), '')
                                                FROM unnest(string_to_array(p, E'\x1f')) WITH ORDINALITY AS e(x, o)
                                               ORDER BY o), NULL) AS a
                      FROM unnest(p_groups) AS p) g,
                   generate_series(1, cardinality(g.a)) AS i, generate_series(1, cardinality(g.a)) AS j
             WHERE j >= i + 1) r
    ;
END $$;
COMMENT ON FUNCTION gdpr.redact_forms(text[], text[], text[]) IS
    'The forms (regular expressions) in which a subject''s identifying values are redacted, with their mention keys';

-- A subject's redaction pattern and mention keys (gdpr.erase_batch captures them
-- before anything changes). The pattern is two alternations joined by U+001F: first
-- the forms that are removed from every row of the tenant (mentions), then those
-- removed from the subject's own rows only (a first name alone, a postcode alone,
-- a registration number alone: other subjects share them). Longest first.
CREATE OR REPLACE FUNCTION gdpr.redact_capture(p_names text[], p_others text[], p_groups text[] DEFAULT '{}',
    OUT pattern text, OUT mention_keys text[])
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
    WITH f AS MATERIALIZED (SELECT * FROM gdpr.redact_forms(p_names, p_others, p_groups))
    SELECT COALESCE(string_agg(f.regex, '|' ORDER BY f.weight DESC, f.regex) FILTER (WHERE f.mention), '')
           || E'\x1f'
           || COALESCE(string_agg(f.regex, '|' ORDER BY f.weight DESC, f.regex) FILTER (WHERE NOT f.mention), ''),
           -- a key that contains another one finds nothing more: each key is a GIN scan
           COALESCE((SELECT array_agg(k.k ORDER BY k.k)
                       FROM (SELECT DISTINCT u.k FROM f g, unnest(g.like_keys) AS u(k)
                              WHERE g.mention AND length(u.k) >= 5) k
                      WHERE NOT EXISTS (SELECT FROM f g2, unnest(g2.like_keys) AS o(k)
                                         WHERE g2.mention AND length(o.k) >= 5 AND o.k <> k.k
                                           AND k.k LIKE o.k)), '{}')
      INTO pattern, mention_keys
      FROM (SELECT DISTINCT ON (r.regex) r.* FROM f r ORDER BY r.regex, r.mention DESC) f;
END $$;
COMMENT ON FUNCTION gdpr.redact_capture(text[], text[], text[]) IS
    'A subject''s redaction pattern (for gdpr.redact) and the keys of its mention search';

-- The redaction pattern alone (used by the erasure and by the audit trail's
-- redaction of caller text).
CREATE OR REPLACE FUNCTION gdpr.redact_pattern(p_names text[], p_others text[], p_groups text[] DEFAULT '{}')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT c.pattern FROM gdpr.redact_capture(p_names, p_others, p_groups) c
$$;
COMMENT ON FUNCTION gdpr.redact_pattern(text[], text[], text[]) IS
    'The redaction pattern (for gdpr.redact) of a subject''s name words and other identifying values';

-- One step of gdpr.redact: an empty pattern changes nothing. The 'i' flag folds ASCII
-- letters in every database; the pattern spells out the cases of the others.
CREATE OR REPLACE FUNCTION gdpr.redact_step(p_text text, p_pattern text, p_replacement text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern OPERATOR(pg_catalog.=) '' THEN p_text
                ELSE pg_catalog.regexp_replace(p_text, p_pattern, p_replacement, 'gi') END
$$;

-- Remove every match of a subject's patterns (captured by gdpr.erase_batch) from a text
-- of the subject's own rows (free text, erase = redact). Inlinable SQL; each pattern
-- compiles once per subject and statement (PostgreSQL caches compiled expressions).
CREATE OR REPLACE FUNCTION gdpr.redact(p_text text, p_pattern text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_text IS NULL THEN p_text
                ELSE gdpr.redact_step(
                         gdpr.redact_step(p_text, pg_catalog.split_part(p_pattern, E'\x1f', 1), '[anonymiseret]'),
                         pg_catalog.split_part(p_pattern, E'\x1f', 2), '[anonymiseret]') END
$$;
COMMENT ON FUNCTION gdpr.redact(text, text) IS
    'A text with every match of a subject''s redaction patterns replaced by [anonymiseret]';

CREATE OR REPLACE FUNCTION gdpr.redact(p_value jsonb, p_pattern text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact(p_value::pg_catalog.text, p_pattern)::pg_catalog.jsonb END
$$;

CREATE OR REPLACE FUNCTION gdpr.redact(p_value json, p_pattern text) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact(p_value::pg_catalog.text, p_pattern)::pg_catalog.json END
$$;

-- The same for a text of ANOTHER subject's row that mentions this one: only the first
-- alternation (the forms specific to the subject; a first name or a postcode alone
-- could be anyone's). p_pattern may join the mention alternations of several
-- subjects with '|'.
CREATE OR REPLACE FUNCTION gdpr.redact_mentions(p_text text, p_pattern text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_text IS NULL THEN p_text
                ELSE gdpr.redact_step(p_text, pg_catalog.split_part(p_pattern, E'\x1f', 1), '[anonymiseret]') END
$$;
COMMENT ON FUNCTION gdpr.redact_mentions(text, text) IS
    'A text with every mention of a subject (the specific forms of its pattern) replaced by [anonymiseret]';

CREATE OR REPLACE FUNCTION gdpr.redact_mentions(p_value jsonb, p_pattern text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact_mentions(p_value::pg_catalog.text, p_pattern)::pg_catalog.jsonb END
$$;

CREATE OR REPLACE FUNCTION gdpr.redact_mentions(p_value json, p_pattern text) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pattern IS NULL OR p_value IS NULL THEN p_value
                ELSE gdpr.redact_mentions(p_value::pg_catalog.text, p_pattern)::pg_catalog.json END
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
