-- The engine's functions run as pgdpr_owner, which owns the gdpr schema (audit trail,
-- install secret): a catalog entry naming one of the engine's own or the system's
-- tables would make them read or erase it. Refused for every writer of the catalog,
-- whether through the declare functions or a direct INSERT by a DBA.
-- depends: 0001.catalog

ALTER TABLE gdpr.subject_kind ADD CONSTRAINT subject_kind_not_engine_table
    CHECK (table_schema NOT IN ('gdpr', 'pg_catalog', 'information_schema') AND table_schema !~ '^pg_');
ALTER TABLE gdpr.catalog_table ADD CONSTRAINT catalog_table_not_engine_table
    CHECK (table_schema NOT IN ('gdpr', 'pg_catalog', 'information_schema') AND table_schema !~ '^pg_');
