"""Reading inbound e-mail (README "E-mail in and out"): what a message says, whether it is noise, which ticket it answers.

Pure functions over the bytes of one RFC 5322 message: no network, no store,
no clock (the arrival time is passed in). ``parse_message`` never raises for
bad content: whatever cannot be read is replaced and described in
``InboundMail.problems`` so the caller can log it; only input that is not an
e-mail at all raises InvalidInput (exit 2).

Headers are decoded here from their raw text (RFC 2047 encoded words, stray
8-bit bytes) rather than through the ``email`` header objects, so that every
header is read the same lenient way and each failure can be named in
``problems``. The MIME structure comes from ``email.policy.default``, with the
older ``compat32`` parser, then the raw text, as fallbacks.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.message
import email.policy
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import NamedTuple

from supportcli.errors import InvalidInput

# A Date header outside [arrival - 30 days, arrival + 1 hour] is a wrong clock or a forgery.
DATE_BEFORE_ARRIVAL_LIMIT = timedelta(days=30)
DATE_AFTER_ARRIVAL_LIMIT = timedelta(hours=1)

# The headers refusal_reason reads, kept (decoded, first occurrence) on InboundMail.headers.
NOISE_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "precedence",
    "list-id",
    "return-path",
    "x-loop",
    "content-type",
)

# At least one of these makes bytes an e-mail message rather than some other text.
_MESSAGE_HEADERS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "received", "return-path"}
    | {"mime-version", "content-type", "in-reply-to", "references", "delivered-to"}
)

# Codecs that are not charsets, or whose decoders are slow enough on large input to be a denial of service.
_UNSAFE_CODECS = frozenset({"punycode", "idna", "unicode_escape", "raw_unicode_escape", "undefined"})

_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_TICKET_TAG = re.compile(r"\[#(\d{1,18})\]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_RATING_LINE = re.compile(r"rating\s*:\s*(\d+)(?!\d|[.,]\d)", re.IGNORECASE)
# Where an Outlook-style reply (unquoted original below the answer) starts.
_ORIGINAL_MESSAGE = re.compile(r"^(?:-{2,}\s*original message\s*-{2,}|_{10,})$", re.IGNORECASE)
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w-]+)", re.IGNORECASE)
_MAX_MIME_DEPTH = 30
_DEFECT_TEXTS = {
    "MissingHeaderBodySeparatorDefect": "a line in the header section is not a header: it and the rest read as body",
    "InvalidBase64PaddingDefect": "invalid base64 padding in a part, decoded as far as possible",
    "InvalidBase64CharactersDefect": "invalid base64 characters in a part, ignored",
    "InvalidBase64LengthDefect": "truncated base64 in a part, decoded as far as possible",
    "NoBoundaryInMultipartDefect": "multipart without a boundary, kept as raw text",
    "StartBoundaryNotFoundDefect": "multipart boundary never found, kept as raw text",
    "CloseBoundaryNotFoundDefect": "multipart not closed, read to the end",
    "MultipartInvariantViolationDefect": "multipart without parts, kept as raw text",
}
# HTML is cut to this many times max_body_chars before conversion: markup outweighs text, but not without bound.
_HTML_MARKUP_FACTOR = 20


class Attachment(NamedTuple):
    """An attachment as listed in a ticket's history: its name and decoded size, never its content."""

    filename: str
    size_bytes: int


@dataclass(frozen=True)
class InboundMail:
    """What could be read of one inbound message; ``problems`` says what could not."""

    message_id: str | None
    from_name: str
    from_address: str  # lowercased; "" when the message has no readable From
    subject: str
    body_text: str
    date: datetime
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ticket_tag(self) -> int | None:
        """The ticket number of a ``[#123]`` tag anywhere in the subject (so Re:/Fwd:/AW: or [External] cannot hide it)."""
        match = _TICKET_TAG.search(self.subject)
        number = int(match.group(1)) if match else 0
        return number or None


