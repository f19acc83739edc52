"""What a user types for a time option (``--received``, ``--at``, ``--until``…) as an instant.

Support staff log things after the fact and set dates ahead, so besides ISO 8601
we accept the short forms people type at a terminal: ``now``, ``today 14:00``,
``yesterday 16:45``, ``mon 09:30``, ``2h ago``, ``+3wd``. Every result is an
aware datetime in the calendar's timezone. ``now`` is always passed in (the
injected clock), so a parse is repeatable in tests and replays.

Each option says which way its words look (:class:`Looking`): back for what already happened
(``--received``, ``--at``), ahead for what is planned (``--until``, ``--next``). Every instant is checked
against the working calendar's span here, so a time no countdown could use is refused where it is typed
(docs/working-time.md, "The calendar's span").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeAlias

from supportcli.core.calendar import DEFAULT_YEARS_AHEAD, WEEKDAYS, WorkingCalendar
from supportcli.core.durations import Duration, parse_duration
from supportcli.errors import InvalidInput

WHEN_HELP = "use ISO 8601 (2026-11-23 14:00) or now, today 14:00, yesterday 16:45, mon 09:30, 2h ago, +3wd"

_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
_OPTIONAL_CLOCK = rf"(?:\s+(?:at\s+)?(?P<clock>{_CLOCK}))?"
_BARE_CLOCK = re.compile(rf"(?P<clock>{_CLOCK})")
_DAY_WORD = re.compile(rf"(?P<word>today|yesterday|tomorrow){_OPTIONAL_CLOCK}")
_WEEKDAY = re.compile(rf"(?:(?P<direction>next|last)\s+)?(?P<name>[a-z]+){_OPTIONAL_CLOCK}")
_PAST = re.compile(r"(?P<span>\d.*?)\s+ago|-\s*(?P<minus>\d.*)")
_FUTURE = re.compile(r"(?:\+\s*|in\s+)(?P<span>\d.*)")
_BARE_MINUTES = re.compile(r"(\d+)\s*m")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")

_DAY_OFFSETS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_WEEKDAY_NUMBERS: dict[str, int] = {
    **{name: number for number, name in enumerate(WEEKDAYS)},
    **{
        name: number
        for number, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}


class Looking(StrEnum):
    """Which way an option's time words point; each time option declares one (README, "Time words")."""

    BACK = "back"  # what already happened: --received, --at, report and list ranges
    AHEAD = "ahead"  # what is planned: --until, --next, staff away --until


@dataclass(frozen=True, slots=True)
class When:
    """What a time option named: the instant, and a note when a choice was made for the user to hear of."""

    instant: datetime
    note: str | None = None


# A parser's result: an instant, or a date given without a time of day (which direction decides, see _on_day).
_Parsed: TypeAlias = datetime | date
_Parser: TypeAlias = Callable[[str, datetime, WorkingCalendar, Looking], _Parsed | None]

FIRST_CLOCK_YEAR = 1970  # the built-in policy is in effect from 1970-01-01: nothing earlier has a policy
LAST_CLOCK_YEAR = 9999 - DEFAULT_YEARS_AHEAD - 1  # a calendar spans years ahead of now: they must be dates


def parse_clock_setting(text: str) -> datetime:
    """``SUPPORTCLI_NOW``: an ISO 8601 instant (perhaps naive) in the years a working calendar can be built around.

    A calendar covers years either side of now (docs/working-time.md, "The calendar's span"), so a clock
    too near the ends of the calendar Python can count is refused here with one line, not halfway through.
    """
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"bad SUPPORTCLI_NOW {text!r}: use an ISO 8601 instant like 2026-11-23T10:00+00:00"
        ) from None
    if not FIRST_CLOCK_YEAR <= value.year <= LAST_CLOCK_YEAR:
        raise InvalidInput(f"bad SUPPORTCLI_NOW {text!r}: the year must be {FIRST_CLOCK_YEAR} to {LAST_CLOCK_YEAR}")
    return value


def parse_when(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking = Looking.BACK) -> datetime:
    """The instant ``text`` names, as an aware datetime in ``calendar.zone`` (see :func:`read_when`)."""
    return read_when(text, now, calendar, looking).instant


