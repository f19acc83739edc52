"""Shared fixtures: every test gets a fresh data and config directory and a fixed identity."""

from __future__ import annotations

import os
from collections.abc import Callable
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
