"""SMTP settings: config.toml ``[smtp]``, overridden by ``SUPPORTCLI_SMTP_*`` (docs/cron.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from supportcli.errors import InvalidInput


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send e-mail."""

    host: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = None

    def describe(self) -> str:
        """The server for messages, never with the password."""
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.port}{' (STARTTLS)' if self.starttls else ''}"


def smtp_settings(config: Mapping[str, object], env: Mapping[str, str]) -> SmtpSettings | None:
    """The SMTP settings in force, or None when no server is configured (e-mail is then not sent)."""
    table = config.get("smtp", {})
    if not isinstance(table, dict):
        raise InvalidInput("config.toml: [smtp] must be a table")
    host = env.get("SUPPORTCLI_SMTP_HOST") or table.get("host")
    if not host:
        return None
    port_text = env.get("SUPPORTCLI_SMTP_PORT") or table.get("port") or 25
    try:
        port = int(port_text)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"bad SMTP port {port_text!r}") from exc
    starttls_value = env.get("SUPPORTCLI_SMTP_STARTTLS")
    starttls = starttls_value == "1" if starttls_value is not None else bool(table.get("starttls", False))
    user = env.get("SUPPORTCLI_SMTP_USER") or table.get("user") or None
    password = env.get("SUPPORTCLI_SMTP_PASSWORD") or table.get("password") or None
    return SmtpSettings(str(host), port, starttls, user and str(user), password and str(password))
