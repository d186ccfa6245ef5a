"""`pgdpr demo` (the README's first command) and `pgdpr demo seed`."""

from __future__ import annotations

import json

import click
import psycopg
from psycopg import sql

from pgdpr import catalog
from pgdpr.context import Progress, emit_json, format_option, pass_context
from pgdpr.db import PgdprError
from pgdpr.migrate import migrate
from pgdpr.resources import resource_dir
from pgdpr.seed import seed as run_seed

DEMO_CLUBS = 2
DEMO_CUSTOMERS = 200
DEMO_SEED = 1
# The seeder's 8th customer has about 1,000 linked rows (pgdpr.seed): the example.
HEAVY_CUSTOMER = 8

# `pgdpr demo seed` loads at most this many customers (and clubs) unless --force: a
# larger load takes minutes and gigabytes (docs/demo-data.md).
SEED_LIMIT_CUSTOMERS = 200_000
SEED_LIMIT_CLUBS = 1_000
# rows a load writes, roughly: each customer about 50 linked rows, each club about
# 2,500 of its own (classes, resources, custom fields); the limit is on their sum
ROWS_PER_CUSTOMER, ROWS_PER_CLUB = 50, 2_550
SEED_LIMIT_ROWS = SEED_LIMIT_CUSTOMERS * ROWS_PER_CUSTOMER

# Staff of every demo club, so the rights commands have something to show: groups
# (NOLOGIN roles, named per club: roles are shared by every database of a server)
# with their rights, and one login per group.
DEMO_GROUPS = {
    "reception": ("Reception: bookings and check-in", "not_allowed", "read"),
    "management": ("Management: memberships, payments and erasure requests", "allowed", "write"),
}
DEMO_LOGINS = {"reception": "anna", "management": "lars"}

# The example rule the demo creates disabled in the example club (it never runs until
# enabled): anonymise customers inactive for six months.
DEMO_RULE = "Inaktive kunder (demo)"

# What `pgdpr demo` suggests trying next: (command, what it shows). {customer} is the
# example customer, {club} its club, {group} a staff group of that club, {rule} the
# example rule.
TRY_NEXT: list[tuple[str, str]] = [
    ("pgdpr status", "server, applied migrations, pg_cron, catalog summary"),
    ("pgdpr catalog show", "which tables and columns hold personal data, and what erasure does to each"),
    ("pgdpr report {customer} --club {club} -o kunde.html", "the printable Data Insight Report (GDPR Art. 15)"),
    ("pgdpr export {customer} --club {club} -o kunde.zip", "the same data as CSV files and photos (Art. 20)"),
    ("pgdpr rights show --club {club}", "staff groups and who may see CPR and bank numbers"),
    ("pgdpr rights set {group} customers.view_sensitive hidden", "hide sensitive values from the reception"),
    ("pgdpr rules preview {rule}",
     "how many customers the (disabled) inactivity rule would anonymise now, and a sample"),
    ("pgdpr hold set {customer} --club {club} --type debt --reason 'ubetalt kontingent'",
     "a legal hold: the rules never anonymise this customer"),
    ("pgdpr anonymize {customer} --club {club} --dry-run",
     "what anonymising the customer would delete, scrub and retain"),
    ("pgdpr compliance-report --club {club} -o fortegnelse.html", "the record of processing (Art. 30)"),
    ("pgdpr catalog check", "personal data the catalog does not cover yet"),
    ("pgdpr demo seed --clubs 1 --customers 1000", "more demo data: one more club with 1,000 customers"),
]


def group_name(group: str, club) -> str:
    return f"{group}_{club}"


