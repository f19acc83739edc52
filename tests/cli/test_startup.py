"""Start-up: help and Tab completion import nothing heavy, and completion offers the store's ids, staff and tiers.

Completion is tested through the real mechanism: a subprocess of the installed
entry point with the environment variables the generated shell scripts set.
"""

from __future__ import annotations

import gc
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from supportcli.cli.app import COMMANDS, main
from supportcli.cli.environment import Environment

Cli = Callable[..., Result]
# Completion reads SQLite with the standard library and offers nothing from PostgreSQL (README).
pytestmark = pytest.mark.sqlite_only(reason="completion reads the SQLite store file directly")
HEAVY = ("sqlmodel", "sqlalchemy", "holidays", "rich.table", "rich.markdown", "pydantic", "typer.rich_utils")


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m supportcli ARGS`` with imports listed on stderr (-X importtime)."""
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "supportcli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
        timeout=60,
    )


def heavy_imports(stderr: str) -> set[str]:
    imported = {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}
    return {name for name in imported if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY)}


def complete(shell: str, line: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """What the generated completion script for ``shell`` gets for ``line`` (as typed, up to the cursor)."""
    if shell == "bash":
        words = line.split()
        cword = len(words) if line.endswith(" ") else len(words) - 1
        variables = {"COMP_WORDS": line, "COMP_CWORD": str(cword)}
    else:
        variables = {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    return run([], {"_SUPPORTCLI_COMPLETE": f"complete_{shell}", **variables, **(env or {})})


@pytest.mark.parametrize(
    "args", [["--help"], ["log", "--help"], ["staff", "away", "--help"], ["calendar", "due", "--help"]]
)
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    result = run(args)
    assert result.returncode == 0, result.stderr[-500:]
    assert "Usage: supportcli" in result.stdout
    assert heavy_imports(result.stderr) == set()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("line", ["supportcli l", "supportcli show ", "supportcli log x --channel "])
def test_completion_imports_nothing_heavy(shell: str, line: str, store_with_tickets: Path) -> None:
    result = complete(shell, line, {"SUPPORTCLI_DB": str(store_with_tickets)})
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip()
    assert heavy_imports(result.stderr) == set()


def test_root_help_lists_every_command_with_its_own_short_help(cli: Cli) -> None:
    """The table in app.py gives `supportcli --help` without importing commands; it must say what they say."""
    for entry in COMMANDS:
        loaded = entry.load()
        assert loaded.get_short_help_str(limit=300) == entry.help, entry.name
    result = cli("--help")
    assert result.exit_code == 0
    for entry in COMMANDS:
        assert entry.name in result.stdout


def test_help_keeps_examples_and_defaults(cli: Cli) -> None:
    result = cli("log", "--help")
    assert result.exit_code == 0
    assert 'supportcli log "Engineer never came"' in result.stdout
    assert "[default: enquiry]" in result.stdout
    assert "-k, --kind" in result.stdout


@pytest.fixture
def store_with_tickets(cli: Cli, store_path: Path) -> Path:
    """A store made with the CLI: two staff, ticket 1 resolved, tickets 2 and 3 open."""
    env = {"SUPPORTCLI_NOW": "2026-11-23T10:00:00+00:00"}
    for args in (
        ("staff", "add", "priya", "--email", "priya@example.org"),
        ("staff", "add", "sam", "--email", "sam@example.org", "--tier", "1"),
        ("log", "Printer on fire", "-q"),
        ("log", "Invoice sent to old address", "-q"),
        ("log", "Engineer never came", "-q"),
        ("resolve", "1", "-m", "Fixed"),
    ):
        result = cli(*args, env=env)
        assert result.exit_code == 0, result.output
    return store_path


def values(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split("\t")[0] for line in result.stdout.splitlines() if line]


def test_ticket_ids_complete_open_first_with_subjects(store_with_tickets: Path) -> None:
    env = {"SUPPORTCLI_DB": str(store_with_tickets)}
    assert values(complete("bash", "supportcli show ", env)) == ["3", "2", "1"]
    fish = complete("fish", "supportcli ack ", env).stdout
    assert "2\tInvoice sent to old address (new)" in fish
    assert "1\tPrinter on fire (resolved)" in fish
    assert values(complete("bash", "supportcli resolve 1", env)) == ["1"]


def test_ticket_ids_use_the_store_named_by_db(store_with_tickets: Path, tmp_path: Path) -> None:
    """`--db` on the command line wins over SUPPORTCLI_DB, as for the command itself."""
    env = {"SUPPORTCLI_DB": str(tmp_path / "elsewhere.db")}
    assert values(complete("bash", f"supportcli --db {store_with_tickets} show ", env)) == ["3", "2", "1"]


def test_staff_names_complete(store_with_tickets: Path) -> None:
    env = {"SUPPORTCLI_DB": str(store_with_tickets)}
    assert values(complete("bash", "supportcli assign 2 ", env)) == ["priya", "sam"]
    assert values(complete("bash", "supportcli log x --owner s", env)) == ["sam"]
    assert values(complete("bash", "supportcli staff away priya --cover ", env)) == ["priya", "sam"]
    assert "sam@example.org, Customer Success Manager" in complete("fish", "supportcli staff back ", env).stdout


def test_tiers_come_from_the_newest_policy(store_with_tickets: Path, cli: Cli, tmp_path: Path) -> None:
    env = {"SUPPORTCLI_DB": str(store_with_tickets)}
    assert values(complete("bash", "supportcli escalate 2 --to ", env))[:3] == [
        "Support",
        "Customer Success Manager",
        "Director",
    ]
    source = cli("policy", "show").stdout.replace(
        'tiers = ["Support", "Customer Success Manager", "Director"]', 'tiers = ["Desk", "Experts"]'
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(source, encoding="utf-8")
    assert cli("policy", "set", str(policy)).exit_code == 0
    assert values(complete("bash", "supportcli list --tier ", env)) == ["Desk", "Experts", "0", "1"]


def test_fixed_values_complete() -> None:
    assert values(complete("bash", "supportcli log x --priority ")) == ["low", "normal", "high", "urgent"]
    assert values(complete("bash", "supportcli list --status o")) == ["open"]
    assert values(complete("bash", "supportcli report --by c")) == ["channel", "category"]
    assert values(complete("bash", "supportcli export --format n")) == ["ndjson"]
    assert values(complete("bash", "supportcli mail-in --kind c")) == ["complaint", "compliment"]
    assert values(complete("bash", "supportcli mail-in --priority u")) == ["urgent"]
    assert values(complete("bash", "supportcli mail log --outcome r")) == ["reply", "refused"]
    assert values(complete("bash", "supportcli overdue --target r")) == ["respond", "resolve"]
    assert values(complete("bash", "supportcli explain 1 a")) == ["acknowledge"]
    assert values(complete("bash", "supportcli notify log --status ")) == ["pending", "sent", "dead"]


def test_watch_completes_ticket_ids(store_with_tickets: Path) -> None:
    env = {"SUPPORTCLI_DB": str(store_with_tickets)}
    assert values(complete("bash", "supportcli watch ", env)) == ["3", "2", "1"]


def test_completion_never_creates_the_store_nor_fails(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = complete("bash", "supportcli show ", {"SUPPORTCLI_DB": str(missing)})
    assert (result.returncode, result.stdout.strip()) == (0, "")
    assert not missing.exists()

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    for line in ("supportcli show ", "supportcli assign 1 ", "supportcli escalate 1 --to "):
        result = complete("bash", line, {"SUPPORTCLI_DB": str(garbage)})
        assert result.returncode == 0
        assert "Traceback" not in result.stderr


def test_completion_is_not_held_up_by_a_writer(store_with_tickets: Path) -> None:
    """A long write in progress: completion still answers at once (from the last commit, or with nothing)."""
    holder = sqlite3.connect(store_with_tickets)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = complete("bash", "supportcli show ", {"SUPPORTCLI_DB": str(store_with_tickets)})
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 0
    assert values(result) in (["3", "2", "1"], [])
    assert "Traceback" not in result.stderr


# -- the garbage collector: a run that is the whole process freezes what it imported --------------------------

FREEZE_PROBE = """
import gc, sys
from supportcli.cli.app import main
before = gc.get_freeze_count()
sys.argv = ["supportcli", *sys.argv[1:]]
status = main()
print(f"frozen {before} {gc.get_freeze_count()}", file=sys.stderr)
sys.exit(status)
"""


def test_the_console_script_freezes_the_imports_once_the_store_is_open(store_with_tickets: Path) -> None:
    """``main()`` on the process's own command line takes the imported objects out of the collector's full
    passes (on a large backlog one pass over them was 66 ms of ``overdue --json``, benchmarks/README.md)."""
    result = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, "list", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "SUPPORTCLI_DB": str(store_with_tickets), "SUPPORTCLI_NOW": "2026-11-24T10:00:00+00:00"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert len(json.loads(result.stdout)) == 3
    before, after = (int(n) for n in result.stderr.split("frozen ")[1].split())
    assert before == 0
    assert after > 10_000  # the modules, classes and tables of SQLAlchemy, SQLModel, Rich, holidays…


def test_a_run_that_is_not_the_whole_process_freezes_nothing(store_with_tickets: Path) -> None:
    """Tests (and any caller of ``main(args, env)``) run many commands in one process: nothing is frozen,
    or their garbage would be kept for ever."""
    before = gc.get_freeze_count()
    out = io.StringIO()
    variables = {**os.environ, "SUPPORTCLI_DB": str(store_with_tickets), "SUPPORTCLI_NOW": "2026-11-24T10:00:00+00:00"}
    status = main(["list", "--json"], Environment(variables, stdout=out, stderr=io.StringIO()))
    assert (status, len(json.loads(out.getvalue()))) == (0, 3)
    assert gc.get_freeze_count() == before
