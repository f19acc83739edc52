"""Full-text search over tickets on each engine's own machinery: SQLite FTS5 and PostgreSQL text search.

Each ticket has one document in the ``ticket_search`` index, made of the parts in ``PARTS`` (subject,
customer, labels, body) and the text of every history event (updates, notes, customer messages). On
SQLite it is an FTS5 table (rowid = ticket id) with the ``porter unicode61`` tokenizer; on PostgreSQL a
table of one weighted ``tsvector`` per ticket with a GIN index, under the ``supportcli_search``
configuration: English stemming without stop words. Both engines then find "refunded" for "refund"
and every name and address, whatever words they are made of ("Will", "I"); PostgreSQL's own
``english`` configuration drops such words and ``simple`` does not stem.

The index is kept current in the transaction of every change: a flush that adds or changes a ticket's
searchable columns or its events re-indexes exactly those tickets (``_reindex_flushed``); the same hooks
keep each ticket's phone key for ``store.lookups``. Writes that bypass the ORM (bulk imports, core
UPDATE statements) call ``reindex`` or ``index_missing`` themselves. Rows are rebuilt from the tickets
and events tables, never patched, so a purged or redacted text leaves the index with the next flush.
Database triggers would cover every path too, but they fire once per row: an event insert would
re-aggregate its ticket's whole history, an import of a million tickets would do that five million
times, and the document would be written twice, in SQL and in PL/pgSQL.

What users type is never handed to the engine as query syntax: ``parse_query`` turns it into words, quoted
phrases and prefixes (``refun*``), and each engine gets a query built from quoted tokens only, so no input
can make the engine report a syntax error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, column, event, inspect, literal_column, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from supportcli.store.lookups import keep_phone_keys
from supportcli.store.models import Event, Ticket

INDEX_TABLE = "ticket_search"
POSTGRES_CONFIG = "supportcli_search"
POSTGRES_DICTIONARY = "supportcli_english_stem"
CHUNK = 500  # ticket ids per statement
# SQLite FTS5's in-memory buffer of new index entries: its default, and while many tickets are indexed at once.
DEFAULT_HASH_SIZE = 1024 * 1024
BULK_HASH_SIZE = 64 * 1024 * 1024
# Snippet markers: characters of Unicode's private use area, which customer text practically never holds.
MARK_START, MARK_END = "\ue000", "\ue001"
SNIPPET_TOKENS = 14
RANKED_MATCHES = 20_000  # a limited search ranks at most this many matches, the most recent


@dataclass(frozen=True)
class Part:
    """One part of a ticket's document: the ticket columns it is made of, and how much a match in it counts
    (a bm25 weight on SQLite, a weight class A–D on PostgreSQL)."""

    name: str
    columns: tuple[str, ...]
    bm25_weight: float
    postgres_weight: str
    # PostgreSQL refuses a tsvector over 1 MB: text past this many characters is left out of its index there.
    max_chars: int = 100_000


# To make a ticket column searchable, add it to a part here; the migration that adds it calls ``rebuild``.
PARTS: tuple[Part, ...] = (
    Part("subject", ("subject",), 8.0, "A"),
    Part("customer", ("customer_name", "customer_email", "customer_phone"), 4.0, "B"),
    Part("labels", ("org", "category", "tags", "reference"), 4.0, "B"),
    Part("body", ("body",), 2.0, "C"),
)
HISTORY = Part("history", (), 1.0, "D", max_chars=200_000)  # the text of every history event, oldest first
DOCUMENT_COLUMNS = frozenset(name for part in PARTS for name in part.columns)


# -- the query language ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing every result must contain: a word (one token) or a phrase (tokens in this order).

    ``prefix``: the last token is a prefix (``refun*`` finds refund, refunded).
    """

    tokens: tuple[str, ...]
    prefix: bool = False


