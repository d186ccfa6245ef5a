"""`pgdpr migrate` and `pgdpr status`."""

from __future__ import annotations

import click

from pgdpr.context import emit_json, format_option, pass_context
from pgdpr.migrate import applied_migrations, migrate


@click.command("migrate")
@click.option("--club-schema", is_flag=True, help="Also install the reference club schema (migrations/club).")
@format_option()
@pass_context
def migrate_command(ctx, club_schema: bool, output_format: str) -> None:
    """Apply pending migrations, then re-apply every function and policy file."""
    result = migrate(ctx.dsn, club_schema=club_schema)
    if output_format == "json":
        emit_json({"migrations_applied": result.applied, "sql_files": result.sql_files,
                   "sql_changed": result.sql_changed, "changed": result.changed})
        return
    if result.applied:
        click.echo(f"applied {len(result.applied)} migration(s): {', '.join(result.applied)}")
    else:
        click.echo("no migration pending")
    state = "updated" if result.sql_changed else "unchanged"
    click.echo(f"re-applied {result.sql_files} function and policy file(s): {state}")
    if not result.changed:
        click.echo("database already up to date: nothing changed")


@click.command("status")
@format_option()
@pass_context
def status_command(ctx, output_format: str) -> None:
    """Server version, applied migrations, pg_cron availability, catalog summary."""
    conn = ctx.connect()
    version = conn.execute("SHOW server_version").fetchone()[0]
    cron_available = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_cron')").fetchone()[0]
    cron_installed = conn.execute("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron')").fetchone()[0]
    migrations = applied_migrations(conn)
    installed = conn.execute("SELECT to_regprocedure('gdpr.catalog_summary()') IS NOT NULL").fetchone()[0]
    catalog = conn.execute("SELECT * FROM gdpr.catalog_summary()").fetchall() if installed else []
    if output_format == "json":
        emit_json({
            "server_version": version,
            "migrations": [{"id": m, "applied_at": at} for m, at in migrations],
            "pg_cron": {"available": cron_available, "installed": cron_installed},
            "catalog": [dict(zip(("kind", "table", "link", "on_erase", "personal_columns",
                                  "sensitive_columns"), row)) for row in catalog],
        })
        return
    click.echo(f"server:     PostgreSQL {version}")
    click.echo(f"pg_cron:    {'installed' if cron_installed else 'available' if cron_available else 'not available'}")
    click.echo(f"migrations: {len(migrations)} applied" + ("" if installed else " (pgdpr not installed: run pgdpr migrate)"))
    for migration_id, applied_at in migrations:
        click.echo(f"  {migration_id}  {applied_at:%Y-%m-%d %H:%M}")
    kinds = sorted({row[0] for row in catalog})
    click.echo(f"catalog:    {len(catalog)} table(s) declared for {len(kinds)} subject kind(s)"
               + (f": {', '.join(kinds)}" if kinds else ""))


COMMANDS = [migrate_command, status_command]
