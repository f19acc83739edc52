"""Read queries for listings; filters become SQL so indexes do the work, not Python loops."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar, cast

import sqlalchemy
from sqlalchemy import func
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from supportcli.store.models import Target, Ticket
from supportcli.store.types import EpochSeconds

SORTS = {
    "id": (col(Ticket.id),),
    "received": (col(Ticket.received_at), col(Ticket.id)),
    "updated": (col(Ticket.updated_at).desc(), col(Ticket.id)),
    "due": (col(Ticket.next_due_at).is_(None), col(Ticket.next_due_at), col(Ticket.id)),
    "priority": (col(Ticket.id),),
}
# A search is shown best first unless another sort is asked for (``ticket_statement``).
BEST = "best"
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (``%``, ``_``) and the escape character itself made plain characters.

    Whatever users type is matched as the text it is (``list --tag %`` finds only a tag ``%``, not every
    tagged ticket); every pattern made of user input goes through here, with ``ESCAPE LIKE_ESCAPE``.
    """
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def text_like(column: Any, value: str, before: str = "", after: str = "") -> ColumnElement[bool]:
    """``column`` is ``value`` in any letter case, with ``before``/``after`` around it (SQL wildcards or
    separators, not escaped); ``value`` is escaped, so its own ``%`` and ``_`` are plain characters.

    Both sides are lower-cased, every letter (``--name séan`` finds ``SÉAN``). An ASCII ``value`` can only
    match through ASCII letters, which SQLite's own ``lower`` folds (so the usual filter costs no Python call
    a row); any other goes through ``LowerText``.
    """
    from supportcli.store.types import LowerText

    pattern = before + escape_like(value.lower()) + after
    lowered = func.lower(column) if value.isascii() else LowerText(column)
    return lowered.like(pattern, escape=LIKE_ESCAPE)


