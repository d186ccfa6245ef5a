"""The catalog lint (conventions.md, "From basejump"): properties read from pg_catalog
that must hold everywhere, whoever wrote the function, table or view."""

from __future__ import annotations

import re

import pytest


def test_security_definer_functions_are_hardened(conn):
    """Every SECURITY DEFINER function of gdpr: search_path pinned, owned by the NOLOGIN
    engine owner, not executable by PUBLIC."""
    rows = conn.execute(
        """SELECT p.oid::regprocedure::text, p.proconfig, pg_get_userbyid(p.proowner),
                  has_function_privilege('public', p.oid, 'EXECUTE')
                      AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a
                                                       WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
             FROM pg_proc p WHERE p.pronamespace = 'gdpr'::regnamespace AND p.prosecdef
            ORDER BY 1""").fetchall()
    assert len(rows) >= 8
    problems = []
    for signature, config, owner, public in rows:
        if "search_path=pg_catalog, pg_temp" not in (config or []):
            problems.append(f"{signature}: search_path not pinned to pg_catalog, pg_temp")
        if owner != "pgdpr_owner":
            problems.append(f"{signature}: owned by {owner}")
        if public:
            problems.append(f"{signature}: PUBLIC may execute it")
    assert problems == []
    owner = conn.execute("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'pgdpr_owner'").fetchone()
    assert owner == (False, False)


def test_every_tenant_table_has_forced_row_security(conn):
    rows = conn.execute(
        """SELECT format('%I.%I', t.table_schema, t.table_name), c.relrowsecurity, c.relforcerowsecurity,
                  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'pgdpr_tenant')
             FROM gdpr.protected_tables() t JOIN pg_class c ON c.oid = t.relid
            WHERE t.tenant_column IS NOT NULL""").fetchall()
    names = {r[0] for r in rows}
    # every declared table with the tenant column, and the tenant table and its kin
    declared = {r[0] for r in conn.execute(
        """SELECT format('%I.%I', t.table_schema, t.table_name) FROM gdpr.catalog_table t
             JOIN gdpr.subject_kind k USING (kind)
            WHERE k.tenant_column IS NOT NULL AND EXISTS (
                SELECT FROM pg_attribute a WHERE a.attrelid = format('%I.%I', t.table_schema, t.table_name)::regclass
                   AND a.attname = k.tenant_column)""")}
    assert declared <= names
    assert {"club.clubs", "club.custom_fields", "club.classes", "club.resources"} <= names
    assert [r for r in rows if not (r[1] and r[2] and r[3] == 1)] == []


def test_club_tables_without_row_security_hold_no_tenant_data(conn):
    """Every table of the club schema is under row security (none is left out)."""
    missing = conn.execute(
        """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'club'::regnamespace
              AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)""").fetchall()
    assert missing == []


def test_masking_views_filter_rows_only_by_row_security_or_a_barrier(conn):
    """A generated view is either a plain view whose only row filter is the forced row
    security of its one base table (masking in the select list only: the caller's quals,
    pulled up into its query, see the masked expressions and run after the policy), or a
    security_barrier view (one that gates rows in its own WHERE clause). Owned by a role
    without BYPASSRLS, never security_invoker."""
    rows = conn.execute(
        """SELECT format('%I.%I', n.nspname, c.relname), c.reloptions, r.rolname, r.rolbypassrls, r.rolsuper,
                  pg_get_viewdef(c.oid),
                  (SELECT array_agg(DISTINCT d.refobjid::regclass::text) FROM pg_depend d JOIN pg_rewrite w
                       ON w.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
                    WHERE w.ev_class = c.oid AND d.refobjid <> c.oid AND d.refclassid = 'pg_class'::regclass),
                  (SELECT bool_and(b.relrowsecurity AND b.relforcerowsecurity) FROM pg_depend d JOIN pg_rewrite w
                       ON w.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
                     JOIN pg_class b ON b.oid = d.refobjid
                    WHERE w.ev_class = c.oid AND d.refobjid <> c.oid AND d.refclassid = 'pg_class'::regclass)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
            WHERE c.relkind = 'v' AND n.nspname LIKE '%\\_app'""").fetchall()
    assert len(rows) >= 15
    plain = 0
    for view, options, owner, bypass, superuser, definition, bases, forced in rows:
        assert not any(o.startswith("security_invoker=true") for o in options or []), view
        assert owner == "pgdpr_view_owner" and not bypass and not superuser, view
        if "security_barrier=true" not in (options or []):
            plain += 1
            assert len(bases) == 1 and forced, f"{view}: a plain view must read one table under forced row security"
            assert not re.search(r"\b(WHERE|JOIN|UNION|GROUP|LIMIT|OFFSET|WITH)\b", definition.upper()), \
                f"{view}: a plain view may not filter rows itself: {definition}"
    assert plain >= 15  # the tenant tables' views: plain, so they keep parallel plans
    expected = {r[0] for r in conn.execute(
        "SELECT format('%I.%I', gdpr.app_schema(table_schema), table_name) FROM gdpr.protected_tables()")}
    assert expected == {r[0] for r in rows}


