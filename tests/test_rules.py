"""Trigger rules (issue 6; seed S4 automatic anonymisation, S5 legal holds): definition and
validation, preview against an independent count, runs, built-in safety, cap, frequency,
failures, audit, and who may do what."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from factory import make_club, make_customer


def settle(conn, customer, months_ago: int) -> None:
    """The factory books two -299.00 charges; a payment of 598.00 clears the balance."""
    conn.execute("""INSERT INTO club.account_movements (club_id, customer_id, amount, text, booked_at)
                    VALUES (%s, %s, 598.00, 'Indbetaling', now() - make_interval(months => %s) - interval '3 days')""",
                 (customer.club_id, customer.id, months_ago))


def inactive(conn, club_id: int, months: int = 8):
    customer = make_customer(conn, club_id, months_inactive=months, rows_per_table=1)
    settle(conn, customer, months)
    return customer


def create_rule(conn, tenant="1", *, schedule="daily 08:00", frequency="once", conditions=None, actions=None,
                cap=1000, **kw) -> int:
    conditions = [{"name": "can_be_anonymised"}] if conditions is None else conditions
    actions = [{"name": "queue_message", "params": {"template": "farvel"}}] if actions is None else actions
    return conn.execute("SELECT gdpr.create_rule(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, 'customer', %s)",
                        (tenant, kw.get("name", "Inaktive kunder"), schedule, frequency, json.dumps(conditions),
                         json.dumps(actions), cap, kw.get("time_zone"))).fetchone()[0]


def hold(conn, customer, until="NULL"):
    conn.execute(f"""INSERT INTO gdpr.legal_hold (kind, tenant, subject_key, hold_type, reason, created_by, until)
                     VALUES ('customer', %s, %s, 'doping', 'sag 42', 'test', {until})""",
                 (str(customer.club_id), str(customer.id)))


def independent_count(conn, club_id: int, months=(6, 6, 6)) -> set[int]:
    """Hand-written SQL for the same thresholds and the same built-in safety."""
    rows = conn.execute("""
        SELECT c.id FROM club.customers c
         WHERE c.club_id = %(club)s AND c.anonymized_at IS NULL
           AND c.member_since <= ((now() AT TIME ZONE 'Europe/Copenhagen')
                                  - make_interval(months => GREATEST(%(m)s, %(a)s, %(r)s)))::date
           AND NOT EXISTS (SELECT FROM club.account_movements m WHERE m.club_id = c.club_id AND m.customer_id = c.id
                            AND m.booked_at > now() - make_interval(months => %(m)s))
           AND NOT EXISTS (SELECT FROM club.activities a WHERE a.club_id = c.club_id AND a.customer_id = c.id
                            AND a.occurred_at > now() - make_interval(months => %(a)s))
           AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                            AND r.starts_at > now() - make_interval(months => %(r)s))
           AND NOT EXISTS (SELECT FROM gdpr.legal_hold h WHERE h.kind = 'customer' AND h.tenant = c.club_id::text
                            AND h.subject_key = c.id::text AND h.cleared_at IS NULL
                            AND (h.until IS NULL OR h.until > now()))
           AND COALESCE((SELECT sum(m.amount) FROM club.account_movements m
                          WHERE m.club_id = c.club_id AND m.customer_id = c.id), 0) >= 0
           AND NOT EXISTS (SELECT FROM club.table_bookings b WHERE b.club_id = c.club_id AND b.customer_id = c.id
                            AND b.booked_for > now())
           AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                            AND r.ends_at > now())""",
                        {"club": club_id, "m": months[0], "a": months[1], "r": months[2]}).fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def club(conn):
    """Club 1 with one customer of each kind the rule must tell apart, and club 2."""
    make_club(conn, 1)
    make_club(conn, 2)
    people = {
        "active": make_customer(conn, 1, months_inactive=0, rows_per_table=1),
        "recent": inactive(conn, 1, months=4),
        "eligible": [inactive(conn, 1) for _ in range(3)],
        "debtor": make_customer(conn, 1, months_inactive=8, rows_per_table=1),  # -299 never paid
        "booked": inactive(conn, 1),
        "held": inactive(conn, 1),
        "other_club": inactive(conn, 2),
    }
    conn.execute("""INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size)
                    VALUES (1, %s, now() + interval '10 days', 2)""", (people["booked"].id,))
    hold(conn, people["held"])
    return people


def test_preview_equals_independent_count_and_changes_nothing(conn, club):
    rule = create_rule(conn)
    expected = independent_count(conn, 1)
    assert expected == {c.id for c in club["eligible"]}
    before = conn.execute("SELECT count(*) FROM gdpr.outbox").fetchone()[0]
    preview = conn.execute("SELECT gdpr.preview_rule(%s)", (rule,)).fetchone()[0]
    assert preview["count"] == len(expected)
    assert {int(k) for k in preview["sample"]} == expected
    assert preview["held_back"] == {"legal_hold": 1, "open_balance": 1, "future_booking": 1, "restricted": 0}
    assert conn.execute("SELECT count(*) FROM gdpr.outbox").fetchone()[0] == before
    assert conn.execute("SELECT count(*) FROM gdpr.rule_run").fetchone()[0] == 0
    # other thresholds, one left out: still the independent count
    rule2 = create_rule(conn, conditions=[{"name": "can_be_anonymised", "params": {
        "no_account_movement_months": 3, "no_activity_months": 3, "no_reservation_months": None}}])
    expected2 = independent_count(conn, 1, months=(3, 3, 0))
    assert conn.execute("SELECT gdpr.preview_rule(%s)", (rule2,)).fetchone()[0]["count"] == len(expected2)
    assert club["recent"].id in expected2


def test_run_anonymises_exactly_the_eligible(conn, club):
    rule = create_rule(conn, actions=[{"name": "anonymise"}])
    expected = independent_count(conn, 1)
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["done"] and result["changed"] == len(expected) == result["candidates"]
    anonymised = {r[0] for r in conn.execute("SELECT id FROM club.customers WHERE anonymized_at IS NOT NULL")}
    assert anonymised == expected
    assert result["skipped"] == {"legal_hold": 1, "open_balance": 1, "future_booking": 1}
    # nothing of them is left in the free text
    for c in club["eligible"]:
        assert conn.execute("SELECT count(*) FROM club.log_lines WHERE text LIKE %s", (f"%{c.phone}%",)
                            ).fetchone()[0] == 0
    # a second run finds no one
    assert conn.execute("SELECT gdpr.preview_rule(%s)", (rule,)).fetchone()[0]["count"] == 0


def test_held_customer_skipped_until_the_hold_expires(conn, club):
    held = club["held"]
    conn.execute("UPDATE gdpr.legal_hold SET until = now() + interval '30 days'")
    rule = create_rule(conn, actions=[{"name": "anonymise"}])
    conn.execute("SELECT gdpr.run_rule(%s)", (rule,))
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (held.id,)).fetchone()[0] is None
    # the hold runs out: the next run anonymises the customer
    conn.execute("UPDATE gdpr.legal_hold SET until = now() - interval '1 minute'")
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["changed"] == 1
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (held.id,)).fetchone()[0] is not None


def test_hold_placed_between_selection_and_erasure_is_respected(conn, club):
    """The erasure re-checks holds itself: a 'held' outcome is a skip, not a change."""
    rule = create_rule(conn, actions=[{"name": "anonymise"}])
    out = conn.execute("SELECT * FROM gdpr.action_anonymise(%s, NULL, 'customer', '1', %s, '{}')",
                       (rule, [str(club["held"].id)])).fetchall()
    assert [o[1] for o in out] == ["held"]


def test_cap_reports_and_the_rest_waits(conn, club):
    rule = create_rule(conn, cap=2)
    first = conn.execute("SELECT gdpr.run_rule(%s, now(), 1)", (rule,)).fetchone()[0]
    assert first["changed"] == 2 and first["capped"] and first["candidates"] == 3
    second = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert second["changed"] == 1 and not second["capped"]
    third = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert third["changed"] == 0 and third["candidates"] == 0
    assert conn.execute("SELECT count(*), count(DISTINCT subject_key) FROM gdpr.outbox").fetchone() == (3, 3)


def test_frequency_once_and_every_n_days(conn, club):
    once = create_rule(conn)
    weekly = create_rule(conn, frequency="every 7 days", actions=[{"name": "queue_message",
                                                                  "params": {"template": "hej"}}])
    for rule in (once, weekly):
        assert conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]["changed"] == 3
        assert conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]["changed"] == 0
    # eight days later the weekly rule fires again, the once-rule never
    later = "now() + interval '8 days'"
    assert conn.execute(f"SELECT gdpr.run_rule(%s, {later})", (once,)).fetchone()[0]["changed"] == 0
    assert conn.execute(f"SELECT gdpr.run_rule(%s, {later})", (weekly,)).fetchone()[0]["changed"] == 3


def test_failing_subject_recorded_without_aborting_the_run(conn, club):
    bad = club["eligible"][1]
    conn.execute(f"""CREATE FUNCTION public.refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN IF NEW.subject_key = '{bad.id}' THEN
                       RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$""")
    conn.execute("CREATE TRIGGER refuse_one BEFORE INSERT ON gdpr.outbox FOR EACH ROW EXECUTE FUNCTION public.refuse_one()")
    rule = create_rule(conn)
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["done"] and result["changed"] == 2 and result["error_count"] == 1
    errors = conn.execute("SELECT errors FROM gdpr.rule_run WHERE id = %s", (result["run_id"],)).fetchone()[0]
    assert errors == [{"subject_key": str(bad.id), "sqlstate": "23514", "constraint": None, "table": None,
                       "action": "queue_message"}]
    # the failed subject was not marked as fired: the next run retries it
    conn.execute("DROP TRIGGER refuse_one ON gdpr.outbox")
    assert conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]["changed"] == 1


@pytest.mark.parametrize("change, message", [
    ({"conditions": [{"name": "nope"}]}, 'unknown condition "nope"'),
    ({"actions": [{"name": "explode"}]}, 'unknown action "explode"'),
    ({"conditions": [{"name": "can_be_anonymised", "params": {"no_activity_months": -3}}]},
     "no_activity_months must be between 0 and 1200"),
    ({"conditions": [{"name": "can_be_anonymised", "params": {"no_activity_months": 2.5}}]},
     "no_activity_months must be a whole number"),
    ({"conditions": [{"name": "can_be_anonymised", "params": {"months": 6}}]}, "has no parameter months"),
    ({"schedule": "every tuesday-ish"}, 'unparseable schedule "every tuesday-ish"'),
    ({"schedule": "daily 25:00"}, "the time must be HH:MM"),
    ({"schedule": "0 8 * * 9"}, 'day-of-week field "9" is out of range'),
    ({"schedule": "0 8 31 2 *"}, "never fires"),
    ({"time_zone": "Europe/Atlantis"}, 'unknown time zone "Europe/Atlantis"'),
    ({"frequency": "sometimes"}, 'unknown frequency "sometimes"'),
    ({"frequency": "every 0 days"}, "at least every 1 day"),
    ({"conditions": [], "actions": [{"name": "anonymise"}]}, "a rule needs at least one condition"),
    ({"conditions": []}, "a rule needs at least one condition (known: birthday_today, can_be_anonymised)"),
    ({"conditions": [{"name": "can_be_anonymised", "params": {"no_account_movement_months": None,
                                                              "no_activity_months": None,
                                                              "no_reservation_months": None}}]},
     'condition "can_be_anonymised" with these parameters selects every subject'),
    ({"actions": []}, "at least one action"),
    ({"actions": [{"name": "queue_message"}]}, "needs the parameter template"),
    ({"cap": 0}, "at least 1"),
])
def test_bad_input_refused_naming_what_is_wrong(conn, change, message):
    make_club(conn, 1)
    args = {"schedule": "daily 08:00", "frequency": "once", "conditions": None, "actions": None, "cap": 1000,
            "time_zone": None} | change
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        create_rule(conn, schedule=args["schedule"], frequency=args["frequency"], conditions=args["conditions"],
                    actions=args["actions"], cap=args["cap"], time_zone=args["time_zone"])
    assert message in str(err.value)
    assert conn.execute("SELECT count(*) FROM gdpr.rule").fetchone()[0] == 0


def test_schedule_forms_and_club_time_zone(conn):
    make_club(conn, 1)
    make_club(conn, 3, time_zone="America/New_York")
    forms = {"daily 8:05": "5 8 * * *", "weekly monday 07:30": "30 7 * * mon", "monthly 1 06:00": "0 6 1 * *",
             "*/15  6-22 * * 1-5": "*/15 6-22 * * 1-5"}
    for given, normal in forms.items():
        assert conn.execute("SELECT gdpr.normalize_schedule(%s)", (given,)).fetchone()[0] == normal
    assert conn.execute("SELECT time_zone FROM gdpr.rule WHERE id = %s", (create_rule(conn, "1"),)).fetchone()[0] \
        == "Europe/Copenhagen"
    assert conn.execute("SELECT time_zone FROM gdpr.rule WHERE id = %s", (create_rule(conn, "3"),)).fetchone()[0] \
        == "America/New_York"


def test_change_enable_disable_delete_are_audited(conn, club):
    rule = create_rule(conn)
    conn.execute("""SELECT gdpr.change_rule(%s, p_schedule => 'weekly fri 09:00',
                    p_conditions => '{"can_be_anonymised": {"no_activity_months": 12}}')""", (rule,))
    shown = conn.execute("SELECT gdpr.show_rule(%s)", (rule,)).fetchone()[0]
    assert shown["schedule"] == "0 9 * * fri"
    assert shown["conditions"][0]["params"]["no_activity_months"] == 12
    assert shown["conditions"][0]["params"]["no_account_movement_months"] == 6
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule,))
    conn.execute("SELECT gdpr.enable_rule(%s)", (rule,))
    conn.execute("SELECT gdpr.delete_rule(%s)", (rule,))
    actions = [r[0] for r in conn.execute(
        "SELECT action FROM gdpr.audit_event WHERE details ->> 'rule_id' = %s ORDER BY id", (str(rule),))]
    assert actions == ["rule_create", "rule_change", "rule_disable", "rule_enable", "rule_delete"]
    assert conn.execute("SELECT count(*) FROM gdpr.list_rules('1')").fetchone()[0] == 0
    with pytest.raises(psycopg.errors.NoDataFound):
        conn.execute("SELECT gdpr.show_rule(%s)", (rule,))


def test_a_registered_condition_and_action_by_a_dba(conn, club):
    """The registries are open: a DBA adds a condition by name, the documented way (a
    superuser creates the function and gives it to pgdpr_owner; a pgdpr_admin registers it)."""
    conn.execute("""CREATE FUNCTION public.cond_no_email(p_alias text, p_params jsonb, p_ref text) RETURNS text
                    LANGUAGE sql AS $$ SELECT format('%I.email IS NULL', p_alias) $$""")
    conn.execute("ALTER FUNCTION public.cond_no_email(text, jsonb, text) OWNER TO pgdpr_owner")
    dba = f"dba_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE ROLE {dba} NOLOGIN IN ROLE pgdpr_admin")
    try:
        conn.execute(f"SET ROLE {dba}")
        conn.execute("SELECT gdpr.register_condition('no_email', 'public.cond_no_email', 'No e-mail address on file')")
    finally:
        conn.execute("RESET ROLE")
        conn.execute(f"DROP ROLE {dba}")
    conn.execute("UPDATE club.customers SET email = NULL WHERE id = %s", (club["eligible"][0].id,))
    rule = create_rule(conn, conditions=["can_be_anonymised", "no_email"])
    assert conn.execute("SELECT gdpr.preview_rule(%s)", (rule,)).fetchone()[0]["sample"] == [str(club["eligible"][0].id)]
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="must take"):
        conn.execute("SELECT gdpr.register_condition('bad', 'pg_catalog.now', 'not a builder')")


def test_birthday_message_rule(conn):
    """The seed's birthday-mail example, as a non-erasing rule."""
    make_club(conn, 1)
    c = make_customer(conn, 1, months_inactive=1, rows_per_table=1)
    settle(conn, c, 1)  # the built-in safety holds for every rule: no message to a debtor either
    conn.execute("UPDATE club.customers SET birth_date = (now() AT TIME ZONE 'Europe/Copenhagen')::date - "
                 "interval '30 years' WHERE id = %s", (c.id,))
    make_customer(conn, 1, rows_per_table=1)
    rule = create_rule(conn, conditions=["birthday_today"], frequency="every 300 days",
                       actions=[{"name": "queue_message", "params": {"template": "tillykke"}}])
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    assert result["changed"] == 1
    assert conn.execute("SELECT subject_key, template FROM gdpr.outbox").fetchall() == [(str(c.id), "tillykke")]


