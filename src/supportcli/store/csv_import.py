"""CSV import: tickets from a spreadsheet's rows with the life each row records (README "Moving in from a spreadsheet").

The columns, maps, dates, validation and the plan of each ticket are ``core.csv_rows``'s; this module reads
the file (every record first, so every problem is reported at once and nothing is written for a refused
file), decides what a row whose reference or id the store already has does, and writes the tickets, their
targets and history in bulk (``store.bulk.BulkWriter``: executemany on SQLite, COPY on PostgreSQL), keeping
the search index current in the same transaction.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from supportcli.core.csv_rows import (
    CsvMaps,
    CsvTicket,
    Header,
    RowProblems,
    RowRules,
    TicketPlan,
    parse_row,
    plan_life,
    read_header,
    unquoted,
)
from supportcli.core.tickets import next_pending, tier_index
from supportcli.errors import InvalidInput
from supportcli.store import search
from supportcli.store.bulk import BulkWriter
from supportcli.store.dump_import import bump_sequences
from supportcli.store.dump_schema import encode_data, ticket_id_problem
from supportcli.store.lookups import phone_key
from supportcli.store.met_durations import WorkingTimes, derive_met_working_seconds
from supportcli.store.models import Event, ImportedFile, PolicyVersion, Target, Ticket, encode_list, table_of
from supportcli.store.policies import PolicyBook, pick_version

CONFLICT_MODES = ("skip", "update", "fail")
# The longest field a CSV may hold (a long e-mail body); Python's csv module refuses more than 128 KiB by default.
FIELD_LIMIT = 4 * 1024 * 1024
INSERT_BATCH = 500  # tickets per batch of bulk writes (and of search index rows)
# The columns written for each planned target and history event (``_target_rows``, ``_events``).
TARGET_COLUMNS = (
    "ticket_id", "name", "duration", "started_at", "due_at", "met_at", "state", "paused_at",
    "paused_working_seconds", "met_working_seconds", "source",
)  # fmt: skip
EVENT_COLUMNS = ("ticket_id", "at", "actor", "kind", "text", "data")
CHECK_PROBLEMS = 20  # problems ``--check`` lists


class CsvRowsInvalid(InvalidInput):
    """Records of a CSV file that cannot be imported; each problem says ``record N (REF): column: why``."""

    def __init__(self, source_name: str, problems: list[str]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source_name} (nothing imported): {count}: " + "; ".join(problems))


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV file is read and what a clash does (the options of ``import``)."""

    maps: CsvMaps = field(default_factory=CsvMaps)
    dayfirst: bool = True
    fix_order: bool = False
    skip_invalid: bool = False
    on_conflict: str = "skip"
    again: bool = False
    default_owner: str | None = None


@dataclass
class CsvSummary:
    """What a CSV import wrote, skipped and found wrong."""

    header: Header | None = None
    records: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # references (or #ids) already in the store
    problems: list[str] = field(default_factory=list)
    bad_rows: int = 0
    reordered: int = 0  # rows whose times --fix-order moved
    content_hash: str = ""

    @property
    def ignored_columns(self) -> list[str]:
        """The file's columns no column of ours takes."""
        return self.header.ignored if self.header else []


@dataclass
class PlannedRow:
    """A valid record with its plan, the policy it was planned under, and the store's ticket it updates, if any."""

    row: CsvTicket
    plan: TicketPlan
    policy_version: int
    rule_number: int | None
    owner: str | None
    tier: int
    existing: int | None = None  # the store's ticket this row updates


