"""Dump import: the records of a JSON/NDJSON dump written back into a store exactly as they were stored.

Ids, due times, met times, states and history are kept; clashes with what the store holds are
refused, skipped or renumbered as asked. Tickets are checked and written a batch at a time, straight to
the database driver (``store.bulk``), and renumbered ones spooled to a temporary file, so memory stays
flat. Everything runs in the one write transaction the caller gives, so a refused file writes nothing;
the search index and the derived columns are filled before it commits (README "Export and import").
Records are read into stored rows the quick way where that gives the same (``store.dump_rows``), and into
an empty store the secondary indexes are built once at the end, in the same transaction.
"""

from __future__ import annotations

import gc
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Literal

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from supportcli.core.calendar import OutsideCalendarSpan
from supportcli.errors import InvalidInput
from supportcli.render.dump_formats import read_ndjson
from supportcli.store import search
from supportcli.store.bulk import BulkWriter, SecondaryIndexes
from supportcli.store.database import SCHEMA_VERSION
from supportcli.store.dump_rows import (
    TARGET_MET,
    TARGET_MET_SECONDS,
    TARGET_PAUSED,
    TICKET_NAMES,
    TICKET_POLICY,
    TICKET_RECEIVED,
    StoredRows,
    StoredTicket,
    from_values,
)
from supportcli.store.dump_schema import (
    CHILDREN,
    FORMAT_NAME,
    FORMAT_VERSION,
    POLICY_FIELDS,
    STAFF_FIELDS,
    Located,
    encode_data,
    load_row,
    load_ticket,
)
from supportcli.store.dump_workers import Prepared, ReadRecord
from supportcli.store.met_durations import WorkingTimes
from supportcli.store.models import AutomationMark, MailMessage, PolicyVersion, Staff, Ticket, table_of

# Where a batched ticket came from: where it is and its record, or its line when a worker read it.
Source = tuple[str, "dict[str, Any] | str"]

CONFLICT_MODES = ("fail", "skip", "renumber")
ConflictMode = Literal["fail", "skip", "renumber"]

# Tickets inserted per batch (one driver call per table): few round trips, bounded memory.
INSERT_BATCH = 5_000
# Keys looked up per ``IN (...)`` query: well inside every database's limit on parameters.
LOOKUP_CHUNK = 1_000
# The tables an import fills in bulk, whose non-unique indexes an import into an empty store makes at the end.
BULK_TABLES = ("tickets", *(table_of(table).name for _, table, _ in CHILDREN))


@dataclass
class ImportSummary:
    """What an import did (or, refused, would have clashed on)."""

    tickets: int = 0
    staff: int = 0
    policy_versions: int = 0
    skipped: list[int] = field(default_factory=list)
    renumbered: dict[int, int] = field(default_factory=dict)
    renumbered_policies: dict[int, int] = field(default_factory=dict)
    kept_staff: list[str] = field(default_factory=list)
    dropped_notices: int = 0
    clashes: list[str] = field(default_factory=list)


class ImportConflict(InvalidInput):
    """The file clashes with what the store holds and no ``--on-conflict`` said how to handle it."""

    def __init__(self, clashes: list[str]) -> None:
        self.clashes = clashes
        shown = ", ".join(clashes[:20]) + (f" and {len(clashes) - 20} more" if len(clashes) > 20 else "")
        super().__init__(
            f"{len(clashes)} clash{'es' if len(clashes) != 1 else ''} with the store: {shown}; nothing imported "
            "(use --on-conflict skip or renumber)"
        )


