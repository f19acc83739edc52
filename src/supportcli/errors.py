"""Exit codes and the error types that map onto them (docs/exit-codes.md).

Every error a user can cause is one of these; the CLI turns it into one line
on stderr and the matching exit code, so no command has to repeat that work.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes, the public contract of docs/exit-codes.md."""

    SUCCESS = 0
    ERROR = 1
    INVALID_INPUT = 2
    NOT_FOUND = 3
    NOT_ALLOWED = 4
    STORE_UNAVAILABLE = 5
    OVERDUE = 8
    TEMPFAIL = 75
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports a command it interrupted


class SupportcliError(Exception):
    """Base class of errors with a one-line message and an exit status."""

    exit_status: ExitStatus = ExitStatus.ERROR


class InvalidInput(SupportcliError):
    """The user gave a value we cannot use (bad date, duration, option value, file)."""

    exit_status = ExitStatus.INVALID_INPUT


class NotFound(SupportcliError):
    """A ticket or staff member that does not exist."""

    exit_status = ExitStatus.NOT_FOUND


class NotAllowed(SupportcliError):
    """The action is not allowed in the ticket's current status."""

    exit_status = ExitStatus.NOT_ALLOWED


class StoreUnavailable(SupportcliError):
    """The store cannot be opened, read or written (locked, corrupt, foreign, newer)."""

    exit_status = ExitStatus.STORE_UNAVAILABLE


class TemporaryFailure(SupportcliError):
    """Work that must be tried again later: a mail server seeing exit 75 (EX_TEMPFAIL) retries delivery."""

    exit_status = ExitStatus.TEMPFAIL
