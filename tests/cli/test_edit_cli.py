"""``edit`` through the real CLI on each backend: every field, ``-`` clearing, several ids all or nothing,
``--dry-run``, re-planning (urgent tightening, targets dropped and added, met ones kept, waiting time still
left out), closed and purged tickets, what ``show`` and ``explain`` say, and the search index and phone key.

The policy of these tests (``POLICY``): urgent tickets are acknowledged within 1wh, answered within 2wh
and resolved within 1wd; complaints get 1wd/5wd/20wd and an update every 5wd; anything else 4wh/10wd.
"Now" is Mon 2026-11-23 10:00 GMT unless a test says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from helpers import MON_1000, MON_1100, MON_1200, Cli, Snapshot, at, log, ok, refused, show

POLICY = """
name = "Edit tests"
tiers = ["Support", "Manager"]

[calendar]
timezone = "Europe/London"
country = "GB"
subdivision = "ENG"
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-17:00"

[[targets]]
match = { priority = "urgent" }
acknowledge = "1wh"
respond = "2wh"
resolve = "1wd"

[[targets]]
match = { kind = "complaint" }
acknowledge = "1wd"
respond = "5wd"
resolve = "20wd"
update = "5wd"

[[targets]]
match = {}
respond = "4wh"
resolve = "10wd"
"""

MON_1030 = "2026-11-23T10:30:00+00:00"
MON_1400 = "2026-11-23T14:00:00+00:00"
MON_1500 = "2026-11-23T15:00:00+00:00"


@pytest.fixture
def policy(cli: Cli, tmp_path: Path) -> None:
    """The tests' policy, in effect from before any ticket they log."""
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    ok(cli("policy", "set", str(path), "--effective", "2026-01-01", env=at(MON_1000)))


def edit(cli: Cli, *args: str, now: str = MON_1000) -> Any:
    """Run ``edit`` and check it succeeded."""
    return ok(cli("edit", *args, env=at(now)))


