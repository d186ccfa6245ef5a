"""The `pgdpr` command: a thin driver of the SQL engine in the gdpr schema."""

from __future__ import annotations

import re
import sys

import click
import psycopg

from pgdpr import __version__
from pgdpr.context import Context
from pgdpr.db import PgdprError

_MISSING_FUNCTION = re.compile(r"^function (gdpr\.\w+)\((.*)\) does not exist")


def _installed(ctx: click.Context) -> bool | None:
    """Whether the gdpr schema is installed in the database of the open connection
    (None when no connection is open or it cannot tell)."""
    obj = ctx.find_object(Context)
    conn = obj.connection if obj else None
    if conn is None or conn.closed:
        return None
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        return conn.execute("SELECT to_regclass('gdpr.install_state') IS NOT NULL").fetchone()[0]
    except psycopg.Error:
        return None


def explain(ctx: click.Context, exc: psycopg.Error) -> str:
    """One line for a database error: the server's message, or what to do about it."""
    diag = getattr(exc, "diag", None)
    message = (diag.message_primary if diag and diag.message_primary else str(exc)).strip()
    message = message.splitlines()[0] if message else exc.__class__.__name__
    if isinstance(exc, (psycopg.errors.UndefinedFunction, psycopg.errors.UndefinedTable,
                        psycopg.errors.InvalidSchemaName)) and "gdpr" in message:
        if _installed(ctx) is False:
            return "pgdpr is not installed in this database: run `pgdpr migrate` first"
        missing = _MISSING_FUNCTION.match(message)
        if missing and "numeric" in missing.group(2):
            # a number too large for a bigint parameter: no such function signature
            return "a number given is out of range (at most 9223372036854775807)"
    return message


class Group(click.Group):
    """Turns database errors into one clear line and a non-zero exit, no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except psycopg.Error as exc:
            raise PgdprError(explain(ctx, exc)) from exc


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
    from pgdpr import (commands_catalog, commands_catalog_coverage, commands_compliance, commands_demo,  # noqa: F401
                       commands_erasure, commands_migrate, commands_report, commands_requests, commands_rights,
                       commands_rules, commands_server)

    for module in (commands_migrate, commands_catalog, commands_server, commands_demo, commands_report,
                   commands_compliance, commands_rules, commands_rights, commands_erasure, commands_requests):
        for command in module.COMMANDS:
            cli.add_command(command)


register()

if __name__ == "__main__":
    sys.exit(cli())
