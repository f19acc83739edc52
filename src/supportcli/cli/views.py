"""The read commands: show, explain, list, due (and init, which only prepares the store)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli import complete
from supportcli.cli.common import TicketId, emit_ticket_json
from supportcli.cli.context import AppContext
from supportcli.cli.filters import FilterValues, filter_options, ticket_filter
from supportcli.cli.output_options import JsonOption, Limit, Listing, output_options
from supportcli.render.output import SUBJECT_MIN_WIDTH, TERMINAL_TABLE_ROWS, Column, Format, human_time

if TYPE_CHECKING:
    from sqlmodel import Session
    from sqlmodel.sql.expression import SelectOfScalar

    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.policy import Policy
    from supportcli.store.models import Ticket
    from supportcli.store.policies import PolicyBook
    from supportcli.store.search import Snippet


def init(
    ctx: typer.Context,
    policy_file: Annotated[str | None, typer.Option("--policy", metavar="FILE", help="Set this policy now.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", metavar="CC", help="Public holidays of this country (ISO code, e.g. GB).")
    ] = None,
    subdivision: Annotated[
        str | None,
        typer.Option("--subdivision", metavar="CODE", help="Region for holidays, e.g. ENG, SCT, WLS, NIR."),
    ] = None,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Accept a --policy that sets no targets at all (docs/policy.md).")
    ] = False,
) -> None:
    """Create the store (optional: any command creates it on first use).

    With --country/--subdivision the built-in policy is stored again with that
    region's public holidays (e.g. a Scottish team: --subdivision SCT).

    Examples:

      supportcli init

      supportcli init --subdivision SCT

      supportcli --db team.db init --policy examples/policies/004_cfh_docmail.toml
    """
    from supportcli.cli.policy_cmd import checked_policy, read_policy_file, set_policy_source

    obj: AppContext = ctx.obj
    if policy_file and (country or subdivision):
        from supportcli.errors import InvalidInput

        raise InvalidInput("give either --policy or --country/--subdivision, not both")
    policy_text: tuple[str, str] | None = None
    if policy_file:  # checked before the store is made: a refused policy leaves nothing behind
        policy_text = read_policy_file(policy_file)
        checked_policy(*policy_text, allow_empty)
    store = obj.store()
    obj.output.message(f"store ready: {store.location.display}")
    if policy_text is not None:
        set_policy_source(obj, *policy_text, "set by init", allow_empty=allow_empty)
    elif country or subdivision:
        from supportcli.core.policy import default_policy_with_region

        source = default_policy_with_region(country, subdivision)
        set_policy_source(obj, source, "built-in default with region", "set by init")


def show(ctx: typer.Context, ticket_id: TicketId, json_output: JsonOption = False) -> None:
    """Show a ticket: every field, every target with due time and countdown, and its history.

    Example: supportcli show 12
    """
    obj: AppContext = ctx.obj
    if json_output:
        emit_ticket_json(obj, ticket_id)
        return
    with obj.store().read() as session:
        _show_human(session, obj, ticket_id)


def _owner_shown(session: Session, owner: str | None, now: datetime, calendar: WorkingCalendar) -> str:
    """The owner as ``show`` prints it, with their absence and who covers, as ``due --mine`` counts it for the
    cover (docs/tickets.md, "Owners and cover")."""
    from supportcli.render.tickets import local
    from supportcli.store.staff import absence_of

    if owner is None:
        return "(unassigned)"
    absence = absence_of(session, owner, now)
    if absence is None:
        return owner
    until, handler = absence
    covered = f"; {handler} covers" if handler else "; nobody covers"
    return f"{owner} (away until {human_time(local(until, calendar))}{covered})"


def _show_human(session: Session, obj: AppContext, ticket_id: int) -> None:
    from supportcli.core.tickets import tier_name
    from supportcli.render.tickets import countdown, event_text, local, urgency_style
    from supportcli.store.policies import PolicyBook
    from supportcli.store.tickets import events_of, get_ticket, targets_of

    now = obj.now()
    ticket = get_ticket(session, ticket_id)
    policy, calendar = PolicyBook(session, now.year).get(ticket.policy_version)
    targets = targets_of(session, ticket_id)
    out = obj.output
    tier = tier_name(policy.tiers, ticket.tier)
    fields = [
        ("status", ticket.status),
        ("kind", f"{ticket.kind} by {ticket.channel}, priority {ticket.priority}"),
        ("customer", ", ".join(p for p in (ticket.customer_name, ticket.customer_email, ticket.customer_phone) if p)),
        ("org", ticket.org),
        ("reference", ticket.reference),
        ("category", ticket.category),
        ("tags", ", ".join(ticket.tag_list)),
        ("watchers", ", ".join(ticket.watcher_list)),
        ("owner", _owner_shown(session, ticket.owner, now, calendar)),
        ("tier", tier),
        ("received", human_time(local(ticket.received_at, calendar))),
        (
            "expected by",
            human_time(local(ticket.expected_by, calendar))
            + (f" ({ticket.expected_reason})" if ticket.expected_by else ""),
        ),
        ("rating", f"{ticket.rating}/5" if ticket.rating else None),
        ("policy", f"version {ticket.policy_version}, rule {ticket.rule_number or '-'}"),
    ]
    out.line(f"#{ticket.id} {ticket.subject}")
    for label, value in fields:
        if value and value.strip():
            out.line(f"  {label + ':':<12} {value}")
    if ticket.body:
        out.line("")
        out.wrapped(ticket.body)
    if targets:
        out.line("")
        records = [
            {
                "target": t.name,
                "duration": t.duration,
                "due_at": local(t.due_at, calendar),
                "met_at": local(t.met_at, calendar),
                "state": _state(t, now),
                "left": countdown(t, calendar, now) if t.state in ("pending", "paused") else "",
                "style": urgency_style(t, calendar, now),
            }
            for t in targets
        ]
        columns = [
            Column("Target", "target"),
            Column("Within", "duration"),
            Column("Due", "due_at"),
            Column("Met", "met_at"),
            Column("State", "state"),
            Column("Left", "left"),
        ]
        out.listing(columns, records, out.human_format(), row_style=lambda r: r["style"])
    out.line("")
    out.line("History:")
    for event in events_of(session, ticket_id):
        shown = event_text(event, calendar)
        text = f" — {shown}" if shown else ""
        out.wrapped(f"{human_time(local(event.at, calendar))}  {event.actor}: {event.kind}{text}", hanging=2)


def _state(target: Any, now: datetime) -> str:
    from supportcli.core.tickets import shown_state

    return shown_state(target.state, target.due_at, now).value


def explain(
    ctx: typer.Context,
    ticket_id: TicketId,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="TARGET", help="Only this target (e.g. resolve).", autocompletion=complete.fixed(complete.targets)
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Explain how each due time was reached: clock start, rule, days counted, days skipped, pauses.

    Example: supportcli explain 12 resolve
    """
    from supportcli.errors import NotFound
    from supportcli.render.tickets import local
    from supportcli.store.policies import PolicyBook
    from supportcli.store.tickets import events_of, get_ticket, targets_of

    obj: AppContext = ctx.obj
    now = obj.now()
    with obj.store().read() as session:
        ticket = get_ticket(session, ticket_id)
        policy, calendar = PolicyBook(session, now.year).get(ticket.policy_version)
        targets = [t for t in targets_of(session, ticket_id) if target is None or t.name == target]
        if not targets:
            raise NotFound(f"ticket #{ticket_id} has no {target or ''} target".replace("  ", " "))
        history = events_of(session, ticket_id)
        waits = [(e.kind, e.at) for e in history if e.kind in ("waiting", "resumed")]
    rule = next((r for r in policy.rules if r.number == ticket.rule_number), None)
    explanations = [_explain_target(t, calendar, policy, ticket, waits) for t in targets]
    for item in explanations:
        item["replanned"] = _replanned(item["target"], history, calendar)
        item["lines"] += [entry["line"] for entry in item["replanned"]]
    if json_output:
        obj.output.json({"id": ticket.id, "policy_version": ticket.policy_version, "targets": explanations})
        return
    obj.output.line(f"#{ticket.id} {ticket.subject}")
    obj.output.line(f"received {human_time(local(ticket.received_at, calendar))}")
    obj.output.line(f"policy version {ticket.policy_version} ({policy.name})")
    obj.output.line(f"rule {rule.number}: {rule.describe_match()}" if rule else "no rule matched: no targets")
    for item in explanations:
        obj.output.line("")
        obj.output.line(f"{item['target']} within {item['duration']}: due {human_time(item['due_at'])}")
        for line in item["lines"]:
            obj.output.line(f"  {line}")


