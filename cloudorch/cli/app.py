"""The `cloudorch` command. Only typer, click and the command modules load at start-up: pydantic,
pulumi, HiGHS and the cloud SDKs are imported inside the commands that need them."""

from __future__ import annotations

import sys

import typer

from cloudorch import __version__
from cloudorch.cli import check as check_cmd
from cloudorch.cli import lifecycle as lifecycle_cmd
from cloudorch.cli import plan as plan_cmd
from cloudorch.cli import policy as policy_cmd
from cloudorch.cli import schema as schema_cmd
from cloudorch.cli import state as state_cmd
from cloudorch.cli import validate as validate_cmd
from cloudorch.cli.application import Application
from cloudorch.cli.shared import with_shared_options

app = typer.Typer(
    name="cloudorch",
    help="Place cloud-neutral stacks on AWS, Azure and GCP, check them against policy, apply them with Pulumi.\n\n"
    "Exit codes: 0 ok, 1 unexpected error, 2 invalid input or usage, 3 blocked by a mandatory policy, "
    "4 over budget, 5 no feasible placement, 6 apply/engine failure, 7 changes pending (--detailed-exitcode).",
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

for module in (validate_cmd, plan_cmd, check_cmd, policy_cmd, schema_cmd, lifecycle_cmd, state_cmd):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every outcome to the documented exit codes, with no traceback unless --debug."""
    from cloudorch.errors import CloudorchError, ExitCode

    args = sys.argv[1:] if argv is None else list(argv)
    # The run's one Application, handed to click as the context object: the root callback and the command
    # merge their shared options into it, and the errors below are reported the way they asked.
    application = Application()
    try:
        result = app(args=args, prog_name="cloudorch", standalone_mode=False, obj=application)
        code = result if isinstance(result, int) else 0
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
        code = 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no raw traceback for users
        code = application.report_unexpected(exc)
    if argv is None:
        sys.exit(code)
    return code
