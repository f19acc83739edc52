"""The reference in docs/ and README checked against the program, so the two cannot drift apart.

- every worked example of docs/working-time.md is run through ``calendar due``, and its countdown
  table through ``due`` and ``show --json``;
- every command and subcommand of the CLI has a row in README's commands table (as sqlite-utils does);
- every exit code of ``errors.ExitStatus`` is in docs/exit-codes.md (and README's table), and no other;
- the JSON fields ``show``, ``list``, ``due`` and ``overdue --json`` write are exactly those docs/json.md
  describes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from typer.testing import Result

from helpers import at, ok
from supportcli.core.policy import default_policy_source
from supportcli.errors import ExitStatus

Cli = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
NOW = "2026-11-23T10:00:00+00:00"
DEFAULT_TIMEZONE = "Europe/London"

# The product's own reference examples: the first table must keep them (received, target, due).
REFERENCE_EXAMPLES = {
    ("Mon 2026-11-23 10:00", "1wd", "Tue 2026-11-24 17:00"),
    ("Fri 2026-11-27 16:45", "1wd", "Mon 2026-11-30 17:00"),
    ("Sat 2026-11-28 11:00", "1wd", "Mon 2026-11-30 17:00"),
    ("Fri 2026-11-27 16:00", "4wh", "Mon 2026-11-30 12:00"),
    ("Mon 2026-11-23 18:30", "0wd", "Tue 2026-11-24 17:00"),
    ("Wed 2026-12-23 12:00", "2wd", "Tue 2026-12-29 17:00"),
}

# A local time as the docs write it: weekday, date, time and optionally the zone's abbreviation.
LOCAL_TIME = re.compile(
    r"^(?P<weekday>[A-Z][a-z]{2}) (?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2})(?: (?P<zone>[A-Z]{2,5}))?$"
)

# JSON values whose keys differ by record (each history event's facts): documented as a whole.
FREE_FORM_FIELDS = {"history[].data"}


# -- reading the markdown -----------------------------------------------------------------------------------------------


def section(path: Path, heading: str) -> str:
    """The text under a heading (a line starting with ``heading``) up to the next heading of its level or above."""
    lines = path.read_text(encoding="utf-8").splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    starts = [i for i, line in enumerate(lines) if line.startswith(heading)]
    assert len(starts) == 1, f"{path.name}: expected one heading {heading!r}, found {len(starts)}"
    body = []
    for line in lines[starts[0] + 1 :]:
        hashes = len(line) - len(line.lstrip("#"))
        if 0 < hashes <= level and line[hashes : hashes + 1] == " ":
            break
        body.append(line)
    return "\n".join(body)


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every markdown table in ``text``, each as rows keyed by the lower-cased header cells."""
    found: list[list[dict[str, str]]] = []
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])])
            continue
        if len(block) >= 2:
            header = [cell.lower() for cell in block[0]]
            found.append([dict(zip(header, cells, strict=True)) for cells in block[2:]])
        block = []
    return found


def code_spans(cell: str) -> list[str]:
    """The `code` spans of a table cell, with markdown's escaped pipes restored."""
    return [span.replace("\\|", "|") for span in re.findall(r"`([^`]+)`", cell)]


def local_time(text: str, zone: ZoneInfo) -> datetime:
    """A local time as the docs write it (``Fri 2026-10-23 16:00 BST``), checking its weekday and zone."""
    found = LOCAL_TIME.match(text)
    assert found, f"not a local time: {text!r}"
    moment = datetime.fromisoformat(f"{found['date']} {found['time']}").replace(tzinfo=zone)
    assert moment.strftime("%a") == found["weekday"], f"{text}: {found['date']} is a {moment:%A}"
    if found["zone"]:
        assert moment.tzname() == found["zone"], f"{text}: the zone then is {moment.tzname()}"
    return moment


def shown_as(moment: datetime, like: str) -> str:
    """An instant written the way a docs cell ``like`` writes one (with the zone when that cell has it)."""
    zone = LOCAL_TIME.match(like)
    return moment.strftime("%a %Y-%m-%d %H:%M") + (f" {moment.tzname()}" if zone and zone["zone"] else "")


# -- (a) the worked examples and countdowns of docs/working-time.md ------------------------------------------------------


