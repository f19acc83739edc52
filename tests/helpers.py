"""Small helpers shared by the CLI tests: the injected clock, success checks, and store snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

Cli = Callable[..., Result]
Snapshot = dict[str, Any]


def at(now: str, **extra: str) -> dict[str, str]:
    """The environment of one call: the injected clock, plus anything else."""
    return {"SUPPORTCLI_NOW": now, **extra}


def ok(result: Result) -> Result:
    """The command succeeded and printed no traceback."""
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.output
    return result


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
        with engine.connect() as connection:
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
