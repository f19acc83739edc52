"""The object every command receives: its environment, the acting user, the store and output.

Built from the run's ``Environment`` (supportcli.cli.environment: streams, terminal, colour,
variables, directories, clock), which is the one thing tests replace; commands never read
``os.environ``, the standard streams or the system clock themselves.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from supportcli.cli.environment import Environment
from supportcli.render.output import Output

if TYPE_CHECKING:
    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.policy import Policy
    from supportcli.locations import StoreLocation
    from supportcli.store.database import Store
    from supportcli.store.models import PolicyVersion


def _freeze_the_imports() -> None:
    """Move every object alive now (the modules, classes and tables imported to open the store, which live
    until the process exits) out of the garbage collector's full passes.

    A listing of thousands of rows allocates enough to set off a full collection, and on a store with a
    13,108-row backlog that one pass over the imported objects cost 66 ms of an ``overdue --json`` run
    (benchmarks/README.md); frozen, they are not walked again. Only for a run that is the whole process: in
    tests, ``main`` is called again and again in one process, whose garbage would be kept for ever.
    """
    import gc

    gc.freeze()


@dataclass
class AppContext:
    """Per-invocation state shared by all commands."""

    environment: Environment = field(default_factory=Environment)
    db_option: str | None = None
    actor_option: str | None = None
    debug: bool = False
    output: Output = field(init=False)
    _store: Store | None = None
    _config: dict[str, Any] | None = None
    _now: datetime | None = None
    _notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """A note for the user on how their input was read, said on stderr once the command has succeeded (a
        refused command says only its one error line, README "Exit codes")."""
        self._notes.append(text)

    def say_notes(self) -> None:
        """Say the notes of a command that succeeded."""
        for text in self._notes:
            self.output.message(f"note: {text}")
        self._notes.clear()

    def __post_init__(self) -> None:
        environment = self.environment
        self.output = Output(
            environment.stdout, environment.stderr, is_terminal=environment.stdout_isatty, colour=environment.colour
        )

    @property
    def env(self) -> Mapping[str, str]:
        """The run's environment variables."""
        return self.environment.variables

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
    def config(self) -> dict[str, Any]:
        """config.toml, read once."""
        if self._config is None:
            from supportcli.locations import load_config

            self._config = load_config(self.environment.config_dir)
        return self._config

    @property
    def location(self) -> StoreLocation:
        """Where the store is (see supportcli.locations)."""
        from supportcli.locations import resolve_store

        return resolve_store(self.db_option, self.env, self.config, self.environment.data_dir)

    def store(self) -> Store:
        """The store, opened (and created on first use) once per invocation."""
        if self._store is None:
            from supportcli.core import calendar_cache
            from supportcli.core.policy import default_policy_source
            from supportcli.store.database import open_store

            calendar_cache.configure(self.environment.cache_dir)

            self._store = open_store(self.location, self.env, default_policy_source, self._raw_now(), self.actor)
            if self.environment.whole_process:
                _freeze_the_imports()
        return self._store

    def close(self) -> None:
        """Release the store's connections."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def _raw_now(self) -> datetime:
        """The current instant before the policy is known (a naive ``SUPPORTCLI_NOW`` read as UTC)."""
        value = self.environment.clock()
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The current instant from the environment's clock (naive ``SUPPORTCLI_NOW`` = the policy's timezone)."""
        if self._now is None:
            value = self.environment.clock()
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
        """The policy version a ticket received at ``at`` and logged now would take (``at`` = now: the one in
        effect now)."""
        from supportcli.store.policies import parsed, version_for_ticket

        with self.store().read() as session:
            row = version_for_ticket(session, at, self.now())
        return row, parsed(row)

    def calendar(self, policy: Policy) -> WorkingCalendar:
        """The precomputed working calendar of a policy around the current year."""
        from supportcli.core.calendar import calendar_for

        return calendar_for(policy.calendar, self.now().year)
