"""`staff` commands through the real CLI, and who handles an absent owner's tickets (seed 003)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from typer.testing import Result

from helpers import MON_1000, at
from helpers import MONDAY_10 as NOW
from supportcli.errors import InvalidInput, NotFound
from supportcli.store.database import Store
from supportcli.store.staff import (
    add_staff,
    email_of,
    get_staff,
    list_staff,
    responsible_for,
    set_away,
    set_back,
    staff_at_tier,
)

Cli = Callable[..., Result]
MONDAY = at(MON_1000)
FRIDAY = {"SUPPORTCLI_NOW": "2026-11-27T10:00:00+00:00"}
NEXT_WEEK = {"SUPPORTCLI_NOW": "2026-12-02T10:00:00+00:00"}


def add(cli: Cli, name: str, *extra: str) -> Result:
    result = cli("staff", "add", name, "--email", f"{name}@example.com", *extra, env=MONDAY)
    assert result.exit_code == 0, result.output
    return result


def listed(cli: Cli, env: dict[str, str]) -> dict[str, dict]:
    result = cli("staff", "list", "--json", env=env)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_add_then_list_json_gives_every_field(cli: Cli) -> None:
    added = add(cli, "priya")
    assert added.stdout == ""
    assert added.stderr.strip() == "added priya (priya@example.com) at tier Support"
    assert listed(cli, MONDAY) == {
        "priya": {
            "name": "priya",
            "email": "priya@example.com",
            "tier": 0,
            "tier_name": "Support",
            "status": "in",
            "away_until": None,
            "cover": None,
        }
    }


def test_tier_by_name_or_number_and_listing_order(cli: Cli) -> None:
    add(cli, "zoe")
    add(cli, "dana", "--tier", "director")
    add(cli, "sam", "--tier", "1")
    add(cli, "ann", "--tier", "Customer Success Manager")
    rows = json.loads(cli("staff", "list", "--json", env=MONDAY).stdout)
    assert [(row["name"], row["tier"], row["tier_name"]) for row in rows] == [
        ("zoe", 0, "Support"),
        ("ann", 1, "Customer Success Manager"),
        ("sam", 1, "Customer Success Manager"),
        ("dana", 2, "Director"),
    ]


def test_list_piped_csv_and_empty(cli: Cli) -> None:
    empty = cli("staff", "list", env=MONDAY)
    assert empty.exit_code == 0 and empty.stdout == ""
    assert json.loads(cli("staff", "list", "--json", env=MONDAY).stdout) == []
    add(cli, "priya")
    add(cli, "sam")
    assert cli("staff", "away", "priya", "--until", "2026-11-26 17:00", "--cover", "sam", env=MONDAY).exit_code == 0
    plain = cli("staff", "list", env=MONDAY).stdout.splitlines()
    assert plain == [
        "priya\tpriya@example.com\tSupport\taway\t2026-11-26T17:00:00+00:00\tsam",
        "sam\tsam@example.com\tSupport\tin\t\t",
    ]
    csv_lines = cli("staff", "list", "--csv", env=MONDAY).stdout.splitlines()
    assert csv_lines[0] == "name,email,tier_name,status,away_until,cover"
    assert csv_lines[1] == "priya,priya@example.com,Support,away,2026-11-26T17:00:00+00:00,sam"


def test_list_table_on_a_terminal(cli: Cli) -> None:
    add(cli, "priya")
    result = cli("staff", "list", env={**MONDAY, "SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert "Name" in result.stdout and "Status" in result.stdout and "priya" in result.stdout


def test_duplicate_name_exits_2(cli: Cli) -> None:
    add(cli, "priya")
    result = cli("staff", "add", "priya", "--email", "other@example.com", env=MONDAY)
    assert result.exit_code == 2
    assert result.stderr.strip() == "supportcli: error: staff member priya already exists"


def test_bad_tier_exits_2_listing_the_tiers(cli: Cli) -> None:
    result = cli("staff", "add", "priya", "--email", "p@example.com", "--tier", "boss", env=MONDAY)
    assert result.exit_code == 2
    assert "unknown tier 'boss' (tiers: Support, Customer Success Manager, Director)" in result.stderr
    assert cli("staff", "add", "priya", "--email", "p@example.com", "--tier", "7", env=MONDAY).exit_code == 2


@pytest.mark.parametrize("email", ["priya", "priya@", "@example.com", "pri ya@example.com", ""])
def test_bad_email_exits_2(cli: Cli, email: str) -> None:
    result = cli("staff", "add", "priya", "--email", email, env=MONDAY)
    assert result.exit_code == 2
    assert "bad e-mail address" in result.stderr
    assert listed(cli, MONDAY) == {}


def test_email_is_required(cli: Cli) -> None:
    assert cli("staff", "add", "priya", env=MONDAY).exit_code == 2


def test_away_and_back_change_the_status(cli: Cli) -> None:
    add(cli, "priya")
    add(cli, "sam")
    away = cli("staff", "away", "priya", "--until", "2026-12-01", "--cover", "sam", env=MONDAY)
    assert away.exit_code == 0, away.output
    assert away.stdout == ""
    # A date alone looks ahead to that day's closing time (README, "Time words").
    assert away.stderr.strip() == "priya is away until Tue 2026-12-01 17:00 GMT; sam covers"
    row = listed(cli, FRIDAY)["priya"]
    assert (row["status"], row["away_until"], row["cover"]) == ("away", "2026-12-01T17:00:00+00:00", "sam")
    assert listed(cli, NEXT_WEEK)["priya"]["status"] == "in"
    back = cli("staff", "back", "priya", env=FRIDAY)
    assert back.exit_code == 0 and back.stderr.strip() == "priya is back"
    row = listed(cli, FRIDAY)["priya"]
    assert (row["status"], row["away_until"], row["cover"]) == ("in", None, None)


def test_away_accepts_relative_times(cli: Cli) -> None:
    add(cli, "priya")
    add(cli, "sam")
    assert cli("staff", "away", "priya", "--until", "+3wd", "--cover", "sam", env=MONDAY).exit_code == 0
    assert listed(cli, MONDAY)["priya"]["away_until"] == "2026-11-26T17:00:00+00:00"


def test_away_says_when_the_cover_is_away_too(cli: Cli) -> None:
    for name in ("priya", "sam", "ann"):
        add(cli, name)
    assert cli("staff", "away", "sam", "--until", "+5wd", "--cover", "ann", env=MONDAY).exit_code == 0
    result = cli("staff", "away", "priya", "--until", "+2wd", "--cover", "sam", env=MONDAY)
    assert result.exit_code == 0
    assert "note: sam is also away, so ann handles priya's tickets for now" in result.stderr


def test_away_in_the_past_exits_2(cli: Cli) -> None:
    add(cli, "priya")
    add(cli, "sam")
    result = cli("staff", "away", "priya", "--until", "yesterday 17:00", "--cover", "sam", env=MONDAY)
    assert result.exit_code == 2
    assert result.stderr.strip() == "supportcli: error: --until must be in the future"
    assert listed(cli, MONDAY)["priya"]["status"] == "in"


def test_away_with_a_missing_cover_exits_3(cli: Cli) -> None:
    add(cli, "priya")
    result = cli("staff", "away", "priya", "--until", "+1wd", "--cover", "nobody", env=MONDAY)
    assert result.exit_code == 3
    assert result.stderr.strip() == "supportcli: error: cover 'nobody' is not a staff member (staff: priya)"


def test_away_covering_for_oneself_exits_2(cli: Cli) -> None:
    add(cli, "priya")
    result = cli("staff", "away", "priya", "--until", "+1wd", "--cover", "priya", env=MONDAY)
    assert result.exit_code == 2
    assert "cannot cover for themselves" in result.stderr


def test_away_needs_until_and_cover(cli: Cli) -> None:
    add(cli, "priya")
    assert cli("staff", "away", "priya", "--cover", "sam", env=MONDAY).exit_code == 2
    assert cli("staff", "away", "priya", "--until", "+1wd", env=MONDAY).exit_code == 2


def test_bad_until_exits_2(cli: Cli) -> None:
    add(cli, "priya")
    add(cli, "sam")
    assert cli("staff", "away", "priya", "--until", "someday", "--cover", "sam", env=MONDAY).exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ("staff", "away", "nobody", "--until", "+1wd", "--cover", "priya"),
        ("staff", "back", "nobody"),
    ],
)
def test_unknown_name_exits_3(cli: Cli, args: tuple[str, ...]) -> None:
    add(cli, "priya")
    result = cli(*args, env=MONDAY)
    assert result.exit_code == 3
    assert result.stderr.strip() == "supportcli: error: no staff member nobody (staff: priya)"
    assert "Traceback" not in result.output


def test_every_staff_command_has_examples(cli: Cli) -> None:
    for command in ("add", "list", "away", "back"):
        result = cli("staff", command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout, command


@pytest.fixture
def team(store: Store) -> Store:
    with store.write() as session:
        for name, tier in (("priya", 0), ("sam", 0), ("ann", 1), ("dana", 2)):
            add_staff(session, name, f"{name}@example.com", tier)
    return store


def responsible(store: Store, owner: str | None, at: datetime = NOW) -> str | None:
    with store.read() as session:
        return responsible_for(session, owner, at)


def away(store: Store, name: str, cover: str, days: int = 3) -> None:
    with store.write() as session:
        set_away(session, name, NOW + timedelta(days=days), cover, NOW)


def test_responsible_is_the_owner_while_they_are_in(team: Store) -> None:
    assert responsible(team, "priya") == "priya"


def test_responsible_is_the_cover_while_the_owner_is_away(team: Store) -> None:
    away(team, "priya", "sam")
    assert responsible(team, "priya") == "sam"
    assert responsible(team, "sam") == "sam"


def test_responsible_follows_the_cover_of_an_absent_cover(team: Store) -> None:
    away(team, "priya", "sam")
    away(team, "sam", "ann")
    assert responsible(team, "priya") == "ann"


def test_a_loop_of_covers_stops(team: Store) -> None:
    away(team, "priya", "sam")
    away(team, "sam", "ann")
    away(team, "ann", "priya")
    assert responsible(team, "priya") == "ann"
    assert responsible(team, "sam") == "priya"


def test_two_people_covering_each_other_stops(team: Store) -> None:
    away(team, "priya", "sam")
    away(team, "sam", "priya")
    assert responsible(team, "priya") == "sam"


def test_a_long_chain_is_followed_only_a_few_steps(store: Store) -> None:
    names = [f"agent{number}" for number in range(10)]
    with store.write() as session:
        for name in names:
            add_staff(session, name, f"{name}@example.com", 0)
    for name, cover in itertools.pairwise(names):
        away(store, name, cover)
    assert responsible(store, "agent0") == "agent5"


def test_responsible_is_the_owner_again_after_back(team: Store) -> None:
    away(team, "priya", "sam")
    with team.write() as session:
        set_back(session, "priya")
    assert responsible(team, "priya") == "priya"


def test_responsible_is_the_owner_again_once_the_absence_ends(team: Store) -> None:
    away(team, "priya", "sam", days=2)
    assert responsible(team, "priya", NOW + timedelta(days=2) - timedelta(seconds=1)) == "sam"
    assert responsible(team, "priya", NOW + timedelta(days=2)) == "priya"


def test_responsible_keeps_names_outside_the_directory_and_nobody(team: Store) -> None:
    assert responsible(team, "csm") == "csm"
    assert responsible(team, None) is None


def test_store_functions_check_their_input(team: Store) -> None:
    with team.read() as session:
        assert [member.name for member in list_staff(session)] == ["priya", "sam", "ann", "dana"]
        assert [member.name for member in staff_at_tier(session, 0)] == ["priya", "sam"]
        assert staff_at_tier(session, 5) == []
        assert get_staff(session, "ann").tier == 1
        assert email_of(session, "ann") == "ann@example.com"
        assert email_of(session, "csm") is None
        with pytest.raises(NotFound, match="no staff member nobody"):
            get_staff(session, "nobody")
    with pytest.raises(InvalidInput, match="already exists"), team.write() as session:
        add_staff(session, "priya", "p@example.com", 0)
    with pytest.raises(InvalidInput, match="in the future"), team.write() as session:
        set_away(session, "priya", NOW, "sam", NOW)
    with pytest.raises(NotFound), team.write() as session:
        set_away(session, "priya", NOW + timedelta(days=1), "nobody", NOW)


def test_show_says_when_the_owner_is_away_and_who_covers(cli: Cli) -> None:
    """``show`` names who handles an absent owner's ticket, as ``due --mine`` counts it for the cover; the
    note goes when the absence ends. The chain of covers is followed as ``responsible_for`` does."""
    for name in ("priya", "sam", "tom"):
        add(cli, name)
    logged = cli("log", "Boiler", "--owner", "priya", "-q", env=MONDAY)
    assert logged.exit_code == 0, logged.output

    def owner_line(env: dict[str, str]) -> str:
        shown = cli("show", logged.stdout.strip(), env=env)
        assert shown.exit_code == 0, shown.output
        return next(line.strip() for line in shown.stdout.splitlines() if line.strip().startswith("owner:"))

    assert owner_line(MONDAY) == "owner:       priya"
    assert cli("staff", "away", "priya", "--until", "2026-12-01", "--cover", "sam", env=MONDAY).exit_code == 0
    assert owner_line(FRIDAY) == "owner:       priya (away until Tue 2026-12-01 17:00 GMT; sam covers)"
    assert cli("staff", "away", "sam", "--until", "2026-11-30", "--cover", "tom", env=MONDAY).exit_code == 0
    assert owner_line(FRIDAY) == "owner:       priya (away until Tue 2026-12-01 17:00 GMT; tom covers)"
    assert owner_line(NEXT_WEEK) == "owner:       priya"
