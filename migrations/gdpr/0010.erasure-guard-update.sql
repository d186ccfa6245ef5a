-- The erasure guard also refuses updates of a declared personal column of an
-- erased subject's rows (sql/functions/gdpr.erasure_guard.sql): its query builder
-- takes the event as a third argument. The two-argument version goes.
-- depends: 0009.catalog-guard

DROP FUNCTION IF EXISTS gdpr.erasure_guard_query(name, name);
