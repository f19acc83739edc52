"""The daily ticket commands and the read views, through the real CLI (CliRunner) on a real SQLite file.

Every due time asserted here is computed by hand under the built-in policy
(Mon–Fri 09:00–17:00 Europe/London, England & Wales bank holidays; November
and December are GMT, so local = UTC = +00:00):

- complaint: acknowledge 1wd, respond 5wd, update 5wd, resolve 20wd
- email/letter/portal/web-form: acknowledge 1wd, respond 5wd, resolve 10wd
- everything else (phone, chat, sms…): respond 4wh, resolve 10wd

``N wd`` = closing time (17:00) of the N-th working day after the date of the
clock start (that date is day 0). 2026-11-23 is a Monday; 25 Dec 2026 (Fri)
and 28 Dec 2026 (Mon, Boxing Day observed) are bank holidays.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from helpers import MON_1000, MON_1100, MON_1200, TUE_1000, Cli, Snapshot, at, log, ok, show
from helpers import refused as assert_refused
from supportcli.locations import StoreLocation


def targets(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {target["name"]: target for target in record["targets"]}


def due_times(record: dict[str, Any]) -> dict[str, str]:
    return {target["name"]: target["due_at"] for target in record["targets"]}


def events(record: dict[str, Any]) -> list[str]:
    return [event["event"] for event in record["history"]]


def ids(result: Result) -> list[int]:
    ok(result)
    return [int(line) for line in result.stdout.split()]


def store_state(cli: Cli, snapshot: Callable[[], Snapshot], now: str) -> tuple[str, Snapshot]:
    """What ``list --json`` shows, and every row of the store."""
    listed = ok(cli("list", "--json", env=at(now))).stdout
    return listed, snapshot()


# -- init -----------------------------------------------------------------------------------------------------------


def test_init_creates_the_store_and_an_empty_list_is_success(
    cli: Cli, snapshot: Callable[[], Snapshot], store_location: StoreLocation
) -> None:
    assert snapshot() == {}
    result = ok(cli("init", env=at(MON_1000)))
    assert "supportcli_meta" in snapshot()
    assert result.stdout == ""
    assert store_location.display in result.stderr
    empty = ok(cli("list", env=at(MON_1000)))
    assert empty.stdout == ""
    assert json.loads(ok(cli("list", "--json", env=at(MON_1000))).stdout) == []
    assert ok(cli("due", env=at(MON_1000))).stdout == ""


def test_init_with_a_policy_sets_it(cli: Cli, tmp_path: Path) -> None:
    policy = tmp_path / "team.toml"
    policy.write_text('name = "Team"\n[[targets]]\nmatch = {}\nrespond = "2wh"\n', encoding="utf-8")
    ok(cli("init", "--policy", str(policy), env=at(MON_1000)))
    ticket = log(cli, "Hello")
    # Mon 10:00 + 2wh → Mon 12:00 under the team's policy
    assert due_times(show(cli, ticket, MON_1000)) == {"respond": "2026-11-23T12:00:00+00:00"}


# -- log ------------------------------------------------------------------------------------------------------------


def test_log_defaults_print_the_id_and_compute_the_written_contact_targets(cli: Cli) -> None:
    result = ok(cli("log", "Printer jammed", env=at(MON_1000)))
    assert result.stdout == "1\n"  # piped: only the id, for scripts
    record = show(cli, 1, MON_1000)
    assert (record["kind"], record["channel"], record["priority"], record["status"]) == (
        "enquiry",
        "email",
        "normal",
        "new",
    )
    assert (record["owner"], record["tier"], record["tier_name"]) == (None, 0, "Support")
    assert record["received_at"] == MON_1000
    assert due_times(record) == {
        "acknowledge": "2026-11-24T17:00:00+00:00",  # Mon 10:00 + 1wd → close of Tue 24
        "respond": "2026-11-30T17:00:00+00:00",  # 5wd: Tue 24, Wed, Thu, Fri, Mon 30 → Mon 30 17:00
        "resolve": "2026-12-07T17:00:00+00:00",  # 10wd: … Mon 30, Tue 1, Wed, Thu, Fri 4, Mon 7 → Mon 7 Dec 17:00
    }
    assert {t["state"] for t in record["targets"]} == {"pending"}
    assert [(e["event"], e["actor"], e["at"]) for e in record["history"]] == [("logged", "alice", MON_1000)]


def test_log_with_every_option_as_json(cli: Cli) -> None:
    result = ok(
        cli(
            "log",
            "Engineer never came",
            "--kind",
            "request",
            "--channel",
            "phone",
            "--priority",
            "urgent",
            "--name",
            "Ann Lee",
            "--email",
            "ann@example.com",
            "--phone",
            "+44 161 496 0000",
            "--org",
            "Acme",
            "--category",
            "visits",
            "--tag",
            "engineer",
            "--tag",
            "vip",
            "--owner",
            "priya",
            "--json",
            env=at(MON_1000),
        )
    )
    record = json.loads(result.stdout)
    assert record["id"] == 1
    assert record["subject"] == "Engineer never came"
    assert (record["kind"], record["channel"], record["priority"]) == ("request", "phone", "urgent")
    assert (record["org"], record["category"], record["owner"]) == ("Acme", "visits", "priya")
    assert record["tags"] == ["engineer", "vip"]
    text = json.dumps(record)
    for value in ("Ann Lee", "ann@example.com", "+44 161 496 0000"):
        assert value in text
    assert due_times(record) == {
        "respond": "2026-11-23T14:00:00+00:00",  # phone: Mon 10:00 + 4wh → Mon 14:00
        "resolve": "2026-12-07T17:00:00+00:00",  # Mon 23 + 10wd → Mon 7 Dec 17:00
    }
    assert targets(record)["respond"]["remaining_working_minutes"] == 240
    assert events(record) == ["logged"]
    human = ok(cli("show", "1", env=at(MON_1000))).stdout
    for value in ("Ann Lee", "ann@example.com", "Acme", "visits", "engineer", "priya", "urgent"):
        assert value in human


def test_log_quiet_and_terminal_output(cli: Cli) -> None:
    assert ok(cli("log", "One", "-q", env=at(MON_1000))).stdout == "1\n"
    on_terminal = ok(cli("log", "Two", env=at(MON_1000, SUPPORTCLI_TERMINAL="1", NO_COLOR="1")))
    assert on_terminal.stdout.strip() == "#2"
    assert "Two" in on_terminal.stderr
    assert ok(cli("log", "Three", "-q", env=at(MON_1000, SUPPORTCLI_TERMINAL="1"))).stdout == "3\n"


@pytest.mark.parametrize(
    ("now", "received", "expected_received", "expected_ack"),
    [
        # now Tue 24 10:00: yesterday 16:45 = Mon 23 16:45; 1wd: day 0 Mon 23 (whatever the hour) → close of Tue 24
        (TUE_1000, "yesterday 16:45", "2026-11-23T16:45:00+00:00", "2026-11-24T17:00:00+00:00"),
        # Fri 27 16:45 + 1wd → Mon 30 17:00 (SPEC §3 example)
        ("2026-11-30T10:00:00+00:00", "2026-11-27 16:45", "2026-11-27T16:45:00+00:00", "2026-11-30T17:00:00+00:00"),
        # Sat 28 11:00 + 1wd → Mon 30 17:00 (SPEC §3 example)
        ("2026-11-30T10:00:00+00:00", "sat 11:00", "2026-11-28T11:00:00+00:00", "2026-11-30T17:00:00+00:00"),
        # Tue 24 10:00 - 26h = Mon 23 08:00; day 0 Mon 23 → close of Tue 24
        (TUE_1000, "26h ago", "2026-11-23T08:00:00+00:00", "2026-11-24T17:00:00+00:00"),
        # an ISO instant with its offset
        (TUE_1000, "2026-11-23T18:30:00+00:00", "2026-11-23T18:30:00+00:00", "2026-11-24T17:00:00+00:00"),
    ],
)
def test_log_received_earlier_counts_from_the_contact(
    cli: Cli, now: str, received: str, expected_received: str, expected_ack: str
) -> None:
    record = json.loads(
        ok(cli("log", "Letter", "--channel", "letter", "--received", received, "--json", env=at(now))).stdout
    )
    assert record["received_at"] == expected_received
    assert targets(record)["acknowledge"]["due_at"] == expected_ack


@pytest.mark.parametrize(
    ("received", "options", "target", "expected"),
    [
        # Fri 27 16:00 + 4wh: 1h Fri (→17:00) + 3h Mon 30 → Mon 30 12:00 (SPEC §3 example)
        ("2026-11-27T16:00:00+00:00", ("--channel", "phone"), "respond", "2026-11-30T12:00:00+00:00"),
        # Mon 13:00 + 4wh → exactly Mon 17:00: closing time, never the next opening
        ("2026-11-23T13:00:00+00:00", ("--channel", "chat"), "respond", "2026-11-23T17:00:00+00:00"),
        # Mon 17:00 is out of hours: clock starts Tue 09:00 + 4wh → Tue 13:00
        ("2026-11-23T17:00:00+00:00", ("--channel", "sms"), "respond", "2026-11-24T13:00:00+00:00"),
        # Sat 28 11:00: clock starts Mon 30 09:00 + 4wh → Mon 30 13:00
        ("2026-11-28T11:00:00+00:00", ("--channel", "phone"), "respond", "2026-11-30T13:00:00+00:00"),
        # Wed 23 Dec 12:00 + 5wd: Thu 24 (1), [Fri 25, Mon 28 holidays], Tue 29 (2), Wed 30 (3), Thu 31 (4),
        # [Fri 1 Jan holiday], Mon 4 Jan (5) → Mon 2027-01-04 17:00
        ("2026-12-23T12:00:00+00:00", ("--kind", "complaint"), "respond", "2027-01-04T17:00:00+00:00"),
        # Wed 23 Dec 12:00 + 1wd → Thu 24 Dec 17:00
        ("2026-12-23T12:00:00+00:00", ("--kind", "complaint"), "acknowledge", "2026-12-24T17:00:00+00:00"),
    ],
)
def test_log_due_times_follow_the_calendar(
    cli: Cli, received: str, options: tuple[str, ...], target: str, expected: str
) -> None:
    record = json.loads(ok(cli("log", "Contact", *options, "--json", env=at(received))).stdout)
    assert targets(record)[target]["due_at"] == expected


def test_log_reads_the_body_from_stdin(cli: Cli) -> None:
    body = "Dear team,\nthe invoice address is wrong.\n"
    ok(cli("log", "Invoice address wrong", "--body", "-", "-q", input=body, env=at(MON_1000)))
    assert show(cli, 1, MON_1000)["body"] == body
    human = ok(cli("show", "1", env=at(MON_1000))).stdout
    assert "the invoice address is wrong." in human


# -- ack ------------------------------------------------------------------------------------------------------------


def test_ack_meets_the_acknowledge_target(cli: Cli) -> None:
    ticket = log(cli, "Letter", "--channel", "letter")
    result = ok(cli("ack", str(ticket), "-m", "Acknowledged by phone", "--at", "today 11:30", env=at(MON_1200)))
    assert "acknowledged" in result.stderr
    record = show(cli, ticket, MON_1200)
    assert record["status"] == "acknowledged"
    ack = targets(record)["acknowledge"]
    assert (ack["state"], ack["met_at"], ack["due_at"]) == (
        "met",
        "2026-11-23T11:30:00+00:00",
        "2026-11-24T17:00:00+00:00",  # Mon 10:00 + 1wd → Tue 24 17:00
    )
    assert ack["remaining_working_minutes"] is None
    assert targets(record)["respond"]["state"] == "pending"
    assert events(record) == ["logged", "acknowledged"]


def test_late_ack_is_met_but_breached(cli: Cli) -> None:
    ticket = log(cli, "Letter", "--channel", "letter")
    # due Tue 24 17:00 (Mon + 1wd); acknowledged Wed 25 09:30 → late
    ok(cli("ack", str(ticket), env=at("2026-11-25T09:30:00+00:00")))
    ack = targets(show(cli, ticket, "2026-11-25T09:30:00+00:00"))["acknowledge"]
    assert (ack["state"], ack["met_at"]) == ("breached", "2026-11-25T09:30:00+00:00")


# -- update ---------------------------------------------------------------------------------------------------------


def test_customer_facing_update_meets_respond_and_restarts_the_update_clock(cli: Cli) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    before = show(cli, ticket, MON_1000)
    assert due_times(before) == {
        "acknowledge": "2026-11-24T17:00:00+00:00",  # Mon 23 + 1wd → Tue 24 17:00
        "respond": "2026-11-30T17:00:00+00:00",  # Mon 23 + 5wd → Mon 30 17:00
        "update": "2026-11-30T17:00:00+00:00",  # Mon 23 + 5wd → Mon 30 17:00
        "resolve": "2026-12-21T17:00:00+00:00",  # Mon 23 + 20wd: Fri 27 (4), Fri 4 (9), Fri 11 (14), Fri 18 (19), Mon 21
    }
    ok(cli("ack", str(ticket), env=at(MON_1200)))
    wed = "2026-11-25T11:00:00+00:00"
    result = ok(cli("update", str(ticket), "-m", "Proposed a refund", env=at(wed)))
    assert "updated" in result.stderr
    record = show(cli, ticket, wed)
    assert record["status"] == "in-progress"
    by_name = targets(record)
    assert (by_name["respond"]["state"], by_name["respond"]["met_at"]) == ("met", wed)
    # update clock restarted at Wed 25 11:00 + 5wd: Thu 26, Fri 27, Mon 30, Tue 1, Wed 2 → Wed 2 Dec 17:00
    assert (by_name["update"]["state"], by_name["update"]["due_at"]) == ("pending", "2026-12-02T17:00:00+00:00")
    assert by_name["update"]["met_at"] is None
    assert by_name["resolve"]["due_at"] == "2026-12-21T17:00:00+00:00"  # unchanged
    assert events(record) == ["logged", "acknowledged", "updated"]


def test_internal_note_meets_nothing(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("update", str(ticket), "--internal", "-m", "Checked the logs", env=at(MON_1100)))
    record = show(cli, ticket, MON_1100)
    assert record["status"] == "new"
    respond = targets(record)["respond"]
    # still Mon 10:00 + 4wh → Mon 14:00, 3h left at 11:00
    assert (respond["state"], respond["met_at"], respond["due_at"]) == ("pending", None, "2026-11-23T14:00:00+00:00")
    assert respond["remaining_working_minutes"] == 180
    assert record["history"][-1]["text"] == "Checked the logs"
    assert events(record)[-1] != "updated"


def test_update_next_becomes_the_update_targets_due_time(cli: Cli) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    ok(cli("update", str(ticket), "-m", "Engineer booked", "--next", "2026-12-01 15:00", env=at(TUE_1000)))
    record = show(cli, ticket, TUE_1000)
    assert targets(record)["update"]["due_at"] == "2026-12-01T15:00:00+00:00"
    assert targets(record)["respond"]["state"] == "met"
    # a relative form: Tue 24 10:00 +2wd → Wed 25 (1), Thu 26 (2) → Thu 26 17:00
    ok(cli("update", str(ticket), "-m", "Call planned", "--next", "+2wd", env=at(TUE_1000)))
    assert targets(show(cli, ticket, TUE_1000))["update"]["due_at"] == "2026-11-26T17:00:00+00:00"
    # a plain update afterwards goes back to the policy's 5wd: Fri 27 + 5wd → Mon 30 … Fri 4 Dec 17:00
    fri = "2026-11-27T10:00:00+00:00"
    ok(cli("update", str(ticket), "-m", "Engineer came", env=at(fri)))
    assert targets(show(cli, ticket, fri))["update"]["due_at"] == "2026-12-04T17:00:00+00:00"


def test_update_next_on_a_ticket_without_an_update_target_adds_one(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("update", str(ticket), "-m", "Engineer booked", "--next", "next wed 12:00", env=at(MON_1000)))
    record = show(cli, ticket, MON_1000)
    # next wed from Mon 23 → Wed 25 12:00
    assert targets(record)["update"]["due_at"] == "2026-11-25T12:00:00+00:00"
    assert targets(record)["respond"]["state"] == "met"


def test_plain_update_after_an_agreed_next_update_works(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("update", str(ticket), "-m", "Engineer booked", "--next", "2026-11-25 12:00", env=at(MON_1000)))
    result = cli("update", str(ticket), "-m", "Engineer came", env=at(TUE_1000))
    assert result.exit_code == 0, result.stderr
    # The agreed time (Wed 12:00) is met by Tuesday's update; no policy interval, so nothing new falls due.
    update_target = targets(show(cli, ticket, TUE_1000))["update"]
    assert (update_target["state"], update_target["met_at"]) == ("met", "2026-11-24T10:00:00+00:00")


def test_reopen_after_an_agreed_next_update_works(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("update", str(ticket), "-m", "Engineer booked", "--next", "2026-11-25 12:00", env=at(MON_1000)))
    ok(cli("resolve", str(ticket), "-m", "Fixed", env=at(TUE_1000)))
    result = cli("reopen", str(ticket), "-m", "Broke again", env=at(TUE_1000))
    assert result.exit_code == 0, result.stderr


# -- assign ---------------------------------------------------------------------------------------------------------


def test_assign_and_unassign(cli: Cli) -> None:
    ticket = log(cli, "Hello")
    result = ok(cli("assign", str(ticket), "priya", env=at(MON_1100)))
    assert "priya" in result.stderr
    assert show(cli, ticket, MON_1100)["owner"] == "priya"
    assert ids(cli("list", "--owner", "priya", "-q", env=at(MON_1100))) == [ticket]
    ok(cli("assign", str(ticket), "-", env=at(MON_1200)))
    record = show(cli, ticket, MON_1200)
    assert record["owner"] is None
    assert events(record) == ["logged", "assigned", "assigned"]
    assert ids(cli("list", "--owner", "-", "-q", env=at(MON_1200))) == [ticket]


# -- escalate -------------------------------------------------------------------------------------------------------


def test_escalate_moves_up_one_tier_then_refuses_at_the_top(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    result = ok(cli("escalate", str(ticket), "--reason", "Customer unhappy", env=at(MON_1100)))
    assert "Customer Success Manager" in result.stderr
    record = show(cli, ticket, MON_1100)
    assert (record["tier"], record["tier_name"]) == (1, "Customer Success Manager")
    assert record["history"][-1]["event"] == "escalated"
    assert record["history"][-1]["text"] == "Customer unhappy"
    ok(cli("escalate", str(ticket), "-r", "Still unhappy", env=at(MON_1100)))
    assert show(cli, ticket, MON_1100)["tier_name"] == "Director"
    before = store_state(cli, snapshot, MON_1200)
    refused = cli("escalate", str(ticket), "--reason", "Even more", env=at(MON_1200))
    assert_refused(refused, 4, "top tier", "Director")
    assert store_state(cli, snapshot, MON_1200) == before


def test_escalate_to_a_named_tier(cli: Cli) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    ok(cli("escalate", str(ticket), "--to", "Director", "--reason", "Legal threat", env=at(MON_1100)))
    record = show(cli, ticket, MON_1100)
    assert (record["tier"], record["tier_name"]) == (2, "Director")
    assert ids(cli("list", "--tier", "Director", "-q", env=at(MON_1100))) == [ticket]


def test_escalate_never_moves_down(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    ok(cli("escalate", str(ticket), "--to", "Director", "--reason", "Legal threat", env=at(MON_1100)))
    before = snapshot()
    refused = cli("escalate", str(ticket), "--to", "Support", "--reason", "Calmer now", env=at(MON_1200))
    assert_refused(refused, 4, "at tier Director, above Support")
    assert snapshot() == before


def test_escalate_needs_a_reason(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    before = snapshot()
    missing = cli("escalate", str(ticket), env=at(MON_1100))
    assert missing.exit_code == 2
    assert "--reason" in missing.stderr
    assert "Traceback" not in missing.output
    assert_refused(cli("escalate", str(ticket), "--reason", " ", env=at(MON_1100)), 2, "--reason")
    assert snapshot() == before


def test_escalate_to_an_unknown_tier_lists_the_tiers(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Complaint", "--kind", "complaint")
    before = snapshot()
    result = cli("escalate", str(ticket), "--to", "Pope", "--reason", "x", env=at(MON_1100))
    assert_refused(result, 2, "Pope", "Support", "Customer Success Manager", "Director")
    assert snapshot() == before


# -- wait / resume --------------------------------------------------------------------------------------------------


def test_wait_pauses_and_resume_gives_back_the_working_time_left(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    # respond: Mon 10:00 + 4wh → Mon 14:00; resolve: Mon 23 + 10wd → Mon 7 Dec 17:00
    result = ok(cli("wait", str(ticket), "-m", "Asked for the order number", env=at(MON_1100)))
    assert "waiting" in result.stderr
    # paused at Mon 11:00: respond has 3h left (11:00→14:00);
    # resolve has 6h (Mon 11–17) + 10 days × 8h (Tue 24 … Mon 7) = 86h = 5160 min left
    later = "2026-11-24T09:30:00+00:00"
    paused = show(cli, ticket, later)
    assert paused["status"] == "waiting"
    assert {t["name"]: (t["state"], t["remaining_working_minutes"]) for t in paused["targets"]} == {
        "respond": ("paused", 180),
        "resolve": ("paused", 5160),
    }
    ok(cli("resume", str(ticket), "-m", "Order number received", env=at(TUE_1000)))
    record = show(cli, ticket, TUE_1000)
    assert record["status"] == "in-progress"
    assert {t["name"]: t["state"] for t in record["targets"]} == {"respond": "pending", "resolve": "pending"}
    assert due_times(record) == {
        # Tue 10:00 + 3h → Tue 13:00
        "respond": "2026-11-24T13:00:00+00:00",
        # Tue 10:00 + 86h: 7h Tue (→17:00), 9 days × 8h Wed 25 … Mon 7 = 72h, 7h Tue 8 Dec → 16:00
        "resolve": "2026-12-08T16:00:00+00:00",
    }
    assert targets(record)["respond"]["remaining_working_minutes"] == 180
    history = [(e["event"], e["at"], e["text"]) for e in record["history"]]
    assert history[1:] == [
        ("waiting", MON_1100, "Asked for the order number"),
        ("resumed", TUE_1000, "Order number received"),
    ]
    explained = ok(cli("explain", str(ticket), "respond", env=at(TUE_1000))).stdout
    assert "paused" in explained
    assert "Tue 2026-11-24 13:00" in explained


def test_pause_over_a_weekend(cli: Cli) -> None:
    fri_1500 = "2026-11-27T15:00:00+00:00"
    ticket = log(cli, "Call back", "--channel", "phone", now=fri_1500)
    assert due_times(show(cli, ticket, fri_1500)) == {
        "respond": "2026-11-30T11:00:00+00:00",  # Fri 15:00 + 4wh: 2h Fri, 2h Mon 30 → Mon 11:00
        "resolve": "2026-12-11T17:00:00+00:00",  # Fri 27 + 10wd: Mon 30 (1) … Fri 4 (5) … Fri 11 (10)
    }
    ok(cli("wait", str(ticket), env=at("2026-11-27T16:00:00+00:00")))
    # left at Fri 16:00: respond 1h + 2h = 3h; resolve 1h + 80h = 81h
    ok(cli("resume", str(ticket), env=at("2026-11-30T16:00:00+00:00")))
    assert due_times(show(cli, ticket, "2026-11-30T16:00:00+00:00")) == {
        "respond": "2026-12-01T11:00:00+00:00",  # Mon 16:00 + 3h: 1h Mon, 2h Tue 1 → Tue 11:00
        # Mon 16:00 + 81h: 1h Mon, then 80h = 10 full days Tue 1 … Mon 14 → Mon 14 Dec 17:00 (closing, not next opening)
        "resolve": "2026-12-14T17:00:00+00:00",
    }


def test_resolve_while_waiting_meets_paused_targets(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("wait", str(ticket), env=at(MON_1100)))  # respond paused with 3h left (due Mon 14:00)
    ok(cli("resolve", str(ticket), "-m", "Sorted", env=at(TUE_1000)))
    respond = targets(show(cli, ticket, TUE_1000))["respond"]
    # 3h left at the pause, counted from Tue 10:00 → due Tue 13:00; met at 10:00, in time.
    assert (respond["state"], respond["due_at"]) == ("met", "2026-11-24T13:00:00+00:00")


def test_update_while_waiting_meets_the_paused_respond_target(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("wait", str(ticket), env=at(MON_1100)))
    ok(cli("update", str(ticket), "-m", "Still need the order number", env=at(TUE_1000)))
    assert targets(show(cli, ticket, TUE_1000))["respond"]["state"] == "met"


# -- extend ---------------------------------------------------------------------------------------------------------


def test_extend_records_expected_by_without_moving_the_target(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    # Mon 23 11:00 +15wd: Mon 30 (5), Fri 4 (9), Mon 7 (10), Fri 11 (14), Mon 14 (15) → Mon 14 Dec 17:00
    result = ok(cli("extend", str(ticket), "--until", "+15wd", "--reason", "Needs the supplier", env=at(MON_1100)))
    assert "extended" in result.stderr
    record = show(cli, ticket, MON_1100)
    assert (record["expected_by"], record["expected_reason"]) == ("2026-12-14T17:00:00+00:00", "Needs the supplier")
    assert targets(record)["resolve"]["due_at"] == "2026-12-07T17:00:00+00:00"  # Mon 23 + 10wd, unchanged
    human = ok(cli("show", str(ticket), env=at(MON_1100))).stdout
    assert "2026-12-14 17:00" in human
    assert "Needs the supplier" in human


def test_extend_after_a_breach_keeps_it_breached(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    tue_8 = "2026-12-08T10:00:00+00:00"  # after the resolve due time Mon 7 Dec 17:00
    ok(cli("extend", str(ticket), "--until", "2026-12-18 17:00", "--reason", "Supplier late", env=at(tue_8)))
    record = show(cli, ticket, tue_8)
    assert record["expected_by"] == "2026-12-18T17:00:00+00:00"
    resolve = targets(record)["resolve"]
    assert (resolve["due_at"], resolve["state"]) == ("2026-12-07T17:00:00+00:00", "breached")
    assert resolve["remaining_working_minutes"] == -60  # Mon 7 17:00 → Tue 8 10:00 = 1 working hour late
    assert events(record)[-1] == "extended"
    # resolved before the expected date but after the target: still a breach
    ok(cli("resolve", str(ticket), "-m", "Done", env=at("2026-12-16T10:00:00+00:00")))
    resolve = targets(show(cli, ticket, "2026-12-16T10:00:00+00:00"))["resolve"]
    assert (resolve["state"], resolve["met_at"]) == ("breached", "2026-12-16T10:00:00+00:00")


def test_extend_needs_until_and_reason(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    before = snapshot()
    for args in (("--until", "+5wd"), ("--reason", "why")):
        result = cli("extend", str(ticket), *args, env=at(MON_1100))
        assert result.exit_code == 2
        assert "Traceback" not in result.output
    assert_refused(cli("extend", str(ticket), "--until", "yesterday", "--reason", "r", env=at(MON_1100)), 2, "--until")
    assert snapshot() == before


def test_extend_must_reach_beyond_the_resolve_target(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello", "--channel", "phone")  # resolve 10wd: Mon 23 Nov → Mon 7 Dec 17:00
    before = snapshot()
    refused = cli("extend", str(ticket), "--until", "+2wd", "--reason", "r", env=at(MON_1100))
    assert_refused(refused, 2, "not beyond the resolve target", "2026-12-07T17:00:00+00:00")
    assert snapshot() == before


# -- resolve / close / reopen / feedback ----------------------------------------------------------------------------


def test_resolve_in_time_meets_every_open_target(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    result = ok(cli("resolve", str(ticket), "-m", "Refund issued", env=at(MON_1100)))
    assert "resolved" in result.stderr
    record = show(cli, ticket, MON_1100)
    assert record["status"] == "resolved"
    assert {t["name"]: (t["state"], t["met_at"]) for t in record["targets"]} == {
        "respond": ("met", MON_1100),  # due Mon 14:00
        "resolve": ("met", MON_1100),  # due Mon 7 Dec 17:00
    }
    assert record["history"][-1]["text"] == "Refund issued"


def test_resolve_late_is_breached(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    tue_8 = "2026-12-08T10:00:00+00:00"
    ok(cli("resolve", str(ticket), "-m", "Finally", env=at(tue_8)))
    assert {t["name"]: (t["state"], t["met_at"]) for t in show(cli, ticket, tue_8)["targets"]} == {
        "respond": ("breached", tue_8),  # was due Mon 23 14:00
        "resolve": ("breached", tue_8),  # was due Mon 7 Dec 17:00
    }


def test_resolve_needs_a_message(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    before = snapshot()
    result = cli("resolve", str(ticket), env=at(MON_1100))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert snapshot() == before


def test_close_reopen_and_feedback(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("resolve", str(ticket), "-m", "Done", env=at(MON_1100)))
    result = ok(cli("feedback", str(ticket), "--rating", "4", "-m", "Quick and friendly", env=at(MON_1100)))
    assert "4/5" in result.stderr
    assert "closed" in ok(cli("close", str(ticket), env=at(MON_1200))).stderr
    record = show(cli, ticket, MON_1200)
    assert (record["status"], record["rating"]) == ("closed", 4)
    ok(cli("reopen", str(ticket), "-m", "Refund never arrived", env=at("2026-11-23T13:00:00+00:00")))
    record = show(cli, ticket, "2026-11-23T13:00:00+00:00")
    assert record["status"] == "in-progress"
    # the resolve target is pending again with its original due time; respond stays met
    assert {t["name"]: (t["state"], t["due_at"], t["met_at"]) for t in record["targets"]} == {
        "respond": ("met", "2026-11-23T14:00:00+00:00", MON_1100),
        "resolve": ("pending", "2026-12-07T17:00:00+00:00", None),
    }
    assert events(record) == ["logged", "resolved", "feedback", "closed", "reopened"]


def test_close_a_waiting_ticket(cli: Cli) -> None:
    ticket = log(cli, "Call back", "--channel", "phone")
    ok(cli("wait", str(ticket), env=at(MON_1100)))
    ok(cli("close", str(ticket), env=at(TUE_1000)))
    assert show(cli, ticket, TUE_1000)["status"] == "closed"


@pytest.mark.parametrize("rating", ["0", "6"])
def test_feedback_rating_out_of_range_is_refused(cli: Cli, snapshot: Callable[[], Snapshot], rating: str) -> None:
    ticket = log(cli, "Hello")
    ok(cli("resolve", str(ticket), "-m", "Done", env=at(MON_1100)))
    before = store_state(cli, snapshot, MON_1100)
    result = cli("feedback", str(ticket), "--rating", rating, env=at(MON_1100))
    assert_refused(result, 2, "1", "5", rating)
    assert store_state(cli, snapshot, MON_1100) == before


# -- show / explain -------------------------------------------------------------------------------------------------

SPEC_FIELDS = {
    "id",
    "subject",
    "kind",
    "channel",
    "priority",
    "status",
    "owner",
    "tier",
    "tier_name",
    "org",
    "category",
    "received_at",
    "expected_by",
    "targets",
}


def test_show_json_has_the_spec_fields_and_history(cli: Cli) -> None:
    ticket = log(cli, "Refund late", "--kind", "complaint", "--org", "Acme", "--category", "billing", "-o", "bob")
    ok(cli("ack", str(ticket), env=at(MON_1100)))
    record = show(cli, ticket, MON_1200)
    assert set(record) >= SPEC_FIELDS | {"history"}
    for target in record["targets"]:
        assert set(target) >= {"name", "due_at", "met_at", "state", "remaining_working_minutes"}
        assert target["state"] in {"pending", "met", "breached", "paused"}
    assert [t["name"] for t in record["targets"]] == ["acknowledge", "respond", "update", "resolve"]
    # at Mon 12:00: respond due Mon 30 17:00 → 5h Mon + 4 × 8h Tue–Fri + 8h Mon 30 = 45h = 2700 min
    assert targets(record)["respond"]["remaining_working_minutes"] == 2700
    # resolve due Mon 21 Dec 17:00 → 45h to Mon 30 17:00 + 15 working days Tue 1 … Mon 21 Dec × 8h = 165h
    assert targets(record)["resolve"]["remaining_working_minutes"] == 165 * 60
    assert [(e["event"], e["actor"], e["at"]) for e in record["history"]] == [
        ("logged", "alice", MON_1000),
        ("acknowledged", "alice", MON_1100),
    ]


def test_show_human_has_fields_targets_countdowns_and_history(cli: Cli) -> None:
    ticket = log(cli, "Refund late", "--kind", "complaint", "--org", "Acme", "--owner", "bob")
    ok(cli("ack", str(ticket), "-m", "Letter sent", env=at(MON_1100)))
    out = ok(cli("show", str(ticket), env=at(MON_1200))).stdout
    assert out.startswith(f"#{ticket} Refund late")
    for text in ("acknowledged", "complaint", "Acme", "bob", "Support", "Mon 2026-11-23 10:00"):
        assert text in out
    assert "2026-11-30T17:00:00+00:00" in out  # piped: ISO due times (respond Mon 23 + 5wd)
    assert "5d 5h" in out  # respond countdown at Mon 12:00: 45h = 5 days of 8h + 5h
    assert "History" in out
    assert "alice: logged" in out
    assert "alice: acknowledged — Letter sent" in out


def test_explain_shows_the_clock_start_rule_version_and_skipped_holidays(cli: Cli) -> None:
    wed = "2026-12-23T12:00:00+00:00"
    ticket = log(cli, "Christmas complaint", "--kind", "complaint", now=wed)
    out = ok(cli("explain", str(ticket), env=at(wed))).stdout
    assert "policy version 1" in out
    assert "rule 1" in out
    assert "clock starts Wed 2026-12-23 12:00" in out
    # respond 5wd → Mon 4 Jan 17:00, skipping Fri 25 Dec, Mon 28 Dec and Fri 1 Jan
    assert "Mon 2027-01-04 17:00" in out
    assert "2026-12-25" in out
    assert "2026-12-28" in out
    assert "Christmas" in out
    explained = json.loads(ok(cli("explain", str(ticket), "respond", "--json", env=at(wed))).stdout)
    assert [item["target"] for item in explained["targets"]] == ["respond"]
    assert [day["date"] for day in explained["targets"][0]["days_skipped"]] == [
        "2026-12-25",
        "2026-12-28",
        "2027-01-01",
    ]


def test_explain_two_working_days_over_christmas(cli: Cli, tmp_path: Path) -> None:
    policy = tmp_path / "two.toml"
    policy.write_text(
        'name = "Two days"\n[[targets]]\nmatch = {}\nacknowledge = "2wd"\nresolve = "10wd"\n', encoding="utf-8"
    )
    wed = "2026-12-23T12:00:00+00:00"
    ok(cli("policy", "set", str(policy), env=at(wed)))
    ticket = log(cli, "Letter", now=wed)
    # Wed 23 Dec (day 0) + 2wd: Thu 24 (1), [Fri 25, Sat, Sun, Mon 28 skipped], Tue 29 (2) → Tue 29 Dec 17:00
    assert targets(show(cli, ticket, wed))["acknowledge"]["due_at"] == "2026-12-29T17:00:00+00:00"
    out = ok(cli("explain", str(ticket), "acknowledge", env=at(wed))).stdout
    assert "policy version 2" in out
    assert "Tue 2026-12-29 17:00" in out
    assert "clock starts Wed 2026-12-23 12:00" in out
    skipped = [line.strip() for line in out.splitlines() if line.strip().startswith("skipped")]
    assert len(skipped) == 2
    assert "2026-12-25" in skipped[0]
    assert "2026-12-28" in skipped[1]


# -- list -----------------------------------------------------------------------------------------------------------


def build_dataset(cli: Cli) -> None:
    """Six tickets; their next due times at Mon 23 12:00 are in the comments."""
    # 1: email, acknowledged at 11:00 → next is respond: Mon 23 + 5wd → Mon 30 17:00
    log(cli, "Printer jammed", "--owner", "bob", "--org", "Acme", "--category", "hardware", "--tag", "vip")
    ok(cli("ack", "1", env=at(MON_1100)))
    # 2: complaint received Fri 20 14:00 → acknowledge: Fri 20 + 1wd → Mon 23 17:00
    log(
        cli,
        "Refund late",
        "--kind",
        "complaint",
        "--priority",
        "high",
        "--owner",
        "carol",
        "--org",
        "Beta",
        "--category",
        "billing",
        "--tag",
        "refund",
        "--tag",
        "vip",
        "--received",
        "2026-11-20 14:00",
    )
    # 3: phone, unassigned → respond: Mon 10:00 + 4wh → Mon 14:00
    log(
        cli,
        "Call back",
        "--kind",
        "request",
        "--channel",
        "phone",
        "--priority",
        "urgent",
        "--org",
        "Acme",
        "--category",
        "billing",
    )
    # 4: chat compliment, resolved → no next due time
    log(cli, "Thanks", "--kind", "compliment", "--channel", "chat", "--priority", "low", "--owner", "bob")
    ok(cli("resolve", "4", "-m", "Said thanks", env=at(MON_1100)))
    # 5: letter received Mon 09:00, escalated to tier 1 → acknowledge: Mon 23 + 1wd → Tue 24 17:00
    log(cli, "Lost letter", "--channel", "letter", "--owner", "dave", "--received", "2026-11-23 09:00")
    ok(cli("escalate", "5", "--reason", "Lost twice", env=at(MON_1100)))
    # 6: sms, unassigned, waiting on the customer → every target paused, no next due time
    log(cli, "Need order number", "--channel", "sms")
    ok(cli("wait", "6", env=at(MON_1100)))


@pytest.fixture
def dataset(cli: Cli, store_copy: Callable[..., None]) -> Cli:
    """The six tickets of build_dataset, built once per backend and copied into each test's own store."""
    store_copy("tickets-dataset", build_dataset)
    return cli


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), [1, 2, 3, 4, 5, 6]),
        (("--status", "open"), [1, 2, 3, 5, 6]),
        (("--status", "resolved"), [4]),
        (("--status", "acknowledged"), [1]),
        (("--status", "new", "--status", "waiting"), [2, 3, 5, 6]),
        (("--status", "waiting"), [6]),
        (("--kind", "complaint"), [2]),
        (("--kind", "request", "--kind", "compliment"), [3, 4]),
        (("--channel", "phone"), [3]),
        (("--channel", "email", "--channel", "letter"), [1, 2, 5]),
        (("--priority", "urgent"), [3]),
        (("--priority", "low"), [4]),
        (("--priority", "normal"), [1, 5, 6]),
        (("--owner", "bob"), [1, 4]),
        (("--owner", "-"), [3, 6]),
        (("--owner", "carol", "--owner", "-"), [2, 3, 6]),
        (("--org", "Acme"), [1, 3]),
        (("--tier", "1"), [5]),
        (("--tier", "Customer Success Manager"), [5]),
        (("--tier", "Support"), [1, 2, 3, 4, 6]),
        (("--category", "billing"), [2, 3]),
        (("--tag", "vip"), [1, 2]),
        (("--tag", "vip", "--tag", "refund"), [2]),
        (("--since", "2026-11-23"), [1, 3, 4, 5, 6]),  # 2 was received Fri 20
        (("--since", "today 09:30"), [1, 3, 4, 6]),  # 5 was received Mon 09:00
        (("--until", "2026-11-23"), [2]),
        (("--since", "yesterday", "--until", "today 09:30"), [5]),
        (("--limit", "2"), [1, 2]),
        (("--sort", "received"), [2, 5, 1, 3, 4, 6]),  # Fri 20 14:00, Mon 09:00, then Mon 10:00 by id
        # next due: 3 Mon 14:00, 2 Mon 17:00, 5 Tue 17:00, 1 Mon 30 17:00; none for 4 and 6 (last, by id)
        (("--sort", "due"), [3, 2, 5, 1, 4, 6]),
        (("--sort", "priority"), [3, 2, 1, 5, 6, 4]),  # urgent, high, normal ×3, low
        (("--status", "open", "--owner", "bob"), [1]),
        (("--org", "Nowhere"), []),
    ],
)
def test_list_filters(dataset: Cli, filters: tuple[str, ...], expected: list[int]) -> None:
    assert ids(dataset("list", *filters, "-q", env=at(MON_1200))) == expected