def _is_token_char(char: str) -> bool:
    # FTS5's unicode61 tokenizer: letters, numbers and private-use characters make words; all else separates.
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def tokens_of(text: str) -> list[str]:
    """The words of a text as both engines' tokenizers see them (``ann.lee@example.com``: ann, lee, example, com)."""
    found: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_token_char(char) and char not in (MARK_START, MARK_END):
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def _ends_in_prefix(chunk: str) -> bool:
    """``refun*``: a star right after a word (stars alone, or after punctuation, are plain text)."""
    stripped = chunk.rstrip()
    without_stars = stripped.rstrip("*")
    return without_stars != stripped and bool(without_stars) and _is_token_char(without_stars[-1])


def parse_query(text: str) -> tuple[Term, ...]:
    """What a user's search text asks for: words in any order, "quoted phrases", and prefixes (``refun*``).

    Everything else is plain text: operators (AND, OR, NEAR), parentheses, minus signs and stray quotes
    are read as words or separators, never as syntax. A word that punctuation splits into several tokens
    (an e-mail address, ``07700-900123``) is a phrase of them.
    """
    terms: list[Term] = []
    pieces = text.split('"')
    if len(pieces) % 2 == 0:  # an unmatched quote: the text after it is read as plain words
        pieces = [*pieces[:-2], pieces[-2] + " " + pieces[-1]]
    phrase_before = False  # the piece before this one was a quoted phrase
    for index, piece in enumerate(pieces):
        if index % 2 == 1:
            found = tokens_of(piece)
            if found:
                terms.append(Term(tuple(found), _ends_in_prefix(piece)))
            phrase_before = bool(found)
            continue
        if phrase_before and piece.startswith("*"):
            terms[-1] = Term(terms[-1].tokens, True)  # "refund req"* : the phrase's last word is a prefix
        for chunk in piece.split():
            found = tokens_of(chunk)
            if found:
                terms.append(Term(tuple(found), _ends_in_prefix(chunk)))
    return tuple(terms)


