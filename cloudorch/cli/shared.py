"""The one mechanism by which every command takes the shared options, before its name and after it.

`cloudorch --format json plan x.yaml` and `cloudorch plan x.yaml --format json` mean the same: the root
callback and each command get the shared parameters from here, and both merge what they were given into
the run's one ``Application`` (the command's value wins). A command declares its own parameters and,
if it wants it, an ``app`` parameter; it never redeclares a shared option.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import tempfile
import textwrap
import typing
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from typer._click import Context, HelpFormatter  # typer vendors click as typer._click
from typer._click.utils import make_default_short_help
from typer.core import TyperCommand, TyperGroup

from cloudorch.cli.application import Application, Format, SharedOptions
from cloudorch.errors import UsageError

CONFIG = typer.Option(None, "--config", metavar="FILE", show_default=False,
                      help="Config file; its directory is the project root. Default: the nearest cloudorch.toml "
                      "from here up (stopping at the top of the repository).")
CATALOG = typer.Option(None, "--catalog", metavar="DIR", show_default=False,
                       help="SkyPilot catalog directory (<cloud>/vms.csv) that stacks are validated and placed against.")
POLICY_DIR = typer.Option(None, "--policy-dir", metavar="DIR", show_default=False,
                          help="Extra directory of policy packs (repeatable).")
FORMAT = typer.Option(None, "--format", "-f", show_default=False,
                      help="Output format (default: text); json is for machines, and engine commands "
                      "stream one JSON event per line.")
DEBUG = typer.Option(False, "--debug", help="Show tracebacks of unexpected errors.")
#: the one stack file most commands take; the metavar keeps typer's `{stack}` and `<path>` out of the help
STACK = typer.Argument(..., metavar="STACK", help="The stack file.", show_default=False)


def _parameters(formats: type[Enum]) -> list[inspect.Parameter]:
    def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    return [option("config", str | None, CONFIG), option("catalog", str | None, CATALOG),
            option("policy_dir", list[str] | None, POLICY_DIR),
            option("fmt", formats | None, FORMAT), option("debug", bool, DEBUG)]


#: the shared options as the command line spells them
FLAGS = tuple(p.default.param_decls[0] for p in _parameters(Format))


def _given(values: dict[str, Any]) -> SharedOptions:
    fmt = values.pop("fmt")
    return SharedOptions(config=values.pop("config"), catalog=values.pop("catalog"),
                         policy_dirs=tuple(values.pop("policy_dir") or ()),
                         format=fmt.value if isinstance(fmt, Enum) else fmt, debug=values.pop("debug"))


def with_shared_options(func: Callable[..., Any], formats: type[Enum] = Format) -> Callable[..., Any]:
    """``func`` with the shared options added to its command-line parameters; their values go into the
    run's Application, which ``func`` receives as ``app`` if it has such a parameter.

    ``formats`` widens `--format` for a command with more report formats than text and json (check).
    """
    signature = inspect.signature(func)
    hints = typing.get_type_hints(func)
    wants_app = "app" in signature.parameters
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
           if p.name != "app"]
    shared = _parameters(formats)
    clash = {p.name for p in own} & {p.name for p in shared}
    if clash:
        raise TypeError(f"{func.__name__} redeclares shared options {sorted(clash)}; read them from `app`")
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)

    @functools.wraps(func)
    def command(ctx: typer.Context, **values: Any) -> Any:
        app = ctx.obj
        if isinstance(app, Application):
            app.add(_given(values))
        else:  # run without main() (typer's test runner): the root callback makes the one Application
            app = ctx.obj = Application(_given(values))
        return func(app=app, **values) if wants_app else func(**values)

    parameters = [context, *own, *shared]
    command.__signature__ = inspect.Signature(parameters, return_annotation=signature.return_annotation)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command


class Formatter(HelpFormatter):
    """click's help formatter, wrapping at spaces only: click's also breaks at hyphens, which splits
    `--detailed-exitcode` or `yaml-language-server` over two lines."""

    def write_text(self, text: str) -> None:
        margin = " " * self.current_indent
        self.write("\n\n".join(_wrap(p, self.width, margin) for p in _paragraphs(text)) + "\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first = min(max((len(term) for term, _ in rows), default=0), col_max) + col_spacing
        margin = " " * self.current_indent
        beside = " " * (self.current_indent + first)
        for term, text in rows:
            lines = _wrap(text, max(self.width - first - 2, 10)).splitlines() if text else []
            # a term longer than the column gets its own line, its text starts below it
            head = [f"{margin}{term:<{first}}{lines.pop(0)}"] if lines and len(term) <= first - col_spacing \
                else [f"{margin}{term}"]
            self.write("\n".join(head + [beside + line for line in lines]) + "\n")


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def _wrap(text: str, width: int, indent: str = "") -> str:
    return "\n".join(textwrap.wrap(" ".join(text.split()), width, initial_indent=indent, subsequent_indent=indent,
                                   break_on_hyphens=False, break_long_words=False))


class _Context(typer.Context):
    formatter_class = Formatter


class Command(TyperCommand):
    """typer's command, with help wrapped at spaces only (``Formatter``) and arguments named as usage lines
    name them: ``STACK`` or ``STACK...``, where typer writes ``{STACK}`` and ``STACK <path>``."""

    context_class = _Context

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [_argument_name(p) if p.param_type_name == "argument" else " ".join(p.get_usage_pieces(ctx))
                         for p in self.get_params(ctx) if p.get_usage_pieces(ctx)]

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        records = [(p, p.get_help_record(ctx)) for p in self.get_params(ctx)]
        arguments = [(_argument_name(p), r[1]) for p, r in records if r and p.param_type_name == "argument"]
        options = [r for p, r in records if r and p.param_type_name == "option"]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument_name(param: Any) -> str:
    name = param.metavar or param.name.upper()
    return name if param.nargs == 1 else f"{name}..."


def first_sentence(help: str) -> str:
    """A command's help as a list of commands shows it: its whole first sentence. click cuts it at the
    terminal's width with "...", mid-thought; the help formatter wraps a whole one instead."""
    return make_default_short_help(help, max_length=sys.maxsize)


