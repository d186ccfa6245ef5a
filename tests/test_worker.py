"""`pgdpr worker`: the ticker loop for servers without pg_cron; stops cleanly on a signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from factory import make_club


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_ticks_and_stops_on_signal(conn, db_dsn, sig):
    make_club(conn, 1)
    rule = conn.execute("""SELECT gdpr.create_rule('1', 'Nyhedsbrev', 'daily 08:00', 'once', '["can_be_anonymised"]',
                           '[{"name": "queue_message", "params": {"template": "nyhed"}}]')""").fetchone()[0]
    conn.execute("UPDATE gdpr.rule SET next_slot = now() - interval '1 minute' WHERE id = %s", (rule,))
    proc = subprocess.Popen([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, "worker", "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = conn.execute("SELECT ticks FROM gdpr.ticker").fetchone()
            if row and row[0] >= 2:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        else:
            pytest.fail("the worker did not tick twice within 30 s")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped after" in out and f"{sig.name} received" in err
    assert "Traceback" not in err
    # the due rule ran once, from the worker's tick
    assert conn.execute("SELECT count(*), min(trigger) FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone() \
        == (1, "schedule")


def test_worker_once(run_cli, conn):
    result = run_cli("worker", "--once")
    assert result.exit_code == 0 and "stopped after 1 tick(s)" in result.output
    assert conn.execute("SELECT ticks FROM gdpr.ticker").fetchone()[0] == 1


def test_worker_once_reports_a_failed_tick(run_cli, empty_db_dsn):
    result = run_cli("worker", "--once", dsn=empty_db_dsn)
    assert result.exit_code == 1
    assert "tick failed" in result.output and "Traceback" not in result.output


def test_cron_status_without_pg_cron_job(run_cli):
    result = run_cli("cron", "status")
    assert result.exit_code == 0
    assert "pg_cron job: not installed" in result.output and "last tick: never" in result.output
