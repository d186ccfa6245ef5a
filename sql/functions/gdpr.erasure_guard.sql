-- No new personal data for an erased subject (GDPR Art. 17 and the seed's promise
-- that anonymisation is final). gdpr.anonymize locks the subject row FOR UPDATE
-- first; a booking inserted meanwhile waits on its foreign key check (FOR KEY SHARE)
-- and then lands after the erasure. This guard refuses it with a clear error. An
-- UPDATE that writes a declared personal column (or the link column) of a row of an
-- erased subject is refused the same way: a name typed back into an erased
-- customer's log line, a row re-pointed at an erased customer, a change to a kept
-- account movement. A write racing an erasure waits for it and is then refused
-- (see the locking note in gdpr.erasure_guard_query).
--
-- Why triggers (design.md prefers constraints): the rule reads another table's
-- row (the subject's entry in the erasure ledger), which no CHECK or foreign key can express
-- without changing the user's schema. They are kept cheap: one AFTER INSERT and one
-- AFTER UPDATE trigger per statement with transition tables, index lookups per
-- changed row's subject, the queries generated from the catalog at install time; no
-- trigger on deletes. gdpr.install_erasure_guards() puts them on every declared
-- direct/via table.

-- The guard's query for one declared table and event ('INSERT' or 'UPDATE'; NULL
-- when the table is not guarded): the first new or changed row whose subject is
-- anonymised, as '<kind> <key>'. For UPDATE only rows whose declared columns or link
-- column changed count (old and new rows paired by the primary key; compared as text,
-- which every type has; without a primary key every updated row counts).
CREATE OR REPLACE FUNCTION gdpr.erasure_guard_query(p_schema name, p_table name, p_event text DEFAULT 'INSERT')
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t gdpr.catalog_table;
    v_s gdpr.subject_kind;
    v_src record;
    v_rows text;
    v_pk text;
    v_watched_old text;
    v_watched_new text;
    v_tenanted boolean;  -- rows and subjects are matched on the tenant too
BEGIN
    SELECT * INTO v_t FROM gdpr.catalog_table WHERE table_schema = p_schema AND table_name = p_table;
    SELECT * INTO v_s FROM gdpr.subject_kind WHERE kind = v_t.kind;
    IF v_t.link IS NULL OR v_t.link NOT IN ('direct', 'via') THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_src FROM gdpr.subject_source(p_schema, p_table, 'a');
    v_tenanted := v_s.tenant_column IS NOT NULL AND v_src.tenant_expr IS NOT NULL;
    v_rows := 'gdpr_new_rows a';
    IF p_event = 'UPDATE' THEN
        SELECT string_agg(format('o.%1$I = a.%1$I', at.attname), ' AND ' ORDER BY k.n)
          INTO v_pk
          FROM pg_catalog.pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n), pg_catalog.pg_attribute at
         WHERE i.indrelid = format('%I.%I', p_schema, p_table)::regclass AND i.indisprimary
           AND at.attrelid = i.indrelid AND at.attnum = k.attnum;
        SELECT string_agg(format('o.%I::text', w.c), ', ' ORDER BY w.c),
               string_agg(format('a.%I::text', w.c), ', ' ORDER BY w.c)
          INTO v_watched_old, v_watched_new
          FROM (SELECT c.column_name AS c FROM gdpr.catalog_column c  -- the declared columns,
                 WHERE c.table_schema = p_schema AND c.table_name = p_table
                UNION SELECT v_t.link_column                               -- the link,
                UNION SELECT v_s.tenant_column WHERE v_src.tenant_expr LIKE 'a.%'  -- the row's own tenant,
                UNION SELECT c.parent_column FROM gdpr.catalog_table c     -- and what via rows link by
                 WHERE c.parent_schema = p_schema AND c.parent_name = p_table AND c.link = 'via') w
         WHERE w.c IS NOT NULL;
        IF v_pk IS NOT NULL THEN
            v_rows := format('(SELECT a.* FROM gdpr_new_rows a WHERE NOT EXISTS (
                                  SELECT FROM gdpr_old_rows o WHERE %s AND ROW(%s) IS NOT DISTINCT FROM ROW(%s))) a',
                             v_pk, v_watched_old, v_watched_new);
        END IF;
    END IF;
    -- A statement racing an erasure must wait for it and then read its outcome. On a
    -- direct table it does without this query: a new or re-pointed row's foreign-key
    -- check locks the subject row (FOR KEY SHARE, waiting for the erasure's FOR
    -- UPDATE), and a changed row of the subject waits on the erasure's own rewrite of
    -- it. A via row's foreign key locks only its parent row, which the erasure's
    -- update does not block: there the query locks the subjects concerned (once each,
    -- FOR KEY SHARE) and reads the locked rows' newest version. Only there: the lock
    -- is taken after the statement's own row locks, the erasure's order reversed, so
    -- a multi-row update racing an erasure can deadlock with it.
    -- Erased means an entry in the erasure ledger (gdpr.subject_erased), which the
    -- erasure writes after its own changes to the rows.
    RETURN format(
        'WITH s AS MATERIALIZED (
             SELECT r.%1$I::text AS subject_key, %2$s AS tenant FROM %3$I.%4$I r
              WHERE (%5$s) IN (SELECT %6$s FROM %7$s %8$s WHERE %9$s) %11$s)
         SELECT %10$L || '' '' || s.subject_key FROM s
          WHERE EXISTS (SELECT FROM gdpr.erasure_ledger l WHERE l.kind = %10$L AND l.subject_key = s.subject_key
                           AND %12$s)
          LIMIT 1',
        v_s.key_column,
        CASE WHEN v_s.tenant_column IS NOT NULL THEN format('r.%I::text', v_s.tenant_column) ELSE 'NULL::text' END,
        v_s.table_schema, v_s.table_name,
        CASE WHEN v_tenanted THEN format('r.%I, r.%I', v_s.tenant_column, v_s.key_column)
             ELSE format('r.%I', v_s.key_column) END,
        CASE WHEN v_tenanted THEN format('%s, %s', v_src.tenant_expr, v_src.key_expr) ELSE v_src.key_expr END,
        v_rows, v_src.from_clause, v_src.where_clause, v_s.kind,
        CASE WHEN v_t.link = 'via' THEN 'FOR KEY SHARE OF r' ELSE '' END,
        CASE WHEN v_s.tenant_column IS NOT NULL THEN 'l.tenant = s.tenant' ELSE 'l.tenant IS NULL' END);
