"""Sending one notice: e-mail over SMTP or a JSON POST to a webhook.

Both report a permanent failure (SMTP 5xx, HTTP 4xx) apart from a temporary
one, so the outbox retries only what can succeed later.
"""

from __future__ import annotations

import email.policy
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate

from supportcli.notify.settings import SmtpSettings

TIMEOUT_SECONDS = 20


class SendFailed(Exception):
    """A notice was not accepted; ``permanent`` means retrying will not help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


# Python folds a long Subject by moving all of it to a continuation line, which its own parser
# (and some mail programs) then read back with a leading space; a line may be 998 characters.
_HEADERS_UNFOLDED = email.policy.default.clone(max_line_length=998)


def _header_safe(text: str) -> str:
    # Customer text can reach a subject line: no CR/LF header injection, and a sane length.
    return " ".join(text.split())[:200]


def build_email(
    sender: str, recipient: str, subject: str, body: str, message_id: str, extra: Mapping[str, str] | None = None
) -> EmailMessage:
    """An e-mail built with the standard library, so headers are encoded and checked.

    ``extra`` adds threading headers (In-Reply-To, References) to a customer mail.
    """
    message = EmailMessage(policy=_HEADERS_UNFOLDED)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = _header_safe(subject)
    message["Message-ID"] = message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (extra or {}).items():
        message[name] = _header_safe(value)
    message.set_content(body)
    return message


def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand one message to the SMTP server; SendFailed says whether to retry."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as server:
            if settings.starttls:
                server.starttls()
            if settings.user and settings.password:
                server.login(settings.user, settings.password)
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendFailed(f"recipient refused: {codes}", permanent=all(code >= 500 for code in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SendFailed(f"SMTP {exc.smtp_code} {text}", permanent=exc.smtp_code >= 500) from exc
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"SMTP server {settings.host}:{settings.port} unavailable: {exc}", permanent=False) from exc


def post_webhook(url: str, payload: bytes, idempotency_key: str) -> None:
    """POST one JSON event; 2xx is accepted, 4xx (but 408/429) is permanent, anything else is retried."""
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            "User-Agent": "supportcli",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        raise SendFailed(f"webhook answered HTTP {exc.code}", permanent=permanent) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise SendFailed(f"webhook {url} unreachable: {getattr(exc, 'reason', exc)}", permanent=False) from exc
