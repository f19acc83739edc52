"""The root Typer app: global options, error mapping, and the command groups."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeGuard

import typer
from typer._click import Context

from supportcli import __version__
from supportcli.cli.environment import Environment, environment_of
from supportcli.cli.lazy import LazyCommand, LazyGroup
from supportcli.errors import ExitStatus, SupportcliError

if TYPE_CHECKING:
    from typer._click.exceptions import ClickException


class SupportcliGroup(LazyGroup):
    """Maps every error to one line on stderr and an exit code (README, "Exit codes"), in one place."""

    def lazy_commands(self) -> tuple[LazyCommand, ...]:
        return COMMANDS

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:
            if _is_one_line_usage_error(exc):
                _usage_error_line(exc)
            raise

    def invoke(self, ctx: Context) -> Any:
        from supportcli.cli.context import AppContext  # here, not at the top: `--help` never needs it

        try:
            result = super().invoke(ctx)
            if isinstance(ctx.obj, AppContext):
                ctx.obj.say_notes()
            return result
        except SupportcliError as exc:
            _debug_traceback(ctx)
            for line in _error_lines(exc):
                typer.echo(f"supportcli: error: {line}", err=True)
            raise typer.Exit(int(exc.exit_status)) from exc
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError as exc:
            # `supportcli list | head`: the reader has all it wants; not an error worth a message.
            _silence_stdout()
            raise typer.Exit(int(ExitStatus.SUCCESS)) from exc
        except Exception as exc:
            if _is_one_line_usage_error(exc) and not _is_debug(ctx):
                _usage_error_line(exc)
            if _is_debug(ctx) or _is_usage_error(exc):
                raise
            typer.echo(
                f"supportcli: unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True
            )
            raise typer.Exit(int(ExitStatus.ERROR)) from exc
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


def _is_one_line_usage_error(exc: Exception) -> TypeGuard[ClickException]:
    """A usage mistake to report in one line (not a bare group, which shows its help instead): Click's
    exceptions with a message are its ``ClickException``s."""
    return _is_usage_error(exc) and hasattr(exc, "format_message") and type(exc).__name__ != "NoArgsIsHelpError"


def _usage_error_line(exc: ClickException) -> None:
    """A usage mistake as one line naming the command's help, like every other error (README, "Exit codes")."""
    command = getattr(getattr(exc, "ctx", None), "command_path", None) or "supportcli"
    message = " ".join(exc.format_message().split())
    typer.echo(f"supportcli: error: {message} (see: {command} --help)", err=True)
    raise typer.Exit(int(ExitStatus.INVALID_INPUT)) from exc


def _silence_stdout() -> None:
    """Point stdout's file descriptor at /dev/null after its reader has gone, so that what is still
    buffered can be flushed at exit without a second BrokenPipeError (a stream without one: nothing to do)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _is_usage_error(exc: Exception) -> bool:
    return type(exc).__module__.startswith("typer._click")


def _is_debug(ctx: Context) -> bool:
    from supportcli.cli.context import AppContext

    return isinstance(ctx.obj, AppContext) and ctx.obj.debug


def _debug_traceback(ctx: Context) -> None:
    if _is_debug(ctx):
        import traceback

        traceback.print_exc(file=sys.stderr)


def _error_lines(exc: SupportcliError) -> list[str]:
    """A policy error lists each problem on its own line; every other error is one line."""
    problems = getattr(exc, "problems", None)
    if problems:
        head = str(exc).split(": ", 1)[0]
        return [f"{head}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"] + [
            f"{head}: {problem}" for problem in problems
        ]
    return [str(exc).splitlines()[0] if str(exc) else type(exc).__name__]


app = typer.Typer(
    cls=SupportcliGroup,
    name="supportcli",
    rich_markup_mode=None,  # help comes from supportcli.cli.help (see supportcli.cli.lazy)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"supportcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", metavar="PATH", help="SQLite store file or database URL (env: SUPPORTCLI_DB).", show_default=False
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--as", metavar="NAME", help="Act as this staff member (env: SUPPORTCLI_USER; default: login name)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Log, acknowledge, update, escalate and resolve support tickets against service levels in working time.

    Examples:

      supportcli log "Invoice sent to old address" --channel letter --received "yesterday 16:45"

      supportcli due

      supportcli calendar due "2026-11-27 16:45" 1wd

      supportcli overdue --notify          # from cron, every few minutes
    """
    from supportcli.cli.context import AppContext

    if not isinstance(ctx.obj, AppContext):
        ctx.obj = AppContext(environment_of(ctx.obj))
    ctx.obj.db_option = db or ctx.obj.db_option
    ctx.obj.actor_option = actor or ctx.obj.actor_option
    ctx.obj.debug = debug or ctx.obj.debug


