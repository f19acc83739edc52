"""Tickets as records for listings and JSON (the fields of docs/json.md), with countdowns."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from supportcli.core.calendar import WorkingCalendar
from supportcli.core.countdown import countdown_text, target_remaining_minutes
from supportcli.core.tickets import TargetState, shown_state, tier_name
from supportcli.store.models import Event, Target, Ticket


def local(value: datetime | None, calendar: WorkingCalendar) -> datetime | None:
    """An instant in the calendar's timezone (how every time is shown)."""
    return value.astimezone(calendar.zone) if value is not None else None


def remaining_minutes(target: Target, calendar: WorkingCalendar, now: datetime) -> int | None:
    """Working minutes left until a pending or paused target's due time; negative when overdue."""
    return target_remaining_minutes(calendar, now, target.state, target.due_at, target.paused_at)


def target_record(target: Target, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    """One target as docs/json.md describes it."""
    return {
        "name": target.name,
        "due_at": local(target.due_at, calendar),
        "met_at": local(target.met_at, calendar),
        "state": shown_state(target.state, target.due_at, now).value,
        "remaining_working_minutes": remaining_minutes(target, calendar, now),
        "duration": target.duration,
    }


def ticket_record(
    ticket: Ticket,
    targets: list[Target],
    calendar: WorkingCalendar,
    tiers: tuple[str, ...],
    now: datetime,
    covering: Collection[str] = (),
) -> dict[str, Any]:
    """A ticket with its targets, for ``show --json`` and ``list --json``; ``covering``: the absent owners the
    acting user covers for (``store.staff.covered_by``), whose tickets are marked ``cover``."""
    return {
        "id": ticket.id,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "kind": ticket.kind,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "owner": ticket.owner,
        "cover": ticket.owner is not None and ticket.owner in covering,
        "tier": ticket.tier,
        "tier_name": tier_name(tiers, ticket.tier),
        "org": ticket.org,
        "category": ticket.category,
        "tags": ticket.tag_list,
        "customer": {"name": ticket.customer_name, "email": ticket.customer_email, "phone": ticket.customer_phone},
        "watchers": ticket.watcher_list,
        "received_at": local(ticket.received_at, calendar),
        "logged_at": local(ticket.logged_at, calendar),
        "resolved_at": local(ticket.resolved_at, calendar),
        "closed_at": local(ticket.closed_at, calendar),
        "expected_by": local(ticket.expected_by, calendar),
        "expected_reason": ticket.expected_reason,
        "rating": ticket.rating,
        "policy_version": ticket.policy_version,
        "rule": ticket.rule_number,
        "targets": [target_record(target, calendar, now) for target in targets],
    }


def countdown(target: Target | None, calendar: WorkingCalendar, now: datetime) -> str:
    """Working time left as people read it: ``1d 2h``, ``overdue by 3h``, ``paused (2h left)``."""
    if target is None:
        return ""
    minutes = remaining_minutes(target, calendar, now)
    counting = target.due_at is not None and target.state in (TargetState.PENDING, TargetState.PAUSED)
    if minutes is None and not counting:
        return shown_state(target.state, target.due_at, now).value
    text = countdown_text(minutes, calendar.day_length_seconds)
    return f"paused ({text} left)" if target.state == TargetState.PAUSED else text


def urgency_style(target: Target | None, calendar: WorkingCalendar, now: datetime) -> str | None:
    """Red when breached, yellow when due today (local date), nothing otherwise."""
    if target is None or target.due_at is None or target.state != TargetState.PENDING:
        return None
    if target.due_at < now:
        return "red"
    if target.due_at.astimezone(calendar.zone).date() == now.astimezone(calendar.zone).date():
        return "yellow"
    return None


def event_record(event: Event, calendar: WorkingCalendar) -> dict[str, Any]:
    """A history event for JSON and the timeline."""
    return {
        "at": local(event.at, calendar),
        "actor": event.actor,
        "event": event.kind,
        "text": event.text,
        "data": json.loads(event.data) if event.data else {},
    }


def event_text(event: Event, calendar: WorkingCalendar) -> str:
    """What a history line says of an event: its text, or, for a field changed by ``edit``, old → new.

    An edit keeps the old and new values in the event's data rather than its text, so that the search
    index (which reads history texts) finds a corrected ticket by what it says now, not by what it said.
    """
    if event.kind != "edited" or not event.data:
        return event.text
    from supportcli.core.edits import describe_value

    data = json.loads(event.data)
    name = str(data.get("field", ""))

    def shown(value: Any) -> str:
        if name == "received" and isinstance(value, str):
            from supportcli.render.output import human_time

            return human_time(local(datetime.fromisoformat(value), calendar))
        return describe_value(name, value)

    return f"{name}: {shown(data.get('old'))} → {shown(data.get('new'))}"
