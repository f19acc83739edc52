"""Public holidays from the pinned ``holidays`` package, loaded once per process.

The import is deferred because ``holidays`` is slow to import and only the
commands that compute due times need it.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from supportcli.errors import InvalidInput


@cache
def supported_subdivisions(country: str) -> tuple[str, ...] | None:
    """The subdivision codes of a country, or None when the country is unknown."""
    import holidays

    # Loading the one country is cheaper than listing them all (which imports every country module),
    # and the calendar loads that country next anyway.
    try:
        return tuple(holidays.country_holidays(country).subdivisions)
    except (NotImplementedError, AttributeError):
        return None


@cache
def public_holidays(country: str | None, subdivision: str | None, first_year: int, last_year: int) -> dict[date, str]:
    """Public holidays (date → name) for the years given; empty when no country is set."""
    if not country:
        return {}
    import holidays

    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=range(first_year, last_year + 1))
    except NotImplementedError as exc:
        raise InvalidInput(f"no public holiday data for {country}/{subdivision}: {exc}") from exc
    return dict(found.items())


def holidays_package_version() -> str:
    """The version of the holiday data, recorded because new one-off holidays arrive with releases."""
    from importlib.metadata import version

    return version("holidays")
