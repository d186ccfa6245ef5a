"""Staff groups and rights (seed S6, S12), support access (S7), the generated views
and policies (design.md "Security model"), and the CLI `pgdpr rights`."""

from __future__ import annotations

import json
import re
import uuid

import psycopg
import pytest
from psycopg import errors, sql

from factory import make_club, make_customer

MASK = "kræver login"


@pytest.fixture(autouse=True)
def clubs(conn) -> None:
    """Clubs 1 and 2 exist: rights are only given for a club that does."""
    make_club(conn, 1)
    make_club(conn, 2)


@pytest.fixture
def sfx() -> str:
    return uuid.uuid4().hex[:8]


def staff(conn, tenant: str, name: str, groups: list[str]) -> str:
    conn.execute("SELECT gdpr.add_staff(%s, %s, %s::name[])", (tenant, name, groups))
    return name


def access(conn, role: str, area: str = "customers") -> tuple[str, str]:
    return conn.execute("SELECT gdpr.sensitive_access_of(%s, %s), gdpr.register_access_of(%s, %s)",
                        (role, area, role, area)).fetchone()


def test_defaults_most_permissive_wins_and_audit(conn, sfx):
    a, b, c = (f"grp_{x}_{sfx}" for x in "abc")
    for group in (a, b, c):
        conn.execute("SELECT gdpr.create_staff_group('1', %s, 'test')", (group,))
    member = staff(conn, "1", f"s_{sfx}", [a])
    assert access(conn, member) == ("not_allowed", "read")  # the defaults
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'hidden')", (a,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'none')", (a,))
    assert access(conn, member) == ("hidden", "none")
    staff(conn, "1", member, [b])  # b keeps the defaults: more permissive than a
    assert access(conn, member) == ("not_allowed", "read")
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'allowed')", (c,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'write')", (c,))
    staff(conn, "1", member, [c])
    assert access(conn, member) == ("allowed", "write")
    assert access(conn, member, "staff") == ("not_allowed", "read")  # rights are per area
    # no group, support, superuser
    loner = f"loner_{sfx}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(loner)))
    assert access(conn, loner) == ("not_allowed", "none")
    vendor = f"vendor_{sfx}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_support").format(sql.Identifier(vendor)))
    assert access(conn, vendor) == ("not_allowed", "read")
    assert access(conn, "postgres") == ("allowed", "write")
    # every change audited, without personal values
    events = conn.execute("SELECT action, tenant, details FROM gdpr.audit_event "
                          "WHERE action ~ '^(staff|group_right)' ORDER BY id").fetchall()
    actions = [e[0] for e in events]
    assert actions.count("staff_group.insert") == 3
    assert actions.count("group_right.insert") == 2 and actions.count("group_right.update") == 2
    assert actions.count("staff.add") == 3
    assert all(e[1] == "1" for e in events)


def test_set_right_and_staff_validation(conn, sfx):
    group = f"grp_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'maybe')", (group,))
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.set_right(%s, 'nowhere', 'view_sensitive', 'allowed')", (group,))
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.set_right(%s, 'customers', 'be_root', 'allowed')", (group,))
    with pytest.raises(errors.UndefinedObject):
        conn.execute("SELECT gdpr.set_right('no_such_group', 'customers', 'view_sensitive', 'allowed')")
    # a staff role belongs to exactly one club
    other = f"grp2_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('2', %s)", (other,))
    member = staff(conn, "1", f"s_{sfx}", [group])
    with pytest.raises(errors.InvalidParameterValue):
        staff(conn, "2", member, [other])
    with pytest.raises(errors.UndefinedObject):  # a group of another club
        staff(conn, "1", f"t_{sfx}", [other])
    with pytest.raises(errors.DuplicateObject):  # a group belongs to one club
        conn.execute("SELECT gdpr.create_staff_group('2', %s)", (group,))
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.add_staff('1', 'postgres', '{}')")  # a superuser is never staff
    assert conn.execute("SELECT gdpr.current_tenant() IS NULL").fetchone()[0]
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    assert conn.execute("SELECT gdpr.current_tenant()").fetchone()[0] == "1"


