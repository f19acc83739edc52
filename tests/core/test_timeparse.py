"""parse_when: every accepted form of a time option, with expected instants worked out by hand.

Unless a test says otherwise, now is Tue 2026-11-24 11:20 in London (GMT, +00:00),
on the default calendar (Mon-Fri 09:00-17:00, England & Wales holidays).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportcli.core.calendar import CalendarSpec, WorkingCalendar, calendar_for
from supportcli.core.timeparse import Looking, parse_clock_setting, parse_when, read_when
from supportcli.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
TUESDAY_NOW = datetime(2026, 11, 24, 11, 20, tzinfo=LONDON)
CALENDAR = calendar_for(CalendarSpec(), 2026)


def london(*fields: int) -> datetime:
    """A London wall-clock time (fold=0), the form every expected value is written in."""
    return datetime(*fields, tzinfo=LONDON)


def parse(text: str, now: datetime = TUESDAY_NOW, calendar: WorkingCalendar = CALENDAR) -> datetime:
    """Parse and check the result is shown in the calendar's zone with the offset in force."""
    result = parse_when(text, now, calendar)
    assert result.tzinfo == calendar.zone
    assert result.utcoffset() == calendar.zone.utcoffset(result.replace(tzinfo=None))
    return result


def assert_instant(result: datetime, expected: datetime, offset_hours: int) -> None:
    """Same instant and the offset a London user expects to see at that date.

    Timestamps, not ``==``: Python calls any two datetimes in different zones
    unequal when one of them falls in a repeated hour (PEP 495).
    """
    assert result.timestamp() == expected.timestamp()
    assert result.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T10:00", london(2026, 11, 23, 10, 0)),
        ("2026-11-23 10:00", london(2026, 11, 23, 10, 0)),
        ("2026-11-23T10:00:00+00:00", london(2026, 11, 23, 10, 0)),
        ("2026-11-23T10:00Z", london(2026, 11, 23, 10, 0)),
        ("2026-11-23t10:00z", london(2026, 11, 23, 10, 0)),
        ("2026-11-23T10:00:00+05:00", london(2026, 11, 23, 5, 0)),
        ("2026-11-23", london(2026, 11, 23, 0, 0)),
        ("  2026-11-23 10:00\t", london(2026, 11, 23, 10, 0)),
    ],
)
def test_iso_8601_in_winter(text: str, expected: datetime) -> None:
    assert_instant(parse(text), expected, 0)


def test_naive_iso_in_summer_is_london_summer_time() -> None:
    assert_instant(parse("2026-07-01 10:00"), london(2026, 7, 1, 10, 0), 1)


def test_utc_iso_in_summer_is_shown_in_london() -> None:
    result = parse("2026-07-01T10:00Z")
    assert_instant(result, london(2026, 7, 1, 11, 0), 1)
    assert result.hour == 11


def test_now_is_the_injected_clock() -> None:
    assert parse("now") == TUESDAY_NOW
    assert parse(" NOW ") == TUESDAY_NOW


def test_now_given_in_utc_is_shown_in_london() -> None:
    result = parse("now", now=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert_instant(result, london(2026, 7, 1, 13, 0), 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", london(2026, 11, 24, 0, 0)),
        ("today 14:00", london(2026, 11, 24, 14, 0)),
        ("today 14:00:30", london(2026, 11, 24, 14, 0, 30)),
        ("TODAY 9:30", london(2026, 11, 24, 9, 30)),
        ("today at 14:00", london(2026, 11, 24, 14, 0)),
        ("yesterday", london(2026, 11, 23, 0, 0)),
        ("yesterday 16:45", london(2026, 11, 23, 16, 45)),
        ("tomorrow", london(2026, 11, 25, 0, 0)),
        ("tomorrow 9:30", london(2026, 11, 25, 9, 30)),
        ("14:00", london(2026, 11, 24, 14, 0)),
        ("9:30", london(2026, 11, 24, 9, 30)),
        ("08:05:09", london(2026, 11, 24, 8, 5, 9)),
    ],
)
def test_day_words_and_bare_times(text: str, expected: datetime) -> None:
    assert_instant(parse(text), expected, 0)


