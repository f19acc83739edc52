"""Finding tickets by their customer: e-mail address, name, phone number.

Each function returns a WHERE clause for any ``select(Ticket)`` statement, so a lookup combines with
every other filter; each is served by an index (schema version 5): ``lower(customer_email)``,
``customer_name`` and ``customer_phone_key``.

Phone numbers are compared by their digits. A ticket keeps its number's key: the digits without a
trunk ``(0)`` or leading zeros (which drops an international ``00`` and a national ``0``), reversed,
so that "ends with" becomes "starts with", a range of the index. Two numbers are the same when one's
digits end the other's: ``07700 900123``, ``7700 900123`` and ``+44 7700 900123`` are one number, and
the last digits alone (``900123``) find every number ending with them.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, false, func, inspect, or_
from sqlalchemy.orm import Session
from sqlmodel import col

from supportcli.store.models import Ticket

PHONE_KEY_DIGITS = 20  # E.164 numbers have at most 15 digits; an extension or typo past that is cut
# A stored number counts as the end of a longer one given (with its country code) from this many digits on,
# so a short internal extension never matches every number that happens to end with it.
PHONE_SUFFIX_MIN_DIGITS = 7


def phone_key(number: str | None) -> str | None:
    """The key a phone number is looked up by: its digits, leading zeros dropped, reversed (None: no digits)."""
    if not number:
        return None
    digits = "".join(str(unicodedata.decimal(char)) for char in number.replace("(0)", "") if char.isdecimal())
    significant = digits.lstrip("0")
    return significant[::-1][:PHONE_KEY_DIGITS] or None


def email_clause(address: str) -> ColumnElement[bool]:
    """Tickets whose customer e-mail is this address, in any letter case (the whole address, not a part)."""
    return func.lower(col(Ticket.customer_email)) == func.lower(address.strip())


def name_clause(name: str) -> ColumnElement[bool]:
    """Tickets whose customer name contains this text, in any letter case (``lee`` finds Ann Lee)."""
    from supportcli.store.queries import text_like

    return text_like(Ticket.customer_name, " ".join(name.split()), before="%", after="%")


def phone_clause(number: str) -> ColumnElement[bool]:
    """Tickets whose customer phone is this number compared by digits (see the module's docstring)."""
    key = phone_key(number)
    if key is None:
        return false()
    stored = col(Ticket.customer_phone_key)
    # Numbers that end with the digits given: keys starting with ``key``, a range of digit strings.
    clause = stored >= key
    following = _next_digit_string(key)
    if following is not None:
        clause = clause & (stored < following)
    # Numbers whose digits end the number given (it came with a country code, they were stored without).
    shorter = [key[:length] for length in range(PHONE_SUFFIX_MIN_DIGITS, len(key))]
    return or_(clause, stored.in_(shorter)) if shorter else clause


def _next_digit_string(key: str) -> str | None:
    """The smallest digit string after every string that starts with ``key`` (None when ``key`` is all nines).

    Only digits are compared, so the range means the same under every collation."""
    stripped = key.rstrip("9")
    if not stripped:
        return None
    return stripped[:-1] + str(int(stripped[-1]) + 1)


def keep_phone_keys(session: Session, _context: object, _instances: object) -> None:
    """Before a flush: a new ticket, or one whose phone number changed, gets its number's key (``store.search``
    registers this with its own flush hook)."""
    for row in session.new:
        if isinstance(row, Ticket):
            row.customer_phone_key = phone_key(row.customer_phone)
    for row in session.dirty:
        if isinstance(row, Ticket) and inspect(row).attrs.customer_phone.history.has_changes():
            row.customer_phone_key = phone_key(row.customer_phone)
