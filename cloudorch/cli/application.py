"""The application object every command receives: output format, consoles, debug flag.

Rich decides colour by itself: only on a TTY, never with NO_COLOR set. Human output goes to stdout,
diagnostics and progress to stderr, so `--format json > plan.json` stays clean.
"""

from __future__ import annotations

import json
import os
import sys
from contextvars import ContextVar
from enum import Enum
from typing import Any

from cloudorch.errors import CloudorchError, ExitCode, SpecError


class Format(str, Enum):
    text = "text"
    json = "json"


class Application:
    def __init__(self, *, debug: bool = False, fmt: str = "text") -> None:
        self.debug = debug
        self.format = fmt
        self._out = None
        self._err = None

    @property
    def out(self):
        if self._out is None:
            from rich.console import Console

            self._out = Console(highlight=False)
            if not self._out.is_terminal and "COLUMNS" not in os.environ:
                # logs and pipes have no width: don't truncate region and type names to 80 columns
                self._out = Console(highlight=False, width=160)
        return self._out

    @property
    def err(self):
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._err

    @property
    def json(self) -> bool:
        return self.format == "json"

    def emit_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def status(self, message: str):
        """A spinner on stderr while long work runs, only where a person is watching."""
        from contextlib import nullcontext

        if self.json or not self.err.is_terminal or os.environ.get("CI"):
            return nullcontext()
        return self.err.status(message)

    def report_error(self, exc: CloudorchError) -> int:
        code = int(exc.exit_code)
        if self.debug and code == ExitCode.UNEXPECTED and exc.__cause__ is not None:
            import traceback

            traceback.print_exception(exc.__cause__)  # a plugin's bug: its traceback is what its maintainers need
        if self.json:
            self.emit_json(exc.to_dict() | {"exit_code": code})
            return code
        from rich.markup import escape

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
            import traceback

            traceback.print_exception(exc)
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        if self.json:
            self.emit_json({"error": "UnexpectedError", "message": message, "hint": "rerun with --debug",
                            "exit_code": int(ExitCode.UNEXPECTED)})
        else:
            self.err.print(f"[red]{message}[/]\n[dim]hint[/]: rerun with --debug for the traceback, and report it")
        return int(ExitCode.UNEXPECTED)


current: ContextVar[Application] = ContextVar("cloudorch_application")


def get_app() -> Application:
    try:
        return current.get()
    except LookupError:
        app = Application()
        current.set(app)
        return app


def use_format(fmt: Format | str) -> Application:
    """Commands take `--format` themselves (CI scripts put it after the command); record it."""
    app = get_app()
    app.format = fmt.value if isinstance(fmt, Format) else str(fmt)
    return app
