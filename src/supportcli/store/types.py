"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger, DateTime, String, TypeDecorator


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


class JoinedText(FunctionElement[str]):
    """An aggregate: the group's non-null values of one expression as text joined by commas (NULL for none),
    in no particular order.

    For handing the database's many small values of a group to Python as one string (``report``'s working
    times and target outcomes), split there by one C call instead of a row each. SQLite's ``group_concat``,
    PostgreSQL's ``string_agg``. The values must not hold a comma.
    """

    type = String()
    name = "joined_text"
    inherit_cache = True


@compiles(JoinedText)
def _joined_text(element: JoinedText, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


@compiles(JoinedText, "sqlite")
def _joined_text_sqlite(element: JoinedText, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


# The SQL name of the Python function every SQLite connection of a store gets (``store.database``).
SQLITE_LOWER = "supportcli_lower"


def unicode_lower(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    """``str.lower`` for SQLite's ``supportcli_lower``: NULL and non-text values pass unchanged."""
    return value.lower() if isinstance(value, str) else value


class LowerText(FunctionElement[str]):
    """A text in lower case, every letter folded, as PostgreSQL's ``lower`` does.

    SQLite's own ``lower`` folds ASCII letters only (``SÉAN`` → ``sÉan``), so on SQLite this calls a Python
    function registered on each connection. It costs a call a row, so the filters use it only when the text
    looked for has a letter beyond ASCII (``store.queries.text_like``).
    """

    type = String()
    name = "lower_text"
    inherit_cache = True


@compiles(LowerText)
def _lower_text(element: LowerText, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(LowerText, "sqlite")
def _lower_text_sqlite(element: LowerText, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"
