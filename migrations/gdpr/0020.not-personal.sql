-- What the catalog says is NOT personal data, with the reason (a film's credited
-- actors, a migration tool's own table): `pgdpr catalog check` no longer reports it,
-- and the record of processing lists it, so the judgement is visible and audited.
-- depends: 0018.catalog-diff

CREATE TABLE gdpr.not_personal (
    table_schema name NOT NULL,
    table_name   name NOT NULL,
    column_name  name NOT NULL DEFAULT '',   -- '' = the whole table
    reason       text NOT NULL CHECK (length(btrim(reason)) > 0),
    PRIMARY KEY (table_schema, table_name, column_name),
    CHECK (table_schema NOT IN ('gdpr', 'pg_catalog', 'information_schema') AND table_schema !~ '^pg_')
);
COMMENT ON TABLE gdpr.not_personal IS
    'Tables and columns declared not to hold personal data, with the reason (catalog check skips them)';
