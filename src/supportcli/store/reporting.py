"""The SQL behind ``report``: the database counts and groups; Python only sees totals per group.

Tickets are reported by the period they were received in (the cohort): volumes,
service levels, working times, satisfaction and categories all describe those
tickets. Escalations and extensions are counted when they happened, whichever
ticket they belong to. Every query is portable SQL (GROUP BY, COUNT, SUM, CASE,
COALESCE), so both databases give the same figures by the same arithmetic. Working
durations need the business calendar, so each met target keeps its own, written
when it was met; ``report`` reads that one column of the measured targets, never
whole rows, and without a grouping only the few values around each percentile's
ranks (``_targets_by_name``).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

# SQLAlchemy's own select: these are Core projections of any width (run on the connection, never
# ``session.exec``), which SQLModel's select types for at most four columns.
from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from supportcli.core.calendar import WorkingCalendar
from supportcli.core.reporting import (
    MEASURED_TARGETS,
    REPORTED_PERCENTILES,
    TOTAL_KEY,
    GroupFigures,
    Period,
    RankedDurations,
    Report,
    assemble,
    percentile_ranks,
)
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

# The sample of working times that places ``_brackets``' ranges: the targets of one ticket in SAMPLE_EVERY.
SAMPLE_EVERY = 32
# Below this many sampled values (about 30,000 values in all), every value is read: few enough to sort here.
SAMPLE_MIN = 1_000
# How far either side of a percentile's place in the sample its range reaches, in standard deviations of that
# place (the sample's p-th value wanders by about sqrt(m·p·(1 − p)) places): missing by chance is very rare, and
# a miss only costs reading every value.
SAMPLE_MARGIN = 6

Bounds = list[tuple[int | None, int | None]]  # per reported percentile: (lowest, highest) value, None for open


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
    # Two subqueries: SQLite reads one end of the index only for a query with a single min() or max().
    ends = select(select(func.min(received)).scalar_subquery(), select(func.max(received)).scalar_subquery())
    first, last = _rows(session, ends).one()
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
    as it is stored: ``recomputed_durations``. Without a grouping, and with every working time stored, the
    passes are ``_targets_by_name``'s instead, which read far fewer of them.
    """
    unmeasured = select(col(Target.id)).where(text(UNMEASURED)).limit(1)  # a lookup of ix_targets_met_unmeasured
    some_unmeasured = _rows(session, unmeasured).first() is not None
    if query.by is None and not some_unmeasured:
        _targets_by_name(session, query, group)
        return
    key = _key(query)
    name = col(Target.name)
    overdue = _overdue(query)
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
    if some_unmeasured:
        recomputed_durations(session, query, group, col(Target.met_working_seconds).is_(None))


def _overdue(query: ReportQuery) -> ColumnElement[bool]:
    """A target still pending past its due time at the report: breached, for the tallies."""
    return and_(col(Target.state) == TargetState.PENDING.value, col(Target.due_at) < query.now)


def _of_cohort(statement: Any, query: ReportQuery) -> Any:
    """``statement`` over the targets restricted to the cohort's tickets (no join for every ticket)."""
    cohort = _cohort(query)
    if not cohort:
        return statement
    return statement.select_from(Ticket).join(Target, col(Target.ticket_id) == col(Ticket.id)).where(*cohort)


def _targets_by_name(session: Session, query: ReportQuery, group: GroupOf) -> None:
    """The ungrouped report's tallies and working times: one pass over the targets of each name.

    Each pass counts its target's outcomes (so no codes to split in Python), and for a measured target gives what
    its exact percentiles need without every working time: a sample of the cohort's (``_samples``) places a
    range of values around each percentile's ranks (``_brackets``); the pass counts the values below each range
    and joins only those inside, and ``_ranked`` finds the values at the ranks among them. Where a range misses
    its ranks (the sample misled: rare, and checked, never assumed) every value is read after all.
    Passes by name cost less than one pass computing every name's columns on every row (SQLite evaluates each
    column for each row). Targets of names this version does not know are what the per-name counts miss.
    """
    everything = _rows(session, _of_cohort(select(func.count()).select_from(Target), query)).scalar()
    if not everything:
        return
    figures = group(TOTAL_KEY)
    samples = _samples(session, query)
    counted = 0
    for target in TARGET_NAMES:
        tally = [
            func.count(),
            _count_where(col(Target.state) == TargetState.MET.value),
            _count_where(or_(col(Target.state) == TargetState.BREACHED.value, _overdue(query))),
        ]
        bounds = _brackets(sorted(samples.get(target, []))) if target in MEASURED_TARGETS else None
        timing = _bracket_columns(bounds) if target in MEASURED_TARGETS else []
        statement = _of_cohort(select(*tally, *timing).where(col(Target.name) == target), query)
        total, met, breached, *picked = _rows(session, statement).one()
        if not total:
            continue
        counted += total
        outcome = figures.tally(target)
        outcome.met, outcome.breached = met or 0, breached or 0
        outcome.pending = total - outcome.met - outcome.breached
        if target in MEASURED_TARGETS:
            _store_timing(session, query, figures, target, bounds, picked)
    if counted < everything:
        _unknown_targets(session, query, group)