def any_text(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, in any letter case (``--org acme`` finds ``Acme``); none of no values."""
    from sqlalchemy import false, or_

    return or_(false(), *(text_like(column, value) for value in values))


@dataclass
class TicketFilter:
    """What ``list`` and ``export`` were asked for; every field given narrows the result (``ticket_statement``).

    The options that fill it are the rows of ``cli/filters.py``'s ``FILTERS``.
    """

    statuses: Sequence[str] = ()
    kinds: Sequence[str] = ()
    channels: Sequence[str] = ()
    priorities: Sequence[str] = ()
    owners: Sequence[str] = ()
    orgs: Sequence[str] = ()
    categories: Sequence[str] = ()
    references: Sequence[str] = ()
    tags: Sequence[str] = ()
    tiers: Sequence[int] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: str | None = None  # None: best first for a search, else by id
    unassigned: bool = False
    # ``--mine``: the owners whose tickets the acting user handles (``store.staff.handled_by``): the acting user
    # and the absent colleagues they cover.
    handled: Sequence[str] = ()

    overdue_at: datetime | None = None  # ``--overdue``: a pending target was due before this instant
    search: str | None = None  # full-text search (``store.search``)
    emails: Sequence[str] = ()  # the customer's e-mail is one of these (``store.lookups``)
    names: Sequence[str] = ()  # the customer's name contains one of these
    phones: Sequence[str] = ()  # the customer's phone is one of these numbers, compared by digits


def ticket_statement(wanted: TicketFilter, dialect: str, ranked: int | None = None) -> SelectOfScalar[Ticket]:
    """The SELECT of tickets matching a filter (``list`` and ``search`` run it; ``export`` streams it).

    The one place that orders a listing: by ``wanted.sort``, and a search best first when no sort is named.
    ``dialect``: the engine's name (``Session.connection().dialect.name``), for the search's own syntax;
    ``ranked``: the listing shows at most this many, so a search best first ranks only the most recent
    matches (``store.search.matching``).
    """
    from sqlalchemy import or_

    from supportcli.store.lookups import email_clause, name_clause, phone_clause

    statement = select(Ticket)
    for column, values in (
        (Ticket.status, wanted.statuses),
        (Ticket.kind, wanted.kinds),
        (Ticket.channel, wanted.channels),
        (Ticket.priority, wanted.priorities),
        (Ticket.reference, wanted.references),
        (Ticket.tier, wanted.tiers),
    ):
        if values:
            statement = statement.where(col(column).in_(list(values)))
    for text_column, texts in ((Ticket.org, wanted.orgs), (Ticket.category, wanted.categories)):
        if texts:
            statement = statement.where(any_text(text_column, texts))
    if wanted.handled:  # narrows like every other filter: ``--mine --owner sam`` is sam's tickets I handle
        statement = statement.where(any_text(Ticket.owner, wanted.handled))
    if wanted.owners or wanted.unassigned:
        owner_clause = any_text(Ticket.owner, wanted.owners)
        if wanted.unassigned:
            owner_clause = owner_clause | col(Ticket.owner).is_(None)
        statement = statement.where(owner_clause)
    for tag in wanted.tags:
        # Tags are stored between commas (``models.encode_list``): the tag whole, never a part of one.
        statement = statement.where(text_like(Ticket.tags, tag, before="%,", after=",%"))
    for clause, values in ((email_clause, wanted.emails), (name_clause, wanted.names), (phone_clause, wanted.phones)):
        if values:
            statement = statement.where(or_(*(clause(value) for value in values)))
    if wanted.since is not None:
        statement = statement.where(Ticket.received_at >= wanted.since)
    if wanted.until is not None:
        statement = statement.where(Ticket.received_at < wanted.until)
    if wanted.overdue_at is not None:
        # The ticket's first pending due time (``next_due_at``) is past exactly when any pending one is.
        statement = statement.where(col(Ticket.next_due_at) < wanted.overdue_at)
    sort = wanted.sort or (BEST if wanted.search is not None else "id")
    if wanted.search is not None:
        from supportcli.store.search import matching

        statement = matching(dialect, statement, wanted.search, ranked if sort == BEST else None)
        if sort == BEST:
            return statement
        statement = statement.order_by(None)
    if sort == "priority":
        from sqlalchemy import case

        rank = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=col(Ticket.priority))
        return statement.order_by(rank, col(Ticket.id))
    return statement.order_by(*SORTS[sort])


def due_statement(owners: Sequence[str] = ()) -> SelectOfScalar[Ticket]:
    """Open tickets with a pending target, soonest due first: an ordered range scan of ix_tickets_next_due.

    Only open tickets have ``next_due_at`` set, so no status filter is needed (it would defeat the index).
    """
    statement = select(Ticket).where(col(Ticket.next_due_at).is_not(None))
    if owners:
        statement = statement.where(any_text(Ticket.owner, owners))
    return statement.order_by(col(Ticket.next_due_at), col(Ticket.id))


def breached_statement(now: datetime) -> SelectOfScalar[Target]:
    """Pending targets whose due time has passed: a range scan of ix_targets_state_due."""
    return select(Target).where(Target.state == "pending", col(Target.due_at) < now).order_by(col(Target.due_at))


def breached_rows(
    session: Session, now: datetime, owners: Sequence[str] = (), orgs: Sequence[str] = (), names: Sequence[str] = ()
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Breached pending targets with the ticket columns ``overdue`` shows, as plain rows (no ORM objects).

    The range scan of ``breached_statement`` joined to each ticket by its primary key. Columns, in this
    order: the ticket's ``id``, ``subject``, ``owner``, ``tier``, ``policy_version``; the target's
    ``name`` and ``due_at`` as whole epoch seconds (floored, like ``LISTING_COLUMNS``' instants: no datetime
    is parsed per row, and every output shows due times to the second).
    """
    # SQLAlchemy's select: a Core projection of seven columns, which SQLModel's select types for at most four.
    statement = (
        sqlalchemy.select(
            col(Ticket.id),
            col(Ticket.subject),
            col(Ticket.owner),
            col(Ticket.tier),
            col(Ticket.policy_version),
            col(Target.name),
            EpochSeconds(col(Target.due_at)),
        )
        .select_from(Target)
        .join(Ticket, col(Ticket.id) == col(Target.ticket_id))
        .where(col(Target.state) == "pending", col(Target.due_at) < now)
        .order_by(col(Target.due_at), col(Target.id))
    )
    if names:
        statement = statement.where(col(Target.name).in_(list(names)))
    if owners:
        statement = statement.where(any_text(Ticket.owner, owners))
    if orgs:
        statement = statement.where(any_text(Ticket.org, orgs))
    return session.connection().execute(statement).all()


# What plain and table listings show of a ticket (JSON shows every field, from whole tickets), in the order
# of the tuples ``listing_rows`` returns; CSV rows go on with ``CSV_COLUMNS``. Instants are whole epoch seconds
# (floored), so no datetime is built per row; ``next_overdue`` is the database's own ``next_due_at < now`` on
# the exact instant. Each column read costs time on every row, so the narrow form leaves out what only CSV shows.
LISTING_COLUMNS = ("id", "subject", "status", "owner", "policy_version", "next_target", "next_due_at", "next_overdue")
CSV_COLUMNS = ("kind", "channel", "priority", "org", "tier", "received_at")
STREAM_ROWS = 2000  # rows fetched at a time (a server-side cursor on PostgreSQL): flat memory, few calls


def listing_rows(
    session: Session,
    statement: SelectOfScalar[Ticket],
    now: datetime,
    limit: int | None = None,
    wide: bool = False,
    extra: Sequence[Any] = (),
) -> Iterator[Sequence[Any]]:
    """The tickets a ``select(Ticket)`` statement finds, in its order, as plain rows of ``LISTING_COLUMNS``.

    Each row holds the ticket's next pending target as the ticket row mirrors it (``next_target``,
    ``next_due_at``: every change of a target refreshes them and import derives them), or Nones, so it is
    one streamed query of one table; ``wide`` rows go on with ``CSV_COLUMNS``, then come the ``extra``
    columns (a search's ``match_score``). Read the rows by position: a field by name costs ten times more
    on a SQLAlchemy row.
    """
    listing = listing_statement(statement, now, wide, extra).limit(limit)
    result = session.connection().execute(listing.execution_options(yield_per=STREAM_ROWS))
    yield from chain.from_iterable(result.partitions())


def listing_statement(
    statement: SelectOfScalar[Ticket], now: datetime, wide: bool = False, extra: Sequence[Any] = ()
) -> sqlalchemy.Select[*tuple[Any, ...]]:
    """A ``select(Ticket)`` statement narrowed to the listing columns (``LISTING_COLUMNS``, then ``CSV_COLUMNS``
    when ``wide``, then ``extra``), in its own order: for ``due`` an ordered range scan of ``ix_tickets_next_due``."""
    from sqlalchemy import Integer, type_coerce

    next_due = col(Ticket.next_due_at)
    columns: list[Any] = [col(getattr(Ticket, name)) for name in LISTING_COLUMNS[:-2]]
    # As an integer: SQLite has no booleans, and a Boolean column would convert every row.
    columns += [EpochSeconds(next_due), type_coerce(next_due < now, Integer)]
    if wide:
        columns += [col(getattr(Ticket, name)) for name in CSV_COLUMNS[:-1]] + [EpochSeconds(col(Ticket.received_at))]
    return statement.with_only_columns(*columns, *extra)


def ticket_ids(session: Session, statement: SelectOfScalar[Ticket]) -> list[int]:
    """Only the ids of the tickets a ``select(Ticket)`` statement finds."""
    ids = session.connection().execute(statement.with_only_columns(col(Ticket.id))).scalars()
    return cast("list[int]", list(ids))  # a stored ticket's id is never None (the model's None is "not yet saved")


def targets_for(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[Target]]:
    """Every target of many tickets in a few queries, grouped by ticket.

    Listings that show only each ticket's next pending target use ``listing_rows``.
    """
    from supportcli.core.targets import display_order

    grouped: dict[int, list[Target]] = defaultdict(list)
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        for target in session.exec(select(Target).where(col(Target.ticket_id).in_(chunk))):
            grouped[target.ticket_id].append(target)
    for targets in grouped.values():
        targets.sort(key=lambda t: display_order(t.name))
    return grouped


Logged = TypeVar("Logged", bound=SQLModel)


def newest_first(
    session: Session, model: type[Logged], kind: Mapped[str], kinds: Sequence[str], limit: int | None
) -> list[Logged]:
    """The rows of a log table (the mail log, the outbox), newest first, optionally only some ``kinds``.

    One place for what ``mail log`` and ``notify log`` list, so their filters and limits behave alike.
    """
    newest = [column.desc() for column in sqlalchemy.inspect(model).primary_key]
    statement = select(model).order_by(*newest)
    if kinds:
        statement = statement.where(kind.in_(list(kinds)))
    if limit:
        statement = statement.limit(limit)
    return list(session.exec(statement))
