"""Turning ``list``'s filter options into a TicketFilter, shared by ``list`` and ``export``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from supportcli.cli import complete
from supportcli.cli.context import AppContext
from supportcli.cli.tickets_cmd import parse_time
from supportcli.core.tickets import CHANNELS, KINDS, OPEN_STATUSES, PRIORITIES, STATUSES, check_choice

if TYPE_CHECKING:
    from supportcli.store.queries import TicketFilter

# The filter options of `list` and `export`, declared once so both commands mean the same thing.
StatusFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        "-s",
        metavar="STATUS",
        help=f"open, or one of: {', '.join(STATUSES)}; repeat for more.",
        autocompletion=complete.fixed(("open", *STATUSES)),
    ),
]
KindFilter = Annotated[
    list[str] | None,
    typer.Option("--kind", "-k", metavar="KIND", help="Kind; repeatable.", autocompletion=complete.fixed(KINDS)),
]
ChannelFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--channel", "-c", metavar="CHANNEL", help="Channel; repeatable.", autocompletion=complete.fixed(CHANNELS)
    ),
]
PriorityFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--priority", "-p", metavar="PRIORITY", help="Priority; repeatable.", autocompletion=complete.fixed(PRIORITIES)
    ),
]
OrgFilter = Annotated[list[str] | None, typer.Option("--org", metavar="ORG", help="Organisation; repeatable.")]
TierFilter = Annotated[
    list[str] | None,
    typer.Option("--tier", metavar="TIER", help="Tier name or number; repeatable.", autocompletion=complete.tiers),
]
CategoryFilter = Annotated[
    list[str] | None, typer.Option("--category", metavar="CATEGORY", help="Category; repeatable.")
]
TagFilter = Annotated[
    list[str] | None, typer.Option("--tag", "-t", metavar="TAG", help="Has this tag; repeat for all of several.")
]
SinceFilter = Annotated[str | None, typer.Option("--since", metavar="WHEN", help="Received at or after.")]
UntilFilter = Annotated[str | None, typer.Option("--until", metavar="WHEN", help="Received before.")]
OWNER_HELP = "Owner ('-' = unassigned); repeatable."


def ticket_filter(
    obj: AppContext,
    status: list[str] | None = None,
    kind: list[str] | None = None,
    channel: list[str] | None = None,
    priority: list[str] | None = None,
    owner: list[str] | None = None,
    org: list[str] | None = None,
    tier: list[str] | None = None,
    category: list[str] | None = None,
    tag: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> TicketFilter:
    """The TicketFilter of ``list``'s filter options (same values, same messages)."""
    from supportcli.core.tickets import tier_index
    from supportcli.store.queries import TicketFilter

    statuses: list[str] = []
    for value in status or []:
        statuses.extend(OPEN_STATUSES if value.strip().lower() == "open" else [check_choice(value, STATUSES, "status")])
    tiers = obj.newest_policy().tiers if tier else ()
    return TicketFilter(
        statuses=statuses,
        kinds=[check_choice(v, KINDS, "kind") for v in kind or []],
        channels=[check_choice(v, CHANNELS, "channel") for v in channel or []],
        priorities=[check_choice(v, PRIORITIES, "priority") for v in priority or []],
        owners=[o for o in owner or [] if o != "-"],
        unassigned="-" in (owner or []),
        orgs=org or [],
        categories=category or [],
        tags=tag or [],
        tiers=[tier_index(tiers, v) for v in tier or []],
        since=parse_time(obj, since) if since else None,
        until=parse_time(obj, until) if until else None,
    )
