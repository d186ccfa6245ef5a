-- Automatic anonymisation (seed S4, S5; GDPR Art. 5(1)(e) storage limitation):
-- trigger rules are rows, run by one ticker (pg_cron or `pgdpr worker`) that calls
-- gdpr.tick(). Conditions, actions and the built-in safety of a subject table are
-- registries of SQL functions, so a DBA can add a condition or an action by name.
-- depends: 0001.catalog

-- A condition: a function (p_alias text, p_params jsonb, p_params_ref text) RETURNS
-- text building a boolean SQL expression over the subject row p_alias. Its values
-- reach the query as parameters ($2 = the run's "now", $4 = the rule's time zone,
-- p_params_ref = this condition's jsonb parameters), never as literals.
CREATE TABLE gdpr.rule_condition (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    function       text NOT NULL,       -- schema-qualified function name, signature (text, jsonb, text)
    subject_table  text,                -- 'schema.table' of the subject kind's root table; NULL = any
    description    text NOT NULL,
    -- parameter name -> {"type": "months"|"days"|"integer"|"text", "default": value, "description": ...}
    params         jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE gdpr.rule_condition IS 'Named rule conditions: SQL functions building an eligibility predicate';

-- An action: a function (p_rule_id bigint, p_run_id bigint, p_kind text, p_tenant text,
-- p_subject_keys text[], p_params jsonb) RETURNS TABLE (subject_key text, outcome text,
-- detail jsonb), applied to one batch of subjects.
CREATE TABLE gdpr.rule_action (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    function       text NOT NULL,
    subject_table  text,
    erases         boolean NOT NULL DEFAULT false,  -- an erasing action needs at least one condition
    description    text NOT NULL,
    params         jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE gdpr.rule_action IS 'Named rule actions: SQL functions applied to a batch of subject keys';

-- The built-in safety of a subject table (e.g. club.customers: no open balance, no
-- future booking). A function (p_alias text) RETURNS jsonb {reason: predicate}, each
-- predicate true when the subject may be changed. The engine applies it to every
-- rule of that subject table, whatever its conditions and actions; legal holds and
-- "already anonymised" are applied by the engine itself for every subject kind.
CREATE TABLE gdpr.rule_safety (
    subject_table  text PRIMARY KEY,
    function       text NOT NULL,
    description    text NOT NULL
);
COMMENT ON TABLE gdpr.rule_safety IS 'Built-in safety per subject table, applied to every rule (not configurable per rule)';

CREATE TABLE gdpr.rule (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant                text NOT NULL,
    kind                  text NOT NULL DEFAULT 'customer',
    description           text NOT NULL CHECK (length(description) BETWEEN 1 AND 200),
    schedule              text NOT NULL,        -- normalised 5-field cron, local to time_zone
    time_zone             text NOT NULL DEFAULT 'Europe/Copenhagen',
    frequency_days        integer CHECK (frequency_days > 0),   -- NULL: at most once per subject
    conditions            jsonb NOT NULL DEFAULT '[]',          -- [{"name": ..., "params": {...}}]
    actions               jsonb NOT NULL,                       -- [{"name": ..., "params": {...}}]
    max_subjects_per_run  integer NOT NULL DEFAULT 1000 CHECK (max_subjects_per_run > 0),
    enabled               boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    created_by            name NOT NULL,
    changed_at            timestamptz,
    changed_by            name,
    last_slot             timestamptz,          -- the last scheduled slot that was run
    next_slot             timestamptz,          -- the next scheduled slot (the ticker's index)
    deleted_at            timestamptz           -- deleted rules keep their run history
);
CREATE INDEX rule_due ON gdpr.rule (next_slot) WHERE enabled AND deleted_at IS NULL;
CREATE INDEX rule_tenant ON gdpr.rule (tenant, id);
COMMENT ON TABLE gdpr.rule IS 'Trigger rules (seed S4): when, how often, only if, what';

CREATE TABLE gdpr.rule_run (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id       bigint NOT NULL REFERENCES gdpr.rule,
    slot          timestamptz NOT NULL,         -- the scheduled instant (manual runs: their start)
    trigger       text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    evaluated_at  timestamptz NOT NULL,         -- the "now" the conditions are evaluated at
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_by    name NOT NULL,
    finished_at   timestamptz,
    candidates    integer,                      -- eligible subjects when the run started
    changed       integer NOT NULL DEFAULT 0,
    skipped       jsonb NOT NULL DEFAULT '{}',  -- reason -> count
    errors        jsonb NOT NULL DEFAULT '[]',  -- [{subject_key, sqlstate, message}] (first 100)
    error_count   integer NOT NULL DEFAULT 0,
    capped        boolean NOT NULL DEFAULT false,
    batches       integer NOT NULL DEFAULT 0,
    cursor        text,                         -- last subject key processed (keyset, resumable)
    UNIQUE (rule_id, slot)
);
CREATE INDEX rule_run_unfinished ON gdpr.rule_run (id) WHERE finished_at IS NULL;
COMMENT ON TABLE gdpr.rule_run IS 'Run history of trigger rules: one row per rule and slot';

-- "How often may the rule fire" per subject.
CREATE TABLE gdpr.rule_subject (
    rule_id      bigint NOT NULL REFERENCES gdpr.rule,
    subject_key  text NOT NULL,
    fired_at     timestamptz NOT NULL,
    PRIMARY KEY (rule_id, subject_key)
);

-- Messages queued by the non-erasing action queue_message (the seed's birthday-mail
-- example); an application sends them and sets sent_at. Keys only: the sender looks
-- the subject's address up when it sends.
CREATE TABLE gdpr.outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    rule_id      bigint REFERENCES gdpr.rule,
    run_id       bigint REFERENCES gdpr.rule_run,
    kind         text NOT NULL,
    tenant       text NOT NULL,
    subject_key  text NOT NULL,
    template     text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    sent_at      timestamptz
);
CREATE INDEX outbox_unsent ON gdpr.outbox (tenant, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_subject ON gdpr.outbox (kind, tenant, subject_key);

-- The ticker's heartbeat, for `pgdpr cron status` and the worker.
CREATE TABLE gdpr.ticker (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_tick_at  timestamptz NOT NULL,
    last_now      timestamptz NOT NULL,
    last_by       name NOT NULL,
    ticks         bigint NOT NULL DEFAULT 0
);