def _explain_target(target: Any, calendar: Any, policy: Any, ticket: Any, waits: list[Any]) -> dict[str, Any]:
    from supportcli.core.durations import parse_duration
    from supportcli.core.targets import target_kind
    from supportcli.render.tickets import local

    lines: list[str] = []
    result: dict[str, Any] = {
        "target": target.name,
        "duration": target.duration,
        "started_at": local(target.started_at, calendar),
        "due_at": local(target.due_at, calendar),
        "source": target.source,
        "paused_working_minutes": target.paused_working_seconds // 60,
        "lines": lines,
    }
    if target.source == "agreed":
        lines.append(
            f"due time agreed with the customer at the update of {human_time(local(target.started_at, calendar))}"
        )
        return result
    from supportcli.core.calendar import OutsideCalendarSpan

    duration = parse_duration(target.duration)
    try:
        explanation = calendar.explain(target.started_at, duration)
    except OutsideCalendarSpan as exc:  # a stored time beyond the span: said, not an error (docs/working-time.md)
        lines.append(f"cannot be recounted: {exc}")
        return result
    restarted = target_kind(target.name).recurring and target.started_at != ticket.received_at
    started = f"{target.name} clock restarted" if restarted else "received"
    lines.append(f"{started} {human_time(explanation.start)}; clock starts {human_time(explanation.clock_start)}")
    if duration.is_working_time:
        rule_text = policy.calendar.day_rule.value if duration.unit.value == "wd" else "working time"
        lines.append(
            f"counted {explanation.working_days_counted} working day(s), "
            f"{explanation.working_seconds_counted // 3600}h{explanation.working_seconds_counted % 3600 // 60:02d}m "
            f"of opening hours ({rule_text})"
        )
    else:
        lines.append("calendar time: elapsed, not working time")
    for info in explanation.days_skipped:
        lines.append(f"skipped {info.day:%a %Y-%m-%d}: {info.note}")
    result["clock_start"] = explanation.clock_start
    result["computed_due_at"] = explanation.due
    result["days_skipped"] = [{"date": info.day, "why": info.note} for info in explanation.days_skipped]
    if target.paused_working_seconds:
        lines.append(
            f"paused while waiting on the customer: {target.paused_working_seconds // 60} working minutes added"
        )
        for kind, at in waits:
            lines.append(f"  {kind} {human_time(local(at, calendar))}")
    if target.met_at:
        lines.append(f"met {human_time(local(target.met_at, calendar))} ({target.state})")
    return result


