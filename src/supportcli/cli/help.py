"""Help screens: usage, the help text with its examples kept as written, and boxed panels of arguments, options and commands.

Drawn with the standard library (textwrap and ANSI colour codes) in the look of
Typer's Rich help: Typer's rich_utils imports rich.markdown, rich.table,
rich.traceback and pygments, and Rich's console alone costs more than the rest
of `supportcli COMMAND --help` (benchmarks/README.md).
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Sequence

from typer._click import Context, Parameter
from typer.core import TyperArgument, TyperGroup, TyperOption

from supportcli.cli.environment import Environment, environment_of

MAX_WIDTH = 120
MIN_HELP_WIDTH = 24

BOLD_CYAN = "1;36"
CYAN = "36"
YELLOW = "33"
BOLD = "1"
DIM = "2"

Row = tuple[str, str, str]


class Screen:
    """Width and colour of the terminal help goes to."""

    def __init__(self, width: int, colour: bool) -> None:
        self.width = width
        self.colour = colour

    @classmethod
    def of(cls, environment: Environment) -> Screen:
        """The run's screen: its width (at most ``MAX_WIDTH``) and colour decision (supportcli.cli.environment)."""
        return cls(min(environment.columns, MAX_WIDTH), environment.colour)

    def style(self, text: str, code: str) -> str:
        """``text`` in an SGR colour code, when colour is on."""
        return f"\033[{code}m{text}\033[0m" if self.colour and text else text


def render_help(ctx: Context, screen: Screen | None = None) -> str:
    """The help screen of ``ctx.command``."""
    screen = screen or Screen.of(environment_of(ctx.find_root().obj))
    command = ctx.command
    out = [screen.style("Usage: ", YELLOW) + screen.style(_usage(ctx), BOLD)]
    for paragraph in _help_paragraphs(screen, command.help or ""):
        out += ["", *paragraph]
    out.append("")
    for title, rows in (
        ("Arguments", _argument_rows(ctx)),
        ("Options", _option_rows(ctx)),
        ("Commands", _command_rows(ctx)),
    ):
        if rows:
            out += _panel(screen, title, rows)
    if command.epilog:
        out += ["", *(screen.style(line, DIM) for line in _wrap(inspect.cleandoc(command.epilog), screen.width))]
    return "\n".join(out)


def _usage(ctx: Context) -> str:
    command = ctx.command
    pieces = [ctx.command_path, "[OPTIONS]"]
    for param in command.params:
        if isinstance(param, TyperArgument) and not param.hidden:
            name = _argument_name(param)
            name = f"{name}..." if param.nargs == -1 else name
            pieces.append(name if param.required else f"[{name}]")
    if hasattr(command, "commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _help_paragraphs(screen: Screen, help_text: str) -> list[list[str]]:
    """Prose paragraphs reflowed; indented paragraphs (examples) kept line by line, in colour."""
    paragraphs = []
    for block in inspect.cleandoc(help_text).split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip() not in ("", "\b")]
        if not lines:
            continue
        if lines[0].startswith(" "):
            paragraphs.append(_example(screen, [line.strip() for line in lines]))
        else:
            paragraphs.append(_wrap(" ".join(line.strip() for line in lines), screen.width))
    return paragraphs


def _example(screen: Screen, lines: list[str]) -> list[str]:
    """Command lines indented by two; one too long for the screen continues indented by four."""
    out = []
    for line in lines:
        parts = _wrap(line, max(screen.width - 4, 20))
        out += [("  " if number == 0 else "    ") + screen.style(part, CYAN) for number, part in enumerate(parts)]
    return out


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=True) or [""]


def _argument_name(param: Parameter) -> str:
    return param.metavar or (param.name or "").upper()


def _argument_rows(ctx: Context) -> list[Row]:
    return [
        (_argument_name(param), "", _param_help(ctx, param))
        for param in ctx.command.get_params(ctx)
        if isinstance(param, TyperArgument) and not param.hidden
    ]


def _option_rows(ctx: Context) -> list[Row]:
    rows = []
    for param in ctx.command.get_params(ctx):
        if not isinstance(param, TyperOption) or param.hidden:
            continue
        names = param.opts + param.secondary_opts
        short = [name for name in names if not name.startswith("--")]
        long = [name for name in names if name.startswith("--")]
        shown = ", ".join(short + long) if short else "    " + ", ".join(long)
        metavar = "" if param.is_flag else (param.metavar or (param.name or "").upper())
        rows.append((shown, metavar, _param_help(ctx, param)))
    return rows


def _param_help(ctx: Context, param: Parameter) -> str:
    """The parameter's help with Typer's ``[default: …]`` / ``[required]`` note."""
    record = param.get_help_record(ctx)
    return " [".join(record[1].split("  [")) if record else ""


def _command_rows(ctx: Context) -> list[Row]:
    command = ctx.command
    if not isinstance(command, TyperGroup):
        return []
    short_help = getattr(command.commands, "short_help", None)
    rows = []
    for name in command.list_commands(ctx):
        if short_help is not None:
            rows.append((name, "", short_help(name)))
            continue
        sub = command.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            rows.append((name, "", sub.get_short_help_str(limit=300)))
    return rows


def _panel(screen: Screen, title: str, rows: Sequence[Row]) -> list[str]:
    """Rows in aligned columns inside a rounded box titled ``title``."""
    inner = screen.width - 4

    def border(text: str) -> str:
        return screen.style(text, DIM)

    top = border("╭─ ") + title + border(" " + "─" * max(inner - len(title) - 1, 0) + "╮")
    body = [border("│ ") + line + " " * (inner - length) + border(" │") for line, length in _grid(screen, rows, inner)]
    return [top, *body, border("╰" + "─" * (inner + 2) + "╯")]


def _grid(screen: Screen, rows: Sequence[Row], width: int) -> list[tuple[str, int]]:
    """Lines (with their printed length) of rows in columns; the last column wraps under itself,
    or below the row when the screen is too narrow for it."""
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    lead = sum(column + 2 for column in widths if column)
    help_width = width - lead
    lines: list[tuple[str, int]] = []
    for names, metavar, help_text in rows:
        head = screen.style(names, BOLD_CYAN) + " " * (widths[0] - len(names) + 2)
        if widths[1]:
            head += screen.style(metavar, YELLOW) + " " * (widths[1] - len(metavar) + 2)
        if help_width >= MIN_HELP_WIDTH:
            parts = _wrap(help_text, help_width)
            lines.append((head + _dim_note(screen, parts[0]), lead + len(parts[0])))
            lines += [(" " * lead + _dim_note(screen, part), lead + len(part)) for part in parts[1:]]
        else:
            lines.append((head.rstrip(), len(names) + (widths[1] and widths[0] + 2 + len(metavar))))
            lines += [("    " + _dim_note(screen, part), 4 + len(part)) for part in _wrap(help_text, width - 4)]
    return lines


def _dim_note(screen: Screen, line: str) -> str:
    """A help line with its ``[default: …]`` note dimmed."""
    text, bracket, note = line.partition("[")
    return text + screen.style(bracket + note, DIM) if bracket else line
