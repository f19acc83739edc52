"""An NDJSON dump's ticket lines parsed and read into stored rows in a worker process, while the importing
process writes the batches before them.

Parsing a line and reading its ticket (``store.dump_rows``) is about a third of an import's time and needs
nothing from the store, so on a machine with a second core it is done beside the writes: the lines go to one
worker a chunk at a time, a few chunks ahead (memory stays flat), and come back in file order as stored rows.
The worker never decides anything: a line it cannot simply take (not JSON, not a ticket, a record the quick
path leaves to ``load_ticket``) comes back as None and is read again here exactly as ``read_ndjson`` reads
it, so every record, error and line number is the same as without a worker. Nothing is written by a worker:
the import stays one transaction of the importing process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

import orjson

from supportcli.render.dump_formats import read_ndjson
from supportcli.store.dump_rows import StoredRows, StoredTicket

# Lines per task, and tasks handed out ahead of the one being imported: a few thousand lines in flight.
WORKER_CHUNK = 500
AHEAD = 8


@dataclass(frozen=True, slots=True)
class Prepared:
    """A ticket line read by a worker: its stored rows, and the line (read again only to renumber the ticket)."""

    stored: StoredTicket
    line: str


ReadRecord = tuple[str, str, "dict[str, Any] | Prepared"]
"""A record of the dump: where it is, its type, its fields (or, for a ticket, its stored rows)."""


def worker_count() -> int:
    """Worker processes for an import: one beside the importing process when there is a second core (more do
    not help: the writes are the longer half); none where processes cannot be forked (then all is inline)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return 1 if (os.cpu_count() or 1) > 1 else 0


_rows: StoredRows | None = None


def _prepare(lines: list[str]) -> list[StoredTicket | None]:
    """In a worker: each line's stored rows if it is a ticket the quick path takes, else None."""
    global _rows  # one per worker process, for its caches
    if _rows is None:
        _rows = StoredRows()
    prepared: list[StoredTicket | None] = []
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            prepared.append(None)  # blank, or read again by json (what it accepts, how it words a refusal)
            continue
        if record.__class__ is not dict or record.get("type") != "ticket":
            prepared.append(None)
            continue
        del record["type"]
        try:
            prepared.append(_rows.quick(record))
        except Exception:  # whatever it is, the importing process reads the line again and reports it
            prepared.append(None)
    return prepared


def read_prepared(lines: Iterable[str], workers: int) -> Iterator[ReadRecord]:
    """The records of an NDJSON dump as ``read_ndjson`` gives them, ticket lines read by ``workers`` processes
    (none: all here)."""
    if workers < 1:
        yield from read_ndjson(lines)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque[tuple[int, list[str], AsyncResult[list[StoredTicket | None]]]] = deque()
        numbered = enumerate(lines, start=1)
        while True:
            chunk = list(islice(numbered, WORKER_CHUNK))
            if chunk:
                texts = [line for _, line in chunk]
                pending.append((chunk[0][0], texts, pool.apply_async(_prepare, (texts,))))
            if pending and (len(pending) >= AHEAD or not chunk):
                first, texts, result = pending.popleft()
                for offset, (line, stored) in enumerate(zip(texts, result.get(), strict=True)):
                    if stored is None:
                        yield from read_ndjson([line], start=first + offset)
                    else:
                        yield f"line {first + offset}", "ticket", Prepared(stored, line)
            if not chunk and not pending:
                return
