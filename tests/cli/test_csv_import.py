"""Moving in from a spreadsheet (README): CSV import that carries a helpdesk's real state, through the real CLI.

Due times are worked out by hand under the built-in policy (Mon–Fri 09:00–17:00 Europe/London; November is
GMT, so local = UTC): e-mail gets acknowledge 1wd, respond 5wd, resolve 10wd; phone, chat and social get
respond 4wh and resolve 10wd. 2026-11-16 and 2026-11-23 are Mondays. The fixture tests/fixtures/import/
helpdesk.csv is a helpdesk's export as such files come: a UTF-8 BOM, Windows line endings, bodies over
several lines with quotes and commas, phone numbers, formula-looking cells, unpadded hours, day-first dates
and an Excel serial number, and its own column names and values (helpdesk-map.toml maps them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import Cli, at, ok, refused, show

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
HELPDESK = FIXTURES / "helpdesk.csv"
HELPDESK_MAP = FIXTURES / "helpdesk-map.toml"
NOW = "2026-11-24T09:00:00+00:00"  # Tuesday 09:00


def targets(ticket: dict[str, Any]) -> dict[str, tuple[str, str | None, str]]:
    return {t["name"]: (t["due_at"], t["met_at"], t["state"]) for t in ticket["targets"]}


def problems(result: Any) -> str:
    """A refused import's stderr: exit 2, no traceback, nothing on stdout; the count, then a line a problem."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    return str(result.stderr)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_a_helpdesk_export_imports_with_its_map_carrying_targets_states_ratings_and_references(cli: Cli) -> None:
    result = ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    assert "imported 5 tickets" in result.stderr and "(#1–#5)" in result.stderr
    assert "ignored column: Product Purchased" in result.stderr
    assert "moved the times of 1 record into order (--fix-order)" in result.stderr
    refund, router, chat, parcel, invoice = (show(cli, i, now=NOW) for i in range(1, 6))

    # A first response recorded in the old system is a met respond (Mon 09:05 + 5wd → Mon 23rd 17:00).
    assert (refund["reference"], refund["status"], refund["priority"], refund["rating"]) == (
        "TKT-1001",
        "closed",
        "urgent",
        5,
    )
    assert refund["received_at"] == "2026-11-16T09:05:00+00:00"  # unpadded hour
    assert targets(refund) == {
        "acknowledge": ("2026-11-17T17:00:00+00:00", "2026-11-16T10:30:00+00:00", "met"),  # 16/11/2026: day first
        "respond": ("2026-11-23T17:00:00+00:00", "2026-11-16T10:30:00+00:00", "met"),
        "resolve": ("2026-11-30T17:00:00+00:00", "2026-11-18T15:00:00+00:00", "met"),
    }
    assert refund["customer"]["phone"] == "+44 20 7946 0018"
    assert refund["body"] == "My refund has not arrived.\nOrder 5512, paid by card, on the 2nd."
    history = [(e["event"], e["text"]) for e in refund["history"]]
    assert history[2:] == [
        ("updated", "first response (before the import)"),
        ("resolved", "Refunded in full"),
        ("closed", ""),
        ("feedback", "Quick and kind"),
    ]
    assert history[1] == ("imported", f"from {HELPDESK} record 1 (TKT-1001)")

    # Pending Customer Response → waiting: a late first response (Fri 07:29 + 4wh → 13:00) is breached, the
    # rest is paused from then.
    assert (router["status"], router["customer"]["name"], router["customer"]["phone"]) == (
        "waiting",
        "Seán O'Brien",
        "07700 900123",
    )
    assert targets(router) == {
        "respond": ("2026-11-20T13:00:00+00:00", "2026-11-20T14:00:00+00:00", "breached"),
        "resolve": ("2026-12-04T17:00:00+00:00", None, "paused"),
    }
    assert router["body"] == 'It drops every hour, "like clockwork".\n\nTried a reset.'

    # An Excel serial number (Mon 23rd 10:00); formula-looking cells are text; no response yet: respond overdue.
    assert (chat["received_at"], chat["subject"], chat["status"]) == (
        "2026-11-23T10:00:00+00:00",
        "@channel help",
        "new",
    )
    assert chat["body"].startswith('=HYPERLINK("http://example.com/x","click")')
    assert targets(chat)["respond"] == ("2026-11-23T14:00:00+00:00", None, "breached")

    # Resolved (Wed 18th) before its first response (Thu 19th): --fix-order moves the resolution to the response.
    assert (parcel["channel"], parcel["priority"], parcel["resolved_at"], parcel["rating"]) == (
        "social",
        "normal",
        "2026-11-19T12:00:00+00:00",
        2,
    )
    assert targets(parcel)["respond"] == ("2026-11-17T15:00:00+00:00", "2026-11-19T12:00:00+00:00", "breached")

    # No first response: resolving met everything; a rating written 3.0 is 3; tags separated by ;.
    assert (invoice["rating"], invoice["tags"], invoice["closed_at"]) == (3, ["vip", "billing"], invoice["resolved_at"])
    assert {name: state for name, (_, _, state) in targets(invoice).items()} == {
        "acknowledge": "met",
        "respond": "met",
        "resolve": "met",
    }
    # The reference is shown, searchable and a filter of list.
    assert "reference:   TKT-1003" in ok(cli("show", "3", env=at(NOW))).stdout
    hits = json.loads(ok(cli("search", "--json", "TKT-1004", env=at(NOW))).stdout)
    assert [hit["id"] for hit in hits] == [4]
    assert ok(cli("list", "-q", "--reference", "TKT-1002", env=at(NOW))).stdout.split() == ["2"]