def read_when(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking = Looking.BACK) -> When:
    """The instant ``text`` names, as an aware datetime in ``calendar.zone``, with any note on how it was read.

    Accepted (case-insensitive): ISO 8601 date-times, naive ones in the calendar's
    timezone, and a date alone; ``now``; ``today``/``yesterday``/``tomorrow`` with an
    optional time; a bare time; weekday names with an optional time; ``2h ago``/``-2h``;
    ``+3wd``/``in 2 hours``.

    Looking back (the default), a weekday name (``mon 09:30``) means the most recent
    such day on or before today: typed on a Tuesday it is yesterday, typed on a Monday
    it is today; a bare time is today; a date without a time is its local midnight.
    Looking ahead, a weekday name or bare time means the next one still to come (``fri
    12:00`` typed on Friday afternoon is a week away), and a date without a time means
    that day's closing time on the calendar; on a day the team is closed, the end of that
    day (the next midnight), which the note says. ``next mon`` is the first Monday
    strictly after today, ``last mon`` the last one strictly before, either way.

    Working units ahead (``+3wd``, ``in 4 working hours``) follow the target rules
    of docs/working-time.md (``+3wd`` is the closing time of the 3rd working day after today);
    calendar units are elapsed time, so ``+1d`` across a clock change is 24 hours.
    In ``45m ago`` and ``+45m``, ``m`` means minutes. A local time that a clock
    change skips or repeats resolves as zoneinfo's ``fold=0`` does.

    An instant outside the calendar's span is refused (InvalidInput, naming the span):
    no due time or countdown could be counted from it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(text, str):
        raise _bad(text)
    cleaned = " ".join(text.split()).lower()
    try:
        for parser in _PARSERS:
            result = parser(cleaned, now, calendar, looking)
            if result is not None:
                when = _on_day(result, calendar, looking) if not isinstance(result, datetime) else When(result)
                instant = _in_zone(when.instant, calendar)
                break
        else:
            raise _bad(text)
    except _Unreadable as error:
        raise _bad(text, error.hint) from None
    except (ValueError, OverflowError):
        raise _bad(text) from None
    if not calendar.covers(instant):
        raise InvalidInput(
            f"{text!r} is {instant.isoformat()}, outside the working calendar's span {calendar.span} "
            "(see docs/working-time.md)"
        )
    return When(instant, when.note)


def _on_day(day: date, calendar: WorkingCalendar, looking: Looking) -> When:
    """A date given without a time: its local midnight looking back; looking ahead its closing time, or on a day
    the team is closed the end of the day (the next midnight), with a note saying so."""
    midnight = _at(day, None, calendar)
    if looking is Looking.BACK or not calendar.covers(midnight):
        return When(midnight)  # outside the span: refused by the caller, naming the span
    info = calendar.day_info(day)
    if info.closes is not None:
        return When(info.closes)
    end = _at(day + timedelta(days=1), None, calendar)
    why = info.note or "closed"
    return When(
        end, f"{day:%a %Y-%m-%d} is not a working day ({why}): read as the end of that day, {end:%Y-%m-%d %H:%M}"
    )


class _Unreadable(Exception):
    """Raised by a parser that recognised the form but not the values, with a hint for the user."""

    def __init__(self, hint: str = WHEN_HELP) -> None:
        super().__init__(hint)
        self.hint = hint


def _bad(text: object, hint: str = WHEN_HELP) -> InvalidInput:
    """The one-line error naming what the user typed, with examples of what works."""
    return InvalidInput(f"bad date/time {text!r}: {hint}")


def _in_zone(instant: datetime, calendar: WorkingCalendar) -> datetime:
    """The same instant shown in the calendar's zone, with the offset really in force then.

    Going through UTC matters: ``astimezone`` to the datetime's own zone is a
    no-op, which would keep a skipped local time such as 01:30 on the spring
    clock change instead of showing the instant as 02:30+01:00.
    """
    return instant.astimezone(UTC).astimezone(calendar.zone)


def _local_date(now: datetime, calendar: WorkingCalendar) -> date:
    """Today's date where the team works, which is what ``today`` and ``mon`` count from."""
    return now.astimezone(calendar.zone).date()


def _clock(text: str | None) -> time:
    """A wall-clock time ``9:30``, ``14:00`` or ``14:00:30``; missing means midnight.

    Out-of-range values (``25:00``) raise ValueError, which parse_when reports as bad input.
    """
    if text is None:
        return time(0, 0)
    hour, minute, *second = (int(part) for part in text.split(":"))  # _CLOCK: hours, minutes, maybe seconds
    return time(hour, minute, second[0] if second else 0)


