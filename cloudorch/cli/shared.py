"""The one mechanism by which every command takes the shared options, before its name and after it.

`cloudorch --format json plan x.yaml` and `cloudorch plan x.yaml --format json` mean the same: the root
callback and each command get the shared parameters from here, and both merge what they were given into
the run's one ``Application`` (the command's value wins). A command declares its own parameters and,
if it wants it, an ``app`` parameter; it never redeclares a shared option.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

import typer

from cloudorch.cli.application import Application, Format, SharedOptions

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


def command_group(**settings: Any) -> typer.Typer:
    """The ``commands`` of a command module, which the root (app.py) loads when one of them runs: typer's
    settings as the root has them, so a command's help reads the same as the root's."""
    return typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False, **settings)


def register(group: typer.Typer, name: str, func: Callable[..., Any], formats: type[Enum] = Format) -> None:
    """Add a command to ``group`` with the shared options: every command is registered through here."""
    group.command(name)(with_shared_options(func, formats))
