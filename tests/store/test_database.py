"""The store: created on first use (SQLite: mode 0600 and the right pragmas); foreign or newer stores refused."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from helpers import MONDAY_10 as NOW
from helpers import execute
from supportcli.core.policy import default_policy_source
from supportcli.errors import ExitStatus, StoreUnavailable
from supportcli.locations import StoreLocation, mask_password, resolve_store, sqlite_location
from supportcli.store.database import SCHEMA_VERSION, open_store

SQLITE_FILES = pytest.mark.sqlite_only(reason="about the SQLite file itself")


def open_at(where: Path | StoreLocation):  # type: ignore[no-untyped-def]
    location = sqlite_location(where) if isinstance(where, Path) else where
    return open_store(location, {"SUPPORTCLI_LOCK_TIMEOUT": "1"}, default_policy_source, NOW, "alice")


@SQLITE_FILES
def test_first_open_creates_the_store_with_mode_0600_and_the_default_policy(store_path: Path) -> None:
    store = open_at(store_path)
    try:
        assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
        with store.read() as session:
            versions = session.exec(text("SELECT version, set_by FROM policy_versions")).all()  # type: ignore[call-overload]
        assert [tuple(row) for row in versions] == [(1, "alice")]
        with store.write() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        for suffix in ("-wal", "-shm"):
            sidecar = Path(f"{store_path}{suffix}")
            if sidecar.exists():
                assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    finally:
        store.close()


@SQLITE_FILES
def test_pragmas_are_set_on_every_connection(store_path: Path) -> None:
    store = open_at(store_path)
    try:
        with store.read() as session:
            connection = session.connection()
            values = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "secure_delete", "busy_timeout")
            }
        assert values == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": 2,
            "secure_delete": 1,
            "busy_timeout": 1000,
        }
    finally:
        store.close()


@SQLITE_FILES
def test_write_transactions_take_the_write_lock_at_begin(store_path: Path) -> None:
    store = open_at(store_path)
    try:
        with store.write():
            other = sqlite3.connect(store_path, timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
    finally:
        store.close()


def test_reopening_keeps_the_store(store_location: StoreLocation) -> None:
    open_at(store_location).close()
    store = open_at(store_location)
    try:
        with store.read() as session:
            count = session.exec(text("SELECT count(*) FROM policy_versions")).one()  # type: ignore[call-overload]
        assert tuple(count) == (1,)
    finally:
        store.close()


@SQLITE_FILES
def test_a_file_that_is_not_sqlite_is_refused(store_path: Path) -> None:
    store_path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(StoreUnavailable, match="not a supportcli store") as caught:
        open_at(store_path)
    assert caught.value.exit_status is ExitStatus.STORE_UNAVAILABLE
    assert store_path.read_bytes().startswith(b"these are my notes")


def test_a_foreign_database_is_refused_and_left_alone(store_location: StoreLocation) -> None:
    execute(store_location.url, "CREATE TABLE recipes (name TEXT)")
    with pytest.raises(StoreUnavailable, match="holds other tables"):
        open_at(store_location)
    engine = create_engine(store_location.url, poolclass=NullPool)
    try:
        assert inspect(engine).get_table_names() == ["recipes"]
    finally:
        engine.dispose()


@SQLITE_FILES
def test_a_corrupt_store_is_refused(store_path: Path) -> None:
    open_at(store_path).close()
    data = bytearray(store_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    store_path.write_bytes(bytes(data))
    with pytest.raises(StoreUnavailable):
        open_at(store_path)


def test_a_newer_schema_is_refused(store_location: StoreLocation) -> None:
    open_at(store_location).close()
    execute(
        store_location.url, f"UPDATE supportcli_meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'"
    )
    with pytest.raises(StoreUnavailable, match="newer than this supportcli understands"):
        open_at(store_location)


def test_store_location_order(tmp_path: Path) -> None:
    config = {"database_url": "postgresql+psycopg://team:secret@db.example/support"}
    env = {"SUPPORTCLI_DB": str(tmp_path / "env.db"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert resolve_store(str(tmp_path / "flag.db"), env, config).sqlite_path == tmp_path / "flag.db"
    assert resolve_store(None, env, config).sqlite_path == tmp_path / "env.db"
    url_env = {**env, "SUPPORTCLI_DATABASE_URL": "postgresql+psycopg://u:pw@localhost/x"}
    assert resolve_store(None, url_env, config).display == "postgresql+psycopg://u:***@localhost/x"
    assert resolve_store(None, {"XDG_DATA_HOME": env["XDG_DATA_HOME"]}, config).display == (
        "postgresql+psycopg://team:***@db.example/support"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:pw@localhost/x", "postgresql+psycopg://u:***@localhost/x"),
        ("postgresql+psycopg://:pw@localhost/x", "postgresql+psycopg://:***@localhost/x"),
        ("postgresql+psycopg://u:p%40ss:w@h:5432/x", "postgresql+psycopg://u:***@h:5432/x"),
        ("postgresql+psycopg://u@h/x?password=pw", "postgresql+psycopg://u@h/x?password=***"),
        (
            "postgresql+psycopg://u@h/x?sslpassword=pw&sslmode=require",
            "postgresql+psycopg://u@h/x?sslmode=require&sslpassword=***",
        ),
        ("postgresql+psycopg://u@h/x", "postgresql+psycopg://u@h/x"),
        # not readable by SQLAlchemy (the port is not a number): still nothing where a password could be
        ("postgresql+psycopg://u:pw@h:port/x?Password=pw", "postgresql+psycopg://u:***@h:port/x?Password=***"),
        ("postgresql+psycopg://:pw@h:port/x", "postgresql+psycopg://:***@h:port/x"),
    ],
)
def test_every_password_in_a_database_url_is_masked(url: str, shown: str) -> None:
    assert mask_password(url) == shown
    password = "p@ss:w" if "p%40ss" in url else "pw" if "pw" in url else None
    error = f"server said: {password} is wrong"
    scrubbed = StoreLocation(url, None).scrub(error)
    assert scrubbed == (error if password is None else "server said: *** is wrong")


@SQLITE_FILES
def test_exclusive_lets_one_holder_at_a_time_and_releases(store_path: Path) -> None:
    first, second = open_at(store_path), open_at(store_path)
    try:
        with first.exclusive("deliver") as mine:
            assert mine is True
            with second.exclusive("deliver") as theirs:
                assert theirs is False
            with second.exclusive("other-job") as unrelated:
                assert unrelated is True
        with second.exclusive("deliver") as after:
            assert after is True
        assert stat.S_IMODE(Path(f"{store_path}.deliver.lock").stat().st_mode) == 0o600
    finally:
        first.close()
        second.close()


@SQLITE_FILES
def test_an_empty_store_file_made_beforehand_becomes_private(store_path: Path) -> None:
    store_path.touch()
    store_path.chmod(0o644)
    open_at(store_path).close()
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600


@SQLITE_FILES
def test_an_existing_store_keeps_the_mode_its_owner_gave_it(store_path: Path) -> None:
    open_at(store_path).close()
    store_path.chmod(0o640)  # e.g. shared with a group on purpose
    open_at(store_path).close()
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o640


@SQLITE_FILES
def test_a_backup_onto_an_existing_file_makes_it_private(store_path: Path, tmp_path: Path) -> None:
    from supportcli.store.database import backup_sqlite

    target = tmp_path / "copy.db"
    target.write_bytes(b"an old copy")
    target.chmod(0o644)
    store = open_at(store_path)
    try:
        backup_sqlite(store, target)
    finally:
        store.close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT value FROM supportcli_meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )


def test_a_read_session_sees_one_state_of_the_store(store_location: StoreLocation) -> None:
    """From its first read on, a read session does not see later commits (an export reads its tickets and
    their rows in many queries): SQLite's WAL snapshot, PostgreSQL's REPEATABLE READ."""
    from sqlalchemy import func
    from sqlmodel import select

    from supportcli.store.models import Staff

    store = open_at(store_location)
    try:
        with store.read() as reading:
            before = reading.exec(select(func.count()).select_from(Staff)).one()
            with store.write() as writing:
                writing.add(Staff(name="late", email="late@example.com"))
            assert reading.exec(select(func.count()).select_from(Staff)).one() == before
        with store.read() as fresh:
            assert fresh.exec(select(func.count()).select_from(Staff)).one() == before + 1
    finally:
        store.close()
