"""Data protection commands: ``purge`` (retention) and ``redact`` (contact details out of one ticket)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli.common import TicketId, acting, write
from supportcli.cli.context import AppContext
from supportcli.cli.output_options import Listing, output_options
from supportcli.render.output import Column, Format

if TYPE_CHECKING:
    from datetime import datetime

    from supportcli.store.privacy import PurgePlan, RedactionPlan

DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would be removed; change nothing.")]


@output_options(tabular=True)
def purge(
    ctx: typer.Context,
    dry_run: DryRun = False,
    log: Annotated[bool, typer.Option("--log", help="List past purges instead of purging.")] = False,
    *,
    listing: Listing,
) -> None:
    """Anonymise tickets resolved longer ago than the policy's retention.resolved_for.

    The policy in effect now decides (data protection follows today's rules, not
    the version a ticket was logged under). A ticket counts from its resolution,
    or from its closing when it was closed unresolved. Customer name, e-mail and
    phone, subject, body, watchers, history texts, feedback comments, notices and
    the mail log's record of its mail (and of refused mail that old) are removed;
    ids, kinds, channels, dates, due and met times and ratings stay for reports. Each
    ticket gets a "purged" history event and each run a purge log entry; running
    it again changes nothing. Lists the tickets purged.

    Examples:

      supportcli purge --dry-run

      supportcli purge                 # e.g. nightly from cron

      supportcli purge --log --json
    """
    from supportcli.errors import InvalidInput

    obj: AppContext = ctx.obj
    if log:
        if dry_run:
            raise InvalidInput("--log lists past purges; it cannot be combined with --dry-run")
        _show_purge_log(obj, listing.format(obj.output))
        return
    actor = acting(obj, None)
    if dry_run:
        from supportcli.store.privacy import plan_purge

        with obj.store().read() as session:
            plan = plan_purge(session, actor.at)
    else:
        from supportcli.store.privacy import checkpoint
        from supportcli.store.privacy import purge as purge_tickets

        plan = write(obj, lambda session: purge_tickets(session, actor))
        if (plan.tickets or plan.unticketed) and not checkpoint(obj.store()):
            obj.output.message(
                "warning: another process is reading the store; old copies of the purged data stay in "
                "its write-ahead log until the next checkpoint (run purge again later)"
            )
    _report_purge(obj, plan, dry_run, listing.format(obj.output))


def _report_purge(obj: AppContext, plan: PurgePlan, dry_run: bool, fmt: Format) -> None:
    from supportcli.store.privacy import finished_at

    zone = _zone(obj)
    records = [
        {
            "id": ticket.id,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "status": ticket.status,
            "resolved_at": _local(finished_at(ticket), zone),
        }
        for ticket in plan.tickets
    ]
    columns = [
        Column("ID", "id", justify="right", human=lambda v: f"#{v}"),
        Column("Kind", "kind"),
        Column("Channel", "channel"),
        Column("Status", "status"),
        Column("Resolved", "resolved_at"),
    ]
    obj.output.listing(columns, records, fmt)
    if plan.retention is None:
        obj.output.message(f"policy version {plan.policy_version} sets no retention.resolved_for: nothing to purge")
        return
    before = _local(plan.resolved_before, zone)
    verb = "would purge" if dry_run else "purged"
    obj.output.message(
        f"{verb} {len(plan.tickets)} ticket(s) resolved before {before:%Y-%m-%d %H:%M %Z} "
        f"(retention {plan.retention}, policy version {plan.policy_version})"
    )
    if plan.unticketed:
        obj.output.message(f"{verb} the mail log's record of {len(plan.unticketed)} refused message(s) from then")


def _show_purge_log(obj: AppContext, fmt: Format) -> None:
    from supportcli.store.privacy import purge_log

    zone = _zone(obj)
    with obj.store().read() as session:
        rows = purge_log(session)
    records = [
        {
            "id": row.id,
            "at": _local(row.at, zone),
            "actor": row.actor,
            "ticket_count": row.ticket_count,
            "retention": row.retention,
            "ticket_ids": [int(item) for item in row.ticket_ids.split(",") if item],
        }
        for row in rows
    ]
    columns = [
        Column("Run", "id", justify="right"),
        Column("At", "at"),
        Column("By", "actor"),
        Column("Tickets", "ticket_count", justify="right"),
        Column("Retention", "retention"),
        Column("IDs", "ticket_ids", wrap=True),
    ]
    obj.output.listing(columns, records, fmt)


@output_options()
def redact(ctx: typer.Context, ticket_id: TicketId, dry_run: DryRun = False, *, listing: Listing) -> None:
    """Remove e-mail addresses and phone numbers from one ticket.

    Covers the customer e-mail and phone fields, watchers, subject, body, every
    history text, the ticket's notices and the mail log's record of its mail.
    Phone numbers are found by libphonenumber: the national forms of the
    calendar's country, North-American ones and every international form;
    dates, times, ticket numbers and amounts are left alone.
    Each is replaced by "[email removed]" or "[phone removed]", and a
    "redacted" history event records how many went (never the values). Lists
    what goes, partly masked (a***@example.com).

    Examples:

      supportcli redact 12 --dry-run

      supportcli redact 12
    """
    obj: AppContext = ctx.obj
    if dry_run:
        from supportcli.store.privacy import plan_redaction

        with obj.store().read() as session:
            plan = plan_redaction(session, ticket_id)
    else:
        from supportcli.store.privacy import checkpoint, redact_ticket

        actor = acting(obj, None)
        plan = write(obj, lambda session: redact_ticket(session, ticket_id, actor))
        if plan.removals and not checkpoint(obj.store()):
            obj.output.message("warning: another process is reading the store; the write-ahead log is cleared later")
    _report_redaction(obj, plan, dry_run, listing.format(obj.output))


def _report_redaction(obj: AppContext, plan: RedactionPlan, dry_run: bool, fmt: Format) -> None:
    records: list[dict[str, Any]] = [
        {"place": removal.place, "kind": removal.finding.kind, "masked": removal.finding.masked}
        for removal in plan.removals
    ]
    columns = [Column("Where", "place"), Column("What", "kind"), Column("Value", "masked")]
    obj.output.listing(columns, records, fmt)
    ticket_id = plan.ticket.id
    if not plan.removals:
        obj.output.message(f"#{ticket_id}: no e-mail address or phone number to remove")
    elif dry_run:
        obj.output.message(f"#{ticket_id}: would remove {plan.summary()}")
    else:
        obj.output.message(f"#{ticket_id}: removed {plan.summary()}")


def _zone(obj: AppContext) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(obj.newest_policy().calendar.timezone)


def _local(value: datetime | None, zone: Any) -> datetime | None:
    return value.astimezone(zone) if value is not None else None
