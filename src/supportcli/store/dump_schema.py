"""The dump schema: which fields each kind of record holds, and how stored values are dumped and loaded.

One description per table serves both ways, so export and import cannot drift apart: a value is
written as JSON (instants in the calendar's zone with their offset, tags as a list, event data as
an object) and read back to exactly what was stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

import orjson
from sqlmodel import SQLModel

from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES, STATUSES, TargetState, next_pending
from supportcli.errors import InvalidInput
from supportcli.store.lookups import phone_key
from supportcli.store.models import AutomationMark, Event, MailMessage, Notice, Target

FORMAT_NAME = "supportcli-export"
FORMAT_VERSION = 1

Record = tuple[str, dict[str, Any]]
"""One record of a dump: its type (meta, policy_version, staff, ticket) and its fields."""

Located = tuple[str, str, dict[str, Any]]
"""A record read from a dump: where it is (for messages), its type, its fields."""

# How each stored column is written to a dump and read back: one description serves both ways.
# Types: str, int, at (an instant), "?" = may be null; a field missing from a record takes the default.
REQUIRED = object()
POLICY_FIELDS: dict[str, tuple[str, Any]] = {
    "version": ("int", REQUIRED),
    "name": ("str", REQUIRED),
    "effective_at": ("at", REQUIRED),
    "applies_by": ("str?", None),  # missing from dumps of schema 5 and before: derived as migration 6 does
    "set_at": ("at", REQUIRED),
    "set_by": ("str", REQUIRED),
    "note": ("str", ""),
    "source": ("str", REQUIRED),
}
STAFF_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("str", REQUIRED),
    "email": ("str", ""),
    "tier": ("int", 0),
    "away_until": ("at?", None),
    "cover": ("str?", None),
}
TICKET_FIELDS: dict[str, tuple[str, Any]] = {
    "id": ("int", REQUIRED),
    "subject": ("str", REQUIRED),
    "body": ("str", ""),
    "kind": ("str", "enquiry"),
    "channel": ("str", "email"),
    "priority": ("str", "normal"),
    "customer_name": ("str?", None),
    "customer_email": ("str?", None),
    "customer_phone": ("str?", None),
    "customer_phone_key": ("str?", None),
    "org": ("str?", None),
    "category": ("str?", None),
    "tags": ("tags", ""),
    "watchers": ("tags", ""),
    "owner": ("str?", None),
    "tier": ("int", 0),
    "status": ("str", "new"),
    "received_at": ("at", REQUIRED),
    "logged_at": ("at", REQUIRED),
    "updated_at": ("at", REQUIRED),
    "waiting_since": ("at?", None),
    "resolved_at": ("at?", None),
    "closed_at": ("at?", None),
    "expected_by": ("at?", None),
    "expected_reason": ("str?", None),
    "rating": ("int?", None),
    "policy_version": ("int", REQUIRED),
    "rule_number": ("int?", None),
    "next_due_at": ("at?", None),
    "next_target": ("str?", None),
    "purged_at": ("at?", None),
    "reference": ("str?", None),
}
TARGET_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("str", REQUIRED),
    "duration": ("str", REQUIRED),
    "started_at": ("at", REQUIRED),
    "due_at": ("at?", None),
    "met_at": ("at?", None),
    "state": ("str", "pending"),
    "paused_at": ("at?", None),
    "paused_working_seconds": ("int", 0),
    "source": ("str", "policy"),
    # Derived on import (``store.dump_import``), never taken from the file; dumped so a dump shows every column.
    "met_working_seconds": ("int?", None),
}
EVENT_FIELDS: dict[str, tuple[str, Any]] = {
    "at": ("at", REQUIRED),
    "actor": ("str", REQUIRED),
    "kind": ("str", REQUIRED),
    "text": ("str", ""),
    "data": ("data", ""),
}
MARK_FIELDS: dict[str, tuple[str, Any]] = {"key": ("str", REQUIRED), "at": ("at", REQUIRED)}
NOTICE_FIELDS: dict[str, tuple[str, Any]] = {
    "key": ("str", REQUIRED),
    "event": ("str", REQUIRED),
    "target": ("str?", None),
    "due_at": ("at?", None),
    "channel": ("str", REQUIRED),
    "recipient": ("str", REQUIRED),
    "subject": ("str", ""),
    "body": ("str", ""),
    "payload": ("str", ""),
    "message_id": ("str", REQUIRED),
    "status": ("str", "pending"),
    "attempts": ("int", 0),
    "next_attempt_at": ("at", REQUIRED),
    "lease_until": ("at?", None),
    "claimed_by": ("str?", None),
    "last_error": ("str", ""),
    "created_at": ("at", REQUIRED),
    "sent_at": ("at?", None),
}
MAIL_FIELDS: dict[str, tuple[str, Any]] = {
    "message_key": ("str", REQUIRED),
    "at": ("at", REQUIRED),
    "from_address": ("str", ""),
    "subject": ("str", ""),
    "outcome": ("str", REQUIRED),
    "reason": ("str", ""),
}


# The tables whose rows are nested in a ticket record: the record's key, the table, its fields.
CHILDREN: tuple[tuple[str, type[SQLModel], dict[str, tuple[str, Any]]], ...] = (
    ("targets", Target, TARGET_FIELDS),
    ("events", Event, EVENT_FIELDS),
    ("automation_marks", AutomationMark, MARK_FIELDS),
    ("notices", Notice, NOTICE_FIELDS),
    ("mail_messages", MailMessage, MAIL_FIELDS),
)


# -- values -----------------------------------------------------------------------------------------------------------


def _dump_value(kind: str, value: Any, zone: tzinfo) -> Any:
    if value is None:
        return None
    if kind.startswith("at"):
        return value.astimezone(zone).isoformat()  # microseconds kept when present: lossless
    if kind == "tags":
        return [tag for tag in value.split(",") if tag]
    if kind == "data":
        return _dump_data(value)
    return value


@lru_cache(maxsize=4096)
def _dump_data(stored: str) -> Any:
    """Event data as JSON when it reads back to exactly the stored text, else the text itself.

    Parsed by orjson, whose integers are exact within 64 bits (beyond, it reads a float and the text check keeps
    the text), so the object is one the dump's encoder (orjson too) writes back exactly. Cached: most events of a
    kind hold the same data (``{"met": ["acknowledge met"]}``), and the check costs a parse and an encoding. The object returned is shared, so it is only ever serialised, never changed.
    """
    if not stored:
        return None
    try:
        parsed = orjson.loads(stored)
    except orjson.JSONDecodeError:
        # Not strict JSON (NaN, Infinity, a lone surrogate), or not JSON at all: the text itself, which a dump
        # (written by orjson, strict JSON) holds exactly and an import stores as it is.
        return stored
    return parsed if isinstance(parsed, dict) and _as_stored(parsed) == stored else stored


def encode_data(data: dict[str, Any]) -> str:
    """Event data as stored: the encoding ``store.tickets.record`` uses, so a loaded object reads back the same."""
    return _DATA_ENCODER.encode(data)


# ``json.dumps(data, default=str, sort_keys=True)`` built once: json.dumps makes a new encoder for every call
# given options, a cost paid per event on import and export.
_DATA_ENCODER = json.JSONEncoder(default=str, sort_keys=True)


def _as_stored(data: dict[str, Any]) -> str:
    """``encode_data(data)``, through the C encoder ``_DATA_ENCODER.encode`` builds afresh on every call, built once.

    ``_dump_data`` checks every event's data this way on export, and a ticket's first event holds data of its
    own (its received_at), so its cache rarely helps there. No check for circular references: parsed JSON
    holds none.
    """
    if _STORED_ENCODING is None:
        return encode_data(data)
    return "".join(_STORED_ENCODING(data, 0))


# ``json.encoder.c_make_encoder`` (None where the C accelerator is missing) with ``_DATA_ENCODER``'s settings, in
# the order ``JSONEncoder.iterencode`` passes them: markers, default, string encoder, indent, key separator,
# item separator, sort_keys, skipkeys, allow_nan.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_STORED_ENCODING = (
    _c_make_encoder(
        None,
        _DATA_ENCODER.default,
        json.encoder.encode_basestring_ascii if _DATA_ENCODER.ensure_ascii else json.encoder.encode_basestring,
        None,
        _DATA_ENCODER.key_separator,
        _DATA_ENCODER.item_separator,
        _DATA_ENCODER.sort_keys,
        _DATA_ENCODER.skipkeys,
        _DATA_ENCODER.allow_nan,
    )
    if _c_make_encoder is not None
    else None
)


def _load_value(kind: str, value: Any, where: str, name: str) -> Any:
    nullable = kind.endswith("?")
    base = kind.rstrip("?")
    if value is None:
        if nullable:
            return None
        if base in ("tags", "data"):
            return ""
        raise InvalidInput(f"{where}: {name}: must not be null")
    if base == "str" and isinstance(value, str):
        return value
    if base == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base == "at" and isinstance(value, str):
        return _load_instant(value, where, name)
    if base == "tags" and isinstance(value, list) and all(isinstance(t, str) and t and "," not in t for t in value):
        return "," + ",".join(value) + "," if value else ""
    if base == "data" and isinstance(value, dict | str):
        return encode_data(value) if isinstance(value, dict) else value
    raise InvalidInput(f"{where}: {name}: unexpected value {json.dumps(value, default=str)[:60]}")


def _load_instant(value: str, where: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(f"{where}: {name}: {value!r} is not an ISO 8601 instant with an offset")
    return parsed


class LocalInstants:
    """Instants as a dump writes them: ISO 8601 in ``zone`` with the offset, exactly
    ``value.astimezone(zone).isoformat()``, but with the zone's offset looked up once per hour of UTC.

    An export writes some twenty instants per ticket; converting each through the zone was most of its time.
    Takes an aware datetime, or a stored UTC instant as the driver returns it (a naive datetime, or SQLite's
    text), so an export can skip the column type's own conversion. An hour in which the offset changes (a
    clock change) is converted value by value.

    SQLite's text (``YYYY-MM-DD HH:MM:SS.ffffff``, as SQLAlchemy stores every instant there) takes a quicker
    way still, with no datetime built at all: in an hour whose offset is a whole number of hours and does not
    change, the local text is the UTC text with the hour's local ``YYYY-MM-DDTHH`` in front and the offset
    behind; minutes, seconds and the fraction are the same digits (the fraction left out when it is
    ``.000000``, as ``isoformat`` does). ``prefixes`` holds those hours, keyed by the text's first 13
    characters, so ``row_dumper`` can take that way without a call per instant.
    """

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._hours: dict[int, tuple[timedelta, str] | None] = {}
        # UTC hour ('YYYY-MM-DD HH') -> (its local 'YYYY-MM-DDTHH', the offset's text), for SQLite's text.
        self.prefixes: dict[str, tuple[str, str]] = {}
        self._unfit: set[str] = set()  # hours of that text the quick way cannot take (see ``_prefix_for``)
        self.done: dict[str | datetime, str] = {}  # ``row_dumper``'s instants already converted

    def __call__(self, value: datetime | str | None) -> str | None:
        return None if value is None else self.local(value)

    def local(self, value: datetime | str) -> str:
        """``value`` (not None) in the zone, as ``__call__`` gives it."""
        if isinstance(value, str):
            if len(value) == STORED_TEXT_LENGTH:
                found = self.prefixes.get(value[:13])
                if found is None and value[:13] not in self._unfit:
                    found = self._prefix_for(value)
                if found is not None:
                    return found[0] + (value[13:19] if value.endswith(".000000") else value[13:]) + found[1]
            value = datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        hour = value.toordinal() * 24 + value.hour
        try:
            found_offset = self._hours[hour]
        except KeyError:
            found_offset = self._hours[hour] = self._offset_during(hour)
        if found_offset is None:
            return value.replace(tzinfo=UTC).astimezone(self.zone).isoformat()
        offset, suffix = found_offset
        return (value + offset).isoformat() + suffix

    def _offset_during(self, hour: int) -> tuple[timedelta, str] | None:
        """The zone's offset through one hour of UTC and its ISO text, or None when it changes in that hour."""
        start = datetime.fromordinal(hour // 24).replace(hour=hour % 24, tzinfo=UTC)
        offset = start.astimezone(self.zone).utcoffset()
        end = (start + timedelta(seconds=3599, microseconds=999_999)).astimezone(self.zone).utcoffset()
        if offset is None or offset != end:
            return None
        return offset, datetime(2000, 1, 1, tzinfo=timezone(offset)).isoformat()[19:]

    def _prefix_for(self, value: str) -> tuple[str, str] | None:
        """The local hour and offset text for the UTC hour of stored text ``value``, remembered in ``prefixes``;
        None (remembered too) when the quick way does not apply: the text is not exactly what SQLAlchemy stores,
        or the hour's offset is not whole hours (India, Newfoundland) or changes within it (Lord Howe)."""
        key = value[:13]
        found = None
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None and parsed.isoformat(" ", "microseconds") == value:
                hour = parsed.toordinal() * 24 + parsed.hour
                during = self._hours.get(hour, _UNSEEN)
                if during is _UNSEEN:
                    during = self._hours[hour] = self._offset_during(hour)
                if isinstance(during, tuple) and not during[0] % timedelta(hours=1):
                    local = (parsed.replace(minute=0, second=0, microsecond=0) + during[0]).isoformat()
                    found = (local[:13], during[1])
        except (ValueError, OverflowError):
            found = None  # the slow way raises (or copes) exactly as before
        if found is None:
            self._unfit.add(key)
        else:
            self.prefixes[key] = found
        return found


# How many converted instants ``row_dumper`` keeps before it starts again.
_DONE_LIMIT = 50_000
# How long SQLite's stored text of an instant is: 'YYYY-MM-DD HH:MM:SS.ffffff'.
STORED_TEXT_LENGTH = 26
_UNSEEN = object()


def row_dumper(
    fields: Mapping[str, tuple[str, Any]], instants: LocalInstants, skip: int = 0
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function from a row's values (in ``fields``' order, after ``skip`` others) to its dump record: what
    ``dump_row`` gives for an ORM row, for rows read as plain tuples (instants as ``LocalInstants`` takes them).

    Run for every row of an export (some ten per ticket, twenty-odd instants), so the values are converted in
    a list by position and the record built once; the quick way for SQLite's text (``LocalInstants.prefixes``)
    is taken inline, and only the other instants cost a call.
    """
    names = list(fields)
    kinds = [kind for kind, _ in fields.values()]
    instant_at = tuple(skip + index for index, kind in enumerate(kinds) if kind.startswith("at"))
    tags_at = tuple(skip + index for index, kind in enumerate(kinds) if kind == "tags")
    data_at = tuple(skip + index for index, kind in enumerate(kinds) if kind == "data")
    prefix_of = instants.prefixes.get
    convert = instants.local
    length = STORED_TEXT_LENGTH
    # Instants already converted, by stored value: a ticket's received_at is also its logged_at, its targets'
    # started_at and its first event's at, so many are repeats. Emptied now and then (memory stays flat).
    done = instants.done
    done_get = done.get

    def dump(row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        if len(done) > _DONE_LIMIT:
            done.clear()
        for index in instant_at:
            value = values[index]
            if value is None:
                continue
            local = done_get(value)
            if local is None:
                found = prefix_of(value[:13]) if value.__class__ is str and len(value) == length else None
                if found is not None:
                    local = found[0] + (value[13:19] if value.endswith(".000000") else value[13:]) + found[1]
                else:
                    local = convert(value)
                done[value] = local
            values[index] = local
        for index in tags_at:
            value = values[index]
            if value is not None:
                values[index] = [tag for tag in value.split(",") if tag] if value else []
        for index in data_at:
            values[index] = _dump_data(values[index])
        if skip:
            del values[:skip]
        return dict(zip(names, values, strict=False))

    return dump


def dump_row(row: SQLModel, fields: Mapping[str, tuple[str, Any]], zone: tzinfo) -> dict[str, Any]:
    """A stored row as a dump record (instants in ``zone`` with their offset)."""
    return {name: _dump_value(kind, getattr(row, name), zone) for name, (kind, _) in fields.items()}


# A field's plain JSON type when a value of exactly that type is stored as it is (``load_row``'s quick path).
_AS_IS = {"str": str, "str?": str, "int": int, "int?": int}
_ABSENT = object()
_Compiled = tuple[frozenset[str], list[tuple[str, str, Any, type | None, bool, bool]]]
_compiled: dict[tuple[int, tuple[str, ...]], _Compiled] = {}


def _compile(fields: Mapping[str, tuple[str, Any]], nested: tuple[str, ...]) -> _Compiled:
    """The names a record may hold and, per field, what ``load_row`` checks: compiled once per description."""
    key = (id(fields), nested)
    found = _compiled.get(key)
    if found is None:
        steps = [
            (name, kind, default, _AS_IS.get(kind), kind.startswith("at"), kind.endswith("?"))
            for name, (kind, default) in fields.items()
        ]
        found = _compiled[key] = (frozenset(fields) | frozenset(nested), steps)
    return found


def load_row(
    record: Mapping[str, Any], fields: Mapping[str, tuple[str, Any]], where: str, nested: Iterable[str] = ()
) -> dict[str, Any]:
    """A dump record's fields, checked and converted to stored values; unknown fields are refused (lossless).

    Run for every row of an import (some ten per ticket), so the common values (a string, an integer, an
    instant) are checked inline and only the rest go through ``_load_value``.
    """
    if not isinstance(record, Mapping):
        raise InvalidInput(f"{where}: expected an object")
    allowed, steps = _compile(fields, tuple(nested))
    if not record.keys() <= allowed:
        unknown = [key for key in record if key not in allowed]
        raise InvalidInput(f"{where}: unknown field {unknown[0]!r}")
    values = {}
    for name, kind, default, as_is, instant, nullable in steps:
        value = record.get(name, _ABSENT)
        if value is _ABSENT:
            if default is REQUIRED:
                raise InvalidInput(f"{where}: missing field {name!r}")
            values[name] = default
        elif value.__class__ is as_is or (value is None and nullable):
            values[name] = value
        elif instant and value.__class__ is str:
            values[name] = _load_instant(value, where, name)
        else:
            values[name] = _load_value(kind, value, where, name)
    return values


# -- tickets ----------------------------------------------------------------------------------------------------------

# Ticket numbers both stores can hold and every later command can use: PostgreSQL's INTEGER (and SQLite's
# rowid past it would leave the next number unusable on PostgreSQL after a move), never 0 or negative.
MAX_TICKET_ID = 2**31 - 1


def ticket_id_problem(ticket_id: int) -> str | None:
    """Why a ticket number from a file cannot be stored, or None: one rule for dumps and CSV."""
    if 1 <= ticket_id <= MAX_TICKET_ID:
        return None
    return f"{ticket_id} is outside 1…{MAX_TICKET_ID}"


def load_ticket(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A ticket record and its nested rows, checked and converted to stored values."""
    nested = [key for key, _, _ in CHILDREN]
    ticket = load_row(record, TICKET_FIELDS, where, nested)
    id_problem = ticket_id_problem(ticket["id"])
    if id_problem:
        raise InvalidInput(f"{where}: id: {id_problem}")
    where = f"{where} (ticket #{ticket['id']})"
    for name, allowed in (("kind", KINDS), ("channel", CHANNELS), ("priority", PRIORITIES), ("status", STATUSES)):
        if ticket[name] not in allowed:
            raise InvalidInput(f"{where}: {name}: unknown {name} {ticket[name]!r} (allowed: {', '.join(allowed)})")
    if ticket["rating"] is not None and not 1 <= ticket["rating"] <= 5:
        raise InvalidInput(f"{where}: rating: must be 1 to 5")
    values: dict[str, Any] = {"ticket": ticket}
    for key, _, fields in CHILDREN:
        rows = record.get(key, [])
        if not isinstance(rows, list):
            raise InvalidInput(f"{where}: {key}: expected a list")
        values[key] = [load_row(row, fields, f"{where} {key}[{index}]") for index, row in enumerate(rows)]
    states = {state.value for state in TargetState}
    for index, target in enumerate(values["targets"]):
        if target["state"] not in states:
            raise InvalidInput(f"{where} targets[{index}]: state: unknown state {target['state']!r}")
    upcoming = next_pending((t["name"], t["state"], t["due_at"]) for t in values["targets"])
    # Derived from the targets, never taken from the file: listings trust them (``queries.listing_rows``).
    ticket["next_target"], ticket["next_due_at"] = upcoming if upcoming else (None, None)
    ticket["customer_phone_key"] = phone_key(ticket["customer_phone"])  # derived too (``store.lookups``)
    return values