def fts5_query(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression of quoted strings only: ``"priya" "late" "refun" *``."""
    return " ".join(
        '"' + " ".join(tokens).replace('"', '""') + '"' + (" *" if prefix else "") for tokens, prefix in _pairs(terms)
    )


def tsquery_text(terms: Sequence[Term]) -> str:
    """A ``to_tsquery`` argument of quoted tokens only: ``'priya' & ('late' <-> 'refun':*)``."""

    def quoted(token: str) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"

    parts = []
    for tokens, prefix in _pairs(terms):
        words = [quoted(token) for token in tokens]
        if prefix:
            words[-1] += ":*"
        parts.append(words[0] if len(words) == 1 else "(" + " <-> ".join(words) + ")")
    return " & ".join(parts)


def _pairs(terms: Sequence[Term]) -> Iterator[tuple[tuple[str, ...], bool]]:
    return ((term.tokens, term.prefix) for term in terms)


# -- results ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """A short passage around the match: plain text, and the spans (start, end) of the words that matched."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def __str__(self) -> str:
        return self.text

    def marked(self, start: str = "[", end: str = "]") -> str:
        """The text with each matched span between ``start`` and ``end``."""
        out, last = [], 0
        for begin, finish in self.marks:
            out += [self.text[last:begin], start, self.text[begin:finish], end]
            last = finish
        out.append(self.text[last:])
        return "".join(out)

    @classmethod
    def from_engine(cls, raw: str | None) -> Snippet:
        """Read an engine's snippet with ``MARK_START``/``MARK_END`` around matches; whitespace runs become one space.

        A piece of text between markers at a time, with the regular expression engine doing the characters:
        a listing of every match of a common word reads hundreds of thousands of snippets.
        """
        pieces: list[str] = []
        length = 0  # of the text so far
        ends_in_space = True  # nothing yet: leading whitespace is dropped
        marks: list[tuple[int, int]] = []
        opened: int | None = None
        for piece in _MARKERS.split(raw or ""):
            if piece == MARK_START:
                opened = length if opened is None else opened
            elif piece == MARK_END:
                if opened is not None:
                    marks.append((opened, length))
                opened = None
            elif piece:
                collapsed = _WHITESPACE.sub(" ", piece)
                if ends_in_space and collapsed.startswith(" "):
                    collapsed = collapsed[1:]
                if collapsed:
                    pieces.append(collapsed)
                    length += len(collapsed)
                    ends_in_space = collapsed.endswith(" ")
        if opened is not None:
            marks.append((opened, length))
        text = "".join(pieces)
        if text.endswith(" "):
            text = text[:-1]
        end = len(text)
        return cls(text, tuple((begin, min(finish, end)) for begin, finish in marks if min(finish, end) > begin))


_MARKERS = re.compile(f"([{MARK_START}{MARK_END}])")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SearchHit:
    """One ticket a search found: its id, how well it matched (higher is better, comparable within one search
    only) and the passage that matched."""

    ticket_id: int
    rank: float
    snippet: Snippet


def search_ticket_ids(session: Session, text: str, limit: int | None = None, passages: bool = True) -> list[SearchHit]:
    """The tickets matching ``text``, best first (ties: the newer ticket first), each with its snippet.

    The statement ``search`` runs (``matching``) over every ticket, without other filters. Input with no words
    at all (``"``, ``*``) finds nothing. ``passages``: with the matching passage of each. With a ``limit``, they are made for the hits returned only, and a
    word found in more than ``RANKED_MATCHES`` tickets has the most recent of them ranked: ranking costs about
    two microseconds a match, 2 s for a word in every ticket of a million.
    """
    from sqlmodel import select

    if not parse_query(text):
        return []
    connection = session.connection()
    dialect = connection.dialect.name
    statement = matching(dialect, select(Ticket), text, ranked=limit).limit(limit)
    ranked = statement.with_only_columns(col(Ticket.id), match_score(dialect, text))
    # A stored ticket's id is never None (the model's None is "not yet saved").
    rows = [(cast(int, ticket_id), float(rank)) for ticket_id, rank in connection.execute(ranked)]
    found = snippets(session, text, [ticket_id for ticket_id, _ in rows]) if passages and rows else {}
    return [SearchHit(ticket_id, rank, found.get(ticket_id, Snippet(""))) for ticket_id, rank in rows]


def matching(
    dialect: str, statement: SelectOfScalar[Ticket], text: str, ranked: int | None = None
) -> SelectOfScalar[Ticket]:
    """A ``select(Ticket)`` statement narrowed to the tickets matching ``text`` and ordered best first (ties:
    the newer ticket first), on the engine ``dialect`` names (``"sqlite"``, ``"postgresql"``).

    Its other filters stay; its order is replaced (re-order it afterwards to sort differently). Text with
    no words matches nothing (the index is joined all the same, so ``match_score`` can be selected). ``ranked``: the listing shows at most this many, so only the most recent
    ``max(ranked, RANKED_MATCHES)`` tickets the statement finds are ranked, as ``search_ticket_ids`` does.
    """
    from sqlalchemy import false, func, select

    terms = parse_query(text)
    if dialect == "postgresql":
        found = statement.join(_POSTGRES_INDEX, _POSTGRES_INDEX.c.ticket_id == col(Ticket.id))
        found = found.where(_POSTGRES_INDEX.c.document.op("@@")(_postgres_query(terms)) if terms else false())
    else:
        found = statement.join(_SQLITE_INDEX, _SQLITE_INDEX.c.rowid == col(Ticket.id))
        found = found.where(literal_column(INDEX_TABLE).op("MATCH")(fts5_query(terms)) if terms else false())
    if ranked is not None:
        # By the index's own key, so the engine reads its matches newest first and skips older ones (FTS5
        # takes both the order and the range on its rowid; by tickets.id it sorted every match).
        key = _POSTGRES_INDEX.c.ticket_id if dialect == "postgresql" else _SQLITE_INDEX.c.rowid
        newest_keys = found.with_only_columns(key.label("key")).order_by(None).order_by(key.desc())
        newest = newest_keys.limit(max(ranked, RANKED_MATCHES)).subquery()
        found = found.where(key >= select(func.min(newest.c.key)).scalar_subquery())
    return found.order_by(None).order_by(match_score(dialect, text).desc(), col(Ticket.id).desc())


def match_score(dialect: str, text: str) -> ColumnElement[float]:
    """How well a ticket of a ``matching`` statement matches ``text``: higher is better, comparable within
    one search only (a column to select beside the ticket, as ``search --json`` shows ``rank``)."""
    from sqlalchemy import Float, func

    if dialect == "postgresql":
        return func.ts_rank_cd(_POSTGRES_INDEX.c.document, _postgres_query(parse_query(text)), type_=Float)
    weights = [part.bm25_weight for part in (*PARTS, HISTORY)]
    return -func.bm25(literal_column(INDEX_TABLE), *weights, type_=Float)


def snippet_column(dialect: str) -> ColumnElement[str] | None:
    """The matching passage as a column of a ``matching`` statement, made as the engine reads each match
    (SQLite's ``snippet``, 15 µs a match): for a listing of every match, where looking each one up again
    (``snippets``, a lookup of the index per ticket) cost 90 µs. None on PostgreSQL, whose passages are made
    from the ticket's text (``snippets``) at the same cost either way."""
    from sqlalchemy import String, func

    if dialect == "postgresql":
        return None
    return func.snippet(literal_column(INDEX_TABLE), -1, MARK_START, MARK_END, "…", SNIPPET_TOKENS, type_=String)


def _postgres_query(terms: Sequence[Term]) -> ColumnElement[Any]:
    from sqlalchemy import func

    return func.to_tsquery(literal_column(f"'{POSTGRES_CONFIG}'::regconfig"), tsquery_text(terms))


# The index as a table of statements: one object each, so every clause that names it names the same FROM.
_POSTGRES_INDEX = table(INDEX_TABLE, column("ticket_id"), column("document"))
_SQLITE_INDEX = table(INDEX_TABLE, column("rowid"))


def snippets(session: Session, text: str, ticket_ids: Sequence[int]) -> dict[int, Snippet]:
    """The matching passage of each of these tickets (for a listing made with ``matching``)."""
    terms = parse_query(text)
    if not terms or not ticket_ids:
        return {}
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    return _snippets(connection, tsquery_text(terms) if postgres else fts5_query(terms), list(ticket_ids))


_TSQUERY = f"to_tsquery('{POSTGRES_CONFIG}'::regconfig, :query)"


def _statement(sql: str, expanding: Iterable[str] = ()) -> Any:
    """A textual statement; ``expanding`` names the parameters that take a list (``IN :ids``)."""
    statement = text(sql)
    for name in expanding:
        statement = statement.bindparams(bindparam(name, expanding=True))
    return statement


def _snippets(connection: Connection, query: str, ticket_ids: list[int]) -> dict[int, Snippet]:
    if connection.dialect.name == "postgresql":
        options = (
            f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords={SNIPPET_TOKENS}, '
            f"MinWords={SNIPPET_TOKENS // 2}, MaxFragments=1"
        )
        sql = (
            f"SELECT t.id, ts_headline('{POSTGRES_CONFIG}'::regconfig, {_postgres_headline_text()}, {_TSQUERY}, "
            f":options) FROM tickets AS t WHERE t.id IN :ids"
        )
        values: dict[str, Any] = {"query": query, "options": options}
    else:
        # FTS5 is given the match and a range of rowids, and SQLite keeps the wanted ids (``+rowid``: not passed
        # to FTS5). Given ``rowid IN``, FTS5 evaluated the query once per id, and a prefix (``refun*``) merges the
        # postings of every word it covers each time: 20 ms an id, a second for a page of 50 on 1M tickets.
        sql = (
            f"SELECT rowid, snippet({INDEX_TABLE}, -1, :start, :end, '…', {SNIPPET_TOKENS}) FROM {INDEX_TABLE} "
            f"WHERE {INDEX_TABLE} MATCH :query AND rowid BETWEEN :low AND :high AND +rowid IN :ids"
        )
        values = {"query": query, "start": MARK_START, "end": MARK_END}
    statement = _statement(sql, expanding=["ids"])
    found: dict[int, Snippet] = {}
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = ticket_ids[start : start + CHUNK]
        rows = connection.execute(statement, values | {"ids": chunk, "low": min(chunk), "high": max(chunk)})
        found.update((int(ticket_id), Snippet.from_engine(raw)) for ticket_id, raw in rows)
    return found


# -- the document -------------------------------------------------------------------------------------------------------


def _part_text(part: Part, available: frozenset[str] | None) -> str:
    """SQL for a part's text of ticket ``t``: its columns joined by spaces (``''`` when it has none)."""
    names = [name for name in part.columns if available is None or name in available]
    if not names:
        return "''"
    return " || ' ' || ".join(f"coalesce(t.{name}, '')" for name in names)


def _history_text(postgres: bool) -> str:
    """SQL for the texts of ticket ``t``'s history events, oldest first, one per line.

    The ``logged`` event's text is the subject the ticket was logged with, which the subject part already
    holds: left out, a subject corrected by ``edit`` is no longer found by its old words.
    """
    # SQLite concatenates in event id order too: the order of its scan of ix_events_ticket_id.
    aggregate = "string_agg(e.text, chr(10) ORDER BY e.id)" if postgres else "group_concat(e.text, char(10))"
    where = "e.ticket_id = t.id AND e.text <> '' AND e.kind <> 'logged'"
    return f"coalesce((SELECT {aggregate} FROM events AS e WHERE {where}), '')"


def _postgres_vector(sql_text: str, part: Part) -> str:
    # Punctuation becomes a space first, so PostgreSQL's parser splits an address or a number the way
    # SQLite's tokenizer does (it would keep ann.lee@example.com as one e-mail token).
    cleaned = f"regexp_replace(left({sql_text}, {part.max_chars}), '[[\\:punct\\:]]', ' ', 'g')"
    return f"setweight(to_tsvector('{POSTGRES_CONFIG}'::regconfig, {cleaned}), '{part.postgres_weight}')"


# Between two parts: one position taken by a lexeme (a space) that no query can name, so a phrase never runs
# from the end of one part into the start of the next (FTS5 columns are apart by nature). ``\:`` is a colon
# to SQLAlchemy's text(), not a parameter.
_POSTGRES_GAP = r"''' ''\:1'::tsvector"


def _postgres_headline_text() -> str:
    pieces = [_part_text(part, None) for part in PARTS] + [_history_text(postgres=True)]
    return "concat_ws(chr(10), " + ", ".join(pieces) + ")"


def _insert_documents(
    connection: Connection, where: str, values: dict[str, Any], available: frozenset[str] | None = None
) -> None:
    """Write the index rows of the tickets ``t`` that ``where`` selects (their old rows must be gone)."""
    postgres = connection.dialect.name == "postgresql"
    texts = [(_part_text(part, available), part) for part in PARTS] + [(_history_text(postgres), HISTORY)]
    if postgres:
        vector = f" || {_POSTGRES_GAP} || ".join(_postgres_vector(sql_text, part) for sql_text, part in texts)
        sql = f"INSERT INTO {INDEX_TABLE} (ticket_id, document) SELECT t.id, {vector} FROM tickets AS t WHERE {where}"
    else:
        names = ", ".join(part.name for _, part in texts)
        columns = ", ".join(sql_text for sql_text, _ in texts)
        sql = f"INSERT INTO {INDEX_TABLE} (rowid, {names}) SELECT t.id, {columns} FROM tickets AS t WHERE {where}"
    # PostgreSQL takes the ids as one array (``= ANY(:ids)``), SQLite as a list expanded into ``IN (...)``.
    connection.execute(_statement(sql, expanding=["ids"] if "ids" in values and not postgres else []), values)


def _reindex(connection: Connection, ticket_ids: Iterable[int]) -> None:
    ids = sorted(set(ticket_ids))
    if connection.dialect.name == "postgresql":
        # One array parameter rather than a placeholder per id: psycopg splits a statement's text at each of its
        # placeholders, and 500 of them in the long INSERT of the documents cost more client time than the
        # statement (a CSV import of 8,469 tickets: 0.34 s of its 2.3 s).
        delete = text(f"DELETE FROM {INDEX_TABLE} WHERE ticket_id = ANY(:ids)")
        chosen = "t.id = ANY(:ids)"
    else:
        delete = _statement(f"DELETE FROM {INDEX_TABLE} WHERE rowid IN :ids", expanding=["ids"])
        chosen = "t.id IN :ids"
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        connection.execute(delete, {"ids": chunk})
        _insert_documents(connection, chosen, {"ids": chunk})


def reindex(session: Session, ticket_ids: Iterable[int]) -> None:
    """Rebuild the index rows of these tickets from what is stored now, in the session's transaction.

    For writes the flush hook cannot see (core INSERT/UPDATE statements); pending ORM changes are flushed
    first, so the rows read are the current ones.
    """
    session.flush()
    _reindex(session.connection(), ticket_ids)


def forget(session: Session, ticket_ids: Iterable[int]) -> None:
    """After a purge or a redaction: rebuild these tickets' index rows and leave no trace of the old texts.

    FTS5 records a deletion as a marker in a new segment and keeps the old tokens in older ones until they
    are merged, so on SQLite the whole index is merged into one segment here, in the same transaction
    (``secure_delete`` then zeroes the pages the old segments held). On PostgreSQL the old row versions
    go at the next VACUUM, like those of the tickets and events themselves.
    """
    ids = list(ticket_ids)
    if not ids:  # nothing changed: merging the index would still rewrite it
        return
    reindex(session, ids)
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"INSERT INTO {INDEX_TABLE} ({INDEX_TABLE}) VALUES ('optimize')"))