def _replanned(name: str, history: Sequence[Any], calendar: Any) -> list[dict[str, Any]]:
    """Why a target's due time moved since it was planned: each ``edit`` that re-planned it, with what was edited."""
    import json

    from supportcli.render.tickets import local

    found: list[dict[str, Any]] = []
    for event in history:
        if event.kind not in ("target-moved", "target-added") or not event.data:
            continue
        data = json.loads(event.data)
        if data.get("target") != name:
            continue
        when = human_time(local(event.at, calendar))
        because = f" after {data['because']}" if data.get("because") else ""
        if event.kind == "target-added":
            line = f"added {when} by {event.actor}{because}"
        else:
            previous = human_time(local(datetime.fromisoformat(data["previous"]), calendar))
            line = f"re-planned {when} by {event.actor}{because}: was due {previous}"
        found.append({"at": local(event.at, calendar), "by": event.actor, "because": data.get("because"), "line": line})
    return found


SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort",
        help="id, received, updated, due or priority; a search is best first unless sorted so.",
        autocompletion=complete.fixed(("id", "received", "updated", "due", "priority", "best")),
    ),
]


@filter_options()
@output_options(tabular=True, limit=Limit(), quiet=True)
def list_command(
    ctx: typer.Context,
    *,
    filters: FilterValues,
    sort: SortOption = None,
    listing: Listing,
) -> None:
    """List tickets, filtered.

    Examples:

      supportcli list --status open --kind complaint

      supportcli list --owner priya --since 2026-11-01 --sort due --json

      supportcli list --phone '07700 900123'

      supportcli list --search 'refund' --status open --tag vip
    """
    emit_found(ctx.obj, filters, sort, listing)


