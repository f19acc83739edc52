"""Customer mail out (SPEC §8) to a real SMTP server on 127.0.0.1, and replies to it threading back onto the ticket."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from .conftest import EMAIL_FROM, Mail, SmtpServer, policy_text

Cli = Callable[..., Result]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mail"
BEFORE = "2026-03-01T09:00:00+00:00"
NOW = "2026-03-10T10:00:00+00:00"
LATER = "2026-03-10T11:00:00+00:00"
ALL_MAIL = "\n[customer_mail]\nacknowledge = true\nupdate = true\nresolve = true\nfeedback_request = true\n"


def run(cli: Cli, *args: str, now: str = NOW, code: int = 0, input: bytes | None = None) -> Result:
    result = cli(*args, input=input, env={"SUPPORTCLI_NOW": now})
    assert result.exit_code == code, result.output
    return result


def set_policy(cli: Cli, tmp_path: Path, extra: str = ALL_MAIL) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(policy_text() + extra, encoding="utf-8")
    run(cli, "policy", "set", str(path), now=BEFORE)


def ticket(cli: Cli, ticket_id: int) -> dict:
    return json.loads(run(cli, "show", str(ticket_id), "--json", now=LATER).stdout)


def reply_to(mail: Mail, subject: str, body: str, message_id: str) -> bytes:
    """What the customer's mail program sends when they press Reply."""
    return (
        f"From: {mail.rcpt_tos[0]}\nTo: {EMAIL_FROM}\nSubject: {subject}\n"
        f"Date: Tue, 10 Mar 2026 10:20:00 +0000\nMessage-ID: {message_id}\n"
        f"In-Reply-To: {mail.message_id}\nReferences: {mail.message_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n\n> {mail.body.splitlines()[0]}\n"
    ).encode()


@pytest.fixture
def mailed_ticket(cli: Cli, tmp_path: Path, smtp_env: SmtpServer) -> SmtpServer:
    """Ticket #1 from plain.eml (customer Jane, watchers bob and carol) under a policy that sends all customer mail."""
    set_policy(cli, tmp_path)
    run(cli, "mail-in", input=(FIXTURES / "plain.eml").read_bytes())
    return smtp_env


def test_ack_mails_the_customer_and_watchers_and_a_reply_threads_back_by_in_reply_to(
    cli: Cli, mailed_ticket: SmtpServer
) -> None:
    acked = run(cli, "ack", "1", "-m", "An engineer will call you today.", now="2026-03-10T10:10:00+00:00")
    assert "customer mail sent (3)" in acked.stderr
    mails = mailed_ticket.mails
    assert sorted(r for m in mails for r in m.rcpt_tos) == [
        "bob@example.org",
        "carol@example.net",
        "jane.customer@example.org",
    ]
    [to_jane] = mailed_ticket.to("jane.customer@example.org")
    assert to_jane.subject == "[#1] We have received your message: Boiler still not repaired after two visits"
    assert to_jane.message["From"] == EMAIL_FROM
    assert to_jane.message["In-Reply-To"] == "<CAF3k9x2=plain-1@mail.example.org>"
    assert "Dear Jane Customer," in to_jane.body
    assert "An engineer will call you today." in to_jane.body
    assert "We aim to respond by Tue 17 Mar 2026 17:00." in to_jane.body  # respond = 5wd from Tue 10 Mar 09:12
    assert len({m.message_id for m in mails}) == 3
    history = ticket(cli, 1)["history"]
    assert history[-1]["event"] == "customer-mail"
    # Jane's mail program drops our tag from the subject: In-Reply-To alone finds the ticket.
    reply = reply_to(to_jane, "Re: Boiler visit", "Thank you, I will be in all day.", "<jane-2@example.org>")
    threaded = run(cli, "mail-in", input=reply, now="2026-03-10T10:30:00+00:00")
    assert "reply from jane.customer@example.org added to #1" in threaded.stderr
    assert json.loads(run(cli, "list", "--json").stdout)[0]["id"] == 1
    assert len(json.loads(run(cli, "list", "--json").stdout)) == 1
    assert ticket(cli, 1)["history"][-1]["text"].startswith("Thank you, I will be in all day.")


def test_a_reply_keeping_the_tag_threads_back_too(cli: Cli, mailed_ticket: SmtpServer) -> None:
    run(cli, "ack", "1")
    [to_bob] = mailed_ticket.to("bob@example.org")
    reply = reply_to(to_bob, f"Re: {to_bob.subject}", "I am Jane's neighbour; I have a key.", "<bob-1@example.org>")
    result = run(cli, "mail-in", input=reply, now="2026-03-10T10:30:00+00:00")
    assert "reply from bob@example.org added to #1" in result.stderr


def test_customer_facing_updates_are_mailed_internal_notes_and_no_mail_are_not(
    cli: Cli, mailed_ticket: SmtpServer
) -> None:
    run(cli, "update", "1", "--internal", "-m", "Supplier says valve is faulty")
    run(cli, "update", "1", "-m", "Checked with the supplier", "--no-mail")
    assert mailed_ticket.mails == []
    run(cli, "update", "1", "-m", "A new valve arrives on Thursday.", "--next", "2026-03-12T12:00:00+00:00")
    [to_jane] = mailed_ticket.to("jane.customer@example.org")
    assert to_jane.subject == "[#1] An update on your request: Boiler still not repaired after two visits"
    assert "A new valve arrives on Thursday." in to_jane.body
    assert "We will update you again by Thu 12 Mar 2026 12:00." in to_jane.body
    notices = json.loads(run(cli, "notify", "log", "--json").stdout)
    assert {n["event"] for n in notices} == {"customer-update"}


