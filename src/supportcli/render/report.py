"""How a report looks: Rich tables with small bars in the terminal, or one self-contained HTML page.

The HTML page is meant to be sent to a client: no scripts, no external files,
charts as inline SVG, every piece of text escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from supportcli.core.reporting import MEASURED_TARGETS, RATINGS, GroupFigures, Period, Report, share
from supportcli.core.targets import display_order
from supportcli.core.tickets import format_working_time
from supportcli.render.output import Column, Output

Record = dict[str, Any]  # one row of a report table, by column key

BAR_WIDTH = 10
EIGHTHS = " ▏▎▍▌▋▊▉"
TOTAL_LABEL = "All"
GROUP_HEADERS = {
    "owner": "Owner",
    "channel": "Channel",
    "kind": "Kind",
    "org": "Organisation",
    "category": "Category",
    "priority": "Priority",
    "week": "Week",
}


# -- shared wording ---------------------------------------------------------------------------------------------------


def bar(value: float, maximum: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of block characters, ``width`` cells for ``maximum``, to an eighth of a cell."""
    if maximum <= 0 or value <= 0:
        return ""
    eighths = round(min(value, maximum) / maximum * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def percent(value: float | None) -> str:
    """A percentage to one decimal, or a dash when there is nothing to divide."""
    return f"{value:.1f}%" if value is not None else "–"


def period_text(period: Period, timezone: str) -> str:
    """The period as people read it: whole days when it runs midnight to midnight, else times (end exclusive)."""
    zone = ZoneInfo(timezone)
    since, until = period.since.astimezone(zone), period.until.astimezone(zone)
    if since.time() == until.time() == datetime.min.time():
        last = (until - timedelta(days=1)).date()
        return f"{since:%Y-%m-%d} to {last:%Y-%m-%d}" if last != since.date() else f"{since:%Y-%m-%d}"
    return f"{since:%Y-%m-%d %H:%M} up to {until:%Y-%m-%d %H:%M}"


def heading(report: Report) -> str:
    """One line saying what the report covers."""
    parts = [f"Tickets received {period_text(report.period, report.timezone)} ({report.timezone})"]
    if report.orgs:
        parts.append(f"organisation {', '.join(report.orgs)}")
    if report.by:
        parts.append(f"by {report.by}")
    return ", ".join(parts)


def working_time(seconds: float | None, day_length_seconds: int) -> str:
    """A working duration as days and hours of the team's working day, or a dash."""
    return format_working_time(seconds, day_length_seconds) if seconds is not None else "–"


def day_text(day_length_seconds: int) -> str:
    """The length of a working day in hours, e.g. ``8h`` or ``8.5h``."""
    return f"{day_length_seconds / 3600:g}h"


def _rows(report: Report) -> list[tuple[str, GroupFigures]]:
    """Each group with its label, then the totals (only the totals when the report is not grouped)."""
    rows = [(group.key, group) for group in report.groups]
    return [*rows, (TOTAL_LABEL, report.total)]


def _target_names(groups: Sequence[GroupFigures]) -> list[str]:
    names = {name for group in groups for name in group.targets}
    return sorted(names, key=display_order)


def is_empty(report: Report) -> bool:
    """Nothing received, escalated or extended in the period."""
    total = report.total
    return not (total.received or total.escalations or total.extensions)


# -- terminal ---------------------------------------------------------------------------------------------------------


def print_report(out: Output, report: Report) -> None:
    """The report as Rich tables with bars (plain, uncoloured tables when piped)."""
    out.line(heading(report))
    if is_empty(report):
        out.line("Nothing was received, escalated or extended in this period.")
        return
    group_header = GROUP_HEADERS.get(report.by or "", "")
    rows = _rows(report)
    group_column = [Column(group_header, "group", wrap=True)] if report.by else []

    def bold_total(record: Mapping[str, Any]) -> str | None:
        return "bold" if report.by and record["group"] == TOTAL_LABEL else None

    for section in (_volumes, _service_levels, _working_times, _satisfaction):
        columns, records, title = section(report, rows)
        if records:
            out.line()
            out.table([*group_column, *columns], records, title=title, row_style=bold_total)
    for title, ranking, noun in (
        ("Top complaint categories", report.complaint_categories, "Complaints"),
        (f"Compliments: {report.total.compliments}", report.compliment_categories, "Compliments"),
    ):
        if ranking:
            out.line()
            out.table(*_ranking(ranking, noun), title=title)


def _volumes(report: Report, rows: list[tuple[str, GroupFigures]]) -> tuple[list[Column], list[Record], str]:
    most = max(figures.received for _, figures in rows)
    records = [
        {
            "group": label,
            "received": figures.received,
            "bar": bar(figures.received, most),
            "resolved": figures.resolved,
            "open": figures.open,
            "escalated": figures.escalations,
            "extended": figures.extensions,
        }
        for label, figures in rows
    ]
    columns = [
        Column("Received", "received", justify="right"),
        Column("", "bar"),
        Column("Resolved", "resolved", justify="right"),
        Column("Open", "open", justify="right"),
        Column("Escalated", "escalated", justify="right"),
        Column("Extended", "extended", justify="right"),
    ]
    return columns, records, "Volumes"


def _service_levels(report: Report, rows: list[tuple[str, GroupFigures]]) -> tuple[list[Column], list[Record], str]:
    records = []
    for label, figures in rows:
        for name in _target_names([figures]):
            tally = figures.targets[name]
            records.append(
                {
                    "group": label,
                    "target": name,
                    "met": f"{tally.met} {percent(share(tally.met, tally.total))}",
                    "breached": f"{tally.breached} {percent(share(tally.breached, tally.total))}",
                    "pending": str(tally.pending),
                    "on_time": percent(tally.attainment_pct),
                    "bar": bar(tally.attainment_pct or 0, 100),
                }
            )
    columns = [
        Column("Target", "target"),
        Column("Met", "met", justify="right"),
        Column("Breached", "breached", justify="right"),
        Column("Pending", "pending", justify="right"),
        Column("On time", "on_time", justify="right"),
        Column("", "bar"),
    ]
    return columns, records, "Service levels (on time = met / (met + breached))"


def _working_times(report: Report, rows: list[tuple[str, GroupFigures]]) -> tuple[list[Column], list[Record], str]:
    day = report.day_length_seconds
    records = [
        {
            "group": label,
            "measure": f"to {name}",
            "count": timing.count,
            "median": working_time(timing.median, day),
            "p90": working_time(timing.p90, day),
        }
        for label, figures in rows
        for name in MEASURED_TARGETS
        if (timing := figures.timing(name)).count
    ]
    columns = [
        Column("Working time", "measure"),
        Column("Tickets", "count", justify="right"),
        Column("Median", "median", justify="right"),
        Column("90th pct", "p90", justify="right"),
    ]
    return columns, records, f"Working time from receipt (1d = {day_text(day)})"


def _satisfaction(report: Report, rows: list[tuple[str, GroupFigures]]) -> tuple[list[Column], list[Record], str]:
    records = []
    for label, figures in rows:
        csat = figures.satisfaction
        if not csat.count:
            continue
        record: dict[str, Any] = {
            "group": label,
            "count": csat.count,
            "mean": f"{csat.mean:.2f}",
            "bar": bar(csat.mean or 0, 5, width=5),
        }
        record.update({str(rating): csat.distribution.get(rating, 0) for rating in RATINGS})
        records.append(record)
    columns = [
        Column("Ratings", "count", justify="right"),
        Column("Mean", "mean", justify="right"),
        Column("", "bar"),
        *(Column(f"{rating}★", str(rating), justify="right") for rating in RATINGS),
    ]
    return columns, records, "Customer satisfaction (1–5)"


def _ranking(ranking: list[tuple[str, int]], noun: str) -> tuple[list[Column], list[Record]]:
    most = max(count for _, count in ranking)
    records = [{"category": name, "count": count, "bar": bar(count, most)} for name, count in ranking]
    columns = [Column("Category", "category", wrap=True), Column(noun, "count", justify="right"), Column("", "bar")]
    return columns, records


# -- HTML -------------------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1a202c; margin: 2em auto; max-width: 60em; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #cbd5e0; padding-bottom: 0.2em; }
p.period { color: #4a5568; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #e2e8f0; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tr.total td { font-weight: bold; border-top: 2px solid #a0aec0; }
.minutes { color: #718096; font-size: 0.85em; }
svg { display: block; margin: 0.5em 0; }
footer { margin-top: 3em; color: #718096; font-size: 0.85em; }
"""

BAR_COLOUR = "#2b6cb0"
CHART_WIDTH = 560
CHART_LABEL_WIDTH = 170
CHART_ROW_HEIGHT = 24


def html_report(report: Report) -> str:
    """The report as one self-contained HTML document."""
    period = period_text(report.period, report.timezone)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Support report {escape(period)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<h1>Support report</h1>",
        f'<p class="period">{escape(heading(report))}</p>',
    ]
    if is_empty(report):
        parts.append("<p>Nothing was received, escalated or extended in this period.</p>")
    else:
        parts.extend(_html_sections(report))
    parts.extend(
        [
            f"<footer>Generated {escape(report.generated_at.astimezone(ZoneInfo(report.timezone)).isoformat())} "
            "by supportcli. Working times count opening hours only, on each ticket's business calendar.</footer>",
            "</body>",
            "</html>",
        ]
    )
    return "\n".join(parts) + "\n"


def _html_sections(report: Report) -> list[str]:
    rows = _rows(report)
    group_header = GROUP_HEADERS.get(report.by or "", "")
    day = report.day_length_seconds
    sections = ["<section>", "<h2>Volumes</h2>"]
    if report.by:
        sections.append(
            svg_bar_chart(
                f"Tickets received by {report.by}",
                [(g.key, g.received, str(g.received)) for g in report.groups],
            )
        )
    sections.append(
        _html_table(
            [group_header, "Received", "Resolved", "Open", "Complaints", "Compliments", "Escalated", "Extended"],
            [
                [label, f.received, f.resolved, f.open, f.complaints, f.compliments, f.escalations, f.extensions]
                for label, f in rows
            ],
            report,
        )
    )
    sections.extend(["</section>", "<section>", "<h2>Service levels</h2>"])
    total_targets = _target_names([report.total])
    if total_targets:
        sections.append(
            svg_bar_chart(
                "Targets met on time (% of those met or breached)",
                [
                    (
                        name,
                        report.total.targets[name].attainment_pct or 0,
                        percent(report.total.targets[name].attainment_pct),
                    )
                    for name in total_targets
                ],
                maximum=100,
            )
        )
        sla_rows = []
        for label, figures in rows:
            for name in _target_names([figures]):
                tally = figures.targets[name]
                sla_rows.append(
                    [
                        label,
                        name,
                        *(
                            f"{count} ({percent(share(count, tally.total))})"
                            for count in (tally.met, tally.breached, tally.pending)
                        ),
                        percent(tally.attainment_pct),
                    ]
                )
        sections.append(
            _html_table([group_header, "Target", "Met on time", "Breached", "Pending", "On time"], sla_rows, report)
        )
        sections.append(
            "<p>On time = met ÷ (met + breached). Breached includes targets met late and targets "
            "still pending past their due time.</p>"
        )
    else:
        sections.append("<p>No service-level targets in this period.</p>")
    sections.extend(["</section>", "<section>", "<h2>Working time from receipt</h2>"])
    time_rows = [
        [
            label,
            f"to {name}",
            timing.count,
            _html_duration(timing.median, day),
            _html_duration(timing.p90, day),
        ]
        for label, figures in rows
        for name in MEASURED_TARGETS
        if (timing := figures.timing(name)).count
    ]
    sections.append(
        _html_table([group_header, "Working time", "Tickets", "Median", "90th percentile"], time_rows, report)
        if time_rows
        else "<p>No acknowledgements, responses or resolutions yet.</p>"
    )
    sections.append(
        f"<p>Opening hours only; a day (d) is {escape(day_text(day))} of opening hours. "
        "Time waiting on the customer is not counted.</p>"
    )
    sections.extend(["</section>", "<section>", "<h2>Customer satisfaction</h2>"])
    csat = report.total.satisfaction
    if csat.count:
        sections.append(
            svg_bar_chart(
                "Ratings (1 = poor, 5 = excellent)",
                [
                    (f"{rating}★", csat.distribution.get(rating, 0), str(csat.distribution.get(rating, 0)))
                    for rating in RATINGS
                ],
            )
        )
        sections.append(
            _html_table(
                [group_header, "Ratings", "Mean", *(f"{rating}★" for rating in RATINGS)],
                [
                    [
                        label,
                        f.satisfaction.count,
                        f"{f.satisfaction.mean:.2f}" if f.satisfaction.mean is not None else "–",
                        *(f.satisfaction.distribution.get(rating, 0) for rating in RATINGS),
                    ]
                    for label, f in rows
                ],
                report,
            )
        )
    else:
        sections.append("<p>No ratings in this period.</p>")
    sections.append("</section>")
    for title, ranking, noun in (
        ("Top complaint categories", report.complaint_categories, "Complaints"),
        (f"Compliments: {report.total.compliments}", report.compliment_categories, "Compliments"),
    ):
        sections.extend(["<section>", f"<h2>{escape(title)}</h2>"])
        if ranking:
            sections.append(svg_bar_chart(f"{noun} by category", [(name, n, str(n)) for name, n in ranking]))
            sections.append(_html_table(["Category", noun], [[name, n] for name, n in ranking], report=None))
        else:
            sections.append(f"<p>No {noun.lower()} in this period.</p>")
        sections.append("</section>")
    return sections


class Markup(str):
    """Text that is already HTML (built here from escaped parts), so a table cell keeps it as it is."""


def _html_duration(seconds: float | None, day_length_seconds: int) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60, 1)
    return Markup(
        f'{escape(working_time(seconds, day_length_seconds))} <span class="minutes">({minutes:g} working min)</span>'
    )


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], report: Report | None) -> str:
    """A table with escaped cells; the first column (the group) is dropped when the report is not grouped."""
    grouped = report is not None and report.by is not None
    if report is not None and not report.by:
        headers, rows = headers[1:], [row[1:] for row in rows]
    lines = ["<table>", "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr></thead>", "<tbody>"]
    for index, row in enumerate(rows):
        is_total = grouped and index == len(rows) - 1 and row and row[0] == TOTAL_LABEL
        cells = "".join(
            (f'<td class="text">{_cell(value)}</td>' if column == 0 else f"<td>{_cell(value)}</td>")
            for column, value in enumerate(row)
        )
        lines.append(f'<tr class="total">{cells}</tr>' if is_total else f"<tr>{cells}</tr>")
    lines.extend(["</tbody>", "</table>"])
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return value if isinstance(value, Markup) else escape(str(value))


def svg_bar_chart(title: str, rows: Sequence[tuple[str, float, str]], maximum: float | None = None) -> str:
    """A horizontal bar chart as inline SVG: one labelled bar per row, its figure written after it."""
    top = maximum if maximum is not None else max((value for _, value, _ in rows), default=0)
    plot_width = CHART_WIDTH - CHART_LABEL_WIDTH - 70
    height = CHART_ROW_HEIGHT * len(rows) + 8
    lines = [
        f'<svg width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" font-size="13" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value, shown) in enumerate(rows):
        y = 4 + index * CHART_ROW_HEIGHT
        width = round(plot_width * value / top, 1) if top > 0 and value > 0 else 0
        text_y = y + 15
        lines.append(f'<text x="{CHART_LABEL_WIDTH - 8}" y="{text_y}" text-anchor="end">{escape(_clip(label))}</text>')
        lines.append(
            f'<rect x="{CHART_LABEL_WIDTH}" y="{y + 2}" width="{width}" height="{CHART_ROW_HEIGHT - 6}" '
            f'fill="{BAR_COLOUR}"/>'
        )
        lines.append(f'<text x="{CHART_LABEL_WIDTH + width + 6}" y="{text_y}">{escape(shown)}</text>')
    lines.append("</svg>")
    return "\n".join(lines)


def _clip(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
