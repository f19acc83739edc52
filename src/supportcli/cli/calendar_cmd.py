"""``supportcli calendar``: the team's working days, and the due-time calculator."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from supportcli.cli.context import AppContext
from supportcli.cli.output_options import JsonOption, Listing, output_options
from supportcli.render.output import Column, human_time

if TYPE_CHECKING:
    from supportcli.core.calendar import DayInfo, WorkingCalendar
    from supportcli.core.policy import Policy

app = typer.Typer(
    help="Working days, opening hours and holidays; `calendar due` computes a due time.",
    invoke_without_command=True,
)

PolicyFile = Annotated[
    str | None,
    typer.Option(
        "--policy", metavar="FILE", help="Use this policy file instead of the stored policy (to try it first)."
    ),
]


def _policy_from_file(path: str) -> Policy:
    from supportcli.cli.policy_cmd import read_policy_file
    from supportcli.core.policy import load_policy

    source, name = read_policy_file(path)
    return load_policy(source, name)


def _calendar_for(obj: AppContext, policy_file: str | None) -> WorkingCalendar:
    return obj.calendar(_policy_from_file(policy_file) if policy_file else obj.policy_at(obj.now())[1])


def _parse_date(text: str, calendar: WorkingCalendar, obj: AppContext) -> date:
    from supportcli.core.timeparse import Looking, parse_when

    return parse_when(text, obj.now().astimezone(calendar.zone), calendar, Looking.BACK).date()


@app.callback()
@output_options()
def calendar(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", metavar="WHEN", help="First date (default: today).")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="WHEN", help="Last date (default: two weeks on).")] = None,
    policy_file: PolicyFile = None,
    *,
    listing: Listing,
) -> None:
    """List working days with opening hours, and the holidays and closures between.

    Examples:

      supportcli calendar --from 2026-12-21 --to 2027-01-04

      supportcli calendar --from today --to +10wd --json
    """
    if ctx.invoked_subcommand is not None:
        return
    obj: AppContext = ctx.obj
    cal = _calendar_for(obj, policy_file)
    first = _parse_date(start, cal, obj) if start else obj.now().astimezone(cal.zone).date()
    last = _parse_date(end, cal, obj) if end else first + timedelta(days=13)
    if last < first:
        from supportcli.errors import InvalidInput

        raise InvalidInput(f"--to ({last}) is before --from ({first})")
    days = cal.days(first, last)
    records = [
        {
            "date": info.day,
            "weekday": info.day.strftime("%a"),
            "working": info.is_working,
            "opens": info.opens,
            "closes": info.closes,
            "hours": _hours_open(info),
            "note": info.note,
        }
        for info in days
    ]
    fmt = listing.format(obj.output)
    columns = [
        Column("Date", "date"),
        Column("Day", "weekday"),
        Column("Opens", "opens", human=lambda v: v.strftime("%H:%M") if v else "—"),
        Column("Closes", "closes", human=lambda v: v.strftime("%H:%M %Z") if v else "—"),
        Column("Hours", "hours", justify="right", human=lambda v: f"{v:g}" if v else ""),
        Column("Note", "note", wrap=True),
    ]
    working = sum(1 for info in days if info.is_working)
    title = f"{working} working day{'s' if working != 1 else ''} from {first} to {last}"
    obj.output.listing(columns, records, fmt, title=title, row_style=lambda r: None if r["working"] else "dim")


@app.command("due")
def due(
    ctx: typer.Context,
    when: Annotated[str, typer.Argument(metavar="WHEN", help="When the clock starts, e.g. '2026-11-27 16:45' or now.")],
    target: Annotated[str, typer.Argument(metavar="TARGET", help="A duration such as 1wd, 4wh, 30wm, 2d, 8h.")],
    policy_file: PolicyFile = None,
    json_output: JsonOption = False,
) -> None:
    """Compute the due time of a target started at WHEN, explaining the count.

    Examples:

      supportcli calendar due "2026-11-27 16:45" 1wd      # → Mon 2026-11-30 17:00 GMT

      supportcli calendar due "fri 16:00" 4wh --json
    """
    from supportcli.core.durations import parse_duration
    from supportcli.core.timeparse import Looking, parse_when

    obj: AppContext = ctx.obj
    duration = parse_duration(target)
    chosen = _policy_from_file(policy_file) if policy_file else None
    cal = obj.calendar(chosen or obj.newest_policy())
    start = parse_when(when, obj.now().astimezone(cal.zone), cal, Looking.BACK)
    # Without --policy, the version in effect when the clock starts decides, as for a ticket.
    policy = chosen or obj.policy_at(start)[1]
    cal = obj.calendar(policy)
    explanation = cal.explain(start, duration)
    if json_output:
        obj.output.json(
            {
                "start": explanation.start,
                "clock_start": explanation.clock_start,
                "target": str(duration),
                "due_at": explanation.due,
            }
        )
        return
    if not obj.output.is_terminal:
        obj.output.line(explanation.due.isoformat())
        return
    obj.output.line(f"due {human_time(explanation.due)}")
    details = [
        f"start {human_time(explanation.start)}",
        f"clock starts {human_time(explanation.clock_start)}",
        f"{duration} under '{policy.name}' ({policy.calendar.day_rule.value})",
    ]
    if duration.is_working_time:
        details.append(
            f"{explanation.working_days_counted} working day(s), {_hours(explanation.working_seconds_counted)} open time counted"
        )
    for info in explanation.days_skipped:
        details.append(f"skipped {info.day:%a %Y-%m-%d}: {info.note}")
    for line in details:
        obj.output.message(f"  {line}")


def _hours_open(info: DayInfo) -> float | int:
    """Opening hours of a day as a number (8, or 8.5 for half hours)."""
    if info.opens is None or info.closes is None:
        return 0
    hours = round((info.closes - info.opens).total_seconds() / 3600, 2)
    return int(hours) if hours.is_integer() else hours


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if rest else f"{hours}h"
