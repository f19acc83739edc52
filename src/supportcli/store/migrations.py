"""Schema versions and the migrations between them, as small named functions (the llm way).

Version 1 is the first released schema, created from the models. Every later
change to an existing table is a function appended to ``MIGRATIONS`` that
takes the store from version N-1 to N with explicit, portable DDL; brand-new
tables are created from the models after the migrations run. Each upgrade
runs in one transaction, after a backup of an SQLite store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Migration:
    """One step: ``apply`` takes the schema from ``version - 1`` to ``version``."""

    version: int
    name: str
    apply: Callable[[Connection], None]


def _mail_gateway(connection: Connection) -> None:
    """Version 2: tickets get watchers (Cc addresses); our notices are found by Message-ID.

    The ``mail_messages`` table is new, so it is created from the models after this step.
    """
    connection.execute(text("ALTER TABLE tickets ADD COLUMN watchers VARCHAR DEFAULT '' NOT NULL"))
    connection.execute(text("CREATE INDEX ix_notices_message_id ON notices (message_id)"))


def _events_by_kind(connection: Connection) -> None:
    """Version 3: history events by kind and time, so ``report`` counts a period's escalations and extensions
    with a range scan instead of reading every event of the store."""
    connection.execute(text("CREATE INDEX ix_events_kind_at ON events (kind, at)"))


def _next_target(connection: Connection) -> None:
    """Version 4: tickets name their next pending target beside its due time, so ``due`` and ``list`` read one
    row per ticket instead of joining the targets (``core.tickets.next_pending`` decides ties the same way)."""
    connection.execute(text("ALTER TABLE tickets ADD COLUMN next_target VARCHAR"))
    # The pending condition sits inside a CASE: a plain ``state = 'pending'`` makes SQLite look targets up
    # through ix_targets_state_due, which took 7 minutes on a store of a million tickets instead of a second.
    connection.execute(
        text(
            "UPDATE tickets SET next_target = ("
            " SELECT targets.name FROM targets"
            " WHERE targets.ticket_id = tickets.id"
            " AND CASE WHEN targets.state = 'pending' THEN targets.due_at END = tickets.next_due_at"
            " ORDER BY CASE targets.name"
            " WHEN 'acknowledge' THEN 0 WHEN 'respond' THEN 1 WHEN 'update' THEN 2 WHEN 'resolve' THEN 3 ELSE 4 END"
            " LIMIT 1)"
            " WHERE next_due_at IS NOT NULL"
        )
    )


def _full_text_search(connection: Connection) -> None:
    """Version 5: the full-text search index of every ticket (``store.search``), and indexes that find tickets by
    their customer's e-mail address and phone number (``store.lookups``)."""
    from supportcli.store import search
    from supportcli.store.lookups import phone_key

    connection.execute(text("ALTER TABLE tickets ADD COLUMN customer_phone_key VARCHAR"))
    numbers = connection.execute(text("SELECT id, customer_phone FROM tickets WHERE customer_phone IS NOT NULL"))
    keys = [{"id": ticket_id, "key": phone_key(number)} for ticket_id, number in numbers]
    if keys:
        connection.execute(text("UPDATE tickets SET customer_phone_key = :key WHERE id = :id"), keys)
    connection.execute(text("CREATE INDEX ix_tickets_customer_phone_key ON tickets (customer_phone_key)"))
    connection.execute(text("CREATE INDEX ix_tickets_customer_email ON tickets (lower(customer_email))"))
    search.rebuild(connection)


def _policy_applies_by(connection: Connection) -> None:
    """Version 6: each policy version says whether it applies to tickets by their logging or their received
    time (``store.policies.version_for_ticket``; docs/policy.md, "Versions and --effective").

    Until now a version set without ``--effective`` stored the moment it was set as its effective time, so
    a version whose effective time equals its set time was set that way and applies by logging time; any
    other (a scheduled or back-dated ``--effective``, and the built-in version effective from 1970) applies
    by received time, as every version did before. Tickets keep the version they recorded.
    """
    connection.execute(text("ALTER TABLE policy_versions ADD COLUMN applies_by VARCHAR DEFAULT 'received' NOT NULL"))
    connection.execute(text("UPDATE policy_versions SET applies_by = 'logged' WHERE effective_at = set_at"))


def _import_references(connection: Connection) -> None:
    """Version 7: tickets keep the reference they had in the system they were imported from (README "Moving in
    from a spreadsheet"), unique so a re-import finds them, and searchable (``store.search`` indexes it).

    The ``imported_files`` table (the content hash of each CSV file imported) is new, so it is created from the
    models after this step.
    """
    from supportcli.store import search

    connection.execute(text("ALTER TABLE tickets ADD COLUMN reference VARCHAR"))
    connection.execute(text("CREATE UNIQUE INDEX ix_tickets_reference ON tickets (reference)"))
    search.rebuild(connection)


def _met_working_seconds(connection: Connection) -> None:
    """Version 8: each met target keeps its working time from the ticket's receipt (``Target.met_working_seconds``),
    so ``report`` reads it instead of working it out on the calendar for every ticket of the period."""
    from supportcli.store.met_durations import derive_met_working_seconds

    connection.execute(text("ALTER TABLE targets ADD COLUMN met_working_seconds INTEGER"))
    derive_met_working_seconds(connection)
    connection.execute(
        text(
            "CREATE INDEX ix_targets_met_unmeasured ON targets (ticket_id)"
            " WHERE met_at IS NOT NULL AND met_working_seconds IS NULL"
        )
    )


# Append new steps here, numbered from 2; never edit one that has been released.
MIGRATIONS: list[Migration] = [
    Migration(2, "mail gateway: ticket watchers, notices by Message-ID", _mail_gateway),
    Migration(3, "events by kind and time, for report", _events_by_kind),
    Migration(4, "tickets name their next pending target", _next_target),
    Migration(5, "full-text search index", _full_text_search),
    Migration(6, "policy versions apply by logging or by received time", _policy_applies_by),
    Migration(7, "ticket references and imported files", _import_references),
    Migration(8, "met targets keep their working time", _met_working_seconds),
]


def schema_version() -> int:
    """The schema version this program writes."""
    return 1 + len(MIGRATIONS)


def pending(from_version: int) -> list[Migration]:
    """The steps that take a store at ``from_version`` to the current schema, in order."""
    return [migration for migration in MIGRATIONS if migration.version > from_version]


def check_sequence() -> None:
    """Guard against a mis-numbered list (a test calls this)."""
    expected = list(range(2, 2 + len(MIGRATIONS)))
    if [migration.version for migration in MIGRATIONS] != expected:
        raise RuntimeError(f"migrations must be numbered {expected}")