def test_every_sensitive_column_is_rendered_in_its_view(conn):
    rows = conn.execute(
        """SELECT cc.table_schema, cc.table_name, cc.column_name,
                  pg_get_viewdef(format('%I.%I', gdpr.app_schema(cc.table_schema), cc.table_name)::regclass)
             FROM gdpr.catalog_column cc WHERE cc.sensitive OR cc.sensitive_when IS NOT NULL""").fetchall()
    assert len(rows) >= 5
    for schema, table, column, definition in rows:
        pattern = rf"render_sensitive\(\(?(t\.)?{re.escape(column)}\)?(::text)?,"
        assert re.search(pattern, definition), f"{schema}.{table}.{column} is not masked"


def test_no_staff_or_app_role_can_bypass_row_security(conn):
    """Every role inside the staff, support, tenant or view-owner roles (by membership,
    at any depth) is neither superuser nor BYPASSRLS."""
    rows = conn.execute(
        """WITH RECURSIVE inside(oid) AS (
               SELECT oid FROM pg_roles
                WHERE rolname IN ('pgdpr_staff', 'pgdpr_support', 'pgdpr_view_owner')
                   OR rolname LIKE 'pgdpr\\_tenant\\_%'
               UNION
               SELECT m.member FROM pg_auth_members m JOIN inside i ON m.roleid = i.oid)
           SELECT r.rolname FROM inside i JOIN pg_roles r ON r.oid = i.oid
            WHERE r.rolsuper OR r.rolbypassrls""").fetchall()
    assert rows == []


@pytest.mark.parametrize("role", ["pgdpr_staff", "pgdpr_support", "pgdpr_admin"])
def test_staff_roles_hold_no_privilege_on_base_tables(conn, role):
    rows = conn.execute(
        """SELECT c.oid::regclass::text, p FROM pg_class c
             CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES']) p
            WHERE c.relnamespace = 'club'::regnamespace AND c.relkind IN ('r', 'p')
              AND has_table_privilege(%s, c.oid, p)""", (role,)).fetchall()
    assert rows == []
    columns = conn.execute(
        """SELECT c.oid::regclass::text, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relnamespace = 'club'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0
              AND has_column_privilege(%s, c.oid, a.attnum, 'SELECT')""", (role,)).fetchall()
    assert columns == []


def test_view_owner_only_reads_the_base_tables(conn):
    rows = conn.execute(
        """SELECT c.oid::regclass::text, p FROM pg_class c
             CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
            WHERE c.relnamespace = 'club'::regnamespace AND c.relkind IN ('r', 'p')
              AND has_table_privilege('pgdpr_view_owner', c.oid, p)""").fetchall()
    assert rows == []


def test_uniqueness_of_sensitive_columns_is_per_club(conn):
    """A unique constraint on an identifying or sensitive column includes the tenant column,
    so a constraint error cannot tell one club anything about another's rows. Exception:
    club.staff.role_name, a PostgreSQL role name, unique in the cluster and listed in
    pg_roles for everyone anyway."""
    rows = conn.execute(
        """SELECT i.indexrelid::regclass::text
             FROM gdpr.catalog_column cc
             JOIN gdpr.catalog_table ct USING (table_schema, table_name)
             JOIN gdpr.subject_kind k ON k.kind = ct.kind
             JOIN pg_index i ON i.indrelid = format('%I.%I', cc.table_schema, cc.table_name)::regclass
              AND i.indisunique
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) AND a.attname = cc.column_name
            WHERE k.tenant_column IS NOT NULL
              AND NOT EXISTS (SELECT FROM pg_attribute t WHERE t.attrelid = i.indrelid
                                 AND t.attnum = ANY (i.indkey) AND t.attname = k.tenant_column)""").fetchall()
    assert [r for r in rows if r[0] != "club.staff_role_name_key"] == []


