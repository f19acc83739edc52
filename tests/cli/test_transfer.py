"""export and import through the real CLI: lossless dumps, clashes, CSV from spreadsheets, CSV formulas.

Due times are computed by hand under the built-in policy (Mon–Fri 09:00–17:00
Europe/London, England & Wales; November and December are GMT, so local = UTC):
phone and chat get respond 4wh and resolve 10wd, e-mail and letters acknowledge
1wd, respond 5wd and resolve 10wd. 2026-11-23 is a Monday.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import Result

from helpers import MON_1000, Cli, at, ok, snapshot_of, wait_until
from supportcli.locations import StoreLocation, sqlite_location
from supportcli.store.migrations import schema_version

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from supportcli.store.database import Store
    from supportcli.store.export_workers import ExportJob

EXPORTED = "2027-01-04T10:00:00+00:00"

TEAM_POLICY = """\
name = "Team"
tiers = ["Support", "Customer Success Manager", "Director"]

[[targets]]
match = { kind = "complaint" }
acknowledge = "1wd"
resolve = "10wd"
escalate_on_breach = true

[[targets]]
match = {}
respond = "2wh"
update = "2wd"
resolve = "5wd"

[notify]
webhook_url = "http://127.0.0.1:9/hook"
"""


def run(cli: Cli, now: str, *args: str) -> Result:
    return ok(cli(*args, env=at(now)))


def log(cli: Cli, now: str, subject: str, *options: str) -> int:
    return int(run(cli, now, "log", subject, *options, "-q").stdout)


def ticket_ids(cli: Cli, *db: str) -> list[int]:
    return [int(line) for line in run(cli, EXPORTED, *db, "list", "-q").stdout.split()]


def shown(cli: Cli, *db: str) -> dict[int, Any]:
    """``show --json`` of every ticket of a store."""
    return {i: json.loads(run(cli, EXPORTED, *db, "show", str(i), "--json").stdout) for i in ticket_ids(cli, *db)}


@pytest.fixture
def full_store(cli: Cli, store_copy: Callable[..., None], store_url: str, tmp_path: Path) -> str:
    """A store with every kind of data, built through the CLI (once per backend); returns its URL."""
    store_copy("transfer-full", lambda build_cli: build_full_store(build_cli, tmp_path))
    return store_url


def build_full_store(cli: Cli, tmp_path: Path) -> None:
    """Every kind of data: staff away with cover, two policy versions, every status, notices and marks."""
    team = tmp_path / "team.toml"
    team.write_text(TEAM_POLICY, encoding="utf-8")
    run(cli, MON_1000, "staff", "add", "alice", "--email", "alice@example.com")
    run(cli, MON_1000, "staff", "add", "bob", "--email", "bob@example.com", "--tier", "1")
    run(cli, MON_1000, "staff", "away", "bob", "--until", "2026-12-04 17:00", "--cover", "alice")
    run(cli, MON_1000, "policy", "set", str(team), "--effective", "2026-11-30", "-m", "new year, new rules")

    letter = log(cli, MON_1000, "Invoice sent to old address", "--channel", "letter", "--name", "Ann Lee")
    run(cli, MON_1000, "assign", str(letter), "alice")
    run(cli, "2026-11-23T11:00:00+00:00", "ack", str(letter))
    complaint = log(cli, MON_1000, "Engineer never came", "-k", "complaint", "--org", "Acme", "--owner", "bob")
    run(cli, "2026-11-23T11:00:00+00:00", "ack", str(complaint))
    run(cli, "2026-11-23T12:00:00+00:00", "update", str(complaint), "-m", "Engineer booked", "--next", "2026-11-26")
    run(cli, "2026-11-23T13:00:00+00:00", "escalate", str(complaint), "--reason", "Second missed visit")
    run(cli, "2026-11-23T13:30:00+00:00", "extend", str(complaint), "--until", "2027-02-26", "--reason", "Parts")
    log(cli, MON_1000, "Password reset", "-c", "phone", "--tag", "login", "--tag", "vip")
    resolved = log(cli, MON_1000, "Refund please", "-b", "Line one\nLine two — ü", "--category", "billing")
    run(cli, "2026-11-24T09:30:00+00:00", "resolve", str(resolved), "-m", "Refunded")
    run(cli, "2026-11-24T10:00:00+00:00", "feedback", str(resolved), "--rating", "4", "-m", "Quick")
    closed = log(cli, MON_1000, "Closed one", "-c", "chat")
    run(cli, "2026-11-23T10:30:00+00:00", "resolve", str(closed), "-m", "Answered")
    run(cli, "2026-11-23T10:45:00+00:00", "close", str(closed))
    reopened = log(cli, MON_1000, "Came back", "-c", "sms", "-p", "high")
    run(cli, "2026-11-23T10:30:00+00:00", "resolve", str(reopened), "-m", "Fixed")
    run(cli, "2026-11-23T14:00:00+00:00", "reopen", str(reopened), "-m", "Not fixed")
    waiting = log(cli, "2026-12-01T10:00:00.123456+00:00", "Under the team policy", "-c", "phone", "--owner", "alice")
    run(cli, "2026-12-08T10:00:00+00:00", "wait", str(waiting), "-m", "Asked for the account number")
    # The cron run notes breaches, escalates, and queues webhook notices that fail (nothing listens on :9).
    run(cli, "2026-12-09T10:00:00+00:00", "overdue", "--notify")


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_export_import_export_is_byte_identical(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str], fmt: str
) -> None:
    first = tmp_path / f"first.{fmt}"
    ok(cli("export", "-o", str(first), env=at(EXPORTED)))
    fresh = ("--db", new_store())
    imported = ok(cli(*fresh, "import", str(first), env=at("2027-01-05T09:00:00+00:00")))
    assert "imported 7 tickets, 2 staff, 2 policy versions" in imported.stderr
    second = ok(cli(*fresh, "export", "--format", fmt, env=at(EXPORTED))).stdout
    assert second == first.read_text(encoding="utf-8")

    records = _records(second, fmt)
    tickets = records["ticket"]
    assert {t["status"] for t in tickets} == {"new", "acknowledged", "in-progress", "waiting", "resolved", "closed"}
    assert any(target["state"] == "paused" for t in tickets for target in t["targets"])
    assert any(target["source"] == "agreed" for t in tickets for target in t["targets"])
    assert any(t["tier"] > 0 for t in tickets) and any(t["rating"] == 4 for t in tickets)
    assert any(t["automation_marks"] for t in tickets) and any(t["notices"] for t in tickets)
    assert [p["version"] for p in records["policy_version"]] == [1, 2]
    assert any(s["away_until"] and s["cover"] == "alice" for s in records["staff"])
    assert any(".123456" in t["received_at"] for t in tickets)  # instants keep their microseconds
    # Met targets' working times, derived again by the import, are what the changes that met them stored.
    met = [target for t in tickets for target in t["targets"] if target["met_at"] is not None]
    assert met and all(target["met_working_seconds"] is not None for target in met)
    assert any(target["met_working_seconds"] > 0 for target in met)

    assert shown(cli, *fresh) == shown(cli)
    for command in (("policy", "history", "--json"), ("staff", "list", "--json"), ("overdue", "--json")):
        assert run(cli, EXPORTED, *fresh, *command).stdout == run(cli, EXPORTED, *command).stdout
    # The marks came along: the new store's cron run does not notice the old breaches again.
    replay = run(cli, "2026-12-09T10:05:00+00:00", *fresh, "overdue", "--notify", "--dry-run")
    assert "breached" not in replay.stdout + replay.stderr


def _records(text: str, fmt: str) -> dict[str, list[dict[str, Any]]]:
    if fmt == "json":
        document = json.loads(text)
        return {
            "meta": [document["meta"]],
            "policy_version": document["policy_versions"],
            "staff": document["staff"],
            "ticket": document["tickets"],
        }
    grouped: dict[str, list[dict[str, Any]]] = {"meta": [], "policy_version": [], "staff": [], "ticket": []}
    for line in text.splitlines():
        record = json.loads(line)
        grouped[record.pop("type")].append(record)
    return grouped


def test_ndjson_is_one_typed_record_a_line_in_import_order(cli: Cli, full_store: str) -> None:
    lines = run(cli, EXPORTED, "export", "--format", "ndjson").stdout.splitlines()
    types = [json.loads(line)["type"] for line in lines]
    assert types == ["meta", "policy_version", "policy_version", "staff", "staff"] + ["ticket"] * 7
    meta = json.loads(lines[0])
    assert meta == {
        "type": "meta",
        "format": "supportcli-export",
        "format_version": 1,
        "schema_version": schema_version(),
        "exported_at": EXPORTED,
    }


def test_every_stored_column_is_in_the_dump() -> None:
    """A column added to a table must be added to the dump too, or export would silently drop it."""
    from supportcli.store import dump_schema, models

    described = {
        models.PolicyVersion: dump_schema.POLICY_FIELDS,
        models.Staff: dump_schema.STAFF_FIELDS,
        models.Ticket: dump_schema.TICKET_FIELDS,
        **{table: fields for _, table, fields in dump_schema.CHILDREN},
    }
    surrogate = {"id", "ticket_id"}  # row ids of child rows and staff are not part of the data
    for table, fields in described.items():
        columns = {column.name for column in table.__table__.columns}  # type: ignore[attr-defined]
        keys = {"id"} if table is models.Ticket else set()
        assert columns - surrogate | keys == set(fields), table.__tablename__


def test_import_into_a_store_with_the_same_ids_is_refused_and_writes_nothing(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    exported = tmp_path / "all.json"
    run(cli, EXPORTED, "export", "-o", str(exported))
    other = new_store()
    run(cli, MON_1000, "--db", other, "log", "Already here")
    run(cli, MON_1000, "--db", other, "log", "And me")
    before = snapshot_of(other)
    result = cli("--db", other, "import", str(exported), env=at(EXPORTED))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "ticket #1, ticket #2" in result.stderr and "nothing imported" in result.stderr
    assert "policy version 2" not in result.stderr  # the store has no version 2: no clash
    assert snapshot_of(other) == before


def test_on_conflict_skip_keeps_the_stores_tickets(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    exported = tmp_path / "all.ndjson"
    run(cli, EXPORTED, "export", "-o", str(exported))
    other = ("--db", new_store())
    run(cli, MON_1000, *other, "log", "Already here")
    result = run(cli, EXPORTED, *other, "import", str(exported), "--on-conflict", "skip")
    assert "skipped 1 ticket(s) already in the store: #1" in result.stderr
    assert ticket_ids(cli, *other) == [1, 2, 3, 4, 5, 6, 7]
    assert json.loads(run(cli, EXPORTED, *other, "show", "1", "--json").stdout)["subject"] == "Already here"
    assert shown(cli, *other)[2] == shown(cli)[2]


def test_on_conflict_renumber_gives_clashing_tickets_new_numbers(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    exported = tmp_path / "all.json"
    run(cli, EXPORTED, "export", "-o", str(exported))
    other = ("--db", new_store())
    run(cli, MON_1000, *other, "log", "Already here")
    run(cli, MON_1000, *other, "log", "Me too")
    result = run(cli, EXPORTED, *other, "import", str(exported), "--on-conflict", "renumber")
    # Tickets 3–7 keep their numbers; 1 and 2 come after everything else.
    assert "ticket #1 of" in result.stderr and "as #8" in result.stderr and "as #9" in result.stderr
    assert ticket_ids(cli, *other) == list(range(1, 10))
    original, renumbered = shown(cli)[2], shown(cli, *other)[9]
    assert renumbered["targets"] == original["targets"]
    assert renumbered["history"][:-1] == original["history"]
    assert renumbered["history"][-1]["event"] == "renumbered"
    assert renumbered["history"][-1]["data"] == {"previous_id": 2}
    # The next ticket logged continues after the imported ones.
    assert run(cli, EXPORTED, *other, "log", "After the import", "-q").stdout == "10\n"


def test_a_different_policy_version_with_the_same_number_clashes_unless_renumbered(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    exported = tmp_path / "phone.json"
    run(cli, EXPORTED, "export", "-o", str(exported), "--channel", "phone")  # tickets under versions 1 and 2
    other = ("--db", new_store())
    run(cli, MON_1000, *other, "init", "--subdivision", "SCT")  # its version 2 is a Scottish default
    refused = cli(*other, "import", str(exported), env=at(EXPORTED))
    assert refused.exit_code == 2
    assert "1 clash with the store: policy version 2;" in refused.stderr  # version 1 is the same text: reused
    result = run(cli, EXPORTED, *other, "import", str(exported), "--on-conflict", "renumber")
    assert "policy version 2 of" in result.stderr and "as version 3" in result.stderr
    assert "policy version 3 from" in result.stderr and "now in effect for new tickets" in result.stderr
    history = json.loads(run(cli, EXPORTED, *other, "policy", "history", "--json").stdout)
    assert [entry["version"] for entry in history] == [1, 2, 3]
    imported = {
        t["subject"]: t["policy_version"] for t in json.loads(run(cli, EXPORTED, *other, "list", "--json").stdout)
    }
    assert imported == {"Password reset": 1, "Under the team policy": 3}


def test_dry_run_reports_and_writes_nothing(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    exported = tmp_path / "all.json"
    run(cli, EXPORTED, "export", "-o", str(exported))
    other = new_store()
    run(cli, MON_1000, "--db", other, "init")
    before = snapshot_of(other)
    result = run(cli, EXPORTED, "--db", other, "import", str(exported), "--dry-run")
    assert "would import 7 tickets" in result.stderr and "nothing was written" in result.stderr
    assert snapshot_of(other) == before


def test_import_reads_stdin_and_refuses_files_that_are_not_exports(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    text = run(cli, EXPORTED, "export", "--format", "ndjson").stdout
    other = ("--db", new_store())
    result = ok(cli(*other, "import", "-", input=text, env=at(EXPORTED)))
    assert "imported 7 tickets" in result.stderr
    bad = cli(*other, "import", "-", "--format", "json", input='{"tickets": []}', env=at(EXPORTED))
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    third = new_store()
    truncated = cli("--db", third, "import", "-", input=text[: len(text) // 2], env=at(EXPORTED))
    assert truncated.exit_code == 2 and "not JSON" in truncated.stderr
    assert run(cli, EXPORTED, "--db", third, "list", "-q").stdout == ""


def test_an_ndjson_line_python_will_not_read_is_bad_input_not_a_crash(cli: Cli, store_url: str) -> None:
    """Valid JSON with an integer longer than Python converts (4300 digits) is refused in one line, exit 2."""
    run(cli, EXPORTED, "init")
    before = snapshot_of(store_url)
    line = '{"type": "meta", "schema_version": ' + "9" * 5000 + "}\n"
    result = cli("import", "-", "--format", "ndjson", input=line, env=at(EXPORTED))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("supportcli: error: stdin: line 1: not JSON (") and "4300" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot_of(store_url) == before


def test_a_refused_import_leaves_no_parsing_worker_behind(cli: Cli, full_store: str, tmp_path: Path) -> None:
    """An NDJSON import the importer refuses half-way (a ticket with a status there is no such thing as) stops
    its parsing worker at once, not when the half-read reader is collected."""
    import multiprocessing

    lines = _export(cli, "--format", "ndjson").splitlines(keepends=True)
    first_ticket = next(n for n, line in enumerate(lines) if line.startswith('{"type":"ticket"'))
    lines[first_ticket] = re.sub(r'"status":"[a-z-]+"', '"status":"bogus"', lines[first_ticket], count=1)
    dump = tmp_path / "dump.ndjson"
    dump.write_text("".join(lines), encoding="utf-8")
    earlier = set(multiprocessing.active_children())
    result = cli("--db", sqlite_location(tmp_path / "fresh.db").url, "import", str(dump), env=at(EXPORTED))
    assert result.exit_code == 2 and f"line {first_ticket + 1} (ticket #1): status: " in result.stderr, result.stderr
    assert set(multiprocessing.active_children()) - earlier == set()


def test_a_filtered_export_carries_only_what_its_tickets_refer_to(cli: Cli, full_store: str) -> None:
    records = _records(
        run(cli, EXPORTED, "export", "--format", "ndjson", "--status", "open", "-c", "phone").stdout, "ndjson"
    )
    assert [(t["subject"], t["status"]) for t in records["ticket"]] == [
        ("Password reset", "new"),
        ("Under the team policy", "waiting"),
    ]
    assert [p["version"] for p in records["policy_version"]] == [1, 2]
    assert [s["name"] for s in records["staff"]] == ["alice"]
    complaints = _records(run(cli, EXPORTED, "export", "-f", "ndjson", "--kind", "complaint").stdout, "ndjson")
    assert [t["subject"] for t in complaints["ticket"]] == ["Engineer never came"]
    # bob owns it and is away; alice covers for him (and acted on it).
    assert [s["name"] for s in complaints["staff"]] == ["alice", "bob"]
    assert [p["version"] for p in complaints["policy_version"]] == [1]
    tagged = _records(run(cli, EXPORTED, "export", "-f", "ndjson", "--tag", "vip", "--owner", "-").stdout, "ndjson")
    assert [t["subject"] for t in tagged["ticket"]] == ["Password reset"]


def test_export_to_a_file_is_private(cli: Cli, full_store: str, tmp_path: Path) -> None:
    target = tmp_path / "backup.csv"
    result = run(cli, EXPORTED, "export", "-o", str(target))
    assert "exported 7 tickets" in result.stderr and "(csv)" in result.stderr  # format from the extension
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")] == []


# -- CSV export -------------------------------------------------------------------------------------------------------

FORMULAS = ["=1+1", "+44 20 7946 0000", "-5 refund", "@SUM(A1:A9)"]
# ``log`` trims the subject, so cells starting with tab, CR and LF come from the body.
CONTROL_STARTS = ["\tTabbed", "\rCarriage return", "\nLine feed"]


def test_csv_export_neutralises_formulas_and_quotes_per_rfc_4180(cli: Cli) -> None:
    for subject in FORMULAS:
        run(cli, MON_1000, "log", "-c", "phone", "--name", '=HYPERLINK("http://x")', "--", subject)
    for body in CONTROL_STARTS:
        run(cli, MON_1000, "log", "Control", "-c", "phone", "--body", body)
    run(cli, MON_1000, "log", 'He said "no", twice', "-c", "phone", "--body", "two\r\nlines")
    raw = ok(cli("export", "--format", "csv", env=at(MON_1000))).stdout_bytes.decode("utf-8")
    assert raw.endswith("\r\n") and raw.count("\r\n1,") == 1  # CRLF records
    assert '"He said ""no"", twice","two\r\nlines"' in raw  # quotes doubled, fields with , CR LF quoted
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [row["subject"] for row in rows[:4]] == ["'" + s for s in FORMULAS]
    assert [row["body"] for row in rows[4:7]] == ["'" + b for b in CONTROL_STARTS]
    assert (rows[7]["subject"], rows[7]["body"]) == ('He said "no", twice', "two\r\nlines")
    assert {row["name"] for row in rows[:4]} == {'\'=HYPERLINK("http://x")'}
    first = rows[0]
    assert (first["respond_due_at"], first["respond_state"]) == ("2026-11-23T14:00:00+00:00", "pending")
    assert first["resolve_due_at"] == "2026-12-07T17:00:00+00:00"
    assert first["acknowledge_due_at"] == ""  # phone contacts have no acknowledge target


def test_csv_export_flattens_targets_and_uses_list_filters(cli: Cli, full_store: str) -> None:
    text = run(cli, EXPORTED, "export", "-f", "csv", "--kind", "complaint").stdout
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["subject"] == "Engineer never came"
    assert (row["acknowledge_state"], row["acknowledged_at"]) == ("met", "2026-11-23T11:00:00+00:00")
    assert row["responded_at"] == "2026-11-23T12:00:00+00:00"  # the first customer-facing update
    assert row["update_due_at"] == "2026-11-26T17:00:00+00:00"  # the day agreed with the customer: its closing time
    assert (row["tier"], row["tier_name"]) == ("1", "Customer Success Manager")


# -- CSV import -------------------------------------------------------------------------------------------------------

SPREADSHEET = (
    "\ufeffSubject,Kind,Channel,Priority,Name,Email,Tags,received_at,status,acknowledged_at,resolved_at,Old system id\r\n"
    "Phone call,enquiry,phone,high,Ann Lee,ann@example.com,billing; vip,2026-11-23 10:00,,,,A-1\r\n"
    '"Letter, with a comma",complaint,letter,,,,,2026-11-23T10:00:00+00:00,acknowledged,2026-11-23 15:00,,A-2\r\n'
    "Done already,request,email,,,,,2026-11-16 09:00,closed,,2026-11-20 12:00,A-3\r\n"
)


def test_csv_import_computes_due_times_under_the_active_policy(cli: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "old-helpdesk.csv"
    sheet.write_text(SPREADSHEET, encoding="utf-8", newline="")
    result = run(cli, "2026-11-24T09:00:00+00:00", "import", str(sheet))
    assert "imported 3 tickets from" in result.stderr and "(#1–#3)" in result.stderr
    assert "ignored column: Old system id" in result.stderr
    show = {i: json.loads(run(cli, "2026-11-24T09:00:00+00:00", "show", str(i), "--json").stdout) for i in (1, 2, 3)}
    phone = show[1]
    assert (phone["channel"], phone["priority"], phone["tags"], phone["status"]) == (
        "phone",
        "high",
        ["billing", "vip"],
        "new",
    )
    assert phone["customer"] == {"name": "Ann Lee", "email": "ann@example.com", "phone": None}
    # Mon 10:00 + 4wh → Mon 14:00; 10wd → Mon 2026-12-07 17:00.
    assert {t["name"]: t["due_at"] for t in phone["targets"]} == {
        "respond": "2026-11-23T14:00:00+00:00",
        "resolve": "2026-12-07T17:00:00+00:00",
    }
    assert [e["event"] for e in phone["history"]] == ["logged", "imported"]
    letter = {t["name"]: t for t in show[2]["targets"]}
    assert show[2]["status"] == "acknowledged" and show[2]["subject"] == "Letter, with a comma"
    assert (letter["acknowledge"]["due_at"], letter["acknowledge"]["met_at"], letter["acknowledge"]["state"]) == (
        "2026-11-24T17:00:00+00:00",
        "2026-11-23T15:00:00+00:00",
        "met",
    )
    done = show[3]
    assert (done["status"], done["resolved_at"]) == ("closed", "2026-11-20T12:00:00+00:00")
    # Mon 2026-11-16 09:00 + 10wd → Mon 2026-11-30 17:00, met on Fri 20th.
    assert {t["name"]: (t["due_at"], t["state"]) for t in done["targets"]}["resolve"] == (
        "2026-11-30T17:00:00+00:00",
        "met",
    )


BAD_SHEET = "subject,kind,channel\r\nFine,enquiry,phone\r\nWrong kind,bogus,phone\r\n,request,fax\r\nAlso fine,,\r\n"


def test_csv_import_with_a_bad_row_changes_nothing(cli: Cli, snapshot: Callable[[], Any], tmp_path: Path) -> None:
    run(cli, MON_1000, "log", "Before the import")
    before = snapshot()
    sheet = tmp_path / "bad.csv"
    sheet.write_text(BAD_SHEET, encoding="utf-8", newline="")
    result = cli("import", str(sheet), env=at(MON_1000))
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert "3 problems" in lines[0] and "nothing imported" in lines[0]
    assert "record 2: kind: unknown kind 'bogus' (allowed: enquiry, request, complaint, compliment)" in lines[1]
    assert "record 3: subject: is empty" in lines[2]
    assert "record 3: channel: unknown channel 'fax'" in lines[3]
    assert snapshot() == before


def test_csv_import_skip_invalid_writes_the_good_rows(cli: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(BAD_SHEET, encoding="utf-8", newline="")
    result = run(cli, MON_1000, "import", str(sheet), "--skip-invalid")
    assert "skipped record 2: kind: unknown kind 'bogus'" in result.stderr
    assert "imported 2 tickets" in result.stderr and "skipped 2 bad records" in result.stderr
    listed = json.loads(run(cli, MON_1000, "list", "--json").stdout)
    assert [(t["id"], t["subject"], t["channel"]) for t in listed] == [(1, "Fine", "phone"), (2, "Also fine", "email")]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("x,2026-11-23 10:00,resolved,,2026-11-23 09:00", "record 1: resolved_at: 2026-11-23T09:00:00+00:00 is before"),
        ("x,2026-11-30 10:00,,,", "record 1: received_at: 2026-11-30 10:00 is in the future"),
        ("x,23.11.2026 25:00,,,", "record 1: received_at: bad time '23.11.2026 25:00'"),
        ("x,2026-11-23 09:00,resolved,,,,4.5", "record 1: rating: '4.5' is not a rating from 1 to 5"),
        ("x,2026-11-23 09:00,new,2026-11-23 09:30,", "record 1: status: new, but acknowledged_at is given"),
        ("x,,,2026-11-23 09:30,", "record 1: received_at: is required with acknowledged_at"),
    ],
)
def test_csv_rows_are_checked_column_by_column(cli: Cli, tmp_path: Path, row: str, message: str) -> None:
    sheet = tmp_path / "rows.csv"
    sheet.write_text(
        f"subject,received_at,status,acknowledged_at,resolved_at,closed_at,rating\n{row}\n", encoding="utf-8"
    )
    result = cli("import", str(sheet), env=at(MON_1000))
    assert result.exit_code == 2
    assert message in result.stderr


def test_csv_without_a_subject_column_is_refused(cli: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "rows.csv"
    sheet.write_text("title,kind\nHello,enquiry\n", encoding="utf-8")
    result = cli("import", str(sheet), env=at(MON_1000))
    assert result.exit_code == 2
    assert "header: subject: the required column is missing (columns found: 'title', 'kind'" in result.stderr


def test_large_imports_show_a_progress_bar_on_a_terminal(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from supportcli.cli import transfer_cmd

    exported = tmp_path / "all.ndjson"
    run(cli, EXPORTED, "export", "-o", str(exported))
    monkeypatch.setattr(transfer_cmd, "PROGRESS_MIN_BYTES", 0)
    other = ("--db", new_store())
    shown_bar = run(cli, EXPORTED, *other, "import", str(exported), "--dry-run")
    assert "Importing" not in shown_bar.stderr  # piped: no bar
    on_terminal = ok(cli(*other, "import", str(exported), env=at(EXPORTED, SUPPORTCLI_TERMINAL="1")))
    assert "Importing all.ndjson" in on_terminal.stderr
    assert "imported 7 tickets" in on_terminal.stderr


# -- PostgreSQL ------------------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only(reason="moves an SQLite store to PostgreSQL, as the README shows")
def test_import_into_postgresql_is_lossless_and_bumps_the_id_sequences(
    cli: Cli, full_store: str, tmp_path: Path, postgres_url: str
) -> None:
    exported = tmp_path / "all.json"
    run(cli, EXPORTED, "export", "-o", str(exported))
    pg = {"SUPPORTCLI_DATABASE_URL": postgres_url}
    ok(cli("import", str(exported), env=at(EXPORTED, **pg)))
    assert ok(cli("export", env=at(EXPORTED, **pg))).stdout == exported.read_text(encoding="utf-8")
    assert ok(cli("log", "After the import", "-q", env=at(EXPORTED, **pg))).stdout == "8\n"
    policy = tmp_path / "later.toml"
    policy.write_text('name = "Later"\n[[targets]]\nmatch = {}\nrespond = "1wh"\n', encoding="utf-8")
    assert "policy version 3" in ok(cli("policy", "set", str(policy), env=at(EXPORTED, **pg))).stderr


def test_export_streams_past_one_batch(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """More tickets than one batch: every one exported once, in id order (a regression: the second batch failed)."""
    from supportcli.store import export

    monkeypatch.setattr(export, "BATCH_SIZE", 3)
    monkeypatch.setattr(export, "DUMP_BATCH_SIZE", 3)
    env = {"SUPPORTCLI_NOW": "2026-11-23T10:00:00+00:00"}
    for n in range(8):
        assert cli("log", f"ticket {n}", "-q", env=env).exit_code == 0
    result = cli("export", "--format", "ndjson", env=env)
    assert result.exit_code == 0, result.output
    tickets = [json.loads(line) for line in result.stdout.splitlines() if json.loads(line)["type"] == "ticket"]
    assert [t["id"] for t in tickets] == list(range(1, 9))


def test_export_to_a_device_writes_into_it_and_never_replaces_it(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`-o /dev/null` (or a FIFO) must not be renamed over: a regression that, as root, replaced /dev/null."""
    import os
    import stat
    import threading

    env = {"SUPPORTCLI_NOW": "2026-11-23T10:00:00+00:00"}
    assert cli("log", "Piped", "-q", env=env).exit_code == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    result = cli("export", "--format", "ndjson", "-o", str(fifo), env=env)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a regular file renamed over it
    assert '"subject":"Piped"' in received[0]


