"""Schema versions: the first released store opens with nothing lost, and upgrades run with a backup first."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner, Result

from helpers import UNDO_MIGRATION
from supportcli.cli.app import app
from supportcli.core.policy import default_policy_source
from supportcli.locations import sqlite_location
from supportcli.store import migrations
from supportcli.store.database import open_store
from supportcli.store.lookups import email_clause, phone_clause
from supportcli.store.migrations import Migration
from supportcli.store.models import Ticket

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "stores" / "v1.db"
LATER = {"SUPPORTCLI_NOW": "2026-11-25T10:00:00+00:00"}
pytestmark = pytest.mark.sqlite_only(reason="upgrades the committed SQLite store of the first released schema")


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    """A copy of the store made by the first released schema (see tests/fixtures/stores/make_v1.sh)."""
    copy = tmp_path / "v1.db"
    shutil.copyfile(FIXTURE, copy)
    return copy


def run(store: Path) -> Callable[..., Result]:
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["--db", str(store), *args], env=LATER)


def targets(record: dict) -> dict[str, tuple]:
    return {t["name"]: (t["due_at"], t["met_at"], t["state"]) for t in record["targets"]}


def assert_v1_data_intact(cli: Callable[..., Result]) -> None:
    listed = json.loads(cli("list", "--json").stdout)
    assert [(t["id"], t["subject"], t["status"]) for t in listed] == [
        (1, "Invoice sent to old address", "acknowledged"),
        (2, "Engineer never came", "in-progress"),
        (3, "Password reset link expired", "resolved"),
    ]
    resolved = json.loads(cli("show", "3", "--json").stdout)
    # chat → respond 4wh: Mon 10:10 + 4h = 14:10; paused Mon 13:00 with 1h10m left, resumed Tue 10:00 → 11:10.
    # resolve 10wd → Mon 7 Dec 17:00, moved by the 5 working hours paused (Mon 13–17, Tue 9–10) → Tue 8 Dec 14:00.
    assert targets(resolved) == {
        "respond": ("2026-11-24T11:10:00+00:00", "2026-11-24T11:00:00+00:00", "met"),
        "resolve": ("2026-12-08T14:00:00+00:00", "2026-11-24T11:00:00+00:00", "met"),
    }
    assert resolved["rating"] == 5
    assert [e["event"] for e in resolved["history"]] == ["logged", "waiting", "resumed", "resolved", "feedback"]
    complaint = json.loads(cli("show", "2", "--json").stdout)
    assert complaint["tier_name"] == "Customer Success Manager"
    assert targets(complaint)["update"] == ("2026-11-25T12:00:00+00:00", None, "pending")  # agreed with --next
    staff = json.loads(cli("staff", "list", "--json").stdout)
    assert [(s["name"], s["tier_name"]) for s in staff] == [("priya", "Support"), ("sam", "Customer Success Manager")]


def test_the_first_released_store_opens_with_nothing_lost(v1_store: Path) -> None:
    cli = run(v1_store)
    assert_v1_data_intact(cli)
    check = json.loads(cli("db", "check", "--json").stdout)
    assert (check["ok"], check["schema_version"]) == (True, migrations.schema_version())
    assert check["counts"]["tickets"] == 3


def test_an_older_store_is_backed_up_then_upgraded_in_place(v1_store: Path) -> None:
    before = FIXTURE.read_bytes()
    result = run(v1_store)("db", "upgrade")
    assert result.exit_code == 0, result.output
    backup = v1_store.with_name("v1.db.v1-backup")
    current = migrations.schema_version()
    assert f"upgraded {v1_store} from schema version 1 to {current}; backup at {backup}" in result.stderr
    assert backup.exists()
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT value FROM supportcli_meta WHERE key='schema_version'").fetchone() == ("1",)
    connection = sqlite3.connect(v1_store)
    version = connection.execute("SELECT value FROM supportcli_meta WHERE key='schema_version'").fetchone()
    connection.close()
    assert version == (str(current),)
    assert_v1_data_intact(run(v1_store))
    again = run(v1_store)("db", "upgrade")
    assert f"is at schema version {current}; nothing to do" in again.stderr
    assert FIXTURE.read_bytes() == before  # the committed fixture itself is never touched


def _schema(path: Path) -> dict[str, object]:
    """Tables with their columns (name, type, not null, primary key) and the indexes, as SQLite reports them."""
    connection = sqlite3.connect(path)
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    schema: dict[str, object] = {
        table: sorted((c[1], c[2], c[3], c[5]) for c in connection.execute(f"PRAGMA table_info('{table}')"))
        for table in tables
    }
    indexes = connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")
    # An index is the same when it covers the same columns in the same order, not only by name.
    schema["indexes"] = sorted(
        (name, table, tuple(column[2] for column in connection.execute(f"PRAGMA index_info('{name}')")))
        for name, table in indexes.fetchall()
    )
    connection.close()
    return schema


def test_an_upgraded_store_has_the_schema_of_a_new_one(v1_store: Path, tmp_path: Path) -> None:
    assert run(v1_store)("db", "upgrade").exit_code == 0
    fresh = tmp_path / "fresh.db"
    assert run(fresh)("list").exit_code == 0
    assert _schema(v1_store) == _schema(fresh)
    assert ("ix_events_kind_at", "events", ("kind", "at")) in _schema(fresh)["indexes"]  # type: ignore[operator]


def test_a_watcher_added_after_the_upgrade_lives_beside_the_old_data(v1_store: Path) -> None:
    cli = run(v1_store)
    assert cli("watch", "1", "carol@example.com").exit_code == 0
    assert json.loads(cli("show", "1", "--json").stdout)["watchers"] == ["carol@example.com"]
    assert_v1_data_intact(cli)


def test_a_failed_migration_changes_nothing(v1_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(connection) -> None:  # type: ignore[no-untyped-def]
        connection.execute(text("ALTER TABLE tickets ADD COLUMN half_done VARCHAR"))
        connection.execute(text("ALTER TABLE no_such_table ADD COLUMN x VARCHAR"))

    broken_step = Migration(len(migrations.MIGRATIONS) + 2, "broken", broken)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken_step])
    before = sqlite3.connect(v1_store).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    result = run(v1_store)("list")
    assert result.exit_code == 5
    assert "Traceback" not in result.output
    connection = sqlite3.connect(v1_store)
    assert connection.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert connection.execute("SELECT value FROM supportcli_meta WHERE key='schema_version'").fetchone() == ("1",)
    connection.close()


def test_migrations_are_numbered_in_sequence() -> None:
    migrations.check_sequence()
    assert migrations.schema_version() == 1 + len(migrations.MIGRATIONS)


def test_db_backup_makes_a_consistent_copy(v1_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    result = run(v1_store)("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert_v1_data_intact(run(target))
    assert (target.stat().st_mode & 0o777) == 0o600
    refused = run(v1_store)("db", "backup", str(v1_store))
    assert refused.exit_code == 2


def test_db_check_reports_damage_with_exit_5(v1_store: Path) -> None:
    connection = sqlite3.connect(v1_store)
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute(
        "INSERT INTO events (ticket_id, at, actor, kind, text, data) VALUES (99, '2026-11-23', 'x', 'note', '', '')"
    )
    connection.commit()
    connection.close()
    result = run(v1_store)("db", "check")
    assert result.exit_code == 5
    assert "foreign key: events row" in result.stdout
    assert result.stderr.strip().startswith("supportcli: error: store ")


def test_db_backup_onto_an_existing_world_readable_file_makes_it_mode_0600(v1_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_bytes(b"")
    target.chmod(0o644)
    result = run(v1_store)("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert (target.stat().st_mode & 0o777) == 0o600
    assert_v1_data_intact(run(target))


# -- the schema before the full-text search index (version 4) ---------------------------------------------------------

V4_FIXTURE = FIXTURE.with_name("v4.db")


@pytest.fixture
def v4_store(tmp_path: Path) -> Path:
    """A copy of a store of schema version 4 (see tests/fixtures/stores/make_v4.sh)."""
    copy = tmp_path / "v4.db"
    shutil.copyfile(V4_FIXTURE, copy)
    return copy


def _rows(path: Path, fixture_path: Path = V4_FIXTURE) -> dict[str, list[tuple]]:
    """Every row of every table of ``path`` that the fixture has, in the fixture's columns.

    The full-text index's own shadow tables are left out: their rows are the engine's business, and what they
    must still answer is checked by searching.
    """
    fixture = sqlite3.connect(fixture_path)
    tables = [
        row[0]
        for row in fixture.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        if not row[0].startswith("ticket_search_")
    ]
    columns = {table: [c[1] for c in fixture.execute(f"PRAGMA table_info('{table}')")] for table in tables}
    fixture.close()
    connection = sqlite3.connect(path)
    rows = {
        table: sorted(connection.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall(), key=repr)
        for table, names in columns.items()
    }
    connection.close()
    return rows


def test_a_version_4_store_upgrades_with_nothing_lost_and_becomes_searchable(v4_store: Path, tmp_path: Path) -> None:
    before = _rows(V4_FIXTURE)
    filled = {table for table, rows in before.items() if rows}
    assert filled >= {"tickets", "targets", "events", "staff", "mail_messages", "policy_versions"}, "control"
    cli = run(v4_store)
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "from schema version 4" in result.stderr
    after = _rows(v4_store)
    assert after.pop("supportcli_meta") == [("schema_version", str(migrations.schema_version()))]
    before.pop("supportcli_meta")
    assert after == before

    def found(*words: str) -> list[int]:
        listed = cli("search", "--json", "--", *words)
        assert listed.exit_code == 0, listed.output
        return [hit["id"] for hit in json.loads(listed.stdout)]

    assert found("ann.lee@example.com") == [1]
    assert found("billing", "system") == [1]  # an internal note
    assert found("boiler") == [2]  # a body
    assert found("second", "missed", "visit") == [2]  # an escalation's reason
    assert found("parcel") == [4]  # the customer's reply by mail
    assert found("dana@example.org") == [4]
    assert found("acme") == [2, 1]
    assert found("refund") == [4]

    store = open_store(sqlite_location(v4_store), {}, default_policy_source, datetime.now(UTC), "alice")
    try:
        with store.read() as session:
            assert list(session.exec(select(Ticket.id).where(phone_clause("07700 900123")))) == [1]
            assert list(session.exec(select(Ticket.id).where(email_clause("ANN.LEE@example.com")))) == [1]
    finally:
        store.close()
    fresh = tmp_path / "fresh.db"
    assert run(fresh)("list").exit_code == 0
    assert _schema(v4_store) == _schema(fresh)


# -- the schema with the full-text search index (version 5) -----------------------------------------------------------

V5_FIXTURE = FIXTURE.with_name("v5.db")


def test_a_version_5_store_upgrades_with_nothing_lost_and_stays_searchable(tmp_path: Path) -> None:
    store_path = tmp_path / "v5.db"
    shutil.copyfile(V5_FIXTURE, store_path)
    before = _rows(V5_FIXTURE, V5_FIXTURE)
    filled = {table for table, rows in before.items() if rows}
    assert filled >= {"tickets", "targets", "events", "staff", "mail_messages", "policy_versions"}, "control"
    cli = run(store_path)
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    after = _rows(store_path, V5_FIXTURE)
    assert after.pop("supportcli_meta") == [("schema_version", str(migrations.schema_version()))]
    before.pop("supportcli_meta")
    # The search index is derived, and later versions rebuild it with more columns; the searches below check it.
    assert after.pop("ticket_search") and before.pop("ticket_search")
    assert after == before
    listed = cli("search", "--json", "--", "parcel")
    assert listed.exit_code == 0, listed.output
    assert [hit["id"] for hit in json.loads(listed.stdout)] == [4]
    fresh = tmp_path / "fresh.db"
    assert run(fresh)("list").exit_code == 0
    assert _schema(store_path) == _schema(fresh)


def test_a_version_5_store_learns_how_each_policy_version_applies(tmp_path: Path) -> None:
    """Migration 6 on the released store: a version set without --effective (effective when set) applies to
    every ticket logged from then on; a scheduled one, like the built-in one, to the tickets received from its
    effective time. Nothing else changes (the test above), and old tickets keep their version."""
    store_path = tmp_path / "v5.db"
    shutil.copyfile(V5_FIXTURE, store_path)
    team = default_policy_source().replace('name = "Default (UK, England & Wales)"', 'name = "Team"')
    with sqlite3.connect(store_path) as connection:
        connection.executemany(
            "INSERT INTO policy_versions (version, name, source, effective_at, set_at, set_by, note)"
            " VALUES (?, ?, ?, ?, ?, ?, '')",
            [
                (2, "Team", team, "2026-11-24 09:00:00.000000", "2026-11-24 09:00:00.000000", "priya"),
                (3, "Later", team, "2027-01-01 00:00:00.000000", "2026-11-24 09:30:00.000000", "priya"),
            ],
        )
    connection.close()
    cli = run(store_path)
    assert cli("db", "upgrade").exit_code == 0
    history = json.loads(cli("policy", "history", "--json").stdout)
    assert [(row["version"], row["applies_to"], row["state"]) for row in history] == [
        (1, "received", "superseded"),
        (2, "logged", "in effect"),
        (3, "received", "scheduled"),
    ]
    logged = cli("log", "Letter of last week", "--channel", "letter", "--received", "2026-11-20 10:00", "--json")
    assert logged.exit_code == 0, logged.output
    assert json.loads(logged.stdout)["policy_version"] == 2  # received before version 2 was set, logged after
    assert [t["policy_version"] for t in json.loads(cli("list", "--json").stdout)[:4]] == [1, 1, 1, 1]


def test_the_tests_can_undo_every_schema_step() -> None:
    """tests/helpers.py's UNDO_MIGRATION makes stores "made by an older program"; a new migration needs its entry."""
    assert sorted(UNDO_MIGRATION) == [step.version for step in migrations.MIGRATIONS]


