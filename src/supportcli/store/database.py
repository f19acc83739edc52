"""Opening the store: engine set-up, transactions, schema creation and checks.

SQLite is set up for several people and a cron job at once: WAL, a long busy
timeout, foreign keys, full sync, secure delete, and every write transaction
begins with ``BEGIN IMMEDIATE`` so two writers can never read the same state
and both act on it. Nothing here is SQLite-only outside the engine set-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError
from sqlmodel import Session, SQLModel, select

from supportcli.errors import InvalidInput, StoreUnavailable
from supportcli.locations import StoreLocation
from supportcli.store import models, search
from supportcli.store.migrations import pending, schema_version
from supportcli.store.types import SQLITE_LOWER, unicode_lower

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.pool import ConnectionPoolEntry

SCHEMA_VERSION = schema_version()  # for readers; the checks below call schema_version() itself
DEFAULT_LOCK_TIMEOUT_SECONDS = 30.0
# Per-connection settings. WAL is set once the file is known to be ours (see _enable_wal): a foreign
# SQLite file must be refused without being touched.
SQLITE_PRAGMAS = ("foreign_keys=ON", "synchronous=FULL", "secure_delete=ON")
SQLITE_HEADER = b"SQLite format 3\x00"
WRITE_LOCK_KEY = 0x5C11  # the advisory lock that serialises writers on PostgreSQL
# PostgreSQL refuses B-tree index entries over ~2.7 kB; SQLite has no limit. A longer org, category,
# owner or staff name is refused on both, so every store keeps the same data.
INDEXED_TEXT_MAX_BYTES = 2000

T = TypeVar("T")


class Store:
    """A supportcli store: read and write sessions over one engine.

    ``read_only`` says why the store can only be read (an SQLite file or directory this user
    cannot write), or is None; every write then stops with one clear line before it starts.
    """

    def __init__(
        self,
        location: StoreLocation,
        engine: Engine,
        timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
        read_only: str | None = None,
    ) -> None:
        self.location = location
        self.engine = engine
        self.timeout = timeout
        self.read_only = read_only
        self._write_engine = engine.execution_options(supportcli_write=True)
        # A read session sees one state of the store from its first read on: SQLite's WAL readers do; on
        # PostgreSQL that is REPEATABLE READ (its default, READ COMMITTED, shows each query the latest commits,
        # so an export could write a ticket from before a change with targets from after it).
        self._read_engine = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # The locks ``exclusive`` holds now, with the PostgreSQL connection holding each (None: a file lock).
        self._held: dict[str, Connection | None] = {}

    def refuse_if_read_only(self) -> None:
        """Stop a write to a read-only store with one line (exit 5), before anything is attempted."""
        if self.read_only is not None:
            raise StoreUnavailable(
                f"store {self.location.display} is read-only ({self.read_only}); nothing was written"
            )

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite store."""
        return self.location.sqlite_path is not None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading: one consistent snapshot, never commits."""
        with translate_errors(self.location), Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction that takes the write lock first; commits on success, rolls back on error.

        Do no network or mail I/O inside it: other writers wait for it.
        """
        self.refuse_if_read_only()
        with (
            translate_errors(self.location),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            connection = session.connection()  # BEGIN IMMEDIATE now, so the lock is held before anything is read
            if connection.dialect.name == "postgresql":
                # The same guarantee on PostgreSQL: one writer at a time, held until commit or rollback,
                # waiting no longer than SQLite would (then "locked", exit 5).
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(self.timeout * 1000)}ms'")
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            yield session

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Try to become the only process doing ``name`` (e.g. delivering notices); yields whether it did.

        The lock is released when the block ends or the process dies (a file lock on SQLite, a
        session advisory lock on PostgreSQL), so a killed run never leaves it stuck, and no
        transaction stays open while the holder works. ``holds`` tells the holder it still has it.
        """
        self.refuse_if_read_only()
        if self.location.sqlite_path is not None:
            import fcntl

            lock_path = self.location.sqlite_path.with_name(f"{self.location.sqlite_path.name}.{name}.lock")
            try:
                handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StoreUnavailable(f"cannot lock store {self.location.display}: {exc.strerror or exc}") from exc
            try:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                self._held[name] = None
                yield True
            finally:
                self._held.pop(name, None)
                os.close(handle)
            return
        key = _lock_key(name)
        with translate_errors(self.location), self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = bool(
                connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({WRITE_LOCK_KEY}, {key})").scalar()
            )
            if acquired:
                self._held[name] = connection
            try:
                yield acquired
            finally:
                self._held.pop(name, None)
                if acquired:
                    with suppress(SQLAlchemyError):  # a lost connection took the lock with it
                        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY}, {key})")

    def holds(self, name: str) -> bool:
        """Whether this process still holds ``exclusive(name)``: a file lock lasts as long as the process, a
        PostgreSQL session lock only as long as its connection, which a network failure or the server can end."""
        if name not in self._held:
            return False
        connection = self._held[name]
        if connection is None:
            return True
        try:
            return bool(
                connection.exec_driver_sql(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    f" AND pid = pg_backend_pid() AND classid = {WRITE_LOCK_KEY} AND objid = {_lock_key(name)}"
                ).scalar()
            )
        except SQLAlchemyError:  # the connection is gone, and its lock with it
            return False

    def run_write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction and return its result."""
        with self.write() as session:
            return work(session)

    def close(self) -> None:
        """Release connections (tests open many stores in one process)."""
        self.engine.dispose()


