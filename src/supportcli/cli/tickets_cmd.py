"""The daily commands: log, ack, update, assign, escalate, wait/resume, extend, resolve, close, reopen, feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from supportcli.cli import complete
from supportcli.cli.common import At, Message, TicketId, acting, confirm, emit_ticket_json, parse_time, read_text, write
from supportcli.cli.context import AppContext
from supportcli.cli.customer_mail_out import NoMail, customer_mailer, send_customer_mail
from supportcli.cli.output_options import json_flag, quiet_flag
from supportcli.core.tickets import (
    CHANNELS,
    KINDS,
    PRIORITIES,
    check_choice,
    check_email,
    check_phone,
    check_rating,
    check_tags,
)
from supportcli.core.timeparse import Looking

if TYPE_CHECKING:
    from sqlmodel import Session

    from supportcli.store.models import Ticket


def log(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(metavar="SUBJECT", help="One line saying what the contact is about.")],
    body: Annotated[str, typer.Option("--body", "-b", help="Full text ('-' reads stdin).")] = "",
    kind: Annotated[str, complete.choice_option("--kind", "-k", values=KINDS, help="One of:")] = "enquiry",
    channel: Annotated[str, complete.choice_option("--channel", "-c", values=CHANNELS, help="One of:")] = "email",
    priority: Annotated[str, complete.choice_option("--priority", "-p", values=PRIORITIES, help="One of:")] = "normal",
    name: Annotated[str | None, typer.Option("--name", help="Customer name.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Customer e-mail.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Customer phone.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Client organisation.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="For analysis of complaints and feedback.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for more.")] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner", "-o", help="Single point of contact (default: none).", autocompletion=complete.staff_names
        ),
    ] = None,
    received: Annotated[
        str | None,
        typer.Option("--received", metavar="WHEN", help="When the customer made contact (default: now)."),
    ] = None,
    quiet: Annotated[bool, quiet_flag("Print only the ticket id.")] = False,
    json_output: Annotated[bool, json_flag("Write the ticket as JSON.")] = False,
) -> None:
    """Log a new ticket and compute its due times.

    Examples:

      supportcli log "Invoice address wrong" --channel letter --name "Ann Lee" --received "yesterday 16:45"

      supportcli log "Engineer never came" --kind complaint --org Acme --tag visit -q
    """
    from supportcli.core.tickets import NewTicket
    from supportcli.store.staff import check_staff_name
    from supportcli.store.tickets import log_ticket

    obj: AppContext = ctx.obj
    if not subject.strip():
        from supportcli.errors import InvalidInput

        raise InvalidInput("the subject is empty")
    tags = check_tags(tag or [])
    new = NewTicket(
        subject=subject.strip(),
        body=read_text(body),
        kind=check_choice(kind, KINDS, "kind"),
        channel=check_choice(channel, CHANNELS, "channel"),
        priority=check_choice(priority, PRIORITIES, "priority"),
        customer_name=name,
        customer_email=check_email(email),
        customer_phone=check_phone(phone, obj.newest_policy().calendar.country) if phone else None,
        org=org,
        category=category,
        tags=tags,
        owner=owner,
        received_at=parse_time(obj, received, Looking.BACK) if received else None,
    )
    actor = acting(obj, None)
    default_owner = obj.config.get("default_owner") if isinstance(obj.config.get("default_owner"), str) else None

    def work(session: Session) -> Ticket:
        if owner is not None:
            check_staff_name(session, owner)
        return log_ticket(session, new, actor, default_owner)

    ticket = write(obj, work)
    if json_output:
        emit_ticket_json(obj, ticket.id or 0)
    elif quiet or not obj.output.is_terminal:
        obj.output.line(str(ticket.id))
    else:
        obj.output.line(f"#{ticket.id}")
        obj.output.message(f"logged #{ticket.id}: {ticket.subject}")


def ack(ctx: typer.Context, ticket_id: TicketId, message: Message = "", at: At = None, no_mail: NoMail = False) -> None:
    """Acknowledge receipt (meets the acknowledge target).

    With [customer_mail] acknowledge = true in the policy, the customer is sent the acknowledgement.

    Example: supportcli ack 12 -m "Letter acknowledged by phone" --at "today 10:15"
    """
    from supportcli.store.tickets import acknowledge

    obj: AppContext = ctx.obj
    actor = acting(obj, at)
    mailer = customer_mailer(obj, no_mail)

    def work(session: Session) -> Ticket:
        ticket = acknowledge(session, ticket_id, actor, message)
        mailer.queue(session, ticket, "acknowledge", actor, message)
        return ticket

    confirm(obj, write(obj, work), "acknowledged")
    send_customer_mail(obj, mailer)


def update(
    ctx: typer.Context,
    ticket_id: TicketId,
    message: Annotated[str, typer.Option("--message", "-m", help="What was done or told to the customer.")],
    internal: Annotated[
        bool, typer.Option("--internal", help="An internal note: not customer-facing, meets nothing.")
    ] = False,
    next_update: Annotated[
        str | None,
        typer.Option("--next", metavar="WHEN", help="Time agreed with the customer for the next update."),
    ] = None,
    at: At = None,
    no_mail: NoMail = False,
) -> None:
    """Add a progress update (customer-facing unless --internal).

    A customer-facing update meets the respond target and restarts the update clock.

    Examples:

      supportcli update 12 -m "Proposed a refund of the delivery charge"

      supportcli update 12 -m "Engineer booked" --next "next fri 12:00"

      supportcli update 12 --internal -m "Waiting for the warehouse"
    """
    from supportcli.store.tickets import add_update

    obj: AppContext = ctx.obj
    actor = acting(obj, at)
    next_at = parse_time(obj, next_update, Looking.AHEAD) if next_update else None
    mailer = customer_mailer(obj, no_mail or internal)

    def work(session: Session) -> Ticket:
        ticket = add_update(session, ticket_id, actor, message, internal, next_at)
        mailer.queue(session, ticket, "update", actor, message)
        return ticket

    confirm(obj, write(obj, work), "note added" if internal else "updated")
    send_customer_mail(obj, mailer)


def assign(
    ctx: typer.Context,
    ticket_id: TicketId,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="New owner; '-' to unassign.", autocompletion=complete.staff_names)
    ],
) -> None:
    """Change the owner (the single point of contact).

    Example: supportcli assign 12 priya
    """
    from supportcli.store.staff import check_staff_name
    from supportcli.store.tickets import assign as assign_ticket

    obj: AppContext = ctx.obj
    owner = None if name.strip() in ("-", "") else name.strip()
    actor = acting(obj, None)

    def work(session: Session) -> Ticket:
        if owner is not None:
            check_staff_name(session, owner)
        return assign_ticket(session, ticket_id, actor, owner)

    confirm(obj, write(obj, work), f"assigned to {owner or 'nobody'}")


def escalate(
    ctx: typer.Context,
    ticket_id: TicketId,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it is escalated (required).")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="TIER", help="Tier name or number (default: one up).", autocompletion=complete.tiers
        ),
    ] = None,
) -> None:
    """Move a ticket up a tier (or to a named tier).

    Example: supportcli escalate 12 --reason "Customer unhappy with proposed resolution"
    """
    from supportcli.core.tickets import tier_index, tier_name
    from supportcli.store.policies import PolicyBook
    from supportcli.store.tickets import escalate as escalate_ticket
    from supportcli.store.tickets import get_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, None)

    def work(session: Session) -> Ticket:
        policy = PolicyBook(session, actor.at.year).policy(get_ticket(session, ticket_id).policy_version)
        tier = tier_index(policy.tiers, to) if to is not None else None
        ticket = escalate_ticket(session, ticket_id, actor, tier, reason, policy.tiers)
        obj.output.message(f"#{ticket.id} escalated to {tier_name(policy.tiers, ticket.tier)}")
        return ticket

    write(obj, work)


def wait(ctx: typer.Context, ticket_id: TicketId, message: Message = "", at: At = None) -> None:
    """Waiting on the customer: the clocks pause.

    Example: supportcli wait 12 -m "Asked for the order number"
    """
    from supportcli.store.tickets import wait as wait_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, at)
    confirm(
        obj, write(obj, lambda s: wait_ticket(s, ticket_id, actor, message)), "waiting on the customer; clocks paused"
    )


def resume(ctx: typer.Context, ticket_id: TicketId, message: Message = "", at: At = None) -> None:
    """The customer replied: the clocks resume with the working time they had left.

    Example: supportcli resume 12 -m "Order number received"
    """
    from supportcli.store.tickets import resume as resume_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, at)
    confirm(obj, write(obj, lambda s: resume_ticket(s, ticket_id, actor, message)), "resumed")


def extend(
    ctx: typer.Context,
    ticket_id: TicketId,
    until: Annotated[
        str, typer.Option("--until", metavar="WHEN", help="Expected completion, e.g. +5wd or 2026-12-18.")
    ],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it takes longer (required).")],
) -> None:
    """Record an expected completion beyond the target, with why.

    The target keeps its due time, so a breach stays recorded.

    Example: supportcli extend 12 --until +5wd --reason "Needs the supplier's report"
    """
    from supportcli.store.tickets import extend as extend_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, None)
    until_at = parse_time(obj, until, Looking.AHEAD)
    confirm(obj, write(obj, lambda s: extend_ticket(s, ticket_id, actor, until_at, reason)), "extended")


def resolve(
    ctx: typer.Context,
    ticket_id: TicketId,
    message: Annotated[str, typer.Option("--message", "-m", help="The resolution (required).")],
    at: At = None,
    no_mail: NoMail = False,
) -> None:
    """Resolve a ticket (meets every open target).

    With [customer_mail] resolve / feedback_request in the policy, the customer is sent the
    resolution and a request to rate it (a reply with "Rating: 4" records the rating).

    Example: supportcli resolve 12 -m "Refund issued"
    """
    from supportcli.store.tickets import resolve as resolve_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, at)
    mailer = customer_mailer(obj, no_mail)

    def work(session: Session) -> Ticket:
        ticket = resolve_ticket(session, ticket_id, actor, message)
        mailer.queue(session, ticket, "resolve", actor, message)
        mailer.queue(session, ticket, "feedback_request", actor)
        return ticket

    confirm(obj, write(obj, work), "resolved")
    send_customer_mail(obj, mailer)


def close(ctx: typer.Context, ticket_id: TicketId, message: Message = "") -> None:
    """Close a resolved ticket (or one still waiting on the customer).

    Example: supportcli close 12
    """
    from supportcli.store.tickets import close as close_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, None)
    confirm(obj, write(obj, lambda s: close_ticket(s, ticket_id, actor, message)), "closed")


def reopen(
    ctx: typer.Context,
    ticket_id: TicketId,
    message: Annotated[str, typer.Option("--message", "-m", help="Why it is reopened (required).")],
) -> None:
    """Reopen a resolved or closed ticket.

    Example: supportcli reopen 12 -m "Refund did not arrive"
    """
    from supportcli.store.tickets import reopen as reopen_ticket

    obj: AppContext = ctx.obj
    actor = acting(obj, None)
    confirm(obj, write(obj, lambda s: reopen_ticket(s, ticket_id, actor, message)), "reopened")


def feedback(
    ctx: typer.Context,
    ticket_id: TicketId,
    rating: Annotated[int, typer.Option("--rating", "-r", help="Customer satisfaction, 1 (poor) to 5 (excellent).")],
    message: Message = "",
) -> None:
    """Record the customer's satisfaction after resolution.

    Example: supportcli feedback 12 --rating 4 -m "Quick, friendly"
    """
    from supportcli.store.tickets import add_feedback

    obj: AppContext = ctx.obj
    check_rating(rating)
    actor = acting(obj, None)
    confirm(obj, write(obj, lambda s: add_feedback(s, ticket_id, actor, rating, message)), f"rated {rating}/5")
