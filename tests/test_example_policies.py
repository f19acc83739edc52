"""The example policies in examples/policies/: each loads cleanly and keeps its seed's promises.

Every expected due time below was worked out by hand from the seed's own words
(SPEC §3 rules, England & Wales holidays: 25 Dec 2026 Fri, 28 Dec 2026 Mon for
Boxing Day, 1 Jan 2027 Fri), not copied from the engine's output.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from supportcli.core.calendar import DayRule, calendar_for
from supportcli.core.durations import Duration, Unit
from supportcli.core.policy import Policy, TargetRule, load_policy, policy_warnings

POLICIES = Path(__file__).resolve().parents[1] / "examples" / "policies"
LONDON = ZoneInfo("Europe/London")
NO_CATCH_ALL = "no catch-all rule (match = {}): tickets that match no rule get no targets"
NO_SENDER = (
    "customer_mail is on but notify.email_from is empty: no customer mail is sent until it names "
    "the address customers reply to"
)

# Every example file with the warnings it is meant to give: a file missing here fails
# test_every_example_is_covered, so a new example cannot land without its tests.
EXPECTED_WARNINGS: dict[str, list[str]] = {
    # Phone/chat compliments have no promised deadline, so they match no rule.
    "000_customer_service.toml": [NO_CATCH_ALL],
    # Only emails carry a promise ("Respond to emails on the same business day").
    "001_point_progress.toml": [NO_CATCH_ALL],
    "002_websitecraft.toml": [],
    # Phone calls and visits in person are not ticket deadlines.
    "003_ledcom.toml": [NO_CATCH_ALL],
    # The feedback request is in the policy; the address it comes from is not.
    "004_cfh_docmail.toml": [NO_SENDER],
}


def load_example(name: str) -> Policy:
    """Load one example policy by file name; raises PolicyError when it has problems."""
    return load_policy((POLICIES / name).read_text(encoding="utf-8"), name)


def london(text: str) -> datetime:
    """An aware local time in Europe/London from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def rule(policy: Policy, *, kind: str = "enquiry", channel: str = "email", priority: str = "normal") -> TargetRule:
    """The rule a ticket with these fields gets; fails the test when no rule matches."""
    found = policy.rule_for(kind, channel, priority, None)
    assert found is not None, f"no rule for kind={kind} channel={channel}"
    return found


def due(policy: Policy, target_rule: TargetRule, target: str, received: str) -> datetime:
    """Due time (local) of one target of a rule for a ticket received at a local time."""
    return calendar_for(policy.calendar, 2026).due(london(received), target_rule.targets[target])


# -- every file --------------------------------------------------------------------


def test_every_example_is_covered() -> None:
    """Each TOML in examples/policies has an entry (and so behaviour tests) here, and vice versa."""
    assert sorted(path.name for path in POLICIES.glob("*.toml")) == sorted(EXPECTED_WARNINGS)


@pytest.mark.parametrize("name", sorted(EXPECTED_WARNINGS))
def test_example_loads_with_only_intended_warnings(name: str) -> None:
    policy = load_example(name)
    assert policy_warnings(policy) == EXPECTED_WARNINGS[name]
    assert policy.calendar.timezone == "Europe/London"
    assert (policy.calendar.country, policy.calendar.subdivision) == ("GB", "ENG")
    assert policy.calendar.day_rule is DayRule.CLOSE_OF_BUSINESS


# -- seed 000: Customer Service Policy -----------------------------------------------


def test_000_written_enquiry_ack_respond_resolve() -> None:
    policy = load_example("000_customer_service.toml")
    written = rule(policy, kind="enquiry", channel="email")
    assert set(written.targets) == {"acknowledge", "respond", "resolve"}
    # 3.1 a full working day; 3.2 five working days; 2.5 ten working days (Mon 23 Nov is day 0).
    assert due(policy, written, "acknowledge", "2026-11-23 10:00") == london("2026-11-24 17:00")
    assert due(policy, written, "respond", "2026-11-23 10:00") == london("2026-11-30 17:00")
    assert due(policy, written, "resolve", "2026-11-23 10:00") == london("2026-12-07 17:00")