def parse_message(raw: bytes, arrived_at: datetime, max_body_chars: int = 100_000) -> InboundMail:
    """Read an RFC 5322 message; never raises for bad content, only InvalidInput when it is not an e-mail."""
    if arrived_at.tzinfo is None:
        raise ValueError("arrived_at must be timezone-aware")
    raw = bytes(raw).lstrip(b"\r\n")
    if not raw.strip():
        raise InvalidInput("not an e-mail message: the input is empty")
    problems: list[str] = []
    message = _parse_structure(raw, problems)
    raw_headers = _raw_headers(message)
    if not _MESSAGE_HEADERS & raw_headers.keys():
        raise InvalidInput("not an e-mail message: no From, To, Subject, Date or Message-ID header")

    def header(name: str) -> str:
        return _header_text(raw_headers.get(name.lower(), ""), name, problems)

    from_name, from_address = _sender(raw_headers.get("from"), problems)
    content_type = _content_type(message)
    body_text, attachments = _read_body(message, max_body_chars, problems)
    return InboundMail(
        message_id=_message_id(header("Message-ID")),
        from_name=from_name,
        from_address=from_address,
        subject=header("Subject"),
        body_text=body_text,
        date=_sent_date(raw_headers.get("date"), arrived_at, problems),
        to=_addresses(raw_headers.get("to"), "To", problems),
        cc=_addresses(raw_headers.get("cc"), "Cc", problems),
        in_reply_to=_message_ids(header("In-Reply-To")),
        references=_message_ids(header("References")),
        attachments=attachments,
        content_type=content_type,
        headers={name: header(name) for name in NOISE_HEADERS if name in raw_headers},
        problems=list(dict.fromkeys(problems)),
    )


def refusal_reason(
    mail: InboundMail,
    raw_headers: Mapping[str, str] | None = None,
    own_addresses: Collection[str] = (),
) -> str | None:
    """Why a message must not become a ticket (a loop or noise, README "E-mail in and out"), as one line for the log; None to accept it.

    ``raw_headers`` (any case) add to or override ``mail.headers``, for callers that hold headers of their own.
    """
    headers = dict(mail.headers)
    headers.update({name.lower(): " ".join(value.split()) for name, value in (raw_headers or {}).items()})
    own = {address for address in (_plain_address(text) for text in own_addresses) if address}
    for reason in (
        _own_address_reason(mail, headers, own),
        _bounce_reason(mail, headers),
        _auto_reply_reason(headers),
        _bulk_reason(headers),
    ):
        if reason:
            return reason
    return None


def find_ticket_reference(mail: InboundMail, our_message_ids: Callable[[str], int | None]) -> int | None:
    """The ticket a reply belongs to: its ``[#ID]`` tag, else a message of ours it answers (In-Reply-To, then References newest first)."""
    if mail.ticket_tag is not None:
        return mail.ticket_tag
    for message_id in [*mail.in_reply_to, *reversed(mail.references)]:
        ticket_id = our_message_ids(message_id)
        if ticket_id is not None:
            return ticket_id
    return None


def watchers(mail: InboundMail, own_addresses: Collection[str] = ()) -> list[str]:
    """The Cc addresses that become a ticket's watchers: never the sender (the customer) nor our own addresses."""
    own = {_plain_address(text) for text in own_addresses}
    return [address for address in mail.cc if address != mail.from_address and address not in own]


def parse_rating(text: str) -> int | None:
    """The 1–5 rating of a feedback reply: the first unquoted ``Rating: N`` line, None if absent or out of range."""
    for line in text.splitlines():
        stripped = line.strip()
        if _ORIGINAL_MESSAGE.match(stripped):
            return None
        if stripped.startswith(">"):
            continue
        match = _RATING_LINE.match(stripped)
        if match:
            rating = int(match.group(1))
            return rating if 1 <= rating <= 5 else None
    return None


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML mail body: blocks and <br> as line breaks, list items as "- ", quotes as "> "."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.pieces).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# --- structure --------------------------------------------------------------------------------------------------


def _parse_structure(raw: bytes, problems: list[str]) -> email.message.Message:
    """The MIME tree: policy.default first, the lenient compat32 parser if that fails."""
    message: email.message.Message
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        _check_walkable(message)
        return message
    except Exception:  # the email package raises assorted types on hostile input; a gateway must not crash
        problems.append("MIME structure unreadable by the standard parser, read leniently")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        _check_walkable(message)
        return message
    except Exception:
        problems.append("MIME structure unreadable, body kept as raw text")
    return BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)


def _check_walkable(message: email.message.Message) -> None:
    """Touch what _read_body uses, so a message that breaks it is re-parsed leniently instead."""
    for part, _depth in _leaf_parts(message):
        part.get_content_type()
        part.get_content_disposition()
        part.get_filename()
        part.get_content_charset()


