"""Erasure commands (GDPR Art. 17): `pgdpr anonymize`, `pgdpr hold set|clear|list`,
`pgdpr ledger export|replay|check`. Thin: the gdpr.* functions decide and audit; this
module asks, renders and moves ledger files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pgdpr.context import ID, Progress, emit_json, format_option, pass_context
from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.files import check_writable, write_private
from pgdpr.report import render_report

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


def _save_report(conn, kind: str, key: str, club: str | None, path: Path) -> None:
    fmt = REPORT_FORMATS.get(path.suffix.lower(), "html")
    text = render_report(conn, kind, key, club, fmt=fmt, purpose="saved before anonymisation")
    write_private(path, text, overwrite=False)


def _confirm(question: str, refused: str) -> None:
    """Ask on the terminal; without an answer (stdin closed or at its end) refuse in one line."""
    if sys.stdin is None or sys.stdin.closed:
        raise PgdprError(f"no answer possible (stdin is closed): {refused}; confirm with --yes")
    try:
        answer = click.confirm(question, default=False, err=True)
    except (click.Abort, EOFError, RuntimeError, OSError):
        raise PgdprError(f"no answer: {refused}; confirm with --yes") from None
    if not answer:
        raise PgdprError(f"not confirmed: {refused}")


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
@format_option()
@pass_context
def anonymize(ctx, subject_key, kind, club, reason, save_report, dry_run, yes, force, output_format):
    """Anonymise SUBJECT_KEY irreversibly: delete, scrub or retain per the catalog (GDPR Art. 17)."""
    if save_report:
        check_writable(save_report, overwrite=False)
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
        _confirm(f"Anonymise {kind} {subject_key} irreversibly?", f"{kind} {subject_key} not anonymised")
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
    """Legal holds: keep a subject from being anonymised (a debt, a doping case, litigation)."""


@hold.command("set")
@click.argument("subject_key")
@click.option("--type", "hold_type", type=click.Choice(["debt", "doping", "litigation", "other"]), required=True)
@click.option("--reason", required=True, help="why (a case number; no personal data)")
@click.option("--until", help="expiry (timestamp); none = until cleared")
@click.option("--kind", default="customer", show_default=True)
@click.option("--club", "club")
@format_option()
@pass_context
def hold_set(ctx, subject_key, hold_type, reason, until, kind, club, output_format):
    """Put SUBJECT_KEY under a legal hold."""
    hold_id = ctx.connect().execute("SELECT gdpr.set_legal_hold(%s, %s, %s, %s, %s::timestamptz, %s)",
                                    (kind, subject_key, hold_type, reason, until, club)).fetchone()[0]
    if output_format == "json":
        emit_json({"hold_id": hold_id, "kind": kind, "subject_key": subject_key, "hold_type": hold_type})
        return
    click.echo(f"legal hold #{hold_id} set on {kind} {subject_key}")


@hold.command("clear")
@click.argument("hold_id", type=ID)
@format_option()
@pass_context
def hold_clear(ctx, hold_id, output_format):
    """Clear legal hold HOLD_ID."""
    ctx.connect().execute("SELECT gdpr.clear_legal_hold(%s)", (hold_id,))
    if output_format == "json":
        emit_json({"hold_id": hold_id, "cleared": True})
        return
    click.echo(f"legal hold #{hold_id} cleared")


@hold.command("list")
@click.option("--kind")
@click.option("--club", "club")
@click.option("--subject", "subject_key")
@format_option()
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
    """The erasure ledger: export it, and replay it after restoring a backup."""


@ledger.command("export")
@click.option("--since", help="only erasures at or after this time")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="file (default: stdout)")
@pass_context
def ledger_export(ctx, since, output):
    """Write the ledger as JSON lines (no personal data; each entry signed)."""
    if output:
        check_writable(output, overwrite=True)
    lines = [json.dumps(row, default=str, ensure_ascii=False)
             for row in fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.ledger_export(%s::timestamptz)", (since,))]
    text = "".join(line + "\n" for line in lines)
    if output:
        write_private(output, text, overwrite=True)
        click.echo(f"{len(lines)} erasures written to {output}", err=True)
    else:
        click.echo(text, nl=False)


# What every ledger entry names (gdpr.ledger_export writes them; tenant is empty for a
# schema without tenants).
LEDGER_FIELDS = ("kind", "subject_key", "erased_at")  # an unsigned entry is the database's to refuse


def _read_ledger(path: Path) -> list[dict]:
    entries = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise PgdprError(f"{path}:{number}: not a JSON line ({exc.msg})") from exc
                if not isinstance(entry, dict):
                    raise PgdprError(f"{path}:{number}: not a ledger entry (a JSON object)")
                missing = [f for f in LEDGER_FIELDS if entry.get(f) in (None, "")]
                if missing:
                    raise PgdprError(f"{path}:{number}: incomplete ledger entry: no {', '.join(missing)}")
                entries.append(entry)
    except UnicodeDecodeError as exc:
        raise PgdprError(f"cannot read {path}: not UTF-8 text") from exc
    except OSError as exc:
        raise PgdprError(f"cannot read {path}: {exc.strerror}") from exc
    return entries


# Entries a replay refuses: the admin must look at them (exit status 1).
NOT_APPLIED = ("held", "invalid", "invalid_signature")

# Entries per call of gdpr.ledger_replay: each call commits, so a long replay shows
# progress and an interrupted one keeps what it did (a re-run finds those erased).
REPLAY_CHUNK = 500


def _chunks(entries: list[dict]) -> list[list[dict]]:
    """The entries in chunks, every entry of one subject in the same chunk (the function
    decides per subject)."""
    by_subject: dict[tuple, list[dict]] = {}
    for entry in entries:
        by_subject.setdefault((entry.get("kind"), entry.get("tenant"), entry.get("subject_key")), []).append(entry)
    chunks: list[list[dict]] = [[]]
    for group in by_subject.values():
        if chunks[-1] and len(chunks[-1]) + len(group) > REPLAY_CHUNK:
            chunks.append([])
        chunks[-1].extend(group)
    return [c for c in chunks if c]


def _replay(ctx, file, apply, output_format):
    entries = _read_ledger(file)
    conn = ctx.connect()
    progress = Progress("ledger " + ("replay" if apply else "check"), len(entries), "entries",
                        enabled=output_format != "json")
    rows: list[dict] = []
    done = 0
    for chunk in _chunks(entries):
        rows += fetch_dicts(conn, "SELECT * FROM gdpr.ledger_replay(%s::jsonb, %s)", (json.dumps(chunk), apply))
        done += len(chunk)
        progress.update(done)
    progress.done()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    if output_format == "json":
        emit_json({"entries": rows, "counts": counts})
    else:
        for r in rows:
            if r["outcome"] in ("reapplied", "missing", "unknown_kind") + NOT_APPLIED:
                club = f" (club {r['tenant']})" if r["tenant"] is not None else ""
                erased = f", erased {r['erased_at']}" if r["erased_at"] is not None else ""
                click.echo(f"{r['outcome']:<10} {r['kind'] or '?'} {r['subject_key'] or '?'}{club}{erased}")
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "empty ledger"
        click.echo(f"{len(rows)} ledger entries: {summary}")
    return counts


@ledger.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option()
@pass_context
def ledger_replay(ctx, file, output_format):
    """Re-apply every erasure in FILE that this (restored) database lacks (exit status 1
    if an entry was refused: held, invalid, invalid signature)."""
    counts = _replay(ctx, file, True, output_format)
    if any(counts.get(k) for k in NOT_APPLIED):
        raise SystemExit(1)


@ledger.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option()
@pass_context
def ledger_check(ctx, file, output_format):
    """Report which erasures in FILE this database lacks (exit status 1 if any, or if an
    entry is held, invalid or wrongly signed)."""
    counts = _replay(ctx, file, False, output_format)
    if any(counts.get(k) for k in ("missing",) + NOT_APPLIED):
        raise SystemExit(1)


COMMANDS = [anonymize, hold, ledger]
