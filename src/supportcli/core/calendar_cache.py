"""An on-disk cache of precomputed working calendars, so most commands never import ``holidays``.

Building the calendar (21 years of working days, with the public holidays from
the ``holidays`` package) costs more than a command's own work. One JSON file
per calendar holds what the build computed, under a key made of everything
the result depends on: the policy's calendar table (timezone, hours, country,
subdivision, closures, day rule), the span of years, the ``holidays`` package
version, the supportcli version and the timezone data. Any policy or package
change is a new key. A file is trusted only when its stored key matches and its
contents are consistent; anything unreadable is rebuilt silently. Writes are
atomic (a temporary file in the same directory, then a rename).

The directory is configured by the caller (the CLI: platformdirs' user cache
dir, or ``SUPPORTCLI_CACHE_DIR``); unconfigured, nothing is cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supportcli.core.calendar import CalendarSpec, WorkingCalendar

FORMAT = 1
_directory: Path | None = None


def configure(directory: Path | None) -> None:
    """Where calendars are cached from now on in this process (None: nowhere)."""
    global _directory
    _directory = directory


def cache_key(spec: CalendarSpec, first_year: int, last_year: int) -> str:
    """Everything a built calendar depends on, as one canonical string."""
    from supportcli import __version__

    return json.dumps(
        {
            "format": FORMAT,
            "supportcli": __version__,
            "holidays": holidays_version(),
            "tzdata": _zone_fingerprint(spec.timezone),
            "timezone": spec.timezone,
            "hours": [[day, hours.opens, hours.closes] for day, hours in spec.hours],
            "country": spec.country,
            "subdivision": spec.subdivision,
            "closures": sorted(day.isoformat() for day in spec.closures),
            "day_rule": str(spec.day_rule),
            "years": [first_year, last_year],
        },
        sort_keys=True,
    )


def path_for(directory: Path, key: str) -> Path:
    """The cache file of a key."""
    return directory / f"calendar-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def load(spec: CalendarSpec, first_year: int, last_year: int) -> WorkingCalendar | None:
    """The cached calendar for this spec and span, or None (no cache, no entry, or an entry not to be trusted)."""
    if _directory is None:
        return None
    from supportcli.core.calendar import WorkingCalendar

    try:
        key = cache_key(spec, first_year, last_year)
        entry = json.loads(path_for(_directory, key).read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        calendar = WorkingCalendar.from_state(spec, entry["state"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if (calendar.first_day.year, calendar.last_day.year) != (first_year, last_year):
        return None
    return calendar


def save(calendar: WorkingCalendar) -> None:
    """Write a built calendar to the cache; a cache that cannot be written is simply not used."""
    if _directory is None:
        return
    key = cache_key(calendar.spec, calendar.first_day.year, calendar.last_day.year)
    _write_atomically(path_for(_directory, key), {"key": key, "state": calendar.state()})


def _write_atomically(target: Path, entry: dict[str, object]) -> None:
    """Write JSON to a temporary file beside ``target``, then rename it over; failures leave no trace."""
    temporary: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, prefix=".tmp-", suffix=".json", delete=False
        ) as handle:
            temporary = Path(handle.name)
            json.dump(entry, handle, separators=(",", ":"))
        temporary.replace(target)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def supported_subdivisions(country: str) -> tuple[str, ...] | None:
    """``holiday_dates.supported_subdivisions`` (policy validation), cached on disk by country and ``holidays`` version."""
    from supportcli.core.holiday_dates import supported_subdivisions as from_package

    if _directory is None:
        return from_package(country)
    key = json.dumps({"format": FORMAT, "holidays": holidays_version(), "subdivisions_of": country}, sort_keys=True)
    path = _directory / f"subdivisions-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        known = entry["subdivisions"]
        if entry.get("key") == key and (known is None or all(isinstance(code, str) for code in known)):
            return None if known is None else tuple(known)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    found = from_package(country)
    _write_atomically(path, {"key": key, "subdivisions": None if found is None else list(found)})
    return found


@cache
def holidays_version() -> str:
    """The installed ``holidays`` version, read from its metadata without importing the package."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("holidays")
    except PackageNotFoundError:
        return "none"


@cache
def _zone_fingerprint(timezone: str) -> str:
    """Which timezone data the calendar's instants came from: the tzdata package or the system file."""
    import zoneinfo

    for root in zoneinfo.TZPATH:
        candidate = Path(root) / timezone
        try:
            found = candidate.stat()
        except (OSError, ValueError):
            continue
        return f"{candidate}:{found.st_size}:{found.st_mtime_ns}"
    try:
        from importlib.metadata import version

        return f"tzdata {version('tzdata')}"
    except Exception:
        return "unknown"