# --- who may do what --------------------------------------------------------------------

@pytest.fixture
def staff(conn):
    """A staff role of club 1, of club 2, and a role with no grants at all."""
    suffix = uuid.uuid4().hex[:8]
    roles = {"club1": f"staff1_{suffix}", "club2": f"staff2_{suffix}", "nobody": f"nobody_{suffix}"}
    for club_id in (1, 2):
        conn.execute("SELECT gdpr.ensure_tenant_role(%s)", (str(club_id),))
    conn.execute(f"CREATE ROLE {roles['club1']} NOLOGIN IN ROLE pgdpr_tenant_1, pgdpr_staff")
    conn.execute(f"CREATE ROLE {roles['club2']} NOLOGIN IN ROLE pgdpr_tenant_2, pgdpr_staff")
    conn.execute(f"CREATE ROLE {roles['nobody']} NOLOGIN")
    roles["eraser"] = f"eraser1_{suffix}"
    conn.execute(f"CREATE ROLE {roles['eraser']} NOLOGIN IN ROLE pgdpr_tenant_1, pgdpr_staff, pgdpr_erasure")
    roles["dba"] = f"dba_{suffix}"
    conn.execute(f"CREATE ROLE {roles['dba']} NOLOGIN IN ROLE pgdpr_admin")
    yield roles
    conn.execute("RESET ROLE")
    for role in roles.values():
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_staff_manage_their_own_club_only(conn, club, staff):
    rule_1 = create_rule(conn, "1")
    rule_2 = create_rule(conn, "2")
    conn.execute(f"SET ROLE {staff['club1']}")
    own = create_rule(conn, None)  # staff: their own club
    assert {r[0] for r in conn.execute("SELECT id FROM gdpr.list_rules()")} == {rule_1, own}
    assert conn.execute("SELECT gdpr.preview_rule(%s)", (rule_1,)).fetchone()[0]["count"] == 3
    for sql in ("SELECT gdpr.show_rule(%s)", "SELECT gdpr.preview_rule(%s)", "SELECT gdpr.run_rule(%s)",
                "SELECT gdpr.disable_rule(%s)", "SELECT gdpr.delete_rule(%s)", "SELECT * FROM gdpr.rule_history(%s)"):
        with pytest.raises(psycopg.errors.NoDataFound, match=f"no rule {rule_2}"):
            conn.execute(sql, (rule_2,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        create_rule(conn, "2")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM gdpr.list_rules('2')")
    for table in ("gdpr.rule", "gdpr.rule_run", "gdpr.outbox", "gdpr.rule_subject"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SELECT * FROM {table}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the ticker is not staff's
        conn.execute("CALL gdpr.tick()")
    for sql in ("SELECT gdpr.tick_claim(now())", "SELECT gdpr.abort_run(1, 'x')",
                "SELECT gdpr.start_run(r, now(), 'manual', now()) FROM gdpr.rule r"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)
    conn.execute("RESET ROLE")
    other_run = conn.execute("SELECT gdpr.start_manual_run(%s)", (rule_2,)).fetchone()[0]
    conn.execute(f"SET ROLE {staff['club1']}")
    # another club's run answers exactly like a run that does not exist (F8)
    with pytest.raises(psycopg.errors.NoDataFound) as other:
        conn.execute("SELECT gdpr.run_batch(%s)", (other_run,))
    with pytest.raises(psycopg.errors.NoDataFound) as missing:
        conn.execute("SELECT gdpr.run_batch(%s)", (other_run + 1000,))
    assert other.value.diag.message_primary == f"no run {other_run}"
    assert missing.value.diag.message_primary == f"no run {other_run + 1000}"
    with pytest.raises(psycopg.errors.NoDataFound):
        conn.execute("SELECT gdpr.start_manual_run(%s)", (rule_2,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.register_condition('x', 'pg_catalog.now', 'x')")
    conn.execute("RESET ROLE")
    conn.execute(f"SET ROLE {staff['nobody']}")
    for sql in ("SELECT gdpr.preview_rule(%s)" % rule_1, "SELECT * FROM gdpr.list_rules()",
                "SELECT gdpr.run_rule(%s)" % rule_1, "SELECT * FROM gdpr.rule"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)
    conn.execute("RESET ROLE")


ZERO_MONTHS = [{"name": "can_be_anonymised", "params": {
    "no_account_movement_months": 0, "no_activity_months": 0, "no_reservation_months": 0}}]


def anonymised(conn) -> set[int]:
    return {r[0] for r in conn.execute("SELECT id FROM club.customers WHERE anonymized_at IS NOT NULL")}


def test_staff_without_the_erasure_right_cannot_erase_through_a_rule(conn, club, staff):
    """F1 (security review): a staff member who is not in pgdpr_erasure can neither put an
    erasing action in a rule, nor change, enable or run one; the reviewer's repro fails."""
    erasing = create_rule(conn, "1", actions=["anonymise"])  # by an admin
    conn.execute("SELECT gdpr.disable_rule(%s)", (erasing,))
    started = conn.execute("SELECT gdpr.start_manual_run(%s)", (erasing,)).fetchone()[0]
    conn.execute(f"SET ROLE {staff['club1']}")
    # the reviewer's repro: create an erasing rule with no thresholds and run it in 2999
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="members of pgdpr_erasure may create"):
        conn.execute("""SELECT gdpr.create_rule('1', 'cleanup', 'daily 03:00', 'once', %s::jsonb, '["anonymise"]',
                        1000, 'customer', NULL, false)""", (json.dumps(ZERO_MONTHS),))
    refused = {
        "SELECT gdpr.run_rule(%s)": "members of pgdpr_erasure may run",
        "SELECT gdpr.start_manual_run(%s)": "members of pgdpr_erasure may run",
        "SELECT gdpr.enable_rule(%s)": "members of pgdpr_erasure may enable",
        "SELECT gdpr.change_rule(%s, p_description => 'x')": "members of pgdpr_erasure may change",
        "SELECT gdpr.change_rule(%s, p_actions => '[{\"name\": \"queue_message\", \"params\": {\"template\": \"x\"}}]')":
            "members of pgdpr_erasure may change",
    }
    for sql, message in refused.items():
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=message):
            conn.execute(sql, (erasing,))
    # nor by driving a run an eraser started
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="members of pgdpr_erasure may run"):
        conn.execute("SELECT gdpr.run_batch(%s)", (started,))
    # nor by turning a message rule of its own into an erasing one
    own = create_rule(conn, None)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="members of pgdpr_erasure may change"):
        conn.execute("""SELECT gdpr.change_rule(%s, p_actions => '["anonymise"]')""", (own,))
    # nor by calling the action itself (it runs as its caller, not as a definer)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM gdpr.action_anonymise(1, NULL, 'customer', '1', %s, '{}')",
                     ([str(club["eligible"][0].id)],))
    # what is harmless stays allowed: preview, show, disable
    assert conn.execute("SELECT gdpr.preview_rule(%s)", (erasing,)).fetchone()[0]["count"] == 3
    conn.execute("SELECT gdpr.disable_rule(%s)", (erasing,))
    conn.execute("RESET ROLE")
    assert anonymised(conn) == set()
    assert conn.execute("SELECT changed, finished_at FROM gdpr.rule_run WHERE id = %s", (started,)).fetchone() \
        == (0, None)