def test_today_is_the_local_date_not_the_utc_date() -> None:
    # 23:30 UTC on 1 July is already 00:30 on 2 July in London.
    now = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert_instant(parse("today", now=now), london(2026, 7, 2, 0, 0), 1)
    assert_instant(parse("yesterday 16:45", now=now), london(2026, 7, 1, 16, 45), 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon 09:30", london(2026, 11, 23, 9, 30)),
        ("Monday 09:30", london(2026, 11, 23, 9, 30)),
        ("monday", london(2026, 11, 23, 0, 0)),
        ("tue 08:00", london(2026, 11, 24, 8, 0)),
        ("tuesday", london(2026, 11, 24, 0, 0)),
        ("wed 10:00", london(2026, 11, 18, 10, 0)),
        ("sun", london(2026, 11, 22, 0, 0)),
        ("fri at 16:45", london(2026, 11, 20, 16, 45)),
        ("next mon", london(2026, 11, 30, 0, 0)),
        ("next tue 9:00", london(2026, 12, 1, 9, 0)),
        ("next wed", london(2026, 11, 25, 0, 0)),
        ("last mon", london(2026, 11, 23, 0, 0)),
        ("last tue 14:00", london(2026, 11, 17, 14, 0)),
        ("last wed", london(2026, 11, 18, 0, 0)),
    ],
)
def test_weekdays_from_a_tuesday(text: str, expected: datetime) -> None:
    assert_instant(parse(text), expected, 0)


def test_weekday_typed_on_that_day_is_today() -> None:
    monday = london(2026, 11, 23, 11, 20)
    assert parse("mon 09:30", now=monday) == london(2026, 11, 23, 9, 30)
    assert parse("tue", now=monday) == london(2026, 11, 17, 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h ago", london(2026, 11, 24, 9, 20)),
        ("30min ago", london(2026, 11, 24, 10, 50)),
        ("45m ago", london(2026, 11, 24, 10, 35)),
        ("3d ago", london(2026, 11, 21, 11, 20)),
        ("1w ago", london(2026, 11, 17, 11, 20)),
        ("2 hours ago", london(2026, 11, 24, 9, 20)),
        ("3 days ago", london(2026, 11, 21, 11, 20)),
        ("10 minutes ago", london(2026, 11, 24, 11, 10)),
        ("1y ago", london(2025, 11, 24, 11, 20)),
        ("-2h", london(2026, 11, 24, 9, 20)),
        ("-45m", london(2026, 11, 24, 10, 35)),
    ],
)
def test_relative_past(text: str, expected: datetime) -> None:
    assert_instant(parse(text), expected, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Wed 25, Thu 26, Fri 27 are working days 1-3: closing time of the third.
        ("+3wd", london(2026, 11, 27, 17, 0)),
        ("in 3 working days", london(2026, 11, 27, 17, 0)),
        ("+0wd", london(2026, 11, 24, 17, 0)),
        ("+4wh", london(2026, 11, 24, 15, 20)),
        # 5h40m left today, 2h20m more from Wednesday's opening.
        ("+8wh", london(2026, 11, 25, 11, 20)),
        ("+30wm", london(2026, 11, 24, 11, 50)),
        ("+2d", london(2026, 11, 26, 11, 20)),
        ("+8h", london(2026, 11, 24, 19, 20)),
        ("+1w", london(2026, 12, 1, 11, 20)),
        ("+45m", london(2026, 11, 24, 12, 5)),
        ("in 2 hours", london(2026, 11, 24, 13, 20)),
    ],
)
def test_relative_future(text: str, expected: datetime) -> None:
    assert_instant(parse(text), expected, 0)


def test_working_days_ahead_skip_christmas() -> None:
    # SPEC §3 worked example: Wed 23 Dec + 2wd, 25 and 28 Dec are holidays.
    assert parse("+2wd", now=london(2026, 12, 23, 12, 0)) == london(2026, 12, 29, 17, 0)


