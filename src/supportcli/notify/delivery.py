"""Delivering the outbox: claim a batch under a lease, send outside any transaction, record the result."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from supportcli.notify.senders import SendFailed, build_email, post_webhook, send_email
from supportcli.notify.settings import SmtpSettings
from supportcli.store import outbox
from supportcli.store.database import Store
from supportcli.store.models import Notice

DELIVERY_LOCK = "deliver"
LOCK_LOST = "the delivery lock was lost (the store's connection ended)"


@dataclass
class DeliveryReport:
    """Counts for the cron summary."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    busy: bool = False  # another run was delivering


def deliver(
    store: Store, now: datetime, smtp: SmtpSettings | None, sender: str, only: Collection[int] | None = None
) -> DeliveryReport:
    """Send every due pending notice (or just the ids in ``only``) once; failures wait for a later run.

    Only one run delivers at a time (``Store.exclusive``): an overlapping run, however slow the
    first one is, leaves the queue to it instead of racing it for the same notices. The holder
    takes over what a dead run had leased (``outbox.claim``), and checks before each send that it
    still holds the lock, so a run whose lock went with its connection stops instead of racing
    the next holder.
    """
    report = DeliveryReport()
    with store.exclusive(DELIVERY_LOCK) as mine:
        if not mine:
            report.busy = True
            return report
        _deliver_all(store, now, smtp, sender, report, only)
    return report


def _deliver_all(
    store: Store,
    now: datetime,
    smtp: SmtpSettings | None,
    sender: str,
    report: DeliveryReport,
    only: Collection[int] | None,
) -> None:
    run_id = uuid.uuid4().hex
    while True:
        batch = store.run_write(lambda session: outbox.claim(session, now, run_id, only=only))
        if not batch:
            return
        for notice in batch:
            if not store.holds(DELIVERY_LOCK):
                report.errors.append(f"{LOCK_LOST}; the next run sends the rest")
                return
            try:
                _send(notice, smtp, sender)
            except SendFailed as failure:
                failed = partial(
                    outbox.mark_failed,
                    notice_id=notice.id or 0,
                    run_id=run_id,
                    now=now,
                    error=str(failure),
                    permanent=failure.permanent,
                )
                store.run_write(failed)
                report.dead += failure.permanent
                report.failed += not failure.permanent
                report.errors.append(f"notice {notice.id} to {notice.recipient}: {failure}")
                continue
            store.run_write(partial(outbox.mark_sent, notice_id=notice.id or 0, run_id=run_id, now=now))
            report.sent += 1


def _send(notice: Notice, smtp: SmtpSettings | None, sender: str) -> None:
    if notice.channel == "webhook":
        post_webhook(notice.recipient, notice.payload.encode(), outbox.stable_id(notice.key))
        return
    if smtp is None:
        raise SendFailed("no SMTP server configured (config.toml [smtp] or SUPPORTCLI_SMTP_HOST)", permanent=False)
    message = build_email(
        sender, notice.recipient, notice.subject, notice.body, notice.message_id, _extra_headers(notice.payload)
    )
    send_email(smtp, message)


def _extra_headers(payload: str) -> dict[str, str]:
    """The threading headers a customer mail carries in its payload (staff notices carry none)."""
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        return {}
    headers = data.get("headers") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
