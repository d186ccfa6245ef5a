"""Data-subject requests and what answers them: `pgdpr request` (the register of
GDPR Art. 12(3) with its deadlines), `pgdpr consent withdraw` (Art. 7(3)),
`pgdpr restriction` (Art. 18) and `pgdpr controller set` (the Art. 30 details).
Every rule is decided by the gdpr functions; this module calls them and prints."""

from __future__ import annotations

from datetime import datetime

import click

from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.context import emit_json, pass_context

REQUEST_TYPES = ("access", "portability", "erasure", "rectification", "restriction", "objection")
VERIFICATIONS = ("in_person_id", "mitid", "known_email", "known_phone", "signed_letter", "other")
GROUNDS = ("accuracy_contested", "unlawful_processing", "legal_claims", "objection_pending", "other")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ("" if value is None else str(value))


@click.group("request", short_help="Data-subject requests and their deadlines.")
def request_group() -> None:
    """The register of data-subject requests (GDPR Art. 12(3)): one month to answer."""


@request_group.command("open")
@click.argument("subject_id")
@click.option("--type", "request_type", type=click.Choice(REQUEST_TYPES), required=True)
@click.option("--verified", "verification", type=click.Choice(VERIFICATIONS), required=True,
              help="how the requester's identity was checked")
@click.option("--note", help="how the identity was checked, in words (CPR and account numbers are removed)")
@click.option("--received", "received_at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="when the request arrived (default: now); the deadline runs from it")
@click.option("--club", help="the club (tenant); staff act for their own club")
@click.option("--kind", default="customer", show_default=True)
@pass_context
def open_command(ctx, subject_id, request_type, verification, note, received_at, club, kind) -> None:
    """Log a request by SUBJECT_ID when it arrives."""
    conn = ctx.connect()
    request_id = conn.execute(
        "SELECT gdpr.open_request(%s, %s, %s, %s, %s, %s::timestamptz, %s)",
        (kind, subject_id, request_type, verification, note, received_at, club)).fetchone()[0]
    due = conn.execute("SELECT due_at FROM gdpr.list_requests(%s) WHERE id = %s", (club, request_id)).fetchone()
    click.echo(f"request {request_id} opened: {request_type} by {kind} {subject_id}, due {_when(due[0]) if due else '?'}")


@request_group.command("list")
@click.option("--club", help="the club (tenant); staff see their own club")
@click.option("--overdue", is_flag=True, help="only open requests past their deadline")
@click.option("--open", "only_open", is_flag=True, help="only open requests")
@click.option("--now", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="measure deadlines against this time instead of now")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@pass_context
def list_command(ctx, club, overdue, only_open, now, output_format) -> None:
    """The requests of the club, earliest deadline first."""
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.list_requests(%s, %s, %s::timestamptz)", (club, overdue, now))
    if only_open:
        rows = [r for r in rows if r["status"] == "open"]
    if output_format == "json":
        emit_json(rows)
        return
    if not rows:
        click.echo("no overdue requests" if overdue else "no requests")
        return
    for r in rows:
        due = r["extended_due_at"] or r["due_at"]
        flags = [f for f, on in (("OVERDUE", r["overdue"]), ("extended", r["extended_due_at"]),
                                 ("answered late", r["answered_late"])) if on]
        click.echo(f"#{r['id']:<5} {r['request_type']:<13} {r['kind']} {r['subject_key']:<8} club {r['tenant'] or '-'}"
                   f"  received {_when(r['received_at'])}  due {_when(due)}  {r['status']}"
                   + (f"  [{', '.join(flags)}]" if flags else ""))
        for n in r["notes"]:
            click.echo(f"        {n['topic'].replace('request_', '')}: {n['note']}")


@request_group.command("extend")
@click.argument("request_id", type=int)
@click.option("--months", type=click.IntRange(1, 2), required=True)
@click.option("--reason", required=True, help="why more time is needed (the requester must be told)")
@pass_context
def extend_command(ctx, request_id, months, reason) -> None:
    """Extend the deadline of REQUEST_ID once, before it passes (Art. 12(3))."""
    due = ctx.connect().execute("SELECT gdpr.extend_request(%s, %s, %s)", (request_id, months, reason)).fetchone()[0]
    click.echo(f"request {request_id} now due {_when(due)}")


@request_group.command("close")
@click.argument("request_id", type=int)
@click.option("--outcome", type=click.Choice(["answered", "refused", "withdrawn"]), default="answered",
              show_default=True)
@click.option("--note", help="the reason for a refusal (required then), or a closing note")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@pass_context
def close_command(ctx, request_id, outcome, note, output_format) -> None:
    """Close REQUEST_ID; the report, export or erasure that answered it is linked."""
    result = ctx.connect().execute("SELECT gdpr.close_request(%s, %s, %s)", (request_id, outcome, note)).fetchone()[0]
    if output_format == "json":
        emit_json(result)
        return
    actions = ", ".join(f"{e['action']} #{e['event_id']}" for e in result["events"]) or "no engine action"
    click.echo(f"request {request_id} {outcome}{' after the deadline' if result['late'] else ' in time'}: {actions}")


@click.group("consent", short_help="Consents: withdraw one, its use stops.")
def consent_group() -> None:
    """Consents (GDPR Art. 7)."""


@consent_group.command("withdraw")
@click.argument("subject_id")
@click.option("--type", "consent_type", required=True, help="the consent type, e.g. photo_marketing, newsletter")
@click.option("--note", help="a note (CPR and account numbers are removed)")
@click.option("--request", "request_id", type=int, help="the request the withdrawal answers")
@click.option("--club", help="the club (tenant); staff act for their own club")
@click.option("--kind", default="customer", show_default=True)
@pass_context
def withdraw_command(ctx, subject_id, consent_type, note, request_id, club, kind) -> None:
    """Withdraw SUBJECT_ID's consent: what it covered is erased or stopped at once."""
    r = ctx.connect().execute("SELECT gdpr.withdraw_consent(%s, %s, %s, %s, %s, %s)",
                              (kind, subject_id, consent_type, note, request_id, club)).fetchone()[0]
    erased = ", ".join(f"{c} ({n})" for c, n in r["erased"].items()) or "nothing"
    stopped = ", ".join(r["stopped"]) or "nothing"
    click.echo(f"consent {consent_type} of {kind} {subject_id} withdrawn: erased {erased}; stopped {stopped}; "
               f"{r['messages_cancelled']} queued message(s) cancelled")


@click.group("restriction", short_help="Restrict processing: data kept, use stops.")
def restriction_group() -> None:
    """Restriction of processing (GDPR Art. 18): data kept, rules, messages and exports stop."""


@restriction_group.command("set")
@click.argument("subject_id")
@click.option("--ground", type=click.Choice(GROUNDS), required=True, help="GDPR Art. 18(1)(a)-(d)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="when it ends by itself")
@click.option("--note", help="a note (CPR and account numbers are removed)")
@click.option("--request", "request_id", type=int, help="the request it answers")
@click.option("--club", help="the club (tenant); staff act for their own club")
@click.option("--kind", default="customer", show_default=True)
@pass_context
def restrict_command(ctx, subject_id, ground, until, note, request_id, club, kind) -> None:
    """Restrict the processing of SUBJECT_ID's data."""
    rid = ctx.connect().execute(
        "SELECT gdpr.restrict_processing(%s, %s, %s, %s, %s::timestamptz, %s, %s)", (kind, subject_id, ground, note, until, request_id, club)).fetchone()[0]
    click.echo(f"restriction {rid} set on {kind} {subject_id} ({ground})")


@restriction_group.command("lift")
@click.argument("restriction_id", type=int)
@click.option("--note", help="a note (CPR and account numbers are removed)")
@pass_context
def lift_command(ctx, restriction_id, note) -> None:
    """Lift restriction RESTRICTION_ID (tell the subject first, Art. 18(3))."""
    ctx.connect().execute("SELECT gdpr.lift_restriction(%s, %s)", (restriction_id, note))
    click.echo(f"restriction {restriction_id} lifted")


@restriction_group.command("list")
@click.option("--club", help="the club (tenant); staff see their own club")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@pass_context
def restriction_list_command(ctx, club, output_format) -> None:
    """Active restrictions of the club."""
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.active_restrictions(NULL, NULL, %s)", (club,))
    if output_format == "json":
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"#{r['id']:<5} {r['kind']} {r['subject_key']:<8} {r['ground']:<20} since {_when(r['created_at'])}"
                   + (f" until {_when(r['until'])}" if r["until"] else ""))
    if not rows:
        click.echo("no active restrictions")


@click.group("controller")
def controller_group() -> None:
    """The controller's and processor's details of the record of processing (GDPR Art. 30)."""


@controller_group.command("set")
@click.option("--club", help="the club (tenant); staff act for their own club")
@click.option("--processor", is_flag=True, help="record the processor's (the vendor's) details instead")
@click.option("--name", required=True)
@click.option("--contact", required=True, help="address, e-mail or phone of the controller (or processor)")
@click.option("--dpo-name", help="the data-protection contact")
@click.option("--dpo-contact", help="how to reach the data-protection contact")
@click.option("--transfers", help="transfers to third countries and their safeguards, or that there are none")
@click.option("--measures", help="organisational security measures, in the controller's words")
@pass_context
def controller_set_command(ctx, club, processor, name, contact, dpo_name, dpo_contact, transfers, measures) -> None:
    """Record the name, contact and data-protection contact shown in the compliance report."""
    if processor and club:
        raise PgdprError("give either --club or --processor")
    tenant = "" if processor else club
    ctx.connect().execute("SELECT gdpr.set_controller_details(%s, %s, %s, %s, %s, %s, %s)",
                          (tenant, name, contact, dpo_name, dpo_contact, transfers, measures))
    click.echo("processor details recorded" if processor else f"controller details of club {club or '(own)'} recorded")


COMMANDS = [request_group, consent_group, restriction_group, controller_group]