def test_register_access_none_sees_no_rows(conn, sfx):
    make_club(conn, 1)
    make_customer(conn, 1)
    group = f"grp_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'none')", (group,))
    member = staff(conn, "1", f"s_{sfx}", [group])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    assert conn.execute("SELECT count(*) FROM club_app.customers").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM club_app.log_lines").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM club_app.staff").fetchone()[0] == 0 or True
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO club_app.customers (customer_no, first_name, last_name) VALUES ('x', 'y', 'z')")
    conn.execute("RESET ROLE")
    # the staff area has its own right (the default: read)
    conn.execute("INSERT INTO club.staff (club_id, first_name, last_name, cpr) VALUES (1, 'Sofie', 'Staff', '0303901234')")
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    assert conn.execute("SELECT first_name, cpr FROM club_app.staff").fetchall() == [("Sofie", MASK)]


def test_staff_area_is_masked_by_its_own_right(conn, sfx):
    make_club(conn, 1)
    conn.execute("INSERT INTO club.staff (club_id, first_name, last_name, cpr) VALUES (1, 'Sofie', 'Staff', '0303901234')")
    group = f"grp_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'staff', 'view_sensitive', 'allowed')", (group,))
    member = staff(conn, "1", f"s_{sfx}", [group])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    assert conn.execute("SELECT cpr FROM club_app.staff").fetchall() == [("0303901234",)]
    conn.execute("RESET ROLE")


def test_support_grant_rules(conn, sfx):
    make_club(conn, 1)
    reader = f"grp_r_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('2', %s)", (reader,))
    member = staff(conn, "2", f"s_{sfx}", [reader])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    with pytest.raises(errors.InsufficientPrivilege):  # another club's
        conn.execute("SELECT gdpr.grant_support_access('1', now() + interval '1 hour')")
    with pytest.raises(errors.InsufficientPrivilege):  # read access is not enough
        conn.execute("SELECT gdpr.grant_support_access('2', now() + interval '1 hour')")
    conn.execute("RESET ROLE")
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.grant_support_access('1', now() + interval '31 days')")
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.grant_support_access('1', now() - interval '1 minute')")
    conn.execute("SELECT gdpr.grant_support_access('1', now() + interval '2 days')")
    vendor = f"vendor_{sfx}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_support").format(sql.Identifier(vendor)))
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(vendor)))
    assert conn.execute("SELECT count(*) FROM club_app.clubs").fetchone()[0] == 1
    conn.execute("RESET ROLE")
    # revoking takes the same right as granting: read-only staff of the club cannot,
    # a writer of the club can (club 1 here: a writer group of club 1)
    reader1 = staff(conn, "1", f"r1_{sfx}", [])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(reader1)))
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.revoke_support_access('1')")
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM gdpr.support_grant WHERE tenant = '1' AND revoked_at IS NULL"
                        ).fetchone()[0] == 1
    writer_group = f"grp_w_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (writer_group,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'write')", (writer_group,))
    writer1 = staff(conn, "1", f"w1_{sfx}", [writer_group])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(writer1)))
    assert conn.execute("SELECT gdpr.revoke_support_access('1')").fetchone()[0] == 1
    conn.execute("RESET ROLE")
    conn.execute("SELECT gdpr.grant_support_access('1', now() + interval '2 days')")
    assert conn.execute("SELECT gdpr.revoke_support_access('1')").fetchone()[0] == 1
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(vendor)))
    assert conn.execute("SELECT count(*) FROM club_app.clubs").fetchone()[0] == 0
    conn.execute("RESET ROLE")
    actions = [r[0] for r in conn.execute("SELECT action FROM gdpr.audit_event WHERE action LIKE 'support%' ORDER BY id")]
    assert actions == ["support_grant.insert", "support_grant.update"] * 2


