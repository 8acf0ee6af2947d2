"""The application object every command receives: the run's shared options, its session, its consoles.

One ``Application`` per run, on the click context (``ctx.obj``): the root callback merges the shared
options given before the command name into it, the command the ones given after it (shared.py), and only
then is anything built from them. Colour only on a TTY; with NO_COLOR set, no escape sequence at all
(``_console``). Human output goes to stdout, diagnostics and progress to stderr, so `--format json > plan.json` stays clean.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from cloudorch.errors import CloudorchError, ExitCode, SpecError

if TYPE_CHECKING:
    from cloudorch.api import Session


class Format(str, Enum):
    text = "text"
    json = "json"


@dataclass(frozen=True)
class SharedOptions:
    """The options every command takes, before its name or after it (CI scripts put them after).

    They are the ones that mean the same to every command: which project and config (``--config``), what
    stacks are placed and checked against (``--catalog``, ``--policy-dir``), and how the run reports
    (``--format``, ``--debug``). A command that does not use one accepts it all the same, so one set of
    flags serves a whole pipeline (`plan`, `apply`, `destroy`).
    """

    config: str | None = None
    catalog: str | None = None
    policy_dirs: tuple[str, ...] = ()
    format: str | None = None  # None: not given (text)
    debug: bool = False

    def then(self, later: SharedOptions) -> SharedOptions:
        """These options, with ``later`` ones (given after the command name) applied: a value given there
        wins, repeated directories add up, a flag set in either place is set."""
        return SharedOptions(
            config=later.config or self.config,
            catalog=later.catalog or self.catalog,
            policy_dirs=tuple(dict.fromkeys([*self.policy_dirs, *later.policy_dirs])),
            format=later.format or self.format,
            debug=self.debug or later.debug,
        )


class Application:
    def __init__(self, options: SharedOptions | None = None) -> None:
        self.options = options or SharedOptions()
        self._session: Session | None = None
        self._out = None
        self._err = None

    def add(self, later: SharedOptions) -> None:
        """Merge options given later on the command line; only before anything is built from them."""
        if self._session is not None:
            raise RuntimeError("shared options merged after the session was built")
        self.options = self.options.then(later)

    @property
    def format(self) -> str:
        return self.options.format or Format.text.value

    @property
    def debug(self) -> bool:
        return self.options.debug

    @property
    def json(self) -> bool:
        return self.format == Format.json.value

    @property
    def session(self) -> Session:
        """The library session of this run (config, catalog, providers, project), built once."""
        if self._session is None:
            # The far side of the CLI's lazy boundary (app.py): the library, pydantic and the pipeline load
            # when a command first asks for its session, so the root and `--help` never import them.
            from cloudorch import api

            o = self.options
            self._session = api.Session(api.Options(config_path=o.config, catalog_dir=o.catalog,
                                                    policy_dirs=o.policy_dirs))
        return self._session

    @property
    def out(self):
        if self._out is None:
            self._out = _console()
            if not self._out.is_terminal and "COLUMNS" not in os.environ:
                # logs and pipes have no width: don't truncate region and type names to 80 columns
                self._out = _console(width=160)
        return self._out

    @property
    def err(self):
        if self._err is None:
            self._err = _console(stderr=True)
            # a terminal wraps long lines mid-word: rich wraps them at spaces there; logs keep whole lines
            self._err.soft_wrap = not self._err.is_terminal
        return self._err

    def emit_json(self, data: Any) -> None:
        # one object per line, like the engine's events: a CI step reads the stream line by line
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    @property
    def live(self) -> bool:
        """Whether output may redraw itself (a spinner, a live table): where a person watches a terminal
        that takes escape sequences -- with NO_COLOR set, it takes none."""
        return not self.json and self.err.is_terminal and not os.environ.get("CI") and not os.environ.get("NO_COLOR")

    def status(self, message: str):
        """A spinner on stderr while long work runs (``live``)."""
        return self.err.status(message) if self.live else nullcontext()

    def warn(self, warnings: Iterable[str]) -> None:
        """Warnings on stderr, whatever the format: they are diagnostics, not the command's output."""
        from rich.markup import escape  # as in `_console`: not at start-up

        for warning in warnings:
            self.err.print(f"[yellow]warning[/]: {escape(warning)}")

    def report_error(self, exc: CloudorchError) -> int:
        code = int(exc.exit_code)
        if self.debug and code == ExitCode.UNEXPECTED and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__)  # a plugin's bug: its traceback is what its maintainers need
        if self.json:
            self.emit_json(exc.to_dict() | {"exit_code": code})
            return code
        from rich.markup import escape  # as in `_console`: not at start-up

        if isinstance(exc, SpecError):
            for problem in exc.problems:
                self.err.print(f"[red]error[/]: {escape(str(problem))}")
            self.err.print(f"[red]{escape(exc.message)}[/]")
        else:
            self.err.print(f"[red]error[/]: {escape(exc.message)}")
        if exc.hint:
            self.err.print(f"[dim]hint[/]: {escape(exc.hint)}")
        return code

    def report_unexpected(self, exc: BaseException) -> int:
        if self.debug:
            traceback.print_exception(exc)
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        if self.json:
            self.emit_json({"error": "UnexpectedError", "message": message, "hint": "rerun with --debug",
                            "exit_code": int(ExitCode.UNEXPECTED)})
        else:
            self.err.print(f"[red]{message}[/]\n[dim]hint[/]: rerun with --debug for the traceback, and report it")
        return int(ExitCode.UNEXPECTED)


def _console(**settings: Any):
    """A rich console for people. rich's own NO_COLOR handling drops colours but keeps bold, dim and
    underline; https://no-color.org asks for none, so a set NO_COLOR turns every style off."""
    # rich loads with the first human output, not at start-up (`--help` and JSON runs never use it)
    from rich.console import Console

    if os.environ.get("NO_COLOR"):
        settings["color_system"] = None
    return Console(highlight=False, **settings)
