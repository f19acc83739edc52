"""Time ``supportcli import`` of a JSON/NDJSON dump into a new store: CPU and wall seconds, peak memory.

Run: ``nice .venv/bin/python benchmarks/dump_import.py /work/bench/100k.ndjson --store /tmp/import-bench.db``

The import runs in this process, through the real command (``supportcli.cli.app.main``), into a store
that must not exist yet (SQLite; ``--url`` for an empty PostgreSQL database instead), so it is the
moving-in case: secondary indexes built at the end. CPU time (the importing process's, and its line-reading
workers' apart) is reported beside wall time because wall time is disturbed by whatever else the machine runs. The SQLite file and its WAL are removed afterwards
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

DEFAULT_NOW = "2026-11-23T10:00:00+00:00"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path, help="the JSON or NDJSON export to import")
    parser.add_argument("--store", type=Path, help="a new SQLite file to import into")
    parser.add_argument("--url", help="an empty PostgreSQL database (SQLAlchemy URL) to import into instead")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite store afterwards")
    parser.add_argument("--workers", type=int, help="worker processes reading the lines (default: the program's)")
    args = parser.parse_args()
    if (args.store is None) == (args.url is None):
        parser.error("give one of --store or --url")
    if args.store is not None and args.store.exists():
        parser.error(f"{args.store} exists: the import is timed into a new store")
    os.environ.setdefault("SUPPORTCLI_NOW", DEFAULT_NOW)
    os.environ["XDG_CONFIG_HOME"] = os.environ.get("BENCH_CONFIG_HOME", "/tmp/supportcli-bench-no-config")
    if args.url:
        os.environ["SUPPORTCLI_DATABASE_URL"] = args.url
    else:
        os.environ["SUPPORTCLI_DB"] = str(args.store)

    from supportcli.cli.app import main as supportcli

    if args.workers is not None:
        from supportcli.store import dump_workers

        dump_workers.worker_count = lambda: args.workers

    sys.argv = ["supportcli", "import", str(args.dump)]
    cpu, wall = time.process_time(), time.perf_counter()
    code = 0
    try:
        supportcli()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    print(
        f"import: exit {code}, CPU {cpu:.1f} s (+ {children.ru_utime + children.ru_stime:.1f} s in workers), "
        f"wall {wall:.1f} s, peak memory {peak} MB (workers {children.ru_maxrss // 1024} MB), load {load:.1f}"
    )
    if args.store is not None and not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.store}{suffix}").unlink(missing_ok=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
