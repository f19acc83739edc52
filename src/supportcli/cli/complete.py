"""Dynamic Tab completion: ticket ids, staff names, tiers and the fixed values of options.

Completion runs on every Tab press, so this module imports almost nothing up
front (command modules import it) and reads an SQLite store with the
standard library's ``sqlite3`` (read-only, short timeout; never creating the
store) instead of importing SQLModel and SQLAlchemy. Any problem gives no
candidates, never an error: a half-typed command line is no place for a
traceback. A PostgreSQL store offers no ids or staff names (fixed values and the
policy's tiers from the built-in default still complete).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import typer
from typer._click.shell_completion import CompletionItem

Candidates = list[tuple[str, str]]

MAX_CANDIDATES = 200
TIMEOUT_SECONDS = 0.2


def ticket_ids(ctx: typer.Context, incomplete: str) -> Candidates:
    """Ticket ids starting with what is typed, open tickets first, newest first; the subject as help."""
    from supportcli.core.tickets import OPEN_STATUSES

    placeholders = ",".join("?" * len(OPEN_STATUSES))
    query = (
        "SELECT id, subject, status FROM tickets WHERE CAST(id AS TEXT) LIKE ? "
        f"ORDER BY status IN ({placeholders}) DESC, id DESC LIMIT {MAX_CANDIDATES}"
    )
    with _store_rows(ctx, query, (f"{incomplete}%", *OPEN_STATUSES)) as rows:
        return [(str(number), f"{subject} ({status})") for number, subject, status in rows]


def staff_names(ctx: typer.Context, incomplete: str) -> Candidates:
    """Staff members' names, with their e-mail and tier as help."""
    query = f"SELECT name, email, tier FROM staff WHERE name LIKE ? ORDER BY name LIMIT {MAX_CANDIDATES}"
    tiers = _tiers(ctx)
    with _store_rows(ctx, query, (f"{incomplete}%",)) as rows:
        return [(name, ", ".join(filter(None, [email, _tier_name(tiers, tier)]))) for name, email, tier in rows]


def tiers(ctx: typer.Context, incomplete: str) -> Candidates:
    """The tiers of the newest policy (or the built-in default): names and numbers, each with the other as help."""
    names = _tiers(ctx)
    return [(name, f"tier {number}") for number, name in enumerate(names)] + [
        (str(number), name) for number, name in enumerate(names)
    ]


def fixed(values: Iterable[str] | Callable[[], Iterable[str]]) -> Callable[[str], list[str]]:
    """Completion from a fixed list of values (or a function returning one, to import it only when used)."""

    def complete(incomplete: str) -> list[str]:
        return [value for value in (values() if callable(values) else values) if value.startswith(incomplete)]

    return complete


def choice_option(*names: str, values: Sequence[str], help: str) -> Any:
    """A one-value option limited to ``values``: its help ends with them and Tab offers them.

    ``help`` is the text before the list, e.g. ``"Kind of new tickets:"``.
    """
    return typer.Option(*names, help=f"{help} {', '.join(values)}.", autocompletion=fixed(values))


def kinds() -> Iterable[str]:
    from supportcli.core.tickets import KINDS

    return KINDS


def channels() -> Iterable[str]:
    from supportcli.core.tickets import CHANNELS

    return CHANNELS


def priorities() -> Iterable[str]:
    from supportcli.core.tickets import PRIORITIES

    return PRIORITIES


def targets() -> Iterable[str]:
    from supportcli.core.targets import TARGET_NAMES

    return TARGET_NAMES


def statuses() -> Iterable[str]:
    from supportcli.core.tickets import STATUSES

    return ("open", *STATUSES)


def _sqlite_path(ctx: typer.Context) -> Path | None:
    """The store file the command would use (supportcli.locations decides), when it is SQLite."""
    from supportcli.cli.environment import environment_of
    from supportcli.locations import load_config, resolve_store

    root = ctx.find_root()
    db_option = root.params.get("db")
    environment = environment_of(root.obj)
    location = resolve_store(
        db_option if isinstance(db_option, str) else None,
        environment.variables,
        load_config(environment.config_dir),
        environment.data_dir,
    )
    return location.sqlite_path


@contextmanager
def _store_rows(ctx: typer.Context, query: str, parameters: tuple[object, ...]) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of a read-only query on the SQLite store; none when there is no store or anything fails."""
    try:
        rows = _query(_sqlite_path(ctx), query, parameters)
    except Exception:
        rows = []
    yield rows


def _query(path: Path | None, query: str, parameters: tuple[object, ...]) -> list[tuple[Any, ...]]:
    import sqlite3
    from urllib.parse import quote

    if path is None or not path.is_file():
        return []
    uri = f"file:{quote(str(path))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=TIMEOUT_SECONDS)) as connection:
        return connection.execute(query, parameters).fetchall()


def _tiers(ctx: typer.Context) -> list[str]:
    """Tier names from the newest stored policy, else from the built-in default policy."""
    import tomllib

    try:
        rows = _query(_sqlite_path(ctx), "SELECT source FROM policy_versions ORDER BY version DESC LIMIT 1", ())
        source = rows[0][0] if rows else _default_policy_source()
        names = tomllib.loads(source).get("tiers", [])
        return [str(name) for name in names] if isinstance(names, list) else []
    except Exception:
        return []


def _default_policy_source() -> str:
    """The built-in policy's TOML (read directly: supportcli.core.policy imports the calendar engine)."""
    from importlib.resources import files

    return files("supportcli.core").joinpath("default_policy.toml").read_text(encoding="utf-8")


def _tier_name(names: list[str], number: int) -> str:
    return names[number] if 0 <= number < len(names) else f"tier {number}"


def use_plain_completion_classes() -> None:
    """zsh and fish completion that show help texts as they are.

    Typer's own pass every help text through Rich markup rendering, importing rich.markdown,
    rich.table and more on every Tab press; supportcli's help texts carry no markup.
    """
    from typer._click.shell_completion import add_completion_class
    from typer._completion_classes import FishComplete, ZshComplete

    class PlainZshComplete(ZshComplete):
        def format_completion(self, item: CompletionItem) -> str:
            def escape(text: str) -> str:
                for old, new in (('"', '""'), ("'", "''"), ("$", "\\$"), ("`", "\\`"), (":", r"\\:")):
                    text = text.replace(old, new)
                return text

            if item.help:
                return f'"{escape(item.value)}":"{escape(item.help)}"'
            return f'"{escape(item.value)}"'

    class PlainFishComplete(FishComplete):
        def format_completion(self, item: CompletionItem) -> str:
            return f"{item.value}\t{' '.join(item.help.split())}" if item.help else item.value

    add_completion_class(PlainZshComplete, "zsh")
    add_completion_class(PlainFishComplete, "fish")
