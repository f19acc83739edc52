"""The business calendar and working-time arithmetic of docs/working-time.md.

A :class:`WorkingCalendar` is built once per process from a
:class:`CalendarSpec`: every working day of the span becomes one open interval
(UTC epoch seconds) with the working seconds that came before it. A due time
or a countdown is then a couple of bisections over those sorted lists, never
a loop over days, which keeps the engine exact and fast.

Instants are handled to the whole second, as epoch seconds inside and aware
datetimes at the edges.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from supportcli.core.durations import Duration, Unit
from supportcli.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DayRule(StrEnum):
    """How ``N wd`` is counted (docs/working-time.md)."""

    CLOSE_OF_BUSINESS = "close-of-business"
    ELAPSED = "elapsed"


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One day's opening interval, in minutes after local midnight."""

    opens: int
    closes: int

    def __str__(self) -> str:
        return f"{self.opens // 60:02d}:{self.opens % 60:02d}-{self.closes // 60:02d}:{self.closes % 60:02d}"


@dataclass(frozen=True)
class CalendarSpec:
    """The team's calendar as the policy describes it; hashable so built calendars can be cached."""

    timezone: str = "Europe/London"
    hours: tuple[tuple[int, OpeningHours], ...] = tuple((day, OpeningHours(540, 1020)) for day in range(5))
    country: str | None = "GB"
    subdivision: str | None = "ENG"
    closures: frozenset[date] = field(default_factory=frozenset)
    day_rule: DayRule = DayRule.CLOSE_OF_BUSINESS

    @property
    def workdays(self) -> tuple[int, ...]:
        """Working weekdays, Monday = 0."""
        return tuple(day for day, _ in self.hours)

    def hours_on(self, weekday: int) -> OpeningHours | None:
        """Opening hours on a weekday (Monday = 0), or None when closed."""
        return dict(self.hours).get(weekday)


class OutsideCalendarSpan(InvalidInput):
    """An instant beyond the years the calendar was precomputed for."""


@dataclass(frozen=True, slots=True)
class DayInfo:
    """One calendar date as the team works it, for listings and explanations."""

    day: date
    opens: datetime | None
    closes: datetime | None
    note: str

    @property
    def is_working(self) -> bool:
        """True when the team is open on this date."""
        return self.opens is not None


@dataclass(frozen=True, slots=True)
class DueExplanation:
    """How a due time was reached, in words a support lead can check by hand."""

    start: datetime
    clock_start: datetime
    due: datetime
    working_days_counted: int
    working_seconds_counted: int
    days_skipped: tuple[DayInfo, ...]


