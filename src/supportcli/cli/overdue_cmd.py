"""``overdue`` (the breached list, and with ``--notify`` the cron run) and ``notify`` (the outbox)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli import complete
from supportcli.cli.context import AppContext
from supportcli.cli.output_options import Limit, Listing, output_options
from supportcli.errors import ExitStatus
from supportcli.render.output import SUBJECT_MIN_WIDTH, Column, Format

if TYPE_CHECKING:
    from sqlmodel import Session

    from supportcli.core.calendar import WorkingCalendar
    from supportcli.core.policy import Policy

# What `overdue --csv` writes: the JSON fields, with the tier's name beside its number as in ticket listings.
CSV_FIELDS = ("id", "subject", "owner", "tier", "tier_name", "target", "due_at", "overdue_working_minutes")

notify_app = typer.Typer(
    help="The outbox of notices: what was sent, what failed, a test message.", no_args_is_help=True
)


def overdue_records(
    session: Session, now: datetime, owners: list[str], orgs: list[str], targets: list[str], shown: bool = True
) -> list[dict[str, Any]]:
    """Breached pending targets of open tickets, worst first, from the stored due times (an index scan).

    One joined query of the columns shown (plain rows, not ORM objects, due times in epoch seconds); the
    countdowns are differences of working-time positions, with the position of now computed once per
    calendar (``CountdownClock``). Each record holds the fields of ``overdue --json`` (README, docs/json.md),
    and when ``shown`` (tables, plain rows, CSV) the ``tier_name`` and the calendar's ``day_length`` too;
    without ``shown`` the due time is already the text JSON writes (made once per due time, as plain
    listings make theirs).
    """
    from supportcli.store.queries import breached_rows

    versions = _VersionsShown(session, now, as_text=not shown)
    # Worst first, then by ticket: each record beside its sort key, (the rank of its lateness, ticket id, row
    # number), the rank made once per due time (``_VersionShown.late``); the row number keeps the query's order
    # among equals and spares comparing records. One tuple a row, no key function called per row.
    keyed: list[tuple[float, int, int, dict[str, Any]]] = []
    append = keyed.append
    current: int | None = None
    version_shown: _VersionShown | None = None
    for number, (ticket_id, subject, owner, tier, version, target, due_epoch) in enumerate(
        breached_rows(session, now, owners, orgs, targets)
    ):
        if version_shown is None or version != current:  # a store mostly has one version: kept at hand
            current, version_shown = version, versions.get(version)
        late = version_shown.lateness.get(due_epoch) or version_shown.late(due_epoch)
        record = {
            "id": ticket_id,
            "subject": subject,
            "owner": owner,
            "tier": tier,
            "target": target,
            "due_at": late[0],
            "overdue_working_minutes": late[1],
        }
        if shown:
            record["tier_name"] = version_shown.tier_name(tier)
            record["day_length"] = version_shown.day_length
        append((late[2], ticket_id, number, record))
    keyed.sort()
    return [entry[3] for entry in keyed]


class _VersionShown:
    """What ``overdue`` shows of the due times and tiers of one policy version, each worked out once.

    A backlog's due times are mostly closing times, so thousands of breaches share a few hundred of them; the
    tiers are a handful.
    """

    def __init__(self, policy: Policy, calendar: WorkingCalendar, now: datetime, as_text: bool = False) -> None:
        from supportcli.core.countdown import CountdownClock

        self.tiers, self.calendar, self.as_text = policy.tiers, calendar, as_text
        self.day_length = calendar.day_length_seconds
        self.clock = CountdownClock(calendar, now)
        # By due time: (the local due time, or with ``as_text`` its JSON text; the working minutes late; the
        # rank ``overdue_records`` sorts by).
        self.lateness: dict[int, tuple[datetime | str, int | None, float]] = {}
        self._tier_names: dict[int, str] = {}

    def late(self, due_epoch: int) -> tuple[datetime | str, int | None, float]:
        """The local due time, the working minutes since (None: beyond the calendar's span) and its rank in
        the list (the latest first; a lateness that cannot be counted is of a due time before the calendar's
        span: the oldest, first of all), remembered."""
        left = self.clock.remaining_minutes(due_epoch)
        due: datetime | str = self.calendar.to_local(due_epoch)
        if self.as_text:
            from supportcli.render.output import json_default

            due = json_default(due)
        rank = -math.inf if left is None else left  # left is negative: the latest has the lowest
        found = self.lateness[due_epoch] = (due, None if left is None else -left, rank)
        return found

    def tier_name(self, tier: int) -> str:
        """The tier's name in this version's policy."""
        found = self._tier_names.get(tier)
        if found is None:
            from supportcli.core.tickets import tier_name

            found = self._tier_names[tier] = tier_name(self.tiers, tier)
        return found


class _VersionsShown:
    """``_VersionShown`` for each policy version met, from the store's ``PolicyBook``."""

    def __init__(self, session: Session, now: datetime, as_text: bool = False) -> None:
        from supportcli.store.policies import PolicyBook

        self.book, self.now, self.as_text = PolicyBook(session, now.year), now, as_text
        self._found: dict[int, _VersionShown] = {}

    def get(self, version: int) -> _VersionShown:
        found = self._found.get(version)
        if found is None:
            found = self._found[version] = _VersionShown(*self.book.get(version), self.now, self.as_text)
        return found


@output_options(tabular=True, limit=Limit(help="At most this many, the worst first."))
def overdue(
    ctx: typer.Context,
    notify: Annotated[
        bool, typer.Option("--notify", help="Run the automation and send notices (the cron job).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --notify: show what would happen, change nothing.")
    ] = False,
    exit_status: Annotated[bool, typer.Option("--exit-status", help="Exit 8 when anything is overdue.")] = False,
    owner: Annotated[
        list[str] | None,
        typer.Option("--owner", "-o", help="Only these owners; repeatable.", autocompletion=complete.staff_names),
    ] = None,
    org: Annotated[list[str] | None, typer.Option("--org", help="Only these organisations; repeatable.")] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="Only these targets (e.g. resolve); repeatable.",
            autocompletion=complete.fixed(complete.targets),
        ),
    ] = None,
    *,
    listing: Listing,
) -> None:
    """List breached targets of open tickets, worst first; with --notify, escalate, close and send notices.

    Plain `overdue` only reads. `overdue --notify` is safe to run every minute from cron, from several
    machines at once: each breach, escalation and auto-close happens once and each notice is sent once.

    Examples:

      supportcli overdue

      supportcli overdue --owner priya --json

      supportcli overdue --limit 10

      */5 * * * *  supportcli overdue --notify          # crontab

      supportcli overdue --notify --dry-run
    """
    from supportcli.core.countdown import countdown_text

    obj: AppContext = ctx.obj
    if target:
        from supportcli.core.targets import TARGET_NAMES
        from supportcli.core.tickets import check_choice

        target = [check_choice(name, TARGET_NAMES, "target") for name in target]
    if dry_run and not notify:
        from supportcli.errors import InvalidInput

        raise InvalidInput("--dry-run goes with --notify")
    if notify:
        _cron_run(obj, dry_run)
        return
    now = obj.now()
    fmt = listing.format(obj.output)
    with obj.store().read() as session:
        records = overdue_records(session, now, owner or [], org or [], target or [], shown=not fmt.writes_records)
    breached = bool(records)  # --exit-status counts every breach, not only those shown
    records = records[: listing.limit]
    if fmt.writes_records:
        obj.output.records(fmt, records)
    else:
        for record in records:
            record["overdue"] = countdown_text(record["overdue_working_minutes"], record["day_length"])
        columns = [  # on a narrow terminal the tier goes first, then the due time
            Column("ID", "id", justify="right", human=lambda v: f"#{v}"),
            Column("Subject", "subject", wrap=True, min_width=SUBJECT_MIN_WIDTH),
            Column("Owner", "owner"),
            Column("Tier", "tier_name", drop_order=1),
            Column("Target", "target"),
            Column("Due", "due_at", drop_order=2),
            Column("Overdue", "overdue", justify="right"),
        ]
        if fmt is Format.CSV:
            columns = [Column(key, key) for key in CSV_FIELDS]
        obj.output.listing(columns, records, fmt, row_style=lambda _: "red", capped=listing.limit is None)
    if exit_status and breached:
        raise typer.Exit(int(ExitStatus.OVERDUE))


