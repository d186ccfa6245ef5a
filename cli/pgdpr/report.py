"""Rendering the Data Insight Report (GDPR Art. 15) and writing the portable
export (Art. 20). The database builds the report (gdpr.insight_report,
gdpr.insight_rows) and writes the audit event; this module only formats it.

`render_report()` is reused by other commands (e.g. saving the report before an erasure).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import jinja2
import psycopg

from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.files import open_private, write_private

FORMATS = ("html", "text", "json")
LANGS = ("da", "en")

CATEGORY_LABELS = {
    "name": ("Navn", "Name"),
    "address": ("Adresse", "Address"),
    "contact": ("Kontaktoplysninger", "Contact details"),
    "national_id": ("CPR-nummer", "National identification number"),
    "bank": ("Bankoplysninger", "Bank details"),
    "birthdate": ("Fødselsdato", "Date of birth"),
    "free_text": ("Fritekst", "Free text"),
    "photo": ("Foto", "Photo"),
    "identifier": ("Kundenumre og kort", "Identifiers (numbers, cards)"),
    "other": ("Andre oplysninger", "Other data"),
}

ACTION_LABELS = {
    "insight_report": ("Dataindsigt", "Insight report"),
    "export": ("Dataeksport", "Data export"),
}

# Fixed texts of the report, Danish and English.
TEXT = {
    "da": {
        "title": "Dataindsigt", "subject": "Registreret", "club": "Klub", "generated": "Udskrevet",
        "information": "Oplysninger om behandlingen (GDPR art. 15)", "purposes": "Formål og retsgrundlag",
        "purpose": "Formål", "legal_basis": "Retsgrundlag", "categories": "Kategorier af oplysninger",
        "recipients": "Modtagere", "retention": "Opbevaring", "sources": "Kilde",
        "rights": "Dine rettigheder", "automated": "Automatiske afgørelser", "history": "Adgang til dine oplysninger",
        "history_none": "Ingen registreret adgang før denne rapport.", "date": "Dato", "action": "Handling",
        "format": "Format", "times": "Antal", "data": "Oplysninger", "rows": "poster", "section": "Afsnit",
        "anonymized": "Kunden er anonymiseret", "anonymized_on": "Anonymiseret den",
        "still_kept": "Dette opbevares stadig", "nothing_kept": "Intet opbevares længere.",
        "no_rows": "Ingen oplysninger.", "binary": "binære data", "bytes": "byte", "yes": "Ja", "no": "Nej",
        "sensitive_note": "Felter markeret 'kræver login' er følsomme oplysninger, som din bruger ikke har ret til at se.",
        "rectifications": "Rettelser af dine oplysninger (GDPR art. 16)", "rect_none": "Ingen rettelser.",
        "when": "Tidspunkt", "field": "Felt", "old_value": "Tidligere værdi",
        "not_kept": "(følsom oplysning: tidligere værdi gemmes ikke)", "times_in": "Tidspunkter i tidszonen",
    },
    "en": {
        "title": "Data insight report", "subject": "Data subject", "club": "Club", "generated": "Generated",
        "information": "About the processing (GDPR Art. 15)", "purposes": "Purposes and legal basis",
        "purpose": "Purpose", "legal_basis": "Legal basis", "categories": "Categories of data",
        "recipients": "Recipients", "retention": "Retention", "sources": "Source",
        "rights": "Your rights", "automated": "Automated decisions", "history": "Access to your data",
        "history_none": "No recorded access before this report.", "date": "Date", "action": "Action",
        "format": "Format", "times": "Times", "data": "Data", "rows": "records", "section": "Section",
        "anonymized": "The customer has been anonymised", "anonymized_on": "Anonymised on",
        "still_kept": "Still kept", "nothing_kept": "Nothing is kept any longer.",
        "no_rows": "No data.", "binary": "binary data", "bytes": "bytes", "yes": "Yes", "no": "No",
        "sensitive_note": "Fields reading 'kræver login' are sensitive data your user has no right to see.",
        "rectifications": "Corrections of your data (GDPR Art. 16)", "rect_none": "No corrections.",
        "when": "When", "field": "Field", "old_value": "Previous value",
        "not_kept": "(sensitive data: the previous value is not kept)", "times_in": "Times in the time zone",
    },
}

_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+")
# a time as the database gives it, already in the club's time zone (ISO-8601 with
# its offset): printed as local date and minute for a reader (Art. 12(1))
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d(\.\d+)?)?([+-]\d\d(:\d\d)?|Z)$")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pgdpr", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def fetch_report(conn: psycopg.Connection, kind: str, subject_key: str, tenant: str | None,
                 fmt: str = "json", purpose: str = "insight report") -> dict:
    """gdpr.insight_report(): the report as a dict; writes one audit event in the database."""
    text = conn.execute("SELECT gdpr.insight_report(%s, %s, %s, %s, %s)::text",
                        (kind, str(subject_key), tenant, purpose, fmt)).fetchone()[0]
    return json.loads(text, parse_float=Decimal)  # amounts keep their scale (-299.00)


def _label(item: dict, lang: str, key: str = "label") -> str:
    return item.get(f"{key}_{lang}") or item.get(f"{key}_da") or item.get("name") or ""


def _display(value: Any, column: dict, lang: str) -> str:
    """A value as printed: ISO-8601 dates (seconds), booleans in words, binary data summarised."""
    text = TEXT[lang]
    if value is None:
        return ""
    if isinstance(value, bool):
        return text["yes"] if value else text["no"]
    if column.get("type") == "bytea" and isinstance(value, str) and value.startswith("\\x"):
        return f"[{text['binary']}, {(len(value) - 2) // 2} {text['bytes']}]"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    value = str(value)
    return _TIMESTAMP.sub(r"\1 \2", value)


def _view(report: dict, lang: str) -> dict:
    """What the templates need: labels resolved, values formatted, in report order."""
    sections = []
    for section in report["sections"]:
        columns = section["columns"]
        sections.append({
            "table": section["table"],
            "title": _label(section, lang, "title"),
            "count": section["count"],
            "link": section["link"],
            "purpose": section["purpose"],
            "retention": section["retention"],
            "headers": [_label(c, lang) for c in columns],
            "sensitive": [c["sensitive"] for c in columns],
            # a row is an array of values in the order of the section's columns
            "rows": [[_display(value, c, lang) for value, c in zip(row, columns)] for row in section["rows"]],
        })
    info = report["information"]
    history = [{
        "date": h["date"], "action": ACTION_LABELS.get(h["action"], (h["action"], h["action"]))[LANGS.index(lang)],
        "purpose": h.get("purpose") or "", "format": h.get("format") or "", "times": h["times"],
    } for h in report["access_history"]]
    rectifications = [{
        "at": r["at"], "section": _label(r, lang, "title") or r["table"], "field": _label(r, lang),
        "old_value": TEXT[lang]["not_kept"] if r["sensitive"] else (r.get("old_value") or ""),
    } for r in report.get("rectifications") or []]
    anonymized = report.get("anonymized")
    if anonymized:
        anonymized = {"at": _display(anonymized["at"], {}, lang),
                      "kept": [{"title": _label(k, lang, "title"), "count": k["count"],
                                "retention": k["retention"]} for k in anonymized["kept"]]}
    return {
        "t": TEXT[lang], "lang": lang,
        "subject": report["subject"],
        "generated_at": _display(info["generated_at"], {}, lang),
        "anonymized": anonymized,
        "masked": report.get("sensitive_access") != "allowed",
        "purposes": info["purposes"] or [],
        "categories": [CATEGORY_LABELS.get(c, (c, c))[LANGS.index(lang)] for c in info["categories"] or []],
        "recipients": info["recipients"] or [],
        "sources": info["sources"] or [],
        "retention": [{"title": _label(r, lang, "title"), "retention": r["retention"]} for r in info["retention"] or []],
        "rights": [{"article": r["article"], "text": r[lang]} for r in info["rights"]],
        "automated": info.get("automated_decisions") or "",
        "history": history,
        "rectifications": rectifications,
        "club": report["subject"].get("tenant_name") or report["subject"].get("tenant") or "",
        "time_zone": report["subject"].get("time_zone") or "",
        "sections": sections,
        "row_count": report["row_count"],
    }


def render(report: dict, fmt: str, lang: str = "da") -> str:
    """A fetched report as html, text or json."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False, default=str)
    template = {"html": "report.html.j2", "text": "report.txt.j2"}[fmt]
    return _environment().get_template(template).render(**_view(report, lang))