# -- met targets keep their working time (the migration named "met targets keep their working time") ------------------


def _met_working_seconds(path: Path) -> dict[tuple[int, str], int | None]:
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT ticket_id, name, met_working_seconds FROM targets WHERE met_at IS NOT NULL")
    found = {(ticket_id, name): seconds for ticket_id, name, seconds in rows}
    connection.close()
    return found


def test_upgrading_a_version_5_store_derives_the_working_times_report_computed(tmp_path: Path) -> None:
    step = next(m for m in migrations.MIGRATIONS if m.name == "met targets keep their working time")
    store_path = tmp_path / "v5.db"
    shutil.copyfile(V5_FIXTURE, store_path)
    cli = run(store_path)
    assert cli("db", "upgrade").exit_code == 0
    assert migrations.schema_version() >= step.version
    derived = _met_working_seconds(store_path)
    assert len(derived) == 7 and None not in derived.values()  # every met target of the fixture
    # #3 (chat) received Mon 23 Nov 10:10, resolved Tue 24 11:00: Mon 10:10–17:00 and Tue 9–11 are 8h50m of
    # working time, less the 5h it waited (Mon 13–17, Tue 9–10) = 3h50m.
    assert derived[(3, "resolve")] == derived[(3, "respond")] == 13_800
    assert derived[(1, "acknowledge")] == 3_600  # Mon 10:00 → 11:00
    period = ("--since", "2026-11-01", "--until", "2026-12-01")
    reports = [cli("report", *period, "--json", *by).stdout for by in ([], ["--by", "owner"], ["--by", "channel"])]
    # What report computed before schema 8: the same figures worked out on the calendar, with no stored value.
    connection = sqlite3.connect(store_path)
    connection.execute("UPDATE targets SET met_working_seconds = NULL")
    connection.commit()
    connection.close()
    recomputed = [cli("report", *period, "--json", *by).stdout for by in ([], ["--by", "owner"], ["--by", "channel"])]
    assert reports == recomputed
    assert json.loads(reports[0])["totals"]["working_time"]["resolve"]["count"] == 1, "control"


