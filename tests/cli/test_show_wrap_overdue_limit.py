"""``show`` wraps long body and history lines at word boundaries to the terminal's width, and ``overdue``
takes ``--limit`` like every listing (through the real CLI on each backend)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from helpers import MON_1000, Cli, at, log, ok

LATER = "2026-12-23T10:00:00+00:00"  # weeks on: every target of an open ticket is breached
BODY = (
    "The courier left the parcel at the wrong house yesterday and nobody answered when I called the depot "
    "twice.\nSecond line: https://example.com/a/very/long/address/that/fits/no/line/of/forty/columns ok"
)
UPDATE = "Called the depot: they will redeliver tomorrow morning before noon, customer informed by phone"


def terminal(columns: int) -> dict[str, str]:
    return at(MON_1000, SUPPORTCLI_TERMINAL="1", NO_COLOR="1", COLUMNS=str(columns))


def words_of(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("columns", [80, 40])
def test_show_wraps_body_and_history_at_word_boundaries(cli: Cli, columns: int) -> None:
    ticket = log(cli, "Parcel at the wrong house", "--body", BODY)
    ok(cli("update", str(ticket), "-m", UPDATE, env=at(MON_1000)))
    shown = ok(cli("show", str(ticket), env=terminal(columns))).stdout
    lines = shown.splitlines()
    body_start = next(i for i, line in enumerate(lines) if line.startswith("  The courier"))
    body_end = next(i for i in range(body_start, len(lines)) if lines[i].startswith("  Second line"))
    first_paragraph = lines[body_start:body_end]
    assert len(first_paragraph) > 1, "the long line is wrapped"
    for line in first_paragraph:
        assert len(line) <= columns and line.startswith("  ") and line == line.rstrip()
    # Only at word boundaries: the wrapped lines hold the words of the paragraph, each whole.
    assert words_of(" ".join(first_paragraph)) == words_of(BODY.splitlines()[0])
    history = lines[lines.index("History:") + 1 :]
    update_start = next(i for i, line in enumerate(history) if "updated" in line)
    update_lines = history[update_start:]
    assert len(update_lines) > 1
    assert all(len(line) <= columns for line in update_lines)
    assert all(line.startswith("    ") for line in update_lines[1:]), "continuation lines hang under the first"
    assert words_of(" ".join(update_lines))[-len(words_of(UPDATE)) :] == words_of(UPDATE)
    assert all(len(line) <= columns for line in lines[body_start:])


def test_piped_show_keeps_each_line_whole(cli: Cli) -> None:
    ticket = log(cli, "Parcel at the wrong house", "--body", BODY)
    ok(cli("update", str(ticket), "-m", UPDATE, env=at(MON_1000)))
    shown = ok(cli("show", str(ticket), env=at(MON_1000, COLUMNS="40"))).stdout
    assert "  " + BODY.splitlines()[0] + "\n" in shown
    assert f": updated — {UPDATE}\n" in shown


def test_overdue_limit_keeps_the_worst(cli: Cli) -> None:
    for number in range(4):
        log(cli, f"Broken {number}", "--priority", "urgent", now=f"2026-11-2{number + 3}T10:00:00+00:00")
    everything = json.loads(ok(cli("overdue", "--json", env=at(LATER))).stdout)
    assert len(everything) > 2
    limited = json.loads(ok(cli("overdue", "--json", "--limit", "2", env=at(LATER))).stdout)
    assert limited == everything[:2]
    rows = list(csv.DictReader(io.StringIO(ok(cli("overdue", "--csv", "-n", "3", env=at(LATER))).stdout)))
    assert [row["id"] for row in rows] == [str(row["id"]) for row in everything[:3]]
    plain = ok(cli("overdue", "--limit", "1", env=at(LATER))).stdout.splitlines()
    assert len(plain) == 1 and plain[0].startswith(f"{everything[0]['id']}\t")
    table = ok(cli("overdue", "--limit", "1", env=at(LATER, SUPPORTCLI_TERMINAL="1", NO_COLOR="1", COLUMNS="120")))
    assert sum(1 for line in table.stdout.splitlines() if line.lstrip().startswith("#")) == 1


def test_overdue_limit_does_not_hide_breaches_from_the_exit_status(cli: Cli) -> None:
    log(cli, "Broken", "--priority", "urgent")
    log(cli, "Broken too", "--priority", "urgent")
    result = cli("overdue", "--limit", "1", "--exit-status", "--json", env=at(LATER))
    assert result.exit_code == 8
    assert len(json.loads(result.stdout)) == 1
    assert cli("overdue", "--limit", "0", env=at(LATER)).exit_code == 2


def test_overdue_and_due_match_owner_and_org_in_any_case(cli: Cli) -> None:
    mine = log(cli, "Broken", "--priority", "urgent", "--owner", "Priya", "--org", "Acme")
    log(cli, "Other", "--priority", "urgent", "--owner", "emma", "--org", "Globex")
    for options in (["--owner", "PRIYA"], ["--org", "acme"], ["--owner", "priya", "--org", "ACME"]):
        breached = json.loads(ok(cli("overdue", *options, "--json", env=at(LATER))).stdout)
        assert {row["id"] for row in breached} == {mine}, options
    assert json.loads(ok(cli("overdue", "--owner", "pri%", "--json", env=at(LATER))).stdout) == []
    due = ok(cli("due", "--owner", "priya", "-q", env=at(LATER))).stdout.split()
    assert due == [str(mine)]
