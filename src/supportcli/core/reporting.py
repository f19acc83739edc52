"""The arithmetic of ``report``: periods, ISO weeks, percentiles, SLA attainment, satisfaction.

Pure functions and plain records: the store counts rows with SQL and hands the
counts (and per-ticket working durations) here; rendering reads the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from supportcli.core.targets import TARGET_KINDS, display_order
from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES
from supportcli.errors import InvalidInput

GROUPINGS = ("owner", "channel", "kind", "org", "category", "priority", "week")
# The targets whose working time from receipt to being met is measured (median, 90th percentile).
MEASURED_TARGETS = tuple(kind.name for kind in TARGET_KINDS if kind.measured_by_reports)
# The percentiles of those working times that reports show: the median and the 90th.
REPORTED_PERCENTILES = (50, 90)
RATINGS = (1, 2, 3, 4, 5)
TOTAL_KEY = "all"


@dataclass(frozen=True)
class Period:
    """A half-open reporting period ``[since, until)`` of aware instants."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise InvalidInput(f"--until ({self.until.isoformat()}) must be after --since ({self.since.isoformat()})")


def last_full_month(now: datetime, zone: ZoneInfo) -> Period:
    """The calendar month before the one ``now`` falls in, midnight to midnight in ``zone``."""
    today = now.astimezone(zone).date()
    this_month = today.replace(day=1)
    previous = (this_month - timedelta(days=1)).replace(day=1)
    return Period(_midnight(previous, zone), _midnight(this_month, zone))


def month_before(until: datetime, zone: ZoneInfo) -> datetime:
    """The same local wall time one calendar month earlier (the day clamped to the month's length)."""
    local = until.astimezone(zone)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    day = min(local.day, (next_first - timedelta(days=1)).day)
    return local.replace(year=year, month=month, day=day).astimezone(zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def week_label(day: date) -> str:
    """The ISO week of a date, e.g. ``2026-W48``."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def week_starts(period: Period, zone: ZoneInfo) -> list[tuple[datetime, str]]:
    """Each ISO week overlapping the period: its local Monday midnight and its label, in order."""
    first = period.since.astimezone(zone).date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while (start := _midnight(monday, zone)) < period.until:
        weeks.append((start, week_label(monday)))
        monday += timedelta(days=7)
    return weeks


def percentile_ranks(count: int, p: float) -> tuple[int, int, float]:
    """The two closest ranks (0-based, in ascending order) of the p-th percentile of ``count`` values, and the
    weight of the higher one: what ``percentile`` interpolates between."""
    rank = (count - 1) * p / 100
    low = math.floor(rank)
    return low, math.ceil(rank), rank - low


def interpolated(low_value: float, high_value: float, weight: float) -> float:
    """The value ``weight`` of the way from ``low_value`` to ``high_value``: one formula for every percentile."""
    return low_value + (high_value - low_value) * weight


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100) by linear interpolation between closest ranks; None for no values.

    The same rule as ``numpy.percentile``'s default and ``statistics.quantiles(method="inclusive")``,
    so the 50th is the ordinary median (the mean of the two middle values for an even count).
    """
    if not values:
        return None
    ordered = sorted(values)
    low, high, weight = percentile_ranks(len(ordered), p)
    return interpolated(ordered[low], ordered[high], weight)


@dataclass(frozen=True)
class RankedDurations:
    """Working durations known by how many there are and their values at some ranks (0-based, ascending).

    Enough for the exact percentiles at those ranks (``percentile_ranks``) without every value: the store picks
    them from the millions of a whole-store report (benchmarks/README.md, "Whole-store report at 1M").
    """

    count: int
    at_rank: Mapping[int, float]

    def percentile(self, p: float) -> float | None:
        """The p-th percentile, as ``percentile`` gives it over all the values; None for no values."""
        if not self.count:
            return None
        low, high, weight = percentile_ranks(self.count, p)
        return interpolated(self.at_rank[low], self.at_rank[high], weight)


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal, or None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class TargetTally:
    """How one target fared: met on time, breached (met late or overdue), still pending."""

    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        """Every target counted."""
        return self.met + self.breached + self.pending

    @property
    def attainment_pct(self) -> float | None:
        """Met on time as a share of the targets decided (met or breached); pending ones are not yet decided."""
        return share(self.met, self.met + self.breached)

    def add(self, other: TargetTally) -> None:
        """Fold another tally into this one."""
        self.met += other.met
        self.breached += other.breached
        self.pending += other.pending

    def as_record(self, name: str) -> dict[str, object]:
        """The tally with its percentages (of all targets counted) and attainment."""
        return {
            "target": name,
            "total": self.total,
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "met_pct": share(self.met, self.total),
            "breached_pct": share(self.breached, self.total),
            "pending_pct": share(self.pending, self.total),
            "attainment_pct": self.attainment_pct,
        }


@dataclass
class Satisfaction:
    """Customer satisfaction ratings (1–5): how many, their sum, and how many of each."""

    count: int = 0
    rating_sum: int = 0
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))

    @property
    def mean(self) -> float | None:
        """The mean rating to two decimals, or None without ratings."""
        return round(self.rating_sum / self.count, 2) if self.count else None

    def add(self, other: Satisfaction) -> None:
        """Fold another group's ratings into these."""
        self.count += other.count
        self.rating_sum += other.rating_sum
        for rating, count in other.distribution.items():
            self.distribution[rating] = self.distribution.get(rating, 0) + count

    def as_record(self) -> dict[str, object]:
        """Count, mean and distribution (keys are the ratings as strings, for JSON)."""
        return {
            "count": self.count,
            "mean": self.mean,
            "distribution": {str(rating): self.distribution.get(rating, 0) for rating in RATINGS},
        }


