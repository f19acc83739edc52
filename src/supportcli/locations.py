"""Where supportcli keeps its store, config and cache: the one place that decides (README, "Where things are kept").

Order for the store: ``--db PATH``, then ``SUPPORTCLI_DATABASE_URL``, then
``SUPPORTCLI_DB``, then ``database_url`` in config.toml, then
``supportcli.db`` in the data directory. Each directory is its
``SUPPORTCLI_*_DIR`` variable when set, else the platform's user directory
(platformdirs: XDG on Linux).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from supportcli.errors import InvalidInput

APP_NAME = "supportcli"
MASK = "***"  # what a password is shown as


@dataclass(frozen=True)
class StoreLocation:
    """A store as a SQLAlchemy URL, with the SQLite file path when it is one."""

    url: str
    sqlite_path: Path | None

    @property
    def display(self) -> str:
        """The location safe to print: a file path, or the URL with its password hidden."""
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        return mask_password(self.url)

    def scrub(self, text: str) -> str:
        """``text`` (a driver's error message, say) with this store's passwords replaced by ``***``."""
        if self.sqlite_path is not None:
            return text
        for secret in sorted(url_secrets(self.url), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def mask_password(url: str) -> str:
    """Replace every password in a database URL with ``***`` so it never reaches a screen or log.

    SQLAlchemy's own rendering hides the one in the user part, with or without a user name
    (``postgresql+psycopg://:***@host/db``); a ``password`` (or ``sslpassword``) query parameter,
    which the driver accepts just as well, is hidden too. A URL SQLAlchemy cannot parse loses
    whatever stands where a password could. SQLAlchemy is imported here, not at the top, so
    ``--help`` stays fast.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return _mask_unparsed(url)
    secret_keys = [key for key in parsed.query if _is_password_key(key)]
    if secret_keys:
        parsed = parsed.update_query_dict(dict.fromkeys(secret_keys, MASK))
    rendered = parsed.render_as_string(hide_password=True)
    return rendered.replace(quote_plus(MASK), MASK)


def _is_password_key(key: str) -> bool:
    return "password" in key.lower()


# Where a password can stand in a URL SQLAlchemy cannot read: after "user:" and in a "…password=" parameter.
_UNPARSED_SECRETS = (
    re.compile(r"(?<=://)[^/@]*?:([^@/]*)@"),
    re.compile(r"(?i)[?&][^=&]*password[^=&]*=([^&]*)"),
)


def _mask_unparsed(url: str) -> str:
    for pattern in _UNPARSED_SECRETS:
        url = pattern.sub(_masked_group, url)
    return url


def _masked_group(match: re.Match[str]) -> str:
    """The whole match with its first group (the password) replaced by the mask."""
    start, end = match.span(1)
    whole = match.group(0)
    offset = match.start(0)
    return whole if start == end else whole[: start - offset] + MASK + whole[end - offset :]


def url_secrets(url: str) -> list[str]:
    """The passwords a database URL carries (in its user part or query), to scrub them from error texts."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return [match.group(1) for pattern in _UNPARSED_SECRETS for match in pattern.finditer(url) if match.group(1)]
    values = [parsed.password or ""]
    for key, value in parsed.query.items():
        if _is_password_key(key):
            values.extend([value] if isinstance(value, str) else value)
    return [str(value) for value in values if value]


def data_dir(env: Mapping[str, str]) -> Path:
    """The user data directory holding the default store (``SUPPORTCLI_DATA_DIR`` overrides)."""
    if env.get("SUPPORTCLI_DATA_DIR"):
        return Path(env["SUPPORTCLI_DATA_DIR"])
    from platformdirs import user_data_path

    return Path(user_data_path(APP_NAME, appauthor=False))


def config_dir(env: Mapping[str, str]) -> Path:
    """The user config directory holding config.toml (``SUPPORTCLI_CONFIG_DIR`` overrides)."""
    if env.get("SUPPORTCLI_CONFIG_DIR"):
        return Path(env["SUPPORTCLI_CONFIG_DIR"])
    from platformdirs import user_config_path

    return Path(user_config_path(APP_NAME, appauthor=False))


def cache_dir(env: Mapping[str, str]) -> Path:
    """The user cache directory, for precomputed calendars (``SUPPORTCLI_CACHE_DIR`` overrides)."""
    if env.get("SUPPORTCLI_CACHE_DIR"):
        return Path(env["SUPPORTCLI_CACHE_DIR"])
    from platformdirs import user_cache_path

    return Path(user_cache_path(APP_NAME, appauthor=False))


def load_config(directory: Path) -> dict[str, Any]:
    """The parsed config.toml of a config directory (see ``config_dir``), or an empty config when there is none."""
    path = directory / "config.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from exc


def resolve_store(
    db_option: str | None, env: Mapping[str, str], config: Mapping[str, object], default_dir: Path | None = None
) -> StoreLocation:
    """Decide which store a command uses, following the order in the module docstring.

    ``default_dir`` is the data directory when the caller has already decided it (``data_dir(env)`` otherwise)."""
    if db_option:
        return _from_text(db_option)
    if env.get("SUPPORTCLI_DATABASE_URL"):
        return _from_text(env["SUPPORTCLI_DATABASE_URL"])
    if env.get("SUPPORTCLI_DB"):
        return _from_text(env["SUPPORTCLI_DB"])
    configured = config.get("database_url")
    if isinstance(configured, str) and configured:
        return _from_text(configured)
    return sqlite_location((default_dir or data_dir(env)) / "supportcli.db")


def sqlite_location(path: Path) -> StoreLocation:
    """The location of an SQLite store file."""
    path = path.expanduser().absolute()
    return StoreLocation(f"sqlite:///{path}", path)


def _from_text(text: str) -> StoreLocation:
    if "://" not in text:
        return sqlite_location(Path(text))
    if text.startswith("sqlite:///"):
        return sqlite_location(Path(text.removeprefix("sqlite:///")))
    return StoreLocation(text, None)
