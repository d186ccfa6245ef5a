"""`pgdpr catalog apply|show`."""

from __future__ import annotations

from pathlib import Path

import click

from pgdpr import catalog
from pgdpr.main import emit_json, pass_context


@click.group("catalog")
def catalog_group() -> None:
    """Declare which tables and columns hold personal data."""


@catalog_group.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@pass_context
def apply_command(ctx, file: Path, dry_run: bool) -> None:
    """Declare every entry of FILE.toml (all or nothing). A re-apply is a diff: what the
    file no longer names is removed from the catalog; legal holds, rules, the ledger and
    proofs are never touched."""
    changes = catalog.apply(ctx.connect(), file, dry_run=dry_run)
    verb = "would change" if dry_run else "applied"
    if not changes:
        click.echo(f"catalog {file.name}: nothing changed")
        return
    click.echo(f"catalog {file.name} {verb}: {len(changes)} change(s)")
    for change in changes:
        click.echo(f"  {change}")


@catalog_group.command("show")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@pass_context
def show_command(ctx, output_format: str) -> None:
    """The declared tables, their link, erasure and personal columns."""
    rows = ctx.connect().execute("SELECT * FROM gdpr.catalog_summary()").fetchall()
    if output_format == "json":
        emit_json([dict(zip(("kind", "table", "link", "on_erase", "personal_columns", "sensitive_columns"), r))
                   for r in rows])
        return
    click.echo(f"{'kind':<10} {'table':<28} {'link':<7} {'on erase':<10} {'columns':>7} {'sensitive':>9}")
    for kind, table, link, on_erase, personal, sensitive in rows:
        click.echo(f"{kind:<10} {table:<28} {link:<7} {on_erase:<10} {personal:>7} {sensitive:>9}")


COMMANDS = [catalog_group]