def write_commands(formatter: HelpFormatter, rows: list[tuple[str, str]]) -> None:
    """The "Commands" section of a group's help: name and first sentence of each (``first_sentence``)."""
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl([(name, first_sentence(help)) for name, help in rows])


class Group(TyperGroup):
    """typer's group, listing each command with its whole first sentence (``first_sentence``), its help
    wrapped at spaces only (``Formatter``)."""

    context_class = _Context

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        listed = ((name, self.get_command(ctx, name)) for name in self.list_commands(ctx))
        write_commands(formatter, [(name, command.help or "") for name, command in listed
                                   if command is not None and not command.hidden])


def command_group(**settings: Any) -> typer.Typer:
    """The ``commands`` of a command module, which the root (app.py) loads when one of them runs: typer's
    settings as the root has them, so a command's help reads the same as the root's."""
    return typer.Typer(cls=Group, rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False,
                       **settings)


def register(group: typer.Typer, name: str, func: Callable[..., Any], formats: type[Enum] = Format) -> None:
    """Add a command to ``group`` with the shared options: every command is registered through here."""
    group.command(name, cls=Command)(with_shared_options(func, formats))


def write_file(path: Path, data: bytes, what: str, option: str, example: str) -> None:
    """Write a file a command produces (a plan, a report) so no reader ever sees half of it: beside it, then
    renamed over it. It gets the mode any new file would (the umask's), not mkstemp's private 0600: plans
    and reports hold no secrets and are for sharing (a CI upload, a reviewer on another account)."""
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{option} {str(path)!r} is a directory", hint=f"name a file, e.g. {option} {example}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write the {what} to {str(path)!r}: {exc.strerror}",
                         hint="check that the directory exists and is writable") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
