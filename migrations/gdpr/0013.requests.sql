-- Data-subject requests and what answers them (GDPR Art. 7(3), 12(3), 18, 30;
-- Databeskyttelsesloven §§ 6, 11): the request register with its deadlines, the
-- restriction of processing, what a consent covers, the legal basis of sensitive
-- columns, the birth-date column that flags minors, and the controller's and
-- processor's details of the record of processing. Functions, triggers and grants
-- are in sql/functions/gdpr.requests.sql and its neighbours (re-applied on migrate).
-- depends: 0006.tenant 0010.erasure-guard-update

-- Free text a person typed about a subject (how the requester was identified, why a
-- deadline was extended, why processing is restricted). Never in an append-only
-- table: stored with CPR- and account-shaped numbers replaced (gdpr.redact_note),
-- and deleted when the subject is erased (trigger on gdpr.erasure_ledger).
CREATE TABLE gdpr.subject_note (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,
    tenant      text NOT NULL DEFAULT '',
    subject_key text NOT NULL,
    topic       text NOT NULL CHECK (topic IN ('request_verification', 'request_extension', 'request_closing',
                                               'restriction', 'restriction_lifted', 'consent_withdrawal')),
    ref_id      bigint,              -- the request or restriction the note belongs to
    note        text NOT NULL,       -- pattern-redacted
    written_by  name NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subject_note_subject ON gdpr.subject_note (kind, tenant, subject_key);
CREATE INDEX subject_note_ref ON gdpr.subject_note (topic, ref_id);
COMMENT ON TABLE gdpr.subject_note IS
    'Caller-written notes about a subject, CPR/account numbers redacted; deleted when the subject is erased';

-- The request register (Art. 12(3)): answered within one month of receipt,
-- extendable once by up to two further months with a reason recorded before the
-- first deadline. Keys and codes only: it outlives the subject's erasure as proof
-- that the request was answered, and when.
CREATE TABLE gdpr.dsr_request (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    tenant        text NOT NULL DEFAULT '',
    subject_key   text NOT NULL,
    request_type  text NOT NULL CHECK (request_type IN ('access', 'portability', 'erasure', 'rectification',
                                                        'restriction', 'objection')),
    received_at   timestamptz NOT NULL,
    verification  text NOT NULL CHECK (verification IN ('in_person_id', 'mitid', 'known_email', 'known_phone',
                                                        'signed_letter', 'other')),
    due_at        timestamptz NOT NULL,         -- one month after receipt, in the club's time zone
    extended_due_at timestamptz,                -- set once, at most two months after due_at
    extended_at   timestamptz,
    extended_by   name,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'refused', 'withdrawn')),
    opened_by     name NOT NULL,
    opened_at     timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    closed_by     name,
    CHECK ((status = 'open') = (closed_at IS NULL)),
    CHECK ((extended_due_at IS NULL) = (extended_at IS NULL)),
    CHECK (extended_due_at IS NULL OR (extended_due_at > due_at AND extended_at <= due_at)),
    CHECK (due_at > received_at)
);
CREATE INDEX dsr_request_open ON gdpr.dsr_request (tenant, due_at) WHERE status = 'open';
CREATE INDEX dsr_request_subject ON gdpr.dsr_request (kind, tenant, subject_key);
COMMENT ON TABLE gdpr.dsr_request IS 'Data-subject requests (GDPR Art. 12(3)): receipt, deadline, status; keys only';

-- The engine actions that answered a request: its report, export or erasure events.
-- No foreign key to the audit trail: a referencing table would change how the
-- trail's append-only guard answers a TRUNCATE (and the trail never loses a row).
CREATE TABLE gdpr.dsr_request_event (
    request_id  bigint NOT NULL REFERENCES gdpr.dsr_request,
    event_id    bigint NOT NULL,
    PRIMARY KEY (request_id, event_id)
);
COMMENT ON TABLE gdpr.dsr_request_event IS 'Audit events (report, export, erasure, ...) that answered a request';