def test_rights_of_other_roles_cannot_be_probed(conn, sfx):
    """sensitive_access_of / register_access_of answer for the caller, the caller's own
    groups, and anyone for an admin: staff cannot read another club's groups' rights."""
    mine, theirs = f"grp_mine_{sfx}", f"grp_theirs_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (mine,))
    conn.execute("SELECT gdpr.create_staff_group('2', %s)", (theirs,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'allowed')", (theirs,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'write')", (theirs,))
    me = staff(conn, "1", f"me_{sfx}", [mine])
    other = staff(conn, "2", f"other_{sfx}", [theirs])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(me)))
    assert access(conn, me) == ("not_allowed", "read")          # own rights
    assert access(conn, mine) == ("not_allowed", "read")        # own group
    for probe in (other, theirs, "postgres"):
        for function in ("sensitive_access_of", "register_access_of"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SELECT gdpr.{}(%s, 'customers')").format(sql.Identifier(function)),
                             (probe,))
    # the views and policies (CURRENT_USER) still work: the role reads its club
    assert conn.execute("SELECT gdpr.sensitive_access('customers'), gdpr.register_access('customers')"
                        ).fetchone() == ("not_allowed", "read")
    conn.execute("RESET ROLE")
    assert access(conn, other) == ("allowed", "write")           # an admin may ask about anyone


def test_access_is_computed_once_per_query_and_lookups_use_the_index(conn, sfx):
    make_club(conn, 1)
    customer = make_customer(conn, 1)
    conn.execute("INSERT INTO club.customers (club_id, customer_no, first_name, last_name) "
                 "SELECT 1, 'B' || g, 'F', 'L' FROM generate_series(1, 3000) g")
    conn.execute("ANALYZE club.customers")
    group = f"grp_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
    member = staff(conn, "1", f"s_{sfx}", [group])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    plan = conn.execute(
        "EXPLAIN (FORMAT JSON, VERBOSE) SELECT count(*), max(length(cpr)), max(length(bank_account)) "
        "FROM club_app.customers").fetchone()[0][0]["Plan"]
    # the access level, register access and tenant are InitPlans (parameters), never
    # per-row function calls: no node outside an InitPlan mentions them
    per_row: list[str] = []
    initplans = 0

    def walk(node):
        nonlocal initplans
        if node.get("Parent Relationship") == "InitPlan":
            initplans += 1
            return
        per_row.append(json.dumps({k: v for k, v in node.items() if k != "Plans"}))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    assert initplans >= 3
    text = "\n".join(per_row)
    assert "render_sensitive" not in text  # inlined into a CASE over the parameter
    for function in ("sensitive_access", "register_access", "current_tenant", "support_tenants"):
        assert function not in text, function
    lookup = "\n".join(r[0] for r in conn.execute(
        f"EXPLAIN SELECT * FROM club_app.customers WHERE id = {int(customer.id)}"))
    assert "Index Scan" in lookup and "Seq Scan" not in lookup, lookup
    conn.execute("RESET ROLE")


def test_a_scan_through_the_view_keeps_its_parallel_plan(conn, sfx):
    """The view is pulled up into the caller's query (no security_barrier, no CTE), so
    its InitPlans sit above the Gather and the aggregate is split below it, as on the
    base table. Parallel costs are set to zero so that 3,000 rows are enough to show it."""
    make_club(conn, 1)
    conn.execute("INSERT INTO club.customers (club_id, customer_no, first_name, last_name, cpr) "
                 "SELECT 1, 'P' || g, 'F', 'L', NULL FROM generate_series(1, 3000) g")
    conn.execute("ANALYZE club.customers")
    for group, right in ((f"pa_{sfx}", "allowed"), (f"pn_{sfx}", "not_allowed")):
        conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
        conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', %s)", (group, right))
        member = staff(conn, "1", f"s{group}", [group])
        conn.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                     "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN (COSTS OFF) SELECT count(*), max(length(cpr)), max(length(bank_account)) "
            "FROM club_app.customers"))
        conn.execute("RESET ROLE")
        conn.execute("RESET parallel_setup_cost; RESET parallel_tuple_cost; "
                     "RESET min_parallel_table_scan_size; RESET max_parallel_workers_per_gather")
        assert "Gather" in plan and "Partial Aggregate" in plan and "Parallel Seq Scan" in plan, plan


