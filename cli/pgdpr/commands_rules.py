"""`pgdpr rules ...` (trigger rules: scheduled anonymisation, docs/rules.md), `pgdpr cron ...` (schedule the ticker with
pg_cron) and `pgdpr worker` (the same ticker loop for servers without pg_cron).

Thin: every decision is made by the SQL functions in gdpr.rules.sql and gdpr.tick.sql."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

import click
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgdpr.db import PgdprError, connect, fetch_dicts
from pgdpr.context import emit_json, format_option, pass_context

FORMAT = format_option()


def _finite(value: float, option: str) -> float:
    """A number option that must be a real number (not nan, which every range accepts)."""
    if value != value:
        raise click.BadParameter(f"{option} must be a number, not nan")
    return value


def _months(value: str | None) -> int | None | str:
    """A threshold option: a number of months, or 'off' to leave that check out."""
    if value is None:
        return "default"
    if value.lower() in ("off", "none", "no"):
        return None
    try:
        months = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number of months (or 'off')") from None
    return months


@click.group("rules")
def rules_group() -> None:
    """Trigger rules: automatic anonymisation and other scheduled actions per club."""


@rules_group.command("create")
@click.option("--club", "tenant", help="The club (tenant) the rule is for; staff: their own club.")
@click.option("--name", "description", required=True, help="A descriptive name of the rule.")
@click.option("--daily", metavar="HH:MM", help="Run every day at this local time.")
@click.option("--weekly", metavar="'DAY HH:MM'", help="Run every week, e.g. 'mon 08:00'.")
@click.option("--monthly", metavar="'D HH:MM'", help="Run every month, e.g. '1 08:00'.")
@click.option("--cron", "cron_expr", metavar="'M H DOM MON DOW'", help="A 5-field cron schedule.")
@click.option("--time-zone", help="Time zone of the schedule (default: the club's, else Europe/Copenhagen).")
@click.option("--once", "frequency", flag_value="once", default=True, help="Fire at most once per subject (default).")
@click.option("--every-days", type=int, help="Fire at most once per subject every N days.")
@click.option("--no-account-activity-months", help="can_be_anonymised: no account movement in N months (or 'off').")
@click.option("--no-activity-months", help="can_be_anonymised: no activity in N months (or 'off').")
@click.option("--no-reservation-months", help="can_be_anonymised: no reservation in N months (or 'off').")
@click.option("--condition", "extra_conditions", multiple=True, metavar="NAME[=JSON]",
              help="Another registered condition, with its parameters as a JSON object.")
@click.option("--action", "actions", multiple=True, metavar="NAME[=JSON]", required=True,
              help="An action (anonymise, queue_message, ...), with parameters as a JSON object.")
@click.option("--template", help="queue_message: the message template.")
@click.option("--max-per-run", type=int, default=1000, show_default=True,
              help="At most this many subjects changed per run; the rest waits for the next run "
                   "(staff: at most 1000; admins may set more).")
@click.option("--kind", default="customer", show_default=True, help="Subject kind.")
@click.option("--disabled", is_flag=True, help="Create the rule disabled (preview it first).")
@FORMAT
@pass_context
def rules_create(ctx, tenant, description, daily, weekly, monthly, cron_expr, time_zone, frequency, every_days,
                 no_account_activity_months, no_activity_months, no_reservation_months, extra_conditions, actions,
                 template, max_per_run, kind, disabled, output_format) -> None:
    """Create a rule: WHEN it runs, HOW OFTEN it may fire, ONLY IF conditions, WHAT happens."""
    schedules = [s for s in (daily and f"daily {daily}", weekly and f"weekly {weekly}",
                             monthly and f"monthly {monthly}", cron_expr) if s]
    if len(schedules) != 1:
        raise PgdprError("give exactly one of --daily, --weekly, --monthly, --cron")
    frequency = f"every {every_days} days" if every_days is not None else "once"

    conditions = []
    thresholds = {"no_account_movement_months": _months(no_account_activity_months),
                  "no_activity_months": _months(no_activity_months),
                  "no_reservation_months": _months(no_reservation_months)}
    action_names = [a.split("=", 1)[0] for a in actions]
    if any(v != "default" for v in thresholds.values()) or "anonymise" in action_names:
        conditions.append({"name": "can_be_anonymised",
                           "params": {k: v for k, v in thresholds.items() if v != "default"}})
    conditions += [_item(c) for c in extra_conditions]
    action_items = [_item(a) for a in actions]
    for item in action_items:
        if item["name"] == "queue_message" and template:
            item["params"].setdefault("template", template)

    conn = ctx.connect()
    rule_id = conn.execute(
        "SELECT gdpr.create_rule(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)",
        (tenant, description, schedules[0], frequency, json.dumps(conditions), json.dumps(action_items),
         max_per_run, kind, time_zone, not disabled)).fetchone()[0]
    rule = conn.execute("SELECT gdpr.show_rule(%s)", (rule_id,)).fetchone()[0]
    if output_format == "json":
        emit_json(rule)
        return
    click.echo(f"created rule {rule_id}: {rule['description']} (schedule '{rule['schedule']}' "
               f"{rule['time_zone']}, next {rule['next_slot']})")


def _item(spec: str) -> dict:
    name, _, params = spec.partition("=")
    try:
        parsed = json.loads(params) if params else {}
    except json.JSONDecodeError as exc:
        raise PgdprError(f"parameters of {name} are not valid JSON: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise PgdprError(f"parameters of {name} must be a JSON object")
    return {"name": name, "params": parsed}


@rules_group.command("list")
@click.option("--club", "tenant", help="Only this club (admins; staff see their own).")
@FORMAT
@pass_context
def rules_list(ctx, tenant, output_format) -> None:
    """The rules of a club."""
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.list_rules(%s)", (tenant,))
    if output_format == "json":
        emit_json(rows)
        return
    if not rows:
        click.echo("no rules")
        return
    for r in rows:
        state = "enabled " if r["enabled"] else "disabled"
        actions = ",".join(a["name"] for a in r["actions"])
        click.echo(f"{r['id']:>5}  club {r['tenant']:<6} {state}  '{r['schedule']}' {r['time_zone']}  "
                   f"{actions:<14} {r['description']}")


@rules_group.command("show")
@click.argument("rule_id", type=int)
@pass_context
def rules_show(ctx, rule_id) -> None:
    """One rule, as JSON."""
    emit_json(ctx.connect().execute("SELECT gdpr.show_rule(%s)", (rule_id,)).fetchone()[0])


@rules_group.command("preview")
@click.argument("rule_id", type=int)
@click.option("--sample", type=int, default=10, show_default=True, help="How many subject keys to show.")
@FORMAT
@pass_context
def rules_preview(ctx, rule_id, sample, output_format) -> None:
    """How many subjects the rule would change now (and a sample); changes nothing."""
    preview = ctx.connect().execute("SELECT gdpr.preview_rule(%s, now(), %s)", (rule_id, sample)).fetchone()[0]
    if output_format == "json":
        emit_json(preview)
        return
    click.echo(f"rule {rule_id}: {preview['count']} subject(s) eligible now; a run would change "
               f"{preview['would_change']} (cap {preview['max_subjects_per_run']})")
    held = {k: v for k, v in (preview.get("held_back") or {}).items() if v}
    if held:
        click.echo("held back by the built-in safety: " + ", ".join(f"{k} {v}" for k, v in held.items()))
    if preview["sample"]:
        click.echo("sample of subject keys: " + ", ".join(preview["sample"]))


@rules_group.command("run")
@click.argument("rule_id", type=int)
@click.option("--batch-size", type=click.IntRange(1, 100000), default=1000, show_default=True)
@FORMAT
@pass_context
def rules_run(ctx, rule_id, batch_size, output_format) -> None:
    """Run a rule now, committing per batch, with progress. Ctrl-C stops it: the run is
    marked cancelled (the batches done so far stay) and the ticker never resumes it."""
    conn = ctx.connect()
    run_id = conn.execute("SELECT gdpr.start_manual_run(%s)", (rule_id,)).fetchone()[0]
    started = time.monotonic()
    try:
        while True:
            result = conn.execute("SELECT gdpr.run_batch(%s, %s)", (run_id, batch_size)).fetchone()[0]
            if result.get("busy"):
                time.sleep(0.2)
                continue
            rate = result["changed"] / max(time.monotonic() - started, 1e-6)
            if output_format == "text":
                click.echo(f"\rrun {run_id}: {result['changed']} changed of {result['candidates']} candidates "
                           f"({rate:,.0f}/s), batch {result['batches']}", nl=False, err=True)
            if result["done"]:
                break
    except KeyboardInterrupt:
        # psycopg has cancelled the batch in progress (it rolls back whole); mark the run
        # cancelled so that nothing resumes it
        result = _cancel(ctx, conn, run_id)
        if output_format == "json":
            emit_json(result)
        else:
            click.echo("", err=True)
            click.echo(f"run {run_id} cancelled: {result['changed']} changed before the stop; "
                       "it will not be resumed", err=True)
        sys.exit(130)
    if output_format == "text":
        click.echo("", err=True)
    if output_format == "json":
        emit_json(result)
    else:
        click.echo(_run_line(result))
    if result.get("stopped"):  # refused or stopped by someone else: not a success
        sys.exit(1)


def _cancel(ctx, conn, run_id: int) -> dict:
    """gdpr.cancel_run on the command's connection, or on a new one if that one is unusable."""
    try:
        return conn.execute("SELECT gdpr.cancel_run(%s)", (run_id,)).fetchone()[0]
    except psycopg.Error:
        with connect(ctx.dsn, autocommit=True) as fresh:
            return fresh.execute("SELECT gdpr.cancel_run(%s)", (run_id,)).fetchone()[0]


