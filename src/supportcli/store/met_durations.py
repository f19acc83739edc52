"""Met targets' working times (``Target.met_working_seconds``) written in bulk: by the schema 8 migration for
the targets a store already holds, and by a dump import for the targets it writes.

A single change (``ack``, ``update``, ``resolve``…) writes the value in ``store.tickets``; here many targets are
handled at once in epoch seconds, with one calendar per policy version and year, so no datetime and no ORM
object is built per row. The calendar is the one spanning the years around the target's met time, as
``store.tickets`` uses for the change that meets it (README "Reports").
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from supportcli.core.calendar import WorkingCalendar, calendar_for
from supportcli.core.tickets import met_working_seconds
from supportcli.errors import NotFound

# Targets read and updated per statement by the migration: few round trips, bounded memory.
DERIVE_BATCH = 20_000


class WorkingTimes:
    """The working time of met targets, from epoch seconds, with each policy version's calendar built once."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._calendars: dict[tuple[int, int], WorkingCalendar] = {}
        self._year = (0.0, 0.0, 0)  # the last year asked for: its first and its next year's first second (UTC)

    def year_of(self, instant: float) -> int:
        """The UTC year of an epoch instant; the last one is remembered, as most of a run's are in the same year."""
        start, end, year = self._year
        if not start <= instant < end:
            year = datetime.fromtimestamp(instant, UTC).year
            start = datetime(year, 1, 1, tzinfo=UTC).timestamp()
            end = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() if year < 9999 else float("inf")
            self._year = (start, end, year)
        return year

    def calendar(self, version: int, met_at: float) -> WorkingCalendar:
        """The calendar of a policy version spanning the years around ``met_at``."""
        year = self.year_of(met_at)
        found = self._calendars.get((version, year))
        if found is None:
            from supportcli.core.policy import load_policy

            source = self.connection.execute(
                text("SELECT source FROM policy_versions WHERE version = :version"), {"version": version}
            ).scalar()
            if source is None:
                raise NotFound(f"policy version {version} is missing")
            policy = load_policy(source, f"policy version {version}")
            found = self._calendars[(version, year)] = calendar_for(policy.calendar, year)
        return found

    def seconds(self, version: int, received_at: float, met_at: float, paused_seconds: int) -> int:
        """``core.tickets.met_working_seconds`` on the ticket's policy version's calendar."""
        return met_working_seconds(self.calendar(version, met_at), received_at, met_at, paused_seconds)


def _epoch(column: str, connection: Connection) -> str:
    """Whole epoch seconds of a stored UTC instant, in SQL: ``store.types.EpochSeconds`` compiled for this engine
    (the statement here is written out, as a migration's must be, but the conversion is declared once)."""
    from sqlalchemy import literal_column

    from supportcli.store.types import EpochSeconds

    return str(EpochSeconds(literal_column(column)).compile(dialect=connection.dialect))


def derive_met_working_seconds(connection: Connection) -> int:
    """Write the working time of every met target that lacks one; returns how many were written.

    Read by id ranges (keyset) and written with one executemany per batch, so memory stays flat on a store of
    millions of targets.
    """
    select_batch = text(
        "SELECT targets.id, tickets.policy_version, "
        f"{_epoch('tickets.received_at', connection)}, {_epoch('targets.met_at', connection)}, "
        "targets.paused_working_seconds "
        "FROM targets JOIN tickets ON tickets.id = targets.ticket_id "
        "WHERE targets.id > :last AND targets.met_at IS NOT NULL AND targets.met_working_seconds IS NULL "
        "ORDER BY targets.id LIMIT :batch"
    )
    update = text("UPDATE targets SET met_working_seconds = :seconds WHERE id = :id")
    times = WorkingTimes(connection)
    last, written = 0, 0
    while True:
        rows = connection.execute(select_batch, {"last": last, "batch": DERIVE_BATCH}).all()
        if not rows:
            return written
        values = [
            {"id": target_id, "seconds": times.seconds(version, received_at, met_at, paused)}
            for target_id, version, received_at, met_at, paused in rows
        ]
        connection.execute(update, values)
        written += len(values)
        last = rows[-1][0]
