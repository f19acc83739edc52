"""The one place that owns output formats (gh-style).

On a terminal: a Rich table. Piped: plain tab-separated rows with ISO times
and no colour. ``--json``: JSON. ``--csv``: RFC 4180 CSV with spreadsheet
formulas neutralised. Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TextIO

import orjson

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod


class Format(StrEnum):
    """How output is written: every format any command offers, one vocabulary.

    Listings choose with their flags (``cli/output_options.py``); ``report`` and ``export`` name the ones they
    accept for ``--format``.
    """

    TABLE = "table"
    PLAIN = "plain"
    JSON = "json"
    NDJSON = "ndjson"
    CSV = "csv"
    HTML = "html"

    @property
    def writes_records(self) -> bool:
        """Written as whole records (``Output.records``), not as the columns of a table."""
        return self is Format.JSON


@dataclass(frozen=True)
class Column:
    """One column of a listing: its header, the record key, and how a terminal shows it."""

    header: str
    key: str
    human: Callable[[Any], Any] | None = None
    justify: JustifyMethod = "left"
    style: str | None = None
    wrap: bool = False  # only text columns wrap; times, ids and countdowns never break
    min_width: int = 0  # a wrapping column keeps at least this many characters on a narrow terminal
    drop_order: int | None = None  # left out of a table too wide for the terminal, lowest first


# Rich lays a table out from every cell, about a millisecond a row here (every open ticket of a million-ticket
# store, 92,597 rows: 86 s and 450 MB), and no one reads that on a terminal: capped tables stop at this many
# rows and say how many more there are and how to see them. Piped, CSV and JSON output always has every row.
TERMINAL_TABLE_ROWS = 100

# A ticket's subject keeps this many characters in a table on a narrow terminal (other columns give way).
SUBJECT_MIN_WIDTH = 20

# Plain listings write this many rows at a time: one write per row costs more than the formatting.
PLAIN_BATCH_ROWS = 1000

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise_formula(text: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with ``'`` (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def plain_value(value: Any) -> str:
    """A value as scripts want it: ISO 8601 times, empty for nothing."""
    if type(value) is str:  # the commonest cells first: listings write hundreds of thousands
        return value
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(plain_value(item) for item in value)
    return str(value)


def json_default(value: Any) -> Any:
    """JSON encoding for the types our records hold."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


# Values a flat record may hold that ``pretty_json`` hands to orjson (which gives json_default the instants and
# dates); floats are not among them, as orjson writes some of them in another form (``0.00001``, not ``1e-05``).
_SCALARS = (str, int, bool, type(None), datetime, date)
_SCALAR_TYPES = frozenset(_SCALARS)
_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME


def _flat(record: Any) -> bool:
    """A dict with fields whose values are all non-float scalars (no list, dict or other nested value)."""
    if type(record) is not dict or not record:
        return False
    values = record.values()
    return set(map(type, values)) <= _SCALAR_TYPES or all(
        isinstance(value, _SCALARS) and not isinstance(value, float) for value in values
    )