def test_a_member_of_pgdpr_erasure_creates_and_runs_an_erasing_rule(conn, club, staff):
    """The legitimate path of F1: staff in pgdpr_erasure erase through a rule of their club."""
    conn.execute(f"SET ROLE {staff['eraser']}")
    rule = create_rule(conn, None, actions=["anonymise"])
    conn.execute("SELECT gdpr.change_rule(%s, p_description => 'Anonymiser inaktive (6 mdr.)')", (rule,))
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule,))
    conn.execute("SELECT gdpr.enable_rule(%s)", (rule,))
    result = conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]
    conn.execute("RESET ROLE")
    assert result["changed"] == 3 and anonymised(conn) == {c.id for c in club["eligible"]}


def test_only_an_admin_picks_the_rules_now(conn, club, staff):
    """F1 (b): staff cannot pass a p_now other than now(); the ticker and admins can."""
    rule = create_rule(conn, "1")
    conn.execute(f"SET ROLE {staff['eraser']}")
    for sql in ("SELECT gdpr.preview_rule(%s, '2999-01-01')", "SELECT gdpr.run_rule(%s, '2999-01-01')",
                "SELECT gdpr.start_manual_run(%s, now() - interval '1 day')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an admin may evaluate a rule at another"):
            conn.execute(sql, (rule,))
    assert conn.execute("SELECT gdpr.preview_rule(%s, now())", (rule,)).fetchone()[0]["count"] == 3
    assert conn.execute("SELECT gdpr.preview_rule(%s, NULL)", (rule,)).fetchone()[0]["count"] == 3
    conn.execute("RESET ROLE")
    conn.execute(f"SET ROLE {staff['dba']}")
    assert conn.execute("SELECT gdpr.preview_rule(%s, now() + interval '1 day')", (rule,)).fetchone()[0]["count"] == 3
    conn.execute("RESET ROLE")


