"""The surroundings of one run of supportcli, as one object that tests construct.

httpie's shape: ``main(args, env)`` takes an ``Environment`` holding the standard streams, whether
stdout is a terminal, whether to colour, the environment variables, the config, data and cache
directories and the clock. Commands reach it through ``AppContext`` and help screens through the
Click context, so a test passes a StringIO and a fixed clock instead of patching ``os.environ``,
``sys.stdout`` or the time.

Imported on every start (``--help`` and Tab completion too), so it uses the standard library only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

Clock = Callable[[], datetime]

DEFAULT_COLUMNS = 80


class Environment:
    """Streams, terminal, colour, variables, directories and clock of one run; each defaults to this process's.

    ``clock()`` may return a naive instant (a ``SUPPORTCLI_NOW`` without an offset): it is in the
    calendar's timezone, which only the policy knows, so ``AppContext.now`` applies it.

    ``whole_process`` says the run is all this process will do (the console script, not a test calling
    ``main``): what it has imported lives until it exits, so ``AppContext.store`` may take those objects out
    of the garbage collector's sight (``gc.freeze``) once the store is open.
    """

    def __init__(
        self,
        variables: Mapping[str, str] | None = None,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        stdout_isatty: bool | None = None,
        colour: bool | None = None,
        config_dir: Path | None = None,
        data_dir: Path | None = None,
        cache_dir: Path | None = None,
        clock: Clock | None = None,
        whole_process: bool = False,
    ) -> None:
        self.variables: Mapping[str, str] = dict(os.environ) if variables is None else variables
        self.stdin: TextIO = sys.stdin if stdin is None else stdin
        self.stdout: TextIO = sys.stdout if stdout is None else stdout
        self.stderr: TextIO = sys.stderr if stderr is None else stderr
        self.stdout_isatty = self._stdout_is_terminal() if stdout_isatty is None else stdout_isatty
        self.colour = self._colour_wanted() if colour is None else colour
        self._config_dir = config_dir
        self._data_dir = data_dir
        self._cache_dir = cache_dir
        self.clock: Clock = clock or self._clock_from_variables
        self.whole_process = whole_process

    def _stdout_is_terminal(self) -> bool:
        """``SUPPORTCLI_TERMINAL`` (``1`` forces a terminal, ``0`` or empty a pipe), else whether stdout is a tty."""
        forced = self.variables.get("SUPPORTCLI_TERMINAL")
        if forced is not None:
            return forced not in ("", "0")
        try:
            return bool(self.stdout.isatty())
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            return False

    def _colour_wanted(self) -> bool:
        """Colour only on a terminal, without NO_COLOR (https://no-color.org) and not on a dumb terminal."""
        return self.stdout_isatty and not self.variables.get("NO_COLOR") and self.variables.get("TERM") != "dumb"

    @property
    def columns(self) -> int:
        """The width output is laid out for: ``COLUMNS``, else the width of stdout's terminal, else 80."""
        text = self.variables.get("COLUMNS", "")
        if text.isdigit() and int(text) > 0:
            return int(text)
        try:
            return os.get_terminal_size(self.stdout.fileno()).columns or DEFAULT_COLUMNS
        except (AttributeError, OSError, ValueError):
            return DEFAULT_COLUMNS

    @property
    def config_dir(self) -> Path:
        """Where config.toml and the customer mail templates are (see supportcli.locations)."""
        if self._config_dir is None:
            from supportcli.locations import config_dir

            self._config_dir = config_dir(self.variables)
        return self._config_dir

    @property
    def data_dir(self) -> Path:
        """Where the default SQLite store lives (see supportcli.locations)."""
        if self._data_dir is None:
            from supportcli.locations import data_dir

            self._data_dir = data_dir(self.variables)
        return self._data_dir

    @property
    def cache_dir(self) -> Path:
        """Where precomputed working calendars are kept (see supportcli.locations)."""
        if self._cache_dir is None:
            from supportcli.locations import cache_dir

            self._cache_dir = cache_dir(self.variables)
        return self._cache_dir

    def _clock_from_variables(self) -> datetime:
        """``SUPPORTCLI_NOW`` when set (perhaps naive), else the system clock."""
        text = self.variables.get("SUPPORTCLI_NOW", "").strip()
        if not text:
            return datetime.now(UTC)
        from supportcli.core.timeparse import parse_clock_setting  # the one place times are read

        return parse_clock_setting(text)

    @contextmanager
    def as_standard_streams(self) -> Iterator[None]:
        """Make ``sys.stdin``/``stdout``/``stderr`` this environment's streams for the length of a run.

        Click writes help, usage errors and ``echo`` to the process's streams, and commands that read
        a file given as ``-`` read ``sys.stdin``: so every byte of a run goes where its environment says."""
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = self.stdin, self.stdout, self.stderr
        try:
            yield
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved


def environment_of(obj: object) -> Environment:
    """The Environment of a run from a Click context's ``obj``: the one ``main`` was given, the one the
    ``AppContext`` holds, or else (a bare ``app()`` call, as Typer's CliRunner makes) this process's."""
    if isinstance(obj, Environment):
        return obj
    held = getattr(obj, "environment", None)
    return held if isinstance(held, Environment) else Environment()