def _cron_run(obj: AppContext, dry_run: bool) -> None:
    """Automation in one transaction, then delivery outside it; a short summary for cron's mail."""
    from supportcli.notify import messages
    from supportcli.notify.settings import smtp_settings
    from supportcli.store.automation import Channels, run_automation
    from supportcli.store.outbox import pending_count

    now = obj.now()
    store = obj.store()
    smtp = smtp_settings(obj.config, obj.env)
    policy = obj.policy_at(now)[1]
    sender = policy.notify.email_from or "supportcli@localhost"
    channels = Channels(email=smtp is not None, sender=sender, domain=sender.rpartition("@")[2] or "localhost")
    if dry_run:
        with store.write() as session:
            waiting = pending_count(session)
            summary = run_automation(session, now, channels)
            session.rollback()
        _print_summary(obj, messages.dry_run_summary(summary, waiting), messages.skipped_tickets(summary))
        return
    summary = store.run_write(lambda session: run_automation(session, now, channels))
    from supportcli.notify.delivery import deliver

    report = deliver(store, now, smtp, sender)
    with store.read() as session:
        waiting = pending_count(session)
    _print_summary(
        obj,
        messages.run_summary(summary, report, waiting, smtp is not None),
        messages.skipped_tickets(summary) + messages.delivery_failures(report),
    )


