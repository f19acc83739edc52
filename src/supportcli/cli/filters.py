"""The ticket filters of ``list``, ``search`` and ``export``, declared once: each is a row of ``FILTERS``.

A row is the option and how its values narrow a ``store.queries.TicketFilter``. ``@filter_options`` gives a
command every filter in place of its parameter ``filters: FilterValues``, and ``ticket_filter`` turns the
values given into the TicketFilter. A new filter is a row here, and (when it narrows on something new) a
field of ``TicketFilter`` and its clause in ``ticket_statement``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli import complete
from supportcli.cli.common import options_in_place_of, parse_time
from supportcli.cli.context import AppContext
from supportcli.core.tickets import CHANNELS, KINDS, OPEN_STATUSES, PRIORITIES, STATUSES, check_choice
from supportcli.core.timeparse import Looking

if TYPE_CHECKING:
    from supportcli.store.queries import TicketFilter

# A Typer command function; the decorators return its wrapper, whose signature has the shared options.
Command = Callable[..., Any]
# What a filter's values become: some of the fields of a TicketFilter.
Narrowing = dict[str, Any]


class FilterValues(dict[str, Any]):
    """The values given to the filter options, by filter name (what ``filter_options`` passes a command)."""


@dataclass(frozen=True)
class Filter:
    """One filter option: its names and help, and what its values narrow: a list when ``repeatable``, one
    text otherwise, True for a ``switch`` (an option without a value, such as ``--mine``)."""

    name: str
    flags: tuple[str, ...]
    metavar: str
    help: str
    narrow: Callable[[AppContext, Any], Narrowing]
    repeatable: bool = True
    completion: Callable[..., Any] | None = None
    switch: bool = False  # an on/off flag that takes no value (``--mine``)

    def parameter(self, taken: Sequence[str]) -> inspect.Parameter:
        """The command parameter of this option, without any of its short names in ``taken``."""
        flags = [flag for flag in self.flags if flag not in taken]
        if self.switch:
            switch = typer.Option(*flags, help=self.help)
            return inspect.Parameter(
                self.name, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, switch]
            )
        option = typer.Option(*flags, metavar=self.metavar, help=self.help, autocompletion=self.completion)
        kind = list[str] | None if self.repeatable else str | None
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind, option]
        )


def _choice(name: str, short: str, allowed: tuple[str, ...], into: str) -> Filter:
    """A filter on one of a fixed set of values (a kind, a channel, a priority)."""
    return Filter(
        name,
        (f"--{name}", short),
        name.upper(),
        f"{name.capitalize()}; repeatable.",
        lambda _, values: {into: [check_choice(value, allowed, name) for value in values]},
        completion=complete.fixed(allowed),
    )


def _statuses(_: AppContext, values: list[str]) -> Narrowing:
    statuses: list[str] = []
    for value in values:
        statuses.extend(OPEN_STATUSES if value.strip().lower() == "open" else [check_choice(value, STATUSES, "status")])
    return {"statuses": statuses}


def _mine(obj: AppContext, _: bool) -> Narrowing:
    """The acting user's tickets and those of the absent colleagues they cover (``store.staff.handled_by``)."""
    from supportcli.store.staff import handled_by

    with obj.store().read() as session:
        return {"handled": handled_by(session, obj.actor, obj.now())}


def _search(obj: AppContext, text: str) -> Narrowing:
    """A search; text without a word finds nothing (an empty listing is success), and says so."""
    from supportcli.store.search import parse_query

    if not parse_query(text):
        obj.output.message(f"nothing to search for in {text!r}: give a word")
    return {"search": text}


def _tiers(obj: AppContext, values: list[str]) -> Narrowing:
    from supportcli.core.tickets import tier_index

    tiers = obj.newest_policy().tiers
    return {"tiers": [tier_index(tiers, value) for value in values]}