def test_000_letter_before_christmas_acknowledged_next_full_working_day() -> None:
    policy = load_example("000_customer_service.toml")
    letter = rule(policy, kind="request", channel="letter")
    # Close-of-business reading of "within a full working day": Thu 24 Dec is working day 1.
    assert due(policy, letter, "acknowledge", "2026-12-23 12:00") == london("2026-12-24 17:00")


def test_000_complaints_close_in_20_working_days_whatever_the_channel() -> None:
    policy = load_example("000_customer_service.toml")
    by_email = rule(policy, kind="complaint", channel="email")
    by_phone = rule(policy, kind="complaint", channel="phone")
    assert by_email.targets["resolve"] == by_phone.targets["resolve"] == Duration(20, Unit.WORKING_DAYS)
    assert by_email.owner == by_phone.owner == "csm"
    # Mon 2 Nov is day 0; 20 working days (no November holidays) end Mon 30 Nov.
    assert due(policy, by_phone, "resolve", "2026-11-02 10:00") == london("2026-11-30 17:00")
    # Wed 16 Dec: 17,18,21,22,23,24,29,30,31 Dec, 4-8, 11-15, 18 Jan (25, 28 Dec, 1 Jan skipped).
    assert due(policy, by_email, "resolve", "2026-12-16 10:00") == london("2027-01-18 17:00")
    # A written complaint is still an email to acknowledge (3.1) within a full working day.
    assert due(policy, by_email, "acknowledge", "2026-12-16 10:00") == london("2026-12-17 17:00")
    assert "acknowledge" not in by_phone.targets


def test_000_tiers_escalate_from_csm_to_directors_by_hand_only() -> None:
    policy = load_example("000_customer_service.toml")
    assert policy.tiers == ("Customer Success Manager", "Managing Director or Technical Director")
    # 7.2: escalation follows customer dissatisfaction, not a missed deadline.
    assert not any(r.escalate_on_breach for r in policy.rules)
    # 3.4 gives no interval for "regular updates": no update target is invented.
    assert not any("update" in r.targets for r in policy.rules)


def test_000_phone_enquiry_resolve_only_and_phone_compliment_no_targets() -> None:
    policy = load_example("000_customer_service.toml")
    phone = rule(policy, kind="enquiry", channel="chat")
    assert phone.targets == {"resolve": Duration(10, Unit.WORKING_DAYS)}
    assert policy.rule_for("compliment", "phone", "normal", None) is None
    assert rule(policy, kind="compliment", channel="letter").targets == {"acknowledge": Duration(1, Unit.WORKING_DAYS)}


# -- seed 001: Point Progress --------------------------------------------------------


def test_001_email_answered_the_same_business_day() -> None:
    policy = load_example("001_point_progress.toml")
    email = rule(policy, channel="email")
    assert email.targets == {"acknowledge": Duration(0, Unit.WORKING_DAYS)}
    assert due(policy, email, "acknowledge", "2026-11-23 10:00") == london("2026-11-23 17:30")
    # After the 5.30pm close: the next business day.
    assert due(policy, email, "acknowledge", "2026-11-23 17:45") == london("2026-11-24 17:30")
    # Christmas Eve evening: 25 and 28 Dec are holidays, so Tue 29 Dec.
    assert due(policy, email, "acknowledge", "2026-12-24 18:00") == london("2026-12-29 17:30")


def test_001_other_channels_carry_no_promise() -> None:
    policy = load_example("001_point_progress.toml")
    assert policy.rule_for("enquiry", "portal", "normal", None) is None
    assert policy.rule_for("complaint", "phone", "normal", None) is None
    assert policy.tiers == ("Point Progress support",)


# -- seed 002: Websitecraft ----------------------------------------------------------


