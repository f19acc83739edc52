"""What the commands share: the ticket-id argument and time options, the acting person, one write, the ticket as
JSON, and options added by decorators.

No command lives here, so every command module can import it without importing another command module.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from supportcli.cli import complete
from supportcli.cli.context import AppContext
from supportcli.core.timeparse import Looking

if TYPE_CHECKING:
    from sqlmodel import Session

    from supportcli.store.models import Ticket
    from supportcli.store.tickets import Actor

T = TypeVar("T")
Wrapper = TypeVar("Wrapper", bound=Callable[..., Any])

MAX_ID = 2**31 - 1  # the largest id every supported database can hold
TicketId = Annotated[
    int, typer.Argument(metavar="ID", help="Ticket number.", min=1, max=MAX_ID, autocompletion=complete.ticket_ids)
]
Message = Annotated[str, typer.Option("--message", "-m", help="Text for the history (customer-facing unless noted).")]
At = Annotated[
    str | None,
    typer.Option("--at", metavar="WHEN", help="When it happened (default: now), e.g. 'today 14:00', '2h ago'."),
]


def parse_time(obj: AppContext, text: str, looking: Looking) -> datetime:
    """A time option in the current policy's calendar (naive = its timezone), read the way the option looks:
    back for what happened, ahead for what is planned (README, "Time words"). Every time option comes here, so
    each declares its direction once, and a time outside the calendar's span is refused where it is typed."""
    from supportcli.core.timeparse import read_when

    calendar = obj.calendar(obj.newest_policy())
    when = read_when(text, obj.now().astimezone(calendar.zone), calendar, looking)
    if when.note:
        obj.note(f"{text!r}: {when.note}")
    return when.instant


def acting(obj: AppContext, at: str | None) -> Actor:
    """The acting person and the instant of the action."""
    from supportcli.store.tickets import Actor

    if at:
        return Actor(obj.actor, parse_time(obj, at, Looking.BACK), stated=True)
    return Actor(obj.actor, obj.now())


def write(obj: AppContext, work: Callable[[Session], T]) -> T:
    """Run one change in one write transaction.

    The policy is parsed and its calendar built before the write lock is taken (both are cached
    per process), so concurrent writers do not queue behind that work.
    """
    obj.calendar(obj.newest_policy())
    return obj.store().run_write(work)


def confirm(obj: AppContext, ticket: Ticket, what: str) -> None:
    """Report a change on stderr: the ticket, what happened, and the status it is in now."""
    obj.output.message(f"#{ticket.id} {what} (status: {ticket.status})")


def read_text(value: str) -> str:
    """``-`` reads the text from stdin (for long bodies piped in)."""
    return sys.stdin.read() if value == "-" else value


def emit_ticket_json(obj: AppContext, ticket_id: int) -> None:
    """Write one ticket as its JSON record, with its body and history (``show --json``, ``log --json``)."""
    from supportcli.render.tickets import event_record, ticket_record
    from supportcli.store.policies import PolicyBook
    from supportcli.store.staff import covered_by
    from supportcli.store.tickets import events_of, get_ticket, targets_of

    now = obj.now()
    with obj.store().read() as session:
        ticket = get_ticket(session, ticket_id)
        policy, calendar = PolicyBook(session, now.year).get(ticket.policy_version)
        covering = covered_by(session, obj.actor, now)
        record = ticket_record(ticket, targets_of(session, ticket_id), calendar, policy.tiers, now, covering)
        record["body"] = ticket.body
        record["history"] = [event_record(event, calendar) for event in events_of(session, ticket_id)]
    obj.output.json(record)


def options_in_place_of(
    wrapper: Wrapper, command: Callable[..., Any], placeholder: str, options: Sequence[inspect.Parameter]
) -> Wrapper:
    """``wrapper`` (of ``command``) as Typer sees it: ``command``'s parameters with ``placeholder`` replaced by
    ``options``, in its place (where the command lists it is where its help shows them).

    Typer builds a command's options from ``inspect.signature``, which reads ``__signature__``: so a decorator
    gives many commands the same options (output formats, filters) declared once.
    """
    signature = inspect.signature(command, eval_str=True)
    if placeholder not in signature.parameters:
        raise TypeError(f"{command.__name__} has no parameter {placeholder!r} for its options")
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == placeholder:
            parameters += options
        elif parameters and parameters[-1].kind is inspect.Parameter.KEYWORD_ONLY:
            # After options that are keyword-only, so is the rest (Typer passes every value by name).
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        else:
            parameters.append(parameter)
    # typeshed declares no ``__signature__`` on callables, though inspect.signature reads it.
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return wrapper
