"""``supportcli search``: find tickets by the words in them, best match first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli.context import AppContext
from supportcli.render.output import SUBJECT_MIN_WIDTH, Column, Format

if TYPE_CHECKING:
    from supportcli.store.search import Snippet

DEFAULT_LIMIT = 50
MATCH_STYLE = "bold yellow"


def search(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT...",
            help='Words (in any order), "a quoted phrase", or a prefix such as refun*.',
            show_default=False,
        ),
    ],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="At most this many, the best first.")
    ] = DEFAULT_LIMIT,
    json_output: Annotated[bool, typer.Option("--json", help="Write JSON.")] = False,
) -> None:
    """Search tickets: subject, body, updates, customer messages, customer, org, category and tags.

    Every word must appear, in any order, in any of them; a word with a star at its end is a prefix. On a
    terminal the matching words are highlighted.

    Examples:

      supportcli search refund late

      supportcli search '"old address"' --limit 5

      supportcli search 'refun*' ann.lee@example.com --json
    """
    from supportcli.store.search import parse_query, search_ticket_ids

    obj: AppContext = ctx.obj
    text = " ".join(words)
    if not parse_query(text):
        obj.output.message(f"nothing to search for in {text!r}: give a word")
    with obj.store().read() as session:
        hits = search_ticket_ids(session, text, limit)
        tickets = _subjects_and_statuses(session, [hit.ticket_id for hit in hits])
    records: list[dict[str, Any]] = [
        {
            "id": hit.ticket_id,
            "subject": tickets[hit.ticket_id][0],
            "status": tickets[hit.ticket_id][1],
            "rank": hit.rank,
            "snippet": hit.snippet,
        }
        for hit in hits
        if hit.ticket_id in tickets
    ]
    fmt = Format.JSON if json_output else obj.output.human_format()
    columns = [
        Column("ID", "id", justify="right"),
        Column("Subject", "subject", wrap=True, min_width=SUBJECT_MIN_WIDTH),
        Column("Status", "status", drop_order=1),
        Column("Match", "snippet", human=_highlighted if obj.output.colour else None, wrap=True, min_width=20),
    ]
    json_records = [
        record | {"snippet": record["snippet"].text, "matches": [list(span) for span in record["snippet"].marks]}
        for record in records
    ]
    obj.output.listing(columns, records, fmt, json_records=json_records if fmt is Format.JSON else None)


def _subjects_and_statuses(session: Any, ticket_ids: list[int]) -> dict[int, tuple[str, str]]:
    from sqlmodel import col, select

    from supportcli.store.models import Ticket

    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ticket_ids), 500):
        chunk = ticket_ids[start : start + 500]
        rows = session.exec(select(Ticket.id, Ticket.subject, Ticket.status).where(col(Ticket.id).in_(chunk)))
        found.update((ticket_id, (subject, status)) for ticket_id, subject, status in rows)
    return found


def _highlighted(snippet: Snippet) -> Any:
    """The snippet as Rich text with the matched words styled (terminals with colour only)."""
    from rich.text import Text

    shown = Text(snippet.text)
    for start, end in snippet.marks:
        shown.stylize(MATCH_STYLE, start, end)
    return shown
