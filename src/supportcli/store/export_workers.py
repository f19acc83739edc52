"""A large JSON or NDJSON export, its records built by worker processes reading one snapshot of the store.

Building a ticket's record (reading its rows, converting its instants, encoding it) is nearly all of an
export's time and is the same work for every batch of tickets, so on a machine with more cores the batches
are shared out: worker ``k`` of ``n`` builds batches ``k``, ``k + n``, … and sends each as encoded records; the
exporting process writes them in batch order, so the file is byte for byte the one a single process writes
(``tests/cli/test_transfer.py`` compares them).

All of them must read the same state of the store, as one process reading in one transaction does:

- SQLite: a reader's snapshot is fixed by its first read, so the workers take theirs while the exporting
  process holds the write lock (``Store.write``): no commit can land in between. The lock is held only for
  that moment (each worker has started and opened the store before it is taken), then the workers read on
  while others write. A store this user cannot write is exported by one process.
- PostgreSQL: the exporting process's read transaction exports its snapshot (``pg_export_snapshot``) and
  each worker's REPEATABLE READ transaction takes it (``SET TRANSACTION SNAPSHOT``), as ``pg_dump --jobs``
  does; no lock is needed.

Workers are started with ``spawn`` (a fresh interpreter that opens the store itself: a forked copy of an open
database connection must not be used). Small exports are built in the exporting process (``worker_count``).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from supportcli.errors import StoreUnavailable
from supportcli.locations import StoreLocation
from supportcli.render.dump_formats import Written
from supportcli.store.queries import TicketFilter

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from supportcli.store.database import Store

# Below this many tickets one process is quicker: starting a worker (a new interpreter importing the store's
# libraries) costs about as much as building 20k records.
PARALLEL_FROM_TICKETS = 20_000
# More workers than this do not help: the exporting process writing their output becomes the longer part.
MAX_WORKERS = 4
# The messages of the start-up handshake; anything else a worker sends is records, END or an error.
READY, GO, SNAPSHOT, END = "ready", "go", "snapshot", "end"
# What pg_export_snapshot returns (e.g. 00000003-0000001B-1): checked before it goes into SQL, which takes no
# parameter there.
SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


@dataclass(frozen=True)
class ExportJob:
    """What a worker needs to build its share: where the store is, what was asked for, and its place."""

    location: StoreLocation
    env: Mapping[str, str]
    wanted: TicketFilter
    zone: str
    exported_at: datetime
    index: int = 0
    workers: int = 1
    batch_size: int = 0  # tickets a batch: 0 is ``export.DUMP_BATCH_SIZE`` as the exporting process has it


def worker_count(read_only: bool, tickets: int) -> int:
    """How many workers build an export of ``tickets`` tickets: none (all here) for a SQLite store this user
    cannot write (its snapshot needs the write lock for a moment), below ``PARALLEL_FROM_TICKETS`` or with one
    core."""
    if read_only or tickets < PARALLEL_FROM_TICKETS:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, MAX_WORKERS) if cores > 1 else 0


def parallel_records(store: Store, job: ExportJob, workers: int) -> Iterator[Written]:
    """The records of the export ``job`` describes, from the open ``store``, built by ``workers`` processes, in
    the order ``export.export_records`` gives them; tickets come as their encoded JSON."""
    from supportcli.store import export

    job = replace(job, workers=workers, batch_size=job.batch_size or export.DUMP_BATCH_SIZE)
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes: list[BaseProcess] = []
    try:
        for index in range(workers):
            here, there = context.Pipe()
            process = context.Process(target=work, args=(replace(job, index=index), there), daemon=True)
            with _ctrl_c_ignored_by_children():
                process.start()
            there.close()
            pipes.append(here)
            processes.append(process)
        for pipe in pipes:
            _expect(pipe, READY)
        if store.is_sqlite:
            with store.write():  # no commit can land while the workers take their snapshots
                _begin(pipes, None)
        else:
            with store.read() as session:  # the snapshot can be taken while its transaction is open
                _begin(pipes, session.connection().exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
        yield from _receive(pipes[0])  # worker 0 sends the meta, policy and staff records first
        batch = 0
        while True:
            records = _receive(pipes[batch % workers])
            if records == END:
                break
            for encoded in records:
                yield "ticket", encoded
            batch += 1
        for index in range(batch + 1, batch + workers):  # the others have no batch left either
            _expect(pipes[index % workers], END)
    finally:
        for pipe in pipes:
            pipe.close()
        for started in processes:
            started.join(timeout=10)
            if started.is_alive():
                started.terminate()
                started.join()


@contextmanager
def _ctrl_c_ignored_by_children() -> Iterator[None]:
    """Start processes that ignore SIGINT: Ctrl-C on a terminal reaches the whole process group, and the
    exporter alone should stop (exit 130, its workers ending as their pipe closes), not every worker print a
    traceback of wherever it was. An ignored signal stays ignored across exec, and Python installs its own
    SIGINT handler only where none was set. Only the main thread may change a handler; elsewhere as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _begin(pipes: list[Connection], snapshot: str | None) -> None:
    """Tell every worker to take its snapshot (PostgreSQL's exported ``snapshot``, or SQLite's own) and wait
    until each has."""
    for pipe in pipes:
        pipe.send((GO, snapshot))
    for pipe in pipes:
        _expect(pipe, SNAPSHOT)