def worked_examples() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The two tables of worked examples: under the built-in calendar, and under other calendar settings."""
    found = tables(section(DOCS / "working-time.md", "## Worked examples"))
    assert len(found) == 2, "docs/working-time.md: expected two tables of worked examples"
    return found[0], found[1]


def policy_with(settings: list[str]) -> str:
    """The built-in policy with the ``key = value`` lines of its [calendar] replaced by ``settings``."""
    source = default_policy_source()
    for setting in settings:
        key = setting.split("=", 1)[0].strip()
        source, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", lambda _, line=setting: line, source, count=1)
        assert count == 1, f"the built-in policy has no {key!r} line to replace"
    return source


def due_mismatches(cli: Cli, rows: list[dict[str, str]], tmp_path: Path) -> Iterator[str]:
    """Each row whose due time is not what ``calendar due`` computes, as a line saying both."""
    for number, row in enumerate(rows, start=1):
        settings = code_spans(row.get("calendar", ""))
        zone_line = next((s for s in settings if s.startswith("timezone")), f'timezone = "{DEFAULT_TIMEZONE}"')
        zone = ZoneInfo(zone_line.split("=", 1)[1].strip().strip('"'))
        received = local_time(row["received (local)"], zone)
        local_time(row["due (local)"], zone)  # a well-formed time with the right weekday
        extra: list[str] = []
        if settings:
            path = tmp_path / f"calendar-{number}.toml"
            path.write_text(policy_with(settings), encoding="utf-8")
            extra = ["--policy", str(path)]
        when = received.strftime("%Y-%m-%d %H:%M")
        result = ok(cli("calendar", "due", when, row["target"], *extra, "--json", env=at(NOW)))
        computed = json.loads(result.stdout)
        assert datetime.fromisoformat(computed["start"]) == received
        due = datetime.fromisoformat(computed["due_at"]).astimezone(zone)
        if shown_as(due, row["due (local)"]) != row["due (local)"]:
            where = f" ({', '.join(settings)})" if settings else ""
            yield f"{row['received (local)']} + {row['target']}{where}: docs say {row['due (local)']}, program says {shown_as(due, row['due (local)'])}"


def test_worked_examples_are_what_the_program_computes(cli: Cli, tmp_path: Path) -> None:
    built_in, other_calendars = worked_examples()
    assert {(r["received (local)"], r["target"], r["due (local)"]) for r in built_in} >= REFERENCE_EXAMPLES
    assert len(built_in) >= 20 and len(other_calendars) >= 10
    wrong = [*due_mismatches(cli, built_in, tmp_path), *due_mismatches(cli, other_calendars, tmp_path)]
    assert not wrong, "docs/working-time.md worked examples:\n" + "\n".join(wrong)


def test_countdown_table_is_what_due_and_show_print(cli: Cli) -> None:
    """The table's ticket: a complaint received Mon 2026-11-23 10:00, acknowledge (1wd) due Tue 17:00."""
    (rows,) = tables(section(DOCS / "working-time.md", "## Countdowns"))
    assert len(rows) >= 5
    london = ZoneInfo(DEFAULT_TIMEZONE)
    ok(cli("log", "Engineer never came", "--kind", "complaint", "-q", env=at(NOW)))
    wrong = []
    for row in rows:
        now = local_time(row["now (local)"], london).isoformat()
        line = next(line for line in ok(cli("due", env=at(now))).stdout.splitlines() if line.startswith("1\t"))
        left = line.split("\t")[-1]
        target = json.loads(ok(cli("show", "1", "--json", env=at(now))).stdout)["targets"][0]
        assert target["name"] == "acknowledge" and target["due_at"] == "2026-11-24T17:00:00+00:00"
        shown = (left, str(target["remaining_working_minutes"]))
        if shown != (row["left"], row["remaining_working_minutes"]):
            wrong.append(
                f"at {row['now (local)']}: docs say {row['left']} / {row['remaining_working_minutes']}, program says {shown[0]} / {shown[1]}"
            )
    assert not wrong, "docs/working-time.md countdowns:\n" + "\n".join(wrong)


# -- (b) README's commands table -----------------------------------------------------------------------------------------


def cli_commands() -> set[str]:
    """Every command and subcommand the CLI has, as typed (``policy set``), loading each group."""
    import typer.main

    from supportcli.cli.app import app

    def walk(group: Any, prefix: str) -> Iterator[str]:
        for name in group.commands:
            command = group.commands[name]
            if getattr(command, "hidden", False):
                continue
            yield f"{prefix}{name}"
            if hasattr(command, "commands"):
                yield from walk(command, f"{prefix}{name} ")

    return set(walk(typer.main.get_command(app), ""))


def readme_commands() -> set[str]:
    """What README's commands table names: ``policy show|check FILE|set FILE`` names policy show, check and set."""
    (rows,) = tables(section(README, "## Commands"))
    named = set()
    for row in rows:
        for span in code_spans(row["command"]):
            command, _, rest = span.partition(" ")
            named.add(command)
            named.update(f"{command} {piece.split()[0]}" for piece in rest.split("|") if piece.split())
    return named


def test_every_command_and_subcommand_is_in_readme() -> None:
    commands = cli_commands()
    assert {"log", "policy set", "calendar due", "notify retry"} <= commands
    missing = sorted(commands - readme_commands())
    assert not missing, f"README.md's commands table has no row for: {', '.join(missing)}"


# -- (c) exit codes ------------------------------------------------------------------------------------------------------


def documented_exit_codes(path: Path, heading: str) -> dict[int, dict[str, str]]:
    """The rows of the first table under ``heading``, by exit code."""
    rows = tables(section(path, heading))[0]
    return {int(row["code"]): row for row in rows}