class CsvImport:
    """Tickets from spreadsheet records, planned under the policy version each takes as
    ``log`` would give it now (``store.policies.pick_version``).

    ``check`` reads and plans without writing (``import --check``); ``run`` also writes, all or nothing:
    any problem refuses the file unless ``skip_invalid``, and the caller's transaction rolls back.
    """

    def __init__(
        self, session: Session, actor: str, now: datetime, zone: tzinfo, source_name: str, options: CsvOptions
    ) -> None:
        if options.on_conflict not in CONFLICT_MODES:
            raise InvalidInput(
                f"unknown --on-conflict {options.on_conflict!r} for CSV (allowed: {', '.join(CONFLICT_MODES)})"
            )
        self.session, self.actor, self.now, self.name, self.options = session, actor, now, source_name, options
        self.rules = RowRules(zone, now, options.dayfirst, options.fix_order, options.maps, ticket_id_problem)
        self.book = PolicyBook(session, now.year)
        self.versions = list(session.exec(select(PolicyVersion)))
        self.owner_problems: dict[str, str | None] = {}  # owner name → why it is refused (None: accepted)
        self.summary = CsvSummary()

    def check(self, lines: Iterable[str]) -> tuple[CsvSummary, list[PlannedRow]]:
        """Read and plan every record, report what would clash; write nothing."""
        rows, bad = self._read(lines)
        skipped = self._report(bad)
        planned = [p for p in (self._plan(row) for row in rows) if p is not None]
        planned = self._resolve_clashes(planned, skipped)
        self._refuse_a_second_import(planned)
        return self.summary, planned

    def run(self, lines: Iterable[str]) -> CsvSummary:
        """Import every valid record; refuse the whole file on any problem unless ``skip_invalid``."""
        _, planned = self.check(lines)
        if self.summary.problems and not self.options.skip_invalid:
            raise CsvRowsInvalid(self.name, self.summary.problems)
        self._write(planned)
        self.session.add(
            ImportedFile(
                content_hash=self.summary.content_hash,
                name=self.name,
                at=self.now,
                actor=self.actor,
                tickets=len(self.summary.created) + len(self.summary.updated),
            )
        )
        self.session.flush()
        return self.summary

    # -- reading -------------------------------------------------------------------------------------------------------

    def _read(self, lines: Iterable[str]) -> tuple[list[CsvTicket], list[RowProblems]]:
        """The valid records, and the problems of each other one (reported by ``_report``)."""
        digest = hashlib.sha256()

        def hashed() -> Iterator[str]:
            for line in lines:
                digest.update(line.encode("utf-8"))
                yield line

        csv.field_size_limit(FIELD_LIMIT)
        reader = csv.reader(hashed(), strict=True)
        rows: list[CsvTicket] = []
        bad: list[RowProblems] = []
        try:
            header_cells = next(reader, [])
        except csv.Error as exc:
            raise InvalidInput(f"{self.name}: header: not CSV ({_csv_error(exc)})") from exc
        header, problems = read_header(header_cells, self.options.maps)
        self.summary.header = header
        if problems:
            raise CsvRowsInvalid(self.name, problems)
        columns = header.columns
        record, line = 0, reader.line_num + 1
        while True:
            start = line
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                raise InvalidInput(
                    f"{self.name} (nothing imported): record {record + 1} (from line {start}): {_csv_error(exc)}"
                ) from exc
            if cells is None:
                break
            record, line = record + 1, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                bad.append(
                    RowProblems([f"record {record}: has {len(cells)} cells, the header names {len(columns)}"], record)
                )
                continue
            values = {column: unquoted(cell) for column, cell in zip(columns, cells, strict=False) if column}
            parsed = parse_row(record, values, self.rules)
            if isinstance(parsed, RowProblems):
                bad.append(parsed)
            else:
                self.summary.reordered += bool(parsed.reordered)
                rows.append(parsed)
        self.summary.records = record
        self.summary.content_hash = digest.hexdigest()
        return rows, bad

    def _report(self, bad: list[RowProblems]) -> dict[int, str]:
        """The problems of the records that are not valid, except those a re-import skips anyway: with
        ``--on-conflict skip`` (the default), a record whose reference the store has is skipped whatever it
        holds, so a file imported once with ``--fix-order`` (or after fixing the store) imports again safely.
        Returns those skipped, by record number."""
        known: dict[Any, int] = {}
        if self.options.on_conflict == "skip":
            known = self._existing(Ticket.reference, [problems.reference for problems in bad if problems.reference])
        skipped: dict[int, str] = {}
        for problems in bad:
            if problems.reference is not None and problems.reference in known:
                skipped[problems.record] = problems.reference
            else:
                self._bad(problems)
        return skipped

    def _bad(self, problems: list[str]) -> None:
        self.summary.problems.extend(problems)
        self.summary.bad_rows += 1

    def _refuse_a_second_import(self, planned: list[PlannedRow]) -> None:
        """The same file again, with rows that neither a reference nor an id tells apart: refused unless ``again``.

        Rows with a reference (or an id) are recognised one by one and skipped or updated; the others would be
        created a second time. So a file imported before is refused when any row it would create has neither,
        whether the file has no reference column at all or leaves some of its cells empty.
        """
        if self.options.again:
            return
        unnamed = sum(1 for p in planned if p.row.reference is None and p.row.ticket_id is None)
        if not unnamed:
            return
        earlier = self.session.exec(
            select(ImportedFile)
            .where(ImportedFile.content_hash == self.summary.content_hash)
            .order_by(col(ImportedFile.id))
        ).first()
        if earlier is not None:
            when = earlier.at.astimezone(self.rules.zone).isoformat(timespec="minutes")
            header = self.summary.header
            why = (
                "has no reference column to tell its rows apart"
                if header is None or not header.has("reference")
                else f"{unnamed} of its records have no reference to tell them apart"
            )
            raise InvalidInput(
                f"{self.name}: this file was imported already ({earlier.tickets} tickets, {when} by {earlier.actor}) "
                f"and {why}; nothing imported (--again imports it again)"
            )

    # -- planning ------------------------------------------------------------------------------------------------------

    def _plan(self, row: CsvTicket) -> PlannedRow | None:
        # The version a ticket logged now with this received time takes, as for ``log``.
        version = pick_version(self.versions, row.received_at, self.now)
        policy, calendar = self.book.get(version.version or 0)
        new = row.new
        rule = policy.rule_for(new.kind, new.channel, new.priority, new.org)
        tier = 0
        if row.tier is not None:
            try:
                tier = tier_index(policy.tiers, row.tier)
            except InvalidInput as exc:
                self._bad([f"{row.label}: tier: {exc}"])
                return None
        if new.owner is not None and self._owner_problem(new.owner) is not None:
            hint = f'--map-value "owner:{new.owner}=NAME" maps it to a staff member'
            self._bad([f"{row.label}: owner: {self._owner_problem(new.owner)}; {hint}"])
            return None
        return PlannedRow(
            row=row,
            plan=plan_life(row, rule, calendar),
            policy_version=version.version or 0,
            rule_number=rule.number if rule else None,
            owner=new.owner or (rule.owner if rule else None) or self.options.default_owner,
            tier=tier,
        )

    def _owner_problem(self, name: str) -> str | None:
        """An owner column names a staff member, as ``log --owner`` must (any name while the directory is empty):
        the same check, asked once per name however many rows carry it."""
        if name not in self.owner_problems:
            from supportcli.store.staff import unknown_staff_name

            self.owner_problems[name] = unknown_staff_name(self.session, name, "")
        return self.owner_problems[name]

    def _resolve_clashes(self, planned: list[PlannedRow], skipped: dict[int, str]) -> list[PlannedRow]:
        """Rows whose reference (else id) the store has: skipped, updated or refused; ids taken otherwise refused.

        ``skipped`` holds the invalid records skipped already (``_report``), by number: the summary names every
        skipped record in the file's order."""
        by_reference = self._existing(Ticket.reference, [p.row.reference for p in planned if p.row.reference])
        by_id = self._existing(Ticket.id, [p.row.ticket_id for p in planned if p.row.ticket_id])
        seen_references: dict[str, int] = {}
        seen_ids: dict[int, int] = {}
        kept: list[PlannedRow] = []
        for item in planned:
            row = item.row
            problems = []
            if row.reference is not None:
                if row.reference in seen_references:
                    problems.append(f"reference: {row.reference} is also record {seen_references[row.reference]}")
                seen_references.setdefault(row.reference, row.record)
            if row.ticket_id is not None:
                if row.ticket_id in seen_ids:
                    problems.append(f"id: #{row.ticket_id} is also record {seen_ids[row.ticket_id]}")
                seen_ids.setdefault(row.ticket_id, row.record)
            existing = by_reference.get(row.reference) if row.reference else None
            if existing is None and row.reference is None and row.ticket_id is not None:
                existing = by_id.get(row.ticket_id)
            elif row.ticket_id is not None and row.ticket_id in by_id and by_id[row.ticket_id] != existing:
                problems.append(f"id: #{row.ticket_id} is another ticket of the store")
            if problems:
                self._bad([f"{row.label}: {problem}" for problem in problems])
                continue
            if existing is not None:
                mode = self.options.on_conflict
                what = row.reference or f"#{row.ticket_id}"
                if mode == "fail":
                    self._bad([f"{row.label}: {what} is ticket #{existing} already (--on-conflict skip or update)"])
                    continue
                if mode == "skip":
                    skipped[row.record] = what
                    continue
                item.existing = existing
            kept.append(item)
        self.summary.skipped.extend(skipped[record] for record in sorted(skipped))
        return kept

    def _existing(self, column: Any, keys: list[Any]) -> dict[Any, int]:
        found: dict[Any, int] = {}
        for start in range(0, len(keys), INSERT_BATCH):
            chunk = keys[start : start + INSERT_BATCH]
            for key, ticket_id in self.session.exec(select(column, Ticket.id).where(col(column).in_(chunk))):
                found[key] = ticket_id or 0
        return found

    # -- writing -------------------------------------------------------------------------------------------------------

    def _write(self, planned: list[PlannedRow]) -> None:
        largest = self.session.exec(select(func.max(Ticket.id))).one() or 0
        wanted = [p.row.ticket_id for p in planned if p.row.ticket_id and p.existing is None]
        next_id = max([largest, *wanted]) + 1
        connection = self.session.connection()
        # Rows go to the driver many at a time (COPY on PostgreSQL: an executemany there is still one INSERT
        # statement per row, each waited on by the server), inside the import's one transaction.
        writer, times = BulkWriter(connection), WorkingTimes(connection)
        for start in range(0, len(planned), INSERT_BATCH):
            batch = planned[start : start + INSERT_BATCH]
            for item in batch:
                if item.existing is None and item.row.ticket_id is None:
                    item.row.ticket_id, next_id = next_id, next_id + 1
            self._write_batch(batch, writer, times)
        # Met targets of the store still without a working time (those written here have theirs).
        derive_met_working_seconds(connection)
        bump_sequences(self.session)

    def _write_batch(self, batch: list[PlannedRow], writer: BulkWriter, times: WorkingTimes) -> None:
        connection = self.session.connection()
        new = [item for item in batch if item.existing is None]
        updated = [item for item in batch if item.existing is not None]
        if new:
            tickets = [self._ticket_row(item, item.row.ticket_id or 0) for item in new]
            writer.insert(table_of(Ticket), list(tickets[0]), tickets)
        if updated:
            ids = [item.existing or 0 for item in updated]
            connection.execute(delete(Target).where(col(Target.ticket_id).in_(ids)))
            for item in updated:
                values = self._ticket_row(item, item.existing or 0)
                for kept in ("id", "logged_at"):
                    values.pop(kept)
                connection.execute(update(Ticket).where(col(Ticket.id) == item.existing).values(**values))
        targets: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for item in batch:
            ticket_id = item.existing or item.row.ticket_id or 0
            targets.extend(self._target_rows(item, ticket_id, times))
            events.extend(self._events(item, ticket_id))
        writer.insert(table_of(Target), TARGET_COLUMNS, targets)
        writer.insert(table_of(Event), EVENT_COLUMNS, events)
        self.summary.created.extend(item.row.ticket_id or 0 for item in new)
        self.summary.updated.extend(item.existing or 0 for item in updated)
        search.reindex(self.session, [item.existing or item.row.ticket_id or 0 for item in batch])

    @staticmethod
    def _target_rows(item: PlannedRow, ticket_id: int, times: WorkingTimes) -> Iterator[dict[str, Any]]:
        """The rows of a ticket's planned targets, each met one with its working time from receipt (what
        ``report`` reads, README "Reports"), worked out here rather than by a per-target UPDATE afterwards."""
        received = math.floor(item.row.received_at.timestamp())
        for t in item.plan.targets:
            met = t.met_at
            yield {
                **vars(t),
                "state": str(t.state),
                "ticket_id": ticket_id,
                "source": "policy",
                "paused_working_seconds": 0,
                "met_working_seconds": None
                if met is None
                else times.seconds(item.policy_version, received, math.floor(met.timestamp()), 0),
            }

    def _ticket_row(self, item: PlannedRow, ticket_id: int) -> dict[str, Any]:
        new, plan = item.row.new, item.plan
        upcoming = next_pending((t.name, t.state, t.due_at) for t in plan.targets)
        changed_at = max(event.at for event in plan.events) if plan.events else item.row.received_at
        return {
            "id": ticket_id,
            "subject": new.subject,
            "body": new.body,
            "kind": new.kind,
            "channel": new.channel,
            "priority": new.priority,
            "customer_name": new.customer_name,
            "customer_email": new.customer_email,
            "customer_phone": new.customer_phone,
            "customer_phone_key": phone_key(new.customer_phone),
            "org": new.org,
            "category": new.category,
            "tags": encode_list(new.tags),
            "watchers": "",
            "owner": item.owner,
            "tier": item.tier,
            "status": plan.status,
            "received_at": item.row.received_at,
            "logged_at": self.now,
            "updated_at": max(changed_at, self.now),
            "waiting_since": plan.waiting_since,
            "resolved_at": plan.resolved_at,
            "closed_at": plan.closed_at,
            "expected_by": None,
            "expected_reason": None,
            "rating": item.row.rating,
            "policy_version": item.policy_version,
            "rule_number": item.rule_number,
            "next_due_at": upcoming[1] if upcoming else None,
            "next_target": upcoming[0] if upcoming else None,
            "purged_at": None,
            "reference": item.row.reference,
        }

    def _events(self, item: PlannedRow, ticket_id: int) -> list[dict[str, Any]]:
        row = item.row

        def event(at: datetime, kind: str, text: str, data: dict[str, Any]) -> dict[str, Any]:
            return {
                "ticket_id": ticket_id,
                "at": at,
                "actor": self.actor,
                "kind": kind,
                "text": text,
                "data": encode_data(data) if data else "",
            }

        where = f"{self.name} {row.label}"
        if item.existing is not None:
            return [event(self.now, "imported", f"updated from {where}", {"record": row.record, "updated": True})]
        logged = {
            "policy_version": item.policy_version,
            "rule": item.rule_number,
            "received_at": row.received_at.isoformat(),
        }
        rows = [
            event(self.now, "logged", row.new.subject, logged),
            event(self.now, "imported", f"from {where}", {"record": row.record}),
        ]
        return rows + [event(e.at, e.kind, e.text, e.data) for e in item.plan.events]


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quoted field is never closed (an unterminated quote swallows the rows after it)"
    if "field larger than field limit" in text:
        return f"a field is longer than {FIELD_LIMIT} characters"
    return f"malformed CSV ({text})"
