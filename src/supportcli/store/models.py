"""The tables of a supportcli store."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from supportcli.store.types import UTCDateTime


def instant_column(*, nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    """A UTC instant column."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Meta(SQLModel, table=True):
    """Key/value facts about the store itself, e.g. its schema version."""

    __tablename__ = "supportcli_meta"

    key: str = Field(primary_key=True)
    value: str


class PolicyVersion(SQLModel, table=True):
    """One version of the team's policy; versions are never edited or deleted."""

    __tablename__ = "policy_versions"

    version: int | None = Field(default=None, primary_key=True)
    name: str
    source: str
    effective_at: datetime = Field(sa_column=instant_column(index=True))
    set_at: datetime = Field(sa_column=instant_column())
    set_by: str
    note: str = ""