END $$;
ALTER FUNCTION gdpr.erasure_guard_query(name, name, text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erasure_guard_query(name, name, text) FROM PUBLIC;

-- The trigger function. Its query comes from the trigger's argument, generated from
-- the catalog by gdpr.install_erasure_guards (only a role that may EXECUTE this
-- function, i.e. pgdpr_owner or a superuser, can create a trigger with it), so the
-- insert path does no catalog lookup.
CREATE OR REPLACE FUNCTION gdpr.erasure_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    -- the erasure (gdpr.erase_batch) turns hash and merge joins off for its own
    -- statements; its updates fire this trigger, whose pairing of old and new rows
    -- (transition tables have no index) needs a hash join, not a nested loop
    SET enable_hashjoin = on SET enable_mergejoin = on AS $$
DECLARE
    v_sql text := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0]
                       ELSE gdpr.erasure_guard_query(TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP) END;
    v_subject text;
BEGIN
    IF v_sql IS NULL OR v_sql = '' THEN
        RETURN NULL;
    END IF;
    -- The erasure itself removing a subject's mentions from other subjects' rows, also
    -- from rows of subjects erased before (gdpr.erase_mentions; only the engine can
    -- write the pass, and only inside its own transaction).
    IF EXISTS (SELECT FROM gdpr.erasure_mention_pass p WHERE p.xid = pg_current_xact_id()) THEN
        RETURN NULL;
    END IF;
    -- On a via table the query locks the subjects first (see gdpr.erasure_guard_query)
    -- and may wait there for an erasure; its snapshot predates that wait. It runs a
    -- second time, with a snapshot taken after the locks, to read the ledger entry the
    -- erasure committed (READ COMMITTED: each statement takes a new snapshot).
    IF pg_catalog.strpos(v_sql, 'FOR KEY SHARE') > 0 THEN
        EXECUTE v_sql;
    END IF;
    EXECUTE v_sql INTO v_subject;
    IF v_subject IS NOT NULL THEN
        RAISE EXCEPTION '% is anonymised: % in %.% are refused', v_subject,
            CASE TG_OP WHEN 'UPDATE' THEN 'changes to its rows' ELSE 'new rows' END,
            quote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME)
            USING ERRCODE = 'check_violation',
                  HINT = 'The subject was erased (GDPR Art. 17); create a new one instead.';
    END IF;
    RETURN NULL;
