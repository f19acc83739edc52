"""``core.edits``: what an edit changes on a ticket, and where a re-planned target falls due with its pauses kept.

Calendar: Europe/London, Mon–Fri 09:00–17:00, England & Wales (the built-in one); late November is GMT.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from supportcli.core.calendar import CalendarSpec, calendar_for
from supportcli.core.durations import parse_duration
from supportcli.core.edits import TicketEdit, delayed_due, pause_delay
from supportcli.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
CALENDAR = calendar_for(CalendarSpec(), 2026)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def test_only_values_that_differ_are_changes_in_the_order_fields_are_recorded() -> None:
    edit = TicketEdit({"priority": "urgent", "subject": "Same", "org": None}, add_tags=["vip"], remove_tags=["old"])
    changes = edit.changes({"subject": "Same", "priority": "normal", "org": "Acme"}, ["old", "print"])
    assert [(c.name, c.old, c.new) for c in changes] == [
        ("priority", "normal", "urgent"),
        ("org", "Acme", None),
        ("tags", ["old", "print"], ["print", "vip"]),
    ]
    assert [c.replans for c in changes] == [True, True, False]


def test_an_edit_of_nothing_is_empty_and_required_fields_cannot_be_cleared() -> None:
    assert TicketEdit().is_empty
    with pytest.raises(InvalidInput, match="--kind cannot be cleared"):
        TicketEdit({"kind": None})
    with pytest.raises(InvalidInput, match="both added and removed"):
        TicketEdit(add_tags=["x"], remove_tags=["x"])


@pytest.mark.parametrize("duration", ["4wh", "2wd", "30wm", "3d"])
def test_a_pause_added_by_resume_is_kept_when_the_target_is_re_planned(duration: str) -> None:
    target = parse_duration(duration)
    started, paused, resumed = at(23, 10), at(23, 11), at(23, 14)
    due_after_resume = CALENDAR.resume_due(CALENDAR.due(started, target), paused, resumed, target)
    delay = pause_delay(CALENDAR, started, target, due_after_resume)
    assert delayed_due(CALENDAR, started, target, delay) == due_after_resume
    # The same wait on a target planned from another start moves that one as far.
    later_start = at(24, 10)
    expected = CALENDAR.resume_due(CALENDAR.due(later_start, target), at(24, 11), at(24, 14), target)
    assert delayed_due(CALENDAR, later_start, target, delay) == expected


def test_a_target_never_paused_has_no_delay() -> None:
    target = parse_duration("4wh")
    assert pause_delay(CALENDAR, at(23, 10), target, CALENDAR.due(at(23, 10), target)) == 0
    assert delayed_due(CALENDAR, at(23, 10), target, 0) == at(23, 14)
