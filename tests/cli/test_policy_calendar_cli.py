"""`policy` and `calendar` commands through the real CLI (CliRunner) on each store backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from helpers import MON_1000, Snapshot, at

Cli = Callable[..., Result]
NOW = at(MON_1000)

TEAM_POLICY = """
name = "Team"
tiers = ["Support", "Manager"]

[calendar]
timezone = "Europe/London"
hours = "08:30-17:30"
closures = ["2026-12-29..2026-12-31"]

[[targets]]
match = {}
respond = "4wh"
resolve = "3wd"
"""


def write_policy(tmp_path: Path, text: str = TEAM_POLICY, name: str = "team.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_policy_show_prints_the_built_in_default_on_first_use(cli: Cli, snapshot: Callable[[], Snapshot]) -> None:
    result = cli("policy", "show")
    assert result.exit_code == 0, result.output
    assert 'name = "Default (UK, England & Wales)"' in result.stdout
    assert "supportcli_meta" in snapshot()  # the store was created on first use


def test_policy_check_ok_prints_a_summary(cli: Cli, tmp_path: Path) -> None:
    result = cli("policy", "check", write_policy(tmp_path))
    assert result.exit_code == 0, result.output
    assert "name: Team" in result.stdout
    assert "rule 1 (everything): respond 4wh, resolve 3wd" in result.stdout
    assert result.stderr.strip().endswith(": ok")


def test_policy_check_lists_every_problem_and_exits_2(cli: Cli, tmp_path: Path) -> None:
    bad = write_policy(
        tmp_path,
        '[calendar]\ntimezone = "Mars/Olympus"\n[[targets]]\nmatch = { kind = "moan" }\nresolve = "3 sleeps"\n',
    )
    result = cli("policy", "check", bad)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].endswith("bad.toml: 3 problems") or lines[0].endswith("team.toml: 3 problems")
    assert any("line 2: calendar.timezone: unknown timezone 'Mars/Olympus'" in line for line in lines)
    assert any("line 4: targets[1].match.kind: unknown kind 'moan'" in line for line in lines)
    assert any("line 5: targets[1].resolve: bad duration '3 sleeps'" in line for line in lines)
    assert "Traceback" not in result.output


def test_policy_check_missing_file(cli: Cli) -> None:
    result = cli("policy", "check", "no-such.toml")
    assert result.exit_code == 2
    assert result.stderr.strip() == "supportcli: error: no-such.toml: no such file"


def test_policy_set_keeps_every_version_and_a_bad_file_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    assert cli("policy", "set", write_policy(tmp_path), "-m", "new hours", env=NOW).exit_code == 0
    bad = write_policy(tmp_path, 'name = "Broken"\n[calendar]\nhours = "17:00-09:00"\n', "broken.toml")
    refused = cli("policy", "set", bad, env=NOW)
    assert refused.exit_code == 2
    history = json.loads(cli("policy", "history", "--json", env=NOW).stdout)
    assert [(row["version"], row["name"], row["state"]) for row in history] == [
        (1, "built-in default", "superseded"),
        (2, "Team", "in effect"),
    ]
    assert history[1]["note"] == "new hours"
    assert history[1]["set_by"] == "alice"
    assert 'name = "Team"' in cli("policy", "show", env=NOW).stdout


def test_policy_set_effective_later_applies_from_then(cli: Cli, tmp_path: Path) -> None:
    result = cli("policy", "set", write_policy(tmp_path), "--effective", "2027-01-01", env=NOW)
    assert result.exit_code == 0, result.output
    history = json.loads(cli("policy", "history", "--json", env=NOW).stdout)
    assert [row["state"] for row in history] == ["in effect", "scheduled"]
    assert history[1]["effective_at"] == "2027-01-01T00:00:00+00:00"
    # Before the date the default (09:00-17:00) decides; from it, the team's 08:30-17:30 hours do.
    before = json.loads(cli("calendar", "due", "2026-12-01 16:00", "4wh", "--json", env=NOW).stdout)
    after = json.loads(cli("calendar", "due", "2027-01-05 16:00", "4wh", "--json", env=NOW).stdout)
    assert before["due_at"] == "2026-12-02T12:00:00+00:00"  # 1h Tue + 3h from 09:00 Wed
    assert after["due_at"] == "2027-01-06T11:00:00+00:00"  # 1.5h Tue + 2.5h from 08:30 Wed


def test_policy_show_version_not_found(cli: Cli) -> None:
    result = cli("policy", "show", "--version", "9")
    assert result.exit_code == 3
    assert result.stderr.strip() == "supportcli: error: no policy version 9"


def test_calendar_due_worked_examples_of_spec(cli: Cli) -> None:
    cases = [
        ("2026-11-23 10:00", "1wd", "2026-11-24T17:00:00+00:00"),
        ("2026-11-27 16:45", "1wd", "2026-11-30T17:00:00+00:00"),
        ("2026-11-28 11:00", "1wd", "2026-11-30T17:00:00+00:00"),
        ("2026-11-27 16:00", "4wh", "2026-11-30T12:00:00+00:00"),
        ("2026-11-23 18:30", "0wd", "2026-11-24T17:00:00+00:00"),
        ("2026-12-23 12:00", "2wd", "2026-12-29T17:00:00+00:00"),
    ]
    for start, target, due in cases:
        result = cli("calendar", "due", start, target, "--json", env=NOW)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["due_at"] == due, (start, target)
        assert data["target"] == target
        assert set(data) == {"start", "clock_start", "target", "due_at"}


def test_calendar_due_reports_the_clock_start_out_of_hours(cli: Cli) -> None:
    data = json.loads(cli("calendar", "due", "2026-11-28 11:00", "4wh", "--json", env=NOW).stdout)
    assert data["start"] == "2026-11-28T11:00:00+00:00"
    assert data["clock_start"] == "2026-11-30T09:00:00+00:00"  # Saturday → Monday's opening
    assert data["due_at"] == "2026-11-30T13:00:00+00:00"


def test_calendar_due_piped_prints_just_the_iso_time_and_terminal_explains(cli: Cli) -> None:
    piped = cli("calendar", "due", "2026-12-23 12:00", "2wd", env=NOW)
    assert piped.stdout == "2026-12-29T17:00:00+00:00\n"
    shown = cli("calendar", "due", "2026-12-23 12:00", "2wd", env={**NOW, "SUPPORTCLI_TERMINAL": "1"})
    assert "due Tue 2026-12-29 17:00 GMT" in shown.stdout
    assert "skipped Fri 2026-12-25: Christmas Day" in shown.stderr
    assert "skipped Mon 2026-12-28: Boxing Day (observed)" in shown.stderr


def test_calendar_due_with_a_policy_file_uses_its_calendar(cli: Cli, tmp_path: Path) -> None:
    data = json.loads(
        cli("calendar", "due", "2026-12-24 12:00", "1wd", "--policy", write_policy(tmp_path), "--json").stdout
    )
    # 25 Dec, 28 Dec are holidays and 29–31 Dec closures: the first working day after 24 Dec is Fri 1 Jan? No:
    # 1 Jan is New Year's Day, so Mon 4 Jan 2027 at 17:30.
    assert data["due_at"] == "2027-01-04T17:30:00+00:00"


def test_calendar_due_bad_inputs(cli: Cli) -> None:
    bad_duration = cli("calendar", "due", "now", "5 fortnights", env=NOW)
    assert bad_duration.exit_code == 2
    assert bad_duration.stderr.strip() == (
        "supportcli: error: bad duration '5 fortnights': use e.g. 1wd, 4wh, 30wm, 5d, 8h, 2y or '5 working days'"
    )
    bad_date = cli("calendar", "due", "tomorow", "1wd", env=NOW)
    assert bad_date.exit_code == 2
    assert "bad date/time 'tomorow'" in bad_date.stderr
    far = cli("calendar", "due", "2090-01-01", "1wd", env=NOW)
    assert far.exit_code == 2
    assert "outside the working calendar's span" in far.stderr
    for result in (bad_duration, bad_date, far):
        assert len(result.stderr.strip().splitlines()) == 1


def test_calendar_lists_working_days_and_holidays(cli: Cli) -> None:
    result = cli("calendar", "--from", "2026-12-24", "--to", "2026-12-29", "--json", env=NOW)
    assert result.exit_code == 0, result.output
    days = json.loads(result.stdout)
    assert [(d["date"], d["working"], d["note"]) for d in days] == [
        ("2026-12-24", True, ""),
        ("2026-12-25", False, "Christmas Day"),
        ("2026-12-26", False, "Boxing Day"),
        ("2026-12-27", False, "weekend"),
        ("2026-12-28", False, "Boxing Day (observed)"),
        ("2026-12-29", True, ""),
    ]
    assert days[0]["opens"] == "2026-12-24T09:00:00+00:00"
    assert days[0]["hours"] == 8


def test_calendar_table_on_a_terminal_and_rows_when_piped(cli: Cli) -> None:
    table = cli(
        "calendar",
        "--from",
        "2026-12-24",
        "--to",
        "2026-12-29",
        env={**NOW, "SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1"},
    )
    assert "2 working days from 2026-12-24 to 2026-12-29" in table.stdout
    assert "Christmas Day" in table.stdout
    assert "\x1b[" not in table.stdout  # NO_COLOR
    piped = cli("calendar", "--from", "2026-12-24", "--to", "2026-12-25", env=NOW)
    assert piped.stdout.splitlines() == [
        "2026-12-24\tThu\t2026-12-24T09:00:00+00:00\t2026-12-24T17:00:00+00:00\t8\t",
        "2026-12-25\tFri\t\t\t0\tChristmas Day",
    ]


def test_calendar_range_backwards_is_an_error(cli: Cli) -> None:
    result = cli("calendar", "--from", "2026-12-24", "--to", "2026-12-01", env=NOW)
    assert result.exit_code == 2
    assert result.stderr.strip() == "supportcli: error: --to (2026-12-01) is before --from (2026-12-24)"


def test_every_command_has_help_with_an_example(cli: Cli) -> None:
    from typer.main import get_command

    from supportcli.cli.app import app

    root = get_command(app)
    names: list[list[str]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names.extend([[name, child] for child in sub] if sub else [[name]])
    assert len(names) >= 20
    for path in names:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "supportcli " in result.stdout or "Example" in result.stdout, f"{' '.join(path)} --help has no example"


def test_init_with_a_subdivision_stores_the_default_policy_with_that_region(cli: Cli) -> None:
    result = cli("init", "--subdivision", "SCT", env=NOW)
    assert result.exit_code == 0, result.output
    # St Andrew's Day (Mon 30 Nov 2026) is a bank holiday in Scotland only.
    day = json.loads(cli("calendar", "--from", "2026-11-30", "--to", "2026-11-30", "--json", env=NOW).stdout)
    assert (day[0]["working"], day[0]["note"]) == (False, "Saint Andrew's Day")
    history = json.loads(cli("policy", "history", "--json", env=NOW).stdout)
    assert [row["state"] for row in history] == ["superseded", "in effect"]


def test_init_with_an_unknown_subdivision_changes_nothing(cli: Cli) -> None:
    result = cli("init", "--subdivision", "YORKS", env=NOW)
    assert result.exit_code == 2
    assert "unknown subdivision 'YORKS' of GB (allowed: ENG, NIR, SCT, WLS)" in result.stderr
    assert len(json.loads(cli("policy", "history", "--json", env=NOW).stdout)) == 1


def test_init_with_a_policy_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", "--policy", write_policy(tmp_path), env=NOW)
    assert result.exit_code == 0, result.output
    assert "policy version 2 (Team) set" in result.stderr


def test_config_default_owner_applies_to_new_tickets(cli: Cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('default_owner = "sam"\n', encoding="utf-8")
    monkeypatch.setenv("SUPPORTCLI_CONFIG_DIR", str(config_dir))
    assert cli("log", "Hello", "-q", env=NOW).stdout == "1\n"
    assert cli("log", "Mine", "--owner", "priya", "-q", env=NOW).stdout == "2\n"
    owners = {t["id"]: t["owner"] for t in json.loads(cli("list", "--json", env=NOW).stdout)}
    assert owners == {1: "sam", 2: "priya"}


def test_a_broken_config_file_is_one_clear_error(cli: Cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text("default_owner = \n", encoding="utf-8")
    monkeypatch.setenv("SUPPORTCLI_CONFIG_DIR", str(config_dir))
    result = cli("due", env=NOW)
    assert result.exit_code == 2
    assert "config.toml: not valid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_show_never_prints_passwords(cli: Cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        'database_url = "postgresql+psycopg://team:hunter2@db.example/support"\n'
        '[smtp]\nhost = "smtp.example.com"\nport = 587\nuser = "support"\npassword = "s3cret"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SUPPORTCLI_CONFIG_DIR", str(config_dir))
    for store_variable in ("SUPPORTCLI_DB", "SUPPORTCLI_DATABASE_URL"):  # the store comes from config.toml
        monkeypatch.delenv(store_variable, raising=False)
    result = cli("config", "show", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["store"] == "postgresql+psycopg://team:***@db.example/support"
    assert shown["smtp"] == "support@smtp.example.com:587"
    assert shown["user"] == "alice"
    assert "hunter2" not in result.output and "s3cret" not in result.output


def test_usage_mistakes_are_one_line_naming_the_help(cli: Cli) -> None:
    cases = [
        (("--bogus",), "supportcli: error: No such option: --bogus (see: supportcli --help)"),
        (
            ("policy", "show", "--bogus"),
            "supportcli: error: No such option: --bogus (see: supportcli policy show --help)",
        ),
        (("log",), "supportcli: error: Missing argument 'SUBJECT'. (see: supportcli log --help)"),
        (("frobnicate",), "supportcli: error: No such command 'frobnicate'. (see: supportcli --help)"),
    ]
    for args, line in cases:
        result = cli(*args)
        assert result.exit_code == 2, args
        assert result.stderr.strip() == line
        assert result.stdout == ""
    bare_group = cli("policy")  # a group without a command shows its help, not an error line
    assert "Usage:" in bare_group.output
    assert "supportcli: error" not in bare_group.output