def _run_line(r: dict) -> str:
    skipped = ", ".join(f"{k} {v}" for k, v in (r.get("skipped") or {}).items())
    return (f"run {r['run_id']}: {r['changed']} changed, {r['candidates']} candidate(s), "
            f"{r['error_count']} error(s)" + (f", skipped: {skipped}" if skipped else "")
            + (" — capped: the rest waits for the next run" if r.get("capped") else "")
            + (f" — stopped: {r['stopped']}" if r.get("stopped") else ""))


def _simple(name: str, sql: str, done: str):
    @rules_group.command(name, help=f"{name.capitalize()} a rule (audited).")
    @click.argument("rule_id", type=int)
    @pass_context
    def command(ctx, rule_id) -> None:
        ctx.connect().execute(sql, (rule_id,))
        click.echo(f"rule {rule_id} {done}")

    return command


_simple("enable", "SELECT gdpr.enable_rule(%s)", "enabled")
_simple("disable", "SELECT gdpr.disable_rule(%s)", "disabled")
_simple("delete", "SELECT gdpr.delete_rule(%s)", "deleted")


@rules_group.command("history")
@click.argument("rule_id", type=int, required=False)
@click.option("--club", "tenant", help="Runs of this club's rules (admins).")
@click.option("--limit", type=int, default=20, show_default=True)
@FORMAT
@pass_context
def rules_history(ctx, rule_id, tenant, limit, output_format) -> None:
    """Runs of a rule (or of all rules of a club), newest first."""
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.rule_history(%s, %s, %s)", (rule_id, tenant, limit))
    if output_format == "json":
        emit_json(rows)
        return
    if not rows:
        click.echo("no runs")
        return
    for r in rows:
        state = ("running " if r["finished_at"] is None else "cancelled" if r["stopped"] == "cancelled"
                 else "stopped " if r["stopped"] else "finished")
        skipped = ", ".join(f"{k} {v}" for k, v in (r["skipped"] or {}).items())
        click.echo(f"run {r['run_id']:>5}  rule {r['rule_id']:>4}  {r['trigger']:<8} slot {r['slot']:%Y-%m-%d %H:%M %Z}"
                   f"  {state}  author {r['author'] or '?'}  candidates {r['candidates']}  changed {r['changed']}"
                   f"  errors {r['error_count']}"
                   + (f"  skipped: {skipped}" if skipped else "") + ("  CAPPED" if r["capped"] else "")
                   + (f"  ({r['stopped']}" + (f", by {r['stopped_by']})" if r["stopped_by"] else ")")
                      if r["stopped"] and r["stopped"] != "cancelled" else "")
                   + (f"  by {r['stopped_by']}" if r["stopped"] == "cancelled" and r["stopped_by"] else ""))


