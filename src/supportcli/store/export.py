"""Export: the records of a dump, and the flat rows of a CSV export, read from the store in batches.

Records come out in the order an import needs them (meta, policy versions, staff, tickets), each
ticket with its nested rows; tickets are read a batch at a time and each record is handed on as it
is read, so memory stays flat however large the store. Writing them is ``render.dump_formats``'s
and ``render.csv_writer``'s job.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields as dataclass_fields
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, Row, type_coerce
from sqlalchemy.types import NullType
from sqlmodel import Session, SQLModel, col, select

from supportcli.core.csv_rows import CSV_COLUMNS, DERIVED_COLUMNS, TIME_COLUMNS
from supportcli.core.targets import TARGET_NAMES
from supportcli.core.tickets import shown_state
from supportcli.store.database import SCHEMA_VERSION
from supportcli.store.dump_schema import (
    CHILDREN,
    FORMAT_NAME,
    FORMAT_VERSION,
    POLICY_FIELDS,
    STAFF_FIELDS,
    TICKET_FIELDS,
    LocalInstants,
    Record,
    dump_row,
    row_dumper,
)
from supportcli.store.models import Event, PolicyVersion, Staff, Ticket, table_of
from supportcli.store.queries import TicketFilter, targets_for, ticket_statement
from supportcli.store.types import UTCDateTime

# Tickets read per query (and held at once): memory stays flat, and a few large queries stay fast.
BATCH_SIZE = 500
# Tickets per batch of a JSON/NDJSON dump, read as plain rows (``ticket_row_batches``).
DUMP_BATCH_SIZE = 2_000


def is_filtered(wanted: TicketFilter) -> bool:
    """True when a filter leaves some tickets out (sorting and the listing's extras do not)."""
    ignored = ("sort", "extra")
    return any(getattr(wanted, f.name) for f in dataclass_fields(wanted) if f.name not in ignored)


def meta_record(exported_at: datetime, zone: tzinfo) -> dict[str, Any]:
    """The first record of a dump: what it is and which store schema it came from."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "exported_at": exported_at.astimezone(zone).isoformat(),
    }


def export_records(session: Session, wanted: TicketFilter, zone: tzinfo, exported_at: datetime) -> Iterator[Record]:
    """Every record of a dump, in the order an import needs them: meta, policy versions, staff, tickets.

    A filtered export carries only the policy versions and staff its tickets refer to.
    """
    yield from head_records(session, wanted, zone, exported_at)
    statement = ticket_statement(wanted, session.connection().dialect.name)
    for batch in ticket_record_batches(session, statement, zone):
        for record in batch:
            yield "ticket", record


def head_records(session: Session, wanted: TicketFilter, zone: tzinfo, exported_at: datetime) -> Iterator[Record]:
    """The records of a dump before its tickets: meta, policy versions, staff (of the tickets, when filtered)."""
    statement = ticket_statement(wanted, session.connection().dialect.name)
    filtered = is_filtered(wanted)
    yield "meta", meta_record(exported_at, zone)
    versions = select(PolicyVersion).order_by(col(PolicyVersion.version))
    if filtered:
        used = select(statement.subquery().c.policy_version).distinct()
        versions = versions.where(col(PolicyVersion.version).in_(used))
    for version in session.exec(versions):
        yield "policy_version", dump_row(version, POLICY_FIELDS, zone)
    staff = list(session.exec(select(Staff).order_by(col(Staff.name))))
    if filtered:
        staff = _staff_referred_to(session, statement, staff)
    for member in staff:
        yield "staff", dump_row(member, STAFF_FIELDS, zone)


def ticket_record_batches(
    session: Session, statement: Any, zone: tzinfo, ranges: Sequence[tuple[int, int]] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The dump records of the tickets of ``statement`` in id order, a batch at a time: every batch in turn
    (keyset queries), or, given ``ranges``, the tickets of each ``(first id, last id)`` (``batch_ranges``)."""
    # One converter for the whole export, so each hour's offset is worked out once, not once a batch.
    instants = LocalInstants(zone)
    dumpers = (row_dumper(TICKET_FIELDS, instants), [row_dumper(fields, instants, skip=1) for _, _, fields in CHILDREN])
    columns = dump_columns(Ticket, list(TICKET_FIELDS))
    if ranges is None:
        batches = ticket_row_batches(session, statement, columns)
    else:
        batches = (_ticket_rows_between(session, statement, columns, first, last) for first, last in ranges)
    # Python's automatic collection ran every few hundred new records and, as they piled up, over every object of
    # the batch: a seventh of an export's time. Records hold no reference cycles and are freed as soon as written,
    # so it is paused while tickets are read, and the youngest objects (whatever a batch's queries left in
    # cycles) are collected once a batch instead; memory stays flat.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for batch in batches:
            gc.collect(0)
            yield list(_ticket_records(session, batch, dumpers))
    finally:
        if collecting:
            gc.enable()


def batch_ranges(session: Session, statement: Any, size: int = DUMP_BATCH_SIZE) -> list[tuple[int, int]]:
    """The first and last id of each batch of ``size`` tickets of ``statement``, in id order: batches like
    those ``ticket_row_batches`` reads, named in advance so that several readers can share them out."""
    ids_statement = _in_id_order(statement, [col(Ticket.id)])
    ids = [row[0] for row in session.connection().execute(ids_statement)]
    return [(ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)]


def _ticket_rows_between(
    session: Session, statement: Any, columns: Sequence[Any], first: int, last: int
) -> Sequence[Row[Any]]:
    """The tickets of ``statement`` with ids from ``first`` to ``last``, as ``ticket_row_batches`` reads them."""
    by_id = _in_id_order(statement, columns)
    return session.connection().execute(by_id.where(col(Ticket.id).between(first, last))).all()


def _in_id_order(statement: Any, columns: Sequence[Any]) -> Any:
    """``statement`` narrowed to ``columns``, in ticket id order: what every batch of an export reads."""
    return statement.with_only_columns(*columns).order_by(None).order_by(col(Ticket.id))


def _staff_referred_to(session: Session, statement: Any, staff: list[Staff]) -> list[Staff]:
    """Staff who own or acted on the exported tickets, and the colleagues covering for them."""
    tickets = statement.subquery()
    names = set(session.exec(select(tickets.c.owner).distinct()))
    names |= set(session.exec(select(Event.actor).distinct().where(col(Event.ticket_id).in_(select(tickets.c.id)))))
    covers = {member.name: member.cover for member in staff}
    pending = [name for name in names if name in covers]
    while pending:
        cover = covers.get(pending.pop())
        if cover and cover not in names:
            names.add(cover)
            pending.append(cover)
    return [member for member in staff if member.name in names]


def ticket_batches(session: Session, statement: Any) -> Iterator[list[Ticket]]:
    """The tickets of ``statement`` in id order, a batch at a time, so memory stays flat however many.

    Each batch is its own keyset query (``id > last``), so dropping the previous batch from the
    session never disturbs a result still being read.
    """
    by_id = statement.order_by(None).order_by(col(Ticket.id))
    last_id = 0
    while True:
        batch = list(session.exec(by_id.where(col(Ticket.id) > last_id).limit(BATCH_SIZE)))
        if not batch:
            return
        yield batch
        last_id = batch[-1].id or last_id
        session.expunge_all()


def ticket_row_batches(session: Session, statement: Any, columns: Sequence[Any]) -> Iterator[Sequence[Row[Any]]]:
    """The tickets of ``statement`` in id order as plain rows of ``columns`` (the id first), a batch at a time.

    Read through SQLAlchemy Core, so no ORM object is built per row; each batch is its own keyset query.
    """
    by_id = _in_id_order(statement, columns)
    connection = session.connection()
    last_id = 0
    while True:
        batch = connection.execute(by_id.where(col(Ticket.id) > last_id).limit(DUMP_BATCH_SIZE)).all()
        if not batch:
            return
        yield batch
        last_id = batch[-1][0]


def dump_columns(table: type[SQLModel], names: Sequence[str]) -> list[Any]:
    """The columns of ``table`` to dump, instants as the driver returns them (``LocalInstants`` converts them)."""
    columns = table_of(table).c
    return [
        type_coerce(columns[name], NullType()).label(name)
        if isinstance(columns[name].type, UTCDateTime)
        else columns[name]
        for name in names
    ]


def child_rows(connection: Connection, table: type[SQLModel], names: Sequence[str], ids: list[int]) -> list[Any]:
    """The rows of a child table for these tickets (in id order) as plain tuples ``(ticket_id, *names)``,
    ordered by ticket, then by id: one pass groups them.

    Read through the driver's own cursor: SQLAlchemy's row handling and the building of a statement with
    thousands of bound ids were about a quarter of an export's profile. The ids are integers from the store,
    written into the SQL as numbers (a range when they run without a gap, as in a whole-store export).
    """
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in ("ticket_id", *names))
    ticket_id = quote("ticket_id")
    if ids[-1] - ids[0] + 1 == len(ids):
        where = f"{ticket_id} BETWEEN {int(ids[0])} AND {int(ids[-1])}"
    else:
        where = f"{ticket_id} IN ({', '.join(str(int(i)) for i in ids)})"
    sql = f"SELECT {columns} FROM {quote(table_of(table).name)} WHERE {where} ORDER BY {ticket_id}, {quote('id')}"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