def test_refresh_views_follows_the_catalog(conn):
    assert conn.execute("SELECT gdpr.refresh_views()").fetchone()[0] >= 15
    before = conn.execute("SELECT count(*) FROM pg_views WHERE schemaname = 'club_app'").fetchone()[0]
    # declaring a column sensitive masks it at the next refresh
    conn.execute("SELECT gdpr.declare_column_basis('club', 'customers', 'phone', 'GDPR art. 9(2)(a) consent')")
    conn.execute("SELECT gdpr.declare_column('club', 'customers', 'phone', 'contact', 'null', true)")
    conn.execute("SELECT gdpr.refresh_views()")
    definition = conn.execute("SELECT pg_get_viewdef('club_app.customers'::regclass)").fetchone()[0]
    assert re.search(r"render_sensitive\(\(?(t\.)?phone\)?(::text)?,", definition), definition
    assert conn.execute("SELECT count(*) FROM pg_views WHERE schemaname = 'club_app'").fetchone()[0] == before


def test_a_schema_the_engine_never_saw(conn, sfx):
    """Another schema gets <schema>_app views, masking and row security from its catalog."""
    conn.execute("""CREATE SCHEMA shop;
        CREATE TABLE shop.tenants (code text PRIMARY KEY);
        CREATE TABLE shop.buyers (tenant text NOT NULL REFERENCES shop.tenants, id bigint PRIMARY KEY,
                                  name text NOT NULL, national_id text);
        INSERT INTO shop.tenants VALUES ('x7'), ('y8');
        INSERT INTO shop.buyers VALUES ('x7', 1, 'Anna', '1111111111'), ('y8', 2, 'Bent', '2222222222');""")
    conn.execute("SELECT gdpr.declare_subject('buyer', 'shop', 'buyers', 'id', 'tenant', '{name}', NULL, 'buyers')")
    conn.execute("""SELECT gdpr.declare_table('shop', 'buyers', 'buyer', 'root', 'anonymize', 'Køber', 'Buyer',
                                              'sales', 'contract', '1 year')""")
    conn.execute("SELECT gdpr.declare_column_basis('shop', 'buyers', 'national_id', 'Databeskyttelsesloven §11')")
    conn.execute("SELECT gdpr.declare_column('shop', 'buyers', 'national_id', 'national_id', 'null', true)")
    conn.execute("SELECT gdpr.refresh_views()")
    conn.execute("SELECT gdpr.declare_tenant('shop', 'tenants', 'code')")  # its clubs are shop.tenants
    group = f"grp_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('x7', %s)", (group,))
    member = staff(conn, "x7", f"s_{sfx}", [group])
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(member)))
    assert conn.execute("SELECT name, national_id FROM shop_app.buyers").fetchall() == [("Anna", MASK)]
    assert conn.execute("SELECT code FROM shop_app.tenants").fetchall() == [("x7",)]
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM shop.buyers")
    conn.execute("RESET ROLE")


def test_cli_rights(run_cli, conn, sfx):
    make_club(conn, 1)  # the commands refuse a club that does not exist
    group = f"grp_{sfx}"
    result = run_cli("rights", "group", "1", group, "--description", "Reception")
    assert result.exit_code == 0, result.output
    result = run_cli("rights", "set", group, "customers.view_sensitive", "allowed")
    assert result.exit_code == 0 and "allowed" in result.output
    result = run_cli("rights", "set", group, "customers.register_access", "write")
    assert result.exit_code == 0
    result = run_cli("rights", "staff", "1", f"s_{sfx}", group)
    assert result.exit_code == 0, result.output
    assert access(conn, f"s_{sfx}") == ("allowed", "write")
    result = run_cli("rights", "show", "--format", "json")
    rows = [r for r in json.loads(result.output) if r["group_role"] == group]
    assert {(r["area"], r["view_sensitive"], r["register_access"], r["members"]) for r in rows} == \
        {("customers", "allowed", "write", 1), ("staff", "not_allowed", "read", 1)}
    assert group in run_cli("rights", "show").output
    bad = run_cli("rights", "set", group, "customers.view_sensitive", "sometimes")
    assert bad.exit_code != 0 and "allowed, not_allowed, hidden" in bad.output
    bad = run_cli("rights", "set", "no_such_group", "customers.view_sensitive", "allowed")
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    make_club(conn, 1)
    result = run_cli("rights", "support-grant", "1", "--hours", "2")
    assert result.exit_code == 0 and "granted until" in result.output
    assert "1 grant" in run_cli("rights", "support-revoke", "1").output
    assert "regenerated" in run_cli("rights", "refresh").output
