"""The SQL behind ``report``: the database counts and groups; Python only sees totals per group.

Tickets are reported by the period they were received in (the cohort): volumes,
service levels, working times, satisfaction and categories all describe those
tickets. Escalations and extensions are counted when they happened, whichever
ticket they belong to. Every query is portable SQL (GROUP BY, COUNT, SUM, CASE,
COALESCE). Working durations need the business calendar, so each met target keeps
its own, written when it was met; ``report`` reads that one column of the
measured targets, never whole rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

# SQLAlchemy's own select: these are Core projections of any width (run on the connection, never
# ``session.exec``), which SQLModel's select types for at most four columns.
from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from supportcli.core.calendar import WorkingCalendar
from supportcli.core.reporting import MEASURED_TARGETS, TOTAL_KEY, GroupFigures, Period, Report, assemble
from supportcli.core.targets import TARGET_NAMES
from supportcli.core.tickets import OPEN_STATUSES, TargetState, met_working_seconds
from supportcli.store import policies
from supportcli.store.models import UNMEASURED, Event, Target, Ticket
from supportcli.store.types import EpochSeconds, JoinedText

UNASSIGNED = "(unassigned)"
NONE = "(none)"
TOP_CATEGORIES = 10
# A target's outcome in ``_targets``' codes: the letter, then the target's name.
MET_CODE, BREACHED_CODE, PENDING_CODE = "m", "b", "p"
UNKNOWN_CODE = "?"  # a target whose name this version does not know

GroupOf = Callable[[str], GroupFigures]


@dataclass(frozen=True)
class ReportQuery:
    """What to report on: the period, the clock, optional organisations and a grouping."""

    period: Period
    now: datetime
    orgs: Sequence[str] = ()
    by: str | None = None
    weeks: Sequence[tuple[datetime, str]] = ()  # ISO week starts, for ``by == "week"``
    every_ticket: bool = False  # the period holds every ticket of the store (``covers_every_ticket``)


@dataclass
class ReportData:
    """The figures of each group, in no particular order, and the category rankings."""

    groups: dict[str, GroupFigures]
    complaint_categories: list[tuple[str, int]]
    compliment_categories: list[tuple[str, int]]


def collect(session: Session, query: ReportQuery) -> ReportData:
    """Run the report's queries and gather their results per group."""
    query = replace(query, every_ticket=covers_every_ticket(session, query))
    groups: dict[str, GroupFigures] = {}

    def group(name: str) -> GroupFigures:
        if name not in groups:
            groups[name] = GroupFigures(name)
        return groups[name]

    for _, week in query.weeks if query.by == "week" else ():
        group(week)  # every week of the period is shown, quiet ones too
    _volumes(session, query, group)
    _targets(session, query, group)
    _events(session, query, group)
    categories = _categories(session, query)
    return ReportData(
        groups=groups,
        complaint_categories=categories["complaint"],
        compliment_categories=categories["compliment"],
    )


def build_report(session: Session, query: ReportQuery, calendar: WorkingCalendar) -> Report:
    """The whole report, shown in ``calendar``'s timezone with its working-day length."""
    data = collect(session, query)
    groups, total = assemble(data.groups.values(), query.by)
    return Report(
        period=query.period,
        timezone=calendar.spec.timezone,
        generated_at=query.now,
        by=query.by,
        orgs=tuple(query.orgs),
        groups=groups,
        total=total,
        complaint_categories=data.complaint_categories,
        compliment_categories=data.compliment_categories,
        day_length_seconds=calendar.day_length_seconds,
    )


def covers_every_ticket(session: Session, query: ReportQuery) -> bool:
    """Whether every ticket of the store was received in the period and no organisation is asked for.

    Then the cohort needs no condition: a whole-store report reads the tickets and targets tables straight
    through, the targets without the join to their tickets when nothing is grouped by a ticket's column
    (benchmarks/README.md, "report"). Two ends of ``ix_tickets_received``, so cheap for any period.
    """
    if query.orgs:
        return False
    received = col(Ticket.received_at)
    first, last = _rows(session, select(func.min(received), func.max(received))).one()
    return first is None or (query.period.since <= first and last < query.period.until)


def _cohort(query: ReportQuery) -> list[ColumnElement[bool]]:
    """Tickets received in the period (and of the organisations asked for); nothing for every ticket."""
    if query.every_ticket:
        return []
    clauses = [col(Ticket.received_at) >= query.period.since, col(Ticket.received_at) < query.period.until]
    if query.orgs:
        clauses.append(col(Ticket.org).in_(list(query.orgs)))
    return clauses


