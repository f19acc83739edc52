"""Correcting a ticket (README "Correcting and finding tickets", docs/tickets.md "Correcting a ticket").

Pure decisions only: which fields ``edit`` may change, which of them re-plan the targets, what one edit
changes on one ticket (old → new, one change per field), and where a re-planned target now falls due
with the waiting time it already spent still left out. The store applies them and records the events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from supportcli.errors import InvalidInput

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.durations import Duration

FieldValue = str | datetime | None

# The fields ``edit`` changes: the name its option and history use → the ticket's attribute, in the
# order the changes are recorded.
FIELDS: dict[str, str] = {
    "subject": "subject",
    "body": "body",
    "kind": "kind",
    "channel": "channel",
    "priority": "priority",
    "org": "org",
    "category": "category",
    "name": "customer_name",
    "email": "customer_email",
    "phone": "customer_phone",
    "received": "received_at",
}
# What a ticket cannot be without: ``-`` does not clear these.
REQUIRED = frozenset({"subject", "kind", "channel", "priority", "received"})
# What the policy's rules match on (docs/policy.md), and the clock start: a change of one re-plans the targets.
REPLANNING = frozenset({"kind", "channel", "priority", "org", "received"})
TAGS = "tags"


@dataclass(frozen=True)
class FieldChange:
    """One field of one ticket changed by an edit: the name its option uses, the old and the new value."""

    name: str
    old: FieldValue | list[str]
    new: FieldValue | list[str]

    @property
    def replans(self) -> bool:
        """Whether the change moves the targets (a field the rules match on, or the received time)."""
        return self.name in REPLANNING


@dataclass(frozen=True)
class TicketEdit:
    """What ``edit`` was told to change, the same for every ticket it names.

    ``values`` maps a name of ``FIELDS`` to its new value (None: cleared); tags are added and removed.
    """

    values: Mapping[str, FieldValue] = field(default_factory=dict)
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()

    def __post_init__(self) -> None:
        for name, value in self.values.items():
            if name not in FIELDS:
                raise ValueError(f"not an editable field: {name}")
            if value is None and name in REQUIRED:
                raise InvalidInput(f"--{name} cannot be cleared: a ticket always has one")
        both = sorted(set(self.add_tags) & set(self.remove_tags))
        if both:
            raise InvalidInput(f"tag {both[0]!r} is both added and removed")

    @property
    def is_empty(self) -> bool:
        """Nothing asked for: ``edit`` refuses it rather than record nothing."""
        return not self.values and not self.add_tags and not self.remove_tags

    def changes(self, current: Mapping[str, FieldValue], tags: Sequence[str]) -> list[FieldChange]:
        """The changes this edit makes to a ticket whose fields (by ``FIELDS`` name) and tags are these.

        A value equal to the current one is no change, so it is neither recorded nor re-planned.
        """
        found = [
            FieldChange(name, current.get(name), value)
            for name, value in self.values.items()
            if current.get(name) != value
        ]
        found.sort(key=lambda change: list(FIELDS).index(change.name))
        new_tags = [tag for tag in tags if tag not in self.remove_tags]
        new_tags += [tag for tag in dict.fromkeys(self.add_tags) if tag not in new_tags]
        if new_tags != list(tags):
            found.append(FieldChange(TAGS, list(tags), new_tags))
        return found


def pause_delay(calendar: WorkingCalendar, started_at: datetime, duration: Duration, due_at: datetime) -> float:
    """How much later than planned a target falls due because it was paused (the ticket waited on the customer).

    Working seconds for a working-time duration, elapsed seconds otherwise: what ``resume`` added to it,
    found as the distance from the due time its start and duration give to the one it has.
    """
    planned = calendar.due(started_at, duration)
    if duration.is_working_time:
        delay = calendar.position(calendar.to_epoch(due_at)) - calendar.position(calendar.to_epoch(planned))
    else:
        delay = calendar.to_epoch(due_at) - calendar.to_epoch(planned)
    return max(0.0, delay)


def delayed_due(calendar: WorkingCalendar, started_at: datetime, duration: Duration, delay: float) -> datetime:
    """The due time of a target started at ``started_at`` that was paused for ``delay`` (see ``pause_delay``)."""
    due = calendar.due(started_at, duration)
    if delay <= 0:
        return due
    if duration.is_working_time:
        return calendar.to_local(calendar.instant_at(calendar.position(calendar.to_epoch(due)) + delay))
    return due + timedelta(seconds=delay)


def describe_value(name: str, value: FieldValue | list[str]) -> str:
    """A field's value as a history line shows it: ``(none)`` for nothing, tags comma-separated."""
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or value == "":
        return "(none)"
    if name == "body":
        return f"{len(value)} characters"
    return repr(value) if name in ("subject", "name") else value
