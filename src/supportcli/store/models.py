"""The tables of a supportcli store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Table, UniqueConstraint, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex
from sqlmodel import Column, Field, SQLModel, col

from supportcli.store.types import UTCDateTime


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for statements written in Core (bulk inserts, plain-row reads)."""
    # SQLModel gives each table class its ``__table__`` when the class is made; its stubs do not declare it.
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def encode_list(values: Sequence[str]) -> str:
    """Tags (or watchers' addresses) as a ticket stores them: comma-separated with a leading and a trailing
    comma, so that ``LIKE '%,vip,%'`` (``encode_list(["vip"])``) matches one exactly; nothing is ``""``."""
    return "," + ",".join(values) + "," if values else ""


def decode_list(stored: str) -> list[str]:
    """The tags (or watchers) of ``encode_list``'s text."""
    return [value for value in stored.split(",") if value]


def instant_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    """A UTC instant column."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Meta(SQLModel, table=True):
    """Key/value facts about the store itself, e.g. its schema version."""

    __tablename__ = "supportcli_meta"

    key: str = Field(primary_key=True)
    value: str


class PolicyVersion(SQLModel, table=True):
    """One version of the team's policy; versions are never edited or deleted."""

    __tablename__ = "policy_versions"

    version: int | None = Field(default=None, primary_key=True)
    name: str
    source: str
    effective_at: datetime = Field(sa_column=instant_column(index=True))
    # "logged": applies to tickets logged from effective_at on; "received": to tickets received from then on
    # (store.policies decides with it; docs/policy.md).
    applies_by: str = "received"
    set_at: datetime = Field(sa_column=instant_column())
    set_by: str
    note: str = ""


class Ticket(SQLModel, table=True):
    """One customer contact. Due times live on its targets; ``next_due_at`` and ``next_target`` mirror the
    pending one that falls due first (``core.tickets.next_pending``), so listings read one row per ticket."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Only open tickets have a next due time (resolving meets every target, waiting pauses them),
        # so "due" is an ordered range scan of this index.
        Index("ix_tickets_next_due", "next_due_at", "id"),
        Index("ix_tickets_received", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject: str
    body: str = ""
    kind: str = Field(default="enquiry", index=True)
    channel: str = Field(default="email", index=True)
    priority: str = Field(default="normal", index=True)
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    # The phone number's digits reversed, kept by store.search's flush hook: ``list --phone`` compares numbers
    # by digits with a range of this index (``store.lookups.phone_key``; schema version 5).
    customer_phone_key: str | None = Field(default=None, index=True)
    org: str | None = Field(default=None, index=True)
    category: str | None = Field(default=None, index=True)
    tags: str = ""
    # Addresses copied on the customer's mail (Cc), stored like tags: they receive customer mail too.
    watchers: str = Field(default="", sa_column_kwargs={"server_default": ""})
    owner: str | None = Field(default=None, index=True)
    tier: int = 0
    status: str = Field(default="new", index=True)
    received_at: datetime = Field(sa_column=instant_column())
    logged_at: datetime = Field(sa_column=instant_column())
    updated_at: datetime = Field(sa_column=instant_column())
    waiting_since: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    expected_by: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    expected_reason: str | None = None
    rating: int | None = None
    policy_version: int = Field(foreign_key="policy_versions.version")
    rule_number: int | None = None
    next_due_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    next_target: str | None = None
    purged_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    # The ticket's id in the system it was imported from (README "Moving in from a spreadsheet"): unique, so a
    # second import of the same rows finds them (schema version 7).
    reference: str | None = Field(default=None, unique=True, index=True)

    @property
    def tag_list(self) -> list[str]:
        """Tags as a list (stored by ``encode_list``)."""
        return decode_list(self.tags)

    @property
    def watcher_list(self) -> list[str]:
        """Watchers' addresses as a list (stored like tags)."""
        return decode_list(self.watchers)


# ``list --email``: the whole address in any letter case, one lookup of this index (schema version 5).
Index("ix_tickets_customer_email", func.lower(col(Ticket.customer_email)))


# A met target whose working time from receipt is not stored (``Target.met_working_seconds``).
UNMEASURED = "met_at IS NOT NULL AND met_working_seconds IS NULL"
# An index's ``info`` key for the condition of a partial index, written the same for SQLite and PostgreSQL.
PARTIAL_WHERE = "supportcli_where"


