"""The CLI's default server: an embedded PostgreSQL it starts, reuses and stops."""

import subprocess
import sys

import psycopg


def pgdpr(*args, env):
    return subprocess.run([sys.executable, "-m", "pgdpr", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_embedded_server_starts_is_reused_and_stops(tmp_path, monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGDPR_HOME"] = str(tmp_path / "home")
    try:
        started = pgdpr("server", "start", env=env)
        assert started.returncode == 0, started.stderr
        assert f"data in {tmp_path / 'home' / 'pgdata'}" in started.stderr
        dsn = started.stdout.strip()
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT current_setting('server_version_num')::int >= 150000").fetchone()[0]

        again = pgdpr("status", env=env)  # no DSN anywhere: reuses the embedded server
        assert again.returncode == 0, again.stderr
        assert "server:     PostgreSQL" in again.stdout
        assert "embedded PostgreSQL running" not in again.stderr  # reused, not started again

        # a command killed while it used the server leaves its handle behind: stop still stops
        handles = tmp_path / "home" / "pgdata" / ".handle_pids.json"
        handles.write_text("[999999]")  # the pid of a process that no longer runs
        stopped = pgdpr("server", "stop", env=env)
        assert stopped.returncode == 0, stopped.stderr
        assert "embedded PostgreSQL stopped" in stopped.stdout
        assert "stopped" in pgdpr("server", "status", env=env).stdout
    finally:
        pgdpr("server", "stop", env=env)