def test_list_json(dataset: Cli) -> None:
    records = json.loads(ok(dataset("list", "--kind", "complaint", "--json", env=at(MON_1200))).stdout)
    assert len(records) == 1
    record = records[0]
    assert set(record) >= SPEC_FIELDS
    assert (record["id"], record["owner"], record["org"], record["category"]) == (2, "carol", "Beta", "billing")
    assert record["received_at"] == "2026-11-20T14:00:00+00:00"
    assert due_times(record) == {
        "acknowledge": "2026-11-23T17:00:00+00:00",  # Fri 20 + 1wd → Mon 23 17:00
        "respond": "2026-11-27T17:00:00+00:00",  # Fri 20 + 5wd: Mon 23 … Fri 27
        "update": "2026-11-27T17:00:00+00:00",
        "resolve": "2026-12-18T17:00:00+00:00",  # Fri 20 + 20wd: Fri 27 (5), Fri 4 (10), Fri 11 (15), Fri 18 (20)
    }
    assert targets(record)["acknowledge"]["remaining_working_minutes"] == 300  # Mon 12:00 → 17:00


def test_list_csv(dataset: Cli) -> None:
    out = ok(dataset("list", "--status", "new", "--csv", env=at(MON_1200))).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["id"] for row in rows] == ["2", "3", "5"]
    row = rows[1]
    assert (row["subject"], row["channel"], row["priority"], row["org"]) == ("Call back", "phone", "urgent", "Acme")
    assert (row["next_target"], row["due_at"]) == ("respond", "2026-11-23T14:00:00+00:00")  # Mon 10:00 + 4wh
    assert row["remaining_working_minutes"] == "120"  # Mon 12:00 → 14:00
    header_only = ok(dataset("list", "--org", "Nowhere", "--csv", env=at(MON_1200))).stdout
    assert len(header_only.splitlines()) == 1