def test_every_exit_code_is_documented() -> None:
    documented = documented_exit_codes(DOCS / "exit-codes.md", "# Exit codes")
    assert set(documented) == {int(status) for status in ExitStatus}
    for status in ExitStatus:
        assert documented[int(status)]["name"] == f"`{status.name}`", status
        assert documented[int(status)]["meaning"], status
    assert set(documented_exit_codes(README, "## Exit codes")) == {int(status) for status in ExitStatus}


# -- (d) JSON fields -----------------------------------------------------------------------------------------------------


def documented_fields(heading: str) -> set[str]:
    """The field paths (``targets[].state``) the first table under a docs/json.md heading describes."""
    rows = tables(section(DOCS / "json.md", heading))[0]
    return {path for row in rows for path in code_spans(row["field"])}


def field_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key of a JSON value as a path: ``customer.email``, ``targets[].state``; lists of records as ``[]``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            if path not in FREE_FORM_FIELDS:
                found |= field_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= field_paths(item, f"{prefix}[]" if prefix else "")
    return found


def test_json_fields_are_the_documented_ones(cli: Cli) -> None:
    """A small store: a complaint with a customer, tags and history; a phone ticket whose respond breached."""
    for args, now in (
        (("log", "Engineer never came", "--kind", "complaint", "--org", "Acme", "--name", "Ann Lee",
          "--email", "ann@example.com", "--tag", "field", "-q"), "2026-11-23T10:00:00+00:00"),
        (("log", "Meter reading disputed", "--channel", "phone", "-q"), "2026-11-23T12:00:00+00:00"),
        (("update", "1", "-m", "Engineer rebooked for Thursday"), "2026-11-23T11:30:00+00:00"),
        (("escalate", "1", "--reason", "Second missed visit"), "2026-11-23T11:40:00+00:00"),
    ):  # fmt: skip
        ok(cli(*args, env=at(now)))
    later = at("2026-11-24T11:00:00+00:00")

    def output(*args: str) -> Any:
        return json.loads(ok(cli(*args, "--json", env=later)).stdout)

    show_fields = documented_fields("## `show --json`")
    shown = field_paths(output("show", "1")) | field_paths(output("show", "2"))
    assert shown - show_fields == set(), "written by show --json but not in docs/json.md"
    assert show_fields - shown == set(), "in docs/json.md but not written by show --json"

    listed_fields = {path for path in show_fields if path.split(".")[0].split("[")[0] not in ("body", "history")}
    for command in ("list", "due"):
        records = output(command)
        assert len(records) == 2, command
        assert field_paths(records) == listed_fields, f"{command} --json differs from show --json but body/history"

    searched = output("search", "engineer")
    assert [record["id"] for record in searched] == [1]
    assert field_paths(searched) == listed_fields | documented_fields("## `search --json`")

    overdue = output("overdue")
    assert [(record["id"], record["target"]) for record in overdue] == [(2, "respond")]
    assert field_paths(overdue) == documented_fields("## `overdue --json`")


def test_documented_dates_are_real_dates() -> None:
    """A weekday written beside a date anywhere in docs/ is that date's weekday."""
    wrong = []
    for path in sorted(DOCS.glob("*.md")):
        for found in re.finditer(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4}-\d{2}-\d{2})\b", path.read_text("utf-8")):
            if date.fromisoformat(found[2]).strftime("%a") != found[1]:
                wrong.append(f"{path.name}: {found[0]}")
    assert not wrong, "weekday does not match the date: " + ", ".join(wrong)


# -- docs/tickets.md and the links ---------------------------------------------------------------------------------------


def test_status_table_is_the_programs_transitions() -> None:
    from supportcli.core.targets import TARGET_KINDS, TARGET_NAMES
    from supportcli.core.tickets import TRANSITIONS

    statuses = tables(section(DOCS / "tickets.md", "## Statuses and actions"))[0]
    documented = {code_spans(row["action"])[0]: row for row in statuses}
    assert set(documented) == set(TRANSITIONS)
    for action, (allowed, leads_to) in TRANSITIONS.items():
        row = documented[action]
        assert set(code_spans(row["allowed when the ticket is"])) == set(allowed), action
        if leads_to is not None:
            assert code_spans(row["leads to"])[0] == leads_to, action
        else:
            assert "unchanged" in row["leads to"], action
    (targets,) = tables(section(DOCS / "tickets.md", "## Targets and what meets them"))
    met_by = {code_spans(row["target"])[0]: set(code_spans(row["met by"])) for row in targets}
    assert set(met_by) == set(TARGET_NAMES)
    for kind in TARGET_KINDS:
        for action in kind.met_by:
            assert action in met_by[kind.name], f"docs/tickets.md: {kind.name} is met by {action}"


def without_code_blocks(text: str) -> str:
    """Markdown text with its fenced code blocks left out (a ``#`` there is a comment, not a heading)."""
    return re.sub(r"(?ms)^```.*?^```", "", text)


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"(?m)^#+ (.+)$", without_code_blocks(path.read_text(encoding="utf-8")))
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_links_in_the_docs_lead_somewhere() -> None:
    broken = []
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        text = without_code_blocks(path.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{path.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)
