"""The listing queries use indexes: "due" and "breached now" are range scans, not table scans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from supportcli.core.policy import default_policy_source
from supportcli.locations import sqlite_location
from supportcli.store.database import open_store
from supportcli.store.queries import breached_statement, due_statement, due_tickets

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def plan(store, statement) -> str:  # type: ignore[no-untyped-def]
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with store.read() as session:
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return " | ".join(row[-1] for row in rows)


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_due_and_breached_queries_are_index_range_scans(store_path: Path) -> None:
    store = open_store(sqlite_location(store_path), {}, default_policy_source, NOW, "alice")
    try:
        with store.read() as session:
            assert due_tickets(session) == []
        due_plan = plan(store, due_statement())
        assert "USING INDEX ix_tickets_next_due" in due_plan
        assert "TEMP B-TREE" not in due_plan
        assert "SCAN tickets" not in plan(store, due_statement(["priya"]))  # by the owner index
        breached_plan = plan(store, breached_statement(NOW))
        assert "USING INDEX ix_targets_state_due" in breached_plan
        assert "TEMP B-TREE" not in breached_plan
    finally:
        store.close()
