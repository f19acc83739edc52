"""``supportcli db``: check, back up and upgrade the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supportcli.cli.context import AppContext
from supportcli.cli.output_options import JsonOption
from supportcli.errors import StoreUnavailable

app = typer.Typer(help="Check, back up and upgrade the store.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Check the store: schema version, integrity and foreign keys (SQLite), and what it holds.

    Exits 5 when the store is damaged.

    Example: supportcli db check
    """
    from sqlalchemy import func
    from sqlmodel import select

    from supportcli.store.database import store_version
    from supportcli.store.migrations import schema_version
    from supportcli.store.models import Event, Notice, PolicyVersion, Staff, Ticket

    obj: AppContext = ctx.obj
    store = obj.store()
    problems: list[str] = []
    with store.read() as session:
        counts = {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in (
                ("tickets", Ticket),
                ("events", Event),
                ("policy_versions", PolicyVersion),
                ("staff", Staff),
                ("notices", Notice),
            )
        }
        if store.is_sqlite:
            connection = session.connection()
            integrity = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check").all()]
            if integrity != ["ok"]:
                problems.extend(f"integrity: {line}" for line in integrity)
            problems.extend(
                f"foreign key: {row[0]} row {row[1]} points at a missing {row[2]}"
                for row in connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            )
    report = {
        "store": store.location.display,
        "schema_version": store_version(store),
        "program_schema_version": schema_version(),
        "ok": not problems,
        "problems": problems,
        "counts": counts,
    }
    if json_output:
        obj.output.json(report)
    else:
        obj.output.line(f"store: {report['store']}")
        obj.output.line(
            f"schema version: {report['schema_version']} (this supportcli: {report['program_schema_version']})"
        )
        obj.output.line("counts: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
        obj.output.line("ok" if not problems else f"{len(problems)} problem(s)")
        for problem in problems:
            obj.output.line(f"  {problem}")
    if problems:
        raise StoreUnavailable(f"store {store.location.display} is damaged: {problems[0]}")


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy (mode 0600).")],
) -> None:
    """Copy a live SQLite store consistently (SQLite's online backup API), even while others write.

    Example: supportcli db backup ~/support-$(date +%F).db
    """
    from supportcli.errors import InvalidInput
    from supportcli.store.database import backup_sqlite

    obj: AppContext = ctx.obj
    store = obj.store()
    target = file.expanduser().absolute()
    if store.location.sqlite_path is not None and target == store.location.sqlite_path:
        raise InvalidInput("the backup file is the store itself")
    backup_sqlite(store, target)
    obj.output.message(f"backed up {store.location.display} to {target}")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Upgrade the store's schema to this version of supportcli (backing up an SQLite store first).

    Any command upgrades an older store automatically; this does it explicitly and says what it did.

    Example: supportcli db upgrade
    """
    from supportcli.store.database import store_version
    from supportcli.store.migrations import schema_version

    obj: AppContext = ctx.obj
    before = _version_before_open(obj)
    store = obj.store()  # opening upgrades (with a backup) when the store is older
    after = store_version(store)
    if before is None or before == after:
        obj.output.message(f"store {store.location.display} is at schema version {after}; nothing to do")
        return
    backup = ""
    if store.location.sqlite_path is not None:
        path = store.location.sqlite_path
        backup = f"; backup at {path.with_name(f'{path.name}.v{before}-backup')}"
    obj.output.message(f"upgraded {store.location.display} from schema version {before} to {schema_version()}{backup}")


def _version_before_open(obj: AppContext) -> int | None:
    """The schema version of an existing SQLite store, read without opening (and so upgrading) it."""
    import sqlite3

    path = obj.location.sqlite_path
    if path is None or not path.exists() or path.stat().st_size == 0:
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT value FROM supportcli_meta WHERE key = 'schema_version'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None
