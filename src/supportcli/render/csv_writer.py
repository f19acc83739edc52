"""The one CSV writer: listings' ``--csv`` and ``export --format csv`` both write through it.

RFC 4180 (records end in CRLF, fields quoted where needed) with a header row. A text cell a
spreadsheet would run as a formula is prefixed with ``'`` (CSV injection); numbers are written as
they are, so a negative countdown stays the number -2 rather than the text '-2.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO, Any

from supportcli.render.output import neutralise_formula, plain_value


def write_csv(stream: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """The header row, then each row's cells as text (ISO 8601 times, empty for nothing), streamed."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)


def csv_cell(value: Any) -> str:
    """One cell as CSV text: numbers as they are, anything else as text with formulas neutralised."""
    if type(value) is str:  # the commonest cells first: listings and exports write millions
        return neutralise_formula(value)
    if type(value) is int or type(value) is float:
        return plain_value(value)
    return neutralise_formula(plain_value(value))
