"""Durations as written in policies and on the command line: ``5wd``, ``4wh``, ``2d``…

Working units (``wd``, ``wh``, ``wm``) are counted on a business calendar;
calendar units (``min``, ``h``, ``d``, ``w``, ``y``) are plain elapsed time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from supportcli.errors import InvalidInput


class Unit(StrEnum):
    """The unit of a duration; the value is its short form."""

    WORKING_DAYS = "wd"
    WORKING_HOURS = "wh"
    WORKING_MINUTES = "wm"
    MINUTES = "min"
    HOURS = "h"
    DAYS = "d"
    WEEKS = "w"
    YEARS = "y"


WORKING_UNITS = frozenset({Unit.WORKING_DAYS, Unit.WORKING_HOURS, Unit.WORKING_MINUTES})

_LONG_FORMS: dict[str, Unit] = {
    "working day": Unit.WORKING_DAYS,
    "business day": Unit.WORKING_DAYS,
    "working hour": Unit.WORKING_HOURS,
    "business hour": Unit.WORKING_HOURS,
    "working minute": Unit.WORKING_MINUTES,
    "business minute": Unit.WORKING_MINUTES,
    "minute": Unit.MINUTES,
    "min": Unit.MINUTES,
    "hour": Unit.HOURS,
    "day": Unit.DAYS,
    "week": Unit.WEEKS,
    "year": Unit.YEARS,
}
_SHORT_FORMS = {unit.value: unit for unit in Unit}
_PATTERN = re.compile(r"^\s*(\d+)\s*([a-z][a-z ]*?)s?\s*$")

DURATION_HELP = "use e.g. 1wd, 4wh, 30wm, 5d, 8h, 2y or '5 working days'"


@dataclass(frozen=True, slots=True)
class Duration:
    """A whole number of some unit; ``Duration(5, Unit.WORKING_DAYS)`` is ``5wd``."""

    amount: int
    unit: Unit

    @property
    def is_working_time(self) -> bool:
        """True when the duration is counted on the business calendar."""
        return self.unit in WORKING_UNITS

    @property
    def working_seconds(self) -> int:
        """Length in working seconds, for working hours and minutes."""
        if self.unit is Unit.WORKING_HOURS:
            return self.amount * 3600
        if self.unit is Unit.WORKING_MINUTES:
            return self.amount * 60
        raise ValueError(f"{self} has no fixed length in working seconds")

    def add_elapsed(self, instant: datetime) -> datetime:
        """Add a calendar duration to an aware instant (years keep the date; 29 Feb → 28 Feb)."""
        if self.unit is Unit.YEARS:
            try:
                return instant.replace(year=instant.year + self.amount)
            except ValueError:
                return instant.replace(year=instant.year + self.amount, day=28)
        return instant + self.as_timedelta()

    def as_timedelta(self) -> timedelta:
        """The elapsed length of a calendar duration (not for years or working units)."""
        seconds = {Unit.MINUTES: 60, Unit.HOURS: 3600, Unit.DAYS: 86400, Unit.WEEKS: 604800}
        if self.unit not in seconds:
            raise ValueError(f"{self} has no fixed elapsed length")
        return timedelta(seconds=self.amount * seconds[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def parse_duration(text: str) -> Duration:
    """Parse ``5wd``, ``4 wh``, ``5 working days``, ``2 years``; raise InvalidInput otherwise."""
    if not isinstance(text, str):
        raise InvalidInput(f"bad duration {text!r}: {DURATION_HELP}")
    match = _PATTERN.match(text.lower())
    if match:
        amount, word = int(match.group(1)), " ".join(match.group(2).split())
        unit = _SHORT_FORMS.get(word) or _LONG_FORMS.get(word)
        if unit is None and word.endswith("s"):
            unit = _SHORT_FORMS.get(word[:-1]) or _LONG_FORMS.get(word[:-1])
        if unit is not None:
            return Duration(amount, unit)
    raise InvalidInput(f"bad duration {text!r}: {DURATION_HELP}")
