"""Which policy version a ticket takes (docs/policy.md, "Versions and --effective"), through the real CLI on each
backend: a version set without --effective applies to every ticket logged from then on, whatever its received
time; one set with --effective WHEN to the tickets received from WHEN on; of those that apply, the one that took
effect last wins."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

from helpers import MON_1000, MON_1100, TUE_1000, at, ok, show

Cli = Callable[..., Result]


def policy_file(tmp_path: Path, name: str, respond: str = "4wh", hours: str = "08:30-17:30") -> str:
    """A one-rule policy named ``name``, so the version a ticket took shows in its due times too."""
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\n[calendar]\nhours = "{hours}"\n[[targets]]\nmatch = {{}}\nrespond = "{respond}"\n'
        'resolve = "3wd"\n',
        encoding="utf-8",
    )
    return str(path)


def logged(cli: Cli, now: str, received: str, subject: str = "letter") -> dict[str, Any]:
    """Log a letter received at ``received`` at the instant ``now``; the ticket as ``show --json`` gives it."""
    result = ok(cli("log", subject, "--channel", "letter", "--received", received, "-q", env=at(now)))
    return show(cli, int(result.stdout), now)


def history(cli: Cli, now: str) -> list[tuple[int, str, str]]:
    rows = json.loads(ok(cli("policy", "history", "--json", env=at(now))).stdout)
    return [(row["version"], row["applies_to"], row["state"]) for row in rows]


def due(ticket: dict[str, Any]) -> dict[str, str]:
    return {target["name"]: target["due_at"] for target in ticket["targets"]}


def test_a_policy_set_at_init_applies_to_a_letter_received_before_it(cli: Cli, tmp_path: Path) -> None:
    result = ok(cli("init", "--policy", policy_file(tmp_path, "Team"), env=at(MON_1000)))
    assert "policy version 2 (Team) set: it applies to every ticket logged from now on" in result.stderr
    ticket = logged(cli, MON_1000, "last fri 10:00")
    assert (ticket["policy_version"], ticket["received_at"]) == (2, "2026-11-20T10:00:00+00:00")
    # The team's rule (respond 4wh, resolve 3wd, 08:30-17:30), not the built-in one for letters (1wd/5wd/10wd).
    assert due(ticket) == {"respond": "2026-11-20T14:00:00+00:00", "resolve": "2026-11-25T17:30:00+00:00"}
    assert history(cli, MON_1000) == [(1, "received", "superseded"), (2, "logged", "in effect")]


def test_of_several_versions_set_without_effective_the_latest_set_before_logging_applies(
    cli: Cli, tmp_path: Path
) -> None:
    ok(cli("policy", "set", policy_file(tmp_path, "First"), env=at(MON_1000)))
    before_the_second = logged(cli, MON_1100, "last fri 10:00")
    ok(cli("policy", "set", policy_file(tmp_path, "Second", respond="2wh"), env=at(TUE_1000)))
    # Received on Monday while the first version was in effect, logged after the second was set.
    after_the_second = logged(cli, "2026-11-24T11:00:00+00:00", "2026-11-23 11:00")
    assert before_the_second["policy_version"] == 2
    assert after_the_second["policy_version"] == 3
    assert due(after_the_second)["respond"] == "2026-11-23T13:00:00+00:00"  # the second's 2wh
    assert show(cli, before_the_second["id"], TUE_1000)["policy_version"] == 2  # never re-planned
    assert history(cli, TUE_1000) == [
        (1, "received", "superseded"),
        (2, "logged", "superseded"),
        (3, "logged", "in effect"),
    ]


def test_a_scheduled_version_applies_to_tickets_received_from_its_date(cli: Cli, tmp_path: Path) -> None:
    ok(cli("policy", "set", policy_file(tmp_path, "Now"), env=at(MON_1000)))
    scheduled = ok(
        cli("policy", "set", policy_file(tmp_path, "New year", respond="1wh"), "--effective", "2027-01-01",
            env=at(MON_1100))
    )  # fmt: skip
    assert "it applies to tickets received from Fri 2027-01-01 00:00 GMT on" in scheduled.stderr
    assert history(cli, MON_1100) == [
        (1, "received", "superseded"),
        (2, "logged", "in effect"),
        (3, "received", "scheduled"),
    ]
    assert logged(cli, MON_1100, "last fri 10:00")["policy_version"] == 2
    later = "2027-01-05T10:00:00+00:00"
    assert logged(cli, later, "2027-01-04 10:00")["policy_version"] == 3
    # Received before the date, logged after it: the version in effect for it is still the one set without
    # --effective (the customers were told the new rules cover what arrives from 1 January).
    assert logged(cli, later, "2026-12-30 10:00")["policy_version"] == 2
    assert history(cli, later) == [
        (1, "received", "superseded"),
        (2, "logged", "superseded"),
        (3, "received", "in effect"),
    ]


def test_a_version_set_later_without_effective_does_not_cancel_a_scheduled_one(cli: Cli, tmp_path: Path) -> None:
    ok(cli("policy", "set", policy_file(tmp_path, "New year"), "--effective", "2027-01-01", env=at(MON_1000)))
    ok(cli("policy", "set", policy_file(tmp_path, "Meanwhile"), env=at(MON_1100)))
    assert history(cli, MON_1100) == [
        (1, "received", "superseded"),
        (2, "received", "scheduled"),
        (3, "logged", "in effect"),
    ]
    assert logged(cli, MON_1100, "2026-11-20 10:00")["policy_version"] == 3
    later = "2027-01-05T10:00:00+00:00"
    assert logged(cli, later, "2027-01-04 10:00")["policy_version"] == 2
    assert logged(cli, later, "2026-12-30 10:00")["policy_version"] == 3


def test_a_ticket_received_before_a_back_dated_first_version_takes_the_built_in_one(cli: Cli, tmp_path: Path) -> None:
    ok(cli("policy", "set", policy_file(tmp_path, "Team"), "--effective", "2026-11-16", env=at(MON_1000)))
    assert logged(cli, MON_1000, "2026-11-13 10:00")["policy_version"] == 1
    assert logged(cli, MON_1000, "2026-11-17 10:00")["policy_version"] == 2
    assert history(cli, MON_1000) == [(1, "received", "superseded"), (2, "received", "in effect")]


def test_history_says_how_each_version_applies_in_a_table_and_plain_rows(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init", "--policy", policy_file(tmp_path, "Team"), env=at(MON_1000)))
    ok(cli("policy", "set", policy_file(tmp_path, "Later"), "--effective", "2027-01-01", env=at(MON_1100)))
    plain = ok(cli("policy", "history", env=at(MON_1100))).stdout.splitlines()
    assert [line.split("\t")[5:7] for line in plain] == [
        ["superseded", "received"],
        ["in effect", "logged"],
        ["scheduled", "received"],
    ]
    table = ok(cli("policy", "history", env=at(MON_1100, SUPPORTCLI_TERMINAL="1", NO_COLOR="1", COLUMNS="200")))
    assert "Applies to" in table.stdout
    assert "tickets logged" in table.stdout and "tickets received" in table.stdout


def test_calendar_due_and_csv_import_follow_the_same_rule(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init", "--policy", policy_file(tmp_path, "Team"), env=at(MON_1000)))
    # Fri 16:00 + 4wh on the team's 08:30-17:30 hours: 1.5h Friday, 2.5h from Monday 08:30.
    computed = json.loads(ok(cli("calendar", "due", "last fri 16:00", "4wh", "--json", env=at(MON_1000))).stdout)
    assert computed["due_at"] == "2026-11-23T11:00:00+00:00"
    sheet = tmp_path / "old.csv"
    sheet.write_text("subject,channel,received_at\r\nOld letter,letter,2026-11-20 10:00\r\n", encoding="utf-8")
    ok(cli("import", str(sheet), env=at(MON_1100)))
    imported = show(cli, 1, MON_1100)
    assert (imported["policy_version"], due(imported)["respond"]) == (2, "2026-11-20T14:00:00+00:00")


def test_an_export_keeps_how_each_version_applies_and_an_old_dump_gets_it_derived(
    cli: Cli, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    ok(cli("init", "--policy", policy_file(tmp_path, "Team"), env=at(MON_1000)))
    ok(cli("policy", "set", policy_file(tmp_path, "Later"), "--effective", "2027-01-01", env=at(MON_1100)))
    ok(cli("log", "a call", "--channel", "phone", env=at(MON_1100)))
    lines = ok(cli("export", "--format", "ndjson", env=at(MON_1100))).stdout.splitlines()
    versions = [json.loads(line) for line in lines if json.loads(line)["type"] == "policy_version"]
    assert [record["applies_by"] for record in versions] == ["received", "logged", "received"]
    # A dump written before schema 6 has no applies_by: effective when set means set without --effective.
    old = [json.dumps({k: v for k, v in json.loads(line).items() if k != "applies_by"}) for line in lines]
    dump = tmp_path / "old.ndjson"
    dump.write_text("\n".join(old) + "\n", encoding="utf-8")
    other = new_store()
    ok(cli("--db", other, "import", str(dump), env=at(MON_1100)))
    assert history(lambda *args, **kw: cli("--db", other, *args, **kw), MON_1100) == [
        (1, "received", "superseded"),
        (2, "logged", "in effect"),
        (3, "received", "scheduled"),
    ]
    bad = tmp_path / "bad.ndjson"
    bad.write_text(
        "\n".join(line.replace('"applies_by":"logged"', '"applies_by":"whenever"') for line in lines) + "\n",
        encoding="utf-8",
    )
    third = new_store()
    refused = cli("--db", third, "import", str(bad), env=at(MON_1100))
    assert refused.exit_code == 2
    assert "applies_by: must be one of logged, received" in refused.stderr


def test_a_version_back_dated_before_one_set_without_effective_is_named_as_never_applying(
    cli: Cli, tmp_path: Path
) -> None:
    ok(cli("policy", "set", policy_file(tmp_path, "Now"), env=at(MON_1000)))
    result = ok(
        cli("policy", "set", policy_file(tmp_path, "Back-dated"), "--effective", "2026-11-16", env=at(MON_1100))
    )
    assert (
        "note: no ticket will take version 3: version 2, set without --effective at Mon 2026-11-23 10:00 GMT, "
        "took effect later and applies to every ticket logged from then on" in result.stderr
    )
    assert logged(cli, MON_1100, "2026-11-17 10:00")["policy_version"] == 2
    assert history(cli, MON_1100)[2] == (3, "received", "superseded")
    scheduled = ok(cli("policy", "set", policy_file(tmp_path, "Later"), "--effective", "2027-01-01", env=at(MON_1100)))
    assert "note:" not in scheduled.stderr
