"""The `cloudorch` command, and the CLI's one lazy boundary.

The root knows every command's name, module and one-line help (``COMMANDS``) and imports the module
``cloudorch.cli.<module>`` only when that command is looked up: to run it, or to show its own help. So
`cloudorch --help` loads typer, this module, the shared options and the Application, and no command.
Past the boundary, modules import what they use at the top; only heavy third-party packages (pulumi,
HiGHS, numpy, cloud SDKs) are imported inside the leaf functions that need them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import typer
import typer.main
from typer._click import Command, Context, HelpFormatter  # typer vendors click as typer._click
from typer._click.shell_completion import CompletionItem
from typer.core import TyperGroup

from cloudorch import __version__
from cloudorch.cli.application import Application
from cloudorch.cli.shared import Group, with_shared_options, write_commands
from cloudorch.errors import CloudorchError, ExitCode, UsageError


class Lazy(NamedTuple):
    module: str  # under cloudorch.cli; it defines the command on its own ``commands`` (a typer.Typer)
    help: str  # the first sentence of the command's help, as `--help` lists it


#: Every command, in the order `--help` lists them. The help is copied from the command so that listing
#: them imports none; tests/cli/test_startup.py holds each entry equal to the command its module defines.
COMMANDS: dict[str, Lazy] = {
    "validate": Lazy("validate", "Check stack files: shape, types, references, clouds and regions."),
    "plan": Lazy("plan", "Place, render and check a stack; print the plan."),
    "diff": Lazy("diff", "Compare two plans: what moves, what is rendered, the monthly cost and the findings."),
    "graph": Lazy("graph", "Draw a plan: every location with what runs there, and the traffic between them."),
    "report": Lazy("report", "Write a plan as a web page: its locations, links, cost and findings, and what changed "
                             "since --compare-to."),
    "check": Lazy("check", "Check stacks against their policy packs, on the spec and on every cloud's rendering."),
    "schema": Lazy("schema", "Print the JSON Schema of the stack file, for editors such as yaml-language-server."),
    "apply": Lazy("lifecycle", "Apply a stack with Pulumi."),
    "preview": Lazy("lifecycle", "Show what apply would change, per resource, in the stack's own terms."),
    "destroy": Lazy("lifecycle", "Delete every resource of the stack (from its state: nothing is placed, rendered "
                                 "or checked)."),
    "refresh": Lazy("lifecycle", "Update Pulumi's state from what actually exists in the clouds."),
    "drift": Lazy("lifecycle", "Report what drifted from the state (a refresh in preview mode); exit 7 with "
                               "--detailed-exitcode."),
    "outputs": Lazy("state", "Print the stack's outputs (secret values masked)."),
    "unlock": Lazy("state", "Clear a stale lock left by an interrupted apply."),
    "policy": Lazy("policy", "Inspect policy packs."),
    "catalog": Lazy("catalog", "Refresh and inspect the live catalog read from the clouds' accounts."),
    "audit": Lazy("audit", "Verify and read the journal of every plan, apply and workflow step."),
    "doctor": Lazy("doctor", "Check what this machine can do with the clouds: credentials and endpoints per cloud, "
                             "the cache and the live catalog's age, the Pulumi CLI, the journal."),
}


def load_command(name: str) -> Command:
    """The click command ``name``, from its module (imported now if it was not yet)."""
    module = importlib.import_module(f"cloudorch.cli.{COMMANDS[name].module}")
    return typer.main.get_group(module.commands).commands[name]


class _Commands(Mapping[str, Command]):
    """The root's commands by name: click asks this mapping, and a command's module loads on first lookup."""

    def __init__(self) -> None:
        self._loaded: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyGroup(Group):
    """The root group, with commands resolved through ``COMMANDS``; help and completion read only the table."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.commands:
            raise TypeError(f"commands {sorted(self.commands)} were added to the root; list them in COMMANDS")
        self.commands = _Commands()

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        write_commands(formatter, [(name, lazy.help) for name, lazy in COMMANDS.items()])

    def shell_complete(self, ctx: Context, incomplete: str) -> list[CompletionItem]:
        names = [CompletionItem(name, help=lazy.help) for name, lazy in COMMANDS.items() if name.startswith(incomplete)]
        return names + super(TyperGroup, self).shell_complete(ctx, incomplete)  # the options', skipping TyperGroup's


app = typer.Typer(
    name="cloudorch",
    cls=LazyGroup,
    help="Place cloud-neutral stacks on AWS, Azure and GCP, check them against policy, apply them with Pulumi.\n\n"
    "Exit codes: 0 ok, 1 unexpected error, 2 invalid input or usage, 3 blocked by a mandatory policy, "
    "4 over budget, 5 no feasible placement, 6 apply/engine failure, 7 changes pending (--detailed-exitcode), "
    "8 journal failed verification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cloudorch {__version__}")
        raise typer.Exit(0)


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    # The shared options before the command name reach the Application through with_shared_options.
    pass


app.callback()(with_shared_options(_root))


_COMPLETION_OPTIONS = ("--show-completion", "--install-completion")
_COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _check_completion_shell(args: list[str]) -> None:
    """typer writes a completion script for the shell it finds among cloudorch's parent processes; with none
    (CI, a container's entry point) it said "Shell  not supported." and exited 1, the code of a bug. Without
    a shell to complete for, it is a usage error (2) that says what to do."""
    option = next((a for a in args if a in _COMPLETION_OPTIONS), None)
    if option is None:
        return
    import shellingham  # typer's own shell detection; only a completion request pays for it

    try:
        shell = shellingham.detect_shell()[0]
    except shellingham.ShellDetectionFailure:
        shell = None
    if shell in _COMPLETION_SHELLS:
        return
    found = "no shell started cloudorch" if shell is None else f"{shell} is not a shell cloudorch completes"
    raise UsageError(f"{option}: {found}",
                     hint="run it in the shell to complete (bash, zsh, fish or PowerShell): the shell is found among "
                          "cloudorch's parent processes, and a CI step or a container entry point has none")


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every outcome to the documented exit codes, with no traceback unless --debug."""
    args = sys.argv[1:] if argv is None else list(argv)
    # The run's one Application, handed to click as the context object: the root callback and the command
    # merge their shared options into it, and the errors below are reported the way they asked.
    application = Application()
    try:
        _check_completion_shell(args)
        result = app(args=args, prog_name="cloudorch", standalone_mode=False, obj=application)
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:  # typer's completion options end with sys.exit(0)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        application.err.print("aborted")
        code = 130
    except typer.TyperException as exc:  # click's usage errors (typer vendors click)
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        code = int(getattr(exc, "exit_code", ExitCode.INVALID_INPUT) or ExitCode.INVALID_INPUT)
    except CloudorchError as exc:
        code = application.report_error(exc)
    except KeyboardInterrupt:
        # the user's Ctrl-C (typer turns one inside a command into exit 130 itself); team policy code raising
        # it is that policy's error finding, in the policy's own process
        code = 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no raw traceback for users
        code = application.report_unexpected(exc)
    if argv is None:
        sys.exit(code)
    return code
