"""What the cron run's automation did, as facts: one event per breach, escalation, auto-close or warning.

The store decides and records these; ``notify.messages`` words them (the notices and the summary
the run prints). Times are already in the ticket's calendar timezone, how every time is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from supportcli.core.durations import Duration

EventKind = Literal["breach", "escalation", "auto-close", "due-soon"]

# The order the summary lists events in: every breach, then every escalation, closure and warning.
EVENT_KINDS: tuple[EventKind, ...] = ("breach", "escalation", "auto-close", "due-soon")


@dataclass(frozen=True, slots=True)
class TicketSnapshot:
    """The ticket as it stood when the event happened (an escalation's: already at its new tier)."""

    id: int
    subject: str
    owner: str | None
    tier: int
    tier_name: str
    status: str
    kind: str
    channel: str
    priority: str
    org: str | None


@dataclass(frozen=True, slots=True)
class AutomationEvent:
    """One thing the automation did or noticed, with every fact its notice and summary line need."""

    kind: EventKind
    ticket: TicketSnapshot
    at: datetime  # the run's now
    target: str | None = None  # None for an auto-close
    due_at: datetime | None = None
    overdue_working_minutes: int | None = None  # when the due time has passed (counted only for a notice)
    no_reply_within: Duration | None = None  # an auto-close: the waiting period that ran out


@dataclass
class AutomationSummary:
    """What one run did (or, in a dry run, would do): its events in the order met, and notices queued."""

    events: list[AutomationEvent] = field(default_factory=list)
    queued: int = 0
    # Tickets left alone because a stored time lies outside the working calendar's span: one line each,
    # said on stderr, so one odd ticket never stops the run for the rest (docs/cron.md).
    skipped: list[str] = field(default_factory=list)

    def of(self, kind: EventKind) -> list[AutomationEvent]:
        """The events of one kind, in the order the run met them."""
        return [event for event in self.events if event.kind == kind]