# --- pg_cron -------------------------------------------------------------------------

def _job_name(dbname: str) -> str:
    return f"pgdpr_tick_{dbname}"


def _cron_conn(ctx) -> tuple[psycopg.Connection, str, psycopg.Connection]:
    """(connection to the pgdpr database, its name, connection to pg_cron's database)."""
    conn = ctx.connect()
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
    preloaded = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0]
    if preloaded is None:
        available = conn.execute("SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_cron')"
                                 ).fetchone()[0]
        raise PgdprError("pg_cron is not loaded on this server (" + (
            "installed but not in shared_preload_libraries" if available else "not installed")
            + "): use `pgdpr worker` instead")
    if preloaded == dbname:
        return conn, dbname, conn
    params = conninfo_to_dict(ctx.dsn or conn.info.dsn)
    params["dbname"] = preloaded
    return conn, dbname, connect(make_conninfo(**params), autocommit=True)


@click.group("cron")
def cron_group() -> None:
    """Schedule the ticker (gdpr.tick) with pg_cron, every minute."""


@cron_group.command("install")
@click.option("--schedule", default="* * * * *", show_default=True, help="pg_cron schedule of the ticker.")
@click.option("--socket/--tcp", "via_socket", default=True, show_default=True,
              help="Let pg_cron connect through the server's Unix socket (no password needed) or TCP (cron.host).")