def test_an_import_in_many_batches_is_lossless_and_still_all_or_nothing(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tickets are written a batch at a time and their ids checked per batch: a clash found in a later batch
    (here a record repeating ticket #1 at the end of the file) still refuses the whole file."""
    from supportcli.store import dump_import, export

    monkeypatch.setattr(dump_import, "INSERT_BATCH", 2)
    monkeypatch.setattr(export, "DUMP_BATCH_SIZE", 3)
    first = tmp_path / "first.ndjson"
    ok(cli("export", "-o", str(first), env=at(EXPORTED)))
    fresh = ("--db", new_store())
    assert "imported 7 tickets" in ok(cli(*fresh, "import", str(first), env=at(EXPORTED))).stderr
    assert ok(cli(*fresh, "export", "--format", "ndjson", env=at(EXPORTED))).stdout == first.read_text(encoding="utf-8")

    lines = first.read_text(encoding="utf-8").splitlines()
    repeated = next(line for line in lines if line.startswith('{"type":"ticket","id":1,'))
    doubled = tmp_path / "doubled.ndjson"
    doubled.write_text("\n".join([*lines, repeated]) + "\n", encoding="utf-8")
    other = new_store()
    run(cli, EXPORTED, "--db", other, "list")  # the store exists, empty
    before = snapshot_of(other)
    result = cli("--db", other, "import", str(doubled), env=at(EXPORTED))
    assert result.exit_code == 2, result.output
    assert "1 clash with the store: ticket #1" in result.stderr and "nothing imported" in result.stderr
    assert snapshot_of(other) == before
    skipped = ok(cli("--db", other, "import", str(doubled), "--on-conflict", "skip", env=at(EXPORTED)))
    assert "skipped 1 ticket(s) already in the store: #1" in skipped.stderr
    assert ticket_ids(cli, "--db", other) == list(range(1, 8))


def test_export_pauses_automatic_garbage_collection_only_while_it_runs(cli: Cli, full_store: str) -> None:
    """The dump pauses Python's automatic collection (for speed) and must hand it back, even when stopped early."""
    import gc
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlmodel import Session

    from supportcli.store.export import export_records
    from supportcli.store.queries import TicketFilter

    assert gc.isenabled()
    run(cli, EXPORTED, "export", "--format", "ndjson")
    assert gc.isenabled()
    engine = create_engine(full_store if "://" in full_store else f"sqlite:///{full_store}")
    try:
        with Session(engine) as session:
            records = export_records(session, TicketFilter(), UTC, datetime(2027, 1, 4, 10, tzinfo=UTC))
            kinds = [next(records)[0] for _ in range(6)]
            assert kinds[-1] == "ticket" and not gc.isenabled()
            records.close()
            assert gc.isenabled()
    finally:
        engine.dispose()


@contextmanager
def _connected(url: str) -> Iterator[Connection]:
    """A connection of its own to a store, closed (and its engine disposed) after."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _search_buffer_size(url: str) -> int | None:
    """SQLite: the search index's FTS5 ``hashsize`` in effect (1 MB unless set); PostgreSQL has none (None)."""
    from sqlalchemy import text

    with _connected(url) as connection:
        if connection.dialect.name == "postgresql":
            return None
        sql = "SELECT coalesce((SELECT v FROM ticket_search_config WHERE k = 'hashsize'), 1048576)"
        return int(connection.execute(text(sql)).scalar_one())


def _index_definitions(url: str) -> list[tuple[str, str]]:
    """Every index of a store as the database itself defines it (SQLAlchemy does not reflect expression indexes)."""
    from sqlalchemy import text

    with _connected(url) as connection:
        if connection.dialect.name == "postgresql":
            sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        else:
            sql = "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index'"
        return sorted((str(name), str(definition)) for name, definition in connection.execute(text(sql)))


def test_an_import_into_an_empty_store_leaves_every_index_as_a_new_store_has_it(
    cli: Cli, full_store: str, tmp_path: Path, new_store: Callable[[], str]
) -> None:
    """Into an empty store the import builds the secondary indexes once at the end: they come back exactly as
    the schema made them, a refused file (here its last record is bad) leaves them untouched too, and every
    listing that reads through them sees the imported tickets."""
    dump = tmp_path / "all.ndjson"
    ok(cli("export", "-o", str(dump), env=at(EXPORTED)))
    fresh = new_store()
    run(cli, EXPORTED, "--db", fresh, "list")  # the store exists, empty
    made = _index_definitions(fresh)
    assert any(name == "ix_events_ticket_id" for name, _ in made)
    buffer = _search_buffer_size(fresh)

    broken = tmp_path / "broken.ndjson"
    broken.write_text(dump.read_text(encoding="utf-8") + '{"type": "ticket", "id": 99}\n', encoding="utf-8")
    refused = cli("--db", fresh, "import", str(broken), env=at(EXPORTED))
    assert refused.exit_code == 2 and "missing field 'subject'" in refused.stderr
    assert _index_definitions(fresh) == made

    assert "imported 7 tickets" in ok(cli("--db", fresh, "import", str(dump), env=at(EXPORTED))).stderr
    assert _index_definitions(fresh) == made
    # The larger in-memory buffer the search index is built with is not left behind for later writes.
    assert _search_buffer_size(fresh) == buffer
    assert ok(cli("--db", fresh, "export", "--format", "ndjson", env=at(EXPORTED))).stdout == dump.read_text(
        encoding="utf-8"
    )
    assert (
        ok(cli("--db", fresh, "list", "--owner", "bob", "-q", env=at(EXPORTED))).stdout.split()
        == ok(cli("--db", full_store, "list", "--owner", "bob", "-q", env=at(EXPORTED))).stdout.split()
    )
    found = ok(cli("--db", fresh, "search", "engineer", "-q", env=at(EXPORTED))).stdout
    assert found.strip() and found == ok(cli("--db", full_store, "search", "engineer", "-q", env=at(EXPORTED))).stdout


def test_an_import_leaves_the_garbage_collector_as_it_found_it(cli: Cli, full_store: str, tmp_path: Path) -> None:
    """The collector is held while an import runs and given back after, whether the file is imported or refused."""
    import gc

    dump = tmp_path / "all.ndjson"
    ok(cli("export", "-o", str(dump), env=at(EXPORTED)))
    thresholds = gc.get_threshold()
    refused = cli("import", str(dump), env=at(EXPORTED))  # every ticket clashes with the store's own
    assert refused.exit_code == 2 and "nothing imported" in refused.stderr
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    assert "skipped 7 ticket(s)" in ok(cli("import", str(dump), "--on-conflict", "skip", env=at(EXPORTED))).stderr
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds


def test_every_ticket_of_a_real_export_takes_the_quick_reading_path(cli: Cli, full_store: str) -> None:
    """An export with every kind of data (notices, marks, waiting, escalations, microseconds) is read the quick
    way, with the rows load_ticket would give: the quick path is the one a real import takes."""
    from supportcli.store.dump_rows import StoredRows, from_values
    from supportcli.store.dump_schema import load_ticket

    dumped = ok(cli("export", "--format", "ndjson", env=at(EXPORTED))).stdout.splitlines()
    tickets = [record for record in map(json.loads, dumped) if record.pop("type") == "ticket"]
    assert len(tickets) == 7 and any(ticket["notices"] for ticket in tickets)
    rows = StoredRows()
    for ticket in tickets:
        quick = rows.quick(ticket)
        assert quick is not None, f"ticket #{ticket['id']} left to load_ticket"
        assert quick == from_values(load_ticket(ticket, "line 1"))


@pytest.mark.parametrize("workers", [0, 1])
def test_an_import_is_the_same_with_or_without_a_worker_reading_the_lines(
    cli: Cli,
    full_store: str,
    tmp_path: Path,
    new_store: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """Lossless, renumbered (the worker's tickets spooled from their lines) and refused alike, whether the lines
    are read by a worker process (store.dump_workers) or by the importing process itself."""
    from supportcli.store import dump_workers

    monkeypatch.setattr(dump_workers, "worker_count", lambda: workers)
    monkeypatch.setattr(dump_workers, "WORKER_CHUNK", 2)
    dump = tmp_path / "all.ndjson"
    ok(cli("export", "-o", str(dump), env=at(EXPORTED)))
    fresh = ("--db", new_store())
    assert "imported 7 tickets" in ok(cli(*fresh, "import", str(dump), env=at(EXPORTED))).stderr
    assert ok(cli(*fresh, "export", "--format", "ndjson", env=at(EXPORTED))).stdout == dump.read_text(encoding="utf-8")
    renumbered = ok(cli(*fresh, "import", str(dump), "--on-conflict", "renumber", env=at(EXPORTED)))
    assert "ticket #1 of" in renumbered.stderr and "as #8" in renumbered.stderr and "as #14" in renumbered.stderr
    shown_8 = json.loads(ok(cli(*fresh, "show", "8", "--json", env=at(EXPORTED))).stdout)
    assert shown_8["subject"] == json.loads(ok(cli(*fresh, "show", "1", "--json", env=at(EXPORTED))).stdout)["subject"]
    broken = tmp_path / "broken.ndjson"
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    broken.write_text("".join([*lines[:-1], lines[-1].replace('"subject":', '"x":5,"subject":', 1)]), encoding="utf-8")
    before = snapshot_of(fresh[1])
    refused = cli(*fresh, "import", str(broken), "--on-conflict", "skip", env=at(EXPORTED))
    assert refused.exit_code == 2 and f"broken.ndjson: line {len(lines)}: unknown field 'x'" in refused.stderr
    assert snapshot_of(fresh[1]) == before


# -- a large export built by worker processes (store.export_workers) ---------------------------------------------


def _export(cli: Cli, *args: str) -> str:
    return ok(cli("export", *args, env=at(EXPORTED))).stdout


def _exporting(
    location: StoreLocation, env: dict[str, str] | None = None, zone: str = "Europe/London", batch_size: int = 0
) -> tuple[Store, ExportJob]:
    """The store opened as the exporting process opens it, and the job of a whole-store export of it in
    ``zone``: what ``parallel_records`` takes, for the tests that drive the workers themselves."""
    from datetime import datetime

    from supportcli.store.database import open_store
    from supportcli.store.export_workers import ExportJob
    from supportcli.store.queries import TicketFilter

    exported_at = datetime.fromisoformat(EXPORTED)
    store = open_store(location, env or {}, lambda: "", exported_at, "test")
    return store, ExportJob(location, env or {}, TicketFilter(), zone, exported_at, batch_size=batch_size)


@pytest.mark.parametrize(
    "args",
    [("--format", "ndjson"), ("--format", "json"), ("--format", "ndjson", "--owner", "alice")],
)
def test_a_large_export_built_by_workers_is_the_same_file(
    cli: Cli, full_store: str, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    from supportcli.store import export, export_workers

    alone = _export(cli, *args)
    monkeypatch.setattr(export, "DUMP_BATCH_SIZE", 2)  # 7 tickets: 4 batches shared by 3 workers
    monkeypatch.setattr(export_workers, "worker_count", lambda *_: 3)
    assert _export(cli, *args) == alone
    assert len(_records(alone, args[1])["ticket"]) == (2 if "--owner" in args else 7)


def test_the_workers_read_the_store_as_it_was_when_they_began(
    cli: Cli, full_store: str, store_location: StoreLocation
) -> None:
    """Writes committed once the workers have their snapshot are not in the export, as with one process.

    The writer is a connection of the database driver's own: a second ``open_store`` of the file in this
    process would open and close the file beside SQLite's connections, which drops their POSIX locks (one
    process opens the store once; the CLI's commands run in processes of their own)."""
    from sqlalchemy import create_engine, text

    from supportcli.render.dump_formats import write_ndjson
    from supportcli.store.export_workers import parallel_records

    before = _export(cli, "--format", "ndjson")
    store, job = _exporting(store_location, batch_size=2)
    writer = create_engine(store_location.url)
    try:
        records = parallel_records(store, job, 2)
        first = next(records)  # the workers have their snapshots and the lock is released
        with writer.begin() as connection:
            connection.execute(text("UPDATE tickets SET subject = 'Changed during the export' WHERE id = 1"))
            connection.execute(text("DELETE FROM events WHERE ticket_id = 2"))
        stream = io.BytesIO()
        write_ndjson(stream, [first, *records])
    finally:
        writer.dispose()
        store.close()
    assert stream.getvalue().decode() == before
    tickets = {t["id"]: t for t in _records(_export(cli, "--format", "ndjson"), "ndjson")["ticket"]}
    assert tickets[1]["subject"] == "Changed during the export" and tickets[2]["events"] == []  # the store has both
    assert {t["id"]: t for t in _records(before, "ndjson")["ticket"]}[2]["events"]


@pytest.mark.sqlite_only(reason="the snapshot of SQLite's workers is taken under the write lock")
def test_the_workers_take_their_snapshot_under_the_write_lock(
    cli: Cli, full_store: str, store_location: StoreLocation
) -> None:
    """While another process holds the write lock, the workers cannot begin: the export says the store is
    locked (after SUPPORTCLI_LOCK_TIMEOUT), rather than read a state another writer is changing."""
    import sqlite3

    from supportcli.errors import StoreUnavailable
    from supportcli.store.export_workers import parallel_records

    assert store_location.sqlite_path is not None
    store, job = _exporting(store_location, {"SUPPORTCLI_LOCK_TIMEOUT": "1"})
    writer = sqlite3.connect(store_location.sqlite_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="is locked by another process"):
            next(parallel_records(store, job, 2))
        writer.execute("ROLLBACK")
        assert next(parallel_records(store, job, 2))[0] == "meta"
    finally:
        writer.close()
        store.close()


def test_a_worker_that_fails_stops_the_export_with_one_line(
    cli: Cli, full_store: str, store_location: StoreLocation
) -> None:
    from supportcli.errors import StoreUnavailable
    from supportcli.store.export_workers import parallel_records

    store, job = _exporting(store_location, zone="No/Such_Zone")
    try:
        with pytest.raises(StoreUnavailable, match=r"^export: ZoneInfoNotFoundError: .*No/Such_Zone") as raised:
            list(parallel_records(store, job, 2))
        assert "\n" not in str(raised.value)
    finally:
        store.close()


def test_workers_are_used_for_large_exports_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from supportcli.store import export_workers
    from supportcli.store.export_workers import PARALLEL_FROM_TICKETS, worker_count

    monkeypatch.setattr(export_workers.os, "sched_getaffinity", lambda _pid: set(range(8)), raising=False)
    assert worker_count(False, PARALLEL_FROM_TICKETS) == export_workers.MAX_WORKERS
    assert worker_count(False, PARALLEL_FROM_TICKETS - 1) == 0  # small: quicker in one process
    assert worker_count(True, 10 * PARALLEL_FROM_TICKETS) == 0  # a SQLite store this user cannot write
    monkeypatch.setattr(export_workers.os, "sched_getaffinity", lambda _pid: {1, 3}, raising=False)
    assert worker_count(False, 10 * PARALLEL_FROM_TICKETS) == 2
    monkeypatch.setattr(export_workers.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert worker_count(False, 10 * PARALLEL_FROM_TICKETS) == 0  # one core


def test_postgresql_workers_read_the_exporters_snapshot(
    cli: Cli, full_store: str, store_location: StoreLocation
) -> None:
    """The exporter's read transaction fixes its snapshot, then a writer commits a change, then the snapshot is
    exported: the workers read that snapshot (SET TRANSACTION SNAPSHOT), so the change is not in the file."""
    if store_location.sqlite_path is not None:
        pytest.skip("PostgreSQL's snapshot import; SQLite's workers take theirs under the write lock (above)")
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    from supportcli.render.dump_formats import write_ndjson
    from supportcli.store.export_workers import parallel_records

    before = _export(cli, "--format", "ndjson")
    store, job = _exporting(store_location)
    writer = create_engine(store_location.url)
    read = store.read

    @contextmanager
    def read_then_change() -> Iterator[Session]:
        with read() as session:
            session.connection().exec_driver_sql("SELECT 1").all()  # the transaction's snapshot, from here on
            with writer.begin() as connection:
                connection.execute(text("UPDATE tickets SET subject = 'Changed during the export' WHERE id = 1"))
            yield session

    store.read = read_then_change  # type: ignore[method-assign]
    try:
        stream = io.BytesIO()
        write_ndjson(stream, parallel_records(store, job, 2))
    finally:
        writer.dispose()
        store.close()
    assert stream.getvalue().decode() == before
    assert "Changed during the export" in _export(cli, "--format", "ndjson")


@pytest.mark.sqlite_only(reason="held at the write lock while the workers are looked at")
def test_export_workers_leave_ctrl_c_to_the_exporter(cli: Cli, full_store: str, store_location: StoreLocation) -> None:
    """Ctrl-C reaches the whole process group: the workers ignore SIGINT (the exporter stops, exit 130, and
    they end with their pipe), so no worker prints a traceback. Looked at in /proc while the export waits for
    the write lock a writer holds."""
    import multiprocessing
    import signal
    import sqlite3
    import threading

    from supportcli.store.export_workers import parallel_records

    assert store_location.sqlite_path is not None
    store, job = _exporting(store_location, {"SUPPORTCLI_LOCK_TIMEOUT": "60"})
    writer = sqlite3.connect(store_location.sqlite_path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    ignored: dict[int, bool] = {}
    earlier = set(multiprocessing.active_children())  # children of this test process started by other tests

    def look_then_release() -> None:
        try:
            wait_until(lambda: len(set(multiprocessing.active_children()) - earlier) == 2, timeout=60)
            for child in set(multiprocessing.active_children()) - earlier:
                status = Path(f"/proc/{child.pid}/status").read_text(encoding="ascii")
                mask = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
                ignored[child.pid or 0] = bool(mask & (1 << (signal.SIGINT - 1)))
        finally:
            writer.execute("ROLLBACK")

    looker = threading.Thread(target=look_then_release)
    try:
        looker.start()
        records = list(parallel_records(store, job, 2))
    finally:
        looker.join()
        writer.close()
        store.close()
    assert records[0][0] == "meta" and len(ignored) == 2 and all(ignored.values())
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # the exporter's own Ctrl-C is as it was
