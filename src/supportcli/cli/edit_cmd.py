"""``edit``: correct or reclassify tickets (README "Correcting and finding tickets")."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli import complete
from supportcli.cli.common import MAX_ID, At, acting, parse_time, write
from supportcli.cli.context import AppContext
from supportcli.cli.output_options import json_flag
from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES
from supportcli.core.timeparse import Looking

if TYPE_CHECKING:
    from sqlmodel import Session

    from supportcli.core.edits import FieldValue, TicketEdit
    from supportcli.store.edits import EditOutcome

CLEAR = "-"  # the value that clears a field

TicketIds = Annotated[
    list[int],
    typer.Argument(metavar="ID", help="Ticket numbers.", min=1, max=MAX_ID, autocompletion=complete.ticket_ids),
]


def edit(
    ctx: typer.Context,
    ticket_ids: TicketIds,
    subject: Annotated[str | None, typer.Option("--subject", "-s", metavar="TEXT", help="New subject.")] = None,
    body: Annotated[
        str | None, typer.Option("--body", "-b", metavar="TEXT", help="New full text ('-' clears it).")
    ] = None,
    kind: Annotated[str | None, complete.choice_option("--kind", "-k", values=KINDS, help="One of:")] = None,
    channel: Annotated[str | None, complete.choice_option("--channel", "-c", values=CHANNELS, help="One of:")] = None,
    priority: Annotated[
        str | None, complete.choice_option("--priority", "-p", values=PRIORITIES, help="One of:")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", metavar="TEXT", help="Category ('-' clears it).")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", metavar="TEXT", help="Client organisation ('-' clears it).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", metavar="TEXT", help="Customer name ('-' clears it).")] = None,
    email: Annotated[
        str | None, typer.Option("--email", metavar="TEXT", help="Customer e-mail ('-' clears it).")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", metavar="TEXT", help="Customer phone ('-' clears it).")
    ] = None,
    received: Annotated[
        str | None, typer.Option("--received", metavar="WHEN", help="When the customer made contact.")
    ] = None,
    add_tag: Annotated[
        list[str] | None, typer.Option("--add-tag", metavar="TAG", help="Add a tag; repeatable.")
    ] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--remove-tag", metavar="TAG", help="Remove a tag; repeatable.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, due times included; change nothing.")
    ] = False,
    at: At = None,
    json_output: Annotated[bool, json_flag("Write the edited tickets as JSON.")] = False,
) -> None:
    """Correct or reclassify tickets: each change is recorded in history, old → new.

    A change of kind, channel, priority, org or the received time picks the policy rule again and re-plans
    the targets from their clock start: met targets stay met, pending ones get new due times. Several ids
    get the same change, all or none. '-' clears a field.

    Examples:

      supportcli edit 12 --priority urgent

      supportcli edit 12 13 --category billing --add-tag refund --dry-run

      supportcli edit 12 --kind complaint --received "fri 16:45" --email -
    """
    obj: AppContext = ctx.obj
    change = _ticket_edit(
        obj,
        {
            "subject": subject,
            "body": body,
            "kind": kind,
            "channel": channel,
            "priority": priority,
            "org": org,
            "category": category,
            "name": name,
            "email": email,
            "phone": phone,
            "received": received,
        },
        add_tag or [],
        remove_tag or [],
    )
    actor = acting(obj, at)

    def work(session: Session) -> tuple[list[str], list[dict[str, Any]]]:
        from supportcli.store.edits import edit_tickets

        outcomes = edit_tickets(session, ticket_ids, actor, change)
        lines, records = _report(obj, session, outcomes, dry_run)
        if dry_run:
            raise _Rollback(lines, records)
        return lines, records

    try:
        lines, records = write(obj, work)
    except _Rollback as rolled_back:
        lines, records = rolled_back.lines, rolled_back.records
    for line in lines:
        obj.output.message(line)
    if dry_run:
        obj.output.message("dry run: nothing was changed")
    if json_output:
        from supportcli.render.output import Format

        obj.output.records(Format.JSON, records)


class _Rollback(Exception):
    """Raised inside the write transaction of a dry run, so it rolls back, carrying what it would have done."""

    def __init__(self, lines: list[str], records: list[dict[str, Any]]) -> None:
        super().__init__("dry run")
        self.lines, self.records = lines, records


def _ticket_edit(
    obj: AppContext, given: dict[str, str | None], add_tags: list[str], remove_tags: list[str]
) -> TicketEdit:
    """The edit the options ask for, each value checked as ``log`` checks it (exit 2 before anything is read)."""
    from supportcli.core.edits import TicketEdit
    from supportcli.core.tickets import check_choice, check_email, check_phone, check_tags
    from supportcli.errors import InvalidInput

    values: dict[str, FieldValue] = {}
    for field, text in given.items():
        if text is None:
            continue
        cleared = text.strip() in (CLEAR, "")
        if field == "subject" and not text.strip():
            raise InvalidInput("the subject is empty")
        if cleared:
            values[field] = None
        elif field == "kind":
            values[field] = check_choice(text, KINDS, "kind")
        elif field == "channel":
            values[field] = check_choice(text, CHANNELS, "channel")
        elif field == "priority":
            values[field] = check_choice(text, PRIORITIES, "priority")
        elif field == "email":
            values[field] = check_email(text)
        elif field == "phone":
            values[field] = check_phone(text, obj.newest_policy().calendar.country)
        elif field == "received":
            values[field] = _received(obj, text)
        elif field == "body":
            values[field] = text
        else:
            values[field] = text.strip()
    if values.get("body", "") is None:
        values["body"] = ""  # a ticket's body is text: cleared, it is empty
    return TicketEdit(values, check_tags(add_tags), check_tags(remove_tags))


def _received(obj: AppContext, text: str) -> datetime:
    """A new received time: like ``log --received``, never in the future."""
    from supportcli.errors import InvalidInput

    when = parse_time(obj, text, Looking.BACK)
    if when > obj.now():
        raise InvalidInput("--received is in the future")
    return when


def _report(
    obj: AppContext, session: Session, outcomes: list[EditOutcome], dry_run: bool
) -> tuple[list[str], list[dict[str, Any]]]:
    """The lines saying what changed on each ticket, and the tickets as ``list --json`` records (as they are now,
    or, in a dry run, as they would be)."""
    from supportcli.render.tickets import event_text, ticket_record
    from supportcli.store.policies import PolicyBook
    from supportcli.store.tickets import targets_of

    now = obj.now()
    book = PolicyBook(session, now.year)
    lines: list[str] = []
    records: list[dict[str, Any]] = []
    for outcome in outcomes:
        ticket = outcome.ticket
        policy, calendar = book.get(ticket.policy_version)
        if not outcome.events:
            lines.append(f"#{ticket.id} unchanged: it already is as asked")
        for event in outcome.events:
            lines.append(f"#{ticket.id} {event_text(event, calendar)}")
        if outcome.events and not dry_run:
            lines.append(f"#{ticket.id} edited (status: {ticket.status})")
        records.append(ticket_record(ticket, targets_of(session, ticket.id or 0), calendar, policy.tiers, now))
    return lines, records
