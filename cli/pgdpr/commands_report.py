"""`pgdpr report` (Data Insight Report, seed S1, GDPR Art. 15) and `pgdpr export`
(data portability, seed S2, Art. 20). Both call one SQL function that checks the
club, renders sensitive values for the caller and writes the audit event."""

from __future__ import annotations

from pathlib import Path

import click

from pgdpr import report as reports
from pgdpr.db import PgdprError
from pgdpr.main import pass_context
from pgdpr.commands_requests import begin_answer, close_answer, commit_answer

SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".json": "json", ".txt": "text"}


_write = reports.write_file


@click.command("report")
@click.argument("subject_id")
@click.option("--club", "club", help="the club (tenant) of the subject; staff act for their own club")
@click.option("--kind", default="customer", show_default=True, help="subject kind of the catalog")
@click.option("--format", "output_format", type=click.Choice(reports.FORMATS),
              help="html (printable), text or json; default: from -o's suffix, else text")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="write to FILE")
@click.option("--lang", type=click.Choice(reports.LANGS), default="da", show_default=True)
@click.option("--purpose", default="insight report", show_default=True,
              help="why the report is made (kept in the audit trail; no personal data)")
@click.option("--request", "request_id", type=int, help="the access request this report answers (closed with it)")
@pass_context
def report_command(ctx, subject_id: str, club: str | None, kind: str, output_format: str | None,
                   output: Path | None, lang: str, purpose: str, request_id: int | None = None) -> None:
    """The Data Insight Report of SUBJECT_ID: all data held, GDPR Art. 15 information, access history."""
    fmt = output_format or (SUFFIX_FORMATS.get(output.suffix.lower(), "text") if output else "text")
    if output and not output.parent.is_dir():  # before the report is made and audited
        raise PgdprError(f"cannot write {output}: folder {output.parent} does not exist")
    begin_answer(ctx.connect(), request_id)
    text = reports.render_report(ctx.connect(), kind, subject_id, club, fmt, lang, purpose)
    answered = close_answer(ctx.connect(), request_id)
    if output:
        _write(output, text.encode("utf-8"))
        click.echo(f"report of {kind} {subject_id} written to {output} ({fmt})", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    commit_answer(ctx.connect(), answered)


@click.command("export")
@click.argument("subject_id")
@click.option("--club", "club", help="the club (tenant) of the subject; staff act for their own club")
@click.option("--kind", default="customer", show_default=True, help="subject kind of the catalog")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.csv (or FILE.zip with --zip)")
@click.option("--excel", is_flag=True, help="semicolon-separated with a byte order mark (Danish Excel)")
@click.option("--zip", "as_zip", is_flag=True, help="one CSV per section and a README describing every column")
@click.option("--lang", type=click.Choice(reports.LANGS), default="da", show_default=True,
              help="language of section titles and field labels")
@click.option("--purpose", default="data export", show_default=True,
              help="why the export is made (kept in the audit trail; no personal data)")
@click.option("--request", "request_id", type=int, help="the access or portability request this export answers")
@pass_context
def export_command(ctx, subject_id: str, club: str | None, kind: str, output: Path, excel: bool, as_zip: bool,
                   lang: str, purpose: str, request_id: int | None = None) -> None:
    """Export everything held on SUBJECT_ID as machine-readable CSV (GDPR Art. 20)."""
    if not output.parent.is_dir():  # before the export is made and audited
        raise PgdprError(f"cannot write {output}: folder {output.parent} does not exist")
    conn = ctx.connect()
    fmt = ("zip" if as_zip else "csv") + ("-excel" if excel else "")
    begin_answer(conn, request_id)
    rows = reports.fetch_rows(conn, kind, subject_id, club, fmt, purpose)
    answered = close_answer(conn, request_id)
    if as_zip:
        columns = reports.fetch_columns(conn, kind)
        try:
            counts = reports.write_zip(output, rows, columns, excel, lang, subject=f"{kind} {subject_id}")
        except OSError as exc:
            raise PgdprError(f"cannot write {output}: {exc.strerror or exc}") from exc
        click.echo(f"export of {kind} {subject_id} written to {output}: {len(counts)} section file(s), "
                   f"{sum(counts.values())} record(s)", err=True)
    else:
        _write(output, reports.csv_text(rows, excel, lang).encode("utf-8-sig" if excel else "utf-8"))
        click.echo(f"export of {kind} {subject_id} written to {output}: {len(rows)} field(s)", err=True)
    commit_answer(conn, answered)


COMMANDS = [report_command, export_command]
