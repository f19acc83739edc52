"""``report``: service levels, working times, volumes and satisfaction over a period."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supportcli.cli import complete
from supportcli.cli.common import parse_time
from supportcli.cli.context import AppContext
from supportcli.cli.output_options import format_option, json_flag, parse_format
from supportcli.core.reporting import GROUPINGS
from supportcli.core.timeparse import Looking
from supportcli.errors import InvalidInput
from supportcli.render.output import Format

if TYPE_CHECKING:
    from supportcli.core.reporting import Report

FORMATS = (Format.TABLE, Format.JSON, Format.HTML)


def report(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="WHEN", help="Tickets received at or after (default: start of last month)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="Tickets received before (default: start of this month)."),
    ] = None,
    org: Annotated[
        list[str] | None, typer.Option("--org", metavar="NAME", help="Only this organisation; repeatable.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="GROUPING",
            help=f"Group by one of: {', '.join(GROUPINGS)}.",
            autocompletion=complete.fixed(GROUPINGS),
        ),
    ] = None,
    output_format: Annotated[str, format_option(FORMATS, f"One of: {', '.join(FORMATS)}.")] = "table",
    json_output: Annotated[bool, json_flag("Write JSON (same as --format json).")] = False,
    output_file: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the JSON or HTML report to FILE, not stdout."),
    ] = None,
) -> None:
    """Report on tickets received in a period: volumes, service levels, working times, escalations, CSAT.

    Without --since and --until the period is last month (midnight to midnight in the
    policy's timezone); --since alone runs to now, --until alone covers the month before.
    Service levels: met on time, breached (met late, or pending past the due time now) and
    pending, per target. Working times (median, 90th percentile) count opening hours only,
    from receipt to acknowledgement, first response and resolution. Escalations and
    extensions are counted when they happened. Weeks are ISO weeks.

    Examples:

      supportcli report

      supportcli report --since 2026-11-01 --until 2026-12-01 --by owner

      supportcli report --org Acme --by week --format html -o acme-november.html

      supportcli report --since "2026-10-01" --json
    """
    from supportcli.core.reporting import Period, last_full_month, month_before, week_starts
    from supportcli.store.reporting import ReportQuery, build_report

    obj: AppContext = ctx.obj
    grouping = _grouping(by)
    fmt = _format(output_format, json_output, output_file)
    calendar = obj.calendar(obj.newest_policy())
    now = obj.now()
    if since is None and until is None:
        period = last_full_month(now, calendar.zone)
    else:
        end = parse_time(obj, until, Looking.BACK) if until else now
        start = parse_time(obj, since, Looking.BACK) if since else month_before(end, calendar.zone)
        period = Period(start, end)
    weeks = week_starts(period, calendar.zone) if grouping == "week" else ()
    query = ReportQuery(period=period, now=now, orgs=tuple(org or ()), by=grouping, weeks=weeks)
    with obj.store().read() as session:
        result = build_report(session, query, calendar)
    _emit(obj, result, fmt, output_file)


def _grouping(by: str | None) -> str | None:
    if by is None:
        return None
    value = by.strip().lower()
    if value not in GROUPINGS:
        raise InvalidInput(f"unknown --by {by!r} (allowed: {', '.join(GROUPINGS)})")
    return value


def _format(output_format: str, json_output: bool, output_file: Path | None) -> Format:
    fmt = parse_format(output_format, FORMATS)
    if json_output:
        if fmt not in (Format.TABLE, Format.JSON):
            raise InvalidInput(f"give either --json or --format {fmt}, not both")
        fmt = Format.JSON
    if output_file is not None and fmt is Format.TABLE:
        raise InvalidInput("--output writes a file: use it with --format html or --json")
    return fmt


def _emit(obj: AppContext, result: Report, fmt: Format, output_file: Path | None) -> None:
    """The report on stdout, or written to a file (JSON through the same writer as every --json)."""
    import io

    from supportcli.render.output import Output
    from supportcli.render.report import html_report, print_report

    if fmt is Format.TABLE:
        print_report(obj.output, result)
        return
    buffer = io.StringIO()
    if fmt is Format.HTML:
        buffer.write(html_report(result))
    else:
        Output(stdout=buffer).json(result.as_record())
    if output_file is None:
        obj.output.stdout.write(buffer.getvalue())
        return
    try:
        output_file.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output_file}: {exc.strerror or exc}") from exc
    obj.output.message(f"report written to {output_file}")
