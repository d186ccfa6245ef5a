"""The ticker (gdpr.tick) and schedules: time driven through p_now, never slept.
Daylight saving, catch-up after downtime, two tickers at once, a run killed midway."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from factory import make_club, make_customer
from test_rules import create_rule, inactive

UTC = timezone.utc


def tick(conn, at: datetime, batch_size: int = 1000) -> None:
    conn.execute("CALL gdpr.tick(%s, %s)", (at, batch_size))


def runs(conn, rule_id: int) -> list[tuple]:
    return conn.execute("""SELECT slot, (slot AT TIME ZONE 'Europe/Copenhagen')::date, trigger, finished_at IS NOT NULL
                             FROM gdpr.rule_run WHERE rule_id = %s ORDER BY slot""", (rule_id,)).fetchall()


EVERYONE_INACTIVE_NOW = [{"name": "can_be_anonymised", "params": {
    "no_account_movement_months": 0, "no_activity_months": 0, "no_reservation_months": 0}}]


def message_rule(conn, schedule: str, frequency: str = "once", tenant: str = "1") -> int:
    """A non-erasing rule: a message to every customer with nothing in the future (a rule
    needs a condition)."""
    return create_rule(conn, tenant, schedule=schedule, frequency=frequency, conditions=EVERYONE_INACTIVE_NOW,
                       actions=[{"name": "queue_message", "params": {"template": "nyhedsbrev"}}])


@pytest.mark.parametrize("schedule, at, latest, following", [
    # daily 08:00 Copenhagen (CET, UTC+1 in winter)
    ("0 8 * * *", "2027-01-10 12:00Z", "2027-01-10 07:00Z", "2027-01-11 07:00Z"),
    ("0 8 * * *", "2027-01-10 06:59Z", "2027-01-09 07:00Z", "2027-01-10 07:00Z"),
    # weekly Monday 07:30 (2027-01-11 is a Monday)
    ("30 7 * * mon", "2027-01-13 00:00Z", "2027-01-11 06:30Z", "2027-01-18 06:30Z"),
    # monthly on the 1st at 06:00, summer time (CEST, UTC+2)
    ("0 6 1 * *", "2027-07-15 00:00Z", "2027-07-01 04:00Z", "2027-08-01 04:00Z"),
    # every 15 minutes, weekdays 6-22
    ("*/15 6-22 * * 1-5", "2027-01-15 21:50Z", "2027-01-15 21:45Z", "2027-01-18 05:00Z"),
])
def test_schedule_slots(conn, schedule, at, latest, following):
    row = conn.execute("""SELECT gdpr.schedule_slot(%s, 'Europe/Copenhagen', %s, -1),
                                 gdpr.schedule_slot(%s, 'Europe/Copenhagen', %s, 1)""",
                       (schedule, at, schedule, at)).fetchone()
    assert row == (datetime.fromisoformat(latest.replace("Z", "+00:00")),
                   datetime.fromisoformat(following.replace("Z", "+00:00")))


@pytest.mark.parametrize("day", ["2027-03-28", "2027-10-31"], ids=["spring-forward", "fall-back"])
def test_daylight_saving_day_runs_once(conn, day):
    """A rule at 02:30 daily in Europe/Copenhagen, ticked every 10 minutes through the day
    02:30 does not exist (spring) or happens twice (autumn): one run each day."""
    make_club(conn, 1)
    rule = message_rule(conn, "daily 02:30")
    start = datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(hours=12)
    at = start
    while at <= start + timedelta(hours=48):
        tick(conn, at)
        at += timedelta(minutes=10)
    by_day = {}
    for slot, local_day, trigger, finished in runs(conn, rule):
        assert trigger == "schedule" and finished
        by_day.setdefault(str(local_day), []).append(slot)
    assert len(by_day[day]) == 1, by_day
    # the day before (catch-up of the first tick) and the day after: once each as well
    assert all(len(slots) == 1 for slots in by_day.values()), by_day
    d = datetime.fromisoformat(day).date()
    assert sorted(by_day) == [str(d - timedelta(days=1)), day, str(d + timedelta(days=1))]


def test_catch_up_after_downtime_is_one_run(conn):
    make_club(conn, 1)
    rule = message_rule(conn, "daily 08:00")
    tick(conn, datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    assert len(runs(conn, rule)) == 1
    # the server was down for five days: one catch-up run, for the latest missed slot
    tick(conn, datetime(2027, 2, 6, 10, 0, tzinfo=UTC))
    tick(conn, datetime(2027, 2, 6, 10, 1, tzinfo=UTC))
    slots = [r[0] for r in runs(conn, rule)]
    assert slots == [datetime(2027, 2, 1, 7, 0, tzinfo=UTC), datetime(2027, 2, 6, 7, 0, tzinfo=UTC)]
    assert conn.execute("SELECT next_slot FROM gdpr.rule WHERE id = %s", (rule,)).fetchone()[0] \
        == datetime(2027, 2, 7, 7, 0, tzinfo=UTC)


def test_disabled_rule_does_not_run(conn):
    make_club(conn, 1)
    rule = message_rule(conn, "daily 08:00")
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule,))
    tick(conn, datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    assert runs(conn, rule) == []


def test_two_tickers_at_once_one_run_per_slot(conn, db_dsn):
    make_club(conn, 1)
    make_club(conn, 2)
    customers = [make_customer(conn, c, months_inactive=1, rows_per_table=1) for c in (1, 1, 1, 2, 2)]
    for c in customers:  # no debt, so that every customer may receive the message
        conn.execute("INSERT INTO club.account_movements (club_id, customer_id, amount, text) VALUES (%s, %s, 299, 'x')",
                     (c.club_id, c.id))
    rules = [message_rule(conn, "daily 08:00", "every 1 days", t) for t in ("1", "1", "2")]
    days = [datetime(2027, 2, d, 8, 30, tzinfo=UTC) for d in (1, 2, 3)]
    errors = []

    def ticker(at, barrier):
        try:
            with psycopg.connect(db_dsn, autocommit=True) as c:
                barrier.wait()
                c.execute("CALL gdpr.tick(%s, 1)", (at,))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for at in days:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=ticker, args=(at, barrier)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    for rule in rules:
        assert len(runs(conn, rule)) == 3
    per_subject = conn.execute("""SELECT rule_id, subject_key, count(*) FROM gdpr.outbox
                                   GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    assert {n for _, _, n in per_subject} == {3}  # one message per rule, subject and day
    assert len(per_subject) == 3 + 3 + 2


