"""The cron run's automation (docs/cron.md): notice breaches, escalate, auto-close, warn — each once.

Everything here runs in one write transaction: each action is recorded with a
unique mark and its notices are enqueued in the same transaction, so a crash
loses nothing and a second run repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlmodel import Session, col, select

from supportcli.core.automation import AutomationEvent, AutomationSummary, EventKind, TicketSnapshot
from supportcli.core.calendar import calendar_for
from supportcli.core.durations import Duration
from supportcli.core.targets import target_kind
from supportcli.core.tickets import OPEN_STATUSES, TargetState
from supportcli.notify import messages
from supportcli.store import outbox
from supportcli.store.models import AutomationMark, Target, Ticket
from supportcli.store.policies import PolicyBook
from supportcli.store.queries import breached_statement
from supportcli.store.tickets import Actor, close, escalate

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.policy import Policy

AUTOMATION_ACTOR = "supportcli"
MARK_BATCH_ROWS = 5000


@dataclass
class Channels:
    """Where notices can go in this run."""

    email: bool
    sender: str
    domain: str


class DueTarget(NamedTuple):
    """What the automation reads of a target (no ORM object): whose, which, and when it falls due."""

    ticket_id: int
    name: str
    due_at: datetime | None


class _Run:
    """What one automation run reuses: policies by version, and the marks already taken."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.policies = PolicyBook(session, now.year)
        self._known_marks: set[str] = set()
        self._checked_marks: set[str] = set()
        self._new_marks: list[dict[str, object]] = []
        self._changed: dict[int, Ticket] = {}  # tickets this run escalated, not yet flushed

    def tickets(self, ids: list[int]) -> dict[int, TicketFacts | Ticket]:
        """The facts of these tickets as this run leaves them (a ticket it escalated, as escalated)."""
        found = ticket_facts(self.session, ids)
        found.update((ticket_id, ticket) for ticket_id, ticket in self._changed.items() if ticket_id in found)
        return found

    def outside_span(self, summary: AutomationSummary, ticket_id: int, version: int, instant: datetime) -> bool:
        """Whether a stored time of a ticket lies beyond its calendar's span, so nothing can be counted from it:
        then the ticket is skipped this run, with a line in the summary saying why (docs/cron.md)."""
        calendar = self.policies.calendar(version)
        if calendar.covers(instant):
            return False
        summary.skipped.append(
            f"#{ticket_id} skipped: {instant.astimezone(calendar.zone).isoformat()} is outside the working "
            f"calendar's span {calendar.span}"
        )
        return True

    def changed(self, ticket: Ticket) -> None:
        """Remember a ticket this run changed, for what it reads of it later."""
        self._changed[ticket.id or 0] = ticket

    def load_marks(self, keys: list[str]) -> None:
        """Learn in a few queries which of these actions were already taken."""
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            self._known_marks.update(
                self.session.exec(select(AutomationMark.key).where(col(AutomationMark.key).in_(chunk)))
            )
            self._checked_marks.update(chunk)

    def mark(self, key: str, ticket_id: int | None) -> bool:
        """Record an automatic action once; False when it was already taken."""
        if key in self._known_marks:
            return False
        # The write lock is held for the whole run, so a key already looked up cannot have appeared since.
        taken = key not in self._checked_marks and (
            self.session.exec(select(AutomationMark.id).where(AutomationMark.key == key)).first() is not None
        )
        self._known_marks.add(key)
        if taken:
            return False
        self._new_marks.append({"key": key, "ticket_id": ticket_id, "at": self.now})
        return True

    def write_marks(self) -> None:
        """Insert the marks of this run's actions in a few statements (one ORM object each cost a quarter of
        a run that meets thirty thousand new breaches); the caller's transaction commits them with the rest."""
        from sqlalchemy import insert

        connection = self.session.connection()
        for start in range(0, len(self._new_marks), MARK_BATCH_ROWS):
            connection.execute(insert(AutomationMark), self._new_marks[start : start + MARK_BATCH_ROWS])
        self._new_marks.clear()


def run_automation(session: Session, now: datetime, channels: Channels) -> AutomationSummary:
    """Apply breaches, escalations, auto-closes and due-soon warnings; enqueue one notice per event.

    Returns the events as facts (``core.automation``): the caller words nothing itself, it prints
    what ``notify.messages`` makes of them.
    """
    summary = AutomationSummary()
    run = _Run(session, now)
    # Everything added here is flushed once, at commit; the run keeps track of its own marks and notices.
    with session.no_autoflush:
        _breaches(run, channels, summary)
        _auto_close(run, channels, summary)
        _due_soon(run, channels, summary)
        run.write_marks()
    return summary


def _breach_key(target: Target | DueTarget) -> str:
    return f"breach:{target.ticket_id}:{target.name}:{target.due_at.isoformat() if target.due_at else ''}"


class TicketFacts(NamedTuple):
    """What the automation reads of a ticket to decide and to word its notices (no ORM object)."""

    id: int
    subject: str
    owner: str | None
    tier: int
    status: str
    kind: str
    channel: str
    priority: str
    org: str | None
    policy_version: int
    rule_number: int | None


