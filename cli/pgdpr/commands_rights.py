"""`pgdpr rights ...`: staff groups, their rights, the vendor's support access (GDPR
Art. 25 and 32). Thin: every command is one call of a gdpr function, which decides and audits."""

from __future__ import annotations

import click

from pgdpr.db import PgdprError, fetch_dicts
from pgdpr.context import emit_json, format_option, pass_context, require_tenant

RIGHTS = {"view_sensitive": ("allowed", "not_allowed", "hidden"), "register_access": ("none", "read", "write")}


@click.group("rights")
def rights_group() -> None:
    """Staff groups and their rights: view sensitive values, register access."""


@rights_group.command("set")
@click.argument("group")
@click.argument("right", metavar="AREA.RIGHT")
@click.argument("value")
@format_option()
@pass_context
def set_command(ctx, group: str, right: str, value: str, output_format: str) -> None:
    """Set a right of GROUP, e.g. `customers.view_sensitive allowed` or
    `staff.register_access none`."""
    area, _, name = right.partition(".")
    if not area or name not in RIGHTS:
        raise PgdprError(f"right must be AREA.view_sensitive or AREA.register_access, not {right!r}")
    if value not in RIGHTS[name]:
        raise PgdprError(f"{name} is {', '.join(RIGHTS[name])}, not {value!r}")
    ctx.connect().execute("SELECT gdpr.set_right(%s, %s, %s, %s)", (group, area, name, value))
    _done(output_format, {"group": group, "area": area, "right": name, "value": value},
          f"{group}: {area}.{name} = {value}")


@rights_group.command("show")
@click.option("--club", "tenant", help="only this club (staff always see their own club only)")
@format_option()
@pass_context
def show_command(ctx, tenant: str | None, output_format: str) -> None:
    """Every staff group, its rights per area and its number of members."""
    conn = ctx.connect()
    require_tenant(conn, tenant)
    rows = fetch_dicts(conn, "SELECT * FROM gdpr.rights_overview(%s)", (tenant,))
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
@format_option()
@pass_context
def group_command(ctx, club: str, group: str, description: str | None, output_format: str) -> None:
    """Create staff group GROUP (a NOLOGIN role) of CLUB; rights start at the defaults."""
    conn = ctx.connect()
    require_tenant(conn, club)
    conn.execute("SELECT gdpr.create_staff_group(%s, %s, %s)", (club, group, description))
    _done(output_format, {"club": club, "group": group},
          f"staff group {group} of club {club}: view_sensitive not_allowed, register_access read")


@rights_group.command("staff")
@click.argument("club")
@click.argument("role")
@click.argument("groups", nargs=-1, required=True)
@format_option()
@pass_context
def staff_command(ctx, club: str, role: str, groups: tuple[str, ...], output_format: str) -> None:
    """Make ROLE staff of CLUB and a member of GROUPS (the role is created NOLOGIN if missing)."""
    conn = ctx.connect()
    require_tenant(conn, club)
    conn.execute("SELECT gdpr.add_staff(%s, %s, %s::name[])", (club, role, list(groups)))
    _done(output_format, {"club": club, "role": role, "groups": list(groups)},
          f"{role}: staff of club {club}, groups {', '.join(groups)}")


@rights_group.command("support-grant")
@click.argument("club")
@click.option("--hours", type=click.IntRange(1, 720), default=24, show_default=True)
@format_option()
@pass_context
def support_grant_command(ctx, club: str, hours: int, output_format: str) -> None:
    """Let the vendor's support role read CLUB's rows (never sensitive values) for HOURS."""
    conn = ctx.connect()
    require_tenant(conn, club)
    row = conn.execute(
        "SELECT gdpr.grant_support_access(%s, now() + make_interval(hours => %s)), "
        "now() + make_interval(hours => %s)", (club, hours, hours)).fetchone()
    _done(output_format, {"club": club, "grant": row[0], "until": row[1]},
          f"support access to club {club} granted until {row[1]:%Y-%m-%d %H:%M %Z} (grant {row[0]})")


@rights_group.command("support-revoke")
@click.argument("club")
@format_option()
@pass_context
def support_revoke_command(ctx, club: str, output_format: str) -> None:
    """End CLUB's support access now."""
    conn = ctx.connect()
    require_tenant(conn, club)
    count = conn.execute("SELECT gdpr.revoke_support_access(%s)", (club,)).fetchone()[0]
    _done(output_format, {"club": club, "revoked": count}, f"support access to club {club} revoked ({count} grant(s))")


@rights_group.command("refresh")
@format_option()
@pass_context
def refresh_command(ctx, output_format: str) -> None:
    """Regenerate the protected views and row policies from the catalog."""
    count = ctx.connect().execute("SELECT gdpr.refresh_views()").fetchone()[0]
    _done(output_format, {"views": count}, f"{count} protected view(s) regenerated")


def _done(output_format: str, value: dict, text: str) -> None:
    emit_json(value) if output_format == "json" else click.echo(text)


COMMANDS = [rights_group]
