"""CSV import: new tickets from a spreadsheet's rows, logged, acknowledged, resolved and closed as each row says.

The columns, their validation and their messages are ``core.csv_rows``'s (one table, ``CSV_COLUMNS``);
this module reads the file, runs each valid row through the same store operations as the commands,
and decides what a bad row does to the rest of the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlmodel import Session

from supportcli.core.csv_rows import RESOLVED_STATUSES, CsvTicket, check_header, normalise_header, parse_row
from supportcli.errors import InvalidInput, SupportcliError
from supportcli.store.tickets import Actor, acknowledge, close, log_ticket, record, resolve


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

    def run(self, stream: Iterable[str]) -> CsvSummary:
        """Import every row of ``stream`` (the lines of a CSV file with a header row)."""
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

    def _write(self, row: CsvTicket) -> None:
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
    session: Session, row: CsvTicket, actor: str, now: datetime, source_name: str, default_owner: str | None = None
) -> int:
    """Log one spreadsheet row as a new ticket, then acknowledge, resolve and close it as the row says."""
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
