"""Commands loaded only when used, so `--help` and Tab completion stay fast (benchmarks/README.md).

The root group knows every command by name and one-line help (the table in
``supportcli.cli.app``); a command's module is imported, and its Typer command
built, only when that command runs, shows its help or completes its options.
Every command's context renders help with ``supportcli.cli.help`` (standard
library only; Typer's rich_utils imports rich.markdown, rich.table and more).
The bundled Click is Typer's (``typer._click``), so this module leans on a few
of its internals; tests/cli/test_startup.py fails if an upgrade undoes the gain.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer._click import Command, Context, Parameter
from typer._click.exceptions import MissingParameter
from typer._click.shell_completion import CompletionItem
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.models import CommandInfo


@dataclass(frozen=True)
class LazyCommand:
    """A command by name: where it lives (``module:attribute`` in supportcli.cli) and its one-line help.

    The attribute is a command function or a ``typer.Typer`` group. A test checks that ``help`` is
    the command's own short help, so the two cannot drift apart.
    """

    name: str
    target: str
    help: str

    def load(self) -> Command:
        """Import the module and build the Click command (a group for a ``typer.Typer``)."""
        module_name, _, attribute = self.target.partition(":")
        target = getattr(importlib.import_module(f"supportcli.cli.{module_name}"), attribute)
        if isinstance(target, typer.Typer):
            command: Command = typer.main.get_group(target)
            command.name = self.name
        else:
            command = typer.main.get_command_from_info(
                CommandInfo(name=self.name, callback=target), pretty_exceptions_short=True, rich_markup_mode=None
            )
        use_supportcli_context(command)
        return command


class LazyCommands(MutableMapping[str, Command]):
    """A group's ``commands``: every name known up front, each command built on first access."""

    def __init__(self, table: Sequence[LazyCommand]) -> None:
        self.table = {entry.name: entry for entry in table}
        self._loaded: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded:
            self._loaded[name] = self.table[name].load()
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self.table.pop(name, None)
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.table
        yield from (name for name in self._loaded if name not in self.table)

    def __len__(self) -> int:
        return len(self.table.keys() | self._loaded.keys())

    def short_help(self, name: str) -> str:
        """The one-line help without loading the command."""
        entry = self.table.get(name)
        if entry is not None and name not in self._loaded:
            return entry.help
        return self[name].get_short_help_str(limit=300)


class SupportcliContext(typer.Context):
    """Every command's context: help from supportcli.cli.help; values coerced only when given."""

    def __init__(self, command: Command, *args: Any, **kwargs: Any) -> None:
        super().__init__(command, *args, **kwargs)
        for param in [*command.params, command.get_help_option(self)]:
            _coerce_given_values_only(param)

    def get_help(self) -> str:
        from supportcli.cli.help import render_help

        return render_help(self)


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from a table of ``LazyCommand`` (see ``lazy_commands``)."""

    context_class = SupportcliContext
    commands: LazyCommands

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.lazy_commands())

    def lazy_commands(self) -> Sequence[LazyCommand]:
        """The commands of this group, in the order help lists them."""
        return ()

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        from supportcli.cli.complete import use_plain_completion_classes

        use_plain_completion_classes()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def shell_complete(self, ctx: Context, incomplete: str) -> list[CompletionItem]:
        """Subcommand names with their help, from the table (loading none); option names as usual."""
        commands = self.commands
        if incomplete and not incomplete[0].isalnum():
            return Command.shell_complete(self, ctx, incomplete)
        return [
            CompletionItem(name, help=commands.short_help(name)) for name in commands if name.startswith(incomplete)
        ]


def use_supportcli_context(command: Command) -> None:
    """Give a command and all its subcommands the supportcli context (help, cheap coercion)."""
    command.context_class = SupportcliContext
    for sub in getattr(command, "commands", {}).values():
        use_supportcli_context(sub)


def _process_given_values_only(
    param: TyperOption | TyperArgument, ctx: Context, value: Any, process: Callable[[Context, Any], Any]
) -> Any:
    """Typer builds a Pydantic type adapter even for an absent value, which imports pydantic (~60 ms).

    Absent values (and everything during Tab completion, which only reads raw strings) skip it, so
    `COMMAND --help` and completion never import pydantic; given values go through ``process``
    (Typer's coercion) as before.
    """
    if value is not None and not ctx.resilient_parsing:
        return process(ctx, value)
    if value is None and (param.multiple or param.nargs == -1):
        value = ()
    if param.required and not ctx.resilient_parsing and param.value_is_missing(value):
        raise MissingParameter(ctx=ctx, param=param)
    if param.callback is not None:
        value = param.callback(ctx, param, value)
    return value


class _Option(TyperOption):
    def process_value(self, ctx: Context, value: Any) -> Any:
        return _process_given_values_only(self, ctx, value, super().process_value)


class _Argument(TyperArgument):
    def process_value(self, ctx: Context, value: Any) -> Any:
        return _process_given_values_only(self, ctx, value, super().process_value)


def _coerce_given_values_only(param: Parameter | None) -> None:
    if type(param) is TyperOption:
        param.__class__ = _Option
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
