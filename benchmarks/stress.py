"""Stress supportcli under concurrency and faults: the long versions of tests/test_faults.py.

Run: ``.venv/bin/python benchmarks/stress.py --writers 8 --per-writer 50 [--readers 4] [--kills 20]
[--hold 3] [--postgres URL] [--console] [--seed 20261123] [--keep]``

Three phases against one fresh store (an SQLite file in a temporary directory, or with
``--postgres URL`` a new database created on that server and dropped afterwards):

1. **Writers and readers at once.** ``--writers`` processes each log ``--per-writer`` tickets
   while ``--readers`` processes cycle through ``list --json``, ``due --json`` and ``show 1 --json``
   until every writer is done. Every command must exit 0 with nothing on stderr, every read must
   parse, a reader's listings must never shrink and every ticket a reader sees must have its
   targets. By default the processes are forked from one warmed-up parent (each command a fresh
   invocation of the real Typer app that opens the store afresh, ~0.07 s, instead of ~1 s of
   interpreter start-up and imports); ``--console`` runs every command as its own ``supportcli``
   process instead (realistic, and slow: budget ~1 s of CPU per command).
2. **A held write lock.** Another session takes the write lock (SQLite ``BEGIN IMMEDIATE``;
   PostgreSQL ``pg_advisory_xact_lock``); ``--writers`` processes start, warm up, and each runs
   ``log``; the lock is held ``--hold`` more seconds (on PostgreSQL every writer must be seen
   queued in ``pg_locks``): none may finish while it is held, all must succeed after.
3. **kill -9.** ``--kills`` rounds; in each, a writer loop (chosen with the seeded RNG: the app in
   a loop, many writes a second, or a shell loop of ``supportcli`` starts) is SIGKILLed at a random
   moment while a companion writer keeps logging. Only complete output lines count as
   acknowledged; the companion must finish with every command exiting 0.

Then the checks: SQLite ``integrity_check`` and ``foreign_key_check``; every ticket has exactly one
``logged`` event and at least one target; no id was printed twice; every acknowledged id holds
the subject it was logged with; stored tickets that nobody acknowledged are at most one per kill
(committed, then killed before the id was printed); ``supportcli list --json`` agrees with the
database. Prints a summary; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTCLI = Path(sys.executable).parent / "supportcli"
NOW = "2026-11-23T10:00:00+00:00"
WRITE_LOCK_KEY = 0x5C11  # supportcli.store.database.WRITE_LOCK_KEY
READS = [["list", "--json"], ["due", "--json"], ["show", "1", "--json"]]

# Forks one child per worker from a warmed-up parent; see phase 1 above. Argument: a JSON plan
# {"out": dir, "pause": seconds between a reader's commands, "workers": [[name, commands, loop]]}.
POOL = """\
import contextlib, io, json, os, sys, time
from supportcli.cli.app import app

plan = json.loads(sys.argv[1])
stop = os.path.join(plan["out"], "stop")


