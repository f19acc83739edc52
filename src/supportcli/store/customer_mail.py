"""Queueing customer-facing mail in the same transaction as the action that causes it (README "E-mail in and out").

``ack``, a customer-facing ``update`` and ``resolve`` (plus the feedback request)
add one notice per recipient to the exactly-once outbox; the command then tries
to deliver them after its commit, and the cron run retries whatever failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from supportcli.core.customer_mail import render, template_source
from supportcli.core.policy import Policy
from supportcli.core.targets import RESOLVE, RESPOND, UPDATE
from supportcli.store import outbox
from supportcli.store.models import Event, MailMessage, Notice, Target, Ticket
from supportcli.store.tickets import Actor, record

# Which policy flag allows each mail.
FLAG_OF = {
    "acknowledge": "acknowledge",
    "update": "update",
    "resolve": "resolve",
    "feedback_request": "feedback_request",
}


@dataclass
class CustomerMailer:
    """The customer mail one command may send, and the notices it queued (to deliver after the commit)."""

    policy: Policy
    templates: Path | None
    enabled: bool = True
    queued: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        """Customer mail comes from the policy's ``notify.email_from``, the address replies go back to."""
        return self.policy.notify.email_from

    def wants(self, mail: str) -> bool:
        """Whether this command sends ``mail`` (the policy allows it and ``--no-mail`` was not given)."""
        return self.enabled and bool(getattr(self.policy.customer_mail, FLAG_OF[mail]))

    def queue(self, session: Session, ticket: Ticket, mail: str, actor: Actor, message: str = "") -> None:
        """Add ``mail`` for the customer and watchers to the outbox, keyed by the history event that caused it."""
        if not self.wants(mail):
            return
        if not self.sender:
            self.skipped.append(f"no {mail} mail for #{ticket.id}: set notify.email_from in the policy to send it")
            return
        recipients = _recipients(ticket)
        if not recipients:
            self.skipped.append(f"#{ticket.id} has no customer e-mail address: no {mail} mail")
            return
        session.flush()
        cause = session.exec(
            select(Event.id).where(Event.ticket_id == ticket.id).order_by(col(Event.id).desc()).limit(1)
        ).one()
        text, origin = template_source(mail, self.templates)
        rendered = render(mail, text, self._fields(session, ticket, message), origin)
        thread = _thread_headers(session, ticket.id or 0)
        content = outbox.Message(
            event=f"customer-{mail}",
            ticket_id=ticket.id,
            target=None,
            due_at=None,
            subject=rendered.subject,
            body=rendered.body,
            payload={"headers": thread} if thread else {},
        )
        domain = self.sender.rpartition("@")[2] or "localhost"
        key = f"customer-{mail}:{ticket.id}:{cause}"
        added = [r for r in recipients if outbox.enqueue(session, key, content, "email", r, actor.at, domain)]
        session.flush()
        keys = [f"{key}|email|{recipient}" for recipient in recipients]
        self.queued += [i for i in session.exec(select(Notice.id).where(col(Notice.key).in_(keys))) if i is not None]
        record(session, ticket, actor, "customer-mail", f"{mail} mail to {', '.join(added)}", mail=mail, to=added)

    def _fields(self, session: Session, ticket: Ticket, message: str) -> dict[str, str]:
        zone = ZoneInfo(self.policy.calendar.timezone)
        due = {
            target.name: target.due_at
            for target in session.exec(select(Target).where(Target.ticket_id == ticket.id))
            if target.state in ("pending", "paused") and target.due_at is not None
        }

        def when(name: str) -> str:
            at = due.get(name)
            return at.astimezone(zone).strftime("%a %d %b %Y %H:%M") if at else "soon"

        return {
            "id": str(ticket.id),
            "tag": f"[#{ticket.id}]",
            "subject": ticket.subject,
            "customer_name": ticket.customer_name or "customer",
            "customer_email": ticket.customer_email or "",
            "status": ticket.status,
            "owner": ticket.owner or "our team",
            "owner_sentence": f"{ticket.owner} is looking after it." if ticket.owner else "",
            "team": self.policy.name,
            "message": message.strip(),
            "message_paragraph": f"{message.strip()}\n" if message.strip() else "",
            "respond_due": when(RESPOND.name),
            "resolve_due": when(RESOLVE.name),
            "next_update_sentence": f"We will update you again by {when(UPDATE.name)}." if UPDATE.name in due else "",
        }


def _recipients(ticket: Ticket) -> list[str]:
    addresses = [ticket.customer_email or "", *ticket.watcher_list]
    return list(dict.fromkeys(a.strip().lower() for a in addresses if a and "@" in a))


def _thread_headers(session: Session, ticket_id: int) -> dict[str, str]:
    """In-Reply-To/References naming the customer's latest message, so their mail program threads our answer."""
    latest = session.exec(
        select(MailMessage.message_key)
        .where(MailMessage.ticket_id == ticket_id, col(MailMessage.message_key).startswith("<"))
        .order_by(col(MailMessage.id).desc())
        .limit(1)
    ).first()
    return {"In-Reply-To": latest, "References": latest} if latest else {}