_Dump = Callable[[Sequence[Any]], dict[str, Any]]


def _ticket_records(
    session: Session, batch: Sequence[Row[Any]], dumpers: tuple[_Dump, list[_Dump]]
) -> Iterator[dict[str, Any]]:
    """The dump records of a batch of ticket rows, each with its nested rows (``dumpers``: the ticket's and,
    in the order of ``CHILDREN``, each child table's ``row_dumper``)."""
    dump_ticket, child_dumpers = dumpers
    connection = session.connection()
    ids = [row[0] for row in batch]
    nested: list[tuple[str, dict[int, list[dict[str, Any]]]]] = []
    for (key, table, fields), dump in zip(CHILDREN, child_dumpers, strict=True):
        grouped: dict[int, list[dict[str, Any]]] = {}
        current: list[dict[str, Any]] = []
        current_id = None
        for row in child_rows(connection, table, list(fields), ids):
            if row[0] != current_id:
                current_id = row[0]
                current = grouped[current_id] = []
            current.append(dump(row))
        nested.append((key, grouped))
    order = {name: index for index, name in enumerate(TARGET_NAMES)}

    def target_order(target: dict[str, Any]) -> tuple[int, str]:
        return order.get(target["name"], len(order)), target["name"]

    for targets in dict(nested)["targets"].values():
        if len(targets) > 1:
            targets.sort(key=target_order)
    for row in batch:
        record = dump_ticket(row)
        ticket_id = row[0]
        for key, grouped in nested:
            record[key] = grouped.get(ticket_id, [])
        yield record


