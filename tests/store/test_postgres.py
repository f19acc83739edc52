"""The same store on a real PostgreSQL server (127.0.0.1:5432, user postgres, trust auth).

Each test creates its own database. Without a server the tests skip with the reason,
except in CI (CI=true), where they must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from helpers import MON_1000, at
from supportcli.cli.app import app

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = at(MON_1000)


@pytest.fixture
def pg_cli(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("SUPPORTCLI_DATABASE_URL", postgres_url)
    runner = CliRunner()
    return lambda *args, env=None: runner.invoke(app, list(args), env={**NOW, **(env or {})})


def test_the_daily_commands_work_on_postgresql(pg_cli: Callable[..., Result]) -> None:
    assert pg_cli("log", "Printer on fire", "--channel", "phone", "-q").stdout == "1\n"
    assert pg_cli("ack", "1").exit_code == 0
    record = json.loads(pg_cli("show", "1", "--json").stdout)
    # Mon 10:00 + 4wh → Mon 14:00; the stored instant comes back with its offset.
    assert {t["name"]: t["due_at"] for t in record["targets"]}["respond"] == "2026-11-23T14:00:00+00:00"
    assert [e["event"] for e in record["history"]] == ["logged", "acknowledged"]
    late = pg_cli("overdue", "--json", env={"SUPPORTCLI_NOW": "2026-11-24T10:00:00+00:00"})
    assert [(r["id"], r["target"], r["overdue_working_minutes"]) for r in json.loads(late.stdout)] == [
        (1, "respond", 240)
    ]


def test_concurrent_writers_on_postgresql_get_distinct_ids(postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORTCLI_DATABASE_URL": postgres_url, **NOW, "XDG_DATA_HOME": str(tmp_path)}
    script = Path(sys.executable).parent / "supportcli"
    subprocess.run([script, "init"], env=env, check=True, capture_output=True)
    loop = f'for i in 1 2 3; do "{script}" log "w$W-$i" -q || exit 1; done'
    workers = [
        subprocess.Popen(["bash", "-c", loop], env={**env, "W": str(n)}, stdout=subprocess.PIPE) for n in range(4)
    ]
    printed = [int(line) for worker in workers for line in worker.communicate()[0].split()]
    assert all(worker.returncode == 0 for worker in workers)
    assert sorted(printed) == list(range(1, 13))
    listed = json.loads(
        subprocess.run([script, "list", "--json"], env=env, capture_output=True, text=True, check=True).stdout
    )
    assert sorted(t["subject"] for t in listed) == sorted(f"w{n}-{i}" for n in range(4) for i in range(1, 4))


def test_unreachable_server_is_exit_5_with_the_password_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTCLI_DATABASE_URL", "postgresql+psycopg://team:s3cret@127.0.0.1:1/support")
    result = CliRunner().invoke(app, ["due"])
    assert result.exit_code == 5
    assert "s3cret" not in result.output
    assert "postgresql+psycopg://team:***@127.0.0.1:1/support" in result.stderr


def test_unknown_database_url_is_exit_5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTCLI_DATABASE_URL", "nosuchdb://x@y/z")
    result = CliRunner().invoke(app, ["due"])
    assert result.exit_code == 5
    assert (
        result.stderr.strip()
        == "supportcli: error: cannot use nosuchdb://x@y/z: not a database URL with a known driver"
    )


def test_exclusive_on_postgresql_is_one_holder_at_a_time(postgres_url: str) -> None:
    from datetime import UTC, datetime

    from supportcli.core.policy import default_policy_source
    from supportcli.locations import StoreLocation
    from supportcli.store.database import open_store

    location = StoreLocation(postgres_url, None)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    first = open_store(location, {}, default_policy_source, now, "alice")
    second = open_store(location, {}, default_policy_source, now, "alice")
    try:
        with first.exclusive("deliver") as mine:
            assert mine is True
            with second.exclusive("deliver") as theirs:
                assert theirs is False
        with second.exclusive("deliver") as after:
            assert after is True
    finally:
        first.close()
        second.close()
