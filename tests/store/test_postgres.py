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

from helpers import MON_1000, OWN_DATABASE_LOCKS, at
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


def test_a_delivery_lock_lost_with_its_connection_is_known_to_its_holder(postgres_url: str) -> None:
    from datetime import UTC, datetime

    import psycopg

    from supportcli.core.policy import default_policy_source
    from supportcli.locations import StoreLocation
    from supportcli.store.database import open_store

    location = StoreLocation(postgres_url, None)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    first = open_store(location, {}, default_policy_source, now, "alice")
    second = open_store(location, {}, default_policy_source, now, "alice")
    try:
        assert first.holds("deliver") is False
        with first.exclusive("deliver") as mine:
            assert mine is True and first.holds("deliver") is True
            database = postgres_url.rsplit("/", 1)[1]
            with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}", autocommit=True) as admin:
                # the server ends the session that holds the lock (as after a network failure); pg_locks is the
                # whole server's, so only this test's database is looked at (other tests run in parallel)
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
                    f" AND {OWN_DATABASE_LOCKS}",
                    (int.from_bytes(b"deli", "big"),),
                )
            assert first.holds("deliver") is False
            with second.exclusive("deliver") as theirs:
                assert theirs is True
        assert first.holds("deliver") is False
    finally:
        first.close()
        second.close()


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


PASSWORD = "Tr0ub4dor-and-3"


def password_forms(database: str, port: int = 5432) -> list[tuple[str, str]]:
    """Every way a URL can carry the password (trust auth lets the server take any), with how it is shown."""
    where = f"127.0.0.1:{port}/{database}"
    return [
        (f"postgresql+psycopg://postgres:{PASSWORD}@{where}", f"postgresql+psycopg://postgres:***@{where}"),
        (f"postgresql+psycopg://:{PASSWORD}@{where}?user=postgres", f"postgresql+psycopg://:***@{where}?user=postgres"),
        (
            f"postgresql+psycopg://postgres@{where}?password={PASSWORD}",
            f"postgresql+psycopg://postgres@{where}?password=***",
        ),
        (
            f"postgresql+psycopg://postgres:{PASSWORD}@{where}?sslmode=disable&password={PASSWORD}",
            f"postgresql+psycopg://postgres:***@{where}?password=***&sslmode=disable",
        ),
    ]


@pytest.mark.parametrize("form", range(4))
def test_config_show_and_db_check_hide_the_password_in_every_url_form(
    postgres_url: str, form: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, shown = password_forms(postgres_url.rsplit("/", 1)[1])[form]
    monkeypatch.setenv("SUPPORTCLI_DATABASE_URL", url)
    runner = CliRunner()
    for args in (["config", "show"], ["config", "show", "--json"], ["db", "check"], ["db", "check", "--json"]):
        result = runner.invoke(app, args, env=NOW)
        assert result.exit_code == 0, (args, result.output)
        assert PASSWORD not in result.output, args
        assert shown in result.stdout, args


@pytest.mark.parametrize("form", range(4))
def test_an_unreachable_server_error_hides_the_password_in_every_url_form(
    form: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, shown = password_forms("support", port=1)[form]
    monkeypatch.setenv("SUPPORTCLI_DATABASE_URL", url)
    for args in (["list"], ["db", "check"]):
        result = CliRunner().invoke(app, args, env=NOW)
        assert result.exit_code == 5, result.output
        assert PASSWORD not in result.output
        assert result.stderr.startswith(f"supportcli: error: store {shown} is unavailable: ")
        assert len(result.stderr.strip().splitlines()) == 1