def test_inconsistent_times_are_refused_per_record_without_fix_order(cli: Cli, snapshot: Callable[[], Any]) -> None:
    ok(cli("log", "Before the import", env=at(NOW)))
    before = snapshot()
    line = problems(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), env=at(NOW)))
    assert "(nothing imported): 1 problem\n" in line
    assert (
        "record 4 (TKT-1004): resolved_at: 2026-11-18T09:00:00+00:00 is before responded_at "
        "2026-11-19T12:00:00+00:00 (fix the sheet, or --fix-order moves it to that time)"
    ) in line
    assert snapshot() == before


def test_maps_given_as_options_rename_columns_and_values(cli: Cli, tmp_path: Path) -> None:
    sheet = write(
        tmp_path,
        "export.csv",
        "Ticket Subject,Customer Email,Ticket Channel,Ticket Priority,Ticket Status,Opened,Case,Agent,Level\r\n"
        "Where is my order,ann@example.com,Social media,Critical,Pending Customer Response,2026-11-23 10:00,C-9,"
        "priya,customer success manager\r\n",
    )
    ok(
        cli(
            "import",
            str(sheet),
            "--map", "Ticket Subject=subject",
            "--map", "customer email=email",  # any letter case
            "--map", "Ticket Channel=channel",
            "--map", "Ticket Priority=priority",
            "--map", "Ticket Status=status",
            "--map", "Opened=received_at",
            "--map", "Case=reference",
            "--map", "Agent=owner",
            "--map", "Level=tier",
            "--map-value", "channel:Social media=social",
            "--map-value", "priority:Critical=urgent",
            "--map-value", "status:Pending Customer Response=waiting",
            env=at(NOW),
        )
    )  # fmt: skip
    ticket = show(cli, 1, now=NOW)
    assert (ticket["subject"], ticket["channel"], ticket["priority"], ticket["status"], ticket["reference"]) == (
        "Where is my order",
        "social",
        "urgent",
        "waiting",
        "C-9",
    )
    assert ticket["customer"]["email"] == "ann@example.com"
    assert (ticket["owner"], ticket["tier"], ticket["tier_name"]) == ("priya", 1, "Customer Success Manager")


def test_references_travel_in_the_json_dump(cli: Cli, tmp_path: Path, new_store: Callable[[], str]) -> None:
    ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    dump = tmp_path / "all.json"
    ok(cli("export", "-o", str(dump), env=at(NOW)))
    other = ("--db", new_store())
    ok(cli(*other, "import", str(dump), env=at(NOW)))
    moved = json.loads(ok(cli(*other, "show", "4", "--json", env=at(NOW))).stdout)
    assert (moved["reference"], moved["rating"]) == ("TKT-1004", 2)
    hits = json.loads(ok(cli(*other, "search", "--json", "TKT-1004", env=at(NOW))).stdout)
    assert [hit["id"] for hit in hits] == [4]


def test_an_unmapped_value_names_the_record_its_reference_and_the_map_to_give(cli: Cli, tmp_path: Path) -> None:
    sheet = write(tmp_path, "s.csv", "subject,channel,reference\r\nA,email,R-1\r\nB,Social media,R-2\r\n")
    line = problems(cli("import", str(sheet), env=at(NOW)))
    assert "record 2 (R-2): channel: unknown channel 'Social media'" in line
    assert "--map-value 'channel:Social media=…'" in line