def _samples(session: Session, query: ReportQuery) -> dict[str, list[int]]:
    """The stored working times of the measured targets of every SAMPLE_EVERY-th ticket of the cohort, by name."""
    seconds = col(Target.met_working_seconds)
    # The sampling condition first: SQLite tests the conditions in the order written, and this one is the cheapest
    # and drops the most (a third of the scan's time, against the name first).
    statement = select(col(Target.name), seconds).where(
        col(Target.ticket_id) % SAMPLE_EVERY == 0, col(Target.name).in_(MEASURED_TARGETS), seconds.is_not(None)
    )
    samples: dict[str, list[int]] = {}
    for target, value in _rows(session, _of_cohort(statement, query)):
        samples.setdefault(target, []).append(value)
    return samples


def _brackets(sample: Sequence[int]) -> Bounds | None:
    """For each reported percentile, a range of values the sorted ``sample`` says holds its ranks; None (read
    every value) for a small sample."""
    count = len(sample)
    if count < SAMPLE_MIN:
        return None
    bounds: Bounds = []
    for p in REPORTED_PERCENTILES:
        place = (count - 1) * p / 100
        reach = SAMPLE_MARGIN * math.sqrt(count * p / 100 * (1 - p / 100)) + 2
        low, high = math.floor(place - reach), math.ceil(place + reach)
        bounds.append((sample[low] if low > 0 else None, sample[high] if high < count - 1 else None))
    return bounds


def _bracket_columns(bounds: Bounds | None) -> list[ColumnElement[Any]]:
    """How many working times there are, how many lie below each range, and those in a range as joined text
    (``types.JoinedText``); with no ranges, every working time."""
    seconds = col(Target.met_working_seconds)
    if bounds is None:
        return [func.count(seconds), JoinedText(seconds)]
    below = [_count_where(seconds < low) if low is not None else literal(0) for low, _ in bounds]
    inside = or_(*(_within(low, high) for low, high in bounds))
    return [func.count(seconds), *below, JoinedText(case((inside, seconds)))]


def _within(low: int | None, high: int | None) -> ColumnElement[bool]:
    """A stored working time from ``low`` to ``high`` (either open when None)."""
    seconds = col(Target.met_working_seconds)
    clauses = [seconds >= low] if low is not None else []
    clauses += [seconds <= high] if high is not None else []
    return and_(seconds.is_not(None), *clauses)


def _store_timing(
    session: Session,
    query: ReportQuery,
    figures: GroupFigures,
    target: str,
    bounds: Bounds | None,
    picked: Sequence[Any],
) -> None:
    """Keep one target's working times: every value, or the values at the reported percentiles' ranks when the
    ranges held them (else every value after all, read again)."""
    count, *below, joined = picked
    values = _sorted_values(joined)
    if bounds is None:
        figures.durations[target] = values
        return
    # int(): PostgreSQL's sum of a bigint is a numeric, which psycopg gives as a Decimal.
    ranges = [(low, high, int(floor or 0)) for (low, high), floor in zip(bounds, below, strict=True)]
    ranked = _ranked(int(count or 0), ranges, values)
    if ranked is not None:
        figures.ranked[target] = ranked
        return
    statement = _of_cohort(select(JoinedText(col(Target.met_working_seconds))).where(col(Target.name) == target), query)
    figures.durations[target] = _sorted_values(_rows(session, statement).scalar())


def _sorted_values(joined: str | None) -> list[float]:
    """The working times of a ``types.JoinedText``, sorted; parsed as JSON, twice as fast as int() on each."""
    return sorted(json.loads(f"[{joined}]")) if joined else []


def _ranked(
    count: int, ranges: Sequence[tuple[int | None, int | None, int]], values: Sequence[float]
) -> RankedDurations | None:
    """The values at each reported percentile's ranks, from the sorted values inside the ranges and how many
    lie below each range; None when a rank falls outside its range (the sample misled)."""
    at_rank: dict[int, float] = {}
    for p, (low, high, below) in zip(REPORTED_PERCENTILES, ranges, strict=True):
        start = bisect_left(values, low) if low is not None else 0
        end = bisect_right(values, high) if high is not None else len(values)
        for rank in percentile_ranks(count, p)[:2]:
            if not below <= rank < below + end - start:
                return None
            at_rank[rank] = values[start + rank - below]
    return RankedDurations(count, at_rank)


def _unknown_targets(session: Session, query: ReportQuery, group: GroupOf) -> None:
    """The tallies of targets whose names this version does not know (imported from a newer one, say)."""
    key = _key(query)
    overdue = _overdue(query)
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
    this query's time), and for a period the kind is filtered on as ``kind || ''``: with a plain
    ``kind IN (...)`` SQLite (which has no statistics) reads every ticket of those kinds in the store through
    the kind index, not the period's tickets through the receipt index. For every ticket that is what is
    wanted: the kind index finds the complaints and compliments without reading the other tickets.
    """
    category = func.coalesce(col(Ticket.category), NONE).label("category")
    count = func.count().label("tickets")
    kind = col(Ticket.kind) if query.every_ticket else col(Ticket.kind).concat("")
    statement = (
        select(col(Ticket.kind), category, count)
        .where(*_cohort(query), kind.in_(("complaint", "compliment")))
        .group_by(col(Ticket.kind), category)
        .order_by(count.desc(), category)
    )
    ranked: dict[str, list[tuple[str, int]]] = {"complaint": [], "compliment": []}
    for kind, name, tickets in _rows(session, statement):
        if kind in ranked and len(ranked[kind]) < TOP_CATEGORIES:
            ranked[kind].append((name, tickets))
    return ranked
