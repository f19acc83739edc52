"""Shared fixtures: every test gets a fresh data and config directory and a fixed identity.

Every test that touches a store runs twice, on SQLite and on PostgreSQL (ids ``[sqlite]`` and
``[postgresql]``), through the ``backend`` fixture that ``cli``, ``store_url``, ``store_location``,
``snapshot`` and ``new_store`` depend on. ``pytest --backend=sqlite`` (or ``postgresql``) runs one.
Tests about SQLite itself carry ``@pytest.mark.sqlite_only(reason=...)``.

PostgreSQL is the server on 127.0.0.1:5432 (user ``postgres``). Without one, its tests skip with the
reason, except under ``CI=true``, where that is a failure. Each test gets an empty database of its own:
creating and dropping a database costs a checkpoint (a second or more), so databases are kept in a pool
for the session and emptied between tests (other sessions ended, every schema dropped).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner, Result

from helpers import Snapshot, isolated_directories, snapshot_of
from supportcli.cli.app import app
from supportcli.locations import StoreLocation, sqlite_location
from supportcli.store.database import Store

# Hypothesis's timing checks (a deadline per example, "too slow" data generation) measure the machine, not the
# code: on a loaded CI runner they fail tests that are right. Every property test runs under this profile; a
# test's own @settings adds to it.
settings.register_profile("supportcli", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("supportcli")

BACKENDS = ("sqlite", "postgresql")
POSTGRES_SERVER = "host=127.0.0.1 port=5432 user=postgres"
NO_POSTGRES = "no PostgreSQL server on 127.0.0.1:5432 (user postgres)"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=(*BACKENDS, "both"),
        default="both",
        help="store backend(s) to run the store tests on (default: both)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): a test about SQLite itself (files, WAL, pragmas)")


def _chosen_backends(config: pytest.Config) -> tuple[str, ...]:
    chosen = config.getoption("--backend")
    return BACKENDS if chosen == "both" else (chosen,)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a store on each chosen backend (SQLite-only tests on SQLite alone)."""
    if "backend" not in metafunc.fixturenames:
        return
    backends = _chosen_backends(metafunc.config)
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        backends = ("sqlite",)
    metafunc.parametrize("backend", backends, indirect=True, ids=str)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out what the chosen backend excludes: SQLite-only tests, or tests of PostgreSQL itself."""
    backends = _chosen_backends(config)
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "sqlite" not in backends and item.get_closest_marker("sqlite_only") is not None:
            item.add_marker(pytest.mark.skip(reason="SQLite-only test; --backend=postgresql"))
        elif "postgresql" not in backends and "postgres_url" in fixtures and "backend" not in fixtures:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL test; --backend=sqlite"))


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point supportcli at fresh per-test data, config and cache directories and clear any SUPPORTCLI_* settings.

    Through supportcli's own variables (README, "Where things are kept"), which win over the platform's
    directories, so no test can reach the user's real store, config or cache."""
    for name in list(os.environ):
        if name.startswith("SUPPORTCLI_") or name == "NO_COLOR":
            monkeypatch.delenv(name)
    for variable, directory in isolated_directories(tmp_path).items():
        monkeypatch.setenv(variable, directory)
    monkeypatch.setenv("SUPPORTCLI_USER", "alice")
    monkeypatch.setenv("SUPPORTCLI_LOCK_TIMEOUT", "2")
    return tmp_path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store file in the test's own directory."""
    return tmp_path / "store.db"


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of this test run: ``sqlite`` or ``postgresql`` (see pytest_generate_tests)."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, store_path: Path, request: pytest.FixtureRequest) -> str:
    """The SQLAlchemy URL of the test's store: ``store_path`` on SQLite, a fresh database on PostgreSQL."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return sqlite_location(store_path).url


@pytest.fixture
def store_location(store_url: str, backend: str, store_path: Path) -> StoreLocation:
    """The test's store as the program locates it (for tests that open it with ``open_store``)."""
    return sqlite_location(store_path) if backend == "sqlite" else StoreLocation(store_url, None)


@pytest.fixture
def store(store_location: StoreLocation) -> Iterator[Store]:
    """The test's store, empty, opened through ``open_store`` as the program opens it (on Monday 23 November
    2026 10:00, as alice), and closed after: for tests of the store layer below the CLI."""
    from helpers import MONDAY_10
    from supportcli.core.policy import default_policy_source
    from supportcli.store.database import open_store

    opened = open_store(store_location, {}, default_policy_source, MONDAY_10, "alice")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def snapshot(store_url: str) -> Callable[[], Snapshot]:
    """Every row of the test's store (see helpers.snapshot_of): compare two to prove nothing changed."""
    return lambda: snapshot_of(store_url)