def targets(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {target["name"]: target for target in ticket["targets"]}


def due(ticket: dict[str, Any]) -> dict[str, str]:
    return {target["name"]: target["due_at"] for target in ticket["targets"]}


def history(ticket: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    return [event for event in ticket["history"] if event["event"] in kinds]


def found(cli: Cli, *words: str) -> list[int]:
    result = ok(cli("search", "--json", "--", *words, env=at(MON_1100)))
    return [hit["id"] for hit in json.loads(result.stdout)]


# -- each field -------------------------------------------------------------------------------------------------------

FIELD_CASES = [
    ("--subject", "Printer smoking", "subject", "subject"),
    ("--body", "It smokes a lot", "body", "body"),
    ("--kind", "request", "kind", "kind"),
    ("--channel", "chat", "channel", "channel"),
    ("--priority", "high", "priority", "priority"),
    ("--category", "hardware", "category", "category"),
    ("--org", "Acme", "org", "org"),
    ("--name", "Ann Lee", "name", ("customer", "name")),
    ("--email", "ann@example.com", "email", ("customer", "email")),
    ("--phone", "+44 7700 900123", "phone", ("customer", "phone")),
]


def field_of(ticket: dict[str, Any], where: str | tuple[str, str]) -> Any:
    if isinstance(where, tuple):
        return ticket[where[0]][where[1]]
    return ticket[where]


@pytest.mark.parametrize(("option", "value", "name", "where"), FIELD_CASES)
def test_each_field_is_changed_with_one_event_naming_old_and_new(
    cli: Cli, policy: None, option: str, value: str, name: str, where: str | tuple[str, str]
) -> None:
    ticket_id = log(cli, "Printer", "--body", "Smoke")
    old = field_of(show(cli, ticket_id), where)
    edit(cli, str(ticket_id), option, value)
    after = show(cli, ticket_id)
    assert field_of(after, where) == value
    edited = history(after, "edited")
    assert [(e["data"]["field"], e["data"]["old"], e["data"]["new"]) for e in edited] == [(name, old, value)]
    assert edited[0]["actor"] == "alice"


def test_show_lists_each_change_old_to_new(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer", "--name", "Ann Le", "--tag", "print")
    edit(cli, str(ticket_id), "--name", "Ann Lee", "--category", "hardware", "--add-tag", "vip")
    shown = ok(cli("show", str(ticket_id), env=at(MON_1000))).stdout
    assert "alice: edited — name: 'Ann Le' → 'Ann Lee'" in shown
    assert "alice: edited — category: (none) → hardware" in shown
    assert "alice: edited — tags: print → print, vip" in shown


def test_received_is_changed_and_shown_in_local_time(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Letter", "--channel", "letter")
    result = edit(cli, str(ticket_id), "--received", "fri 16:45")
    assert "received: Mon 2026-11-23 10:00 GMT → Fri 2026-11-20 16:45 GMT" in result.stderr
    after = show(cli, ticket_id)
    assert after["received_at"] == "2026-11-20T16:45:00+00:00"
    # Re-planned from the new clock start: 4wh from Fri 16:45 is Mon 12:45.
    assert due(after)["respond"] == "2026-11-23T12:45:00+00:00"


def test_tags_are_added_and_removed(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer", "--tag", "print", "--tag", "office")
    edit(cli, str(ticket_id), "--add-tag", "vip", "--remove-tag", "office", "--add-tag", "vip")
    after = show(cli, ticket_id)
    assert after["tags"] == ["print", "vip"]
    assert [(e["data"]["old"], e["data"]["new"]) for e in history(after, "edited")] == [
        (["print", "office"], ["print", "vip"])
    ]


@pytest.mark.parametrize(
    ("option", "where"),
    [
        ("--body", "body"),
        ("--category", "category"),
        ("--org", "org"),
        ("--name", ("customer", "name")),
        ("--email", ("customer", "email")),
        ("--phone", ("customer", "phone")),
    ],
)
def test_a_dash_clears_a_field(cli: Cli, policy: None, option: str, where: str | tuple[str, str]) -> None:
    ticket_id = log(
        cli,
        "Printer",
        "--body",
        "Smoke",
        "--category",
        "hardware",
        "--org",
        "Acme",
        "--name",
        "Ann Lee",
        "--email",
        "ann@example.com",
        "--phone",
        "07700 900123",
    )
    edit(cli, str(ticket_id), option, "-")
    after = json.loads(ok(cli("show", str(ticket_id), "--json", env=at(MON_1000))).stdout)
    assert field_of(after, where) in (None, "")
    assert history(after, "edited")[0]["data"]["new"] in (None, "")


@pytest.mark.parametrize("option", ["--subject", "--kind", "--channel", "--priority", "--received"])
def test_a_field_a_ticket_always_has_cannot_be_cleared(
    cli: Cli, policy: None, snapshot: Callable[[], Snapshot], option: str
) -> None:
    ticket_id = log(cli, "Printer")
    before = snapshot()
    refused(cli("edit", str(ticket_id), option, "-", env=at(MON_1000)), 2, option.lstrip("-"))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "nothing to change"),
        (("--kind", "bogus"), "unknown kind 'bogus' (allowed: enquiry, request, complaint, compliment)"),
        (("--channel", "pigeon"), "unknown channel 'pigeon'"),
        (("--priority", "meh"), "unknown priority 'meh'"),
        (("--email", "not-an-address"), "bad e-mail address 'not-an-address'"),
        (("--phone", "call me"), "bad phone number 'call me'"),
        (("--received", "tomorrow"), "--received is in the future"),
        (("--received", "2026-13-01"), "bad date/time"),
        (("--add-tag", "a,b"), "a tag cannot contain a comma"),
        (("--add-tag", "x", "--remove-tag", "x"), "both added and removed"),
        (("--subject", " "), "the subject is empty"),
    ],
)
def test_bad_input_is_refused_with_exit_2_and_changes_nothing(
    cli: Cli, policy: None, snapshot: Callable[[], Snapshot], args: tuple[str, ...], fragment: str
) -> None:
    log(cli, "Printer")
    before = snapshot()
    refused(cli("edit", "1", *args, env=at(MON_1000)), 2, fragment)
    assert snapshot() == before


def test_received_after_the_ticket_was_logged_is_refused(
    cli: Cli, policy: None, snapshot: Callable[[], Snapshot]
) -> None:
    log(cli, "Printer")
    before = snapshot()
    line = refused(cli("edit", "1", "--received", "2026-11-23 11:00", env=at(MON_1200)), 2)
    assert line == (
        "supportcli: error: --received is after ticket #1 was logged (2026-11-23T10:00:00+00:00); "
        "a contact is received before it is logged"
    )
    assert snapshot() == before


def test_log_checks_e_mail_and_phone_as_edit_does(cli: Cli, policy: None) -> None:
    refused(cli("log", "x", "--email", "not-an-address", env=at(MON_1000)), 2, "bad e-mail address")
    refused(cli("log", "x", "--phone", "call me", env=at(MON_1000)), 2, "bad phone number")


def test_the_same_value_again_changes_nothing(cli: Cli, policy: None, snapshot: Callable[[], Snapshot]) -> None:
    ticket_id = log(cli, "Printer", "--priority", "high")
    before = snapshot()
    result = edit(cli, str(ticket_id), "--priority", "high")
    assert "#1 unchanged" in result.stderr
    assert snapshot() == before


# -- several tickets, dry run, JSON -------------------------------------------------------------------------------------


def test_several_ids_get_the_same_change(cli: Cli, policy: None) -> None:
    first, second = log(cli, "Printer"), log(cli, "Scanner")
    edit(cli, str(first), str(second), "--category", "hardware", "--priority", "urgent")
    for ticket_id in (first, second):
        after = show(cli, ticket_id)
        assert (after["category"], after["priority"], after["rule"]) == ("hardware", "urgent", 1)


@pytest.mark.parametrize("bad", ["99", "purged"])
def test_one_bad_id_changes_no_ticket(cli: Cli, snapshot: Callable[[], Snapshot], bad: str) -> None:
    old = log(cli, "Old one", "--name", "Zed Old", now="2023-06-01T10:00:00+00:00")
    ok(cli("resolve", str(old), "-m", "done", env=at("2023-06-01T11:00:00+00:00")))
    ok(cli("purge", env=at(MON_1000)))
    first, second = log(cli, "Printer"), log(cli, "Scanner")
    before = snapshot()
    bad_id, code = ("99", 3) if bad == "99" else (str(old), 4)
    refused(cli("edit", str(first), bad_id, str(second), "--category", "x", env=at(MON_1000)), code)
    assert snapshot() == before


def test_dry_run_shows_the_moved_due_times_and_changes_nothing(
    cli: Cli, policy: None, snapshot: Callable[[], Snapshot]
) -> None:
    ticket_id = log(cli, "Printer")
    before = snapshot()
    result = edit(cli, str(ticket_id), "--priority", "urgent", "--dry-run", "--json")
    assert snapshot() == before
    assert "#1 priority: normal → urgent" in result.stderr
    assert "#1 respond due 2026-11-23 14:00 → 2026-11-23 12:00" in result.stderr
    assert "#1 resolve due 2026-12-07 17:00 → 2026-11-24 17:00" in result.stderr
    assert "#1 acknowledge added: within 1wh under rule 1, due 2026-11-23 11:00" in result.stderr
    assert "dry run: nothing was changed" in result.stderr
    (would,) = json.loads(result.stdout)
    assert due(would)["respond"] == "2026-11-23T12:00:00+00:00"
    assert show(cli, ticket_id)["priority"] == "normal"


def test_json_writes_the_edited_tickets(cli: Cli, policy: None) -> None:
    first, second = log(cli, "Printer"), log(cli, "Scanner")
    result = edit(cli, str(first), str(second), "--org", "Acme", "--json")
    records = json.loads(result.stdout)
    assert [(r["id"], r["org"]) for r in records] == [(first, "Acme"), (second, "Acme")]
    listed = json.loads(ok(cli("list", "--json", env=at(MON_1000))).stdout)
    assert records == listed


def test_at_and_as_say_when_and_who(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer")
    ok(cli("--as", "priya", "edit", str(ticket_id), "--category", "x", "--at", "2026-11-23 10:30", env=at(MON_1100)))
    (event,) = history(show(cli, ticket_id), "edited")
    assert (event["actor"], event["at"]) == ("priya", "2026-11-23T10:30:00+00:00")


def test_an_edit_at_a_time_before_the_latest_event_is_refused_and_changes_nothing(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer")
    ok(cli("ack", str(ticket_id), "--at", "2026-11-23 10:30", env=at(MON_1100)))
    before = show(cli, ticket_id)
    refused(
        cli("edit", str(ticket_id), "--category", "x", "--at", "2026-11-23 10:15", env=at(MON_1100)), 2, "latest event"
    )
    assert show(cli, ticket_id) == before


# -- re-planning ----------------------------------------------------------------------------------------------------------


def test_upgrading_to_urgent_tightens_the_due_times_at_once_and_explain_says_why(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer on fire")
    assert due(show(cli, ticket_id)) == {
        "respond": "2026-11-23T14:00:00+00:00",
        "resolve": "2026-12-07T17:00:00+00:00",
    }
    edit(cli, str(ticket_id), "--priority", "urgent", now=MON_1030)
    after = show(cli, ticket_id, now=MON_1030)
    assert due(after) == {
        "acknowledge": "2026-11-23T11:00:00+00:00",
        "respond": "2026-11-23T12:00:00+00:00",
        "resolve": "2026-11-24T17:00:00+00:00",
    }
    assert (after["rule"], after["policy_version"]) == (1, show(cli, ticket_id)["policy_version"])
    listed = ok(cli("due", env=at(MON_1030))).stdout
    assert "acknowledge\t2026-11-23T11:00:00+00:00" in listed  # the ticket's next due time follows
    explained = ok(cli("explain", str(ticket_id), "respond", env=at(MON_1030))).stdout
    assert "rule 1: priority=urgent" in explained
    assert "respond within 2wh: due Mon 2026-11-23 12:00 GMT" in explained
    assert (
        "re-planned Mon 2026-11-23 10:30 GMT by alice after priority normal → urgent: was due Mon 2026-11-23 14:00 GMT"
        in explained
    )
    as_json = json.loads(ok(cli("explain", str(ticket_id), "--json", env=at(MON_1030))).stdout)
    respond = next(t for t in as_json["targets"] if t["target"] == "respond")
    assert respond["replanned"][0]["because"] == "priority normal → urgent"


def test_a_target_the_new_rule_drops_is_removed_and_one_it_adds_is_planned(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Engineer never came", "--kind", "complaint")
    assert set(due(show(cli, ticket_id))) == {"acknowledge", "respond", "update", "resolve"}
    edit(cli, str(ticket_id), "--kind", "enquiry")
    after = show(cli, ticket_id)
    assert due(after) == {"respond": "2026-11-23T14:00:00+00:00", "resolve": "2026-12-07T17:00:00+00:00"}
    removed = history(after, "target-removed")
    assert sorted(e["data"]["target"] for e in removed) == ["acknowledge", "update"]
    assert removed[0]["text"].endswith("removed: not a target under rule 3")
    assert history(after, "rule-changed")[0]["text"] == "rule 2 → rule 3"
    edit(cli, str(ticket_id), "--kind", "complaint")
    again = show(cli, ticket_id)
    assert due(again)["acknowledge"] == "2026-11-24T17:00:00+00:00"
    assert due(again)["update"] == "2026-11-30T17:00:00+00:00"
    assert sorted(e["data"]["target"] for e in history(again, "target-added")) == ["acknowledge", "update"]


def test_met_targets_stay_met_and_keep_whether_they_were_late(cli: Cli, policy: None) -> None:
    on_time = log(cli, "Engineer never came", "--kind", "complaint")
    late = log(cli, "Printer", "--priority", "urgent")
    ok(cli("ack", str(on_time), env=at(MON_1500)))  # within 1wd
    ok(cli("ack", str(late), env=at(MON_1500)))  # 4h after its 1wh
    edit(cli, str(on_time), "--priority", "urgent", now=MON_1500)  # 1wh now: 15:00 would be late
    edit(cli, str(late), "--priority", "normal", "--kind", "complaint", now=MON_1500)  # 1wd now: 15:00 on time
    kept = targets(show(cli, on_time, now=MON_1500))["acknowledge"]
    assert (kept["state"], kept["met_at"], kept["due_at"]) == (
        "met",
        "2026-11-23T15:00:00+00:00",
        "2026-11-24T17:00:00+00:00",
    )
    still_late = targets(show(cli, late, now=MON_1500))["acknowledge"]
    assert (still_late["state"], still_late["due_at"]) == ("breached", "2026-11-23T11:00:00+00:00")


def test_a_breach_already_notified_stays_recorded(cli: Cli, policy: None, store_url: str) -> None:
    ticket_id = log(cli, "Printer")
    ok(cli("overdue", "--notify", env=at(MON_1500)))  # respond was due 14:00
    result = edit(cli, str(ticket_id), "--channel", "chat", "--kind", "complaint", now=MON_1500)
    assert "respond due 2026-11-23 14:00 → 2026-11-30 17:00; it was overdue since 2026-11-23 14:00" in result.stderr
    moved = history(show(cli, ticket_id, now=MON_1500), "target-moved")
    assert any(e["data"]["target"] == "respond" and e["data"]["was_overdue"] for e in moved)
    engine = create_engine(store_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            marks = connection.execute(text("SELECT key FROM automation_marks")).scalars().all()
    finally:
        engine.dispose()
    assert f"breach:{ticket_id}:respond:2026-11-23T14:00:00+00:00" in marks


def test_waiting_time_already_spent_stays_left_out(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer")
    ok(cli("wait", str(ticket_id), env=at(MON_1100)))
    ok(cli("resume", str(ticket_id), env=at(MON_1400)))  # 3 working hours waited
    assert due(show(cli, ticket_id, now=MON_1400))["respond"] == "2026-11-23T17:00:00+00:00"
    edit(cli, str(ticket_id), "--priority", "urgent", now=MON_1400)
    after = show(cli, ticket_id, now=MON_1400)
    # 2wh from 10:00 is 12:00, plus the 3h waited: 15:00; the new acknowledge (1wh) 11:00 + 3h: 14:00.
    assert due(after)["respond"] == "2026-11-23T15:00:00+00:00"
    assert due(after)["acknowledge"] == "2026-11-23T14:00:00+00:00"


def test_a_waiting_ticket_is_re_planned_and_stays_paused(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer")
    ok(cli("wait", str(ticket_id), env=at(MON_1100)))
    edit(cli, str(ticket_id), "--kind", "complaint", now=MON_1200)
    paused = targets(show(cli, ticket_id, now=MON_1200))
    assert {name: t["state"] for name, t in paused.items()} == {
        "acknowledge": "paused",
        "respond": "paused",
        "update": "paused",
        "resolve": "paused",
    }
    ok(cli("resume", str(ticket_id), env=at(MON_1400)))
    # 1wd from Mon 10:00 is Tue 17:00; 3 working hours waited (11:00-14:00) move it to Wed 12:00.
    assert due(show(cli, ticket_id, now=MON_1400))["acknowledge"] == "2026-11-25T12:00:00+00:00"


def test_an_update_clock_restarted_by_an_update_keeps_its_start_and_an_agreed_time_its_time(
    cli: Cli, policy: None
) -> None:
    restarted = log(cli, "Engineer never came", "--kind", "complaint")
    agreed = log(cli, "Boiler", "--kind", "complaint")
    ok(cli("update", str(restarted), "-m", "Booked a visit", env=at(MON_1400)))
    ok(cli("update", str(agreed), "-m", "Call on Thursday", "--next", "2026-11-26 12:00", env=at(MON_1400)))
    # Received a working day earlier: the update clock restarted at Mon 14:00 keeps that start.
    edit(cli, str(restarted), str(agreed), "--received", "fri 10:00", now=MON_1500)
    moved = show(cli, restarted, now=MON_1500)
    assert due(moved)["update"] == "2026-11-30T17:00:00+00:00"  # 5wd from Mon 14:00, as before
    assert due(moved)["resolve"] == "2026-12-18T17:00:00+00:00"  # 20wd from Fri 2026-11-20
    assert due(show(cli, agreed, now=MON_1500))["update"] == "2026-11-26T12:00:00+00:00"
    explained = ok(cli("explain", str(restarted), "update", env=at(MON_1500))).stdout
    assert "update clock restarted Mon 2026-11-23 14:00 GMT" in explained


def test_explain_says_when_and_why_a_target_was_added(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer")
    edit(cli, str(ticket_id), "--kind", "complaint", now=MON_1030)
    explained = ok(cli("explain", str(ticket_id), "acknowledge", env=at(MON_1030))).stdout
    assert "acknowledge within 1wd: due Tue 2026-11-24 17:00 GMT" in explained
    assert "added Mon 2026-11-23 10:30 GMT by alice after kind enquiry → complaint" in explained


def test_a_closed_ticket_can_have_its_category_and_tags_corrected(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer", "--tag", "print")
    ok(cli("resolve", str(ticket_id), "-m", "fixed", env=at(MON_1100)))
    ok(cli("close", str(ticket_id), env=at(MON_1200)))
    edit(cli, str(ticket_id), "--category", "hardware", "--add-tag", "vip", now=MON_1200)
    after = show(cli, ticket_id, now=MON_1200)
    assert (after["status"], after["category"], after["tags"]) == ("closed", "hardware", ["print", "vip"])
    report = json.loads(
        ok(cli("report", "--by", "category", "--since", "2026-11-01", "--format", "json", env=at(MON_1200))).stdout
    )
    assert "hardware" in json.dumps(report)


def test_reclassifying_a_resolved_ticket_keeps_its_targets_met(cli: Cli, policy: None) -> None:
    ticket_id = log(cli, "Printer")
    ok(cli("resolve", str(ticket_id), "-m", "fixed", env=at(MON_1100)))
    edit(cli, str(ticket_id), "--kind", "complaint", now=MON_1200)
    after = targets(show(cli, ticket_id, now=MON_1200))
    assert {name: t["state"] for name, t in after.items()} == {
        "acknowledge": "met",
        "respond": "met",
        "update": "met",
        "resolve": "met",
    }
    assert after["acknowledge"]["met_at"] == "2026-11-23T11:00:00+00:00"
    assert show(cli, ticket_id, now=MON_1200)["status"] == "resolved"


def test_a_purged_ticket_is_refused_with_exit_4(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    old = log(cli, "Old one", "--name", "Zed Old", now="2023-06-01T10:00:00+00:00")
    ok(cli("resolve", str(old), "-m", "done", env=at("2023-06-01T11:00:00+00:00")))
    ok(cli("purge", env=at(MON_1000)))
    before = snapshot()
    refused(cli("edit", str(old), "--priority", "urgent", env=at(MON_1000)), 4, "purged")
    refused(cli("edit", str(old), "--category", "x", env=at(MON_1000)), 4, "purged")
    assert snapshot() == before


# -- search index and phone key -------------------------------------------------------------------------------------------


def test_search_finds_the_new_text_and_not_the_old(cli: Cli, policy: None) -> None:
    ticket_id = log(
        cli,
        "Quokka printer",
        "--body",
        "A wombat jammed it",
        "--name",
        "Ann Lee",
        "--email",
        "ann.lee@example.com",
        "--phone",
        "+44 7700 900123",
        "--org",
        "Acme",
        "--category",
        "billing",
        "--tag",
        "vip",
    )
    edit(
        cli,
        str(ticket_id),
        "--subject",
        "Platypus scanner",
        "--body",
        "An echidna jammed it",
        "--name",
        "Bob Marsh",
        "--email",
        "bob.marsh@example.org",
        "--phone",
        "+44 7700 900456",
        "--org",
        "Globex",
        "--category",
        "hardware",
        "--remove-tag",
        "vip",
        "--add-tag",
        "gold",
    )
    for word in ("platypus", "echidna", "Marsh", "bob.marsh@example.org", "900456", "globex", "hardware", "gold"):
        assert found(cli, word) == [ticket_id], word
    for word in ("quokka", "wombat", "Lee", "ann.lee@example.com", "900123", "acme", "billing", "vip"):
        assert found(cli, word) == [], word


def phone_key_of(store_url: str, ticket_id: int) -> str | None:
    engine = create_engine(store_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            query = text("SELECT customer_phone_key FROM tickets WHERE id = :id")
            return connection.execute(query, {"id": ticket_id}).scalar()
    finally:
        engine.dispose()


def test_the_phone_key_follows_the_new_number(cli: Cli, policy: None, store_url: str) -> None:
    ticket_id = log(cli, "Printer", "--phone", "07700 900123")
    edit(cli, str(ticket_id), "--phone", "+44 (0)20 7946 0999")
    assert phone_key_of(store_url, ticket_id) == "999064970244"  # the digits 442079460999, reversed
    edit(cli, str(ticket_id), "--phone", "-")
    assert phone_key_of(store_url, ticket_id) is None


def test_purge_leaves_no_old_value_an_edit_recorded(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    then, later = "2023-06-01T10:00:00+00:00", "2023-06-01T11:00:00+00:00"
    ticket_id = log(cli, "Refund", "--name", "Zebedee Old", "--email", "zebedee@old.example", now=then)
    ok(cli("edit", str(ticket_id), "--name", "Zebedee New", "--email", "zebedee@new.example", env=at(later)))
    ok(cli("resolve", str(ticket_id), "-m", "done", env=at(later)))
    ok(cli("purge", env=at(MON_1000)))
    stored = repr(snapshot())
    for value in ("Zebedee", "zebedee@old.example", "zebedee@new.example"):
        assert value not in stored, value
    fields = [e["data"].get("field") for e in history(show(cli, ticket_id), "edited")]
    assert fields == ["name", "email"]  # which fields were corrected stays, for the record
