-- The proof of an erasure keeps its verdict, never search material. Until now
-- gdpr.erasure_proof held salted SHA-256 hashes of every identifying value of every
-- erased subject, with the salt in the same database: a CPR number (or a phone number,
-- a birth date, a customer number) has so little entropy that trying every candidate
-- against the hashes confirms it in seconds (GDPR Art. 17, Recital 26). The proof now
-- runs inside the erasure's transaction with the captured values themselves (kept in
-- that transaction's memory only) and stores the verdict, the places it searched and
-- the places where it found something (docs/erasure.md, "The proof").
--
-- A new table, not DROP COLUMN: a dropped column's bytes stay in the table's pages until
-- every row has been rewritten and vacuumed; dropping the table unlinks its files.
-- Erasures proven before this migration have no stored verdict: gdpr.verify_erased
-- answers `no_proof` for them. Backups taken before it still hold the hashes (and the
-- salt): their retention decides how long.
-- depends: 0003.erasure

DROP FUNCTION IF EXISTS gdpr.proof_scan(text, text, text[]);
DROP FUNCTION IF EXISTS gdpr.proof_scan(text, text, text[], boolean);
DROP FUNCTION IF EXISTS gdpr.proof_value_hashes(text, integer, bytea);
DROP FUNCTION IF EXISTS gdpr.proof_grams(text, integer);
DROP FUNCTION IF EXISTS gdpr.proof_tokens(text);
DROP TABLE gdpr.erasure_proof;

-- The places a proof searched, per subject kind: shared by every proof made with the
-- same catalog and schema (a digest of the list), so verify_erased can tell later
-- whether the declared tables and columns are still what they were.
CREATE TABLE gdpr.erasure_proof_scope (
    digest     text PRIMARY KEY,
    kind       text NOT NULL,
    places     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON gdpr.erasure_proof_scope FROM PUBLIC;
COMMENT ON TABLE gdpr.erasure_proof_scope IS
    'The places an erasure proof searched (table, column, how), per kind and catalog state; no personal data';

CREATE TABLE gdpr.erasure_proof (
    kind        text NOT NULL,
    tenant      text NOT NULL DEFAULT '',
    subject_key text NOT NULL,
    verdict     text NOT NULL CHECK (verdict IN ('erased', 'not_erased', 'incomplete')),
    scope       text NOT NULL REFERENCES gdpr.erasure_proof_scope,
    found       jsonb NOT NULL DEFAULT '[]',
    unsearched  jsonb NOT NULL DEFAULT '[]',
    proved_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, tenant, subject_key)
);
REVOKE ALL ON gdpr.erasure_proof FROM PUBLIC;
COMMENT ON TABLE gdpr.erasure_proof IS
    'The verdict of each erasure''s proof: places found (table, column, cells) and places not searched; no values, no hashes';