def _at(day: date, clock_text: str | None, calendar: WorkingCalendar) -> datetime:
    """A local wall-clock time on a date in the calendar's zone (``fold=0`` at clock changes)."""
    return datetime.combine(day, _clock(clock_text), tzinfo=calendar.zone)


def _day_or_time(day: date, clock_text: str | None, calendar: WorkingCalendar) -> _Parsed:
    """A date with a time of day as an instant; without one the date itself (its direction decides)."""
    return day if clock_text is None else _at(day, clock_text, calendar)


def _still_to_come(
    day: date, clock_text: str | None, now: datetime, calendar: WorkingCalendar, step: timedelta
) -> _Parsed:
    """Looking ahead: ``day`` (at its time, or its closing time), moved on by ``step`` until that is after now."""
    while True:
        found = _day_or_time(day, clock_text, calendar)
        moment = found if isinstance(found, datetime) else _on_day(found, calendar, Looking.AHEAD).instant
        if moment > now:
            return found
        day += step


def _parse_now(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    return now if text == "now" else None


def _parse_bare_clock(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    """``14:00``: today at that time; looking ahead, tomorrow once today's has passed."""
    match = _BARE_CLOCK.fullmatch(text)
    if match is None:
        return None
    today = _local_date(now, calendar)
    if looking is Looking.AHEAD:
        return _still_to_come(today, match["clock"], now, calendar, timedelta(days=1))
    return _at(today, match["clock"], calendar)


def _parse_day_word(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    """``today``, ``yesterday 16:45``, ``tomorrow at 9:30``."""
    match = _DAY_WORD.fullmatch(text)
    if match is None:
        return None
    day = _local_date(now, calendar) + timedelta(days=_DAY_OFFSETS[match["word"]])
    return _day_or_time(day, match["clock"], calendar)


def _parse_weekday(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    """``mon 09:30`` (looking back: on or before today; ahead: the next one to come), ``next fri``,
    ``last monday 14:00``."""
    match = _WEEKDAY.fullmatch(text)
    if match is None or match["name"] not in _WEEKDAY_NUMBERS:
        return None
    today = _local_date(now, calendar)
    days_back = (today.weekday() - _WEEKDAY_NUMBERS[match["name"]]) % 7
    if match["direction"] == "next":
        day = today + timedelta(days=7 - days_back)
    elif match["direction"] == "last":
        day = today - timedelta(days=days_back or 7)
    elif looking is Looking.AHEAD:
        return _still_to_come(today + timedelta(days=-days_back % 7), match["clock"], now, calendar, timedelta(days=7))
    else:
        day = today - timedelta(days=days_back)
    return _day_or_time(day, match["clock"], calendar)


def _span(text: str) -> Duration:
    """The duration in a relative form, reusing the policy syntax; a bare ``m`` is minutes."""
    minutes = _BARE_MINUTES.fullmatch(text)
    try:
        return parse_duration(f"{minutes[1]}min" if minutes else text)
    except InvalidInput:
        raise _Unreadable from None


def _elapsed(now: datetime, amount: int, duration: Duration) -> datetime:
    """``now`` moved by ``amount`` of a calendar unit, as elapsed time (added in UTC)."""
    return Duration(amount, duration.unit).add_elapsed(now.astimezone(UTC))


def _parse_past(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    """``2h ago``, ``3 days ago``, ``-45m``: elapsed time back from now."""
    match = _PAST.fullmatch(text)
    if match is None:
        return None
    duration = _span(match["span"] or match["minus"])
    if duration.is_working_time:
        raise _Unreadable("working time only counts forward; use calendar units such as 2h ago or 3d ago")
    return _elapsed(now, -duration.amount, duration)


def _parse_future(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    """``+3wd``, ``in 2 hours``: working units as a target would count them, others elapsed."""
    match = _FUTURE.fullmatch(text)
    if match is None:
        return None
    duration = _span(match["span"])
    if duration.is_working_time:
        return calendar.due(now, duration)
    return _elapsed(now, duration.amount, duration)


def _parse_iso(text: str, now: datetime, calendar: WorkingCalendar, looking: Looking) -> _Parsed | None:
    """ISO 8601 date or date-time; naive means the calendar's zone; a date alone is a date (see _on_day)."""
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=calendar.zone)
    return parsed


_PARSERS: tuple[_Parser, ...] = (
    _parse_now,
    _parse_bare_clock,
    _parse_day_word,
    _parse_weekday,
    _parse_past,
    _parse_future,
    _parse_iso,
)