def test_no_now_switches_the_built_in_safety_off(conn, club):
    """F1 (c): the safety (future booking, legal hold, open balance) is evaluated at the real
    now(), whatever "now" an admin runs the rule at: the reviewer's 2999 run erases no booked,
    held or indebted customer."""
    conn.execute("UPDATE gdpr.legal_hold SET until = now() + interval '30 days'")
    rule = create_rule(conn, "1", conditions=ZERO_MONTHS, actions=["anonymise"])
    preview = conn.execute("SELECT gdpr.preview_rule(%s, '2999-01-01')", (rule,)).fetchone()[0]
    assert preview["held_back"] == {"legal_hold": 1, "open_balance": 2, "future_booking": 2, "restricted": 0}
    result = conn.execute("SELECT gdpr.run_rule(%s, '2999-01-01')", (rule,)).fetchone()[0]
    assert result["skipped"] == {"legal_hold": 1, "open_balance": 2, "future_booking": 2}
    safe = {club["booked"].id, club["held"].id, club["debtor"].id, club["active"].id}
    assert anonymised(conn) == {c.id for c in club["eligible"]} | {club["recent"].id}
    assert not safe & anonymised(conn)


def test_staff_per_run_cap_is_bounded(conn, club, staff):
    """F1 (d): staff set a per-run cap of at most 1,000; admins may set more."""
    big = create_rule(conn, "1", cap=50000)  # an admin's
    conn.execute(f"SET ROLE {staff['club1']}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="above 1000 needs an admin"):
        create_rule(conn, None, cap=1001)
    own = create_rule(conn, None, cap=1000)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="above 1000 needs an admin"):
        conn.execute("SELECT gdpr.change_rule(%s, p_max_subjects_per_run => 5000)", (own,))
    conn.execute("SELECT gdpr.change_rule(%s, p_description => 'ny')", (big,))  # the admin's cap stays
    conn.execute("SELECT gdpr.change_rule(%s, p_max_subjects_per_run => 10)", (big,))  # lowering is fine
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT max_subjects_per_run FROM gdpr.rule WHERE id = %s", (big,)).fetchone()[0] == 10


