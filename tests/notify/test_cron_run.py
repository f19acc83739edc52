"""The cron run (SPEC §6), through the real CLI against a real SMTP server and a real webhook server on 127.0.0.1.

``overdue`` lists breached targets and only reads; ``overdue --notify`` applies the policy's automation
(breaches, escalation on a breached resolve target, auto-close of waiting tickets, due-soon warnings),
each once, and delivers one notice per event and recipient exactly once through the outbox.

Every time is injected with SUPPORTCLI_NOW. Times and due times are computed by hand under the built-in
policy (Mon–Fri 09:00–17:00 Europe/London; November/December are GMT, so local = UTC = +00:00):

- phone/chat (catch-all rule): respond 4wh, resolve 10wd
- letter/e-mail: acknowledge 1wd, respond 5wd, resolve 10wd
- complaint: acknowledge 1wd, respond 5wd, update 5wd, resolve 20wd, escalate_on_breach
- automation: auto_close_waiting_after = "5d" (elapsed), warn_before = "2wh"

2026-11-23 is a Monday. Tiers: 0 Support, 1 Customer Success Manager, 2 Director.
Recipients of a notice: the owner (or their cover while away), the new tier's staff on an escalation,
the policy's team address, and one POST to the policy's webhook.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import Result

from helpers import MON_1000, MON_1100, TUE_1000, Snapshot, at, log, ok, show, wait_until
from supportcli.core.policy import default_policy_source
from supportcli.locations import StoreLocation
from supportcli.store.database import Store, open_store
from supportcli.store.models import Notice

from .conftest import TEAM_EMAIL, SmtpServer, WebhookServer

Cli = Callable[..., Result]

SUPPORTCLI = Path(sys.executable).parent / "supportcli"

BEFORE = "2026-11-01T10:00:00+00:00"  # policy and staff are set up before any ticket
TUE_1001 = "2026-11-24T10:01:00+00:00"
TUE_1005 = "2026-11-24T10:05:00+00:00"

PRIYA, SAM, CAROL, DAN = "priya@example.com", "sam@example.com", "carol@example.com", "dan@example.com"


# -- helpers --------------------------------------------------------------------------------------------------------


def team(cli: Cli, policy_file: Path) -> None:
    """The team's policy (notify: team address, sender, webhook) and the staff directory."""
    ok(cli("policy", "set", str(policy_file), env=at(BEFORE)))
    for name, address, tier in (("priya", PRIYA, "0"), ("sam", SAM, "0"), ("carol", CAROL, "1"), ("dan", DAN, "2")):
        ok(cli("staff", "add", name, "--email", address, "--tier", tier, env=at(BEFORE)))


def cron(cli: Cli, now: str, *options: str) -> Result:
    """One cron run: ``overdue --notify``."""
    return ok(cli("overdue", "--notify", *options, env=at(now)))


def summary(result: Result) -> str:
    """The last line of the cron run's summary (the counts)."""
    return result.stdout.strip().splitlines()[-1]


def outbox(cli: Cli, now: str, *statuses: str) -> list[dict[str, Any]]:
    """``notify log --json``, oldest first."""
    options = [option for status in statuses for option in ("--status", status)]
    records = json.loads(ok(cli("notify", "log", *options, "-n", "1000", "--json", env=at(now))).stdout)
    return sorted(records, key=lambda record: record["id"])


def recipients(smtp: SmtpServer) -> list[str]:
    return sorted(address for mail in smtp.mails for address in mail.rcpt_tos)


def events(webhook: WebhookServer) -> list[tuple[str, int, str | None]]:
    return [(post.json["event"], post.json["ticket"]["id"], post.json["target"]) for post in webhook.received()]


# -- overdue: the read-only listing ---------------------------------------------------------------------------------


