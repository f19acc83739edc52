"""Real servers on 127.0.0.1 for the cron run: an aiosmtpd SMTP server and a threaded HTTP server for webhooks.

Both record everything they receive and can be told to misbehave:

- ``smtp.refuse(address)``: answer ``550`` to ``RCPT TO`` for that address (a permanent failure);
- ``smtp.fail_data = "451 …"``: record the message, then answer the DATA with that reply (the send
  "failed" although the server has the message: the next run sends it again, with the same Message-ID);
- ``smtp.handler.delay = 0.05``: a slow server (each message takes that long to be accepted);
- ``smtp.stop()`` / ``smtp.start()``: SMTP down / up again, on the same port;
- ``webhook.status = 500`` (or 410…): record the POST, then answer with that status.

The fixtures ``smtp_env`` / ``webhook`` set ``SUPPORTCLI_SMTP_HOST`` / ``SUPPORTCLI_SMTP_PORT`` with
``monkeypatch.setenv`` and install a policy whose ``notify.webhook_url`` points at the HTTP server.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "src" / "supportcli" / "core" / "default_policy.toml"
TEAM_EMAIL = "team@example.com"
EMAIL_FROM = "support@example.com"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# -- SMTP -------------------------------------------------------------------------------------------------------------


@dataclass
class Mail:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


class RecordingHandler:
    """aiosmtpd handler: records every message; can refuse recipients or fail the DATA step."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mails: list[Mail] = []
        self.refused: set[str] = set()
        self.fail_data: str | None = None
        self.delay = 0.0  # seconds to think before accepting a message: makes overlapping runs overlap

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            reply = self.fail_data
        return reply or "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        assert self.controller is None
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, ready_timeout=5)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def mails(self) -> list[Mail]:
        with self.handler.lock:
            return list(self.handler.mails)

    def refuse(self, *addresses: str) -> None:
        self.handler.refused.update(a.lower() for a in addresses)

    def accept_all(self) -> None:
        self.handler.refused.clear()
        self.handler.fail_data = None

    @property
    def fail_data(self) -> str | None:
        return self.handler.fail_data

    @fail_data.setter
    def fail_data(self, reply: str | None) -> None:
        self.handler.fail_data = reply

    def to(self, address: str) -> list[Mail]:
        """Messages delivered to one recipient."""
        return [mail for mail in self.mails if address in mail.rcpt_tos]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server (not yet in the environment: see ``smtp_env``)."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_env(smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    """The SMTP server, configured for supportcli through SUPPORTCLI_SMTP_HOST / SUPPORTCLI_SMTP_PORT."""
    monkeypatch.setenv("SUPPORTCLI_SMTP_HOST", HOST)
    monkeypatch.setenv("SUPPORTCLI_SMTP_PORT", str(smtp.port))
    return smtp


# -- HTTP (webhook) ---------------------------------------------------------------------------------------------------


@dataclass
class Post:
    """One webhook request as the HTTP server received it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class WebhookServer(ThreadingHTTPServer):
    """Records every POST (path, headers, body); answers ``status`` (200 unless told otherwise)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _WebhookHandler)
        self.lock = threading.Lock()
        self.posts: list[Post] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/hook"

    def received(self) -> list[Post]:
        with self.lock:
            return list(self.posts)


class _WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = self.server.status
        reply = b'{"ok": true}' if status < 300 else b'{"error": "test"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output clean


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    """A running HTTP server for webhook POSTs."""
    server = WebhookServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- the team's policy ------------------------------------------------------------------------------------------------


def policy_text(webhook_url: str = "", team_email: str = TEAM_EMAIL, email_from: str = EMAIL_FROM) -> str:
    """The built-in policy with its [notify] table filled in."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    head, marker, _ = text.partition("[notify]")
    assert marker, "the built-in policy has no [notify] table"
    return f'{head}[notify]\nemail_from = "{email_from}"\nteam_email = "{team_email}"\nwebhook_url = "{webhook_url}"\n'


@pytest.fixture
def policy_file(tmp_path: Path, webhook: WebhookServer) -> Path:
    """A policy file: the built-in targets, the team address, and the webhook server as notify.webhook_url."""
    path = tmp_path / "team-policy.toml"
    path.write_text(policy_text(webhook.url), encoding="utf-8")
    return path
