"""`cloudorch --help` must stay fast: nothing heavy is imported until a command needs it."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pulumi", "pydantic", "highspy", "numpy", "boto3", "botocore", "google", "azure", "yaml")


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
