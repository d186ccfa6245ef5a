"""Stopping means stopped (docs/rules.md "Stopping a run"). Ctrl-C on `pgdpr rules run`
used to print "Aborted!" while the next tick finished the run, even for a rule created
--disabled. A cancelled run is marked cancelled and never resumed; the ticker never
resumes a manual run (one whose session is gone is ended as abandoned); a disabled rule
never runs scheduled, nor is a scheduled run of it resumed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from psycopg import sql

from factory import make_club
from test_rules import create_rule, inactive

MESSAGE = [{"name": "queue_message", "params": {"template": "x"}}]


@pytest.fixture
def club(conn):
    make_club(conn, 1)
    return [inactive(conn, 1) for _ in range(6)]


def slow_batches(conn, seconds: float = 0.5) -> None:
    conn.execute(f"""CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END $$""")
    conn.execute("CREATE TRIGGER slow AFTER INSERT ON gdpr.outbox FOR EACH STATEMENT EXECUTE FUNCTION public.slow()")


def tick(conn, minutes: int = 1) -> None:
    conn.execute("CALL gdpr.tick(now() + make_interval(mins => %s), 1)", (minutes,))


def queued(conn, rule: int) -> int:
    return conn.execute("SELECT count(*) FROM gdpr.outbox WHERE rule_id = %s", (rule,)).fetchone()[0]


def test_ctrl_c_on_rules_run_cancels_and_the_ticker_does_not_resume(conn, club, db_dsn):
    """The issue's repro: a rule created --disabled, `pgdpr rules run` interrupted with
    Ctrl-C (SIGINT) inside its second batch, then the ticker."""
    made = subprocess.run([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, "rules", "create", "--club", "1",
                           "--name", "Prøve", "--daily", "08:00", "--no-activity-months", "6",
                           "--action", "queue_message", "--template", "x", "--disabled"],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    rule = conn.execute("SELECT max(id) FROM gdpr.rule").fetchone()[0]
    slow_batches(conn)
    proc = subprocess.Popen([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, "rules", "run", str(rule),
                             "--batch-size", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and queued(conn, rule) < 1:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.2)  # inside the second batch's sleep
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "cancelled" in err and "will not be resumed" in err and "Traceback" not in err
    run = conn.execute("SELECT id, changed, finished_at IS NOT NULL, stopped FROM gdpr.rule_run WHERE rule_id = %s",
                       (rule,)).fetchone()
    assert run[2:] == (True, "cancelled")
    done = queued(conn, rule)
    assert run[1] == done and 1 <= done < 6  # the interrupted batch rolled back whole
    conn.execute("DROP TRIGGER slow ON gdpr.outbox")
    tick(conn)
    tick(conn, 2)
    assert queued(conn, rule) == done
    assert conn.execute("SELECT count(*) FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone()[0] == 1
    # its history says so, and names who stopped it
    history = conn.execute("SELECT stopped, stopped_by FROM gdpr.rule_history(%s)", (rule,)).fetchone()
    assert history[0] == "cancelled" and history[1] is not None
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'rule_run' "
                        "AND details ->> 'stopped' = 'cancelled'").fetchone()[0] == 1


def test_a_manual_run_whose_session_is_gone_is_abandoned_not_resumed(conn, club, db_dsn):
    """`pgdpr rules run` killed outright (no Ctrl-C handler ran): the ticker ends the
    run as abandoned and does not finish it."""
    rule = create_rule(conn, actions=MESSAGE)
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule,))
    with psycopg.connect(db_dsn, autocommit=True) as driver:
        pid = driver.info.backend_pid
        run = driver.execute("SELECT gdpr.start_manual_run(%s)", (rule,)).fetchone()[0]
        assert driver.execute("SELECT gdpr.run_batch(%s, 2)", (run,)).fetchone()[0]["changed"] == 2
        # while the session lives, the ticker leaves its run alone
        tick(conn)
        assert conn.execute("SELECT finished_at FROM gdpr.rule_run WHERE id = %s", (run,)).fetchone()[0] is None
    deadline = time.monotonic() + 10  # the server ends the backend a moment after the client left
    while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tick(conn, 2)  # the session has ended
    row = conn.execute("SELECT changed, finished_at IS NOT NULL, stopped FROM gdpr.rule_run WHERE id = %s",
                       (run,)).fetchone()
    assert row == (2, True, "abandoned: the session that ran it ended before it was done")
    assert queued(conn, rule) == 2


def test_a_live_manual_run_is_finished_by_its_own_session(conn, club, db_dsn):
    rule = create_rule(conn, actions=MESSAGE)
    with psycopg.connect(db_dsn, autocommit=True) as driver:
        run = driver.execute("SELECT gdpr.start_manual_run(%s)", (rule,)).fetchone()[0]
        driver.execute("SELECT gdpr.run_batch(%s, 2)", (run,))
        tick(conn)  # the rule is enabled: the ticker runs its own scheduled run beside it
        result = driver.execute("SELECT gdpr.run_batch(%s, 10)", (run,)).fetchone()[0]
        assert result["done"] and result["stopped"] is None
        # the finished run released its hold
        assert not driver.execute("SELECT gdpr.rule_run_driven(%s)", (run,)).fetchone()[0]


def test_a_disabled_rule_never_runs_scheduled_nor_resumed(conn, club):
    rule = create_rule(conn, actions=MESSAGE)
    at = conn.execute("SELECT now() + interval '1 day'").fetchone()[0]
    run = conn.execute("SELECT gdpr.tick_claim(%s)", (at,)).fetchone()[0]  # started, as if its ticker died
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule,))
    conn.execute("CALL gdpr.tick(%s)", (at,))
    row = conn.execute("SELECT changed, finished_at IS NOT NULL, stopped FROM gdpr.rule_run WHERE id = %s",
                       (run,)).fetchone()
    assert row == (0, True, "rule disabled")
    conn.execute("CALL gdpr.tick(now() + interval '3 days')")
    assert conn.execute("SELECT count(*) FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone()[0] == 1
    assert queued(conn, rule) == 0


def test_a_cancelled_scheduled_run_is_not_resumed(conn, club):
    """Staff of the club may stop a run, also an erasing one they could not start."""
    rule = create_rule(conn, actions=["anonymise"])
    at = conn.execute("SELECT now() + interval '1 day'").fetchone()[0]
    run = conn.execute("SELECT gdpr.tick_claim(%s)", (at,)).fetchone()[0]
    conn.execute("SELECT gdpr.run_batch(%s, 2)", (run,))
    staff = f"staff_{uuid.uuid4().hex[:8]}"
    conn.execute("SELECT gdpr.ensure_tenant_role('1')")
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_tenant_1, pgdpr_staff").format(sql.Identifier(staff)))
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(staff)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="members of pgdpr_erasure may run"):
        conn.execute("SELECT gdpr.run_batch(%s)", (run,))
    result = conn.execute("SELECT gdpr.cancel_run(%s)", (run,)).fetchone()[0]
    assert result["done"] and result["stopped"] == "cancelled" and result["changed"] == 2
    again = conn.execute("SELECT gdpr.cancel_run(%s)", (run,)).fetchone()[0]  # idempotent
    assert again == result
    conn.execute("RESET ROLE")
    conn.execute("CALL gdpr.tick(%s)", (at,))
    assert conn.execute("SELECT count(*) FROM club.customers WHERE anonymized_at IS NOT NULL").fetchone()[0] == 2
    assert conn.execute("SELECT stopped_by FROM gdpr.rule_run WHERE id = %s", (run,)).fetchone()[0] == staff
    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(staff)))
    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(staff)))