def test_clock_change_offsets_follow_the_date() -> None:
    # Clocks go forward at 01:00 GMT on Sun 2027-03-28.
    sunday = london(2027, 3, 28, 10, 0)
    assert_instant(parse("yesterday 10:00", now=sunday), datetime(2027, 3, 27, 10, 0, tzinfo=UTC), 0)
    assert_instant(parse("today 10:00", now=sunday), datetime(2027, 3, 28, 9, 0, tzinfo=UTC), 1)
    monday = london(2027, 3, 29, 10, 0)
    assert_instant(parse("yesterday 00:30", now=monday), datetime(2027, 3, 28, 0, 30, tzinfo=UTC), 0)
    assert_instant(parse("yesterday 10:00", now=monday), datetime(2027, 3, 28, 9, 0, tzinfo=UTC), 1)


def test_calendar_units_are_elapsed_time_across_a_clock_change() -> None:
    saturday = london(2027, 3, 27, 10, 0)
    assert_instant(parse("+1d", now=saturday), datetime(2027, 3, 28, 10, 0, tzinfo=UTC), 1)
    assert parse("+1d", now=saturday).hour == 11
    sunday = london(2027, 3, 28, 10, 0)
    assert_instant(parse("1d ago", now=sunday), datetime(2027, 3, 27, 9, 0, tzinfo=UTC), 0)


def test_skipped_local_time_resolves_as_fold_0() -> None:
    # 01:30 does not exist on 2027-03-28; fold=0 reads it with the GMT offset: 01:30 UTC.
    result = parse("today 01:30", now=london(2027, 3, 28, 10, 0))
    assert_instant(result, datetime(2027, 3, 28, 1, 30, tzinfo=UTC), 1)
    assert (result.hour, result.minute) == (2, 30)


def test_repeated_local_time_resolves_as_fold_0() -> None:
    # 01:30 happens twice on 2026-10-25; fold=0 is the first, still in summer time.
    assert_instant(parse("2026-10-25 01:30"), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 1)


@pytest.mark.parametrize(
    "text",
    [
        "tomorow",
        "",
        "   ",
        "25:00",
        "13:60",
        "2026-02-30",
        "2026-13-01 10:00",
        "today 24:00",
        "mon 25:00",
        "yesterday 9",
        "next",
        "next month",
        "funday",
        "2 fortnights ago",
        "+3 fortnights",
        "in a while",
        "2h",
        "ago",
        "+",
        "3wd ago",
        "-4wh",
        "+99999999999d",
        "99999y ago",
    ],
)
def test_bad_input_is_one_line_naming_the_text(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_when(text, TUESDAY_NOW, CALENDAR)
    message = str(raised.value)
    assert repr(text) in message
    assert message.startswith("bad date/time ")
    assert "\n" not in message


def test_bad_input_message_lists_accepted_forms() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_when("tomorow", TUESDAY_NOW, CALENDAR)
    assert str(raised.value) == (
        "bad date/time 'tomorow': use ISO 8601 (2026-11-23 14:00) or now, today 14:00, "
        "yesterday 16:45, mon 09:30, 2h ago, +3wd"
    )


def test_working_time_cannot_count_backwards() -> None:
    with pytest.raises(InvalidInput, match="counts forward"):
        parse_when("3wd ago", TUESDAY_NOW, CALENDAR)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("now", datetime(2026, 11, 24, 11, 20), CALENDAR)


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(
    # Within the calendar's span (2016 to 2036 around 2026), a day in from each end for any offset.
    moment=st.datetimes(min_value=datetime(2016, 1, 2), max_value=datetime(2036, 12, 30)),
    zone=st.none() | offsets,
)
def test_isoformat_parses_back_to_the_same_instant(moment: datetime, zone: timezone | None) -> None:
    written = moment.replace(tzinfo=zone)
    expected = written if zone is not None else moment.replace(tzinfo=LONDON, fold=0)
    result = parse_when(written.isoformat(), TUESDAY_NOW, CALENDAR)
    assert result.tzinfo == LONDON
    assert result.timestamp() == expected.timestamp()


# The calendar's span: an instant no countdown could use is refused where it is typed.


@pytest.mark.parametrize("text", ["2062-06-01", "2062-06-01 12:00", "2015-12-31T23:59:59+00:00", "+9000d"])
@pytest.mark.parametrize("looking", list(Looking))
def test_an_instant_outside_the_calendars_span_is_refused_naming_the_span(text: str, looking: Looking) -> None:
    with pytest.raises(InvalidInput, match="outside the working calendar's span 2016-01-01 to 2036-12-31"):
        parse_when(text, TUESDAY_NOW, CALENDAR, looking)


def test_the_first_and_last_instants_of_the_span_are_accepted() -> None:
    assert parse_when("2016-01-01T00:00", TUESDAY_NOW, CALENDAR) == london(2016, 1, 1, 0, 0)
    assert parse_when("2036-12-31T23:59:59", TUESDAY_NOW, CALENDAR) == london(2036, 12, 31, 23, 59, 59)


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00+00:00", "1969-12-31T23:00:00+00:00", "0001-01-01"])
def test_a_clock_setting_the_calendar_cannot_be_built_around_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"SUPPORTCLI_NOW .* the year must be 1970 to 9988"):
        parse_clock_setting(text)