def test_list_plain_and_empty(dataset: Cli) -> None:
    out = ok(dataset("list", "--owner", "bob", env=at(MON_1200))).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == ["1", "4"]
    assert "2026-11-30T17:00:00+00:00" in rows[0]  # ticket 1: respond Mon 23 + 5wd
    empty = ok(dataset("list", "--org", "Nowhere", env=at(MON_1200)))
    assert (empty.stdout, empty.stderr) == ("", "")
    assert json.loads(ok(dataset("list", "--org", "Nowhere", "--json", env=at(MON_1200))).stdout) == []


# -- due ------------------------------------------------------------------------------------------------------------


def test_due_orders_open_tickets_by_next_due_time_with_countdowns(dataset: Cli) -> None:
    assert ids(dataset("due", "-q", env=at(MON_1200))) == [3, 2, 5, 1]  # resolved 4 and paused 6 are not due
    out = ok(dataset("due", env=at(MON_1200))).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == ["3", "2", "5", "1"]
    expected = [
        ("respond", "2026-11-23T14:00:00+00:00", "2h"),  # 12:00 → 14:00
        ("acknowledge", "2026-11-23T17:00:00+00:00", "5h"),  # 12:00 → 17:00
        ("acknowledge", "2026-11-24T17:00:00+00:00", "1d 5h"),  # 5h Mon + 8h Tue = 13h
        ("respond", "2026-11-30T17:00:00+00:00", "5d 5h"),  # 5h Mon + 5 × 8h = 45h
    ]
    for row, (target, due_at, left) in zip(rows, expected, strict=True):
        assert target in row
        assert due_at in row
        assert row[-1] == left


