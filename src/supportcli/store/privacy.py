"""Data protection in the store: the retention purge and the redaction of one ticket.

A purge anonymises tickets past the retention period of the policy in effect
now: the customer's name and contact details, subject, body, watchers, history
texts, feedback comments, notices and the mail log's record of their mail go;
ids, kinds, channels, dates, due and met times and ratings stay, so reports
still add up. Which tables hold personal data, and how each is cleaned, is
declared in ``store.personal_data``: both commands walk that list. Afterwards
the SQLite WAL is checkpointed so no old copy of a page is left readable in the
files (``secure_delete`` already zeroes freed space in the pages themselves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, and_, col, or_, select

from supportcli.core.durations import Duration
from supportcli.core.privacy import Finding, purge_cutoff
from supportcli.store import policies, search
from supportcli.store.models import PurgeLog, Ticket
from supportcli.store.personal_data import PERSONAL_TABLES, PersonalTable, RedactionScope
from supportcli.store.tickets import Actor, get_ticket, record

if TYPE_CHECKING:
    from supportcli.store.database import Store

FINISHED_STATUSES = ("resolved", "closed")


@dataclass
class PurgePlan:
    """Which tickets a purge anonymises, under which policy version's retention period."""

    policy_version: int
    retention: Duration | None
    resolved_before: datetime | None
    tickets: list[Ticket] = field(default_factory=list)
    # Rows of no ticket recorded before the cutoff (refused mail), with the table that cleans each.
    unticketed: list[tuple[PersonalTable, Any]] = field(default_factory=list)


def plan_purge(session: Session, now: datetime) -> PurgePlan:
    """Tickets past retention under the policy in effect now (today's rules decide, not each ticket's own)."""
    version = policies.version_in_effect(session, now)
    retention = policies.parsed(version).retention_resolved_for
    if retention is None:
        return PurgePlan(version.version or 0, None, None)
    cutoff = purge_cutoff(now, retention)
    statement = (
        select(Ticket)
        .where(
            col(Ticket.purged_at).is_(None),
            col(Ticket.status).in_(FINISHED_STATUSES),
            or_(
                col(Ticket.resolved_at) < cutoff,
                # Closed without a resolution (auto-closed while waiting): the close is its end.
                and_(col(Ticket.resolved_at).is_(None), col(Ticket.closed_at) < cutoff),
            ),
        )
        .order_by(col(Ticket.id))
    )
    unticketed = [
        (table, row) for table in PERSONAL_TABLES if table.unticketed for row in table.unticketed(session, cutoff)
    ]
    return PurgePlan(version.version or 0, retention, cutoff, list(session.exec(statement)), unticketed)


def finished_at(ticket: Ticket) -> datetime | None:
    """When a ticket's retention period started: its resolution, else its closing."""
    return ticket.resolved_at or ticket.closed_at


def purge(session: Session, actor: Actor) -> PurgePlan:
    """Anonymise every ticket past retention, record it on each and in the purge log (one write transaction)."""
    plan = plan_purge(session, actor.at)
    for ticket in plan.tickets:
        _anonymise(session, ticket, actor, plan)
    for table, row in plan.unticketed:
        table.purge(row)
        session.add(row)
    if plan.tickets:
        session.add(
            PurgeLog(
                at=actor.at,
                actor=actor.name,
                ticket_count=len(plan.tickets),
                ticket_ids=",".join(str(ticket.id) for ticket in plan.tickets),
                retention=str(plan.retention),
            )
        )
    search.forget(session, [ticket.id or 0 for ticket in plan.tickets])  # the purged texts leave the search index
    return plan


def _anonymise(session: Session, ticket: Ticket, actor: Actor, plan: PurgePlan) -> None:
    ticket_id = ticket.id or 0
    for table in PERSONAL_TABLES:
        for row in table.of_ticket(session, ticket_id):
            table.purge(row)
            session.add(row)
    ticket.purged_at = actor.at
    session.add(ticket)
    record(
        session,
        ticket,
        actor,
        "purged",
        f"personal data removed: resolved more than {plan.retention} ago",
        retention=str(plan.retention),
        policy_version=plan.policy_version,
    )


def purge_log(session: Session) -> list[PurgeLog]:
    """Every purge run that anonymised something, newest first."""
    return list(session.exec(select(PurgeLog).order_by(col(PurgeLog.id).desc())))


def checkpoint(store: Store) -> bool:
    """Copy the WAL into the database file and truncate it, so no old page stays readable on disk.

    Runs outside any transaction (a checkpoint cannot run inside one). True when it completed;
    False when another process kept reading, in which case the next checkpoint finishes the job.
    """
    if not store.is_sqlite:
        return True
    from supportcli.store.database import translate_errors

    with translate_errors(store.location):
        connection = store.engine.raw_connection()
        try:
            cursor = connection.cursor()
            busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            connection.close()
    return int(busy) == 0


@dataclass(frozen=True)
class Removal:
    """One contact detail found in one place of a ticket."""

    place: str
    finding: Finding


@dataclass
class RedactionPlan:
    """What redacting one ticket removes, and the new values of what it changes."""

    ticket: Ticket
    removals: list[Removal] = field(default_factory=list)
    changes: list[tuple[object, str, object]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        """How many e-mail addresses (``email``) or phone numbers (``phone``) go."""
        return sum(1 for removal in self.removals if removal.finding.kind == kind)

    def summary(self) -> str:
        """``2 e-mail address(es) and 1 phone number(s)``."""
        return f"{self.count('email')} e-mail address(es) and {self.count('phone')} phone number(s)"


def plan_redaction(session: Session, ticket_id: int) -> RedactionPlan:
    """Find every e-mail address and phone number in one ticket's rows of every table, without changing anything."""
    ticket = get_ticket(session, ticket_id)
    plan = RedactionPlan(ticket)
    scope = _redaction_scope(session, ticket)
    for table in PERSONAL_TABLES:
        for row in table.of_ticket(session, ticket_id):
            for column, find_in in table.redacted.items():
                cleaned = find_in(row, column, scope)
                plan.removals.extend(Removal(table.place(row, column), finding) for finding in cleaned.findings)
                plan.changes.extend((row, name, value) for name, value in cleaned.changes.items())
    return plan


def _redaction_scope(session: Session, ticket: Ticket) -> RedactionScope:
    """Phone numbers are read as the ticket's calendar's country writes them; its customer's addresses are known."""
    version = policies.get_version(session, ticket.policy_version)
    region = policies.parsed(version).calendar.country if version is not None else None
    addresses = {address.lower() for address in (ticket.customer_email, *ticket.watcher_list) if address}
    return RedactionScope(region, frozenset(addresses))


def redact_ticket(session: Session, ticket_id: int, actor: Actor) -> RedactionPlan:
    """Remove every e-mail address and phone number from one ticket and record how many (never which)."""
    plan = plan_redaction(session, ticket_id)
    if not plan.removals:
        return plan
    for row, attribute, value in plan.changes:
        setattr(row, attribute, value)
        session.add(row)
    places = sorted({removal.place.split(" #")[0] for removal in plan.removals})
    record(
        session,
        plan.ticket,
        actor,
        "redacted",
        f"removed {plan.summary()}",
        emails=plan.count("email"),
        phones=plan.count("phone"),
        fields=places,
    )
    plan.ticket.updated_at = actor.at
    session.add(plan.ticket)
    search.forget(session, [ticket_id])  # the redacted addresses and numbers leave the search index
    return plan
