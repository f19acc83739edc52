"""The e-mail gateway (README "E-mail in and out"): ``mail-in`` reads messages, ``mail log`` shows what became of them, ``watch``.

``mail-in`` is what a mail server runs for each message (a Postfix alias
``support: "|supportcli mail-in"``), so it speaks the mail server's language:
exit 0 once a message is safely recorded (as a ticket, a reply or a logged
refusal) and exit 75 (EX_TEMPFAIL) when it could not be, so the server keeps
the message and tries again later. Nothing is ever half-recorded.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supportcli.cli import complete
from supportcli.cli.common import TicketId, acting, write
from supportcli.cli.context import AppContext
from supportcli.cli.output_options import JsonOption, Limit, Listing, output_options
from supportcli.core.tickets import KINDS, PRIORITIES, check_choice
from supportcli.render.output import Column

if TYPE_CHECKING:
    from supportcli.store.mail_gateway import GatewaySettings, Outcome

app = typer.Typer(no_args_is_help=True, help="Inbound mail: what became of each message, and the customer templates.")

OUTCOMES = ("ticket", "reply", "refused")
MAX_MESSAGE_BYTES = 50_000_000  # a message larger than this is refused unread (mail servers cap far lower)


class _Source:
    """One message to read: its bytes, a name for messages, and what to do once it is safely recorded."""

    def __init__(self, name: str, raw: bytes, done: Path | None = None) -> None:
        self.name, self.raw, self.done = name, raw, done

    def finish(self) -> bool:
        """A maildir message moves from new/ to cur/ (flag S, seen) only after its commit.

        False when it is no longer in new/: another ``mail-in`` run over the same maildir took it.
        """
        if self.done is None:
            return True
        info = "" if ":2," in self.done.name else ":2,S"
        try:
            self.done.replace(self.done.parent.parent / "cur" / f"{self.done.name}{info}")
        except FileNotFoundError:
            return False
        return True


def mail_in(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE", help="Message files (.eml); '-' or none reads one message from stdin."),
    ] = None,
    maildir: Annotated[
        Path | None,
        typer.Option(
            "--maildir", metavar="DIR", help="Read every message in DIR/new, moving each to DIR/cur once done."
        ),
    ] = None,
    mbox: Annotated[
        Path | None,
        typer.Option("--mbox", metavar="FILE", help="Read every message of an mbox file (left as it is)."),
    ] = None,
    kind: Annotated[str, complete.choice_option("--kind", "-k", values=KINDS, help="Kind of new tickets:")] = "enquiry",
    priority: Annotated[
        str, complete.choice_option("--priority", "-p", values=PRIORITIES, help="Priority of new tickets:")
    ] = "normal",
    address: Annotated[
        list[str] | None,
        typer.Option(
            "--address",
            metavar="EMAIL",
            help="Another address of ours (mail from it is a loop); notify.email_from and team_email always are.",
        ),
    ] = None,
    max_per_hour: Annotated[
        int, typer.Option("--max-per-hour", min=1, help="Refuse a sender's messages beyond this many an hour.")
    ] = 20,
    json_output: JsonOption = False,
) -> None:
    """Turn e-mail into tickets: a new message logs a ticket, a reply lands on its ticket.

    A reply is recognised by the [#ID] tag in its subject or by In-Reply-To/References naming a
    mail we sent. Auto-replies, bounces, mailing lists, our own address and senders over the
    limit are refused and logged (see: supportcli mail log). The same Message-ID twice is
    recorded once. Exit 2 means input was rejected as unreadable (logged); exit 75 means the
    store was unavailable: the mail server retries later.

    Examples:

      /etc/aliases:  support: "|/usr/local/bin/supportcli mail-in"

      supportcli mail-in < message.eml

      supportcli mail-in --maildir ~/Maildir --kind complaint
    """
    from supportcli.errors import InvalidInput
    from supportcli.store.mail_gateway import GatewaySettings

    obj: AppContext = ctx.obj
    given = [bool(files), maildir is not None, mbox is not None]
    if sum(given) > 1:
        raise InvalidInput("give message FILEs, --maildir or --mbox, not more than one of them")
    settings = GatewaySettings(
        own_addresses=tuple(address or ()),
        max_per_hour=max_per_hour,
        kind=check_choice(kind, KINDS, "kind"),
        priority=check_choice(priority, PRIORITIES, "priority"),
        default_owner=obj.config.get("default_owner") if isinstance(obj.config.get("default_owner"), str) else None,
    )
    if maildir is not None:
        sources = _maildir(maildir)
    elif mbox is not None:
        sources = _mbox(mbox)
    else:
        sources = _files(files or [Path("-")])
    handled = _receive_all(obj, sources, settings)
    if json_output:
        obj.output.json([_outcome_record(outcome) for _, outcome in handled])
    rejected = [(name, outcome) for name, outcome in handled if outcome.rejected]
    if len(rejected) == 1:
        [(name, outcome)] = rejected
        where = "" if name == "stdin" else f" ({name})"
        raise InvalidInput(f"mail rejected{where}: {outcome.reason}; logged, see: supportcli mail log --refused")
    if rejected:
        for name, outcome in rejected:
            obj.output.message(f"rejected {name}: {outcome.reason}")
        raise InvalidInput(
            f"{len(rejected)} messages rejected as unreadable; logged, see: supportcli mail log --refused"
        )


def _receive_all(obj: AppContext, sources: Iterator[_Source], settings: GatewaySettings) -> list[tuple[str, Outcome]]:
    """Record each message in its own transaction; stop with exit 75 at the first that cannot be recorded.

    Returns each message's name with its outcome. Rejected (unreadable) messages are reported
    by the caller, in the one error line of exit 2.
    """
    from supportcli.errors import TemporaryFailure

    outcomes: list[tuple[str, Outcome]] = []
    try:
        settings = _with_policy_addresses(obj, settings)
        for source in sources:
            outcome = _receive_one(obj, source, settings)
            if not source.finish() and outcome.outcome == "duplicate":
                continue  # another run recorded it and moved it on: it is that run's to report
            outcomes.append((source.name, outcome))
            if not outcome.rejected:
                obj.output.message(outcome.describe())
    except TemporaryFailure:
        raise
    except Exception as exc:
        from supportcli.errors import InvalidInput, SupportcliError

        if isinstance(exc, InvalidInput) and not outcomes:
            raise  # a usage mistake (no such file, not a maildir): say so, exit 2
        done = f" after {len(outcomes)} message(s)" if outcomes else ""
        reason = str(exc).splitlines()[0] if isinstance(exc, SupportcliError) else f"{type(exc).__name__}: {exc}"
        raise TemporaryFailure(f"mail not recorded{done}: {reason}; it is kept, so try again later") from exc
    return outcomes


def _with_policy_addresses(obj: AppContext, settings: GatewaySettings) -> GatewaySettings:
    from dataclasses import replace

    policy = obj.policy_at(obj.now())[1]
    ours = [policy.notify.email_from, policy.notify.team_email]
    return replace(settings, own_addresses=(*settings.own_addresses, *(a for a in ours if a)))


def _receive_one(obj: AppContext, source: _Source, settings: GatewaySettings) -> Outcome:
    from supportcli.core.mail import parse_message
    from supportcli.errors import InvalidInput, StoreUnavailable
    from supportcli.store.mail_gateway import receive, refuse_unreadable

    store = obj.store()
    now = obj.now()
    raw = source.raw
    if len(raw) > MAX_MESSAGE_BYTES:
        reason = f"message too large ({len(raw):,} bytes; limit {MAX_MESSAGE_BYTES:,})"
        return store.run_write(lambda session: refuse_unreadable(session, raw, reason, now))
    try:
        mail = parse_message(raw, now)
    except InvalidInput as exc:
        unreadable = str(exc)
        return store.run_write(lambda session: refuse_unreadable(session, raw, unreadable, now))
    try:
        return store.run_write(lambda session: receive(session, mail, raw, settings, now))
    except StoreUnavailable:
        raise
    except InvalidInput as exc:
        # The store would not take something in the message: keep a record instead of bouncing it forever.
        reason = f"could not be stored: {exc}"
        return store.run_write(lambda session: refuse_unreadable(session, raw, reason, now))


def _files(paths: list[Path]) -> Iterator[_Source]:
    from supportcli.errors import InvalidInput

    for path in paths:
        if str(path) == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None or sys.stdin.isatty():
                raise InvalidInput("mail-in reads a message from stdin: pipe one in, or give FILE, --maildir or --mbox")
            yield _Source("stdin", stream.read())
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
        yield _Source(str(path), raw)


def _maildir(directory: Path) -> Iterator[_Source]:
    """The messages waiting in a maildir's new/, oldest first (names start with the delivery time)."""
    from supportcli.errors import InvalidInput

    new = directory / "new"
    if not all((directory / sub).is_dir() for sub in ("new", "cur", "tmp")):
        raise InvalidInput(f"{directory} is not a maildir (it needs new/, cur/ and tmp/)")
    for entry in sorted(new.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        try:
            raw = entry.read_bytes()
        except FileNotFoundError:
            continue  # another mail-in run took it
        yield _Source(str(entry), raw, done=entry)


def _mbox(path: Path) -> Iterator[_Source]:
    """Every message of an mbox file; running it again is safe, as each Message-ID is recorded once."""
    import mailbox

    from supportcli.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput(f"no mbox file {path}")
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield _Source(f"{path}#{key}", box.get_bytes(key))
    finally:
        box.close()


def _outcome_record(outcome: Outcome) -> dict[str, object]:
    return {
        "outcome": outcome.outcome,
        "ticket": outcome.ticket_id,
        "from": outcome.from_address,
        "subject": outcome.subject,
        "reason": outcome.reason,
        "message_id": outcome.message_key,
    }


@app.command("log")
@output_options(tabular=True, limit=Limit(50, "At most this many (newest first)."))
def mail_log(
    ctx: typer.Context,
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            "--outcome",
            "-o",
            help="ticket, reply or refused; repeatable (default: all).",
            autocompletion=complete.fixed(OUTCOMES),
        ),
    ] = None,
    refused: Annotated[bool, typer.Option("--refused", help="Only refusals (same as --outcome refused).")] = False,
    *,
    listing: Listing,
) -> None:
    """What mail-in did with each message, newest first: new ticket, reply, or refused and why.

    Examples:

      supportcli mail log --refused

      supportcli mail log -n 200 --json
    """
    from supportcli.store.mail_gateway import mail_log as recorded

    obj: AppContext = ctx.obj
    wanted = [check_choice(o, OUTCOMES, "outcome") for o in outcome or []] + (["refused"] if refused else [])
    zone = obj.calendar(obj.newest_policy()).zone
    with obj.store().read() as session:
        rows = recorded(session, wanted, listing.limit)
    records = [
        {
            "at": row.at.astimezone(zone),
            "outcome": row.outcome,
            "ticket": row.ticket_id,
            "from": row.from_address,
            "subject": row.subject,
            "reason": row.reason,
            "message_id": row.message_key,
        }
        for row in rows
    ]
    columns = [
        Column("When", "at"),
        Column("From", "from", wrap=True),
        Column("Subject", "subject", wrap=True),
        Column("Outcome", "outcome"),
        Column("Ticket", "ticket", human=lambda v: f"#{v}" if v else ""),
        Column("Reason", "reason", wrap=True),
    ]
    obj.output.listing(columns, records, listing.format(obj.output))


