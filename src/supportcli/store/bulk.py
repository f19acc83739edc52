"""Bulk writes for a dump import: rows handed to the database driver as plain tuples, many at a time.

An import of a million tickets writes some ten million rows. Through the ORM, or even through SQLAlchemy Core
with its per-value type processing, that is minutes of Python; here each instant is put in its stored form once
and the rows go to the driver in one call per batch: ``executemany`` of one prepared INSERT on SQLite, ``COPY
... FROM STDIN`` on PostgreSQL (psycopg's ``Cursor.copy``). Everything stays inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from supportcli.store.types import UTCDateTime

Row = Mapping[str, Any]


def _sqlite_instant(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DateTime stores for a UTCDateTime: UTC, always with six fraction digits.
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _postgres_instant(value: datetime | None) -> datetime | None:
    # A ``timestamp without time zone`` holding UTC, as UTCDateTime binds it.
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


class BulkWriter:
    """Writes rows of a table (dicts keyed by column name) straight to the driver, instants converted once."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.instant: Callable[[datetime | None], Any] = _postgres_instant if self.postgres else _sqlite_instant

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
        """Insert ``rows`` (each holding at least ``columns``) into ``table`` in one driver call."""
        if not rows:
            return
        instants = [index for index, name in enumerate(columns) if isinstance(table.c[name].type, UTCDateTime)]
        convert = self.instant
        tuples = []
        for row in rows:
            values = [row[name] for name in columns]
            for index in instants:
                values[index] = convert(values[index])
            tuples.append(tuple(values))
        names = ", ".join(columns)
        if self.postgres:
            self._copy(table.name, names, tuples)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", tuples)

    def _copy(self, table: str, names: str, rows: list[tuple[Any, ...]]) -> None:
        """PostgreSQL's COPY over the session's own connection (so in its transaction)."""
        driver = self.connection.connection.driver_connection
        # SQLAlchemy types the driver's connection as optional (a pool may hold none); a live session's has one.
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
