"""Time supportcli's start-up: help, Tab completion and a due-time command cold and warm, against the floor.

Run: ``.venv/bin/python benchmarks/startup.py [--rounds 21]``

Every command is a real subprocess of the installed ``supportcli`` (the script next to
``sys.executable``), stdout to /dev/null. The floor is ``python -c "import typer, rich.table"``.
Each round runs the floor and then every command once, so all see the same machine load; the
figures are medians over the rounds, and the ratio is each command's median over the floor's.

A small store (three tickets, two staff) is made in a temporary directory for the completions.
"Cold" runs of ``calendar due`` and ``log`` start with an empty calendar cache
(SUPPORTCLI_CACHE_DIR), so they build the calendar and import ``holidays``; "warm" runs reuse it.

The aim (issue #8): ``--help`` and ``COMMAND --help`` within 1.3× the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AIM = 1.3
NOW = "2026-11-23T10:00:00+00:00"


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="rounds of every command (default 21)")
    args = parser.parse_args()

    supportcli = str(Path(sys.executable).with_name("supportcli"))
    work = Path(tempfile.mkdtemp(prefix="supportcli-startup-"))
    try:
        base = {
            **os.environ,
            "SUPPORTCLI_DB": str(work / "store.db"),
            "SUPPORTCLI_CONFIG_DIR": str(work / "config"),
            "SUPPORTCLI_CACHE_DIR": str(work / "cache"),
            "SUPPORTCLI_NOW": NOW,
        }
        for setup in (
            ["staff", "add", "priya", "--email", "priya@example.org"],
            ["staff", "add", "sam", "--email", "sam@example.org"],
            ["log", "Printer on fire", "-q"],
            ["log", "Invoice sent to old address", "-q"],
            ["log", "Engineer never came", "-q"],
        ):
            subprocess.run([supportcli, *setup], env=base, check=True, capture_output=True)

        def completion(line: str) -> dict[str, str]:
            words = line.split()
            cword = len(words) if line.endswith(" ") else len(words) - 1
            return {**base, "_SUPPORTCLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}

        cold = {**base, "SUPPORTCLI_CACHE_DIR": str(work / "cold-cache")}
        commands: dict[str, tuple[list[str], dict[str, str], bool]] = {
            "floor: import typer, rich.table": ([sys.executable, "-c", "import typer, rich.table"], base, False),
            "supportcli --help": ([supportcli, "--help"], base, False),
            "supportcli log --help": ([supportcli, "log", "--help"], base, False),
            "supportcli staff away --help": ([supportcli, "staff", "away", "--help"], base, False),
            "complete: supportcli l<TAB>": ([supportcli], completion("supportcli l"), False),
            "complete: supportcli show <TAB>": ([supportcli], completion("supportcli show "), False),
            "complete: supportcli assign 2 <TAB>": ([supportcli], completion("supportcli assign 2 "), False),
            "calendar due ... 2wd, cold cache": (
                [supportcli, "calendar", "due", "2026-12-23 12:00", "2wd"],
                cold,
                True,
            ),
            "calendar due ... 2wd, warm cache": (
                [supportcli, "calendar", "due", "2026-12-23 12:00", "2wd"],
                base,
                False,
            ),
            "log ..., cold cache": ([supportcli, "log", "Benchmark ticket", "-q"], cold, True),
            "log ..., warm cache": ([supportcli, "log", "Benchmark ticket", "-q"], base, False),
        }
        timings: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, (command, env, empty_cache_first) in commands.items():
                if empty_cache_first:
                    shutil.rmtree(work / "cold-cache", ignore_errors=True)
                timings[name].append(timed(command, env))

        floor = statistics.median(timings["floor: import typer, rich.table"])
        print(f"{args.rounds} rounds; median ms and ratio to the floor\n")
        print(f"{'command':40} {'median ms':>10} {'× floor':>8}")
        for name, values in timings.items():
            median = statistics.median(values)
            print(f"{name:40} {median * 1000:10.1f} {median / floor:8.2f}")
        helps = [name for name in timings if name.endswith("--help")]
        worst = max(statistics.median(timings[name]) / floor for name in helps)
        print(f"\nhelp aim ({AIM}× the floor): {'met' if worst <= AIM else 'NOT met'} (worst {worst:.2f}×)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