@compiles(CreateIndex)
def _create_partial_index(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    """``CREATE INDEX … WHERE`` for an index whose ``info`` holds a ``PARTIAL_WHERE`` condition, on any engine.

    Rather than ``sqlite_where=`` and ``postgresql_where=``: SQLAlchemy checks a dialect's keyword arguments by
    importing that dialect, so a store on SQLite paid for importing the PostgreSQL one (about 20 ms of every
    command's start, benchmarks/README.md).
    """
    sql: str = compiler.visit_create_index(create, **kw)
    where = create.element.info.get(PARTIAL_WHERE)
    return f"{sql} WHERE {where}" if where else sql


class Target(SQLModel, table=True):
    """One service level of one ticket, with its stored due time (never recomputed on read)."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("ticket_id", "name"),
        Index("ix_targets_state_due", "state", "due_at"),
        # Met targets still without a stored working time (normally none), so report finds them at once. A
        # partial index (``_create_partial_index``).
        Index("ix_targets_met_unmeasured", "ticket_id", info={PARTIAL_WHERE: UNMEASURED}),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    name: str
    duration: str
    started_at: datetime = Field(sa_column=instant_column())
    due_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    met_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    state: str = "pending"
    paused_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    paused_working_seconds: int = 0
    source: str = "policy"
    # Working seconds from the ticket's receipt to ``met_at``, less the time paused, written when the target is met
    # (``core.tickets.met_working_seconds``), so ``report`` reads its working times (README "Reports"; schema 8).
    met_working_seconds: int | None = None


class Event(SQLModel, table=True):
    """An append-only history entry: who did what to a ticket, when."""

    __tablename__ = "events"
    # report counts the escalations and extensions made in a period: a range scan of this (schema version 3).
    __table_args__ = (Index("ix_events_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    at: datetime = Field(sa_column=instant_column())
    actor: str
    kind: str
    text: str = ""
    data: str = ""


class Staff(SQLModel, table=True):
    """A member of the team: tier, and absence with a cover colleague (docs/tickets.md: owners and cover)."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    email: str = ""
    tier: int = 0
    away_until: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    cover: str | None = None


class AutomationMark(SQLModel, table=True):
    """One automatic action taken (a breach noticed, an escalation, an auto-close), so it happens once.

    The unique key names the action and what it acted on (ticket, target, due time), so a repeated
    or overlapping cron run, or a reopened ticket, never repeats it.
    """

    __tablename__ = "automation_marks"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    at: datetime = Field(sa_column=instant_column())


class Notice(SQLModel, table=True):
    """The transactional outbox: one row per notice to one recipient over one channel.

    Enqueued in the same transaction as the change that caused it; claimed with a lease, sent
    outside any transaction, then marked sent, so a notice is recorded only after it was accepted.
    """

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    event: str
    target: str | None = None
    due_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    channel: str
    recipient: str
    subject: str = ""
    body: str = ""
    payload: str = ""
    message_id: str = Field(index=True)  # a reply's In-Reply-To finds its ticket through this
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=instant_column())
    lease_until: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    claimed_by: str | None = None
    last_error: str = ""
    created_at: datetime = Field(sa_column=instant_column())
    sent_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))


class PurgeLog(SQLModel, table=True):
    """One retention purge run that anonymised tickets (``purge --log`` lists them)."""

    __tablename__ = "purge_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=instant_column())
    actor: str
    ticket_count: int
    ticket_ids: str = ""
    retention: str = ""


class MailMessage(SQLModel, table=True):
    """One inbound e-mail as the gateway handled it (README "E-mail in and out"): a new ticket, a reply, or a refusal with why.

    ``message_key`` is the Message-ID (or a hash of the bytes when there is none) and is unique, so the
    same message delivered twice is recorded once; refusals are kept for ``mail log``.
    """

    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_sender_at", "from_address", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_key: str = Field(unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    at: datetime = Field(sa_column=instant_column(index=True))
    from_address: str = ""
    subject: str = ""
    outcome: str  # "ticket", "reply" or "refused"
    reason: str = ""


class ImportedFile(SQLModel, table=True):
    """One CSV file imported, by the hash of its content, so the same file imported twice is noticed
    (README "Moving in from a spreadsheet": ``import --again``)."""

    __tablename__ = "imported_files"

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(index=True)
    name: str
    at: datetime = Field(sa_column=instant_column())
    actor: str
    tickets: int = 0