def render_report(conn: psycopg.Connection, kind: str, subject_key: str, tenant: str | None,
                  fmt: str = "html", lang: str = "da", purpose: str = "insight report") -> str:
    """The insight report of one subject rendered as html, text or json (one audit event)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}")
    if fmt == "json":  # the database's own JSON text, numbers exactly as stored
        return conn.execute("SELECT jsonb_pretty(gdpr.insight_report(%s, %s, %s, %s, %s))",
                            (kind, str(subject_key), tenant, purpose, fmt)).fetchone()[0] + "\n"
    return render(fetch_report(conn, kind, subject_key, tenant, fmt, purpose), fmt, lang)


# --- the portable export (Art. 20) ---------------------------------------------------

EXPORT_HEADER = ("section", "section_title", "record", "field", "field_label", "value")


def fetch_rows(conn: psycopg.Connection, kind: str, subject_key: str, tenant: str | None,
               fmt: str, purpose: str = "data export", provided_only: bool = False) -> list[tuple]:
    """gdpr.insight_rows(): (section, title_da, title_en, record, field, label_da, label_en, value);
    another person's keys left out (Art. 20(4)), with `provided_only` only what the subject provided."""
    return conn.execute("SELECT * FROM gdpr.insight_rows(%s, %s, %s, %s, %s, %s)",
                        (kind, str(subject_key), tenant, purpose, fmt, provided_only)).fetchall()


