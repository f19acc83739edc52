"""``main(args, env)``: a run in an Environment the test builds (streams, variables, directories, clock),
with nothing patched in the process; and the data directory's override (README, "Where things are kept")."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from helpers import MON_1000, MONDAY_10
from supportcli.cli.app import main
from supportcli.cli.environment import Environment
from supportcli.errors import ExitStatus


def environment(tmp_path: Path, variables: dict[str, str] | None = None, **overrides: object) -> Environment:
    """An Environment of the test's own: StringIO streams, no variables but the user (and ``variables``),
    directories under tmp_path, the clock stopped at Monday 10:00; ``overrides`` replace any of these."""
    settings: dict[str, object] = {
        "stdin": io.StringIO(),
        "stdout": io.StringIO(),
        "stderr": io.StringIO(),
        "config_dir": tmp_path / "env-config",
        "data_dir": tmp_path / "env-data",
        "cache_dir": tmp_path / "env-cache",
        "clock": lambda: MONDAY_10,
    }
    settings.update(overrides)
    return Environment({"SUPPORTCLI_USER": "alice", **(variables or {})}, **settings)  # type: ignore[arg-type]


def written(env: Environment) -> tuple[str, str]:
    """What a run wrote to the environment's stdout and stderr."""
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return env.stdout.getvalue(), env.stderr.getvalue()


def test_a_ticket_logged_and_listed_through_main_in_a_constructed_environment(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logging = environment(tmp_path)
    assert main(["--db", store_url, "log", "Printer on fire", "--channel", "phone"], logging) is ExitStatus.SUCCESS
    assert written(logging) == ("1\n", "")  # not a terminal: only the id

    listing = environment(tmp_path)
    assert main(["--db", store_url, "list", "--json"], listing) is ExitStatus.SUCCESS
    stdout, stderr = written(listing)
    assert stderr == ""
    (ticket,) = json.loads(stdout)
    assert (ticket["id"], ticket["subject"], ticket["received_at"]) == (1, "Printer on fire", MON_1000)
    # phone: respond within 4 working hours of the injected clock, Mon 10:00 + 4wh = Mon 14:00
    assert {t["name"]: t["due_at"] for t in ticket["targets"]}["respond"] == "2026-11-23T14:00:00+00:00"
    assert capsys.readouterr() == ("", "")  # nothing reached the process's own streams


def test_main_returns_the_exit_status_and_writes_errors_to_the_environments_stderr(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = environment(tmp_path)
    assert main(["--db", store_url, "show", "999"], env) is ExitStatus.NOT_FOUND
    stdout, stderr = written(env)
    assert stdout == ""
    assert stderr.startswith("supportcli: error: ") and "999" in stderr and stderr.count("\n") == 1

    usage = environment(tmp_path)
    assert main(["--db", store_url, "bogus"], usage) is ExitStatus.INVALID_INPUT  # Click's own error, too
    assert written(usage)[1].startswith("supportcli: error: No such command 'bogus'")

    clock = environment(tmp_path, {"SUPPORTCLI_NOW": "someday"}, clock=None)  # the clock from the variables
    assert main(["--db", store_url, "log", "x"], clock) is ExitStatus.INVALID_INPUT
    assert written(clock) == (
        "",
        "supportcli: error: bad SUPPORTCLI_NOW 'someday': use an ISO 8601 instant like 2026-11-23T10:00+00:00\n",
    )
    assert capsys.readouterr() == ("", "")


def test_the_environment_decides_terminal_colour_and_width_for_listings_and_help(
    store_url: str, tmp_path: Path
) -> None:
    assert main(["--db", store_url, "log", "Printer on fire", "-q"], environment(tmp_path)) is ExitStatus.SUCCESS

    table = environment(tmp_path, stdout_isatty=True, colour=False)
    main(["--db", store_url, "due"], table)
    assert written(table)[0].splitlines()[0].split() == ["ID", "Subject", "Status", "Owner", "Next", "Due", "Left"]

    for variables, coloured in (
        ({"SUPPORTCLI_TERMINAL": "1"}, True),
        ({"SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1"}, False),
    ):
        help_screen = environment(tmp_path, {"COLUMNS": "60", **variables})
        assert main(["log", "--help"], help_screen) is ExitStatus.SUCCESS
        shown = written(help_screen)[0]
        assert ("\x1b[" in shown) is coloured, variables
        assert max(len(line) for line in shown.splitlines() if "\x1b" not in line) <= 60


@pytest.mark.sqlite_only(reason="the default store, in the data directory, is an SQLite file")
def test_the_default_store_is_in_supportcli_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = tmp_path / "team-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # the platform default, which the variable beats
    env = environment(tmp_path, {"SUPPORTCLI_DATA_DIR": str(chosen)}, data_dir=None)
    assert main(["log", "Printer on fire", "-q"], env) is ExitStatus.SUCCESS
    assert (chosen / "supportcli.db").is_file()
    assert not (tmp_path / "xdg-data").exists()

    shown = environment(tmp_path, {"SUPPORTCLI_DATA_DIR": str(chosen)}, data_dir=None)
    assert main(["config", "show", "--json"], shown) is ExitStatus.SUCCESS
    assert json.loads(written(shown)[0])["store"] == str(chosen / "supportcli.db")


@pytest.mark.sqlite_only(reason="the default store, in the data directory, is an SQLite file")
def test_without_supportcli_data_dir_the_store_is_in_the_platform_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPORTCLI_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # platformdirs reads the process's variables
    env = environment(tmp_path, {"XDG_DATA_HOME": str(tmp_path / "xdg-data")}, data_dir=None)
    assert main(["log", "Printer on fire", "-q"], env) is ExitStatus.SUCCESS
    assert (tmp_path / "xdg-data" / "supportcli" / "supportcli.db").is_file()
