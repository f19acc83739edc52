"""SMTP settings: config.toml [smtp], with SUPPORTCLI_SMTP_* winning (SPEC §6)."""

from __future__ import annotations

import pytest

from supportcli.errors import InvalidInput
from supportcli.notify.settings import SmtpSettings, smtp_settings

CONFIG = {"smtp": {"host": "smtp.example.com", "port": 587, "starttls": True, "user": "support", "password": "pw"}}


def test_no_server_configured_means_no_email() -> None:
    assert smtp_settings({}, {}) is None


def test_config_file_settings() -> None:
    assert smtp_settings(CONFIG, {}) == SmtpSettings("smtp.example.com", 587, True, "support", "pw")


def test_environment_wins_over_the_config_file() -> None:
    env = {
        "SUPPORTCLI_SMTP_HOST": "127.0.0.1",
        "SUPPORTCLI_SMTP_PORT": "2525",
        "SUPPORTCLI_SMTP_STARTTLS": "0",
        "SUPPORTCLI_SMTP_USER": "cron",
        "SUPPORTCLI_SMTP_PASSWORD": "secret",
    }
    assert smtp_settings(CONFIG, env) == SmtpSettings("127.0.0.1", 2525, False, "cron", "secret")


def test_describe_never_shows_the_password() -> None:
    described = SmtpSettings("smtp.example.com", 587, True, "support", "pw").describe()
    assert described == "support@smtp.example.com:587 (STARTTLS)"


def test_bad_port_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="bad SMTP port 'abc'"):
        smtp_settings({}, {"SUPPORTCLI_SMTP_HOST": "x", "SUPPORTCLI_SMTP_PORT": "abc"})
