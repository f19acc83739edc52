"""``mail-in``, ``mail log`` and ``watch`` through the real CLI, fed the .eml fixtures in tests/fixtures/mail."""

from __future__ import annotations

import json
import mailbox
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from supportcli.cli.app import app

Cli = Callable[..., Result]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mail"
NOW = "2026-03-10T10:00:00+00:00"  # a Tuesday, minutes after the fixtures were "sent"
LATER = "2026-03-10T11:00:00+00:00"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def mail_in(cli: Cli, raw: bytes, *args: str, now: str = NOW) -> Result:
    return cli("mail-in", *args, input=raw, env={"SUPPORTCLI_NOW": now})


def run(cli: Cli, *args: str, now: str = NOW) -> Result:
    result = cli(*args, env={"SUPPORTCLI_NOW": now})
    assert result.exit_code == 0, result.output
    return result


def ticket(cli: Cli, ticket_id: int) -> dict:
    return json.loads(run(cli, "show", str(ticket_id), "--json", now=LATER).stdout)


def tickets(cli: Cli) -> list[dict]:
    return json.loads(run(cli, "list", "--json", now=LATER).stdout)


def logged(cli: Cli, *outcomes: str) -> list[dict]:
    args = [arg for outcome in outcomes for arg in ("--outcome", outcome)]
    return json.loads(run(cli, "mail", "log", *args, "--json", now=LATER).stdout)


