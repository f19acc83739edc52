"""``search`` through the real CLI on each backend: what it finds, in which order, and that the index follows
every way a ticket's text changes (log, update, mail-in, import, purge, redact)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import Cli, at, ok

NOW = "2026-11-23T10:00:00+00:00"  # a Monday
LATER = "2026-11-23T11:00:00+00:00"


def found(cli: Cli, *words: str, db: str | None = None, limit: int | None = None) -> list[int]:
    """The ids ``search`` finds, best first (the words after ``--``, so ``-refund`` is a word too)."""
    options = [*(["--db", db] if db else []), "search", "--json", *(["--limit", str(limit)] if limit else [])]
    result = ok(cli(*options, "--", *words, env=at(LATER)))
    return [hit["id"] for hit in json.loads(result.stdout)]


def log(cli: Cli, subject: str, *options: str, when: str = NOW) -> int:
    return int(ok(cli("log", subject, "-q", *options, env=at(when))).stdout)


def mail(subject: str, body: str, message_id: str) -> bytes:
    return (
        f"From: Dana Kowalski <dana@example.org>\nTo: support@example.com\nSubject: {subject}\n"
        f"Date: Mon, 23 Nov 2026 09:30:00 +0000\nMessage-ID: {message_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


def test_every_field_of_a_ticket_is_found(cli: Cli) -> None:
    ticket = log(
        cli,
        "Quokka sighting",
        "--body",
        "A wombat in the garden",
        "--name",
        "Ann Lee",
        "--email",
        "Ann.Lee@Example.com",
        "--phone",
        "+44 7700 900123",
        "--org",
        "Acme",
        "--category",
        "billing",
        "--tag",
        "vip",
    )
    other = log(cli, "Nothing in common", "--body", "plain text")
    ok(cli("update", str(ticket), "-m", "Platypus seen by the customer", env=at(NOW)))
    ok(cli("update", str(ticket), "--internal", "-m", "Echidna, noted internally", env=at(NOW)))
    mailed = mail("Numbat in the shed", "A numbat moved into the shed", "<n1@example.org>")
    ok(cli("mail-in", input=mailed, env=at(NOW)))
    reply = mail("Re: [#3] Numbat in the shed", "The bandicoot came back too", "<n2@example.org>")
    ok(cli("mail-in", input=reply, env=at(LATER)))

    for words in (
        ["quokka"],
        ["wombat"],
        ["Ann"],
        ["lee"],
        ["ann.lee@example.com"],
        ["ANN.LEE@EXAMPLE.COM"],
        ["example.com"],
        ["900123"],
        ["+44 7700 900123"],
        ["acme"],
        ["billing"],
        ["vip"],
        ["platypus"],
        ["echidna"],
    ):
        assert found(cli, *words) == [ticket], words
    assert found(cli, "numbat") == [3]
    assert found(cli, "bandicoot") == [3]  # the customer's reply by mail
    assert found(cli, "dana@example.org") == [3]
    assert found(cli, "plain") == [other]


def test_words_in_any_order_phrases_and_prefixes(cli: Cli) -> None:
    first = log(cli, "Refund for the old order")
    second = log(cli, "Order the refund again")
    third = log(cli, "Refunded twice by mistake")
    assert sorted(found(cli, "refund", "order")) == [first, second]
    assert sorted(found(cli, "order", "refund")) == [first, second]
    assert found(cli, '"refund for the old order"') == [first]
    assert found(cli, '"order the refund"') == [second]
    assert found(cli, '"the old refund"') == []
    assert sorted(found(cli, "refun*")) == [first, second, third]
    assert sorted(found(cli, "refunds")) == [first, second, third]  # the same word stem
    assert found(cli, '"refunded tw"*') == [third]  # a phrase whose last word is a prefix
    assert found(cli, "mistak*", "twice") == [third]
    assert found(cli, "refund", "nowhere") == []


def test_a_match_in_the_subject_ranks_before_one_in_the_body_or_history(cli: Cli) -> None:
    in_history = log(cli, "Heating question")
    ok(cli("update", str(in_history), "-m", "The boiler was checked", env=at(NOW)))
    in_body = log(cli, "Visit request", "--body", "Please look at the boiler in the loft")
    in_subject = log(cli, "Boiler broken")
    assert found(cli, "boiler") == [in_subject, in_body, in_history]


def test_the_snippet_shows_the_match_highlighted_on_a_terminal_and_plain_otherwise(cli: Cli) -> None:
    log(cli, "Parcel lost", "--body", "The courier left the parcel at the wrong house yesterday")
    hit = json.loads(ok(cli("search", "courier", "--json", env=at(LATER))).stdout)[0]
    start, end = hit["matches"][0]
    assert hit["snippet"][start:end].lower() == "courier"
    plain = ok(cli("search", "courier", env=at(LATER))).stdout
    assert plain.startswith("1\tParcel lost\tnew\t")
    assert "courier" in plain and "\x1b[" not in plain
    terminal = ok(cli("search", "courier", env=at(LATER, SUPPORTCLI_TERMINAL="1", COLUMNS="120"))).stdout
    assert re.search(r"\x1b\[[0-9;]*m(courier)\x1b\[0m", terminal)
    no_colour = ok(cli("search", "courier", env=at(LATER, SUPPORTCLI_TERMINAL="1", NO_COLOR="1"))).stdout
    assert "courier" in no_colour and "\x1b[" not in no_colour


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"', []),
        ('""', []),
        ("*", []),
        ("**", []),
        ("AND", []),
        ("OR", []),
        ("NOT", []),
        ("-", []),
        ("(", []),
        (")", []),
        ("'", []),
        ("\\", []),
        (":", []),
        ("%_", []),
        ("NEAR(", []),
        ("ü", []),
        ("東京", []),
        ("🙂", []),
        ("\u0301", []),
        ("-refund", [1]),  # a minus sign is punctuation, not "without"
        ("refund -", [1]),
        ("^refund", [1]),
        ('"unclosed quote refund', []),  # every word still counts
        ('refund "', [1]),
        ("refund-for", [1]),  # punctuation joins words into a phrase: refund for
        ("order*refund", []),
        ("a*b", []),
        ("refund AND order", []),  # AND is a word like any other, and this ticket has none
        ("NEAR(refund order, 2)", []),
        ("subject:refund", []),  # no column filters: the phrase "subject refund"
        ("{subject}: refund", []),
        ("\ue000refund\ue001", [1]),
        ("REFUND", [1]),
    ],
)
def test_no_input_makes_the_engine_fail(cli: Cli, text: str, expected: list[int]) -> None:
    log(cli, "Refund for the order")
    assert found(cli, text) == expected


def test_text_without_words_finds_nothing_and_says_so(cli: Cli) -> None:
    log(cli, "Refund for the order")
    result = ok(cli("search", '"*"', env=at(LATER)))
    assert result.stdout == ""
    assert "nothing to search for" in result.stderr


def test_the_limit_keeps_the_best(cli: Cli) -> None:
    for number in range(3):
        log(cli, f"Printer jam {number}", "--body", "printer " * number)
    assert len(found(cli, "printer")) == 3
    assert len(found(cli, "printer", limit=2)) == 2
    refused = cli("search", "printer", "--limit", "0", env=at(LATER))
    assert refused.exit_code == 2


# -- the index follows every change ----------------------------------------------------------------------------------


def test_an_imported_export_is_searchable(cli: Cli, new_store: Callable[[], str], tmp_path: Path) -> None:
    log(cli, "Lost parcel", "--name", "Ivo Brandt", "--email", "ivo@example.net")
    ok(cli("update", "1", "-m", "Courier says it was delivered", env=at(NOW)))
    dump = tmp_path / "dump.ndjson"
    ok(cli("export", "--format", "ndjson", "-o", str(dump), env=at(LATER)))
    for source in (dump, tmp_path / "dump.json"):
        if source.suffix == ".json":
            ok(cli("export", "--format", "json", "-o", str(source), env=at(LATER)))
        other = new_store()
        ok(cli("--db", other, "import", str(source), env=at(LATER)))
        assert found(cli, "courier", db=other) == [1]
        assert found(cli, "ivo@example.net", db=other) == [1]
        assert found(cli, "brandt", db=other) == [1]


def test_a_renumbered_import_is_searchable_under_its_new_number(cli: Cli, tmp_path: Path) -> None:
    log(cli, "Lost parcel")
    dump = tmp_path / "dump.ndjson"
    ok(cli("export", "--format", "ndjson", "-o", str(dump), env=at(LATER)))
    ok(cli("import", str(dump), "--on-conflict", "renumber", env=at(LATER)))
    assert sorted(found(cli, "parcel")) == [1, 2]


def test_a_csv_import_is_searchable(cli: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "tickets.csv"
    sheet.write_text(
        "subject,body,name,email,phone,status\n"
        "Broken kettle,Kettle sparks when switched on,Mo Farah,mo@example.com,01632 960001,resolved\n"
        "Late delivery,Sofa still not here,Li Wei,li@example.com,,new\n",
        encoding="utf-8",
    )
    ok(cli("import", str(sheet), env=at(LATER)))
    assert found(cli, "sparks") == [1]
    assert found(cli, "sofa") == [2]
    assert found(cli, "li@example.com") == [2]
    assert found(cli, "960001") == [1]


def test_purged_texts_are_no_longer_found(cli: Cli) -> None:
    old = log(
        cli,
        "Refund for Zebedee Quartermaine",
        "--name",
        "Zebedee Quartermaine",
        "--email",
        "zq@purge-me.example",
        when="2023-06-01T10:00:00+00:00",
    )
    ok(cli("update", str(old), "-m", "Spoke to Zebedee about the hamster", env=at("2023-06-01T11:00:00+00:00")))
    ok(cli("resolve", str(old), "-m", "Refunded", env=at("2023-06-02T10:00:00+00:00")))
    recent = log(cli, "Refund for Rosalind", "--name", "Rosalind Penhaligon", "--body", "hamster cage")
    assert found(cli, "zebedee") == [old]
    assert sorted(found(cli, "hamster")) == [old, recent]

    ok(cli("purge", env=at(LATER)))

    for words in (["zebedee"], ["quartermaine"], ["zq@purge-me.example"], ["purge-me"]):
        assert found(cli, *words) == [], words
    assert found(cli, "hamster") == [recent]
    assert found(cli, "rosalind") == [recent]


def test_redacted_addresses_and_numbers_are_no_longer_found(cli: Cli) -> None:
    ticket = log(
        cli,
        "Call back ann@example.org",
        "--name",
        "Ann Lee",
        "--email",
        "ann@example.org",
        "--phone",
        "+44 7700 900123",
        "--body",
        "Or try 020 7946 0958 after six",
    )
    ok(cli("update", str(ticket), "-m", "Mailed ann@example.org again", env=at(NOW)))
    assert found(cli, "ann@example.org") == [ticket]
    assert found(cli, "7946") == [ticket]

    ok(cli("redact", str(ticket), env=at(LATER)))

    for words in (["ann@example.org"], ["example.org"], ["7700"], ["900123"], ["7946"], ["0958"]):
        assert found(cli, *words) == [], words
    assert found(cli, "ann", "lee") == [ticket]  # the name is not contact detail: it stays
    assert found(cli, "after", "six") == [ticket]


@pytest.mark.sqlite_only(reason="reads the bytes of the SQLite file")
def test_no_purged_word_is_left_in_the_index_on_disk(cli: Cli, store_path: Path) -> None:
    old = log(cli, "Xylophone", "--name", "Quixotically Zanzibar", when="2023-06-01T10:00:00+00:00")
    ok(cli("resolve", str(old), "-m", "Done", env=at("2023-06-02T10:00:00+00:00")))
    log(cli, "Another ticket", "--body", "kept words")
    connection = sqlite3.connect(store_path)
    raw = b"".join(row[0] for row in connection.execute("SELECT block FROM ticket_search_data"))
    connection.close()
    assert b"zanzibar" in raw, "control: the index holds the word before the purge"

    ok(cli("purge", env=at(LATER)))

    connection = sqlite3.connect(store_path)
    raw = b"".join(row[0] for row in connection.execute("SELECT block FROM ticket_search_data"))
    connection.close()
    assert b"zanzibar" not in raw
    assert b"kept" in raw


# -- search is a listing: list's filters, output options and fields ---------------------------------------------------


def test_search_combines_with_status_tag_and_the_other_filters(cli: Cli) -> None:
    vip_open = log(cli, "Refund overdue", "--tag", "VIP", "--org", "Acme", "--owner", "priya")
    vip_done = log(cli, "Refund sent", "--tag", "vip", "--org", "acme")
    plain_open = log(cli, "Refund please", "--category", "Billing")
    ok(cli("resolve", str(vip_done), "-m", "refunded", env=at(NOW)))
    assert sorted(found(cli, "refund")) == [vip_open, vip_done, plain_open]
    base = ["search", "--json", "refund"]
    for options, expected in (
        (["--status", "open", "--tag", "vip"], [vip_open]),
        (["--status", "resolved", "--tag", "VIP"], [vip_done]),
        (["--tag", "vip", "--org", "ACME", "--owner", "PRIYA"], [vip_open]),
        (["--category", "billing"], [plain_open]),
        (["--kind", "complaint"], []),
        (["--overdue"], []),
        (["--mine"], []),
    ):
        hits = json.loads(ok(cli(*base, *options, env=at(LATER))).stdout)
        assert [hit["id"] for hit in hits] == expected, options
    later = "2026-12-23T10:00:00+00:00"
    overdue = json.loads(ok(cli(*base, "--overdue", env=at(later))).stdout)
    assert sorted(hit["id"] for hit in overdue) == [vip_open, plain_open]
    mine = ok(cli("--as", "priya", "search", "refund", "--mine", "-q", env=at(LATER))).stdout
    assert mine.split() == [str(vip_open)]


def test_search_json_has_the_fields_of_list_with_rank_and_snippet(cli: Cli) -> None:
    best = log(cli, "Courier lost the parcel", "--body", "The courier never came", "--tag", "vip")
    other = log(cli, "Where is my parcel", "--body", "It was the courier again")
    hits = json.loads(ok(cli("search", "courier", "--json", env=at(LATER))).stdout)
    listed = json.loads(ok(cli("list", "--json", env=at(LATER))).stdout)
    assert [hit["id"] for hit in hits] == [best, other]
    by_id = {ticket["id"]: ticket for ticket in listed}
    for hit in hits:
        assert {key: value for key, value in hit.items() if key not in ("rank", "snippet", "matches")} == by_id[
            hit["id"]
        ]
        start, end = hit["matches"][0]
        assert hit["snippet"][start:end].lower() == "courier"
    assert hits[0]["rank"] > hits[1]["rank"]
    assert json.loads(ok(cli("list", "--search", "courier", "--json", env=at(LATER))).stdout) == hits


def test_search_csv_has_the_columns_of_list_with_rank_and_snippet(cli: Cli) -> None:
    import csv
    import io

    ticket = log(cli, "Courier lost the parcel", "--org", "Acme", "--body", "=the courier never came")
    rows = list(csv.DictReader(io.StringIO(ok(cli("search", "courier", "--csv", env=at(LATER))).stdout)))
    header = ok(cli("list", "--csv", env=at(LATER))).stdout.splitlines()[0].split(",")
    assert list(rows[0]) == [*header, "rank", "snippet"]
    assert rows[0]["id"] == str(ticket) and rows[0]["org"] == "Acme"
    assert float(rows[0]["rank"]) > 0
    assert "courier" in rows[0]["snippet"].lower()


def test_search_plain_rows_are_lists_with_the_snippet_last(cli: Cli) -> None:
    ticket = log(cli, "Courier lost the parcel", "--owner", "priya")
    row = ok(cli("search", "parcel", env=at(LATER))).stdout.splitlines()[0].split("\t")
    listed = ok(cli("list", env=at(LATER))).stdout.splitlines()[0].split("\t")
    assert row[:-1] == listed
    assert row[0] == str(ticket) and "Courier lost the parcel" in row[-1]


def test_search_sorts_as_asked_and_refuses_an_unknown_sort(cli: Cli, snapshot: Callable[[], dict]) -> None:
    in_body = log(cli, "Visit", "--body", "the boiler again", when="2026-11-23T09:00:00+00:00")
    in_subject = log(cli, "Boiler broken")
    assert found(cli, "boiler") == [in_subject, in_body]
    by_id = ok(cli("search", "boiler", "--sort", "id", "-q", env=at(LATER))).stdout.split()
    assert by_id == [str(in_body), str(in_subject)]
    before = snapshot()
    result = cli("search", "boiler", "--sort", "rank", env=at(LATER))
    assert result.exit_code == 2 and "unknown sort 'rank'" in result.stderr and result.stdout == ""
    assert snapshot() == before


def test_a_narrow_terminal_keeps_the_subject_and_the_match(cli: Cli) -> None:
    log(cli, "Courier lost the parcel at the depot", "--owner", "priya", "--body", "the courier never came back")
    for columns in ("80", "40"):
        terminal = ok(cli("search", "courier", env=at(LATER, SUPPORTCLI_TERMINAL="1", NO_COLOR="1", COLUMNS=columns)))
        lines = terminal.stdout.splitlines()
        assert "Subject" in lines[0] and "Match" in lines[0], columns
        assert all(len(line) <= int(columns) for line in lines), columns


def test_a_limited_search_ranks_the_most_recent_matches(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a limit, only the ``RANKED_MATCHES`` most recent tickets the filters find are ranked (ranking
    every match of a common word in a million tickets takes seconds); without one, every match is."""
    from supportcli.store import search

    best_but_old = log(cli, "Printer printer printer", "--body", "printer on fire", "--tag", "office")
    middling = log(cli, "Printer jam", "--tag", "office")
    newest = log(cli, "Question", "--body", "about the printer")
    monkeypatch.setattr(search, "RANKED_MATCHES", 2)
    assert found(cli, "printer", limit=1) == [middling]
    assert found(cli, "printer", limit=2) == [middling, newest]
    everything = ok(cli("list", "--search", "printer", "-q", env=at(LATER))).stdout.split()
    assert everything == [str(best_but_old), str(middling), str(newest)]
    # The most recent of those the filters find: here both office tickets, so the best of them wins.
    narrowed = ok(cli("search", "printer", "--tag", "office", "--limit", "1", "-q", env=at(LATER))).stdout.split()
    assert narrowed == [str(best_but_old)]