@pass_context
def cron_install(ctx, schedule, via_socket) -> None:
    """Schedule CALL gdpr.tick() in this database with pg_cron (time zones are handled in SQL)."""
    conn, dbname, cron = _cron_conn(ctx)
    installed = conn.execute("SELECT to_regprocedure('gdpr.tick_claim(timestamptz,bigint[])') IS NOT NULL"
                             ).fetchone()[0]
    if not installed:
        raise PgdprError(f"pgdpr is not installed in database {dbname}: run pgdpr migrate first")
    try:
        cron.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        job_id = cron.execute("SELECT cron.schedule_in_database(%s, %s, 'CALL gdpr.tick()', %s)",
                              (_job_name(dbname), schedule, dbname)).fetchone()[0]
        socket_dir = None
        if via_socket:
            dirs = conn.execute("SHOW unix_socket_directories").fetchone()[0]
            socket_dir = next((d.strip() for d in dirs.split(",") if d.strip()), None)
            if socket_dir:
                cron.execute("UPDATE cron.job SET nodename = %s WHERE jobid = %s", (socket_dir, job_id))
    finally:
        if cron is not conn:
            cron.close()
    click.echo(f"pg_cron job {job_id} '{_job_name(dbname)}': CALL gdpr.tick() '{schedule}' in database {dbname}"
               + (f" (via socket {socket_dir})" if via_socket and socket_dir else ""))


@cron_group.command("uninstall")
@pass_context
def cron_uninstall(ctx) -> None:
    """Remove the ticker's pg_cron job."""
    conn, dbname, cron = _cron_conn(ctx)
    try:
        exists = cron.execute("SELECT to_regclass('cron.job') IS NOT NULL").fetchone()[0]
        removed = exists and cron.execute("SELECT count(*) FROM cron.job WHERE jobname = %s",
                                          (_job_name(dbname),)).fetchone()[0] > 0
        if removed:
            cron.execute("SELECT cron.unschedule(%s)", (_job_name(dbname),))
    finally:
        if cron is not conn:
            cron.close()
    click.echo(f"pg_cron job '{_job_name(dbname)}' " + ("removed" if removed else "was not installed"))


