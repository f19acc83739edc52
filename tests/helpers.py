"""Small helpers shared by the tests: fixed instants, the injected clock, logging and showing a ticket,
success and refusal checks, the isolated directories, and store snapshots."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from typer.testing import Result

Cli = Callable[..., Result]
Snapshot = dict[str, Any]

# Fixed instants (UTC, which is GMT in late November): the week the README's tour happens in.
MON_1000 = "2026-11-23T10:00:00+00:00"  # a Monday, 10:00
MON_1100 = "2026-11-23T11:00:00+00:00"
MON_1200 = "2026-11-23T12:00:00+00:00"
TUE_1000 = "2026-11-24T10:00:00+00:00"
MONDAY_10 = datetime.fromisoformat(MON_1000)  # MON_1000 as an instant, for tests below the CLI


def at(now: str, **extra: str) -> dict[str, str]:
    """The environment of one call: the injected clock, plus anything else."""
    return {"SUPPORTCLI_NOW": now, **extra}


def ok(result: Result) -> Result:
    """The command succeeded and printed no traceback."""
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.output
    return result


def refused(result: Result, exit_code: int, *fragments: str) -> str:
    """A clean refusal: the exit code, one line on stderr naming what was wrong, nothing on stdout; the line."""
    assert result.exit_code == exit_code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def log(cli: Cli, subject: str, *options: str, now: str = MON_1000) -> int:
    """Log a ticket with ``-q`` and return its id."""
    return int(ok(cli("log", subject, *options, "-q", env=at(now))).stdout.strip())


def show(cli: Cli, ticket_id: int, now: str = MON_1000) -> dict[str, Any]:
    """A ticket as ``show --json`` gives it."""
    return json.loads(ok(cli("show", str(ticket_id), "--json", env=at(now))).stdout)


def isolated_directories(base: Path) -> dict[str, str]:
    """The variables that give supportcli its own data, config and cache directories under ``base``."""
    return {
        "SUPPORTCLI_DATA_DIR": str(base / "user-data"),
        "SUPPORTCLI_CONFIG_DIR": str(base / "user-config"),
        "SUPPORTCLI_CACHE_DIR": str(base / "cache"),
    }


def snapshot_of(url: str) -> Snapshot:
    """Every table of a store with its columns and all its rows (sorted), as plain Python values.

    The same on SQLite and PostgreSQL, so "a refused command changed nothing" is one comparison on
    both. A SQLite file that does not exist yet is an empty store (reading never creates it).
    """
    from sqlalchemy import MetaData, create_engine, select
    from sqlalchemy.pool import NullPool

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    engine = create_engine(url, poolclass=NullPool)
    try:
        metadata = MetaData()
        with engine.connect() as connection, warnings.catch_warnings():
            # The index on lower(customer_email) is an expression SQLAlchemy does not reflect; the rows are what count.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            metadata.reflect(connection)
            return {
                name: {
                    "columns": sorted(column.name for column in table.columns),
                    "rows": sorted((tuple(row) for row in connection.execute(select(table))), key=repr),
                }
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


# What each schema step of store/migrations.py added, undone: how tests make a store "made by an older program"
# from a new one. Every migration has an entry (tests/store/test_migrations.py checks), newest last.
UNDO_MIGRATION: dict[int, tuple[str, ...]] = {
    2: (),  # the mail gateway's columns and tables: no test downgrades below version 2
    3: ("DROP INDEX ix_events_kind_at",),
    4: ("ALTER TABLE tickets DROP COLUMN next_target",),
    5: (  # the search index and the customer lookups
        "DROP INDEX ix_tickets_customer_phone_key",
        "DROP INDEX ix_tickets_customer_email",
        "ALTER TABLE tickets DROP COLUMN customer_phone_key",
        "DROP TABLE IF EXISTS ticket_search",
    ),
    6: ("ALTER TABLE policy_versions DROP COLUMN applies_by",),
    7: (  # ticket references and imported files
        "DROP INDEX ix_tickets_reference",
        "ALTER TABLE tickets DROP COLUMN reference",
        "DROP TABLE imported_files",
    ),
    8: (  # met targets keep their working time
        "DROP INDEX ix_targets_met_unmeasured",
        "ALTER TABLE targets DROP COLUMN met_working_seconds",
    ),
}


def downgrade(connection: Any, to_version: int) -> None:
    """Undo every schema step after ``to_version`` on a new store (newest first) and record ``to_version``, as a
    store made by that older program; the next open must migrate it."""
    from sqlalchemy import text

    for version in sorted(UNDO_MIGRATION, reverse=True):
        if version > to_version:
            for statement in UNDO_MIGRATION[version]:
                connection.execute(text(statement))
    connection.execute(text(f"UPDATE supportcli_meta SET value = '{to_version}' WHERE key = 'schema_version'"))


def execute(url: str, statement: str) -> None:
    """One SQL statement on a store, as another program would run it (its own connection, committed)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


# pg_locks shows the whole server's locks, and tests run in parallel, each on its own PostgreSQL database: a test
# looking at advisory locks adds this condition, so another test's writers and lock holders are never its own.
OWN_DATABASE_LOCKS = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll (briefly) until something outside the test has happened (a server received a message, a process
    started); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("what was waited for did not happen in time")
        time.sleep(0.02)