def test_run_killed_midway_is_finished_by_the_next_tick(conn, db_dsn):
    """Commit per batch: the killed batch rolls back whole, the next tick resumes the run."""
    make_club(conn, 1)
    people = [inactive(conn, 1) for _ in range(6)]
    rule = create_rule(conn, schedule="daily 08:00", actions=[{"name": "anonymise"}])
    # slow every batch down, so that the ticker can be killed inside its second batch
    conn.execute("""CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN PERFORM pg_sleep(0.4); RETURN NULL; END $$""")
    conn.execute("""CREATE TRIGGER slow AFTER INSERT ON gdpr.rule_subject
                    FOR EACH STATEMENT EXECUTE FUNCTION public.slow()""")
    now = conn.execute("SELECT now() + interval '1 day'").fetchone()[0]
    victim = psycopg.connect(db_dsn, autocommit=True)
    pid = victim.info.backend_pid
    thread = threading.Thread(target=lambda: _swallow(lambda: victim.execute("CALL gdpr.tick(%s, 2)", (now,))))
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if conn.execute("SELECT COALESCE(max(changed), 0) FROM gdpr.rule_run WHERE rule_id = %s", (rule,)
                        ).fetchone()[0] >= 2:
            break
        time.sleep(0.05)
    time.sleep(0.1)  # inside the second batch's sleep
    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join()
    run = conn.execute("SELECT changed, finished_at FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone()
    assert run[0] == 2 and run[1] is None
    fired = {r[0] for r in conn.execute("SELECT subject_key FROM gdpr.rule_subject")}
    assert len(fired) == 2
    for p in people:  # exactly the fired subjects are anonymised, each one whole
        row = conn.execute("""SELECT c.anonymized_at IS NOT NULL, c.first_name = %s,
                                     (SELECT count(*) FROM club.notes n WHERE n.club_id = 1 AND n.customer_id = c.id),
                                     (SELECT count(*) FROM club.log_lines l WHERE l.club_id = 1
                                       AND l.customer_id = c.id AND l.text LIKE %s)
                                FROM club.customers c WHERE c.id = %s""",
                           (p.first_name, f"%{p.phone}%", p.id)).fetchone()
        if str(p.id) in fired:
            assert row == (True, False, 0, 0)
        else:
            assert row == (False, True, 1, 1)
    conn.execute("DROP TRIGGER slow ON gdpr.rule_subject")
    tick(conn, now + timedelta(minutes=1), 2)
    run = conn.execute("SELECT count(*), sum(changed), bool_and(finished_at IS NOT NULL) FROM gdpr.rule_run "
                       "WHERE rule_id = %s", (rule,)).fetchone()
    assert run == (1, 6, True)
    assert conn.execute("SELECT count(*) FROM club.customers WHERE anonymized_at IS NOT NULL").fetchone()[0] == 6


def _swallow(fn):
    try:
        fn()
    except psycopg.Error:
        pass


def test_tick_processes_deferred_erasures(conn):
    """The ticker calls gdpr.process_deferred_erasures(now) each tick."""
    result = conn.execute("SELECT gdpr.tick_deferred_erasures(now())").fetchone()[0]
    assert result is not None
    tick(conn, datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    assert conn.execute("SELECT ticks FROM gdpr.ticker").fetchone()[0] == 1


def test_tick_inside_a_transaction_block_is_refused(conn):
    with conn.transaction():
        with pytest.raises(psycopg.errors.InvalidTransactionTermination):
            conn.execute("CALL gdpr.tick()")


def test_a_broken_rule_does_not_stop_the_others(conn):
    """A condition whose function starts failing: its slot is recorded as a failed run,
    the other rules of the tick still run, and the next slot is tried again."""
    make_club(conn, 1)
    conn.execute("""CREATE FUNCTION public.cond_flaky(p_alias text, p_params jsonb, p_ref text) RETURNS text
                    LANGUAGE sql AS $$ SELECT format('%I.id > 0', p_alias) $$""")
    conn.execute("GRANT EXECUTE ON FUNCTION public.cond_flaky(text, jsonb, text) TO pgdpr_owner")
    conn.execute("SELECT gdpr.register_condition('flaky', 'public.cond_flaky', 'fails on purpose')")
    broken = create_rule(conn, schedule="daily 08:00", conditions=["flaky"])
    healthy = message_rule(conn, "daily 08:00")
    conn.execute("""CREATE OR REPLACE FUNCTION public.cond_flaky(p_alias text, p_params jsonb, p_ref text) RETURNS text
                    LANGUAGE sql AS $$ SELECT 'no_such_column = 1' $$""")
    tick(conn, datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    failed = conn.execute("SELECT finished_at IS NOT NULL, error_count, errors FROM gdpr.rule_run WHERE rule_id = %s",
                          (broken,)).fetchone()
    assert failed[:2] == (True, 1) and failed[2][0]["stage"] == "start"
    assert [r[3] for r in runs(conn, healthy)] == [True]


def test_a_run_whose_batch_fails_is_ended_not_retried_forever(conn):
    make_club(conn, 1)
    conn.execute("""CREATE FUNCTION public.cond_flaky(p_alias text, p_params jsonb, p_ref text) RETURNS text
                    LANGUAGE sql AS $$ SELECT format('%I.id > 0', p_alias) $$""")
    conn.execute("GRANT EXECUTE ON FUNCTION public.cond_flaky(text, jsonb, text) TO pgdpr_owner")
    conn.execute("SELECT gdpr.register_condition('flaky', 'public.cond_flaky', 'fails on purpose')")
    rule = create_rule(conn, schedule="daily 08:00", conditions=["flaky"])
    at = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    run_id = conn.execute("SELECT gdpr.tick_claim(%s)", (at,)).fetchone()[0]  # started, as if then killed
    conn.execute("""CREATE OR REPLACE FUNCTION public.cond_flaky(p_alias text, p_params jsonb, p_ref text) RETURNS text
                    LANGUAGE sql AS $$ SELECT 'no_such_column = 1' $$""")
    tick(conn, at)
    row = conn.execute("SELECT rule_id, finished_at IS NOT NULL, errors FROM gdpr.rule_run WHERE id = %s",
                       (run_id,)).fetchone()
    assert row[:2] == (rule, True) and row[2] == [{"stage": "batch", "sqlstate": "42703"}]


def test_ticker_finishes_deferred_erasures_after_the_retention_period(conn):
    """Account movements of an anonymised customer are kept (Bogføringsloven) and erased
    by the ticker once 5 years from the end of the financial year have passed."""
    make_club(conn, 1)
    customer = inactive(conn, 1)
    rule = create_rule(conn, actions=[{"name": "anonymise"}])
    assert conn.execute("SELECT gdpr.run_rule(%s)", (rule,)).fetchone()[0]["changed"] == 1
    movements = "SELECT count(*) FROM club.account_movements WHERE club_id = 1 AND customer_id = %s"
    assert conn.execute(movements, (customer.id,)).fetchone()[0] == 2  # retained
    tick(conn, datetime.now(UTC) + timedelta(days=365))
    assert conn.execute(movements, (customer.id,)).fetchone()[0] == 2  # the period has not ended
    tick(conn, datetime.now(UTC) + timedelta(days=7 * 365))
    assert conn.execute(movements, (customer.id,)).fetchone()[0] == 0


def test_a_dba_role_runs_the_ticker(conn):
    """The ticker needs pgdpr_admin, not a superuser (a pg_cron job or worker of a DBA role)."""
    import uuid

    make_club(conn, 1)
    rule = message_rule(conn, "daily 08:00")
    dba = f"dba_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE ROLE {dba} NOLOGIN IN ROLE pgdpr_admin")
    try:
        conn.execute(f"SET ROLE {dba}")
        tick(conn, datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
        conn.execute("RESET ROLE")
        assert conn.execute("SELECT started_by FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone()[0] == dba
    finally:
        conn.execute("RESET ROLE")
        conn.execute(f"DROP ROLE {dba}")
