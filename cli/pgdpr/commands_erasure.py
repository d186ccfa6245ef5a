"""Erasure commands (GDPR Art. 17; seed S3, S5, S8): `pgdpr anonymize`, `pgdpr hold
set|clear|list`, `pgdpr ledger export|replay|check`. Thin: the gdpr.* functions decide
and audit; this module asks, renders and moves ledger files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.main import emit_json, pass_context
from pgdpr.report import render_report, write_file

REPORT_FORMATS = {".html": "html", ".htm": "html", ".txt": "text", ".json": "json"}


def _preview_lines(preview: dict) -> list[str]:
    lines = [f"{preview['kind']} {preview['subject_key']} (club {preview['tenant']}):"]
    width = max((len(t["table"]) for t in preview["tables"]), default=10)
    for t in preview["tables"]:
        action = {"delete": "deleted", "anonymize": "anonymised", "retain": "retained"}[t["action"]]
        extra = f" until {t['retain_period']} after the record date, then erased" if t["action"] == "retain" else ""
        lines.append(f"  {t['table']:<{width}}  {t['rows']:>6} rows {action}{extra}")
    for h in preview["holds"]:
        until = f" until {h['until']}" if h.get("until") else ""
        lines.append(f"  LEGAL HOLD #{h['id']} ({h['hold_type']}) set by {h['created_by']}{until}: "
                     f"refused unless --force")
    return lines


def _check_writable(path: Path, overwrite: bool) -> None:
    """Refuse early (before anything is read, audited or erased) a file that cannot
    be written or must not be overwritten."""
    if not path.parent.is_dir():
        raise PgdprError(f"cannot write {path}: folder {path.parent} does not exist")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise PgdprError(f"{path} already exists: not overwritten (choose another file name)")


def _save_report(conn, kind: str, key: str, club: str | None, path: Path) -> None:
    fmt = REPORT_FORMATS.get(path.suffix.lower(), "html")
    text = render_report(conn, kind, key, club, fmt=fmt, purpose="saved before anonymisation")
    write_file(path, text, overwrite=False)


@click.command("anonymize")
@click.argument("subject_key")
@click.option("--kind", default="customer", show_default=True, help="subject kind of the catalog")
@click.option("--club", "club", help="club (tenant) of the subject; staff act on their own club")
@click.option("--reason", default="the data subject's request", show_default=True,
              help="why (stored in the audit trail with the subject's own values removed)")
@click.option("--save-report", "save_report", type=click.Path(dir_okay=False, path_type=Path),
              help="save the insight report (.html, .txt or .json) before erasing; a new file, mode 0600")
@click.option("--dry-run", is_flag=True, help="show what would happen and stop")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--force", is_flag=True, help="erase despite an active legal hold (audited)")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_context
def anonymize(ctx, subject_key, kind, club, reason, save_report, dry_run, yes, force, output_format):
    """Anonymise SUBJECT_KEY irreversibly (seed S3): delete, scrub or retain per the catalog."""
    if save_report:
        _check_writable(save_report, overwrite=False)
    conn = ctx.connect()
    preview = conn.execute("SELECT gdpr.erasure_preview(%s, %s, %s)", (kind, subject_key, club)).fetchone()[0]
    if preview["already_anonymized"]:
        result = {"status": "already_anonymized", "kind": kind, "subject_key": subject_key,
                  "tenant": preview["tenant"]}
        emit_json(result) if output_format == "json" else click.echo(f"{kind} {subject_key} is already anonymised")
        return
    if save_report:
        _save_report(conn, kind, subject_key, club or preview["tenant"], save_report)
        click.echo(f"insight report saved to {save_report}", err=True)
    if output_format == "text" or dry_run:
        if output_format == "json" and dry_run:
            emit_json(preview)
        else:
            click.echo("\n".join(_preview_lines(preview)))
    if dry_run:
        return
    if preview["holds"] and not force:
        hold = preview["holds"][0]
        raise PgdprError(f"{kind} {subject_key} is under legal hold #{hold['id']} ({hold['hold_type']}): "
                         f"clear it (pgdpr hold clear {hold['id']}) or use --force")
    if not yes:
        click.confirm(f"Anonymise {kind} {subject_key} irreversibly?", abort=True, err=True)
    summary = conn.execute("SELECT gdpr.anonymize(%s, %s, %s, %s, %s)",
                           (kind, subject_key, reason, club or preview["tenant"], force)).fetchone()[0]
    if output_format == "json":
        emit_json(summary)
    elif summary["status"] == "already_anonymized":
        click.echo(f"{kind} {subject_key} is already anonymised")
    else:
        click.echo("\n".join(_proof_lines(kind, subject_key, summary)))
    if summary["status"] == "anonymized" and summary["proof"]["verdict"] != "erased":
        verdict = summary["proof"]["verdict"]
        raise PgdprError(f"{kind} {subject_key} was anonymised, but the proof says {verdict}: "
                         + ("identifying values were found" if verdict == "not_erased"
                            else "some places could not be searched"))


def _proof_lines(kind: str, subject_key: str, summary: dict) -> list[str]:
    """The erasure's outcome: the proof's verdict, what it found where, what it could
    not search, and what is kept until a statutory period ends."""
    proof = summary["proof"]
    lines = [f"{kind} {subject_key} anonymised; proof: {proof['verdict']} ({proof['hits']} hits, "
             f"{proof.get('searched', 0)} places searched)"]
    for place in proof["places"]:
        lines.append(f"  FOUND in {place['table']}.{place['column']} ({place['hits']} cells): "
                     f"declare it in the catalog so that erasure scrubs it")
    for place in proof.get("unsearched", []):
        lines.append(f"  NOT SEARCHED: {place['place']}: {place['why']}")
    for d in summary["deferred"]:
        lines.append(f"  {d['rows']} rows of {d['table']} kept until {d['last_due_at']} (deferred erasure)")
    return lines


@click.group("hold")
def hold():
    """Legal holds (seed S5): keep a subject from being anonymised."""


@hold.command("set")
@click.argument("subject_key")
@click.option("--type", "hold_type", type=click.Choice(["debt", "doping", "litigation", "other"]), required=True)
@click.option("--reason", required=True, help="why (a case number; no personal data)")
@click.option("--until", help="expiry (timestamp); none = until cleared")
@click.option("--kind", default="customer", show_default=True)
@click.option("--club", "club")
@pass_context
def hold_set(ctx, subject_key, hold_type, reason, until, kind, club):
    """Put SUBJECT_KEY under a legal hold."""
    hold_id = ctx.connect().execute("SELECT gdpr.set_legal_hold(%s, %s, %s, %s, %s::timestamptz, %s)",
                                    (kind, subject_key, hold_type, reason, until, club)).fetchone()[0]
    click.echo(f"legal hold #{hold_id} set on {kind} {subject_key}")


@hold.command("clear")
@click.argument("hold_id", type=int)
@pass_context
def hold_clear(ctx, hold_id):
    """Clear legal hold HOLD_ID."""
    ctx.connect().execute("SELECT gdpr.clear_legal_hold(%s)", (hold_id,))
    click.echo(f"legal hold #{hold_id} cleared")


@hold.command("list")
@click.option("--kind")
@click.option("--club", "club")
@click.option("--subject", "subject_key")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_context
def hold_list(ctx, kind, club, subject_key, output_format):
    """Active legal holds."""
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.active_legal_holds(%s, %s, %s)", (kind, subject_key, club))
    if output_format == "json":
        emit_json(rows)
        return
    if not rows:
        click.echo("no active legal holds")
    for r in rows:
        until = r["until"].isoformat() if r["until"] else "until cleared"
        click.echo(f"#{r['id']}  {r['kind']} {r['subject_key']} (club {r['tenant']})  {r['hold_type']}  "
                   f"{until}  by {r['created_by']}  {r['reason']}")


@click.group("ledger")
def ledger():
    """The erasure ledger (seed S8): export it, and replay it after restoring a backup."""


@ledger.command("export")
@click.option("--since", help="only erasures at or after this time")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="file (default: stdout)")
@pass_context
def ledger_export(ctx, since, output):
    """Write the ledger as JSON lines (no personal data; each entry signed)."""
    if output:
        _check_writable(output, overwrite=True)
    lines = [json.dumps(row, default=str, ensure_ascii=False)
             for row in fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.ledger_export(%s::timestamptz)", (since,))]
    text = "".join(line + "\n" for line in lines)
    if output:
        write_file(output, text)
        click.echo(f"{len(lines)} erasures written to {output}", err=True)
    else:
        click.echo(text, nl=False)


def _read_ledger(path: Path) -> list[dict]:
    entries = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        entries.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise PgdprError(f"{path}:{number}: not a JSON line ({exc.msg})") from exc
    except OSError as exc:
        raise PgdprError(f"cannot read {path}: {exc.strerror}") from exc
    return entries


# Entries a replay refuses: the admin must look at them (exit status 1).
NOT_APPLIED = ("held", "invalid", "invalid_signature")


def _replay(ctx, file, apply, output_format):
    entries = _read_ledger(file)
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.ledger_replay(%s::jsonb, %s)", (json.dumps(entries), apply))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    if output_format == "json":
        emit_json({"entries": rows, "counts": counts})
    else:
        for r in rows:
            if r["outcome"] in ("reapplied", "missing", "unknown_kind") + NOT_APPLIED:
                click.echo(f"{r['outcome']:<10} {r['kind']} {r['subject_key']} (club {r['tenant']}), "
                           f"erased {r['erased_at']}")
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "empty ledger"
        click.echo(f"{len(rows)} ledger entries: {summary}")
    return counts


@ledger.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_context
def ledger_replay(ctx, file, output_format):
    """Re-apply every erasure in FILE that this (restored) database lacks (exit status 1
    if an entry was refused: held, invalid, invalid signature)."""
    counts = _replay(ctx, file, True, output_format)
    if any(counts.get(k) for k in NOT_APPLIED):
        raise SystemExit(1)


@ledger.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_context
def ledger_check(ctx, file, output_format):
    """Report which erasures in FILE this database lacks (exit status 1 if any, or if an
    entry is held, invalid or wrongly signed)."""
    counts = _replay(ctx, file, False, output_format)
    if any(counts.get(k) for k in ("missing",) + NOT_APPLIED):
        raise SystemExit(1)


COMMANDS = [anonymize, hold, ledger]