def run(command):
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = app(command, standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:
            code = f"raised {type(exc).__name__}: {exc}"
    return {"command": command, "code": code or 0, "out": out.getvalue(), "err": err.getvalue(),
            "seconds": time.monotonic() - started}


def child(name, commands, loop):
    with open(os.path.join(plan["out"], name + ".jsonl"), "w", encoding="utf-8") as out:
        i = 0
        while i < len(commands) or (loop and not os.path.exists(stop)):
            out.write(json.dumps(run(commands[i % len(commands)])) + "\\n")
            out.flush()
            i += 1
            if loop:
                time.sleep(plan["pause"])


warm = run(["calendar", "due", "2026-11-23 10:00", "1wd"])
if warm["code"] != 0:
    sys.exit(f"warm-up failed: {warm}")
pids = {}
for name, commands, loop in plan["workers"]:
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            child(name, commands, loop)
            status = 0
        finally:
            os._exit(status)
    pids[name] = (pid, loop)
failed = []
for loops in (False, True):
    if loops:
        open(stop, "w").close()
    for name, (pid, loop) in pids.items():
        if loop == loops and os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
            failed.append(name)
sys.exit(f"children failed: {failed}" if failed else 0)
"""

# A writer that logs as fast as it can until killed: the real app in a loop, one id a line.
FAST_WRITER = """\
import sys
from supportcli.cli.app import app

prefix = sys.argv[1]
for i in range(1, 1_000_000):
    code = app(["log", f"{prefix}-{i}", "-q"], standalone_mode=False)
    if code:
        sys.exit(code)
"""

# A writer for phase 2: warms up (a read; reads never wait for the write lock), says "ready", then
# logs one ticket, so once every writer is ready they are all queued on the lock within milliseconds.
WARM_WRITER = """\
import contextlib, io, sys
from supportcli.cli.app import app

with contextlib.redirect_stdout(io.StringIO()):
    warm = app(["calendar", "due", "2026-11-23 10:00", "1wd"], standalone_mode=False)
print("ready" if not warm else f"warm-up failed: {warm}", flush=True)
sys.exit(app(["log", sys.argv[1], "-q"], standalone_mode=False) or 0)
"""

# A writer that is not killed: logs N tickets with the real app and prints the ids.
COMPANION = """\
import sys
from supportcli.cli.app import app

for i in range(1, int(sys.argv[2]) + 1):
    code = app(["log", f"{sys.argv[1]}-{i}", "-q"], standalone_mode=False)
    if code:
        sys.exit(code)
"""


@dataclass
class Report:
    """What happened, and what went wrong."""

    failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)  # id -> subject, from printed ids
    printed_twice: list[int] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.failures.append(what)
            print(f"  FAIL: {what}", flush=True)
        return ok

    def note(self, line: str) -> None:
        self.lines.append(line)
        print(f"  {line}", flush=True)

    def acknowledge(self, ticket_id: int, subject: str) -> None:
        if ticket_id in self.acknowledged:
            self.printed_twice.append(ticket_id)
        self.acknowledged[ticket_id] = subject


class Target:
    """The store under test: an SQLite file or a PostgreSQL database, and how to look inside it."""

    def __init__(self, workdir: Path, postgres: str | None, keep: bool) -> None:
        self.workdir, self.keep = workdir, keep
        self.sqlite_path: Path | None = None
        self.admin_url, self.url, self.dbname = postgres, "", ""
        if postgres is None:
            self.sqlite_path = workdir / "store.db"
            self.store_env = {"SUPPORTCLI_DB": str(self.sqlite_path)}
            self.display = str(self.sqlite_path)
        else:
            import psycopg

            self.dbname = f"supportcli_stress_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(_libpq(postgres), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.dbname}"')
            base, _, _ = postgres.rpartition("/")
            self.url = f"{base}/{self.dbname}"
            self.store_env = {"SUPPORTCLI_DATABASE_URL": self.url}
            self.display = self.url

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTCLI_")}
        env.update(
            self.store_env,
            SUPPORTCLI_NOW=NOW,
            SUPPORTCLI_USER="stress",
            SUPPORTCLI_LOCK_TIMEOUT="120",
            XDG_DATA_HOME=str(self.workdir / "xdg-data"),
            XDG_CONFIG_HOME=str(self.workdir / "xdg-config"),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite_path is not None:
            conn = sqlite3.connect(self.sqlite_path, isolation_level=None, timeout=60)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    @contextlib.contextmanager
    def write_lock_held(self) -> Iterator[Any]:
        """Another session holding supportcli's write lock until the block ends."""
        if self.sqlite_path is not None:
            conn = sqlite3.connect(self.sqlite_path, isolation_level=None, timeout=60)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield None
            finally:
                conn.execute("ROLLBACK")
                conn.close()
            return
        import psycopg

        conn = psycopg.connect(_libpq(self.url))
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            yield conn
        finally:
            conn.rollback()
            conn.close()

    def close(self) -> None:
        if self.dbname and not self.keep:
            import psycopg

            with psycopg.connect(_libpq(self.admin_url or ""), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')


def _libpq(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as libpq takes it."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else url


def cli(target: Target, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SUPPORTCLI), *args],
        env=target.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Phase 1 ------------------------------------------------------------------------------------------


def run_pool(target: Target, workers: list[tuple[str, list[list[str]], bool]]) -> dict[str, list[dict]]:
    out = target.workdir / f"pool-{uuid.uuid4().hex[:6]}"
    out.mkdir()
    plan = {"out": str(out), "workers": workers, "pause": 0.05}
    pool = subprocess.run(
        [sys.executable, "-c", POOL, json.dumps(plan)],
        env=target.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if pool.returncode != 0:
        raise RuntimeError(f"the process pool failed: {pool.stderr.strip()}")
    return {
        name: [json.loads(line) for line in (out / f"{name}.jsonl").read_text("utf-8").splitlines()]
        for name, _, _ in workers
    }


def run_console(target: Target, workers: list[tuple[str, list[list[str]], bool]]) -> dict[str, list[dict]]:
    """Every command its own `supportcli` process; a thread per worker waits on them."""
    calls: dict[str, list[dict]] = {name: [] for name, _, _ in workers}
    writers_done = threading.Event()

    def work(name: str, commands: list[list[str]], loop: bool) -> None:
        i = 0
        while i < len(commands) or (loop and not writers_done.is_set()):
            started = time.monotonic()
            done = cli(target, *commands[i % len(commands)])
            calls[name].append(
                {
                    "command": commands[i % len(commands)],
                    "code": done.returncode,
                    "out": done.stdout,
                    "err": done.stderr,
                    "seconds": time.monotonic() - started,
                }
            )
            i += 1

    threads = {name: threading.Thread(target=work, args=(name, cmds, loop)) for name, cmds, loop in workers}
    for thread in threads.values():
        thread.start()
    for name, _, loop in workers:
        if not loop:
            threads[name].join()
    writers_done.set()
    for thread in threads.values():
        thread.join()
    return calls


def phase_writers_and_readers(target: Target, args: argparse.Namespace, report: Report) -> None:
    print(f"phase 1: {args.writers} writers x {args.per_writer} logs, {args.readers} readers", flush=True)
    workers = [
        (f"w{p}", [["log", f"w{p}-{i}", "-q"] for i in range(1, args.per_writer + 1)], False)
        for p in range(1, args.writers + 1)
    ]
    workers += [(f"r{n}", READS[n % 3 :] + READS[: n % 3], True) for n in range(args.readers)]
    started = time.monotonic()
    calls = (run_console if args.console else run_pool)(target, workers)
    elapsed = time.monotonic() - started

    errors, write_seconds = 0, []
    for name, _, loop in workers:
        if loop:
            continue
        for call in calls[name]:
            write_seconds.append(call["seconds"])
            if report.check((call["code"], call["err"]) == (0, ""), f"{name}: {call['command']} -> {call}"):
                report.acknowledge(int(call["out"]), call["command"][1])
            else:
                errors += 1
    reads, read_errors, overlapped = 0, 0, set()
    for name, _, loop in workers:
        if not loop:
            continue
        seen = 0
        for call in calls[name]:
            reads += 1
            ok = report.check((call["code"], call["err"]) == (0, ""), f"{name}: {call['command']} -> {call}")
            try:
                data = json.loads(call["out"]) if ok else None
            except json.JSONDecodeError:
                ok = report.check(False, f"{name}: {call['command']} printed something that is not JSON")
                data = None
            if not ok:
                read_errors += 1
                continue
            if call["command"][0] == "show":
                report.check(data["id"] == 1, f"{name}: show 1 gave ticket {data['id']}")
                continue
            for ticket in data:
                report.check(bool(ticket["targets"]), f"{name}: ticket {ticket['id']} seen without its targets")
            if call["command"][0] == "list":
                report.check(len(data) >= seen, f"{name}: a listing shrank from {seen} to {len(data)}")
                seen = len(data)
                overlapped.add(seen)
    total = args.writers * args.per_writer
    write_seconds.sort()
    p95 = write_seconds[int(len(write_seconds) * 0.95) - 1] if write_seconds else 0.0
    report.note(
        f"phase 1: {len(write_seconds)} writes ({errors} errors), {reads} reads ({read_errors} errors) in "
        f"{elapsed:.1f} s; {len(write_seconds) / elapsed:.1f} writes/s; per write median "
        f"{write_seconds[len(write_seconds) // 2] if write_seconds else 0:.3f} s, p95 {p95:.3f} s, "
        f"max {max(write_seconds, default=0):.3f} s; listing sizes seen by readers: {len(overlapped)} distinct"
    )
    report.check(len(write_seconds) == total, f"phase 1: {len(write_seconds)} writes reported, {total} expected")


# Phase 2 ------------------------------------------------------------------------------------------


def phase_held_lock(target: Target, args: argparse.Namespace, report: Report) -> None:
    print(f"phase 2: the write lock held while {args.writers} writers start, then {args.hold:.1f} s more", flush=True)
    before = target.query("SELECT COUNT(*) FROM tickets")[0][0]
    with target.write_lock_held() as holder:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WARM_WRITER, f"held-{n}"],
                env=target.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(1, args.writers + 1)
        ]
        for n, proc in enumerate(procs, start=1):
            assert proc.stdout is not None
            ready = proc.stdout.readline()
            report.check(ready == "ready\n", f"phase 2: held-{n} did not start: {ready!r}")
        time.sleep(args.hold)  # every writer is now in `log`, queued on the lock
        waiting = None
        if holder is not None:
            waiting = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()[0]
            report.check(waiting == args.writers, f"phase 2: {waiting} writers queued on the lock, not {args.writers}")
        finished_early = [n for n, proc in enumerate(procs, start=1) if proc.poll() is not None]
        during = target.query("SELECT COUNT(*) FROM tickets")[0][0]
        released = time.monotonic()
    report.check(finished_early == [], f"phase 2: writers {finished_early} finished while the lock was held")
    report.check(during == before, "phase 2: tickets appeared while the lock was held")
    latest = 0.0
    for n, proc in enumerate(procs, start=1):
        stdout, stderr = proc.communicate(timeout=300)
        latest = max(latest, time.monotonic() - released)
        if report.check((proc.returncode, stderr) == (0, ""), f"phase 2: held-{n} exit {proc.returncode}: {stderr}"):
            report.acknowledge(int(stdout), f"held-{n}")
    shown = f"{waiting} queued on it (pg_locks); " if waiting is not None else ""
    report.note(f"phase 2: write lock held {args.hold:.1f} s past start-up; {shown}all {args.writers} "
                f"finished within {latest:.2f} s of the release")  # fmt: skip


# Phase 3 ------------------------------------------------------------------------------------------


def phase_kills(target: Target, args: argparse.Namespace, report: Report, rng: random.Random) -> int:
    print(f"phase 3: {args.kills} kill -9 rounds", flush=True)
    script = target.workdir / "fast_writer.py"
    script.write_text(FAST_WRITER, encoding="utf-8")
    killed_while = {"app loop": 0, "console loop": 0}
    for round_no in range(1, args.kills + 1):
        console = rng.random() < 0.3
        prefix = f"k{round_no}"
        if console:
            argv = [
                "/bin/sh",
                "-c",
                f'i=0; while :; do i=$((i+1)); "{SUPPORTCLI}" log "{prefix}-$i" -q || exit 1; done',
            ]
        else:
            argv = [sys.executable, "-u", str(script), prefix]
        victim = subprocess.Popen(
            argv,
            env=target.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # so the kill reaches a shell's child too
        )
        companion = subprocess.Popen(
            [sys.executable, "-c", COMPANION, f"c{round_no}", "5"],
            env=target.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        watchdog = threading.Timer(300, os.killpg, (victim.pid, signal.SIGKILL))
        watchdog.start()
        try:
            assert victim.stdout is not None
            first = victim.stdout.readline()
            if not report.check(first.endswith("\n"), f"phase 3 round {round_no}: writer died early"):
                victim.kill()
                victim.communicate()
                companion.communicate()
                continue
            time.sleep(rng.uniform(0.1, 1.0) if console else rng.uniform(0.0, 0.4))
            os.killpg(victim.pid, signal.SIGKILL)
            rest, stderr = victim.communicate(timeout=60)
        finally:
            watchdog.cancel()
        killed_while["console loop" if console else "app loop"] += 1
        report.check(victim.returncode == -signal.SIGKILL, f"phase 3 round {round_no}: exit {victim.returncode}")
        report.check("Traceback" not in stderr, f"phase 3 round {round_no}: {stderr}")
        for i, line in enumerate((first + rest).split("\n")[:-1], start=1):  # complete lines only
            report.acknowledge(int(line), f"{prefix}-{i}")
        stdout, stderr = companion.communicate(timeout=300)
        if report.check(
            (companion.returncode, stderr) == (0, ""), f"phase 3 round {round_no}: companion failed: {stderr}"
        ):
            for i, line in enumerate(stdout.split(), start=1):
                report.acknowledge(int(line), f"c{round_no}-{i}")
    report.note(
        f"phase 3: {args.kills} kills ({killed_while['app loop']} of an app loop, "
        f"{killed_while['console loop']} of a console-script loop), each beside a companion writer"
    )
    return args.kills


# Checks -------------------------------------------------------------------------------------------


def final_checks(target: Target, report: Report, kills: int) -> None:
    print("checks", flush=True)
    if target.sqlite_path is not None:
        integrity = target.query("PRAGMA integrity_check")
        report.check(integrity == [("ok",)], f"integrity_check: {integrity[:5]}")
        fk = target.query("PRAGMA foreign_key_check")
        report.check(fk == [], f"foreign_key_check: {fk[:5]}")
    bad = target.query(
        "SELECT t.id FROM tickets t WHERE"
        " (SELECT COUNT(*) FROM events e WHERE e.ticket_id = t.id AND e.kind = 'logged') != 1"
        " OR NOT EXISTS (SELECT 1 FROM targets g WHERE g.ticket_id = t.id)"
    )
    report.check(bad == [], f"half-written tickets (not one 'logged' event, or no targets): {bad[:10]}")
    report.check(report.printed_twice == [], f"ids printed twice: {report.printed_twice[:10]}")
    stored = dict(target.query("SELECT id, subject FROM tickets"))
    lost = {i: s for i, s in report.acknowledged.items() if stored.get(i) != s}
    report.check(lost == {}, f"acknowledged but lost or changed: {dict(list(lost.items())[:10])}")
    unacknowledged = sorted(set(stored) - set(report.acknowledged) - {1})
    report.check(
        len(unacknowledged) <= kills,
        f"{len(unacknowledged)} stored tickets nobody acknowledged, more than one per kill ({kills})",
    )
    listed = cli(target, "list", "--json")
    if report.check(listed.returncode == 0, f"list --json after the run: {listed.stderr}"):
        via_cli = {t["id"]: t["subject"] for t in json.loads(listed.stdout)}
        report.check(via_cli == stored, "list --json and the database disagree")
    report.note(
        f"store: {len(stored)} tickets; {len(report.acknowledged)} acknowledged, {len(lost)} lost, "
        f"{len(unacknowledged)} committed but never acknowledged (killed before printing)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=50)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument(
        "--hold",
        type=float,
        default=3.0,
        help="seconds the write lock is held in phase 2 once every writer is in `log`",
    )
    parser.add_argument("--postgres", metavar="URL", help="a server to create a fresh database on")
    parser.add_argument("--console", action="store_true", help="phase 1: every command its own supportcli process")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", action="store_true", help="keep the store (or PostgreSQL database) afterwards")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="supportcli-stress-"))
    target = Target(workdir, args.postgres, args.keep)
    report = Report()
    started = time.monotonic()
    print(f"store: {target.display} (seed {args.seed})", flush=True)
    try:
        seed = cli(target, "log", "seed", "-q")
        if seed.returncode != 0 or seed.stdout.strip() != "1":
            print(f"cannot create the store: {seed.stderr.strip()}", file=sys.stderr)
            return 1
        report.acknowledge(1, "seed")
        phase_writers_and_readers(target, args, report)
        phase_held_lock(target, args, report)
        kills = phase_kills(target, args, report, rng)
        final_checks(target, report, kills)
    finally:
        target.close()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"summary ({time.monotonic() - started:.0f} s, {target.display}{' kept' if args.keep else ''}):")
    for line in report.lines:
        print(f"  {line}")
    if report.failures:
        print(f"FAILED: {len(report.failures)} check(s) failed")
        return 1
    print("OK: no errors, no duplicate ids, nothing lost, store sound")
    return 0


if __name__ == "__main__":
    sys.exit(main())