def test_a_clock_setting_is_an_iso_instant_perhaps_naive() -> None:
    assert parse_clock_setting("2026-11-23T10:00Z") == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert parse_clock_setting("2026-11-23T10:00").tzinfo is None


# Looking ahead (--until, --next, staff away --until): the next one to come; a date alone is its closing time.
# Now is Tue 2026-11-24 11:20.


def ahead(text: str, now: datetime = TUESDAY_NOW) -> datetime:
    return parse_when(text, now, CALENDAR, Looking.AHEAD)


@pytest.mark.parametrize(
    ("text", "back", "forward"),
    [
        ("fri 12:00", london(2026, 11, 20, 12, 0), london(2026, 11, 27, 12, 0)),
        ("mon 09:30", london(2026, 11, 23, 9, 30), london(2026, 11, 30, 9, 30)),
        ("tue 14:00", london(2026, 11, 24, 14, 0), london(2026, 11, 24, 14, 0)),  # later today
        ("tue 10:00", london(2026, 11, 24, 10, 0), london(2026, 12, 1, 10, 0)),  # passed today: next week
        ("fri", london(2026, 11, 20, 0, 0), london(2026, 11, 27, 17, 0)),  # a day alone: its closing time
        ("tue", london(2026, 11, 24, 0, 0), london(2026, 11, 24, 17, 0)),  # still open today
        ("10:00", london(2026, 11, 24, 10, 0), london(2026, 11, 25, 10, 0)),  # passed today: tomorrow
        ("15:00", london(2026, 11, 24, 15, 0), london(2026, 11, 24, 15, 0)),
        ("tomorrow", london(2026, 11, 25, 0, 0), london(2026, 11, 25, 17, 0)),
        ("2026-12-18", london(2026, 12, 18, 0, 0), london(2026, 12, 18, 17, 0)),
        ("next fri", london(2026, 11, 27, 0, 0), london(2026, 11, 27, 17, 0)),
        ("2026-12-18 12:00", london(2026, 12, 18, 12, 0), london(2026, 12, 18, 12, 0)),  # a time: as typed
        ("+3wd", london(2026, 11, 27, 17, 0), london(2026, 11, 27, 17, 0)),
    ],
)
def test_each_direction_reads_the_same_words_its_own_way(text: str, back: datetime, forward: datetime) -> None:
    assert parse_when(text, TUESDAY_NOW, CALENDAR, Looking.BACK) == back
    assert ahead(text) == forward


def test_a_day_alone_ahead_after_closing_today_is_next_week() -> None:
    evening = london(2026, 11, 24, 18, 0)
    assert ahead("tue", evening) == london(2026, 12, 1, 17, 0)


def test_a_closed_day_ahead_is_the_end_of_that_day_with_a_note() -> None:
    when = read_when("2026-12-25", TUESDAY_NOW, CALENDAR, Looking.AHEAD)
    assert when.instant == london(2026, 12, 26, 0, 0)
    assert when.note is not None and "Christmas Day" in when.note and "end of that day" in when.note
    saturday = read_when("sat", TUESDAY_NOW, CALENDAR, Looking.AHEAD)
    assert saturday.instant == london(2026, 11, 29, 0, 0)
    assert saturday.note is not None and "weekend" in saturday.note


def test_looking_back_makes_no_note() -> None:
    assert read_when("2026-12-25", TUESDAY_NOW, CALENDAR, Looking.BACK).note is None