# -- the schema with references, imported files and stored working times (version 8) -----------------------------------

V8_FIXTURE = FIXTURE.with_name("v8.db")
HELPDESK = FIXTURE.parent.parent / "import" / "helpdesk.csv"


def test_a_version_8_store_upgrades_with_nothing_lost(tmp_path: Path) -> None:
    """The released store of schema 8 (tests/fixtures/stores/make_v8.sh): a helpdesk's CSV moved in with maps,
    policy versions applying by logging and by received time, an edit, a rating and a mail. Every later
    supportcli must open it with every row kept and the schema of a new store."""
    store_path = tmp_path / "v8.db"
    shutil.copyfile(V8_FIXTURE, store_path)
    before = _rows(V8_FIXTURE, V8_FIXTURE)
    filled = {table for table, rows in before.items() if rows}
    assert filled >= {"tickets", "targets", "events", "staff", "mail_messages", "policy_versions", "imported_files"}
    cli = run(store_path)
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    after = _rows(store_path, V8_FIXTURE)
    assert after.pop("supportcli_meta") == [("schema_version", str(migrations.schema_version()))]
    assert before.pop("supportcli_meta") == [("schema_version", "8")], "control: the fixture is of schema 8"
    assert after.pop("ticket_search") and before.pop("ticket_search")  # derived; the searches below check it
    assert after == before
    fresh = tmp_path / "fresh.db"
    assert run(fresh)("list").exit_code == 0
    assert _schema(store_path) == _schema(fresh)