class DumpImporter:
    """Writes the records of a dump into one write transaction, keeping ids, due times and history.

    Clashing ticket ids are refused (``fail``), left out (``skip``) or given new numbers after every
    other ticket (``renumber``, spooled to a temporary file so memory stays flat). A policy version
    with the same number and source is the same version; a different one is refused under ``fail``
    and added under a new number otherwise (its tickets follow it). Staff are matched by name.
    """

    def __init__(self, session: Session, on_conflict: ConflictMode, actor: str, now: datetime) -> None:
        if on_conflict not in CONFLICT_MODES:
            raise InvalidInput(f"unknown --on-conflict {on_conflict!r} (allowed: {', '.join(CONFLICT_MODES)})")
        self.session, self.mode, self.actor, self.now = session, on_conflict, actor, now
        self.summary = ImportSummary()
        self.versions: dict[int, int] = {}  # version number in the file → in the store
        self.seen_meta = False
        self.store_was_empty = _is_fresh(session)
        self.batch: list[tuple[StoredTicket, Source | None]] = []
        self.working_times = WorkingTimes(session.connection())
        self.rows = StoredRows()
        self.spool: IO[str] | None = None
        # Moving in (an empty store): every row is new, so the indexes are built once at the end (in finish).
        # PostgreSQL's search index is a table with a GIN index, made after it is filled (as search.rebuild does);
        # SQLite's is an FTS5 table, with no index to drop.
        connection = session.connection()
        search_tables = [search.INDEX_TABLE] if connection.dialect.name == "postgresql" else []
        self.bulk_indexes = SecondaryIndexes(connection, BULK_TABLES)
        self.search_indexes = SecondaryIndexes(connection, search_tables)
        if self.store_was_empty:
            self.bulk_indexes.drop()
            self.search_indexes.drop()

    def run(self, records: Iterable[Located | ReadRecord]) -> ImportSummary:
        """Import every record, then the renumbered tickets; raise ImportConflict (nothing kept) on clashes."""
        with _collecting_seldom():
            for where, kind, record in records:
                self.add(where, kind, record)
            self.finish()
        return self.summary

    def add(self, where: str, kind: str, record: dict[str, Any] | Prepared) -> None:
        """Import one record."""
        if kind == "meta":
            self._meta(where, record)
            return
        if not self.seen_meta:
            raise InvalidInput(f"{where}: the file must start with its meta record (is it a supportcli export?)")
        handlers: dict[str, Callable[[str, Any], None]] = {
            "policy_version": self._policy_version,
            "staff": self._staff,
            "ticket": self._ticket,
        }
        if kind not in handlers:
            raise InvalidInput(f"{where}: unknown record type {kind!r}")
        handlers[kind](where, record)

    def finish(self) -> None:
        """Write what is batched and the renumbered tickets; refuse the whole file on clashes."""
        self._flush()
        if self.spool is not None:
            self.spool.seek(0)
            for line in self.spool:
                self._renumber(json.loads(line))
            self.spool.close()
            self._flush()
        if self.summary.clashes:
            raise ImportConflict(self.summary.clashes)
        bump_sequences(self.session)
        self.bulk_indexes.restore()  # before the search index, whose history texts are read by ticket id
        # Search index: the imported tickets, in one statement (all of them when the store was empty).
        search.index_missing(self.session, every_ticket=self.store_was_empty)
        self.search_indexes.restore()

    def _meta(self, where: str, record: Any) -> None:  # any JSON value: checked here
        if self.seen_meta:
            raise InvalidInput(f"{where}: a second meta record")
        if not isinstance(record, dict) or record.get("format") != FORMAT_NAME:
            raise InvalidInput(f"{where}: not a supportcli export (format should be {FORMAT_NAME!r})")
        version = record.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InvalidInput(f"{where}: export format version {version} is newer than this supportcli reads")
        schema = record.get("schema_version")
        if isinstance(schema, int) and schema > SCHEMA_VERSION:
            raise InvalidInput(f"{where}: exported from a newer store schema ({schema}); upgrade supportcli")
        self.seen_meta = True

    def _policy_version(self, where: str, record: dict[str, Any]) -> None:
        values = load_row(record, POLICY_FIELDS, where)
        _check_policy_source(values, where)
        _check_applies_by(values, where)
        number = values["version"]
        existing = self.session.get(PolicyVersion, number)
        if existing is None:
            self.session.add(PolicyVersion(**values))
        elif self.store_was_empty and number == 1:
            # A fresh store's seeded built-in version is replaced, so an import into it is exact.
            for name, value in values.items():
                setattr(existing, name, value)
            self.session.add(existing)
        elif existing.source == values["source"]:
            self.versions[number] = number
            return
        elif self.mode == "fail":
            self.summary.clashes.append(f"policy version {number}")
            self.versions[number] = number
            return
        else:
            newest = self.session.exec(select(func.max(PolicyVersion.version))).one() or 0
            values["version"] = newest + 1
            self.session.add(PolicyVersion(**values))
            self.summary.renumbered_policies[number] = newest + 1
        self.session.flush()
        self.versions[number] = values["version"]
        self.summary.policy_versions += 1

    def _staff(self, where: str, record: dict[str, Any]) -> None:
        values = load_row(record, STAFF_FIELDS, where)
        existing = self.session.exec(select(Staff).where(Staff.name == values["name"])).first()
        if existing is None:
            self.session.add(Staff(**values))
            self.session.flush()
            self.summary.staff += 1
        elif any(getattr(existing, name) != value for name, value in values.items()):
            if self.mode == "fail":
                self.summary.clashes.append(f"staff {values['name']}")
            else:
                self.summary.kept_staff.append(values["name"])

    def _ticket(self, where: str, record: dict[str, Any] | Prepared) -> None:
        source: Source
        if isinstance(record, Prepared):  # read by a worker (store.dump_workers); the line kept to renumber it
            stored, source = record.stored, (where, record.line)
        else:
            stored, source = self.rows.ticket(record, where), (where, record)
        ticket = stored.ticket
        ticket[TICKET_POLICY] = self._store_version(where, ticket[TICKET_POLICY])
        self._queue(stored, source)

    def _clash(self, ticket_id: int, source: Source | None) -> None:
        """A ticket whose id the store (or an earlier record of the file) already holds, handled as asked."""
        if self.mode == "fail":
            self.summary.clashes.append(f"ticket #{ticket_id}")
        elif self.mode == "skip":
            self.summary.skipped.append(ticket_id)
        elif source is not None:
            where, record = source
            if isinstance(record, str):
                record = _ticket_record(record)
            if self.spool is None:
                self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in finish()
            self.spool.write(json.dumps({"where": where, "record": record}, ensure_ascii=False) + "\n")

    def _store_version(self, where: str, number: int) -> int:
        if number in self.versions:
            return self.versions[number]
        if self.session.get(PolicyVersion, number) is None:
            raise InvalidInput(f"{where}: policy_version: {number} is neither in the file nor in the store")
        return number

    def _renumber(self, spooled: dict[str, Any]) -> None:
        values = load_ticket(spooled["record"], spooled["where"])
        old = values["ticket"]["id"]
        new = (self.session.exec(select(func.max(Ticket.id))).one() or 0) + 1
        values["ticket"]["id"] = new
        values["ticket"]["policy_version"] = self._store_version(spooled["where"], values["ticket"]["policy_version"])
        for mark in values["automation_marks"]:
            mark["key"] = _renumbered_key(mark["key"], old, new)
        # Queued notices name the old number in their text and Message-ID: not carried over.
        self.summary.dropped_notices += len(values["notices"])
        values["notices"] = []
        values["events"].append(
            {"at": self.now, "actor": self.actor, "kind": "renumbered", "text": f"imported as #{new}, was #{old}"}
            | {"data": encode_data({"previous_id": old})}
        )
        self._queue(from_values(values), None)
        self._flush()
        self.summary.renumbered[old] = new

    def _queue(self, stored: StoredTicket, source: Source | None) -> None:
        """Batch a ticket; its id is checked against the store with the rest of its batch."""
        self.batch.append((stored, source))
        if len(self.batch) >= INSERT_BATCH:
            self._flush()
            # The batch is written and freed: a collection of the youngest objects is quick now, and frees any
            # cycle (a driver's, SQLAlchemy's) made since the last one while run() holds the collector.
            gc.collect(0)

    def _flush(self) -> None:
        """Insert the batched tickets that clash with nothing, and their rows, in one driver call per table."""
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        ids = [stored.id for stored, _ in batch]
        taken = self._taken(Ticket.id, ids)
        accepted = []
        for stored, source in batch:
            ticket_id = stored.id
            if ticket_id in taken:
                self._clash(ticket_id, source)
            else:
                taken.add(ticket_id)  # a later record of the file with the same id clashes with this one
                accepted.append(stored)
        self.summary.tickets += len(accepted)
        if not accepted:
            return
        writer = BulkWriter(self.session.connection())
        writer.insert_rows(table_of(Ticket).name, TICKET_NAMES, [stored.ticket for stored in accepted])
        self._add_met_working_seconds(accepted)
        for key, table, fields in CHILDREN:
            rows = [row for stored in accepted for row in stored.children[key]]
            columns = [*fields, "ticket_id"]
            if key == "automation_marks":
                rows = self._new_rows(AutomationMark.key, columns.index("key"), rows)
            if key == "mail_messages":
                rows = self._new_rows(MailMessage.message_key, columns.index("message_key"), rows)
            writer.insert_rows(table_of(table).name, columns, rows)

    def _add_met_working_seconds(self, accepted: list[StoredTicket]) -> None:
        """Each met target's working time from receipt, derived as the change that met it stores it."""
        epoch = self.rows.instants.epoch
        for stored in accepted:
            ticket = stored.ticket
            received = None
            for target in stored.children["targets"]:
                met_at = target[TARGET_MET]
                if met_at is None:
                    target[TARGET_MET_SECONDS] = None
                    continue
                if received is None:
                    received = epoch(ticket[TICKET_RECEIVED])
                target[TARGET_MET_SECONDS] = self._working_seconds(
                    ticket[TICKET_POLICY], received, epoch(met_at), target[TARGET_PAUSED]
                )

    def _working_seconds(self, version: int, received: int, met: int, paused: int) -> int | None:
        try:
            return self.working_times.seconds(version, received, met, paused)
        except OutsideCalendarSpan:
            return None  # beyond any calendar at hand: report works it out itself, as before

    def _taken(self, column: Any, keys: list[Any]) -> set[Any]:
        """Which of ``keys`` the store already holds in ``column`` (a unique column), asked a chunk at a time."""
        taken: set[Any] = set()
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            taken.update(self.session.connection().execute(select(column).where(col(column).in_(chunk))).scalars())
        return taken

    def _new_rows(self, column: Any, key: int, rows: list[list[Any]]) -> list[list[Any]]:
        # A message already recorded in this store (imported before, or mailed to both) stays recorded once; a mark
        # records that an automatic action happened, and the same action already marked is the same fact.
        taken = self._taken(column, [row[key] for row in rows])
        kept = []
        for row in rows:
            if row[key] not in taken:
                taken.add(row[key])
                kept.append(row)
        return kept