def _key(query: ReportQuery, instant: Any = None) -> list[ColumnElement[Any]]:
    """The grouping as a one-item list of SQL expressions labelled ``grp`` (empty for no grouping).

    A week is a CASE over ranges of ``instant`` (the ticket's receipt by default): portable, and the
    weeks' boundaries are local midnights computed in the calendar's timezone.
    """
    if query.by is None:
        return []
    if query.by == "week":
        instant = instant if instant is not None else col(Ticket.received_at)
        labels = [label for _, label in query.weeks]
        bounds = [start for start, _ in query.weeks[1:]] + [query.period.until]
        whens = [(instant < bound, label) for bound, label in zip(bounds, labels, strict=True)]
        return [case(*whens, else_=labels[-1]).label("grp")]
    missing = UNASSIGNED if query.by == "owner" else NONE
    return [func.coalesce(col(getattr(Ticket, query.by)), missing).label("grp")]


def _split(query: ReportQuery, row: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    """A result row as (group name, the rest)."""
    return (row[0], row[1:]) if query.by is not None else (TOTAL_KEY, row)


def _rows(session: Session, statement: Any) -> Any:
    """Result rows as plain tuples through SQLAlchemy Core: no ORM row loading for a column projection."""
    return session.connection().execute(statement)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _volumes(session: Session, query: ReportQuery, group: GroupOf) -> None:
    """Received, resolved, open, complaints, compliments and the ratings, in one pass over the period's tickets.

    The ratings come as one joined text per group (``types.JoinedText``), counted here: a GROUP BY of the
    rating would be a second pass (benchmarks/README.md, "report").
    """
    key = _key(query)
    statement = (
        select(
            *key,
            func.count(),
            _count_where(col(Ticket.status).in_(("resolved", "closed"))),
            _count_where(col(Ticket.status).in_(OPEN_STATUSES)),
            _count_where(col(Ticket.kind) == "complaint"),
            _count_where(col(Ticket.kind) == "compliment"),
            func.count(col(Ticket.rating)),
            func.sum(col(Ticket.rating)),
            JoinedText(col(Ticket.rating)),
        )
        .where(*_cohort(query))
        .group_by(*key)
    )
    for row in _rows(session, statement):
        name, (received, resolved, still_open, complaints, compliments, ratings, rating_sum, joined) = _split(
            query, row
        )
        if not received:
            continue
        figures = group(name)
        figures.received, figures.resolved, figures.open = received, resolved or 0, still_open or 0
        figures.complaints, figures.compliments = complaints or 0, compliments or 0
        figures.satisfaction.count, figures.satisfaction.rating_sum = ratings, rating_sum or 0
        if joined is not None:
            for rating, count in sorted(Counter(map(int, joined.split(","))).items()):
                figures.satisfaction.distribution[rating] = count


def _targets(session: Session, query: ReportQuery, group: GroupOf) -> None:
    """Each target's tally (met on time; breached: met late, or pending past its due time now; the rest
    pending) and the stored working times of the measured ones, in one pass over the period's targets.

    Each met target keeps its working time (``Target.met_working_seconds``, written when it is met). The
    database joins each group's values into text (``types.JoinedText``) instead of sorting two million
    rows into groups or handing them to Python a row each (benchmarks/README.md, "report"): one string
    of outcome-and-target codes, counted here, and one of working times per measured target. A met target
    without a stored working time (written by something that did not know the column) is worked out here
    as it is stored: ``recomputed_durations``.
    """
    key = _key(query)
    name = col(Target.name)
    overdue = and_(col(Target.state) == TargetState.PENDING.value, col(Target.due_at) < query.now)
    outcome = case(
        (col(Target.state) == TargetState.MET.value, MET_CODE),
        (or_(col(Target.state) == TargetState.BREACHED.value, overdue), BREACHED_CODE),
        else_=PENDING_CODE,
    )
    # A name this version does not know might hold the separator: it counts as one code, tallied below.
    code = case((name.in_(TARGET_NAMES), outcome + name), else_=UNKNOWN_CODE)
    seconds = [JoinedText(case((name == target, col(Target.met_working_seconds)))) for target in MEASURED_TARGETS]
    statement = select(*key, JoinedText(code), *seconds)
    cohort = _cohort(query)
    if key or cohort:  # else every target counts, whatever its ticket: no join
        statement = statement.select_from(Ticket).join(Target, col(Target.ticket_id) == col(Ticket.id))
    statement = statement.where(*cohort).group_by(*key)
    unknown = False
    for row in _rows(session, statement):
        group_name, (codes, *joined) = _split(query, row)
        if codes is None:
            continue
        figures = group(group_name)
        for text_code, count in sorted(Counter(codes.split(",")).items()):
            if text_code == UNKNOWN_CODE:
                unknown = True
                continue
            tally = figures.tally(text_code[1:])
            if text_code[0] == MET_CODE:
                tally.met = count
            elif text_code[0] == BREACHED_CODE:
                tally.breached = count
            else:
                tally.pending = count
        for target, values in zip(MEASURED_TARGETS, joined, strict=True):
            if values is not None:
                figures.durations[target].extend(json.loads(f"[{values}]"))  # integers: twice as fast as int()
    if unknown:
        _unknown_targets(session, query, group)
    unmeasured = select(col(Target.id)).where(text(UNMEASURED)).limit(1)  # a lookup of ix_targets_met_unmeasured
    if _rows(session, unmeasured).first() is not None:
        recomputed_durations(session, query, group, col(Target.met_working_seconds).is_(None))


def _unknown_targets(session: Session, query: ReportQuery, group: GroupOf) -> None:
    """The tallies of targets whose names this version does not know (imported from a newer one, say)."""
    key = _key(query)
    overdue = and_(col(Target.state) == TargetState.PENDING.value, col(Target.due_at) < query.now)
    statement = (
        select(
            *key,
            col(Target.name),
            func.count(),
            _count_where(col(Target.state) == TargetState.MET.value),
            _count_where(or_(col(Target.state) == TargetState.BREACHED.value, overdue)),
        )
        .select_from(Ticket)
        .join(Target, col(Target.ticket_id) == col(Ticket.id))
        .where(*_cohort(query), col(Target.name).not_in(TARGET_NAMES))
        .group_by(*key, col(Target.name))
    )
    for row in _rows(session, statement):
        name, (target, total, met, breached) = _split(query, row)
        tally = group(name).tally(target)
        tally.met, tally.breached = met or 0, breached or 0
        tally.pending = total - tally.met - tally.breached


def recomputed_durations(session: Session, query: ReportQuery, group: GroupOf, *only: ColumnElement[bool]) -> None:
    """The measured targets' working times worked out on the calendar (``core.tickets.met_working_seconds``).

    The database gives both instants as epoch seconds, so each duration is the difference of two working-time
    positions without building datetimes. ``only`` narrows the targets (by default, every measured one).
    """
    statement = (
        select(
            *_key(query),
            col(Ticket.policy_version),
            col(Target.name),
            EpochSeconds(col(Ticket.received_at)),
            EpochSeconds(col(Target.met_at)),
            col(Target.paused_working_seconds),
        )
        .select_from(Ticket)
        .join(Target, col(Target.ticket_id) == col(Ticket.id))
        .where(*_cohort(query), col(Target.name).in_(MEASURED_TARGETS), col(Target.met_at).is_not(None), *only)
    )
    book = policies.PolicyBook(session, query.now.year)
    calendars: dict[int, WorkingCalendar] = {}
    for row in _rows(session, statement):
        name, (version, target, received_at, met_at, paused) = _split(query, row)
        if version not in calendars:
            calendars[version] = book.calendar(version)
        group(name).durations[target].append(met_working_seconds(calendars[version], received_at, met_at, paused))


def _events(session: Session, query: ReportQuery, group: GroupOf) -> None:
    """Escalations and extensions made in the period; a week is the week they happened in."""
    for row in _rows(session, events_statement(query)):
        name, (kind, count) = _split(query, row)
        if kind == "escalated":
            group(name).escalations = count
        else:
            group(name).extensions = count


def events_statement(query: ReportQuery) -> Any:
    """The count of escalations and extensions per group and kind: a range scan of ``ix_events_kind_at``.

    Without that index (schema version 3) SQLite read all the history of the store, 4.3 million events at
    a million tickets, even for one month.
    """
    key = _key(query, instant=col(Event.at))
    clauses = [
        col(Event.kind).in_(("escalated", "extended")),
        col(Event.at) >= query.period.since,
        col(Event.at) < query.period.until,
    ]
    if query.orgs:
        clauses.append(col(Ticket.org).in_(list(query.orgs)))
    return (
        select(*key, col(Event.kind), func.count())
        .select_from(Event)
        .join(Ticket, col(Ticket.id) == col(Event.ticket_id))
        .where(*clauses)
        .group_by(*key, col(Event.kind))
    )


def _categories(session: Session, query: ReportQuery) -> dict[str, list[tuple[str, int]]]:
    """The most frequent categories of complaints and of compliments, commonest first, in one pass over the cohort.

    Only complaints and compliments are grouped (sorting the period's every ticket into groups was most of
    this query's time), and the kind is filtered on as ``kind || ''``: with a plain ``kind IN (...)`` SQLite
    (which has no statistics) reads every ticket of those kinds in the store through the kind index, not the
    period's tickets through the receipt index.
    """
    category = func.coalesce(col(Ticket.category), NONE).label("category")
    count = func.count().label("tickets")
    statement = (
        select(col(Ticket.kind), category, count)
        .where(*_cohort(query), col(Ticket.kind).concat("").in_(("complaint", "compliment")))
        .group_by(col(Ticket.kind), category)
        .order_by(count.desc(), category)
    )
    ranked: dict[str, list[tuple[str, int]]] = {"complaint": [], "compliment": []}
    for kind, name, tickets in _rows(session, statement):
        if kind in ranked and len(ranked[kind]) < TOP_CATEGORIES:
            ranked[kind].append((name, tickets))
    return ranked