@dataclass(frozen=True)
class Timing:
    """How many working durations one target has in a group, and their median and 90th percentile (seconds)."""

    count: int
    median: float | None
    p90: float | None


def timing_record(timing: Timing) -> dict[str, object]:
    """Count, median and 90th percentile of working durations, in working minutes (one decimal)."""

    def minutes(value: float | None) -> float | None:
        return round(value / 60, 1) if value is not None else None

    return {
        "count": timing.count,
        "median_working_minutes": minutes(timing.median),
        "p90_working_minutes": minutes(timing.p90),
    }


@dataclass
class GroupFigures:
    """Every figure of one group (an owner, a week…) or of the whole period."""

    key: str
    received: int = 0
    resolved: int = 0
    open: int = 0
    complaints: int = 0
    compliments: int = 0
    escalations: int = 0
    extensions: int = 0
    targets: dict[str, TargetTally] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in MEASURED_TARGETS})
    # A target's durations known only at the ranks the reported percentiles read, instead of in ``durations``.
    ranked: dict[str, RankedDurations] = field(default_factory=dict)
    satisfaction: Satisfaction = field(default_factory=Satisfaction)

    def tally(self, target: str) -> TargetTally:
        """The tally of one target, created on first use."""
        return self.targets.setdefault(target, TargetTally())

    def timing(self, target: str) -> Timing:
        """The count, median and 90th percentile of one target's working durations."""
        ranked = self.ranked.get(target)
        if ranked is not None:
            return Timing(ranked.count, ranked.percentile(50), ranked.percentile(90))
        seconds = self.durations.get(target, [])
        return Timing(len(seconds), percentile(seconds, 50), percentile(seconds, 90))

    def add(self, other: GroupFigures) -> None:
        """Fold another group into this one (for the totals row: counts add, durations pool)."""
        for name in ("received", "resolved", "open", "complaints", "compliments", "escalations", "extensions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for target, tally in other.targets.items():
            self.tally(target).add(tally)
        for target, seconds in other.durations.items():
            self.durations.setdefault(target, []).extend(seconds)
        for target, ranked in other.ranked.items():
            if target in self.ranked or self.durations.get(target):
                raise ValueError(f"durations of {target!r} known only at some ranks cannot be pooled with others")
            self.ranked[target] = ranked
        self.satisfaction.add(other.satisfaction)

    def as_record(self) -> dict[str, object]:
        """The group as its JSON record, its targets in display order."""
        names = sorted(self.targets, key=display_order)
        return {
            "key": self.key,
            "received": self.received,
            "resolved": self.resolved,
            "open": self.open,
            "complaints": self.complaints,
            "compliments": self.compliments,
            "escalations": self.escalations,
            "extensions": self.extensions,
            "sla": [self.targets[name].as_record(name) for name in names],
            "working_time": {name: timing_record(self.timing(name)) for name in MEASURED_TARGETS},
            "csat": self.satisfaction.as_record(),
        }


def total_of(groups: Iterable[GroupFigures]) -> GroupFigures:
    """The whole period's figures from its groups."""
    total = GroupFigures(TOTAL_KEY)
    for group in groups:
        total.add(group)
    return total


def group_sort_key(ranked: Sequence[str] = ()) -> Callable[[str], tuple[int, str]]:
    """A sort key for group keys: the domain's order where there is one (priorities), else alphabetical."""

    def key(name: str) -> tuple[int, str]:
        return (ranked.index(name), "") if name in ranked else (len(ranked), name.casefold())

    return key


@dataclass
class Report:
    """A finished report: the period, each group's figures (sorted), the totals, the category rankings."""

    period: Period
    timezone: str
    generated_at: datetime
    by: str | None
    orgs: tuple[str, ...]
    groups: list[GroupFigures]
    total: GroupFigures
    complaint_categories: list[tuple[str, int]]
    compliment_categories: list[tuple[str, int]]
    day_length_seconds: int

    def as_record(self) -> dict[str, object]:
        """The report as JSON-ready data (instants stay datetimes for the writer to format)."""
        zone = ZoneInfo(self.timezone)
        return {
            "period": {
                "since": self.period.since.astimezone(zone),
                "until": self.period.until.astimezone(zone),
                "timezone": self.timezone,
            },
            "generated_at": self.generated_at.astimezone(zone),
            "orgs": list(self.orgs),
            "by": self.by,
            "totals": self.total.as_record(),
            "groups": [group.as_record() for group in self.groups],
            "complaint_categories": [{"category": name, "count": count} for name, count in self.complaint_categories],
            "compliments": {
                "count": self.total.compliments,
                "categories": [{"category": name, "count": count} for name, count in self.compliment_categories],
            },
        }


def ranked_values(by: str | None) -> Sequence[str]:
    """The domain's own order of a grouping's values, where it has one."""
    return {"priority": PRIORITIES, "kind": KINDS, "channel": CHANNELS}.get(by or "", ())


def assemble(groups: Iterable[GroupFigures], by: str | None) -> tuple[list[GroupFigures], GroupFigures]:
    """Sorted groups (none when not grouped) and the totals computed from them.

    The working times of what is shown are sorted here, once: each percentile read of them afterwards
    (median and 90th, for every output format) sorts a sorted list, a linear pass, not millions anew.
    """
    order = group_sort_key(ranked_values(by))
    listed = sorted(groups, key=lambda group: order(group.key))
    shown = listed if by else []
    total = total_of(listed)
    for figures in [*shown, total]:
        for seconds in figures.durations.values():
            seconds.sort()
    return shown, total
