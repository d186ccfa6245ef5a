"""The `pgdpr` command: a thin driver of the SQL engine in the gdpr schema."""

from __future__ import annotations

import json
import sys

import click
import psycopg

from pgdpr import __version__
from pgdpr.db import PgdprError, connect, resolve_dsn


class Group(click.Group):
    """Turns database errors into one clear line and a non-zero exit, no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except psycopg.Error as exc:
            diag = getattr(exc, "diag", None)
            message = (diag.message_primary if diag and diag.message_primary else str(exc)).strip()
            raise PgdprError(message.splitlines()[0] if message else exc.__class__.__name__) from exc


class Context:
    """Per-invocation state: the DSN option and a lazily opened connection."""

    def __init__(self, dsn: str | None, output_format: str = "text"):
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

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


pass_context = click.make_pass_decorator(Context)


def emit_json(value) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


@click.group(cls=Group)
@click.option("--dsn", envvar="PGDPR_DSN", help="libpq connection string; default: PGDPR_DSN, PG* variables, "
              "else the embedded server")
@click.version_option(__version__, prog_name="pgdpr")
@click.pass_context
def cli(ctx: click.Context, dsn: str | None) -> None:
    """GDPR compliance done inside PostgreSQL."""
    ctx.obj = Context(dsn)
    ctx.call_on_close(ctx.obj.close)


def register() -> None:
    from pgdpr import commands_catalog, commands_demo, commands_migrate, commands_report, commands_server

    for module in (commands_migrate, commands_catalog, commands_server, commands_demo, commands_report):
        for command in module.COMMANDS:
            cli.add_command(command)
    from pgdpr import commands_catalog_coverage, commands_compliance  # noqa: F401  (catalog check/discover)

    for command in commands_compliance.COMMANDS:
        cli.add_command(command)
    from pgdpr import commands_rules

    for command in commands_rules.COMMANDS:
        cli.add_command(command)
    from pgdpr import commands_rights

    for command in commands_rights.COMMANDS:
        cli.add_command(command)
    from pgdpr import commands_erasure

    for command in commands_erasure.COMMANDS:
        cli.add_command(command)
    from pgdpr import commands_requests; [cli.add_command(c) for c in commands_requests.COMMANDS]  # noqa: E702


register()

if __name__ == "__main__":
    sys.exit(cli())
