"""The e-mail gateway's store side (README "E-mail in and out"): one inbound message becomes a ticket, a reply, or a logged refusal.

``receive`` runs inside one write transaction, so the ticket change and the
record of the message (its key, what happened, why) commit together: a
message is either wholly handled or not at all, and the unique message key
makes a second delivery of the same message a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from supportcli.core.mail import InboundMail, find_ticket_reference, parse_rating, refusal_reason, watchers
from supportcli.core.tickets import NewTicket
from supportcli.store import tickets
from supportcli.store.models import MailMessage, Notice, Ticket, encode_list
from supportcli.store.outbox import stable_id
from supportcli.store.policies import PolicyBook
from supportcli.store.queries import newest_first
from supportcli.store.tickets import Actor

RATE_WINDOW = timedelta(hours=1)
PURGED_MESSAGE_KEY_PREFIX = "purged:"
GATEWAY_ACTOR = "mail-in"  # who logs a ticket that arrived by e-mail


@dataclass(frozen=True)
class GatewaySettings:
    """How mail-in treats messages: our own addresses (loops), the per-sender limit, what new tickets are."""

    own_addresses: Sequence[str] = ()
    max_per_hour: int = 20
    kind: str = "enquiry"
    priority: str = "normal"
    default_owner: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: ``ticket`` (new), ``reply``, ``refused`` or ``duplicate``.

    ``rejected`` marks a refusal of input that is not readable mail (not an e-mail, too large,
    not storable), as opposed to noise: the command exits 2 for it (README "E-mail in and out"), which a mail
    server treats as a permanent failure. Noise is refused with exit 0, as bouncing an
    auto-reply would only start a loop.
    """

    outcome: str
    ticket_id: int | None
    reason: str
    from_address: str
    subject: str
    message_key: str
    rejected: bool = False

    def describe(self) -> str:
        """One line for stderr and cron mail."""
        sender = self.from_address or "(no sender)"
        if self.outcome == "ticket":
            return f"new ticket #{self.ticket_id} from {sender}: {self.subject}"
        if self.outcome == "reply":
            return f"reply from {sender} added to #{self.ticket_id}{f' ({self.reason})' if self.reason else ''}"
        if self.outcome == "duplicate":
            return f"already recorded: {self.message_key} ({self.reason})"
        return f"refused mail from {sender}: {self.reason}"


def message_key(mail: InboundMail | None, raw: bytes) -> str:
    """The Message-ID, or a hash of the bytes for a message without one, so a redelivery is recognised."""
    if mail is not None and mail.message_id:
        return mail.message_id[:500]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def purged_message_key(key: str) -> str:
    """What a purge leaves of a message key: a hash (a Message-ID often holds the sender's address or name),
    by which a second delivery of the message is still recognised."""
    return f"{PURGED_MESSAGE_KEY_PREFIX}{stable_id(key)}"


def refuse_unreadable(session: Session, raw: bytes, reason: str, now: datetime) -> Outcome:
    """Log input that is not an e-mail at all (nothing to ticket, but the refusal is recorded once)."""
    key = message_key(None, raw)
    seen = _already_recorded(session, key)
    if seen is not None:
        return seen
    return replace(_recorded(session, key, None, "refused", reason, "", "", now), rejected=True)


def receive(session: Session, mail: InboundMail, raw: bytes, settings: GatewaySettings, now: datetime) -> Outcome:
    """Handle one parsed message: duplicate, refusal, reply on its ticket, or a new ticket."""
    key = message_key(mail, raw)
    seen = _already_recorded(session, key)
    if seen is not None:
        return seen
    reason = refusal_reason(mail, own_addresses=settings.own_addresses) or _over_limit(session, mail, settings, now)
    if reason:
        return _recorded(session, key, None, "refused", reason, mail.from_address, mail.subject, now)
    ticket = _answered_ticket(session, mail)
    if ticket is not None:
        what = _add_reply(session, ticket, mail, settings, now)
        return _recorded(session, key, ticket.id, "reply", what, mail.from_address, mail.subject, now)
    ticket = _new_ticket(session, mail, settings, now)
    return _recorded(session, key, ticket.id, "ticket", "", mail.from_address, mail.subject, now)


