"""CPU seconds of the statements ``search`` and ``list``'s lookups run, in one process, imports excluded.

On a shared machine the wall times of ``commands.py`` mostly say how busy it was; the CPU seconds of the
work itself (``time.process_time``, best of the rounds) are what to compare with the 0.5 s aim. The store
is only read (a copy of a benchmark store, never the shared file).

    python benchmarks/search_cpu.py --store COPY.db [--rounds 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlmodel import Session

from supportcli.core.tickets import OPEN_STATUSES
from supportcli.store.queries import TicketFilter, listing_rows, ticket_statement
from supportcli.store.search import match_score, snippets

SEARCH_LIMIT = 50  # what ``search`` shows unless told otherwise


def cases(email: str, now: datetime) -> dict[str, TicketFilter]:
    """What to time: searches as ``search`` runs them, and ``list``'s customer lookups."""
    return {
        "search refund": TicketFilter(search="refund"),
        "search refun*": TicketFilter(search="refun*"),
        "search parcel rain": TicketFilter(search="parcel rain"),
        'search "left in the rain"': TicketFilter(search='"left in the rain"'),
        "search nosuchword": TicketFilter(search="nosuchword"),
        "search refund --status open --kind complaint": TicketFilter(
            search="refund", statuses=list(OPEN_STATUSES), kinds=["complaint"]
        ),
        f"list --email {email.upper()}": TicketFilter(emails=[email.upper()]),
        f"list --email {email} --overdue": TicketFilter(emails=[email], overdue_at=now),
        "list --phone '07700 900123'": TicketFilter(phones=["07700 900123"]),
    }


def work(session: Session, wanted: TicketFilter, now: datetime) -> int:
    """The rows a listing reads (with a search's rank and passages), as ``list``/``search`` read them."""
    limit = SEARCH_LIMIT if wanted.search else None
    extra = [match_score("sqlite", wanted.search)] if wanted.search else []
    statement = ticket_statement(wanted, "sqlite", ranked=limit)
    rows = list(listing_rows(session, statement, now, limit, extra=extra))
    if wanted.search:
        snippets(session, wanted.search, [row[0] for row in rows])
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a copy of a benchmark store (SQLite)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--now", default="2026-12-01T12:00:00+00:00")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    with sqlite3.connect(f"file:{args.store}?mode=ro", uri=True) as connection:
        # A customer's address, as a person would look one up (a ticket's, picked once per store).
        (email,) = connection.execute(
            "SELECT customer_email FROM tickets WHERE customer_email IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
    # Read only (the store is never changed, so even the shared file would do).
    engine = create_engine(f"sqlite:///file:{args.store}?mode=ro&uri=true")
    print(f"{'what':<60} {'CPU s':>7} {'wall s':>7} {'rows':>6}")
    for name, wanted in cases(email, now).items():
        best: tuple[float, float, int] | None = None
        for _ in range(args.rounds):
            with Session(engine) as session:
                cpu, wall = time.process_time(), time.perf_counter()
                rows = work(session, wanted, now)
                measured = (time.process_time() - cpu, time.perf_counter() - wall, rows)
            best = measured if best is None else min(best, measured)
        assert best is not None
        print(f"{name:<60} {best[0]:>7.3f} {best[1]:>7.2f} {best[2]:>6}")


if __name__ == "__main__":
    main()