def message(
    subject: str,
    body: str = "Hello",
    sender: str = "ann@example.org",
    message_id: str = "<m1@example.org>",
    extra: str = "",
) -> bytes:
    return (
        f"From: Ann Lee <{sender}>\nTo: support@example.com\nSubject: {subject}\n"
        f"Date: Tue, 10 Mar 2026 09:30:00 +0000\nMessage-ID: {message_id}\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


def log_tickets(cli: Cli, count: int) -> None:
    for number in range(count):
        run(cli, "log", f"Earlier ticket {number + 1}", "--email", "priya@example.org", "-q")


# -- new tickets ------------------------------------------------------------------------------------------------------


def test_a_new_message_becomes_a_ticket_with_its_customer_and_cc_watchers(cli: Cli) -> None:
    result = mail_in(cli, fixture("plain"))
    assert result.exit_code == 0, result.output
    assert "new ticket #1 from jane.customer@example.org" in result.stderr
    record = ticket(cli, 1)
    assert record["subject"] == "Boiler still not repaired after two visits"
    assert (record["channel"], record["kind"], record["status"]) == ("email", "enquiry", "new")
    assert record["customer"]["name"] == "Jane Customer"
    assert record["customer"]["email"] == "jane.customer@example.org"
    assert record["watchers"] == ["bob@example.org", "carol@example.net"]
    assert record["received_at"] == "2026-03-10T09:12:44+00:00"  # the Date header, 10:12:44 +0100
    # email → acknowledge within 1 working day of when the customer wrote, not of when we read it
    assert {t["name"]: t["due_at"] for t in record["targets"]}["acknowledge"] == "2026-03-11T17:00:00+00:00"
    assert [e["event"] for e in record["history"]] == ["logged", "received-by-mail"]
    assert record["history"][0]["actor"] == "mail-in"
    shown = run(cli, "show", "1", now=LATER).stdout
    assert "it's 9°C in the house" in shown


def test_kind_and_priority_of_new_tickets_come_from_the_options(cli: Cli) -> None:
    result = mail_in(cli, fixture("plain"), "--kind", "complaint", "--priority", "high")
    assert result.exit_code == 0, result.output
    record = ticket(cli, 1)
    assert (record["kind"], record["priority"]) == ("complaint", "high")


def test_a_date_outside_sane_bounds_gives_way_to_the_arrival_time(cli: Cli) -> None:
    assert mail_in(cli, fixture("future_date")).exit_code == 0
    assert ticket(cli, 1)["received_at"] == NOW


def test_html_only_mail_becomes_readable_text(cli: Cli) -> None:
    assert mail_in(cli, fixture("html_only")).exit_code == 0
    body = run(cli, "export", "--format", "json", now=LATER).stdout
    text = json.loads(body)["tickets"][0]["body"]
    assert "My parcel ORD-1043 never arrived." in text
    assert "I paid £12.50 & was" in text
    assert "- Ordered: 2 March" in text
    assert "<p>" not in text and "trackOpen" not in text and "color: #333" not in text


def test_attachments_are_listed_by_name_and_size_not_stored(cli: Cli) -> None:
    assert mail_in(cli, fixture("multipart_attachment")).exit_code == 0
    record = ticket(cli, 1)
    received = record["history"][1]
    assert received["event"] == "received-by-mail"
    assert received["text"].startswith("attachments (not stored): statement march.pdf (")
    assert "écran double.png (" in received["text"]
    sizes = {a["name"]: a["size"] for a in received["data"]["attachments"]}
    assert sizes["statement march.pdf"] > 100
    exported = json.loads(run(cli, "export", "--format", "json", now=LATER).stdout)["tickets"][0]
    assert exported["body"].startswith("I was charged twice for invoice 1043.")
    assert "JVBERi0" not in json.dumps(exported)  # the PDF's bytes are nowhere in the store


@pytest.mark.parametrize(
    ("name", "subject", "snippet"),
    [
        ("quoted_printable", "Facture en double – commande ORD-2291", "J'ai reçu deux factures identiques"),
        ("base64_body", "Zählerstand falsch", "mein Zähler wurde am 3. März falsch abgelesen"),
        ("latin1", "Facture à payer £42", "Vous m'avez facturé £42 au lieu de £24."),
        ("windows1252", "Refund – order 7781", "You said “the refund of €30 is on its way” – it isn’t."),
    ],
)
def test_encoded_bodies_and_headers_are_decoded(cli: Cli, name: str, subject: str, snippet: str) -> None:
    assert mail_in(cli, fixture(name), now="2026-03-10T10:00:00+00:00").exit_code == 0
    exported = json.loads(run(cli, "export", "--format", "json", now=LATER).stdout)["tickets"][0]
    assert exported["subject"] == subject
    assert snippet in exported["body"]


def test_a_malformed_header_still_becomes_a_ticket_and_the_problems_are_noted(cli: Cli) -> None:
    result = mail_in(cli, fixture("malformed_header"))
    assert result.exit_code == 0, result.output
    record = ticket(cli, 1)
    assert record["customer"]["email"] == "zoe@example.org"
    assert record["received_at"] == NOW  # "yesterday around teatime" is not a date
    assert record["history"][1]["data"]["problems"]


# -- replies ----------------------------------------------------------------------------------------------------------


def test_a_reply_with_the_tag_lands_on_its_ticket(cli: Cli) -> None:
    log_tickets(cli, 12)
    result = mail_in(cli, fixture("reply_tag"))
    assert result.exit_code == 0, result.output
    assert "reply from priya@example.org added to #12" in result.stderr
    assert len(tickets(cli)) == 12
    history = ticket(cli, 12)["history"]
    assert history[-1]["event"] == "customer-message"
    assert history[-1]["actor"] == "priya@example.org"
    assert "FR-77812" in history[-1]["text"]
    assert logged(cli)[0]["outcome"] == "reply"


def test_a_reply_to_the_customers_own_message_is_found_by_in_reply_to(cli: Cli) -> None:
    assert mail_in(cli, fixture("plain")).exit_code == 0
    follow_up = message(
        "Forgot to say",
        "The boiler model is a Vaillant ecoTEC.",
        sender="jane.customer@example.org",
        message_id="<follow-up@example.org>",
        extra="In-Reply-To: <CAF3k9x2=plain-1@mail.example.org>\n",
    )
    result = mail_in(cli, follow_up)
    assert "added to #1" in result.stderr
    assert len(tickets(cli)) == 1
    assert "Vaillant" in ticket(cli, 1)["history"][-1]["text"]


def test_a_tag_naming_no_ticket_starts_a_new_one(cli: Cli) -> None:
    result = mail_in(cli, fixture("reply_tag"))
    assert "new ticket #1" in result.stderr


def test_a_waiting_ticket_resumes_when_the_customer_replies(cli: Cli) -> None:
    assert mail_in(cli, fixture("plain")).exit_code == 0
    run(cli, "wait", "1", "-m", "Asked for the boiler model")
    reply = message("Re: [#1] Boiler", "It is a Vaillant.", sender="jane.customer@example.org")
    result = mail_in(cli, reply, now="2026-03-10T10:30:00+00:00")
    assert "(resumed)" in result.stderr
    record = ticket(cli, 1)
    assert record["status"] == "in-progress"
    assert [e["event"] for e in record["history"]][-2:] == ["resumed", "customer-message"]


@pytest.mark.parametrize("reopen", [True, False])
def test_a_resolved_ticket_reopens_on_reply_as_the_policy_says(cli: Cli, tmp_path: Path, reopen: bool) -> None:
    if not reopen:
        source = run(cli, "policy", "show").stdout
        policy = tmp_path / "policy.toml"
        policy.write_text(source.replace("[automation]", "[automation]\nreopen_on_reply = false"), encoding="utf-8")
        run(cli, "policy", "set", str(policy), now="2026-03-01T00:00:00+00:00")
    assert mail_in(cli, fixture("plain")).exit_code == 0
    run(cli, "resolve", "1", "-m", "Engineer replaced the valve")
    reply = message("Re: [#1] Boiler", "It cut out again tonight.", sender="jane.customer@example.org")
    result = mail_in(cli, reply, now="2026-03-10T10:30:00+00:00")
    assert result.exit_code == 0, result.output
    record = ticket(cli, 1)
    assert record["status"] == ("in-progress" if reopen else "resolved")
    assert record["history"][-1]["event"] == "customer-message"
    assert ("reopened" in [e["event"] for e in record["history"]]) is reopen


def test_a_rating_by_reply_records_the_customers_feedback(cli: Cli) -> None:
    log_tickets(cli, 12)
    run(cli, "resolve", "12", "-m", "Refunded the second charge")
    result = mail_in(cli, fixture("rating_reply"))
    assert "(rated 4/5)" in result.stderr
    record = ticket(cli, 12)
    assert (record["rating"], record["status"]) == (4, "resolved")  # a rating does not reopen it


# -- noise ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("out_of_office", "auto-reply (Auto-Submitted: auto-replied)"),
        ("bounce", "bounce (MAILER-DAEMON)"),
        ("own_address", "our own address support@example.com"),
        ("list_mail", "mailing list"),
    ],
)
def test_loops_and_noise_are_refused_and_logged_never_ticketed(cli: Cli, name: str, reason: str) -> None:
    result = mail_in(cli, fixture(name), "--address", "support@example.com")
    assert result.exit_code == 0, result.output
    assert "refused mail from" in result.stderr
    assert tickets(cli) == []
    [refusal] = logged(cli, "refused")
    assert refusal["outcome"] == "refused"
    assert refusal["reason"].startswith(reason)
    assert refusal["ticket"] is None


