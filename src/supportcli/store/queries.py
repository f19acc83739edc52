"""Read queries for listings; filters become SQL so indexes do the work, not Python loops."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row
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


def breached_rows(
    session: Session, now: datetime, owners: Sequence[str] = (), orgs: Sequence[str] = (), names: Sequence[str] = ()
) -> Sequence[Row[Any]]:
    """Breached pending targets with the ticket columns ``overdue`` shows, as plain rows (no ORM objects).

    The range scan of ``breached_statement`` joined to each ticket by its primary key. Columns, in this
    order: the ticket's ``id``, ``subject``, ``owner``, ``tier``, ``policy_version``; the target's
    ``name`` and ``due_at``.
    """
    statement = (
        select(
            col(Ticket.id),
            col(Ticket.subject),
            col(Ticket.owner),
            col(Ticket.tier),
            col(Ticket.policy_version),
            col(Target.name),
            col(Target.due_at),
        )
        .select_from(Target)
        .join(Ticket, col(Ticket.id) == col(Target.ticket_id))
        .where(Target.state == "pending", col(Target.due_at) < now)
        .order_by(col(Target.due_at), col(Target.id))
    )
    if names:
        statement = statement.where(col(Target.name).in_(list(names)))
    if owners:
        statement = statement.where(col(Ticket.owner).in_(list(owners)))
    if orgs:
        statement = statement.where(col(Ticket.org).in_(list(orgs)))
    return session.connection().execute(statement).all()


# What plain, CSV and table listings show of a ticket (JSON shows every field, from whole tickets), in
# the order of the tuples ``listing_rows`` returns.
LISTING_COLUMNS = (
    "id",
    "subject",
    "status",
    "kind",
    "channel",
    "priority",
    "owner",
    "org",
    "tier",
    "received_at",
    "policy_version",
)


def listing_rows(session: Session, statement: Select) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
    """The tickets a ``select(Ticket)`` statement finds, as plain rows of ``LISTING_COLUMNS`` (no ORM objects).

    Read them by position (a row is a tuple): that costs a tenth of reading a field by name.
    """
    columns = [col(getattr(Ticket, name)) for name in LISTING_COLUMNS]
    return list(session.connection().execute(statement.with_only_columns(*columns)))


def ticket_ids(session: Session, statement: Select) -> list[int]:  # type: ignore[type-arg]
    """Only the ids of the tickets a ``select(Ticket)`` statement finds."""
    return list(session.connection().execute(statement.with_only_columns(col(Ticket.id))).scalars())


def next_pending_targets(session: Session, ticket_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """Each ticket's pending target that falls due first (earlier in ``TARGET_ORDER`` on a tie): (name, due_at).

    Tickets without a pending due time are absent. This is ``render.tickets.next_target`` over the pending
    targets of many tickets, read as plain tuples of the two columns it needs.
    """
    from sqlalchemy import case

    from supportcli.core.tickets import TARGET_ORDER

    rank = {name: index for index, name in enumerate(TARGET_ORDER)}
    first: dict[int, tuple[str, datetime]] = {}
    # A plain ``state = 'pending'`` term next to ``ticket_id IN (...)`` makes SQLite (which has no
    # statistics) prefer the (state, due_at) index and scan every pending target of the store for each
    # chunk; inside a CASE no index can serve it, so the ticket index does and only the pending targets
    # with a due time come back.
    pending_due = case((col(Target.state) == "pending", col(Target.due_at)), else_=None)
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        statement = select(col(Target.ticket_id), col(Target.name), col(Target.due_at)).where(
            col(Target.ticket_id).in_(chunk), pending_due.is_not(None)
        )
        for ticket_id, name, due_at in session.connection().execute(statement):
            best = first.get(ticket_id)
            if best is None or (due_at, rank.get(name, 99)) < (best[1], rank.get(best[0], 99)):
                first[ticket_id] = (name, due_at)
    return first


def due_tickets(session: Session, limit: int | None = None, owners: Sequence[str] = ()) -> list[Ticket]:
    """Open tickets by next due time (see ``due_statement``)."""
    statement = due_statement(owners)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def targets_for(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[Target]]:
    """Every target of many tickets in a few queries, grouped by ticket.

    Listings that show only each ticket's next pending target use ``next_pending_targets``.
    """
    from supportcli.core.tickets import TARGET_ORDER

    grouped: dict[int, list[Target]] = defaultdict(list)
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        for target in session.exec(select(Target).where(col(Target.ticket_id).in_(chunk))):
            grouped[target.ticket_id].append(target)
    for targets in grouped.values():
        targets.sort(key=lambda t: TARGET_ORDER.index(t.name) if t.name in TARGET_ORDER else 99)
    return grouped
