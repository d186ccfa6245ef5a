"""`pgdpr catalog apply|show`."""

from __future__ import annotations

from pathlib import Path

import click

from pgdpr import catalog
from pgdpr.context import emit_json, format_option, pass_context
from pgdpr.db import fetch_dicts


@click.group("catalog")
def catalog_group() -> None:
    """Declare which tables and columns hold personal data."""


def echo_changes(name: str, calls: int, changes: list[str], dry_run: bool = False) -> None:
    verb = "would change" if dry_run else "applied"
    if changes:
        click.echo(f"catalog {name} {verb}: {calls} declaration(s), {len(changes)} change(s):")
        for line in catalog.summarise(changes):
            click.echo(f"  {line}")
    else:
        click.echo(f"catalog {name} {verb}: {calls} declaration(s), nothing changed")


@catalog_group.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="show what would change, change nothing")
@format_option()
@pass_context
def apply_command(ctx, file: Path, dry_run: bool, output_format: str) -> None:
    """Declare every entry of FILE.toml (all or nothing) and say what changed. A re-apply
    is a diff: what the file no longer names is removed from the catalog; legal holds,
    rules, the ledger and proofs are never touched."""
    calls, changes = catalog.apply(ctx.connect(), file, dry_run=dry_run)
    if output_format == "json":
        emit_json({"file": str(file), "declarations": calls, "changes": changes, "dry_run": dry_run})
    else:
        echo_changes(file.name, calls, changes, dry_run)


# The treatment of a column at erasure, in words.
ERASE_WORDS = {"null": "emptied", "constant": "set to {constant}", "redact": "redacted (the subject's values removed)",
               "year_only": "year kept only", "hash": "hashed", "keep": "kept"}


def treatment(column: dict, on_erase: str | None = None) -> str:
    if on_erase == "delete":
        text = "deleted with the row"
    elif on_erase == "retain" and column.get("part_of_record"):
        text = "kept with the record until its retention period ends"
    else:
        text = ERASE_WORDS.get(column["erase"], column["erase"]).format(constant=repr(column.get("erase_constant")))
    if column.get("sensitive"):  # masked for staff without the right
        text += "; sensitive"
    elif column.get("sensitive_when"):
        text += f"; sensitive when {column['sensitive_when']}"
    return text


@catalog_group.command("show")
@format_option()
@pass_context
def show_command(ctx, output_format: str) -> None:
    """The declared tables, their link and erasure, and each personal column with its treatment."""
    conn = ctx.connect()
    rows = conn.execute("SELECT * FROM gdpr.catalog_summary()").fetchall()
    columns = fetch_dicts(conn, "SELECT format('%I.%I', table_schema, table_name) AS table, column_name AS column, "
                                "category, sensitive, sensitive_when, erase, erase_constant, part_of_record "
                                "FROM gdpr.catalog_column ORDER BY table_schema, table_name, column_name")
    by_table: dict[str, list[dict]] = {}
    for c in columns:
        by_table.setdefault(c["table"], []).append(c)
    if output_format == "json":
        emit_json([dict(zip(("kind", "table", "link", "on_erase", "personal_columns", "sensitive_columns"), r))
                   | {"columns": [{k: v for k, v in c.items() if k != "table"} | {"treatment": treatment(c, r[3])}
                                  for c in by_table.get(r[1], [])]}
                   for r in rows])
        return
    click.echo(f"{'kind':<10} {'table':<28} {'link':<7} {'on erase':<10} {'columns':>7} {'sensitive':>9}")
    for kind, table, link, on_erase, personal, sensitive in rows:
        click.echo(f"{kind:<10} {table:<28} {link:<7} {on_erase:<10} {personal:>7} {sensitive:>9}")
        for c in by_table.get(table, []):
            click.echo(f"    {c['column']:<22} {c['category']:<12} {treatment(c, on_erase)}")


COMMANDS = [catalog_group]