def test_due_json_counts_negative_minutes_when_overdue(dataset: Cli) -> None:
    records = json.loads(ok(dataset("due", "--json", env=at(TUE_1000))).stdout)
    assert [r["id"] for r in records] == [3, 2, 5, 1]
    first = targets(records[0])["respond"]
    # due Mon 14:00; at Tue 10:00: 3h Mon (14–17) + 1h Tue (9–10) = 4h overdue
    assert (first["state"], first["remaining_working_minutes"]) == ("breached", -240)
    # due Mon 17:00 → 1h overdue at Tue 10:00
    assert targets(records[1])["acknowledge"]["remaining_working_minutes"] == -60
    # due Tue 17:00 → 7h left
    assert targets(records[2])["acknowledge"]["remaining_working_minutes"] == 420


def test_due_on_a_terminal_shows_a_table_with_overdue_countdowns(dataset: Cli) -> None:
    out = ok(dataset("due", env=at(TUE_1000, SUPPORTCLI_TERMINAL="1", NO_COLOR="1"))).stdout
    assert "\x1b[" not in out
    assert "#3" in out
    assert "overdue by 4h" in out  # ticket 3: respond due Mon 14:00, now Tue 10:00
    assert "overdue by 1h" in out  # ticket 2: acknowledge due Mon 17:00
    assert out.index("#3") < out.index("#2") < out.index("#5") < out.index("#1")


