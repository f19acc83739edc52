"""The plain (tab-separated) listing writer: every row, in order, however many batches it takes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from supportcli.render.output import PLAIN_BATCH_ROWS, Column, Format, Output


def test_plain_listing_writes_every_row_in_order_across_batches() -> None:
    stdout = io.StringIO()
    output = Output(stdout=stdout, stderr=io.StringIO(), env={"SUPPORTCLI_TERMINAL": "0"})
    count = PLAIN_BATCH_ROWS * 2 + 7  # two full batches and a partial one
    due = datetime(2026, 11, 23, 17, 0, 30, 123, tzinfo=UTC)
    records = ({"id": n, "subject": f"ticket {n}", "owner": None, "due_at": due} for n in range(count))
    columns = [Column("ID", "id"), Column("Subject", "subject"), Column("Owner", "owner"), Column("Due", "due_at")]
    output.listing(columns, records, Format.PLAIN)
    lines = stdout.getvalue().split("\n")
    assert lines[-1] == ""  # the output ends with a newline, and has no blank line within
    assert lines[:-1] == [f"{n}\tticket {n}\t\t2026-11-23T17:00:30+00:00" for n in range(count)]


def test_plain_listing_of_nothing_writes_nothing() -> None:
    stdout = io.StringIO()
    Output(stdout=stdout, env={"SUPPORTCLI_TERMINAL": "0"}).listing([Column("ID", "id")], iter(()), Format.PLAIN)
    assert stdout.getvalue() == ""