def test_an_admin_cannot_run_own_code_as_the_engine_owner(conn, club, staff):
    """F4a (security review): condition/action functions must be owned by pgdpr_owner or a
    superuser, checked when registered and when called; the registries take no direct writes."""
    dba, schema = staff["dba"], f"evil_{staff['dba']}"
    conn.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {dba}")
    conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO PUBLIC")
    conn.execute(f"CREATE TABLE {schema}.log (who name)")
    conn.execute(f"GRANT INSERT ON {schema}.log TO PUBLIC")
    evil = f"""CREATE OR REPLACE FUNCTION {schema}.cond(p_alias text, p_params jsonb, p_ref text) RETURNS text
               LANGUAGE plpgsql AS $$ BEGIN INSERT INTO {schema}.log VALUES (current_user); RETURN 'true'; END $$"""
    evil_action = f"""CREATE OR REPLACE FUNCTION {schema}.act(bigint, bigint, text, text, text[], jsonb)
                      RETURNS TABLE (subject_key text, outcome text, detail jsonb)
                      LANGUAGE plpgsql AS $$ BEGIN INSERT INTO {schema}.log VALUES (current_user); END $$"""
    conn.execute(f"SET ROLE {dba}")
    conn.execute(evil)
    conn.execute(evil_action)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"owned by {dba}, not by pgdpr_owner"):
        conn.execute(f"SELECT gdpr.register_condition('evil', '{schema}.cond', 'x')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"owned by {dba}, not by pgdpr_owner"):
        conn.execute(f"SELECT gdpr.register_action('evil', '{schema}.act', 'x')")
    for sql in (f"INSERT INTO gdpr.rule_condition (name, function, description) VALUES ('evil', '{schema}.cond', 'x')",
                f"INSERT INTO gdpr.rule_action (name, function, description) VALUES ('evil', '{schema}.act', 'x')",
                "UPDATE gdpr.rule_condition SET function = 'x' WHERE name = 'can_be_anonymised'",
                "DELETE FROM gdpr.rule_action", "UPDATE gdpr.rule_safety SET function = 'x'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)
    conn.execute("RESET ROLE")
    # rows written before this fix, or a function whose owner changed since registration:
    # refused at every call, before the function runs
    conn.execute(f"""INSERT INTO gdpr.rule_condition (name, function, description)
                     VALUES ('evil', '{schema}.cond', 'x'), ('later', '{schema}.later', 'x')""")
    conn.execute(f"INSERT INTO gdpr.rule_action (name, function, description) VALUES ('evil', '{schema}.act', 'x')")
    conn.execute(f"""CREATE FUNCTION {schema}.later(p_alias text, p_params jsonb, p_ref text) RETURNS text
                     LANGUAGE sql AS $$ SELECT format('%I.id > 0', p_alias) $$""")  # a superuser's: accepted
    later = create_rule(conn, "1", conditions=["later"], schedule="daily 08:00")
    conn.execute(f"ALTER FUNCTION {schema}.later(text, jsonb, text) OWNER TO {dba}")
    conn.execute(f"SET ROLE {dba}")
    conn.execute(evil.replace(".cond(", ".later("))  # its new owner replaces the body
    for sql in ("SELECT gdpr.preview_rule(%s)" % later, "SELECT gdpr.run_rule(%s)" % later,
                "SELECT gdpr.create_rule('1', 'x', 'daily 08:00', 'once', '[\"evil\"]', "
                "'[{\"name\": \"queue_message\", \"params\": {\"template\": \"x\"}}]')",
                "SELECT gdpr.create_rule('1', 'x', 'daily 08:00', 'once', '[]', '[\"evil\"]')",
                "SELECT gdpr.change_rule(%s, p_actions => '[\"evil\"]')" % later):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not by pgdpr_owner or a superuser"):
            conn.execute(sql)
    conn.execute("CALL gdpr.tick('2027-02-01 09:00+00')")  # the ticker records the rule as failed
    conn.execute("RESET ROLE")
    assert conn.execute(f"SELECT count(*) FROM {schema}.log").fetchone()[0] == 0
    failed = conn.execute("SELECT errors FROM gdpr.rule_run WHERE rule_id = %s", (later,)).fetchone()[0]
    assert failed == [{"stage": "start", "sqlstate": "42501"}]
    # an action whose function's owner changed after a rule was made: the batch is refused
    conn.execute(f"""CREATE FUNCTION {schema}.act2(bigint, bigint, text, text, text[], jsonb)
                     RETURNS TABLE (subject_key text, outcome text, detail jsonb)
                     LANGUAGE sql AS $$ SELECT NULL::text, NULL::text, NULL::jsonb WHERE false $$""")
    conn.execute(f"SELECT gdpr.register_action('act2', '{schema}.act2', 'x')")
    rule = create_rule(conn, "1", actions=["act2"])
    conn.execute(f"ALTER FUNCTION {schema}.act2(bigint, bigint, text, text, text[], jsonb) OWNER TO {dba}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not by pgdpr_owner or a superuser"):
        conn.execute("SELECT gdpr.run_rule(%s)", (rule,))
    conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_run_summary_and_errors_hold_no_personal_values(conn, club):
    rule = create_rule(conn)
    conn.execute("SELECT gdpr.run_rule(%s)", (rule,))
    stored = json.dumps([list(r) for r in conn.execute(
        "SELECT r.skipped, r.errors, a.details FROM gdpr.rule_run r, gdpr.audit_event a WHERE a.action LIKE 'rule%%'")],
        default=str)
    for c in club["eligible"]:
        for value in (c.first_name, c.last_name, c.email, c.phone, c.cpr):
            assert value not in stored


# --- CLI ----------------------------------------------------------------------------------

def test_cli_create_list_preview_run_history(conn, club, run_cli):
    result = run_cli("rules", "create", "--club", "1", "--name", "Anonymiser inaktive", "--daily", "08:00",
                     "--no-account-activity-months", "6", "--no-activity-months", "6",
                     "--no-reservation-months", "6", "--action", "queue_message", "--template", "farvel")
    assert result.exit_code == 0, result.output
    rule = conn.execute("SELECT max(id) FROM gdpr.rule").fetchone()[0]
    assert f"created rule {rule}" in result.output
    listed = run_cli("rules", "list", "--club", "1", "--format", "json")
    assert [r["id"] for r in json.loads(listed.output)] == [rule]
    preview = run_cli("rules", "preview", str(rule))
    assert "3 subject(s) eligible now" in preview.output and "legal_hold 1" in preview.output
    run = run_cli("rules", "run", str(rule))
    assert run.exit_code == 0 and "3 changed" in run.output
    history = json.loads(run_cli("rules", "history", str(rule), "--format", "json").output)
    assert history[0]["changed"] == 3 and history[0]["trigger"] == "manual"
    assert "finished" in run_cli("rules", "history", "--club", "1").output
    assert run_cli("rules", "disable", str(rule)).output.strip() == f"rule {rule} disabled"
    bad = run_cli("rules", "create", "--club", "1", "--name", "x", "--daily", "08:00", "--action", "explode")
    assert bad.exit_code == 1 and 'unknown action "explode"' in bad.output
    both = run_cli("rules", "create", "--club", "1", "--name", "x", "--daily", "08:00", "--cron", "* * * * *",
                   "--action", "anonymise")
    assert both.exit_code == 1 and "exactly one of" in both.output


def test_cli_refuses_erasing_rules_to_staff_without_the_right(conn, club, staff, run_cli, db_dsn):
    """F1 through the CLI: one clear line and exit 1 for staff outside pgdpr_erasure; the
    same commands work for a member of pgdpr_erasure."""
    from psycopg.conninfo import make_conninfo

    def as_role(role: str) -> str:  # the superuser's connection, acting as the role (gdpr.caller())
        return make_conninfo(db_dsn, options=f"-c role={role}")

    create = ("rules", "create", "--club", "1", "--name", "Oprydning", "--daily", "03:00", "--action", "anonymise")
    refused = run_cli(*create, dsn=as_role(staff["club1"]))
    assert refused.exit_code == 1 and "members of pgdpr_erasure may create" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    erasing = create_rule(conn, "1", actions=["anonymise"])
    for args in (("rules", "run", str(erasing)), ("rules", "enable", str(erasing))):
        result = run_cli(*args, dsn=as_role(staff["club1"]))
        assert result.exit_code == 1 and "members of pgdpr_erasure" in result.output, result.output
    made = run_cli(*create, "--disabled", dsn=as_role(staff["eraser"]))
    assert made.exit_code == 0, made.output
    assert anonymised(conn) == set()