def ticket_facts(session: Session, ids: list[int]) -> dict[int, TicketFacts | Ticket]:
    """Many tickets' facts in a few queries, rather than one per target; a whole ticket is loaded only to
    change it (a first run on a large store meets tens of thousands of breaches)."""
    columns = [col(getattr(Ticket, name)) for name in TicketFacts._fields]
    found: dict[int, TicketFacts | Ticket] = {}
    unique = sorted(set(ids))
    connection = session.connection()
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for row in connection.execute(select(*columns).where(col(Ticket.id).in_(chunk))):
            found[row[0]] = TicketFacts(*row)
    return found


def _breaches(run: _Run, channels: Channels, summary: AutomationSummary) -> None:
    session, now = run.session, run.now
    # Only the three columns a breach key needs, as plain rows: in the steady state every breach is known.
    columns = breached_statement(now).with_only_columns(col(Target.ticket_id), col(Target.name), col(Target.due_at))
    rows = [DueTarget(*row) for row in session.connection().execute(columns)]
    keys = [_breach_key(target) for target in rows]
    run.load_marks(keys)
    rows = [target for target, key in zip(rows, keys, strict=True) if key not in run._known_marks]
    tickets = run.tickets([target.ticket_id for target in rows])
    for target in rows:
        key = _breach_key(target)
        ticket = tickets.get(target.ticket_id)
        if ticket is None or ticket.status not in OPEN_STATUSES or target.due_at is None:
            continue
        if run.outside_span(summary, target.ticket_id, ticket.policy_version, target.due_at):
            continue
        if not run.mark(key, ticket.id):
            continue
        policy, _ = run.policies.get(ticket.policy_version)
        _notify(run, key, "breach", ticket, target, channels, summary)
        rule = next((r for r in policy.rules if r.number == ticket.rule_number), None)
        if target_kind(target.name).escalates_on_breach and rule is not None and rule.escalate_on_breach:
            escalated = _escalate(run, ticket, target, channels, summary, policy.tiers)
            if escalated is not None:
                run.changed(escalated)
                tickets[target.ticket_id] = escalated  # its later notices in this run name the new tier


def _escalate(
    run: _Run,
    ticket: TicketFacts | Ticket,
    target: Target | DueTarget,
    channels: Channels,
    summary: AutomationSummary,
    tiers: tuple[str, ...],
) -> Ticket | None:
    """Move a ticket up one tier once for this breach; the escalated ticket, or None when nothing was done."""
    key = f"escalate:{ticket.id}:{target.name}:{target.due_at.isoformat() if target.due_at else ''}"
    if ticket.tier >= len(tiers) - 1 or not run.mark(key, ticket.id):
        return None
    reason = f"{target.name} target breached"
    escalated = escalate(run.session, ticket.id or 0, Actor(AUTOMATION_ACTOR, run.now), None, reason, tiers)
    _notify(run, key, "escalation", escalated, target, channels, summary, new_tier=escalated.tier)
    return escalated


def _auto_close(run: _Run, channels: Channels, summary: AutomationSummary) -> None:
    session, now = run.session, run.now
    # Three columns decide; a whole ticket is loaded only to close it.
    statement = select(col(Ticket.id), col(Ticket.policy_version), col(Ticket.waiting_since)).where(
        Ticket.status == "waiting", col(Ticket.waiting_since).is_not(None)
    )
    for ticket_id, version, waiting_since in list(session.connection().execute(statement)):
        if ticket_id is None or waiting_since is None:  # never: stored tickets have ids; the query wants the time
            continue
        policy = run.policies.policy(version)
        after = policy.automation.auto_close_waiting_after
        if after is None or (after.is_working_time and run.outside_span(summary, ticket_id, version, waiting_since)):
            continue
        if _waited_until(waiting_since, after, policy, now) > now:
            continue
        key = f"auto-close:{ticket_id}:{waiting_since.isoformat()}"
        if not run.mark(key, ticket_id):
            continue
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        close(session, ticket_id, Actor(AUTOMATION_ACTOR, now), f"no reply from the customer within {after}", True)
        _notify(run, key, "auto-close", ticket, None, channels, summary, no_reply_within=after)


def _waited_until(since: datetime, after: Duration, policy: Policy, now: datetime) -> datetime:
    if after.is_working_time:
        return calendar_for(policy.calendar, now.year).due(since, after)
    return after.add_elapsed(since)