def test_check_lists_the_columns_how_each_maps_and_the_problems_and_changes_nothing(
    cli: Cli, snapshot: Callable[[], Any]
) -> None:
    ok(cli("log", "Before the import", env=at(NOW)))
    before = snapshot()
    result = cli("import", "--check", str(HELPDESK), "--map-file", str(HELPDESK_MAP), env=at(NOW))
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["Ticket", "ID", "->", "reference", "(mapped)"] in lines
    assert ["Resolution", "->", "resolution"] in lines
    assert ["Product", "Purchased", "(ignored)"] in lines
    assert "problems (1):" in result.stdout and "record 4 (TKT-1004): resolved_at" in result.stdout
    assert "would import 4 tickets" in result.stdout
    assert result.stderr.strip() == f"supportcli: error: {HELPDESK}: 1 problem (listed above); nothing was written"
    assert snapshot() == before
    clean = ok(cli("import", "--check", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    assert "would import 5 tickets" in clean.stdout
    assert snapshot() == before


def test_a_missing_required_column_names_the_columns_found(cli: Cli, tmp_path: Path) -> None:
    sheet = write(tmp_path, "s.csv", "Ticket Subject,Ticket ID\r\nHello,1\r\n")
    assert "header: subject: the required column is missing (columns found: 'Ticket Subject', 'Ticket ID'" in (
        problems(cli("import", str(sheet), env=at(NOW)))
    )


def test_reimport_skips_known_references_or_updates_them(cli: Cli, tmp_path: Path) -> None:
    ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    again = ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    assert "skipped 5 rows already in the store: TKT-1001, TKT-1002, TKT-1003, TKT-1004, TKT-1005" in again.stderr
    assert "imported 0 tickets" in again.stderr
    assert ok(cli("list", "-q", env=at(NOW))).stdout.split() == ["1", "2", "3", "4", "5"]  # not doubled
    changed = write(
        tmp_path,
        "changed.csv",
        "reference,subject,channel,received_at,resolved_at,status\r\n"
        "TKT-1003,Chat answered at last,chat,2026-11-23 10:00,2026-11-23 16:00,resolved\r\n"
        "NEW-1,A new one,phone,2026-11-23 11:00,,\r\n",
    )
    updated = ok(cli("import", str(changed), "--on-conflict", "update", env=at(NOW)))
    assert "imported 1 ticket from" in updated.stderr and "(#6)" in updated.stderr
    assert "updated 1 ticket(s): #3" in updated.stderr
    chat = show(cli, 3, now=NOW)
    assert (chat["subject"], chat["status"]) == ("Chat answered at last", "resolved")
    # Mon 10:00 + 4wh → 14:00, met late at 16:00 by the resolution.
    assert targets(chat)["respond"] == ("2026-11-23T14:00:00+00:00", "2026-11-23T16:00:00+00:00", "breached")
    assert chat["history"][-1]["text"] == f"updated from {changed} record 1 (TKT-1003)"
    assert "TKT-1003 is ticket #3 already" in problems(
        cli("import", str(changed), "--on-conflict", "fail", env=at(NOW))
    )


def test_reimport_skips_a_known_reference_whatever_its_row_holds(cli: Cli, snapshot: Callable[[], Any]) -> None:
    """Imported once with --fix-order, the file comes in again without it: record 4's times are still out of
    order, but its reference is in the store, so it is skipped like the others, not refused."""
    ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    before = snapshot()
    checked = ok(cli("import", "--check", str(HELPDESK), "--map-file", str(HELPDESK_MAP), env=at(NOW)))
    assert "skip 5 already in the store" in checked.stdout + checked.stderr
    again = ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), env=at(NOW)))
    assert "skipped 5 rows already in the store: TKT-1001, TKT-1002, TKT-1003, TKT-1004, TKT-1005" in again.stderr
    after = snapshot()
    assert len(after.pop("imported_files")["rows"]) == 2  # the second import is on record, with 0 tickets
    before.pop("imported_files")
    assert after == before
    before = snapshot()
    # Updating it needs its times in order: the row is refused, by record and reference, and nothing changes.
    line = problems(
        cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--on-conflict", "update", env=at(NOW))
    )
    assert "record 4 (TKT-1004): resolved_at: 2026-11-18T09:00:00+00:00 is before responded_at" in line
    assert snapshot() == before


