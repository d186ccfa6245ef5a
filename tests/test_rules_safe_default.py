"""Rules are safe by default (GDPR Art. 5(1)(e), 25(2); docs/rules.md "Conditions"): a
rule with no condition at all is refused (whatever its action), and a customer who joined
within the inactivity period is not eligible: eligibility counts from the later of
joining and the last activity."""

from __future__ import annotations

import json

import psycopg
import pytest

from factory import make_club, make_customer
from test_rules import create_rule, independent_count, settle

MESSAGE = [{"name": "queue_message", "params": {"template": "x"}}]


def joined(conn, club_id: int, days_ago: int, months_inactive: int | None = None):
    """A customer who joined `days_ago` days ago; with months_inactive None, no activity,
    account movement or reservation at all since (a member who never came)."""
    c = make_customer(conn, club_id, months_inactive=months_inactive or 0,
                      rows_per_table=0 if months_inactive is None else 1)
    if months_inactive is not None:
        settle(conn, c, months_inactive)
    conn.execute("UPDATE club.customers SET member_since = current_date - %s WHERE id = %s", (days_ago, c.id))
    return c


def test_a_customer_who_joined_within_the_period_is_not_eligible(conn):
    make_club(conn, 1)
    new = joined(conn, 1, 60)            # joined two months ago, never came
    new_old_rows = joined(conn, 1, 60, months_inactive=8)  # rows dated before joining (an import)
    old = joined(conn, 1, 400)           # joined over a year ago, never came
    boundary = joined(conn, 1, 0)
    conn.execute("""UPDATE club.customers SET member_since =
                      ((now() AT TIME ZONE 'Europe/Copenhagen') - interval '6 months')::date WHERE id = %s""",
                 (boundary.id,))
    rule = create_rule(conn, actions=MESSAGE)  # can_be_anonymised, 6 months each
    preview = conn.execute("SELECT gdpr.preview_rule(%s)", (rule,)).fetchone()[0]
    assert {int(k) for k in preview["sample"]} == {old.id, boundary.id}
    assert independent_count(conn, 1) == {old.id, boundary.id}
    # the longest given period counts: 12 months without an activity asked, so the member
    # of six months is not eligible, the member of 400 days is
    twelve = create_rule(conn, conditions=[{"name": "can_be_anonymised", "params": {
        "no_account_movement_months": 3, "no_activity_months": 12, "no_reservation_months": None}}], actions=MESSAGE)
    assert conn.execute("SELECT gdpr.preview_rule(%s)", (twelve,)).fetchone()[0]["sample"] == [str(old.id)]
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["changed"] == 2
    assert {r[0] for r in conn.execute("SELECT subject_key FROM gdpr.outbox")} == {str(old.id), str(boundary.id)}


@pytest.mark.parametrize("actions", [MESSAGE, ["anonymise"]], ids=["message", "anonymise"])
def test_a_rule_with_no_condition_is_refused(conn, actions):
    make_club(conn, 1)
    for conditions in ([], {}, [{"name": "can_be_anonymised", "params": {
            "no_account_movement_months": None, "no_activity_months": None, "no_reservation_months": None}}]):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="condition"):
            conn.execute("SELECT gdpr.create_rule('1', 'alle', 'daily 08:00', 'once', %s::jsonb, %s::jsonb)",
                         (json.dumps(conditions), json.dumps(actions)))
    # nor can a rule lose its conditions later
    rule = create_rule(conn, actions=actions)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="a rule needs at least one condition"):
        conn.execute("SELECT gdpr.change_rule(%s, p_conditions => '[]')", (rule,))
    assert conn.execute("SELECT count(*) FROM gdpr.rule").fetchone()[0] == 1


def test_cli_refuses_a_rule_without_a_condition_in_one_line(conn, run_cli):
    make_club(conn, 1)
    result = run_cli("rules", "create", "--club", "1", "--name", "Nyhedsbrev", "--daily", "08:00",
                     "--action", "queue_message", "--template", "nyhed")
    assert result.exit_code == 1 and "a rule needs at least one condition" in result.output
    assert len(result.output.strip().splitlines()) == 1
    off = run_cli("rules", "create", "--club", "1", "--name", "Alle", "--daily", "08:00",
                  "--no-account-activity-months", "off", "--no-activity-months", "off",
                  "--no-reservation-months", "off", "--action", "queue_message", "--template", "nyhed")
    assert off.exit_code == 1 and "selects every subject" in off.output
    assert conn.execute("SELECT count(*) FROM gdpr.rule").fetchone()[0] == 0
