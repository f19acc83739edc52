"""Countdowns: the working time left until a due time, in whole minutes by one rounding rule.

Every place that shows a countdown (``show``, ``list``, ``due``, ``overdue``; tables, plain rows, JSON and
CSV) counts through here, so a ticket 90 seconds past its due time is "overdue by 1m" in all of them:
working seconds become minutes by truncation toward zero (``remaining_working_minutes`` -1,
``overdue_working_minutes`` 1). A paused target's countdown is what it had left when it paused.

A countdown that cannot be computed, because a stored time lies outside the working calendar's span
(docs/working-time.md, "The calendar's span"), is None ("unknown"), never an error: one odd ticket must not
stop a listing of the whole store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from supportcli.core.calendar import OutsideCalendarSpan
from supportcli.core.tickets import TargetState, format_working_time

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar


UNKNOWN = "unknown"  # how a table or plain row shows a countdown that cannot be computed (JSON: null)


def whole_minutes(seconds: float) -> int:
    """Working seconds as whole minutes, truncated toward zero: 90 s is 1 minute, early or late."""
    whole = int(seconds)
    return whole // 60 if whole >= 0 else -(-whole // 60)


def remaining_working_minutes(calendar: WorkingCalendar, now: datetime, due_at: datetime) -> int | None:
    """Working minutes from ``now`` until ``due_at`` on the calendar; negative when overdue; None (unknown)
    when either lies outside the calendar's span."""
    try:
        return whole_minutes(calendar.remaining_seconds(now, due_at))
    except OutsideCalendarSpan:
        return None


def countdown_text(minutes: int | None, day_length_seconds: int) -> str:
    """A countdown as people read it (``1d 2h``, ``overdue by 3h``), or ``unknown`` when it cannot be computed."""
    return UNKNOWN if minutes is None else format_working_time(minutes * 60, day_length_seconds)


def target_remaining_minutes(
    calendar: WorkingCalendar, now: datetime, state: str, due_at: datetime | None, paused_at: datetime | None
) -> int | None:
    """A target's countdown in working minutes: None once met or breached (or without a due time, or when it
    cannot be computed); a paused target's is the time it had left when it paused, which stays still until it
    resumes."""
    if due_at is None or state in (TargetState.MET, TargetState.BREACHED):
        return None
    moment = paused_at if state == TargetState.PAUSED and paused_at else now
    return remaining_working_minutes(calendar, moment, due_at)


class CountdownClock:
    """Now placed once on one calendar's working-time line, for listings of many due times.

    Converting now costs as much as the countdown itself, so the overdue and due listings of a million-ticket
    store place it once per calendar; each countdown is then the position of its due time (epoch seconds)
    less that of now: what ``remaining_working_minutes`` gives, without converting now again for every row.
    """

    def __init__(self, calendar: WorkingCalendar, now: datetime) -> None:
        self.calendar = calendar
        self.now_position = calendar.position(calendar.to_epoch(now))

    def remaining_minutes(self, due_epoch: float) -> int | None:
        """Working minutes until a due time given as epoch seconds; negative when overdue; None (unknown)
        when the due time lies outside the calendar's span."""
        try:
            return whole_minutes(self.calendar.position(due_epoch) - self.now_position)
        except OutsideCalendarSpan:
            return None
