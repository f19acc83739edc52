"""The one countdown rule: working seconds to whole minutes, truncated toward zero; the fast form agrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportcli.core.calendar import CalendarSpec, calendar_for
from supportcli.core.countdown import CountdownClock, remaining_working_minutes, target_remaining_minutes, whole_minutes

CALENDAR = calendar_for(CalendarSpec(), 2026)  # Mon–Fri 09:00–17:00 Europe/London, GMT in November
DUE = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (59, 0), (60, 1), (90, 1), (119, 1), (-1, 0), (-59, 0), (-60, -1), (-90, -1), (-119, -1), (-120, -2)],
)
def test_whole_minutes_truncate_toward_zero(seconds: int, minutes: int) -> None:
    assert whole_minutes(seconds) == minutes


@pytest.mark.parametrize(
    ("now", "minutes"),
    [
        (DUE - timedelta(seconds=90), 1),
        (DUE + timedelta(seconds=90), -1),
        (DUE + timedelta(minutes=2, seconds=59), -2),
        (datetime(2026, 11, 23, 18, 0, tzinfo=UTC), -180),  # after closing: 14:00–17:00 counted
        (datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC), -180),  # Tue 09:00:30: 30 s is no whole minute
    ],
)
def test_the_fast_form_gives_what_the_plain_one_gives(now: datetime, minutes: int) -> None:
    assert remaining_working_minutes(CALENDAR, now, DUE) == minutes
    assert CountdownClock(CALENDAR, now).remaining_minutes(CALENDAR.to_epoch(DUE)) == minutes


def test_a_target_counts_down_while_pending_stands_still_while_paused_and_stops_once_met() -> None:
    late = DUE + timedelta(hours=1)
    assert target_remaining_minutes(CALENDAR, late, "pending", DUE, None) == -60
    paused_at = DUE - timedelta(minutes=30)
    assert target_remaining_minutes(CALENDAR, late, "paused", DUE, paused_at) == 30
    assert target_remaining_minutes(CALENDAR, late, "met", DUE, None) is None
    assert target_remaining_minutes(CALENDAR, late, "breached", DUE, None) is None
    assert target_remaining_minutes(CALENDAR, late, "pending", None, None) is None