def _raw_headers(message: email.message.Message) -> dict[str, str]:
    """Lowercased header name → raw value of its first occurrence (for Return-Path and Received, the newest)."""
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        headers.setdefault(str(name).strip().lower(), str(value))
    return headers


def _content_type(message: email.message.Message) -> str:
    try:
        return message.get_content_type()
    except Exception:
        return "text/plain"


# --- headers ----------------------------------------------------------------------------------------------------


def _header_text(raw_value: str, name: str, problems: list[str]) -> str:
    """A header as one line of text: unfolded, 8-bit bytes and RFC 2047 encoded words decoded, whitespace normalised."""
    text = _decode_eight_bit(raw_value, name, problems)
    text = _decode_encoded_words(text, name, problems)
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


def _decode_eight_bit(value: str, name: str, problems: list[str]) -> str:
    """Undeclared 8-bit bytes in a header (kept by the parser as surrogates): UTF-8 if they are, else windows-1252."""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = value.encode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"8-bit header {name} read as windows-1252")
        return _decode_windows_1252(data)


def _decode_encoded_words(value: str, name: str, problems: list[str]) -> str:
    """Decode ``=?charset?B|Q?...?=`` words; adjacent words of one charset are joined before decoding (split characters)."""
    pieces: list[str | tuple[bytes, str]] = []
    position = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        if gap and not (after_word and not gap.strip()):  # whitespace between encoded words is not text
            pieces.append(gap)
        charset, encoding, text = match.groups()
        data = _decode_word(encoding.upper(), text)
        if data is None:
            problems.append(f"undecodable header {name}")
            pieces.append(match.group(0))
        elif pieces and isinstance(pieces[-1], tuple) and pieces[-1][1] == charset.lower() and after_word:
            pieces[-1] = (pieces[-1][0] + data, pieces[-1][1])
        else:
            pieces.append((data, charset.lower()))
        after_word = data is not None
        position = match.end()
    pieces.append(value[position:])
    return "".join(
        piece if isinstance(piece, str) else _decode_bytes(piece[0], piece[1], f"header {name}", problems)
        for piece in pieces
    )


