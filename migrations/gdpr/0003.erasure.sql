-- Erasure (GDPR Art. 17, 5(2); seed features S3, S5, S8): legal holds, the
-- per-install secret for keyed hashes, the proof captured before erasing, deferred
-- erasure of rows kept by law, and the erasure ledger that survives a backup restore.
-- None of these tables holds a personal value: keys, counts and salted hashes only.

-- Legal holds (seed S5, "Deaktivering af anonymisering"): a held subject is never
-- anonymised by a rule, and a manual anonymisation is refused unless forced.
CREATE TABLE gdpr.legal_hold (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL REFERENCES gdpr.subject_kind ON DELETE CASCADE,
    tenant      text,
    subject_key text NOT NULL,
    hold_type   text NOT NULL CHECK (hold_type IN ('debt', 'doping', 'litigation', 'other')),
    reason      text NOT NULL,
    created_by  name NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    until       timestamptz,
    cleared_at  timestamptz,
    cleared_by  name,
    CHECK ((cleared_at IS NULL) = (cleared_by IS NULL))
);
CREATE INDEX legal_hold_subject ON gdpr.legal_hold (kind, tenant, subject_key);
COMMENT ON TABLE gdpr.legal_hold IS
    'Legal holds: active while cleared_at IS NULL AND (until IS NULL OR until > now())';

-- The per-install secret of keyed hashes (the `hash` erase strategy and the proof).
-- Readable by pgdpr_owner only: without it a hash of a phone number cannot be
-- reversed by trying every number.
CREATE TABLE gdpr.install_secret (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    salt      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO gdpr.install_secret (salt)
VALUES (decode(replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 'hex'));
REVOKE ALL ON gdpr.install_secret FROM PUBLIC;
COMMENT ON TABLE gdpr.install_secret IS 'Per-install salt of keyed hashes; readable by pgdpr_owner only';

-- The proof of an erasure (GDPR Art. 5(2)): salted hashes of the subject's
-- identifying values taken before erasing, so gdpr.verify_erased can search for
-- them later without keeping a value.
CREATE TABLE gdpr.erasure_proof (
    kind        text NOT NULL,
    tenant      text NOT NULL DEFAULT '',
    subject_key text NOT NULL,
    hashes      text[] NOT NULL,
    max_tokens  integer NOT NULL,
    captured_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, tenant, subject_key)
);
COMMENT ON TABLE gdpr.erasure_proof IS 'Keyed hashes of a subject''s former identifying values (no values)';

-- Deferred erasure: rows of `retain` tables kept until their statutory period
-- ends (Bogføringsloven: 5 years from the end of the financial year).
CREATE TABLE gdpr.deferred_erasure (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    tenant       text NOT NULL DEFAULT '',
    subject_key  text NOT NULL,
    table_schema name NOT NULL,
    table_name   name NOT NULL,
    rows_pending bigint NOT NULL,
    next_due_at  timestamptz,
    last_due_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    done_at      timestamptz,
    UNIQUE (kind, tenant, subject_key, table_schema, table_name)
);
CREATE INDEX deferred_erasure_pending ON gdpr.deferred_erasure (table_schema, table_name, next_due_at)
    WHERE done_at IS NULL;
COMMENT ON TABLE gdpr.deferred_erasure IS 'Retained rows of erased subjects, erased when their period ends';

-- The erasure ledger (seed S8): which subjects were erased, when, by whom or which
-- rule. No personal data, so it can be kept outside the database and replayed
-- after a backup is restored.
CREATE TABLE gdpr.erasure_ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL,
    tenant          text,
    subject_key     text NOT NULL,
    erased_at       timestamptz NOT NULL,
    actor           name NOT NULL,
    rule_id         bigint,
    reason_category text NOT NULL CHECK (reason_category IN ('request', 'rule', 'forced', 'replay')),
    replayed_at     timestamptz
);
CREATE INDEX erasure_ledger_subject ON gdpr.erasure_ledger (kind, tenant, subject_key);
CREATE INDEX erasure_ledger_at ON gdpr.erasure_ledger (erased_at);
COMMENT ON TABLE gdpr.erasure_ledger IS 'Erasures without personal data; exported and replayed after a restore';

-- The audit trail stays append-only even with session_replication_role = replica
-- (as pg_restore or a replication tool may set it).
ALTER TABLE gdpr.audit_event ENABLE ALWAYS TRIGGER audit_event_append_only;
ALTER TABLE gdpr.audit_event ENABLE ALWAYS TRIGGER audit_event_no_truncate;
