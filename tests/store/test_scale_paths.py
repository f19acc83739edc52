"""The fast paths of large stores give what the straightforward ones give (benchmarks/README.md).

- ``EpochSeconds`` (epoch seconds computed by the database) is ``floor(timestamp)`` of the stored
  instant, on SQLite and PostgreSQL, so working durations from epoch positions equal
  ``working_seconds_between`` on the datetimes (property-tested through the database).
- The report's durations equal the datetime arithmetic, ticket by ticket.
- Plain, CSV and table listings read plain rows of tickets, whose ``next_target`` and ``next_due_at`` mirror
  the next pending target; each record equals the one rendered from whole ORM tickets with
  ``render.tickets`` (``countdown``, ``urgency_style``) and the next target picked by hand from the whole
  targets, ties and limits included; import and the schema-4 migration derive both themselves.
- One country's public holidays are loaded without importing every country module, and are the
  package's own.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import holidays
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select
from typer.testing import CliRunner, Result

from helpers import MONDAY_10 as NOW
from helpers import downgrade
from supportcli.cli.app import app
from supportcli.core.calendar import CalendarSpec, calendar_for
from supportcli.core.holiday_dates import public_holidays, supported_subdivisions
from supportcli.core.policy import default_policy_source
from supportcli.store.database import Store, open_store
from supportcli.store.types import EpochSeconds, UTCDateTime

CALENDAR = calendar_for(CalendarSpec(), 2026)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


instants = st.datetimes(
    min_value=datetime(2017, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)  # microseconds included: stored instants (met times) keep them


@PROPERTY_SETTINGS
@given(start=instants, end=instants)
# SQLite rounds fractions of a second to the millisecond: .9995 s once became the next whole second.
@example(start=datetime(2017, 1, 1, tzinfo=UTC), end=datetime(2017, 1, 1, 0, 0, 0, 999500, tzinfo=UTC))
def test_epoch_positions_from_the_database_give_the_datetime_working_time(
    store: Store, start: datetime, end: datetime
) -> None:
    with store.read() as session:
        start_seconds, end_seconds = session.execute(
            select(EpochSeconds(literal(start, UTCDateTime())), EpochSeconds(literal(end, UTCDateTime())))
        ).one()
    assert (start_seconds, end_seconds) == (math.floor(start.timestamp()), math.floor(end.timestamp()))
    by_position = int(CALENDAR.position(end_seconds) - CALENDAR.position(start_seconds))
    assert by_position == CALENDAR.working_seconds_between(start, end)


def _cli(store: Store) -> Callable[..., Result]:
    runner = CliRunner()
    location = store.location
    env = (
        {"SUPPORTCLI_DB": str(location.sqlite_path)}
        if location.sqlite_path
        else {"SUPPORTCLI_DATABASE_URL": location.url}
    )

    def invoke(now: datetime, *args: str) -> Result:
        result = runner.invoke(app, list(args), env={**env, "SUPPORTCLI_NOW": now.isoformat()})
        assert result.exit_code == 0, result.output
        return result

    return invoke


def _fill(store: Store) -> None:
    """Tickets in every state a listing meets: breached, due today, later, paused, met late, resolved."""
    cli = _cli(store)
    monday = datetime(2026, 11, 16, 9, 30, 12, 345678, tzinfo=UTC)  # microseconds, as real clocks give
    for day in range(6):
        received = monday + timedelta(days=day, hours=day)
        for kind, channel in (("complaint", "letter"), ("enquiry", "phone"), ("request", "email")):
            cli(received, "log", f"{kind} {day}", "--kind", kind, "--channel", channel, "-q")
    cli(monday + timedelta(hours=2), "ack", "1")
    cli(monday + timedelta(days=1), "update", "2", "-m", "called back")
    cli(monday + timedelta(days=2), "resolve", "3", "-m", "done")
    cli(monday + timedelta(days=3), "wait", "4")
    cli(monday + timedelta(days=3), "assign", "5", "priya")
    cli(monday + timedelta(days=4, minutes=7), "ack", "7")
    cli(monday + timedelta(days=6), "resolve", "8", "-m", "late but done")
    cli(NOW - timedelta(minutes=1), "ack", "16")


def test_report_durations_equal_the_datetime_arithmetic(store: Store) -> None:
    from supportcli.core.reporting import MEASURED_TARGETS, Period
    from supportcli.store.models import Target, Ticket
    from supportcli.store.reporting import ReportQuery, collect

    _fill(store)
    query = ReportQuery(period=Period(NOW - timedelta(days=30), NOW), now=NOW)
    with store.read() as session:
        figures = collect(session, query).groups["all"]
        expected: dict[str, list[int]] = {name: [] for name in MEASURED_TARGETS}
        rows = session.exec(
            select(Ticket.received_at, Target.name, Target.met_at, Target.paused_working_seconds)
            .join(Target, Target.ticket_id == Ticket.id)
            .where(Target.met_at.is_not(None), Target.name.in_(MEASURED_TARGETS))  # type: ignore[union-attr]
        )
        for received_at, name, met_at, paused in rows:
            expected[name].append(max(0, CALENDAR.working_seconds_between(received_at, met_at) - paused))
    assert any(expected.values())
    assert {name: sorted(figures.durations[name]) for name in MEASURED_TARGETS} == {
        name: sorted(values) for name, values in expected.items()
    }


def next_target(targets: list) -> object:  # type: ignore[type-arg]
    """The oracle: of targets in ``TARGET_NAMES`` (as ``targets_for`` gives them), the first pending one due
    earliest, picked without ``core.tickets.next_pending``."""
    pending = [t for t in targets if t.state == "pending" and t.due_at is not None]
    return min(pending, key=lambda t: t.due_at) if pending else None


def test_listing_records_equal_those_rendered_from_whole_tickets(store: Store) -> None:
    from sqlmodel import col

    from supportcli.cli.views import DueTimes, _listing_record
    from supportcli.render.output import Format
    from supportcli.render.tickets import countdown, local, urgency_style
    from supportcli.store.models import Ticket
    from supportcli.store.policies import parsed, version_in_effect
    from supportcli.store.queries import listing_rows, targets_for

    _fill(store)
    _tie(store, 6)
    policy = parsed(_newest(store, version_in_effect))
    calendar = calendar_for(policy.calendar, NOW.year)
    statement = select(Ticket).order_by(col(Ticket.id))
    with store.read() as session:
        tickets = list(session.exec(statement).scalars())
        whole = targets_for(session, [t.id or 0 for t in tickets])
        rows = list(listing_rows(session, statement, NOW))
        wide_rows = list(listing_rows(session, statement, NOW, wide=True))
    due_times = DueTimes(policy, calendar, NOW)
    styles = set()
    for ticket, row, wide_row in zip(tickets, rows, wide_rows, strict=True):
        target = next_target(whole.get(ticket.id or 0, []))
        record = _listing_record(wide_row, due_times, Format.CSV)
        styles.add(style := _listing_record(row, due_times, Format.TABLE)["style"])
        assert style == urgency_style(target, calendar, NOW)
        due_at = local(target.due_at, calendar) if target else None
        assert record == {
            "id": ticket.id,
            "subject": ticket.subject,
            "status": ticket.status,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "priority": ticket.priority,
            "owner": ticket.owner or "",
            "org": ticket.org or "",
            "tier": ticket.tier,
            "tier_name": policy.tiers[ticket.tier],
            "received_at": local(ticket.received_at, calendar).replace(microsecond=0),  # type: ignore[union-attr]
            "next_target": target.name if target else "",
            "due_at": due_at.replace(microsecond=0) if due_at else None,  # listings show whole seconds
            "left": countdown(target, calendar, NOW),
            # Whole minutes, truncated toward zero (90 s overdue is -1, as everywhere).
            "remaining_working_minutes": int(calendar.remaining_seconds(NOW, target.due_at) / 60)  # type: ignore[arg-type]
            if target
            else None,
            "style": None,
        }
        plain = _listing_record(row, due_times, Format.PLAIN)
        assert plain["due_at"] == (due_at.replace(microsecond=0).isoformat() if due_at else None)
    assert {"red", "yellow", None} <= styles


def _tie(store: Store, ticket_id: int) -> str:
    """Make a ticket's last pending target fall due with its first, as a change of targets does; its name.

    The first is then stored again, so it comes after the other in the ticket index: the tie is decided by
    ``TARGET_NAMES``, not by the order the rows come in.
    """
    from supportcli.store.models import Target, Ticket
    from supportcli.store.tickets import refresh_next_due

    with store.write() as session:
        targets = session.exec(select(Target).where(Target.ticket_id == ticket_id)).scalars()
        pending = sorted((t for t in targets if t.state == "pending"), key=lambda t: t.due_at)
        assert len(pending) >= 2
        first, last = pending[0], pending[-1]
        last.due_at = first.due_at
        session.add(last)
        copy = Target(**{**first.model_dump(), "id": None})
        session.delete(first)
        session.flush()
        session.add(copy)
        session.flush()
        ticket = session.get(Ticket, ticket_id)
        refresh_next_due(ticket, session.exec(select(Target).where(Target.ticket_id == ticket_id)).scalars().all())
        session.add(ticket)
        return last.name


def test_a_limited_listing_counts_tickets_and_a_tie_goes_to_the_earlier_target(store: Store) -> None:
    from supportcli.core.targets import TARGET_NAMES
    from supportcli.store.queries import due_statement, listing_rows

    _fill(store)
    later = _tie(store, 6)
    with store.read() as session:
        every = list(listing_rows(session, due_statement(), NOW))
        ids = [row[0] for row in every]
        assert len(ids) == len(set(ids)) > 3
        for limit in (1, 3, len(ids) + 5):
            assert list(listing_rows(session, due_statement(), NOW, limit=limit)) == every[:limit]
    tied = next(row for row in every if row[0] == 6)
    assert TARGET_NAMES.index(tied[5]) < TARGET_NAMES.index(later)


def test_import_derives_the_next_target_from_the_pending_targets() -> None:
    from supportcli.store.dump_schema import load_ticket

    def target(name: str, due: str, state: str) -> dict[str, str]:
        return {
            "name": name,
            "duration": "1wd",
            "started_at": "2026-11-20T09:00:00+00:00",
            "due_at": due,
            "state": state,
        }

    record = {
        "id": 7,
        "subject": "s",
        "received_at": "2026-11-20T09:00:00+00:00",
        "logged_at": "2026-11-20T09:00:00+00:00",
        "updated_at": "2026-11-20T09:00:00+00:00",
        "policy_version": 1,
        "next_due_at": "2030-01-01T00:00:00+00:00",  # wrong: listings must not trust it
        "next_target": "acknowledge",  # nor this
        "targets": [
            target("acknowledge", "2026-11-20T17:00:00+00:00", "met"),
            target("resolve", "2026-11-24T17:00:00+00:00", "pending"),
            target("respond", "2026-11-24T17:00:00+00:00", "pending"),  # due together: respond comes first
        ],
    }
    ticket = load_ticket(record, "line 1")["ticket"]
    assert (ticket["next_target"], ticket["next_due_at"]) == ("respond", datetime(2026, 11, 24, 17, tzinfo=UTC))
    record["targets"] = [target("resolve", "2026-12-04T17:00:00+00:00", "paused")]
    ticket = load_ticket(record, "line 1")["ticket"]
    assert (ticket["next_target"], ticket["next_due_at"]) == (None, None)


def _next_targets(store: Store) -> dict[int, tuple[str | None, datetime | None]]:
    from supportcli.store.models import Ticket

    with store.read() as session:
        rows = session.execute(select(Ticket.id, Ticket.next_target, Ticket.next_due_at)).all()
    return {ticket_id: (name, due_at) for ticket_id, name, due_at in rows}


def test_schema_version_4_names_the_next_target_of_every_ticket_as_the_program_does(store: Store) -> None:
    """Migration 4 on each backend: a store made before ``next_target`` gets the value each change gives."""

    _fill(store)
    tied = _tie(store, 6)
    expected = _next_targets(store)
    assert expected[6][0] not in (None, tied)  # the tie went to the earlier target
    assert {name for name, _ in expected.values()} >= {"acknowledge", "respond", "resolve", None}
    with store.write() as session:
        downgrade(session.connection(), 3)
    store.close()
    upgraded = open_store(store.location, {}, default_policy_source, NOW, "alice")
    try:
        assert _next_targets(upgraded) == expected
    finally:
        upgraded.close()


def _stored_working_times(store: Store) -> dict[int, int | None]:
    from supportcli.store.models import Target

    with store.read() as session:
        rows = session.execute(select(Target.id, Target.met_working_seconds).where(Target.met_at.is_not(None)))  # type: ignore[union-attr]
        return dict(rows.all())


def test_the_met_working_time_migration_derives_what_each_change_stored(store: Store) -> None:
    """The migration on each backend: a store made before ``met_working_seconds`` gets the value each change gives."""

    from supportcli.store.migrations import MIGRATIONS

    step = next(migration for migration in MIGRATIONS if migration.name == "met targets keep their working time")
    _fill(store)
    expected = _stored_working_times(store)
    assert len(expected) >= 5 and None not in expected.values() and any(expected.values())
    with store.write() as session:
        downgrade(session.connection(), step.version - 1)
    store.close()
    upgraded = open_store(store.location, {}, default_policy_source, NOW, "alice")
    try:
        assert _stored_working_times(upgraded) == expected
    finally:
        upgraded.close()


def _newest(store: Store, version_in_effect: Callable) -> object:  # type: ignore[type-arg]
    with store.read() as session:
        return version_in_effect(session, NOW)


@pytest.mark.parametrize(
    ("country", "subdivision"), [("GB", "ENG"), ("GB", "SCT"), ("UK", "NIR"), ("DE", "BY"), ("US", "CA"), ("FR", None)]
)
def test_one_country_holidays_are_the_package_own(country: str, subdivision: str | None) -> None:
    expected = holidays.country_holidays(country, subdiv=subdivision, years=range(2020, 2031))
    assert public_holidays(country, subdivision, 2020, 2030) == dict(expected.items())
    assert supported_subdivisions(country) == tuple(holidays.country_holidays(country).subdivisions)


def test_unknown_country_has_no_subdivisions() -> None:
    assert supported_subdivisions("XX") is None


def test_a_calendar_does_not_import_every_country_module() -> None:
    code = (
        "import sys; from supportcli.core.calendar import CalendarSpec, calendar_for; "
        "calendar_for(CalendarSpec(), 2026); "
        "print(sorted(m for m in sys.modules if m.startswith('holidays.countries')))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "['holidays.countries.united_kingdom']"