def emit_found(obj: AppContext, filters: FilterValues, sort: str | None, listing: Listing) -> None:
    """Write the tickets the filters find, in ``sort``'s order (a search best first), as ``listing`` asks:
    what ``list`` and ``search`` both do."""
    from dataclasses import replace

    from supportcli.store.queries import BEST, SORTS, ticket_statement

    sorts = [*SORTS, *([BEST] if filters.get("search") else [])]
    if sort is not None and sort not in sorts:
        from supportcli.errors import InvalidInput

        raise InvalidInput(f"unknown sort {sort!r} (allowed: {', '.join(sorts)})")
    wanted = replace(ticket_filter(obj, filters), sort=sort)
    with obj.store().read() as session:
        dialect = session.connection().dialect.name
        # The limit is applied by _emit_tickets, which counts tickets rather than joined rows.
        statement = ticket_statement(wanted, dialect, ranked=listing.limit)
        _emit_tickets(obj, session, statement, listing, wanted.search)


def _emit_tickets(
    obj: AppContext,
    session: Session,
    statement: SelectOfScalar[Ticket],
    listing: Listing,
    search: str | None = None,
) -> None:
    """Write the tickets a ``select(Ticket)`` statement finds (at most ``listing.limit``) as ``listing`` asks.

    Only JSON shows whole tickets with every target; tables, rows and CSV stream just the columns they
    show with each ticket's next pending target, as plain rows rather than ORM objects. The tickets of a
    ``search`` come with how well each matched (``rank``) and the passage that matched (``snippet``).
    """
    from supportcli.render.tickets import ticket_record
    from supportcli.store.policies import PolicyBook
    from supportcli.store.queries import listing_rows, targets_for, ticket_ids
    from supportcli.store.staff import covered_by

    if listing.quiet:
        for ticket_id in ticket_ids(session, statement.limit(listing.limit)):
            obj.output.line(str(ticket_id))
        return
    now = obj.now()
    policies = PolicyBook(session, now.year)
    fmt = listing.format(obj.output)
    covering = frozenset(covered_by(session, obj.actor, now))
    dialect = session.connection().dialect.name
    # Every row of a listing of every match gets its passage: then the engine makes it as it reads the match.
    inline = listing.limit is None and fmt is not Format.TABLE
    extra = _search_columns(dialect, search, inline)
    snippets_later = search is not None and len(extra) < 2
    if fmt.writes_records:
        # Through ``execute``: SQLModel's ``exec`` would return only the first column of each row.
        found = list(session.execute(statement.add_columns(*extra).limit(listing.limit)) if extra else ())
        tickets = [row[0] for row in found] if extra else list(session.exec(statement.limit(listing.limit)))
        targets = targets_for(session, [t.id for t in tickets if t.id is not None])

        def whole(ticket: Ticket) -> dict[str, Any]:
            policy, calendar = policies.get(ticket.policy_version)
            return ticket_record(ticket, targets.get(ticket.id or 0, []), calendar, policy.tiers, now, covering)

        records: Iterable[dict[str, Any]] = (whole(ticket) for ticket in tickets)
        if search is not None:
            ranked: Iterable[dict[str, Any]] = (whole(row[0]) | _match_fields(row[1:]) for row in found)
            if snippets_later:
                ranked = _with_snippets(session, search, ranked)
            records = (_json_match(record) for record in ranked)
        obj.output.records(fmt, records)
        return
    rows = listing_rows(session, statement, now, listing.limit, wide=fmt is Format.CSV, extra=extra)
    records = _listing_records(rows, policies, now, fmt, covering, len(extra))
    if search is not None and snippets_later:
        # A capped table draws only its first rows and counts the rest: only those get their passage.
        drawn = TERMINAL_TABLE_ROWS if fmt is Format.TABLE and listing.limit is None else None
        records = _with_snippets(session, search, records, drawn)
    obj.output.listing(
        _listing_columns(fmt, search is not None, obj.output.colour),
        records,
        fmt,
        row_style=lambda r: r["style"],
        capped=listing.limit is None,
    )


def _search_columns(dialect: str, search: str | None, inline: bool) -> list[Any]:
    """The columns a search's listing selects beside each ticket: how well it matched (higher is better),
    and with ``inline`` the passage that matched where the engine makes it in the same query (SQLite)."""
    if search is None:
        return []
    from supportcli.store.search import match_score, snippet_column

    passage = snippet_column(dialect) if inline else None
    return [match_score(dialect, search), *([passage] if passage is not None else [])]