def test_the_policys_own_addresses_are_loops_without_any_option(cli: Cli, tmp_path: Path) -> None:
    source = run(cli, "policy", "show").stdout
    policy = tmp_path / "policy.toml"
    policy.write_text(source.replace('email_from = ""', 'email_from = "support@example.com"'), encoding="utf-8")
    run(cli, "policy", "set", str(policy), now="2026-03-01T00:00:00+00:00")
    assert mail_in(cli, fixture("own_address")).exit_code == 0
    assert tickets(cli) == []


def test_a_sender_over_the_hourly_limit_is_refused(cli: Cli) -> None:
    for number in range(3):
        raw = message(f"Question {number}", message_id=f"<q{number}@example.org>")
        assert mail_in(cli, raw, "--max-per-hour", "2").exit_code == 0
    assert [t["subject"] for t in tickets(cli)] == ["Question 0", "Question 1"]
    [refusal] = logged(cli, "refused")
    assert refusal["reason"] == "rate limit: 2 messages from ann@example.org in the last hour (limit 2)"
    later = message("Question 3", message_id="<q3@example.org>")
    assert mail_in(cli, later, "--max-per-hour", "2", now="2026-03-10T11:01:00+00:00").exit_code == 0
    assert len(tickets(cli)) == 3


def test_the_same_message_delivered_twice_is_recorded_once(cli: Cli) -> None:
    first = mail_in(cli, fixture("duplicate_a"))
    second = mail_in(cli, fixture("duplicate_b"))  # same Message-ID, relayed another way
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "already recorded: <dup-42@example.com.au>" in second.stderr
    assert len(tickets(cli)) == 1
    assert len(logged(cli)) == 1


