"""``purge`` and ``redact`` through the real CLI on each store backend, down to the SQLite file's bytes.

The built-in policy keeps resolved tickets for 2 years (``[retention] resolved_for = "2y"``).
"Now" is Mon 2026-11-23 10:00 UTC, so the cut-off is 2024-11-23 10:00: tickets resolved in
2023 are purged, one resolved in October 2026 and one still open are not.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers import MON_1000 as NOW
from helpers import Cli, Snapshot, at, ok, show

THREE_YEARS_AGO = "2023-06-01T10:00:00+00:00"
LATER_THAT_DAY = "2023-06-01T15:00:00+00:00"
WEEK_AFTER = "2023-06-08T10:00:00+00:00"
LAST_MONTH = "2026-10-01T10:00:00+00:00"


@dataclass(frozen=True)
class Customer:
    """A customer with values distinctive enough to search the database file for."""

    name: str
    email: str
    phone: str

    @property
    def secrets(self) -> list[bytes]:
        return [self.name.encode(), self.email.encode(), self.phone.encode()]


OLD_RESOLVED = Customer("Zebedee Quartermaine", "zebedee.quartermaine@purge-me.example", "07700 900461")
OLD_CLOSED = Customer("Philomena Ashcroft", "philomena.ashcroft@purge-me.example", "+44 7700 900462")
OLD_UNANSWERED = Customer("Barnaby Fitzwilliam", "barnaby.fitzwilliam@purge-me.example", "020 7946 0463")
RECENT = Customer("Rosalind Penhaligon", "rosalind.penhaligon@keep-me.example", "07700 900464")
STILL_OPEN = Customer("Octavia Lindqvist", "octavia.lindqvist@keep-me.example", "0161 496 0465")


def store_bytes(store_path: Path) -> bytes:
    """The raw bytes of the database file and of its write-ahead log, if any."""
    files = [store_path, store_path.with_name(store_path.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def seed(cli: Cli, customer: Customer, when: str, *options: str) -> int:
    """A ticket with the customer's details in every kind of text it can hold."""
    result = cli(
        "log",
        f"Refund for {customer.name} ({customer.email})",
        "--name",
        customer.name,
        "--email",
        customer.email,
        "--phone",
        customer.phone,
        "--body",
        f"{customer.name} wrote from {customer.email}; call back on {customer.phone}.",
        "-q",
        *options,
        env=at(when),
    )
    ticket_id = int(ok(result).stdout.strip())
    ok(cli("update", str(ticket_id), "-m", f"Rang {customer.phone}, mailed {customer.email}", env=at(when)))
    return ticket_id


def resolve_with_feedback(cli: Cli, ticket_id: int, customer: Customer, when: str) -> None:
    ok(cli("resolve", str(ticket_id), "-m", f"Refund confirmed to {customer.email}", env=at(when)))
    ok(cli("feedback", str(ticket_id), "--rating", "4", "-m", f"{customer.name} says thanks", env=at(when)))


@dataclass
class Seeded:
    old_resolved: int
    old_closed: int
    old_unanswered: int
    recent: int
    still_open: int

    @property
    def old(self) -> list[int]:
        return [self.old_resolved, self.old_closed, self.old_unanswered]


@pytest.fixture
def watcher(backend: str, store_path: Path) -> Iterator[Callable[[], None]]:
    """A second connection kept open, as another user's would be: on SQLite the WAL then outlives each command."""
    connections: list[sqlite3.Connection] = []

    def attach() -> None:
        if backend != "sqlite":
            return  # PostgreSQL has no write-ahead log in the store's files to keep alive
        connection = sqlite3.connect(store_path, isolation_level=None)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        connections.append(connection)

    yield attach
    for connection in connections:
        connection.close()


