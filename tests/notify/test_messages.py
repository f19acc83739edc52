"""The words of the cron run, from its events alone: each kind's notice, webhook payload and summary line.

No store and no servers: ``notify.messages`` is a pure function of ``core.automation`` facts. The cron-run
tests (tests/notify/test_cron_run.py) check the same words arrive through the real CLI, SMTP and HTTP.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from supportcli.core.automation import AutomationEvent, AutomationSummary, TicketSnapshot
from supportcli.core.durations import Duration, Unit
from supportcli.notify import messages
from supportcli.notify.delivery import DeliveryReport

SRC = Path(__file__).resolve().parents[2] / "src" / "supportcli"
BST = timezone(timedelta(hours=1))
NOW = datetime(2026, 6, 2, 13, 30, tzinfo=BST)
DUE = datetime(2026, 6, 1, 14, 0, tzinfo=BST)


TICKET = TicketSnapshot(7, "Line dead", "priya", 0, "Support", "new", "enquiry", "phone", "normal", "Acme")


def ticket(**changes: Any) -> TicketSnapshot:
    return replace(TICKET, **changes)


BREACH = AutomationEvent("breach", ticket(), NOW, "respond", DUE, overdue_working_minutes=450)
ESCALATION = AutomationEvent(
    "escalation",
    ticket(tier=1, tier_name="Customer Success Manager"),
    NOW,
    "resolve",
    DUE,
    overdue_working_minutes=450,
)
AUTO_CLOSE = AutomationEvent(
    "auto-close", ticket(status="closed", owner=None), NOW, no_reply_within=Duration(5, Unit.DAYS)
)
DUE_SOON = AutomationEvent("due-soon", ticket(), NOW, "respond", datetime(2026, 6, 2, 14, 0, tzinfo=BST))


@pytest.mark.parametrize(
    ("event", "subject", "body"),
    [
        (
            BREACH,
            "[#7] Breached: respond: Line dead",
            "Ticket #7: Line dead\nEvent: Breached: respond\nOwner: priya\nTier: Support\nStatus: new\n"
            "Due: 2026-06-01T14:00:00+01:00\nOverdue by 450 working minutes\n\nSee: supportcli show 7\n",
        ),
        (
            ESCALATION,
            "[#7] Escalated: resolve: Line dead",
            "Ticket #7: Line dead\nEvent: Escalated: resolve\nOwner: priya\nTier: Customer Success Manager\n"
            "Status: new\nDue: 2026-06-01T14:00:00+01:00\nOverdue by 450 working minutes\n\n"
            "See: supportcli show 7\n",
        ),
        (
            AUTO_CLOSE,
            "[#7] Closed automatically: Line dead",
            "Ticket #7: Line dead\nEvent: Closed automatically\nOwner: (unassigned)\nTier: Support\n"
            "Status: closed\n\nSee: supportcli show 7\n",
        ),
        (
            DUE_SOON,
            "[#7] Due soon: respond: Line dead",
            "Ticket #7: Line dead\nEvent: Due soon: respond\nOwner: priya\nTier: Support\nStatus: new\n"
            "Due: 2026-06-02T14:00:00+01:00\n\nSee: supportcli show 7\n",
        ),
    ],
    ids=["breach", "escalation", "auto-close", "due-soon"],
)
def test_each_event_kind_has_its_subject_and_body(event: AutomationEvent, subject: str, body: str) -> None:
    text = messages.notice(event)
    assert (text.subject, text.body) == (subject, body)
    assert text.payload == messages.webhook_payload(event)


def test_the_webhook_payload_names_the_event_the_ticket_and_local_times() -> None:
    assert messages.webhook_payload(ESCALATION) == {
        "event": "escalation",
        "ticket": {
            "id": 7,
            "subject": "Line dead",
            "owner": "priya",
            "tier": 1,
            "tier_name": "Customer Success Manager",
            "status": "new",
            "kind": "enquiry",
            "channel": "phone",
            "priority": "normal",
            "org": "Acme",
        },
        "target": "resolve",
        "due_at": "2026-06-01T14:00:00+01:00",
        "at": "2026-06-02T13:30:00+01:00",
    }
    closed = messages.webhook_payload(AUTO_CLOSE)
    assert (closed["event"], closed["target"], closed["due_at"]) == ("auto-close", None, None)
    assert (closed["ticket"]["owner"], closed["ticket"]["status"]) == (None, "closed")
    assert json.loads(json.dumps(closed)) == closed  # plain JSON, nothing for the outbox to stringify


def test_a_due_time_not_yet_passed_says_nothing_of_being_overdue() -> None:
    assert "Overdue" not in messages.notice(DUE_SOON).body


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (BREACH, "#7 respond breached (due 2026-06-01 14:00)"),
        (ESCALATION, "#7 escalated to Customer Success Manager"),
        (AUTO_CLOSE, "#7 closed: no reply within 5d"),
        (DUE_SOON, "#7 respond due 2026-06-02 14:00"),
    ],
    ids=["breach", "escalation", "auto-close", "due-soon"],
)
def test_each_event_kind_has_its_summary_line(event: AutomationEvent, line: str) -> None:
    assert messages.event_line(event) == line


def test_the_run_summary_lists_events_by_kind_then_the_counts() -> None:
    # met in this order in a run: a breach, its escalation, a warning, an auto-close, a second breach
    second = AutomationEvent("breach", ticket(id=9), NOW, "resolve", DUE, overdue_working_minutes=1)
    summary = AutomationSummary([BREACH, ESCALATION, DUE_SOON, AUTO_CLOSE, second], queued=12)
    report = DeliveryReport(sent=9, failed=2, dead=1, errors=["notice 3 to a@example.com: SMTP 451 later"])
    assert messages.run_summary(summary, report, waiting=2, smtp_configured=True) == [
        "#7 respond breached (due 2026-06-01 14:00)",
        "#9 resolve breached (due 2026-06-01 14:00)",
        "#7 escalated to Customer Success Manager",
        "#7 closed: no reply within 5d",
        "#7 respond due 2026-06-02 14:00",
        "2 new breach(es), 1 escalated, 1 auto-closed, 1 due-soon warning(s); "
        "notices: 12 queued, 9 sent, 2 failed (retried next run), 1 dead; 2 waiting",
    ]
    assert messages.delivery_failures(report) == [
        "supportcli: notice failed: notice 3 to a@example.com: SMTP 451 later"
    ]


def test_the_run_summary_says_when_another_run_delivers_and_when_there_is_no_smtp_server() -> None:
    lines = messages.run_summary(AutomationSummary(), DeliveryReport(busy=True), waiting=0, smtp_configured=False)
    assert lines == [
        "0 new breach(es), 0 escalated, 0 auto-closed, 0 due-soon warning(s); "
        "notices: 0 queued, 0 sent, 0 failed (retried next run), 0 dead; 0 waiting",
        "delivery: another run is sending notices; it will send these too",
        "e-mail: no SMTP server configured; only webhooks are sent",
    ]
    assert messages.delivery_failures(DeliveryReport()) == []


def test_the_dry_run_summary_says_what_would_happen_and_that_nothing_changed() -> None:
    assert messages.dry_run_summary(AutomationSummary([BREACH, AUTO_CLOSE], queued=5), waiting=3) == [
        "would: #7 respond breached (due 2026-06-01 14:00)",
        "would: #7 closed: no reply within 5d",
        "dry run: 1 new breach(es), 0 escalated, 1 auto-closed, 0 due-soon warning(s); "
        "5 notice(s) would be queued; 3 already waiting; nothing changed",
    ]


def test_notify_test_words() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert messages.NOTIFY_TEST_SUBJECT == "supportcli test message"
    assert messages.notify_test_body(now, "alice") == (
        "This is a test message from supportcli, sent 2026-11-24T10:00:00+00:00 by alice.\n"
    )
    assert messages.notify_test_payload(now) == b'{"event": "test", "at": "2026-11-24T10:00:00+00:00"}'


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return found | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_the_words_depend_only_on_core_and_the_automation_words_nothing() -> None:
    """The store may word a notice in its transaction only because messages imports no store (nor cli, render)."""
    ours = {name for name in _imported_modules(SRC / "notify" / "messages.py") if name.startswith("supportcli")}
    assert ours and all(name.startswith("supportcli.core.") for name in ours)
    automation = _imported_modules(SRC / "store" / "automation.py")
    assert not any(name.startswith(("supportcli.render", "supportcli.cli")) for name in automation)