def test_a_version_8_store_keeps_what_moving_in_brought(tmp_path: Path) -> None:
    """References stay findable, the waiting ticket stays paused, met targets keep their working time, and the
    file imported then is still known, so importing it again skips every row it brought."""
    store_path = tmp_path / "v8.db"
    shutil.copyfile(V8_FIXTURE, store_path)
    cli = run(store_path)
    assert cli("db", "upgrade").exit_code == 0
    found = json.loads(cli("list", "--reference", "TKT-1002", "--json").stdout)
    assert [(t["id"], t["reference"], t["status"]) for t in found] == [(2, "TKT-1002", "waiting")]
    # Phone, received Fri 20 Nov 07:29 (the clock starts at 09:00): respond 4wh was due 13:00 and the recorded
    # first response came at 14:00, so it stays a late one; resolve stays paused while the customer is awaited.
    states = {t["name"]: t["state"] for t in json.loads(cli("show", "2", "--json").stdout)["targets"]}
    assert states == {"respond": "breached", "resolve": "paused"}
    assert [hit["id"] for hit in json.loads(cli("search", "--json", "--", "TKT-1004").stdout)] == [4]
    history = json.loads(cli("policy", "history", "--json").stdout)
    assert [(row["version"], row["applies_to"]) for row in history] == [(1, "received"), (2, "logged"), (3, "received")]
    assert None not in _met_working_seconds(store_path).values()
    again = cli("import", str(HELPDESK), "--map-file", str(HELPDESK.with_name("helpdesk-map.toml")), "--fix-order")
    assert again.exit_code == 0, again.output
    assert "skipped 5 rows already in the store" in again.output
    assert len(json.loads(cli("list", "--json").stdout)) == 8
