"""`pgdpr report` (the Data Insight Report, GDPR Art. 15) and `pgdpr export` (data
portability, Art. 20). Both call one SQL function that checks the club, renders
sensitive values for the caller and writes the audit event; this module only renders
and writes the file (mode 0600: it holds personal data)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pgdpr import report as reports
from pgdpr.context import format_option, pass_context
from pgdpr.db import PgdprError
from pgdpr.files import check_writable, write_private
from pgdpr.request_answer import begin_answer, close_answer, commit_answer

REPORT_FORMATS = ("html", "text", "json", "pdf")
REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".json": "json", ".txt": "text", ".pdf": "pdf"}
EXPORT_FORMATS = ("csv", "json", "zip")
EXPORT_SUFFIXES = {".csv": "csv", ".json": "json", ".zip": "zip"}


def output_format_for(output: Path | None, given: str | None, suffixes: dict[str, str], default: str,
                      what: str) -> str:
    """The format: --format if given, else from -o's suffix. A suffix that names another
    format is refused, so a file is always what its name says."""
    suffix = output.suffix.lower() if output else ""
    implied = suffixes.get(suffix)
    if output and suffix and implied is None:
        names = ", ".join(sorted(set(suffixes)))
        raise PgdprError(f"{what} cannot write {suffix} files: name the file {names}")
    if given and implied and given != implied:
        raise PgdprError(f"--format {given} does not fit {output.name}: name the file "
                         f"{output.stem}{next(s for s, f in suffixes.items() if f == given)}")
    return given or implied or default


@click.command("report")
@click.argument("subject_id")
@click.option("--club", "club", help="the club (tenant) of the subject; staff act for their own club")
@click.option("--kind", default="customer", show_default=True, help="subject kind of the catalog")
@format_option(*REPORT_FORMATS, default=None,
               help="html (printable), pdf (printed by Chromium), text or json; default: from -o's suffix, "
                    "else text")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write to FILE (.html, .pdf, .txt or .json; mode 0600)")
@click.option("--lang", type=click.Choice(reports.LANGS), default="da", show_default=True)
@click.option("--purpose", default="insight report", show_default=True,
              help="why the report is made (kept in the audit trail; no personal data)")
@click.option("--request", "request_id", type=int, help="the access request this report answers (closed with it)")
@pass_context
def report_command(ctx, subject_id: str, club: str | None, kind: str, output_format: str | None,
                   output: Path | None, lang: str, purpose: str, request_id: int | None) -> None:
    """The Data Insight Report of SUBJECT_ID: all data held, GDPR Art. 15 information, access history."""
    fmt = output_format_for(output, output_format, REPORT_SUFFIXES, "text", "report")
    if fmt == "pdf":
        if not output:
            raise PgdprError("a PDF is written to a file: add -o FILE.pdf")
        if reports.find_chromium() is None:
            raise PgdprError("PDF needs Chromium (Debian package `chromium`), which is not installed: "
                             "write .html and print it from a browser instead")
    if output:  # before the report is made and audited
        check_writable(output)
    conn = ctx.connect()
    begin_answer(conn, request_id)  # the report, its audit event and the request's closing: one transaction
    text = reports.render_report(conn, kind, subject_id, club, "html" if fmt == "pdf" else fmt, lang, purpose)
    answered = close_answer(conn, request_id)
    if fmt == "pdf":
        write_private(output, reports.html_to_pdf(text))
    elif output:
        write_private(output, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    if output:
        click.echo(f"report of {kind} {subject_id} written to {output} ({fmt})", err=True)
    commit_answer(conn, answered)


@click.command("export")
@click.argument("subject_id")
@click.option("--club", "club", help="the club (tenant) of the subject; staff act for their own club")
@click.option("--kind", default="customer", show_default=True, help="subject kind of the catalog")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.csv, FILE.json or FILE.zip (mode 0600)")
@format_option(*EXPORT_FORMATS, default=None,
               help="csv (one row per field), json (one document) or zip (one CSV per section, pictures "
                    "as files, a README); default: from -o's suffix")
@click.option("--excel", is_flag=True, help="CSV: semicolon-separated with a byte order mark (Danish Excel)")
@click.option("--zip", "as_zip", is_flag=True, help="the same as --format zip")
@click.option("--lang", type=click.Choice(reports.LANGS), default="da", show_default=True,
              help="language of section titles and field labels")
@click.option("--purpose", default="data export", show_default=True,
              help="why the export is made (kept in the audit trail; no personal data)")
@click.option("--request", "request_id", type=int, help="the access or portability request this export answers")
@click.option("--provided-only", is_flag=True,
              help="only the data the person provided (GDPR Art. 20(1)): sections whose catalog source is the person")
@pass_context
def export_command(ctx, subject_id: str, club: str | None, kind: str, output: Path, output_format: str | None,
                   excel: bool, as_zip: bool, lang: str, purpose: str, request_id: int | None,
                   provided_only: bool) -> None:
    """Export everything held on SUBJECT_ID in a machine-readable file (GDPR Art. 20)."""
    if as_zip and output_format not in (None, "zip"):
        raise PgdprError(f"--zip and --format {output_format} contradict each other")
    fmt = output_format_for(output, "zip" if as_zip else output_format, EXPORT_SUFFIXES, "csv", "export")
    if excel and fmt == "json":
        raise PgdprError("--excel is for CSV files, not json")
    check_writable(output)  # before the export is made and audited
    conn = ctx.connect()
    begin_answer(conn, request_id)
    rows = reports.fetch_rows(conn, kind, subject_id, club, fmt + ("-excel" if excel else ""), purpose,
                              provided_only)
    answered = close_answer(conn, request_id)
    subject = f"{kind} {subject_id}"
    if fmt == "zip":
        counts = reports.write_zip(output, rows, reports.fetch_columns(conn, kind), excel, lang, subject=subject)
        click.echo(f"export of {subject} written to {output}: {len(counts)} section file(s), "
                   f"{sum(counts.values())} record(s)", err=True)
    elif fmt == "json":
        document = reports.export_document(rows, reports.fetch_columns(conn, kind), lang, subject)
        write_private(output, json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
        click.echo(f"export of {subject} written to {output}: {len(rows)} field(s) (json)", err=True)
    else:
        write_private(output, reports.csv_text(rows, excel, lang), encoding="utf-8-sig" if excel else "utf-8")
        click.echo(f"export of {subject} written to {output}: {len(rows)} field(s)", err=True)
    commit_answer(conn, answered)


COMMANDS = [report_command, export_command]
