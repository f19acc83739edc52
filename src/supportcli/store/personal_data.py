"""Where a store keeps customers' personal data, and how ``purge`` and ``redact`` clean each place.

Every table of the store is declared here, once: a table that holds personal data as a
``PersonalTable`` (what a purge writes into each column it clears, how redact searches each
column, which columns hold nothing personal), a table that holds none in ``IMPERSONAL_TABLES``
with why. ``store.privacy`` purges and redacts by walking ``PERSONAL_TABLES`` and nothing else,
and a test lists the tables and columns of a real store and fails on any declared nowhere, so a
new table (a search index, say) cannot be forgotten: declare it here and purge and redact clean it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from supportcli.core.privacy import (
    Finding,
    FindingKind,
    Redaction,
    anonymised_actor,
    anonymised_data,
    purged_subject,
    redact,
    redact_json,
)
from supportcli.store.mail_gateway import PURGED_MESSAGE_KEY_PREFIX, purged_message_key
from supportcli.store.models import Event, MailMessage, Notice, Ticket
from supportcli.store.outbox import stable_id


@dataclass(frozen=True)
class RedactionScope:
    """What redact needs to know about the ticket: its calendar's country, and its customer's addresses."""

    region: str | None
    customer_addresses: frozenset[str]


@dataclass
class Cleaned:
    """What redact finds in one column of one row, and the columns it changes to remove it."""

    findings: list[Finding] = field(default_factory=list)
    changes: dict[str, object] = field(default_factory=dict)


Redactor = Callable[[Any, str, RedactionScope], Cleaned]


@dataclass(frozen=True)
class PersonalTable:
    """A table holding customers' personal data, and how a ticket's rows of it are purged and redacted.

    ``purged`` maps each column a purge changes to its new value, computed from the row as it
    was; ``redacted`` maps each column redact searches to how; ``kept`` are the columns that hold
    nothing personal. Together ``purged`` and ``kept`` name every column of the table.
    """

    model: type[SQLModel]
    of_ticket: Callable[[Session, int], list[Any]]
    purged: Mapping[str, Callable[[Any], object]]
    redacted: Mapping[str, Redactor]
    kept: frozenset[str]
    place: Callable[[Any, str], str]
    # Rows that belong to no ticket, recorded before a cutoff and not yet purged (a refused mail's sender).
    unticketed: Callable[[Session, datetime], list[Any]] | None = None

    @property
    def name(self) -> str:
        """The table's name in the store."""
        return str(self.model.__tablename__)

    def purge(self, row: Any) -> None:
        """Rewrite one row as a purge leaves it (every new value is computed before any is set)."""
        values = {column: rule(row) for column, rule in self.purged.items()}
        for column, value in values.items():
            setattr(row, column, value)


# -- how redact searches a column --------------------------------------------------------------------------------------


def in_text(row: Any, column: str, scope: RedactionScope) -> Cleaned:
    """Free text: every address and phone number in it is replaced."""
    return _cleaned(column, getattr(row, column), redact(getattr(row, column) or "", scope.region))


def in_json(row: Any, column: str, scope: RedactionScope) -> Cleaned:
    """A JSON document: every string in it is searched like free text."""
    return _cleaned(column, getattr(row, column), redact_json(getattr(row, column) or "", scope.region))


def _cleaned(column: str, before: str | None, result: Redaction) -> Cleaned:
    if not before or not result.findings:
        return Cleaned()
    return Cleaned(list(result.findings), {column: result.text})


def whole(kind: FindingKind) -> Redactor:
    """A column that is one contact detail (the customer's e-mail or phone): it goes altogether."""

    def clear(row: Any, column: str, _scope: RedactionScope) -> Cleaned:
        value = getattr(row, column)
        return Cleaned([Finding(kind, value)], {column: None}) if value else Cleaned()

    return clear


def address_list(row: Any, column: str, _scope: RedactionScope) -> Cleaned:
    """A list of addresses (a ticket's watchers): all of them go."""
    addresses = [address for address in (getattr(row, column) or "").split(",") if address]
    return Cleaned([Finding("email", address) for address in addresses], {column: ""}) if addresses else Cleaned()


def customer_recipient(notice: Notice, column: str, scope: RedactionScope) -> Cleaned:
    """A mail to the customer or a watcher loses its address (and is not sent); staff notices keep theirs."""
    recipient = notice.recipient
    if notice.channel != "email" or recipient.lower() not in scope.customer_addresses:
        return Cleaned()
    changes: dict[str, object] = {column: "", "key": _key_without_recipient(notice.key, "redacted")}
    if notice.status == "pending":
        changes |= {"status": "dead", "last_error": "recipient redacted"}
    return Cleaned([Finding("email", recipient)], changes)


def _key_without_recipient(key: str, why: str) -> str:
    """A notice key ends with its recipient; a hash keeps it unique without keeping the address."""
    return f"{key.rsplit('|', 1)[0]}|{why}-{stable_id(key)}"


# -- the tables --------------------------------------------------------------------------------------------------------


def _rows_of(model: Any) -> Callable[[Session, int], list[Any]]:
    def rows(session: Session, ticket_id: int) -> list[Any]:
        return list(session.exec(select(model).where(model.ticket_id == ticket_id).order_by(col(model.id))))

    return rows


def _the_ticket(session: Session, ticket_id: int) -> list[Any]:
    ticket = session.get(Ticket, ticket_id)
    return [ticket] if ticket is not None else []


TICKET_PLACES = {"customer_email": "customer e-mail", "customer_phone": "customer phone"}

