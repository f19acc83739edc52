"""Staff names are checked where they are written, and cover works both ways (docs/tickets.md, "Owners and cover"),
through the real CLI on each backend.

Once the staff directory has anyone in it, ``log --owner``, ``assign``, ``staff away --cover`` and a policy rule's
``owner`` must name a staff member (exit 3, with the nearest names); an empty directory keeps free-form names;
the acting user and list filters are never refused. While priya is away with sam covering, sam's ``--mine``
includes priya's tickets, marked as cover.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from helpers import MON_1000, Snapshot, at, log, ok, refused, show

Cli = Callable[..., Result]
NOW = at(MON_1000)
TUESDAY = at("2026-11-24T10:00:00+00:00")

OWNED_POLICY = 'name = "Team"\n[[targets]]\nmatch = {}\nrespond = "4wh"\nowner = "{owner}"\n'


def team(cli: Cli, *names: str) -> None:
    for name in names:
        ok(cli("staff", "add", name, "--email", f"{name}@example.com", env=NOW))


def owned_policy(tmp_path: Path, owner: str) -> str:
    path = tmp_path / f"{owner}.toml"
    path.write_text(OWNED_POLICY.replace("{owner}", owner), encoding="utf-8")
    return str(path)


def test_an_empty_directory_keeps_free_form_names(cli: Cli, tmp_path: Path) -> None:
    assert refused(cli("staff", "back", "priya", env=NOW), 3) == "supportcli: error: no staff member priya"
    ticket_id = log(cli, "Boiler", "--owner", "csm")
    ok(cli("assign", str(ticket_id), "anyone@example.com", env=NOW))
    assert show(cli, ticket_id)["owner"] == "anyone@example.com"
    ok(cli("policy", "set", owned_policy(tmp_path, "csm"), env=NOW))


def test_log_owner_must_name_a_staff_member(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    team(cli, "priya", "sam")
    before = snapshot()
    line = refused(cli("log", "Boiler", "--owner", "prya", env=NOW), 3)
    assert line == "supportcli: error: owner 'prya' is not a staff member (did you mean priya?)"
    assert snapshot() == before
    assert show(cli, log(cli, "Boiler", "--owner", "priya"))["owner"] == "priya"


def test_assign_must_name_a_staff_member_and_unassigning_still_works(
    cli: Cli, snapshot: Callable[[], Snapshot]
) -> None:
    team(cli, "priya", "sam")
    ticket_id = log(cli, "Boiler", "--owner", "sam")
    before = snapshot()
    line = refused(cli("assign", str(ticket_id), "Sam", env=NOW), 3)
    assert line == "supportcli: error: owner 'Sam' is not a staff member (did you mean sam?)"
    # Nothing near: the (small) directory is listed.
    far = refused(cli("assign", str(ticket_id), "zebedee", env=NOW), 3)
    assert far == "supportcli: error: owner 'zebedee' is not a staff member (staff: priya, sam)"
    assert snapshot() == before
    ok(cli("assign", str(ticket_id), "priya", env=NOW))
    ok(cli("assign", str(ticket_id), "-", env=NOW))
    assert show(cli, ticket_id)["owner"] is None


def test_away_cover_must_name_a_staff_member(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    team(cli, "priya", "sam")
    before = snapshot()
    line = refused(cli("staff", "away", "priya", "--until", "+2wd", "--cover", "sma", env=NOW), 3)
    assert line == "supportcli: error: cover 'sma' is not a staff member (did you mean sam?)"
    missing = refused(cli("staff", "back", "pryia", env=NOW), 3)
    assert missing == "supportcli: error: no staff member pryia (did you mean priya?)"
    assert snapshot() == before


def test_a_policy_rule_owner_must_name_a_staff_member_and_check_warns(
    cli: Cli, tmp_path: Path, snapshot: Callable[[], Snapshot]
) -> None:
    team(cli, "priya", "sam")
    bad = owned_policy(tmp_path, "prya")
    checked = ok(cli("policy", "check", bad, env=NOW))
    assert (
        f"{bad}: warning: rule 1: owner 'prya' is not a staff member (did you mean priya?); policy set refuses it"
        in checked.stderr
    )
    before = snapshot()
    line = refused(cli("policy", "set", bad, env=NOW), 3)
    assert line == "supportcli: error: rule 1: owner 'prya' is not a staff member (did you mean priya?)"
    assert snapshot() == before
    ok(cli("policy", "set", owned_policy(tmp_path, "priya"), env=NOW))
    assert "warning" not in ok(cli("policy", "check", owned_policy(tmp_path, "priya"), env=NOW)).stderr


def test_policy_check_creates_no_store_to_look_names_up(cli: Cli, tmp_path: Path, store_path: Path) -> None:
    checked = ok(cli("policy", "check", owned_policy(tmp_path, "csm"), env=NOW))
    assert "warning" not in checked.stderr


def test_the_acting_user_and_list_filters_are_not_refused(cli: Cli) -> None:
    team(cli, "priya")
    ticket_id = log(cli, "Boiler", "--owner", "priya")
    ok(cli("--as", "cron", "update", str(ticket_id), "-m", "Engineer booked", env=NOW))
    assert show(cli, ticket_id)["history"][-1]["actor"] == "cron"
    assert json.loads(ok(cli("list", "--owner", "nobody", "--json", env=NOW)).stdout) == []
    assert json.loads(ok(cli("due", "--owner", "nobody", "--json", env=NOW)).stdout) == []


def covered_store(cli: Cli) -> tuple[int, int, int]:
    """priya away until Friday with sam covering; a ticket of each, and one of ann's."""
    team(cli, "priya", "sam", "ann")
    ids = (
        log(cli, "Priya's", "--owner", "priya"),
        log(cli, "Sam's", "--owner", "sam"),
        log(cli, "Ann's", "--owner", "ann"),
    )
    ok(cli("staff", "away", "priya", "--until", "2026-11-27 17:00", "--cover", "sam", env=NOW))
    return ids


