"""Rows of a spreadsheet (CSV) turned into tickets with their whole life: the documented columns, the column and
value maps, spreadsheet dates, and the plan of each ticket's targets and history (README "Moving in from a
spreadsheet").

Pure: a row is checked against the same vocabularies as ``log``, every problem is reported as
``record N (REF): column: why`` so a team can fix its spreadsheet in one go, and a valid row is planned
here (targets from ``received_at`` under the rule in force, met by the times the row gives) so the store
only writes what this module decided.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from supportcli.core.targets import RESPOND, TARGET_NAMES, UPDATE, targets_met_by
from supportcli.core.tickets import (
    CHANNELS,
    KINDS,
    PRIORITIES,
    STATUSES,
    NewTicket,
    TargetState,
    check_choice,
    met_state,
    plan_targets,
)
from supportcli.errors import InvalidInput

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.policy import TargetRule

# The columns a CSV import reads and ``export --format csv`` writes, in this order.
CSV_COLUMNS: dict[str, str] = {
    "id": "ticket number to keep (1 to 2147483647; default: the next free one)",
    "reference": "the ticket's id in the old system: stored, shown, searchable; a re-import skips it",
    "subject": "required: one line saying what the contact is about",
    "body": "full text (may span lines)",
    "kind": f"one of {', '.join(KINDS)} (default enquiry)",
    "channel": f"one of {', '.join(CHANNELS)} (default email)",
    "priority": f"one of {', '.join(PRIORITIES)} (default normal)",
    "name": "customer name",
    "email": "customer e-mail",
    "phone": "customer phone",
    "org": "client organisation",
    "category": "for analysis of complaints and feedback",
    "tags": "separated by ;",
    "owner": "single point of contact",
    "tier": "escalation tier, by name or number (0 = first)",
    "status": f"one of {', '.join(STATUSES)} (default: from the times given, else new)",
    "received_at": "when the customer got in touch (default: now); targets are planned from it",
    "acknowledged_at": "when receipt was acknowledged (meets acknowledge)",
    "responded_at": "the first customer-facing response (meets acknowledge and respond, restarts update)",
    "waiting_since": "waiting on the customer since (status waiting): open targets paused from then",
    "resolved_at": "when it was resolved (meets every open target)",
    "closed_at": "when it was closed",
    "resolution": "how it was resolved (the resolve note)",
    "rating": "customer satisfaction 1 to 5 (resolved or closed tickets)",
    "feedback": "the customer's words with the rating",
}
# Written by ``export --format csv`` for people reading the sheet; an import plans them again from the policy.
DERIVED_COLUMNS: tuple[str, ...] = (
    "tier_name",
    *(f"{target}_{part}" for target in TARGET_NAMES for part in ("due_at", "state")),
)
TIME_COLUMNS = ("received_at", "acknowledged_at", "responded_at", "waiting_since", "resolved_at", "closed_at")
# The order a ticket's life happens in: a time earlier than one before it in this chain is inconsistent.
TIME_ORDER = TIME_COLUMNS
RESOLVED_STATUSES = ("resolved", "closed")
TAG_SEPARATOR = ";"
DEFAULT_RESOLUTION = "resolved before the import"
# How far each status gets in a ticket's life: times given beyond a status contradict it.
_STATUS_STEP = {"new": 0, "acknowledged": 1, "in-progress": 2, "waiting": 3, "resolved": 4, "closed": 5}
_TIME_STEP = {"acknowledged_at": 1, "responded_at": 2, "waiting_since": 3, "resolved_at": 4, "closed_at": 5}
_IMPLIED_STATUS = {0: "new", 1: "acknowledged", 2: "in-progress", 3: "waiting", 4: "resolved", 5: "closed"}


# -- reading options: maps, dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvMaps:
    """How a file's columns and values become ours: ``--map``, ``--map-value`` and ``--map-file``."""

    columns: Mapping[str, str] = field(default_factory=dict)  # source header (folded) → our column
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # our column → source value (folded) → ours


