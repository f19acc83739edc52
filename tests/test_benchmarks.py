"""The benchmark scripts keep working as the code moves: every supportcli name they import still exists.

They are run by hand (benchmarks/README.md), not by the suite, so a renamed function would otherwise be
found only by the next person timing the product. Importing the names is enough to catch that; running the
timings belongs in benchmarks/.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _supportcli_imports(script: Path) -> list[tuple[str, str]]:
    """Every ``from supportcli… import name`` in a script, at any depth (many are inside functions), and in
    the Python source it hands to a subprocess as a string."""
    return _imports_in(ast.parse(script.read_text(encoding="utf-8")))


def _imports_in(tree: ast.AST) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "supportcli":
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "from supportcli" in node.value:
            try:
                found += _imports_in(ast.parse(node.value))
            except SyntaxError:
                continue  # prose that mentions an import, not code
    return found


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.name)
def test_every_supportcli_name_a_benchmark_imports_exists(script: Path) -> None:
    imported = _supportcli_imports(script)
    missing = [
        f"{module}.{name}"
        for module, name in imported
        if not hasattr(importlib.import_module(module), name) and not _is_module(f"{module}.{name}")
    ]
    assert not missing, f"{script.name} imports names that no longer exist: {missing}"


def _is_module(dotted: str) -> bool:
    try:
        importlib.import_module(dotted)
    except ModuleNotFoundError:
        return False
    return True


def test_the_check_sees_the_imports_inside_functions() -> None:
    names = _supportcli_imports(BENCHMARKS / "commands.py")
    assert ("supportcli.cli.app", "main") in names, "control: commands.py imports main inside a function"


def test_build_store_makes_a_migrated_backlog(tmp_path: Path) -> None:
    """``build_store.py --backlog SHARE``: that share of the tickets is open with every target long past due
    (benchmarks/README.md, "A migrated backlog"), on top of the usual recent breaches."""
    import sqlite3
    import sys

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from build_store import build
    finally:
        sys.path.remove(str(BENCHMARKS))
    store = tmp_path / "backlog.db"
    result = build(400, store, seed=7, quiet=True, backlog=0.1)
    plain = build(400, tmp_path / "plain.db", seed=7, quiet=True)
    with sqlite3.connect(store) as connection:
        long_overdue = connection.execute(
            "SELECT count(*) FROM tickets t WHERE status IN ('new', 'acknowledged', 'in-progress') AND NOT EXISTS "
            "(SELECT 1 FROM targets g WHERE g.ticket_id = t.id AND g.due_at >= '2026-11-23 10:00:00')"
        ).fetchone()[0]
    assert long_overdue >= 40, "the 40 backlog tickets: every target due before now"
    assert result["tickets_with_breached_targets"] >= plain["tickets_with_breached_targets"] + 40
    assert result["breached_pending_targets"] > plain["breached_pending_targets"] + 40  # several a ticket


def test_build_store_stores_each_met_targets_working_time(tmp_path: Path) -> None:
    """A built store is what supportcli itself would hold: every met target keeps its working time, the very
    value the derivation works out (``report`` at scale is measured on it, not on a store needing recomputing)."""
    import sqlite3
    import sys

    from supportcli.locations import sqlite_location
    from supportcli.store.database import open_store
    from supportcli.store.met_durations import derive_met_working_seconds

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from build_store import build
    finally:
        sys.path.remove(str(BENCHMARKS))
    path = tmp_path / "built.db"
    build(300, path, seed=3, quiet=True)
    with sqlite3.connect(path) as connection:
        stored = dict(connection.execute("SELECT id, met_working_seconds FROM targets WHERE met_at IS NOT NULL"))
        connection.execute("UPDATE targets SET met_working_seconds = NULL")
    connection.close()
    assert stored and None not in stored.values()
    from datetime import UTC, datetime

    from supportcli.core.policy import default_policy_source

    store = open_store(sqlite_location(path), {}, default_policy_source, datetime(2026, 11, 23, 10, tzinfo=UTC), "t")
    try:
        with store.write() as session:
            derive_met_working_seconds(session.connection())
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        derived = dict(connection.execute("SELECT id, met_working_seconds FROM targets WHERE met_at IS NOT NULL"))
    connection.close()
    assert derived == stored