@app.command("templates")
def mail_templates(
    ctx: typer.Context,
    copy_to: Annotated[
        Path | None,
        typer.Option(
            "--copy", metavar="DIR", help="Write the built-in templates into DIR to edit (keeps existing files)."
        ),
    ] = None,
) -> None:
    """List the customer mail templates in use, check that each renders, or copy the defaults to edit.

    Set [customer_mail] templates = "DIR" in the policy to use edited ones (a relative DIR is
    read from the config directory).

    Examples:

      supportcli mail templates

      supportcli mail templates --copy ~/.config/supportcli/mail
    """
    from supportcli.cli.customer_mail_out import template_dir
    from supportcli.core.customer_mail import TEMPLATE_FIELDS, TEMPLATE_NAMES, render, sample_fields, template_source

    obj: AppContext = ctx.obj
    if copy_to is not None:
        _copy_templates(obj, copy_to)
        return
    policy = obj.policy_at(obj.now())[1]
    directory = template_dir(obj, policy)
    flags = policy.customer_mail
    for name in TEMPLATE_NAMES:
        text, origin = template_source(name, directory)
        rendered = render(name, text, sample_fields(), origin)
        state = "sent" if getattr(flags, name) else "off"
        obj.output.line(f"{name:<17} {state:<4} {origin}")
        obj.output.line(f"{'':<22} Subject: {rendered.subject}")
    obj.output.line("")
    obj.output.line("Fields: " + ", ".join(f"${name}" for name in TEMPLATE_FIELDS))