def test_input_that_is_not_mail_is_rejected_with_exit_2_and_logged(cli: Cli) -> None:
    result = mail_in(cli, b"just some text\nwith no headers at all\n")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "supportcli: error: mail rejected: not an e-mail message: no From, To, Subject, Date or Message-ID header; "
        "logged, see: supportcli mail log --refused"
    ]
    assert tickets(cli) == []
    [refusal] = logged(cli)
    assert refusal["reason"].startswith("not an e-mail message")


def test_noise_is_refused_with_exit_0_so_the_mail_server_sends_no_bounce(cli: Cli) -> None:
    """A bounce for an auto-reply would be answered by another auto-reply: a loop."""
    result = mail_in(cli, fixture("out_of_office"))
    assert result.exit_code == 0, result.output


def test_a_huge_message_becomes_a_ticket_with_its_body_cut_and_noted(cli: Cli) -> None:
    line = "All work and no play makes Jack a dull boy. " * 60 + "\n"
    huge = message("Very long letter", body=line * 9_500)
    assert len(huge) > 25_000_000
    result = mail_in(cli, huge)
    assert result.exit_code == 0, result.output
    record = ticket(cli, 1)
    assert len(record["body"]) <= 100_100
    assert record["body"].startswith("All work and no play")
    assert "body truncated" in record["history"][1]["data"]["problems"][0]