def test_a_file_without_references_imported_twice_is_refused_unless_again(cli: Cli, tmp_path: Path) -> None:
    sheet = write(tmp_path, "plain.csv", "subject,channel\r\nOne,phone\r\nTwo,email\r\n")
    ok(cli("import", str(sheet), env=at(NOW)))
    refused(
        cli("import", str(sheet), env=at(NOW)),
        2,
        "this file was imported already (2 tickets, 2026-11-24T09:00+00:00 by alice)",
        "--again",
    )
    assert "imported 2 tickets" in ok(cli("import", str(sheet), "--again", env=at(NOW))).stderr
    assert len(ok(cli("list", "-q", env=at(NOW))).stdout.split()) == 4


def test_rows_with_an_empty_reference_are_not_created_twice_by_a_second_import(cli: Cli, tmp_path: Path) -> None:
    """A reference column with some cells empty: the referenced rows are skipped as in the store, and the file
    is still refused as imported before, since its unreferenced rows would be created again."""
    sheet = write(tmp_path, "mixed.csv", "reference,subject,channel\r\nR-1,One,phone\r\n,Two,email\r\n")
    ok(cli("import", str(sheet), env=at(NOW)))
    refused(
        cli("import", str(sheet), env=at(NOW)),
        2,
        "this file was imported already (2 tickets, 2026-11-24T09:00+00:00 by alice)",
        "1 of its records have no reference",
        "--again",
    )
    assert len(ok(cli("list", "-q", env=at(NOW))).stdout.split()) == 2
    again = ok(cli("import", str(sheet), "--again", env=at(NOW)))
    assert "imported 1 ticket" in again.stderr and "skipped 1 row already in the store: R-1" in again.stderr
    assert len(ok(cli("list", "-q", env=at(NOW))).stdout.split()) == 3
    # Every row referenced: a second import is no second import at all, only skips.
    named = write(tmp_path, "named.csv", "reference,subject\r\nR-2,Three\r\nR-3,Four\r\n")
    ok(cli("import", str(named), env=at(NOW)))
    assert "skipped 2 rows already in the store" in ok(cli("import", str(named), env=at(NOW))).stderr


def test_an_owner_column_names_staff_members_as_log_owner_must(cli: Cli, tmp_path: Path) -> None:
    sheet = write(tmp_path, "owners.csv", "reference,subject,owner\r\nR-1,One,Priya Shah\r\nR-2,Two,priya\r\n")
    ok(cli("staff", "add", "priya", "--email", "priya@example.com", env=at(NOW)))
    found = problems(cli("import", str(sheet), env=at(NOW)))
    assert "record 1 (R-1): owner: no staff member Priya Shah (staff: priya)" in found
    assert '--map-value "owner:Priya Shah=NAME"' in found and "record 2" not in found
    assert ok(cli("list", "-q", env=at(NOW))).stdout.split() == []
    ok(cli("import", str(sheet), "--map-value", "owner:Priya Shah=priya", env=at(NOW)))
    listed = json.loads(ok(cli("list", "--json", env=at(NOW))).stdout)
    assert [(t["reference"], t["owner"]) for t in listed] == [("R-1", "priya"), ("R-2", "priya")]


def test_any_owner_is_accepted_while_the_staff_directory_is_empty(cli: Cli, tmp_path: Path) -> None:
    sheet = write(tmp_path, "owners.csv", "subject,owner\r\nOne,Priya Shah\r\n")
    ok(cli("import", str(sheet), env=at(NOW)))
    assert [t["owner"] for t in json.loads(ok(cli("list", "--json", env=at(NOW))).stdout)] == ["Priya Shah"]


def build_store(cli: Cli, tmp_path: Path) -> None:
    """Tickets at every step of their life, logged through the commands and imported with references."""
    ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    monday = "2026-11-23T10:00:00+00:00"
    ticket = ok(cli("log", "Boiler broken", "--org", "Acme", "--tag", "field", "-q", env=at(monday))).stdout.strip()
    ok(cli("ack", ticket, env=at("2026-11-23T10:30:00+00:00")))
    ok(cli("update", ticket, "-m", "Engineer booked", env=at("2026-11-23T11:00:00+00:00")))
    waiting = ok(cli("log", "Which account?", "-c", "phone", "-q", env=at(monday))).stdout.strip()
    ok(cli("wait", waiting, env=at("2026-11-23T11:00:00+00:00")))
    done = ok(cli("log", "Refund", "-b", "Line one\nLine two, ü", "-q", env=at(monday))).stdout.strip()
    ok(cli("resolve", done, "-m", "Refunded", env=at("2026-11-23T15:00:00+00:00")))
    ok(cli("feedback", done, "--rating", "4", "-m", "Quick", env=at("2026-11-23T16:00:00+00:00")))
    ok(cli("close", done, env=at("2026-11-23T16:30:00+00:00")))