def test_gdpr_tables_are_not_readable_by_staff(conn):
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'gdpr'::regnamespace AND c.relkind IN ('r', 'p', 'v')
              AND (has_table_privilege('pgdpr_staff', c.oid, 'SELECT')
                   OR has_table_privilege('pgdpr_support', c.oid, 'SELECT')
                   OR has_table_privilege('pgdpr_staff', c.oid, 'INSERT'))""").fetchall()
    assert rows == []


# SQL the parser resolves through the caller's search_path when it inlines a function:
# an operator, a function name, a type name, and the constructs that look up "=" or
# "~~" by name (IN, NULLIF, LIKE, BETWEEN, IS DISTINCT FROM, simple CASE).
_SQL_WORDS = {
    "select", "from", "where", "and", "or", "not", "case", "when", "then", "else", "end", "as", "on", "join",
    "left", "exists", "coalesce", "greatest", "least", "array", "values", "row", "limit", "order", "by",
    "group", "having", "distinct", "lateral", "union", "all", "with", "is", "null", "true", "false", "cross",
    "filter", "over", "partition", "offset", "current_user", "session_user", "inner", "asc", "desc",
    "qualified_operator",
}
_BY_NAME = re.compile(r"\b(in|nullif|like|ilike|similar|between|any|some)\s*\(|\bis\s+(not\s+)?distinct\b"
                      r"|\b(like|ilike)\b|\bcase\s+(?!when\b)", re.I)


def unqualified_names(body: str) -> list[str]:
    """What in a SQL function body would resolve through the caller's search_path."""
    text = re.sub(r"--[^\n]*", " ", body)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)       # string literals
    text = re.sub(r'"(?:[^"]|"")*"', "x", text)          # quoted identifiers
    text = re.sub(r"OPERATOR\s*\(\s*pg_catalog\.[^)\s]+\s*\)", " qualified_operator ", text, flags=re.I)
    text = re.sub(r"\(\s*\*\s*\)", "()", text)          # count(*)
    text = re.sub(r"\b\w+\.\*", "x", text)               # t.*
    problems = [m.group(0).strip() for m in _BY_NAME.finditer(text)]
    problems += [m.group(0) for m in re.finditer(r"(?<!:)::\s*(?!pg_catalog\.|gdpr\.)[a-z_]\w*", text, re.I)]
    text = re.sub(r"::\s*\w+\.\w+(\[\])?", " ", text)
    problems += [m.group(0) for m in re.finditer(r"[-+*/<>=~!@#%^&|`?]+", text)]
    problems += [f"{m.group(1)}(" for m in re.finditer(r"(?<![\w.$])([a-z_]\w*)\s*\(", text, re.I)
                 if m.group(1).lower() not in _SQL_WORDS]
    return problems


def masking_path_functions(conn) -> list[tuple[str, str, bool]]:
    """The inlinable SQL functions (no SET clause) that the masking views and the
    row-security policies call, directly or through one another."""
    return conn.execute(
        r"""WITH RECURSIVE direct AS (
                SELECT d.refobjid AS fn FROM pg_depend d
                  JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                  JOIN pg_class c ON c.oid = r.ev_class AND c.relkind = 'v'
                  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname LIKE '%\_app'
                 WHERE d.refclassid = 'pg_proc'::regclass
                UNION
                SELECT d.refobjid FROM pg_depend d
                 WHERE d.classid = 'pg_policy'::regclass AND d.refclassid = 'pg_proc'::regclass),
            reach AS (
                SELECT p.oid, p.prosrc FROM pg_proc p JOIN direct ON direct.fn = p.oid
                 WHERE p.pronamespace = 'gdpr'::regnamespace
                UNION
                SELECT q.oid, q.prosrc FROM reach, pg_proc q
                 WHERE q.pronamespace = 'gdpr'::regnamespace
                   AND reach.prosrc ~ ('\mgdpr\.' || q.proname || '\s*\('))
            SELECT p.oid::regprocedure::text, p.prosrc, p.prosqlbody IS NOT NULL FROM reach
              JOIN pg_proc p ON p.oid = reach.oid
             WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql') AND p.proconfig IS NULL
             ORDER BY 1""").fetchall()


