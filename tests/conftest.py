"""Shared fixtures: every test gets a fresh data and config directory and a fixed identity."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from supportcli.cli.app import app


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point supportcli at a fresh per-test data dir and clear any SUPPORTCLI_* settings."""
    for name in list(os.environ):
        if name.startswith("SUPPORTCLI_") or name == "NO_COLOR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("SUPPORTCLI_USER", "alice")
    monkeypatch.setenv("SUPPORTCLI_LOCK_TIMEOUT", "2")
    return tmp_path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store file in the test's own directory."""
    return tmp_path / "store.db"


@pytest.fixture
def cli(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the real CLI through Typer's CliRunner against the test's store."""
    monkeypatch.setenv("SUPPORTCLI_DB", str(store_path))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


def _postgres_admin():  # type: ignore[no-untyped-def]
    try:
        import psycopg
    except ModuleNotFoundError:
        return None
    try:
        return psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test on 127.0.0.1:5432 (user postgres), dropped afterwards.

    Skipped with the reason when no server answers, except in CI (CI=true), where that is a failure.
    """
    admin = _postgres_admin()
    if admin is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no PostgreSQL server answers on 127.0.0.1:5432 (user postgres)")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432 (user postgres)")
    name = f"supportcli_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