def test_csv_export_import_export_is_identical(cli: Cli, tmp_path: Path, new_store: Callable[[], str]) -> None:
    build_store(cli, tmp_path)
    first = tmp_path / "first.csv"
    ok(cli("export", "-o", str(first), env=at(NOW)))
    other = ("--db", new_store())
    result = ok(cli(*other, "import", str(first), env=at(NOW)))
    assert "imported 8 tickets" in result.stderr and "ignored" not in result.stderr
    second = tmp_path / "second.csv"
    ok(cli(*other, "export", "-o", str(second), env=at(NOW)))
    assert second.read_bytes() == first.read_bytes()
    # The ids were kept, and PostgreSQL's sequence moved past them: the next ticket is #9.
    assert ok(cli(*other, "log", "After the move", "-q", env=at(NOW))).stdout.strip() == "9"
    header = first.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,reference,subject,body,") and "acknowledge_met_at" not in header


@pytest.mark.parametrize(
    ("written", "options", "received_at"),
    [
        ("2023-06-01 7:29", (), "2023-06-01T07:29:00+01:00"),  # unpadded; naive = London time (BST in June)
        ("2023-6-1 07:29:30", (), "2023-06-01T07:29:30+01:00"),
        ("01/06/2023 07:29", (), "2023-06-01T07:29:00+01:00"),  # day first: a UK calendar
        ("06/01/2023 07:29", ("--monthfirst",), "2023-06-01T07:29:00+01:00"),
        ("1.6.2023", (), "2023-06-01T00:00:00+01:00"),
        ("45078.3125", (), "2023-06-01T07:30:00+01:00"),  # an Excel serial number
        ("2023-06-01T07:29:00Z", (), "2023-06-01T08:29:00+01:00"),
    ],
)
def test_dates_as_spreadsheets_write_them(
    cli: Cli, tmp_path: Path, written: str, options: tuple[str, ...], received_at: str
) -> None:
    sheet = write(tmp_path, "dates.csv", f"subject,received_at\r\nOld one,{written}\r\n")
    ok(cli("import", str(sheet), *options, env=at(NOW)))
    assert show(cli, 1, now=NOW)["received_at"] == received_at


@pytest.mark.parametrize("ticket_id", ["-7", "0", "2147483648", str(2**63)])
def test_ticket_ids_outside_the_range_are_refused_per_record(
    cli: Cli, tmp_path: Path, snapshot: Callable[[], Any], ticket_id: str
) -> None:
    ok(cli("log", "Before the import", env=at(NOW)))
    before = snapshot()
    sheet = write(tmp_path, "ids.csv", f"id,subject\r\n1,Fine\r\n{ticket_id},Too far\r\n")
    assert f"record 2: id: {ticket_id} is outside 1…2147483647" in problems(cli("import", str(sheet), env=at(NOW)))
    assert snapshot() == before


@pytest.mark.parametrize("ticket_id", [-7, 2**31, 2**63])
def test_dump_ticket_ids_outside_the_range_are_refused_on_this_store(
    cli: Cli, tmp_path: Path, snapshot: Callable[[], Any], ticket_id: int
) -> None:
    ok(cli("log", "One", "-q", env=at(NOW)))
    dump = tmp_path / "dump.ndjson"
    ok(cli("export", "-o", str(dump), env=at(NOW)))
    lines = dump.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    record["id"] = ticket_id
    dump.write_text("\n".join([*lines[:-1], json.dumps(record)]) + "\n", encoding="utf-8")
    before = snapshot()
    refused(cli("import", str(dump), env=at(NOW)), 2, f"line {len(lines)}: id: {ticket_id} is outside 1…2147483647")
    assert snapshot() == before


def test_an_unterminated_quote_is_refused_with_its_record_number(
    cli: Cli, tmp_path: Path, snapshot: Callable[[], Any]
) -> None:
    ok(cli("log", "Before the import", env=at(NOW)))
    before = snapshot()
    sheet = write(tmp_path, "q.csv", 'subject,body\r\nFine,"two\r\nlines"\r\nBroken,"never closed\r\nNext,row\r\n')
    refused(
        cli("import", str(sheet), env=at(NOW)),
        2,
        "record 2 (from line 4): a quoted field is never closed",
    )
    assert snapshot() == before


