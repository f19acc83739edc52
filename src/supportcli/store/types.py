"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger, DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant stored as UTC; read back as an aware UTC datetime on every database.

    SQLite has no time zones, so the offset is normalised away on the way in
    and restored on the way out; sorting and range scans stay index-friendly.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EpochSeconds(FunctionElement[int]):
    """Whole epoch seconds (floored) of a ``UTCDateTime`` column, computed by the database.

    For code that handles many instants at once in epoch seconds (the working-time engine's own
    unit), so no datetime is built per row. The same value as ``math.floor(value.timestamp())``.
    """

    type = BigInteger()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(EpochSeconds)
def _epoch_seconds(element: EpochSeconds, compiler: Any, **kw: Any) -> str:
    # A timestamp without time zone holds UTC here; EXTRACT reads it as UTC.
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(EpochSeconds, "sqlite")
def _epoch_seconds_sqlite(element: EpochSeconds, compiler: Any, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff'. SQLite reads fractions only to the millisecond, rounding, so
    # .9995 s and more became the next second; the first 19 characters are the whole second (the floor).
    return f"CAST(strftime('%s', substr({compiler.process(element.clauses, **kw)}, 1, 19)) AS INTEGER)"