def test_a_maildir_run_handles_every_message_and_exits_2_for_unreadable_ones(cli: Cli, tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    box = make_maildir(maildir, "plain")
    first = box.add(b"garbage one\n")
    second = box.add(b"\x00\x01 garbage two\n")
    result = cli("mail-in", "--maildir", str(maildir), env={"SUPPORTCLI_NOW": NOW})
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert (
        lines[-1] == "supportcli: error: 2 messages rejected as unreadable; logged, see: supportcli mail log --refused"
    )
    assert {line.split(":")[0] for line in lines if line.startswith("rejected ")} == {
        f"rejected {maildir / 'new' / first}",
        f"rejected {maildir / 'new' / second}",
    }
    assert [t["subject"] for t in tickets(cli)] == ["Boiler still not repaired after two visits"]
    assert list((maildir / "new").iterdir()) == []  # all three were handled: none is left to be read again
    assert len(logged(cli, "refused")) == 2


def test_the_mail_log_table_fits_80_columns_and_hides_no_address_or_reason(cli: Cli) -> None:
    assert mail_in(cli, fixture("plain")).exit_code == 0
    assert mail_in(cli, fixture("out_of_office")).exit_code == 0
    table = cli(
        "mail", "log", env={"SUPPORTCLI_NOW": LATER, "SUPPORTCLI_TERMINAL": "1", "NO_COLOR": "1", "COLUMNS": "80"}
    )
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["When", "From", "Subject", "Outcome", "Ticket", "Reason"]
    assert max(len(line) for line in lines) <= 80
    assert "…" not in table.stdout
    # A long address or reason breaks across lines: read column by column, every character is there.
    start = lines[0].index("From")
    width = lines[0].index("Subject") - start
    column = "".join(line[start : start + width].strip() for line in lines[1:])
    assert "jane.customer@example.org" in column
    assert "priya@example.org" in column
    reason_start = lines[0].index("Reason")
    reasons = "".join(line[reason_start:].strip() for line in lines[1:])
    assert "auto-reply(Auto-Submitted:auto-replied)" in reasons.replace(" ", "")


def test_json_output_lists_what_became_of_each_message(cli: Cli) -> None:
    result = cli(
        "mail-in",
        str(FIXTURES / "plain.eml"),
        str(FIXTURES / "bounce.eml"),
        "--json",
        env={"SUPPORTCLI_NOW": NOW},
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [(r["outcome"], r["ticket"]) for r in records] == [("ticket", 1), ("refused", None)]
    assert records[0]["message_id"] == "<CAF3k9x2=plain-1@mail.example.org>"


# -- mailboxes --------------------------------------------------------------------------------------------------------


def make_maildir(path: Path, *names: str) -> mailbox.Maildir:
    box = mailbox.Maildir(path, create=True)
    for name in names:
        box.add(fixture(name))
    return box


def test_a_maildir_run_ticks_off_each_message_by_moving_it_to_cur(cli: Cli, tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    make_maildir(maildir, "plain", "html_only", "out_of_office")
    result = cli("mail-in", "--maildir", str(maildir), env={"SUPPORTCLI_NOW": NOW})
    assert result.exit_code == 0, result.output
    assert list((maildir / "new").iterdir()) == []
    moved = sorted(p.name for p in (maildir / "cur").iterdir())
    assert len(moved) == 3
    assert all(name.endswith(":2,S") for name in moved)
    assert len(tickets(cli)) == 2
    again = cli("mail-in", "--maildir", str(maildir), env={"SUPPORTCLI_NOW": NOW})
    assert again.exit_code == 0
    assert len(logged(cli)) == 3


def test_an_mbox_can_be_read_again_safely(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    for name in ("plain", "base64_body", "bounce"):
        box.add(fixture(name))
    box.close()
    first = cli("mail-in", "--mbox", str(path), env={"SUPPORTCLI_NOW": NOW})
    assert first.exit_code == 0, first.output
    assert len(tickets(cli)) == 2
    second = cli("mail-in", "--mbox", str(path), env={"SUPPORTCLI_NOW": NOW})
    assert second.exit_code == 0
    assert second.stderr.count("already recorded") == 3
    assert len(tickets(cli)) == 2


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--maildir", "nowhere", "--mbox", "x"], "not more than one"),
        (["--maildir", "."], "is not a maildir"),
        (["--mbox", "no-such.mbox"], "no mbox file"),
        (["no-such.eml"], "cannot read no-such.eml"),
        (["--kind", "rant"], "unknown kind 'rant'"),
    ],
)
def test_usage_mistakes_are_one_line_with_exit_2(cli: Cli, args: list[str], error: str) -> None:
    result = cli("mail-in", *args, input=b"")
    assert result.exit_code == 2
    assert error in result.stderr
    assert "Traceback" not in result.output


# -- no mail lost: a locked store means "try again later" ------------------------------------------------------------


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another process holds the SQLite store's write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def sqlite_cli(path: Path) -> Cli:
    runner = CliRunner()

    def invoke(*args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(
            app, ["--db", str(path), *args], input=input, env={"SUPPORTCLI_LOCK_TIMEOUT": "0.3", **(env or {})}
        )

    return invoke


@pytest.mark.sqlite_only(reason="holds SQLite's write lock from another connection")
def test_a_locked_store_is_exit_75_and_the_message_is_accepted_next_time(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    cli = sqlite_cli(store)
    run(cli, "list")
    with write_locked(store):
        refused = mail_in(cli, fixture("plain"))
    assert refused.exit_code == 75
    assert "try again later" in refused.stderr
    assert "Traceback" not in refused.output
    assert tickets(cli) == []
    retried = mail_in(cli, fixture("plain"))
    assert retried.exit_code == 0, retried.output
    assert [t["subject"] for t in tickets(cli)] == ["Boiler still not repaired after two visits"]


@pytest.mark.sqlite_only(reason="holds SQLite's write lock from another connection")
def test_a_maildir_message_stays_in_new_while_the_store_is_locked(tmp_path: Path) -> None:
    store, maildir = tmp_path / "store.db", tmp_path / "Maildir"
    cli = sqlite_cli(store)
    run(cli, "list")
    make_maildir(maildir, "plain")
    with write_locked(store):
        refused = cli("mail-in", "--maildir", str(maildir), env={"SUPPORTCLI_NOW": NOW})
    assert refused.exit_code == 75
    assert len(list((maildir / "new").iterdir())) == 1
    assert cli("mail-in", "--maildir", str(maildir), env={"SUPPORTCLI_NOW": NOW}).exit_code == 0
    assert list((maildir / "new").iterdir()) == []
    assert len(tickets(cli)) == 1


def test_an_unreachable_database_server_is_exit_75_in_one_line() -> None:
    """PostgreSQL down (nothing listens on the port): the mail server must keep the message and retry."""
    result = CliRunner().invoke(
        app,
        ["mail-in"],
        input=fixture("plain"),
        env={"SUPPORTCLI_DATABASE_URL": "postgresql+psycopg://support:s3cret@127.0.0.1:1/support"},
    )
    assert result.exit_code == 75, result.output
    assert "try again later" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_the_installed_command_reads_a_piped_message_as_an_mta_delivers_it(store_url: str, tmp_path: Path) -> None:
    """What `support: "|supportcli mail-in"` in /etc/aliases does: the message on stdin of a real process."""
    command = Path(sys.executable).parent / "supportcli"
    env = {**os.environ, "SUPPORTCLI_DATABASE_URL": store_url, "SUPPORTCLI_NOW": NOW}
    delivered = subprocess.run(
        [str(command), "mail-in"], input=fixture("plain"), capture_output=True, env=env, timeout=60
    )
    assert delivered.returncode == 0, delivered.stderr
    assert b"new ticket #1 from jane.customer@example.org" in delivered.stderr
    again = subprocess.run([str(command), "mail-in"], input=fixture("plain"), capture_output=True, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    listed = subprocess.run(
        [str(command), "list", "--json"], capture_output=True, env={**env, "SUPPORTCLI_NOW": LATER}, timeout=60
    )
    assert [t["id"] for t in json.loads(listed.stdout)] == [1]


# -- watchers ---------------------------------------------------------------------------------------------------------


def test_watchers_can_be_added_and_removed_by_hand(cli: Cli) -> None:
    run(cli, "log", "Invoice wrong", "--email", "ann@example.org", "-q")
    added = run(cli, "watch", "1", "Finance@Acme.example", "ann@example.org")
    assert "#1: finance@acme.example now watching" in added.stderr  # the customer is not their own watcher
    assert ticket(cli, 1)["watchers"] == ["finance@acme.example"]
    run(cli, "watch", "1", "finance@acme.example", "--remove")
    record = ticket(cli, 1)
    assert record["watchers"] == []
    assert [e["event"] for e in record["history"]][-2:] == ["watchers-added", "watchers-removed"]
    bad = cli("watch", "1", "not-an-address")
    assert bad.exit_code == 2
    assert cli("watch", "99", "x@example.org").exit_code == 3


def test_export_and_import_keep_watchers_and_the_record_of_messages(cli: Cli, tmp_path: Path) -> None:
    assert mail_in(cli, fixture("plain")).exit_code == 0
    dump = tmp_path / "dump.ndjson"
    run(cli, "export", "--format", "ndjson", "-o", str(dump), now=LATER)
    other = sqlite_cli(tmp_path / "other.db")
    run(other, "import", str(dump), now=LATER)
    assert ticket(other, 1)["watchers"] == ["bob@example.org", "carol@example.net"]
    again = mail_in(other, fixture("plain"))
    assert "already recorded" in again.stderr  # the imported store knows the message
    assert len(tickets(other)) == 1


def test_two_maildir_runs_at_once_record_each_message_once_and_the_later_one_skips_what_the_other_took(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import supportcli.core.mail

    maildir = tmp_path / "Maildir"
    make_maildir(maildir, "plain", "html_only", "reply_tag")
    parse = supportcli.core.mail.parse_message
    other_runs: list[Result] = []
    started = []

    def parse_after_another_run(raw: bytes, now: object) -> object:
        # The first run has listed new/ and read its first message; before it records it, a second
        # run goes through the whole maildir, recording every message and moving each to cur/.
        if not started:
            started.append(True)
            other_runs.append(cli("mail-in", "--maildir", str(maildir), env={"SUPPORTCLI_NOW": NOW}))
        return parse(raw, now)

    monkeypatch.setattr(supportcli.core.mail, "parse_message", parse_after_another_run)
    first = cli("mail-in", "--maildir", str(maildir), "--json", env={"SUPPORTCLI_NOW": NOW})

    [second] = other_runs
    assert second.exit_code == 0, second.output
    assert first.exit_code == 0, first.output
    assert "FileNotFoundError" not in first.output
    assert json.loads(first.stdout) == []  # everything it found had been taken: nothing of its own to report
    assert first.stderr == ""
    assert len(second.stderr.strip().splitlines()) == 3
    assert list((maildir / "new").iterdir()) == []
    assert len(list((maildir / "cur").iterdir())) == 3
    assert len(logged(cli)) == 3
    assert len(tickets(cli)) == 3  # reply_tag names a ticket that does not exist, so it starts one
