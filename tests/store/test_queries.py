"""The listing and report queries use indexes: "due", "breached now" and a period's escalations are range scans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.dialects import sqlite

from supportcli.core.policy import default_policy_source
from supportcli.locations import StoreLocation, sqlite_location
from supportcli.store.database import open_store
from supportcli.store.migrations import schema_version
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


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_report_counts_a_period_of_escalations_through_the_kind_and_time_index(store_path: Path) -> None:
    from supportcli.core.reporting import Period
    from supportcli.store.reporting import ReportQuery, events_statement

    store = open_store(sqlite_location(store_path), {}, default_policy_source, NOW, "alice")
    try:
        for orgs in ((), ("Acme",)):
            query = ReportQuery(period=Period(datetime(2026, 10, 1, tzinfo=UTC), NOW), now=NOW, orgs=orgs)
            events_plan = plan(store, events_statement(query))
            assert "SEARCH events USING INDEX ix_events_kind_at (kind=? AND at>? AND at<?)" in events_plan
            assert "SCAN events" not in events_plan
    finally:
        store.close()


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_the_due_listing_is_one_pass_over_the_due_index_and_the_ticket_index_of_targets(store_path: Path) -> None:
    from supportcli.store.queries import _with_next_target

    store = open_store(sqlite_location(store_path), {}, default_policy_source, NOW, "alice")
    try:
        for wide in (False, True):
            listing_plan = plan(store, _with_next_target(due_statement(), NOW, wide))
            assert "SEARCH tickets USING INDEX ix_tickets_next_due" in listing_plan
            assert "SEARCH targets USING INDEX ix_targets_ticket_id (ticket_id=?)" in listing_plan
            assert "TEMP B-TREE" not in listing_plan  # the index order is the listing's order
            assert "ix_targets_state_due" not in listing_plan
    finally:
        store.close()


def test_schema_version_3_adds_the_events_index_to_an_older_store(store_location: StoreLocation) -> None:
    """Migration 3 on each backend: a store at version 2 (without the index) gets it when next opened."""
    store = open_store(store_location, {}, default_policy_source, NOW, "alice")
    with store.write() as session:
        session.connection().execute(text("DROP INDEX ix_events_kind_at"))
        session.connection().execute(text("UPDATE supportcli_meta SET value = '2' WHERE key = 'schema_version'"))
    store.close()
    store = open_store(store_location, {}, default_policy_source, NOW, "alice")
    try:
        with store.read() as session:
            indexes = inspect(session.connection()).get_indexes("events")
            version = session.connection().execute(
                text("SELECT value FROM supportcli_meta WHERE key = 'schema_version'")
            )
            assert version.scalar_one() == str(schema_version()) == "3"
    finally:
        store.close()
    assert {"name": "ix_events_kind_at", "column_names": ["kind", "at"]} in [
        {"name": index["name"], "column_names": index["column_names"]} for index in indexes
    ]