def _due_soon(run: _Run, channels: Channels, summary: AutomationSummary) -> None:
    session, now = run.session, run.now
    horizon = _warning_horizon(run)
    if horizon is None:
        return
    soon = (
        select(col(Target.ticket_id), col(Target.name), col(Target.due_at), col(Ticket.policy_version))
        .join(Ticket, col(Ticket.id) == col(Target.ticket_id))
        .where(Target.state == TargetState.PENDING, col(Target.due_at) > now, col(Target.due_at) <= horizon)
        .order_by(col(Target.due_at), col(Target.id))
    )
    warn_from: dict[int, datetime | None] = {}  # per policy version: the latest due time to warn of
    due: list[tuple[DueTarget, str]] = []
    for ticket_id, name, due_at, version in list(session.connection().execute(soon)):
        if version not in warn_from:
            policy, calendar = run.policies.get(version)
            warn = policy.automation.warn_before
            warn_from[version] = None if warn is None else _warn_from(now, warn, calendar)
        latest = warn_from[version]
        if latest is None or due_at is None or due_at > latest:  # due_at is never None: the query wants it > now
            continue
        due.append((DueTarget(ticket_id, name, due_at), f"due-soon:{ticket_id}:{name}:{due_at.isoformat()}"))
    # In the steady state every warning was given on an earlier run: learn that in a few queries.
    run.load_marks([key for _, key in due])
    due = [(target, key) for target, key in due if key not in run._known_marks]
    tickets = run.tickets([target.ticket_id for target, _ in due])
    for target, key in due:
        ticket = tickets.get(target.ticket_id)
        if ticket is None or not run.mark(key, ticket.id):
            continue
        _notify(run, key, "due-soon", ticket, target, channels, summary)


def _warn_from(now: datetime, warn: Duration, calendar: WorkingCalendar) -> datetime:
    """The latest due time that is within ``warn`` of now (working time counted on the calendar)."""
    return calendar.due(now, warn) if warn.is_working_time else warn.add_elapsed(now)


def _warning_horizon(run: _Run) -> datetime | None:
    """How far ahead to look for due-soon targets: the widest warning of the policies in use."""
    from supportcli.store.policies import all_versions, parsed

    horizons = []
    for row in all_versions(run.session):
        policy = parsed(row)
        if policy.automation.warn_before is not None:
            calendar = calendar_for(policy.calendar, run.now.year)
            horizons.append(_warn_from(run.now, policy.automation.warn_before, calendar))
    return max(horizons) if horizons else None


def _notify(
    run: _Run,
    key: str,
    kind: EventKind,
    ticket: Ticket | TicketFacts,
    target: Target | DueTarget | None,
    channels: Channels,
    summary: AutomationSummary,
    new_tier: int | None = None,
    no_reply_within: Duration | None = None,
) -> None:
    """Record the event in the summary and enqueue its notice for each recipient, worded now: the outbox
    keeps the words it will send, in the same transaction as the action."""
    from supportcli.store.staff import email_of, responsible_for, staff_at_tier

    session, now = run.session, run.now
    policy, calendar = run.policies.get(ticket.policy_version)
    addresses: list[str] = []
    if channels.email:
        owner = responsible_for(session, ticket.owner, now)
        # An owner outside the staff directory may be written as an e-mail address.
        candidates = [email_of(session, owner) or (owner if "@" in owner else None)] if owner else []
        if new_tier is not None:  # the new tier's staff, or their covers while they are away
            for member in staff_at_tier(session, new_tier):
                responsible = responsible_for(session, member.name, now)
                candidates.append(email_of(session, responsible) if responsible else member.email)
        candidates.append(policy.notify.team_email or None)
        addresses = list(dict.fromkeys(a for a in candidates if a))
    webhook = policy.notify.webhook_url
    notified = bool(addresses or webhook)
    event = _event(kind, ticket, target, now, policy.tiers, calendar, no_reply_within, notified)
    summary.events.append(event)
    if not notified:
        return  # nowhere to send it: the message is not even written
    words = messages.notice(event)
    message = outbox.Message(
        kind, event.ticket.id, event.target, event.due_at, words.subject, words.body, words.payload
    )
    for address in addresses:
        summary.queued += outbox.enqueue(session, key, message, "email", address, now, channels.domain)
    if webhook:
        summary.queued += outbox.enqueue(session, key, message, "webhook", webhook, now, channels.domain)


def _event(
    kind: EventKind,
    ticket: Ticket | TicketFacts,
    target: Target | DueTarget | None,
    now: datetime,
    tiers: tuple[str, ...],
    calendar: WorkingCalendar,
    no_reply_within: Duration | None,
    notified: bool,
) -> AutomationEvent:
    """The facts of one event, times in the calendar's timezone (how every time is shown).

    How late a breach is counts working time: only a notice says it, so it is counted only for an event
    that has one (a first run over a large store meets tens of thousands of breaches).
    """
    due_at = target.due_at if target is not None else None
    overdue = None
    if notified and due_at is not None and due_at < now:
        overdue = -calendar.remaining_seconds(now, due_at) // 60
    snapshot = TicketSnapshot(
        id=ticket.id or 0,
        subject=ticket.subject,
        owner=ticket.owner,
        tier=ticket.tier,
        tier_name=tiers[ticket.tier] if ticket.tier < len(tiers) else str(ticket.tier),
        status=ticket.status,
        kind=ticket.kind,
        channel=ticket.channel,
        priority=ticket.priority,
        org=ticket.org,
    )
    return AutomationEvent(
        kind,
        snapshot,
        at=now.astimezone(calendar.zone),
        target=target.name if target is not None else None,
        due_at=due_at.astimezone(calendar.zone) if due_at is not None else None,
        overdue_working_minutes=overdue,
        no_reply_within=no_reply_within,
    )