@pytest.mark.parametrize(("kind", "channel"), [("enquiry", "phone"), ("complaint", "email"), ("request", "web-form")])
def test_002_catch_all_acknowledges_the_same_working_day(kind: str, channel: str) -> None:
    policy = load_example("002_websitecraft.toml")
    catch_all = rule(policy, kind=kind, channel=channel)
    assert catch_all.match == {}
    assert catch_all.targets == {"acknowledge": Duration(0, Unit.WORKING_DAYS)}
    assert due(policy, catch_all, "acknowledge", "2026-11-23 10:00") == london("2026-11-23 17:00")
    # Saturday contact: by the close of Monday.
    assert due(policy, catch_all, "acknowledge", "2026-11-28 11:00") == london("2026-11-30 17:00")


def test_002_no_contractual_sla() -> None:
    policy = load_example("002_websitecraft.toml")
    assert len(policy.rules) == 1
    assert not policy.rules[0].escalate_on_breach
    assert policy.automation.auto_close_waiting_after is None
    assert policy.retention_resolved_for is None


# -- seed 003: LEDCOM ----------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "voicemail", "social", "email", "letter"])
def test_003_every_written_or_recorded_message_answered_in_one_working_day(channel: str) -> None:
    policy = load_example("003_ledcom.toml")
    message = rule(policy, channel=channel)
    assert message.targets == {"respond": Duration(1, Unit.WORKING_DAYS)}
    # Friday 16:45 is day 0: due at the close of Monday.
    assert due(policy, message, "respond", "2026-11-27 16:45") == london("2026-11-30 17:00")
    # Christmas Eve: 25 and 28 Dec are holidays, so Tue 29 Dec.
    assert due(policy, message, "respond", "2026-12-24 09:30") == london("2026-12-29 17:00")


@pytest.mark.parametrize("channel", ["phone", "in-person"])
def test_003_calls_and_visits_are_not_ticket_deadlines(channel: str) -> None:
    policy = load_example("003_ledcom.toml")
    assert policy.rule_for("enquiry", channel, "normal", None) is None


# -- seed 004: CFH Docmail -----------------------------------------------------------


def test_004_first_response_in_four_working_hours() -> None:
    policy = load_example("004_cfh_docmail.toml")
    ticket = rule(policy, kind="request", channel="portal", priority="high")
    # Fri 16:00-17:30 is 1.5h; the other 2.5h run from Mon 08:30: 11:00.
    assert due(policy, ticket, "respond", "2026-11-27 16:00") == london("2026-11-30 11:00")
    # Saturday e-mail "actioned during the next business day": 08:30 + 4h.
    assert due(policy, ticket, "respond", "2026-11-28 11:00") == london("2026-11-30 12:30")
    # Landing exactly on the 17:30 close is that close, not the next opening.
    assert due(policy, ticket, "respond", "2026-11-30 13:30") == london("2026-11-30 17:30")


def test_004_conclusion_in_three_working_days_then_escalation() -> None:
    policy = load_example("004_cfh_docmail.toml")
    ticket = rule(policy, kind="enquiry", channel="email")
    # Fri 27 Nov is day 0: Mon 30, Tue 1, Wed 2 Dec, at the 17:30 close.
    assert due(policy, ticket, "resolve", "2026-11-27 16:00") == london("2026-12-02 17:30")
    # Wed 23 Dec: Thu 24, Tue 29, Wed 30 Dec (25 and 28 Dec are holidays).
    assert due(policy, ticket, "resolve", "2026-12-23 12:00") == london("2026-12-30 17:30")
    assert ticket.escalate_on_breach
    assert policy.tiers == ("Product Support", "Higher Support", "Management")


def test_004_automation_feedback_and_retention() -> None:
    policy = load_example("004_cfh_docmail.toml")
    assert policy.automation.auto_close_waiting_after == Duration(5, Unit.DAYS)
    assert policy.retention_resolved_for == Duration(2, Unit.YEARS)
    assert policy.customer_mail.feedback_request
    assert not policy.customer_mail.acknowledge
