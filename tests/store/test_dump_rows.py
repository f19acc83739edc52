"""The quick reading path of a dump import gives what the full one (``load_ticket``) gives, value for value,
and leaves every record it does not take, good or bad, to it: same rows, same messages."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from supportcli.errors import InvalidInput
from supportcli.store.dump_rows import StoredInstants, StoredRows, from_values, stored_instant
from supportcli.store.dump_schema import load_ticket

# Whole-hour offsets (the quick path) and others (left to the full parse): India +05:30, Chatham +12:45.
ZONES = ("Europe/London", "UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Asia/Tokyo")


def _reference(text: str) -> str | None:
    """What the full path stores for an instant's text, None where it refuses it."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if parsed.tzinfo is None else stored_instant(parsed)


@given(
    zone=st.sampled_from(ZONES),
    instant=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
)
@example(zone="Europe/London", instant=datetime(2026, 10, 25, 0, 59, 59, 999_999, tzinfo=UTC))
@example(zone="Europe/London", instant=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
@example(zone="America/New_York", instant=datetime(2027, 1, 1, 3, 0, 0, 1, tzinfo=UTC))
def test_stored_instants_equal_the_full_parse(zone: str, instant: datetime) -> None:
    """Whatever the zone the dump was written in, an instant is stored as the full parse stores it, and its
    epoch seconds are ``math.floor`` of its timestamp."""
    text = instant.astimezone(ZoneInfo(zone)).isoformat()  # what an export writes
    instants = StoredInstants()
    stored = instants.stored(text)
    offset = instant.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    if offset % timedelta(hours=1):
        assert stored is None  # left to the full parse
    else:
        assert stored == _reference(text)
        assert instants.stored(text) == stored  # and the same from the cache
        assert instants.epoch(stored) == math.floor(instant.timestamp())
    assert instants.epoch(stored_instant(instant)) == math.floor(instant.timestamp())


CHARACTERS = "0123456789:-+.TZ x\u0663"


@given(
    position=st.integers(min_value=0, max_value=31),
    character=st.sampled_from(CHARACTERS),
    fraction=st.booleans(),
    removed=st.booleans(),
)
@example(position=14, character="6", fraction=False, removed=False)  # minute 60
@example(position=17, character="6", fraction=False, removed=False)  # second 60
@example(position=21, character="\u0663", fraction=True, removed=False)  # an Arabic-Indic digit
@example(position=23, character="3", fraction=False, removed=False)  # offset +01:30
@example(position=5, character="1", fraction=False, removed=False)  # month 13
def test_stored_instants_never_take_what_the_full_parse_refuses(
    position: int, character: str, fraction: bool, removed: bool
) -> None:
    """A changed character anywhere: stored as the full parse would, or left to it (None), never accepted."""
    text = "2026-03-01T10:15:30.123456+01:00" if fraction else "2026-03-01T10:15:30+01:00"
    position = min(position, len(text) - 1)
    changed = text[:position] + ("" if removed else character) + text[position + 1 :]
    stored = StoredInstants().stored(changed)
    assert stored is None or stored == _reference(changed)


def _record() -> dict[str, Any]:
    """A ticket record as an export writes it: every field, every nested table."""
    at = "2026-11-23T10:00:00+00:00"
    return {
        "id": 12,
        "subject": "Invoice sent to old address",
        "body": "Line one\nLine two",
        "kind": "complaint",
        "channel": "email",
        "priority": "high",
        "customer_name": "Ann Lee",
        "customer_email": "ann@example.com",
        "customer_phone": "+44 (0)20 7946 0958",
        "customer_phone_key": "stale",
        "org": None,
        "category": "billing",
        "tags": ["vip", "login"],
        "watchers": [],
        "owner": "alice",
        "tier": 1,
        "status": "acknowledged",
        "received_at": "2026-11-23T09:59:58.250000+00:00",
        "logged_at": at,
        "updated_at": "2026-11-24T11:00:00+00:00",
        "waiting_since": None,
        "resolved_at": None,
        "closed_at": None,
        "expected_by": "2027-02-26T17:00:00+00:00",
        "expected_reason": "Parts",
        "rating": None,
        "policy_version": 1,
        "rule_number": 2,
        "next_due_at": None,
        "next_target": None,
        "purged_at": None,
        "reference": None,
        "targets": [
            {
                "name": "acknowledge",
                "duration": "1wd",
                "started_at": at,
                "due_at": "2026-11-24T10:00:00+00:00",
                "met_at": "2026-11-23T11:00:00+00:00",
                "state": "met",
                "paused_at": None,
                "paused_working_seconds": 0,
                "source": "policy",
                "met_working_seconds": 3600,
            },
            {
                "name": "resolve",
                "duration": "10wd",
                "started_at": at,
                "due_at": "2026-12-07T10:00:00+00:00",
                "met_at": None,
                "state": "pending",
                "paused_at": None,
                "paused_working_seconds": 0,
                "source": "policy",
                "met_working_seconds": None,
            },
        ],
        "events": [
            {"at": at, "actor": "alice", "kind": "logged", "text": "Invoice sent", "data": {"rule": 2}},
            {"at": at, "actor": "alice", "kind": "acknowledged", "text": "", "data": None},
            {"at": at, "actor": "cron", "kind": "note", "text": "x", "data": "not json"},
        ],
        "automation_marks": [{"key": "escalate:12:resolve", "at": at}],
        "notices": [],
        "mail_messages": [
            {
                "message_key": "<m1@example.com>",
                "at": at,
                "from_address": "ann@example.com",
                "subject": "Re: invoice",
                "outcome": "attached",
                "reason": "",
            }
        ],
    }


def _full(record: dict[str, Any]) -> Any:
    """The full path's stored rows, or its message."""
    try:
        return from_values(load_ticket(copy.deepcopy(record), "line 3"))
    except InvalidInput as exc:
        return str(exc)


def _quick(record: dict[str, Any]) -> Any:
    try:
        return StoredRows().ticket(record, "line 3")
    except InvalidInput as exc:
        return str(exc)


def test_an_exported_record_takes_the_quick_path_and_gives_the_full_paths_rows() -> None:
    record = _record()
    quick = StoredRows().quick(record)
    assert quick is not None
    assert quick == _full(record)
    assert quick.ticket[9] == "859064970244"  # the phone key, derived: its digits, "(0)" dropped, reversed
    names = [row[0] for row in quick.children["targets"]]
    assert names == ["acknowledge", "resolve"] and quick.id == 12
    assert quick.children["events"][0][4] == '{"rule": 2}'


# Values that break, or merely change, a field: the quick path must leave each to load_ticket, or agree with it.
ODD_VALUES = (None, True, 1.5, 0, -1, 6, 2**31, "", "x", "2026-11-23T10:00:00", "2026-11-23T10:00:00+05:30", [], {})
ODD_TAGS = (["a"], ["", "b"], ["a,b"], [1], [None])
FIELDS = tuple(_record())
CHILD_FIELDS = {key: tuple(_record()[key][0]) for key in ("targets", "events", "automation_marks", "mail_messages")}


@st.composite
def changed_records(draw: st.DrawFn) -> dict[str, Any]:
    record = _record()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(st.sampled_from(("set", "drop", "extra", "child set", "child drop", "child extra", "child")))
        if action.startswith("child"):
            key = draw(st.sampled_from(sorted(CHILD_FIELDS)))
            rows = record.get(key)
            if action == "child":
                record[key] = draw(st.sampled_from((None, "x", {}, [1], [None])))
                continue
            if not (isinstance(rows, list) and rows and isinstance(rows[0], dict)):
                continue  # replaced by an earlier change
            row = rows[draw(st.integers(min_value=0, max_value=len(rows) - 1))]
            name = draw(st.sampled_from(CHILD_FIELDS[key]))
            if action == "child set":
                row[name] = draw(st.sampled_from((*ODD_VALUES, {"k": [1, None]}, {"k": 2**70})))
            elif action == "child drop":
                row.pop(name, None)
            else:
                row["surprise"] = 1
        else:
            name = draw(st.sampled_from(FIELDS))
            if action == "set":
                record[name] = draw(st.sampled_from((*ODD_VALUES, *ODD_TAGS)))
            elif action == "drop":
                record.pop(name, None)
            else:
                record["surprise"] = 1
    return record


@settings(max_examples=400)
@given(record=changed_records())
@example(record={**_record(), "status": "bogus"})
@example(record={**_record(), "subject": 5})
@example(record={**_record(), "tags": ["a,b"]})
@example(record={**_record(), "watchers": [""]})
@example(record={**_record(), "rating": 9})
@example(record={**_record(), "id": 0})
@example(record={**_record(), "tier": True})
@example(record={**_record(), "body": None})
@example(record={**_record(), "tags": None})
@example(record={**_record(), "received_at": "2026-11-23T10:00:00+05:30"})
def test_the_quick_path_gives_the_full_paths_rows_or_message(record: dict[str, Any]) -> None:
    assert _quick(record) == _full(record)


def test_a_bad_record_gets_the_full_paths_message_naming_where_it_is() -> None:
    record = _record()
    record["targets"][1]["state"] = "lost"
    with pytest.raises(InvalidInput, match=r"^line 3 \(ticket #12\) targets\[1\]: state: unknown state 'lost'$"):
        StoredRows().ticket(record, "line 3")
    record = _record()
    record["events"][0]["at"] = "2026-11-23T10:61:00+00:00"
    with pytest.raises(InvalidInput, match=r"^line 3 \(ticket #12\) events\[0\]: at: .* is not an ISO 8601 instant"):
        StoredRows().ticket(record, "line 3")


@given(
    instants=st.lists(
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
        min_size=1,
        max_size=20,
    )
)
@example(instants=[datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)])
def test_working_times_know_each_instants_year_in_any_order(instants: list[datetime]) -> None:
    """The calendar of a met time is its UTC year's: the remembered year never answers for another one."""
    from supportcli.store.met_durations import WorkingTimes

    # year_of reads no database: no connection is needed, and none is given.
    times = WorkingTimes(connection=None)  # type: ignore[arg-type]
    for instant in instants:
        assert times.year_of(instant.timestamp()) == instant.year
