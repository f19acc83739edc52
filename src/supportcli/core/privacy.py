"""Personal data: finding e-mail addresses and phone numbers in text, and what a purge keeps.

Pure functions (no database, no clock): ``redact`` removes contact details
from free text (a customer promise: "unwanted personal identifiable information will be
removed"); ``purge_cutoff`` and ``anonymised_data`` decide what a retention
purge removes. Redaction is idempotent: redacting redacted text changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatch, PhoneNumberMatcher

from supportcli.core.durations import Duration

EMAIL_REPLACEMENT = "[email removed]"
PHONE_REPLACEMENT = "[phone removed]"

FindingKind = Literal["email", "phone"]

EMAIL_PATTERN = re.compile(
    r"(?<![\w.%+'-])"  # not the tail of a longer word or address
    r"[\w%+'-]+(?:\.[\w%+'-]+)*"  # local part
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,63}(?![\w-])"
)

# A phone number never starts inside a word, a ticket number (#12), an amount (£12.50) or a longer number,
# and never ends where a time (10:00), a decimal or a word begins; dates (2026-11-23, 23/11/2026) are not numbers.
_BEFORE = re.compile(r"[\w+#£$€./-]\Z")
_AFTER = re.compile(r"(?:[.:/,]\d|\w)")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")
# A number libphonenumber cannot confirm as allocated (Ofcom's drama range 07700 900xxx, a brand-new range)
# still counts when it is written like one: this many digits at least, after + ( or a dialling prefix.
MIN_UNCONFIRMED_DIGITS = 10
# North-American numbers are recognised in their national form on every calendar ((510) 541-6550,
# 1-800-859-7267): it is the national form most often written without a country code.
NANP_REGION = "US"
DEFAULT_REGION = "GB"  # the built-in policy's country


@dataclass(frozen=True)
class Finding:
    """One e-mail address or phone number found in a text."""

    kind: FindingKind
    value: str

    @property
    def masked(self) -> str:
        """Enough to recognise it, not enough to use it: ``a***@example.com``, ``07*** ***123``."""
        return mask_email(self.value) if self.kind == "email" else mask_phone(self.value)


@dataclass
class Redaction:
    """A text with its contact details replaced, and what was found."""

    text: str
    findings: list[Finding] = field(default_factory=list)

    def count(self, kind: FindingKind) -> int:
        """How many findings of one kind."""
        return sum(1 for finding in self.findings if finding.kind == kind)


def find_contacts(text: str, region: str | None = DEFAULT_REGION) -> list[Finding]:
    """Every e-mail address and phone number in ``text``, in the order redaction removes them."""
    return redact(text, region).findings


def redact(text: str, region: str | None = DEFAULT_REGION) -> Redaction:
    """Replace e-mail addresses with ``[email removed]`` and phone numbers with ``[phone removed]``.

    ``region`` is the calendar's country (ISO 3166, e.g. ``GB``): its national forms are recognised
    besides every international one. Addresses go first, so digits inside an address
    (``07700900123@sms.example``) are not a phone.
    """
    findings: list[Finding] = []

    def replace_email(match: re.Match[str]) -> str:
        findings.append(Finding("email", match.group(0)))
        return EMAIL_REPLACEMENT

    without_emails = _until_stable(EMAIL_PATTERN, replace_email, text)
    spans = phone_spans(without_emails, region)
    findings.extend(Finding("phone", without_emails[start:end]) for start, end in spans)
    pieces, last = [], 0
    for start, end in spans:
        pieces += [without_emails[last:start], PHONE_REPLACEMENT]
        last = end
    return Redaction("".join([*pieces, without_emails[last:]]), findings)


def _until_stable(pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], text: str) -> str:
    """Substitute until nothing more matches, so redaction is idempotent."""
    while True:
        replaced = pattern.sub(replace, text)
        if replaced == text:
            return text
        text = replaced


def phone_spans(text: str, region: str | None = DEFAULT_REGION) -> list[tuple[int, int]]:
    """Where the phone numbers in ``text`` are, in order, found by libphonenumber's matcher.

    Found spans are blanked and the text searched again until nothing more is found, so redaction
    is idempotent: a number glued to the one before it ("+44 7700 900123 07700 900124") only shows
    once its neighbour is out of the way. Each round blanks digits, so this ends.
    """
    spans: list[tuple[int, int]] = []
    searched = text
    while True:
        found = [span for span in _phone_candidates(searched, region) if not _overlaps(span, spans)]
        if not found:
            return sorted(spans)
        spans.extend(found)
        for start, end in found:
            # Same length, so positions hold; bracketed like the replacement, so its neighbours see the same.
            searched = searched[:start] + ("[" + "_" * (end - start - 2) + "]")[: end - start] + searched[end:]


def _phone_candidates(text: str, region: str | None) -> list[tuple[int, int]]:
    """Non-overlapping spans libphonenumber reads as numbers of ``region`` (or international, or North-American)."""
    if not any(char.isdigit() for char in text):
        return []
    passes = [(region, Leniency.POSSIBLE)]
    if region is None or not phonenumbers.is_nanpa_country(region):
        passes.append((NANP_REGION, Leniency.VALID))
    spans: list[tuple[int, int]] = []
    for pass_region, leniency in passes:
        prefixes = _dialling_prefixes(pass_region)
        for match in PhoneNumberMatcher(text, pass_region, leniency=leniency):
            span = (match.start, match.end)
            if _overlaps(span, spans) or not _is_phone(text, match, prefixes):
                continue
            spans.append(span)
    return spans


def _is_phone(text: str, match: PhoneNumberMatch, prefixes: tuple[str, ...]) -> bool:
    """A match that stands on its own and is either an allocated number or plainly written as one."""
    raw = match.raw_string
    if _BEFORE.search(text, 0, match.start) or _AFTER.match(text, match.end) or _DATE.search(raw):
        return False
    if phonenumbers.is_valid_number(match.number):
        return True
    digits = sum(char.isdigit() for char in raw)
    return digits >= MIN_UNCONFIRMED_DIGITS and raw.startswith(prefixes)


def _dialling_prefixes(region: str | None) -> tuple[str, ...]:
    """How a number is written to be dialled: ``+``, a bracketed area code, the national or international prefix."""
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    own = (metadata.national_prefix, metadata.international_prefix) if metadata is not None else ()
    return ("+", "(", *(prefix for prefix in own if prefix and prefix.isdigit()))


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def redact_json(data: str, region: str | None = DEFAULT_REGION) -> Redaction:
    """Redact every string inside a JSON document (keys and numbers are left alone)."""
    if not data:
        return Redaction(data)
    try:
        document = json.loads(data)
    except ValueError:
        return redact(data, region)
    findings: list[Finding] = []

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            result = redact(value, region)
            findings.extend(result.findings)
            return result.text
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    cleaned = walk(document)
    if not findings:
        return Redaction(data)
    return Redaction(json.dumps(cleaned, sort_keys=True), findings)


def mask_email(address: str) -> str:
    """``ann.lee@example.com`` → ``a***@example.com``."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """Every digit but the first two and the last three hidden: ``07700 900123`` → ``07*** ***123``."""
    digit_positions = [i for i, char in enumerate(number) if char.isdigit()]
    shown = set(digit_positions[:2] + digit_positions[-3:])
    return "".join("*" if char.isdigit() and i not in shown else char for i, char in enumerate(number))


def purge_cutoff(now: datetime, resolved_for: Duration) -> datetime:
    """Tickets resolved before this instant are past retention (``2y`` keeps the calendar date)."""
    return Duration(-resolved_for.amount, resolved_for.unit).add_elapsed(now)


def purged_subject(ticket_id: int) -> str:
    """What a purged ticket's subject becomes."""
    return f"[purged #{ticket_id}]"


CUSTOMER_ACTOR = "customer"


def anonymised_actor(actor: str) -> str:
    """Who did something, after a purge: staff names stay; a customer who wrote by mail is named by address, so goes."""
    return CUSTOMER_ACTOR if EMAIL_PATTERN.search(actor) else actor


# History data a purge keeps: numbers, flags, instants, and these fields, which name targets, tiers,
# staff and policy rules, never the customer. Any other text (a future mail header, an attachment
# name) is dropped, so the list errs on the side of removing.
KEPT_DATA_FIELDS = frozenset(
    {
        "automatic",
        "due_at",
        "field",
        "met",
        "new_due",
        "next_update",
        "owner",
        "paused",
        "policy_version",
        "previous",
        "rating",
        "received_at",
        "rule",
        "target",
        "tier",
        "until",
        "waited_working_seconds",
        "was_waiting",
    }
)


def anonymised_data(data: str) -> str:
    """A history event's JSON data with everything personal removed; ratings, times and counts kept."""
    if not data:
        return data
    try:
        document = json.loads(data)
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    kept = {key: value for key, value in document.items() if key in KEPT_DATA_FIELDS or _is_impersonal(value)}
    return json.dumps(kept, sort_keys=True) if kept else ""


def _is_impersonal(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False
