"""core.csv_rows below the CLI: spreadsheet times, the maps, and the rules of a row's life."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from supportcli.core.csv_rows import (
    CsvMaps,
    RowRules,
    is_day_first,
    maps_from_document,
    parse_column_map,
    parse_row,
    parse_sheet_time,
    parse_value_map,
    read_header,
)
from supportcli.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
NOW = datetime.fromisoformat("2026-11-24T09:00:00+00:00")


@pytest.mark.parametrize(
    ("text", "dayfirst", "expected"),
    [
        ("2026-11-23 9:05", True, "2026-11-23T09:05:00+00:00"),
        ("2026-11-23T09:05:30.25", True, "2026-11-23T09:05:30.250000+00:00"),
        ("2026-11-23 09:05+01:00", True, "2026-11-23T09:05:00+01:00"),
        ("03/11/2026 10:00", True, "2026-11-03T10:00:00+00:00"),
        ("11/03/2026 10:00", False, "2026-11-03T10:00:00+00:00"),
        ("46349.5", True, "2026-11-23T12:00:00+00:00"),
    ],
)
def test_spreadsheet_times(text: str, dayfirst: bool, expected: str) -> None:
    parsed = parse_sheet_time(text, LONDON, dayfirst)
    assert parsed is not None and parsed.isoformat() == expected


@pytest.mark.parametrize("text", ["31/02/2026", "2026-11-23 25:00", "yesterday", "13/13/2026 10:00", "0", "-3"])
def test_what_is_not_a_time_is_none(text: str) -> None:
    assert parse_sheet_time(text, LONDON, dayfirst=True) is None


def test_only_a_few_countries_write_the_month_first() -> None:
    assert is_day_first("GB") and is_day_first("DE") and is_day_first(None)
    assert not is_day_first("US")


def test_maps_name_the_bad_option() -> None:
    assert parse_column_map(["Ticket Subject=SUBJECT"]) == {"ticket subject": "subject"}
    assert parse_value_map(["channel:Social media=social"]) == {"channel": {"social media": "social"}}
    with pytest.raises(InvalidInput, match="--map 'nothing': expected SOURCE=COLUMN"):
        parse_column_map(["nothing"])
    with pytest.raises(InvalidInput, match="unknown column 'subjekt'"):
        parse_column_map(["Title=subjekt"])
    with pytest.raises(InvalidInput, match="expected COLUMN:VALUE=NEW"):
        parse_value_map(["priority=urgent"])
    with pytest.raises(InvalidInput, match=r"map.toml: unknown table 'colums'"):
        maps_from_document({"colums": {}}, "map.toml")


def test_a_header_reports_unmapped_sources_and_columns_filled_twice() -> None:
    maps = CsvMaps({"title": "subject", "missing one": "body"})
    header, problems = read_header(["Title", "Subject", "Extra"], maps)
    assert header.columns == ("subject", None, None)
    assert header.ignored == ["Subject", "Extra"]
    assert problems == [
        "header: --map names a column 'missing one' that the file does not have (found: 'Title', 'Subject', 'Extra')"
    ]


def test_a_rating_needs_a_resolved_ticket_and_feedback_needs_a_rating() -> None:
    rules = RowRules(LONDON, NOW)
    problems = parse_row(3, {"subject": "x", "rating": "4", "feedback": "ok", "reference": "R-3"}, rules)
    assert problems == ["record 3 (R-3): rating: a rating is for resolved or closed tickets, and this one is new"]
    assert parse_row(1, {"subject": "x", "feedback": "ok", "status": "closed"}, rules) == [
        "record 1: feedback: comes with a rating (1 to 5)"
    ]


def test_fix_order_raises_a_time_to_the_step_before_it() -> None:
    row = {"subject": "x", "received_at": "2026-11-23 10:00", "acknowledged_at": "2026-11-23 09:00"}
    assert parse_row(1, row, RowRules(LONDON, NOW)) == [
        "record 1: acknowledged_at: 2026-11-23T09:00:00+00:00 is before received_at 2026-11-23T10:00:00+00:00 "
        "(fix the sheet, or --fix-order moves it to that time)"
    ]
    fixed = parse_row(1, row, RowRules(LONDON, NOW, fix_order=True))
    assert not isinstance(fixed, list)
    assert fixed.times["acknowledged_at"] == fixed.received_at and fixed.status == "acknowledged"