# Every command: its name, where it lives ("module:attribute" in supportcli.cli; a command function
# or a typer.Typer group) and the one line `supportcli --help` shows. Modules are imported only
# when their command is used, so `--help` and Tab completion stay fast. To add a command, add a row;
# tests/cli/test_startup.py checks each line matches the command's docstring.
# fmt: off
COMMANDS = (
    LazyCommand("init", "views:init", "Create the store (optional: any command creates it on first use)."),
    LazyCommand("show", "views:show", "Show a ticket: every field, every target with due time and countdown, and its history."),
    LazyCommand("explain", "views:explain", "Explain how each due time was reached: clock start, rule, days counted, days skipped, pauses."),
    LazyCommand("list", "views:list_command", "List tickets, filtered."),
    LazyCommand("search", "search_cmd:search", "Search tickets: subject, body, updates, customer messages, customer, org, category and tags."),
    LazyCommand("due", "views:due", "Open tickets by next due time, with working-time countdowns (red: breached, yellow: due today)."),
    LazyCommand("log", "tickets_cmd:log", "Log a new ticket and compute its due times."),
    LazyCommand("ack", "tickets_cmd:ack", "Acknowledge receipt (meets the acknowledge target)."),
    LazyCommand("update", "tickets_cmd:update", "Add a progress update (customer-facing unless --internal)."),
    LazyCommand("assign", "tickets_cmd:assign", "Change the owner (the single point of contact)."),
    LazyCommand("escalate", "tickets_cmd:escalate", "Move a ticket up a tier (or to a named tier)."),
    LazyCommand("wait", "tickets_cmd:wait", "Waiting on the customer: the clocks pause."),
    LazyCommand("resume", "tickets_cmd:resume", "The customer replied: the clocks resume with the working time they had left."),
    LazyCommand("extend", "tickets_cmd:extend", "Record an expected completion beyond the target, with why."),
    LazyCommand("resolve", "tickets_cmd:resolve", "Resolve a ticket (meets every open target)."),
    LazyCommand("close", "tickets_cmd:close", "Close a resolved ticket (or one still waiting on the customer)."),
    LazyCommand("reopen", "tickets_cmd:reopen", "Reopen a resolved or closed ticket."),
    LazyCommand("edit", "edit_cmd:edit", "Correct or reclassify tickets: each change is recorded in history, old → new."),
    LazyCommand("feedback", "tickets_cmd:feedback", "Record the customer's satisfaction after resolution."),
    LazyCommand("overdue", "overdue_cmd:overdue", "List breached targets of open tickets, worst first; with --notify, escalate, close and send notices."),
    LazyCommand("purge", "privacy_cmd:purge", "Anonymise tickets resolved longer ago than the policy's retention.resolved_for."),
    LazyCommand("redact", "privacy_cmd:redact", "Remove e-mail addresses and phone numbers from one ticket."),
    LazyCommand("report", "report_cmd:report", "Report on tickets received in a period: volumes, service levels, working times, escalations, CSAT."),
    LazyCommand("export", "transfer_cmd:export", "Export tickets with their targets, history and feedback, the staff and the policy versions."),
    LazyCommand("import", "transfer_cmd:import_", "Import an export (JSON/NDJSON) exactly, or tickets from a spreadsheet or another helpdesk (CSV)."),
    LazyCommand("mail-in", "mail_cmd:mail_in", "Turn e-mail into tickets: a new message logs a ticket, a reply lands on its ticket."),
    LazyCommand("watch", "mail_cmd:watch", "Add watchers to a ticket: they receive its customer mail, like the customer (Cc on mail does this too)."),
    LazyCommand("notify", "overdue_cmd:notify_app", "The outbox of notices: what was sent, what failed, a test message."),
    LazyCommand("policy", "policy_cmd:app", "Show, check and set the team's policy (calendar, targets, automation)."),
    LazyCommand("calendar", "calendar_cmd:app", "Working days, opening hours and holidays; `calendar due` computes a due time."),
    LazyCommand("staff", "staff_cmd:app", "The staff directory: names, e-mails, tiers, and absences with a cover colleague."),
    LazyCommand("db", "db_cmd:app", "Check, back up and upgrade the store."),
    LazyCommand("config", "config_cmd:app", "Show the settings in force."),
    LazyCommand("mail", "mail_cmd:app", "Inbound mail: what became of each message, and the customer templates."),
)
# fmt: on


def main(args: Sequence[str] | None = None, env: Environment | None = None) -> ExitStatus:
    """Run supportcli on ``args`` (default: the command line) in ``env`` (default: this process's) and return
    the exit status: the console script passes it to ``sys.exit``, tests call ``main(args, env)`` directly.

    Piped output is buffered, so a reader that has gone (``supportcli list | head -1``) may only show at the
    final flush; it is done here, where a broken pipe is silenced (the Python docs' "Note on SIGPIPE"),
    rather than at interpreter exit, which would print "Exception ignored … BrokenPipeError" and exit 120.
    """
    env = env or Environment(whole_process=args is None)
    with env.as_standard_streams():
        try:
            # color: Click strips escape codes from what it echoes (help) unless told the run wants colour.
            app(args=None if args is None else list(args), prog_name="supportcli", obj=env, color=env.colour)
        except SystemExit as exc:
            status = _exit_status(exc.code)
        else:
            status = ExitStatus.SUCCESS
        try:
            env.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
    return status


def _exit_status(code: str | int | None) -> ExitStatus:
    """The ExitStatus of a ``SystemExit`` code (None is success; any other value an unexpected failure)."""
    if code is None:
        return ExitStatus.SUCCESS
    try:
        return ExitStatus(code) if isinstance(code, int) else ExitStatus.ERROR
    except ValueError:
        return ExitStatus.ERROR
