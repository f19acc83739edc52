"""Policy validation: each kind of bad file gets its own specific message, with key and line."""

from __future__ import annotations

import pytest

from supportcli.core.durations import Duration, Unit
from supportcli.core.policy import Notify, PolicyError, default_policy_source, load_policy, policy_warnings
from supportcli.core.targets import TARGET_KINDS, TargetKind

GOOD = """
name = "Team"
tiers = ["Support", "Manager"]

[calendar]
timezone = "Europe/London"
hours = { mon = "09:00-17:00", tue = "09:00-17:00", fri = "09:00-16:00" }

[[targets]]
match = { kind = "complaint" }
resolve = "20wd"
escalate_on_breach = true

[[targets]]
match = { channel = ["email", "letter"], priority = "high" }
acknowledge = "1 working day"

[[targets]]
match = {}
respond = "4wh"
"""


def problems_of(source: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(source, "test.toml")
    return [str(problem) for problem in caught.value.problems]


def test_default_policy_is_valid_and_has_a_catch_all() -> None:
    policy = load_policy(default_policy_source())
    assert policy.calendar.subdivision == "ENG"
    assert policy.rule_for("enquiry", "phone", "normal", None) is policy.rules[-1]
    assert policy_warnings(policy) == []


def test_good_policy_parses_rules_and_per_weekday_hours() -> None:
    policy = load_policy(GOOD)
    assert policy.tiers == ("Support", "Manager")
    assert policy.calendar.workdays == (0, 1, 4)
    assert str(policy.calendar.hours_on(4)) == "09:00-16:00"
    assert policy.calendar.hours_on(2) is None
    assert policy.rules[1].targets["acknowledge"] == Duration(1, Unit.WORKING_DAYS)


def test_first_matching_rule_wins() -> None:
    policy = load_policy(GOOD)
    assert policy.rule_for("complaint", "email", "high", None).number == 1
    assert policy.rule_for("enquiry", "email", "high", None).number == 2
    assert policy.rule_for("enquiry", "email", "normal", None).number == 3
    assert policy.rule_for("enquiry", "phone", "high", "Acme").number == 3


def test_org_matching() -> None:
    policy = load_policy('[[targets]]\nmatch = { org = "Acme" }\nresolve = "1wd"\n')
    assert policy.rule_for("enquiry", "email", "normal", "Acme").number == 1
    assert policy.rule_for("enquiry", "email", "normal", "Other") is None
    assert policy_warnings(policy) == ["no catch-all rule (match = {}): tickets that match no rule get no targets"]


def test_unknown_top_level_key_is_reported_with_its_line() -> None:
    assert problems_of('name = "x"\ncolour = "red"\n') == [
        "line 2: colour: unknown key (allowed: automation, calendar, customer_mail, description, name, notify, "
        "retention, targets, tiers)"
    ]


def test_bad_timezone() -> None:
    assert problems_of('[calendar]\ntimezone = "Europe/Lundon"\n') == [
        "line 2: calendar.timezone: unknown timezone 'Europe/Lundon' (use an IANA name like Europe/London)"
    ]


@pytest.mark.parametrize(
    ("hours", "why"),
    [
        ('"17:00-09:00"', "closing must be after opening"),
        ('"9-5"', 'use "HH:MM-HH:MM"'),
        ('"25:00-26:00"', "not a time of day"),
    ],
)
def test_bad_hours(hours: str, why: str) -> None:
    (problem,) = problems_of(f"[calendar]\nhours = {hours}\n")
    assert problem.startswith("line 2: calendar.hours: bad hours")
    assert why in problem


def test_bad_weekday_in_hours_table() -> None:
    assert problems_of('[calendar]\nhours = { mon = "09:00-17:00", funday = "10:00-12:00" }\n') == [
        "line 2: calendar.hours.funday: unknown weekday (use mon, tue, wed, thu, fri, sat, sun)"
    ]


def test_workday_without_hours() -> None:
    assert problems_of('[calendar]\nworkdays = ["mon", "sat"]\nhours = { mon = "09:00-17:00" }\n') == [
        "line 2: calendar.workdays: sat is a workday but calendar.hours gives no hours for it"
    ]


def test_bad_subdivision_lists_the_allowed_ones() -> None:
    assert problems_of('[calendar]\nsubdivision = "YORKS"\n') == [
        "line 2: calendar.subdivision: unknown subdivision 'YORKS' of GB (allowed: ENG, NIR, SCT, WLS)"
    ]


def test_unknown_country() -> None:
    (problem,) = problems_of('[calendar]\ncountry = "XX"\n')
    assert problem.startswith("line 2: calendar.country: unknown country 'XX'")


def test_bad_duration_names_the_key_and_the_text() -> None:
    assert problems_of('[[targets]]\nmatch = {}\nresolve = "10 fortnights"\n') == [
        "line 3: targets[1].resolve: bad duration '10 fortnights': use e.g. 1wd, 4wh, 30wm, 5d, 8h, 2y or '5 working days'"
    ]


def test_unknown_match_value_lists_allowed_values() -> None:
    assert problems_of('[[targets]]\nmatch = { channel = "pigeon" }\nresolve = "1wd"\n') == [
        "line 2: targets[1].match.channel: unknown channel 'pigeon' (allowed: phone, chat, email, letter, social, "
        "sms, in-person, portal, web-form, voicemail)"
    ]


def test_unknown_match_key() -> None:
    assert problems_of('[[targets]]\nmatch = { colour = "red" }\nresolve = "1wd"\n') == [
        "line 2: targets[1].match.colour: unknown match key (allowed: kind, channel, priority, org)"
    ]


def test_unknown_key_in_a_rule() -> None:
    (problem,) = problems_of('[[targets]]\nmatch = {}\nresolve = "1wd"\nreslove = "2wd"\n')
    assert problem.startswith("line 4: targets[1].reslove: unknown key")


def test_empty_rule_is_rejected() -> None:
    assert problems_of("[[targets]]\nmatch = {}\n") == [
        "line 1: targets[1]: empty rule: sets none of acknowledge, respond, resolve, update"
    ]


def test_empty_match_list_is_rejected() -> None:
    assert problems_of('[[targets]]\nmatch = { kind = [] }\nresolve = "1wd"\n') == [
        "line 2: targets[1].match.kind: empty list: this rule would match nothing"
    ]


def test_overlapping_rule_that_can_never_apply_is_rejected() -> None:
    source = (
        '[[targets]]\nmatch = { kind = ["complaint", "request"] }\nresolve = "20wd"\n\n'
        '[[targets]]\nmatch = { kind = "complaint", channel = "email" }\nresolve = "5wd"\n'
    )
    assert problems_of(source) == [
        "line 5: targets[2]: overlaps rule targets[1] (kind=complaint|request), which matches every ticket "
        "this one does, so it can never apply"
    ]


def test_rule_after_catch_all_is_rejected() -> None:
    source = '[[targets]]\nmatch = {}\nresolve = "3wd"\n[[targets]]\nmatch = { kind = "complaint" }\nresolve = "20wd"\n'
    (problem,) = problems_of(source)
    assert problem.startswith("line 4: targets[2]: overlaps rule targets[1] (everything)")


def test_narrower_rule_before_broader_one_is_fine() -> None:
    source = (
        '[[targets]]\nmatch = { kind = "complaint", channel = "email" }\nresolve = "5wd"\n'
        '[[targets]]\nmatch = { kind = "complaint" }\nresolve = "20wd"\n'
    )
    assert [rule.number for rule in load_policy(source).rules] == [1, 2]


def test_bad_toml_reports_the_line() -> None:
    (problem,) = problems_of('name = "x"\ntiers = [\n')
    assert problem.startswith("line ")
    assert "not valid TOML" in problem


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    source = (
        'name = 3\n[calendar]\ntimezone = "Nowhere/Town"\nday_rule = "sometimes"\n[automation]\nwarn_before = "soon"\n'
    )
    problems = problems_of(source)
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 3", "line 4", "line 6"]


def test_retention_must_be_calendar_time() -> None:
    assert problems_of('[retention]\nresolved_for = "500wd"\n') == [
        "line 2: retention.resolved_for: use calendar time (e.g. 2y, 730d), not working time"
    ]


def test_closures_accept_dates_and_ranges() -> None:
    source = '[calendar]\nclosures = ["2026-12-29..2026-12-31", 2027-01-04]\n[[targets]]\nmatch = {}\nresolve = "1wd"\n'
    policy = load_policy(source)
    assert sorted(d.isoformat() for d in policy.calendar.closures) == [
        "2026-12-29",
        "2026-12-30",
        "2026-12-31",
        "2027-01-04",
    ]


def test_bad_closure() -> None:
    assert problems_of('[calendar]\nclosures = ["2026-12-31..2026-12-29"]\n') == [
        'line 2: calendar.closures: bad closure \'2026-12-31..2026-12-29\' (use "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD")'
    ]


def test_duplicate_tiers() -> None:
    assert problems_of('tiers = ["Support", "support"]\n') == ["line 1: tiers: tier names must be unique"]


def test_bad_notify_addresses() -> None:
    problems = problems_of('[notify]\nteam_email = "not-an-address"\nwebhook_url = "ftp://example.com"\n')
    assert problems == [
        "line 2: notify.team_email: not an e-mail address: 'not-an-address'",
        "line 3: notify.webhook_url: must be an http:// or https:// URL, not 'ftp://example.com'",
    ]


def test_notify_settings_are_read_as_typed_fields_empty_when_unset() -> None:
    policy = load_policy('[notify]\nteam_email = "team@example.com"\n[[targets]]\nmatch = {}\nresolve = "1wd"\n')
    assert policy.notify == Notify(email_from="", team_email="team@example.com", webhook_url="")
    assert load_policy(default_policy_source()).notify.webhook_url == ""


@pytest.mark.parametrize("kind", TARGET_KINDS, ids=lambda kind: kind.name)
def test_every_target_kind_is_a_key_of_a_rule(kind: TargetKind) -> None:
    policy = load_policy(f'[[targets]]\nmatch = {{}}\n{kind.name} = "2wd"\n')
    assert policy.rules[0].targets == {kind.name: Duration(2, Unit.WORKING_DAYS)}


@pytest.mark.parametrize("kind", [kind for kind in TARGET_KINDS if kind.recurring], ids=lambda kind: kind.name)
def test_a_recurring_target_of_zero_is_rejected(kind: TargetKind) -> None:
    assert problems_of(f'[[targets]]\nmatch = {{}}\n{kind.name} = "0wd"\n') == [
        f"line 3: targets[1].{kind.name}: a recurring {kind.name} target must be longer than zero"
    ]


@pytest.mark.parametrize(
    ("header", "key", "allowed"),
    [
        ("[calendar]", "calendar", "closures, country, day_rule, hours, subdivision, timezone, workdays"),
        ("[automation]", "automation", "auto_close_waiting_after, reopen_on_reply, warn_before"),
        ("[retention]", "retention", "resolved_for"),
        ("[notify]", "notify", "email_from, team_email, webhook_url"),
        ("[customer_mail]", "customer_mail", "acknowledge, feedback_request, resolve, templates, update"),
        (
            "[[targets]]\nmatch = {}",
            "targets[1]",
            "acknowledge, escalate_on_breach, match, owner, resolve, respond, update",
        ),
    ],
)
def test_an_unknown_key_of_a_section_lists_that_sections_keys(header: str, key: str, allowed: str) -> None:
    source = f"{header}\ncolour = 1\n"
    line = source.count("\n")
    assert f"line {line}: {key}.colour: unknown key (allowed: {allowed})" in problems_of(source)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("name = 3\n", "line 1: name: must be a string"),
        ("calendar = 3\n", "line 1: calendar: must be a table"),
        ("[automation]\nreopen_on_reply = 1\n", "line 2: automation.reopen_on_reply: must be true or false"),
        ('[[targets]]\nmatch = {}\nresolve = "1wd"\nowner = 3\n', "line 4: targets[1].owner: must be a string"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_type_wanted(source: str, problem: str) -> None:
    assert problem in problems_of(source)
