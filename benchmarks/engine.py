"""Time the working-time engine: due-time computations per second, against numpy and a naive loop.

Run: ``.venv/bin/python benchmarks/engine.py [--count 200000] [--repeat 3] [--seed 2026]``

The aim (SPEC §3, benchmarks/README.md) is at least 200,000 due-time
computations per second in pure Python on one core, which is what lets
``overdue --notify`` recompute every open ticket from cron without a cache.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

import numpy as np

from supportcli.core.calendar import CalendarSpec, WorkingCalendar, calendar_for
from supportcli.core.calendar_cache import holidays_version
from supportcli.core.durations import Duration, Unit
from supportcli.core.holiday_dates import public_holidays

FIRST = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())
LAST = int(datetime(2031, 12, 31, tzinfo=UTC).timestamp())
AIM_PER_SECOND = 200_000


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """The fastest of ``repeat`` runs (seconds) and the result of the last one."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def naive_close_of_business(
    starts: list[int], days: list[int], zone: ZoneInfo, workdays: frozenset[int], closed: frozenset[date], closes: int
) -> list[int]:
    """The obvious implementation: step one date at a time until N working days have passed."""
    closing = wall_time(closes // 60, closes % 60)
    one_day = timedelta(days=1)
    results = []
    for start, n in zip(starts, days, strict=True):
        day = datetime.fromtimestamp(start, zone).date()
        counted = 0
        while counted < n:
            day += one_day
            if day.weekday() in workdays and day not in closed:
                counted += 1
        results.append(int(datetime.combine(day, closing, tzinfo=zone).timestamp()))
    return results


def numpy_close_of_business(
    local_days: np.ndarray, days: np.ndarray, busdays: np.busdaycalendar, closing_epochs: np.ndarray
) -> np.ndarray:
    """Vectorised: N working days after each local date, as the closing instant in epoch seconds.

    ``closing_epochs[n]`` is the closing instant of the n-th day after 1970-01-01. A non-working
    date rolls back to the working day before it, whose N-th successor is N working days after it.
    """
    due_days = np.busday_offset(local_days, days, roll="backward", busdaycal=busdays)
    return closing_epochs[due_days.astype(np.int64)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="random start instants (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    count, repeat = args.count, args.repeat

    spec = CalendarSpec()
    zone = ZoneInfo(spec.timezone)
    rows: list[tuple[str, int, float]] = []

    # Calendar build: the first includes importing holidays and loading 21 years of them.
    started = time.perf_counter()
    cal = calendar_for(spec, 2026)
    rows.append(("build calendar 2016–2036, cold (holidays import)", 1, time.perf_counter() - started))
    build_seconds, _ = best_of(repeat, lambda: WorkingCalendar(spec, 2016, 2036))
    rows.append(("build calendar 2016–2036, warm (holidays cached)", 1, build_seconds))

    rng = random.Random(args.seed)
    starts = [rng.randrange(FIRST, LAST) for _ in range(count)]
    day_amounts = [rng.randint(1, 20) for _ in range(count)]
    hour_amounts = [rng.randint(1, 40) for _ in range(count)]
    wd = [Duration(n, Unit.WORKING_DAYS) for n in day_amounts]
    wh = [Duration(n, Unit.WORKING_HOURS) for n in hour_amounts]
    start_datetimes = [datetime.fromtimestamp(start, UTC) for start in starts]
    due_epoch = cal.due_epoch

    seconds, engine_days = best_of(repeat, lambda: [due_epoch(start, d) for start, d in zip(starts, wd, strict=True)])
    rows.append(("engine due_epoch, close-of-business wd", count, seconds))
    seconds, engine_hours = best_of(repeat, lambda: [due_epoch(start, d) for start, d in zip(starts, wh, strict=True)])
    rows.append(("engine due_epoch, wh", count, seconds))
    seconds, _ = best_of(repeat, lambda: [cal.due(start, d) for start, d in zip(start_datetimes, wd, strict=True)])
    rows.append(("engine due(datetime), wd", count, seconds))
    seconds, _ = best_of(repeat, lambda: [cal.due(start, d) for start, d in zip(start_datetimes, wh, strict=True)])
    rows.append(("engine due(datetime), wh", count, seconds))
    position = cal.position
    seconds, _ = best_of(
        repeat, lambda: [position(due) - position(start) for start, due in zip(starts, engine_hours, strict=True)]
    )
    rows.append(("engine countdown (position difference)", count, seconds))

    # numpy: local dates and the closing instant of every date are prepared outside the timing,
    # as the engine prepares its tables at build time; busday_offset itself is timed.
    closed = frozenset(public_holidays(spec.country, spec.subdivision, 2016, 2036)) | spec.closures
    busdays = np.busdaycalendar(weekmask=[day in spec.workdays for day in range(7)], holidays=sorted(closed))
    local_days = np.array([datetime.fromtimestamp(start, zone).date() for start in starts], dtype="datetime64[D]")
    closes = spec.hours[0][1].closes
    epoch_day = date(1970, 1, 1)
    closing_epochs = np.array(
        [
            int(datetime.combine(epoch_day + timedelta(days=n), wall_time(closes // 60), tzinfo=zone).timestamp())
            for n in range((date(2037, 1, 1) - epoch_day).days)
        ],
        dtype=np.int64,
    )
    amounts = np.array(day_amounts, dtype=np.int64)
    seconds, numpy_days = best_of(repeat, lambda: numpy_close_of_business(local_days, amounts, busdays, closing_epochs))
    rows.append(("numpy busday_offset (vectorised), wd", count, seconds))

    workdays = frozenset(spec.workdays)
    seconds, naive_days = best_of(
        repeat, lambda: naive_close_of_business(starts, day_amounts, zone, workdays, closed, closes)
    )
    rows.append(("naive day-stepping loop, wd", count, seconds))

    # A year ahead (250wd): the engine's cost does not grow with N, the naive loop's does.
    year_count = max(1, count // 10)
    year = Duration(250, Unit.WORKING_DAYS)
    seconds, _ = best_of(repeat, lambda: [due_epoch(start, year) for start in starts[:year_count]])
    rows.append(("engine due_epoch, 250wd", year_count, seconds))
    seconds, _ = best_of(
        repeat,
        lambda: naive_close_of_business(starts[:year_count], [250] * year_count, zone, workdays, closed, closes),
    )
    rows.append(("naive day-stepping loop, 250wd", year_count, seconds))

    agree_numpy = list(numpy_days) == engine_days  # type: ignore[arg-type]
    agree_naive = naive_days == engine_days

    print(f"supportcli working-time engine — Europe/London, Mon–Fri 09:00–17:00, GB/ENG, holidays {holidays_version()}")
    print(f"{count:,} random starts 2021–2031, 1–20 wd / 1–40 wh; best of {repeat} runs\n")
    print(f"{'computation':<48} {'n':>9} {'seconds':>9} {'per second':>12} {'µs each':>9}")
    for name, n, elapsed in rows:
        if n == 1:  # a one-off cost: per second means nothing
            print(f"{name:<48} {n:>9,} {elapsed:>9.3f} {'':>12} {elapsed * 1e6:>9.0f}")
        else:
            print(f"{name:<48} {n:>9,} {elapsed:>9.3f} {n / elapsed:>12,.0f} {elapsed / n * 1e6:>9.2f}")
    print()
    print(f"numpy agrees with the engine on every start: {'yes' if agree_numpy else 'NO'}")
    print(f"naive loop agrees with the engine on every start: {'yes' if agree_naive else 'NO'}")
    slowest = min(n / elapsed for name, n, elapsed in rows if name.startswith("engine due_epoch"))
    verdict = "met" if slowest >= AIM_PER_SECOND else "MISSED"
    print(f"aim ≥{AIM_PER_SECOND:,} due times per second (due_epoch, pure Python): {verdict} ({slowest:,.0f}/s)")


if __name__ == "__main__":
    main()
