"""A full disk on every write path, through the real CLI on both backends: one line saying the store is full,
exit 5, nothing written, also when the failure surfaces from a savepoint (an import's rows).

On SQLite the store file is capped with ``PRAGMA max_page_count`` on each connection the program opens, so a
write that needs another page fails with SQLITE_FULL, "database or disk is full", as on a full disk. On
PostgreSQL the server itself raises SQLSTATE 53100 (disk_full) with the words a full disk gives, from a trigger
on the history table that every write path adds to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import MON_1000, Cli, Snapshot, at, execute, log, ok, refused

REAL_SQLITE_CONNECT = sqlite3.connect
BIG = "Pasted log: " + "x" * 200_000  # far more than one more page
FULL = "is full (disk full); nothing was written"


@pytest.fixture
def full_disk(backend: str, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """``full_disk(True)`` fills the store's disk, ``full_disk(False)`` frees it again."""
    cap = {"on": False}

    def capped_connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        connection = REAL_SQLITE_CONNECT(*args, **kwargs)
        if cap["on"]:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {pages + 1}")
        return connection

    def fill(on: bool) -> None:
        if backend == "sqlite":
            cap["on"] = on
        elif on:
            execute(
                store_url,
                "CREATE FUNCTION test_no_room() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'could not extend file \"base/16384/16402\": No space left on device' "
                "USING ERRCODE = 'disk_full'; END $$; "
                "CREATE TRIGGER test_no_room BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_no_room()",
            )
        else:
            execute(store_url, "DROP TRIGGER test_no_room ON events; DROP FUNCTION test_no_room()")

    monkeypatch.setattr(sqlite3, "connect", capped_connect)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", capped_connect)
    yield fill


@pytest.fixture
def spreadsheet(tmp_path: Path) -> Path:
    path = tmp_path / "old-helpdesk.csv"
    path.write_text("subject,body\n" + "".join(f"Row {n},{'y' * 5000}\n" for n in range(100)), encoding="utf-8")
    return path


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    """An NDJSON export of another store: 30 tickets with long bodies, written back in bulk by ``import``
    (``store.bulk``: the driver's own executemany on SQLite, COPY on PostgreSQL)."""
    from typer.testing import CliRunner

    from supportcli.cli.app import app

    runner, other, path = CliRunner(), tmp_path / "other.db", tmp_path / "backup.ndjson"
    for n in range(30):
        made = runner.invoke(app, ["--db", str(other), "log", f"Row {n}", "--body", "z" * 5000, "-q"], env=at(MON_1000))
        assert made.exit_code == 0, made.output
    exported = runner.invoke(
        app, ["--db", str(other), "export", "--format", "ndjson", "-o", str(path)], env=at(MON_1000)
    )
    assert exported.exit_code == 0, exported.output
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["log", "Attachment pasted in", "--body", BIG, "-q"],
        ["update", "1", "-m", BIG],
        ["import", "{spreadsheet}"],
        ["import", "{spreadsheet}", "--skip-invalid"],
        ["import", "{dump}", "--on-conflict", "renumber"],
    ],
    ids=["log", "update", "import", "import-skip-invalid", "import-dump"],
)
def test_a_full_disk_is_one_line_exit_5_and_writes_nothing(
    cli: Cli,
    snapshot: Callable[[], Snapshot],
    full_disk: Callable[[bool], None],
    spreadsheet: Path,
    dump: Path,
    command: list[str],
) -> None:
    log(cli, "one")
    before = snapshot()
    full_disk(True)
    arguments = [part.format(spreadsheet=spreadsheet, dump=dump) for part in command]
    line = refused(cli(*arguments, env=at(MON_1000)), 5, FULL)
    assert "savepoint" not in line
    ok(cli("show", "1", "--json", env=at(MON_1000)))  # reads still work on a full store
    full_disk(False)
    assert snapshot() == before
    ok(cli(*arguments, env=at(MON_1000)))  # with room again, the same write succeeds