def test_resolve_mails_the_resolution_and_a_feedback_request_and_the_rating_comes_back(
    cli: Cli, mailed_ticket: SmtpServer
) -> None:
    run(cli, "resolve", "1", "-m", "The valve was replaced and the boiler tested.")
    to_jane = mailed_ticket.to("jane.customer@example.org")
    assert [m.subject.split("]")[1].strip().split(":")[0] for m in to_jane] == [
        "Resolved",
        "How did we do? Boiler still not repaired after two visits",
    ]
    feedback_request = to_jane[1]
    assert "Rating: 4" in feedback_request.body
    reply = reply_to(feedback_request, "Re: How did we do?", "Rating: 5\n\nVery good, thanks.", "<jane-3@example.org>")
    result = run(cli, "mail-in", input=reply, now="2026-03-10T12:00:00+00:00")
    assert "(rated 5/5)" in result.stderr
    record = ticket(cli, 1)
    assert (record["rating"], record["status"]) == (5, "resolved")


def test_without_the_policy_flags_no_customer_mail_is_queued(cli: Cli, tmp_path: Path, smtp_env: SmtpServer) -> None:
    set_policy(cli, tmp_path, extra="")
    run(cli, "mail-in", input=(FIXTURES / "plain.eml").read_bytes())
    run(cli, "ack", "1")
    run(cli, "resolve", "1", "-m", "Done")
    assert smtp_env.mails == []
    assert json.loads(run(cli, "notify", "log", "--json").stdout) == []


def test_a_ticket_without_an_address_gets_no_mail_and_says_so(cli: Cli, tmp_path: Path, smtp_env: SmtpServer) -> None:
    set_policy(cli, tmp_path)
    run(cli, "log", "Phoned about a leak", "--channel", "phone", "-q")
    result = run(cli, "ack", "1")
    assert "#1 has no customer e-mail address: no acknowledge mail" in result.stderr
    assert smtp_env.mails == []


def test_mail_that_cannot_be_sent_now_waits_for_the_cron_run_and_goes_once(cli: Cli, mailed_ticket: SmtpServer) -> None:
    mailed_ticket.stop()
    acked = run(cli, "ack", "1", now="2026-03-10T10:10:00+00:00")
    assert "customer mail not sent yet, the next cron run retries" in acked.stderr
    assert ticket(cli, 1)["status"] == "acknowledged"  # the change itself is committed
    pending = json.loads(run(cli, "notify", "log", "--status", "pending", "--json").stdout)
    assert len(pending) == 3
    mailed_ticket.start()
    run(cli, "overdue", "--notify", now="2026-03-10T10:20:00+00:00")
    run(cli, "overdue", "--notify", now="2026-03-10T10:40:00+00:00")
    assert len(mailed_ticket.mails) == 3
    assert json.loads(run(cli, "notify", "log", "--status", "pending", "--json").stdout) == []


def test_team_templates_replace_the_defaults_and_a_broken_one_changes_nothing(
    cli: Cli, tmp_path: Path, smtp_env: SmtpServer
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "acknowledge.txt").write_text(
        "Subject: Thanks, $customer_name\n\nWe got your message about: $subject\n", encoding="utf-8"
    )
    set_policy(cli, tmp_path, extra=f'{ALL_MAIL}templates = "{templates}"\n')
    run(cli, "mail-in", input=(FIXTURES / "plain.eml").read_bytes())
    run(cli, "ack", "1")
    [to_jane] = smtp_env.to("jane.customer@example.org")
    assert to_jane.subject == "[#1] Thanks, Jane Customer"  # the tag is always there, for replies
    assert to_jane.body.strip() == "We got your message about: Boiler still not repaired after two visits"
    (templates / "resolve.txt").write_text("Subject: Done\n\nSolved by $engineer.\n", encoding="utf-8")
    broken = run(cli, "resolve", "1", "-m", "Fixed", code=2)
    assert "mail template resolve" in broken.stderr
    assert "unknown field $engineer" in broken.stderr
    assert ticket(cli, 1)["status"] == "acknowledged"


def test_mail_templates_lists_checks_and_copies_the_templates(cli: Cli, tmp_path: Path) -> None:
    set_policy(cli, tmp_path)
    listed = run(cli, "mail", "templates").stdout
    assert "acknowledge       sent built-in" in listed
    assert "Subject: [#123] We have received your message: Invoice sent to old address" in listed
    target = tmp_path / "mine"
    run(cli, "mail", "templates", "--copy", str(target))
    assert sorted(p.name for p in target.iterdir()) == [
        "acknowledge.txt",
        "feedback_request.txt",
        "resolve.txt",
        "update.txt",
    ]
    (target / "update.txt").write_text("Subject: Edited\n\nMine\n", encoding="utf-8")
    again = run(cli, "mail", "templates", "--copy", str(target))
    assert "kept" in again.stderr
    assert (target / "update.txt").read_text(encoding="utf-8") == "Subject: Edited\n\nMine\n"


def test_customer_mail_needs_an_address_to_come_from(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(policy_text(email_from="") + ALL_MAIL, encoding="utf-8")
    checked = run(cli, "policy", "check", str(path))
    assert "notify.email_from is empty" in checked.output
    run(cli, "policy", "set", str(path), now=BEFORE)
    run(cli, "mail-in", input=(FIXTURES / "plain.eml").read_bytes())
    acked = run(cli, "ack", "1")
    assert "no acknowledge mail for #1: set notify.email_from" in acked.stderr
    assert "customer-mail" not in [entry["event"] for entry in ticket(cli, 1)["history"]]
