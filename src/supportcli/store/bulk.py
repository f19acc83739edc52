"""Bulk writes for a dump import: rows handed to the database driver as plain tuples, many at a time.

An import of a million tickets writes some ten million rows. Through the ORM, or even through SQLAlchemy Core
with its per-value type processing, that is minutes of Python; here each instant is put in its stored form once
and the rows go to the driver in one call per batch: ``executemany`` of one prepared INSERT on SQLite, ``COPY
... FROM STDIN`` on PostgreSQL (psycopg's ``Cursor.copy``). Everything stays inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
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

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows already in their stored form (``store.dump_rows``: instants as UTC text) in one driver call.

        PostgreSQL's COPY reads that text into its ``timestamp`` columns as SQLite keeps it, so no value is
        converted here.
        """
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            self._copy(table, names, rows)
        else:
            # The driver's own executemany on the session's connection (so in its transaction): SQLAlchemy's
            # would want each row as a tuple, a copy of every row.
            marks = ", ".join("?" * len(columns))
            statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            cursor = self.connection.connection.cursor()
            try:
                with self._as_sqlalchemy_errors(statement):
                    cursor.executemany(statement, rows)
            finally:
                cursor.close()

    def _copy(self, table: str, names: str, rows: Sequence[Sequence[Any]]) -> None:
        """PostgreSQL's COPY over the session's own connection (so in its transaction)."""
        driver = self.connection.connection.driver_connection
        statement = f"COPY {table} ({names}) FROM STDIN"
        # SQLAlchemy types the driver's connection as optional (a pool may hold none); a live session's has one.
        with self._as_sqlalchemy_errors(statement), driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def _as_sqlalchemy_errors(self, statement: str) -> Iterator[None]:
        """The driver's own errors raised as SQLAlchemy raises them for its statements (``OperationalError``,
        ``IntegrityError``…, the driver's error as ``orig``), so a full disk, a lock or a clash met by a bulk
        write is reported like any other write's (``store.database.translate_errors``: one line, exit 5)."""
        dbapi = self.connection.dialect.loaded_dbapi
        try:
            yield
        except dbapi.Error as exc:
            raise DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=self.connection.dialect) from exc


class SecondaryIndexes:
    """The non-unique indexes of some tables, dropped while an empty store is filled and made again after.

    Building an index once over the filled table is several times faster than keeping it current row by row
    (``benchmarks/build_store.py`` does the same). Each is made again from its own definition as the database
    reports it, so it comes back exactly as it was; unique indexes stay, so a duplicate is still refused as
    its row is written. Dropping and creating are both inside the caller's transaction: a refused import
    leaves them as they were.
    """

    def __init__(self, connection: Connection, tables: Sequence[str]) -> None:
        self.connection = connection
        self.dropped: list[tuple[str, str]] = []
        self.tables = tuple(tables)

    def _definitions(self) -> list[tuple[str, str]]:
        if not self.tables:
            return []
        names = ", ".join(f"'{name}'" for name in self.tables)
        if self.connection.dialect.name == "postgresql":
            sql = (
                "SELECT indexname, indexdef FROM pg_indexes "
                f"WHERE schemaname = current_schema() AND tablename IN ({names}) ORDER BY indexname"
            )
        else:
            sql = (
                "SELECT name, sql FROM sqlite_master "
                f"WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names}) ORDER BY name"
            )
        rows = self.connection.exec_driver_sql(sql).all()
        return [(name, definition) for name, definition in rows if not _is_unique(definition)]

    def drop(self) -> None:
        """Drop the non-unique indexes of the tables (remembering how to make each again)."""
        self.dropped = self._definitions()
        for name, _ in self.dropped:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        """Make the dropped indexes again, each from its own definition."""
        for _, definition in self.dropped:
            self.connection.exec_driver_sql(definition)
        self.dropped = []


def _is_unique(definition: str) -> bool:
    return definition.lstrip().upper().startswith("CREATE UNIQUE")
