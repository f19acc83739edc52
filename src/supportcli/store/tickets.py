"""Ticket operations: each one loads, decides with core, writes the change and its history event.

Every function here runs inside one write transaction (``Store.write``) so a
change and its event are committed together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from supportcli.core.calendar import OutsideCalendarSpan, WorkingCalendar, calendar_for
from supportcli.core.durations import Duration, parse_duration
from supportcli.core.targets import RESOLVE, UPDATE, display_order, targets_met_by
from supportcli.core.tickets import (
    NewTicket,
    TargetState,
    met_state,
    met_working_seconds,
    next_pending,
    next_status,
    plan_targets,
)
from supportcli.errors import InvalidInput, NotAllowed, NotFound
from supportcli.store import policies
from supportcli.store.models import Event, Target, Ticket, encode_list


@dataclass
class Actor:
    """Who acts, and when the action happened: ``stated`` when a person gave that time (``--at``), rather than
    the clock (then clocks of machines sharing a store may differ by a little, and that is no one's mistake)."""

    name: str
    at: datetime
    stated: bool = False


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """A ticket by id, or NotFound (exit 3)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    return ticket


def targets_of(session: Session, ticket_id: int) -> list[Target]:
    """A ticket's targets in the order they usually fall due."""
    rows = session.exec(select(Target).where(Target.ticket_id == ticket_id)).all()
    return sorted(rows, key=lambda t: display_order(t.name))


def events_of(session: Session, ticket_id: int) -> list[Event]:
    """A ticket's history, oldest first."""
    return list(session.exec(select(Event).where(Event.ticket_id == ticket_id).order_by(col(Event.id))))


def record(session: Session, ticket: Ticket, actor: Actor, kind: str, text: str = "", **data: Any) -> Event:
    """Append a history event (the only way history is written)."""
    event = Event(
        ticket_id=ticket.id or 0,
        at=actor.at,
        actor=actor.name,
        kind=kind,
        text=text,
        data=json.dumps(data, default=str, sort_keys=True) if data else "",
    )
    session.add(event)
    return event


def refresh_next_due(ticket: Ticket, targets: Sequence[Target]) -> None:
    """Mirror the ticket's next pending target on the ticket row (every change of a target calls this)."""
    upcoming = next_pending((t.name, t.state, t.due_at) for t in targets)
    ticket.next_target, ticket.next_due_at = upcoming if upcoming else (None, None)


def _refresh(session: Session, ticket: Ticket, targets: list[Target], actor: Actor) -> None:
    refresh_next_due(ticket, targets)
    ticket.updated_at = actor.at
    session.add(ticket)
    for target in targets:
        session.add(target)


def log_ticket(session: Session, new: NewTicket, actor: Actor, default_owner: str | None = None) -> Ticket:
    """Create a ticket, choose its policy rule and store its targets' due times."""
    received_at = new.received_at or actor.at
    if received_at > actor.at:
        raise InvalidInput("--received is in the future")
    version_row = policies.version_for_ticket(session, received_at, actor.at)
    policy = policies.parsed(version_row)
    calendar = calendar_for(policy.calendar, actor.at.year)
    rule = policy.rule_for(new.kind, new.channel, new.priority, new.org)
    ticket = Ticket(
        subject=new.subject,
        body=new.body,
        kind=new.kind,
        channel=new.channel,
        priority=new.priority,
        customer_name=new.customer_name,
        customer_email=new.customer_email,
        customer_phone=new.customer_phone,
        org=new.org,
        category=new.category,
        tags=encode_list(new.tags),
        owner=new.owner or (rule.owner if rule else None) or default_owner,
        received_at=received_at,
        logged_at=actor.at,
        updated_at=actor.at,
        policy_version=version_row.version or 0,
        rule_number=rule.number if rule else None,
    )
    session.add(ticket)
    session.flush()
    targets = [
        Target(
            ticket_id=ticket.id or 0,
            name=planned.name,
            duration=str(planned.duration),
            started_at=planned.started_at,
            due_at=planned.due_at,
        )
        for planned in plan_targets(rule, calendar, received_at)
    ]
    record(
        session,
        ticket,
        actor,
        "logged",
        new.subject,
        policy_version=ticket.policy_version,
        rule=ticket.rule_number,
        received_at=received_at.isoformat(),
    )
    _refresh(session, ticket, targets, actor)
    return ticket


def _meet(
    ticket: Ticket, targets: list[Target], names: Collection[str], at: datetime, calendar: WorkingCalendar
) -> list[str]:
    met = []
    for target in targets:
        if target.name in names and target.state in (TargetState.PENDING, TargetState.PAUSED) and target.due_at:
            _unpause(target, calendar, at)
            mark_met(ticket, target, at, met_state(target.due_at, at), calendar)
            met.append(f"{target.name} {target.state}")
    return met


def mark_met(ticket: Ticket, target: Target, at: datetime, state: TargetState, calendar: WorkingCalendar) -> None:
    """The one place a target is met: its met time and state, and its working time from the ticket's receipt,
    which ``report`` reads instead of working it out for every ticket (README "Reports")."""
    target.met_at, target.state = at, state
    try:
        received = calendar.to_epoch(ticket.received_at)
    except OutsideCalendarSpan:
        # Received before the span of the calendar at hand: left for report to work out on its own calendar.
        target.met_working_seconds = None
        return
    target.met_working_seconds = met_working_seconds(
        calendar, received, calendar.to_epoch(at), target.paused_working_seconds
    )


def unmark_met(target: Target) -> None:
    """A met target counts again (reopened, or an update clock restarted): no met time, no working time."""
    target.met_at, target.met_working_seconds = None, None


def _unpause(target: Target, calendar: WorkingCalendar, at: datetime) -> None:
    """End a target's pause at ``at``: it gets the working time it had left, counted from ``at``."""
    if target.state != TargetState.PAUSED or target.paused_at is None or target.due_at is None:
        return
    target.due_at = calendar.resume_due(target.due_at, target.paused_at, at, _duration_or_hours(target.duration))
    target.paused_working_seconds += max(0, calendar.working_seconds_between(target.paused_at, at))
    target.state, target.paused_at = TargetState.PENDING, None


def changeable(session: Session, ticket_id: int) -> Ticket:
    """A ticket that may still change: NotFound (exit 3), or NotAllowed (exit 4) once purged."""
    ticket = get_ticket(session, ticket_id)
    if ticket.purged_at is not None:
        # Anonymised under the retention policy: adding to it would bring personal data back.
        raise NotAllowed(f"ticket #{ticket_id} was purged (retention) and can no longer change")
    return ticket


# Events that record a ticket's entry into the store, at the time it was typed in or imported: that may be
# later than what the history records (``log --received yesterday``, then ``ack --at yesterday``).
ENTRY_EVENTS = ("logged", "imported", "received-by-mail")


def _start(session: Session, ticket_id: int, action: str, actor: Actor) -> tuple[Ticket, list[Target], str]:
    """The start of every action on a ticket: it may change, the action is allowed now, and it keeps the
    history in order."""
    ticket = changeable(session, ticket_id)
    status = next_status(action, ticket.status)
    check_in_order(session, ticket, actor)
    return ticket, targets_of(session, ticket_id), status


def check_in_order(session: Session, ticket: Ticket, actor: Actor) -> None:
    """History stays in order (README, "Time words"): nothing is recorded before the ticket was received, nor
    at a stated time before its latest event, so a back-dated ``wait`` cannot hand back working time already
    spent. An action at the clock's now is never refused for an event a moment later (another machine's clock,
    the cron run)."""
    if actor.at < ticket.received_at:
        raise InvalidInput(f"--at is before ticket #{ticket.id} was received ({ticket.received_at.isoformat()})")
    if not actor.stated:
        return
    latest = session.exec(
        select(Event.kind, Event.at)
        .where(Event.ticket_id == ticket.id, col(Event.kind).not_in(ENTRY_EVENTS))
        .order_by(col(Event.at).desc())
        .limit(1)
    ).first()
    if latest is not None and actor.at < latest[1]:
        raise InvalidInput(
            f"--at is before ticket #{ticket.id}'s latest event ({latest[0]} at {latest[1].isoformat()}): "
            "its history is kept in order"
        )


def acknowledge(session: Session, ticket_id: int, actor: Actor, text: str = "") -> Ticket:
    """Acknowledge receipt: meets the acknowledge target."""
    ticket, targets, status = _start(session, ticket_id, "ack", actor)
    ticket.status = status
    calendar = policies.PolicyBook(session, actor.at.year).calendar(ticket.policy_version)
    met = _meet(ticket, targets, targets_met_by("ack"), actor.at, calendar)
    record(session, ticket, actor, "acknowledged", text, met=met)
    _refresh(session, ticket, targets, actor)
    return ticket


def add_update(
    session: Session, ticket_id: int, actor: Actor, text: str, internal: bool, next_at: datetime | None
) -> Ticket:
    """A progress note; a customer-facing one meets ``respond`` and restarts the ``update`` clock."""
    if not text.strip():
        raise InvalidInput("the update text is empty (-m TEXT)")
    if internal:
        if next_at is not None:
            raise InvalidInput("--next is agreed with the customer, so it needs a customer-facing update")
        ticket, _, _ = _start(session, ticket_id, "note", actor)
        record(session, ticket, actor, "note", text)
        ticket.updated_at = actor.at
        session.add(ticket)
        return ticket
    ticket, targets, status = _start(session, ticket_id, "update", actor)
    if next_at is not None and next_at <= actor.at:
        raise InvalidInput("--next must be later than the update")
    ticket.status = status
    calendar = policies.PolicyBook(session, actor.at.year).calendar(ticket.policy_version)
    met = _meet(ticket, targets, targets_met_by("update"), actor.at, calendar)
    _restart_update_clock(session, ticket, targets, calendar, actor, next_at)
    record(session, ticket, actor, "updated", text, met=met, next_update=next_at.isoformat() if next_at else None)
    _refresh(session, ticket, targets, actor)
    return ticket


def _restart_update_clock(
    session: Session,
    ticket: Ticket,
    targets: list[Target],
    calendar: WorkingCalendar,
    actor: Actor,
    next_at: datetime | None,
) -> None:
    target = next((t for t in targets if t.name == UPDATE.name), None)
    if target is None and next_at is None:
        return
    if target is not None and next_at is None and target.duration == "agreed":
        # Only an agreed time, no policy interval: this update meets it and nothing new falls due.
        _meet(ticket, [target], {UPDATE.name}, actor.at, calendar)
        return
    if target is None:
        target = Target(ticket_id=ticket.id or 0, name=UPDATE.name, duration="agreed", started_at=actor.at)
        targets.append(target)
    elif target.state == TargetState.PENDING and target.due_at and target.due_at < actor.at:
        record(session, ticket, actor, "target-breached", "update was late", target=UPDATE.name, due_at=target.due_at)
    target.started_at = actor.at
    unmark_met(target)
    target.source = "agreed" if next_at else "policy"
    if next_at is not None:
        target.due_at = next_at
    else:
        target.due_at = calendar.due(actor.at, parse_duration(target.duration))
    if ticket.status == "waiting":
        target.state, target.paused_at = TargetState.PAUSED, actor.at
    else:
        target.state, target.paused_at = TargetState.PENDING, None


def assign(session: Session, ticket_id: int, actor: Actor, owner: str | None) -> Ticket:
    """Change the single point of contact (docs/tickets.md: the owner)."""
    ticket, targets, _ = _start(session, ticket_id, "assign", actor)
    previous, ticket.owner = ticket.owner, owner
    record(session, ticket, actor, "assigned", owner or "(unassigned)", previous=previous, owner=owner)
    _refresh(session, ticket, targets, actor)
    return ticket


def escalate(
    session: Session, ticket_id: int, actor: Actor, tier: int | None, reason: str, tiers: Sequence[str]
) -> Ticket:
    """Move a ticket up one tier, or to a named tier; exit 4 at the top."""
    if not reason.strip():
        raise InvalidInput("--reason is required to escalate")
    ticket, targets, _ = _start(session, ticket_id, "escalate", actor)
    new_tier = ticket.tier + 1 if tier is None else tier
    if tier is None and ticket.tier >= len(tiers) - 1:
        raise NotAllowed(f"ticket #{ticket.id} is already at the top tier ({tiers[-1]})")
    if new_tier == ticket.tier:
        raise NotAllowed(f"ticket #{ticket.id} is already at tier {tiers[new_tier]}")
    if new_tier < ticket.tier:
        raise NotAllowed(
            f"ticket #{ticket.id} is at tier {tiers[ticket.tier]}, above {tiers[new_tier]}: escalation moves up"
        )
    previous, ticket.tier = ticket.tier, new_tier
    record(session, ticket, actor, "escalated", reason, tier=tiers[new_tier], previous=tiers[previous])
    _refresh(session, ticket, targets, actor)
    return ticket


def wait(session: Session, ticket_id: int, actor: Actor, text: str = "") -> Ticket:
    """Waiting on the customer: pending targets pause (their time left is kept)."""
    ticket, targets, status = _start(session, ticket_id, "wait", actor)
    ticket.status, ticket.waiting_since = status, actor.at
    paused = []
    for target in targets:
        if target.state == TargetState.PENDING and target.due_at and target.due_at > actor.at:
            target.state, target.paused_at = TargetState.PAUSED, actor.at
            paused.append(target.name)
    record(session, ticket, actor, "waiting", text, paused=paused)
    _refresh(session, ticket, targets, actor)
    return ticket


def resume(session: Session, ticket_id: int, actor: Actor, text: str = "") -> Ticket:
    """The customer replied: each paused target gets the working time it had left, from now."""
    ticket, targets, status = _start(session, ticket_id, "resume", actor)
    if ticket.waiting_since and actor.at < ticket.waiting_since:
        raise InvalidInput("--at is before the ticket started waiting")
    calendar = policies.PolicyBook(session, actor.at.year).calendar(ticket.policy_version)
    resumed = {}
    for target in targets:
        if target.state == TargetState.PAUSED and target.due_at is not None:
            _unpause(target, calendar, actor.at)
            resumed[target.name] = target.due_at.isoformat()
    waited = calendar.working_seconds_between(ticket.waiting_since or actor.at, actor.at)
    record(session, ticket, actor, "resumed", text, waited_working_seconds=waited, new_due=resumed)
    ticket.status, ticket.waiting_since = status, None
    _refresh(session, ticket, targets, actor)
    return ticket


def _duration_or_hours(text: str) -> Duration:
    # An agreed update time (``update --next``) has no duration; its time left is counted in working time.
    return parse_duration(text) if text != "agreed" else parse_duration("1wh")


def extend(session: Session, ticket_id: int, actor: Actor, until: datetime, reason: str) -> Ticket:
    """Record an expected completion beyond the target, with why; the target and any breach stay as they are."""
    if not reason.strip():
        raise InvalidInput("--reason is required to extend")
    ticket, targets, _ = _start(session, ticket_id, "extend", actor)
    if until <= actor.at:
        raise InvalidInput("--until must be in the future")
    resolve_target = next((t for t in targets if t.name == RESOLVE.name and t.due_at is not None), None)
    if resolve_target is not None and resolve_target.due_at is not None and until <= resolve_target.due_at:
        raise InvalidInput(
            f"--until is not beyond the resolve target (due {resolve_target.due_at.isoformat()}); "
            "extend records a completion later than the target"
        )
    previous = ticket.expected_by
    ticket.expected_by, ticket.expected_reason = until, reason
    record(session, ticket, actor, "extended", reason, until=until, previous=previous)
    _refresh(session, ticket, targets, actor)
    return ticket


def resolve(session: Session, ticket_id: int, actor: Actor, text: str) -> Ticket:
    """Resolve: meets every target still open."""
    if not text.strip():
        raise InvalidInput("say how it was resolved (-m TEXT)")
    ticket, targets, status = _start(session, ticket_id, "resolve", actor)
    ticket.status, ticket.resolved_at, ticket.waiting_since = status, actor.at, None
    calendar = policies.PolicyBook(session, actor.at.year).calendar(ticket.policy_version)
    met = _meet(ticket, targets, targets_met_by("resolve"), actor.at, calendar)
    record(session, ticket, actor, "resolved", text, met=met)
    _refresh(session, ticket, targets, actor)
    return ticket


def close(session: Session, ticket_id: int, actor: Actor, text: str = "", automatic: bool = False) -> Ticket:
    """Close a resolved ticket (or one left waiting on the customer)."""
    ticket, targets, status = _start(session, ticket_id, "close", actor)
    was_waiting = ticket.status == "waiting"
    ticket.status, ticket.closed_at, ticket.waiting_since = status, actor.at, None
    paused = [target for target in targets if target.state == TargetState.PAUSED] if was_waiting else []
    if paused:
        calendar = policies.PolicyBook(session, actor.at.year).calendar(ticket.policy_version)
        for target in paused:
            target.paused_at = None
            mark_met(ticket, target, actor.at, TargetState.MET, calendar)
    record(session, ticket, actor, "closed", text, automatic=automatic, was_waiting=was_waiting)
    _refresh(session, ticket, targets, actor)
    return ticket


def reopen(session: Session, ticket_id: int, actor: Actor, text: str) -> Ticket:
    """Reopen: the resolve target is pending again with its original due time; updates restart."""
    if not text.strip():
        raise InvalidInput("say why it is reopened (-m TEXT)")
    ticket, targets, status = _start(session, ticket_id, "reopen", actor)
    ticket.status, ticket.resolved_at, ticket.closed_at = status, None, None
    calendar = policies.PolicyBook(session, actor.at.year).calendar(ticket.policy_version)
    for target in targets:
        if target.name == RESOLVE.name:
            target.state = TargetState.PENDING
            unmark_met(target)
    _restart_update_clock(session, ticket, targets, calendar, actor, None)
    record(session, ticket, actor, "reopened", text)
    _refresh(session, ticket, targets, actor)
    return ticket


def customer_message(session: Session, ticket: Ticket, actor: Actor, text: str, **facts: Any) -> Event:
    """A message from the customer on an existing ticket (a reply by e-mail), recorded in its history.

    Every customer message is recorded here, so what one starts or meets is decided in one place.
    """
    event = record(session, ticket, actor, "customer-message", text, **facts)
    ticket.updated_at = actor.at
    session.add(ticket)
    return event


def add_feedback(session: Session, ticket_id: int, actor: Actor, rating: int, text: str = "") -> Ticket:
    """Customer satisfaction after resolution (1–5)."""
    ticket, targets, _ = _start(session, ticket_id, "feedback", actor)
    ticket.rating = rating
    record(session, ticket, actor, "feedback", text, rating=rating)
    _refresh(session, ticket, targets, actor)
    return ticket
