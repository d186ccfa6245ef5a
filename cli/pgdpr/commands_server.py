"""`pgdpr server start|stop|status`: the embedded PostgreSQL used when no DSN is given."""

from __future__ import annotations

import click

from pgdpr.context import emit_json, format_option
from pgdpr.db import embedded_data_dir, embedded_dsn, stop_embedded


@click.group("server")
def server_group() -> None:
    """The embedded PostgreSQL server (used when no DSN is given)."""


@server_group.command("start")
def start_command() -> None:
    """Start the embedded server (or reuse it) and print its DSN."""
    click.echo(embedded_dsn())


@server_group.command("stop")
def stop_command() -> None:
    """Stop the embedded server."""
    if stop_embedded():
        click.echo(f"embedded PostgreSQL stopped (data kept in {embedded_data_dir()})")
    else:
        click.echo("embedded PostgreSQL is not running")


@server_group.command("status")
@format_option()
def status_command(output_format: str) -> None:
    """Whether the embedded server runs, where its data is, and its DSN."""
    dsn = embedded_dsn(start=False)
    if output_format == "json":
        emit_json({"data": str(embedded_data_dir()), "running": dsn is not None, "dsn": dsn})
        return
    click.echo(f"data:   {embedded_data_dir()}")
    click.echo(f"status: {'running, ' + dsn if dsn else 'stopped'}")


COMMANDS = [server_group]
