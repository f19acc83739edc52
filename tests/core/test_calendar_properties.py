"""Property tests of the working-time engine against independent oracles (SPEC §3: "must be exact").

- Close-of-business day targets against ``numpy.busday_offset``, with holidays
  taken straight from the ``holidays`` package rather than from the engine.
- Hour and minute targets against a brute-force walk, minute by minute, through
  local wall-clock time (including both clock changes of 2026–27).
- Round trips, pauses and the elapsed day rule against the engine's own
  countdown arithmetic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportcli.core.calendar import CalendarSpec, DayRule, OpeningHours, calendar_for
from supportcli.core.durations import Duration, Unit

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BRUTE_FORCE_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

WEEKDAYS_9_TO_5 = tuple((day, OpeningHours(540, 1020)) for day in range(5))
MON_TO_SAT = (*WEEKDAYS_9_TO_5, (5, OpeningHours(600, 780)))  # Saturday 10:00–13:00
SHORT_FRIDAY = (*WEEKDAYS_9_TO_5[:4], (4, OpeningHours(540, 960)))  # Friday closes at 16:00
CLOSURES = frozenset(
    {
        date(2024, 8, 12),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2028, 6, 10),  # a Saturday: matters only where Saturday is worked
        date(2030, 4, 23),
    }
)

SPECS = {
    "ENG": CalendarSpec(),
    "SCT": CalendarSpec(subdivision="SCT"),
    "NIR": CalendarSpec(subdivision="NIR"),
    "ENG-mon-sat-closures": CalendarSpec(hours=MON_TO_SAT, closures=CLOSURES),
    "SCT-short-friday-closures": CalendarSpec(hours=SHORT_FRIDAY, subdivision="SCT", closures=CLOSURES),
}
SPEC_PARAMS = pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())

LONDON = ZoneInfo("Europe/London")
FIRST = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())
LAST = int(datetime(2031, 12, 31, tzinfo=UTC).timestamp())
# Sun 25 Oct 2026 01:00Z (BST → GMT) and Sun 28 Mar 2027 01:00Z (GMT → BST).
CLOCK_CHANGES = (
    int(datetime(2026, 10, 25, 1, tzinfo=UTC).timestamp()),
    int(datetime(2027, 3, 28, 1, tzinfo=UTC).timestamp()),
)

any_second = st.integers(FIRST, LAST)
any_minute = st.integers(FIRST // 60, LAST // 60).map(lambda minute: minute * 60)
# Whole minutes within five days either side of a clock change.
near_clock_change = st.builds(
    lambda change, offset: change + 60 * offset, st.sampled_from(CLOCK_CHANGES), st.integers(-7200, 7200)
)


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@cache
def closed_dates(spec: CalendarSpec) -> frozenset[date]:
    """Holidays straight from the ``holidays`` package, plus the spec's closures: not the engine's copy."""
    found = holidays.country_holidays(spec.country, subdiv=spec.subdivision, years=range(2016, 2037))
    return frozenset(found) | spec.closures


@cache
def busday_calendar(spec: CalendarSpec) -> np.busdaycalendar:
    weekmask = [day in spec.workdays for day in range(7)]
    return np.busdaycalendar(weekmask=weekmask, holidays=sorted(closed_dates(spec)))


def test_engine_holidays_match_the_package() -> None:
    for spec in SPECS.values():
        engine = calendar_for(spec, 2026)
        assert frozenset(engine.holidays) | spec.closures == closed_dates(spec)


# -- close-of-business working days vs numpy.busday_offset ---------------------------------


@SPEC_PARAMS
@SETTINGS
@given(start=any_second, days=st.integers(1, 60))
def test_working_days_match_numpy_busday_offset(spec: CalendarSpec, start: int, days: int) -> None:
    cal = calendar_for(spec, 2026)
    zone = ZoneInfo(spec.timezone)
    local_day = datetime.fromtimestamp(start, zone).date()
    # With roll="backward" a non-working date rolls back to the working day before it, whose
    # N-th successor is the N-th working day after the date itself: "day 0 is the date of t".
    expected_day = np.busday_offset(local_day, days, roll="backward", busdaycal=busday_calendar(spec)).item()
    closes = spec.hours_on(expected_day.weekday())
    assert closes is not None
    expected = datetime.combine(expected_day, time(closes.closes // 60, closes.closes % 60), tzinfo=zone)
    result = cal.due(utc(start), Duration(days, Unit.WORKING_DAYS))
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()


@SPEC_PARAMS
@SETTINGS
@given(start=st.one_of(any_second, near_clock_change))
def test_zero_working_days_is_same_day_close_or_next(spec: CalendarSpec, start: int) -> None:
    cal = calendar_for(spec, 2026)
    zone = ZoneInfo(spec.timezone)
    local = datetime.fromtimestamp(start, zone)
    opening = spec.hours_on(local.weekday())
    closes_today = (
        datetime.combine(local.date(), time(opening.closes // 60, opening.closes % 60), tzinfo=zone)
        if opening is not None and local.date() not in closed_dates(spec)
        else None
    )
    if closes_today is not None and local < closes_today:
        expected = closes_today
    else:
        expected = cal.due(utc(start), Duration(1, Unit.WORKING_DAYS))
    assert cal.due(utc(start), Duration(0, Unit.WORKING_DAYS)) == expected


# -- working hours and minutes vs a minute-by-minute walk ----------------------------------


def walk_working_minutes(spec: CalendarSpec, start: int, minutes: int) -> int:
    """Brute force: step one real minute at a time; a minute counts when its local start is open."""
    zone, hours, closed = ZoneInfo(spec.timezone), dict(spec.hours), closed_dates(spec)
    counted, instant = 0, start
    while True:
        local = datetime.fromtimestamp(instant, zone)
        opening = hours.get(local.weekday())
        if (
            opening is not None
            and local.date() not in closed
            and opening.opens <= local.hour * 60 + local.minute < opening.closes
        ):
            counted += 1
            if counted == minutes:
                return instant + 60
        instant += 60


working_amounts = st.one_of(
    st.integers(1, 3 * 24 * 60).map(lambda n: Duration(n, Unit.WORKING_MINUTES)),
    st.integers(1, 72).map(lambda n: Duration(n, Unit.WORKING_HOURS)),
)


@SPEC_PARAMS
@BRUTE_FORCE_SETTINGS
@given(start=st.one_of(any_minute, near_clock_change), duration=working_amounts)
def test_working_time_matches_minute_walk(spec: CalendarSpec, start: int, duration: Duration) -> None:
    cal = calendar_for(spec, 2026)
    expected = walk_working_minutes(spec, start, duration.working_seconds // 60)
    result = cal.due(utc(start), duration)
    assert result == utc(expected)
    assert result.utcoffset() == datetime.fromtimestamp(expected, ZoneInfo(spec.timezone)).utcoffset()


# -- round trips, pauses and the elapsed day rule ------------------------------------------


@SPEC_PARAMS
@SETTINGS
@given(start=st.one_of(any_second, near_clock_change), hours=st.integers(1, 500))
def test_countdown_from_clock_start_is_the_whole_target(spec: CalendarSpec, start: int, hours: int) -> None:
    cal = calendar_for(spec, 2026)
    target = cal.due(utc(start), Duration(hours, Unit.WORKING_HOURS))
    assert cal.remaining_seconds(cal.clock_start(utc(start)), target) == hours * 3600
    assert cal.remaining_seconds(utc(start), target) == hours * 3600
    assert cal.remaining_seconds(target, cal.clock_start(utc(start))) == -hours * 3600


@SPEC_PARAMS
@SETTINGS
@given(data=st.data())
def test_position_and_instant_at_round_trip(spec: CalendarSpec, data: st.DataObject) -> None:
    cal = calendar_for(spec, 2026)
    position = data.draw(st.integers(int(cal.position(FIRST)), int(cal.position(LAST))))
    instant = cal.instant_at(position)
    assert cal.position(instant) == position
    # The instant is open time or a closing time: never strictly inside a closed stretch.
    assert cal.clock_start_epoch(instant - 1) == instant - 1


@SPEC_PARAMS
@SETTINGS
@given(
    start=st.one_of(any_second, near_clock_change),
    duration=st.one_of(
        st.integers(1, 20).map(lambda n: Duration(n, Unit.WORKING_DAYS)),
        st.integers(1, 100).map(lambda n: Duration(n, Unit.WORKING_HOURS)),
        st.integers(1, 6000).map(lambda n: Duration(n, Unit.WORKING_MINUTES)),
    ),
    pause_fraction=st.floats(0, 1, exclude_max=True),
    pause_length=st.integers(0, 30 * 86400),
)
def test_resume_moves_the_due_time_by_the_working_time_paused(
    spec: CalendarSpec, start: int, duration: Duration, pause_fraction: float, pause_length: int
) -> None:
    cal = calendar_for(spec, 2026)
    due = cal.due(utc(start), duration)
    paused = utc(start + int((due.timestamp() - start) * pause_fraction))
    assert paused < due  # the target is still pending when paused
    resumed = paused + timedelta(seconds=pause_length)
    new_due = cal.resume_due(due, paused, resumed, duration)
    assert cal.working_seconds_between(due, new_due) == cal.working_seconds_between(paused, resumed)
    # The target keeps the working time it had left, counted from the resume.
    assert cal.working_seconds_between(resumed, new_due) == cal.working_seconds_between(paused, due)
    assert new_due > resumed


UNIFORM_DAYS = {
    "09-17": WEEKDAYS_9_TO_5,
    "07-19-mon-sat": tuple((day, OpeningHours(420, 1140)) for day in range(6)),
}


@pytest.mark.parametrize("hours", UNIFORM_DAYS.values(), ids=UNIFORM_DAYS.keys())
@SETTINGS
@given(start=st.one_of(any_second, near_clock_change), days=st.integers(1, 60))
def test_elapsed_day_rule_is_days_times_day_length(
    hours: tuple[tuple[int, OpeningHours], ...], start: int, days: int
) -> None:
    elapsed = calendar_for(CalendarSpec(hours=hours, day_rule=DayRule.ELAPSED), 2026)
    close_of_business = calendar_for(CalendarSpec(hours=hours), 2026)
    day_hours = (hours[0][1].closes - hours[0][1].opens) // 60
    expected = close_of_business.due(utc(start), Duration(days * day_hours, Unit.WORKING_HOURS))
    assert elapsed.due(utc(start), Duration(days, Unit.WORKING_DAYS)) == expected