def fold(text: str) -> str:
    """A header or value as it is matched: trimmed, case-insensitive, inner spaces collapsed."""
    return " ".join(text.split()).casefold()


def parse_column_map(items: Sequence[str]) -> dict[str, str]:
    """``--map "Ticket Subject=subject"`` options as source header → column; InvalidInput names a bad one."""
    mapped: dict[str, str] = {}
    for item in items:
        source, sep, target = item.rpartition("=")
        if not sep or not source.strip():
            raise InvalidInput(f"--map {item!r}: expected SOURCE=COLUMN, e.g. 'Ticket Subject=subject'")
        mapped[fold(source)] = _known_column(target, f"--map {item!r}")
    return mapped


def parse_value_map(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """``--map-value "channel:Social media=social"`` options as column → source value → value."""
    mapped: dict[str, dict[str, str]] = {}
    for item in items:
        column, colon, rest = item.partition(":")
        source, sep, value = rest.rpartition("=")
        if not colon or not sep:
            raise InvalidInput(f"--map-value {item!r}: expected COLUMN:VALUE=NEW, e.g. 'priority:Critical=urgent'")
        mapped.setdefault(_known_column(column, f"--map-value {item!r}"), {})[fold(source)] = value.strip()
    return mapped


def maps_from_document(document: Mapping[str, Any], where: str) -> CsvMaps:
    """A ``--map-file`` (TOML: ``[columns]`` source = column, ``[values.COLUMN]`` source = value)."""
    unknown = [key for key in document if key not in ("columns", "values")]
    if unknown:
        raise InvalidInput(f"{where}: unknown table {unknown[0]!r} (expected [columns] and [values.COLUMN])")
    columns, values = document.get("columns", {}), document.get("values", {})
    if not isinstance(columns, Mapping) or not all(isinstance(v, str) for v in columns.values()):
        raise InvalidInput(f"{where}: [columns] maps a file's column name to one of ours, as text")
    if not isinstance(values, Mapping) or not all(
        isinstance(table, Mapping) and all(isinstance(v, str) for v in table.values()) for table in values.values()
    ):
        raise InvalidInput(f"{where}: [values.COLUMN] maps a file's value to one of ours, as text")
    return CsvMaps(
        {fold(source): _known_column(target, where) for source, target in columns.items()},
        {
            _known_column(column, where): {fold(source): value.strip() for source, value in table.items()}
            for column, table in values.items()
        },
    )


def merged(first: CsvMaps, then: CsvMaps) -> CsvMaps:
    """Two sets of maps, ``then`` winning (options over the map file)."""
    values = {column: dict(table) for column, table in first.values.items()}
    for column, table in then.values.items():
        values.setdefault(column, {}).update(table)
    return CsvMaps({**first.columns, **then.columns}, values)


def _known_column(name: str, where: str) -> str:
    column = name.strip().lower()
    if column not in CSV_COLUMNS:
        raise InvalidInput(f"{where}: unknown column {name.strip()!r} (columns: {', '.join(CSV_COLUMNS)})")
    return column


_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T](?P<clock>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)
_SLASHED = re.compile(
    r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})(?:[ T](?P<clock>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
)
_SERIAL = re.compile(r"\d{1,6}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 29 February 1900 that never was)
TIME_FORMS = "ISO 8601 (2023-06-01 07:29), DD/MM/YYYY HH:MM (MM/DD/YYYY with --monthfirst) or an Excel serial number"


def parse_sheet_time(value: str, zone: tzinfo, dayfirst: bool) -> datetime | None:
    """A time as spreadsheets write it, aware (naive = ``zone``), or None when it is none of the forms.

    ISO 8601 with or without padding (``2023-6-1 7:29``), ``DD/MM/YYYY HH:MM`` (``MM/DD/YYYY`` unless
    ``dayfirst``), a date alone (local midnight), or an Excel serial number (``45078.3125``).
    """
    text = value.strip().upper()
    try:
        if match := _ISO.fullmatch(text):
            parsed = _from_parts(int(match["y"]), int(match["m"]), int(match["d"]), match["clock"])
            if match["zone"]:
                return datetime.fromisoformat(parsed.isoformat() + match["zone"].replace("Z", "+00:00"))
        elif match := _SLASHED.fullmatch(text):
            a, b = int(match["a"]), int(match["b"])
            day, month = (a, b) if dayfirst else (b, a)
            parsed = _from_parts(int(match["y"]), month, day, match["clock"])
        elif _SERIAL.fullmatch(text) and 1 <= float(text) < 2_958_466:
            parsed = _EXCEL_EPOCH + timedelta(days=float(text))
            parsed = parsed.replace(microsecond=0) + timedelta(seconds=round(parsed.microsecond / 1e6))
        else:
            return None
    except ValueError:
        return None
    return parsed.replace(tzinfo=zone)


def _from_parts(year: int, month: int, day: int, clock: str | None) -> datetime:
    hours, minutes, seconds = 0, 0, 0.0
    if clock:
        pieces = clock.split(":")
        hours, minutes = int(pieces[0]), int(pieces[1])
        seconds = float(pieces[2]) if len(pieces) > 2 else 0.0
    whole = int(seconds)
    return datetime(year, month, day, hours, minutes, whole, round((seconds - whole) * 1_000_000))


def is_day_first(country: str | None) -> bool:
    """Whether a calendar's country writes dates day first (01/06/2023 = 1 June): all but a few do."""
    return (country or "").upper() not in ("US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "UM", "VI")


# -- the header --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """A file's header row read through the maps: which of our columns each source column fills."""

    found: tuple[str, ...]  # the file's column names, as written
    columns: tuple[str | None, ...]  # ours, position by position (None = ignored)

    @property
    def ignored(self) -> list[str]:
        """The source columns no column of ours takes (derived ones are read, not reported)."""
        return [
            name
            for name, column in zip(self.found, self.columns, strict=True)
            if column is None and fold(name) not in DERIVED_COLUMNS and name.strip()
        ]

    def has(self, column: str) -> bool:
        """Whether some source column fills ``column``."""
        return column in self.columns


def read_header(cells: Sequence[str], maps: CsvMaps) -> tuple[Header, list[str]]:
    """The header through the maps, and its problems (``header: …``), each naming the columns found."""
    found = tuple(cell.strip() for cell in cells)
    columns: list[str | None] = []
    for name in found:
        key = fold(name)
        if key in maps.columns:
            columns.append(maps.columns[key])
        elif key in CSV_COLUMNS and key not in maps.columns.values():
            columns.append(key)
        else:
            columns.append(None)
    header = Header(found, tuple(columns))
    shown = ", ".join(repr(name) for name in found) or "none"
    problems = []
    for source in maps.columns:
        if source not in {fold(name) for name in found}:
            problems.append(f"header: --map names a column {source!r} that the file does not have (found: {shown})")
    if "subject" not in columns:
        problems.append(f"header: subject: the required column is missing (columns found: {shown}; map one with --map)")
    seen: set[str] = set()
    for column in columns:
        if column is not None and column in seen:
            problems.append(f"header: {column}: two columns of the file map to it (columns found: {shown})")
        if column is not None:
            seen.add(column)
    return header, problems


# -- one row -----------------------------------------------------------------------------------------------------------


@dataclass
class CsvTicket:
    """One valid row: what ``log`` would be told, plus how far the ticket had got and when."""

    record: int
    new: NewTicket
    label: str = ""  # how messages name the row: ``record 3 (TKT-3)``
    ticket_id: int | None = None
    reference: str | None = None
    tier: str | None = None
    status: str = "new"
    times: dict[str, datetime] = field(default_factory=dict)
    resolution: str = DEFAULT_RESOLUTION
    rating: int | None = None
    feedback: str = ""
    reordered: list[str] = field(default_factory=list)  # what --fix-order moved

    @property
    def received_at(self) -> datetime:
        """When the customer got in touch (validated rows always have it: it defaults to now)."""
        return self.times["received_at"]


@dataclass(frozen=True)
class RowRules:
    """What every row is read with: the clock, the calendar's zone, the date order, and --fix-order."""

    zone: tzinfo
    now: datetime
    dayfirst: bool = True
    fix_order: bool = False
    maps: CsvMaps = field(default_factory=CsvMaps)
    # Why a ticket number cannot be stored (the store's rule, ``store.dump_schema.ticket_id_problem``), or None.
    ticket_id_problem: Callable[[int], str | None] = lambda _number: None


# ``export --format csv`` prefixes a cell a spreadsheet would run as a formula with ``'`` (render.csv_writer);
# a spreadsheet shows such a cell as text the same way. Read back, the quote goes.
_QUOTED_FORMULA = ("'=", "'+", "'-", "'@", "'\t", "'\r", "'\n")


def unquoted(cell: str) -> str:
    """A cell as it was before it was protected from running as a formula (``'+44 20…`` is ``+44 20…``)."""
    return cell[1:] if cell.startswith(_QUOTED_FORMULA) else cell


class RowProblems(list[str]):
    """Every problem of a record, as ``parse_row`` words them, with its number and its ``reference`` (None
    without one): a re-import skips a record whose reference the store has, whatever is wrong with it (README
    "Moving in from a spreadsheet")."""

    def __init__(self, problems: Iterable[str], record: int, reference: str | None = None) -> None:
        super().__init__(problems)
        self.record, self.reference = record, reference


def record_label(record: int, reference: str | None) -> str:
    """How messages name a row: by its record number (header excluded) and its reference when it has one."""
    return f"record {record} ({reference})" if reference else f"record {record}"


def parse_row(record: int, row: Mapping[str, str], rules: RowRules) -> CsvTicket | RowProblems:
    """A valid ticket, or every problem of the row as ``record N (REF): column: why``."""
    problems: list[str] = []

    def text(column: str) -> str | None:
        value = row.get(column)
        if not value:
            return None
        value = value.strip()
        values = rules.maps.values.get(column)
        mapped = values.get(fold(value)) if values and value else None
        return (mapped if mapped is not None else value) or None

    reference = text("reference")
    label = record_label(record, reference)

    def problem(column: str, why: str) -> None:
        problems.append(f"{label}: {column}: {why}")

    def choice(column: str, allowed: tuple[str, ...], default: str) -> str:
        value = text(column)
        if value is None:
            return default
        try:
            return check_choice(value, allowed, column)
        except InvalidInput as exc:
            problem(column, f"{exc}; map it with --map-value '{column}:{value}=…'")
            return default

    def instant(column: str) -> datetime | None:
        value = text(column)
        if value is None:
            return None
        parsed = parse_sheet_time(value, rules.zone, rules.dayfirst)
        if parsed is None:
            problem(column, f"bad time {value!r} (expected {TIME_FORMS})")
            return None
        if parsed > rules.now:
            problem(column, f"{value} is in the future")
            return None
        return parsed

    subject = text("subject")
    if subject is None:
        problem("subject", "is empty")
    tags = [tag.strip() for tag in (text("tags") or "").split(TAG_SEPARATOR) if tag.strip()]
    for tag in tags:
        if "," in tag:
            problem("tags", f"a tag cannot contain a comma: {tag!r} (separate tags with ;)")
    times = {column: value for column in TIME_COLUMNS if (value := instant(column)) is not None}
    new = NewTicket(
        subject=(subject or "").splitlines()[0] if subject else "",
        body=(row.get("body") or "").replace("\r\n", "\n").strip(),
        kind=choice("kind", KINDS, "enquiry"),
        channel=choice("channel", CHANNELS, "email"),
        priority=choice("priority", PRIORITIES, "normal"),
        customer_name=text("name"),
        customer_email=text("email"),
        customer_phone=text("phone"),
        org=text("org"),
        category=text("category"),
        tags=tags,
        owner=text("owner"),
        received_at=times.get("received_at"),
    )
    ticket = CsvTicket(
        record=record,
        new=new,
        label=label,
        ticket_id=_ticket_id(text("id"), rules, problem),
        reference=reference,
        tier=text("tier"),
        times=times,
        resolution=text("resolution") or DEFAULT_RESOLUTION,
        rating=_rating(text("rating"), problem),
        feedback=text("feedback") or "",
    )
    if times and "received_at" not in times:
        problem("received_at", f"is required with {', '.join(times)}")
    else:
        times.setdefault("received_at", rules.now)
    ticket.status = _status(ticket, choice("status", STATUSES, ""), problem)
    _check_order(ticket, rules.fix_order, problem)
    _default_times(ticket, rules.now)
    if ticket.rating is not None and ticket.status not in RESOLVED_STATUSES:
        problem("rating", f"a rating is for resolved or closed tickets, and this one is {ticket.status}")
    if ticket.feedback and ticket.rating is None:
        problem("feedback", "comes with a rating (1 to 5)")
    return RowProblems(problems, record, reference) if problems else ticket


def _ticket_id(value: str | None, rules: RowRules, problem: Callable[[str, str], None]) -> int | None:
    if value is None:
        return None
    if not re.fullmatch(r"[+-]?\d+", value):
        problem("id", f"{value!r} is not a ticket number")
        return None
    number = int(value)
    why = rules.ticket_id_problem(number)
    if why:
        problem("id", why)
        return None
    return number


def _rating(value: str | None, problem: Callable[[str, str], None]) -> int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = 0.5
    if number != int(number) or not 1 <= number <= 5:
        problem("rating", f"{value!r} is not a rating from 1 to 5")
        return None
    return int(number)


def _status(ticket: CsvTicket, given: str, problem: Callable[[str, str], None]) -> str:
    """The status given, or the one the times imply; a given status the times go beyond is a problem."""
    times = ticket.times
    reached = max((_TIME_STEP[column] for column in times if column in _TIME_STEP), default=0)
    if given == "closed" and "waiting_since" in times and "resolved_at" not in times:
        return given  # closed while waiting on the customer, as `close` allows
    if "waiting_since" in times and given not in ("", "waiting"):
        problem("waiting_since", f"is for tickets still waiting on the customer, and this one is {given}")
    if given and reached > _STATUS_STEP[given]:
        beyond = max((column for column in times if column in _TIME_STEP), key=_TIME_STEP.__getitem__)
        problem("status", f"{given}, but {beyond} is given")
    if given == "waiting" and "waiting_since" not in times:
        times["waiting_since"] = max(times.values())
    return given or _IMPLIED_STATUS[reached]


def _default_times(ticket: CsvTicket, now: datetime) -> None:
    """A status reached without its time: acknowledged, resolved or closed at the import (``now``)."""
    times, status = ticket.times, ticket.status
    if status == "acknowledged":
        times.setdefault("acknowledged_at", now)
    closed_waiting = status == "closed" and "waiting_since" in times and "resolved_at" not in times
    if status in RESOLVED_STATUSES and not closed_waiting:
        times.setdefault("resolved_at", times.get("closed_at", now))
    if status == "closed":
        times.setdefault("closed_at", times.get("resolved_at", now))


def _check_order(ticket: CsvTicket, fix_order: bool, problem: Callable[[str, str], None]) -> None:
    """Each time no earlier than the ones before it in a ticket's life; ``fix_order`` raises it to the latest."""
    latest_column, latest = "", None
    for column in TIME_ORDER:
        value = ticket.times.get(column)
        if value is None:
            continue
        if latest is not None and value < latest:
            if fix_order:
                ticket.times[column] = latest
                ticket.reordered.append(f"{column} moved to {latest_column}")
                continue
            problem(
                column,
                f"{value.isoformat()} is before {latest_column} {latest.isoformat()} "
                "(fix the sheet, or --fix-order moves it to that time)",
            )
            continue
        latest_column, latest = column, value


# -- the plan of an imported ticket ------------------------------------------------------------------------------------


@dataclass
class PlannedTarget:
    """A target as the import stores it: planned from ``received_at``, then met, paused or restarted."""

    name: str
    duration: str
    started_at: datetime
    due_at: datetime | None
    met_at: datetime | None = None
    state: str = TargetState.PENDING
    paused_at: datetime | None = None


@dataclass
class PlannedEvent:
    """One history event of an imported ticket: what happened, when, with which facts."""

    at: datetime
    kind: str
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketPlan:
    """Everything the store writes for one imported ticket's life."""

    targets: list[PlannedTarget]
    events: list[PlannedEvent]
    status: str
    waiting_since: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


def plan_life(ticket: CsvTicket, rule: TargetRule | None, calendar: WorkingCalendar) -> TicketPlan:
    """The targets and history of a row's ticket, as the commands would have left them at the row's times.

    Targets are planned from ``received_at``; ``acknowledged_at`` meets acknowledge, ``responded_at`` meets
    acknowledge and respond and restarts update (as ``update`` does), ``waiting_since`` pauses what is still
    open and due later, ``resolved_at`` meets everything open, closing a waiting ticket meets what is paused.
    A target met after its due time is breached (met late), as it is when the commands meet it.
    """
    times = ticket.times
    targets = [
        PlannedTarget(p.name, str(p.duration), p.started_at, p.due_at)
        for p in plan_targets(rule, calendar, ticket.received_at)
    ]
    events: list[PlannedEvent] = []
    if "acknowledged_at" in times:
        at = times["acknowledged_at"]
        events.append(PlannedEvent(at, "acknowledged", "", {"met": _meet(targets, targets_met_by("ack"), at)}))
    if "responded_at" in times:
        at = times["responded_at"]
        met = _meet(targets, targets_met_by("update") | {RESPOND.name}, at)
        _restart_update(targets, calendar, at)
        events.append(PlannedEvent(at, "updated", "first response (before the import)", {"met": met}))
    waiting_since = times.get("waiting_since")
    if waiting_since is not None:
        paused = []
        for target in targets:
            if target.state == TargetState.PENDING and target.due_at and target.due_at > waiting_since:
                target.state, target.paused_at = TargetState.PAUSED, waiting_since
                paused.append(target.name)
        events.append(PlannedEvent(waiting_since, "waiting", "", {"paused": paused}))
    if "resolved_at" in times:
        at = times["resolved_at"]
        met = _meet(targets, targets_met_by("resolve"), at)
        events.append(PlannedEvent(at, "resolved", ticket.resolution, {"met": met}))
    if ticket.status == "closed":
        at = times["closed_at"]
        was_waiting = "resolved_at" not in times
        if was_waiting:
            for target in targets:
                if target.state == TargetState.PAUSED:
                    target.state, target.paused_at, target.met_at = TargetState.MET, None, at
        events.append(PlannedEvent(at, "closed", "", {"automatic": False, "was_waiting": was_waiting}))
    if ticket.rating is not None:
        at = times.get("closed_at") or times["resolved_at"]
        events.append(PlannedEvent(at, "feedback", ticket.feedback, {"rating": ticket.rating}))
    return TicketPlan(
        targets=targets,
        events=events,
        status=ticket.status,
        waiting_since=waiting_since if ticket.status == "waiting" else None,
        resolved_at=times.get("resolved_at"),
        closed_at=times.get("closed_at"),
    )


def _meet(targets: list[PlannedTarget], names: frozenset[str], at: datetime) -> list[str]:
    met = []
    for target in targets:
        if target.name in names and target.state == TargetState.PENDING and target.due_at is not None:
            target.met_at, target.state = at, met_state(target.due_at, at)
            met.append(f"{target.name} {target.state}")
    return met


def _restart_update(targets: list[PlannedTarget], calendar: WorkingCalendar, at: datetime) -> None:
    from supportcli.core.durations import parse_duration

    for target in targets:
        if target.name == UPDATE.name and target.duration != "agreed":
            target.started_at, target.met_at, target.state = at, None, TargetState.PENDING
            target.due_at = calendar.due(at, parse_duration(target.duration))