class WorkingCalendar:
    """A business calendar precomputed over a span of years."""

    def __init__(self, spec: CalendarSpec, first_year: int, last_year: int) -> None:
        from supportcli.core.holiday_dates import public_holidays

        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self.first_day = date(first_year, 1, 1)
        self.last_day = date(last_year, 12, 31)
        self.holidays = public_holidays(spec.country, spec.subdivision, first_year, last_year)
        hours = dict(spec.hours)
        first_ordinal = self.first_day.toordinal()
        day_count = self.last_day.toordinal() - first_ordinal + 1
        self._first_ordinal = first_ordinal
        # Local midnights as epoch seconds: the local date of an instant is one bisection away.
        self._midnights = [self._epoch(date.fromordinal(first_ordinal + i), 0) for i in range(day_count + 1)]
        self._work_ordinals: list[int] = []
        self._opens: list[int] = []
        self._closes: list[int] = []
        self._cumulative: list[int] = [0]
        for i in range(day_count):
            day = date.fromordinal(first_ordinal + i)
            opening = hours.get(day.weekday())
            if opening is None or day in self.holidays or day in spec.closures:
                continue
            opens, closes = self._epoch(day, opening.opens), self._epoch(day, opening.closes)
            self._work_ordinals.append(first_ordinal + i)
            self._opens.append(opens)
            self._closes.append(closes)
            self._cumulative.append(self._cumulative[-1] + closes - opens)
        if not self._opens:
            raise InvalidInput("the calendar has no working time at all: check workdays, hours and closures")
        lengths = Counter(closes - opens for opens, closes in zip(self._opens, self._closes, strict=True))
        self.day_length_seconds = lengths.most_common(1)[0][0]

    STATE_FIELDS = ("_midnights", "_work_ordinals", "_opens", "_closes", "_cumulative")

    def state(self) -> dict[str, object]:
        """Everything the build computed, as JSON-ready data (for the on-disk cache)."""
        return {
            "first_year": self.first_day.year,
            "last_year": self.last_day.year,
            "holidays": sorted([day.isoformat(), name] for day, name in self.holidays.items()),
            "day_length_seconds": self.day_length_seconds,
            **{name.lstrip("_"): getattr(self, name) for name in self.STATE_FIELDS},
        }

    @classmethod
    def from_state(cls, spec: CalendarSpec, state: dict[str, object]) -> WorkingCalendar:
        """A calendar from ``state()`` data, without building (or importing ``holidays``).

        Raises ValueError (or TypeError/KeyError) when the data is not a consistent calendar.
        """
        calendar = cls.__new__(cls)
        calendar.spec = spec
        calendar.zone = ZoneInfo(spec.timezone)
        calendar.first_day = date(_int(state["first_year"]), 1, 1)
        calendar.last_day = date(_int(state["last_year"]), 12, 31)
        calendar._first_ordinal = calendar.first_day.toordinal()
        calendar.holidays = _holidays(state["holidays"])
        calendar.day_length_seconds = _int(state["day_length_seconds"])
        for name in cls.STATE_FIELDS:
            values = state[name.lstrip("_")]
            if not isinstance(values, list) or not all(type(value) is int for value in values):
                raise ValueError(f"calendar state: {name} is not a list of integers")
            setattr(calendar, name, values)
        day_count = calendar.last_day.toordinal() - calendar._first_ordinal + 1
        working = len(calendar._work_ordinals)
        if len(calendar._midnights) != day_count + 1 or not working:
            raise ValueError("calendar state: wrong number of days")
        if not (len(calendar._opens) == len(calendar._closes) == working == len(calendar._cumulative) - 1):
            raise ValueError("calendar state: working-day lists differ in length")
        return calendar

    def _epoch(self, day: date, minutes: int) -> int:
        """Epoch seconds of a wall-clock time on a local date (24:00 is the next midnight)."""
        if minutes >= 1440:
            day, minutes = day + timedelta(days=1), minutes - 1440
        return int(datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone).timestamp())

    # -- conversions -------------------------------------------------------

    def to_epoch(self, instant: datetime) -> int:
        """Whole epoch seconds of an aware instant, checked against the span."""
        if instant.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        seconds = math.floor(instant.timestamp())
        self._check_span(seconds)
        return seconds

    def to_local(self, seconds: float) -> datetime:
        """An aware datetime in the calendar's timezone."""
        return datetime.fromtimestamp(seconds, self.zone)

    @property
    def span(self) -> str:
        """The dates the calendar covers, as messages name them: ``2016-01-01 to 2036-12-31``."""
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"

    def covers(self, instant: datetime) -> bool:
        """Whether working time can be counted at an aware instant (it falls within the span)."""
        return self._midnights[0] <= instant.timestamp() < self._midnights[-1]

    def _check_span(self, seconds: float) -> None:
        if not self._midnights[0] <= seconds < self._midnights[-1]:
            shown = datetime.fromtimestamp(seconds, UTC).isoformat()
            raise OutsideCalendarSpan(f"{shown} is outside the working calendar's span {self.span}")

    def local_date(self, seconds: float) -> date:
        """The date of an instant in the calendar's timezone."""
        self._check_span(seconds)
        return date.fromordinal(self._first_ordinal + bisect_right(self._midnights, seconds) - 1)

    # -- positions on the working-time line --------------------------------

    def position(self, seconds: float) -> float:
        """Working seconds from the start of the span up to an instant."""
        self._check_span(seconds)
        i = bisect_right(self._opens, seconds) - 1
        if i < 0:
            return 0
        if seconds >= self._closes[i]:
            return self._cumulative[i + 1]
        return self._cumulative[i] + seconds - self._opens[i]

    def instant_at(self, position: float) -> float:
        """The instant a working-time position is reached; a closing time wins a tie with the next opening."""
        if position <= 0:
            return self._opens[0]
        if position > self._cumulative[-1]:
            raise OutsideCalendarSpan(f"the due time falls after the working calendar's span (ends {self.last_day})")
        i = bisect_left(self._cumulative, position) - 1
        return self._opens[i] + (position - self._cumulative[i])

    def clock_start_epoch(self, seconds: float) -> float:
        """The instant working time starts counting: itself if open, else the next opening."""
        self._check_span(seconds)
        i = bisect_right(self._opens, seconds) - 1
        if i >= 0 and seconds < self._closes[i]:
            return seconds
        if i + 1 >= len(self._opens):
            raise OutsideCalendarSpan(f"no opening after {self.to_local(seconds).isoformat()} within the calendar")
        return self._opens[i + 1]

    # -- due times ------------------------------------------------------------

    def due_epoch(self, start: float, duration: Duration) -> float:
        """Due instant (epoch seconds) of a target of ``duration`` started at ``start``."""
        unit = duration.unit
        if unit is Unit.WORKING_DAYS:
            if duration.amount == 0:
                return self._same_day_close(start)
            if self.spec.day_rule is DayRule.ELAPSED:
                clock_start = self.clock_start_epoch(start)
                i = bisect_right(self._opens, clock_start) - 1
                length = self._closes[i] - self._opens[i]
                return self.instant_at(self.position(clock_start) + duration.amount * length)
            return self._close_of_working_day(start, duration.amount)
        if unit is Unit.WORKING_HOURS or unit is Unit.WORKING_MINUTES:
            if duration.amount == 0:
                return self.clock_start_epoch(start)
            return self.instant_at(self.position(start) + duration.working_seconds)
        self._check_span(start)
        try:
            due = math.floor(duration.add_elapsed(datetime.fromtimestamp(start, UTC)).timestamp())
        except (OverflowError, ValueError) as exc:
            raise OutsideCalendarSpan(f"{duration} from then is beyond any date we can compute") from exc
        self._check_span(due)
        return due

    def _first_working_index_after(self, seconds: float) -> int:
        ordinal = self.local_date(seconds).toordinal()
        return bisect_right(self._work_ordinals, ordinal)

    def _close_of_working_day(self, start: float, n: int) -> int:
        index = self._first_working_index_after(start) + n - 1
        if index >= len(self._closes):
            raise OutsideCalendarSpan(f"the due time falls after the working calendar's span (ends {self.last_day})")
        return self._closes[index]

    def _same_day_close(self, start: float) -> int:
        index = self._first_working_index_after(start)
        today = index - 1
        if (
            today >= 0
            and self._work_ordinals[today] == self.local_date(start).toordinal()
            and start < self._closes[today]
        ):
            return self._closes[today]
        return self._close_of_working_day(start, 1)

    def due(self, start: datetime, duration: Duration) -> datetime:
        """Due time of a target started at ``start`` (docs/working-time.md), in the calendar's timezone."""
        return self.to_local(self.due_epoch(self.to_epoch(start), duration))

    def clock_start(self, instant: datetime) -> datetime:
        """When working time starts counting for something received at ``instant``."""
        return self.to_local(self.clock_start_epoch(self.to_epoch(instant)))

    # -- countdowns and pauses -------------------------------------------------

    def working_seconds_between(self, start: datetime, end: datetime) -> int:
        """Working seconds from ``start`` to ``end``; negative when ``end`` is earlier."""
        return int(self.position(self.to_epoch(end)) - self.position(self.to_epoch(start)))

    def remaining_seconds(self, now: datetime, due: datetime) -> int:
        """Working time left until ``due`` (negative when overdue): the countdown of docs/working-time.md."""
        return self.working_seconds_between(now, due)

    def resume_due(self, due: datetime, paused_at: datetime, resumed_at: datetime, duration: Duration) -> datetime:
        """New due time after a pause: the time left at the pause, counted from the resume."""
        if duration.is_working_time:
            left = self.position(self.to_epoch(due)) - self.position(self.to_epoch(paused_at))
            resumed = self.to_epoch(resumed_at)
            if left <= 0:  # nothing left: due as soon as the clock runs again, never before the resume
                return self.to_local(self.clock_start_epoch(resumed))
            return self.to_local(self.instant_at(self.position(resumed) + left))
        return self.to_local(self.to_epoch(resumed_at) + (self.to_epoch(due) - self.to_epoch(paused_at)))

    # -- listings and explanations ---------------------------------------------

    def day_info(self, day: date) -> DayInfo:
        """How the team works one date: opening hours, or why it is closed."""
        if not self.first_day <= day <= self.last_day:
            raise OutsideCalendarSpan(
                f"{day} is outside the working calendar's span {self.first_day} to {self.last_day}"
            )
        index = bisect_left(self._work_ordinals, day.toordinal())
        if index < len(self._work_ordinals) and self._work_ordinals[index] == day.toordinal():
            opens, closes = self.to_local(self._opens[index]), self.to_local(self._closes[index])
            return DayInfo(day, opens, closes, "")
        if day in self.spec.closures:
            note = "closure"
        elif day in self.holidays:
            note = self.holidays[day]
        else:
            note = "closed" if day.weekday() < 5 else "weekend"
        return DayInfo(day, None, None, note)

    def days(self, first: date, last: date) -> list[DayInfo]:
        """Every date from ``first`` to ``last`` inclusive."""
        return [self.day_info(first + timedelta(days=i)) for i in range((last - first).days + 1)]

    def explain(self, start: datetime, duration: Duration) -> DueExplanation:
        """The due time with what was counted and what was skipped on the way."""
        due = self.due(start, duration)
        clock_start = self.clock_start(start)
        first, last = self.local_date(self.to_epoch(start)), due.date()
        skipped = tuple(
            info for info in self.days(first, last) if not info.is_working and info.day.weekday() in self.spec.workdays
        )
        start_index = self._first_working_index_after(self.to_epoch(start))
        due_index = bisect_right(self._work_ordinals, due.date().toordinal())
        return DueExplanation(
            start=start.astimezone(self.zone),
            clock_start=clock_start,
            due=due,
            working_days_counted=max(0, due_index - start_index),
            working_seconds_counted=max(0, self.working_seconds_between(clock_start, due)),
            days_skipped=skipped,
        )


DEFAULT_YEARS_BACK = 10
DEFAULT_YEARS_AHEAD = 10


@cache
def calendar_for(
    spec: CalendarSpec, around_year: int, back: int = DEFAULT_YEARS_BACK, ahead: int = DEFAULT_YEARS_AHEAD
) -> WorkingCalendar:
    """The precomputed calendar for a spec, built once per process and span.

    With a cache directory configured (``supportcli.core.calendar_cache.configure``; the CLI does),
    a calendar built by an earlier process is read from disk instead, without importing ``holidays``.
    """
    from supportcli.core import calendar_cache

    first_year, last_year = around_year - back, around_year + ahead
    cached = calendar_cache.load(spec, first_year, last_year)
    if cached is not None:
        return cached
    calendar = WorkingCalendar(spec, first_year, last_year)
    calendar_cache.save(calendar)
    return calendar


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"calendar state: {value!r} is not an integer")
    return value


def _holidays(value: object) -> dict[date, str]:
    """The holidays of ``state()`` data: a list of [ISO date, name] pairs (else ValueError or TypeError)."""
    if not isinstance(value, list):
        raise ValueError("calendar state: holidays is not a list")
    return {date.fromisoformat(day): str(name) for day, name in value}
