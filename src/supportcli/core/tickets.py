"""The vocabulary and rules of a ticket (docs/tickets.md): kinds, channels, statuses, transitions, targets.

Pure decisions only: which status an action leads to, which targets a
ticket gets and when they fall due (what each kind of target is, and what
meets it, is declared in ``core.targets``). The store applies them and
records the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from supportcli.core.targets import TARGET_NAMES, display_order
from supportcli.errors import InvalidInput, NotAllowed

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.durations import Duration
    from supportcli.core.policy import TargetRule

KINDS = ("enquiry", "request", "complaint", "compliment")
CHANNELS = (
    "phone",
    "chat",
    "email",
    "letter",
    "social",
    "sms",
    "in-person",
    "portal",
    "web-form",
    "voicemail",
)
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "acknowledged", "in-progress", "waiting", "resolved", "closed")
OPEN_STATUSES = ("new", "acknowledged", "in-progress", "waiting")


class TargetState(StrEnum):
    """The state of one service-level target."""

    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"
    PAUSED = "paused"


# action → (statuses it is allowed from, status it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "ack": (("new",), "acknowledged"),
    "update": (OPEN_STATUSES, None),
    "note": (STATUSES, None),
    "assign": ((*OPEN_STATUSES, "resolved"), None),
    "escalate": (OPEN_STATUSES, None),
    "wait": (("new", "acknowledged", "in-progress"), "waiting"),
    "resume": (("waiting",), "in-progress"),
    "extend": (OPEN_STATUSES, None),
    "resolve": (OPEN_STATUSES, "resolved"),
    "close": (("resolved", "waiting"), "closed"),
    "reopen": (("resolved", "closed"), "in-progress"),
    "feedback": (("resolved", "closed"), None),
}


def next_status(action: str, status: str) -> str:
    """The status after ``action``; NotAllowed (exit 4) names the current status when it cannot happen."""
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        allowed = ", ".join(allowed_from)
        raise NotAllowed(f"cannot {action} a ticket that is {status} (allowed when: {allowed})")
    if action == "update" and status in ("new", "acknowledged"):
        return "in-progress"
    return target or status


Choice = TypeVar("Choice", bound=str)
# A due time as next_pending compares it: an aware datetime, or the stored UTC text of one.
Due = TypeVar("Due", datetime, str)


def check_choice(value: str, allowed: tuple[Choice, ...], what: str) -> Choice:
    """Validate an enumerated value, listing the allowed ones in the error (exit 2).

    The allowed value is what is returned, so a tuple of ``Literal`` strings gives a value of that type."""
    normalised = value.strip().lower()
    for choice in allowed:
        if choice == normalised:
            return choice
    raise InvalidInput(f"unknown {what} {value!r} (allowed: {', '.join(allowed)})")


def check_tags(tags: Iterable[str]) -> list[str]:
    """Tags as stored: stripped, empty ones dropped; a comma is refused (tags are stored comma-separated)."""
    cleaned = [tag.strip() for tag in tags if tag.strip()]
    for tag in cleaned:
        if "," in tag:
            raise InvalidInput(f"a tag cannot contain a comma: {tag!r} (repeat --tag instead)")
    return cleaned


def check_email(address: str | None) -> str | None:
    """A customer e-mail address as ``log`` and ``edit`` store it: one address, as ``redact`` would find it.

    ``None`` or blank is no address. Checked with the pattern that finds addresses in texts
    (``core.privacy.EMAIL_PATTERN``), so every address stored is one that ``redact`` and ``purge`` recognise.
    """
    from supportcli.core.privacy import EMAIL_PATTERN

    if address is None or not address.strip():
        return None
    if not EMAIL_PATTERN.fullmatch(address.strip()):
        raise InvalidInput(f"bad e-mail address {address!r} (expected something like name@example.com)")
    return address.strip()


def check_phone(number: str | None, region: str | None) -> str | None:
    """A customer phone number as ``log`` and ``edit`` store it: as typed, if libphonenumber reads it as a number.

    ``region`` is the calendar's country, whose national forms (``07700 900123``) are accepted besides the
    international ones; ``None`` or blank is no number.
    """
    import phonenumbers

    if number is None or not number.strip():
        return None
    try:
        phonenumbers.parse(number.strip(), region or "ZZ")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"bad phone number {number!r} ({_phone_problem(exc.error_type)})") from exc
    return number.strip()


def _phone_problem(error_type: int) -> str:
    """What libphonenumber found wrong with a number, in words."""
    import phonenumbers

    problems = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return problems.get(error_type, "not a phone number")


def check_rating(rating: int) -> int:
    """A customer satisfaction rating is 1 to 5."""
    if not 1 <= rating <= 5:
        raise InvalidInput(f"rating must be 1 to 5, not {rating}")
    return rating


@dataclass(frozen=True)
class PlannedTarget:
    """A target as first computed for a new ticket."""

    name: str
    duration: Duration
    started_at: datetime
    due_at: datetime


@dataclass
class NewTicket:
    """What ``log`` was told about a new ticket."""

    subject: str
    body: str = ""
    kind: str = "enquiry"
    channel: str = "email"
    priority: str = "normal"
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    org: str | None = None
    category: str | None = None
    tags: Sequence[str] = ()
    owner: str | None = None
    received_at: datetime | None = None


def plan_targets(rule: TargetRule | None, calendar: WorkingCalendar, received_at: datetime) -> list[PlannedTarget]:
    """The targets of a ticket received at ``received_at`` under ``rule``, due times computed once."""
    if rule is None:
        return []
    return [
        PlannedTarget(name, rule.targets[name], received_at, calendar.due(received_at, rule.targets[name]))
        for name in TARGET_NAMES
        if name in rule.targets
    ]


def met_state(due_at: datetime, met_at: datetime) -> TargetState:
    """A target met after its due time counts as breached (met late)."""
    return TargetState.MET if met_at <= due_at else TargetState.BREACHED


def met_working_seconds(calendar: WorkingCalendar, received_at: float, met_at: float, paused_seconds: int) -> int:
    """Working seconds from a ticket's receipt to a target's being met (epoch seconds), less the time it was paused.

    Stored on the target when it is met (``Target.met_working_seconds``), so ``report`` reads its working times
    instead of working them out per ticket (README "Reports"); never negative.
    """
    return max(0, int(calendar.position(met_at) - calendar.position(received_at)) - paused_seconds)


def next_pending(targets: Iterable[tuple[str, str, Due | None]]) -> tuple[str, Due] | None:
    """The (name, due time) of the pending target that falls due first, from (name, state, due time) triples.

    Due times are datetimes, or stored UTC text (a dump import's rows), which sorts in time order too.

    Targets due together go to the earlier in ``TARGET_KINDS`` (acknowledge before resolve), whatever the
    order they come in. A ticket stores the result (``next_target``, ``next_due_at``) so listings read one row.
    """
    pending = [
        (due_at, display_order(name), name)
        for name, state, due_at in targets
        if state == "pending" and due_at is not None
    ]
    if not pending:
        return None
    due_at, _, name = min(pending)
    return name, due_at


def shown_state(state: str, due_at: datetime | None, now: datetime) -> TargetState:
    """The state people see: a pending target whose due time has passed is breached."""
    if state == TargetState.PENDING and due_at is not None and due_at < now:
        return TargetState.BREACHED
    return TargetState(state)


def tier_index(tiers: tuple[str, ...], text: str) -> int:
    """A tier given by name (any case) or number (0 = first); InvalidInput lists the tiers."""
    if text.strip().isdigit() and int(text) < len(tiers):
        return int(text)
    for index, name in enumerate(tiers):
        if name.casefold() == text.strip().casefold():
            return index
    raise InvalidInput(f"unknown tier {text!r} (tiers: {', '.join(tiers)})")


def tier_name(tiers: Sequence[str], tier: int) -> str:
    """A tier's name; its number when the policy has no such tier (a later version may have fewer)."""
    return tiers[tier] if 0 <= tier < len(tiers) else str(tier)


def format_working_time(seconds: float, day_length_seconds: int) -> str:
    """A countdown in working days and hours, e.g. ``1d 2h``, ``3h 20m``, ``overdue by 1d 2h``."""
    overdue = seconds < 0
    minutes = int(abs(seconds) // 60)
    day_minutes = max(1, day_length_seconds // 60)
    days, rest = divmod(minutes, day_minutes)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if mins and not days:
        parts.append(f"{mins}m")
    text = " ".join(parts) or "0m"
    return f"overdue by {text}" if overdue else text
