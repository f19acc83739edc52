"""The dump's writing side: the quick per-hour ways for instants write exactly what converting each instant would,
and event data is written so that an import stores the same text again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from supportcli.store.dump_schema import LocalInstants, _as_stored, _dump_data, encode_data, row_dumper

ZONES = ("Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "UTC")
# A clock change in London (BST ends 01:00 UTC) and Lord Howe's half-hour change (15:30 UTC).
CHANGES = (datetime(2026, 10, 25, 0, 59, 59, 999_999, tzinfo=UTC), datetime(2026, 10, 3, 15, 29, 59, tzinfo=UTC))


@given(
    zone=st.sampled_from(ZONES),
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
)
@example(zone="Europe/London", instant=CHANGES[0])
@example(zone="Europe/London", instant=CHANGES[0] + timedelta(microseconds=1))
@example(zone="Australia/Lord_Howe", instant=CHANGES[1])
@example(zone="Australia/Lord_Howe", instant=CHANGES[1] + timedelta(seconds=1))
@example(zone="Europe/London", instant=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
def test_local_instants_equal_each_instant_converted(zone: str, instant: datetime) -> None:
    formatter = LocalInstants(ZoneInfo(zone))
    expected = instant.astimezone(ZoneInfo(zone)).isoformat()
    assert formatter(instant) == expected
    assert (
        formatter(instant + timedelta(minutes=30))
        == (instant + timedelta(minutes=30)).astimezone(ZoneInfo(zone)).isoformat()
    )
    assert formatter(None) is None


def test_an_hour_with_a_clock_change_is_converted_instant_by_instant() -> None:
    # Lord Howe Island moves its clocks by half an hour at 15:30 UTC, inside an hour of UTC.
    formatter = LocalInstants(ZoneInfo("Australia/Lord_Howe"))
    assert formatter(CHANGES[1]) == "2026-10-04T01:59:59+10:30"
    assert formatter(CHANGES[1] + timedelta(seconds=1)) == "2026-10-04T02:30:00+11:00"
    london = LocalInstants(ZoneInfo("Europe/London"))  # London changes at 01:00 UTC, between two hours
    assert london(CHANGES[0]) == "2026-10-25T01:59:59.999999+01:00"
    assert london(CHANGES[0] + timedelta(microseconds=1)) == "2026-10-25T01:00:00+00:00"


# -- SQLite's stored text, the quick way ------------------------------------------------------------------------------

# Whole-hour zones with clock changes (London, New York), a half-hour and a quarter-hour zone (Kolkata, Chatham),
# half-hour changes (Lord Howe), a zone with seconds in its old offset (London before 1847), and UTC.
STORED_ZONES = (*ZONES, "America/New_York", "Asia/Kathmandu")
FIELDS = {"id": ("int", None), "a": ("at", None), "b": ("at?", None), "tags": ("tags", ""), "data": ("data", "")}


def stored(instant: datetime) -> str:
    """An instant as SQLite holds it: what SQLAlchemy writes for a ``UTCDateTime`` column."""
    return instant.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@given(
    zone=st.sampled_from(STORED_ZONES),
    instants=st.lists(
        st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC))
        | st.sampled_from(CHANGES).map(lambda change: change + timedelta(microseconds=1))
        | st.sampled_from(CHANGES),
        min_size=1,
        max_size=8,
    ),
    whole_seconds=st.booleans(),
)
@example(zone="Europe/London", instants=[CHANGES[0], CHANGES[0] + timedelta(microseconds=1)], whole_seconds=False)
@example(zone="Australia/Lord_Howe", instants=[CHANGES[1], CHANGES[1] + timedelta(seconds=1)], whole_seconds=True)
@example(zone="Asia/Kolkata", instants=[datetime(2026, 7, 1, 18, 45, tzinfo=UTC)], whole_seconds=True)
@example(zone="Europe/London", instants=[datetime(1840, 7, 1, 12, 0, 1, tzinfo=UTC)], whole_seconds=True)
def test_stored_text_is_written_as_each_instant_converted(
    zone: str, instants: list[datetime], whole_seconds: bool
) -> None:
    """The quick way (local hour in front, offset behind) and the row dumper's inline copy of it give exactly
    ``astimezone(zone).isoformat()``: fractions kept or left out as ``isoformat`` does, every hour whose offset
    is not whole hours or changes within it converted the slow way. Twice over, so cached hours are used too."""
    if whole_seconds:
        instants = [instant.replace(microsecond=0) for instant in instants]
    formatter = LocalInstants(ZoneInfo(zone))
    dump = row_dumper(FIELDS, formatter)
    expected = [instant.astimezone(ZoneInfo(zone)).isoformat() for instant in instants]
    for _ in range(2):
        assert [formatter(stored(instant)) for instant in instants] == expected
        rows = [dump((1, stored(instant), None, "", "")) for instant in instants]
        assert [row["a"] for row in rows] == expected and all(row["b"] is None for row in rows)
        # PostgreSQL's driver gives naive UTC datetimes: the same text.
        naive = [instant.replace(tzinfo=None) for instant in instants]
        assert [dump((1, value, value, "", ""))["b"] for value in naive] == expected


def test_text_not_as_sqlalchemy_stores_it_is_converted_the_slow_way() -> None:
    formatter = LocalInstants(ZoneInfo("Europe/London"))
    assert formatter("2026-07-01 12:00:16") == "2026-07-01T13:00:16+01:00"
    assert formatter("2026-07-01T12:00:16.000000") == "2026-07-01T13:00:16+01:00"  # 26 characters, but a T
    assert formatter("2026-07-01 12:00:16.000001") == "2026-07-01T13:00:16.000001+01:00"
    assert formatter.prefixes == {"2026-07-01 12": ("2026-07-01T13", "+01:00")}


def test_row_dumper_skips_leading_columns_and_converts_tags_and_data() -> None:
    dump = row_dumper(FIELDS, LocalInstants(UTC), skip=1)
    assert dump((99, 7, "2026-11-23 10:00:00.000000", None, ",vip,login,", '{"met": ["respond met"]}')) == {
        "id": 7,
        "a": "2026-11-23T10:00:00+00:00",
        "b": None,
        "tags": ["vip", "login"],
        "data": {"met": ["respond met"]},
    }
    assert dump((99, 8, "2026-11-23 10:00:00.000000", None, "", ""))["tags"] == []
    assert dump((99, 8, "2026-11-23 10:00:00.000000", None, "", ""))["data"] is None


@pytest.mark.parametrize(
    "data",
    [
        '{"x": NaN}',  # read by Python's json, not strict JSON: a dump (orjson) would write null
        '{"x": Infinity}',
        '{"x": 18446744073709551616}',  # beyond 64 bits: orjson would read a float
        '{"x": "\\ud800"}',  # a lone surrogate: no UTF-8 for it
        '{"b": 1, "a": 2}',  # not in the stored encoding's order
        "[1, 2]",  # not an object
        "plain text",
    ],
)
def test_event_data_orjson_cannot_write_back_exactly_is_dumped_as_its_text(data: str) -> None:
    _dump_data.cache_clear()
    assert _dump_data(data) == data
    encoded = orjson.dumps({"data": _dump_data(data)})
    assert json.loads(encoded)["data"] == data  # strict JSON, and the text comes back exactly


@given(
    data=st.dictionaries(
        st.text(max_size=5),
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**64 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=5),
        max_size=4,
    )
)
def test_event_data_as_an_object_reads_back_to_the_stored_text(data: dict[str, object]) -> None:
    """Whatever the dump writes for stored data, an import's encoding of what it reads is the stored text."""
    text = encode_data(data)
    dumped = _dump_data(text)
    read_back = orjson.loads(orjson.dumps({"data": dumped}))["data"]
    assert (encode_data(read_back) if isinstance(read_back, dict) else read_back) == text


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(data=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=4))
def test_the_export_checks_data_with_exactly_the_stored_encoding(data: dict[str, object]) -> None:
    assert _as_stored(data) == encode_data(data)