def _match_fields(cells: Sequence[Any]) -> dict[str, Any]:
    """The ``_search_columns`` cells of a row as a record's ``rank`` (and ``snippet``)."""
    if len(cells) == 1:
        return {"rank": cells[0]}
    from supportcli.store.search import Snippet

    return {"rank": cells[0], "snippet": Snippet.from_engine(cells[1])}


SNIPPET_BATCH = 500  # tickets whose snippets are made in one query, as the records are written


def _with_snippets(
    session: Session, search: str, records: Iterable[dict[str, Any]], first: int | None = None
) -> Iterator[dict[str, Any]]:
    """The records, each with its ``snippet`` (the passage that matched), a batch of tickets at a time;
    with ``first``, only that many (the rest get an empty one: a snippet costs a lookup in the index)."""
    from itertools import islice

    from supportcli.store.search import Snippet, snippets

    remaining = iter(records)
    wanted = first
    while batch := list(islice(remaining, SNIPPET_BATCH if wanted is None else min(SNIPPET_BATCH, wanted))):
        found = snippets(session, search, [record["id"] for record in batch])
        for record in batch:
            record["snippet"] = found.get(record["id"], Snippet(""))
            yield record
        if wanted is not None:
            wanted -= len(batch)
            if wanted == 0:
                break
    for record in remaining:
        record["snippet"] = Snippet("")
        yield record


def _json_match(record: dict[str, Any]) -> dict[str, Any]:
    """A search's JSON ticket: the snippet as its text, and where the matched words are in it."""
    snippet = record["snippet"]
    return record | {"snippet": snippet.text, "matches": [list(span) for span in snippet.marks]}


def _listing_columns(fmt: Format, search: bool = False, colour: bool = False) -> list[Column]:
    """The columns of a ticket listing: a table's (and plain rows'), or CSV's; a search's go on with the
    passage that matched (highlighted on a terminal with ``colour``), and CSV's with the rank too."""
    if fmt is Format.CSV:
        return [
            Column(k, k)
            for k in (
                "id",
                "subject",
                "status",
                "kind",
                "channel",
                "priority",
                "owner",
                "org",
                "tier",
                "tier_name",
                "received_at",
                "next_target",
                "due_at",
                "remaining_working_minutes",
                *(("rank", "snippet") if search else ()),
            )
        ]
    # On a narrow terminal the subject keeps 20 characters: the status goes first, then the due time (the
    # countdown beside it says the same in working time); a search's passage keeps 20 too, and the owner and
    # the next target give way to it before the due time does.
    columns = [
        Column("ID", "id", justify="right", human=lambda v: f"#{v}"),
        Column("Subject", "subject", wrap=True, min_width=SUBJECT_MIN_WIDTH),
        Column("Status", "status", drop_order=1),
        Column("Owner", "owner", drop_order=2 if search else None),
        Column("Next", "next_target", drop_order=3 if search else None),
        Column("Due", "due_at", drop_order=4 if search else 2),
        Column("Left", "left", justify="right"),
    ]
    if search:
        shown = _highlighted if colour and fmt is Format.TABLE else None
        columns.append(Column("Match", "snippet", human=shown, wrap=True, min_width=SUBJECT_MIN_WIDTH))
    return columns


MATCH_STYLE = "bold yellow"


def _highlighted(snippet: Snippet) -> Any:
    """The snippet as Rich text with the matched words styled (terminals with colour only)."""
    from rich.text import Text

    shown = Text(snippet.text)
    for start, end in snippet.marks:
        shown.stylize(MATCH_STYLE, start, end)
    return shown