@cron_group.command("status")
@FORMAT
@pass_context
def cron_status(ctx, output_format) -> None:
    """The ticker's pg_cron job, its last runs, and the last tick seen by pgdpr."""
    conn = ctx.connect()
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
    ticker = conn.execute("SELECT last_tick_at, last_by, ticks FROM gdpr.ticker").fetchone()
    status: dict = {"database": dbname, "job": None, "last_runs": [],
                    "last_tick": None if ticker is None else
                    {"at": ticker[0], "by": ticker[1], "ticks": ticker[2]}}
    if conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0] is not None:
        conn, dbname, cron = _cron_conn(ctx)
        try:
            if cron.execute("SELECT to_regclass('cron.job') IS NOT NULL").fetchone()[0]:
                job = cron.execute("SELECT jobid, schedule, command, database, username, active FROM cron.job "
                                   "WHERE jobname = %s", (_job_name(dbname),)).fetchone()
                if job:
                    status["job"] = dict(zip(("jobid", "schedule", "command", "database", "username", "active"), job))
                    status["last_runs"] = [dict(zip(("start_time", "status", "message"), r)) for r in cron.execute(
                        "SELECT start_time, status, return_message FROM cron.job_run_details WHERE jobid = %s "
                        "ORDER BY start_time DESC LIMIT 5", (job[0],)).fetchall()]
        finally:
            if cron is not conn:
                cron.close()
    if output_format == "json":
        emit_json(status)
        return
    job = status["job"]
    click.echo(f"pg_cron job: " + (f"{job['jobid']} '{job['schedule']}' {job['command']} "
                                   f"({'active' if job['active'] else 'inactive'})" if job else "not installed"))
    for run in status["last_runs"]:
        click.echo(f"  {run['start_time']:%Y-%m-%d %H:%M:%S}  {run['status']}  {run['message'] or ''}")
    tick = status["last_tick"]
    click.echo("last tick: " + (f"{tick['at']:%Y-%m-%d %H:%M:%S %Z} by {tick['by']} ({tick['ticks']} ticks)"
                                if tick else "never"))


# --- worker ----------------------------------------------------------------------------

@click.command("worker")
@click.option("--interval", type=click.FloatRange(min=0, min_open=True, max=86400), default=60.0,
              show_default=True, callback=lambda _ctx, _param, value: _finite(value, "--interval"),
              help="Seconds between ticks (more than 0, at most a day).")
@click.option("--batch-size", type=click.IntRange(1, 100000), default=1000, show_default=True)
@click.option("--once", is_flag=True, help="Tick once and exit.")
@pass_context
def worker(ctx, interval, batch_size, once) -> None:
    """Run the ticker loop (CALL gdpr.tick()) for servers without pg_cron; stops on SIGTERM/SIGINT."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        click.echo(f"pgdpr worker: {signal.Signals(signum).name} received, stopping after the current tick", err=True)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    conn = ctx.connect()
    click.echo("pgdpr worker: one tick" if once else
               f"pgdpr worker: ticking every {interval:g} s (stop with SIGTERM or Ctrl-C)", err=True)
    ticks = 0
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                if conn is None or conn.closed:
                    conn = connect(ctx.dsn, autocommit=True)
                since = conn.execute("SELECT clock_timestamp()").fetchone()[0]
                conn.execute("CALL gdpr.tick(NULL, %s)", (batch_size,))
                ticks += 1
                runs, changed = conn.execute(
                    "SELECT count(*), COALESCE(sum(changed), 0) FROM gdpr.rule_run WHERE finished_at >= %s",
                    (since,)).fetchone()
                if runs:
                    click.echo(f"pgdpr worker: {since:%Y-%m-%d %H:%M:%S} {runs} run(s) finished, {changed} changed",
                               err=True)
            except (psycopg.Error, PgdprError) as exc:
                # keep ticking: a restarted server or one failing tick must not end the worker
                message = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)
                if not once:
                    click.echo(f"pgdpr worker: tick failed: {message.strip().splitlines()[0] if message else exc}",
                               err=True)
                if isinstance(exc, (psycopg.OperationalError, PgdprError)) and conn is not None:
                    conn.close()
                if once:
                    raise PgdprError(f"tick failed: {message.strip().splitlines()[0] if message else exc}") from None
            if once:
                break
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if conn is not None:
            conn.close()
    click.echo(f"pgdpr worker: stopped after {ticks} tick(s)")


COMMANDS = [rules_group, cron_group, worker]
