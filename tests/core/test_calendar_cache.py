"""The on-disk calendar cache: same answers as a fresh build, never trusted blindly, rebuilt silently."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from supportcli.core import calendar_cache
from supportcli.core.calendar import CalendarSpec, WorkingCalendar
from supportcli.core.durations import parse_duration

SPEC = CalendarSpec()
YEARS = (2020, 2032)
STARTS = [datetime(2026, 12, 23, 12, 0, tzinfo=UTC), datetime(2027, 3, 26, 16, 45, tzinfo=UTC)]
DURATIONS = ["1wd", "2wd", "4wh", "10wd"]


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "calendar-cache"
    calendar_cache.configure(directory)
    yield directory
    calendar_cache.configure(None)


def answers(calendar: WorkingCalendar) -> list[object]:
    due_times = [calendar.due(start, parse_duration(text)) for start in STARTS for text in DURATIONS]
    return [*due_times, calendar.holidays, calendar.day_length_seconds, calendar.state()]


def build_and_save() -> WorkingCalendar:
    built = WorkingCalendar(SPEC, *YEARS)
    calendar_cache.save(built)
    return built


def test_a_cache_hit_gives_the_same_calendar_as_a_fresh_build(cache_dir: Path) -> None:
    built = build_and_save()
    cached = calendar_cache.load(SPEC, *YEARS)
    assert cached is not None and cached is not built
    assert answers(cached) == answers(built)
    assert cached.explain(STARTS[0], parse_duration("2wd")) == built.explain(STARTS[0], parse_duration("2wd"))


def test_nothing_is_cached_when_no_directory_is_configured(tmp_path: Path) -> None:
    calendar_cache.configure(None)
    calendar_cache.save(WorkingCalendar(SPEC, *YEARS))
    assert calendar_cache.load(SPEC, *YEARS) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "not json",
        lambda text: "[]",
        lambda text: text.replace('"opens":[', '"opens":["x",', 1),  # wrong types
        lambda text: text.replace('"closes":[', '"closes":[1,', 1),  # inconsistent lengths
        lambda text: json.dumps({**json.loads(text), "key": "another key"}),  # a stored key that does not match
    ],
)
def test_a_corrupt_entry_is_ignored_and_rebuilt_silently(cache_dir: Path, damage: object) -> None:
    built = build_and_save()
    (entry,) = cache_dir.glob("calendar-*.json")
    entry.write_text(damage(entry.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    assert calendar_cache.load(SPEC, *YEARS) is None

    from supportcli.core.calendar import calendar_for

    calendar_for.cache_clear()
    rebuilt = calendar_for(SPEC, 2026, 6, 6)
    assert answers(rebuilt) == answers(built)
    assert calendar_cache.load(SPEC, *YEARS) is not None  # and written back whole


def test_different_specs_spans_and_holidays_versions_are_different_entries(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = calendar_cache.cache_key(SPEC, *YEARS)
    closed = CalendarSpec(closures=frozenset({date(2026, 12, 24)}))
    scottish = CalendarSpec(subdivision="SCT")
    keys = {
        base,
        calendar_cache.cache_key(closed, *YEARS),
        calendar_cache.cache_key(scottish, *YEARS),
        calendar_cache.cache_key(SPEC, 2021, 2033),
    }
    monkeypatch.setattr(calendar_cache, "holidays_version", lambda: "0.999")
    keys.add(calendar_cache.cache_key(SPEC, *YEARS))
    assert len(keys) == 5
    assert len({calendar_cache.path_for(cache_dir, key) for key in keys}) == 5


def test_an_entry_for_another_holidays_version_is_not_used(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_and_save()
    assert calendar_cache.load(SPEC, *YEARS) is not None
    monkeypatch.setattr(calendar_cache, "holidays_version", lambda: "0.999")
    assert calendar_cache.load(SPEC, *YEARS) is None


def test_an_unwritable_cache_directory_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    calendar_cache.configure(blocker / "cache")
    try:
        calendar_cache.save(WorkingCalendar(SPEC, *YEARS))
        assert calendar_cache.load(SPEC, *YEARS) is None
    finally:
        calendar_cache.configure(None)


def test_a_warm_cache_spares_the_holidays_import(tmp_path: Path) -> None:
    """The point of the cache: commands that compute due times import `holidays` only when it is cold."""
    env = {
        "SUPPORTCLI_DB": str(tmp_path / "store.db"),
        "SUPPORTCLI_CACHE_DIR": str(tmp_path / "cache"),
        "SUPPORTCLI_CONFIG_DIR": str(tmp_path / "config"),
        "SUPPORTCLI_NOW": "2026-11-23T10:00:00+00:00",
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-X", "importtime", "-m", "supportcli", "calendar", "due", "2026-12-23 12:00", "2wd"]
    runs = [subprocess.run(command, capture_output=True, text=True, env=env, timeout=60) for _ in range(2)]
    assert [run.stdout for run in runs] == ["2026-12-29T17:00:00+00:00\n"] * 2
    imported = [{line.split("|")[-1].strip() for line in run.stderr.splitlines()} for run in runs]
    assert "holidays" in imported[0]
    assert "holidays" not in imported[1]
