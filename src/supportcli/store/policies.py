"""Policy versions in the store: every version kept, the one in effect chosen by date."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from supportcli.core.calendar import WorkingCalendar, calendar_for
from supportcli.core.policy import Policy, load_policy
from supportcli.errors import NotFound
from supportcli.store.models import PolicyVersion


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


def version_in_effect(session: Session, at: datetime) -> PolicyVersion:
    """The version that applies to something received at ``at`` (docs/policy.md, ``--effective``)."""
    statement = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_at <= at)
        .order_by(col(PolicyVersion.effective_at).desc(), col(PolicyVersion.version).desc())
        .limit(1)
    )
    row = session.exec(statement).first()
    if row is None:
        # Only when every version takes effect in the future: the earliest one serves.
        row = session.exec(select(PolicyVersion).order_by(col(PolicyVersion.version)).limit(1)).one()
    return row


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
    session: Session, policy: Policy, source: str, effective_at: datetime, set_at: datetime, set_by: str, note: str
) -> PolicyVersion:
    """Record a new version (call inside a write transaction)."""
    row = PolicyVersion(
        name=policy.name, source=source, effective_at=effective_at, set_at=set_at, set_by=set_by, note=note
    )
    session.add(row)
    session.flush()
    return row