def ensure_staff(conn: psycopg.Connection, clubs: list) -> list[str]:
    """Staff groups with their rights and one login per group in every club, through the
    engine's rights functions; returns what was added (nothing on a re-run)."""
    added = []
    for club in clubs:
        existing = {r[0] for r in conn.execute("SELECT group_role FROM gdpr.rights_overview(%s)", (str(club),))}
        for group, (description, view_sensitive, register) in DEMO_GROUPS.items():
            role = group_name(group, club)
            login = group_name(DEMO_LOGINS[group], club)
            if role in existing:
                continue
            conn.execute("SELECT gdpr.create_staff_group(%s, %s, %s)", (str(club), role, description))
            conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', %s)", (role, view_sensitive))
            conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', %s)", (role, register))
            # a login of the group: connect as it to see what the group sees
            if not conn.execute("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = %s)", (login,)).fetchone()[0]:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
            conn.execute("SELECT gdpr.add_staff(%s, %s, %s::name[])", (str(club), login, [role]))
            added.append(f"staff group {role} (login {login})")
    return added


def ensure_rule(conn: psycopg.Connection, club) -> tuple[int | None, bool]:
    """The example rule (in whichever club it was made), created disabled in the club if
    missing: (id, created)."""
    for rule in conn.execute("SELECT id, description FROM gdpr.list_rules() ORDER BY id").fetchall():
        if rule[1] == DEMO_RULE:
            return rule[0], False
    rule_id = conn.execute(
        "SELECT gdpr.create_rule(p_tenant => %s, p_description => %s, p_schedule => 'daily 08:00', "
        "p_frequency => 'once', p_conditions => %s::jsonb, p_actions => %s::jsonb, p_enabled => false)",
        (str(club), DEMO_RULE, json.dumps([{"name": "can_be_anonymised", "params": {"no_activity_months": 6}}]),
         json.dumps([{"name": "anonymise"}]))).fetchone()[0]
    return rule_id, True


def example_customer(conn: psycopg.Connection) -> tuple:
    """(club, customer, linked rows): the seeder's heavy customer while it is not
    anonymised, else the first customer who is not."""
    row = (conn.execute("SELECT club_id, id FROM club.customers WHERE id = %s AND anonymized_at IS NULL",
                        (HEAVY_CUSTOMER,)).fetchone()
           or conn.execute("SELECT club_id, id FROM club.customers WHERE anonymized_at IS NULL ORDER BY id LIMIT 1"
                           ).fetchone())
    if row is None:
        return None, None, 0
    preview = conn.execute("SELECT gdpr.erasure_preview('customer', %s, %s)", (str(row[1]), str(row[0]))).fetchone()[0]
    linked = sum(t["rows"] for t in preview["tables"] if t["table"] != "club.customers")
    return row[0], row[1], linked


