"""Personal data: finding e-mail addresses and phone numbers in text, and what a purge keeps.

Pure functions (no database, no clock): ``redact`` removes contact details
from free text (seed 004: "unwanted personal identifiable information will be
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

# A phone number never starts inside a word, a number, a date (2026-11-23, 23/11/2026, 01.12.2026),
# a ticket number (#12) or an amount (£12.50); it never ends where a time (10:00) or decimal begins.
_START = r"(?<![\w+#£$€./-])"
_END = r"(?!\d)(?![.:/,]\d)(?![\w])"
# Between two digits: nothing, one space or hyphen, a bracket, or a "(0)" trunk prefix (+44 (0)20 …).
_JOIN = r"(?:[ -]|[ ]?\(0\)[ ]?|[ ]?\(|\)[ ]?)?"


def _international() -> str:
    """``+`` or ``00``, a country code, then 7–14 more digits (E.164 allows 15 in all)."""
    return rf"(?:\+|\b00[ ]?)[1-9](?:{_JOIN}\d){{7,14}}"


def _uk_national() -> str:
    """A UK national number: 0 then 9 or 10 more digits, in any grouping, e.g. 0161 496 0000, 07700-900-123."""
    plain = r"0\d(?:[ -]?\d){8,9}"
    # "(020) 7946 0018": the bracketed area code holds k digits of the 10–11.
    bracketed = [rf"\(0\d{{{k - 1}}}\)[ ]?\d(?:[ -]?\d){{{9 - k},{10 - k}}}" for k in range(3, 7)]
    return "|".join([plain, *bracketed])


PHONE_PATTERN = re.compile(rf"{_START}(?:{_international()}|{_uk_national()}){_END}")


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


def find_contacts(text: str) -> list[Finding]:
    """Every e-mail address and phone number in ``text``, in the order redaction removes them."""
    return redact(text).findings


def redact(text: str) -> Redaction:
    """Replace e-mail addresses with ``[email removed]`` and phone numbers with ``[phone removed]``.

    Addresses go first, so digits inside an address (``07700900123@sms.example``) are not a phone.
    """
    findings: list[Finding] = []

    def replacer(kind: FindingKind, replacement: str):  # type: ignore[no-untyped-def]
        def replace(match: re.Match[str]) -> str:
            findings.append(Finding(kind, match.group(0)))
            return replacement

        return replace

    without_emails = _until_stable(EMAIL_PATTERN, replacer("email", EMAIL_REPLACEMENT), text)
    without_phones = _until_stable(PHONE_PATTERN, replacer("phone", PHONE_REPLACEMENT), without_emails)
    return Redaction(without_phones, findings)


def _until_stable(pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], text: str) -> str:
    """Substitute until nothing more matches, so redaction is idempotent.

    A number glued to the one before it ("07700 900123+44 7700 900123") only shows once its
    neighbour is replaced; each round removes digits, so this ends.
    """
    while True:
        replaced = pattern.sub(replace, text)
        if replaced == text:
            return text
        text = replaced


def redact_json(data: str) -> Redaction:
    """Redact every string inside a JSON document (keys and numbers are left alone)."""
    if not data:
        return Redaction(data)
    try:
        document = json.loads(data)
    except ValueError:
        return redact(data)
    findings: list[Finding] = []

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            result = redact(value)
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


# History data a purge keeps: numbers, flags, instants, and these fields, which name targets, tiers,
# staff and policy rules, never the customer. Any other text (a future mail header, an attachment
# name) is dropped, so the list errs on the side of removing.
KEPT_DATA_FIELDS = frozenset(
    {
        "automatic",
        "due_at",
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
