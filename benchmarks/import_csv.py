"""Time ``supportcli import`` of a helpdesk's CSV export: 8,469 generated realistic tickets into a fresh store.

Run: ``.venv/bin/python benchmarks/import_csv.py [--rows 8469] [--repeat 3] [--database-url URL] [--source DIR]``

The file is written the way the public support-ticket data set that prompted it is (README "Moving in
from a spreadsheet"): multi-line quoted descriptions, phone numbers, several channels and priorities,
received times over two years, about two thirds resolved with a first response, a resolution time and a
rating. It uses supportcli's own column names, so the same file can be imported by an older supportcli
(``--source DIR``: the ``src`` directory of another checkout, put first on ``PYTHONPATH``) to compare.
With ``--mapped`` it is written with the helpdesk's names and values instead and imported through
``--map-file`` (only this version reads those).

Each run is a real subprocess of ``python -m supportcli`` into a fresh SQLite file (or, with
``--database-url``, an emptied PostgreSQL database), with SUPPORTCLI_NOW fixed; the figure is the
median wall time over ``--repeat`` runs, start-up and imports included, as a user sees it, with the median
CPU time of the importing process beside it (on a shared machine the steadier figure). On PostgreSQL on this
machine the CPU time of the server process serving the import is given too (read from ``/proc`` while it
runs): the client's CPU and the server's, end to end, are what a quiet machine's wall time would be.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

NOW = "2026-11-24T09:00:00+00:00"
AIM_SECONDS = 5.0
CHANNELS = {"Email": "email", "Phone": "phone", "Chat": "chat", "Social media": "social"}
PRIORITIES = {"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent"}
SUBJECTS = ("Refund request", "Product setup", "Network problem", "Billing inquiry", "Account access", "Delivery")
WORDS = (
    "the",
    "order",
    "arrived",
    "late",
    "and",
    "the",
    "device",
    "will",
    "not",
    "turn",
    "on",
    "after",
    "the",
    "update",
    "please",
    "help",
)
MAP_FILE = """\
[columns]
"Ticket ID" = "reference"
"Customer Name" = "name"
"Customer Email" = "email"
"Customer Phone" = "phone"
"Ticket Subject" = "subject"
"Ticket Description" = "body"
"Ticket Status" = "status"
"Ticket Priority" = "priority"
"Ticket Channel" = "channel"
"Date Opened" = "received_at"
"First Response Time" = "responded_at"
"Time to Resolution" = "resolved_at"
"Customer Satisfaction Rating" = "rating"

[values.status]
"Open" = "new"
"Pending Customer Response" = "waiting"

[values.priority]
"Medium" = "normal"
"Critical" = "urgent"

