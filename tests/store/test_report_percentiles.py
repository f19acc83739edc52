"""The report's working-time percentiles picked by the database equal ``core.reporting.percentile`` over every value.

An ungrouped report does not read every working time: a sample of the targets places a range of values around
each percentile's ranks, the database counts the values below each range and hands over only those inside, and
the values at the ranks come from those (benchmarks/README.md, "Whole-store report at 1M"). Here, on SQLite
and PostgreSQL, over random working times (ties, targets without one, other names, tickets outside the
period), the count, median and 90th percentile of every measured target equal the plain percentile of all the
cohort's values, exactly, whether the sample's ranges held the ranks or missed them (then every value is read).
The sampling constants are made small so that a few hundred targets take the path a million take.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update

from helpers import MONDAY_10 as NOW
from supportcli.core.reporting import MEASURED_TARGETS, Period, Timing, percentile
from supportcli.store import reporting
from supportcli.store.database import Store
from supportcli.store.models import Target, Ticket
from supportcli.store.reporting import ReportQuery, collect

FIRST_MONTH = NOW - timedelta(days=60)
SECOND_MONTH = NOW - timedelta(days=30)
NAMES = (*MEASURED_TARGETS, "update", "legal review")  # a name this version does not know among them
STATES = ("met", "breached", "pending")


# One target: its name, state, stored working time (None: not met) and whether its ticket is in the second month.
targets = st.tuples(
    st.sampled_from(NAMES),
    st.sampled_from(STATES),
    st.one_of(st.none(), st.integers(0, 40), st.integers(0, 2_000_000)),
    st.booleans(),
)


def _write(store: Store, rows: list[tuple[str, str, int | None, bool]]) -> None:
    """Replace the store's tickets with one ticket per target row (so any mix of names and states is possible)."""
    with store.write() as session:
        session.execute(delete(Target))
        session.execute(delete(Ticket))
        tickets, target_rows = [], []
        for number, (name, state, seconds, later) in enumerate(rows, start=1):
            received = (SECOND_MONTH if later else FIRST_MONTH) + timedelta(minutes=number)
            tickets.append(
                {
                    "id": number,
                    "subject": f"t{number}",
                    "received_at": received,
                    "logged_at": received,
                    "updated_at": received,
                    "policy_version": 1,
                }
            )
            target_rows.append(
                {
                    "ticket_id": number,
                    "name": name,
                    "duration": "1d",
                    "started_at": received,
                    "due_at": received + timedelta(days=1),
                    "state": state,
                    "met_at": received + timedelta(hours=1) if seconds is not None else None,
                    "met_working_seconds": seconds,
                }
            )
        if tickets:
            session.execute(insert(Ticket), tickets)
            session.execute(insert(Target), target_rows)


def _expected(rows: list[tuple[str, str, int | None, bool]], name: str, *, later_only: bool) -> Timing:
    values = [s for n, _, s, later in rows if n == name and s is not None and (later or not later_only)]
    return Timing(len(values), percentile(values, 50), percentile(values, 90))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(targets, min_size=150, max_size=400), margin=st.sampled_from([0, 1, reporting.SAMPLE_MARGIN]))
def test_picked_percentiles_equal_the_percentiles_of_every_value(
    store: Store, monkeypatch: pytest.MonkeyPatch, rows: list[tuple[str, str, int | None, bool]], margin: float
) -> None:
    # Every other ticket sampled, ranges from eight sampled values on; a margin of 0 often misses the ranks.
    monkeypatch.setattr(reporting, "SAMPLE_EVERY", 2)
    monkeypatch.setattr(reporting, "SAMPLE_MIN", 8)
    monkeypatch.setattr(reporting, "SAMPLE_MARGIN", margin)
    _write(store, rows)
    for since, later_only in ((FIRST_MONTH, False), (SECOND_MONTH, True)):
        # From the first month: every ticket (no cohort condition); from the second: the later tickets, joined.
        with store.read() as session:
            figures = collect(session, ReportQuery(Period(since, NOW), NOW)).groups.get("all")
        for name in MEASURED_TARGETS:
            timing = figures.timing(name) if figures else Timing(0, None, None)
            assert timing == _expected(rows, name, later_only=later_only), name


def test_the_ranges_do_hold_the_ranks_on_many_values(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Control for the property above: with enough values the sample's ranges are used (no second read of every
    # value), and still give the exact figures; a grouped report reads every value.
    import random

    monkeypatch.setattr(reporting, "SAMPLE_EVERY", 4)
    monkeypatch.setattr(reporting, "SAMPLE_MIN", 50)
    generator = random.Random(2026)
    rows = [
        (generator.choice(NAMES), generator.choice(STATES), int(generator.lognormvariate(9, 1.5)), True)
        for _ in range(3000)
    ]
    _write(store, rows)
    with store.read() as session:
        figures = collect(session, ReportQuery(Period(FIRST_MONTH, NOW), NOW)).groups["all"]
        grouped = collect(session, ReportQuery(Period(FIRST_MONTH, NOW), NOW, by="priority")).groups["normal"]
    assert set(figures.ranked) == set(MEASURED_TARGETS)
    assert not grouped.ranked
    for name in MEASURED_TARGETS:
        assert len(figures.ranked[name].at_rank) <= 4  # two ranks for each of the two percentiles
        assert figures.timing(name) == grouped.timing(name) == _expected(rows, name, later_only=False)


def test_targets_met_before_stored_working_times_are_worked_out(store: Store) -> None:
    # A met target without a stored working time (written by something that did not know the column) sends the
    # report down the path that works it out on the calendar, for every value.
    received = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday: 10:00 to 11:00 is one working hour
    rows = [("respond", "met", 3600, True), ("respond", "met", None, True)]
    _write(store, rows)
    with store.write() as session:
        session.execute(update(Target).values(met_at=received + timedelta(hours=1), started_at=received))
        session.execute(update(Ticket).values(received_at=received))
    with store.read() as session:
        figures = collect(session, ReportQuery(Period(received, NOW), NOW)).groups["all"]
    assert not figures.ranked
    assert figures.timing("respond") == Timing(2, 3600, 3600)
