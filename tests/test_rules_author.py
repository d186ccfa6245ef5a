"""Rules run with their author's rights (GDPR Art. 32, 5(2); docs/rules.md "Who may do
what through a rule"). The ticker is an admin: before, whatever a rule did at run time
was done with the ticker's rights and the erasure ledger named the ticker. Now the
ticker checks the rule author's rights at run time, the ledger names the rule and its
author, and a rule whose author lost a right does not run and says so in its history.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from factory import make_club
from test_rules import create_rule, inactive


def anonymised(conn) -> set[int]:
    return {r[0] for r in conn.execute("SELECT id FROM club.customers WHERE anonymized_at IS NOT NULL")}


@pytest.fixture
def club(conn):
    make_club(conn, 1)
    return [inactive(conn, 1) for _ in range(3)]


@pytest.fixture
def roles(conn):
    sfx = uuid.uuid4().hex[:8]
    conn.execute("SELECT gdpr.ensure_tenant_role('1')")
    names = {"staff": f"staff_{sfx}", "eraser": f"eraser_{sfx}"}
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_tenant_1, pgdpr_staff").format(
        sql.Identifier(names["staff"])))
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_tenant_1, pgdpr_staff, pgdpr_erasure").format(
        sql.Identifier(names["eraser"])))
    yield names
    conn.execute("RESET ROLE")


def as_role(conn, role: str) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def tick(conn) -> None:
    conn.execute("CALL gdpr.tick(now() + interval '1 day')")


def test_an_erasing_action_under_a_non_erasing_name_erases_nothing_for_staff(conn, club, roles):
    """The review's repro: an admin registers the erasing function under a name marked
    erases = false; staff without the erasure right put it in a rule; the ticker runs it."""
    conn.execute("SELECT gdpr.register_action('tidy_up', 'gdpr.action_anonymise', 'tidy up', false)")
    as_role(conn, roles["staff"])
    rule = create_rule(conn, None, actions=["tidy_up"])
    conn.execute("RESET ROLE")
    tick(conn)
    assert anonymised(conn) == set()
    run = conn.execute("SELECT changed, error_count, errors -> 0 ->> 'sqlstate', author FROM gdpr.rule_run "
                       "WHERE rule_id = %s", (rule,)).fetchone()
    assert run == (0, 3, "42501", roles["staff"])
    assert conn.execute("SELECT count(*) FROM gdpr.erasure_ledger").fetchone()[0] == 0
    # by hand, the admin cannot carry out the staff member's rule either
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["changed"] == 0 and anonymised(conn) == set()


def test_the_ledger_names_the_rule_and_its_author(conn, club, roles):
    """An eraser's rule, run by the ticker: the ledger's actor is the author, not the ticker."""
    as_role(conn, roles["eraser"])
    rule = create_rule(conn, None, actions=["anonymise"])
    conn.execute("RESET ROLE")
    tick(conn)
    assert anonymised(conn) == {c.id for c in club}
    ledger = conn.execute("SELECT DISTINCT actor, rule_id, reason_category FROM gdpr.erasure_ledger").fetchall()
    assert ledger == [(roles["eraser"], rule, "rule")]
    exported = conn.execute("SELECT DISTINCT actor, rule_id FROM gdpr.ledger_export()").fetchall()
    assert exported == [(roles["eraser"], rule)]
    history = conn.execute("SELECT author, started_by, changed FROM gdpr.rule_history(%s)", (rule,)).fetchone()
    assert history[0] == roles["eraser"] and history[2] == 3
    event = conn.execute("SELECT details FROM gdpr.audit_event WHERE action = 'rule_run'").fetchone()[0]
    assert event["author"] == roles["eraser"] and event["rule_id"] == rule


def test_a_rule_whose_author_lost_the_erasure_right_does_not_run(conn, club, roles):
    as_role(conn, roles["eraser"])
    rule = create_rule(conn, None, actions=["anonymise"])
    conn.execute("RESET ROLE")
    conn.execute(sql.SQL("REVOKE pgdpr_erasure FROM {}").format(sql.Identifier(roles["eraser"])))
    tick(conn)
    assert anonymised(conn) == set()
    reason = f"refused: the rule's author {roles['eraser']} may no longer erase (pgdpr_erasure or pgdpr_admin)"
    run = conn.execute("SELECT changed, finished_at IS NOT NULL, stopped, author FROM gdpr.rule_run "
                       "WHERE rule_id = %s", (rule,)).fetchone()
    assert run == (0, True, reason, roles["eraser"])
    # an admin running it by hand meets the same refusal: the rule is its author's
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["stopped"] == reason and anonymised(conn) == set()
    # someone with the right takes it over by enabling it again: it runs, as theirs
    conn.execute(sql.SQL("GRANT pgdpr_erasure TO {}").format(sql.Identifier(roles["staff"])))
    as_role(conn, roles["staff"])
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule,))
    conn.execute("SELECT gdpr.enable_rule(%s)", (rule,))
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    conn.execute("RESET ROLE")
    assert result["changed"] == 3 and result["author"] == roles["staff"]
    assert {r[0] for r in conn.execute("SELECT DISTINCT actor FROM gdpr.erasure_ledger")} == {roles["staff"]}


def test_a_right_lost_midway_stops_the_run_at_the_next_batch(conn, club, roles):
    as_role(conn, roles["eraser"])
    rule = create_rule(conn, None, actions=["anonymise"])
    run = conn.execute("SELECT gdpr.start_manual_run(%s)", (rule,)).fetchone()[0]
    assert conn.execute("SELECT gdpr.run_batch(%s, 1)", (run,)).fetchone()[0]["changed"] == 1
    conn.execute("RESET ROLE")
    conn.execute(sql.SQL("REVOKE pgdpr_erasure FROM {}").format(sql.Identifier(roles["eraser"])))
    result = conn.execute("SELECT gdpr.run_batch(%s, 1)", (run,)).fetchone()[0]  # the admin drives it on
    assert result["done"] and result["changed"] == 1 and "may no longer erase" in result["stopped"]
    assert len(anonymised(conn)) == 1


def test_a_rule_whose_author_left_the_club_does_not_run(conn, club, roles):
    as_role(conn, roles["staff"])
    rule = create_rule(conn, None, actions=[{"name": "queue_message", "params": {"template": "x"}}])
    conn.execute("RESET ROLE")
    conn.execute(sql.SQL("REVOKE pgdpr_tenant_1 FROM {}").format(sql.Identifier(roles["staff"])))
    tick(conn)
    stopped = conn.execute("SELECT stopped FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone()[0]
    assert stopped == f"refused: the rule's author {roles['staff']} no longer belongs to club 1"
    assert conn.execute("SELECT count(*) FROM gdpr.outbox").fetchone()[0] == 0


def test_history_and_show_name_the_author(conn, club, roles, run_cli):
    as_role(conn, roles["staff"])
    rule = create_rule(conn, None)
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT gdpr.show_rule(%s) ->> 'author'", (rule,)).fetchone()[0] == roles["staff"]
    # an admin changing the rule takes it over (the audit trail keeps who did what)
    conn.execute("SELECT gdpr.change_rule(%s, p_description => 'ny')", (rule,))
    admin = conn.execute("SELECT current_user").fetchone()[0]
    assert conn.execute("SELECT author FROM gdpr.rule WHERE id = %s", (rule,)).fetchone()[0] == admin
    tick(conn)
    out = run_cli("rules", "history", str(rule))
    assert out.exit_code == 0 and f"author {admin}" in out.output