def _decode_word(encoding: str, text: str) -> bytes | None:
    try:
        if encoding == "B":
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        return binascii.a2b_qp(text.encode("ascii"), header=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _decode_bytes(data: bytes, charset: str | None, what: str, problems: list[str]) -> str:
    """Text in a declared charset; unknown charsets and bytes invalid in theirs are replaced and noted, never fatal."""
    label = (charset or "").strip().strip("\"'").lower()
    codec = _codec(label)
    if label and codec is None:
        problems.append(f"charset {label} replaced")
    if codec == "latin_1":  # mail labelled Latin-1 is windows-1252 in practice, as browsers assume (WHATWG)
        return _decode_windows_1252(data)
    if codec in (None, "ascii"):  # undeclared 8-bit text is UTF-8, else most likely windows-1252
        try:
            return _without_surrogates(data.decode("utf-8"))
        except UnicodeDecodeError:
            return _decode_windows_1252(data)
    try:
        return _without_surrogates(data.decode(codec))
    except (UnicodeError, LookupError):
        problems.append(f"{what} not valid {label}, undecodable bytes replaced")
    try:
        return _without_surrogates(data.decode(codec, "replace"))
    except (UnicodeError, LookupError):
        return data.decode("utf-8", "replace")


def _without_surrogates(text: str) -> str:
    """Lone surrogates (UTF-7 and UTF-16 can produce them) cannot be stored as UTF-8."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


def _codec(label: str) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    try:
        b"a".decode(name)  # LookupError for codecs that are not text encodings (base64, zlib, rot13…)
    except LookupError:
        return None
    except UnicodeError:  # a text encoding that cannot read "a" on its own (UTF-16)
        pass
    name = name.replace("-", "_")
    if name in _UNSAFE_CODECS:
        return None
    return {"iso8859_1": "latin_1", "us_ascii": "ascii"}.get(name, name)


def _decode_windows_1252(data: bytes) -> str:
    """windows-1252, with Latin-1 for the five bytes it leaves undefined, so nothing is lost."""
    return "".join(
        chunk.decode("cp1252", "strict") if _is_cp1252(chunk) else chunk.decode("latin-1")
        for chunk in re.split(rb"([\x81\x8d\x8f\x90\x9d]+)", data)
    )


def _is_cp1252(chunk: bytes) -> bool:
    return not re.fullmatch(rb"[\x81\x8d\x8f\x90\x9d]+", chunk)


def _sender(raw_value: str | None, problems: list[str]) -> tuple[str, str]:
    """(display name, lowercased address) of the first From mailbox; ("", "") when missing or unreadable."""
    if raw_value is None:
        problems.append("missing From header")
        return "", ""
    mailboxes = _mailboxes(raw_value, "From", problems)
    if not mailboxes:
        problems.append("unreadable From header")
        return "", ""
    return mailboxes[0]


def _addresses(raw_value: str | None, name: str, problems: list[str]) -> list[str]:
    """The distinct lowercased addresses of an address-list header (To, Cc); unreadable entries are noted."""
    if raw_value is None:
        return []
    found = [address for _display, address in _mailboxes(raw_value, name, problems)]
    valid = [address for address in found if "@" in address]
    if len(valid) < len(found):
        problems.append(f"unreadable address in {name}")
    return list(dict.fromkeys(valid))


def _mailboxes(raw_value: str, name: str, problems: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs; display names are decoded after splitting so encoded commas cannot split them."""
    text = " ".join(_decode_eight_bit(raw_value, name, problems).split())
    mailboxes = []
    try:
        pairs = getaddresses([text])
    except Exception:  # older getaddresses versions fail on some hostile values
        pairs = []
    for display, address in pairs:
        address = " ".join(address.split()).lower()
        if address:
            mailboxes.append((_header_text(display, name, problems), address))
    return mailboxes


def _plain_address(text: str) -> str:
    return parseaddr(text)[1].strip().lower()


def _message_id(text: str) -> str | None:
    """A Message-ID in its normal ``<local@domain>`` form, or None when absent."""
    ids = _message_ids(text)
    return ids[0] if ids else None


def _message_ids(text: str) -> list[str]:
    """The ``<...>`` ids in In-Reply-To/References (comments and phrases ignored); bare ids get their brackets."""
    ids = _MESSAGE_ID.findall(text)
    if not ids:
        ids = [f"<{token.strip('<>')}>" for token in text.split() if "@" in token.strip("<>")]
    return list(dict.fromkeys(ids))


def _sent_date(raw_value: str | None, arrived_at: datetime, problems: list[str]) -> datetime:
    """The Date header when it is readable and plausible, else the arrival time (noted)."""
    if raw_value is None:
        problems.append("missing Date header, arrival time used")
        return arrived_at
    text = " ".join(_CONTROL_CHARS.sub(" ", _decode_eight_bit(raw_value, "Date", problems)).split())
    try:
        sent = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(f"unreadable Date {text[:60]!r}, arrival time used")
        return arrived_at
    if sent.tzinfo is None:  # "-0000": the zone is unknown; RFC 5322 means UTC
        sent = sent.replace(tzinfo=UTC)
    if sent < arrived_at - DATE_BEFORE_ARRIVAL_LIMIT:
        problems.append(f"Date {sent.isoformat()} more than 30 days before arrival, arrival time used")
        return arrived_at
    if sent > arrived_at + DATE_AFTER_ARRIVAL_LIMIT:
        problems.append(f"Date {sent.isoformat()} more than 1 hour after arrival, arrival time used")
        return arrived_at
    return sent


# --- body and attachments ---------------------------------------------------------------------------------------


def _leaf_parts(message: email.message.Message, depth: int = 0) -> Iterator[tuple[email.message.Message, int]]:
    """The parts that hold content; an attached message (message/*) counts as one part; nesting is bounded."""
    payload = message.get_payload()
    if depth == _MAX_MIME_DEPTH:
        yield message, depth
    elif message.is_multipart() and message.get_content_maintype() != "message" and isinstance(payload, list):
        for part in payload:
            if isinstance(part, email.message.Message):
                yield from _leaf_parts(part, depth + 1)
    else:
        yield message, depth


def _read_body(
    message: email.message.Message, max_body_chars: int, problems: list[str]
) -> tuple[str, list[Attachment]]:
    """The text body (plain preferred, else HTML converted) and the attachments by name and size."""
    plain: list[email.message.Message] = []
    html: list[email.message.Message] = []
    attachments: list[Attachment] = []
    try:
        for part, depth in _leaf_parts(message):
            if depth == _MAX_MIME_DEPTH and part.is_multipart():
                problems.append(f"MIME parts nested deeper than {_MAX_MIME_DEPTH} levels ignored")
            else:
                _sort_part(part, plain, html, attachments)
    except Exception:  # see _parse_structure: stdlib parsing errors on hostile input
        problems.append("some MIME parts unreadable and ignored")
    body = _joined(_part_text(part, problems) for part in plain)
    if not body.strip() and html:
        body = _joined(_html_text(part, max_body_chars, problems) for part in html)
    problems.extend(_defects(message))  # after decoding, which records the transfer-encoding defects
    return _truncate(body, max_body_chars, problems), attachments


def _defects(message: email.message.Message) -> list[str]:
    """What the parser found wrong with the structure, in words a support lead can act on."""
    try:
        names = [type(defect).__name__ for part in message.walk() for defect in part.defects]
    except Exception:  # see _parse_structure
        return []
    return [_DEFECT_TEXTS.get(name, f"MIME defect {name}") for name in names]


def _sort_part(
    part: email.message.Message,
    plain: list[email.message.Message],
    html: list[email.message.Message],
    attachments: list[Attachment],
) -> None:
    content_type = part.get_content_type()
    filename = _filename(part)
    inline_text = part.get_content_disposition() != "attachment" and not filename
    if inline_text and content_type in ("text/plain", "text/html"):
        (plain if content_type == "text/plain" else html).append(part)
    elif inline_text and part.get_content_maintype() == "multipart":  # multipart without a usable boundary
        plain.append(part)
    else:
        attachments.append(Attachment(filename or f"unnamed ({content_type})", _size(part)))


def _filename(part: email.message.Message) -> str:
    """The attachment's file name as one line of text, without any directory part."""
    name = part.get_filename() or part.get_param("name") or ""
    if not isinstance(name, str):  # compat32 returns (charset, language, value) for undecoded RFC 2231 values
        name = collapse_rfc2231_value(name)
    name = _header_text(str(name), "filename", [])
    return re.split(r"[\\/]", name)[-1].strip()


def _size(part: email.message.Message) -> int:
    """Decoded size in bytes (an attached message: its size as sent)."""
    try:
        if part.get_content_maintype() == "message" or part.is_multipart():
            return len(part.as_bytes())
        payload = part.get_payload(decode=True)
    except Exception:  # see _parse_structure
        return 0
    return len(payload) if isinstance(payload, bytes) else 0


def _part_text(part: email.message.Message, problems: list[str]) -> str:
    """A text part decoded (transfer encoding, then charset) with line ends normalised."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # see _parse_structure
        problems.append("unreadable body part ignored")
        return ""
    if part.is_multipart() or not isinstance(payload, bytes):
        return ""
    text = _decode_bytes(payload, part.get_content_charset(), "body", problems)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _joined(texts: Iterable[str]) -> str:
    """Inline text parts in order (some mailers split the text around inline images)."""
    return "\n\n".join(text.strip("\n") for text in texts if text.strip())


def _html_text(part: email.message.Message, max_body_chars: int, problems: list[str]) -> str:
    """An HTML part as text; very large HTML is cut before conversion (the text is truncated anyway)."""
    markup = _part_text(part, problems)
    limit = max(max_body_chars, 1) * _HTML_MARKUP_FACTOR
    if len(markup) > limit:
        markup = markup[:limit]
        problems.append(f"HTML body cut to {limit:,} characters before conversion")
    return html_to_text(markup)


def _truncate(text: str, max_body_chars: int, problems: list[str]) -> str:
    text = text.strip("\n").rstrip()
    if len(text) <= max_body_chars:
        return text
    problems.append(f"body truncated to {max_body_chars:,} of {len(text):,} characters")
    return f"{text[:max_body_chars]}\n\n[message truncated: the first {max_body_chars:,} characters are shown]"


# --- noise and loops --------------------------------------------------------------------------------------------


def _own_address_reason(mail: InboundMail, headers: Mapping[str, str], own: set[str]) -> str | None:
    if mail.from_address and mail.from_address in own:
        return f"our own address {mail.from_address}"
    loop = headers.get("x-loop", "").lower()
    looped = sorted(address for address in own if address in loop)
    return f"mail loop (X-Loop: {looped[0]})" if looped else None


def _bounce_reason(mail: InboundMail, headers: Mapping[str, str]) -> str | None:
    if mail.from_address.partition("@")[0] == "mailer-daemon":
        return "bounce (MAILER-DAEMON)"
    if mail.content_type == "multipart/report":
        report = _REPORT_TYPE.search(headers.get("content-type", ""))
        if report and report.group(1).lower() == "disposition-notification":
            return "read receipt (multipart/report)"
        return "bounce (multipart/report)"
    if headers.get("return-path", "").replace(" ", "") == "<>":
        return "automatic mail (empty Return-Path <>)"
    return None


def _auto_reply_reason(headers: Mapping[str, str]) -> str | None:
    keyword = re.match(r"\s*([\w-]+)", headers.get("auto-submitted", ""))  # "no (comment)", "auto-generated; …"
    submitted = keyword.group(1).lower() if keyword else ""
    if submitted and submitted != "no":
        kind = "auto-reply" if submitted == "auto-replied" else "automatic mail"
        return f"{kind} (Auto-Submitted: {submitted[:40]})"
    for name, shown in (("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond")):
        if name in headers and headers[name].strip().lower() not in ("no", "false", "0"):
            return f"auto-reply ({shown})"
    if _precedence(headers) == "auto_reply":
        return "auto-reply (Precedence: auto_reply)"
    return None


def _bulk_reason(headers: Mapping[str, str]) -> str | None:
    if headers.get("list-id"):
        return f"mailing list (List-Id {headers['list-id'][:100]})"
    precedence = _precedence(headers)
    if precedence == "list":
        return "mailing list (Precedence: list)"
    if precedence in ("bulk", "junk"):
        return f"bulk mail (Precedence: {precedence})"
    return None


def _precedence(headers: Mapping[str, str]) -> str:
    words = headers.get("precedence", "").lower().split()
    return words[0] if words else ""


# --- HTML -------------------------------------------------------------------------------------------------------

_SKIPPED_ELEMENTS = frozenset({"script", "style", "head", "title", "template"})
_PARAGRAPH_ELEMENTS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "hr"}
)
_LINE_ELEMENTS = frozenset(
    {"div", "br", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address", "center", "form"}
)
_VOID_ELEMENTS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"})


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, with line breaks where the blocks are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skipping: list[str] = []
        self._quote_depth = 0
        self._pre_depth = 0
        self._breaks = 0
        self._links: list[tuple[str | None, int]] = []  # (href, where its text starts in pieces)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_ELEMENTS:
            self._skipping.append(tag)
            return
        if self._skipping and tag != "body":
            return
        self._block(tag)
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        elif tag == "li":
            self._text("- ")
        elif tag in ("td", "th"):
            self._text(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self._text(f"[{alt.strip()}]")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.pieces)))
        elif tag == "body":  # an unclosed <head> must not hide the body
            self._skipping.clear()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag == "a" and self._links:
            self._end_link(*self._links.pop())
        self._block(tag)
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._text(data)

    def _block(self, tag: str) -> None:
        if tag in _PARAGRAPH_ELEMENTS:
            self._breaks = max(self._breaks, 2)
        elif tag in _LINE_ELEMENTS:
            self._breaks = max(self._breaks, 1)
        if tag == "br":  # every <br> is a line break, even several in a row
            self.pieces.append("\n")
            self._breaks = 0

    def _text(self, data: str) -> None:
        if not self._pre_depth:
            data = re.sub(r"\s+", " ", data)
            if self._breaks or self._at_line_start() or self.pieces[-1].endswith(" "):
                data = data.lstrip(" ")
        if not data:
            return
        prefix = "> " * self._quote_depth
        if self._breaks and self.pieces:
            self.pieces.append("\n" * self._breaks)
        self._breaks = 0
        if prefix and self._at_line_start():
            data = prefix + data
        if prefix:
            data = data.replace("\n", "\n" + prefix)
        self.pieces.append(data)

    def _at_line_start(self) -> bool:
        return not self.pieces or self.pieces[-1].endswith("\n")

    def _end_link(self, href: str | None, text_start: int) -> None:
        """Show a link's target after its text unless the text already says it."""
        if not href:
            return
        target = href.strip()
        if target.lower().startswith("mailto:"):
            target = target[7:].split("?")[0]
        elif not target.lower().startswith(("http://", "https://")):
            return
        text = "".join(self.pieces[text_start:])
        if target and target not in text:
            self._text(f" ({target})")
