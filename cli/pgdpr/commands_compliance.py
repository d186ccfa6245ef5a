"""`pgdpr compliance-report`: the record of processing activities (GDPR Art. 30),
built by gdpr.compliance_record from the catalog and the live database;
this module only renders it (HTML for print, Markdown, JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import jinja2

from pgdpr.context import format_option, pass_context, require_tenant
from pgdpr.files import check_writable, write_private

CATEGORY_LABELS = {
    "name": "Navn / name", "address": "Adresse / address", "contact": "Kontakt / contact",
    "national_id": "CPR-nummer / national id", "bank": "Bankoplysninger / bank details",
    "birthdate": "Fødselsdato / birth date", "free_text": "Fritekst / free text", "photo": "Foto / photo",
    "identifier": "Identifikator / identifier", "other": "Andet / other",
}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pgdpr", "templates"),
        # every value from the database is escaped in HTML (the insight report's convention)
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["category"] = lambda c: CATEGORY_LABELS.get(c, c)
    env.filters["md"] = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    env.filters["yesno"] = lambda v: "ja / yes" if v else "nej / no"
    return env


def render(record: dict, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"
    template = environment().get_template(f"compliance.{output_format}.j2")
    return template.render(r=record)


@click.command("compliance-report", short_help="The record of processing (GDPR Art. 30).")
@click.option("--club", "tenant", help="The club (tenant key); staff get their own club, admins may name any "
              "or none for the whole installation")
@format_option("html", "md", "json", default="html", help="html (printable), md (Markdown) or json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE")
@pass_context
def compliance_report_command(ctx, tenant: str | None, output_format: str, output: Path | None) -> None:
    """The record of processing activities (GDPR Art. 30) of a club: what is kept,
    where, why, for how long, to whom, and the security measures in force."""
    if output:
        check_writable(output)
    conn = ctx.connect()
    require_tenant(conn, tenant)
    record = conn.execute("SELECT gdpr.compliance_record(%s)", (tenant,)).fetchone()[0]
    text = render(record, output_format)
    if output:
        write_private(output, text)
        click.echo(f"compliance report written to {output}", err=True)
    else:
        click.echo(text, nl=False)


COMMANDS = [compliance_report_command]
