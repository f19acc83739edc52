"""Rows of a spreadsheet (CSV) turned into new tickets: the documented columns and their validation.

Pure: a row is checked against the same vocabularies and messages as ``log``,
and every problem is reported as ``line N: column: why`` so a team can fix
its spreadsheet in one go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES, STATUSES, NewTicket, check_choice
from supportcli.errors import InvalidInput

# The columns a CSV import understands, in the order the help lists them.
CSV_COLUMNS: dict[str, str] = {
    "subject": "required: one line saying what the contact is about",
    "body": "full text",
    "kind": f"one of {', '.join(KINDS)} (default enquiry)",
    "channel": f"one of {', '.join(CHANNELS)} (default email)",
    "priority": f"one of {', '.join(PRIORITIES)} (default normal)",
    "name": "customer name",
    "email": "customer e-mail",
    "phone": "customer phone",
    "org": "client organisation",
    "category": "for analysis of complaints and feedback",
    "tags": "separated by ;",
    "owner": "single point of contact",
    "received_at": "ISO 8601 (naive = the calendar's timezone; default: now)",
    "status": "new, acknowledged, resolved or closed (default: from the times given, else new)",
    "acknowledged_at": "ISO 8601; when it was acknowledged",
    "resolved_at": "ISO 8601; when it was resolved",
}

# Statuses a spreadsheet row can bring: the ones reached by acknowledging and resolving.
IMPORTABLE_STATUSES = ("new", "acknowledged", "resolved", "closed")
RESOLVED_STATUSES = ("resolved", "closed")
TAG_SEPARATOR = ";"


@dataclass
class CsvTicket:
    """One valid row: what ``log`` would be told, plus how far the ticket had got."""

    line: int
    new: NewTicket
    status: str = "new"
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None


def normalise_header(header: list[str]) -> list[str]:
    """Header cells as column names: trimmed and lower-case (spreadsheets vary)."""
    return [cell.strip().lower() for cell in header]


def check_header(columns: list[str]) -> tuple[list[str], list[str]]:
    """Problems with a header row (``line 1: …``), and the columns that will be ignored."""
    problems = []
    if "subject" not in columns:
        problems.append("line 1: subject: the required column is missing")
    seen: set[str] = set()
    for name in columns:
        if name in seen and name in CSV_COLUMNS:
            problems.append(f"line 1: {name}: the column appears twice")
        seen.add(name)
    unknown = [name for name in dict.fromkeys(columns) if name not in CSV_COLUMNS]
    return problems, unknown


def parse_row(line: int, row: Mapping[str, str], zone: tzinfo, now: datetime) -> CsvTicket | list[str]:
    """A valid ticket, or every problem of the row as ``line N: column: why``."""
    problems: list[str] = []

    def text(column: str) -> str | None:
        value = (row.get(column) or "").strip()
        return value or None

    def choice(column: str, allowed: tuple[str, ...], default: str) -> str:
        value = text(column)
        if value is None:
            return default
        try:
            return check_choice(value, allowed, column)
        except InvalidInput as exc:
            problems.append(f"line {line}: {column}: {exc}")
            return default

    def instant(column: str) -> datetime | None:
        value = text(column)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.upper())
        except ValueError:
            problems.append(f"line {line}: {column}: bad time {value!r} (expected ISO 8601 like 2026-11-23 10:00)")
            return None
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        if parsed > now:
            problems.append(f"line {line}: {column}: {value} is in the future")
            return None
        return parsed

    subject = text("subject")
    if subject is None:
        problems.append(f"line {line}: subject: is empty")
    tags = [tag.strip() for tag in (row.get("tags") or "").split(TAG_SEPARATOR) if tag.strip()]
    for tag in tags:
        if "," in tag:
            problems.append(f"line {line}: tags: a tag cannot contain a comma: {tag!r} (separate tags with ;)")
    new = NewTicket(
        subject=subject or "",
        body=(row.get("body") or "").strip(),
        kind=choice("kind", KINDS, "enquiry"),
        channel=choice("channel", CHANNELS, "email"),
        priority=choice("priority", PRIORITIES, "normal"),
        customer_name=text("name"),
        customer_email=text("email"),
        customer_phone=text("phone"),
        org=text("org"),
        category=text("category"),
        tags=tags,
        owner=text("owner"),
        received_at=instant("received_at"),
    )
    ticket = CsvTicket(
        line=line,
        new=new,
        acknowledged_at=instant("acknowledged_at"),
        resolved_at=instant("resolved_at"),
    )
    ticket.status = _status(ticket, choice("status", STATUSES, ""), problems)
    problems.extend(_order_problems(ticket))
    return problems or ticket


def _status(ticket: CsvTicket, given: str, problems: list[str]) -> str:
    line = ticket.line
    if given and given not in IMPORTABLE_STATUSES:
        problems.append(
            f"line {line}: status: {given} cannot be imported (allowed: {', '.join(IMPORTABLE_STATUSES)}); "
            "use new or acknowledged and update the ticket after the import"
        )
        return "new"
    implied = "resolved" if ticket.resolved_at else "acknowledged" if ticket.acknowledged_at else "new"
    status = given or implied
    if ticket.resolved_at and status not in RESOLVED_STATUSES:
        problems.append(f"line {line}: status: {status}, but resolved_at is given")
    elif ticket.acknowledged_at and status == "new":
        problems.append(f"line {line}: status: new, but acknowledged_at is given")
    return status


def _order_problems(ticket: CsvTicket) -> list[str]:
    problems = []
    received = ticket.new.received_at
    if received is None and (ticket.acknowledged_at or ticket.resolved_at):
        problems.append(f"line {ticket.line}: received_at: is required with acknowledged_at or resolved_at")
    for column in ("acknowledged_at", "resolved_at"):
        value = getattr(ticket, column)
        if value is not None and received is not None and value < received:
            problems.append(f"line {ticket.line}: {column}: is before received_at")
    if ticket.acknowledged_at and ticket.resolved_at and ticket.resolved_at < ticket.acknowledged_at:
        problems.append(f"line {ticket.line}: resolved_at: is before acknowledged_at")
    return problems
