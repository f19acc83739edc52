"""Finding and removing contact details in text, and what a retention purge keeps of history data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportcli.core.durations import parse_duration
from supportcli.core.privacy import (
    EMAIL_REPLACEMENT,
    PHONE_REPLACEMENT,
    anonymised_data,
    find_contacts,
    mask_email,
    mask_phone,
    purge_cutoff,
    redact,
    redact_json,
)

UK_PHONES = [
    "07700 900123",
    "07700-900-123",
    "07700900123",
    "+44 7700 900123",
    "+44 (0)20 7946 0018",
    "(020) 7946 0018",
    "020 7946 0018",
    "020-7946-0018",
    "0161 496 0000",
    "(0161) 496 0000",
    "01761 409701",
    "0044 7700 900123",
]
INTERNATIONAL_PHONES = [
    "+1 415 555 0132",
    "+1 (415) 555-0132",
    "+33 1 23 45 67 89",
    "00 49 30 901820",
    "+49 30 901820",
    "+353 1 234 5678",
]
# North-American national forms, found on a US calendar and, by the North-American pass, on any other.
NANP_PHONES = ["(510) 541-6550", "1-800-859-7267", "415-555-0132", "510.541.6550", "+1 510 541 6550"]
EMAILS = [
    "ann.lee@example.com",
    "a+support@sub.example.co.uk",
    "o'brien@example.ie",
    "first_last-99@mail.example.org",
    "07700900123@sms.example.com",
]
NOT_CONTACTS = [
    "2026-11-23",
    "2026-11-23T10:00:00+00:00",
    "2026-11-23 14:00",
    "23/11/2026",
    "01.12.2026 10:00",
    "01-12-2026 10:00",
    "10:00",
    "09:00-17:00",
    "0930-1730",
    "#12",
    "ticket #0123456789",
    "ORD-0123456789",
    "£12.50",
    "£1,250.00",
    "€ 1 250,00",
    "+12.50",
    "+3wd",
    "order 123456789",
    "version 2.0.1",
    "user at example dot com",
    "@example.com",
]


@pytest.mark.parametrize("number", UK_PHONES + INTERNATIONAL_PHONES)
def test_each_phone_format_is_found_and_replaced(number: str) -> None:
    result = redact(f"Please call {number} after lunch.")
    assert result.text == f"Please call {PHONE_REPLACEMENT} after lunch."
    assert [(f.kind, f.value) for f in result.findings] == [("phone", number)]


@pytest.mark.parametrize("region", ["US", "GB", "DE", None])
@pytest.mark.parametrize("number", NANP_PHONES)
def test_north_american_numbers_are_found_on_any_calendar(number: str, region: str | None) -> None:
    result = redact(f"Call me on {number} tomorrow.", region)
    assert result.text == f"Call me on {PHONE_REPLACEMENT} tomorrow."
    assert [(f.kind, f.value) for f in result.findings] == [("phone", number)]


@pytest.mark.parametrize("number", ["030 901820", "0171 1234567", "+49 30 901820"])
def test_the_calendar_country_decides_which_national_forms_are_numbers(number: str) -> None:
    assert [f.value for f in find_contacts(f"Ruf an: {number}.", "DE")] == [number]


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_dates_times_ids_and_money_are_left_alone_on_a_us_calendar(text: str) -> None:
    sentence = f"Refund {text} agreed"
    assert redact(sentence, "US").text == sentence


@pytest.mark.parametrize("address", EMAILS)
def test_each_email_is_found_and_replaced(address: str) -> None:
    result = redact(f"Write to {address}.")
    assert result.text == f"Write to {EMAIL_REPLACEMENT}."
    assert [(f.kind, f.value) for f in result.findings] == [("email", address)]


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_dates_times_ids_and_money_are_left_alone(text: str) -> None:
    sentence = f"Refund {text} agreed"
    assert redact(sentence).text == sentence
    assert find_contacts(sentence) == []


def test_contacts_next_to_dates_times_and_amounts() -> None:
    text = "On 2026-11-23 at 14:00 Ann (ann@example.com, 07700 900123) asked about #12 and £12.50."
    result = redact(text)
    assert result.text == (
        f"On 2026-11-23 at 14:00 Ann ({EMAIL_REPLACEMENT}, {PHONE_REPLACEMENT}) asked about #12 and £12.50."
    )
    assert result.count("email") == 1
    assert result.count("phone") == 1


def test_two_numbers_side_by_side_are_two_findings() -> None:
    result = redact("+44 7700 900123 07700 900124")
    assert result.text == f"{PHONE_REPLACEMENT} {PHONE_REPLACEMENT}"
    assert [f.value for f in result.findings] == ["+44 7700 900123", "07700 900124"]


def test_masks_keep_enough_to_recognise() -> None:
    assert mask_email("ann.lee@example.com") == "a***@example.com"
    assert mask_phone("07700 900123") == "07*** ***123"
    assert mask_phone("+44 7700 900123") == "+44 **** ***123"


def test_redact_json_cleans_strings_only() -> None:
    data = json.dumps({"from": "Ann <ann@example.com>", "rating": 4, "lines": ["tel 020 7946 0018"]})
    result = redact_json(data)
    assert json.loads(result.text) == {
        "from": f"Ann <{EMAIL_REPLACEMENT}>",
        "rating": 4,
        "lines": [f"tel {PHONE_REPLACEMENT}"],
    }
    assert redact_json('{"rating": 5}').text == '{"rating": 5}'


def test_purge_cutoff_is_the_retention_period_before_now() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert purge_cutoff(now, parse_duration("2y")) == datetime(2024, 11, 23, 10, 0, tzinfo=UTC)
    assert purge_cutoff(now, parse_duration("730d")) == datetime(2024, 11, 23, 10, 0, tzinfo=UTC)
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert purge_cutoff(leap, parse_duration("2y")) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def test_anonymised_data_keeps_ratings_times_and_targets_and_drops_text() -> None:
    data = json.dumps(
        {
            "rating": 4,
            "met": ["respond met"],
            "until": "2026-12-01T17:00:00+00:00",
            "from": "ann@example.com",
            "attachments": [{"name": "Ann Lee passport.pdf", "size": 1234}],
        }
    )
    assert json.loads(anonymised_data(data)) == {
        "rating": 4,
        "met": ["respond met"],
        "until": "2026-12-01T17:00:00+00:00",
    }
    assert anonymised_data("") == ""
    assert anonymised_data('{"note": "Ann Lee"}') == ""
    assert anonymised_data("not json") == ""


contact_like = st.sampled_from(UK_PHONES + INTERNATIONAL_PHONES + EMAILS + NOT_CONTACTS)
fragments = st.one_of(
    contact_like,
    st.text(alphabet="0123456789 +-().:/#£@abc", max_size=20),
    st.text(max_size=12),
)


@given(st.lists(fragments, max_size=8).map("".join))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text).text
    again = redact(once)
    assert again.text == once
    assert again.findings == []


def _expected(piece: str) -> str:
    if piece in EMAILS:
        return EMAIL_REPLACEMENT
    return PHONE_REPLACEMENT if piece in UK_PHONES + INTERNATIONAL_PHONES else piece


@given(st.lists(contact_like, max_size=6))
def test_every_contact_goes_and_everything_else_stays(pieces: list[str]) -> None:
    result = redact(" and ".join(pieces))
    assert result.text == " and ".join(_expected(piece) for piece in pieces)
    contacts = EMAILS + UK_PHONES + INTERNATIONAL_PHONES
    assert sorted(f.value for f in result.findings) == sorted(piece for piece in pieces if piece in contacts)
