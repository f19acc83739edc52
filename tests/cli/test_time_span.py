"""The working calendar's span, through the real CLI on both backends: a time outside it is refused where it is
typed (exit 2, naming the span), and a stored time outside it never breaks a read.

The calendar spans ten years either side of now (docs/working-time.md, "The calendar's span"): at the README's
tour week, Mon 2026-11-23, that is 2016-01-01 to 2036-12-31. Stored times outside it are written straight into
the store, as an older program, an import or time passing leaves them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import MON_1000, Cli, Snapshot, at, log, ok, refused, show

SPAN = "outside the working calendar's span 2016-01-01 to 2036-12-31"
FAR_AHEAD = datetime(2062, 6, 1, 9, 0, tzinfo=UTC)
LONG_AGO = datetime(2010, 6, 1, 9, 0, tzinfo=UTC)
A_WEEK_ON = "2026-11-30T10:00:00+00:00"  # every target of a ticket logged at MON_1000 has breached by then


def store_instants(store_url: str, ticket_id: int, when: datetime) -> None:
    """Put every due time of a ticket (and the ticket's next due time) at ``when``, straight into the store."""
    from sqlalchemy import create_engine, update
    from sqlalchemy.pool import NullPool

    from supportcli.store.models import Target, Ticket

    engine = create_engine(store_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(Target.__table__).where(Target.__table__.c.ticket_id == ticket_id), {"due_at": when}
            )  # type: ignore[attr-defined]
            connection.execute(
                update(Ticket.__table__).where(Ticket.__table__.c.id == ticket_id), {"next_due_at": when}
            )  # type: ignore[attr-defined]
    finally:
        engine.dispose()


# -- refused where it is typed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["log", "Letter", "--received", "2015-06-01 10:00"],
        ["update", "1", "-m", "Booked", "--next", "2062-06-01"],
        ["ack", "1", "--at", "2040-01-01 10:00"],
        ["extend", "1", "--until", "2062-06-01", "--reason", "supplier"],
        ["staff", "away", "priya", "--until", "2062-06-01", "--cover", "sam"],
        ["report", "--since", "2000-01-01"],
        ["list", "--since", "2000-01-01"],
        ["calendar", "due", "2050-01-03 10:00", "1wd"],
    ],
    ids=["received", "next", "at", "until", "away-until", "report-since", "list-since", "calendar-due"],
)
def test_a_time_outside_the_span_is_refused_where_it_is_typed(
    cli: Cli, snapshot: Callable[[], Snapshot], command: list[str]
) -> None:
    log(cli, "Hello")
    for name in ("priya", "sam"):
        ok(cli("staff", "add", name, "--email", f"{name}@example.com", env=at(MON_1000)))
    before = snapshot()
    refused(cli(*command, env=at(MON_1000)), 2, SPAN)
    assert snapshot() == before


def test_policy_set_effective_outside_the_span_is_refused(
    cli: Cli, snapshot: Callable[[], Snapshot], tmp_path: Path
) -> None:
    policy = tmp_path / "team.toml"
    policy.write_text(ok(cli("policy", "show", env=at(MON_1000))).stdout)
    before = snapshot()
    refused(cli("policy", "set", str(policy), "--effective", "2062-01-01", env=at(MON_1000)), 2, SPAN)
    assert snapshot() == before


def test_the_bad_date_of_the_issue_no_longer_poisons_the_store(cli: Cli) -> None:
    ticket = log(cli, "Hello")
    refused(cli("update", str(ticket), "-m", "x", "--next", "2062-06-01", env=at(MON_1000)), 2, SPAN)
    ok(cli("list", "--json", env=at(MON_1000)))
    ok(cli("due", "--json", env=at(MON_1000)))
    ok(cli("show", str(ticket), env=at(MON_1000)))


@pytest.mark.parametrize("clock", ["9999-12-31T23:00:00+00:00", "1969-07-20T20:17:00+00:00"])
def test_a_clock_no_calendar_can_be_built_around_is_one_line_exit_2(
    cli: Cli, snapshot: Callable[[], Snapshot], clock: str
) -> None:
    log(cli, "Hello")
    before = snapshot()
    for command in (["list"], ["log", "Another"], ["show", "1"]):
        refused(cli(*command, env=at(clock)), 2, "SUPPORTCLI_NOW", "the year must be 1970 to 9988")
    assert snapshot() == before