def index_missing(session: Session, every_ticket: bool = False) -> None:
    """Index every ticket that has no index row yet, in one statement (after a bulk import).

    ``every_ticket``: the caller knows no ticket has one (an import into an empty store), so none is looked up.
    """
    session.flush()
    connection = session.connection()
    with _large_pending_buffer(connection):
        if every_ticket:
            _insert_documents(connection, "1 = 1", {})
            return
        key = "s.ticket_id" if connection.dialect.name == "postgresql" else "s.rowid"
        _insert_documents(connection, f"NOT EXISTS (SELECT 1 FROM {INDEX_TABLE} AS s WHERE {key} = t.id)", {})


@contextmanager
def _large_pending_buffer(connection: Connection) -> Iterator[None]:
    """SQLite: FTS5 gathers new index entries in memory up to its ``hashsize`` (1 MB by default) before writing
    them out as a segment, and merges segments as they pile up. For one statement indexing many tickets a larger
    buffer makes fewer, larger segments and less merging (an import of 100,000 tickets: 3.1-3.6 s -> 2.6-2.95 s
    for the index, benchmarks/README.md); the setting is kept in the index's own config table, so it is set back
    to the default in the same transaction and later writes use the usual small buffer. If the indexing fails, the
    transaction is rolled back, the first setting with it (so nothing is reset after an error)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    config = f"INSERT INTO {INDEX_TABLE} ({INDEX_TABLE}, rank) VALUES ('hashsize', ?)"
    connection.exec_driver_sql(config, (BULK_HASH_SIZE,))
    yield
    connection.exec_driver_sql(config, (DEFAULT_HASH_SIZE,))


# -- keeping it current --------------------------------------------------------------------------------------------------


def _changed(row: object, names: Iterable[str]) -> bool:
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in names)


def _flushed_ticket_ids(session: Session) -> set[int]:
    """The tickets whose document this flush changed: new or deleted tickets and events, searchable columns
    or event texts changed."""
    ids: set[int] = set()
    for row in (*session.new, *session.deleted):
        if isinstance(row, Ticket) and row.id is not None:
            ids.add(row.id)
        elif isinstance(row, Event):
            ids.add(row.ticket_id)
    for row in session.dirty:
        if isinstance(row, Ticket) and row.id is not None and _changed(row, DOCUMENT_COLUMNS):
            ids.add(row.id)
        elif isinstance(row, Event) and _changed(row, ("text",)):
            ids.add(row.ticket_id)
    return ids


def _reindex_flushed(session: Session, _context: object) -> None:
    """After every flush, in its transaction: re-index the tickets it changed (the flush's state is still readable)."""
    ids = _flushed_ticket_ids(session)
    if ids:
        _reindex(session.connection(), ids)


event.listen(Session, "before_flush", keep_phone_keys)
event.listen(Session, "after_flush", _reindex_flushed)


# -- creating and rebuilding ---------------------------------------------------------------------------------------------


def create_index(connection: Connection) -> None:
    """Create the (empty) index of a new store."""
    if connection.dialect.name == "postgresql":
        _create_postgres_config(connection)
        _create_postgres_table(connection)
        connection.execute(text(f"CREATE INDEX ix_{INDEX_TABLE}_document ON {INDEX_TABLE} USING GIN (document)"))
    else:
        names = ", ".join(part.name for part in (*PARTS, HISTORY))
        connection.execute(
            text(
                f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5({names}, "
                "tokenize = 'porter unicode61 remove_diacritics 2')"
            )
        )


def rebuild(connection: Connection) -> None:
    """Build the index anew from every ticket (schema migrations call this), in one statement as an import does.

    Only the ticket columns the store has so far are read, so an older migration that rebuilds keeps working
    once a later one adds a searchable column (that migration rebuilds again).
    """
    available = frozenset(column["name"] for column in inspect(connection).get_columns("tickets"))
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text(f"DROP TABLE IF EXISTS {INDEX_TABLE}"))
        _create_postgres_config(connection)
        _create_postgres_table(connection)
        _insert_documents(connection, "TRUE", {}, available)
        # Built once over the filled table: several times faster than keeping it up to date row by row.
        connection.execute(text(f"CREATE INDEX ix_{INDEX_TABLE}_document ON {INDEX_TABLE} USING GIN (document)"))
    else:
        connection.execute(text(f"DROP TABLE IF EXISTS {INDEX_TABLE}"))
        create_index(connection)
        with _large_pending_buffer(connection):
            _insert_documents(connection, "1 = 1", {}, available)


def _create_postgres_table(connection: Connection) -> None:
    connection.execute(
        text(
            f"CREATE TABLE {INDEX_TABLE} (ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
    )


def _create_postgres_config(connection: Connection) -> None:
    """English stemming (snowball) without a stop-word list, for every kind of word; the rest as ``english``."""
    exists = connection.execute(
        text(
            "SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace "
            "WHERE c.cfgname = :name AND n.nspname = current_schema()"
        ),
        {"name": POSTGRES_CONFIG},
    ).first()
    if exists:
        return
    connection.execute(
        text(f"CREATE TEXT SEARCH DICTIONARY {POSTGRES_DICTIONARY} (TEMPLATE = snowball, LANGUAGE = english)")
    )
    connection.execute(text(f"CREATE TEXT SEARCH CONFIGURATION {POSTGRES_CONFIG} (COPY = english)"))
    connection.execute(
        text(
            f"ALTER TEXT SEARCH CONFIGURATION {POSTGRES_CONFIG} ALTER MAPPING FOR "
            f"asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH {POSTGRES_DICTIONARY}"
        )
    )
