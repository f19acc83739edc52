"""The object every command receives: environment, clock, acting user, store and output.

Like httpie's Environment, it is the one thing tests replace; commands never
read ``os.environ`` or the system clock themselves.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from supportcli.errors import InvalidInput
from supportcli.render.output import Output

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.policy import Policy
    from supportcli.locations import StoreLocation
    from supportcli.store.database import Store
    from supportcli.store.models import PolicyVersion


@dataclass
class AppContext:
    """Per-invocation state shared by all commands."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    db_option: str | None = None
    actor_option: str | None = None
    debug: bool = False
    output: Output = field(default_factory=Output)
    _store: Store | None = None
    _config: dict | None = None
    _now: datetime | None = None

    @property
    def actor(self) -> str:
        """Who is acting: ``--as``, then ``SUPPORTCLI_USER``, then the login name."""
        name = self.actor_option or self.env.get("SUPPORTCLI_USER")
        if not name:
            try:
                name = getpass.getuser()
            except (KeyError, OSError):
                name = "unknown"
        return name.strip() or "unknown"

    @property
    def config(self) -> dict:
        """config.toml, read once."""
        if self._config is None:
            from supportcli.locations import load_config

            self._config = load_config(self.env)
        return self._config

    @property
    def location(self) -> StoreLocation:
        """Where the store is (see supportcli.locations)."""
        from supportcli.locations import resolve_store

        return resolve_store(self.db_option, self.env, self.config)

    def store(self) -> Store:
        """The store, opened (and created on first use) once per invocation."""
        if self._store is None:
            from supportcli.core import calendar_cache
            from supportcli.core.policy import default_policy_source
            from supportcli.locations import cache_dir
            from supportcli.store.database import open_store

            calendar_cache.configure(cache_dir(self.env))

            self._store = open_store(self.location, self.env, default_policy_source, self._raw_now(), self.actor)
        return self._store

    def close(self) -> None:
        """Release the store's connections."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def _env_now(self) -> datetime | None:
        """``SUPPORTCLI_NOW`` parsed (possibly naive), or None when unset."""
        text = self.env.get("SUPPORTCLI_NOW", "").strip()
        if not text:
            return None
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidInput(
                f"bad SUPPORTCLI_NOW {text!r}: use an ISO 8601 instant like 2026-11-23T10:00+00:00"
            ) from exc

    def _raw_now(self) -> datetime:
        """The current instant before the policy is known (a naive ``SUPPORTCLI_NOW`` read as UTC)."""
        value = self._env_now() or datetime.now(UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The current instant: ``SUPPORTCLI_NOW`` (naive = the policy's timezone) or the system clock."""
        if self._now is None:
            value = self._env_now() or datetime.now(UTC)
            if value.tzinfo is None:
                from zoneinfo import ZoneInfo

                value = value.replace(tzinfo=ZoneInfo(self.newest_policy().calendar.timezone))
            self._now = value
        return self._now

    def newest_policy(self) -> Policy:
        """The most recently set policy (for its timezone when no date is known yet)."""
        from supportcli.store.policies import newest_version, parsed

        with self.store().read() as session:
            return parsed(newest_version(session))

    def policy_at(self, at: datetime) -> tuple[PolicyVersion, Policy]:
        """The policy version in effect for something received at ``at``."""
        from supportcli.store.policies import parsed, version_in_effect

        with self.store().read() as session:
            row = version_in_effect(session, at)
        return row, parsed(row)

    def calendar(self, policy: Policy) -> WorkingCalendar:
        """The precomputed working calendar of a policy around the current year."""
        from supportcli.core.calendar import calendar_for

        return calendar_for(policy.calendar, self.now().year)