def mail_log(session: Session, outcomes: Sequence[str] = (), limit: int | None = None) -> list[MailMessage]:
    """Recorded inbound messages, newest first, optionally only some outcomes (``mail log``)."""
    return newest_first(session, MailMessage, col(MailMessage.outcome), outcomes, limit)


def add_watchers(session: Session, ticket: Ticket, addresses: Sequence[str]) -> list[str]:
    """Add addresses to a ticket's watchers (customer mail goes to them too); returns those that were new."""
    current = ticket.watcher_list
    known = {*current, (ticket.customer_email or "").lower()}
    added = [a for a in dict.fromkeys(a.strip().lower() for a in addresses) if a and a not in known]
    if added:
        ticket.watchers = encode_list([*current, *added])
        session.add(ticket)
    return added


def remove_watchers(session: Session, ticket: Ticket, addresses: Sequence[str]) -> list[str]:
    """Stop addresses watching a ticket; returns those that were watching."""
    gone = {a.strip().lower() for a in addresses}
    kept = [a for a in ticket.watcher_list if a not in gone]
    removed = [a for a in ticket.watcher_list if a in gone]
    ticket.watchers = encode_list(kept)
    session.add(ticket)
    return removed


def change_watchers(
    session: Session, ticket_id: int, actor: Actor, addresses: Sequence[str], remove: bool
) -> list[str]:
    """``watch``: add (or remove) watchers by hand, recorded in the ticket's history."""
    ticket = tickets.changeable(session, ticket_id)
    changed = remove_watchers(session, ticket, addresses) if remove else add_watchers(session, ticket, addresses)
    if changed:
        kind = "watchers-removed" if remove else "watchers-added"
        tickets.record(session, ticket, actor, kind, ", ".join(changed), addresses=changed)
        ticket.updated_at = actor.at
        session.add(ticket)
    return changed


def _already_recorded(session: Session, key: str) -> Outcome | None:
    """The record of a message handled before, also when a purge has since left only a hash of its key."""
    keys = [key, purged_message_key(key)]
    row = session.exec(select(MailMessage).where(col(MailMessage.message_key).in_(keys))).first()
    if row is None:
        return None
    what = f"first handled {row.at.isoformat(timespec='seconds')}: {row.outcome}"
    if row.ticket_id:
        what += f" #{row.ticket_id}"
    return Outcome("duplicate", row.ticket_id, what, row.from_address, row.subject, key)


def _recorded(
    session: Session,
    key: str,
    ticket_id: int | None,
    outcome: str,
    reason: str,
    sender: str,
    subject: str,
    now: datetime,
) -> Outcome:
    session.add(
        MailMessage(
            message_key=key,
            ticket_id=ticket_id,
            at=now,
            from_address=sender[:320],
            subject=subject[:500],
            outcome=outcome,
            reason=reason[:500],
        )
    )
    return Outcome(outcome, ticket_id, reason, sender, subject, key)


def _over_limit(session: Session, mail: InboundMail, settings: GatewaySettings, now: datetime) -> str | None:
    """A sender past the per-hour limit is most likely a loop with an auto-responder that hides itself."""
    if not mail.from_address:
        return None
    recent = session.exec(
        select(func.count())
        .select_from(MailMessage)
        .where(
            MailMessage.from_address == mail.from_address,
            col(MailMessage.at) > now - RATE_WINDOW,
            col(MailMessage.outcome).in_(["ticket", "reply"]),
        )
    ).one()
    if recent >= settings.max_per_hour:
        return (
            f"rate limit: {recent} messages from {mail.from_address} in the last hour (limit {settings.max_per_hour})"
        )
    return None


