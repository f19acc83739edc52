"""Export and import: streaming JSON/NDJSON dumps of a store, CSV for spreadsheets.

A dump holds every policy version, staff member and ticket (with its targets,
history, automation marks and notices) as it is stored: ids, due times, met
times and states are never recomputed, so export → import → export gives the
same bytes. Exports read tickets in batches and write each record as it is
read; NDJSON imports are read one line at a time. An import runs in the one
write transaction it is given, so a refused file writes nothing.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, tzinfo
from typing import IO, Any, Literal

from sqlalchemy import func, insert, text
from sqlmodel import Session, SQLModel, col, select

from supportcli.core.tickets import (
    CHANNELS,
    KINDS,
    PRIORITIES,
    STATUSES,
    TARGET_ORDER,
    TargetState,
    next_pending,
    shown_state,
)
from supportcli.errors import InvalidInput
from supportcli.store import search
from supportcli.store.database import SCHEMA_VERSION
from supportcli.store.lookups import phone_key
from supportcli.store.models import (
    AutomationMark,
    Event,
    MailMessage,
    Notice,
    PolicyVersion,
    Staff,
    Target,
    Ticket,
)
from supportcli.store.queries import TicketFilter, ticket_statement

FORMAT_NAME = "supportcli-export"
FORMAT_VERSION = 1
BATCH_SIZE = 500
CONFLICT_MODES = ("fail", "skip", "renumber")

Record = tuple[str, dict[str, Any]]
"""One record of a dump: its type (meta, policy_version, staff, ticket) and its fields."""

ConflictMode = Literal["fail", "skip", "renumber"]

# How each stored column is written to a dump and read back: one description serves both ways.
# Types: str, int, at (an instant), "?" = may be null; a field missing from a record takes the default.
REQUIRED = object()
POLICY_FIELDS: dict[str, tuple[str, Any]] = {
    "version": ("int", REQUIRED),
    "name": ("str", REQUIRED),
    "effective_at": ("at", REQUIRED),
    "set_at": ("at", REQUIRED),
    "set_by": ("str", REQUIRED),
    "note": ("str", ""),
    "source": ("str", REQUIRED),
}
STAFF_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("str", REQUIRED),
    "email": ("str", ""),
    "tier": ("int", 0),
    "away_until": ("at?", None),
    "cover": ("str?", None),
}
TICKET_FIELDS: dict[str, tuple[str, Any]] = {
    "id": ("int", REQUIRED),
    "subject": ("str", REQUIRED),
    "body": ("str", ""),
    "kind": ("str", "enquiry"),
    "channel": ("str", "email"),
    "priority": ("str", "normal"),
    "customer_name": ("str?", None),
    "customer_email": ("str?", None),
    "customer_phone": ("str?", None),
    "customer_phone_key": ("str?", None),
    "org": ("str?", None),
    "category": ("str?", None),
    "tags": ("tags", ""),
    "watchers": ("tags", ""),
    "owner": ("str?", None),
    "tier": ("int", 0),
    "status": ("str", "new"),
    "received_at": ("at", REQUIRED),
    "logged_at": ("at", REQUIRED),
    "updated_at": ("at", REQUIRED),
    "waiting_since": ("at?", None),
    "resolved_at": ("at?", None),
    "closed_at": ("at?", None),
    "expected_by": ("at?", None),
    "expected_reason": ("str?", None),
    "rating": ("int?", None),
    "policy_version": ("int", REQUIRED),
    "rule_number": ("int?", None),
    "next_due_at": ("at?", None),
    "next_target": ("str?", None),
    "purged_at": ("at?", None),
}
TARGET_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("str", REQUIRED),
    "duration": ("str", REQUIRED),
    "started_at": ("at", REQUIRED),
    "due_at": ("at?", None),
    "met_at": ("at?", None),
    "state": ("str", "pending"),
    "paused_at": ("at?", None),
    "paused_working_seconds": ("int", 0),
    "source": ("str", "policy"),
}
EVENT_FIELDS: dict[str, tuple[str, Any]] = {
    "at": ("at", REQUIRED),
    "actor": ("str", REQUIRED),
    "kind": ("str", REQUIRED),
    "text": ("str", ""),
    "data": ("data", ""),
}
MARK_FIELDS: dict[str, tuple[str, Any]] = {"key": ("str", REQUIRED), "at": ("at", REQUIRED)}
NOTICE_FIELDS: dict[str, tuple[str, Any]] = {
    "key": ("str", REQUIRED),
    "event": ("str", REQUIRED),
    "target": ("str?", None),
    "due_at": ("at?", None),
    "channel": ("str", REQUIRED),
    "recipient": ("str", REQUIRED),
    "subject": ("str", ""),
    "body": ("str", ""),
    "payload": ("str", ""),
    "message_id": ("str", REQUIRED),
    "status": ("str", "pending"),
    "attempts": ("int", 0),
    "next_attempt_at": ("at", REQUIRED),
    "lease_until": ("at?", None),
    "claimed_by": ("str?", None),
    "last_error": ("str", ""),
    "created_at": ("at", REQUIRED),
    "sent_at": ("at?", None),
}
MAIL_FIELDS: dict[str, tuple[str, Any]] = {
    "message_key": ("str", REQUIRED),
    "at": ("at", REQUIRED),
    "from_address": ("str", ""),
    "subject": ("str", ""),
    "outcome": ("str", REQUIRED),
    "reason": ("str", ""),
}
# The rows nested in each ticket record: key in the record, table, fields.
CHILDREN: tuple[tuple[str, type[SQLModel], dict[str, tuple[str, Any]]], ...] = (
    ("targets", Target, TARGET_FIELDS),
    ("events", Event, EVENT_FIELDS),
    ("automation_marks", AutomationMark, MARK_FIELDS),
    ("notices", Notice, NOTICE_FIELDS),
    ("mail_messages", MailMessage, MAIL_FIELDS),
)


# -- values -----------------------------------------------------------------------------------------------------------


def _dump_value(kind: str, value: Any, zone: tzinfo) -> Any:
    if value is None:
        return None
    if kind.startswith("at"):
        return value.astimezone(zone).isoformat()  # microseconds kept when present: lossless
    if kind == "tags":
        return [tag for tag in value.split(",") if tag]
    if kind == "data":
        return _dump_data(value)
    return value


def _dump_data(stored: str) -> Any:
    """Event data as JSON when it reads back to exactly the stored text, else the text itself."""
    if not stored:
        return None
    try:
        parsed = json.loads(stored)
    except ValueError:
        return stored
    return parsed if isinstance(parsed, dict) and _encode_data(parsed) == stored else stored


def _encode_data(data: dict[str, Any]) -> str:
    # The encoding store.tickets.record uses for event data.
    return json.dumps(data, default=str, sort_keys=True)


def _load_value(kind: str, value: Any, where: str, name: str) -> Any:
    nullable = kind.endswith("?")
    base = kind.rstrip("?")
    if value is None:
        if nullable:
            return None
        if base in ("tags", "data"):
            return ""
        raise InvalidInput(f"{where}: {name}: must not be null")
    if base == "str" and isinstance(value, str):
        return value
    if base == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base == "at" and isinstance(value, str):
        return _load_instant(value, where, name)
    if base == "tags" and isinstance(value, list) and all(isinstance(t, str) and t and "," not in t for t in value):
        return "," + ",".join(value) + "," if value else ""
    if base == "data" and isinstance(value, dict | str):
        return _encode_data(value) if isinstance(value, dict) else value
    raise InvalidInput(f"{where}: {name}: unexpected value {json.dumps(value, default=str)[:60]}")


def _load_instant(value: str, where: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(f"{where}: {name}: {value!r} is not an ISO 8601 instant with an offset")
    return parsed


def dump_row(row: SQLModel, fields: Mapping[str, tuple[str, Any]], zone: tzinfo) -> dict[str, Any]:
    """A stored row as a dump record (instants in ``zone`` with their offset)."""
    return {name: _dump_value(kind, getattr(row, name), zone) for name, (kind, _) in fields.items()}


def load_row(
    record: Mapping[str, Any], fields: Mapping[str, tuple[str, Any]], where: str, nested: Iterable[str] = ()
) -> dict[str, Any]:
    """A dump record's fields, checked and converted to stored values; unknown fields are refused (lossless)."""
    if not isinstance(record, Mapping):
        raise InvalidInput(f"{where}: expected an object")
    unknown = [key for key in record if key not in fields and key not in nested]
    if unknown:
        raise InvalidInput(f"{where}: unknown field {unknown[0]!r}")
    values = {}
    for name, (kind, default) in fields.items():
        if name not in record:
            if default is REQUIRED:
                raise InvalidInput(f"{where}: missing field {name!r}")
            values[name] = default
        else:
            values[name] = _load_value(kind, record[name], where, name)
    return values


