"""``edit``: correct or reclassify tickets, each change recorded in history, the targets re-planned.

Runs inside one write transaction (``Store.write``): several tickets are edited together or not at all.
A change of what the policy's rules match on, or of the received time, picks the rule again under the
ticket's own policy version and re-plans its targets from their clock start (docs/tickets.md,
"Correcting a ticket"); the search index and the phone key follow by themselves on flush
(``store.search``, ``store.lookups``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from supportcli.core.calendar import WorkingCalendar
from supportcli.core.durations import parse_duration
from supportcli.core.edits import FIELDS, FieldChange, FieldValue, TicketEdit, delayed_due, pause_delay
from supportcli.core.policy import Policy
from supportcli.core.targets import target_kind
from supportcli.core.tickets import TargetState, met_state, plan_targets
from supportcli.errors import InvalidInput
from supportcli.store.models import Event, Target, Ticket, encode_list
from supportcli.store.policies import PolicyBook
from supportcli.store.tickets import (
    Actor,
    changeable,
    check_in_order,
    mark_met,
    record,
    refresh_next_due,
    targets_of,
)


@dataclass
class EditOutcome:
    """What an edit did to one ticket: the ticket as it is now and the history events it recorded."""

    ticket: Ticket
    events: list[Event] = field(default_factory=list)


def edit_tickets(session: Session, ticket_ids: list[int], actor: Actor, edit: TicketEdit) -> list[EditOutcome]:
    """Apply one edit to each ticket, in order; any refusal (exit 2, 3 or 4) leaves every ticket unchanged."""
    if edit.is_empty:
        raise InvalidInput("nothing to change: give at least one of the options (see supportcli edit --help)")
    book = PolicyBook(session, actor.at.year)
    return [_edit_one(session, ticket_id, actor, edit, book) for ticket_id in dict.fromkeys(ticket_ids)]


def _edit_one(session: Session, ticket_id: int, actor: Actor, edit: TicketEdit, book: PolicyBook) -> EditOutcome:
    ticket = changeable(session, ticket_id)
    check_in_order(session, ticket, actor)
    current: dict[str, FieldValue] = {name: getattr(ticket, attribute) for name, attribute in FIELDS.items()}
    changes = edit.changes(current, ticket.tag_list)
    outcome = EditOutcome(ticket)
    if not changes:
        return outcome
    old_received = ticket.received_at
    for change in changes:
        _check(change, ticket)
        _apply(ticket, change)
        # The values go in the data, not the text, which the search index reads (render.tickets.event_text).
        event = record(
            session, ticket, actor, "edited", "", field=change.name, old=_stored(change.old), new=_stored(change.new)
        )
        outcome.events.append(event)
    targets = targets_of(session, ticket_id)
    if any(change.replans for change in changes):
        policy, calendar = book.get(ticket.policy_version)
        targets = _replan(session, ticket, targets, policy, calendar, old_received, actor, changes, outcome)
    refresh_next_due(ticket, targets)
    ticket.updated_at = actor.at
    session.add(ticket)
    for target in targets:
        session.add(target)
    session.flush()
    return outcome


def _check(change: FieldChange, ticket: Ticket) -> None:
    """A received time is never after the ticket was logged (docs/tickets.md, ``received_at``)."""
    if change.name == "received" and isinstance(change.new, datetime) and change.new > ticket.logged_at:
        raise InvalidInput(
            f"--received is after ticket #{ticket.id} was logged ({ticket.logged_at.isoformat()}); "
            "a contact is received before it is logged"
        )


def _apply(ticket: Ticket, change: FieldChange) -> None:
    if change.name == "tags":
        ticket.tags = encode_list(change.new if isinstance(change.new, list) else [])
    elif change.name == "body":
        ticket.body = str(change.new or "")
    else:
        setattr(ticket, FIELDS[change.name], change.new)


def _stored(value: FieldValue | list[str]) -> str | list[str] | None:
    """A value as the event's data keeps it (instants in ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _replan(
    session: Session,
    ticket: Ticket,
    targets: list[Target],
    policy: Policy,
    calendar: WorkingCalendar,
    old_received: datetime,
    actor: Actor,
    changes: list[FieldChange],
    outcome: EditOutcome,
) -> list[Target]:
    """Pick the rule again under the ticket's policy version and re-plan each target (docs/tickets.md).

    Met targets stay as they were met (on time or late); agreed update times stay agreed; a pending or
    paused target gets its new due time from its clock start, its waiting time still left out; a target
    the new rule drops goes, one it adds is planned. Each move is a history event saying why.
    """
    because = "; ".join(_reason(change) for change in changes if change.replans)
    rule = policy.rule_for(ticket.kind, ticket.channel, ticket.priority, ticket.org)
    number = rule.number if rule else None
    if number != ticket.rule_number:
        outcome.events.append(
            record(
                session,
                ticket,
                actor,
                "rule-changed",
                f"rule {ticket.rule_number or '-'} → rule {number or '-'}",
                rule=number,
                previous=ticket.rule_number,
            )
        )
        ticket.rule_number = number
    planned = {target.name: target for target in plan_targets(rule, calendar, ticket.received_at)}
    kept: list[Target] = []
    for target in targets:
        plan = planned.pop(target.name, None)
        if target.met_at is not None or target.source == "agreed":
            if plan is not None and target.source == "agreed" and target.duration != "agreed":
                target.duration = str(plan.duration)  # the next update after the agreed one follows the rule
            kept.append(target)
        elif plan is None:
            outcome.events.append(_removed(session, ticket, target, actor, number, because))
            session.delete(target)
        else:
            _move(session, ticket, target, str(plan.duration), calendar, old_received, actor, because, outcome)
            kept.append(target)
    for name, plan in planned.items():
        target = _added(session, ticket, name, str(plan.duration), calendar)
        due_at = plan.due_at if target.due_at is None else target.due_at
        outcome.events.append(
            record(
                session,
                ticket,
                actor,
                "target-added",
                f"{name} added: within {target.duration} under rule {number}, due {_shown(due_at, calendar)}"
                + (f", met {_shown(target.met_at, calendar)} ({target.state})" if target.met_at else ""),
                target=name,
                due_at=target.due_at,
                because=because,
            )
        )
        kept.append(target)
    return kept


