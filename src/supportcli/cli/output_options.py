"""The output options of every command, declared once (as sqlite-utils' ``output_options`` decorator does).

A listing takes ``@output_options(...)`` and one parameter ``listing: Listing``: the decorator gives the
command a flag for each row of ``FORMAT_FLAGS`` it can write (``--json``; ``--csv`` for listings of columns)
and, when asked, ``--limit`` and ``--quiet``; the command receives what they asked for as one ``Listing``.
A new format is one row of ``FORMAT_FLAGS`` here and its writer in ``render/output.py``: every listing then
offers it. A command that writes one document takes ``JsonOption`` (or ``json_flag`` with its own help);
``report`` and ``export`` choose among the ``Format`` values they accept with ``format_option`` and
``parse_format``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from supportcli.cli import complete
from supportcli.cli.common import options_in_place_of
from supportcli.render.output import Format, Output

# A Typer command function; the decorators return its wrapper, whose signature has the shared options.
Command = Callable[..., Any]


def format_flag(fmt: Format, help: str) -> Any:
    """The flag that asks for a format: ``--json``, ``--csv``, named after the format."""
    return typer.Option(f"--{fmt.value}", help=help)


def json_flag(help: str = "Write JSON.") -> Any:
    """The ``--json`` flag (a command that writes one document may say what the JSON is)."""
    return format_flag(Format.JSON, help)


def quiet_flag(help: str = "Print only ticket ids.") -> Any:
    """The ``--quiet``/``-q`` flag: only the ids of the tickets, one a line, for scripts."""
    return typer.Option("--quiet", "-q", help=help)


JsonOption = Annotated[bool, json_flag()]


@dataclass(frozen=True)
class FormatFlag:
    """A flag that asks a listing for a format; ``tabular``: only listings of columns offer it."""

    format: Format
    help: str
    tabular: bool = False

    @property
    def parameter(self) -> str:
        """The name of the command's parameter the flag sets."""
        return f"{self.format.value}_output"


# When several are given, the first wins (``--json --csv`` writes JSON).
FORMAT_FLAGS = (
    FormatFlag(Format.JSON, "Write JSON."),
    FormatFlag(Format.CSV, "Write CSV.", tabular=True),
)


@dataclass(frozen=True)
class Listing:
    """What a listing's output options asked for: a format (None: none was named), a limit, ids only."""

    asked: Format | None = None
    limit: int | None = None
    quiet: bool = False

    def format(self, output: Output) -> Format:
        """The format asked for, else a table on a terminal and plain rows when piped."""
        return self.asked or output.human_format()


def asked_format(flags: Sequence[FormatFlag], given: dict[str, Any]) -> Format | None:
    """The format the flags that are set ask for (the first of ``flags`` wins), or None."""
    return next((flag.format for flag in flags if given.get(flag.parameter)), None)


@dataclass(frozen=True)
class Limit:
    """A ``--limit``/``-n`` option: its default (None: every row) and its help."""

    default: int | None = None
    help: str = "At most this many."


def output_options(
    *, tabular: bool = False, limit: Limit | None = None, quiet: bool = False
) -> Callable[[Command], Command]:
    """Give a listing command its output options in place of its parameter ``listing: Listing``.

    ``tabular``: the listing has columns, so the flags of every format are offered (CSV too); otherwise only
    those that write whole records. ``limit``: offer ``--limit``. ``quiet``: offer ``-q`` (ticket ids only).
    Typer reads the options from the signature the command is given here (``__signature__``).
    """
    flags = [flag for flag in FORMAT_FLAGS if tabular or not flag.tabular]
    added: list[inspect.Parameter] = []
    if limit is not None:
        option = typer.Option("--limit", "-n", min=1, help=limit.help)
        added.append(_keyword("limit", Annotated[int | None, option], limit.default))
    added += [_keyword(flag.parameter, Annotated[bool, format_flag(flag.format, flag.help)]) for flag in flags]
    if quiet:
        added.append(_keyword("quiet", Annotated[bool, quiet_flag()]))

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args: Any, **given: Any) -> Any:
            listing = Listing(asked_format(flags, given), given.pop("limit", None), given.pop("quiet", False))
            for flag in flags:
                given.pop(flag.parameter)
            return command(*args, listing=listing, **given)

        return options_in_place_of(run, command, "listing", added)

    return decorate


def _keyword(name: str, annotation: Any, default: Any = False) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def format_option(accepted: Sequence[Format], help: str) -> Any:
    """``--format``/``-f`` for a command that writes some of the formats (Tab offers those)."""
    return typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help=help,
        autocompletion=complete.fixed(tuple(fmt.value for fmt in accepted)),
    )


def parse_format(text: str, accepted: Sequence[Format]) -> Format:
    """The format named by ``--format`` (any case), if the command accepts it; else InvalidInput listing them."""
    value = text.strip().lower()
    for fmt in accepted:
        if fmt.value == value:
            return fmt
    from supportcli.errors import InvalidInput

    raise InvalidInput(f"unknown --format {text!r} (allowed: {', '.join(accepted)})")