[values.channel]
"Social media" = "social"
"""


def generate(path: Path, rows: int, mapped: bool, seed: int = 8469) -> None:
    """A realistic CSV of ``rows`` tickets (supportcli's columns, or the helpdesk's with ``mapped``)."""
    rng = random.Random(seed)
    start = datetime(2024, 11, 1, 8, 0)
    if mapped:
        header = [
            "Ticket ID", "Customer Name", "Customer Email", "Customer Phone", "Ticket Subject",
            "Ticket Description", "Ticket Status", "Ticket Priority", "Ticket Channel", "Date Opened",
            "First Response Time", "Time to Resolution", "Customer Satisfaction Rating", "Product Purchased",
        ]  # fmt: skip
    else:
        header = [
            "subject", "body", "channel", "priority", "name", "email", "phone", "received_at",
            "acknowledged_at", "resolved_at", "status",
        ]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(header)
        for number in range(1, rows + 1):
            received = start + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            responded = received + timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
            resolved = responded + timedelta(minutes=rng.randrange(30, 10 * 24 * 60))
            state = rng.choices(("Closed", "Open", "Pending Customer Response"), (2, 1, 1))[0]
            channel, priority = rng.choice(list(CHANNELS)), rng.choice(list(PRIORITIES))
            body = " ".join(rng.choices(WORDS, k=30)) + ".\n" + " ".join(rng.choices(WORDS, k=12)) + ", thanks."
            name = f"Customer {number}"
            email, phone = f"customer{number}@example.com", f"+44 20 7946 {number % 10000:04d}"
            when = "%Y-%m-%d %H:%M"
            if mapped:
                writer.writerow([
                    f"TKT-{number}", name, email, phone, rng.choice(SUBJECTS), body, state, priority, channel,
                    received.strftime(when),
                    responded.strftime("%d/%m/%Y %H:%M") if state != "Open" else "",
                    resolved.strftime(when) if state == "Closed" else "",
                    str(float(rng.randint(1, 5))) if state == "Closed" else "",
                    "GoPro Hero",
                ])  # fmt: skip
            else:
                status = {"Closed": "closed", "Open": "new", "Pending Customer Response": "acknowledged"}[state]
                writer.writerow([
                    rng.choice(SUBJECTS), body, CHANNELS[channel], PRIORITIES[priority], name, email, phone,
                    received.strftime(when),
                    responded.strftime(when) if status != "new" else "",
                    resolved.strftime(when) if status == "closed" else "",
                    status,
                ])  # fmt: skip


def _empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class ServerCpu:
    """The CPU seconds of the local PostgreSQL backends serving one database, sampled from ``/proc`` while they
    run (a backend's process title names its database: ``postgres: USER DATABASE HOST(PORT) …``)."""

    def __init__(self, database: str) -> None:
        self.marker = f" {database} "
        self.seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __enter__(self) -> ServerCpu:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def _watch(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(0.02):
                self._sample()
                return

    def _sample(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if not title.startswith("postgres: ") or self.marker not in title:
                    continue
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:  # gone meanwhile
                continue
            used = (int(fields[11]) + int(fields[12])) / self._tick  # utime and stime, in clock ticks
            self.seconds[int(entry.name)] = max(used, self.seconds.get(int(entry.name), 0.0))


def run_once(csv_path: Path, work: Path, args: argparse.Namespace, extra: list[str]) -> tuple[float, float, float]:
    """One import into a fresh store: its wall time, the CPU time of the process (steadier on a busy machine) and
    that of the PostgreSQL server for it (0 on SQLite, or when the server is not on this machine)."""
    env = {**os.environ, "SUPPORTCLI_NOW": NOW, "SUPPORTCLI_CONFIG_DIR": str(work / "config")}
    env["SUPPORTCLI_CACHE_DIR"] = str(work / "cache")
    if args.source:
        env["PYTHONPATH"] = args.source
    if args.database_url:
        _empty_postgres(args.database_url)
        env["SUPPORTCLI_DATABASE_URL"] = args.database_url
    else:
        store = work / "store.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        env["SUPPORTCLI_DB"] = str(store)
    # The store is created (and the calendar cached) first, so the figure is the import alone plus start-up.
    subprocess.run([sys.executable, "-m", "supportcli", "list", "-q"], env=env, check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    database = args.database_url.rpartition("/")[2].partition("?")[0] if args.database_url else None
    with ServerCpu(database) if database and Path("/proc").is_dir() else contextlib.nullcontext() as server:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "supportcli", "import", str(csv_path), *extra],
            env=env,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server_cpu = server.total if server is not None else 0.0
    if result.returncode != 0:
        raise SystemExit(f"import failed ({result.returncode}): {result.stderr.strip()[:500]}")
    served = f", server {server_cpu:.2f} s CPU" if server_cpu else ""
    print(f"  {elapsed:.2f} s wall, {cpu:.2f} s CPU{served}  {result.stderr.strip().splitlines()[-1]}")
    return elapsed, cpu, server_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8469)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL database to empty and import into")
    parser.add_argument("--source", help="the src directory of another supportcli checkout to time instead")
    parser.add_argument("--mapped", action="store_true", help="the helpdesk's column names, read via --map-file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        csv_path = work / "tickets.csv"
        generate(csv_path, args.rows, args.mapped)
        extra: list[str] = []
        if args.mapped:
            (work / "map.toml").write_text(MAP_FILE, encoding="utf-8")
            extra = ["--map-file", str(work / "map.toml"), "--fix-order"]
        size = csv_path.stat().st_size
        print(f"{args.rows} rows, {size / 1e6:.1f} MB, {'PostgreSQL' if args.database_url else 'SQLite'}")
        times = [run_once(csv_path, work, args, extra) for _ in range(args.repeat)]
    wall, cpu = statistics.median(t for t, _, _ in times), statistics.median(c for _, c, _ in times)
    server = statistics.median(s for _, _, s in times)
    verdict = "met" if wall < AIM_SECONDS else "NOT met"
    served = f" + {server:.2f} s server CPU = {cpu + server:.2f} s" if server else ""
    print(
        f"median {wall:.2f} s wall, {cpu:.2f} s CPU{served} over {len(times)} runs "
        f"(aim: under {AIM_SECONDS:.0f} s: {verdict})"
    )


if __name__ == "__main__":
    main()