# -- a stored time outside the span never breaks a read -----------------------------------------------------------


@pytest.fixture
def odd_store(cli: Cli, store_url: str) -> tuple[int, int]:
    """Two tickets: #1 with its due times in 2062 (outside the span), #2 as logged."""
    odd, plain = log(cli, "Engineer visit, far ahead"), log(cli, "Invoice query")
    store_instants(store_url, odd, FAR_AHEAD)
    return odd, plain


def test_json_listings_show_an_uncountable_countdown_as_null(cli: Cli, odd_store: tuple[int, int]) -> None:
    odd, plain = odd_store
    for command in ("list", "due"):
        rows = {row["id"]: row for row in json.loads(ok(cli(command, "--json", env=at(MON_1000))).stdout)}
        assert {target["due_at"] for target in rows[odd]["targets"]} == {"2062-06-01T10:00:00+01:00"}
        assert {target["remaining_working_minutes"] for target in rows[odd]["targets"]} == {None}
        assert all(isinstance(target["remaining_working_minutes"], int) for target in rows[plain]["targets"])
    assert {target["remaining_working_minutes"] for target in show(cli, odd)["targets"]} == {None}
    assert all(isinstance(target["remaining_working_minutes"], int) for target in show(cli, plain)["targets"])


def test_tables_and_plain_rows_say_unknown(cli: Cli, odd_store: tuple[int, int]) -> None:
    odd, _ = odd_store
    terminal = {"SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1", "COLUMNS": "160"}
    table = ok(cli("due", env=at(MON_1000, **terminal))).stdout
    assert "unknown" in next(line for line in table.splitlines() if "far ahead" in line)
    plain = ok(cli("list", env=at(MON_1000))).stdout
    assert plain.splitlines()[0].split("\t")[0] == str(odd)
    assert "unknown" in plain.splitlines()[0].split("\t")
    shown = ok(cli("show", str(odd), env=at(MON_1000, **terminal))).stdout
    assert "unknown" in shown
    ok(cli("explain", str(odd), env=at(MON_1000)))


def test_csv_leaves_an_uncountable_countdown_empty(cli: Cli, odd_store: tuple[int, int]) -> None:
    odd, plain = odd_store
    rows = {
        int(row["id"]): row for row in csv.DictReader(io.StringIO(ok(cli("list", "--csv", env=at(MON_1000))).stdout))
    }
    assert rows[odd]["remaining_working_minutes"] == ""
    assert rows[plain]["remaining_working_minutes"].lstrip("-").isdigit()


def test_overdue_lists_a_breach_before_the_span_with_its_lateness_unknown(cli: Cli, store_url: str) -> None:
    old, recent = log(cli, "Breached long ago"), log(cli, "Breached last week")
    store_instants(store_url, old, LONG_AGO)
    records = json.loads(ok(cli("overdue", "--json", env=at(A_WEEK_ON))).stdout)
    lateness = {(record["id"], record["overdue_working_minutes"]) for record in records}
    assert (old, None) in lateness
    assert all(isinstance(minutes, int) and minutes > 0 for ticket, minutes in lateness if ticket == recent)
    table = ok(cli("overdue", env=at(A_WEEK_ON))).stdout
    assert "unknown" in next(line for line in table.splitlines() if line.startswith(f"{old}\t"))


def test_the_cron_run_skips_such_a_ticket_with_a_warning_and_does_the_rest(cli: Cli, store_url: str) -> None:
    old, recent = log(cli, "Breached long ago"), log(cli, "Breached last week")
    store_instants(store_url, old, LONG_AGO)
    for extra in (["--dry-run"], []):
        result = ok(cli("overdue", "--notify", *extra, env=at(A_WEEK_ON)))
        warnings = [line for line in result.stderr.splitlines() if line.startswith("supportcli: warning:")]
        assert (
            warnings == [f"supportcli: warning: #{old} skipped: 2010-06-01T10:00:00+01:00 is {SPAN}"] * len(warnings)
            and warnings
        )
        assert f"#{recent}" in result.stdout
        assert f"#{old}" not in result.stdout
    # The skipped ticket was not marked as handled: it is met again (and skipped again) on the next run.
    again = ok(cli("overdue", "--notify", env=at(A_WEEK_ON)))
    assert f"#{old} skipped" in again.stderr
    assert f"#{recent}" not in again.stdout  # its breaches were handled once
