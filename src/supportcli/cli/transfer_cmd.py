"""export and import: lossless JSON/NDJSON dumps of the store, and CSV for spreadsheets and other helpdesks."""

from __future__ import annotations

import io
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
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

    from supportcli.store.csv_import import CsvOptions
    from supportcli.store.dump_import import ConflictMode
    from supportcli.store.queries import TicketFilter

T = TypeVar("T")

FORMATS = (Format.JSON, Format.NDJSON, Format.CSV)
EXTENSIONS = {".json": Format.JSON, ".ndjson": Format.NDJSON, ".jsonl": Format.NDJSON, ".csv": Format.CSV}
CONFLICT_MODES: tuple[ConflictMode, ...] = ("fail", "skip", "renumber")
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
    from supportcli.render.dump_formats import Written, write_json, write_ndjson
    from supportcli.store.export import CSV_EXPORT_COLUMNS, csv_export_rows, export_records
    from supportcli.store.export_workers import ExportJob, parallel_records, worker_count

    obj: AppContext = ctx.obj
    fmt = _format(format_, output, default=Format.JSON)
    wanted = ticket_filter(obj, filters)
    zone = ZoneInfo(obj.newest_policy().calendar.timezone)
    now = obj.now()
    exported = 0
    store = obj.store()
    with store.read() as session, _destination(output, binary=fmt is not Format.CSV) as stream:
        tickets = _ticket_count(session, wanted) if fmt is not Format.CSV or obj.output.is_terminal else None
        total = tickets if output and obj.output.is_terminal else None
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
                # A large store's records are built by worker processes on one snapshot (store.export_workers).
                workers = worker_count(store.read_only is not None, tickets or 0)
                built: Iterable[Written] = (
                    parallel_records(store, ExportJob(store.location, dict(obj.env), wanted, zone.key, now), workers)
                    if workers
                    else export_records(session, wanted, zone, now)
                )
                records = counted(built, lambda r: r[0] == "ticket")
                (write_json if fmt is Format.JSON else write_ndjson)(stream, records)
    if output:
        obj.output.message(f"exported {exported} ticket{'s' if exported != 1 else ''} to {output} ({fmt})")


def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="A json, ndjson or csv file, or - for stdin.")],
    format_: FormatOption = None,
    on_conflict: Annotated[
        str | None,
        typer.Option(
            "--on-conflict",
            metavar="MODE",
            help="Export: when a ticket id is taken, fail (the default: nothing written), skip or renumber. "
            "CSV: when a row's reference (else id) is in the store, skip it (the default), update it, or fail.",
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="CSV: import the valid rows and report the bad ones.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and report; write nothing.")] = False,
    column_maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map", metavar="SOURCE=COLUMN", help="CSV: read the file's column SOURCE as COLUMN; repeatable."
        ),
    ] = None,
    value_maps: Annotated[
        list[str] | None,
        typer.Option("--map-value", metavar="COLUMN:VALUE=NEW", help="CSV: read VALUE in COLUMN as NEW; repeatable."),
    ] = None,
    map_file: Annotated[
        str | None,
        typer.Option("--map-file", metavar="FILE", help="CSV: column and value maps from a TOML file."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="CSV: list the columns found, how each maps, and the problems; write nothing."),
    ] = False,
    dayfirst: Annotated[
        bool | None,
        typer.Option(
            "--dayfirst/--monthfirst",
            help="CSV: read 01/06/2023 as 1 June or as January 6 (default: as the calendar's country writes dates).",
        ),
    ] = None,
    fix_order: Annotated[
        bool,
        typer.Option("--fix-order", help="CSV: a time before an earlier step of the ticket's life is moved to it."),
    ] = False,
    again: Annotated[
        bool,
        typer.Option("--again", help="CSV: import a file imported before even though some rows have no reference."),
    ] = False,
) -> None:
    """Import an export (JSON/NDJSON) exactly, or tickets from a spreadsheet or another helpdesk (CSV).

    A JSON or NDJSON export keeps its ids, due times, met times, states and history. A ticket
    id already in the store is a clash: the import is refused (exit 2, nothing written) unless
    --on-conflict skip (keep the store's ticket) or renumber (give the imported one a new
    number). A policy version with the same number and text is reused; a different one is
    refused, or added under a new number with skip/renumber. Staff are matched by name.

    CSV (README "Moving in from a spreadsheet"): a header row, then one ticket per record, the
    columns `export --format csv` writes, in any order, only subject required: id, reference,
    subject, body, kind, channel, priority, name, email, phone, org, category, tags (separated
    by ;), owner, tier, status, received_at, acknowledged_at, responded_at, waiting_since,
    resolved_at, closed_at, resolution, rating, feedback. Targets are planned from received_at
    under the policy version log would give the ticket now, and met by the times given. Times: ISO 8601, DD/MM/YYYY HH:MM
    or Excel serial numbers; naive ones in the calendar's timezone. Other names and values are
    mapped with --map, --map-value or --map-file. Problems are reported as "record N (REF):
    column: why" and nothing is written unless every record is valid (or --skip-invalid). Rows
    whose reference is in the store are skipped (or --on-conflict update); a file imported
    before with rows lacking a reference is refused unless --again.

    Everything is written in one transaction. Large files show a progress bar on a terminal.

    Examples:

      supportcli --db new.db import backup.json

      supportcli import tickets.csv --map "Ticket ID=reference" --map-value "priority:Critical=urgent" --check

      supportcli import old-helpdesk.csv --map-file helpdesk.toml --fix-order --skip-invalid

      zcat backup.ndjson.gz | supportcli import - --format ndjson
    """
    obj: AppContext = ctx.obj
    name = "stdin" if file == "-" else file
    csv_options = {
        "--map": bool(column_maps),
        "--map-value": bool(value_maps),
        "--map-file": map_file is not None,
        "--check": check,
        "--dayfirst/--monthfirst": dayfirst is not None,
        "--fix-order": fix_order,
        "--again": again,
        "--skip-invalid": skip_invalid,
    }
    with _source(file) as (stream, position, size):
        try:
            first = stream.readline()
            fmt = _format(format_, None if file == "-" else file, default=None) or _sniff(first)
            given = [option for option, used in csv_options.items() if used]
            if given and fmt != "csv":
                raise InvalidInput(f"{given[0]} is for CSV files; an export is imported whole or not at all")
            if fmt == "csv":
                options = _csv_options(obj, on_conflict, column_maps, value_maps, map_file, dayfirst)
                options = replace(options, fix_order=fix_order, skip_invalid=skip_invalid, again=again)
                mode: ConflictMode = "fail"  # unused: a CSV's conflicts are its options' on_conflict
            else:
                mode = check_choice(on_conflict or "fail", CONFLICT_MODES, "--on-conflict")
                options = None
            lines = itertools.chain([first], stream)
            with progress_bar(obj, size, PROGRESS_MIN_BYTES, f"Importing {Path(name).name}") as advance:
                tracked = _tracked(lines, lambda: advance(position()))
                if check and options is not None:
                    _check_csv(obj, name, tracked, options)
                    return
                summary = _run_import(obj, fmt, mode, name, tracked, options, dry_run)
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{name} is not UTF-8 text") from exc
    _report(obj, name, fmt, summary, dry_run)