def _lock_key(name: str) -> int:
    """The second key of the PostgreSQL advisory lock ``exclusive(name)`` takes (the first is WRITE_LOCK_KEY)."""
    return int.from_bytes(name.encode()[:4].ljust(4, b"\0"), "big")


def _check_texts(session: Session, _context: object, _instances: object) -> None:
    """Refuse text no store can keep the same on every database: NUL characters, broken UTF-8, and
    values of indexed columns too long for PostgreSQL's index entries.

    One check before every flush covers every way text arrives (options, stdin, imports, mail).
    """
    for row in (*session.new, *session.dirty):
        table: type = type(row)  # a plain ``type``: mypy takes a ``type[Any]`` for unhashable
        indexed = _indexed_columns(table)
        for name, value in vars(row).items():
            if not isinstance(value, str) or name.startswith("_"):
                continue
            if "\x00" in value:
                raise InvalidInput(f"{name}: text contains a NUL character, which cannot be stored")
            try:
                size = len(value.encode("utf-8"))
            except UnicodeEncodeError as exc:
                raise InvalidInput(
                    f"{name}: text is not valid UTF-8 (check the terminal's or file's encoding)"
                ) from exc
            if name in indexed and size > INDEXED_TEXT_MAX_BYTES:
                raise InvalidInput(f"{name}: too long ({size} bytes; at most {INDEXED_TEXT_MAX_BYTES} in UTF-8)")


@cache
def _indexed_columns(table: type) -> frozenset[str]:
    """Names of a table's columns that are in an index or a unique constraint."""
    definition = getattr(table, "__table__", None)
    if definition is None:
        return frozenset()
    names = {column.name for index in definition.indexes for column in index.columns}
    names |= {column.name for column in definition.columns if column.unique}
    return frozenset(names)


event.listen(Session, "before_flush", _check_texts)


SQLITE_FULL = 13  # SQLite's result code for "database or disk is full"
POSTGRES_DISK_FULL = "53100"  # PostgreSQL's SQLSTATE disk_full


