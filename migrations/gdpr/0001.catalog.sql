-- The catalog: which tables and columns hold personal data about which subject.
-- Everything the engine does (report, erasure, masking, rules) is generated from
-- these rows; identifiers are stored as names and checked against pg_catalog by
-- the gdpr.declare_* functions before they land here.

CREATE SCHEMA IF NOT EXISTS gdpr;
COMMENT ON SCHEMA gdpr IS 'pgdpr engine: catalog, audit trail and the functions built on them';

-- A subject kind: the root table whose rows are data subjects (GDPR Art. 4(1)).
CREATE TABLE gdpr.subject_kind (
    kind               text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
    table_schema       name NOT NULL,
    table_name         name NOT NULL,
    key_column         name NOT NULL,
    tenant_column      name,                -- NULL for single-tenant schemas
    identifying        name[] NOT NULL DEFAULT '{}',  -- columns whose values identify the subject
    anonymized_column  name,                -- timestamptz column set when the subject is erased
    -- the rights area guarding this kind's sensitive columns (seed S6: "customers", "staff")
    area               text NOT NULL CHECK (area ~ '^[a-z][a-z0-9_]{0,62}$'),
    UNIQUE (table_schema, table_name)
);
COMMENT ON TABLE gdpr.subject_kind IS 'Kinds of data subject (customer, staff, ...) and their root table';

-- A table holding data about a subject, and how its rows reach the subject.
CREATE TABLE gdpr.catalog_table (
    table_schema   name NOT NULL,
    table_name     name NOT NULL,
    kind           text NOT NULL REFERENCES gdpr.subject_kind ON DELETE CASCADE,
    link           text NOT NULL CHECK (link IN ('root', 'direct', 'via', 'owned')),
    -- root: NULL; direct: column holding the subject key; via: column referencing
    -- parent_table; owned: column of the subject's root table that points here.
    link_column    name,
    parent_schema  name,
    parent_name    name,
    parent_column  name,                    -- via/owned: the referenced column (the key)
    on_erase       text NOT NULL CHECK (on_erase IN ('delete', 'anonymize', 'retain')),
    -- retain: rows are kept until retain_column's date (rounded up to the end of its
    -- year when retain_from_year_end) plus retain_period, then erased (deferred erasure).
    retain_column  name,
    retain_period  interval,
    retain_from_year_end boolean NOT NULL DEFAULT false,
    title_da       text NOT NULL,
    title_en       text NOT NULL,
    purpose        text NOT NULL,
    legal_basis    text NOT NULL,
    retention      text NOT NULL,
    recipients     text NOT NULL DEFAULT 'Ingen uden for klubben / none outside the club',
    source         text NOT NULL DEFAULT 'the data subject',
    position       integer NOT NULL DEFAULT 0,  -- order of the sections in reports
    PRIMARY KEY (table_schema, table_name),
    FOREIGN KEY (parent_schema, parent_name)
        REFERENCES gdpr.catalog_table (table_schema, table_name) ON DELETE CASCADE,
    CHECK ((link = 'root') = (link_column IS NULL)),
    CHECK ((link IN ('via', 'owned')) = (parent_column IS NOT NULL)),
    CHECK ((link = 'via') = (parent_name IS NOT NULL)),
    CHECK ((on_erase = 'retain') = (retain_column IS NOT NULL AND retain_period IS NOT NULL))
);
COMMENT ON TABLE gdpr.catalog_table IS 'Tables holding personal data, their link to the subject and their Art. 30 record';

CREATE TABLE gdpr.catalog_column (
    table_schema   name NOT NULL,
    table_name     name NOT NULL,
    column_name    name NOT NULL,
    category       text NOT NULL CHECK (category IN ('name', 'address', 'contact', 'national_id',
                       'bank', 'birthdate', 'free_text', 'photo', 'identifier', 'other')),
    sensitive      boolean NOT NULL DEFAULT false,  -- rendered 'kræver login' without the right (seed S7)
    -- a boolean column of the same table that makes this column sensitive row by row
    -- (a club's custom field marked sensitive): the row is masked when it is true.
    sensitive_when name,
    erase          text NOT NULL CHECK (erase IN ('null', 'constant', 'redact', 'year_only', 'hash', 'keep')),
    erase_constant text,
    -- In a retained table: false = scrubbed at erasure although the row is kept
    -- (not part of the accounting record); true = kept until the period ends.
    part_of_record boolean NOT NULL DEFAULT true,
    label_da       text,
    label_en       text,
    PRIMARY KEY (table_schema, table_name, column_name),
    FOREIGN KEY (table_schema, table_name)
        REFERENCES gdpr.catalog_table (table_schema, table_name) ON DELETE CASCADE,
    CHECK ((erase = 'constant') = (erase_constant IS NOT NULL)),
    CHECK (NOT (sensitive AND sensitive_when IS NOT NULL))
);
COMMENT ON TABLE gdpr.catalog_column IS 'Personal columns: category, masking and erasure strategy';

-- Append-only audit trail (GDPR Art. 5(2) accountability). It holds keys, never
-- personal values: who (a role name), what, which subject key, counts.
CREATE TABLE gdpr.audit_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       name NOT NULL,
    action      text NOT NULL,
    kind        text,
    tenant      text,
    subject_key text,
    purpose     text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_event_subject ON gdpr.audit_event (kind, subject_key, at);
CREATE INDEX audit_event_action ON gdpr.audit_event (action, at);
COMMENT ON TABLE gdpr.audit_event IS 'Append-only audit trail: keys and counts, no personal values';

CREATE FUNCTION gdpr.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'gdpr.audit_event is append-only: % is not allowed', tg_op
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON gdpr.audit_event
    FOR EACH ROW EXECUTE FUNCTION gdpr.refuse_audit_change();
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON gdpr.audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION gdpr.refuse_audit_change();

-- What `pgdpr migrate` last loaded from sql/ (a digest of the files), so that a
-- re-run can say whether functions and policies changed.
CREATE TABLE gdpr.install_state (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    sql_digest    text NOT NULL,
    pgdpr_version text NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now()
);