def mine(cli: Cli, command: str, who: str, env: dict[str, str] = TUESDAY) -> list[tuple[int, str, bool]]:
    records = json.loads(ok(cli("--as", who, command, "--mine", "--json", env=env)).stdout)
    return sorted((record["id"], record["owner"], record["cover"]) for record in records)


def test_mine_includes_the_tickets_of_an_absent_colleague_one_covers(cli: Cli) -> None:
    priyas, sams, _ = covered_store(cli)
    for command in ("due", "list"):
        assert mine(cli, command, "sam") == [(priyas, "priya", True), (sams, "sam", False)], command
        assert mine(cli, command, "priya") == [(priyas, "priya", False)], command
    assert show(cli, priyas, "2026-11-24T10:00:00+00:00")["cover"] is False  # shown to alice, who covers nobody
    shown = json.loads(ok(cli("--as", "sam", "show", str(priyas), "--json", env=TUESDAY)).stdout)
    assert shown["cover"] is True
    # Once priya is back (her absence ended), sam's tickets are his own again.
    assert mine(cli, "due", "sam", at("2026-11-30T10:00:00+00:00")) == [(sams, "sam", False)]


def test_mine_follows_a_chain_of_covers(cli: Cli) -> None:
    priyas, sams, anns = covered_store(cli)
    ok(cli("staff", "away", "sam", "--until", "2026-11-26 17:00", "--cover", "ann", env=NOW))
    assert mine(cli, "list", "ann") == [(priyas, "priya", True), (sams, "sam", True), (anns, "ann", False)]
    # sam, away himself, still owns his tickets; priya's are ann's to handle now.
    assert mine(cli, "list", "sam") == [(sams, "sam", False)]


def test_the_table_marks_the_tickets_one_covers_and_plain_rows_keep_the_owner(cli: Cli) -> None:
    priyas, sams, _ = covered_store(cli)
    terminal = {**TUESDAY, "SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1", "COLUMNS": "160"}
    for command in ("due", "list"):
        table = ok(cli("--as", "sam", command, "--mine", env=terminal)).stdout
        row_of_priya = next(line for line in table.splitlines() if f"#{priyas}" in line)
        row_of_sam = next(line for line in table.splitlines() if f"#{sams}" in line)
        assert "priya (cover)" in row_of_priya, command
        assert "(cover)" not in row_of_sam, command
        plain = ok(cli("--as", "sam", command, "--mine", env=TUESDAY)).stdout.splitlines()
        assert [line.split("\t")[3] for line in plain] == ["priya", "sam"], command
