"""A subject whose processing is restricted (GDPR Art. 18) is kept out of every rule:
the preview holds it back and a run does not touch it; lifting the restriction
makes it eligible again."""

from __future__ import annotations

from factory import make_club
from test_rules import create_rule, inactive


def test_a_restricted_subject_is_held_back_from_rules(conn):
    make_club(conn, 1)
    restricted, free = inactive(conn, 1), inactive(conn, 1)
    rule = create_rule(conn)
    rid = conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'accuracy_contested', NULL, NULL, NULL, '1')",
                       (str(restricted.id),)).fetchone()[0]
    preview = conn.execute("SELECT gdpr.preview_rule(%s)", (rule,)).fetchone()[0]
    assert {int(k) for k in preview["sample"]} == {free.id}
    assert preview["held_back"].get("restricted") == 1
    conn.execute("SELECT gdpr.lift_restriction(%s)", (rid,))
    preview = conn.execute("SELECT gdpr.preview_rule(%s)", (rule,)).fetchone()[0]
    assert {int(k) for k in preview["sample"]} == {free.id, restricted.id}


def test_the_insight_report_shows_the_restriction(conn):
    make_club(conn, 1)
    customer = inactive(conn, 1)
    report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),)).fetchone()[0]
    assert report["subject"]["restricted"] is False
    conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'objection_pending', NULL, NULL, NULL, '1')",
                 (str(customer.id),))
    report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),)).fetchone()[0]
    assert report["subject"]["restricted"] is True
    assert report["subject"]["age_band"] in ("adult", "under_18", "under_13", None)


def test_a_club_without_an_erasing_rule_is_warned(conn):
    """Storage limitation (Art. 5(1)(e)): the record of processing says so when no
    enabled rule of the club erases, and stops saying so once one does."""
    make_club(conn, 1)
    warnings = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]["warnings"]
    assert any("no enabled rule that erases" in w for w in warnings)
    create_rule(conn, actions=[{"name": "anonymise"}])
    warnings = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]["warnings"]
    assert not any("no enabled rule that erases" in w for w in warnings)
