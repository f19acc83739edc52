"""``list``'s filters through the real CLI on each backend: the customer lookups (``--email``, ``--name``,
``--phone``), ``--search``, ``--mine`` and ``--overdue``, text filters in any letter case, LIKE's wildcards
taken as plain characters, and each combined with the others."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from helpers import MON_1000, TUE_1000, Cli, Snapshot, at, log, ok, refused

LATER = TUE_1000  # ticket logged at MON_1000 with a 4-hour respond target are breached by then


def listed(cli: Cli, *options: str, now: str = MON_1000) -> list[int]:
    """The ids ``list`` finds with these options, in its order."""
    return [int(line) for line in ok(cli("list", "-q", *options, env=at(now))).stdout.split()]


@pytest.fixture
def customers(cli: Cli) -> dict[str, int]:
    """Four tickets of different customers, orgs, categories, owners and tags."""
    return {
        "ann": log(
            cli,
            "Refund for a late parcel",
            "--name",
            "Ann Lee",
            "--email",
            "Ann.Lee@Example.com",
            "--phone",
            "+44 7700 900123",
            "--org",
            "Acme Ltd",
            "--category",
            "Billing",
            "--tag",
            "VIP",
            "--owner",
            "Priya",
        ),
        "bo": log(
            cli,
            "Parcel left in the rain",
            "--name",
            "Bo Leeson",
            "--email",
            "bo@example.com",
            "--phone",
            "07700 900999",
            "--org",
            "acme ltd",
            "--category",
            "delivery",
            "--owner",
            "emma",
        ),
        "cy": log(cli, "Password reset", "--name", "Cy Twombly", "--email", "cy@example.org", "--tag", "vip"),
        "di": log(cli, "Invoice copy", "--name", "Di Prince", "--org", "Globex", "--tag", "billing"),
    }


# -- the customer lookups ------------------------------------------------------------------------------------------


def test_email_is_the_whole_address_in_any_case(cli: Cli, customers: dict[str, int]) -> None:
    assert listed(cli, "--email", "ann.lee@example.com") == [customers["ann"]]
    assert listed(cli, "--email", " ANN.LEE@EXAMPLE.COM ") == [customers["ann"]]
    assert listed(cli, "--email", "lee@example.com") == []  # not a part of an address
    assert listed(cli, "--email", "example.com") == []
    both = listed(cli, "--email", "bo@example.com", "--email", "cy@example.org")
    assert both == [customers["bo"], customers["cy"]]


def test_name_is_a_part_of_the_name_in_any_case(cli: Cli, customers: dict[str, int]) -> None:
    assert listed(cli, "--name", "lee") == [customers["ann"], customers["bo"]]
    assert listed(cli, "--name", "ANN   LEE") == [customers["ann"]]
    assert listed(cli, "--name", "twombly", "--name", "prince") == [customers["cy"], customers["di"]]
    assert listed(cli, "--name", "nobody") == []


def test_phone_numbers_are_compared_by_digits(cli: Cli, customers: dict[str, int]) -> None:
    ann, bo = customers["ann"], customers["bo"]
    assert listed(cli, "--phone", "07700 900123") == [ann]
    assert listed(cli, "--phone", "+44 (0)7700 900123") == [ann]
    assert listed(cli, "--phone", "7700-900-123") == [ann]
    assert listed(cli, "--phone", "+44 7700 900999") == [bo]  # stored without the country code
    assert listed(cli, "--phone", "900999") == [bo]  # the last digits
    assert listed(cli, "--phone", "07700 900124") == []
    assert listed(cli, "--phone", "n/a") == []


def test_lookups_work_in_every_format(cli: Cli, customers: dict[str, int]) -> None:
    tickets = json.loads(ok(cli("list", "--phone", "07700 900123", "--json", env=at(MON_1000))).stdout)
    assert [(t["id"], t["customer"]["phone"]) for t in tickets] == [(customers["ann"], "+44 7700 900123")]
    sheet = ok(cli("list", "--email", "BO@example.com", "--csv", env=at(MON_1000))).stdout.splitlines()
    assert sheet[0].startswith("id,subject,status,") and "rank" not in sheet[0]
    assert sheet[1].startswith(f"{customers['bo']},Parcel left in the rain,new,")
    plain = ok(cli("list", "--name", "twombly", env=at(MON_1000))).stdout
    assert plain.startswith(f"{customers['cy']}\tPassword reset\tnew\t")


# -- text filters in any case, wildcards as plain characters ----------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--org", "ACME LTD", ["ann", "bo"]),
        ("--org", "globex", ["di"]),
        ("--category", "billing", ["ann"]),
        ("--category", "DELIVERY", ["bo"]),
        ("--owner", "priya", ["ann"]),
        ("--owner", "EMMA", ["bo"]),
        ("--tag", "vip", ["ann", "cy"]),
        ("--tag", "Billing", ["di"]),
    ],
)
def test_text_filters_match_in_any_case(
    cli: Cli, customers: dict[str, int], option: str, value: str, expected: list[str]
) -> None:
    assert listed(cli, option, value) == [customers[name] for name in expected]


def test_a_text_filter_matches_the_whole_value_not_a_part(cli: Cli, customers: dict[str, int]) -> None:
    assert listed(cli, "--org", "acme") == []
    assert listed(cli, "--category", "bill") == []
    assert listed(cli, "--owner", "pri") == []
    assert listed(cli, "--tag", "vi") == []


@pytest.mark.parametrize("option", ["--org", "--category", "--owner", "--tag", "--name", "--email"])
def test_like_wildcards_in_a_text_filter_are_plain_characters(cli: Cli, option: str) -> None:
    """``list --tag %`` found every tagged ticket; each text filter now takes ``%``, ``_`` and ``\\`` as
    themselves."""
    stored = {  # what each filter compares with: the log option that sets it
        "--org": "--org",
        "--category": "--category",
        "--owner": "--owner",
        "--tag": "--tag",
        "--name": "--name",
        "--email": "--email",
    }[option]
    # An address must be one (``log`` checks it), so the e-mail cases end with a domain; none takes a backslash.
    domain = "@example.org" if option == "--email" else ""
    plain = log(cli, "Plain", stored, "ab" + domain)
    percent = log(cli, "Percent", stored, "a%" + domain)
    underscore = log(cli, "Underscore", stored, "a_" + domain)
    assert listed(cli, option, "a%" + domain) == [percent]
    assert listed(cli, option, "a_" + domain) == [underscore]
    assert listed(cli, option, "ab" + domain) == [plain]
    if option != "--email":
        backslash = log(cli, "Backslash", stored, "a\\")
        assert listed(cli, option, "a\\") == [backslash]
    for wildcard in ("%", "_", "__", "a%%", "\\%", "_b" + domain, "%" + domain):
        found = listed(cli, option, wildcard)
        assert plain not in found and (option == "--name" or found == []), (wildcard, found)


# -- --mine, --overdue and --search, and filters together -------------------------------------------------------------


def test_mine_is_what_i_own_in_any_case(cli: Cli, customers: dict[str, int]) -> None:
    assert listed(cli, "--mine") == []  # the tests' user owns nothing
    assert [int(x) for x in ok(cli("--as", "PRIYA", "list", "--mine", "-q", env=at(MON_1000))).stdout.split()] == [
        customers["ann"]
    ]
    assert ok(cli("--as", "priya", "list", "--mine", "--owner", "emma", "-q", env=at(MON_1000))).stdout == ""


def test_overdue_lists_tickets_with_a_breached_target(cli: Cli) -> None:
    urgent = log(cli, "Server down", "--priority", "urgent")
    calm = log(cli, "Question", "--priority", "low")
    done = log(cli, "Done already", "--priority", "urgent")
    ok(cli("resolve", str(done), "-m", "fixed", env=at(MON_1000)))
    assert listed(cli, "--overdue") == []
    later = "2026-12-23T10:00:00+00:00"  # weeks on: every target of the open tickets is breached
    assert listed(cli, "--overdue", now=later) == [urgent, calm]
    breached = {row["id"] for row in json.loads(ok(cli("overdue", "--json", env=at(later))).stdout)}
    assert set(listed(cli, "--overdue", now=later)) == breached


def test_email_combines_with_overdue_and_status(cli: Cli, customers: dict[str, int]) -> None:
    later = "2026-12-23T10:00:00+00:00"
    ann = customers["ann"]
    assert listed(cli, "--email", "ann.lee@example.com", "--overdue") == []
    assert listed(cli, "--email", "ann.lee@example.com", "--overdue", now=later) == [ann]
    ok(cli("resolve", str(ann), "-m", "refunded", env=at(later)))
    assert listed(cli, "--email", "ann.lee@example.com", "--overdue", now=later) == []
    assert listed(cli, "--email", "ann.lee@example.com", "--status", "resolved", now=later) == [ann]


def test_search_combines_with_every_filter(cli: Cli, customers: dict[str, int]) -> None:
    ann, bo = customers["ann"], customers["bo"]
    assert sorted(listed(cli, "--search", "parcel")) == [ann, bo]
    assert listed(cli, "--search", "parcel", "--tag", "vip") == [ann]
    assert listed(cli, "--search", "parcel", "--org", "ACME LTD", "--owner", "emma") == [bo]
    assert listed(cli, "--search", "parcel", "--status", "open", "--category", "delivery") == [bo]
    assert listed(cli, "--search", "parcel", "--name", "leeson", "--phone", "900999") == [bo]
    assert listed(cli, "--search", "parcel", "--status", "resolved") == []
    assert listed(cli, "--search", "parcel", "--sort", "id") == [ann, bo]


def test_search_is_best_first_unless_sorted(cli: Cli) -> None:
    in_body = log(cli, "Visit", "--body", "the boiler again")
    in_subject = log(cli, "Boiler broken")
    assert listed(cli, "--search", "boiler") == [in_subject, in_body]
    assert listed(cli, "--search", "boiler", "--sort", "best") == [in_subject, in_body]
    assert listed(cli, "--search", "boiler", "--sort", "id") == [in_body, in_subject]
    assert listed(cli, "--search", "boiler", "--limit", "1") == [in_subject]


def test_refusals_change_nothing(cli: Cli, customers: dict[str, int], snapshot: Callable[[], Snapshot]) -> None:
    before = snapshot()
    refused(cli("list", "--sort", "best", env=at(MON_1000)), 2, "unknown sort 'best'")
    refused(cli("list", "--sort", "nonsense", "--search", "x", env=at(MON_1000)), 2, "best")
    result = ok(cli("list", "--search", '"*"', env=at(MON_1000)))
    assert result.stdout == "" and "nothing to search for" in result.stderr
    assert snapshot() == before


def test_export_takes_the_new_filters(cli: Cli, customers: dict[str, int]) -> None:
    dump = ok(cli("export", "--format", "ndjson", "--search", "parcel", "--tag", "VIP", env=at(MON_1000))).stdout
    records = [json.loads(line) for line in dump.splitlines()]
    assert [record["id"] for record in records if record["type"] == "ticket"] == [customers["ann"]]


def test_text_filters_fold_letters_beyond_ascii_on_every_store(cli: Cli) -> None:
    """SQLite's own ``lower`` folds ASCII letters only: ``--name séan`` missed ``SÉAN Ó BRIAIN`` there while
    PostgreSQL found it. Both stores now fold every letter, in names, orgs, categories and tags alike."""
    sean = log(cli, "Boiler", "--name", "SÉAN Ó BRIAIN", "--org", "Crème Ltd", "--category", "Éire", "--tag", "ÜBER")
    other = log(cli, "Radiator", "--name", "Sean O Briain", "--org", "Creme Ltd")
    assert listed(cli, "--name", "séan ó") == [sean]
    assert listed(cli, "--name", "sean") == [other]  # é is not e: folding case, not accents
    assert listed(cli, "--org", "CRÈME LTD") == [sean]
    assert listed(cli, "--category", "éire") == [sean]
    assert listed(cli, "--tag", "über") == [sean]
    assert listed(cli, "--org", "creme ltd") == [other]