def _answered_ticket(session: Session, mail: InboundMail) -> Ticket | None:
    """The ticket a reply belongs to, if it exists and can still change (a purged one cannot: mail starts anew)."""

    def ours(message_id: str) -> int | None:
        sent = session.exec(select(Notice.ticket_id).where(Notice.message_id == message_id).limit(1)).first()
        if sent is not None:
            return sent
        return session.exec(select(MailMessage.ticket_id).where(MailMessage.message_key == message_id).limit(1)).first()

    ticket_id = find_ticket_reference(mail, ours)
    if ticket_id is None or ticket_id > 2**31 - 1:
        return None
    ticket = session.get(Ticket, ticket_id)
    return ticket if ticket is not None and ticket.purged_at is None else None


def _add_reply(session: Session, ticket: Ticket, mail: InboundMail, settings: GatewaySettings, now: datetime) -> str:
    """The customer wrote back: resume a waiting ticket, take a rating, or reopen a resolved one per the policy."""
    actor = Actor(mail.from_address or GATEWAY_ACTOR, max(now, ticket.received_at))
    ticket_id = ticket.id or 0
    did = ""
    if ticket.status == "waiting" and (ticket.waiting_since is None or ticket.waiting_since <= actor.at):
        tickets.resume(session, ticket_id, actor, "customer replied by e-mail")
        did = "resumed"
    elif ticket.status in ("resolved", "closed"):
        rating = parse_rating(mail.body_text)
        policy = PolicyBook(session, now.year).policy(ticket.policy_version)
        if rating is not None:
            tickets.add_feedback(session, ticket_id, actor, rating, "rating sent by e-mail")
            did = f"rated {rating}/5"
        elif policy.automation.reopen_on_reply:
            tickets.reopen(session, ticket_id, actor, "customer replied by e-mail")
            did = "reopened"
    attachments = _attachments_line(mail)
    tickets.customer_message(
        session,
        ticket,
        actor,
        "\n\n".join(part for part in (_clean(mail.body_text), f"[{attachments}]" if attachments else "") if part),
        **_mail_facts(mail, add_watchers(session, ticket, watchers(mail, settings.own_addresses))),
    )
    return did


def _new_ticket(session: Session, mail: InboundMail, settings: GatewaySettings, now: datetime) -> Ticket:
    new = NewTicket(
        subject=_clean(mail.subject).strip()[:500] or "(no subject)",
        body=_clean(mail.body_text),
        kind=settings.kind,
        channel="email",
        priority=settings.priority,
        customer_name=_clean(mail.from_name) or None,
        customer_email=mail.from_address or None,
        received_at=min(mail.date, now),
    )
    ticket = tickets.log_ticket(session, new, Actor(GATEWAY_ACTOR, now), settings.default_owner)
    added = add_watchers(session, ticket, watchers(mail, settings.own_addresses))
    facts = _mail_facts(mail, added)
    tickets.record(session, ticket, Actor(GATEWAY_ACTOR, now), "received-by-mail", _attachments_line(mail), **facts)
    return ticket


def _mail_facts(mail: InboundMail, new_watchers: list[str]) -> dict[str, object]:
    facts: dict[str, object] = {"message_id": mail.message_id, "from": mail.from_address}
    if new_watchers:
        facts["watchers_added"] = new_watchers
    if mail.attachments:
        facts["attachments"] = [{"name": a.filename, "size": a.size_bytes} for a in mail.attachments]
    if mail.problems:
        facts["problems"] = mail.problems
    return facts


def _attachments_line(mail: InboundMail) -> str:
    if not mail.attachments:
        return ""
    listed = ", ".join(f"{_clean(a.filename) or '(unnamed)'} ({_size(a.size_bytes)})" for a in mail.attachments)
    return f"attachments (not stored): {listed}"


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def _clean(text: str) -> str:
    """Mail can carry NUL and lone surrogates; the store takes neither."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