def _print_summary(obj: AppContext, lines: list[str], failures: list[str]) -> None:
    """The summary on stdout, for cron to mail; each ticket skipped and each notice that failed, on stderr."""
    for line in lines:
        obj.output.line(line)
    for failure in failures:
        obj.output.message(failure)


@notify_app.command("log")
@output_options(limit=Limit(50, "At most this many (newest first)."))
def notify_log(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            help="pending, sent or dead; repeatable.",
            autocompletion=complete.fixed(("pending", "sent", "dead")),
        ),
    ] = None,
    *,
    listing: Listing,
) -> None:
    """List notices, newest first: what was sent, what waits, what failed for good.

    Examples:

      supportcli notify log

      supportcli notify log --status dead
    """
    from supportcli.core.tickets import check_choice
    from supportcli.store.outbox import notices

    obj: AppContext = ctx.obj
    statuses = [check_choice(s, ("pending", "sent", "dead"), "notice status") for s in status or []]
    zone = obj.calendar(obj.newest_policy()).zone
    with obj.store().read() as session:
        rows = notices(session, statuses, listing.limit)
    records = [
        {
            "id": row.id,
            "ticket": row.ticket_id,
            "event": row.event,
            "target": row.target,
            "channel": row.channel,
            "recipient": row.recipient,
            "status": row.status,
            "attempts": row.attempts,
            "created_at": row.created_at.astimezone(zone),
            "sent_at": row.sent_at.astimezone(zone) if row.sent_at else None,
            "next_attempt_at": row.next_attempt_at.astimezone(zone) if row.status == "pending" else None,
            "error": row.last_error,
            "message_id": row.message_id,
        }
        for row in rows
    ]
    columns = [
        Column("ID", "id", justify="right"),
        Column("Ticket", "ticket", human=lambda v: f"#{v}" if v else ""),
        Column("Event", "event"),
        Column("To", "recipient", wrap=True),
        Column("Status", "status"),
        Column("Tries", "attempts", justify="right"),
        Column("Error", "error", wrap=True),
    ]
    obj.output.listing(columns, records, listing.format(obj.output))


@notify_app.command("retry")
def notify_retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="[ID]...", help="Dead notices to retry (default: all).")
    ] = None,
) -> None:
    """Queue dead notices again (after fixing an address or the webhook); the next cron run sends them.

    Example: supportcli notify retry 12 13
    """
    from supportcli.store.outbox import retry

    obj: AppContext = ctx.obj
    now = obj.now()
    count = obj.store().run_write(lambda session: retry(session, ids or [], now))
    obj.output.message(f"{count} notice(s) queued again")


@notify_app.command("test")
def notify_test(
    ctx: typer.Context,
    to: Annotated[
        str | None, typer.Option("--to", metavar="EMAIL", help="Recipient (default: the policy's team_email).")
    ] = None,
) -> None:
    """Send a test e-mail (and a test webhook event when one is configured) right now.

    Example: supportcli notify test --to me@example.com
    """
    from supportcli.errors import InvalidInput
    from supportcli.notify import messages
    from supportcli.notify.senders import SendFailed, build_email, post_webhook, send_email
    from supportcli.notify.settings import smtp_settings

    obj: AppContext = ctx.obj
    now = obj.now()
    policy = obj.policy_at(now)[1]
    smtp = smtp_settings(obj.config, obj.env)
    recipient = to or policy.notify.team_email
    webhook = policy.notify.webhook_url
    if smtp is None and not webhook:
        raise InvalidInput("nothing to test: set [smtp] in config.toml (or SUPPORTCLI_SMTP_HOST) or notify.webhook_url")
    sender = policy.notify.email_from or "supportcli@localhost"
    try:
        if smtp is not None:
            if not recipient:
                raise InvalidInput("no recipient: give --to EMAIL or set notify.team_email in the policy")
            import uuid

            message_id = f"<test-{uuid.uuid4().hex}@{sender.rpartition('@')[2] or 'localhost'}>"
            body = messages.notify_test_body(now, obj.actor)
            send_email(smtp, build_email(sender, recipient, messages.NOTIFY_TEST_SUBJECT, body, message_id))
            obj.output.message(f"test e-mail accepted by {smtp.describe()} for {recipient}")
        if webhook:
            post_webhook(webhook, messages.notify_test_payload(now), f"test-{now.timestamp():.0f}")
            obj.output.message(f"test event accepted by {webhook}")
    except SendFailed as failure:
        from supportcli.errors import SupportcliError

        raise SupportcliError(f"test failed: {failure}") from failure
