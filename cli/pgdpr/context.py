"""What every command module shares: the per-invocation Context (DSN and connection),
`pass_context`, `emit_json`, the one `--format` option, id arguments and progress on a
terminal. It imports no command module, so command modules never import each other
(or main.py) in a circle."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Callable

import click
import psycopg
from psycopg import sql

from pgdpr.db import PgdprError, connect, resolve_dsn


class Context:
    """Per-invocation state: the DSN option and a lazily opened connection."""

    def __init__(self, dsn: str | None):
        self._dsn_option = dsn
        self._dsn: str | None = None
        self._conn: psycopg.Connection | None = None

    @property
    def dsn(self) -> str:
        if self._dsn is None:
            self._dsn = resolve_dsn(self._dsn_option)
        return self._dsn

    def connect(self, **kwargs) -> psycopg.Connection:
        if self._conn is None:
            self._conn = connect(self.dsn, autocommit=True, **kwargs)
        return self._conn

    @property
    def connection(self) -> psycopg.Connection | None:
        """The connection if one was opened, else None (never connects)."""
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


pass_context = click.make_pass_decorator(Context)


def emit_json(value) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def format_option(*choices: str, default: str | None = "text", help: str | None = None):
    """The one `--format` option of every command: `text` for people, `json` for scripts
    (plus a command's own file formats). Stored as `output_format`."""
    choices = choices or ("text", "json")
    return click.option(
        "--format", "output_format", type=click.Choice(choices), default=default, show_default=default is not None,
        help=help or ("json for scripts; " + ", ".join(choices) if "json" in choices else ", ".join(choices)))


# A database id (bigint): a larger number is refused by the option, not by the server.
ID = click.IntRange(1, 2 ** 63 - 1)


def is_terminal(stream=None) -> bool:
    stream = stream or sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Progress of long work on stderr, rewritten in place: `label: done of total (rate/s)`.
    Silent unless enabled and stderr is a terminal (so pipes, logs and `--format json`
    stay clean)."""

    def __init__(self, label: str, total: int | None = None, unit: str = "", enabled: bool = True):
        self.label, self.total, self.unit = label, total, unit
        self.enabled = enabled and is_terminal()
        self.started = time.monotonic()
        self.shown = False

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        of = f" of {self.total:,}" if self.total is not None else ""
        unit = f" {self.unit}" if self.unit else ""
        text = f"{self.label}: {done:,}{of}{unit} ({done / elapsed:,.0f}/s, {elapsed:.0f} s)"
        click.echo(f"\r\033[K{text}{(' ' + note) if note else ''}", nl=False, err=True)
        self.shown = True

    def message(self, text: str) -> None:
        """A line of its own (a phase of the work)."""
        if self.enabled:
            click.echo(f"\r\033[K{self.label}: {text}", err=True)

    def done(self) -> None:
        if self.shown:
            click.echo("", err=True)
            self.shown = False


def while_running(label: str, enabled: bool, work: Callable[[], object]):
    """Run `work` (one long database call), showing the elapsed time on a terminal."""
    if not (enabled and is_terminal()):
        return work()
    stop = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not stop.wait(0.5):
            click.echo(f"\r\033[K{label}: running, {time.monotonic() - started:.0f} s", nl=False, err=True)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        return work()
    finally:
        stop.set()
        thread.join()
        click.echo(f"\r\033[K{label}: {time.monotonic() - started:.1f} s", err=True)


def require_tenant(conn: psycopg.Connection, tenant: str | None) -> None:
    """Refuse a club (tenant key) that does not exist in the tenant table the catalog
    declares. Without a declared tenant table, or without the right to read it, the
    database functions decide alone."""
    if tenant is None:
        return
    try:
        declared = conn.execute("SELECT table_schema, table_name, key_column FROM gdpr.tenant_table").fetchone()
        if declared is None:
            return
        schema, table, key = declared
        exists = conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {}.{} WHERE {}::text = %s)").format(
            sql.Identifier(schema), sql.Identifier(table), sql.Identifier(key)), (tenant,)).fetchone()[0]
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
        return
    if not exists:
        raise PgdprError(f"club {tenant} does not exist")
