-- The statements of the insight report (seed S1, S2), generated from the catalog and
-- cached per subject kind: generating them reads the catalog and pg_catalog and costs
-- more than running them. A row is valid while its fingerprint (the kind's catalog
-- rows, the declared tables' columns and the installed SQL's digest) is unchanged;
-- gdpr.insight_statements() rebuilds it otherwise. Holds SQL text only, no personal data.
CREATE TABLE gdpr.insight_statement (
    kind         text PRIMARY KEY REFERENCES gdpr.subject_kind ON DELETE CASCADE ON UPDATE CASCADE,
    fingerprint  text NOT NULL,
    statements   text[] NOT NULL,   -- one SELECT per declared table, in report order
    metas        jsonb[] NOT NULL,  -- the section headers (titles, Art. 15 fields, columns)
    secrets      text,              -- SELECT of the subject's sensitive values (masking free text)
    built_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE gdpr.insight_statement IS
    'Cache of the generated insight report statements per subject kind (SQL text only)';