END $$;
ALTER FUNCTION gdpr.erasure_guard() OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erasure_guard() FROM PUBLIC;
COMMENT ON FUNCTION gdpr.erasure_guard() IS
    'Statement trigger: refuses new rows, and changes to declared columns of rows, of an anonymised subject';

-- The guard triggers there should be: one per event on every declared direct/via
-- table of a kind (p_kind NULL: every kind).
CREATE OR REPLACE FUNCTION gdpr.erasure_guard_targets(p_kind text)
RETURNS TABLE (table_schema name, table_name name, rel regclass, trigger_name name, event text, transition text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.table_schema, t.table_name, format('%I.%I', t.table_schema, t.table_name)::regclass,
           e.trigger_name, e.event, e.transition
      FROM gdpr.catalog_table t JOIN gdpr.subject_kind s USING (kind),
           (VALUES ('gdpr_erasure_guard'::name, 'INSERT', 'NEW TABLE AS gdpr_new_rows'),
                   ('gdpr_erasure_guard_update'::name, 'UPDATE',
                    'OLD TABLE AS gdpr_old_rows NEW TABLE AS gdpr_new_rows')) AS e(trigger_name, event, transition)
     WHERE (p_kind IS NULL OR t.kind = p_kind) AND t.link IN ('direct', 'via')
$$;
ALTER FUNCTION gdpr.erasure_guard_targets(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.erasure_guard_targets(text) FROM PUBLIC;

-- Put the guards (gdpr_erasure_guard on INSERT, gdpr_erasure_guard_update on UPDATE)
-- on every declared direct/via table of the kind(s) that lacks them, and renew them
-- where the catalog changed their query. Called by every `pgdpr migrate` (below) and
-- by gdpr.ensure_erasure_guards (a catalog applied after the last migrate);
-- declare_table grants pgdpr_owner TRIGGER for that. Returns the triggers (re)created.
CREATE OR REPLACE FUNCTION gdpr.install_erasure_guards(p_kind text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_t record;
    v_n integer := 0;
BEGIN
    FOR v_t IN
        SELECT q.*, g.tgargs AS current_args
          FROM (SELECT e.*, gdpr.erasure_guard_query(e.table_schema, e.table_name, e.event) AS query
                  FROM gdpr.erasure_guard_targets(p_kind) e) q
          LEFT JOIN pg_catalog.pg_trigger g ON g.tgrelid = q.rel AND g.tgname = q.trigger_name
         WHERE g.tgargs IS DISTINCT FROM convert_to(q.query, 'UTF8') || '\x00'::bytea
    LOOP
        BEGIN
            IF v_t.current_args IS NOT NULL THEN
                EXECUTE format('DROP TRIGGER %I ON %s', v_t.trigger_name, v_t.rel);
            END IF;
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s
                            FOR EACH STATEMENT EXECUTE FUNCTION gdpr.erasure_guard(%L)',
                           v_t.trigger_name, v_t.event, v_t.rel, v_t.transition, v_t.query);
            v_n := v_n + 1;
        EXCEPTION WHEN insufficient_privilege THEN
            -- a catalog declared before declare_table granted TRIGGER: the next
            -- `pgdpr migrate` (run by the table owner) installs it; erasure goes on.
            RAISE WARNING 'erasure guard not installed on %: run pgdpr migrate', v_t.rel;
        END;
    END LOOP;
    RETURN v_n;
END $$;
ALTER FUNCTION gdpr.install_erasure_guards(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.install_erasure_guards(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.install_erasure_guards(text) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.install_erasure_guards(text) IS
    'Install (or renew) the erasure guard triggers (insert, update) on every declared direct/via table';

-- Before an erasure: install the guards where a catalog applied after the last
-- migrate left a declared table without them (gdpr.anonymize, anonymize_many).
CREATE OR REPLACE FUNCTION gdpr.ensure_erasure_guards(p_kind text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM gdpr.erasure_guard_targets(p_kind) e
                WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                   WHERE g.tgrelid = e.rel AND g.tgname = e.trigger_name)) THEN
        PERFORM gdpr.install_erasure_guards(p_kind);
    END IF;
END $$;
ALTER FUNCTION gdpr.ensure_erasure_guards(text) OWNER TO pgdpr_owner;
REVOKE ALL ON FUNCTION gdpr.ensure_erasure_guards(text) FROM PUBLIC;

SELECT gdpr.install_erasure_guards();
