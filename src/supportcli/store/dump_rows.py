"""Dump records read straight into stored rows: the quick path of an import, one step per value where it can.

``dump_schema.load_ticket`` checks a ticket record field by field and gives dicts of Python values, which the
bulk writer then turns into the driver's values. At a million tickets (some ninety values each) those steps
were most of an import's time. Here a ticket record becomes lists of stored values directly:

- each row's values are fetched in one pass, and the classes they have (``str``, ``int``, ``None``…) are
  looked up as a whole: what every field needs for that combination (keep it, convert an instant, encode
  event data) is worked out once and reused for every row like it;
- an instant in the shape a dump writes (``2025-03-01T10:00:00+00:00``, microseconds optional, an offset
  of whole hours) becomes stored UTC text by copying its minutes and seconds after its hour converted once
  per date, hour and offset (``StoredInstants``), no datetime built;
- anything else (a missing field, an unknown one, an unusual value, any value that breaks a rule) sends the
  whole record through ``load_ticket``, which gives the same stored values or the message naming the record
  and field. The quick path never decides that a record is bad, so every message is ``load_ticket``'s.

Stored values are those both engines take as they are: UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` for an instant
(what SQLite's column holds; PostgreSQL's COPY reads it into its ``timestamp``), ``,a,b,`` for tags, event data
as encoded text (README "Export and import").
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES, STATUSES, TargetState, next_pending
from supportcli.store.dump_schema import (
    CHILDREN,
    MAX_TICKET_ID,
    TICKET_FIELDS,
    encode_data,
    load_ticket,
)
from supportcli.store.lookups import phone_key

# Minutes and seconds ("MM:SS") → seconds into the hour: checks both parts at once (no 60, no other digits).
MINUTES_SECONDS = {f"{minute:02}:{second:02}": minute * 60 + second for minute in range(60) for second in range(60)}
# Cached hours kept at most (then the cache starts again): a dump of two years has some 20,000.
CACHE_LIMIT = 200_000
# Whole instants kept at most (the instants of the last few hundred tickets).
RECENT_INSTANTS = 4_096
# Cached event data kept at most: the common objects are a few dozen.
DATA_CACHE_LIMIT = 5_000

_SLOW = object()  # a value the quick path leaves to load_ticket


def stored_instant(value: datetime) -> str:
    """An aware instant as stored: UTC text with six fraction digits (SQLAlchemy's SQLite form of UTCDateTime)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class StoredInstants:
    """ISO 8601 instants of a dump as stored UTC text, and stored text as epoch seconds, cached per hour.

    ``stored(value)`` returns None for any text not in a dump's usual shape (the caller then parses it in
    full), so it never accepts what ``datetime.fromisoformat`` would refuse: the date, hour and offset are
    parsed by it, once per combination, and the rest is checked against the valid minutes and seconds.
    """

    def __init__(self) -> None:
        self._hours: dict[str, str | None] = {}
        self._epochs: dict[str, int] = {}

    def stored(self, value: str) -> str | None:
        """``stored_instant(datetime.fromisoformat(value))``, or None when ``value`` is not of the usual shape."""
        if len(value) == 25:
            fraction, offset = ".000000", value[19:]
        elif len(value) == 32 and value[19] == "." and value[20:26].isdigit() and value[20:26].isascii():
            fraction, offset = value[19:26], value[26:]
        else:
            return None
        if value[13] != ":" or value[14:19] not in MINUTES_SECONDS:
            return None
        key = value[:13] + offset
        try:
            hour = self._hours[key]
        except KeyError:
            hour = self._hour(value[:13], offset)
            if len(self._hours) >= CACHE_LIMIT:
                self._hours.clear()
            self._hours[key] = hour
        return None if hour is None else hour + value[13:19] + fraction

    @staticmethod
    def _hour(prefix: str, offset: str) -> str | None:
        """The UTC date and hour (``YYYY-MM-DD HH``) of a local date and hour with an offset of whole hours."""
        if prefix[4] != "-" or prefix[7] != "-" or offset[0] not in "+-" or offset[3:] != ":00":
            return None
        try:
            return stored_instant(datetime.fromisoformat(f"{prefix}:00:00{offset}"))[:13]
        except (ValueError, OverflowError):  # not an instant, or one UTC cannot hold (left to the full parse)
            return None

    def epoch(self, stored: str) -> int:
        """Whole epoch seconds of a stored instant (the fraction dropped, as ``math.floor`` of its timestamp)."""
        hour = stored[:13]
        try:
            start = self._epochs[hour]
        except KeyError:
            start = calendar.timegm(datetime.strptime(hour, "%Y-%m-%d %H").timetuple())
            if len(self._epochs) >= CACHE_LIMIT:
                self._epochs.clear()
            self._epochs[hour] = start
        return start + MINUTES_SECONDS[stored[14:19]]


@dataclass(slots=True)
class StoredTicket:
    """A ticket record as stored rows: the ticket's values in ``TICKET_FIELDS`` order, and per nested table
    (``CHILDREN``) its rows' values in field order followed by the ticket id."""

    ticket: list[Any]
    children: dict[str, list[list[Any]]]

    @property
    def id(self) -> int:
        return int(self.ticket[TICKET_ID])


TICKET_NAMES = tuple(TICKET_FIELDS)
TICKET_ID = TICKET_NAMES.index("id")
TICKET_POLICY = TICKET_NAMES.index("policy_version")
TICKET_RECEIVED = TICKET_NAMES.index("received_at")
_TARGET_FIELDS = next(fields for key, _, fields in CHILDREN if key == "targets")
TARGET_NAMES_ORDER = tuple(_TARGET_FIELDS)
TARGET_MET = TARGET_NAMES_ORDER.index("met_at")
TARGET_PAUSED = TARGET_NAMES_ORDER.index("paused_working_seconds")
TARGET_MET_SECONDS = TARGET_NAMES_ORDER.index("met_working_seconds")
_TARGET_NAME = TARGET_NAMES_ORDER.index("name")
_TARGET_STATE = TARGET_NAMES_ORDER.index("state")
_TARGET_DUE = TARGET_NAMES_ORDER.index("due_at")
_NEXT_TARGET = TICKET_NAMES.index("next_target")
_NEXT_DUE = TICKET_NAMES.index("next_due_at")
_PHONE = TICKET_NAMES.index("customer_phone")
_PHONE_KEY = TICKET_NAMES.index("customer_phone_key")
_RATING = TICKET_NAMES.index("rating")
_CHOICES = tuple(
    (TICKET_NAMES.index(name), frozenset(allowed))
    for name, allowed in (("kind", KINDS), ("channel", CHANNELS), ("priority", PRIORITIES), ("status", STATUSES))
)
_STATES = frozenset(state.value for state in TargetState)

# A plan for one combination of value classes: the indexes of its instants, and (index, converter) for each other
# value that is not stored as it is.
_Plan = tuple[tuple[int, ...], tuple[tuple[int, Callable[[Any], Any]], ...]]


class _RowReader:
    """One table's rows from their records, by the plan of their value classes (None: load_ticket's job)."""

    def __init__(self, fields: Mapping[str, tuple[str, Any]], nested: Sequence[str], loader: StoredRows) -> None:
        self.fields = fields
        self.names = tuple(fields)
        self.allowed = frozenset(fields) | frozenset(nested)
        self.loader = loader
        self.plans: dict[tuple[type, ...], _Plan | None] = {}

    def read(self, record: Any) -> list[Any] | None:
        """The stored values of one row's record, or None to leave the record to load_ticket."""
        if record.__class__ is not dict or not record.keys() <= self.allowed:
            return None
        values: list[Any] = list(map(record.get, self.names))
        classes = tuple(map(type, values))
        try:
            plan = self.plans[classes]
        except KeyError:
            plan = self.plans[classes] = self._plan(classes)
        if plan is None:
            return None
        instants, steps = plan
        recent = self.loader.recent
        for index in instants:  # inline, the commonest step: some twenty per ticket
            try:
                values[index] = recent[values[index]]
            except KeyError:
                value = self.loader.instant(values[index])
                if value is _SLOW:
                    return None
                values[index] = value
        for index, convert in steps:
            value = convert(values[index])
            if value is _SLOW:
                return None
            values[index] = value
        return values

    def _plan(self, classes: tuple[type, ...]) -> _Plan | None:
        """What each field needs when its value is of these classes, or None if a field is not simply valid.

        A None may be a missing field (``dict.get``): taken only where that means the same as a null.
        """
        instants: list[int] = []
        steps: list[tuple[int, Callable[[Any], Any]]] = []
        for index, ((kind, default), cls) in enumerate(zip(self.fields.values(), classes, strict=True)):
            base, nullable = kind.rstrip("?"), kind.endswith("?")
            if cls is type(None):
                if base in ("tags", "data") and default == "":
                    steps.append((index, _empty))
                elif not (nullable and default is None):
                    return None
            elif (cls is str and base in ("str", "data")) or (cls is int and base == "int"):
                continue
            elif cls is str and base == "at":
                instants.append(index)
            elif cls is list and base == "tags":
                steps.append((index, _tags))
            elif cls is dict and base == "data":
                steps.append((index, self.loader.data))
            else:
                return None
        return tuple(instants), tuple(steps)


def _empty(_value: None) -> str:
    return ""


def _tags(value: list[Any]) -> Any:
    # dump_schema._load_value's rule: non-empty strings without commas.
    for tag in value:
        if tag.__class__ is not str or not tag or "," in tag:
            return _SLOW
    return "," + ",".join(value) + "," if value else ""


class StoredRows:
    """Ticket records of a dump as stored rows (``StoredTicket``), the quick way where it gives the same."""

    def __init__(self) -> None:
        self.instants = StoredInstants()
        self._data: dict[str, str] = {}
        self.recent: dict[str, str] = {}
        nested = [key for key, _, _ in CHILDREN]
        self._ticket = _RowReader(TICKET_FIELDS, nested, self)
        self._children = [(key, _RowReader(fields, (), self)) for key, _, fields in CHILDREN]

    def instant(self, value: str) -> Any:
        """An instant's stored text, kept in ``recent``: a ticket's instants repeat (logged, its targets' start,
        its first event)."""
        stored = self.instants.stored(value)
        if stored is None:
            return _SLOW
        if len(self.recent) >= RECENT_INSTANTS:
            self.recent.clear()
        self.recent[value] = stored
        return stored

    def data(self, value: dict[str, Any]) -> Any:
        """Event data as stored, ``encode_data``'s text, looked up by the object's canonical JSON: the events of
        a dump hold the same few objects again and again."""
        try:
            # As text: orjson's bytes keep their whole output buffer (some 4 KB each).
            key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # what orjson will not write (an integer past 64 bits): encoded each time
            return encode_data(value)
        try:
            return self._data[key]
        except KeyError:
            # Each ticket's ``logged`` event holds its own receipt time: kept few, the common ones come back.
            if len(self._data) >= DATA_CACHE_LIMIT:
                self._data.clear()
            encoded = self._data[key] = encode_data(value)
            return encoded

    def ticket(self, record: dict[str, Any], where: str) -> StoredTicket:
        """The stored rows of a ticket record; InvalidInput (from load_ticket) naming ``where`` if it is bad."""
        quick = self.quick(record)
        return quick if quick is not None else from_values(load_ticket(record, where))

    def quick(self, record: dict[str, Any]) -> StoredTicket | None:
        """The stored rows of a ticket record the quick way, or None when it must go through load_ticket."""
        ticket = self._ticket.read(record)
        if ticket is None:
            return None
        ticket_id = ticket[TICKET_ID]
        if not 1 <= ticket_id <= MAX_TICKET_ID:
            return None
        for index, allowed in _CHOICES:
            if ticket[index] not in allowed:
                return None
        rating = ticket[_RATING]
        if rating is not None and not 1 <= rating <= 5:
            return None
        children: dict[str, list[list[Any]]] = {}
        get = record.get
        for key, reader in self._children:
            records = get(key, [])
            if records.__class__ is not list:
                return None
            rows = []
            for row_record in records:
                row = reader.read(row_record)
                if row is None:
                    return None
                row.append(ticket_id)
                rows.append(row)
            children[key] = rows
        targets = children["targets"]
        for target in targets:
            if target[_TARGET_STATE] not in _STATES:
                return None
        _derive(ticket, targets)
        return StoredTicket(ticket, children)


def _derive(ticket: list[Any], targets: list[list[Any]]) -> None:
    """The columns a ticket's other values give, as load_ticket derives them (never taken from the file)."""
    upcoming = next_pending((target[_TARGET_NAME], target[_TARGET_STATE], target[_TARGET_DUE]) for target in targets)
    ticket[_NEXT_TARGET], ticket[_NEXT_DUE] = upcoming if upcoming else (None, None)
    ticket[_PHONE_KEY] = phone_key(ticket[_PHONE])


def from_values(values: dict[str, Any]) -> StoredTicket:
    """``load_ticket``'s values (Python values, instants as datetimes) as stored rows."""
    ticket = _stored_list(values["ticket"], TICKET_FIELDS)
    ticket_id = ticket[TICKET_ID]
    children = {key: [[*_stored_list(row, fields), ticket_id] for row in values[key]] for key, _, fields in CHILDREN}
    return StoredTicket(ticket, children)


def _stored_list(row: Mapping[str, Any], fields: Mapping[str, tuple[str, Any]]) -> list[Any]:
    return [
        stored_instant(row[name]) if kind.startswith("at") and row[name] is not None else row[name]
        for name, (kind, _) in fields.items()
    ]
