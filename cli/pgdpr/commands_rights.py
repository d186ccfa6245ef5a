"""`pgdpr rights ...`: staff groups, their rights, the vendor's support access (seed S6,
S7, S12). Thin: every command is one call of a gdpr function, which decides and audits."""

from __future__ import annotations

import click

from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.main import emit_json, pass_context

RIGHTS = {"view_sensitive": ("allowed", "not_allowed", "hidden"), "register_access": ("none", "read", "write")}


@click.group("rights")
def rights_group() -> None:
    """Staff groups and their rights: view sensitive values, register access."""


@rights_group.command("set")
@click.argument("group")
@click.argument("right", metavar="AREA.RIGHT")
@click.argument("value")
@pass_context
def set_command(ctx, group: str, right: str, value: str) -> None:
    """Set a right of GROUP, e.g. `customers.view_sensitive allowed` or
    `staff.register_access none`."""
    area, _, name = right.partition(".")
    if not area or name not in RIGHTS:
        raise PgdprError(f"right must be AREA.view_sensitive or AREA.register_access, not {right!r}")
    if value not in RIGHTS[name]:
        raise PgdprError(f"{name} is {', '.join(RIGHTS[name])}, not {value!r}")
    ctx.connect().execute("SELECT gdpr.set_right(%s, %s, %s, %s)", (group, area, name, value))
    click.echo(f"{group}: {area}.{name} = {value}")


@rights_group.command("show")
@click.option("--club", "tenant", help="only this club (staff always see their own club only)")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@pass_context
def show_command(ctx, tenant: str | None, output_format: str) -> None:
    """Every staff group, its rights per area and its number of members."""
    rows = fetch_dicts(ctx.connect(), "SELECT * FROM gdpr.rights_overview(%s)", (tenant,))
    if output_format == "json":
        emit_json(rows)
        return
    if not rows:
        click.echo("no staff groups")
        return
    click.echo(f"{'club':<8} {'group':<28} {'area':<12} {'view sensitive':<15} {'register':<9} {'members':>7}")
    for r in rows:
        click.echo(f"{r['tenant']:<8} {r['group_role']:<28} {r['area']:<12} {r['view_sensitive']:<15} "
                   f"{r['register_access']:<9} {r['members']:>7}")


@rights_group.command("group")
@click.argument("club")
@click.argument("group")
@click.option("--description", default=None)
@pass_context
def group_command(ctx, club: str, group: str, description: str | None) -> None:
    """Create staff group GROUP (a NOLOGIN role) of CLUB; rights start at the defaults."""
    ctx.connect().execute("SELECT gdpr.create_staff_group(%s, %s, %s)", (club, group, description))
    click.echo(f"staff group {group} of club {club}: view_sensitive not_allowed, register_access read")


@rights_group.command("staff")
@click.argument("club")
@click.argument("role")
@click.argument("groups", nargs=-1, required=True)
@pass_context
def staff_command(ctx, club: str, role: str, groups: tuple[str, ...]) -> None:
    """Make ROLE staff of CLUB and a member of GROUPS (the role is created NOLOGIN if missing)."""
    ctx.connect().execute("SELECT gdpr.add_staff(%s, %s, %s::name[])", (club, role, list(groups)))
    click.echo(f"{role}: staff of club {club}, groups {', '.join(groups)}")


@rights_group.command("support-grant")
@click.argument("club")
@click.option("--hours", type=click.IntRange(1, 720), default=24, show_default=True)
@pass_context
def support_grant_command(ctx, club: str, hours: int) -> None:
    """Let the vendor's support role read CLUB's rows (never sensitive values) for HOURS."""
    row = ctx.connect().execute(
        "SELECT gdpr.grant_support_access(%s, now() + make_interval(hours => %s)), "
        "now() + make_interval(hours => %s)", (club, hours, hours)).fetchone()
    click.echo(f"support access to club {club} granted until {row[1]:%Y-%m-%d %H:%M %Z} (grant {row[0]})")


@rights_group.command("support-revoke")
@click.argument("club")
@pass_context
def support_revoke_command(ctx, club: str) -> None:
    """End CLUB's support access now."""
    count = ctx.connect().execute("SELECT gdpr.revoke_support_access(%s)", (club,)).fetchone()[0]
    click.echo(f"support access to club {club} revoked ({count} grant(s))")


@rights_group.command("refresh")
@pass_context
def refresh_command(ctx) -> None:
    """Regenerate the protected views and row policies from the catalog."""
    count = ctx.connect().execute("SELECT gdpr.refresh_views()").fetchone()[0]
    click.echo(f"{count} protected view(s) regenerated")


COMMANDS = [rights_group]