# -- export -----------------------------------------------------------------------------------------------------------


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
    statement = ticket_statement(wanted)
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
    for batch in ticket_batches(session, statement):
        yield from (("ticket", record) for record in _ticket_records(session, batch, zone))


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


def _children(session: Session, table: type[SQLModel], ids: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {ticket_id: [] for ticket_id in ids}
    rows = session.exec(select(table).where(col(table.ticket_id).in_(ids)).order_by(col(table.id)))  # type: ignore[attr-defined]
    for row in rows:
        grouped[row.ticket_id].append(row)
    return grouped


def _ticket_records(session: Session, batch: list[Ticket], zone: tzinfo) -> Iterator[dict[str, Any]]:
    ids = [ticket.id or 0 for ticket in batch]
    nested = {key: _children(session, table, ids) for key, table, _ in CHILDREN}
    order = {name: index for index, name in enumerate(TARGET_ORDER)}
    nested["targets"] = {
        ticket_id: sorted(rows, key=lambda t: (order.get(t.name, len(order)), t.name))
        for ticket_id, rows in nested["targets"].items()
    }
    for ticket in batch:
        record = dump_row(ticket, TICKET_FIELDS, zone)
        for key, _, fields in CHILDREN:
            record[key] = [dump_row(row, fields, zone) for row in nested[key][ticket.id or 0]]
        yield record


def write_ndjson(stream: IO[str], records: Iterable[Record]) -> None:
    """One JSON object per line, each with its ``type``: importable in one pass."""
    for kind, record in records:
        stream.write(json.dumps({"type": kind, **record}, ensure_ascii=False) + "\n")


def write_json(stream: IO[str], records: Iterable[Record]) -> None:
    """One JSON document ``{"meta", "policy_versions", "staff", "tickets"}``, one record per line, streamed."""
    sections = ("policy_versions", "staff", "tickets")
    section_of = {"policy_version": "policy_versions", "staff": "staff", "ticket": "tickets"}
    opened, count = -1, 0  # the section being written and how many records it has so far

    def open_up_to(index: int) -> None:
        nonlocal opened, count
        while opened < index:
            if opened >= 0:
                stream.write("\n  ]" if count else "]")
            opened, count = opened + 1, 0
            stream.write(f',\n  "{sections[opened]}": [')

    stream.write("{\n")
    for kind, record in records:
        encoded = json.dumps(record, ensure_ascii=False)
        if kind == "meta":
            stream.write(f'  "meta": {encoded}')
            continue
        open_up_to(sections.index(section_of[kind]))
        stream.write(("\n    " if count == 0 else ",\n    ") + encoded)
        count += 1
    open_up_to(len(sections) - 1)
    stream.write(("\n  ]" if count else "]") + "\n}\n")


# -- CSV export -------------------------------------------------------------------------------------------------------

CSV_TICKET_COLUMNS = (
    "id",
    "subject",
    "body",
    "kind",
    "channel",
    "priority",
    "name",
    "email",
    "phone",
    "org",
    "category",
    "tags",
    "owner",
    "tier",
    "tier_name",
    "status",
    "received_at",
    "logged_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "expected_by",
    "expected_reason",
    "rating",
    "policy_version",
)
CSV_EXPORT_COLUMNS = CSV_TICKET_COLUMNS + tuple(
    f"{target}_{part}" for target in TARGET_ORDER for part in ("due_at", "met_at", "state")
)


def csv_export_rows(session: Session, wanted: TicketFilter, zone: tzinfo, now: datetime) -> Iterator[dict[str, Any]]:
    """Tickets as flat spreadsheet rows: one per ticket, targets as ``<target>_due_at|met_at|state``."""
    from supportcli.store.policies import all_versions, parsed
    from supportcli.store.queries import targets_for

    tiers = {row.version: parsed(row).tiers for row in all_versions(session)}
    for batch in ticket_batches(session, ticket_statement(wanted)):
        targets = targets_for(session, [ticket.id or 0 for ticket in batch])
        for ticket in batch:
            names = tiers.get(ticket.policy_version, ())
            row: dict[str, Any] = {
                "id": ticket.id,
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
                "policy_version": ticket.policy_version,
                "expected_reason": ticket.expected_reason,
            }
            for name in ("received_at", "logged_at", "updated_at", "resolved_at", "closed_at", "expected_by"):
                row[name] = _local(getattr(ticket, name), zone)
            for target in targets.get(ticket.id or 0, []):
                row[f"{target.name}_due_at"] = _local(target.due_at, zone)
                row[f"{target.name}_met_at"] = _local(target.met_at, zone)
                row[f"{target.name}_state"] = shown_state(target.state, target.due_at, now).value
            yield row


def _local(value: datetime | None, zone: tzinfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


def write_csv(stream: IO[str], rows: Iterable[Mapping[str, Any]], columns: Iterable[str] = CSV_EXPORT_COLUMNS) -> None:
    """RFC 4180 CSV (CRLF, quoted where needed) with spreadsheet formulas neutralised in every cell."""
    from supportcli.render.output import neutralise_formula, plain_value

    names = list(columns)
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([neutralise_formula(plain_value(row.get(name))) for name in names])


# -- reading dumps ----------------------------------------------------------------------------------------------------

Located = tuple[str, str, dict[str, Any]]
"""A record read from a dump: where it is (for messages), its type, its fields."""


def read_ndjson(stream: IO[str]) -> Iterator[Located]:
    """Records of an NDJSON dump, one line at a time."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise InvalidInput(f'{where}: expected an object with a "type"')
        kind = record.pop("type")
        yield where, kind, record


def read_json(stream: IO[str]) -> Iterator[Located]:
    """Records of a JSON dump (the whole document is parsed first: use NDJSON for very large stores)."""
    try:
        document = json.load(stream)
    except ValueError as exc:
        raise InvalidInput(f"not a JSON document ({exc})") from exc
    sections = {"meta": "meta", "policy_versions": "policy_version", "staff": "staff", "tickets": "ticket"}
    if not isinstance(document, dict) or "meta" not in document:
        raise InvalidInput('expected a supportcli export: an object with "meta", "policy_versions", "staff", "tickets"')
    unknown = [key for key in document if key not in sections]
    if unknown:
        raise InvalidInput(f"unknown section {unknown[0]!r}")
    yield "meta", "meta", document["meta"]
    for section in ("policy_versions", "staff", "tickets"):
        records = document.get(section, [])
        if not isinstance(records, list):
            raise InvalidInput(f"{section}: expected a list")
        for index, record in enumerate(records):
            yield f"{section}[{index}]", sections[section], record


def sniff_format(first_line: str) -> str:
    """json, ndjson or csv, from the first line of a file whose name does not say."""
    stripped = first_line.strip()
    if not stripped.startswith("{"):
        return "csv"
    try:
        record = json.loads(stripped)
    except ValueError:
        return "json"
    return "ndjson" if isinstance(record, dict) and "type" in record else "json"


# -- importing dumps --------------------------------------------------------------------------------------------------


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
        self.batch: list[dict[str, Any]] = []
        self.batch_ids: set[int] = set()
        self.spool: IO[str] | None = None

    def run(self, records: Iterable[Located]) -> ImportSummary:
        """Import every record, then the renumbered tickets; raise ImportConflict (nothing kept) on clashes."""
        for where, kind, record in records:
            self.add(where, kind, record)
        self.finish()
        return self.summary

    def add(self, where: str, kind: str, record: dict[str, Any]) -> None:
        """Import one record."""
        if kind == "meta":
            self._meta(where, record)
            return
        if not self.seen_meta:
            raise InvalidInput(f"{where}: the file must start with its meta record (is it a supportcli export?)")
        handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
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
        search.index_missing(self.session)  # search index: the imported tickets, in one statement

    def _meta(self, where: str, record: dict[str, Any]) -> None:
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

    def _ticket(self, where: str, record: dict[str, Any]) -> None:
        values = load_ticket(record, where)
        values["ticket"]["policy_version"] = self._store_version(where, values["ticket"]["policy_version"])
        ticket_id = values["ticket"]["id"]
        if not self._clashes(ticket_id):
            self._queue(values)
        elif self.mode == "fail":
            self.summary.clashes.append(f"ticket #{ticket_id}")
        elif self.mode == "skip":
            self.summary.skipped.append(ticket_id)
        else:
            if self.spool is None:
                self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in finish()
            self.spool.write(json.dumps({"where": where, "record": record}, ensure_ascii=False) + "\n")

    def _store_version(self, where: str, number: int) -> int:
        if number in self.versions:
            return self.versions[number]
        if self.session.get(PolicyVersion, number) is None:
            raise InvalidInput(f"{where}: policy_version: {number} is neither in the file nor in the store")
        return number

    def _clashes(self, ticket_id: int) -> bool:
        if ticket_id in self.batch_ids:
            return True
        return self.session.exec(select(Ticket.id).where(Ticket.id == ticket_id)).first() is not None

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
            | {"data": _encode_data({"previous_id": old})}
        )
        self._queue(values)
        self._flush()
        self.summary.renumbered[old] = new

    def _queue(self, values: dict[str, Any]) -> None:
        self.batch.append(values)
        self.batch_ids.add(values["ticket"]["id"])
        self.summary.tickets += 1
        if len(self.batch) >= BATCH_SIZE:
            self._flush()

    def _flush(self) -> None:
        """Insert the batched tickets and their rows with a few multi-row INSERTs."""
        if not self.batch:
            return
        connection = self.session.connection()
        connection.execute(insert(Ticket), [values["ticket"] for values in self.batch])
        for key, table, _ in CHILDREN:
            rows = [{**row, "ticket_id": values["ticket"]["id"]} for values in self.batch for row in values[key]]
            if key == "automation_marks":
                rows = self._new_marks(rows)
            if key == "mail_messages":
                rows = self._new_mail(rows)
            if rows:
                connection.execute(insert(table), rows)
        self.batch, self.batch_ids = [], set()

    def _new_mail(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A message already recorded in this store (imported before, or mailed to both) stays recorded once.
        keys = [row["message_key"] for row in rows]
        taken = set(self.session.exec(select(MailMessage.message_key).where(col(MailMessage.message_key).in_(keys))))
        return [row for row in rows if row["message_key"] not in taken]

    def _new_marks(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A mark records that an automatic action happened; the same action already marked is the same fact.
        keys = [row["key"] for row in rows]
        taken = set(self.session.exec(select(AutomationMark.key).where(col(AutomationMark.key).in_(keys))))
        return [row for row in rows if row["key"] not in taken]


def load_ticket(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A ticket record and its nested rows, checked and converted to stored values."""
    nested = [key for key, _, _ in CHILDREN]
    ticket = load_row(record, TICKET_FIELDS, where, nested)
    where = f"{where} (ticket #{ticket['id']})"
    for name, allowed in (("kind", KINDS), ("channel", CHANNELS), ("priority", PRIORITIES), ("status", STATUSES)):
        if ticket[name] not in allowed:
            raise InvalidInput(f"{where}: {name}: unknown {name} {ticket[name]!r} (allowed: {', '.join(allowed)})")
    if ticket["rating"] is not None and not 1 <= ticket["rating"] <= 5:
        raise InvalidInput(f"{where}: rating: must be 1 to 5")
    values: dict[str, Any] = {"ticket": ticket}
    for key, _, fields in CHILDREN:
        rows = record.get(key, [])
        if not isinstance(rows, list):
            raise InvalidInput(f"{where}: {key}: expected a list")
        values[key] = [load_row(row, fields, f"{where} {key}[{index}]") for index, row in enumerate(rows)]
    states = {state.value for state in TargetState}
    for index, target in enumerate(values["targets"]):
        if target["state"] not in states:
            raise InvalidInput(f"{where} targets[{index}]: state: unknown state {target['state']!r}")
    upcoming = next_pending((t["name"], t["state"], t["due_at"]) for t in values["targets"])
    # Derived from the targets, never taken from the file: listings trust them (``queries.listing_rows``).
    ticket["next_target"], ticket["next_due_at"] = upcoming if upcoming else (None, None)
    ticket["customer_phone_key"] = phone_key(ticket["customer_phone"])  # derived too (``store.lookups``)
    return values


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


# -- CSV import -------------------------------------------------------------------------------------------------------


class CsvRowsInvalid(InvalidInput):
    """Rows of a CSV file that cannot be imported; each problem says ``line N: column: why``."""

    def __init__(self, source_name: str, problems: list[str]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source_name} (nothing imported): {count}: " + "; ".join(problems))


@dataclass
class CsvSummary:
    """What a CSV import wrote, and the rows it left out (with ``--skip-invalid``)."""

    created: list[tuple[int, int]] = field(default_factory=list)  # (line, ticket id)
    problems: list[str] = field(default_factory=list)
    bad_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class CsvImport:
    """New tickets from spreadsheet rows, with due times computed as ``log`` computes them.

    Every row is checked; a row's writes run in a savepoint, so with ``skip_invalid`` a bad row
    leaves nothing behind, and without it any problem refuses the whole file (the caller's
    transaction rolls back).
    """

    session: Session
    actor: str
    now: datetime
    zone: tzinfo
    source_name: str
    skip_invalid: bool = False
    default_owner: str | None = None
    summary: CsvSummary = field(default_factory=CsvSummary)

    def run(self, stream: IO[str]) -> CsvSummary:
        """Import every row of ``stream`` (a CSV file with a header row)."""
        from supportcli.core.csv_rows import check_header, normalise_header, parse_row

        reader = csv.reader(stream)
        header = normalise_header(next(reader, []))
        problems, self.summary.ignored_columns = check_header(header)
        if problems:
            raise CsvRowsInvalid(self.source_name, problems)
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                self._bad([f"line {start}: has {len(cells)} cells, the header names {len(header)}"])
                continue
            parsed = parse_row(start, dict(zip(header, cells, strict=False)), self.zone, self.now)
            if isinstance(parsed, list):
                self._bad(parsed)
            else:
                self._write(parsed)
        if self.summary.problems and not self.skip_invalid:
            raise CsvRowsInvalid(self.source_name, self.summary.problems)
        return self.summary

    def _bad(self, problems: list[str]) -> None:
        self.summary.problems.extend(problems)
        self.summary.bad_rows += 1

    def _write(self, row: Any) -> None:
        from supportcli.errors import SupportcliError

        try:
            with self.session.begin_nested():
                ticket_id = import_csv_ticket(
                    self.session, row, self.actor, self.now, self.source_name, self.default_owner
                )
        except SupportcliError as exc:
            self._bad([f"line {row.line}: {exc}"])
            return
        self.summary.created.append((row.line, ticket_id))


def import_csv_ticket(
    session: Session, row: Any, actor: str, now: datetime, source_name: str, default_owner: str | None = None
) -> int:
    """Log one spreadsheet row as a new ticket, then acknowledge, resolve and close it as the row says."""
    from supportcli.core.csv_rows import RESOLVED_STATUSES
    from supportcli.store.tickets import Actor, acknowledge, close, log_ticket, record, resolve

    importer = Actor(actor, now)
    ticket = log_ticket(session, row.new, importer, default_owner)
    record(session, ticket, importer, "imported", f"from {source_name} line {row.line}", line=row.line)
    ticket_id = ticket.id or 0
    if row.acknowledged_at or row.status == "acknowledged":
        acknowledge(session, ticket_id, Actor(actor, row.acknowledged_at or now))
    if row.status in RESOLVED_STATUSES:
        resolve(session, ticket_id, Actor(actor, row.resolved_at or now), "resolved before the import")
    if row.status == "closed":
        close(session, ticket_id, importer)
    session.flush()
    return ticket_id
