"""Time ``overdue --json`` on a store with a large open backlog and on one without, against the import floor.

Run: ``.venv/bin/python benchmarks/overdue_rows.py --backlog-store A.db --plain-store B.db [--rounds 11]
[--tree NAME=SRC ...]``

Build the stores first (the same size and seed, so only the backlog differs)::

    .venv/bin/python benchmarks/build_store.py --tickets 100000 --backlog 0.05 --out /tmp/backlog.db
    .venv/bin/python benchmarks/build_store.py --tickets 100000 --backlog 0 --out /tmp/plain.db

Every round runs, for each source tree, the floor (``commands.FLOOR``) and then ``overdue --json`` on both
stores as real subprocesses, interleaved so that all see the same machine load. It prints per tree:

- the ratio to the floor on the backlog store (min/min and median/median);
- the time beyond the floor per breached row on the backlog store (what a cron user waits per row, with
  every fixed cost of opening the store included);
- the cost of one more row: the difference between the two stores over the difference in their breached
  rows, which leaves the fixed costs (imports, opening the store, the calendar) out.

``--tree NAME=SRC`` times another checkout's ``src`` (e.g. ``before=/tmp/before/src`` from ``git worktree
add /tmp/before HEAD~1``) through ``PYTHONPATH`` with the same interpreter; the current tree is always timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_store import DEFAULT_NOW
from commands import FLOOR, compile_package, query, run


def breached(store: Path, now: str) -> int:
    """How many breached pending targets of open tickets the store holds at ``now`` (``overdue``'s rows)."""
    instant = now.replace("T", " ").split("+")[0]
    sql = f"SELECT count(*) FROM targets WHERE state = 'pending' AND due_at < '{instant}'"
    return int(query(store, sql)[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog-store", type=Path, required=True, help="a store with a large breached backlog")
    parser.add_argument("--plain-store", type=Path, required=True, help="the same store built without it")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--now", default=DEFAULT_NOW)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=SRC", help="another source tree")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()

    python = sys.executable
    cli = str(Path(python).with_name("supportcli"))
    config = tempfile.mkdtemp(prefix="supportcli-bench-config-")
    base = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    base |= {"SUPPORTCLI_NOW": args.now, "XDG_CONFIG_HOME": config, "PYTHONPYCACHEPREFIX": config + "/pyc"}
    trees: dict[str, dict[str, str]] = {"current": dict(base)}
    for given in args.tree:
        name, _, src = given.partition("=")
        trees[name] = dict(base, PYTHONPATH=src)
    for env in trees.values():
        compile_package(python, env)
    stores = {"backlog": args.backlog_store, "plain": args.plain_store}
    rows = {name: breached(path, args.now) for name, path in stores.items()}
    walls: dict[str, dict[str, list[float]]] = {tree: {"floor": [], **{s: [] for s in stores}} for tree in trees}
    for _ in range(args.rounds):
        for tree, env in trees.items():
            walls[tree]["floor"].append(run([python, "-c", FLOOR], env)[0])
            for name, path in stores.items():
                wall, _rss, code, tail, _cpu = run([cli, "overdue", "--json"], dict(env, SUPPORTCLI_DB=str(path)))
                if code != 0:
                    raise SystemExit(f"overdue --json on {path} ({tree}) exited {code}: {tail}")
                walls[tree][name].append(wall)

    results = {}
    print(f"breached rows: backlog store {rows['backlog']:,}, plain store {rows['plain']:,}; {args.rounds} rounds")
    for tree, figures in walls.items():
        low = {name: min(values) for name, values in figures.items()}
        mid = {name: statistics.median(values) for name, values in figures.items()}
        extra_rows = rows["backlog"] - rows["plain"]
        result = {
            "floor_min_s": low["floor"],
            "backlog_min_s": low["backlog"],
            "plain_min_s": low["plain"],
            "ratio_min": low["backlog"] / low["floor"],
            "ratio_median": mid["backlog"] / mid["floor"],
            "us_per_row_beyond_floor": (low["backlog"] - low["floor"]) / rows["backlog"] * 1e6,
            "us_per_extra_row_min": (low["backlog"] - low["plain"]) / extra_rows * 1e6,
            "us_per_extra_row_median": (mid["backlog"] - mid["plain"]) / extra_rows * 1e6,
        }
        results[tree] = result
        print(
            f"{tree:>8}: floor {low['floor']:.3f} s, backlog {low['backlog']:.3f} s, plain {low['plain']:.3f} s"
            f" (minimums); ratio {result['ratio_min']:.2f}× min/min, {result['ratio_median']:.2f}× median;"
            f" {result['us_per_row_beyond_floor']:.1f} µs a row beyond the floor;"
            f" one more row {result['us_per_extra_row_min']:.1f} µs (min), {result['us_per_extra_row_median']:.1f} µs"
            " (median)"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps({"rows": rows, "results": results, "walls": walls}, indent=2))


if __name__ == "__main__":
    main()