TICKETS = PersonalTable(
    model=Ticket,
    of_ticket=_the_ticket,
    purged={
        "subject": lambda ticket: purged_subject(ticket.id or 0),
        "body": lambda _: "",
        "customer_name": lambda _: None,
        "customer_email": lambda _: None,
        "customer_phone": lambda _: None,
        "customer_phone_key": lambda _: None,  # derived from the phone number (store.lookups)
        "watchers": lambda _: "",
        "expected_reason": lambda ticket: "[purged]" if ticket.expected_reason else ticket.expected_reason,
    },
    redacted={
        "customer_email": whole("email"),
        "customer_phone": whole("phone"),
        "subject": in_text,
        "body": in_text,
        "expected_reason": in_text,
        "watchers": address_list,
    },
    # The client organisation, classification and everything reports count by; no person's details.
    kept=frozenset(
        {
            "id",
            "kind",
            "channel",
            "priority",
            "org",
            "category",
            "tags",
            "owner",
            "tier",
            "status",
            "received_at",
            "logged_at",
            "updated_at",
            "waiting_since",
            "resolved_at",
            "closed_at",
            "expected_by",
            "rating",
            "policy_version",
            "rule_number",
            "next_due_at",
            "next_target",
            "purged_at",
            "reference",  # the ticket's id in the system it came from, not a person's detail
        }
    ),
    place=lambda _ticket, column: TICKET_PLACES.get(column, column),
)

EVENTS = PersonalTable(
    model=Event,
    of_ticket=_rows_of(Event),
    purged={
        "text": lambda _: "",
        "data": lambda event: anonymised_data(event.data),
        # A reply by mail is recorded as done by its sender's address.
        "actor": lambda event: anonymised_actor(event.actor),
    },
    redacted={"text": in_text, "data": in_json, "actor": in_text},
    kept=frozenset({"id", "ticket_id", "at", "kind"}),
    place=lambda event, column: f"history {event.kind} #{event.id}" + ("" if column == "text" else f" {column}"),
)

NOTICES = PersonalTable(
    model=Notice,
    of_ticket=_rows_of(Notice),
    purged={
        "key": lambda notice: _key_without_recipient(notice.key, "purged"),
        "recipient": lambda _: "",
        "subject": lambda _: "",
        "body": lambda _: "",
        "payload": lambda _: "",
        # Nothing is left to send; an empty message must never go out.
        "status": lambda notice: "dead" if notice.status == "pending" else notice.status,
        "last_error": lambda notice: f"ticket #{notice.ticket_id} purged" if notice.status == "pending" else "",
    },
    redacted={
        "subject": in_text,
        "body": in_text,
        "payload": in_json,
        "last_error": in_text,
        "recipient": customer_recipient,
    },
    # The event, channel and times say what was sent when; the Message-ID is a hash at our own domain.
    kept=frozenset(
        {
            "id",
            "ticket_id",
            "event",
            "target",
            "due_at",
            "channel",
            "message_id",
            "attempts",
            "next_attempt_at",
            "lease_until",
            "claimed_by",
            "created_at",
            "sent_at",
        }
    ),
    place=lambda notice, column: f"notice #{notice.id} {column}",
)


def _unpurged_refusals(session: Session, before: datetime) -> list[Any]:
    """Refused mail (no ticket) received before the cutoff: its sender and subject are personal data too."""
    return list(
        session.exec(
            select(MailMessage)
            .where(
                col(MailMessage.ticket_id).is_(None),
                col(MailMessage.at) < before,
                ~col(MailMessage.message_key).startswith(PURGED_MESSAGE_KEY_PREFIX),
            )
            .order_by(col(MailMessage.id))
        )
    )


MAIL_MESSAGES = PersonalTable(
    model=MailMessage,
    of_ticket=_rows_of(MailMessage),
    purged={
        # A Message-ID often holds the sender's address or name; its hash still recognises a redelivery.
        "message_key": lambda message: purged_message_key(message.message_key),
        "from_address": lambda _: "",
        "subject": lambda message: purged_subject(message.ticket_id) if message.ticket_id else "[purged]",
        "reason": lambda message: redact(message.reason).text,
    },
    # The Message-ID stays while the ticket lives: it recognises a redelivery and threads our answers.
    redacted={"from_address": in_text, "subject": in_text, "reason": in_text},
    kept=frozenset({"id", "ticket_id", "at", "outcome"}),
    place=lambda message, column: f"mail log #{message.id} {column}",
    unticketed=_unpurged_refusals,
)

# Purge and redact clean these, in this order (redact lists what it found in the same order).
PERSONAL_TABLES: tuple[PersonalTable, ...] = (TICKETS, EVENTS, NOTICES, MAIL_MESSAGES)

IMPERSONAL_TABLES: Mapping[str, str] = {
    "supportcli_meta": "facts about the store itself, such as its schema version",
    "policy_versions": "the team's rules; any address in them is the team's own",
    "targets": "service levels of tickets: durations, due and met times",
    "staff": "the team's own directory (names, work addresses, absences), not customers'",
    "automation_marks": "which automatic actions were taken: ticket ids, target names, due times",
    "purge_log": "when purges ran, by whom, and which ticket ids they anonymised",
    "imported_files": "the content hash, name and time of each CSV file imported, and how many tickets it made",
}

# Tables that are not models but copies of tickets' texts kept by the database for searching: they hold personal
# data, and purge and redact rebuild them from the cleaned ticket (``store.search.forget``). SQLite keeps an FTS5
# index in shadow tables named after it (``ticket_search_data``…), which belong to it.
INDEX_TABLES: Mapping[str, str] = {
    "ticket_search": "the full-text search index: rebuilt from each purged or redacted ticket by store.search.forget",
}


def index_table_of(name: str) -> str | None:
    """The index table a database table belongs to (itself or one of its FTS5 shadow tables), or None."""
    return next((index for index in INDEX_TABLES if name == index or name.startswith(f"{index}_")), None)
