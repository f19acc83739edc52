"""Ticket lines read by a worker process come back in file order as the records the importing process would
read itself: same stored rows, and every line the worker cannot simply take read again here, so messages and
line numbers do not change."""

from __future__ import annotations

import json

import pytest

from supportcli.errors import InvalidInput
from supportcli.render.dump_formats import read_ndjson
from supportcli.store import dump_workers
from supportcli.store.dump_rows import StoredRows
from supportcli.store.dump_schema import CHILDREN, TICKET_FIELDS
from supportcli.store.dump_workers import Prepared, read_prepared

TICKET = {
    "id": 1,
    "subject": "Refund please",
    "received_at": "2026-11-23T10:00:00+00:00",
    "logged_at": "2026-11-23T10:00:00+00:00",
    "updated_at": "2026-11-23T10:00:00+00:00",
    "policy_version": 1,
}


def _lines(count: int) -> list[str]:
    """A meta line and ``count`` ticket lines written as an export writes them (every field present)."""
    defaults = {name: [] if kind == "tags" else default for name, (kind, default) in TICKET_FIELDS.items()}
    children = {key: [] for key, _, _ in CHILDREN}
    lines = ['{"type": "meta", "format": "supportcli-export"}\n']
    for number in range(1, count + 1):
        lines.append(json.dumps({"type": "ticket", **defaults, **TICKET, "id": number, **children}) + "\n")
    return lines


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_records_come_back_in_file_order_whoever_reads_them(workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dump_workers, "WORKER_CHUNK", 3)
    monkeypatch.setattr(dump_workers, "AHEAD", 2)
    lines = _lines(20)
    lines.insert(5, "\n")  # a blank line keeps its number
    lines[8] = lines[8].replace('"subject": "Refund please"', '"subject": NaN')  # for json, not orjson: read here
    records = list(read_prepared(lines, workers))
    assert [where for where, _, _ in records] == [f"line {n}" for n in range(1, len(lines) + 1) if n != 6]
    rows = StoredRows()
    for (where, kind, record), (inline_where, inline_kind, inline) in zip(records, read_ndjson(lines), strict=True):
        assert (where, kind) == (inline_where, inline_kind)
        if isinstance(record, Prepared):
            assert workers > 0 and record.stored == rows.ticket(inline, where)
            assert json.loads(record.line) == {"type": "ticket", **inline}
        else:
            assert record == inline or where == "line 9"  # NaN is not equal to itself
    prepared = sum(isinstance(record, Prepared) for _, _, record in records)
    assert prepared == (0 if workers == 0 else 19)  # every ticket but the NaN one


@pytest.mark.parametrize("workers", [0, 1])
def test_a_broken_line_is_refused_with_its_number_whoever_reads_it(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dump_workers, "WORKER_CHUNK", 4)
    lines = _lines(12)
    lines[10] = '{"type": "ticket", "id": 10,\n'
    with pytest.raises(InvalidInput, match=r"^line 11: not JSON \(Expecting property name"):
        list(read_prepared(lines, workers))
