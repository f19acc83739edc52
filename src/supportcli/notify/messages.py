"""Every word the cron run and ``notify test`` send or print: notices, webhook payloads, the summary.

Pure functions of core facts (``core.automation``), importing only core, so the store can word a
notice in the same transaction as the action that causes it (the outbox keeps the words it will
send) and the CLI can print the summary, without either writing a sentence of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from supportcli.core.automation import EVENT_KINDS, AutomationEvent, AutomationSummary, EventKind

EVENT_TITLES: dict[EventKind, str] = {
    "breach": "Breached",
    "escalation": "Escalated",
    "auto-close": "Closed automatically",
    "due-soon": "Due soon",
}

NOTIFY_TEST_SUBJECT = "supportcli test message"


class DeliveryCounts(Protocol):
    """What one delivery reports (``notify.delivery.DeliveryReport``), named here so this module needs no store."""

    sent: int
    failed: int
    dead: int
    errors: list[str]
    busy: bool


@dataclass(frozen=True, slots=True)
class NoticeText:
    """What a notice says: an e-mail's subject and body, and the JSON a webhook receives."""

    subject: str
    body: str
    payload: dict[str, Any]


def notice(event: AutomationEvent) -> NoticeText:
    """The notice of one event, the same for every recipient (``#ID`` in the subject, for replies)."""
    ticket = event.ticket
    title = EVENT_TITLES[event.kind]
    what = f"{title}: {event.target}" if event.target else title
    lines = [
        f"Ticket #{ticket.id}: {ticket.subject}",
        f"Event: {what}",
        f"Owner: {ticket.owner or '(unassigned)'}",
        f"Tier: {ticket.tier_name}",
        f"Status: {ticket.status}",
    ]
    if event.due_at is not None:
        lines.append(f"Due: {event.due_at.isoformat()}")
        if event.overdue_working_minutes is not None:
            lines.append(f"Overdue by {event.overdue_working_minutes} working minutes")
    lines += ["", f"See: supportcli show {ticket.id}"]
    return NoticeText(f"[#{ticket.id}] {what}: {ticket.subject}", "\n".join(lines) + "\n", webhook_payload(event))


def webhook_payload(event: AutomationEvent) -> dict[str, Any]:
    """The JSON document one webhook POST carries for an event (the README's cron section lists its fields)."""
    ticket = event.ticket
    return {
        "event": event.kind,
        "ticket": {
            "id": ticket.id,
            "subject": ticket.subject,
            "owner": ticket.owner,
            "tier": ticket.tier,
            "tier_name": ticket.tier_name,
            "status": ticket.status,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "priority": ticket.priority,
            "org": ticket.org,
        },
        "target": event.target,
        "due_at": event.due_at.isoformat() if event.due_at else None,
        "at": event.at.isoformat(),
    }


def event_line(event: AutomationEvent) -> str:
    """One line of the cron summary for an event."""
    ticket = event.ticket
    if event.kind == "escalation":
        return f"#{ticket.id} escalated to {ticket.tier_name}"
    if event.kind == "auto-close":
        return f"#{ticket.id} closed: no reply within {event.no_reply_within}"
    due = f"{event.due_at:%Y-%m-%d %H:%M}"
    if event.kind == "breach":
        return f"#{ticket.id} {event.target} breached (due {due})"
    return f"#{ticket.id} {event.target} due {due}"


def _event_lines(summary: AutomationSummary, prefix: str = "") -> list[str]:
    return [f"{prefix}{event_line(event)}" for kind in EVENT_KINDS for event in summary.of(kind)]


def _counts(summary: AutomationSummary) -> str:
    breaches, escalations, closures, warnings = (len(summary.of(kind)) for kind in EVENT_KINDS)
    return (
        f"{breaches} new breach(es), {escalations} escalated, {closures} auto-closed, {warnings} due-soon warning(s); "
    )


def dry_run_summary(summary: AutomationSummary, waiting: int) -> list[str]:
    """What ``overdue --notify --dry-run`` prints: what would happen, and that nothing changed."""
    return [
        *_event_lines(summary, "would: "),
        f"dry run: {_counts(summary)}{summary.queued} notice(s) would be queued; {waiting} already waiting; "
        "nothing changed",
    ]


def run_summary(summary: AutomationSummary, report: DeliveryCounts, waiting: int, smtp_configured: bool) -> list[str]:
    """What a cron run prints on stdout for cron's mail: each event, then the counts, then any caveats."""
    lines = [
        *_event_lines(summary),
        f"{_counts(summary)}notices: {summary.queued} queued, {report.sent} sent, {report.failed} failed "
        f"(retried next run), {report.dead} dead; {waiting} waiting",
    ]
    if report.busy:
        lines.append("delivery: another run is sending notices; it will send these too")
    if not smtp_configured:
        lines.append("e-mail: no SMTP server configured; only webhooks are sent")
    return lines


def skipped_tickets(summary: AutomationSummary) -> list[str]:
    """One stderr line per ticket the run left alone (a stored time it cannot count from, docs/cron.md)."""
    return [f"supportcli: warning: {line}" for line in summary.skipped]


def delivery_failures(report: DeliveryCounts) -> list[str]:
    """One stderr line per notice that failed in this run."""
    return [f"supportcli: notice failed: {error}" for error in report.errors]


def notify_test_body(now: datetime, actor: str) -> str:
    """The body of ``notify test``'s e-mail (its subject is ``NOTIFY_TEST_SUBJECT``)."""
    return f"This is a test message from supportcli, sent {now.isoformat()} by {actor}.\n"


def notify_test_payload(now: datetime) -> bytes:
    """The JSON ``notify test`` posts to the webhook."""
    return json.dumps({"event": "test", "at": now.isoformat()}).encode()
