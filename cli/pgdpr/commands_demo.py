"""`pgdpr demo` (the README's first command) and `pgdpr demo seed`."""

from __future__ import annotations


import click

from pgdpr import catalog
from pgdpr.main import emit_json, pass_context
from pgdpr.migrate import migrate
from pgdpr.resources import resource_dir
from pgdpr.seed import seed as run_seed

DEMO_CLUBS = 2
DEMO_CUSTOMERS = 200
DEMO_SEED = 1

# What `pgdpr demo` suggests trying next: (command, what it shows). Later features
# append their own entry here; {customer} is a demo customer id, {club} its club.
TRY_NEXT: list[tuple[str, str]] = [
    ("pgdpr status", "server, applied migrations, pg_cron, catalog summary"),
    ("pgdpr catalog show", "which tables and columns hold personal data, and what erasure does"),
    ("pgdpr report {customer} --club {club} -o kunde.html", "the printable Data Insight Report (GDPR Art. 15)"),
    ("pgdpr export {customer} --club {club} -o kunde.csv --excel", "the same data as a CSV file (Art. 20)"),
    ("pgdpr rights show", "staff groups and who may see CPR and bank numbers"),
    ("pgdpr rules create --club {club} --name 'Inaktive kunder' --daily 08:00 --action anonymise --disabled",
     "an automatic anonymisation rule (seed S4), created disabled"),
    ("pgdpr rules preview 1", "how many customers that rule would anonymise now, and a sample"),
    ("pgdpr hold set {customer} --club {club} --type debt --reason 'ubetalt kontingent'",
     "a legal hold: the rules never anonymise this customer (seed S5)"),
    ("pgdpr anonymize {customer} --club {club} --save-report kunde-før.html --dry-run",
     "what anonymising the customer would delete, scrub and retain"),
    ("pgdpr compliance-report --club {club} -o fortegnelse.html", "the record of processing (Art. 30)"),
    ("pgdpr catalog check", "personal data the catalog does not cover yet"),
    ("pgdpr demo seed --clubs 1 --customers 1000", "more demo data: one more club with 1,000 customers"),
]


@click.group("demo", invoke_without_command=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def demo_group(click_ctx: click.Context, output_format: str) -> None:
    """Install pgdpr with the reference club schema and demo data, then show what to try.

    Runs on the embedded server unless a DSN is given; safe to run again."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.obj
    dsn = ctx.dsn
    result = migrate(dsn, club_schema=True)
    conn = ctx.connect()
    changes = catalog.apply(conn, resource_dir("catalogs") / "club.toml")
    seeded = conn.execute("SELECT count(*) FROM club.clubs").fetchone()[0] > 0
    report = None
    if not seeded:
        report = run_seed(conn, clubs=DEMO_CLUBS, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    # The seeder's 8th customer is a heavy one (about 1,000 linked rows): a good example.
    club, customer = (conn.execute("SELECT club_id, id FROM club.customers WHERE anonymized_at IS NULL "
                                   "ORDER BY id OFFSET 7 LIMIT 1").fetchone()
                      or conn.execute("SELECT club_id, id FROM club.customers ORDER BY id LIMIT 1").fetchone()
                      or (None, None))
    try_next = [(command.format(customer=customer, club=club), what) for command, what in TRY_NEXT]
    if output_format == "json":
        emit_json({"migrations_applied": result.applied, "catalog_changes": changes,
                   "seeded": report.as_dict() if report else None, "example_club": club,
                   "example_customer": customer, "try_next": [{"command": c, "shows": w} for c, w in try_next]})
        return
    click.echo(f"migrations: {', '.join(result.applied) if result.applied else 'up to date'}")
    click.echo(f"catalog club.toml: {len(changes)} change(s)" if changes else "catalog club.toml: nothing changed")
    if report:
        click.echo(f"demo data: {report.clubs} clubs, {report.customers} customers, {report.total_rows:,} rows "
                   f"in {report.seconds:.1f} s")
    else:
        click.echo("demo data: already there (clubs exist), nothing added")
    if customer is not None:
        click.echo(f"example: customer {customer} of club {club} (about 1,000 linked rows)")
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
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@pass_context
def seed_command(ctx, clubs: int, customers: int, seed_value: int, anchor, bulk, output_format: str) -> None:
    """Add realistic Danish demo data (Faker da_DK) to the club schema, loaded with COPY and SQL."""
    conn = ctx.connect()
    progress = None if output_format == "json" else (lambda message: click.echo(f"  {message}", err=True))
    report = run_seed(conn, clubs=clubs, customers=customers, seed=seed_value,
                      anchor=anchor.date() if anchor else None, bulk=bulk, progress=progress)
    if output_format == "json":
        emit_json(report.as_dict())
        return
    first, last = report.club_ids[0], report.club_ids[-1]
    click.echo(f"seeded clubs {first}..{last}: {report.customers:,} customers, {report.total_rows:,} rows "
               f"in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s")
    for table, rows in report.rows.items():
        click.echo(f"  {table:<20} {rows:>12,}")


COMMANDS = [demo_group]
