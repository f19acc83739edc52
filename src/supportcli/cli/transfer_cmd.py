"""export and import: lossless JSON/NDJSON dumps of the store, and CSV for spreadsheets and other helpdesks."""

from __future__ import annotations

import io
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from supportcli.cli.context import AppContext
from supportcli.cli.filters import FilterValues, filter_options, ticket_filter
from supportcli.cli.output_options import format_option, parse_format
from supportcli.core.tickets import check_choice
from supportcli.errors import InvalidInput
from supportcli.render.output import Format

if TYPE_CHECKING:
    from sqlmodel import Session

    from supportcli.store.queries import TicketFilter

T = TypeVar("T")

FORMATS = (Format.JSON, Format.NDJSON, Format.CSV)
EXTENSIONS = {".json": Format.JSON, ".ndjson": Format.NDJSON, ".jsonl": Format.NDJSON, ".csv": Format.CSV}
CONFLICT_MODES = ("fail", "skip", "renumber")
# Below these sizes a progress bar would only flicker.
PROGRESS_MIN_TICKETS = 1_000
PROGRESS_MIN_BYTES = 1_000_000

FormatOption = Annotated[str | None, format_option(FORMATS, "json, ndjson or csv (default: from the file name).")]


@filter_options(taken=("-o",))  # -o is --output here
def export(
    ctx: typer.Context,
    format_: FormatOption = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (mode 0600), not stdout.")
    ] = None,
    *,
    filters: FilterValues,
) -> None:
    """Export tickets with their targets, history and feedback, the staff and the policy versions.

    JSON (one document) and NDJSON (one record a line, "type": meta, policy_version, staff,
    ticket) are lossless: `import` restores them exactly. CSV is one row per ticket for
    spreadsheets (targets as <target>_due_at, <target>_met_at, <target>_state), with formulas
    neutralised. Filters are those of `list`; a filtered dump carries the policy versions and
    staff its tickets refer to.

    Examples:

      supportcli export -o backup.json

      supportcli export --format ndjson --status open > open.ndjson

      supportcli export --kind complaint --since 2026-01-01 -o complaints.csv
    """
    from zoneinfo import ZoneInfo

    from supportcli.render.csv_writer import write_csv
    from supportcli.render.dump_formats import write_json, write_ndjson
    from supportcli.store.export import CSV_EXPORT_COLUMNS, csv_export_rows, export_records

    obj: AppContext = ctx.obj
    fmt = _format(format_, output, default=Format.JSON)
    wanted = ticket_filter(obj, filters)
    zone = ZoneInfo(obj.newest_policy().calendar.timezone)
    now = obj.now()
    exported = 0
    with obj.store().read() as session, _destination(output) as stream:
        total = _ticket_count(session, wanted) if output and obj.output.is_terminal else None
        with progress_bar(obj, total, PROGRESS_MIN_TICKETS, "Exporting tickets") as advance:

            def counted(records: Iterable[T], is_ticket: Callable[[T], bool]) -> Iterator[T]:
                nonlocal exported
                for record in records:
                    yield record
                    if is_ticket(record):
                        exported += 1
                        advance(exported)

            if fmt is Format.CSV:
                rows = csv_export_rows(session, wanted, zone, now)
                write_csv(stream, CSV_EXPORT_COLUMNS, counted(rows, lambda _: True))
            else:
                records = counted(export_records(session, wanted, zone, now), lambda r: r[0] == "ticket")
                (write_json if fmt is Format.JSON else write_ndjson)(stream, records)
    if output:
        obj.output.message(f"exported {exported} ticket{'s' if exported != 1 else ''} to {output} ({fmt})")


