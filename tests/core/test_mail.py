"""Reading inbound e-mail (SPEC §8): real .eml fixtures, noise refusal, reply matching, ratings, HTML to text."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportcli.core.mail import (
    Attachment,
    InboundMail,
    find_ticket_reference,
    html_to_text,
    parse_message,
    parse_rating,
    refusal_reason,
    watchers,
)
from supportcli.errors import InvalidInput

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
ARRIVED = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
OWN = ["Example Support <support@example.com>"]
CET = timezone(timedelta(hours=1))
HEAD = b"From: a@example.org\nDate: Tue, 10 Mar 2026 09:00:00 +0000\n"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> InboundMail:
    return parse_message(fixture_bytes(name), ARRIVED)


def message(headers: str, body: str = "Hello.\n") -> InboundMail:
    """A small message from header lines, for the variations the fixtures do not cover."""
    return parse_message(f"{headers.strip()}\n\n{body}".encode(), ARRIVED)


# --- the fixtures, one by one -----------------------------------------------------------------------------------


def test_plain_message() -> None:
    mail = parse("plain.eml")
    assert mail.message_id == "<CAF3k9x2=plain-1@mail.example.org>"
    assert (mail.from_name, mail.from_address) == ("Jane Customer", "jane.customer@example.org")
    assert mail.to == ["support@example.com"]
    assert mail.cc == ["bob@example.org", "carol@example.net"]  # lowercased, the repeated Bob once
    assert mail.subject == "Boiler still not repaired after two visits"  # folded header unfolded
    assert mail.date == datetime(2026, 3, 10, 10, 12, 44, tzinfo=CET)
    assert mail.body_text == (
        "Hello,\n\nYour engineer came on 2 March and on 6 March, and the boiler still cuts out\n"
        "every evening. Please send someone who can fix it — it's 9°C in the house.\n\nJane Customer\n07700 900123"
    )
    assert "\r" not in mail.body_text
    assert mail.attachments == []
    assert mail.in_reply_to == mail.references == []
    assert mail.ticket_tag is None
    assert mail.content_type == "text/plain"
    assert mail.problems == []
    assert refusal_reason(mail, None, OWN) is None


def test_html_only_message_becomes_readable_text() -> None:
    mail = parse("html_only.eml")
    assert mail.content_type == "text/html"
    assert mail.body_text == (
        "Hello team,\n\n"
        "My parcel ORD-1043 never arrived.\nI paid £12.50 & was promised next-day delivery.\n\n"
        "- Ordered: 2 March\n- Promised: 3 March\n\n"
        "See the tracking page (https://track.example.net/ORD-1043).\n\n"
        "Thanks,\nAhmed — <ahmed>"
    )
    assert "trackOpen" not in mail.body_text and "color" not in mail.body_text
    assert mail.problems == []


def test_multipart_with_attachments_prefers_plain_text_and_lists_attachments_by_name_and_size() -> None:
    mail = parse("multipart_attachment.eml")
    assert mail.body_text == "I was charged twice for invoice 1043. The statement and a screenshot are attached."
    # sizes are of the decoded files: a 125-byte PDF and a 69-byte 1×1 PNG; the second name is RFC 2231 encoded
    assert mail.attachments == [Attachment("statement march.pdf", 125), Attachment("écran double.png", 69)]
    assert mail.attachments[0].filename == "statement march.pdf"
    assert mail.attachments[0].size_bytes == 125
    assert mail.content_type == "multipart/mixed"
    assert mail.problems == []


def test_quoted_printable_body_and_encoded_words() -> None:
    mail = parse("quoted_printable.eml")
    assert mail.from_name == "Hélène Dupont"
    assert mail.subject == "Facture en double – commande ORD-2291"
    assert mail.body_text == (
        "Bonjour,\n\nJ'ai reçu deux factures identiques pour la même commande, merci de bien vouloir annuler la "
        "seconde. Le numéro de commande est ORD-2291.\n\nCordialement,\nHélène"
    )  # the soft line breaks of the long line are joined
    assert mail.problems == []


def test_base64_body() -> None:
    mail = parse("base64_body.eml")
    assert (mail.from_name, mail.subject) == ("Jürgen Weiß", "Zählerstand falsch")
    assert mail.body_text.startswith("Guten Tag,\n\nmein Zähler wurde am 3. März falsch abgelesen")
    assert mail.body_text.endswith("Grüße\nJürgen Weiß")
    assert mail.date == datetime(2026, 3, 10, 6, 45, 10, tzinfo=UTC)
    assert mail.problems == []


def test_latin1_body_and_header() -> None:
    mail = parse("latin1.eml")
    assert mail.from_name == "Renée François"
    assert mail.subject == "Facture à payer £42"
    assert mail.body_text == "Vous m'avez facturé £42 au lieu de £24.\nRenée"
    assert mail.problems == []


def test_windows_1252_body_and_undeclared_8bit_subject() -> None:
    mail = parse("windows1252.eml")
    assert mail.body_text == "You said “the refund of €30 is on its way” – it isn’t."
    assert mail.subject == "Refund – order 7781"  # raw 8-bit bytes in a header: not UTF-8, so windows-1252
    assert mail.problems == ["8-bit header Subject read as windows-1252"]


def test_reply_with_the_ticket_tag() -> None:
    mail = parse("reply_tag.eml")
    assert mail.ticket_tag == 12
    assert mail.in_reply_to == ["<ticket-12-ack@support.example.com>"]
    assert mail.references == ["<multipart-1@example.org>", "<ticket-12-ack@support.example.com>"]
    assert find_ticket_reference(mail, lambda _message_id: 99) == 12  # the tag wins
    assert refusal_reason(mail, None, OWN) is None


def test_reply_found_only_by_in_reply_to() -> None:
    mail = parse("reply_in_reply_to.eml")
    assert mail.ticket_tag is None
    assert mail.in_reply_to == ["<ticket-7-update-2@support.example.com>"]
    ours = {"<ticket-7-update-2@support.example.com>": 7}
    assert find_ticket_reference(mail, ours.get) == 7
    assert find_ticket_reference(mail, {}.get) is None


def test_out_of_office_reply_is_refused_even_though_it_carries_the_tag() -> None:
    mail = parse("out_of_office.eml")
    assert mail.ticket_tag == 12
    assert mail.headers["auto-submitted"] == "auto-replied"
    assert refusal_reason(mail, None, OWN) == "auto-reply (Auto-Submitted: auto-replied)"


def test_bounce() -> None:
    mail = parse("bounce.eml")
    assert mail.from_address == "mailer-daemon@mx.example.org"
    assert mail.content_type == "multipart/report"
    assert mail.body_text.startswith("This is the mail system at host mx.example.org.")
    assert [attachment.filename for attachment in mail.attachments] == [
        "unnamed (message/delivery-status)",
        "unnamed (text/rfc822-headers)",
    ]
    assert refusal_reason(mail, None, OWN) == "bounce (MAILER-DAEMON)"
    assert mail.problems == []


def test_bounce_recognised_by_multipart_report_alone() -> None:
    raw = fixture_bytes("bounce.eml").replace(b"MAILER-DAEMON@mx.example.org", b"postmaster@mx.example.org")
    mail = parse_message(raw, ARRIVED)
    assert refusal_reason(mail, None, OWN) == "bounce (multipart/report)"


def test_message_from_our_own_address() -> None:
    mail = parse("own_address.eml")
    assert mail.from_address == "support@example.com"  # "Support@Example.com" lowercased
    assert refusal_reason(mail, None, OWN) == "our own address support@example.com"
    assert refusal_reason(mail, None, ["help@example.com"]) is None


def test_duplicates_have_the_same_message_id() -> None:
    first, second = parse("duplicate_a.eml"), parse("duplicate_b.eml")
    assert first.message_id == second.message_id == "<dup-42@example.com.au>"
    assert first.date == datetime(2026, 3, 10, 9, 5, tzinfo=UTC)  # 20:05 at +11:00


def test_malformed_headers_are_read_as_far_as_possible() -> None:
    mail = parse("malformed_header.eml")
    assert mail.from_name == "Zoë Broken"  # a raw Latin-1 byte, read as windows-1252
    assert mail.from_address == "zoe@example.org"
    assert mail.to == ["support@example.com"]
    assert mail.subject == "=?utf-8?B?S?= bad and café word"  # the broken word kept as written
    assert mail.message_id == "<malformed-1@example.org>"  # brackets added
    assert mail.date == ARRIVED
    # the line without a colon ends the header section, so MIME-Version and Content-Type are body text
    assert mail.body_text.startswith("This line is not a header\nMIME-Version: 1.0\n")
    assert mail.body_text.endswith("Café menu is wrong.")
    assert mail.problems == [
        "8-bit header From read as windows-1252",
        "a line in the header section is not a header: it and the rest read as body",
        "undecodable header Subject",
        "charset x-unknown replaced",
        "unreadable Date 'yesterday around teatime', arrival time used",
        "unreadable address in To",
    ]


def test_missing_date_means_arrival_time() -> None:
    mail = parse("no_date.eml")
    assert mail.date == ARRIVED
    assert mail.problems == ["missing Date header, arrival time used"]


def test_date_in_the_future_means_arrival_time() -> None:
    mail = parse("future_date.eml")
    assert mail.date == ARRIVED
    assert mail.problems == ["Date 2026-03-10T13:30:00+00:00 more than 1 hour after arrival, arrival time used"]


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("Tue, 10 Mar 2026 10:30:00 +0000", datetime(2026, 3, 10, 10, 30, tzinfo=UTC)),  # exactly 1 hour after
        ("Tue, 10 Mar 2026 10:30:01 +0000", ARRIVED),
        ("Sun, 08 Feb 2026 09:30:00 +0000", datetime(2026, 2, 8, 9, 30, tzinfo=UTC)),  # exactly 30 days before
        ("Sun, 08 Feb 2026 09:29:59 +0000", ARRIVED),
        ("Tue, 10 Mar 2026 09:00:00 -0000", datetime(2026, 3, 10, 9, 0, tzinfo=UTC)),  # unknown zone means UTC
        ("10 Mar 2026 04:00 EST", datetime(2026, 3, 10, 9, 0, tzinfo=UTC)),
        ("Tue, 31 Feb 2026 09:00:00 +0000", ARRIVED),
        ("", ARRIVED),
    ],
)
def test_date_bounds(sent: str, expected: datetime) -> None:
    mail = message(f"From: a@example.org\nDate: {sent}")
    assert mail.date == expected
    assert mail.date.tzinfo is not None


def test_list_mail() -> None:
    mail = parse("list_mail.eml")
    assert mail.headers["precedence"] == "list"
    assert refusal_reason(mail, None, OWN) == "mailing list (List-Id Users of Example <users.lists.example.org>)"


def test_rating_reply() -> None:
    mail = parse("rating_reply.eml")
    assert mail.ticket_tag == 12
    assert parse_rating(mail.body_text) == 4  # not the quoted "> Rating: 1" above it
    assert refusal_reason(mail, None, OWN) is None


def test_every_fixture_parses_without_traceback() -> None:
    names = sorted(path.name for path in FIXTURES.glob("*.eml"))
    assert len(names) == 19
    for name in names:
        mail = parse(name)
        assert mail.from_address, name
        assert "\n" not in mail.subject and "\r" not in mail.subject


def test_huge_body_is_parsed_and_truncated() -> None:
    line = b"The meter reading is wrong again and again and again and again and again.\r\n"
    body = line * (25 * 1024 * 1024 // len(line) + 1)
    raw = b"From: big@example.org\r\nSubject: Big\r\nDate: Tue, 10 Mar 2026 09:00:00 +0000\r\n\r\n" + body
    mail = parse_message(raw, ARRIVED, max_body_chars=1000)
    assert mail.body_text.startswith("The meter reading is wrong again")
    assert mail.body_text.endswith("[message truncated: the first 1,000 characters are shown]")
    assert len(mail.body_text) < 1100
    text_length = len(body.replace(b"\r\n", b"\n")) - 1  # CRLF read as LF, the final line end dropped
    assert mail.problems == [f"body truncated to 1,000 of {text_length:,} characters"]


def test_huge_base64_html_body_is_cut_before_conversion() -> None:
    html = b"<p>Please call me back.</p>" * (25 * 1024 * 1024 // 27)
    raw = (
        b"From: big@example.org\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(html)
    )
    mail = parse_message(raw, ARRIVED, max_body_chars=500)
    assert mail.body_text.startswith("Please call me back.\n\nPlease call me back.")
    assert "HTML body cut to 10,000 characters before conversion" in mail.problems


# --- odd and hostile input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "the input is empty"),
        (b"\r\n\r\n  \n", "the input is empty"),
        (b"just some text\nwithout headers\n", "no From, To, Subject, Date or Message-ID header"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "no From, To, Subject, Date or Message-ID header"),
    ],
)
def test_not_an_email_is_invalid_input(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        parse_message(raw, ARRIVED)
    assert "\n" not in str(caught.value)


def test_arrival_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_message(fixture_bytes("plain.eml"), datetime(2026, 3, 10, 9, 30))


def test_headers_only_message() -> None:
    mail = parse_message(b"From: a@example.org\nSubject: Call me", ARRIVED)
    assert (mail.subject, mail.body_text) == ("Call me", "")


def test_missing_from() -> None:
    mail = message("Subject: Who am I")
    assert (mail.from_name, mail.from_address) == ("", "")
    assert "missing From header" in mail.problems


def test_mbox_from_line_and_leading_blank_lines_are_skipped() -> None:
    mail = parse_message(b"\r\nFrom MAILER-DAEMON Tue Mar 10 09:00:00 2026\nFrom: a@example.org\n\nHi\n", ARRIVED)
    assert (mail.from_address, mail.body_text) == ("a@example.org", "Hi")


def test_unknown_body_charset_is_replaced() -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=x-klingon\n\nna\xc3\xafve \xff\n"
    mail = parse_message(raw, ARRIVED)
    assert mail.body_text == "naÃ¯ve ÿ"  # not UTF-8 either, so windows-1252
    assert mail.problems == ["charset x-klingon replaced"]


def test_body_invalid_in_its_charset_is_replaced() -> None:
    mail = parse_message(HEAD + b"Content-Type: text/plain; charset=utf-8\n\ncaf\xe9\n", ARRIVED)
    assert mail.body_text == "caf\ufffd"
    assert mail.problems == ["body not valid utf-8, undecodable bytes replaced"]


@pytest.mark.parametrize("charset", ["base64", "zlib", "punycode", "idna", "undefined"])
def test_codecs_that_are_not_charsets_are_refused(charset: str) -> None:
    raw = HEAD + f"Content-Type: text/plain; charset={charset}\n\nplain words\n".encode()
    mail = parse_message(raw, ARRIVED)
    assert mail.body_text == "plain words"
    assert mail.problems == [f"charset {charset} replaced"]


def test_lone_surrogates_from_utf7_do_not_reach_the_store() -> None:
    raw = b"From: a@example.org\nSubject: =?utf-7?Q?+2AA-?=\nContent-Type: text/plain; charset=utf-7\n\n+2AA-x\n"
    mail = parse_message(raw, ARRIVED)
    (mail.subject + mail.body_text).encode("utf-8")


def test_undeclared_8bit_body_is_utf8_or_windows_1252() -> None:
    assert parse_message("From: a@example.org\n\nMünchen\n".encode(), ARRIVED).body_text == "München"
    assert parse_message("From: a@example.org\n\nMünchen\n".encode("cp1252"), ARRIVED).body_text == "München"


def test_encoded_words_split_inside_a_character_are_joined() -> None:
    # "é" is C3 A9 in UTF-8; a mailer split it over two words, with folding whitespace between
    mail = message("From: a@example.org\nSubject: =?utf-8?B?Y2Fmw6k=?= =?utf-8?Q?_caf=C3?=\n =?utf-8?Q?=A9?= !")
    assert mail.subject == "café café !"


def test_encoded_display_name_with_a_comma_is_one_mailbox() -> None:
    mail = message("From: =?utf-8?Q?Smith=2C_J=C3=BCrgen?= <JS@Example.org>\nCc: =?utf-8?Q?A=2C_B?= <ab@example.org>")
    assert (mail.from_name, mail.from_address) == ("Smith, Jürgen", "js@example.org")
    assert mail.cc == ["ab@example.org"]


def test_subject_control_characters_and_whitespace_are_normalised() -> None:
    mail = message("From: a@example.org\nSubject: =?utf-8?Q?one=0D=0Atwo=09three?=   four")
    assert mail.subject == "one two three four"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("In-Reply-To: <a@x> (sent by Bob)", ["<a@x>"]),
        ("In-Reply-To: Your message of Monday <a@x>", ["<a@x>"]),
        ("In-Reply-To: a@x", ["<a@x>"]),
        ("In-Reply-To: <a@x>\n <b@x> <a@x>", ["<a@x>", "<b@x>"]),
        ("In-Reply-To: nothing here", []),
    ],
)
def test_message_ids_in_in_reply_to(header: str, expected: list[str]) -> None:
    assert message(f"From: a@example.org\n{header}").in_reply_to == expected


def test_multipart_without_boundary_is_kept_as_text() -> None:
    mail = message("From: a@example.org\nContent-Type: multipart/mixed", "Just text, really.\n")
    assert mail.body_text == "Just text, really."
    assert "multipart without a boundary, kept as raw text" in mail.problems


def test_broken_base64_body_is_decoded_as_far_as_possible() -> None:
    raw = b"From: a@example.org\nContent-Transfer-Encoding: base64\n\nSGVsbG8gd29y!bGQ\n"
    mail = parse_message(raw, ARRIVED)
    assert mail.body_text.startswith("Hello wor")
    assert mail.problems


def test_nesting_deeper_than_30_levels_is_ignored() -> None:
    parts = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(40))
    raw = f"From: a@example.org\nContent-Type: multipart/mixed; boundary=b0\n\n{parts}"
    mail = parse_message(raw.encode(), ARRIVED)
    assert "MIME parts nested deeper than 30 levels ignored" in mail.problems


def test_deeply_nested_multiparts_do_not_crash() -> None:
    parts = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(3000))
    mail = parse_message(
        f"From: a@example.org\nContent-Type: multipart/mixed; boundary=b0\n\n{parts}".encode(), ARRIVED
    )
    assert mail.from_address == "a@example.org"
    assert mail.problems


def test_attachment_names_lose_directories_and_control_characters() -> None:
    body = (
        "--b\nContent-Type: text/plain\n\nSee attached.\n"
        "--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename*=utf-8''..%5C..%5Cevil%0D%0A.txt\n\nx\n"
        "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC\n"
        "--b--\n"
    )
    mail = message('From: a@example.org\nContent-Type: multipart/mixed; boundary="b"', body)
    assert mail.body_text == "See attached."
    assert mail.attachments == [Attachment("evil .txt", 1), Attachment("unnamed (application/octet-stream)", 3)]


BYTE_FRAGMENTS = [
    *(f"{name}: ".encode() for name in ("From", "To", "Cc", "Subject", "Date", "Content-Type", "Message-ID")),
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Disposition: attachment; filename*=utf-8''%FF%C3",
    b'multipart/mixed; boundary="b"',
    b"multipart/report; report-type=delivery-status",
    b"message/rfc822",
    b"text/html; charset=utf-16",
    b"text/plain; charset=utf-7",
    b"--b",
    b"--b--",
    b"=?utf-8?B?",
    b"=?x-unknown?Q?=FF?=",
    b"?=",
    b"<p>",
    b"<script>",
    b"+2AA-",
    b"=\r\n",
    b"Mon, 32 Feb 99999 99:99 +9999",
    b"<a@b>",
    b'"',
    b",",
    b"@",
    b"\r\n",
    b"\n",
    b"\n\n",
    b"\xe9",
    b"\xff\xfe",
]
mail_like_bytes = st.lists(st.one_of(st.sampled_from(BYTE_FRAGMENTS), st.binary(max_size=6)), max_size=50).map(b"".join)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(raw: bytes) -> None:
    try:
        mail = parse_message(raw, ARRIVED, max_body_chars=300)
    except InvalidInput as error:
        assert "\n" not in str(error)
        return
    texts = [mail.subject, mail.from_name, mail.from_address, mail.body_text, *mail.problems, *mail.cc, *mail.to]
    for text in [*texts, *(attachment.filename for attachment in mail.attachments)]:
        text.encode("utf-8")  # storable: no lone surrogates
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert ARRIVED - timedelta(days=30) <= mail.date <= ARRIVED + timedelta(hours=1)
    assert len(mail.body_text) <= 300 + 100
    refusal_reason(mail, None, OWN)
    find_ticket_reference(mail, lambda _message_id: None)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_nothing_but_invalid_input(raw: bytes) -> None:
    assert_well_formed(raw)


@FUZZ
@given(mail_like_bytes)
def test_mail_like_garbage_raises_nothing_but_invalid_input(raw: bytes) -> None:
    assert_well_formed(b"From: a@example.org\n" + raw)
    assert_well_formed(raw)


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto-reply (Auto-Submitted: auto-replied)"),
        (
            "Auto-Submitted: Auto-Generated; owner-email=x@example.org",
            "automatic mail (Auto-Submitted: auto-generated)",
        ),
        ("X-Autoreply: yes", "auto-reply (X-Autoreply)"),
        ("X-Autorespond: Out of office", "auto-reply (X-Autorespond)"),
        ("Precedence: auto_reply", "auto-reply (Precedence: auto_reply)"),
        ("Precedence: bulk", "bulk mail (Precedence: bulk)"),
        ("Precedence: junk", "bulk mail (Precedence: junk)"),
        ("Precedence: list", "mailing list (Precedence: list)"),
        ("List-Id: <announce.example.org>", "mailing list (List-Id <announce.example.org>)"),
        ("Return-Path: <>", "automatic mail (empty Return-Path <>)"),
        ("X-Loop: support@example.com", "mail loop (X-Loop: support@example.com)"),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=x", "bounce (multipart/report)"),
        (
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=x",
            "read receipt (multipart/report)",
        ),
    ],
)
def test_refusal_reasons(headers: str, reason: str) -> None:
    mail = message(f"From: customer@example.org\n{headers}")
    assert refusal_reason(mail, None, OWN) == reason


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: no",
        "Auto-Submitted: No (a person wrote this)",
        "X-Autoreply: no",
        "Precedence: first-class",
        "Return-Path: <customer@example.org>",
        "X-Loop: someone-else@example.org",
        "List-Unsubscribe: <mailto:leave@example.org>",
    ],
)
def test_ordinary_mail_is_not_refused(headers: str) -> None:
    assert refusal_reason(message(f"From: customer@example.org\n{headers}"), None, OWN) is None


def test_mailer_daemon_without_a_domain() -> None:
    mail = message("From: MAILER-DAEMON (Mail Delivery System)")
    assert mail.from_address == "mailer-daemon"
    assert refusal_reason(mail, None, OWN) == "bounce (MAILER-DAEMON)"


def test_refusal_uses_headers_the_caller_adds() -> None:
    mail = message("From: customer@example.org")
    assert refusal_reason(mail, {"PRECEDENCE": "Bulk"}, OWN) == "bulk mail (Precedence: bulk)"
    assert refusal_reason(mail, {"Auto-Submitted": "no"}, OWN) is None


def test_own_address_wins_over_other_reasons() -> None:
    mail = message("From: support@example.com\nAuto-Submitted: auto-generated\nPrecedence: bulk")
    assert refusal_reason(mail, None, ["SUPPORT@example.com"]) == "our own address support@example.com"
    assert refusal_reason(mail, None, []) == "automatic mail (Auto-Submitted: auto-generated)"


# --- replies and watchers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "tag"),
    [
        ("[#12] Invoice", 12),
        ("Re: [#12] Invoice", 12),
        ("RE: Fwd: AW: WG: [#345] Rechnung", 345),
        ("Re: [External] Re: [#7] Late", 7),
        ("Invoice [#0012]", 12),
        ("[#0] nothing", None),
        ("[# 12] spaced", None),
        ("#12 without brackets", None),
        ("[#1234567890123456789012] too long", None),
        ("Invoice 12", None),
    ],
)
def test_ticket_tag(subject: str, tag: int | None) -> None:
    assert message(f"From: a@example.org\nSubject: {subject}").ticket_tag == tag


def test_references_are_searched_newest_first_after_in_reply_to() -> None:
    mail = message("From: a@example.org\nIn-Reply-To: <theirs@x>\nReferences: <old@us> <other@x> <new@us>")
    ours = {"<old@us>": 3, "<new@us>": 5}
    looked_up: list[str] = []

    def lookup(message_id: str) -> int | None:
        looked_up.append(message_id)
        return ours.get(message_id)

    assert find_ticket_reference(mail, lookup) == 5
    assert looked_up == ["<theirs@x>", "<new@us>"]


def test_in_reply_to_wins_over_references() -> None:
    mail = message("From: a@example.org\nIn-Reply-To: <old@us>\nReferences: <old@us> <new@us>")
    assert find_ticket_reference(mail, {"<old@us>": 3, "<new@us>": 5}.get) == 3


def test_watchers_are_cc_without_the_customer_and_our_own_addresses() -> None:
    mail = message(
        "From: Jane <jane@example.org>\nCc: jane@example.org, Support <support@example.com>, bob@example.org"
    )
    assert mail.cc == ["jane@example.org", "support@example.com", "bob@example.org"]
    assert watchers(mail, OWN) == ["bob@example.org"]


# --- ratings ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("Rating: 4", 4),
        ("rating:5\nThanks", 5),
        ("  RATING :  1 ", 1),
        ("Rating: 3/5", 3),
        ("Rating: 2 stars, the wait was long", 2),
        ("Rating: 4.", 4),
        ("Rating: 0", None),
        ("Rating: 6", None),
        ("Rating: 45", None),
        ("Rating: 4.5", None),
        ("Rating: four", None),
        ("My rating: 4", None),
        ("> Rating: 1", None),
        ("> Rating: 1\n\nRating: 4", 4),
        (">> Rating: 2\nRating: 5\nRating: 1", 5),
        ("Rating: 9\nRating: 4", None),  # the first such line decides
        ("Thanks!\n\n-----Original Message-----\nRating: 1 (poor) to 5 (excellent)", None),
        ("", None),
    ],
)
def test_parse_rating(text: str, rating: int | None) -> None:
    assert parse_rating(text) == rating


# --- HTML to text -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
        ("A<br><br>B", "A\n\nB"),
        ("<ul><li>tea</li><li>coffee</li></ul>", "- tea\n- coffee"),
        ("<ol>\n  <li>first\n  <li>second\n</ol>", "- first\n- second"),
        ("<script>alert('x')</script><style>p{}</style>Visible", "Visible"),
        ("<html><head><title>T</title></head><body>Body</body></html>", "Body"),
        ("<head><title>no closing head<body>Still shown", "Still shown"),
        ("&pound;5 &amp; &euro;6 &lt;b&gt; &#233; &#x263A;", "£5 & €6 <b> é ☺"),
        ("a&nbsp;&nbsp;b", "a b"),
        ("  lots   of\n\n  space  ", "lots of space"),
        ("<b>bold</b> and <i>italic</i>", "bold and italic"),
        ("<div>one</div><div>two</div>", "one\ntwo"),
        ("<h1>Title</h1>text", "Title\n\ntext"),
        ("<pre>  keep\n    this</pre>", "  keep\n    this"),
        ("<blockquote>quoted<br>twice</blockquote>reply", "> quoted\n> twice\n\nreply"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a b\nc d"),
        ('<a href="https://example.org/x">the page</a>', "the page (https://example.org/x)"),
        ('<a href="https://example.org">https://example.org</a>', "https://example.org"),
        ('<a href="mailto:help@example.org?subject=x">write</a>', "write (help@example.org)"),
        ('<a href="javascript:void(0)">click</a>', "click"),
        ('<img src="cid:logo" alt="Acme logo"> hi', "[Acme logo] hi"),
        ("<!-- hidden --><p>shown</p>", "shown"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_html_to_text_accepts_any_text(html: str) -> None:
    text = html_to_text(html)
    assert "\n\n\n" not in text
    assert text == text.strip("\n")