def test_terminal_tables_stop_at_the_cap_and_count_the_rest(dataset: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("supportcli.render.output.TERMINAL_TABLE_ROWS", 2)
    terminal = at(TUE_1000, SUPPORTCLI_TERMINAL="1", NO_COLOR="1")
    # due: 4 open tickets with a next due time; list: 5 open (#6 waits); overdue at Tue 10:00: #3 and #2
    for args, total in ((("due",), 4), (("list", "--status", "open"), 5), (("overdue",), 2)):
        shown = ok(dataset(*args, env=terminal))
        assert len(re.findall(r"^ *#\d", shown.stdout, re.MULTILINE)) == 2, args
        if total > 2:
            assert shown.stderr == (
                f"showing the first 2 of {total} rows; for every row, pipe the output (| less) or use --csv or --json\n"
            )
        else:
            assert shown.stderr == ""
    # an explicit --limit is the cap; piped output has every row
    assert len(re.findall(r"^ *#\d", ok(dataset("due", "--limit", "3", env=terminal)).stdout, re.MULTILINE)) == 3
    assert ok(dataset("due", "--limit", "3", env=terminal)).stderr == ""
    assert len(ok(dataset("due", env=at(TUE_1000))).stdout.splitlines()) == 4


@pytest.mark.parametrize(
    ("width", "headers"),
    [
        (70, ["ID", "Subject", "Owner", "Next", "Left"]),  # the status goes first, then the due time
        (80, ["ID", "Subject", "Status", "Owner", "Next", "Left"]),  # without the due time, the status fits again
        (96, ["ID", "Subject", "Owner", "Next", "Due", "Left"]),
        (140, ["ID", "Subject", "Status", "Owner", "Next", "Due", "Left"]),
    ],
)
def test_a_narrow_terminal_leaves_out_columns_before_the_subject_goes_thin(
    cli: Cli, width: int, headers: list[str]
) -> None:
    # the widest values: status "acknowledged", next target "acknowledge", a long owner, an overdue countdown
    subject = "The engineer did not come on Tuesday and nobody called to say so"
    log(cli, subject, "--owner", "christopher", "--received", "2026-11-20 09:00")
    log(cli, "Refund", "--owner", "christopher", "--received", "2026-11-20 09:00")
    ok(cli("ack", "2", env=at(MON_1100)))
    table = ok(cli("due", env=at(TUE_1000, SUPPORTCLI_TERMINAL="1", NO_COLOR="1", COLUMNS=str(width)))).stdout
    lines = table.splitlines()
    assert lines[0].split() == headers
    assert "acknowledged" in table if "Status" in headers else "acknowledged" not in table
    assert max(len(line) for line in lines) <= width
    column = lines[0].index("Subject")
    shown = " ".join(line[column:].split("  ")[0] for line in lines[1:] if line[column:].split("  ")[0])
    assert shown.startswith(subject)  # whole, in lines of at least 20 characters (the first says so)
    assert len(lines[1][column:].split("  ")[0]) >= 20


def test_due_filters(dataset: Cli) -> None:
    assert ids(dataset("due", "--limit", "2", "-q", env=at(MON_1200))) == [3, 2]
    assert ids(dataset("due", "--owner", "bob", "-q", env=at(MON_1200))) == [1]
    assert ids(dataset("--as", "dave", "due", "--mine", "-q", env=at(MON_1200))) == [5]


# -- actors ---------------------------------------------------------------------------------------------------------


def test_the_actor_comes_from_as_then_supportcli_user(cli: Cli) -> None:
    ticket = log(cli, "Hello")  # default SUPPORTCLI_USER=alice (conftest)
    ok(cli("--as", "bob", "ack", str(ticket), env=at(MON_1100)))
    ok(cli("update", str(ticket), "-m", "On it", env=at(MON_1100, SUPPORTCLI_USER="carol")))
    ok(cli("--as", "dave", "assign", str(ticket), "erin", env=at(MON_1100, SUPPORTCLI_USER="carol")))
    record = show(cli, ticket, MON_1200)
    assert [(e["event"], e["actor"]) for e in record["history"]] == [
        ("logged", "alice"),
        ("acknowledged", "bob"),
        ("updated", "carol"),
        ("assigned", "dave"),
    ]
    assert "bob: acknowledged" in ok(cli("show", str(ticket), env=at(MON_1200))).stdout


# -- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("show", "99"),
        ("show", "99", "--json"),
        ("explain", "99"),
        ("ack", "99"),
        ("update", "99", "-m", "x"),
        ("update", "99", "--internal", "-m", "x"),
        ("assign", "99", "bob"),
        ("escalate", "99", "--reason", "x"),
        ("wait", "99"),
        ("resume", "99"),
        ("extend", "99", "--until", "+5wd", "--reason", "x"),
        ("resolve", "99", "-m", "x"),
        ("close", "99"),
        ("reopen", "99", "-m", "x"),
        ("feedback", "99", "--rating", "3"),
    ],
)
def test_unknown_ticket_is_exit_3(cli: Cli, snapshot: Callable[[], Snapshot], command: tuple[str, ...]) -> None:
    log(cli, "Hello")
    before = snapshot()
    assert_refused(cli(*command, env=at(MON_1100)), 3, "#99")
    assert snapshot() == before


