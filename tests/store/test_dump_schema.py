"""The dump's instants: the fast per-hour offset lookup writes exactly what converting each instant would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from supportcli.store.dump_schema import LocalInstants

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