def pretty_json(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False, default=json_default)``, made quickly for a list of flat
    records (the read commands' ``--json``; ``overdue`` on a migrated backlog writes tens of thousands): with an
    indent, json.dumps encodes in pure Python, about ten times slower than orjson, whose indented text is the
    same for these values. Anything else (an empty record, a nested value, a float, an integer past 64 bits, a
    lone surrogate orjson refuses) goes to json.dumps."""
    if isinstance(data, list) and data and all(map(_flat, data)):
        try:
            return orjson.dumps(data, default=json_default, option=_PRETTY).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(data, indent=2, ensure_ascii=False, default=json_default)


def human_time(value: datetime | None) -> str:
    """A compact local time with its zone, e.g. ``Tue 2026-11-24 17:00 GMT``."""
    if value is None:
        return ""
    return value.strftime("%a %Y-%m-%d %H:%M %Z").strip()


class Output:
    """Writes data to stdout and messages to stderr in the format the situation calls for."""

    def __init__(
        self,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        *,
        is_terminal: bool = False,
        colour: bool = False,
    ) -> None:
        """Streams and the terminal and colour decisions come from the caller (the CLI's Environment), so
        output never looks at the process itself; the defaults are the standard streams, piped, no colour."""
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.is_terminal = is_terminal
        self.colour = colour and is_terminal  # colour only on a terminal

    def human_format(self) -> Format:
        """How to show data no flag asked a format for: a table on a terminal, plain rows when piped."""
        return Format.TABLE if self.is_terminal else Format.PLAIN

    def console(self, stderr: bool = False) -> Console:
        """A Rich console bound to our stream and colour decision."""
        from rich.console import Console

        return Console(
            file=self.stderr if stderr else self.stdout,
            force_terminal=self.is_terminal,
            # NO_COLOR and pipes get no escape codes at all, not just no colours.
            color_system="auto" if self.colour else None,
            highlight=False,
            soft_wrap=False,
        )

    def listing(
        self,
        columns: Sequence[Column],
        records: Iterable[Mapping[str, Any]],
        fmt: Format,
        title: str | None = None,
        json_records: Iterable[Any] | None = None,
        row_style: Callable[[Mapping[str, Any]], str | None] | None = None,
        capped: bool = False,
    ) -> None:
        """Write records as a table, plain rows, CSV, or JSON (``json_records`` when given).

        ``capped``: a table shows at most ``TERMINAL_TABLE_ROWS`` rows (for listings that can be as long as
        the store is large)."""
        if fmt.writes_records:
            self.records(fmt, json_records if json_records is not None else records)
        elif fmt is Format.CSV:
            self.csv(columns, records)
        elif fmt is Format.PLAIN:
            self.plain(columns, records)
        else:
            self.table(columns, records, title, row_style, TERMINAL_TABLE_ROWS if capped else None)

    def table(
        self,
        columns: Sequence[Column],
        records: Iterable[Mapping[str, Any]],
        title: str | None = None,
        row_style: Callable[[Mapping[str, Any]], str | None] | None = None,
        max_rows: int | None = None,
    ) -> None:
        """A Rich table on the terminal; past ``max_rows`` rows, a line on stderr counts the rest.

        When the terminal is too narrow for every column at its natural width while the wrapping ones keep
        their ``min_width``, columns with a ``drop_order`` are left out, lowest first (an 80-column terminal
        otherwise left a subject one letter wide)."""
        from itertools import islice

        from rich.table import Table

        remaining = iter(records)
        rows = list(remaining if max_rows is None else islice(remaining, max_rows))
        cells = [[_table_cell(column, record) for column in columns] for record in rows]
        console = self.console()
        kept = columns_that_fit(columns, cells, console.width)
        table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
        for index in kept:
            column = columns[index]
            table.add_column(
                column.header,
                justify=column.justify,
                style=column.style,
                no_wrap=not column.wrap,
                min_width=column.min_width or None,
                # A word longer than its column (an e-mail address, a URL) breaks across lines
                # rather than losing its end to an ellipsis.
                overflow="fold" if column.wrap else "ellipsis",
            )
        for record, row in zip(rows, cells, strict=True):
            table.add_row(*(row[index][0] for index in kept), style=row_style(record) if row_style else None)
        console.print(table)
        more = sum(1 for _ in remaining) if max_rows is not None else 0
        if more:
            self.message(
                f"showing the first {table.row_count:,} of {table.row_count + more:,} rows; "
                "for every row, pipe the output (| less) or use --csv or --json"
            )

    def plain(self, columns: Sequence[Column], records: Iterable[Mapping[str, Any]]) -> None:
        """Tab-separated rows, one per record (a listing may be a hundred thousand rows: kept to a tight loop)."""
        keys = [column.key for column in columns]
        cells_of = itemgetter(*keys) if len(keys) > 1 else lambda record: (record[keys[0]],)
        write = self.stdout.write
        lines: list[str] = []
        for record in records:
            try:
                cells = cells_of(record)
            except KeyError:  # a record without some column shows it empty
                cells = tuple(record.get(key) for key in keys)
            # Most cells are text already: only the others go through plain_value.
            lines.append("\t".join([c if type(c) is str else plain_value(c) for c in cells]))
            if len(lines) == PLAIN_BATCH_ROWS:
                write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            write("\n".join(lines) + "\n")

    def csv(self, columns: Sequence[Column], records: Iterable[Mapping[str, Any]]) -> None:
        """RFC 4180 CSV with a header row, through the one CSV writer (``render.csv_writer``)."""
        from supportcli.render.csv_writer import write_csv

        keys = [column.key for column in columns]
        write_csv(self.stdout, keys, ([record.get(key) for key in keys] for record in records))

    def records(self, fmt: Format, records: Iterable[Any]) -> None:
        """Whole records in a format that ``writes_records``: JSON, one array."""
        if fmt is not Format.JSON:
            raise ValueError(f"{fmt} is not written as records")
        self.json(list(records))

    def json(self, data: Any) -> None:
        """Pretty JSON with ISO 8601 times."""
        self.stdout.write(pretty_json(data) + "\n")

    def line(self, text: str = "") -> None:
        """One line of data on stdout."""
        self.stdout.write(text + "\n")

    def wrapped(self, text: str, indent: int = 2, hanging: int = 0) -> None:
        """A text of any length on stdout, indented: on a terminal wrapped at word boundaries to its width
        (a word longer than a line breaks), each line after the first ``hanging`` further in; piped, each of
        its own lines whole, for scripts and ``grep``."""
        if not self.is_terminal:
            self.line(" " * indent + text.replace("\n", "\n" + " " * (indent + hanging)))
            return
        from rich.text import Text

        console = self.console()
        lines = Text(text).wrap(console, max(console.width - indent - hanging, 1), overflow="fold")
        for line in lines:
            line.rstrip()  # the space a line broke at
        shown = [Text(" " * (indent + (hanging if number else 0))) + line for number, line in enumerate(lines)]
        console.print(Text("\n").join(shown), crop=False, no_wrap=True)

    def message(self, text: str) -> None:
        """A message for the person, on stderr (never mixed into data)."""
        self.stderr.write(text + "\n")
        self.stderr.flush()


def short_time(value: datetime | None) -> str:
    """A table-sized local time, e.g. ``2026-11-24 17:00``."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


TABLE_GAP = 2  # between two columns of a table (Rich's padding with box=None and pad_edge=False)


def _table_cell(column: Column, record: Mapping[str, Any]) -> tuple[Any, str]:
    """A record's cell as the table draws it, and its text (what its width is measured on)."""
    value = record.get(column.key)
    shown = column.human(value) if column.human else value
    if hasattr(shown, "__rich__") or hasattr(shown, "__rich_console__"):
        return shown, str(getattr(shown, "plain", ""))
    return plain_cell(shown), short_time(shown) if isinstance(shown, datetime) else plain_value(shown)


def columns_that_fit(columns: Sequence[Column], cells: Sequence[Sequence[tuple[Any, str]]], width: int) -> list[int]:
    """The indexes of the columns a table of ``width`` characters shows: all of them, unless the natural widths
    of the columns that do not wrap and the ``min_width`` of those that do need more; then columns with a
    ``drop_order`` go, lowest first, until the rest fit (or none is left to drop); then any of them that
    fits beside the rest comes back, highest first."""
    from rich.cells import cell_len

    def needs(index: int) -> int:
        column = columns[index]
        natural = max([cell_len(column.header), *(cell_len(row[index][1]) for row in cells)])
        return min(natural, column.min_width) if column.wrap else natural

    needed = [needs(index) for index in range(len(columns))]

    def fits(indexes: Sequence[int]) -> bool:
        return sum(needed[i] for i in indexes) + TABLE_GAP * (len(indexes) - 1) <= width

    kept = list(range(len(columns)))
    dropped: list[int] = []
    for _, index in sorted((c.drop_order, i) for i, c in enumerate(columns) if c.drop_order is not None):
        if fits(kept):
            break
        kept.remove(index)
        dropped.append(index)
    for index in reversed(dropped):  # one left out early may fit beside the rest once a wider one is gone
        if fits([*kept, index]):
            kept = sorted([*kept, index])
    return kept


def plain_cell(value: Any) -> str:
    """A table cell without markup surprises (square brackets in customer text stay literal)."""
    from rich.markup import escape

    if isinstance(value, datetime):
        return short_time(value)
    return escape(plain_value(value))