@pytest.mark.parametrize(
    "command",
    [
        ("log", "New", "--received", "tomorow"),
        ("update", "1", "-m", "x", "--next", "tomorow"),
        ("ack", "1", "--at", "tomorow"),
        ("extend", "1", "--until", "tomorow", "--reason", "x"),
        ("extend", "1", "--until", "+5 fortnights", "--reason", "x"),
        ("list", "--since", "tomorow"),
    ],
)
def test_bad_date_is_exit_2(cli: Cli, snapshot: Callable[[], Snapshot], command: tuple[str, ...]) -> None:
    log(cli, "Hello")
    before = store_state(cli, snapshot, MON_1100)
    bad = command[command.index("tomorow")] if "tomorow" in command else "+5 fortnights"
    assert_refused(cli(*command, env=at(MON_1100)), 2, repr(bad))
    assert store_state(cli, snapshot, MON_1100) == before


def test_received_in_the_future_is_exit_2(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    before = store_state(cli, snapshot, MON_1000)
    assert_refused(cli("log", "Later", "--received", "tomorrow 10:00", env=at(MON_1000)), 2, "future")
    assert store_state(cli, snapshot, MON_1000) == before


def test_bad_duration_is_exit_2(cli: Cli) -> None:
    result = cli("calendar", "due", "now", "5 fortnights", env=at(MON_1000))
    assert_refused(result, 2, "5 fortnights")


@pytest.mark.parametrize(
    ("command", "bad", "allowed"),
    [
        (("log", "New", "--kind", "grumble"), "grumble", ("enquiry", "request", "complaint", "compliment")),
        (
            ("log", "New", "--channel", "pigeon"),
            "pigeon",
            ("phone", "chat", "email", "letter", "social", "sms", "in-person", "portal", "web-form", "voicemail"),
        ),
        (("log", "New", "--priority", "meh"), "meh", ("low", "normal", "high", "urgent")),
        (
            ("list", "--status", "bogus"),
            "bogus",
            ("new", "acknowledged", "in-progress", "waiting", "resolved", "closed"),
        ),
        (("list", "--kind", "grumble"), "grumble", ("enquiry", "request", "complaint", "compliment")),
        (("list", "--channel", "pigeon"), "pigeon", ("phone", "email", "web-form", "voicemail")),
        (("list", "--sort", "colour"), "colour", ("id", "received", "updated", "due", "priority")),
    ],
)
def test_bad_enum_value_is_exit_2_and_lists_the_allowed_values(
    cli: Cli, snapshot: Callable[[], Snapshot], command: tuple[str, ...], bad: str, allowed: tuple[str, ...]
) -> None:
    log(cli, "Hello")
    before = store_state(cli, snapshot, MON_1100)
    assert_refused(cli(*command, env=at(MON_1100)), 2, repr(bad), *allowed)
    assert store_state(cli, snapshot, MON_1100) == before


def test_ack_twice_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    ok(cli("ack", str(ticket), env=at(MON_1100)))
    before = store_state(cli, snapshot, MON_1200)
    assert_refused(cli("ack", str(ticket), env=at(MON_1200)), 4, "acknowledged")
    assert store_state(cli, snapshot, MON_1200) == before


def test_resume_when_not_waiting_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    before = store_state(cli, snapshot, MON_1100)
    assert_refused(cli("resume", str(ticket), env=at(MON_1100)), 4, "new")
    assert store_state(cli, snapshot, MON_1100) == before


def test_wait_twice_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    ok(cli("wait", str(ticket), env=at(MON_1100)))
    before = store_state(cli, snapshot, MON_1200)
    assert_refused(cli("wait", str(ticket), env=at(MON_1200)), 4, "waiting")
    assert store_state(cli, snapshot, MON_1200) == before


def test_close_an_open_in_progress_ticket_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    ok(cli("update", str(ticket), "-m", "Looking into it", env=at(MON_1100)))
    assert show(cli, ticket, MON_1100)["status"] == "in-progress"
    before = store_state(cli, snapshot, MON_1200)
    assert_refused(cli("close", str(ticket), env=at(MON_1200)), 4, "in-progress")
    assert store_state(cli, snapshot, MON_1200) == before


def test_reopen_an_open_ticket_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    ok(cli("ack", str(ticket), env=at(MON_1100)))
    before = store_state(cli, snapshot, MON_1200)
    assert_refused(cli("reopen", str(ticket), "-m", "why", env=at(MON_1200)), 4, "acknowledged")
    assert store_state(cli, snapshot, MON_1200) == before


def test_feedback_on_an_open_ticket_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    before = store_state(cli, snapshot, MON_1100)
    assert_refused(cli("feedback", str(ticket), "--rating", "5", env=at(MON_1100)), 4, "new")
    assert store_state(cli, snapshot, MON_1100) == before


def test_changing_a_closed_ticket_is_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    ticket = log(cli, "Hello")
    ok(cli("resolve", str(ticket), "-m", "Done", env=at(MON_1100)))
    ok(cli("close", str(ticket), env=at(MON_1100)))
    before = store_state(cli, snapshot, MON_1200)
    for command in (
        ("resolve", str(ticket), "-m", "again"),
        ("update", str(ticket), "-m", "x"),
        ("escalate", str(ticket), "--reason", "x"),
        ("wait", str(ticket)),
        ("extend", str(ticket), "--until", "+5wd", "--reason", "x"),
    ):
        assert_refused(cli(*command, env=at(MON_1200)), 4, "closed")
    assert store_state(cli, snapshot, MON_1200) == before
