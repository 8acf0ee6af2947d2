"""`cloudorch --help` must stay fast: nothing heavy is imported until a command needs it.

The boundary is the root's command table (``cloudorch.cli.app.COMMANDS``): a command's module loads only
when that command runs. These tests hold the boundary by what gets imported and by -X importtime's count
of what importing costs, never by wall-clock time (that is benchmarks/startup_bench.py's job).
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest
import typer.main

import cloudorch.cli
from cloudorch.cli.app import COMMANDS

HEAVY = ("pulumi", "pydantic", "highspy", "numpy", "boto3", "botocore", "google", "azure", "yaml")
#: what the root needs to parse the shared options and print help: nothing else of cloudorch may load
ROOT_SIDE = {"cloudorch", "cloudorch.cli", "cloudorch.cli.app", "cloudorch.cli.application", "cloudorch.cli.shared",
             "cloudorch.errors"}
COMMAND_MODULES = sorted({f"cloudorch.cli.{lazy.module}" for lazy in COMMANDS.values()})


def _loaded_after(argv: list[str]) -> tuple[set[str], set[str]]:
    """Run `cloudorch ARGV` in a fresh interpreter; the cloudorch modules and the heavy packages it loaded."""
    code = (
        "import sys\nfrom cloudorch.cli.app import main\nmain(%r)\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'cloudorch')))\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))" % (argv, HEAVY)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    ours, heavy = out.splitlines()[-2:]
    return set(ours.split()), set(heavy.split())


def test_cli_import_pulls_in_no_heavy_module():
    code = "import sys, cloudorch.cli.app; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (
        HEAVY,)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_validate_does_not_import_pulumi_or_solvers_or_cloud_sdks():
    code = (
        "import sys\nfrom cloudorch.cli.app import main\n"
        "code = main(['validate', 'stacks/webshop.yaml', '--format', 'json'])\n"
        "print(code, ' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'pulumi','highspy','boto3','google','azure'})), file=sys.stderr)"
    )
    from tests.support import ROOT

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stderr.strip() == "0"


def _run(env_extra: dict[str, str]) -> str:
    import os

    from tests.support import ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | env_extra
    return subprocess.run([sys.executable, "-m", "cloudorch.cli", "validate", "stacks/webshop.yaml"], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True).stdout


def test_colour_only_on_a_terminal_and_never_with_no_color():
    assert "\x1b[" not in _run({})  # a pipe is not a terminal
    assert "\x1b[" in _run({"FORCE_COLOR": "1"})  # what a terminal gets
    assert "\x1b[" not in _run({"FORCE_COLOR": "1", "NO_COLOR": "1"})


def test_help_loads_no_command_module_and_nothing_heavy():
    ours, heavy = _loaded_after(["--help"])
    assert ours == ROOT_SIDE, f"`cloudorch --help` loaded {sorted(ours - ROOT_SIDE)}"
    assert heavy == set()


@pytest.mark.parametrize("command", ["plan", "apply", "policy"])
def test_a_commands_help_loads_its_own_module_and_no_other_command(command):
    ours, heavy = _loaded_after([command, "--help"])
    assert ours & set(COMMAND_MODULES) == {f"cloudorch.cli.{COMMANDS[command].module}"}
    assert not heavy & {"pulumi", "highspy", "numpy", "boto3", "botocore", "google", "azure"}


def _defined_commands() -> dict[str, str]:
    """Every command that a module of cloudorch.cli defines on its ``commands``, with the module's name."""
    found = {}
    for info in pkgutil.iter_modules(cloudorch.cli.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"cloudorch.cli.{info.name}")
        if isinstance(getattr(module, "commands", None), typer.Typer):
            found |= {name: info.name for name in typer.main.get_group(module.commands).commands}
    return found


def test_every_listed_command_is_defined_by_its_module_with_the_listed_help():
    """A typo in the table, a renamed command or a help text changed on one side fails here, not at runtime."""
    for name, lazy in COMMANDS.items():
        module = importlib.import_module(f"cloudorch.cli.{lazy.module}")
        command = typer.main.get_group(module.commands).commands.get(name)
        assert command is not None, f"cloudorch.cli.{lazy.module} defines no command {name!r}"
        assert command.get_short_help_str(limit=1_000) == lazy.help, f"COMMANDS[{name!r}].help"


def test_every_defined_command_is_listed():
    """A command a module defines but the table lacks would be unreachable."""
    assert _defined_commands() == {name: lazy.module for name, lazy in COMMANDS.items()}


def _import_cost(code: str) -> dict[str, tuple[int, int]]:
    """``python -X importtime -c CODE``: microseconds (self, cumulative) by module."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                         check=True).stderr
    cost = {}
    for line in err.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            cost[fields[2].strip()] = (int(fields[0]), int(fields[1]))
    return cost


def test_importing_the_cli_root_costs_little():
    """-X importtime's own account, not a stopwatch: the bounds are loose (today ~0.01 s and ~0.1-0.2 s on
    a 2-core machine); the library alone (pydantic, the spec, the pipeline) would cost more than either."""
    cost = _import_cost("import typer.main; import cloudorch.cli.app")
    ours = cost["cloudorch.cli.app"][1] / 1e6  # what importing the root adds once typer is loaded
    total = sum(own for own, _ in cost.values()) / 1e6
    assert ours < 0.1, f"importing cloudorch.cli.app adds {ours:.3f} s to typer's; what of cloudorch loads early?"
    assert total < 1.0, f"importing the CLI root costs {total:.3f} s in all"
