"""The plain (tab-separated) listing writer: every row, in order, however many batches it takes."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from supportcli.render.output import PLAIN_BATCH_ROWS, Column, Format, Output, json_default, pretty_json

LONDON = ZoneInfo("Europe/London")


def test_plain_listing_writes_every_row_in_order_across_batches() -> None:
    stdout = io.StringIO()
    output = Output(stdout=stdout, stderr=io.StringIO())
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
    Output(stdout=stdout).listing([Column("ID", "id")], iter(()), Format.PLAIN)
    assert stdout.getvalue() == ""


def test_a_capped_table_draws_the_first_rows_and_counts_the_rest_on_stderr() -> None:
    def table(count: int, max_rows: int | None) -> tuple[str, str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        output = Output(stdout=stdout, stderr=stderr, is_terminal=True, colour=False)
        records = ({"id": n, "subject": f"ticket {n}"} for n in range(count))
        output.table([Column("ID", "id"), Column("Subject", "subject")], records, max_rows=max_rows)
        return stdout.getvalue(), stderr.getvalue()

    shown, said = table(1003, 3)
    assert [line.split()[1] for line in shown.splitlines()[1:]] == ["ticket", "ticket", "ticket"]
    assert "ticket 2" in shown and "ticket 3" not in shown
    assert said == "showing the first 3 of 1,003 rows; for every row, pipe the output (| less) or use --csv or --json\n"
    shown, said = table(3, 3)  # exactly the cap: nothing left to mention
    assert "ticket 2" in shown and said == ""
    shown, said = table(150, None)  # uncapped
    assert "ticket 149" in shown and said == ""


# -- pretty JSON of flat records ---------------------------------------------------------------------------------------


@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=8),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.floats(allow_nan=False),
                st.text(max_size=12),
                st.datetimes(timezones=st.just(UTC)),
                st.datetimes(timezones=st.sampled_from([UTC, LONDON])),
                st.dates(),
                st.sampled_from(Format),  # a str subclass
                st.sampled_from(
                    ["}", "},\n    {", '"},\n    {"', "\n  },\n  {\n    "]
                ),  # what the records' joins look like
                st.lists(st.integers(), max_size=2),  # a nested value: json.dumps's layout
            ),
            max_size=6,
        ),
        max_size=5,
    )
)
def test_pretty_json_of_flat_records_is_what_json_dumps_writes(records: list[dict[str, object]]) -> None:
    expected = json.dumps(records, indent=2, ensure_ascii=False, default=json_default)
    assert pretty_json(records) == expected


def test_pretty_json_writes_a_shared_instant_in_each_record() -> None:
    # Records sharing one datetime object each write it; equal instants in another zone keep their own offset.
    due = datetime(2026, 11, 23, 17, tzinfo=LONDON)
    records = [{"id": 1, "due_at": due}, {"id": 2, "due_at": due}, {"id": 3, "due_at": due.astimezone(UTC)}]
    assert pretty_json(records) == json.dumps(records, indent=2, ensure_ascii=False, default=json_default)
    assert pretty_json(records).count('"2026-11-23T17:00:00+00:00"') == 3
    summer = datetime(2026, 7, 1, 17, tzinfo=LONDON)
    shown = pretty_json([{"due_at": summer}, {"due_at": summer.astimezone(UTC)}])
    assert '"2026-07-01T17:00:00+01:00"' in shown and '"2026-07-01T16:00:00+00:00"' in shown


def test_pretty_json_of_anything_else_is_json_dumps() -> None:
    # Nested values, non-text keys, floats orjson writes another way, integers past 64 bits, a lone surrogate.
    odd = ([{"share": 1e-05}], [{"n": 2**64}], [{"text": "\ud800"}], [{"n": -(2**63) - 1, "s": "x"}])
    for data in ({"a": [1, 2]}, [{"nested": {"b": "é\n"}}], [{1: "x"}], ["x", 2], [], [{}], *odd):
        assert pretty_json(data) == json.dumps(data, indent=2, ensure_ascii=False, default=json_default)
    assert pretty_json([{"subject": 'Café "ok"\t', "due_at": datetime(2026, 11, 23, 17, tzinfo=UTC)}]) == (
        '[\n  {\n    "subject": "Café \\"ok\\"\\t",\n    "due_at": "2026-11-23T17:00:00+00:00"\n  }\n]'
    )
