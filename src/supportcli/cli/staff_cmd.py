"""``supportcli staff``: the staff directory, tiers, and absences with cover (docs/tickets.md: owners and cover)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli import complete
from supportcli.cli.common import parse_time, write
from supportcli.cli.context import AppContext
from supportcli.cli.output_options import Listing, output_options
from supportcli.core.tickets import tier_name
from supportcli.core.timeparse import Looking
from supportcli.render.output import Column, human_time

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlmodel import Session

    from supportcli.store.models import Staff

app = typer.Typer(
    help="The staff directory: names, e-mails, tiers, and absences with a cover colleague.",
    no_args_is_help=True,
)

StaffName = Annotated[
    str, typer.Argument(metavar="NAME", help="Staff member's name.", autocompletion=complete.staff_names)
]


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


@app.command("add")
def add(
    ctx: typer.Context,
    name: StaffName,
    email: Annotated[str, typer.Option("--email", "-e", help="Where their notices go.")],
    tier: Annotated[
        str | None,
        typer.Option(
            "--tier",
            "-t",
            metavar="TIER",
            help="Tier name or number (default: the first).",
            autocompletion=complete.tiers,
        ),
    ] = None,
) -> None:
    """Add a staff member to the directory.

    Examples:

      supportcli staff add priya --email priya@example.com

      supportcli staff add sam --email sam@example.com --tier "Customer Success Manager"
    """
    from supportcli.core.tickets import tier_index
    from supportcli.store.staff import add_staff

    obj: AppContext = ctx.obj
    tiers = obj.newest_policy().tiers
    tier_number = tier_index(tiers, tier) if tier is not None else 0
    member = write(obj, lambda session: add_staff(session, name, email, tier_number))
    obj.output.message(f"added {member.name} ({member.email}) at tier {tier_name(tiers, member.tier)}")


@app.command("list")
@output_options(tabular=True)
def list_command(ctx: typer.Context, *, listing: Listing) -> None:
    """List the staff by tier, showing who is away and who covers for them.

    Examples:

      supportcli staff list

      supportcli staff list --json
    """
    from supportcli.store.staff import is_away, list_staff

    obj: AppContext = ctx.obj
    now = obj.now()
    policy = obj.newest_policy()
    zone = obj.calendar(policy).zone
    with obj.store().read() as session:
        members = list_staff(session)
    records: list[dict[str, Any]] = [
        {
            "name": member.name,
            "email": member.email,
            "tier": member.tier,
            "tier_name": tier_name(policy.tiers, member.tier),
            "status": "away" if is_away(member, now) else "in",
            "away_until": _local(member.away_until, zone),
            "cover": member.cover,
        }
        for member in members
    ]
    columns = [
        Column("Name", "name"),
        Column("E-mail", "email"),
        Column("Tier", "tier_name", wrap=True),
        Column("Status", "status"),
        Column("Away until", "away_until"),
        Column("Cover", "cover"),
    ]
    obj.output.listing(
        columns,
        records,
        listing.format(obj.output),
        row_style=lambda record: "dim" if record["status"] == "away" else None,
    )


@app.command("away")
def away(
    ctx: typer.Context,
    name: StaffName,
    until: Annotated[str, typer.Option("--until", metavar="WHEN", help="When they are back, e.g. '+5wd', 2026-12-01.")],
    cover: Annotated[
        str,
        typer.Option(
            "--cover", metavar="NAME", help="Colleague who handles their tickets.", autocompletion=complete.staff_names
        ),
    ],
) -> None:
    """Record an absence: until then their tickets and notices go to the cover.

    Examples:

      supportcli staff away priya --until 2026-12-07 --cover sam

      supportcli staff away priya --until +3wd --cover sam
    """
    from supportcli.store.staff import responsible_for, set_away

    obj: AppContext = ctx.obj
    until_at = parse_time(obj, until, Looking.AHEAD)
    now = obj.now()

    def work(session: Session) -> tuple[Staff, str | None]:
        member = set_away(session, name, until_at, cover, now)
        return member, responsible_for(session, member.name, now)

    member, responsible = write(obj, work)
    obj.output.message(f"{member.name} is away until {human_time(until_at)}; {cover} covers")
    if responsible != cover:
        obj.output.message(f"note: {cover} is also away, so {responsible} handles {member.name}'s tickets for now")


@app.command("back")
def back(ctx: typer.Context, name: StaffName) -> None:
    """End an absence: they handle their own tickets again.

    Example: supportcli staff back priya
    """
    from supportcli.store.staff import set_back

    obj: AppContext = ctx.obj
    member = write(obj, lambda session: set_back(session, name))
    obj.output.message(f"{member.name} is back")
