"""Worked examples of the working-time engine (SPEC §3), each expected value reasoned by hand.

Unless a test says otherwise the calendar is the default one: Europe/London,
Mon–Fri 09:00–17:00, public holidays of GB/ENG from the pinned ``holidays``
package, precomputed 2016–2036 around 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportcli.core.calendar import (
    CalendarSpec,
    DayRule,
    OpeningHours,
    OutsideCalendarSpan,
    WorkingCalendar,
    calendar_for,
)
from supportcli.core.durations import Duration, Unit, parse_duration
from supportcli.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
GMT = timedelta(0)
BST = timedelta(hours=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock instant in London."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def cal_for(**spec: object) -> WorkingCalendar:
    """The precomputed calendar of a CalendarSpec built from keyword arguments."""
    return calendar_for(CalendarSpec(**spec), 2026)  # type: ignore[arg-type]


def due(start: datetime, duration: str, calendar: WorkingCalendar | None = None) -> datetime:
    """Due time of ``duration`` started at ``start``, on the default calendar unless one is given."""
    return (calendar or cal_for()).due(start, parse_duration(duration))


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return cal_for()


# -- SPEC §3 worked examples ----------------------------------------------------


@pytest.mark.parametrize(
    ("received", "target", "expected"),
    [
        (at(2026, 11, 23, 10), "1wd", at(2026, 11, 24, 17)),
        (at(2026, 11, 27, 16, 45), "1wd", at(2026, 11, 30, 17)),
        (at(2026, 11, 28, 11), "1wd", at(2026, 11, 30, 17)),
        (at(2026, 11, 27, 16), "4wh", at(2026, 11, 30, 12)),
        (at(2026, 11, 23, 18, 30), "0wd", at(2026, 11, 24, 17)),
        (at(2026, 12, 23, 12), "2wd", at(2026, 12, 29, 17)),
    ],
    ids=["mon-1wd", "fri-late-1wd", "sat-1wd", "fri-4wh", "mon-evening-0wd", "christmas-2wd"],
)
def test_spec_worked_examples(cal: WorkingCalendar, received: datetime, target: str, expected: datetime) -> None:
    result = cal.due(received, parse_duration(target))
    assert result == expected
    # Shown in the calendar's timezone with its offset (late November: GMT).
    assert result.tzinfo == LONDON
    assert result.utcoffset() == GMT


def test_spec_elapsed_day_rule_example() -> None:
    # Fri 16:45 has 15 minutes left; one 8h day of working time is 15m Fri + 7h45m Mon → Mon 16:45.
    elapsed = cal_for(day_rule=DayRule.ELAPSED)
    assert due(at(2026, 11, 27, 16, 45), "1wd", elapsed) == at(2026, 11, 30, 16, 45)


def test_elapsed_day_rule_skips_christmas() -> None:
    # Thu 24 Dec 10:00 + 2wd elapsed = 16h: Thu 10–17 (7h); 25, 26–27 (weekend), 28 skipped;
    # Tue 29 09–17 (8h, total 15h); Wed 30 09:00 + 1h → Wed 30 Dec 10:00.
    elapsed = cal_for(day_rule=DayRule.ELAPSED)
    assert due(at(2026, 12, 24, 10), "2wd", elapsed) == at(2026, 12, 30, 10)


# -- Easter 2026 -------------------------------------------------------------------


def test_easter_2026_england(cal: WorkingCalendar) -> None:
    # Good Friday 3 Apr and Easter Monday 6 Apr are both holidays in England.
    # Thu 2 Apr 12:00 + 1wd: day 1 is the first working day after Thu → Tue 7 Apr, closing 17:00 (BST).
    result = due(at(2026, 4, 2, 12), "1wd", cal)
    assert result == at(2026, 4, 7, 17)
    assert result.utcoffset() == BST
    # Thu 2 Apr 16:00 + 4wh: 1h on Thu, then 3h from Tue 09:00 → Tue 7 Apr 12:00.
    assert due(at(2026, 4, 2, 16), "4wh", cal) == at(2026, 4, 7, 12)


def test_easter_monday_is_a_working_day_in_scotland() -> None:
    # The holidays package (0.109) gives Good Friday but no Easter Monday for GB/SCT.
    scotland = cal_for(subdivision="SCT")
    assert date(2026, 4, 3) in scotland.holidays
    assert date(2026, 4, 6) not in scotland.holidays
    assert due(at(2026, 4, 2, 12), "1wd", scotland) == at(2026, 4, 6, 17)
    assert due(at(2026, 4, 2, 16), "4wh", scotland) == at(2026, 4, 6, 12)


# -- clock changes ---------------------------------------------------------------------


def test_autumn_clock_change_2026_working_hours(cal: WorkingCalendar) -> None:
    # Clocks go back Sun 25 Oct 2026 02:00 BST → 01:00 GMT.
    # Fri 23 Oct 16:00 BST + 4wh: 1h Fri (to 17:00 BST), 3h Mon from 09:00 GMT → Mon 26 Oct 12:00 GMT.
    start = at(2026, 10, 23, 16)
    result = due(start, "4wh", cal)
    assert result == at(2026, 10, 26, 12)
    assert result.utcoffset() == GMT
    assert start.utcoffset() == BST
    assert result.astimezone(UTC) == datetime(2026, 10, 26, 12, tzinfo=UTC)
    # Working hours are wall-clock hours: Fri 16:00 → Mon 12:00 is 68h on the wall clock but 69 real
    # hours (the night of the change has 25), and the extra hour falls outside opening hours.
    assert result.replace(tzinfo=None) - start.replace(tzinfo=None) == timedelta(hours=68)
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=69)
    assert cal.working_seconds_between(start, result) == 4 * 3600


def test_autumn_clock_change_2026_full_days(cal: WorkingCalendar) -> None:
    # Fri 23 Oct 09:00 BST + 16wh = a full Fri (8h) and a full Mon (8h) → Mon 26 Oct 17:00 GMT = 17:00Z.
    result = due(at(2026, 10, 23, 9), "16wh", cal)
    assert result == at(2026, 10, 26, 17)
    assert result.astimezone(UTC) == datetime(2026, 10, 26, 17, tzinfo=UTC)
    # Fri 23 Oct 12:00 BST + 1wd → closing of Mon 26 Oct, 17:00 GMT.
    assert due(at(2026, 10, 23, 12), "1wd", cal).astimezone(UTC) == datetime(2026, 10, 26, 17, tzinfo=UTC)
    # Friday closes at 17:00 BST = 16:00Z.
    assert due(at(2026, 10, 23, 9), "8wh", cal).astimezone(UTC) == datetime(2026, 10, 23, 16, tzinfo=UTC)


def test_spring_clock_change_2027_working_hours(cal: WorkingCalendar) -> None:
    # Clocks go forward Sun 28 Mar 2027 01:00 GMT → 02:00 BST; that weekend is also Easter
    # (Good Friday 26 Mar, Easter Monday 29 Mar in England).
    # Thu 25 Mar 16:00 GMT + 4wh: 1h Thu; Fri, Sat, Sun, Mon skipped; 3h Tue 30 Mar → 12:00 BST = 11:00Z.
    start = at(2027, 3, 25, 16)
    result = due(start, "4wh", cal)
    assert start.utcoffset() == GMT
    assert result == at(2027, 3, 30, 12)
    assert result.utcoffset() == BST
    assert result.astimezone(UTC) == datetime(2027, 3, 30, 11, tzinfo=UTC)
    assert cal.working_seconds_between(start, result) == 4 * 3600


def test_spring_clock_change_2027_scotland() -> None:
    # Same start in Scotland, where Easter Monday is worked: 3h on Mon 29 Mar → 12:00 BST.
    result = due(at(2027, 3, 25, 16), "4wh", cal_for(subdivision="SCT"))
    assert result == at(2027, 3, 29, 12)
    assert result.utcoffset() == BST


def test_calendar_units_across_clock_changes_are_elapsed(cal: WorkingCalendar) -> None:
    # 24 real hours from Sat 24 Oct 12:00 BST is Sun 25 Oct 11:00 GMT (the clocks went back an hour).
    result = due(at(2026, 10, 24, 12), "24h", cal)
    assert result == at(2026, 10, 25, 11)
    assert result.utcoffset() == GMT
    assert due(at(2026, 10, 24, 12), "1d", cal) == at(2026, 10, 25, 11)
    # 1d from Sat 27 Mar 2027 12:00 GMT is Sun 28 Mar 13:00 BST (the clocks went forward).
    result = due(at(2027, 3, 27, 12), "1d", cal)
    assert result == at(2027, 3, 28, 13)
    assert result.utcoffset() == BST


# -- Christmas and New Year 2026–27 --------------------------------------------------


def test_christmas_holidays_2026_england(cal: WorkingCalendar) -> None:
    # Holidays: Fri 25 Dec, Boxing Day Sat 26 observed Mon 28 Dec, Fri 1 Jan 2027.
    assert {date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)} <= set(cal.holidays)
    # Thu 24 Dec 10:00 + 1wd: 25, 26, 27, 28 closed → Tue 29 Dec 17:00.
    assert due(at(2026, 12, 24, 10), "1wd", cal) == at(2026, 12, 29, 17)
    # Thu 24 Dec 15:00 + 4wh: 2h Thu, 2h from Tue 29 09:00 → Tue 29 Dec 11:00.
    assert due(at(2026, 12, 24, 15), "4wh", cal) == at(2026, 12, 29, 11)
    # Thu 31 Dec 16:00 + 2wh: 1h Thu; Fri 1 Jan holiday; weekend; 1h Mon 4 Jan → 10:00.
    assert due(at(2026, 12, 31, 16), "2wh", cal) == at(2027, 1, 4, 10)
    # Wed 23 Dec 12:00 + 5wd: days 24, 29, 30, 31 Dec and 4 Jan → Mon 4 Jan 2027 17:00.
    assert due(at(2026, 12, 23, 12), "5wd", cal) == at(2027, 1, 4, 17)


# -- Scotland and Northern Ireland ----------------------------------------------------


def test_st_andrews_day_2026_scotland() -> None:
    # Mon 30 Nov 2026 is St Andrew's Day in Scotland only.
    scotland = cal_for(subdivision="SCT")
    assert scotland.holidays[date(2026, 11, 30)] == "Saint Andrew's Day"
    # SPEC example row 2 in Scotland: Fri 27 Nov 16:45 + 1wd → Mon is a holiday → Tue 1 Dec 17:00.
    assert due(at(2026, 11, 27, 16, 45), "1wd", scotland) == at(2026, 12, 1, 17)
    assert due(at(2026, 11, 27, 16), "4wh", scotland) == at(2026, 12, 1, 12)


def test_new_year_2027_scotland() -> None:
    # The holidays package (0.109) for GB/SCT: Fri 1 Jan "New Year's Day", Sat 2 Jan "New Year Holiday"
    # and Mon 4 Jan "New Year Holiday (observed)", the substitute for the 2nd falling on a Saturday.
    scotland = cal_for(subdivision="SCT")
    assert scotland.holidays[date(2027, 1, 2)] == "New Year Holiday"
    assert scotland.holidays[date(2027, 1, 4)] == "New Year Holiday (observed)"
    # Thu 31 Dec 10:00 + 1wd: Fri 1 and Mon 4 are holidays → Tue 5 Jan 17:00; in England Mon 4 Jan.
    assert due(at(2026, 12, 31, 10), "1wd", scotland) == at(2027, 1, 5, 17)
    assert due(at(2026, 12, 31, 10), "1wd") == at(2027, 1, 4, 17)


def test_battle_of_the_boyne_northern_ireland() -> None:
    northern_ireland = cal_for(subdivision="NIR")
    # 2027: 12 July is a Monday. Fri 9 Jul 12:00 + 1wd → Tue 13 Jul 17:00 BST (England: Mon 12 Jul).
    assert northern_ireland.holidays[date(2027, 7, 12)] == "Battle of the Boyne"
    result = due(at(2027, 7, 9, 12), "1wd", northern_ireland)
    assert result == at(2027, 7, 13, 17)
    assert result.utcoffset() == BST
    assert due(at(2027, 7, 9, 12), "1wd") == at(2027, 7, 12, 17)
    # 2026: 12 July is a Sunday, observed Mon 13 Jul. Fri 10 Jul 12:00 + 1wd → Tue 14 Jul 17:00.
    assert northern_ireland.holidays[date(2026, 7, 13)] == "Battle of the Boyne (observed)"
    assert due(at(2026, 7, 10, 12), "1wd", northern_ireland) == at(2026, 7, 14, 17)
    assert due(at(2026, 7, 10, 16), "4wh", northern_ireland) == at(2026, 7, 14, 12)
    assert northern_ireland.day_info(date(2026, 7, 12)).note == "Battle of the Boyne"
    assert northern_ireland.day_info(date(2026, 7, 13)).note == "Battle of the Boyne (observed)"


# -- 0wd, closing times and out-of-hours starts ------------------------------------------


def test_zero_working_days(cal: WorkingCalendar) -> None:
    # On a working day before closing: the same day's closing time (also before opening).
    assert due(at(2026, 11, 23, 10), "0wd", cal) == at(2026, 11, 23, 17)
    assert due(at(2026, 11, 23, 7), "0wd", cal) == at(2026, 11, 23, 17)
    assert due(at(2026, 11, 23, 16, 59), "0wd", cal) == at(2026, 11, 23, 17)
    # Exactly at closing is out of hours: the next working day's closing.
    assert due(at(2026, 11, 23, 17), "0wd", cal) == at(2026, 11, 24, 17)
    # Saturday and a holiday (Fri 25 Dec → 28 Dec holiday too → Tue 29 Dec).
    assert due(at(2026, 11, 28, 11), "0wd", cal) == at(2026, 11, 30, 17)
    assert due(at(2026, 12, 25, 10), "0wd", cal) == at(2026, 12, 29, 17)


@pytest.mark.parametrize(
    ("received", "clock_start", "one_hour_later"),
    [
        # Before opening: counting starts at 09:00 the same day.
        (at(2026, 11, 23, 7, 30), at(2026, 11, 23, 9), at(2026, 11, 23, 10)),
        # After closing, and exactly at closing: counting starts at the next opening.
        (at(2026, 11, 23, 17, 30), at(2026, 11, 24, 9), at(2026, 11, 24, 10)),
        (at(2026, 11, 23, 17), at(2026, 11, 24, 9), at(2026, 11, 24, 10)),
        # Weekend: Monday's opening.
        (at(2026, 11, 28, 11), at(2026, 11, 30, 9), at(2026, 11, 30, 10)),
        # Christmas Day (Fri), Boxing Day observed Mon 28: Tue 29 Dec's opening.
        (at(2026, 12, 25, 10), at(2026, 12, 29, 9), at(2026, 12, 29, 10)),
        # Within hours: the instant itself, to the second.
        (at(2026, 11, 23, 9, 0), at(2026, 11, 23, 9), at(2026, 11, 23, 10)),
        (at(2026, 11, 23, 12, 34), at(2026, 11, 23, 12, 34), at(2026, 11, 23, 13, 34)),
    ],
    ids=["before-opening", "after-closing", "at-closing", "weekend", "holiday", "at-opening", "open"],
)
def test_clock_start_out_of_hours(
    cal: WorkingCalendar, received: datetime, clock_start: datetime, one_hour_later: datetime
) -> None:
    assert cal.clock_start(received) == clock_start
    assert due(received, "1wh", cal) == one_hour_later
    assert due(received, "60wm", cal) == one_hour_later
    # 0wh is the clock start itself.
    assert due(received, "0wh", cal) == clock_start


def test_due_landing_on_closing_time_stays_there(cal: WorkingCalendar) -> None:
    # Mon 13:00 + 4wh = exactly Mon 17:00, the closing time, not Tue 09:00.
    assert due(at(2026, 11, 23, 13), "4wh", cal) == at(2026, 11, 23, 17)
    # A whole day from opening: Mon 09:00 + 8wh = Mon 17:00; + 480wm the same.
    assert due(at(2026, 11, 23, 9), "8wh", cal) == at(2026, 11, 23, 17)
    assert due(at(2026, 11, 23, 9), "480wm", cal) == at(2026, 11, 23, 17)
    # From out of hours: Sat + 8wh = Mon 17:00; Fri 16:00 + 9wh = 1h Fri + 8h Mon = Mon 17:00.
    assert due(at(2026, 11, 28, 11), "8wh", cal) == at(2026, 11, 30, 17)
    assert due(at(2026, 11, 27, 16), "9wh", cal) == at(2026, 11, 30, 17)
    # One minute more moves into the next day: Mon 13:00 + 241wm = Tue 09:01.
    assert due(at(2026, 11, 23, 13), "241wm", cal) == at(2026, 11, 24, 9, 1)


# -- per-weekday hours, Saturdays and closures ----------------------------------------------


SHORT_FRIDAY = CalendarSpec(
    hours=(
        (0, OpeningHours(540, 1020)),
        (1, OpeningHours(540, 1020)),
        (2, OpeningHours(540, 1020)),
        (3, OpeningHours(540, 1020)),
        (4, OpeningHours(540, 960)),
    )
)


def test_per_weekday_hours_short_friday() -> None:
    cal = calendar_for(SHORT_FRIDAY, 2026)
    assert cal.day_info(date(2026, 11, 27)).closes == at(2026, 11, 27, 16)
    # Thu 26 Nov 12:00 + 1wd → closing of Fri 27 Nov, which is 16:00.
    assert due(at(2026, 11, 26, 12), "1wd", cal) == at(2026, 11, 27, 16)
    # Fri 15:00 + 4wh: 1h Fri (to 16:00), 3h Mon → Mon 30 Nov 12:00.
    assert due(at(2026, 11, 27, 15), "4wh", cal) == at(2026, 11, 30, 12)
    # Fri 16:30 is already closed: 0wd → Mon 17:00; Fri 15:30 + 0wd → Fri 16:00.
    assert due(at(2026, 11, 27, 16, 30), "0wd", cal) == at(2026, 11, 30, 17)
    assert due(at(2026, 11, 27, 15, 30), "0wd", cal) == at(2026, 11, 27, 16)
    # Thu 09:00 + 16wh: 8h Thu + 7h Fri + 1h Mon → Mon 10:00.
    assert due(at(2026, 11, 26, 9), "16wh", cal) == at(2026, 11, 30, 10)


def test_saturday_morning_opening() -> None:
    # Mon–Fri 09:00–17:00 and Sat 10:00–13:00.
    hours = (*((day, OpeningHours(540, 1020)) for day in range(5)), (5, OpeningHours(600, 780)))
    cal = calendar_for(CalendarSpec(hours=hours), 2026)
    # Fri 27 Nov 12:00 + 1wd → Sat 28 Nov closing 13:00.
    assert due(at(2026, 11, 27, 12), "1wd", cal) == at(2026, 11, 28, 13)
    # Fri 16:00 + 4wh: 1h Fri, 3h Sat (10–13) → exactly Sat 13:00, the closing time.
    assert due(at(2026, 11, 27, 16), "4wh", cal) == at(2026, 11, 28, 13)
    # Sat 12:00 + 2wh: 1h Sat, 1h Mon → Mon 30 Nov 10:00; Sunday stays a weekend.
    assert due(at(2026, 11, 28, 12), "2wh", cal) == at(2026, 11, 30, 10)
    assert cal.day_info(date(2026, 11, 29)).note == "weekend"


def test_closures_are_skipped_like_holidays() -> None:
    # The office also closes 29–31 Dec 2026: with 25 and 28 Dec and 1 Jan, nothing opens
    # between Thu 24 Dec and Mon 4 Jan.
    closures = frozenset({date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)})
    cal = cal_for(closures=closures)
    # Wed 23 Dec 12:00 + 2wd: day 1 Thu 24, day 2 Mon 4 Jan → 17:00.
    assert due(at(2026, 12, 23, 12), "2wd", cal) == at(2027, 1, 4, 17)
    # Thu 24 Dec 16:00 + 2wh: 1h Thu, 1h Mon 4 Jan → 10:00.
    assert due(at(2026, 12, 24, 16), "2wh", cal) == at(2027, 1, 4, 10)
    assert cal.clock_start(at(2026, 12, 29, 10)) == at(2027, 1, 4, 9)
    assert cal.day_info(date(2026, 12, 30)).note == "closure"


# -- calendar units, countdowns and pauses --------------------------------------------------


def test_calendar_units_are_elapsed(cal: WorkingCalendar) -> None:
    # Plain elapsed time, working hours or not.
    assert due(at(2026, 11, 23, 10), "3d", cal) == at(2026, 11, 26, 10)
    assert due(at(2026, 11, 23, 10), "8h", cal) == at(2026, 11, 23, 18)
    assert due(at(2026, 11, 28, 11), "30min", cal) == at(2026, 11, 28, 11, 30)
    assert due(at(2026, 11, 25, 12), "1w", cal) == at(2026, 12, 2, 12)
    # 5d from Wed 23 Dec lands on Mon 28 Dec, a holiday: calendar units ignore the calendar.
    assert due(at(2026, 12, 23, 12), "5d", cal) == at(2026, 12, 28, 12)
    # Years keep the date: 2 years after Mon 23 Nov 2026 10:00 is Thu 23 Nov 2028 10:00.
    assert due(at(2026, 11, 23, 10), "2y", cal) == at(2028, 11, 23, 10)


def test_remaining_seconds_counts_down_and_goes_negative(cal: WorkingCalendar) -> None:
    target = due(at(2026, 11, 23, 10), "2wh", cal)
    assert target == at(2026, 11, 23, 12)
    # From Mon 10:30: 1h30 left.
    assert cal.remaining_seconds(at(2026, 11, 23, 10, 30), target) == 5400
    # On the due instant: zero.
    assert cal.remaining_seconds(target, target) == 0
    # Tue 10:00 is late by Mon 12–17 (5h) + Tue 09–10 (1h) = 6h of working time.
    assert cal.remaining_seconds(at(2026, 11, 24, 10), target) == -6 * 3600
    # Overnight and weekend do not count: Fri 16:00 → Mon 12:00 target leaves 4h.
    assert cal.remaining_seconds(at(2026, 11, 27, 16), at(2026, 11, 30, 12)) == 4 * 3600


def test_resume_due_after_pause(cal: WorkingCalendar) -> None:
    # Mon 23 Nov 10:00 + 8wh → Tue 24 10:00. Paused Mon 15:00 with 3h left (Mon 15–17, Tue 09–10).
    # Resumed Wed 25 16:00: 1h Wed, 2h Thu → Thu 26 Nov 11:00.
    hours_target = due(at(2026, 11, 23, 10), "8wh", cal)
    assert hours_target == at(2026, 11, 24, 10)
    resumed = cal.resume_due(hours_target, at(2026, 11, 23, 15), at(2026, 11, 25, 16), parse_duration("8wh"))
    assert resumed == at(2026, 11, 26, 11)
    # 1wd from Mon 10:00 → Tue 17:00. Paused Mon 15:00 with 10h left (2h Mon, 8h Tue).
    # Resumed Wed 16:00: 1h Wed, 8h Thu, 1h Fri → Fri 27 Nov 10:00.
    day_target = due(at(2026, 11, 23, 10), "1wd", cal)
    resumed = cal.resume_due(day_target, at(2026, 11, 23, 15), at(2026, 11, 25, 16), parse_duration("1wd"))
    assert resumed == at(2026, 11, 27, 10)
    # Resumed out of hours (Sat): the time left counts from Monday's opening → Mon 30 Nov 12:00 for 3h.
    resumed = cal.resume_due(hours_target, at(2026, 11, 23, 15), at(2026, 11, 28, 11), parse_duration("8wh"))
    assert resumed == at(2026, 11, 30, 12)
    # Calendar units move by the elapsed pause: 3d target paused 1 day in, resumed 2 days later.
    elapsed_target = due(at(2026, 11, 23, 10), "3d", cal)
    resumed = cal.resume_due(elapsed_target, at(2026, 11, 24, 10), at(2026, 11, 26, 10), parse_duration("3d"))
    assert resumed == at(2026, 11, 28, 10)


def test_resume_with_no_working_time_left_is_not_before_the_resume(cal: WorkingCalendar) -> None:
    # Sat 28 Nov 11:00 + 0wh is due at the clock start, Mon 30 Nov 09:00. Paused Sun 29 Nov 12:00, no
    # working time is left; resumed Tue 1 Dec 20:00. The engine answers Tue 1 Dec 17:00, three hours
    # before the resume; it must be no earlier than the resume: the next opening, Wed 2 Dec 09:00.
    target = due(at(2026, 11, 28, 11), "0wh", cal)
    assert target == at(2026, 11, 30, 9)
    resumed_at = at(2026, 12, 1, 20)
    assert cal.resume_due(target, at(2026, 11, 29, 12), resumed_at, parse_duration("0wh")) == at(2026, 12, 2, 9)


def test_explain_lists_holidays_and_counts_days(cal: WorkingCalendar) -> None:
    # SPEC example: Wed 23 Dec 12:00 + 2wd → Tue 29 Dec 17:00, skipping 25 and 28 Dec.
    explanation = cal.explain(at(2026, 12, 23, 12), parse_duration("2wd"))
    assert explanation.start == at(2026, 12, 23, 12)
    assert explanation.clock_start == at(2026, 12, 23, 12)
    assert explanation.due == at(2026, 12, 29, 17)
    assert explanation.working_days_counted == 2
    assert [(info.day, info.note) for info in explanation.days_skipped] == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),
    ]
    assert not any(info.is_working for info in explanation.days_skipped)
    # Working time counted: Wed 12–17 (5h), Thu 24 (8h), Tue 29 (8h) = 21h.
    assert explanation.working_seconds_counted == 21 * 3600


def test_explain_out_of_hours_start(cal: WorkingCalendar) -> None:
    # Sat 28 Nov 11:00 + 4wh: the clock starts Mon 09:00, due Mon 13:00; no weekday was skipped.
    explanation = cal.explain(at(2026, 11, 28, 11), parse_duration("4wh"))
    assert explanation.clock_start == at(2026, 11, 30, 9)
    assert explanation.due == at(2026, 11, 30, 13)
    assert explanation.working_seconds_counted == 4 * 3600
    assert explanation.days_skipped == ()


def test_day_info_notes(cal: WorkingCalendar) -> None:
    monday = cal.day_info(date(2026, 11, 23))
    assert monday.is_working
    assert (monday.opens, monday.closes, monday.note) == (at(2026, 11, 23, 9), at(2026, 11, 23, 17), "")
    saturday = cal.day_info(date(2026, 11, 28))
    assert (saturday.is_working, saturday.note) == (False, "weekend")
    christmas = cal.day_info(date(2026, 12, 25))
    assert (christmas.is_working, christmas.note) == (False, "Christmas Day")
    assert cal.day_info(date(2026, 4, 6)).note == "Easter Monday"
    # A holiday on a weekend is named rather than called a weekend.
    assert cal.day_info(date(2026, 12, 26)).note == "Boxing Day"
    closed = cal_for(closures=frozenset({date(2026, 11, 24)}))
    assert closed.day_info(date(2026, 11, 24)).note == "closure"
    assert [info.day.day for info in cal.days(date(2026, 11, 27), date(2026, 11, 30)) if info.is_working] == [27, 30]
    # Summer days open in BST.
    assert cal.day_info(date(2026, 7, 1)).opens.utcoffset() == BST  # type: ignore[union-attr]


# -- the span and bad input ------------------------------------------------------------------


def test_instant_outside_the_span_raises(cal: WorkingCalendar) -> None:
    # calendar_for(spec, 2026) covers 2016-01-01 to 2036-12-31.
    with pytest.raises(OutsideCalendarSpan) as caught:
        cal.due(datetime(2040, 1, 1, tzinfo=UTC), parse_duration("1wd"))
    assert isinstance(caught.value, InvalidInput)
    message = str(caught.value)
    assert "2040-01-01" in message
    assert "outside" in message
    assert "2016-01-01" in message
    assert "2036-12-31" in message
    with pytest.raises(OutsideCalendarSpan, match="2015-12-31"):
        cal.remaining_seconds(datetime(2015, 12, 31, 12, tzinfo=UTC), at(2026, 1, 5, 12))
    with pytest.raises(OutsideCalendarSpan, match="outside"):
        cal.day_info(date(2037, 1, 1))


def test_due_after_the_span_raises(cal: WorkingCalendar) -> None:
    # Wed 31 Dec 2036 is the last day of the span: its next working day is beyond it.
    with pytest.raises(OutsideCalendarSpan, match="after the working calendar's span"):
        due(at(2036, 12, 31, 10), "1wd", cal)
    with pytest.raises(OutsideCalendarSpan, match="after the working calendar's span"):
        due(at(2036, 12, 31, 16), "2wh", cal)
    with pytest.raises(OutsideCalendarSpan, match="outside"):
        due(at(2036, 12, 31, 10), "2d", cal)
    with pytest.raises(OutsideCalendarSpan):
        due(at(2026, 11, 23, 10), "100y", cal)


@pytest.mark.parametrize("text", ["99999y", "9999999999d"])
def test_huge_calendar_durations_raise_outside_span(cal: WorkingCalendar, text: str) -> None:
    # Past year 9999 datetime itself overflows: still a clear InvalidInput, not a ValueError/OverflowError.
    with pytest.raises(OutsideCalendarSpan, match="beyond"):
        due(at(2026, 11, 23, 10), text, cal)


def test_naive_instants_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.due(datetime(2026, 11, 23, 10), parse_duration("1wd"))


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no working time"):
        WorkingCalendar(CalendarSpec(hours=()), 2026, 2026)


def test_calendar_for_is_built_once_per_spec() -> None:
    assert calendar_for(CalendarSpec(), 2026) is calendar_for(CalendarSpec(), 2026)


# -- parse_duration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5wd", Duration(5, Unit.WORKING_DAYS)),
        ("0wd", Duration(0, Unit.WORKING_DAYS)),
        ("4wh", Duration(4, Unit.WORKING_HOURS)),
        ("30wm", Duration(30, Unit.WORKING_MINUTES)),
        ("30min", Duration(30, Unit.MINUTES)),
        ("8h", Duration(8, Unit.HOURS)),
        ("3d", Duration(3, Unit.DAYS)),
        ("1w", Duration(1, Unit.WEEKS)),
        ("2y", Duration(2, Unit.YEARS)),
        ("5 working days", Duration(5, Unit.WORKING_DAYS)),
        ("1 working day", Duration(1, Unit.WORKING_DAYS)),
        ("5 business days", Duration(5, Unit.WORKING_DAYS)),
        ("4 working hours", Duration(4, Unit.WORKING_HOURS)),
        ("1 business hour", Duration(1, Unit.WORKING_HOURS)),
        ("30 working minutes", Duration(30, Unit.WORKING_MINUTES)),
        ("30 minutes", Duration(30, Unit.MINUTES)),
        ("8 hours", Duration(8, Unit.HOURS)),
        ("3 days", Duration(3, Unit.DAYS)),
        ("1 week", Duration(1, Unit.WEEKS)),
        ("2 weeks", Duration(2, Unit.WEEKS)),
        ("2 years", Duration(2, Unit.YEARS)),
        ("1 year", Duration(1, Unit.YEARS)),
        ("4 WH", Duration(4, Unit.WORKING_HOURS)),
        ("  5 wd  ", Duration(5, Unit.WORKING_DAYS)),
        ("5  Working   Days", Duration(5, Unit.WORKING_DAYS)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


def test_duration_str_round_trips() -> None:
    for unit in Unit:
        assert parse_duration(str(Duration(7, unit))) == Duration(7, unit)


@pytest.mark.parametrize("text", ["", "   ", "5", "wd", "5 fortnights", "-1wd", "1.5wd", "5 s", "wd5", "5wdx"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "1wd" in message  # the message shows what would work


def test_parse_duration_rejects_non_text() -> None:
    with pytest.raises(InvalidInput):
        parse_duration(5)  # type: ignore[arg-type]