def test_a_huge_field_and_a_deeply_nested_json_file_are_clean_refusals(cli: Cli, tmp_path: Path) -> None:
    from supportcli.store.csv_import import FIELD_LIMIT

    sheet = write(tmp_path, "big.csv", "subject,body\r\nBig," + "x" * (FIELD_LIMIT + 1) + "\r\n")
    refused(cli("import", str(sheet), env=at(NOW)), 2, f"record 1 (from line 2): a field is longer than {FIELD_LIMIT}")
    long_body = write(tmp_path, "long.csv", "subject,body\r\nLong," + "y" * 200_000 + "\r\n")
    ok(cli("import", str(long_body), env=at(NOW)))  # over Python's 128 KiB default: a long e-mail is fine
    deep = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    refused(cli("import", str(deep), env=at(NOW)), 2, "JSON nested too deeply")
    deep_lines = write(tmp_path, "deep.ndjson", "[" * 100_000 + "]" * 100_000 + "\n")
    refused(cli("import", str(deep_lines), env=at(NOW)), 2, "line 1: not a supportcli export: JSON nested too deeply")


def test_csv_only_options_are_refused_for_an_export(cli: Cli, tmp_path: Path) -> None:
    dump = tmp_path / "dump.json"
    ok(cli("export", "-o", str(dump), env=at(NOW)))
    refused(cli("import", str(dump), "--map", "a=subject", env=at(NOW)), 2, "--map is for CSV files")
    refused(cli("import", str(HELPDESK), "--map", "Nope=subjekt", env=at(NOW)), 2, "unknown column 'subjekt'")


def test_a_dry_run_writes_nothing_not_even_the_files_hash(
    cli: Cli, tmp_path: Path, snapshot: Callable[[], Any]
) -> None:
    ok(cli("log", "Before the import", env=at(NOW)))
    before = snapshot()
    sheet = write(tmp_path, "plain.csv", "subject,channel\r\nOne,phone\r\n")
    result = ok(cli("import", str(sheet), "--dry-run", env=at(NOW)))
    assert "would import 1 ticket" in result.stderr and "dry run: nothing was written" in result.stderr
    assert snapshot() == before
    assert "imported 1 ticket" in ok(cli("import", str(sheet), env=at(NOW))).stderr  # not "imported already"


def test_imported_met_targets_keep_their_working_time_as_report_works_it_out(cli: Cli, store_url: str) -> None:
    """Every met target of a CSV import stores its working time from receipt, as ``ack``/``resolve`` store it,
    and ``report`` gives the same figures whether it reads them or works them out again."""
    from helpers import execute

    ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(store_url, poolclass=NullPool)
    with engine.connect() as connection:
        seconds = connection.execute(text("SELECT met_working_seconds FROM targets WHERE met_at IS NOT NULL")).all()
    engine.dispose()
    assert len(seconds) >= 5, "control: the fixture has met targets"
    assert None not in [value for (value,) in seconds]
    period = ("--since", "2026-11-01", "--until", "2026-11-24")
    stored = ok(cli("report", *period, "--json", env=at(NOW))).stdout
    execute(store_url, "UPDATE targets SET met_working_seconds = NULL")
    assert ok(cli("report", *period, "--json", env=at(NOW))).stdout == stored


def test_imported_working_times_are_the_ones_the_store_derives(cli: Cli, store_url: str) -> None:
    """The working times a CSV import writes with its targets are exactly what ``derive_met_working_seconds``
    (the migration's and dump import's way) works out for them, target by target."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from helpers import execute
    from supportcli.store.met_durations import derive_met_working_seconds

    ok(cli("import", str(HELPDESK), "--map-file", str(HELPDESK_MAP), "--fix-order", env=at(NOW)))
    query = text("SELECT id, met_working_seconds FROM targets WHERE met_at IS NOT NULL ORDER BY id")
    engine = create_engine(store_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            written = connection.execute(query).all()
        execute(store_url, "UPDATE targets SET met_working_seconds = NULL")
        with engine.begin() as connection:
            assert derive_met_working_seconds(connection) == len(written)
        with engine.connect() as connection:
            derived = connection.execute(query).all()
    finally:
        engine.dispose()
    assert len(written) >= 5, "control: the fixture has met targets"
    assert written == derived
