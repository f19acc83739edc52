"""Time words through the real CLI on both backends: options about the future look ahead, options about the past
look back, and history stays in order (README, "Time words").

Now is Tue 2026-11-24 10:00 in London (GMT) unless a test says otherwise; the built-in policy's calendar is
Mon-Fri 09:00-17:00 with England & Wales holidays.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from helpers import MON_1000, MON_1100, MON_1200, TUE_1000, Cli, Snapshot, at, log, ok, refused, show


def update_target(cli: Cli, ticket: int) -> dict[str, object]:
    return next(target for target in show(cli, ticket, TUE_1000)["targets"] if target["name"] == "update")


# -- looking ahead: --next, --until, staff away --until --------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "due"),
    [
        ("fri 12:00", "2026-11-27T12:00:00+00:00"),  # the coming Friday, not the one before
        ("mon 09:30", "2026-11-30T09:30:00+00:00"),
        ("fri", "2026-11-27T17:00:00+00:00"),  # a day alone: its closing time
        ("2026-12-18", "2026-12-18T17:00:00+00:00"),
        ("tomorrow", "2026-11-25T17:00:00+00:00"),
        ("09:00", "2026-11-25T09:00:00+00:00"),  # today's 09:00 has passed: tomorrow's
    ],
)
def test_update_next_looks_ahead(cli: Cli, words: str, due: str) -> None:
    ticket = log(cli, "Engineer visit")
    ok(cli("update", str(ticket), "-m", "Engineer booked", "--next", words, env=at(TUE_1000)))
    assert update_target(cli, ticket)["due_at"] == due


def test_extend_until_a_date_is_its_closing_time(cli: Cli) -> None:
    ticket = log(cli, "Refund")
    ok(cli("extend", str(ticket), "--until", "2027-01-29", "--reason", "supplier", env=at(TUE_1000)))
    assert show(cli, ticket, TUE_1000)["expected_by"] == "2027-01-29T17:00:00+00:00"


def test_a_closed_day_ahead_is_the_end_of_that_day_and_the_command_says_so(cli: Cli) -> None:
    ticket = log(cli, "Engineer visit")
    result = ok(cli("update", str(ticket), "-m", "Booked", "--next", "2026-12-25", env=at(TUE_1000)))
    assert update_target(cli, ticket)["due_at"] == "2026-12-26T00:00:00+00:00"
    assert (
        "note: '2026-12-25': Fri 2026-12-25 is not a working day (Christmas Day): "
        "read as the end of that day, 2026-12-26 00:00"
    ) in result.stderr.splitlines()


def test_staff_away_until_a_weekday_is_the_coming_one(cli: Cli) -> None:
    for name in ("priya", "sam"):
        ok(cli("staff", "add", name, "--email", f"{name}@example.com", env=at(TUE_1000)))
    result = ok(cli("staff", "away", "priya", "--until", "mon", "--cover", "sam", env=at(TUE_1000)))
    assert result.stderr.strip() == "priya is away until Mon 2026-11-30 17:00 GMT; sam covers"


# -- looking back: --received, --at ----------------------------------------------------------------------------------


def test_received_and_at_keep_the_most_recent_day(cli: Cli) -> None:
    ticket = int(ok(cli("log", "Letter", "--received", "fri 12:00", "-q", env=at(TUE_1000))).stdout)
    assert show(cli, ticket, TUE_1000)["received_at"] == "2026-11-20T12:00:00+00:00"
    ok(cli("ack", str(ticket), "--at", "mon 09:30", env=at(TUE_1000)))
    history = show(cli, ticket, TUE_1000)["history"]
    assert next(event for event in history if event["event"] == "acknowledged")["at"] == "2026-11-23T09:30:00+00:00"


# -- history stays in order -----------------------------------------------------------------------------------------


def test_a_back_dated_wait_cannot_hand_back_working_time_already_spent(
    cli: Cli, snapshot: Callable[[], Snapshot]
) -> None:
    ticket = log(cli, "Line dead", "--channel", "phone")
    ok(cli("update", str(ticket), "-m", "Engineer booked", env=at(MON_1200)))
    before = snapshot()
    line = refused(cli("wait", str(ticket), "--at", "10:30", env=at("2026-11-23T12:30:00+00:00")), 2)
    assert line == (
        f"supportcli: error: --at is before ticket #{ticket}'s latest event "
        "(updated at 2026-11-23T12:00:00+00:00): its history is kept in order"
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "action",
    [
        ["ack"],
        ["update", "-m", "Called back"],
        ["update", "--internal", "-m", "Checked the logs"],
        ["wait"],
        ["resolve", "-m", "Fixed"],
    ],
    ids=["ack", "update", "note", "wait", "resolve"],
)
def test_every_action_refuses_a_time_before_the_latest_event(
    cli: Cli, snapshot: Callable[[], Snapshot], action: list[str]
) -> None:
    ticket = log(cli, "Line dead", "--channel", "phone")
    ok(cli("escalate", str(ticket), "--reason", "Director's client", env=at(MON_1100)))
    before = snapshot()
    command, *options = action
    refused(cli(command, str(ticket), *options, "--at", "10:30", env=at(MON_1200)), 2, "latest event", "escalated")
    assert snapshot() == before
    ok(cli(command, str(ticket), *options, "--at", "11:30", env=at(MON_1200)))  # after it: recorded


def test_an_action_at_the_clocks_now_is_not_refused_for_a_later_event(cli: Cli) -> None:
    """Machines sharing a store (and the cron run) may have clocks a moment apart: only a stated --at is held
    to the history's order."""
    ticket = log(cli, "Line dead", "--channel", "phone")
    ok(cli("escalate", str(ticket), "--reason", "Director's client", env=at("2026-11-23T11:00:05+00:00")))
    ok(cli("ack", str(ticket), env=at("2026-11-23T11:00:03+00:00")))


def test_an_action_between_receipt_and_logging_is_in_order(cli: Cli) -> None:
    """Logging a letter received yesterday records when it was typed in; what happened since receipt may come
    before that (the logged event does not bound the history)."""
    ticket = int(ok(cli("log", "Letter", "--received", "yesterday 15:00", "-q", env=at(TUE_1000))).stdout)
    ok(cli("ack", str(ticket), "--at", "yesterday 16:00", env=at(TUE_1000)))
    ok(cli("update", str(ticket), "-m", "Called", "--at", "yesterday 16:30", env=at(TUE_1000)))
    refused(cli("wait", str(ticket), "--at", "yesterday 16:15", env=at(TUE_1000)), 2, "latest event", "updated")


def test_an_action_before_receipt_is_still_refused(cli: Cli) -> None:
    ticket = log(cli, "Hello", now=MON_1000)
    refused(cli("ack", str(ticket), "--at", "09:00", env=at(MON_1100)), 2, "before ticket #1 was received")
