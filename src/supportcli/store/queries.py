"""Read queries for listings; filters become SQL so indexes do the work, not Python loops."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from supportcli.store.models import Target, Ticket

SORTS = {
    "id": (col(Ticket.id),),
    "received": (col(Ticket.received_at), col(Ticket.id)),
    "updated": (col(Ticket.updated_at).desc(), col(Ticket.id)),
    "due": (col(Ticket.next_due_at).is_(None), col(Ticket.next_due_at), col(Ticket.id)),
    "priority": (col(Ticket.id),),
}


@dataclass
class TicketFilter:
    """What ``list`` was asked for; every field narrows the result."""

    statuses: Sequence[str] = ()
    kinds: Sequence[str] = ()
    channels: Sequence[str] = ()
    priorities: Sequence[str] = ()
    owners: Sequence[str] = ()
    orgs: Sequence[str] = ()
    categories: Sequence[str] = ()
    tags: Sequence[str] = ()
    tiers: Sequence[int] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    sort: str = "id"
    unassigned: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def list_tickets(session: Session, wanted: TicketFilter) -> list[Ticket]:
    """Tickets matching a filter, in the requested order."""
    return list(session.exec(ticket_statement(wanted)))


def ticket_statement(wanted: TicketFilter) -> Select:  # type: ignore[type-arg]
    """The SELECT of tickets matching a filter (``list`` runs it; ``export`` streams it)."""
    statement = select(Ticket)
    for column, values in (
        (Ticket.status, wanted.statuses),
        (Ticket.kind, wanted.kinds),
        (Ticket.channel, wanted.channels),
        (Ticket.priority, wanted.priorities),
        (Ticket.org, wanted.orgs),
        (Ticket.category, wanted.categories),
        (Ticket.tier, wanted.tiers),
    ):
        if values:
            statement = statement.where(col(column).in_(list(values)))
    if wanted.owners or wanted.unassigned:
        owner_clause = col(Ticket.owner).in_(list(wanted.owners))
        if wanted.unassigned:
            owner_clause = owner_clause | col(Ticket.owner).is_(None)
        statement = statement.where(owner_clause)
    for tag in wanted.tags:
        statement = statement.where(col(Ticket.tags).contains(f",{tag},"))
    if wanted.since is not None:
        statement = statement.where(Ticket.received_at >= wanted.since)
    if wanted.until is not None:
        statement = statement.where(Ticket.received_at < wanted.until)
    if wanted.sort == "priority":
        from sqlalchemy import case

        rank = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=col(Ticket.priority))
        statement = statement.order_by(rank, col(Ticket.id))
    else:
        statement = statement.order_by(*SORTS[wanted.sort])
    if wanted.limit is not None:
        statement = statement.limit(wanted.limit)
    return statement


def due_statement(owners: Sequence[str] = ()) -> Select:  # type: ignore[type-arg]
    """Open tickets with a pending target, soonest due first: an ordered range scan of ix_tickets_next_due.

    Only open tickets have ``next_due_at`` set, so no status filter is needed (it would defeat the index).
    """
    statement = select(Ticket).where(col(Ticket.next_due_at).is_not(None))
    if owners:
        statement = statement.where(col(Ticket.owner).in_(list(owners)))
    return statement.order_by(col(Ticket.next_due_at), col(Ticket.id))


def breached_statement(now: datetime) -> Select:  # type: ignore[type-arg]
    """Pending targets whose due time has passed: a range scan of ix_targets_state_due."""
    return select(Target).where(Target.state == "pending", col(Target.due_at) < now).order_by(col(Target.due_at))


def due_tickets(session: Session, limit: int | None = None, owners: Sequence[str] = ()) -> list[Ticket]:
    """Open tickets by next due time (see ``due_statement``)."""
    statement = due_statement(owners)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def targets_for(session: Session, ticket_ids: Sequence[int], pending_only: bool = False) -> dict[int, list[Target]]:
    """Targets of many tickets in a few queries, grouped by ticket (only pending ones when that is all a view needs)."""
    from supportcli.core.tickets import TARGET_ORDER

    grouped: dict[int, list[Target]] = defaultdict(list)
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        # The state is filtered here, not in SQL: with it in the WHERE clause SQLite prefers the
        # (state, due_at) index and scans every pending target of the store for each chunk.
        for target in session.exec(select(Target).where(col(Target.ticket_id).in_(chunk))):
            if pending_only and target.state != "pending":
                continue
            grouped[target.ticket_id].append(target)
    for targets in grouped.values():
        targets.sort(key=lambda t: TARGET_ORDER.index(t.name) if t.name in TARGET_ORDER else 99)
    return grouped