def fetch_columns(conn: psycopg.Connection, kind: str) -> list[dict]:
    return fetch_dicts(conn, "SELECT * FROM gdpr.insight_columns(%s)", (kind,))


def _writer(handle, excel: bool):
    # Danish Excel opens semicolon-separated files (the comma is the decimal separator)
    return csv.writer(handle, delimiter=";" if excel else ",", lineterminator="\r\n")


def _encoding(excel: bool) -> str:
    return "utf-8-sig" if excel else "utf-8"  # the BOM tells Excel the file is UTF-8


def csv_text(rows: Iterable[tuple], excel: bool = False, lang: str = "da") -> str:
    """One CSV: a header row, then one row per field of every record."""
    out = io.StringIO()
    writer = _writer(out, excel)
    writer.writerow(EXPORT_HEADER)
    for section, title_da, title_en, record, field, label_da, label_en, value in rows:
        writer.writerow((section, (title_en if lang == "en" else title_da) or title_da, record, field,
                         (label_en if lang == "en" else label_da) or field, "" if value is None else value))
    return out.getvalue()


def write_csv(path: Path, rows: Iterable[tuple], excel: bool = False, lang: str = "da") -> None:
    write_private(path, csv_text(rows, excel, lang), encoding=_encoding(excel))


def _section_file(index: int, section: str) -> str:
    return f"{index:02d}_{re.sub(r'[^A-Za-z0-9_]+', '_', section.split('.')[-1])}.csv"


# Binary values (photos) leave the database as hex ('\\x89504e47...'); in the zip each
# becomes a file of its own, named by its type.
_SIGNATURES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG", "png"), (b"GIF8", "gif"), (b"%PDF", "pdf"),
               (b"RIFF", "webp"))
_HEX = re.compile(r"^\\x(?:[0-9a-fA-F]{2})*$")


def binary_value(value: str | None) -> bytes | None:
    """The bytes of a bytea value as the database renders it, else None (e.g. masked)."""
    if isinstance(value, str) and _HEX.match(value):
        return bytes.fromhex(value[2:])
    return None


def file_extension(data: bytes) -> str:
    return next((ext for magic, ext in _SIGNATURES if data.startswith(magic)), "bin")


def export_document(rows: Iterable[tuple], columns: list[dict], lang: str = "da", subject: str = "") -> dict:
    """The export as one JSON document: per section its title, purpose, legal basis and
    retention and its records as objects (field: value), in report order."""
    meta: dict[str, dict] = {}
    for c in columns:
        meta.setdefault(c["section"], {k: c[k] for k in ("title_da", "title_en", "purpose", "legal_basis",
                                                          "retention", "recipients", "source")})
    records: dict[str, dict[int, dict]] = {}
    for section, title_da, title_en, record, field, _lda, _len, value in rows:
        meta.setdefault(section, {"title_da": title_da, "title_en": title_en})
        records.setdefault(section, {}).setdefault(record, {})[field] = value
    return {
        "subject": subject,
        "sections": [{"section": section, "title": (m.get("title_en") if lang == "en" else m.get("title_da"))
                      or m.get("title_da"), **m,
                      "records": [records[section][r] for r in sorted(records.get(section, {}))]}
                     for section, m in meta.items()],
    }