def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="A json, ndjson or csv file, or - for stdin.")],
    format_: FormatOption = None,
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict",
            metavar="MODE",
            help="When a ticket id is taken: fail (nothing written), skip it, or renumber it.",
        ),
    ] = "fail",
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="CSV: import the valid rows and report the bad ones.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and report; write nothing.")] = False,
) -> None:
    """Import an export (JSON/NDJSON) exactly, or new tickets from a spreadsheet (CSV).

    A JSON or NDJSON export keeps its ids, due times, met times, states and history. A ticket
    id already in the store is a clash: the import is refused (exit 2, nothing written) unless
    --on-conflict skip (keep the store's ticket) or renumber (give the imported one a new
    number). A policy version with the same number and text is reused; a different one is
    refused, or added under a new number with skip/renumber. Staff are matched by name.

    CSV: a header row, then one ticket per row; due times are computed under the policy in
    effect when it was received, as `log` does. Columns (any order, only subject required):
    subject, body, kind, channel, priority, name, email, phone, org, category, tags (separated
    by ;), owner, received_at (ISO 8601; naive = the calendar's timezone; default now), status
    (new, acknowledged, resolved or closed), acknowledged_at, resolved_at. Bad rows are
    reported as "line N: column: why" and nothing is written unless every row is valid
    (or --skip-invalid).

    Everything is written in one transaction. Large files show a progress bar on a terminal.

    Examples:

      supportcli --db new.db import backup.json

      supportcli import old-helpdesk.csv --skip-invalid

      supportcli import --on-conflict renumber other-team.ndjson

      zcat backup.ndjson.gz | supportcli import - --format ndjson
    """
    obj: AppContext = ctx.obj
    mode = check_choice(on_conflict, CONFLICT_MODES, "--on-conflict")
    name = "stdin" if file == "-" else file
    with _source(file) as (stream, position, size):
        try:
            first = stream.readline()
            fmt = _format(format_, None if file == "-" else file, default=None) or _sniff(first)
            if skip_invalid and fmt != "csv":
                raise InvalidInput("--skip-invalid is for CSV files; an export is imported whole or not at all")
            lines = itertools.chain([first], stream)
            with progress_bar(obj, size, PROGRESS_MIN_BYTES, f"Importing {Path(name).name}") as advance:
                tracked = _tracked(lines, lambda: advance(position()))
                summary = _run_import(obj, fmt, mode, name, tracked, skip_invalid, dry_run)
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{name} is not UTF-8 text") from exc
    _report(obj, name, fmt, summary, dry_run)


class _DryRun(Exception):
    """Raised inside the write transaction so a dry run rolls back what it did."""

    def __init__(self, summary: Any) -> None:
        self.summary = summary


def _run_import(
    obj: AppContext, fmt: str, mode: str, name: str, lines: Iterable[str], skip_invalid: bool, dry_run: bool
) -> Any:
    from zoneinfo import ZoneInfo

    from supportcli.render.dump_formats import read_json, read_ndjson
    from supportcli.store.csv_import import CsvImport
    from supportcli.store.dump_import import DumpImporter, ImportConflict

    now = obj.now()
    zone = ZoneInfo(obj.newest_policy().calendar.timezone)
    default_owner = obj.config.get("default_owner") if isinstance(obj.config.get("default_owner"), str) else None

    def work(session: Session) -> Any:
        if fmt == "csv":
            rows = CsvImport(session, obj.actor, now, zone, name, skip_invalid, default_owner)
            summary: Any = rows.run(lines)  # type: ignore[arg-type]
        else:
            before = _policy_in_effect(session, now)
            reader = read_json(io.StringIO("".join(lines))) if fmt == "json" else read_ndjson(lines)  # type: ignore[arg-type]
            try:
                summary = DumpImporter(session, mode, obj.actor, now).run(reader)  # type: ignore[arg-type]
            except ImportConflict:
                raise
            except InvalidInput as exc:
                raise InvalidInput(f"{name}: {exc}") from exc
            after = _policy_in_effect(session, now)
            if after != before:
                obj.output.message(f"policy version {after} from {name} is now in effect for new tickets")
        if dry_run:
            raise _DryRun(summary)
        return summary

    try:
        return obj.store().run_write(work)
    except _DryRun as done:
        return done.summary


def _policy_in_effect(session: Session, now: Any) -> int | None:
    from supportcli.store.policies import version_in_effect

    return version_in_effect(session, now).version