FILTERS = (
    Filter(
        "status",
        ("--status", "-s"),
        "STATUS",
        f"open, or one of: {', '.join(STATUSES)}; repeat for more.",
        _statuses,
        completion=complete.fixed(("open", *STATUSES)),
    ),
    _choice("kind", "-k", KINDS, "kinds"),
    _choice("channel", "-c", CHANNELS, "channels"),
    _choice("priority", "-p", PRIORITIES, "priorities"),
    Filter(
        "owner",
        ("--owner", "-o"),
        "NAME",
        "Owner, any case ('-' = unassigned); repeatable.",
        lambda _, values: {"owners": [o for o in values if o != "-"], "unassigned": "-" in values},
        completion=complete.staff_names,
    ),
    Filter(
        "mine",
        ("--mine",),
        "",
        "Only tickets I handle: mine, and those of absent colleagues I cover.",
        _mine,
        switch=True,
    ),
    Filter("org", ("--org",), "ORG", "Organisation, any case; repeatable.", lambda _, values: {"orgs": values}),
    Filter("tier", ("--tier",), "TIER", "Tier name or number; repeatable.", _tiers, completion=complete.tiers),
    Filter(
        "category",
        ("--category",),
        "CATEGORY",
        "Category, any case; repeatable.",
        lambda _, values: {"categories": values},
    ),
    Filter("reference", ("--reference",), "REF", "Imported reference; repeatable.", lambda _, v: {"references": v}),
    Filter(
        "tag",
        ("--tag", "-t"),
        "TAG",
        "Has this tag, any case; repeat for all of several.",
        lambda _, values: {"tags": values},
    ),
    Filter(
        "overdue",
        ("--overdue",),
        "",
        "Only tickets with a breached pending target (those `overdue` lists).",
        lambda obj, _: {"overdue_at": obj.now()},
        switch=True,
    ),
    Filter(
        "search",
        ("--search",),
        "TEXT",
        'Full-text search as `search` does: words, "a phrase", refun*; best first.',
        _search,
        repeatable=False,
    ),
    Filter(
        "email",
        ("--email",),
        "ADDR",
        "The customer's whole e-mail address, any case; repeatable.",
        lambda _, values: {"emails": values},
    ),
    Filter(
        "name",
        ("--name",),
        "TEXT",
        "The customer's name contains this, any case; repeatable.",
        lambda _, values: {"names": values},
    ),
    Filter(
        "phone",
        ("--phone",),
        "NUMBER",
        "The customer's phone number, compared by digits (07700 900123 finds +44 7700 900123); repeatable.",
        lambda _, values: {"phones": values},
    ),
    Filter(
        "since",
        ("--since",),
        "WHEN",
        "Received at or after.",
        lambda obj, value: {"since": parse_time(obj, value, Looking.BACK)},
        repeatable=False,
    ),
    Filter(
        "until",
        ("--until",),
        "WHEN",
        "Received before.",
        lambda obj, value: {"until": parse_time(obj, value, Looking.BACK)},
        repeatable=False,
    ),
)


def filter_options(*, taken: Sequence[str] = (), without: Sequence[str] = ()) -> Callable[[Command], Command]:
    """Give a command every filter of ``FILTERS`` in place of its parameter ``filters: FilterValues``.

    ``taken``: short names the command gives its own options (``export``'s ``-o`` is ``--output``), left off
    the filters. ``without``: filters the command fills itself (``search``'s words are its ``search``).
    """
    rows = [row for row in FILTERS if row.name not in without]
    options = [row.parameter(taken) for row in rows]

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args: Any, **given: Any) -> Any:
            filters = FilterValues((row.name, given.pop(row.name)) for row in rows)
            return command(*args, filters=filters, **given)

        return options_in_place_of(run, command, "filters", options)

    return decorate


def ticket_filter(obj: AppContext, filters: FilterValues) -> TicketFilter:
    """The TicketFilter of the filter values given (each checked, as the option's help says)."""
    from supportcli.store.queries import TicketFilter

    narrowing: Narrowing = {}
    for row in FILTERS:
        value = filters.get(row.name)
        if value:
            narrowing.update(row.narrow(obj, value))
    return TicketFilter(**narrowing)
