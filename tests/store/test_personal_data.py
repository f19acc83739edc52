"""Every table and column of a real store is declared as holding customers' personal data (and cleaned by purge
and redact) or as holding none, so a new table or column that holds some cannot be forgotten."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from helpers import Cli, at, ok
from supportcli.store import models  # noqa: F401  (every table of the store is in the metadata)
from supportcli.store.personal_data import IMPERSONAL_TABLES, INDEX_TABLES, PERSONAL_TABLES, index_table_of

NOW = "2026-11-23T10:00:00+00:00"


def store_columns(url: str) -> dict[str, set[str]]:
    """The tables of the store as the database itself lists them, with their columns."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        return {
            name: {column["name"] for column in inspector.get_columns(name)} for name in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def test_every_table_of_the_store_is_declared_cleaned_or_free_of_personal_data(cli: Cli, store_url: str) -> None:
    ok(cli("init", env=at(NOW)))
    real = store_columns(store_url)
    indexes = {name for name in real if index_table_of(name) is not None}
    assert {index_table_of(name) for name in indexes} == set(INDEX_TABLES), "every declared index exists"
    real = {name: columns for name, columns in real.items() if name not in indexes}
    modelled = {name: {column.name for column in table.columns} for name, table in SQLModel.metadata.tables.items()}
    assert set(real) == set(modelled), "control: the store has the tables of the models"
    personal = {table.name: table for table in PERSONAL_TABLES}

    undeclared = set(real) - set(personal) - set(IMPERSONAL_TABLES)
    assert not undeclared, (
        f"tables {sorted(undeclared)} are declared in neither PERSONAL_TABLES nor IMPERSONAL_TABLES "
        "(src/supportcli/store/personal_data.py): say how purge and redact clean them, or why they need not"
    )
    assert not set(personal) & set(IMPERSONAL_TABLES)
    assert not (set(personal) | set(IMPERSONAL_TABLES)) - set(real), "a declared table that no longer exists"
    for name, table in personal.items():
        columns = real[name] | modelled[name]
        undeclared_columns = columns - set(table.purged) - table.kept
        assert not undeclared_columns, (
            f"{name}: columns {sorted(undeclared_columns)} are neither purged nor kept (store/personal_data.py)"
        )
        assert not set(table.purged) & table.kept, f"{name}: a column both purged and kept"
        assert set(table.purged) | table.kept <= columns, f"{name}: a declared column that no longer exists"
        assert set(table.redacted) <= set(table.purged), f"{name}: redact searches a column purge keeps"
