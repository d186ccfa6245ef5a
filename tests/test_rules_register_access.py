"""Register access 'none' holds for rules and legal holds too (GDPR Art. 32, 25(2);
docs/rules.md "Who may do what through a rule"). A receptionist whose group has register
access `none` on customers sees no customer row through the views; through the rule and
legal-hold functions such a role used to list customer keys, infer debt, bookings,
activity and birthdays, queue a message to every customer, place holds that block erasure
and lock customer rows. Each attack below is performed as that persona on a real server.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg import sql

from factory import make_club, make_customer
from test_rules import create_rule, hold, inactive

QUEUE = [{"name": "queue_message", "params": {"template": "tilbud"}}]


def as_role(conn, role: str) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def world(conn):
    """Club 1 with eligible customers, a debtor, a booked and a held one, a rule and a
    finished run; staff of club 1 with register access none, read (the default) and
    none plus the erasure right."""
    sfx = uuid.uuid4().hex[:8]
    make_club(conn, 1)
    people = {"eligible": [inactive(conn, 1) for _ in range(3)],
              "debtor": make_customer(conn, 1, months_inactive=8, rows_per_table=1),
              "booked": inactive(conn, 1), "held": inactive(conn, 1)}
    conn.execute("""INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size)
                    VALUES (1, %s, now() + interval '10 days', 2)""", (people["booked"].id,))
    hold(conn, people["held"])
    roles = {}
    for name, access in (("none", "none"), ("read", "read"), ("none_eraser", "none")):
        group = f"grp_{name}_{sfx}"
        conn.execute("SELECT gdpr.create_staff_group('1', %s, %s)", (group, name))
        conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', %s)", (group, access))
        role = f"staff_{name}_{sfx}"
        conn.execute("SELECT gdpr.add_staff('1', %s, ARRAY[%s]::name[])", (role, group))
        roles[name] = role
    conn.execute(sql.SQL("GRANT pgdpr_erasure TO {}").format(sql.Identifier(roles["none_eraser"])))
    rule = create_rule(conn, "1")  # the admin's message rule, run once
    run = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    conn.execute("DELETE FROM gdpr.outbox")
    conn.execute("DELETE FROM gdpr.rule_subject")
    yield {"people": people, "roles": roles, "rule": rule, "run": run["run_id"]}
    conn.execute("RESET ROLE")


def test_none_cannot_list_keys_or_infer_debt_bookings_activity(conn, world):
    """preview_rule gave a sample of customer keys and, per safety reason, how many held
    back (open_balance = debt, future_booking); the rule's thresholds tell activity."""
    as_role(conn, world["roles"]["none"])
    for query in ("SELECT gdpr.preview_rule(%s)", "SELECT gdpr.show_rule(%s)",
                  "SELECT * FROM gdpr.rule_history(%s)", "SELECT gdpr.start_manual_run(%s)",
                  "SELECT gdpr.run_rule(%s)", "SELECT gdpr.change_rule(%s, p_description => 'x')",
                  "SELECT gdpr.enable_rule(%s)", "SELECT gdpr.disable_rule(%s)", "SELECT gdpr.delete_rule(%s)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="has no access to the customers register"):
            conn.execute(query, (world["rule"],))
    for query in ("SELECT gdpr.run_batch(%s)", "SELECT gdpr.cancel_run(%s)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="has no access to the customers register"):
            conn.execute(query, (world["run"],))
    # the lists show nothing of the customers register (not even that the rule exists)
    assert conn.execute("SELECT count(*) FROM gdpr.list_rules()").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM gdpr.rule_history()").fetchone()[0] == 0
    conn.execute("RESET ROLE")
    # the same calls work for the default (read) staff of the club: access is proven
    as_role(conn, world["roles"]["read"])
    preview = conn.execute("SELECT gdpr.preview_rule(%s)", (world["rule"],)).fetchone()[0]
    assert preview["count"] == 3 and preview["held_back"] == {"legal_hold": 1, "open_balance": 1,
                                                               "future_booking": 1, "restricted": 0}
    assert [r[0] for r in conn.execute("SELECT id FROM gdpr.list_rules()")] == [world["rule"]]
    assert conn.execute("SELECT count(*) FROM gdpr.rule_history()").fetchone()[0] == 1


def test_none_cannot_make_a_rule_to_probe_birthdays_or_message_everyone(conn, world):
    """A rule of its own: birthday_today + preview told whose birthday it is; a
    queue_message rule run by hand queued a message to every customer."""
    as_role(conn, world["roles"]["none"])
    for conditions in (["birthday_today"], ["can_be_anonymised"]):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="has no access to the customers register"):
            conn.execute("SELECT gdpr.create_rule(NULL, 'probe', 'daily 08:00', 'once', %s::jsonb, %s::jsonb)",
                         (json.dumps(conditions), json.dumps(QUEUE)))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM gdpr.rule").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM gdpr.outbox").fetchone()[0] == 0


