"""Public holidays from the pinned ``holidays`` package, loaded once per process.

The import is deferred because ``holidays`` is slow to import and only the
commands that compute due times need it.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from supportcli.errors import InvalidInput


@cache
def supported_subdivisions(country: str) -> tuple[str, ...] | None:
    """The subdivision codes of a country, or None when the country is unknown."""
    entity = _country_entity(country)
    if entity is not None:
        return tuple(entity.subdivisions)
    import holidays

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

    years = range(first_year, last_year + 1)
    entity = _country_entity(country)
    try:
        if entity is not None:  # the same call country_holidays makes, without importing every country
            found = entity(years=years, subdiv=subdivision)
        else:
            found = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        raise InvalidInput(f"no public holiday data for {country}/{subdivision}: {exc}") from exc
    return dict(found.items())


def _country_entity(country: str) -> Any:
    """The ``holidays`` class of one country, importing that country's module only; None if not a known code.

    ``holidays.country_holidays`` imports the package ``holidays.countries``, whose ``__init__``
    imports all ~250 country modules: 0.1–0.2 s on every command, a third of the import floor. The
    package's registry names the one module a code needs, and loading that file directly (under its
    usual name, so a later ``import holidays.countries`` reuses it) skips the rest.
    """
    import importlib.util
    import sys
    from pathlib import Path

    import holidays
    from holidays.registry import COUNTRIES, IMPORT_LOCK

    module_file = next((module for module, names in COUNTRIES.items() if country in names[1:]), None)
    if module_file is None:
        return None
    class_name = COUNTRIES[module_file][0]
    name = f"holidays.countries.{module_file}"
    with IMPORT_LOCK:
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(
                name, Path(holidays.__file__).parent / "countries" / f"{module_file}.py"
            )
            if spec is None or spec.loader is None:
                return None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
    return getattr(module, class_name)