@pytest.fixture
def new_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], str]:
    """Another fresh store on the test's backend: call it for the URL (``--db`` takes it)."""
    numbers = itertools.count(1)

    def make() -> str:
        if backend == "sqlite":
            return sqlite_location(tmp_path / f"other-{next(numbers)}.db").url
        databases = _postgres_databases(request)
        name = databases.acquire()
        request.addfinalizer(lambda: databases.release(name))
        return databases.url(name)

    return make


@pytest.fixture
def cli(store_url: str, backend: str, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the real CLI through Typer's CliRunner against the test's store (on the test's backend)."""
    if backend == "sqlite":
        monkeypatch.setenv("SUPPORTCLI_DB", str(store_path))
    else:
        monkeypatch.setenv("SUPPORTCLI_DATABASE_URL", store_url)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


class PostgresDatabases:
    """Empty databases for tests, kept in a pool for the session and emptied between tests."""

    def __init__(self) -> None:
        import psycopg

        self._psycopg = psycopg
        self.admin = psycopg.connect(f"{POSTGRES_SERVER} dbname=postgres", autocommit=True, connect_timeout=3)
        self.prefix = f"supportcli_test_{uuid.uuid4().hex[:8]}"
        self.names = (f"{self.prefix}_{n}" for n in itertools.count(1))
        self.created: list[str] = []
        self.free: list[str] = []

    @staticmethod
    def url(name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    def acquire(self) -> str:
        """An empty database of one's own."""
        if self.free:
            return self.free.pop()
        name = next(self.names)
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def release(self, name: str) -> None:
        """End every session on the database and drop everything in it, then pool it again."""
        self.end_sessions(name)
        with self._psycopg.connect(f"{POSTGRES_SERVER} dbname={name}", autocommit=True) as connection:
            schemas = connection.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
            ).fetchall()
            for (schema,) in schemas:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            connection.execute("CREATE SCHEMA public")
        self.free.append(name)

    def end_sessions(self, name: str) -> None:
        """Close every connection to a database (a test's CLI runs may leave pooled ones open)."""
        self.admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s", (name,))

    def copy_into(self, name: str, template: str) -> None:
        """Make database ``name`` an exact copy of ``template`` (its empty self goes back to the pool)."""
        spare = next(self.names)
        self.end_sessions(name)
        self.end_sessions(template)
        self.admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{spare}"')
        self.created.append(spare)
        self.free.append(spare)
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def close(self) -> None:
        for name in self.created:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()


@pytest.fixture(scope="session")
def _postgres_pool() -> Iterator[PostgresDatabases | None]:
    try:
        import psycopg
    except ModuleNotFoundError:
        yield None
        return
    try:
        databases = PostgresDatabases()
    except psycopg.OperationalError:
        yield None
        return
    try:
        yield databases
    finally:
        databases.close()


def _postgres_databases(request: pytest.FixtureRequest) -> PostgresDatabases:
    """The session's pool of databases; skips the test without a server (fails under CI=true)."""
    databases = request.getfixturevalue("_postgres_pool")
    if databases is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {NO_POSTGRES}")
        pytest.skip(NO_POSTGRES)
    return databases


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty PostgreSQL database for this test on 127.0.0.1:5432 (user postgres), emptied afterwards.

    Skipped with the reason when no server answers, except in CI (CI=true), where that is a failure.
    """
    databases = _postgres_databases(request)
    name = databases.acquire()
    try:
        yield databases.url(name)
    finally:
        databases.release(name)


@pytest.fixture
def store_copy(
    backend: str,
    store_path: Path,
    store_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Callable[[str, Callable[[Callable[..., Result]], object]], None]:
    """Make the test's store a copy of one built once per session: ``store_copy("name", build)``.

    ``build(cli)`` runs the first time on the backend; later tests get an exact copy (SQLite's backup
    API, or ``CREATE DATABASE … TEMPLATE``), which is much faster than building it again.
    """
    runner = CliRunner()

    def use(name: str, build: Callable[[Callable[..., Result]], object]) -> None:
        templates: dict[str, str] = request.config.stash.setdefault(_TEMPLATES, {})
        key = f"{backend}:{name}"
        if key not in templates:
            if backend == "sqlite":
                url = sqlite_location(tmp_path_factory.mktemp("templates") / f"{name}.db").url
            else:
                databases = _postgres_databases(request)
                url = databases.url(databases.acquire())  # kept as the template until the session ends

            def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
                return runner.invoke(app, ["--db", url, *args], input=input, env=env)

            build(invoke)
            templates[key] = url
        template = templates[key]
        if backend == "sqlite":
            os.close(os.open(store_path, os.O_RDWR | os.O_CREAT, 0o600))  # as private as the program makes it
            source = sqlite3.connect(template.removeprefix("sqlite:///"))
            target = sqlite3.connect(store_path)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        else:
            _postgres_databases(request).copy_into(store_url.rsplit("/", 1)[1], template.rsplit("/", 1)[1])

    return use


_TEMPLATES = pytest.StashKey[dict[str, str]]()
