"""Customer-facing mail (README "E-mail in and out"): which template an action uses, and the text it renders to.

Templates are plain text files a team can edit: a ``Subject:`` line, a blank
line, then the body, with ``$field`` placeholders (``string.Template``, so a
template can only name fields, never run code). Defaults ship in
``core/mail_templates``; a policy's ``[customer_mail] templates`` directory
overrides any of them file by file.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from supportcli.errors import InvalidInput

# The mails an action can send, in the order they are described to users.
TEMPLATE_NAMES = ("acknowledge", "update", "resolve", "feedback_request")

# Every field a template may use, with what it holds (shown by ``mail templates``).
TEMPLATE_FIELDS: dict[str, str] = {
    "id": "the ticket number",
    "tag": "the subject tag, [#ID]",
    "subject": "the ticket's subject",
    "customer_name": "the customer's name (or 'customer')",
    "customer_email": "the customer's e-mail address",
    "status": "the ticket's status after the action",
    "owner": "the owner's name (or 'our team')",
    "owner_sentence": "'NAME is looking after it.' when it has an owner, else empty",
    "team": "the policy's name, e.g. 'Acme Support'",
    "message": "the text staff wrote for this action (-m)",
    "message_paragraph": "the text staff wrote followed by a blank line, or empty",
    "respond_due": "when the respond target falls due, e.g. 'Fri 27 Nov 2026 17:00', or 'soon'",
    "resolve_due": "when the resolve target falls due, or 'soon'",
    "next_update_sentence": "'We will update you again by WHEN.' when one is due, else empty",
}


@dataclass(frozen=True)
class RenderedMail:
    """One customer mail, ready for the outbox."""

    subject: str
    body: str


def template_source(name: str, directory: Path | None) -> tuple[str, str]:
    """The text of one template and where it came from: the team's directory when it has the file, else the default."""
    if name not in TEMPLATE_NAMES:
        raise InvalidInput(f"unknown mail template {name!r} (known: {', '.join(TEMPLATE_NAMES)})")
    if directory is not None:
        path = directory / f"{name}.txt"
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8"), str(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"cannot read mail template {path}: {exc}") from exc
    return files("supportcli.core").joinpath("mail_templates", f"{name}.txt").read_text(encoding="utf-8"), "built-in"


def render(name: str, text: str, fields: Mapping[str, str], origin: str = "built-in") -> RenderedMail:
    """Fill a template; an unknown ``$field`` or a missing Subject line is an error naming the template."""
    head, separator, body = text.replace("\r\n", "\n").partition("\n\n")
    if not separator or not head.lower().startswith("subject:") or "\n" in head:
        raise InvalidInput(f"mail template {name} ({origin}): must start with one 'Subject: …' line and a blank line")
    try:
        subject = string.Template(head[len("subject:") :].strip()).substitute(fields)
        rendered = string.Template(body).substitute(fields)
    except KeyError as exc:
        raise InvalidInput(
            f"mail template {name} ({origin}): unknown field ${exc.args[0]} (known: {', '.join(TEMPLATE_FIELDS)})"
        ) from exc
    except ValueError as exc:
        raise InvalidInput(f"mail template {name} ({origin}): {exc} (write $$ for a dollar sign)") from exc
    tag = fields.get("tag", "")
    if tag and tag not in subject:
        subject = f"{tag} {subject}"  # replies must find their ticket, whatever the team's template says
    return RenderedMail(subject=" ".join(subject.split()), body=_tidy(rendered))


def _tidy(body: str) -> str:
    """Collapse the blank lines empty fields leave behind, and end with one newline."""
    lines = [line.rstrip() for line in body.split("\n")]
    tidied: list[str] = []
    for line in lines:
        if not line and tidied and not tidied[-1]:
            continue
        tidied.append(line)
    return "\n".join(tidied).strip("\n") + "\n"


def sample_fields() -> dict[str, str]:
    """Example values for every field, to check and preview templates without a ticket."""
    return {
        "id": "123",
        "tag": "[#123]",
        "subject": "Invoice sent to old address",
        "customer_name": "Ann Lee",
        "customer_email": "ann@example.com",
        "status": "acknowledged",
        "owner": "Priya",
        "owner_sentence": "Priya is looking after it.",
        "team": "Acme Support",
        "message": "We have corrected the address and re-sent the invoice.",
        "message_paragraph": "We have corrected the address and re-sent the invoice.\n",
        "respond_due": "Fri 27 Nov 2026 17:00",
        "resolve_due": "Mon 07 Dec 2026 17:00",
        "next_update_sentence": "We will update you again by Fri 04 Dec 2026 17:00.",
    }