# -- CSV export -------------------------------------------------------------------------------------------------------

# The columns ``import`` reads (``core.csv_rows.CSV_COLUMNS``), then the derived ones it plans again: one table
# both ways, so export → import → export of a CSV is the same file (README "Moving in from a spreadsheet").
CSV_EXPORT_COLUMNS = (*CSV_COLUMNS, *DERIVED_COLUMNS)
# History events whose time (the first) or text (the last) a CSV column carries.
_FIRST_AT = {"acknowledged": "acknowledged_at", "updated": "responded_at"}
_LAST_TEXT = {"resolved": "resolution", "feedback": "feedback"}


def csv_export_rows(session: Session, wanted: TicketFilter, zone: tzinfo, now: datetime) -> Iterator[list[Any]]:
    """Tickets as flat spreadsheet rows, cells in the order of ``CSV_EXPORT_COLUMNS``: one per ticket, with
    the times of its life (from its history) and its targets as ``<target>_due_at|state``."""
    from supportcli.store.policies import all_versions, parsed

    tiers = {row.version: parsed(row).tiers for row in all_versions(session)}
    for batch in ticket_batches(session, ticket_statement(wanted, session.connection().dialect.name)):
        ids = [ticket.id or 0 for ticket in batch]
        targets = targets_for(session, ids)
        life = _life_from_history(session, ids)
        for ticket in batch:
            names = tiers.get(ticket.policy_version, ())
            row: dict[str, Any] = {
                "id": ticket.id,
                "reference": ticket.reference,
                "subject": ticket.subject,
                "body": ticket.body,
                "kind": ticket.kind,
                "channel": ticket.channel,
                "priority": ticket.priority,
                "name": ticket.customer_name,
                "email": ticket.customer_email,
                "phone": ticket.customer_phone,
                "org": ticket.org,
                "category": ticket.category,
                "tags": ";".join(ticket.tag_list),
                "owner": ticket.owner,
                "tier": ticket.tier,
                "tier_name": names[ticket.tier] if ticket.tier < len(names) else str(ticket.tier),
                "status": ticket.status,
                "rating": ticket.rating,
                **life.get(ticket.id or 0, {}),
            }
            for name in ("received_at", "waiting_since", "resolved_at", "closed_at"):
                row[name] = getattr(ticket, name)
            for name in TIME_COLUMNS:
                row[name] = _local(row.get(name), zone)
            if ticket.resolved_at is None:
                row.pop("resolution", None)
            for target in targets.get(ticket.id or 0, []):
                row[f"{target.name}_due_at"] = _local(target.due_at, zone)
                row[f"{target.name}_state"] = shown_state(target.state, target.due_at, now).value
            yield [row.get(name) for name in CSV_EXPORT_COLUMNS]


def _life_from_history(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per ticket: when it was first acknowledged and responded to, and its last resolution and feedback texts."""
    found: dict[int, dict[str, Any]] = {}
    kinds = [*_FIRST_AT, *_LAST_TEXT]
    events = session.exec(
        select(Event).where(col(Event.ticket_id).in_(ids), col(Event.kind).in_(kinds)).order_by(col(Event.id))
    )
    for event in events:
        values = found.setdefault(event.ticket_id, {})
        if event.kind in _FIRST_AT:
            values.setdefault(_FIRST_AT[event.kind], event.at)
        else:
            values[_LAST_TEXT[event.kind]] = event.text
    return found


def _local(value: datetime | None, zone: tzinfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None
