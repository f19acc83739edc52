"""The transactional outbox of notices: enqueue with the change, claim with a lease, mark after sending.

Exactly once: a notice's unique key (event, ticket, target, due time, channel,
recipient) stops it being enqueued twice; only the holder of the delivery lock
(``Store.exclusive("deliver")``) claims and sends, so two overlapping runs never
send the same row; a row is marked sent only after the server accepted it, and
only by the run that leased it. The lease is tied to the lock: the operating
system or PostgreSQL releases the lock when its holder dies, so when the next
run gets the lock, a lease another run left is void and its notices go at once.
If a run dies between the acceptance and the mark, the next run sends it again
with the same Message-ID / Idempotency-Key, so the receiver can tell.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from supportcli.store.models import Notice
from supportcli.store.queries import newest_first

LEASE = timedelta(minutes=10)  # how long a claim is recorded as in hand (``lease_until``); the lock decides
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class Message:
    """What a notice says, before it is addressed."""

    event: str
    ticket_id: int | None
    target: str | None
    due_at: datetime | None
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)


def stable_id(key: str) -> str:
    """A short stable hash of a notice key, for Message-ID and Idempotency-Key."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def enqueue(
    session: Session, mark_key: str, message: Message, channel: str, recipient: str, now: datetime, domain: str
) -> bool:
    """Add a notice unless one with the same key exists; True when it was added."""
    key = f"{mark_key}|{channel}|{recipient}"
    queued_here: set[str] = session.info.setdefault("queued_notice_keys", set())  # not yet flushed
    if key in queued_here or session.exec(select(Notice.id).where(Notice.key == key)).first() is not None:
        return False
    queued_here.add(key)
    session.add(
        Notice(
            key=key,
            ticket_id=message.ticket_id,
            event=message.event,
            target=message.target,
            due_at=message.due_at,
            channel=channel,
            recipient=recipient,
            subject=message.subject,
            body=message.body,
            payload=json.dumps(message.payload, default=str, sort_keys=True),
            message_id=f"<{stable_id(key)}@{domain}>",
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def claim(
    session: Session, now: datetime, run_id: str, limit: int = 200, only: Collection[int] | None = None
) -> list[Notice]:
    """Lease due pending notices (all, or the ids in ``only``) to this run (call in a write transaction).

    Only the holder of the delivery lock may call this: a lease taken by any other run is then void,
    as that run has ended or died (it held the lock while it delivered), however long its lease had
    to run. Notices this run already leased and has not yet marked are left alone.
    """
    statement = select(Notice).where(
        Notice.status == "pending",
        col(Notice.next_attempt_at) <= now,
        or_(
            col(Notice.lease_until).is_(None),
            col(Notice.claimed_by).is_(None),
            col(Notice.claimed_by) != run_id,
        ),
    )
    if only is not None:
        statement = statement.where(col(Notice.id).in_(list(only)))
    rows = list(session.exec(statement.order_by(col(Notice.id)).limit(limit)))
    for row in rows:
        row.lease_until, row.claimed_by = now + LEASE, run_id
        session.add(row)
    return rows


def mark_sent(session: Session, notice_id: int, run_id: str, now: datetime) -> None:
    """Record acceptance; only the run holding the lease may."""
    row = session.get(Notice, notice_id)
    if row is not None and row.claimed_by == run_id and row.status == "pending":
        row.status, row.sent_at, row.lease_until = "sent", now, None
        row.attempts += 1
        session.add(row)


def mark_failed(session: Session, notice_id: int, run_id: str, now: datetime, error: str, permanent: bool) -> None:
    """Record a failure: dead when permanent, else retried later with exponential backoff."""
    row = session.get(Notice, notice_id)
    if row is None or row.claimed_by != run_id or row.status != "pending":
        return
    row.attempts += 1
    row.last_error = error[:500]
    row.lease_until = None
    if permanent:
        row.status = "dead"
    else:
        row.next_attempt_at = now + min(timedelta(minutes=2 ** (row.attempts - 1)), MAX_BACKOFF)
    session.add(row)


def notices(session: Session, statuses: Sequence[str] = (), limit: int | None = None) -> list[Notice]:
    """Notices, newest first, optionally by status."""
    return newest_first(session, Notice, col(Notice.status), statuses, limit)


def retry(session: Session, ids: Sequence[int], now: datetime) -> int:
    """Put dead notices (all, or the ids given) back in the queue; returns how many."""
    statement = select(Notice).where(Notice.status == "dead")
    if ids:
        statement = statement.where(col(Notice.id).in_(list(ids)))
    count = 0
    for row in session.exec(statement):
        row.status, row.next_attempt_at, row.lease_until, row.claimed_by = "pending", now, None, None
        session.add(row)
        count += 1
    return count


def pending_count(session: Session) -> int:
    """Notices still waiting to be sent."""
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(Notice).where(Notice.status == "pending")).one()