@pytest.fixture
def seeded(cli: Cli, watcher: Callable[[], None]) -> Seeded:
    ok(cli("init", env=at(THREE_YEARS_AGO)))
    watcher()
    old_resolved = seed(cli, OLD_RESOLVED, THREE_YEARS_AGO, "--kind", "complaint", "--channel", "letter")
    resolve_with_feedback(cli, old_resolved, OLD_RESOLVED, WEEK_AFTER)
    old_closed = seed(cli, OLD_CLOSED, THREE_YEARS_AGO, "--channel", "phone")
    resolve_with_feedback(cli, old_closed, OLD_CLOSED, LATER_THAT_DAY)
    ok(cli("close", str(old_closed), env=at(WEEK_AFTER)))
    old_unanswered = seed(cli, OLD_UNANSWERED, THREE_YEARS_AGO, "--channel", "email")
    ok(cli("wait", str(old_unanswered), "-m", f"Asked {OLD_UNANSWERED.name} for the order", env=at(LATER_THAT_DAY)))
    ok(cli("close", str(old_unanswered), env=at(WEEK_AFTER)))
    recent = seed(cli, RECENT, LAST_MONTH, "--channel", "chat")
    resolve_with_feedback(cli, recent, RECENT, LAST_MONTH)
    still_open = seed(cli, STILL_OPEN, NOW, "--kind", "complaint")
    return Seeded(old_resolved, old_closed, old_unanswered, recent, still_open)