def test_none_cannot_place_see_or_clear_holds_nor_lock_rows(conn, world, db_dsn):
    customer = world["people"]["eligible"][0]
    with psycopg.connect(db_dsn, autocommit=True) as attacker:
        as_role(attacker, world["roles"]["none"])
        # a hold would block the customer's erasure; inside an open transaction it would
        # also keep the customer row locked (gdpr.lock_subjects) until commit
        attacker.execute("BEGIN")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="has no access to the customers register"):
            attacker.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'x')", (str(customer.id),))
        # the row is not locked: another session takes it at once
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '1s'")
            conn.execute("SELECT FROM club.customers WHERE id = %s FOR UPDATE NOWAIT", (customer.id,))
        attacker.execute("ROLLBACK")
        # a missing subject answers the same: the refusal tells nothing about the key
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="has no access to the customers register"):
            attacker.execute("SELECT gdpr.set_legal_hold('customer', '999999999', 'debt', 'x')")
        assert attacker.execute("SELECT count(*) FROM gdpr.active_legal_holds()").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM gdpr.legal_hold").fetchone()[0] == 1  # the fixture's
    held = conn.execute("SELECT id FROM gdpr.legal_hold").fetchone()[0]
    # with the erasure right but no register access: the hold answers like a missing one
    as_role(conn, world["roles"]["none_eraser"])
    with pytest.raises(psycopg.errors.NoDataFound, match=f"legal hold {held} not found"):
        conn.execute("SELECT gdpr.clear_legal_hold(%s)", (held,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT cleared_at FROM gdpr.legal_hold WHERE id = %s", (held,)).fetchone()[0] is None
    # read access: holds are visible and can be placed (access is proven)
    as_role(conn, world["roles"]["read"])
    assert conn.execute("SELECT count(*) FROM gdpr.active_legal_holds()").fetchone()[0] == 1
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'skylder')", (str(customer.id),))
    conn.execute("RESET ROLE")


def test_the_ticker_does_not_run_a_rule_whose_author_has_register_access_none(conn, world):
    """A rule made while its author could read the register, run by the ticker after the
    author's group was set to none: it does not run, and its history says why."""
    author = world["roles"]["read"]
    as_role(conn, author)
    rule = create_rule(conn, None, actions=QUEUE)
    conn.execute("RESET ROLE")
    group = conn.execute("""SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                             JOIN pg_roles u ON u.oid = m.member
                            WHERE u.rolname = %s AND g.rolname LIKE 'grp\\_%%'""", (author,)).fetchone()[0]
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'none')", (group,))
    at = conn.execute("SELECT now() + interval '1 day'").fetchone()[0]
    conn.execute("CALL gdpr.tick(%s)", (at,))
    run = conn.execute("SELECT changed, finished_at IS NOT NULL, stopped, author FROM gdpr.rule_run "
                       "WHERE rule_id = %s", (rule,)).fetchone()
    assert run == (0, True, f"refused: the rule's author {author} has no access to the customers register", author)
    assert conn.execute("SELECT count(*) FROM gdpr.outbox WHERE rule_id = %s", (rule,)).fetchone()[0] == 0
    # the admin's rule of the same club ran in the same tick: the ticker itself is not blocked
    assert conn.execute("SELECT count(*) FROM gdpr.outbox WHERE rule_id = %s", (world["rule"],)).fetchone()[0] == 3


def test_the_new_helpers_are_not_for_staff_or_anyone(conn, world):
    """Every new function: staff and a role with no grants cannot call the internals;
    gdpr.cancel_run is refused to a role with no grants and to another club's staff."""
    internals = ["gdpr.rule_role_may_erase('postgres')", "gdpr.rule_role_register_access('postgres', 'customer')",
                 "gdpr.rule_require_register_access('customer')", "gdpr.caller_register_kinds()",
                 "gdpr.rule_author_refusal(r) FROM gdpr.rule r", "gdpr.rule_run_driven(1)",
                 "gdpr.rule_run_hold(1)", "gdpr.rule_run_release(1)", "gdpr.rule_run_audit(1)",
                 "gdpr.rule_run_stop(1, 'x')"]
    nobody = f"nobody_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(nobody)))
    make_club(conn, 2)
    other = f"other_{uuid.uuid4().hex[:8]}"
    conn.execute("SELECT gdpr.ensure_tenant_role('2')")
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_tenant_2, pgdpr_staff").format(sql.Identifier(other)))
    try:
        for role in (world["roles"]["read"], nobody):
            as_role(conn, role)
            for call in internals:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"SELECT {call}")
            conn.execute("RESET ROLE")
        as_role(conn, nobody)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT gdpr.cancel_run(%s)", (world["run"],))
        conn.execute("RESET ROLE")
        as_role(conn, other)
        with pytest.raises(psycopg.errors.NoDataFound, match=f"no run {world['run']}"):
            conn.execute("SELECT gdpr.cancel_run(%s)", (world["run"],))
        conn.execute("RESET ROLE")
    finally:
        conn.execute("RESET ROLE")
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(nobody)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(other)))
