"""The one CSV writer: RFC 4180 with a header row, formulas neutralised in text cells, numbers as they are."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from supportcli.render.csv_writer import write_csv
from supportcli.render.output import Column, Format, Output

SRC = Path(__file__).resolve().parents[2] / "src" / "supportcli"


def test_text_cells_are_neutralised_and_numbers_are_not() -> None:
    stream = io.StringIO(newline="")
    due = datetime(2026, 11, 23, 17, 0, 30, 123, tzinfo=UTC)
    write_csv(stream, ["subject", "left", "ratio", "due", "tags", "none"], [["=1+1", -2, -0.5, due, ["@a", "b"], None]])
    assert stream.getvalue() == (
        "subject,left,ratio,due,tags,none\r\n'=1+1,-2,-0.5,2026-11-23T17:00:30+00:00,\"'@a,b\",\r\n"
    )


def test_fields_with_quotes_commas_and_line_breaks_are_quoted() -> None:
    stream = io.StringIO(newline="")
    write_csv(stream, ["subject", "body"], iter([['He said "no", twice', "two\r\nlines"]]))
    assert stream.getvalue() == 'subject,body\r\n"He said ""no"", twice","two\r\nlines"\r\n'
    assert list(csv.reader(io.StringIO(stream.getvalue(), newline=""))) == [
        ["subject", "body"],
        ['He said "no", twice', "two\r\nlines"],
    ]


def test_listings_write_csv_through_the_same_writer() -> None:
    listed, written = io.StringIO(newline=""), io.StringIO(newline="")
    records = [{"id": 1, "subject": "+44 20 7946 0000", "left": -3}, {"id": 2, "subject": "fine"}]
    columns = [Column("ID", "id"), Column("Subject", "subject"), Column("Left", "left")]
    Output(stdout=listed, stderr=io.StringIO()).listing(columns, records, Format.CSV)
    write_csv(written, ["id", "subject", "left"], [[1, "+44 20 7946 0000", -3], [2, "fine", None]])
    assert listed.getvalue() == written.getvalue()


def test_no_other_module_writes_csv() -> None:
    """One writer keeps RFC 4180 and the formula guard the same for every command that writes CSV."""
    writers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "csv.writer(" in p.read_text("utf-8"))
    assert writers == ["render/csv_writer.py"]