@click.group("demo", invoke_without_command=True)
@format_option()
@click.pass_context
def demo_group(click_ctx: click.Context, output_format: str) -> None:
    """Install pgdpr with the reference club schema, demo data and demo staff, then show what to try.

    Runs on the embedded server unless a DSN is given; safe to run again: it keeps
    whatever is there (data, holds, rules, erasures) and says what it changed."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.obj
    result = migrate(ctx.dsn, club_schema=True)
    conn = ctx.connect()
    calls, catalog_changes = catalog.apply(conn, resource_dir("catalogs") / "club.toml")
    seeded = conn.execute("SELECT count(*) FROM club.clubs").fetchone()[0] > 0
    report = None
    if not seeded:
        report = run_seed(conn, clubs=DEMO_CLUBS, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    clubs = [r[0] for r in conn.execute("SELECT id FROM club.clubs ORDER BY id LIMIT %s", (DEMO_CLUBS,))]
    try:
        staff = ensure_staff(conn, clubs)
    except psycopg.errors.InsufficientPrivilege:
        staff = None  # a DSN without CREATEROLE: no demo staff
    club, customer, linked = example_customer(conn)
    rule, rule_created = ensure_rule(conn, club) if club is not None else (None, False)
    values = {"customer": customer, "club": club, "group": group_name("reception", club), "rule": rule}
    try_next = [(command.format(**values), what) for command, what in TRY_NEXT]
    changed = bool(result.changed or catalog_changes or report or staff or rule_created)
    if output_format == "json":
        emit_json({"migrations_applied": result.applied, "catalog_declarations": calls,
                   "catalog_changes": catalog_changes, "seeded": report.as_dict() if report else None,
                   "staff_added": staff, "example_rule": rule, "example_rule_created": rule_created,
                   "example_club": club, "example_customer": customer, "example_linked_rows": linked,
                   "changed": changed, "try_next": [{"command": c, "shows": w} for c, w in try_next]})
        return
    click.echo(f"migrations: {', '.join(result.applied) if result.applied else 'up to date'}"
               + ("" if result.applied or not result.sql_changed else " (functions and policies updated)"))
    click.echo(f"catalog club.toml: {calls} declaration(s), "
               + (f"{len(catalog_changes)} change(s)" if catalog_changes else "nothing changed"))
    for line in catalog.summarise(catalog_changes):
        click.echo(f"  {line}")
    if report:
        click.echo(f"demo data: {report.clubs} clubs, {report.customers} customers, {report.total_rows:,} rows "
                   f"in {report.seconds:.1f} s")
    else:
        click.echo("demo data: already there (clubs exist), nothing added")
    if staff is None:
        click.echo("demo staff: not added (creating roles needs CREATEROLE)")
    else:
        click.echo("demo staff: " + (", ".join(staff) if staff else "already there"))
    if rule is not None:
        click.echo(f"example rule {rule}: '{DEMO_RULE}', disabled"
                   + ("" if rule_created else " (already there)"))
    if customer is not None:
        click.echo(f"example: customer {customer} of club {club} ({linked:,} linked rows)")
    if not changed:
        click.echo("nothing changed: the demo was already installed")
    click.echo("\nTry next:")
    for command, what in try_next:
        click.echo(f"  # {what}\n  {command}")


@demo_group.command("seed")
@click.option("--clubs", type=click.IntRange(min=1), default=50, show_default=True, help="clubs to add")
@click.option("--customers", type=click.IntRange(min=0), default=20000, show_default=True,
              help="customers to add, spread over the clubs")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="the same seed gives the same data")
@click.option("--anchor", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="'today' of the data (default: today); recency is relative to it")
@click.option("--bulk/--no-bulk", default=None,
              help="drop and recreate foreign keys and plain indexes around the load "
                   "(default: from 10,000 customers)")
@click.option("--force", is_flag=True,
              help=f"load more than {SEED_LIMIT_CUSTOMERS:,} customers or {SEED_LIMIT_CLUBS:,} clubs "
                   "(about 50 rows per customer: a million customers take minutes and about 10 GB)")
@format_option()
@pass_context
def seed_command(ctx, clubs: int, customers: int, seed_value: int, anchor, bulk, force: bool,
                 output_format: str) -> None:
    """Add realistic Danish demo data (Faker da_DK) to the club schema, loaded with COPY and SQL."""
    rows = customers * ROWS_PER_CUSTOMER + clubs * ROWS_PER_CLUB
    if not force and (customers > SEED_LIMIT_CUSTOMERS or clubs > SEED_LIMIT_CLUBS or rows > SEED_LIMIT_ROWS):
        raise PgdprError(f"demo seed loads at most {SEED_LIMIT_CUSTOMERS:,} customers, {SEED_LIMIT_CLUBS:,} clubs "
                         f"and about {SEED_LIMIT_ROWS:,} rows at a time (about {ROWS_PER_CUSTOMER} rows per "
                         f"customer and {ROWS_PER_CLUB:,} per club); add --force to load {customers:,} customers "
                         f"in {clubs:,} clubs (about {rows:,} rows)")
    conn = ctx.connect()
    progress = Progress("demo seed", enabled=output_format != "json")
    report = run_seed(conn, clubs=clubs, customers=customers, seed=seed_value,
                      anchor=anchor.date() if anchor else None, bulk=bulk,
                      progress=progress.message if progress.enabled else None)
    if output_format == "json":
        emit_json(report.as_dict())
        return
    first, last = report.club_ids[0], report.club_ids[-1]
    click.echo(f"seeded clubs {first}..{last}: {report.customers:,} customers, {report.total_rows:,} rows "
               f"in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s")
    for table, rows in report.rows.items():
        click.echo(f"  {table:<20} {rows:>12,}")


COMMANDS = [demo_group]