def is_disk_full(error: BaseException) -> bool:
    """Whether a failure is, or was caused by, a full disk: SQLite's "database or disk is full" or
    PostgreSQL's SQLSTATE 53100. The chain is followed because the error that surfaces is often a later one:
    SQLite rolls the whole transaction back on a full disk, so releasing or rolling back a savepoint (an
    import's row, say) then fails with "no such savepoint", which says nothing of the cause."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        driver_error = getattr(found, "orig", None) or found
        text = str(driver_error).lower()
        if getattr(driver_error, "sqlite_errorcode", None) == SQLITE_FULL or "database or disk is full" in text:
            return True
        if getattr(driver_error, "sqlstate", None) == POSTGRES_DISK_FULL:
            return True
        found = found.__cause__ or found.__context__
    return False


def disk_full(location: StoreLocation) -> StoreUnavailable:
    """The one line every write that meets a full disk ends with (exit 5)."""
    return StoreUnavailable(f"store {location.display} is full (disk full); nothing was written")


@contextmanager
def translate_errors(location: StoreLocation) -> Iterator[None]:
    """Turn database failures into one clear StoreUnavailable line (exit 5), with no password in it.

    Every read and write of the store runs inside this, so a full disk is reported the same way whichever
    write meets it (``log``, ``import``, the cron run), also when it surfaces as a later failure.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        if is_disk_full(exc):
            raise disk_full(location) from exc
        if not isinstance(exc, DatabaseError):
            raise
        _translate_database_error(location, exc)