def kept_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What reports need: ids, kinds, channels, dates, due and met times, ratings, the shape of history."""
    return {
        **{
            key: record[key]
            for key in (
                "id",
                "kind",
                "channel",
                "priority",
                "status",
                "owner",
                "tier",
                "org",
                "received_at",
                "logged_at",
                "resolved_at",
                "closed_at",
                "rating",
                "policy_version",
                "rule",
            )
        },
        "targets": [(t["name"], t["due_at"], t["met_at"], t["state"]) for t in record["targets"]],
        "history": [(e["at"], e["actor"], e["event"]) for e in record["history"]],
    }


# -- purge ----------------------------------------------------------------------------------------------------------


def test_purge_dry_run_lists_the_old_tickets_and_changes_nothing(
    cli: Cli, snapshot: Callable[[], Snapshot], backend: str, store_path: Path, seeded: Seeded
) -> None:
    before = snapshot()
    before_bytes = store_path.read_bytes() if backend == "sqlite" else b""
    result = ok(cli("purge", "--dry-run", env=at(NOW)))
    assert [int(line.split("\t")[0]) for line in result.stdout.splitlines()] == seeded.old
    assert "would purge 3 ticket(s) resolved before 2024-11-23" in result.stderr
    assert "retention 2y" in result.stderr
    assert snapshot() == before
    if backend == "sqlite":
        assert store_path.read_bytes() == before_bytes
    listed = json.loads(ok(cli("purge", "--dry-run", "--json", env=at(NOW))).stdout)
    assert [item["id"] for item in listed] == seeded.old
    assert {item["id"]: item["status"] for item in listed} == dict.fromkeys(seeded.old, "closed") | {
        seeded.old_resolved: "resolved"
    }
    assert json.loads(ok(cli("purge", "--log", "--json", env=at(NOW))).stdout) == []


def test_purge_anonymises_exactly_the_old_tickets_and_keeps_what_reports_need(
    cli: Cli, snapshot: Callable[[], Snapshot], seeded: Seeded
) -> None:
    before = {ticket_id: show(cli, ticket_id) for ticket_id in [*seeded.old, seeded.recent, seeded.still_open]}

    result = ok(cli("purge", env=at(NOW)))

    assert [int(line.split("\t")[0]) for line in result.stdout.splitlines()] == seeded.old
    assert "purged 3 ticket(s)" in result.stderr
    for ticket_id in seeded.old:
        after = show(cli, ticket_id)
        assert after["subject"] == f"[purged #{ticket_id}]"
        assert after["body"] == ""
        assert after["customer"] == {"name": None, "email": None, "phone": None}
        assert kept_fields(after) | {"history": None} == kept_fields(before[ticket_id]) | {"history": None}
        assert after["history"][:-1] == [
            {**event, "text": "", "data": {k: v for k, v in event["data"].items() if k != "met"} | _met(event)}
            for event in before[ticket_id]["history"]
        ]
        purged = after["history"][-1]
        assert (purged["event"], purged["actor"], purged["at"]) == ("purged", "alice", NOW)
        assert purged["data"]["retention"] == "2y"
    assert show(cli, seeded.old_resolved)["rating"] == 4
    assert show(cli, seeded.old_resolved)["kind"] == "complaint"
    assert show(cli, seeded.old_closed)["channel"] == "phone"
    for ticket_id in (seeded.recent, seeded.still_open):
        assert show(cli, ticket_id) == before[ticket_id]

    log = json.loads(ok(cli("purge", "--log", "--json", env=at(NOW))).stdout)
    assert len(log) == 1
    assert log[0] | {"id": None} == {
        "id": None,
        "at": NOW,
        "actor": "alice",
        "ticket_count": 3,
        "retention": "2y",
        "ticket_ids": seeded.old,
    }


def _met(event: dict[str, Any]) -> dict[str, Any]:
    # Which targets an action met names targets, not people: kept.
    return {"met": event["data"]["met"]} if "met" in event["data"] else {}


def test_a_second_purge_changes_nothing(cli: Cli, snapshot: Callable[[], Snapshot], seeded: Seeded) -> None:
    ok(cli("purge", env=at(NOW)))
    before = snapshot()
    again = ok(cli("purge", env=at(NOW)))
    assert again.stdout == ""
    assert "purged 0 ticket(s)" in again.stderr
    assert snapshot() == before
    assert len(json.loads(ok(cli("purge", "--log", "--json", env=at(NOW))).stdout)) == 1


def test_a_purged_ticket_can_no_longer_change(cli: Cli, snapshot: Callable[[], Snapshot], seeded: Seeded) -> None:
    ok(cli("purge", env=at(NOW)))
    purged = seeded.old_resolved
    before = snapshot()
    for args in (
        ("reopen", str(purged), "-m", "call me on 07700 900123"),
        ("update", str(purged), "--internal", "-m", "x"),
    ):
        result = cli(*args, env=at(NOW))
        assert result.exit_code == 4
        assert (
            result.stderr.strip()
            == f"supportcli: error: ticket #{purged} was purged (retention) and can no longer change"
        )
    assert snapshot() == before


@pytest.mark.sqlite_only(reason="reads the SQLite file and its WAL byte by byte")
def test_no_byte_of_purged_personal_data_remains_in_the_database_or_its_wal(
    cli: Cli, store_path: Path, seeded: Seeded
) -> None:
    wal = store_path.with_name(store_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0, "the open watcher connection keeps the WAL alive"
    raw = store_bytes(store_path)
    for secret in OLD_RESOLVED.secrets + OLD_CLOSED.secrets + OLD_UNANSWERED.secrets:
        assert secret in raw, "control: before the purge the seeded values are in the files"

    ok(cli("purge", env=at(NOW)))

    raw = store_bytes(store_path)
    for secret in OLD_RESOLVED.secrets + OLD_CLOSED.secrets + OLD_UNANSWERED.secrets:
        assert secret not in raw, f"{secret!r} is still readable in the store files"
    for secret in STILL_OPEN.secrets + RECENT.secrets:
        assert secret in raw, f"control: {secret!r} of a ticket not purged should be found"


def test_purge_follows_the_policy_in_effect_now(cli: Cli, seeded: Seeded, tmp_path: Path) -> None:
    policy = tmp_path / "short.toml"
    policy.write_text('name = "Short"\n[[targets]]\nmatch = {}\nresolve = "3wd"\n[retention]\nresolved_for = "30d"\n')
    ok(cli("policy", "set", str(policy), env=at(NOW)))
    result = ok(cli("purge", "--dry-run", env=at(NOW)))
    assert [int(line.split("\t")[0]) for line in result.stdout.splitlines()] == [*seeded.old, seeded.recent]
    assert "retention 30d, policy version 2" in result.stderr


def test_purge_without_a_retention_period_does_nothing(
    cli: Cli, snapshot: Callable[[], Snapshot], seeded: Seeded, tmp_path: Path
):
    policy = tmp_path / "keep.toml"
    policy.write_text('name = "Keep"\n[[targets]]\nmatch = {}\nresolve = "3wd"\n')
    ok(cli("policy", "set", str(policy), env=at(NOW)))
    before = snapshot()
    result = ok(cli("purge", env=at(NOW)))
    assert result.stdout == ""
    assert "sets no retention.resolved_for: nothing to purge" in result.stderr
    assert snapshot() == before


def test_purge_log_cannot_be_combined_with_dry_run(cli: Cli) -> None:
    result = cli("purge", "--log", "--dry-run", env=at(NOW))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--log" in result.stderr


# -- redact ---------------------------------------------------------------------------------------------------------


def test_redact_dry_run_shows_masked_values_and_changes_nothing(
    cli: Cli, snapshot: Callable[[], Snapshot], seeded: Seeded
) -> None:
    before = snapshot()
    result = ok(cli("redact", str(seeded.still_open), "--dry-run", env=at(NOW)))
    assert f"#{seeded.still_open}: would remove" in result.stderr
    assert STILL_OPEN.email not in result.output
    assert STILL_OPEN.phone not in result.output
    assert "o***@keep-me.example" in result.stdout
    assert "01** *** *465" in result.stdout
    places = {line.split("\t")[0] for line in result.stdout.splitlines()}
    assert {"customer e-mail", "customer phone", "subject", "body"} <= places
    assert snapshot() == before


def test_redact_removes_emails_and_phones_from_every_text_and_records_counts(cli: Cli, seeded: Seeded) -> None:
    ticket_id = seeded.still_open
    ok(cli("update", str(ticket_id), "-m", "Refund £12.50 agreed on 2026-11-23 at 14:00, see #12", env=at(NOW)))
    ok(cli("update", str(ticket_id), "--internal", "-m", "Her US number is +1 415 555 0132", env=at(NOW)))

    result = ok(cli("redact", str(ticket_id), "--json", env=at(NOW)))

    removed = json.loads(result.stdout)
    emails = sum(1 for item in removed if item["kind"] == "email")
    phones = sum(1 for item in removed if item["kind"] == "phone")
    # e-mail: field, subject, body, logged text, update text; phone: field, body, update text, US number
    assert (emails, phones) == (5, 4)
    assert STILL_OPEN.email not in result.output
    record = show(cli, ticket_id)
    assert record["customer"] == {"name": STILL_OPEN.name, "email": None, "phone": None}
    assert record["subject"] == f"Refund for {STILL_OPEN.name} ([email removed])"
    assert record["body"] == f"{STILL_OPEN.name} wrote from [email removed]; call back on [phone removed]."
    texts = [event["text"] for event in record["history"]]
    assert "Rang [phone removed], mailed [email removed]" in texts
    assert "Refund £12.50 agreed on 2026-11-23 at 14:00, see #12" in texts
    assert "Her US number is [phone removed]" in texts
    redacted = record["history"][-1]
    assert redacted["event"] == "redacted"
    assert redacted["data"]["emails"] == 5
    assert redacted["data"]["phones"] == 4
    everything = json.dumps(record)
    for value in (STILL_OPEN.email, STILL_OPEN.phone, "415 555 0132"):
        assert value not in everything


def test_redact_twice_changes_nothing_the_second_time(
    cli: Cli, snapshot: Callable[[], Snapshot], seeded: Seeded
) -> None:
    ok(cli("redact", str(seeded.recent), env=at(NOW)))
    before = snapshot()
    again = ok(cli("redact", str(seeded.recent), env=at(NOW)))
    assert again.stdout == ""
    assert "no e-mail address or phone number to remove" in again.stderr
    assert snapshot() == before
    assert [e["event"] for e in show(cli, seeded.recent)["history"]].count("redacted") == 1


@pytest.mark.sqlite_only(reason="reads the SQLite file and its WAL byte by byte")
def test_redact_leaves_no_byte_of_the_removed_values(cli: Cli, store_path: Path, seeded: Seeded) -> None:
    ok(cli("redact", str(seeded.still_open), env=at(NOW)))
    raw = store_bytes(store_path)
    assert STILL_OPEN.email.encode() not in raw
    assert STILL_OPEN.phone.encode() not in raw
    assert STILL_OPEN.name.encode() in raw  # redact removes contact details, not names
    assert RECENT.email.encode() in raw


@pytest.mark.parametrize("options", [(), ("--dry-run",)])
def test_redact_unknown_ticket_is_exit_3(cli: Cli, snapshot: Callable[[], Snapshot], options: tuple[str, ...]) -> None:
    ok(cli("init", env=at(NOW)))
    before = snapshot()
    result = cli("redact", "99", *options, env=at(NOW))
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["supportcli: error: no ticket #99"]
    assert snapshot() == before


# -- mail: watchers, the mail log, customer notices -----------------------------------------------------------------

MAIL_POLICY = """
name = "Mail"
[calendar]
country = "{country}"
[[targets]]
match = {{}}
respond = "4wh"
resolve = "3wd"
[retention]
resolved_for = "2y"
[notify]
email_from = "support@example.com"
[customer_mail]
acknowledge = true
"""
SECRET_DOMAIN = "purge-me.example"  # in every address and Message-ID of the customer's mail below
MAIL_SECRETS = ["Quixote", "Kettle boiled dry", "07700 900777", SECRET_DOMAIN]


def inbound(sender: str, subject: str, message_id: str, *headers: str, body: str = "") -> str:
    """One RFC 5322 message as a mail server hands it to mail-in."""
    return "\n".join(
        [
            f"From: {sender}",
            "To: support@example.com",
            *headers,
            f"Subject: {subject}",
            "Date: Thu, 01 Jun 2023 09:30:00 +0000",
            f"Message-ID: <{message_id}@{SECRET_DOMAIN}>",
            "Content-Type: text/plain; charset=utf-8",
            "",
            body,
            "",
        ]
    )


FIRST_MAIL = inbound(
    f"Ann Quixote <ann.quixote@{SECRET_DOMAIN}>",
    "Kettle boiled dry",
    "kettle-1",
    f"Cc: Cecil Quixote <cecil.quixote@{SECRET_DOMAIN}>",
    body="It smokes. Call me on 07700 900777.\n\nAnn Quixote",
)
REPLY_MAIL = inbound(
    f"Cecil Quixote <cecil.quixote@{SECRET_DOMAIN}>",
    "Re: [#1] Kettle boiled dry",
    "kettle-2",
    body="Ann is away; write to me instead.",
)
AUTO_REPLY = inbound(
    f"Quixote Holidays <ooo.quixote@{SECRET_DOMAIN}>",
    "Out of office: Kettle boiled dry",
    "ooo-1",
    "Auto-Submitted: auto-replied",
)


def mail_ticket(cli: Cli, tmp_path: Path, country: str = "GB") -> int:
    """Ticket #1 from mail-in, with a Cc watcher, a watcher added by hand, a reply, customer mail queued (no SMTP)
    and a refused auto-reply, all in June 2023."""
    policy = tmp_path / "mail.toml"
    policy.write_text(MAIL_POLICY.format(country=country), encoding="utf-8")
    ok(cli("policy", "set", str(policy), env=at(THREE_YEARS_AGO)))
    ok(cli("mail-in", input=FIRST_MAIL, env=at(THREE_YEARS_AGO)))
    ok(cli("watch", "1", f"wanda.quixote@{SECRET_DOMAIN}", env=at(THREE_YEARS_AGO)))
    acked = ok(cli("ack", "1", "-m", "We are on it", env=at(LATER_THAT_DAY)))
    assert "3 customer mail(s) queued" in acked.stderr
    ok(cli("mail-in", input=REPLY_MAIL, env=at(LATER_THAT_DAY)))
    ok(cli("mail-in", input=AUTO_REPLY, env=at(LATER_THAT_DAY)))
    return 1


def every_value(cli: Cli, snapshot: Callable[[], Snapshot]) -> str:
    """Everything the store holds and shows: every row of every table, the mail log, the export, the outbox."""
    shown = [
        ok(cli("mail", "log", "--json", env=at(NOW))).stdout,
        ok(cli("export", env=at(NOW))).stdout,
        ok(cli("notify", "log", "--json", env=at(NOW))).stdout,
    ]
    return json.dumps(snapshot(), default=str) + "".join(shown)


def test_purge_leaves_no_personal_data_of_a_mailed_ticket_in_any_table(
    cli: Cli, snapshot: Callable[[], Snapshot], tmp_path: Path
) -> None:
    ticket_id = mail_ticket(cli, tmp_path)
    ok(cli("resolve", str(ticket_id), "-m", "Sent a new kettle", "--no-mail", env=at(WEEK_AFTER)))
    before = every_value(cli, snapshot)
    for secret in MAIL_SECRETS:
        assert secret in before, f"control: {secret!r} is stored before the purge"

    result = ok(cli("purge", env=at(NOW)))

    after = every_value(cli, snapshot)
    for secret in MAIL_SECRETS:
        assert secret not in after, f"{secret!r} is still in the store after the purge"
    assert "purged 1 ticket(s)" in result.stderr
    assert "purged the mail log's record of 1 refused message(s)" in result.stderr
    record = show(cli, ticket_id)
    assert record["watchers"] == []
    assert {event["actor"] for event in record["history"]} == {"mail-in", "alice", "customer"}
    logged = json.loads(ok(cli("mail", "log", "--json", env=at(NOW))).stdout)
    assert [(row["outcome"], row["ticket"], row["from"], row["subject"]) for row in logged] == [
        ("refused", None, "", "[purged]"),
        ("reply", ticket_id, "", f"[purged #{ticket_id}]"),
        ("ticket", ticket_id, "", f"[purged #{ticket_id}]"),
    ]
    notices = json.loads(ok(cli("notify", "log", "--json", env=at(NOW))).stdout)
    assert len(notices) == 3
    assert {(notice["status"], notice["recipient"]) for notice in notices} == {("dead", "")}
    purged = snapshot()
    assert ok(cli("purge", env=at(NOW))).stdout == ""  # a second run changes nothing
    assert snapshot() == purged


def test_a_purged_message_delivered_again_is_recognised_and_not_ticketed_anew(
    cli: Cli, snapshot: Callable[[], Snapshot], tmp_path: Path
) -> None:
    mail_ticket(cli, tmp_path)
    ok(cli("resolve", "1", "-m", "Sent a new kettle", "--no-mail", env=at(WEEK_AFTER)))
    ok(cli("purge", env=at(NOW)))
    before = snapshot()
    again = ok(cli("mail-in", input=FIRST_MAIL, env=at(NOW)))
    assert "already recorded" in again.stderr
    assert snapshot() == before


def test_redact_removes_watchers_mail_log_addresses_and_customer_recipients(
    cli: Cli, snapshot: Callable[[], Snapshot], tmp_path: Path
) -> None:
    ticket_id = mail_ticket(cli, tmp_path)
    assert len(show(cli, ticket_id)["watchers"]) == 2

    result = ok(cli("redact", str(ticket_id), env=at(NOW)))

    record = show(cli, ticket_id)
    assert record["watchers"] == []
    assert record["customer"]["email"] is None
    assert record["customer"]["name"] == "Ann Quixote"  # redact removes contact details, not names
    logged = json.loads(ok(cli("mail", "log", "--json", env=at(NOW))).stdout)
    mailed = [row for row in logged if row["ticket"] == ticket_id]
    assert [row["from"] for row in mailed] == ["[email removed]", "[email removed]"]
    notices = json.loads(ok(cli("notify", "log", "--json", env=at(NOW))).stdout)
    assert {(notice["status"], notice["recipient"], notice["error"]) for notice in notices} == {
        ("dead", "", "recipient redacted")
    }
    everything = json.dumps(snapshot(), default=str)
    for local_part in ("ann.quixote@", "cecil.quixote@", "wanda.quixote@", "07700 900777"):
        assert local_part not in everything.replace(f"ooo.quixote@{SECRET_DOMAIN}", "")
    assert "removed" in result.stderr
    counts = record["history"][-1]["data"]
    assert counts["phones"] == 1


NANP_BODY = "Call (510) 541-6550, the office on 1-800-859-7267 or my cell 415-555-0132 after 5pm on 2026-11-23."


@pytest.mark.parametrize("country", ["US", "GB"])
def test_redact_finds_north_american_numbers_on_a_us_and_a_gb_calendar(cli: Cli, tmp_path: Path, country: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(MAIL_POLICY.format(country=country), encoding="utf-8")
    ok(cli("policy", "set", str(policy), env=at(LAST_MONTH)))
    ticket_id = int(ok(cli("log", "Call back", "--body", NANP_BODY, "-q", env=at(NOW))).stdout)

    result = ok(cli("redact", str(ticket_id), env=at(NOW)))

    assert f"#{ticket_id}: removed 0 e-mail address(es) and 3 phone number(s)" in result.stderr
    assert show(cli, ticket_id)["body"] == (
        "Call [phone removed], the office on [phone removed] or my cell [phone removed] after 5pm on 2026-11-23."
    )
