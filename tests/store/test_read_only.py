"""A store this user cannot write (file 0400, directory not writable, read-only filesystem) can still be read;
every write stops with one line saying the store is read-only (exit 5; mail-in 75, so the mail is kept).

The tests run as root, and root ignores file modes, so two ways make the condition real:

- in-process runs see ``os.access`` answer as the store's (non-root) owner would from the mode bits, which
  is exactly what the program asks; SQLite itself is then opened read-only by the program, so even as
  root nothing can be written, and the directory is checked for files SQLite might have left;
- a real process on a read-only bind mount, in a private mount namespace, where root too is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import Cli, at, ok

pytestmark = pytest.mark.sqlite_only(reason="file and directory permissions of an SQLite store")

NOW = "2026-11-23T10:00:00+00:00"
SUPPORTCLI = Path(sys.executable).parent / "supportcli"
OWNER, OTHERS = 6, 0  # where a class's permission bits sit in st_mode


def access_as(shift: int) -> Callable[..., bool]:
    """``os.access`` as a user who is not root would get it: from the permission bits of one class."""
    real = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if mode == os.F_OK:
            return real(path, mode, **kwargs)  # type: ignore[arg-type]
        try:
            bits = Path(path).stat().st_mode >> shift  # type: ignore[arg-type]
        except OSError:
            return False
        wanted = [(os.R_OK, 4), (os.W_OK, 2), (os.X_OK, 1)]
        return all(bits & bit for flag, bit in wanted if mode & flag)

    return access


def files_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.fixture
def store_dir(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory of its own holding the store (so it can be made read-only), given back writable afterwards.

    After ``cli``, whose store setting this replaces.
    """
    directory = tmp_path / "store"
    directory.mkdir()
    monkeypatch.setenv("SUPPORTCLI_DB", str(directory / "support.db"))
    yield directory
    directory.chmod(0o700)


@pytest.fixture
def two_tickets(cli: Cli, store_dir: Path) -> Path:
    """Two tickets, logged with write access; returns the store file."""
    ok(cli("log", "Printer on fire", "--channel", "phone", "-q", env=at(NOW)))
    ok(cli("log", "Toner everywhere", "-q", env=at(NOW)))
    return store_dir / "support.db"


def reads_work(cli: Cli, store: Path) -> None:
    listed = json.loads(ok(cli("list", "--json", env=at(NOW))).stdout)
    assert [ticket["subject"] for ticket in listed] == ["Printer on fire", "Toner everywhere"]
    exported = json.loads(ok(cli("export", env=at(NOW))).stdout)
    assert len(exported["tickets"]) == 2
    checked = json.loads(ok(cli("db", "check", "--json", env=at(NOW))).stdout)
    assert checked["ok"] is True and checked["counts"]["tickets"] == 2
    assert ok(cli("show", "1", env=at(NOW))).stdout.startswith("#1 Printer on fire")


def writes_are_refused(cli: Cli, store: Path, reason: str) -> None:
    line = f"supportcli: error: store {store} is read-only ({reason}); nothing was written"
    for args in (("log", "Another"), ("ack", "1"), ("update", "1", "-m", "x"), ("overdue", "--notify")):
        result = cli(*args, env=at(NOW))
        assert (result.exit_code, result.stderr.strip()) == (5, line), args
    mailed = cli("mail-in", input="From: ann@example.com\nSubject: Help\n\nPlease.\n", env=at(NOW))
    assert mailed.exit_code == 75  # the mail server keeps the message and tries again
    assert "is read-only" in mailed.stderr
    assert len(json.loads(ok(cli("list", "--json", env=at(NOW))).stdout)) == 2


def test_a_store_file_that_is_not_writable_can_be_read_and_refuses_writes(
    cli: Cli, two_tickets: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_tickets.chmod(0o400)
    monkeypatch.setattr(os, "access", access_as(OWNER))
    before = files_in(store_dir)
    reads_work(cli, two_tickets)
    writes_are_refused(cli, two_tickets, "the file is not writable")
    # no -shm or -wal left behind: a read-only one would stop its owner writing later
    assert files_in(store_dir) == before == ["support.db"]


def test_a_store_in_a_directory_that_is_not_writable_can_be_read_and_refuses_writes(
    cli: Cli, two_tickets: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir.chmod(0o555)
    monkeypatch.setattr(os, "access", access_as(OWNER))
    reads_work(cli, two_tickets)
    writes_are_refused(cli, two_tickets, "its directory is not writable")
    assert files_in(store_dir) == ["support.db"]


def test_a_read_only_store_open_elsewhere_is_read_with_its_latest_writes(
    cli: Cli, two_tickets: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = sqlite3.connect(two_tickets)  # another user's open connection keeps the write-ahead log
    try:
        writer.execute("SELECT count(*) FROM tickets").fetchone()
        ok(cli("log", "Paper jam", "-q", env=at(NOW)))
        assert Path(f"{two_tickets}-wal").stat().st_size > 0, "control: the last ticket is still in the WAL"
        two_tickets.chmod(0o400)
        monkeypatch.setattr(os, "access", access_as(OWNER))
        listed = json.loads(ok(cli("list", "--json", env=at(NOW))).stdout)
        assert [ticket["subject"] for ticket in listed] == ["Printer on fire", "Toner everywhere", "Paper jam"]
    finally:
        writer.close()


def test_a_store_read_only_for_me_but_writable_by_its_owner_is_refused_rather_than_read_unsafely(
    cli: Cli, two_tickets: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_tickets.chmod(0o644)
    store_dir.chmod(0o755)
    monkeypatch.setattr(os, "access", access_as(OTHERS))  # another user: may read, may not write
    result = cli("list", env=at(NOW))
    assert result.exit_code == 5
    assert result.stderr.strip() == (
        f"supportcli: error: cannot read store {two_tickets} safely: it is read-only for you "
        "(the file is not writable) but others may write to it; read it as its owner, "
        f"or make it read-only for everyone (chmod a-w {two_tickets})"
    )
    assert files_in(store_dir) == ["support.db"]


def _can_mount_privately() -> bool:
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(
    not _can_mount_privately(), reason="needs unshare -m (a private mount namespace) for a read-only mount"
)
def test_a_store_on_a_read_only_filesystem_is_read_by_a_real_process(
    cli: Cli, two_tickets: Path, store_dir: Path
) -> None:
    env = {**os.environ, "SUPPORTCLI_NOW": NOW}

    def on_read_only_mount(*args: str) -> subprocess.CompletedProcess[str]:
        script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        return subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(store_dir), str(SUPPORTCLI), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    listed = on_read_only_mount("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [ticket["id"] for ticket in json.loads(listed.stdout)] == [1, 2]
    checked = on_read_only_mount("db", "check")
    assert checked.returncode == 0, checked.stderr
    assert on_read_only_mount("export").returncode == 0
    refused = on_read_only_mount("log", "Another")
    assert refused.returncode == 5
    assert refused.stderr.strip() == (
        f"supportcli: error: store {two_tickets} is read-only (it is on a read-only filesystem); nothing was written"
    )
    assert files_in(store_dir) == ["support.db"]
