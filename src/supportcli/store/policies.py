"""Policy versions in the store: every version kept; which one a ticket takes is decided here (docs/policy.md,
"Versions and --effective").

A version applies either to the tickets **logged** from its effective time on (set without ``--effective``:
the moment it was set), or to the tickets **received** from it on (set with ``--effective WHEN``). Of the
versions that apply to a ticket, the one that took effect last wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from supportcli.core.calendar import WorkingCalendar, calendar_for
from supportcli.core.policy import Policy, load_policy
from supportcli.errors import NotFound
from supportcli.store.models import PolicyVersion

# ``PolicyVersion.applies_by``: which of a ticket's instants is compared with the version's effective time.
BY_LOGGED = "logged"
"""Set without ``--effective``: every ticket logged from then on, whatever its received time."""
BY_RECEIVED = "received"
"""Set with ``--effective WHEN``: the tickets received from WHEN on (customers can be told in advance)."""
APPLIES_BY = (BY_LOGGED, BY_RECEIVED)


@lru_cache(maxsize=32)
def _parse(version: int, source: str) -> Policy:
    return load_policy(source, f"policy version {version}")


def parsed(row: PolicyVersion) -> Policy:
    """The validated Policy of a stored version (parsed once per process)."""
    return _parse(row.version or 0, row.source)


class PolicyBook:
    """The policy of each stored version with its calendar, by version number, each looked up once.

    A ticket's due times come from the version it records (``Ticket.policy_version``); a command or a cron
    run that reads many tickets keeps one book, so a version costs one query however many tickets name it.
    Calendars span the years around ``around_year`` (the year of now, or of the action).
    """

    def __init__(self, session: Session, around_year: int) -> None:
        self.session, self.around_year = session, around_year
        self._versions: dict[int, tuple[Policy, WorkingCalendar]] = {}

    def get(self, version: int) -> tuple[Policy, WorkingCalendar]:
        """The policy of a version and its calendar; NotFound (exit 3) when the store lacks the version."""
        found = self._versions.get(version)
        if found is None:
            row = get_version(self.session, version)
            if row is None:
                raise NotFound(f"policy version {version} is missing")
            policy = parsed(row)
            found = self._versions[version] = (policy, calendar_for(policy.calendar, self.around_year))
        return found

    def policy(self, version: int) -> Policy:
        """The policy of a version."""
        return self.get(version)[0]

    def calendar(self, version: int) -> WorkingCalendar:
        """The calendar of a version's policy."""
        return self.get(version)[1]


def version_for_ticket(session: Session, received_at: datetime, logged_at: datetime) -> PolicyVersion:
    """The version a ticket received at ``received_at`` and logged at ``logged_at`` takes: the one place that
    decides (``log``, ``import``, ``calendar due`` and everything about "now" ask here; docs/policy.md).

    A store holds a handful of versions, so they are read whole and ``pick_version`` chooses.
    """
    return pick_version(list(session.exec(select(PolicyVersion))), received_at, logged_at)


def pick_version(versions: Sequence[PolicyVersion], received_at: datetime, logged_at: datetime) -> PolicyVersion:
    """Of ``versions`` (every stored one), the version a ticket received at ``received_at`` and logged at
    ``logged_at`` takes. A CSV import reads the versions once and asks this for each of its rows.

    A version applies when its effective time is at or before the ticket's logging time (``logged`` versions)
    or its received time (``received`` versions); of those, the latest effective time wins, then the higher
    version number. A ticket older than every version that could apply takes the earliest version.
    """

    def applies(version: PolicyVersion) -> bool:
        compared = logged_at if version.applies_by == BY_LOGGED else received_at
        return version.effective_at <= compared

    applying = [version for version in versions if applies(version)]
    if applying:
        return max(applying, key=lambda version: (version.effective_at, version.version or 0))
    return min(versions, key=lambda version: version.version or 0)


def version_in_effect(session: Session, at: datetime) -> PolicyVersion:
    """The version in effect at ``at`` for a ticket received and logged then (``policy show``, ``purge``, the
    cron run's sender, ``policy history``'s "in effect")."""
    return version_for_ticket(session, at, at)


def overshadowed_by(session: Session, row: PolicyVersion) -> PolicyVersion | None:
    """A version that leaves ``row`` no ticket to apply to, or None: one that applies to every ticket logged
    from an effective time after ``row``'s (so it took effect later for every ticket ``row`` could take).
    ``policy set --effective`` with a time before such a version says so."""
    statement = (
        select(PolicyVersion)
        .where(
            col(PolicyVersion.applies_by) == BY_LOGGED,
            col(PolicyVersion.effective_at) > row.effective_at,
            col(PolicyVersion.version) != row.version,
        )
        .order_by(col(PolicyVersion.effective_at).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def newest_version(session: Session) -> PolicyVersion:
    """The most recently set version, whatever its effective date."""
    return session.exec(select(PolicyVersion).order_by(col(PolicyVersion.version).desc()).limit(1)).one()


def get_version(session: Session, version: int) -> PolicyVersion | None:
    """One stored version by number."""
    return session.get(PolicyVersion, version)


def all_versions(session: Session) -> list[PolicyVersion]:
    """Every version, oldest first."""
    return list(session.exec(select(PolicyVersion).order_by(col(PolicyVersion.version))))


def add_version(
    session: Session,
    policy: Policy,
    source: str,
    effective_at: datetime | None,
    set_at: datetime,
    set_by: str,
    note: str,
) -> PolicyVersion:
    """Record a new version (call inside a write transaction): without an effective time it applies to every
    ticket logged from ``set_at`` on; with one, to the tickets received from then on."""
    applies_by = BY_LOGGED if effective_at is None else BY_RECEIVED
    row = PolicyVersion(
        name=policy.name,
        source=source,
        effective_at=set_at if effective_at is None else effective_at,
        applies_by=applies_by,
        set_at=set_at,
        set_by=set_by,
        note=note,
    )
    session.add(row)
    session.flush()
    return row