-- Restriction of processing (Art. 18): the data stays, rules, messages and exports
-- to third parties stop until the restriction is lifted or ends.
CREATE TABLE gdpr.processing_restriction (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    tenant       text NOT NULL DEFAULT '',
    subject_key  text NOT NULL,
    -- Art. 18(1)(a) accuracy contested, (b) unlawful processing, (c) needed for legal
    -- claims, (d) objection pending; 'other' with a note
    ground       text NOT NULL CHECK (ground IN ('accuracy_contested', 'unlawful_processing', 'legal_claims',
                                                 'objection_pending', 'other')),
    request_id   bigint REFERENCES gdpr.dsr_request,
    created_by   name NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    until        timestamptz,
    lifted_at    timestamptz,
    lifted_by    name,
    CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
CREATE INDEX processing_restriction_active ON gdpr.processing_restriction (kind, tenant, subject_key)
    WHERE lifted_at IS NULL;
COMMENT ON TABLE gdpr.processing_restriction IS
    'Restrictions of processing (GDPR Art. 18): active while lifted_at IS NULL AND (until IS NULL OR until > now())';

-- Where a subject kind's consents are kept (a declared table of the catalog) and
-- what each consent type covers (Art. 7(3)): columns emptied when it is withdrawn,
-- message templates that stop.
CREATE TABLE gdpr.consent_table (
    kind              text PRIMARY KEY REFERENCES gdpr.subject_kind ON DELETE CASCADE,
    table_schema      name NOT NULL,
    table_name        name NOT NULL,
    type_column       name NOT NULL,
    withdrawn_column  name NOT NULL,
    given_column      name,
    guardian_column   name,              -- who consented on behalf of a minor
    FOREIGN KEY (table_schema, table_name) REFERENCES gdpr.catalog_table ON DELETE CASCADE
);
COMMENT ON TABLE gdpr.consent_table IS 'The declared table holding a subject kind''s consents';

CREATE TABLE gdpr.consent_cover (
    kind           text NOT NULL REFERENCES gdpr.consent_table ON DELETE CASCADE,
    consent_type   text NOT NULL,
    erase_columns  text[] NOT NULL DEFAULT '{}',   -- 'schema.table.column' of declared columns
    stop_templates text[] NOT NULL DEFAULT '{}',   -- gdpr.outbox templates no longer sent
    description    text,
    PRIMARY KEY (kind, consent_type)
);
COMMENT ON TABLE gdpr.consent_cover IS 'What withdrawing a consent type erases or stops (GDPR Art. 7(3))';

-- A consent that was withdrawn: keeps the messages it covered from being queued
-- until the subject consents again. Keys and codes; deleted at erasure.
CREATE TABLE gdpr.consent_withdrawal (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    tenant        text NOT NULL DEFAULT '',
    subject_key   text NOT NULL,
    consent_type  text NOT NULL,
    withdrawn_at  timestamptz NOT NULL,
    withdrawn_by  name NOT NULL,
    request_id    bigint REFERENCES gdpr.dsr_request
);
CREATE INDEX consent_withdrawal_subject ON gdpr.consent_withdrawal (kind, tenant, subject_key, consent_type);

-- The legal basis of processing a sensitive column: Art. 9(2) for special
-- categories (a health field), Databeskyttelsesloven §11 for a CPR number. Declared
-- before the column; the catalog refuses such a column without it.
CREATE TABLE gdpr.column_legal_basis (
    table_schema name NOT NULL,
    table_name   name NOT NULL,
    column_name  name NOT NULL,
    basis        text NOT NULL CHECK (length(btrim(basis)) BETWEEN 5 AND 500),
    PRIMARY KEY (table_schema, table_name, column_name)
);
COMMENT ON TABLE gdpr.column_legal_basis IS
    'Legal basis of a sensitive column (GDPR Art. 9(2), Databeskyttelsesloven §11)';

-- The subject kind's birth-date column: minors are flagged (Databeskyttelsesloven §6:
-- under 13 for consent to information-society services; under 18).
CREATE TABLE gdpr.subject_birth_date (
    kind         text PRIMARY KEY REFERENCES gdpr.subject_kind ON DELETE CASCADE,
    column_name  name NOT NULL
);
COMMENT ON TABLE gdpr.subject_birth_date IS 'The birth-date column of a subject kind (minors, Databeskyttelsesloven §6)';

-- Art. 30(1)(a): the controller (a club) and its data-protection contact; the
-- processor (the vendor, one row with tenant '') and its contact; transfers to
-- third countries and the organisational measures in the controller's own words.
CREATE TABLE gdpr.controller_record (
    tenant              text PRIMARY KEY,        -- '' = the processor (the vendor)
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    contact             text NOT NULL CHECK (length(btrim(contact)) BETWEEN 3 AND 300),
    dpo_name            text CHECK (length(dpo_name) <= 200),
    dpo_contact         text CHECK (length(dpo_contact) <= 300),
    transfers           text CHECK (length(transfers) <= 1000),
    measures            text CHECK (length(measures) <= 2000),
    updated_by          name NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE gdpr.controller_record IS
    'Controller and processor details of the record of processing (GDPR Art. 30(1)(a), 30(2)(a))';