def test_inlined_functions_name_every_operator_function_and_type_with_its_schema(conn):
    """A function inlined into a view or policy is parsed with the querying role's
    search_path: its own "=" or substr() earlier in the path would change what the
    view shows. Every such function qualifies all it uses."""
    functions = masking_path_functions(conn)
    assert {"gdpr.current_tenant()", "gdpr.role_tenant(oid)", "gdpr.caller()"} <= {f for f, _, _ in functions}
    # a SQL-standard body (RETURN ...) is parsed when the function is created, its
    # operators stored resolved: immune as it is. The rendering functions are such.
    standard = {f for f, _, sqlbody in functions if sqlbody}
    assert {"gdpr.render_sensitive(text,text)", "gdpr.render_free_text(text,text)"} <= standard
    assert {f: unqualified_names(body) for f, body, sqlbody in functions
            if not sqlbody and unqualified_names(body)} == {}


@pytest.mark.parametrize("body, found", [
    ("SELECT CASE p_access WHEN 'allowed' THEN p_value END", "CASE"),
    ("SELECT a = b", "="),
    ("SELECT substr(x, 1)", "substr("),
    ("SELECT x::text", "::text"),
    ("SELECT NULLIF(a, 'x')", "NULLIF("),
    ("SELECT a IN ('x', 'y')", "IN ("),
    ("SELECT t.rolname LIKE 'p%'", "LIKE"),
    ("SELECT a IS DISTINCT FROM b", "IS DISTINCT"),
])
def test_the_qualification_lint_finds_each_construct(body, found):
    assert any(found.lower() in p.lower() for p in unqualified_names(body)), unqualified_names(body)


def test_the_qualification_lint_passes_qualified_sql():
    assert unqualified_names(
        "SELECT CASE WHEN p_access OPERATOR(pg_catalog.=) 'allowed' THEN pg_catalog.substr(x::pg_catalog.text, 1) "
        "END FROM pg_catalog.pg_roles t WHERE pg_catalog.count(*) OPERATOR(pg_catalog.>) 1") == []

def test_tests_skip_only_for_a_missing_external_component():
    """A test may skip only when an external component is missing (pg_cron, pg_trgm, Chromium,
    Docker, the pg_dump of another version), with the reason printed (-ra); never
    because an engine function "is not installed yet": a renamed or removed function
    must fail, not skip, and no test may change what it checks by probing for one."""
    import re
    from pathlib import Path

    external = ("pg_cron", "chromium", "docker", "pg_dump", "pg_trgm")
    for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
        text = source.read_text(encoding="utf-8")
        for match in re.finditer(r"pytest\.skip\(\s*(?:f?\"([^\"]*)\"|f?'([^']*)')", text):
            reason = (match.group(1) or match.group(2) or "").lower()
            assert any(word in reason for word in external), f"{source.name}: skip {reason!r}"
        probe = "to_regprocedure(" + "'gdpr."
        assert probe not in text, f"{source.name} probes for an engine function"


def test_no_internal_labels_in_what_users_read(conn, repo_root):
    """Comments on the engine's objects, the catalogs and the examples cite the law or
    docs/, never the project's internal labels."""
    label = re.compile(r"seed S\d|\bF\d+[a-z]? of the|\(F\d+[a-z]?\)|\(issue \d+\)")
    comments = conn.execute(
        """SELECT d.description FROM pg_description d
             JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
            WHERE p.pronamespace = 'gdpr'::regnamespace
           UNION ALL
           SELECT d.description FROM pg_description d
             JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
            WHERE c.relnamespace = 'gdpr'::regnamespace""").fetchall()
    assert [c for (c,) in comments if label.search(c)] == []
    files = [p for folder in ("catalogs", "examples", "sql") for p in (repo_root / folder).rglob("*")
             if p.is_file() and p.suffix in (".toml", ".sql", ".md")]
    assert [str(p) for p in files if label.search(p.read_text(encoding="utf-8"))] == []