def _translate_database_error(location: StoreLocation, exc: DatabaseError) -> NoReturn:
    """A database failure as one StoreUnavailable line: locked, read-only, corrupt or otherwise unavailable."""
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        if "locked" in text or "busy" in text or "lock timeout" in text:
            raise StoreUnavailable(f"store {location.display} is locked by another process; try again") from exc
        if "readonly" in text or "read-only" in text:
            raise StoreUnavailable(f"store {location.display} is read-only; nothing was written") from exc
        if "not a database" in text or "malformed" in text:
            raise StoreUnavailable(f"store {location.display} is corrupt or not an SQLite database") from exc
        reason = location.scrub(_first_line(exc.orig))
        raise StoreUnavailable(f"store {location.display} is unavailable: {reason}") from exc
    reason = location.scrub(_first_line(exc.orig))
    raise StoreUnavailable(f"store {location.display} is unreadable: {reason}") from exc


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def lock_timeout(env: Mapping[str, str]) -> float:
    """Seconds to wait for another writer (``SUPPORTCLI_LOCK_TIMEOUT`` overrides the 30 s default)."""
    try:
        return float(env.get("SUPPORTCLI_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_SECONDS))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_SECONDS


def open_store(
    location: StoreLocation,
    env: Mapping[str, str],
    default_policy: Callable[[], str],
    now: datetime,
    actor: str,
) -> Store:
    """Open (creating on first use) the store and check it is one we can use."""
    read_only = None
    if location.sqlite_path is not None:
        read_only = _prepare_sqlite_file(location.sqlite_path)
        engine = _sqlite_engine(location, location.sqlite_path, lock_timeout(env), read_only)
    else:
        try:
            engine = create_engine(location.url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise StoreUnavailable(
                f"cannot use {location.display}: the database driver {exc.name!r} is not installed "
                "(for PostgreSQL: pip install 'supportcli[postgres]')"
            ) from exc
        except ArgumentError as exc:
            raise StoreUnavailable(f"cannot use {location.display}: not a database URL with a known driver") from exc
        except ValueError as exc:  # e.g. a port that is not a number
            reason = location.scrub(str(exc))
            raise StoreUnavailable(f"cannot use {location.display}: not a valid database URL ({reason})") from exc
    store = Store(location, engine, lock_timeout(env), read_only)
    _ensure_schema(store, default_policy, now, actor)
    return store


def _prepare_sqlite_file(path: Path) -> str | None:
    """Make sure the store file exists and is an SQLite file; returns why it can only be read, if it can.

    A new store, or an empty file made for one, is given mode 0600 so customer data is never
    readable by others (-wal and -shm files inherit the mode).
    """
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True)
        read_only = _read_only_reason(path)
        if read_only is None:
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                found = os.fstat(handle)
                if found.st_size == 0 and found.st_uid == os.geteuid():
                    os.fchmod(handle, 0o600)
                header = os.pread(handle, len(SQLITE_HEADER), 0)
            finally:
                os.close(handle)
        else:
            with path.open("rb") as file:
                header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreUnavailable(f"cannot open store {path}: {exc.strerror or exc}") from exc
    if header and header != SQLITE_HEADER:
        raise StoreUnavailable(f"{path} is not a supportcli store (not an SQLite database)")
    if read_only is not None and not header:
        raise StoreUnavailable(f"cannot create store {path}: {read_only}")
    return read_only


def _read_only_reason(path: Path) -> str | None:
    """Why this process may only read an existing store file (SQLite needs to write beside it, too), or None."""
    if not path.exists():
        return None
    if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
        return "it is on a read-only filesystem"
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return "its directory is not writable"
    return None


def _read_only_uri(path: Path, reason: str) -> str:
    """How to open a store this process cannot write, reading exactly what its writers committed.

    SQLite's WAL mode keeps a -shm index beside the file. When one exists (someone has the store
    open), read through it. When none does, a read-only connection would have to create one
    (impossible in a read-only directory, and one left behind read-only blocks later writers),
    so the file is opened as immutable instead: only safe when nobody can be writing it, i.e.
    the file or its directory is writable by no one, or is on a read-only filesystem.
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path))}?mode=ro"
    shm, wal = (path.with_name(f"{path.name}{suffix}") for suffix in ("-shm", "-wal"))
    if shm.exists():
        return uri
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreUnavailable(
            f"cannot read store {path}: it is read-only ({reason}) and its last writes are still in {wal.name}; "
            "open it once with write access"
        )
    if _nobody_can_write(path):
        return f"{uri}&immutable=1"
    raise StoreUnavailable(
        f"cannot read store {path} safely: it is read-only for you ({reason}) but others may write to it; "
        f"read it as its owner, or make it read-only for everyone (chmod a-w {path})"
    )


def _nobody_can_write(path: Path) -> bool:
    """True when no one can change the store: no write permission on the file or on its directory, or a read-only
    filesystem (root aside, who is trusted not to write a store made read-only for everyone)."""
    if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
        return True
    return not path.stat().st_mode & 0o222 or not path.parent.stat().st_mode & 0o222


def _sqlite_engine(location: StoreLocation, path: Path, timeout: float, read_only: str | None = None) -> Engine:
    if read_only is None:
        engine = create_engine(location.url, connect_args={"timeout": timeout})
    else:
        import sqlite3

        uri = _read_only_uri(path, read_only)
        engine = create_engine(
            location.url,
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False),
        )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # We issue BEGIN ourselves (below); pysqlite's own handling defers locks too late.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # Letter case beyond ASCII for the text filters (``store.types.LowerText``).
        dbapi_connection.create_function(SQLITE_LOWER, 1, unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("supportcli_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _ensure_schema(store: Store, default_policy: Callable[[], str], now: datetime, actor: str) -> None:
    """Create the schema on first use, upgrade an older one in place, refuse foreign or newer stores."""
    version = _read_schema_version(store)
    current = schema_version()
    if version == current:
        _enable_wal(store)
        return
    if version is not None and version > current:
        raise StoreUnavailable(
            f"store {store.location.display} has schema version {version}, newer than this "
            f"supportcli understands ({current}); upgrade supportcli"
        )
    if store.read_only is not None:
        needs = f"an upgrade from schema version {version}" if version is not None else "its tables created"
        raise StoreUnavailable(f"store {store.location.display} needs {needs}, but it is read-only ({store.read_only})")
    if version is not None:
        upgrade(store, version)
        _enable_wal(store)
        return

    def create(session: Session) -> None:
        connection = session.connection()
        tables = set(inspect(connection).get_table_names())
        if models.Meta.__tablename__ in tables:
            return  # another process created it while we waited for the lock
        if tables:
            raise StoreUnavailable(f"{store.location.display} is not a supportcli store (it holds other tables)")
        SQLModel.metadata.create_all(connection)
        search.create_index(connection)
        session.add(models.Meta(key="schema_version", value=str(schema_version())))
        session.add(
            # No explicit version number: PostgreSQL's sequence would not advance past it, and the
            # next ``policy set`` would collide with it. The first row of a new table is 1 anyway.
            models.PolicyVersion(
                name="built-in default",
                source=default_policy(),
                effective_at=datetime(1970, 1, 1, tzinfo=UTC),
                set_at=now,
                set_by=actor,
                note="built-in default policy",
            )
        )

    store.run_write(create)
    _enable_wal(store)


@dataclass(frozen=True)
class UpgradeResult:
    """What an upgrade did."""

    from_version: int
    to_version: int
    applied: tuple[str, ...]
    backup: Path | None


def upgrade(store: Store, from_version: int) -> UpgradeResult:
    """Bring a store up to this program's schema: back it up (SQLite), then migrate in one transaction."""
    current = schema_version()
    backup_path = None
    if store.location.sqlite_path is not None:
        path = store.location.sqlite_path
        backup_path = path.with_name(f"{path.name}.v{from_version}-backup")
        backup_sqlite(store, backup_path)
    applied: list[str] = []

    def migrate(session: Session) -> None:
        connection = session.connection()
        found = session.exec(select(models.Meta).where(models.Meta.key == "schema_version")).one()
        if int(found.value) >= current:
            return  # another process upgraded it while we waited for the lock
        for migration in pending(int(found.value)):
            migration.apply(connection)
            applied.append(migration.name)
        SQLModel.metadata.create_all(connection)  # tables that are new in this version
        found.value = str(current)
        session.add(found)

    store.run_write(migrate)
    return UpgradeResult(from_version, current, tuple(applied), backup_path)


def backup_sqlite(store: Store, target: Path) -> None:
    """A consistent copy of a live SQLite store through SQLite's online backup API (mode 0600)."""
    import sqlite3

    if store.location.sqlite_path is None:
        raise StoreUnavailable("backups are for SQLite stores; back up PostgreSQL with pg_dump")
    try:
        handle = os.open(target, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(handle, 0o600)  # an existing file keeps its mode otherwise, and this one holds customer data
        finally:
            os.close(handle)
        source = store.engine.raw_connection()  # the store's own connection: a read-only store backs up too
        destination = sqlite3.connect(target)
        try:
            driver = source.driver_connection  # pysqlite's own connection
            assert driver is not None  # None only once invalidated, never straight from the pool
            driver.backup(destination)
        finally:
            destination.close()
            source.close()
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"cannot back up {store.location.display} to {target}: {exc}") from exc


def store_version(store: Store) -> int | None:
    """The schema version recorded in a store."""
    return _read_schema_version(store)


def _enable_wal(store: Store) -> None:
    """Put a supportcli SQLite store in WAL mode (persistent; a no-op once set)."""
    if not store.is_sqlite or store.read_only is not None:
        return
    import sqlite3
    import time

    # Switching to WAL needs the file to itself and SQLite does not wait for that (no busy
    # handler): when several processes create a new store at once, the loser retries for as
    # long as it would wait for any lock, then gives up, leaving the switch to the next run.
    deadline = time.monotonic() + store.timeout
    with translate_errors(store.location):
        while True:
            raw = store.engine.raw_connection()
            try:
                cursor = raw.cursor()
                if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    return
                cursor.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if is_disk_full(exc):
                    raise disk_full(store.location) from exc
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StoreUnavailable(f"store {store.location.display} is unavailable: {exc}") from exc
                if time.monotonic() >= deadline:
                    return
            finally:
                raw.close()
            time.sleep(0.02)


def _read_schema_version(store: Store) -> int | None:
    with store.read() as session:
        connection = session.connection()
        if models.Meta.__tablename__ not in inspect(connection).get_table_names():
            return None
        value = session.exec(select(models.Meta.value).where(models.Meta.key == "schema_version")).first()
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError) as exc:
        raise StoreUnavailable(f"store {store.location.display} has an unreadable schema version") from exc
