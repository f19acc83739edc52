"""The root Typer app: global options, error mapping, and the command groups."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from supportcli import __version__
from supportcli.cli.context import AppContext
from supportcli.errors import ExitStatus, SupportcliError


class SupportcliGroup(TyperGroup):
    """Maps every error to one line on stderr and an exit code (SPEC §5), in one place."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:
            if _is_one_line_usage_error(exc):
                _usage_error_line(exc)
            raise

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
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


def _is_one_line_usage_error(exc: Exception) -> bool:
    """A usage mistake to report in one line (not a bare group, which shows its help instead)."""
    return _is_usage_error(exc) and hasattr(exc, "format_message") and type(exc).__name__ != "NoArgsIsHelpError"


def _usage_error_line(exc: Exception) -> None:
    """A usage mistake as one line naming the command's help, like every other error (SPEC §5)."""
    command = getattr(getattr(exc, "ctx", None), "command_path", None) or "supportcli"
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    typer.echo(f"supportcli: error: {message} (see: {command} --help)", err=True)
    raise typer.Exit(int(ExitStatus.INVALID_INPUT)) from exc


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _is_usage_error(exc: Exception) -> bool:
    return type(exc).__module__.startswith("typer._click")


def _is_debug(ctx: typer.Context) -> bool:
    return isinstance(ctx.obj, AppContext) and ctx.obj.debug


def _debug_traceback(ctx: typer.Context) -> None:
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
    if not isinstance(ctx.obj, AppContext):
        ctx.obj = AppContext()
    ctx.obj.db_option = db or ctx.obj.db_option
    ctx.obj.actor_option = actor or ctx.obj.actor_option
    ctx.obj.debug = debug or ctx.obj.debug


def _register() -> None:
    from supportcli.cli import (
        calendar_cmd,
        config_cmd,
        db_cmd,
        overdue_cmd,
        policy_cmd,
        privacy_cmd,
        report_cmd,
        staff_cmd,
        tickets_cmd,
        transfer_cmd,
        views,
    )

    views.register(app)
    tickets_cmd.register(app)
    app.command("overdue")(overdue_cmd.overdue)
    app.add_typer(overdue_cmd.notify_app, name="notify")
    app.add_typer(policy_cmd.app, name="policy")
    app.add_typer(calendar_cmd.app, name="calendar")
    app.add_typer(staff_cmd.app, name="staff")
    app.command("purge")(privacy_cmd.purge)
    app.command("redact")(privacy_cmd.redact)
    app.command("report")(report_cmd.report)
    app.command("export")(transfer_cmd.export)
    app.command("import")(transfer_cmd.import_)
    app.add_typer(db_cmd.app, name="db")
    app.add_typer(config_cmd.app, name="config")


_register()


def main() -> int:
    """Console-script entry point."""
    try:
        app(prog_name="supportcli")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
