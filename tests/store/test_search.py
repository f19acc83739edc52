"""The search engine's parts: the query language, snippets, the flush hook, and the customer lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlmodel import col, select

from supportcli.core.policy import default_policy_source
from supportcli.core.tickets import NewTicket
from supportcli.locations import sqlite_location
from supportcli.store import search
from supportcli.store.database import Store, open_store
from supportcli.store.lookups import email_clause, name_clause, phone_clause, phone_key
from supportcli.store.models import Ticket
from supportcli.store.queries import TicketFilter, ticket_statement
from supportcli.store.search import Snippet, Term, fts5_query, parse_query, tsquery_text
from supportcli.store.tickets import Actor, add_update, log_ticket

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ACTOR = Actor("alice", NOW)


def log(store: Store, subject: str, **fields: object) -> int:
    return store.run_write(lambda session: log_ticket(session, NewTicket(subject=subject, **fields), ACTOR).id or 0)  # type: ignore[arg-type]


def ids_where(store: Store, clause: object) -> list[int]:
    with store.read() as session:
        return list(session.exec(select(Ticket.id).where(clause).order_by(col(Ticket.id))))  # type: ignore[arg-type]


def found(store: Store, words: str) -> list[int]:
    with store.read() as session:
        return [hit.ticket_id for hit in search.search_ticket_ids(session, words)]


# -- the query language ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "terms"),
    [
        ("refund late", (Term(("refund",)), Term(("late",)))),
        ("  refund\tlate\n", (Term(("refund",)), Term(("late",)))),
        ("refun*", (Term(("refun",), prefix=True),)),
        ("refun**", (Term(("refun",), prefix=True),)),
        ('"old address"', (Term(("old", "address")),)),
        ('"old addr*"', (Term(("old", "addr"), prefix=True),)),
        ('"old addr"*', (Term(("old", "addr"), prefix=True),)),
        ('"old addr" *', (Term(("old", "addr")),)),
        ("ann.lee@example.com", (Term(("ann", "lee", "example", "com")),)),
        ("+44 7700 900123", (Term(("44",)), Term(("7700",)), Term(("900123",)))),
        ('say "old address', (Term(("say",)), Term(("old",)), Term(("address",)))),
        ('""', ()),
        ("* - ( ) :", ()),
        ("AND OR NOT NEAR", (Term(("AND",)), Term(("OR",)), Term(("NOT",)), Term(("NEAR",)))),
        ("Zoë Łódź 東京", (Term(("Zoë",)), Term(("Łódź",)), Term(("東京",)))),
        ("-refund", (Term(("refund",)),)),
        ("a*b", (Term(("a", "b")),)),
    ],
)
def test_what_users_type_becomes_words_phrases_and_prefixes(typed: str, terms: tuple[Term, ...]) -> None:
    assert parse_query(typed) == terms


def test_each_engine_gets_quoted_tokens_only() -> None:
    terms = parse_query('priya "old addr"* refun*')
    assert fts5_query(terms) == '"priya" "old addr" * "refun" *'
    assert tsquery_text(terms) == "'priya' & ('old' <-> 'addr':*) & 'refun':*"


def test_a_snippet_is_read_from_the_engines_markers() -> None:
    raw = "  the \ue000refund\ue001 was\n\nlate, \ue000very late\ue001  "
    snippet = Snippet.from_engine(raw)
    assert snippet.text == "the refund was late, very late"
    assert snippet.marks == ((4, 10), (21, 30))
    assert snippet.marked() == "the [refund] was late, [very late]"
    assert str(snippet) == snippet.text
    assert Snippet.from_engine("\ue000open end  ").marks == ((0, 8),)
    assert Snippet.from_engine(None) == Snippet("")


# -- the index on each backend ---------------------------------------------------------------------------------------


def test_a_change_made_through_the_orm_is_indexed_in_its_transaction(store: Store) -> None:
    ticket_id = log(store, "Router keeps dropping", customer_email="old@example.com")

    def edit(session) -> None:  # type: ignore[no-untyped-def]
        ticket = session.get(Ticket, ticket_id)
        ticket.customer_email, ticket.subject = "new@example.com", "Modem keeps dropping"
        session.add(ticket)
        session.flush()
        # inside the same transaction the index already follows
        assert [hit.ticket_id for hit in search.search_ticket_ids(session, "modem")] == [ticket_id]

    store.run_write(edit)
    assert found(store, "new@example.com") == [ticket_id]
    assert found(store, "old@example.com") == []
    assert found(store, "modem") == [ticket_id]
    # The "logged" event keeps the old subject, but the index leaves its copy out: a ticket is found by what it says now.
    assert found(store, "router") == []


def test_a_rolled_back_change_leaves_the_index_as_it_was(store: Store) -> None:
    ticket_id = log(store, "Router keeps dropping")

    def failing(session) -> None:  # type: ignore[no-untyped-def]
        add_update(session, ticket_id, ACTOR, "Swapped the antenna", internal=True, next_at=None)
        session.flush()
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        store.run_write(failing)
    assert found(store, "antenna") == []


def test_writes_outside_the_orm_are_indexed_by_reindex_and_index_missing(store: Store) -> None:
    from sqlalchemy import insert, update

    ticket_id = log(store, "Printer jam")

    def bulk(session) -> None:  # type: ignore[no-untyped-def]
        connection = session.connection()
        connection.execute(update(Ticket).where(col(Ticket.id) == ticket_id).values(body="toner everywhere"))
        row = {"subject": "Scanner jam", "received_at": NOW, "logged_at": NOW, "updated_at": NOW}
        connection.execute(insert(Ticket), [{**row, "id": 50, "policy_version": 1}])
        assert found_in(session, "toner") == []  # not seen by the flush hook
        search.reindex(session, [ticket_id])
        search.index_missing(session)

    def found_in(session, words: str) -> list[int]:  # type: ignore[no-untyped-def]
        return [hit.ticket_id for hit in search.search_ticket_ids(session, words)]

    store.run_write(bulk)
    assert found(store, "toner") == [ticket_id]
    assert found(store, "scanner") == [50]
    assert sorted(found(store, "jam")) == [ticket_id, 50]


def test_matching_narrows_any_ticket_statement_and_orders_it_best_first(store: Store) -> None:
    in_body = log(store, "Visit", body="the boiler again", kind="complaint")
    in_subject = log(store, "Boiler broken", kind="complaint")
    log(store, "Boiler noise", kind="enquiry")
    with store.read() as session:
        dialect = session.connection().dialect.name
        statement = search.matching(dialect, ticket_statement(TicketFilter(kinds=["complaint"]), dialect), "boiler")
        assert [ticket.id for ticket in session.exec(statement)] == [in_subject, in_body]
        assert list(session.exec(search.matching(dialect, select(Ticket), '"*"'))) == []
        hits = search.snippets(session, "boiler", [in_body])
    assert "the [boiler] again" in hits[in_body].marked()


def test_a_rebuild_indexes_every_ticket_anew(store: Store) -> None:
    first = log(store, "Printer jam")
    second = log(store, "Printer smoke")
    with store.write() as session:
        search.rebuild(session.connection())
        connection = session.connection()
        if connection.dialect.name == "sqlite":  # built with a larger FTS5 buffer, set back to the default after
            setting = f"SELECT v FROM {search.INDEX_TABLE}_config WHERE k = 'hashsize'"
            assert connection.exec_driver_sql(setting).scalar() in (None, search.DEFAULT_HASH_SIZE)
    assert sorted(found(store, "printer")) == [first, second]


# -- lookups by customer ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+44 7700 900123", "321009007744"),
        ("07700 900123", "3210090077"),
        ("0044 (0)7700-900123", "321009007744"),
        ("(555) 010-0199", "9910010555"),
        ("no digits", None),
        ("", None),
        (None, None),
        ("000", None),
        ("1" * 30, "1" * 20),
        ("٠٧٧٠٠ ٩٠٠١٢٣", "3210090077"),  # Arabic-Indic digits are digits too
    ],
)
def test_a_phone_key_is_the_reversed_digits_without_leading_zeros(number: str | None, key: str | None) -> None:
    assert phone_key(number) == key


def test_phone_numbers_are_compared_by_digits(store: Store) -> None:
    international = log(store, "a", customer_phone="+44 7700 900123")
    national = log(store, "b", customer_phone="07700 900124")
    log(store, "c", customer_phone="+44 6700 900123")
    log(store, "d", customer_phone="123")
    log(store, "e")
    assert ids_where(store, phone_clause("07700 900123")) == [international]
    assert ids_where(store, phone_clause("7700900123")) == [international]
    assert ids_where(store, phone_clause("+44 (0)7700 900123")) == [international]
    assert ids_where(store, phone_clause("+44 7700 900124")) == [national]  # stored without the country code
    assert ids_where(store, phone_clause("900123")) == [international, 3]  # the last digits find both
    assert ids_where(store, phone_clause("99 123")) == []  # 123 is too short to end a longer number
    assert ids_where(store, phone_clause("999")) == []
    assert ids_where(store, phone_clause("n/a")) == []


def test_a_changed_phone_number_gets_its_new_key(store: Store) -> None:
    ticket_id = log(store, "a", customer_phone="07700 900123")

    def change(session) -> None:  # type: ignore[no-untyped-def]
        ticket = session.get(Ticket, ticket_id)
        ticket.customer_phone = "020 7946 0958"
        session.add(ticket)

    store.run_write(change)
    assert ids_where(store, phone_clause("+44 20 7946 0958")) == [ticket_id]
    assert ids_where(store, phone_clause("07700 900123")) == []


def test_an_email_address_is_found_whole_in_any_letter_case(store: Store) -> None:
    ann = log(store, "a", customer_email="Ann.Lee@Example.com")
    log(store, "b", customer_email="lee@example.com")
    log(store, "c")
    assert ids_where(store, email_clause("ann.lee@example.com")) == [ann]
    assert ids_where(store, email_clause(" ANN.LEE@EXAMPLE.COM ")) == [ann]
    assert ids_where(store, email_clause("lee@example.com")) == [2]
    assert ids_where(store, email_clause("example.com")) == []


def test_a_name_is_found_by_any_part_in_any_letter_case(store: Store) -> None:
    ann = log(store, "a", customer_name="Ann Lee")
    bo = log(store, "b", customer_name="Bo Leeson")
    log(store, "c", customer_name="100% Dan_Smith")
    assert ids_where(store, name_clause("lee")) == [ann, bo]
    assert ids_where(store, name_clause("ANN  lee")) == [ann]
    assert ids_where(store, name_clause("%")) == [3]  # LIKE's wildcards are plain characters
    assert ids_where(store, name_clause("n_s")) == [3]
    assert ids_where(store, name_clause("a_n")) == []  # as a wildcard, _ would find Ann


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_email_and_phone_lookups_use_their_indexes(store_path: Path) -> None:
    opened = open_store(sqlite_location(store_path), {}, default_policy_source, NOW, "alice")
    try:
        for clause, index in (
            (email_clause("ann@example.com"), "ix_tickets_customer_email"),
            (phone_clause("07700 900123"), "ix_tickets_customer_phone_key"),
        ):
            statement = select(Ticket).where(clause)
            compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            with opened.read() as session:
                rows = session.connection().execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            plan = " | ".join(row[-1] for row in rows)
            assert index in plan and "SCAN tickets" not in plan, plan
    finally:
        opened.close()


def test_a_limited_search_ranks_the_most_recent_matches_of_a_very_common_word(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    best = log(store, "Printer printer printer")
    newer = [log(store, "Visit", body=f"printer number {number}") for number in range(3)]
    with store.read() as session:
        assert [hit.ticket_id for hit in search.search_ticket_ids(session, "printer", limit=1)] == [best]
        monkeypatch.setattr(search, "RANKED_MATCHES", 2)
        limited = search.search_ticket_ids(session, "printer", limit=1)
        everything = search.search_ticket_ids(session, "printer")
    assert [hit.ticket_id for hit in limited] == [newer[-1]]  # the best of the two most recent matches
    assert everything[0].ticket_id == best  # without a limit every match is ranked
    assert len(everything) == 4


def test_an_imported_phone_key_is_derived_from_the_number_never_taken_from_the_file() -> None:
    from supportcli.store.dump_schema import load_ticket

    record = {
        "id": 7,
        "subject": "s",
        "customer_phone": "+44 7700 900123",
        "customer_phone_key": "999",  # wrong: lookups must not trust it
        "received_at": "2026-11-20T09:00:00+00:00",
        "logged_at": "2026-11-20T09:00:00+00:00",
        "updated_at": "2026-11-20T09:00:00+00:00",
        "policy_version": 1,
    }
    assert load_ticket(record, "line 1")["ticket"]["customer_phone_key"] == "321009007744"
    del record["customer_phone_key"]  # a dump made before schema version 5
    assert load_ticket(record, "line 1")["ticket"]["customer_phone_key"] == "321009007744"