class DueTimes:
    """The due times of one policy version as listings show them, each worked out once per distinct instant.

    Now is fixed for the command and due times repeat a great deal (most fall at a closing time), so the
    local time, the countdown and whether it is today depend only on the due time's epoch seconds. A
    countdown is one difference of working-time positions (``core.countdown.CountdownClock``).
    """

    def __init__(self, policy: Policy, calendar: WorkingCalendar, now: datetime) -> None:
        from supportcli.core.countdown import CountdownClock

        self.policy, self.calendar = policy, calendar
        self._clock = CountdownClock(calendar, now)
        self._today = now.astimezone(calendar.zone).date()
        self._shown: dict[int, tuple[datetime, str, int | None, str, bool]] = {}

    def shown(self, due_epoch: int) -> tuple[datetime, str, int | None, str, bool]:
        """(local due time, the same as plain rows write it, working minutes left (None: unknown, outside the
        calendar's span), the countdown as text, due today by the local date)."""
        shown = self._shown.get(due_epoch)
        if shown is None:
            from supportcli.core.countdown import countdown_text
            from supportcli.render.output import plain_value

            calendar = self.calendar
            due = calendar.to_local(due_epoch)
            minutes = self._clock.remaining_minutes(due_epoch)
            left = countdown_text(minutes, calendar.day_length_seconds)
            shown = self._shown[due_epoch] = (due, plain_value(due), minutes, left, due.date() == self._today)
        return shown


def _listing_records(
    rows: Iterable[Sequence[Any]],
    policies: PolicyBook,
    now: datetime,
    fmt: Format,
    covering: frozenset[str],
    searched: int = 0,
) -> Iterator[dict[str, Any]]:
    """The records of ``listing_rows`` rows, made as they are written (each policy version's looked up once).

    ``searched``: the rows end with this many ``_search_columns`` cells (a search's rank, its passage)."""
    versions: dict[int, DueTimes] = {}
    for row in rows:
        version = row[4]  # LISTING_COLUMNS: the policy version
        due_times = versions.get(version)
        if due_times is None:
            due_times = versions[version] = DueTimes(*policies.get(version), now)
        record = _listing_record(row, due_times, fmt, covering)
        if searched:
            record.update(_match_fields(row[-searched:]))
        yield record


def _listing_record(
    row: Sequence[Any], due_times: DueTimes, fmt: Format, covering: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """One ticket of a table, plain or CSV listing (a ``listing_rows`` row) with its next pending target.

    A table's record has the row's colour (red when breached, yellow when due today, as
    ``render.tickets.urgency_style``) and marks an owner the acting user covers for ("priya (cover)"); a CSV
    one the ticket's ``CSV_COLUMNS``. Plain rows get the due time as the text they write (the same for every
    ticket due then, so it is made once) and the owner as stored.
    """
    ticket_id, subject, status, owner, _, name, due_epoch, overdue = row[:8]
    due_at: datetime | str | None = None
    minutes, left, style = None, "", None
    if name is not None:
        due_at, due_text, minutes, left, today = due_times.shown(due_epoch)
        if fmt is Format.PLAIN:
            due_at = due_text
        elif fmt is Format.TABLE:
            style = "red" if overdue else "yellow" if today else None
    if fmt is Format.TABLE and owner in covering:
        owner = f"{owner} (cover)"
    record = {
        "id": ticket_id,
        "subject": subject,
        "status": status,
        "owner": owner or "",
        "next_target": name or "",
        "due_at": due_at,
        "left": left,
        "remaining_working_minutes": minutes,
        "style": style,
    }
    if fmt is Format.CSV:
        from supportcli.core.tickets import tier_name

        kind, channel, priority, org, tier, received_epoch = row[8:14]
        record.update(
            kind=kind,
            channel=channel,
            priority=priority,
            org=org or "",
            tier=tier,
            tier_name=tier_name(due_times.policy.tiers, tier),
            received_at=due_times.calendar.to_local(received_epoch),
        )
    return record


@output_options(tabular=True, limit=Limit(), quiet=True)
def due(
    ctx: typer.Context,
    owner: Annotated[
        list[str] | None,
        typer.Option("--owner", "-o", help="Only these owners; repeatable.", autocompletion=complete.staff_names),
    ] = None,
    mine: Annotated[
        bool, typer.Option("--mine", help="Only tickets I handle: mine, and those of absent colleagues I cover.")
    ] = False,
    *,
    listing: Listing,
) -> None:
    """Open tickets by next due time, with working-time countdowns (red: breached, yellow: due today).

    Examples:

      supportcli due

      supportcli due --mine --limit 10
    """
    from supportcli.store.queries import due_statement
    from supportcli.store.staff import handled_by

    obj: AppContext = ctx.obj
    with obj.store().read() as session:
        owners = list(owner or []) + (handled_by(session, obj.actor, obj.now()) if mine else [])
        _emit_tickets(obj, session, due_statement(owners), listing)