def _csv_options(
    obj: AppContext,
    on_conflict: str | None,
    column_maps: list[str] | None,
    value_maps: list[str] | None,
    map_file: str | None,
    dayfirst: bool | None,
) -> CsvOptions:
    """The reading options of a CSV import: maps (options over the map file), date order, clash mode."""
    import tomllib

    from supportcli.core.csv_rows import (
        CsvMaps,
        is_day_first,
        maps_from_document,
        merged,
        parse_column_map,
        parse_value_map,
    )
    from supportcli.store.csv_import import CONFLICT_MODES as CSV_CONFLICT_MODES
    from supportcli.store.csv_import import CsvOptions

    maps = CsvMaps()
    if map_file is not None:
        try:
            document = tomllib.loads(Path(map_file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(f"cannot read {map_file}: {exc.strerror or exc}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{map_file}: not TOML ({exc})") from exc
        maps = maps_from_document(document, map_file)
    maps = merged(maps, CsvMaps(parse_column_map(column_maps or []), parse_value_map(value_maps or [])))
    calendar = obj.newest_policy().calendar
    default_owner = obj.config.get("default_owner")
    return CsvOptions(
        maps=maps,
        dayfirst=is_day_first(calendar.country) if dayfirst is None else dayfirst,
        on_conflict=check_choice(on_conflict or "skip", CSV_CONFLICT_MODES, "--on-conflict"),
        default_owner=default_owner if isinstance(default_owner, str) else None,
    )


def _check_csv(obj: AppContext, name: str, lines: Iterable[str], options: CsvOptions) -> None:
    """``import --check``: the columns found and how each maps, the first problems, what an import would do."""
    from zoneinfo import ZoneInfo

    from supportcli.core.csv_rows import CSV_COLUMNS, DERIVED_COLUMNS, fold
    from supportcli.store.csv_import import CHECK_PROBLEMS, CsvImport

    zone = ZoneInfo(obj.newest_policy().calendar.timezone)
    with obj.store().read() as session:
        importer = CsvImport(session, obj.actor, obj.now(), zone, name, options)
        try:
            summary, planned = importer.check(lines)
        except InvalidInput as exc:
            problems = getattr(exc, "problems", None)
            if not problems:
                raise
            summary, planned = importer.summary, []
            summary.problems = problems
    out = obj.output.line
    header = summary.header
    out(f"{name}: {summary.records} record{'s' if summary.records != 1 else ''}")
    if header is not None:
        out("columns:")
        width = max((len(found) for found in header.found), default=0)
        for found, column in zip(header.found, header.columns, strict=True):
            if column is not None:
                meaning = f"-> {column}" + ("" if fold(found) == column else " (mapped)")
            elif fold(found) in DERIVED_COLUMNS:
                meaning = "(derived: planned again from the policy)"
            else:
                meaning = "(ignored)"
            out(f"  {found:<{width}}  {meaning}")
        missing = [column for column in CSV_COLUMNS if not header.has(column)]
        if missing:
            out("not in the file: " + ", ".join(missing))
    if summary.problems:
        shown = summary.problems[:CHECK_PROBLEMS]
        more = f", the first {len(shown)}" if len(shown) < len(summary.problems) else ""
        out(f"problems ({len(summary.problems)}{more}):")
        for problem in shown:
            out(f"  {problem}")
    if summary.reordered:
        out(f"--fix-order moves the times of {summary.reordered} record{'s' if summary.reordered != 1 else ''}")
    updating = sum(1 for item in planned if item.existing is not None)
    out(
        f"would import {len(planned) - updating} ticket{'s' if len(planned) - updating != 1 else ''}"
        + (f", update {updating}" if updating else "")
        + (f", skip {len(summary.skipped)} already in the store" if summary.skipped else "")
        + ("" if not summary.problems else f", leave out {summary.bad_rows} bad record(s) with --skip-invalid")
    )
    if summary.problems:
        count = len(summary.problems)
        raise InvalidInput(f"{name}: {count} problem{'s' if count != 1 else ''} (listed above); nothing was written")


class _DryRun(Exception):
    """Raised inside the write transaction so a dry run rolls back what it did."""

    def __init__(self, summary: Any) -> None:
        self.summary = summary


def _run_import(
    obj: AppContext,
    fmt: str,
    mode: ConflictMode,
    name: str,
    lines: Iterable[str],
    options: CsvOptions | None,
    dry_run: bool,
) -> Any:
    from zoneinfo import ZoneInfo

    from supportcli.render.dump_formats import read_json
    from supportcli.store.csv_import import CsvImport
    from supportcli.store.dump_import import DumpImporter, ImportConflict
    from supportcli.store.dump_workers import read_prepared, worker_count

    now = obj.now()
    zone = ZoneInfo(obj.newest_policy().calendar.timezone)

    def work(session: Session) -> Any:
        if options is not None:
            summary: Any = CsvImport(session, obj.actor, now, zone, name, options).run(lines)
        else:
            before = _policy_in_effect(session, now)
            reader: Iterable[Any] = (
                read_json(io.StringIO("".join(lines))) if fmt == "json" else read_prepared(lines, worker_count())
            )
            try:
                summary = DumpImporter(session, mode, obj.actor, now).run(reader)
            except ImportConflict:
                raise
            except InvalidInput as exc:
                raise InvalidInput(f"{name}: {exc}") from exc
            finally:
                # A refused import stops the reader now (read_prepared's parsing worker with it), not whenever
                # the half-read generator is collected.
                close = getattr(reader, "close", None)
                if close is not None:
                    close()
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
        if summary.skipped:
            shown = ", ".join(summary.skipped[:10]) + (
                f" and {len(summary.skipped) - 10} more" if len(summary.skipped) > 10 else ""
            )
            say(
                f"skipped {len(summary.skipped)} row{'s' if len(summary.skipped) != 1 else ''} already in the store: {shown}"
            )
        if summary.reordered:
            say(
                f"moved the times of {summary.reordered} record{'s' if summary.reordered != 1 else ''} into order (--fix-order)"
            )
        ids = summary.created
        span = f" (#{ids[0]}–#{ids[-1]})" if len(ids) > 1 else f" (#{ids[0]})" if ids else ""
        say(f"{verb} {len(ids)} ticket{'s' if len(ids) != 1 else ''} from {name}{span}")
        if summary.updated:
            say(
                f"{'would update' if dry_run else 'updated'} {len(summary.updated)} ticket(s): " + _ids(summary.updated)
            )
        if summary.bad_rows:
            say(f"skipped {summary.bad_rows} bad record{'s' if summary.bad_rows != 1 else ''}")
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
    from sqlalchemy import func
    from sqlmodel import select

    from supportcli.store.queries import ticket_statement

    return session.exec(
        select(func.count()).select_from(ticket_statement(wanted, session.connection().dialect.name).subquery())
    ).one()


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
def _destination(output: str | None, *, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or FILE written beside itself and renamed into place when complete (mode 0600: customer data).

    Text (UTF-8), or bytes for ``binary`` (the JSON and NDJSON dumps, which orjson encodes to UTF-8 itself).
    """
    if not output:
        if not binary:
            yield sys.stdout
            return
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return

    target = Path(output)
    if target.exists() and not target.is_file():
        # A device or pipe (/dev/null, a FIFO): write into it; never rename a file over it.
        try:
            with target.open("wb") if binary else target.open("w", encoding="utf-8", newline="") as stream:
                yield stream
        except OSError as exc:
            raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from exc
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
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