def _copy_templates(obj: AppContext, target: Path) -> None:
    from supportcli.core.customer_mail import TEMPLATE_NAMES, template_source
    from supportcli.errors import InvalidInput

    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in TEMPLATE_NAMES:
            path = target / f"{name}.txt"
            if path.exists():
                obj.output.message(f"kept {path} (exists)")
                continue
            path.write_text(template_source(name, None)[0], encoding="utf-8")
            obj.output.message(f"wrote {path}")
    except OSError as exc:
        raise InvalidInput(f"cannot write templates to {target}: {exc.strerror or exc}") from exc


def watch(
    ctx: typer.Context,
    ticket_id: TicketId,
    addresses: Annotated[list[str], typer.Argument(metavar="EMAIL", help="Addresses to add (or remove).")],
    remove: Annotated[bool, typer.Option("--remove", help="Stop these addresses watching.")] = False,
) -> None:
    """Add watchers to a ticket: they receive its customer mail, like the customer (Cc on mail does this too).

    Examples:

      supportcli watch 12 finance@acme.example

      supportcli watch 12 finance@acme.example --remove
    """
    import re

    from supportcli.errors import InvalidInput
    from supportcli.store.mail_gateway import change_watchers

    obj: AppContext = ctx.obj
    for item in addresses:
        if not re.fullmatch(r"[^@\s,<>]+@[^@\s,<>]+", item.strip()):
            raise InvalidInput(f"not an e-mail address: {item!r}")
    actor = acting(obj, None)
    changed = write(obj, lambda session: change_watchers(session, ticket_id, actor, addresses, remove))
    verb = "no longer watching" if remove else "now watching"
    obj.output.message(f"#{ticket_id}: {', '.join(changed)} {verb}" if changed else f"#{ticket_id}: nothing to change")
