"""One countdown everywhere, and CSV listings that keep numbers numbers, through the real CLI.

Every view of a ticket's countdown (``show``, ``list``, ``due``, ``overdue``; table, plain rows, JSON and CSV)
counts the same working time with one rounding rule: seconds become minutes by truncation toward zero. Under
the built-in policy (Mon–Fri 09:00–17:00 Europe/London, GMT in November) a phone ticket logged Mon 23 Nov
2026 10:00 must be responded to within 4wh: by Mon 14:00. At 14:01:30 it is 90 s overdue: "overdue by 1m",
``remaining_working_minutes`` -1 and ``overdue_working_minutes`` 1 (the listings once said 2m).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from helpers import Cli, at, ok

MON_1000 = "2026-11-23T10:00:00+00:00"
NINETY_SECONDS_LATE = "2026-11-23T14:01:30+00:00"  # respond was due Mon 14:00
DUE = "2026-11-23T14:00:00+00:00"
TERMINAL = {"SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1", "COLUMNS": "160"}


def log_phone_ticket(cli: Cli, subject: str = "Line dead", *options: str) -> int:
    return int(
        ok(cli("log", subject, "--channel", "phone", "--owner", "priya", *options, "-q", env=at(MON_1000))).stdout
    )


def run(cli: Cli, *args: str, **env: str) -> str:
    return ok(cli(*args, env=at(NINETY_SECONDS_LATE, **env))).stdout


def respond(record: dict[str, Any]) -> dict[str, Any]:
    return next(target for target in record["targets"] if target["name"] == "respond")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def plain_rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


def test_ninety_seconds_overdue_is_one_minute_in_every_view(cli: Cli) -> None:
    ticket_id = log_phone_ticket(cli)

    # Tables on a terminal.
    for command in ("list", "due"):
        table = run(cli, command, **TERMINAL)
        assert "overdue by 1m" in table, table
        assert "overdue by 2m" not in table
    overdue_table = run(cli, "overdue", **TERMINAL)
    [row] = [line for line in overdue_table.splitlines() if f"#{ticket_id}" in line]
    assert row.split()[-1] == "1m"
    shown = run(cli, "show", str(ticket_id), **TERMINAL)
    [respond_line] = [line for line in shown.splitlines() if line.strip().startswith("respond")]
    assert "overdue by 1m" in respond_line

    # Plain rows when piped.
    for command in ("list", "due"):
        [row] = plain_rows(run(cli, command))
        assert (row[0], row[-1]) == (str(ticket_id), "overdue by 1m")
    [row] = plain_rows(run(cli, "overdue"))
    assert (row[0], row[-1]) == (str(ticket_id), "1m")
    shown_plain = run(cli, "show", str(ticket_id))
    [respond_row] = [line.split("\t") for line in shown_plain.splitlines() if line.startswith("respond\t")]
    assert respond_row[-1] == "overdue by 1m"

    # JSON.
    for args in (("list", "--json"), ("due", "--json")):
        [record] = json.loads(run(cli, *args))
        assert (respond(record)["state"], respond(record)["remaining_working_minutes"]) == ("breached", -1)
    assert respond(json.loads(run(cli, "show", str(ticket_id), "--json")))["remaining_working_minutes"] == -1
    [breach] = json.loads(run(cli, "overdue", "--json"))
    assert (breach["target"], breach["due_at"], breach["overdue_working_minutes"]) == ("respond", DUE, 1)

    # CSV.
    for command in ("list", "due"):
        [row] = csv_rows(run(cli, command, "--csv"))
        assert (row["next_target"], row["due_at"], row["remaining_working_minutes"]) == ("respond", DUE, "-1")
    [row] = csv_rows(run(cli, "overdue", "--csv"))
    assert (row["target"], row["overdue_working_minutes"]) == ("respond", "1")


def test_a_countdown_truncates_toward_zero_before_the_due_time_too(cli: Cli) -> None:
    log_phone_ticket(cli)
    # Mon 13:58:30: 90 s left, one whole minute.
    [record] = json.loads(ok(cli("list", "--json", env=at("2026-11-23T13:58:30+00:00"))).stdout)
    assert respond(record)["remaining_working_minutes"] == 1
    [row] = plain_rows(ok(cli("due", env=at("2026-11-23T13:58:30+00:00"))).stdout)
    assert row[-1] == "1m"


def test_csv_listings_neutralise_formulas_in_text_but_write_numbers_as_numbers(cli: Cli) -> None:
    formula = log_phone_ticket(cli, '=HYPERLINK("http://x")', "--org", "-Acme")
    plain = log_phone_ticket(cli, "Plain subject", "--org", "Acme")
    for command in ("list", "due"):
        rows = {row["id"]: row for row in csv_rows(run(cli, command, "--csv"))}
        assert rows[str(formula)]["subject"] == '\'=HYPERLINK("http://x")'
        assert rows[str(formula)]["org"] == "'-Acme"
        assert rows[str(plain)]["subject"] == "Plain subject"
        # A negative countdown is a number, not text a spreadsheet would show as '-1.
        assert {row["remaining_working_minutes"] for row in rows.values()} == {"-1"}
    rows = {row["id"]: row for row in csv_rows(run(cli, "overdue", "--csv"))}
    assert rows[str(formula)]["subject"] == '\'=HYPERLINK("http://x")'
    assert {row["overdue_working_minutes"] for row in rows.values()} == {"1"}


def test_csv_listings_give_the_tier_as_a_number_and_its_name_beside_it(cli: Cli) -> None:
    first = log_phone_ticket(cli)
    escalated = log_phone_ticket(cli, "Still dead")
    ok(cli("escalate", str(escalated), "--reason", "Customer unhappy", env=at(MON_1000)))
    expected = {str(first): ("0", "Support"), str(escalated): ("1", "Customer Success Manager")}
    for args in (("list", "--csv"), ("due", "--csv"), ("overdue", "--csv")):
        rows = csv_rows(run(cli, *args))
        assert {row["id"]: (row["tier"], row["tier_name"]) for row in rows} == expected, args
    # As JSON gives them.
    records = json.loads(run(cli, "list", "--json"))
    assert {str(r["id"]): (str(r["tier"]), r["tier_name"]) for r in records} == expected