def _check_applies_by(values: dict[str, Any], where: str) -> None:
    """A version keeps how it applies (``logged`` or ``received``); a dump written before schema 6 has no
    ``applies_by`` and gets what migration 6 derives for a stored version (docs/policy.md)."""
    from supportcli.store.policies import APPLIES_BY, BY_LOGGED, BY_RECEIVED

    if values["applies_by"] is None:
        values["applies_by"] = BY_LOGGED if values["effective_at"] == values["set_at"] else BY_RECEIVED
    elif values["applies_by"] not in APPLIES_BY:
        raise InvalidInput(f"{where}: applies_by: must be one of {', '.join(APPLIES_BY)}")


def _check_policy_source(values: dict[str, Any], where: str) -> None:
    from supportcli.core.policy import load_policy

    try:
        load_policy(values["source"], f"policy version {values['version']}")
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: source: {exc}") from exc


def _renumbered_key(key: str, old: int, new: int) -> str:
    """An automation mark's key (``action:ticket:…``) for the ticket's new number."""
    action, _, rest = key.partition(":")
    number, sep, tail = rest.partition(":")
    return f"{action}:{new}{sep}{tail}" if number == str(old) else key


def _ticket_record(line: str) -> dict[str, Any]:
    """A ticket line read by a worker, parsed again (to spool it for renumbering)."""
    ((_, _, record),) = read_ndjson([line])
    return record


@contextmanager
def _collecting_seldom() -> Iterator[None]:
    """Python's cyclic garbage collector held while an import runs (``_queue`` runs it on what is new after each
    batch), as before after it.

    Each automatic collection walks the objects alive in its generations; the batches of parsed records,
    alive for thousands of allocations, made the collector walk them again and again: seconds per 100,000
    tickets. The records hold no reference cycles and are freed as they go; what exists before the import is
    moved out of the collector's sight (``gc.freeze``) for the time it runs.
    """
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _is_fresh(session: Session) -> bool:
    """A store with no tickets, no staff and only the policy version it was created with."""
    if session.exec(select(Ticket.id).limit(1)).first() is not None:
        return False
    if session.exec(select(Staff.id).limit(1)).first() is not None:
        return False
    return list(session.exec(select(PolicyVersion.version))) == [1]


def bump_sequences(session: Session) -> None:
    """After ids were written explicitly, make PostgreSQL's id sequences continue past them (SQLite needs nothing)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table, column in (("tickets", "id"), ("policy_versions", "version")):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {table}), 1), (SELECT MAX({column}) FROM {table}) IS NOT NULL)"
            )
        )