def _reason(change: FieldChange) -> str:
    from supportcli.core.edits import describe_value

    return f"{change.name} {describe_value(change.name, change.old)} → {describe_value(change.name, change.new)}"


def _removed(session: Session, ticket: Ticket, target: Target, actor: Actor, number: int | None, because: str) -> Event:
    where = f"rule {number}" if number else "no rule"
    return record(
        session,
        ticket,
        actor,
        "target-removed",
        f"{target.name} removed: not a target under {where}",
        target=target.name,
        due_at=target.due_at,
        because=because,
    )


def _move(
    session: Session,
    ticket: Ticket,
    target: Target,
    duration_text: str,
    calendar: WorkingCalendar,
    old_received: datetime,
    actor: Actor,
    because: str,
    outcome: EditOutcome,
) -> None:
    """A pending or paused target's new due time from its clock start: the received time, or, for a recurring
    target restarted since, the update that restarted it; the working time it already waited stays added."""
    if target.due_at is None:
        return
    old_duration = parse_duration(target.duration)
    delay = pause_delay(calendar, target.started_at, old_duration, target.due_at)
    duration = parse_duration(duration_text)
    if old_duration.is_working_time != duration.is_working_time:
        delay = target.paused_working_seconds  # the other measure: the pauses' working time is what is known
    if target.started_at == old_received or not target_kind(target.name).recurring:
        target.started_at = ticket.received_at
    previous_due = target.due_at
    target.duration = duration_text
    target.due_at = delayed_due(calendar, target.started_at, duration, delay)
    if target.due_at == previous_due:
        return
    overdue = target.state == TargetState.PENDING and previous_due < actor.at
    note = (
        f"; it was overdue since {calendar.to_local(calendar.to_epoch(previous_due)):%Y-%m-%d %H:%M}" if overdue else ""
    )
    outcome.events.append(
        record(
            session,
            ticket,
            actor,
            "target-moved",
            f"{target.name} due {_shown(previous_due, calendar)} → {_shown(target.due_at, calendar)}{note}",
            target=target.name,
            previous=previous_due,
            due_at=target.due_at,
            was_overdue=overdue,
            because=because,
        )
    )


def _added(session: Session, ticket: Ticket, name: str, duration_text: str, calendar: WorkingCalendar) -> Target:
    """A target the new rule brings: planned from the received time (a recurring one from the last customer-facing
    update), with the waiting time already spent left out; met, paused or pending as the ticket now is."""
    started_at = ticket.received_at
    if target_kind(name).recurring:
        last_update = session.exec(
            select(Event.at).where(Event.ticket_id == ticket.id, Event.kind == "updated").order_by(col(Event.id).desc())
        ).first()
        started_at = max(started_at, last_update) if last_update is not None else started_at
    duration = parse_duration(duration_text)
    waited = _finished_waits(session, ticket, started_at)
    delay = sum(
        calendar.working_seconds_between(start, end) if duration.is_working_time else (end - start).total_seconds()
        for start, end in waited
    )
    due_at = delayed_due(calendar, started_at, duration, delay)
    target = Target(ticket_id=ticket.id or 0, name=name, duration=duration_text, started_at=started_at, due_at=due_at)
    target.paused_working_seconds = sum(calendar.working_seconds_between(start, end) for start, end in waited)
    finished = ticket.resolved_at or ticket.closed_at
    if ticket.status in ("resolved", "closed") and finished is not None:
        # Resolving (or closing) met every target the ticket had; one it gains now was met then too.
        mark_met(ticket, target, finished, met_state(due_at, finished), calendar)
    elif ticket.status == "waiting" and ticket.waiting_since is not None and due_at > ticket.waiting_since:
        target.state, target.paused_at = TargetState.PAUSED.value, ticket.waiting_since
    session.add(target)
    return target


def _finished_waits(session: Session, ticket: Ticket, started_at: datetime) -> list[tuple[datetime, datetime]]:
    """The ticket's finished waits on the customer after ``started_at``, from its history (waiting → resumed)."""
    rows = session.exec(
        select(Event.kind, Event.at)
        .where(Event.ticket_id == ticket.id, col(Event.kind).in_(("waiting", "resumed")))
        .order_by(col(Event.id))
    ).all()
    waits: list[tuple[datetime, datetime]] = []
    since: datetime | None = None
    for kind, at in rows:
        if kind == "waiting":
            since = at
        elif since is not None:
            if at > started_at:
                waits.append((max(since, started_at), at))
            since = None
    return waits


def _shown(instant: datetime, calendar: WorkingCalendar) -> str:
    return f"{calendar.to_local(calendar.to_epoch(instant)):%Y-%m-%d %H:%M}"