def _receive(pipe: Connection) -> Any:
    """A worker's next message; a worker's failure raised here, as the one line it would have said."""
    try:
        message = pipe.recv()
    except EOFError:
        raise StoreUnavailable("export: a worker process ended before it had finished") from None
    if isinstance(message, tuple) and message[:1] == ("error",):
        raise StoreUnavailable(f"export: {message[1]}")
    return message


def _expect(pipe: Connection, wanted: str) -> None:
    message = _receive(pipe)
    if message != wanted:
        raise StoreUnavailable(f"export: a worker said {message!r}, not {wanted!r}")


def work(job: ExportJob, pipe: Connection) -> None:
    """A worker: open the store, take the snapshot when told, send worker 0's head records, then each batch of
    this worker's share as encoded records, then END. Any failure is sent as ``("error", line)``."""
    try:
        import orjson

        from supportcli.core.policy import default_policy_source
        from supportcli.store.database import open_store
        from supportcli.store.export import batch_ranges, head_records, ticket_record_batches
        from supportcli.store.queries import ticket_statement

        store = open_store(job.location, job.env, default_policy_source, job.exported_at, "export")
        zone = ZoneInfo(job.zone)
        pipe.send(READY)
        told, snapshot = pipe.recv()
        if told != GO:
            return
        with store.read() as session:
            connection = session.connection()
            if snapshot is None:  # SQLite: the first read fixes the snapshot, while the exporter holds the lock
                connection.exec_driver_sql("SELECT count(*) FROM supportcli_meta").all()
            elif SNAPSHOT_ID.fullmatch(snapshot):  # PostgreSQL: the exporter's, before any other statement
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            else:
                raise StoreUnavailable(f"not a snapshot id: {snapshot!r}")
            pipe.send(SNAPSHOT)
            statement = ticket_statement(job.wanted, connection.dialect.name)
            if job.index == 0:
                pipe.send(list(head_records(session, job.wanted, zone, job.exported_at)))
            share = batch_ranges(session, statement, job.batch_size)[job.index :: job.workers]
            dumps = orjson.dumps
            for records in ticket_record_batches(session, statement, zone, share):
                pipe.send([dumps(record) for record in records])
            pipe.send(END)
        store.close()
    except Exception as exc:  # told to the exporting process, which stops with it
        from supportcli.errors import SupportcliError

        text = str(exc) if isinstance(exc, SupportcliError) else f"{type(exc).__name__}: {exc}"
        with suppress(OSError):  # the exporting process has gone
            pipe.send(("error", text.splitlines()[0] if text else type(exc).__name__))
    finally:
        pipe.close()
