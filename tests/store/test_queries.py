"""The listing and report queries use indexes: "due", "breached now" and a period's escalations are range scans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.dialects import sqlite

from helpers import MONDAY_10 as NOW
from helpers import downgrade
from supportcli.core.policy import default_policy_source
from supportcli.locations import StoreLocation, sqlite_location
from supportcli.store.database import open_store
from supportcli.store.migrations import MIGRATIONS, Migration, schema_version
from supportcli.store.queries import breached_statement, due_statement


def plan(store, statement) -> str:  # type: ignore[no-untyped-def]
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with store.read() as session:
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return " | ".join(row[-1] for row in rows)


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_due_and_breached_queries_are_index_range_scans(store_path: Path) -> None:
    store = open_store(sqlite_location(store_path), {}, default_policy_source, NOW, "alice")
    try:
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
def test_the_due_listing_is_one_pass_over_the_due_index_reading_no_targets(store_path: Path) -> None:
    from supportcli.store.queries import listing_statement

    store = open_store(sqlite_location(store_path), {}, default_policy_source, NOW, "alice")
    try:
        for wide in (False, True):
            listing_plan = plan(store, listing_statement(due_statement(), NOW, wide))
            assert listing_plan == "SEARCH tickets USING INDEX ix_tickets_next_due (next_due_at>?)"
    finally:
        store.close()


def _migration_named(name: str) -> Migration:
    return next(migration for migration in MIGRATIONS if migration.name == name)


def _downgrade(store_location: StoreLocation, to_version: int) -> None:
    """Undo the schema steps after ``to_version`` on a new store, as a store made by that older program."""
    store = open_store(store_location, {}, default_policy_source, NOW, "alice")
    with store.write() as session:
        downgrade(session.connection(), to_version)
    store.close()


def _stored_version(session) -> str:  # type: ignore[no-untyped-def]
    version = session.connection().execute(text("SELECT value FROM supportcli_meta WHERE key = 'schema_version'"))
    return version.scalar_one()


def test_schema_version_3_adds_the_events_index_to_an_older_store(store_location: StoreLocation) -> None:
    """Migration 3 on each backend: a store at version 2 (without the index) gets it when next opened."""
    _downgrade(store_location, 2)
    store = open_store(store_location, {}, default_policy_source, NOW, "alice")
    try:
        with store.read() as session:
            indexes = inspect(session.connection()).get_indexes("events")
            assert _stored_version(session) == str(schema_version())
    finally:
        store.close()
    assert {"name": "ix_events_kind_at", "column_names": ["kind", "at"]} in [
        {"name": index["name"], "column_names": index["column_names"]} for index in indexes
    ]


def test_schema_version_6_derives_how_each_policy_version_applies(store_location: StoreLocation) -> None:
    """Migration 6 on each backend: a version whose effective time is its set time (set without --effective by
    an older program) applies by logging time; a scheduled one, and the built-in one from 1970, by received time."""
    from supportcli.core.policy import load_policy
    from supportcli.store.policies import add_version

    store = open_store(store_location, {}, default_policy_source, NOW, "alice")
    policy = load_policy(default_policy_source(), "built-in")
    with store.write() as session:
        add_version(session, policy, default_policy_source(), None, NOW, "alice", "set now")
        add_version(session, policy, default_policy_source(), datetime(2027, 1, 1, tzinfo=UTC), NOW, "alice", "")
    store.close()
    _downgrade(store_location, 5)
    store = open_store(store_location, {}, default_policy_source, NOW, "alice")
    try:
        with store.read() as session:
            rows = session.connection().execute(
                text("SELECT version, applies_by FROM policy_versions ORDER BY version")
            )
            assert list(rows) == [(1, "received"), (2, "logged"), (3, "received")]
            assert _stored_version(session) == str(schema_version())
    finally:
        store.close()