def test_overdue_lists_breached_targets_worst_first_and_only_reads(
    cli: Cli, snapshot: Callable[[], Snapshot], smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    # #1 chat Mon 12:00 + 4wh → respond due Mon 16:00; at Tue 10:00 overdue 1h (16–17 Mon) + 1h (09–10 Tue) = 120
    chat = log(
        cli, "Chat lost", "--channel", "chat", "--owner", "sam", "--org", "Beta", now="2026-11-23T12:00:00+00:00"
    )
    # #2 phone Mon 10:00 + 4wh → respond due Mon 14:00; at Tue 10:00 overdue 3h (14–17 Mon) + 1h (09–10 Tue) = 240
    phone = log(cli, "Line dead", "--channel", "phone", "--owner", "priya", "--org", "Acme")
    # #3 letter Mon 10:00: acknowledge due Tue 17:00 → not overdue at Tue 10:00
    log(cli, "Letter", "--channel", "letter", "--owner", "priya", "--org", "Acme")

    before = snapshot()
    listed = json.loads(ok(cli("overdue", "--json", env=at(TUE_1000))).stdout)
    assert listed == [
        {
            "id": phone,
            "subject": "Line dead",
            "owner": "priya",
            "tier": 0,
            "target": "respond",
            "due_at": "2026-11-23T14:00:00+00:00",
            "overdue_working_minutes": 240,
        },
        {
            "id": chat,
            "subject": "Chat lost",
            "owner": "sam",
            "tier": 0,
            "target": "respond",
            "due_at": "2026-11-23T16:00:00+00:00",
            "overdue_working_minutes": 120,
        },
    ]

    def overdue_ids(*options: str) -> list[int]:
        return [record["id"] for record in json.loads(ok(cli("overdue", *options, "--json", env=at(TUE_1000))).stdout)]

    assert overdue_ids("--owner", "priya") == [phone]
    assert overdue_ids("--owner", "sam") == [chat]
    assert overdue_ids("--owner", "priya", "--owner", "sam") == [phone, chat]
    assert overdue_ids("--org", "Beta") == [chat]
    assert overdue_ids("--org", "Nobody") == []
    assert overdue_ids("--target", "respond") == [phone, chat]
    assert overdue_ids("--target", "resolve") == []
    assert overdue_ids("--owner", "priya", "--org", "Beta") == []

    # piped plain rows name both tickets, worst first
    plain = ok(cli("overdue", env=at(TUE_1000))).stdout
    assert plain.index("Line dead") < plain.index("Chat lost")

    # --exit-status: 8 when something is overdue, 0 when nothing is
    assert cli("overdue", "--exit-status", env=at(TUE_1000)).exit_code == 8
    assert cli("overdue", "--exit-status", "--json", env=at(TUE_1000)).exit_code == 8
    assert cli("overdue", "--exit-status", "--org", "Nobody", env=at(TUE_1000)).exit_code == 0
    quiet = cli("overdue", "--exit-status", "--json", env=at(MON_1100))  # Mon 11:00: nothing due yet
    assert (quiet.exit_code, json.loads(quiet.stdout)) == (0, [])

    # plain overdue changed nothing and sent nothing, although SMTP and the webhook are configured
    assert snapshot() == before
    assert smtp_env.mails == []
    assert webhook.received() == []
    assert outbox(cli, TUE_1000) == []


def test_overdue_lists_equally_late_breaches_by_ticket_number(cli: Cli, policy_file: Path) -> None:
    """Equally late (in whole minutes) is ordered by ticket number, not by the query's order of due times."""
    team(cli, policy_file)
    # #1 phone Mon 10:00:30 → respond due Mon 14:00:30; #2 phone Mon 10:00:00 → due Mon 14:00:00, earlier,
    # so the index scan meets #2 first. At Tue 10:00:45 #1 is 240¼ and #2 240¾ working minutes late: both 240.
    first = log(cli, "Later due", "--channel", "phone", now="2026-11-23T10:00:30+00:00")
    second = log(cli, "Earlier due", "--channel", "phone", now="2026-11-23T10:00:00+00:00")
    listed = json.loads(ok(cli("overdue", "--json", env=at("2026-11-24T10:00:45+00:00"))).stdout)
    assert [(r["id"], r["due_at"], r["overdue_working_minutes"]) for r in listed] == [
        (first, "2026-11-23T14:00:30+00:00", 240),
        (second, "2026-11-23T14:00:00+00:00", 240),
    ]
    # half a minute later #2 is 241¼ late and comes first
    listed = json.loads(ok(cli("overdue", "--json", env=at("2026-11-24T10:01:15+00:00"))).stdout)
    assert [(r["id"], r["overdue_working_minutes"]) for r in listed] == [(second, 241), (first, 240)]


def test_dry_run_needs_notify(cli: Cli) -> None:
    result = cli("overdue", "--dry-run", env=at(TUE_1000))
    assert result.exit_code == 2
    assert "--notify" in result.stderr
    assert "Traceback" not in result.output


# -- one notice per event, once -------------------------------------------------------------------------------------


def test_a_breach_sends_one_notice_per_recipient_and_later_runs_send_nothing_new(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Line dead", "--channel", "phone", "--owner", "priya", "--org", "Acme")

    first = cron(cli, TUE_1000)
    assert f"#{ticket} respond breached (due 2026-11-23 14:00)" in first.stdout
    assert summary(first) == (
        "1 new breach(es), 0 escalated, 0 auto-closed, 0 due-soon warning(s); "
        "notices: 3 queued, 3 sent, 0 failed (retried next run), 0 dead; 0 waiting"
    )

    # e-mail: the owner and the team address, each once, with [#ID] in the subject and the notice's Message-ID
    assert recipients(smtp_env) == sorted([PRIYA, TEAM_EMAIL])
    logged = outbox(cli, TUE_1000)
    assert [(n["event"], n["channel"], n["status"], n["attempts"]) for n in logged] == [
        ("breach", "email", "sent", 1),
        ("breach", "email", "sent", 1),
        ("breach", "webhook", "sent", 1),
    ]
    by_recipient = {n["recipient"]: n for n in logged}
    for mail in smtp_env.mails:
        (address,) = mail.rcpt_tos
        assert mail.subject.startswith(f"[#{ticket}] ")
        assert "respond" in mail.subject and "Line dead" in mail.subject
        assert mail.message["From"] == "support@example.com"
        assert mail.message_id == by_recipient[address]["message_id"]
        assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", mail.message_id)
        assert f"Ticket #{ticket}: Line dead" in mail.body
        assert "Overdue by 240 working minutes" in mail.body
    assert len({mail.message_id for mail in smtp_env.mails}) == 2

    # webhook: one POST for the event, with the documented keys and an Idempotency-Key header
    (post,) = webhook.received()
    assert post.path == "/hook"
    assert post.headers["content-type"] == "application/json"
    assert post.idempotency_key and re.fullmatch(r"[0-9a-f]{32}", post.idempotency_key)
    body = post.json
    assert {"event", "ticket", "target", "due_at", "at"} <= set(body)
    assert (body["event"], body["target"]) == ("breach", "respond")
    assert body["due_at"] == "2026-11-23T14:00:00+00:00"
    assert body["at"] == TUE_1000
    assert {key: body["ticket"][key] for key in ("id", "subject", "owner", "tier")} == {
        "id": ticket,
        "subject": "Line dead",
        "owner": "priya",
        "tier": 0,
    }
    assert by_recipient[webhook.url]["channel"] == "webhook"

    # a second run at the same time and a third one later send nothing new
    for now in (TUE_1000, TUE_1005):
        again = cron(cli, now)
        assert summary(again) == (
            "0 new breach(es), 0 escalated, 0 auto-closed, 0 due-soon warning(s); "
            "notices: 0 queued, 0 sent, 0 failed (retried next run), 0 dead; 0 waiting"
        )
    assert len(smtp_env.mails) == 2
    assert len(webhook.received()) == 1
    assert outbox(cli, TUE_1005) == logged


def test_due_soon_warning_once_inside_warn_before_then_the_breach(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Call back", "--channel", "phone", "--owner", "priya")  # respond due Mon 14:00
    # Mon 11:59: 2h01 left > warn_before 2wh → nothing
    assert summary(cron(cli, "2026-11-23T11:59:00+00:00")).startswith(
        "0 new breach(es), 0 escalated, 0 auto-closed, 0 due"
    )
    assert webhook.received() == []
    # Mon 12:00: exactly 2wh left → one warning
    warned = cron(cli, "2026-11-23T12:00:00+00:00")
    assert f"#{ticket} respond due 2026-11-23 14:00" in warned.stdout
    assert "1 due-soon warning(s)" in summary(warned)
    cron(cli, "2026-11-23T13:00:00+00:00")  # still inside the window: not again
    assert events(webhook) == [("due-soon", ticket, "respond")]
    assert recipients(smtp_env) == sorted([PRIYA, TEAM_EMAIL])
    assert all(mail.subject.startswith(f"[#{ticket}] Due soon") for mail in smtp_env.mails)
    # Mon 14:01: the breach is a new event
    cron(cli, "2026-11-23T14:01:00+00:00")
    assert events(webhook) == [("due-soon", ticket, "respond"), ("breach", ticket, "respond")]
    assert len(smtp_env.mails) == 4


# -- four overlapping runs ------------------------------------------------------------------------------------------


def start_cron(now: str) -> subprocess.Popen[str]:
    """``overdue --notify`` as a real process with its own injected clock."""
    env = dict(os.environ)
    env.update(SUPPORTCLI_NOW=now, SUPPORTCLI_LOCK_TIMEOUT="30")
    return subprocess.Popen(
        [str(SUPPORTCLI), "overdue", "--notify"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_overlapping_runs_send_each_notice_exactly_once(
    cli: Cli, store_path: Path, store_url: str, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    tickets = [
        log(cli, f"Phone {n}", "--channel", "phone", "--owner", "priya" if n % 2 else "sam") for n in range(1, 7)
    ]
    waiting = log(cli, "Letter", "--channel", "letter", "--owner", "sam")
    ok(cli("wait", str(waiting), env=at(MON_1100)))  # Mon 11:00 + 5d → closes from Sat 28 11:00
    now = "2026-11-30T10:00:00+00:00"  # every phone ticket breached respond (Mon 23 14:00); #7 is due to close
    # 6 breaches x (owner, team, webhook) + 1 auto-close x (owner, team, webhook)
    expected_notices = 7 * 3

    # os.environ is isolated by the conftest; the store and SUPPORTCLI_SMTP_* point at the test's own
    assert os.environ.get("SUPPORTCLI_DB", os.environ.get("SUPPORTCLI_DATABASE_URL")) in (str(store_path), store_url)
    runs = [start_cron(now) for _ in range(4)]
    outputs = [run.communicate(timeout=60) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, (stdout, stderr)
        assert "Traceback" not in stderr

    # each action happened in exactly one run; the runs together sent each notice once
    lines = [line for stdout, _ in outputs for line in stdout.splitlines()]
    assert sorted(line for line in lines if "breached" in line) == sorted(
        f"#{t} respond breached (due 2026-11-23 14:00)" for t in tickets
    )
    assert [line for line in lines if "closed:" in line] == [f"#{waiting} closed: no reply within 5d"]
    counts = [re.search(r"notices: (\d+) queued, (\d+) sent, (\d+) failed", stdout) for stdout, _ in outputs]
    assert all(counts), outputs
    assert sum(int(m.group(1)) for m in counts if m) == expected_notices
    assert sum(int(m.group(2)) for m in counts if m) == expected_notices
    assert sum(int(m.group(3)) for m in counts if m) == 0

    logged = outbox(cli, now)
    assert len(logged) == expected_notices
    assert {(n["status"], n["attempts"]) for n in logged} == {("sent", 1)}
    emails = [n for n in logged if n["channel"] == "email"]
    hooks = [n for n in logged if n["channel"] == "webhook"]
    assert (len(emails), len(hooks)) == (14, 7)

    wait_until(lambda: len(smtp_env.mails) >= len(emails) and len(webhook.received()) >= len(hooks))
    by_message_id = Counter(mail.message_id for mail in smtp_env.mails)
    assert by_message_id == Counter({n["message_id"]: 1 for n in emails})
    by_key = Counter(post.idempotency_key for post in webhook.received())
    assert len(by_key) == len(hooks) and set(by_key.values()) == {1}
    assert sorted(events(webhook)) == sorted(
        [("breach", t, "respond") for t in tickets] + [("auto-close", waiting, None)]
    )
    assert Counter(recipients(smtp_env)) == Counter({TEAM_EMAIL: 7, PRIYA: 3, SAM: 4})

    # and a fifth run afterwards has nothing to do
    assert "notices: 0 queued, 0 sent" in summary(cron(cli, now))
    assert len(smtp_env.mails) == 14 and len(webhook.received()) == 7


def test_a_slow_run_past_its_lease_and_a_later_run_never_send_the_same_notice(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    for n in range(4):
        log(cli, f"Phone {n}", "--channel", "phone", "--owner", "priya")
    smtp_env.handler.delay = 0.4  # each message takes 0.4 s to be accepted: run A needs ~3 s for its 8 e-mails
    first = start_cron(TUE_1000)
    wait_until(lambda: len(smtp_env.mails) >= 1, timeout=30)  # run A is sending its batch
    second = start_cron("2026-11-24T10:11:00+00:00")  # the next cron run, 11 minutes later by its clock
    for run in (first, second):
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, (stdout, stderr)
    logged = outbox(cli, "2026-11-24T10:11:00+00:00")
    assert len(logged) == 12 and {n["status"] for n in logged} == {"sent"}
    duplicated = {mid: n for mid, n in Counter(m.message_id for m in smtp_env.mails).items() if n > 1}
    assert duplicated == {}
    assert len(smtp_env.mails) == 8


@contextmanager
def delivering_elsewhere(store_location: StoreLocation) -> Iterator[Store]:
    """Another run that holds the delivery lock (a live run, busy sending) until the block ends."""
    store = open_store(store_location, {}, default_policy_source, at_instant(MON_1000), "cron")
    try:
        with store.exclusive("deliver") as mine:
            assert mine
            yield store
    finally:
        store.close()


def at_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def lease_everything_pending(store: Store, run_id: str, until: str) -> int:
    """What a run's claim leaves on the notices it took: its id and the end of its lease."""

    def claim(session: Session) -> int:
        rows = list(session.exec(select(Notice).where(Notice.status == "pending")))
        for row in rows:
            row.claimed_by, row.lease_until = run_id, at_instant(until)
            session.add(row)
        return len(rows)

    return store.run_write(claim)


def test_notices_leased_by_a_run_that_died_are_sent_by_the_next_run_at_once(
    cli: Cli, store_location: StoreLocation, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    with delivering_elsewhere(store_location) as store:
        queued = cron(cli, TUE_1000)
        assert "notices: 3 queued, 0 sent" in queued.stdout
        # That run was killed (kill -9) after claiming them: its lease had ten minutes to run.
        assert lease_everything_pending(store, "killed-run", "2026-11-24T10:10:00+00:00") == 3
    assert smtp_env.mails == [] and webhook.received() == []

    after = cron(cli, TUE_1001)  # one minute later: the lock is free, so the killed run's lease is void

    assert "notices: 0 queued, 3 sent, 0 failed" in summary(after)
    assert sorted(recipients(smtp_env)) == sorted([PRIYA, TEAM_EMAIL])
    assert len(webhook.received()) == 1
    assert {(n["status"], n["attempts"]) for n in outbox(cli, TUE_1001)} == {("sent", 1)}


def test_notices_leased_by_a_live_run_are_left_to_it_even_past_its_lease(
    cli: Cli, store_location: StoreLocation, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    with delivering_elsewhere(store_location) as store:
        cron(cli, TUE_1000)
        lease_everything_pending(store, "live-run", "2026-11-24T10:10:00+00:00")
        later = cron(cli, "2026-11-24T10:11:00+00:00")  # its lease ran out, but it is still delivering
        assert "notices: 0 queued, 0 sent" in later.stdout
        assert "another run is sending notices" in later.stdout
    assert smtp_env.mails == [] and webhook.received() == []
    assert {n["status"] for n in outbox(cli, TUE_1001)} == {"pending"}


def test_a_run_that_lost_its_delivery_lock_stops_sending_and_the_next_run_sends_the_rest(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team(cli, policy_file)
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    with monkeypatch.context() as patched:
        # PostgreSQL ended the lock's session (a network failure): the run notices before its first send.
        patched.setattr(Store, "holds", lambda self, name: False)
        lost = cron(cli, TUE_1000)
    assert "notices: 3 queued, 0 sent, 0 failed" in summary(lost)
    assert "the delivery lock was lost" in lost.stderr
    assert smtp_env.mails == [] and webhook.received() == []

    after = cron(cli, TUE_1001)

    assert "notices: 0 queued, 3 sent" in summary(after)
    assert len(smtp_env.mails) == 2 and len(webhook.received()) == 1


# -- failures: SMTP down, retries, dead notices ---------------------------------------------------------------------


def test_smtp_down_loses_nothing_and_the_next_run_sends_with_backoff(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    smtp_env.stop()

    down = cron(cli, TUE_1000)
    assert summary(down) == (
        "1 new breach(es), 0 escalated, 0 auto-closed, 0 due-soon warning(s); "
        "notices: 3 queued, 1 sent, 2 failed (retried next run), 0 dead; 2 waiting"
    )
    assert "unavailable" in down.stderr
    assert events(webhook) == [("breach", ticket, "respond")]  # the webhook does not wait for SMTP
    pending = outbox(cli, TUE_1000, "pending")
    assert sorted(n["recipient"] for n in pending) == sorted([PRIYA, TEAM_EMAIL])
    for notice in pending:
        assert notice["attempts"] == 1
        assert "unavailable" in notice["error"]
        assert notice["next_attempt_at"] == TUE_1001  # first retry 1 minute later

    # 30 s later: not due yet, nothing tried
    cron(cli, "2026-11-24T10:00:30+00:00")
    assert {n["attempts"] for n in outbox(cli, TUE_1000, "pending")} == {1}
    # 10:01, still down: second failure, next try 2 minutes later
    cron(cli, TUE_1001)
    pending = outbox(cli, TUE_1001, "pending")
    assert {(n["attempts"], n["next_attempt_at"]) for n in pending} == {(2, "2026-11-24T10:03:00+00:00")}

    smtp_env.start()
    cron(cli, "2026-11-24T10:02:00+00:00")  # up, but the backoff has not run out
    assert smtp_env.mails == []
    sent = cron(cli, "2026-11-24T10:03:00+00:00")
    assert "notices: 0 queued, 2 sent, 0 failed (retried next run), 0 dead; 0 waiting" in summary(sent)
    assert recipients(smtp_env) == sorted([PRIYA, TEAM_EMAIL])
    assert all(mail.subject.startswith(f"[#{ticket}] ") for mail in smtp_env.mails)
    logged = outbox(cli, "2026-11-24T10:03:00+00:00")
    assert {(n["channel"], n["status"], n["attempts"]) for n in logged} == {
        ("email", "sent", 3),
        ("webhook", "sent", 1),
    }
    cron(cli, "2026-11-24T11:00:00+00:00")
    assert len(smtp_env.mails) == 2 and len(webhook.received()) == 1


def test_a_retry_carries_the_same_message_id_and_idempotency_key(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    # the servers receive the notices but answer "try again": SMTP 451 after DATA, HTTP 500
    smtp_env.fail_data = "451 4.3.0 Try again later"
    webhook.status = 500
    failed = cron(cli, TUE_1000)
    assert "notices: 3 queued, 0 sent, 3 failed (retried next run), 0 dead; 3 waiting" in summary(failed)
    assert {n["status"] for n in outbox(cli, TUE_1000)} == {"pending"}
    first_mails, first_posts = smtp_env.mails, webhook.received()
    assert len(first_mails) == 2 and len(first_posts) == 1

    smtp_env.accept_all()
    webhook.status = 200
    cron(cli, TUE_1001)
    second_mails, second_posts = smtp_env.mails[2:], webhook.received()[1:]
    assert len(second_mails) == 2 and len(second_posts) == 1
    first_ids = {tuple(m.rcpt_tos): m.message_id for m in first_mails}
    second_ids = {tuple(m.rcpt_tos): m.message_id for m in second_mails}
    assert first_ids == second_ids
    assert first_mails[0].subject == next(m.subject for m in second_mails if m.rcpt_tos == first_mails[0].rcpt_tos)
    assert second_posts[0].idempotency_key == first_posts[0].idempotency_key
    assert second_posts[0].json == first_posts[0].json
    logged = outbox(cli, TUE_1001)
    assert {(n["status"], n["attempts"]) for n in logged} == {("sent", 2)}
    assert {n["message_id"] for n in logged if n["channel"] == "email"} == set(first_ids.values())


def test_permanent_failures_are_dead_listed_and_requeued_by_notify_retry(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    smtp_env.refuse(PRIYA)  # 550 for the owner
    webhook.status = 410  # the webhook is gone

    result = cron(cli, TUE_1000)
    assert "notices: 3 queued, 1 sent, 0 failed (retried next run), 2 dead; 0 waiting" in summary(result)
    assert recipients(smtp_env) == [TEAM_EMAIL]

    dead = outbox(cli, TUE_1000, "dead")
    assert sorted(n["recipient"] for n in dead) == sorted([PRIYA, webhook.url])
    by_recipient = {n["recipient"]: n for n in dead}
    assert "550" in by_recipient[PRIYA]["error"]
    assert "410" in by_recipient[webhook.url]["error"]
    assert all(n["attempts"] == 1 and n["ticket"] == ticket and n["event"] == "breach" for n in dead)
    assert [n["recipient"] for n in outbox(cli, TUE_1000, "sent")] == [TEAM_EMAIL]

    # dead notices are not retried by later runs
    cron(cli, "2026-11-24T12:00:00+00:00")
    assert recipients(smtp_env) == [TEAM_EMAIL] and len(webhook.received()) == 1
    assert len(outbox(cli, TUE_1000, "dead")) == 2

    # fixed: notify retry queues them again and the next run delivers them
    smtp_env.accept_all()
    webhook.status = 200
    retried = ok(cli("notify", "retry", env=at("2026-11-24T12:30:00+00:00")))
    assert "2 notice(s) queued again" in retried.stderr
    assert outbox(cli, TUE_1000, "dead") == []
    assert len(outbox(cli, TUE_1000, "pending")) == 2
    cron(cli, "2026-11-24T12:30:00+00:00")
    assert recipients(smtp_env) == sorted([PRIYA, TEAM_EMAIL])
    posts = webhook.received()
    assert len(posts) == 2 and posts[0].idempotency_key == posts[1].idempotency_key
    assert {n["status"] for n in outbox(cli, TUE_1000)} == {"sent"}
    assert "0 notice(s) queued again" in ok(cli("notify", "retry", env=at("2026-11-24T13:00:00+00:00"))).stderr


def test_notify_retry_by_id_requeues_only_that_notice(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    smtp_env.refuse(PRIYA, TEAM_EMAIL)
    webhook.status = 404
    cron(cli, TUE_1000)
    dead = outbox(cli, TUE_1000, "dead")
    assert len(dead) == 3
    chosen = next(n for n in dead if n["recipient"] == PRIYA)
    smtp_env.accept_all()
    assert "1 notice(s) queued again" in ok(cli("notify", "retry", str(chosen["id"]), env=at(TUE_1001))).stderr
    cron(cli, TUE_1001)
    assert recipients(smtp_env) == [PRIYA]
    assert sorted(n["recipient"] for n in outbox(cli, TUE_1001, "dead")) == sorted([TEAM_EMAIL, webhook.url])


def test_without_smtp_settings_only_the_webhook_is_sent_and_the_summary_says_so(
    cli: Cli, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    result = cron(cli, TUE_1000)
    assert "notices: 1 queued, 1 sent, 0 failed (retried next run), 0 dead; 0 waiting" in result.stdout
    assert "e-mail: no SMTP server configured; only webhooks are sent" in result.stdout
    assert events(webhook) == [("breach", ticket, "respond")]
    assert [n["channel"] for n in outbox(cli, TUE_1000)] == ["webhook"]


# -- automation: escalation, auto-close, cover ----------------------------------------------------------------------


def test_escalation_happens_once_per_breach_and_tells_the_new_tier(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Refund refused", "--kind", "complaint", "--owner", "priya")
    ok(cli("ack", str(ticket), env=at("2026-11-23T10:30:00+00:00")))
    # a customer-facing update meets respond; the next update is agreed for mid-January
    ok(cli("update", str(ticket), "-m", "Investigating", "--next", "2027-01-15 12:00", env=at(MON_1100)))
    # resolve: Mon 23 Nov + 20wd → Mon 21 Dec 17:00; the first run after it is Tue 22 Dec 10:00
    tue = "2026-12-22T10:00:00+00:00"
    result = cron(cli, tue)
    assert f"#{ticket} resolve breached (due 2026-12-21 17:00)" in result.stdout
    assert f"#{ticket} escalated to Customer Success Manager" in result.stdout
    assert summary(result).startswith("1 new breach(es), 1 escalated, 0 auto-closed")
    assert "notices: 7 queued, 7 sent" in summary(result)

    record = show(cli, ticket, tue)
    assert (record["tier"], record["tier_name"]) == (1, "Customer Success Manager")
    escalations = [e for e in record["history"] if e["event"] == "escalated"]
    assert [(e["actor"], e["at"]) for e in escalations] == [("supportcli", tue)]

    # breach → owner, team, webhook; escalation → owner, the new tier (carol, not dan), team, webhook
    assert Counter(recipients(smtp_env)) == Counter({PRIYA: 2, TEAM_EMAIL: 2, CAROL: 1})
    (to_carol,) = smtp_env.to(CAROL)
    assert to_carol.subject.startswith(f"[#{ticket}] Escalated")
    assert "Customer Success Manager" in to_carol.body
    assert events(webhook) == [("breach", ticket, "resolve"), ("escalation", ticket, "resolve")]
    escalation = webhook.received()[1].json
    assert escalation["ticket"]["tier"] == 1
    assert escalation["ticket"]["tier_name"] == "Customer Success Manager"
    assert escalation["due_at"] == "2026-12-21T17:00:00+00:00"
    assert escalation["at"] == tue

    # later runs: no second escalation, no new notices
    cron(cli, tue)
    cron(cli, "2026-12-23T10:00:00+00:00")
    assert show(cli, ticket, "2026-12-23T10:00:00+00:00")["tier"] == 1

    # resolved late, then reopened: the resolve target is pending with its original (breached) due time again,
    # but that breach was already notified and escalated
    ok(cli("resolve", str(ticket), "-m", "Refunded", env=at("2026-12-23T11:00:00+00:00")))
    ok(cli("reopen", str(ticket), "-m", "Refund bounced", env=at("2026-12-23T12:00:00+00:00")))
    again = cron(cli, "2026-12-23T13:00:00+00:00")
    assert summary(again).startswith("0 new breach(es), 0 escalated")
    record = show(cli, ticket, "2026-12-23T13:00:00+00:00")
    assert record["tier"] == 1
    assert [e["event"] for e in record["history"]].count("escalated") == 1
    assert len(smtp_env.mails) == 5 and len(webhook.received()) == 2


@pytest.mark.parametrize(
    ("next_update", "event"),
    [
        ("2026-12-21 17:30", "breach"),  # half an hour after resolve: breached by the run too
        ("2026-12-22 11:00", "due-soon"),  # within warn_before (2wh) of the run
    ],
)
def test_a_notice_after_an_escalation_in_the_same_run_names_the_new_tier(
    cli: Cli, webhook: WebhookServer, policy_file: Path, next_update: str, event: str
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Refund refused", "--kind", "complaint", "--owner", "priya")
    ok(cli("ack", str(ticket), env=at("2026-11-23T10:30:00+00:00")))
    # resolve falls due Mon 21 Dec 17:00 and escalates; the next update was agreed for just after it
    ok(cli("update", str(ticket), "-m", "Investigating", "--next", next_update, env=at(MON_1100)))
    result = cron(cli, "2026-12-22T10:00:00+00:00")
    assert "1 escalated" in result.stdout
    posted = [
        (post.json["event"], post.json["target"], post.json["ticket"]["tier_name"]) for post in webhook.received()
    ]
    assert posted == [
        ("breach", "resolve", "Support"),
        ("escalation", "resolve", "Customer Success Manager"),
        (event, "update", "Customer Success Manager"),
    ]


def test_a_reopened_ticket_does_not_fire_again_for_a_breach_already_notified(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    ok(cli("update", str(ticket), "-m", "Called back", env=at(MON_1100)))  # respond met
    # resolve: Mon 23 + 10wd → Mon 7 Dec 17:00
    cron(cli, "2026-12-08T10:00:00+00:00")
    assert events(webhook) == [("breach", ticket, "resolve")]
    ok(cli("resolve", str(ticket), "-m", "Fixed", env=at("2026-12-08T11:00:00+00:00")))
    ok(cli("reopen", str(ticket), "-m", "Broke again", env=at("2026-12-08T12:00:00+00:00")))
    overdue = json.loads(ok(cli("overdue", "--json", env=at("2026-12-08T13:00:00+00:00"))).stdout)
    assert [(r["id"], r["target"], r["due_at"]) for r in overdue] == [(ticket, "resolve", "2026-12-07T17:00:00+00:00")]
    assert summary(cron(cli, "2026-12-08T13:00:00+00:00")).startswith("0 new breach(es)")
    assert events(webhook) == [("breach", ticket, "resolve")]
    assert len(smtp_env.mails) == 2


def test_auto_close_after_the_waiting_period_not_before(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ticket = log(cli, "Which address?", "--channel", "letter", "--owner", "priya")
    ok(cli("wait", str(ticket), "-m", "Asked for the address", env=at(MON_1100)))
    # waiting since Mon 23 11:00 + 5d (elapsed) → Sat 28 11:00
    early = cron(cli, "2026-11-28T10:59:00+00:00")
    assert summary(early).startswith("0 new breach(es), 0 escalated, 0 auto-closed")
    assert show(cli, ticket, "2026-11-28T10:59:00+00:00")["status"] == "waiting"
    assert smtp_env.mails == [] and webhook.received() == []

    closing = cron(cli, "2026-11-28T11:00:00+00:00")
    assert f"#{ticket} closed: no reply within 5d" in closing.stdout
    assert summary(closing).startswith("0 new breach(es), 0 escalated, 1 auto-closed")
    record = show(cli, ticket, "2026-11-28T11:00:00+00:00")
    assert record["status"] == "closed"
    assert [(e["event"], e["actor"]) for e in record["history"]][-1] == ("closed", "supportcli")
    assert recipients(smtp_env) == sorted([PRIYA, TEAM_EMAIL])
    assert all(mail.subject.startswith(f"[#{ticket}] Closed automatically") for mail in smtp_env.mails)
    (post,) = webhook.received()
    assert (post.json["event"], post.json["ticket"]["id"], post.json["ticket"]["status"]) == (
        "auto-close",
        ticket,
        "closed",
    )
    assert post.json["at"] == "2026-11-28T11:00:00+00:00"

    cron(cli, "2026-11-30T10:00:00+00:00")
    assert len(smtp_env.mails) == 2 and len(webhook.received()) == 1


def test_absent_owner_notices_go_to_the_cover(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    ok(cli("staff", "away", "priya", "--until", "2026-11-25 09:00", "--cover", "sam", env=at(MON_1000)))
    first = log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    cron(cli, TUE_1000)
    assert recipients(smtp_env) == sorted([SAM, TEAM_EMAIL])
    assert smtp_env.to(PRIYA) == []
    assert webhook.received()[0].json["ticket"]["owner"] == "priya"  # the ticket still belongs to priya
    assert sorted(n["recipient"] for n in outbox(cli, TUE_1000) if n["channel"] == "email") == sorted([SAM, TEAM_EMAIL])

    # back from Wed 09:00: the next breach goes to priya again
    second = log(cli, "Line dead again", "--channel", "phone", "--owner", "priya", now="2026-11-25T10:00:00+00:00")
    cron(cli, "2026-11-26T10:00:00+00:00")
    assert [mail.subject.split("]")[0] for mail in smtp_env.to(PRIYA)] == [f"[#{second}"]
    assert [mail.subject.split("]")[0] for mail in smtp_env.to(SAM)] == [f"[#{first}"]


# -- dry run --------------------------------------------------------------------------------------------------------


def test_dry_run_shows_what_would_happen_and_changes_nothing(
    cli: Cli, snapshot: Callable[[], Snapshot], smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    complaint = log(cli, "Refund refused", "--kind", "complaint", "--owner", "priya")
    ok(cli("ack", str(complaint), env=at("2026-11-23T10:30:00+00:00")))
    ok(cli("update", str(complaint), "-m", "Investigating", "--next", "2027-01-15 12:00", env=at(MON_1100)))
    letter = log(cli, "Which address?", "--channel", "letter", "--owner", "sam", now="2026-12-14T10:00:00+00:00")
    ok(cli("wait", str(letter), env=at("2026-12-14T11:00:00+00:00")))  # closes from Sat 19 Dec 11:00
    tue = "2026-12-22T10:00:00+00:00"

    before = snapshot()
    dry = cron(cli, tue, "--dry-run")
    assert f"would: #{complaint} resolve breached (due 2026-12-21 17:00)" in dry.stdout
    assert f"would: #{complaint} escalated to Customer Success Manager" in dry.stdout
    assert f"would: #{letter} closed: no reply within 5d" in dry.stdout
    assert summary(dry).startswith(
        "dry run: 1 new breach(es), 1 escalated, 1 auto-closed, 0 due-soon warning(s); 10 notice(s) would be queued; "
    )
    assert summary(dry).endswith("; nothing changed")
    assert snapshot() == before
    assert smtp_env.mails == [] and webhook.received() == []
    assert show(cli, complaint, tue)["tier"] == 0
    assert show(cli, letter, tue)["status"] == "waiting"

    # the real run then does all of it
    real = cron(cli, tue)
    assert f"#{complaint} escalated to Customer Success Manager" in real.stdout
    assert "would:" not in real.stdout
    assert "notices: 10 queued, 10 sent" in summary(real)
    assert show(cli, complaint, tue)["tier"] == 1
    assert show(cli, letter, tue)["status"] == "closed"
    assert len(smtp_env.mails) == 7 and len(webhook.received()) == 3

    # a dry run with notices already waiting counts them and still changes nothing
    smtp_env.stop()
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya", now=tue)
    cron(cli, "2026-12-23T10:00:00+00:00")  # breach: 2 e-mails fail and wait, the webhook is sent
    before = snapshot()
    dry = cron(cli, "2026-12-23T10:30:00+00:00", "--dry-run")
    assert "0 notice(s) would be queued; 2 already waiting; nothing changed" in summary(dry)
    assert snapshot() == before


def test_dry_run_already_waiting_counts_only_notices_queued_before(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    log(cli, "Line dead", "--channel", "phone", "--owner", "priya")
    assert outbox(cli, TUE_1000) == []
    dry = cron(cli, TUE_1000, "--dry-run")
    assert summary(dry) == (
        "dry run: 1 new breach(es), 0 escalated, 0 auto-closed, 0 due-soon warning(s); "
        "3 notice(s) would be queued; 0 already waiting; nothing changed"
    )


# -- notify test ----------------------------------------------------------------------------------------------------


def test_notify_test_delivers_to_the_smtp_server_and_the_webhook(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    result = ok(cli("notify", "test", "--to", "x@example.com", env=at(TUE_1000)))
    assert "x@example.com" in result.stderr
    (mail,) = smtp_env.mails
    assert mail.rcpt_tos == ["x@example.com"]
    assert mail.subject == "supportcli test message"
    assert mail.message["From"] == "support@example.com"
    assert mail.message_id.endswith("@example.com>")
    (post,) = webhook.received()
    assert post.json["event"] == "test"
    assert post.idempotency_key
    # without --to: the policy's team address
    ok(cli("notify", "test", env=at(TUE_1001)))
    assert smtp_env.mails[-1].rcpt_tos == [TEAM_EMAIL]
    # the test sends directly: nothing is put in the outbox
    assert outbox(cli, TUE_1001) == []


def test_notify_test_reports_an_smtp_server_that_is_down(
    cli: Cli, smtp_env: SmtpServer, webhook: WebhookServer, policy_file: Path
) -> None:
    team(cli, policy_file)
    smtp_env.stop()
    result = cli("notify", "test", "--to", "x@example.com", env=at(TUE_1000))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "test failed" in result.stderr


def test_notify_test_with_nothing_configured_is_invalid_usage(cli: Cli) -> None:
    result = cli("notify", "test", "--to", "x@example.com", env=at(TUE_1000))
    assert result.exit_code == 2
    assert "nothing to test" in result.stderr


def test_notify_log_rejects_an_unknown_status(cli: Cli) -> None:
    result = cli("notify", "log", "--status", "bogus", env=at(TUE_1000))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
