"""Customer mail for the daily commands: queue it with the change, try to send it right after the commit.

A failed send is not an error of the command (the change is committed and
the mail waits in the outbox); it is reported on stderr and the next cron
run retries it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supportcli.cli.context import AppContext

if TYPE_CHECKING:
    from supportcli.core.policy import Policy
    from supportcli.store.customer_mail import CustomerMailer

NoMail = Annotated[bool, typer.Option("--no-mail", help="Do not send the customer mail the policy would send.")]


def template_dir(obj: AppContext, policy: Policy) -> Path | None:
    """The team's template directory from the policy; a relative one is read from the config directory."""
    configured = policy.customer_mail.templates
    if not configured:
        return None
    path = Path(configured).expanduser()
    return path if path.is_absolute() else obj.environment.config_dir / path


def customer_mailer(obj: AppContext, no_mail: bool) -> CustomerMailer:
    """What customer mail this command may send, from the policy in force now and ``--no-mail``."""
    from supportcli.store.customer_mail import CustomerMailer

    policy = obj.policy_at(obj.now())[1]
    return CustomerMailer(policy=policy, templates=template_dir(obj, policy), enabled=not no_mail)


def send_customer_mail(obj: AppContext, mailer: CustomerMailer) -> None:
    """Deliver what the command queued, after its commit; what fails stays queued for the cron run."""
    for note in mailer.skipped:
        obj.output.message(note)
    if not mailer.queued:
        return
    from supportcli.notify.delivery import deliver
    from supportcli.notify.settings import smtp_settings

    smtp = smtp_settings(obj.config, obj.env)
    if smtp is None:
        obj.output.message(
            f"{len(mailer.queued)} customer mail(s) queued; no SMTP server is configured, so none was sent"
        )
        return
    report = deliver(obj.store(), obj.now(), smtp, mailer.sender, only=mailer.queued)
    if report.busy:
        obj.output.message(f"{len(mailer.queued)} customer mail(s) queued; the running cron delivery sends them")
        return
    if report.sent:
        obj.output.message(f"customer mail sent ({report.sent})")
    for error in report.errors:
        obj.output.message(f"customer mail not sent yet, the next cron run retries: {error}")