def _report(obj: AppContext, name: str, fmt: str, summary: Any, dry_run: bool) -> None:
    say = obj.output.message
    verb = "would import" if dry_run else "imported"
    if fmt == "csv":
        for problem in summary.problems:
            say(f"{name}: skipped {problem}")
        if summary.ignored_columns:
            say(
                f"{name}: ignored column{'s' if len(summary.ignored_columns) != 1 else ''}: "
                + ", ".join(summary.ignored_columns)
            )
        ids = [ticket_id for _, ticket_id in summary.created]
        span = f" (#{ids[0]}–#{ids[-1]})" if len(ids) > 1 else f" (#{ids[0]})" if ids else ""
        say(f"{verb} {len(ids)} ticket{'s' if len(ids) != 1 else ''} from {name}{span}")
        if summary.bad_rows:
            say(f"skipped {summary.bad_rows} bad row{'s' if summary.bad_rows != 1 else ''}")
    else:
        for old, new in summary.renumbered_policies.items():
            say(f"policy version {old} of {name} differs from the store's: {verb} as version {new}")
        for staff_name in summary.kept_staff:
            say(f"staff {staff_name}: kept the store's entry (the file's differs)")
        if summary.skipped:
            say(f"skipped {len(summary.skipped)} ticket(s) already in the store: " + _ids(summary.skipped))
        for old, new in summary.renumbered.items():
            say(f"ticket #{old} of {name} {verb} as #{new}")
        if summary.dropped_notices:
            say(f"left out {summary.dropped_notices} queued notice(s) of renumbered tickets")
        say(
            f"{verb} {summary.tickets} ticket{'s' if summary.tickets != 1 else ''}, {summary.staff} staff, "
            f"{summary.policy_versions} policy version{'s' if summary.policy_versions != 1 else ''} from {name}"
        )
    if dry_run:
        say("dry run: nothing was written")


def _ids(ids: list[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:20])
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


def _format(given: str | None, path: str | None, default: Format | None) -> Format | None:
    if given:
        return parse_format(given, FORMATS)
    if path and path != "-":
        return EXTENSIONS.get(Path(path).suffix.lower(), default)
    return default


def _sniff(first_line: str) -> Format:
    from supportcli.render.dump_formats import sniff_format

    return Format(sniff_format(first_line))


def _ticket_count(session: Session, wanted: TicketFilter) -> int:
    from sqlalchemy import func, select

    from supportcli.store.queries import ticket_statement

    return session.exec(
        select(func.count()).select_from(ticket_statement(wanted, session.connection().dialect.name).subquery())
    ).one()[0]  # type: ignore[call-overload]


def _tracked(lines: Iterable[str], update: Callable[[], None]) -> Iterator[str]:
    for line in lines:
        yield line
        update()


@contextmanager
def progress_bar(obj: AppContext, total: int | None, minimum: int, description: str) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr for long runs on a terminal; elsewhere a no-op."""
    if not obj.output.is_terminal or total is None or total < minimum:
        yield lambda _completed: None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=obj.output.console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda completed: progress.update(task, completed=completed)


@contextmanager
def _destination(output: str | None) -> Iterator[IO[str]]:
    """stdout, or FILE written beside itself and renamed into place when complete (mode 0600: customer data)."""
    if not output:
        yield sys.stdout
        return
    target = Path(output)
    if target.exists() and not target.is_file():
        # A device or pipe (/dev/null, a FIFO): write into it; never rename a file over it.
        try:
            with target.open("w", encoding="utf-8", newline="") as stream:
                yield stream
        except OSError as exc:
            raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from exc
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary stream, for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


@contextmanager
def _source(file: str) -> Iterator[tuple[IO[str], Callable[[], int], int | None]]:
    """The text of FILE or stdin (UTF-8, a BOM dropped), how many bytes are read so far, and its size."""
    if file == "-":
        raw: IO[bytes] = sys.stdin.buffer
        size = None
    else:
        try:
            raw = Path(file).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from exc
        size = os.fstat(raw.fileno()).st_size
    counter = _CountingReader(raw)
    text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline="")
    try:
        yield text, lambda: counter.count, size
    finally:
        if file != "-":
            raw.close()
