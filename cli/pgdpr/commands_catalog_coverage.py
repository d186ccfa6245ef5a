"""`pgdpr catalog check` and `pgdpr catalog discover`: what the catalog misses, and a
first draft of a catalog for a schema never seen. The detection is SQL
(gdpr.catalog_check, gdpr.catalog_discover); this module only prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pgdpr.commands_catalog import catalog_group
from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.context import emit_json, format_option, pass_context, while_running
from pgdpr.files import check_writable, write_private

SYSTEM_SCHEMAS = ("information_schema", "gdpr")

FINDING_COLUMNS = ("severity", "finding", "table", "column", "category", "reason")


def check_user_schema(conn, schema: str) -> None:
    """A schema the user named: one of their own, and existing (one line otherwise)."""
    if schema in SYSTEM_SCHEMAS or schema.startswith("pg_"):
        raise PgdprError(f"{schema} is a system schema, not one holding personal data: name your own schema")
    if not conn.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", (schema,)).fetchone()[0]:
        raise PgdprError(f"schema {schema} does not exist")


@catalog_group.command("check")
@click.option("--schema", "schemas", multiple=True,
              help="Schema to check (repeatable); default: every schema holding a declared table")
@format_option()
@pass_context
def check_command(ctx, schemas: tuple[str, ...], output_format: str) -> None:
    """Find personal data the catalog misses; exit 1 on any error finding.

    Undeclared tables reaching a subject through foreign keys, undeclared columns
    that look personal by name or sampled content, declared tables and columns that
    no longer exist. Warnings (optional references only) are printed, not fatal."""
    conn = ctx.connect()
    for schema in schemas:
        check_user_schema(conn, schema)
    rows = while_running("catalog check", output_format != "json", lambda: conn.execute(
        "SELECT * FROM gdpr.catalog_check(%s::name[])", (list(schemas) or None,)).fetchall())
    findings = [dict(zip(FINDING_COLUMNS, row)) for row in rows]
    errors = sum(1 for f in findings if f["severity"] == "error")
    if output_format == "json":
        emit_json({"ok": errors == 0, "errors": errors, "warnings": len(findings) - errors, "findings": findings})
    else:
        for f in findings:
            where = f["table"] + (f".{f['column']}" if f["column"] else "")
            click.echo(f"{f['severity']:<8} {f['finding']:<24} {where}: {f['reason']}")
        click.echo(f"catalog check: {errors} error(s), {len(findings) - errors} warning(s)")
    if errors:
        raise SystemExit(1)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def render_draft(rows: list[dict], schema: str) -> str:
    """The draft catalog as TOML, every guess commented for the reviewing DBA."""
    root = next(r for r in rows if r["role"] == "root")
    kind = root["table"].rsplit(".", 1)[-1].strip('"').rstrip("s") or "subject"
    out = [f"# Draft catalog for schema {schema}, written by `pgdpr catalog discover`.",
           "# Every line is a guess from the foreign keys and the column names and content:",
           "# review each table (link, on_erase, retention, purpose) and each column before",
           "# `pgdpr catalog apply`; then run `pgdpr catalog check` until it passes.", "",
           f"[subject.{kind}]", f"table = {_toml_string(root['table'])}", f"key = {_toml_string(root['subject_key'])}"]
    if root["tenant_column"]:
        out.append(f"tenant = {_toml_string(root['tenant_column'])}")
    out.append("identifying = [" + ", ".join(_toml_string(c) for c in root["identifying"] or []) + "]")
    if root["anonymized_column"]:
        out.append(f"anonymized = {_toml_string(root['anonymized_column'])}")
    else:
        out.append("# anonymized = \"anonymized_at\"   # REVIEW: a timestamptz column marking erased subjects")
    out.append(f"area = {_toml_string(kind + 's')}")
    for r in rows:
        title = r["table"].split(".", 1)[1].replace("_", " ")
        out += ["", "[[table]]", f"name = {_toml_string(r['table'])}", f"subject = {_toml_string(kind)}"]
        if r["path"]:
            out.append(f"# found through: {r['path']}")
        if not r["strong"]:
            out.append("# REVIEW: only an optional (nullable) reference to the subject")
        if r["role"] == "root":
            out.append('link = "root"')
        elif r["role"] == "direct":
            out.append(f"link = {{ direct = {_toml_string(r['link_column'])} }}")
        elif r["role"] == "via":
            out.append(f"link = {{ via = {_toml_string(r['link_column'])}, parent = {_toml_string(r['parent'])} }}")
        else:
            out.append(f"link = {{ owned_by = {_toml_string(r['link_column'])}, key = {_toml_string(r['parent_column'])} }}")
        out.append(f"on_erase = {_toml_string(r['on_erase'])}   # REVIEW")
        if r["on_erase"] == "retain":
            out.append(f"retain = {{ from = {_toml_string(r['retain_column'])}, period = \"5 years\", "
                       "from_year_end = true }   # REVIEW: the statutory period (bookkeeping: 5 years)")
        out += [f"title = {{ da = {_toml_string(title)}, en = {_toml_string(title)} }}",
                'purpose = "TODO: why the data is kept"',
                'legal_basis = "TODO: GDPR art. 6(1)(?)"',
                'retention = "TODO: for how long"']
        if r["columns"]:
            out.append("[table.columns]")
            for c in r["columns"]:
                parts = [f"category = {_toml_string(c['category'])}"]
                if c["sensitive"]:
                    parts.append("sensitive = true")
                parts.append(f"erase = {_toml_string(c['erase'])}")
                out.append(f"{c['column']} = {{ {', '.join(parts)} }}   # {c['reason']}")
    return "\n".join(out) + "\n"


@catalog_group.command("discover")
@click.option("--schema", required=True, help="The schema to draft a catalog for")
@click.option("--subject", help="The subject's table as schema.table (default: guessed)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the draft here")
@format_option("toml", "json", default="toml")
@pass_context
def discover_command(ctx, schema: str, subject: str | None, output: Path | None, output_format: str) -> None:
    """Draft a catalog TOML for SCHEMA from its foreign keys and column heuristics."""
    if output:
        check_writable(output)
    conn = ctx.connect()
    check_user_schema(conn, schema)
    rows = fetch_dicts(conn, "SELECT * FROM gdpr.catalog_discover(%s, %s::regclass)", (schema, subject))
    for r in rows:
        r["table"] = r.pop("table_name")
    if not rows:
        raise PgdprError(f"schema {schema} has no table to take as the subject")
    if output_format == "json":
        text = json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = render_draft(rows, schema)
    if output:
        write_private(output, text)
        click.echo(f"draft catalog for {schema}: {len(rows)} table(s) written to {output}")
    else:
        click.echo(text, nl=False)


COMMANDS: list = []  # the subcommands attach to `pgdpr catalog` (commands_catalog.catalog_group)