def write_zip(path: Path, rows: list[tuple], columns: list[dict], excel: bool = False, lang: str = "da",
              subject: str = "") -> dict[str, int]:
    """One CSV per section (one line per record, one column per field), every binary value
    (a photo) as a file of its own under files/, and a README that describes every column.
    Returns the number of records per section file."""
    sections: dict[str, list[dict]] = {}
    for column in columns:
        sections.setdefault(column["section"], []).append(column)
    records: dict[str, dict[int, dict[str, str]]] = {s: {} for s in sections}
    for section, _tda, _ten, record, field, _lda, _len, value in rows:
        records.setdefault(section, {}).setdefault(record, {})[field] = "" if value is None else value
    counts: dict[str, int] = {}
    readme = [f"Data export / dataudtræk{(' - ' + subject) if subject else ''}",
              "",
              "UTF-8 CSV files with a header row; dates and times in ISO-8601; empty = no value."
              + (" Semicolon-separated with a byte order mark (Excel)." if excel else ""),
              "'kræver login' = a sensitive value the exporting user has no right to see.",
              "Pictures and other binary values are files in the folder files/; the CSV cell names the file.",
              ""]
    with open_private(path) as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (section, cols) in enumerate(sections.items(), start=1):
            name = _section_file(index, section)
            binary = {c["field"] for c in cols if c["type"] == "bytea"}
            out = io.StringIO()
            writer = _writer(out, excel)
            writer.writerow([c["field"] for c in cols])
            section_records = records.get(section, {})
            for record in sorted(section_records):
                values = section_records[record]
                for field in binary:
                    data = binary_value(values.get(field))
                    if data is not None:
                        member = f"files/{name[:-4]}_{record}_{field}.{file_extension(data)}"
                        archive.writestr(member, data)
                        values[field] = member
                writer.writerow([values.get(c["field"], "") for c in cols])
            archive.writestr(name, out.getvalue().encode(_encoding(excel)))
            counts[name] = len(section_records)
            first = cols[0]
            readme += [f"{name}: {first['title_da']} / {first['title_en']} ({len(section_records)} records)",
                       f"  purpose: {first['purpose']}",
                       f"  legal basis: {first['legal_basis']}",
                       f"  retention: {first['retention']}",
                       f"  recipients: {first['recipients']}",
                       f"  source: {first['source']}",
                       "  columns:"]
            for c in cols:
                label = " / ".join(x for x in (c["label_da"], c["label_en"]) if x) or c["field"]
                extra = ", ".join(x for x in (c["category"], "sensitive" if c["sensitive"] else None,
                                              "a file in files/" if c["field"] in binary else None) if x)
                readme.append(f"    {c['field']}: {label} ({c['type']}{', ' + extra if extra else ''})")
            readme.append("")
        archive.writestr("README.txt", "\n".join(readme).encode("utf-8"))
    return counts


# --- PDF: the printable HTML page printed by a headless Chromium -------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    import os
    import shutil

    return os.environ.get("PGDPR_CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def html_to_pdf(html: str, timeout: float = 120) -> bytes:
    """Print an HTML page to PDF with a headless Chromium (its print-to-PDF). The page
    and the PDF only ever lie in a private temporary folder (mode 0700)."""
    import subprocess
    import tempfile

    chromium = find_chromium()
    if chromium is None:
        raise PdfUnavailable("PDF needs Chromium (Debian package `chromium`), which is not installed: "
                             "write .html and print it from a browser instead")
    with tempfile.TemporaryDirectory(prefix="pgdpr-pdf-") as folder:
        page, pdf = Path(folder) / "page.html", Path(folder) / "page.pdf"
        write_private(page, html)
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--no-pdf-header-footer", f"--user-data-dir={Path(folder) / 'profile'}",
                   f"--print-to-pdf={pdf}", page.as_uri()]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Chromium could not print the PDF: {exc}") from exc
        if not pdf.exists() or not pdf.read_bytes().startswith(b"%PDF"):
            raise PdfUnavailable("Chromium could not print the PDF")
        return pdf.read_bytes()


class PdfUnavailable(PgdprError):
    """No PDF could be made (no Chromium, or it failed)."""
