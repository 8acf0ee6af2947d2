"""The real adapter where no Pulumi CLI exists, and the import-cost guarantee."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from cloudorch.engine.adapter import find_cli, open_workspace
from cloudorch.engine.config import StackConfig
from cloudorch.engine.runner import PulumiEngine
from cloudorch.errors import EngineError

no_cli = pytest.mark.skipif(shutil.which("pulumi") is not None, reason="the Pulumi CLI is installed here")


def test_importing_the_engine_does_not_import_pulumi():
    code = (
        "import sys, cloudorch.engine, cloudorch.engine.runner, cloudorch.engine.events\n"
        "loaded = sorted(m for m in sys.modules if m == 'pulumi' or m.startswith(('pulumi.', 'grpc')))\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_find_cli():
    assert find_cli(lambda name: "/opt/pulumi/bin/pulumi") == "/opt/pulumi/bin/pulumi"
    with pytest.raises(EngineError) as caught:
        find_cli(lambda name: None)
    assert caught.value.kind == "missing-cli"


@no_cli
def test_the_sdk_file_not_found_becomes_missing_cli(settings):
    with pytest.raises(EngineError) as caught:
        open_workspace(settings, StackConfig("file:///nonexistent", "passphrase"), None)
    assert caught.value.kind == "missing-cli" and "get.pulumi.com" in caught.value.hint


@no_cli
def test_engine_without_cli_exits_6_with_install_instructions(settings, resources):
    engine = PulumiEngine(settings)
    for run in (lambda: engine.apply(resources), lambda: engine.preview(resources), engine.destroy, engine.refresh,
                engine.drift):
        with pytest.raises(EngineError) as caught:
            run()
        assert caught.value.kind == "missing-cli" and caught.value.exit_code == 6


@no_cli
def test_missing_cli_is_found_without_loading_pulumi_or_provider_plugins(tmp_path):
    code = (
        "import sys\n"
        "from cloudorch.engine import EngineSettings, PulumiEngine\n"
        "from cloudorch.errors import EngineError\n"
        "from cloudorch.project import StackIdentity\n"
        "from cloudorch.rendering.model import RenderedResource\n"
        "res = [RenderedResource(name='v', type='aws:ec2/vpc:Vpc', cloud='aws')]\n"
        f"engine = PulumiEngine(EngineSettings(project_dir={str(tmp_path)!r}, identity=StackIdentity('cloudorch', 'dev')))\n"
        "try:\n    engine.apply(res)\nexcept EngineError as e:\n    print(e.kind)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'cloudorch_aws')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["missing-cli", "[]"]


def test_pulumi_yaml_never_holds_the_backends_credentials(settings):
    from cloudorch.engine.adapter import project_settings

    with_password = project_settings(settings, StackConfig("s3://AKIA1:hunter2-pw@minio.local/state", "passphrase"))
    assert "hunter2" not in str(with_password.to_dict())  # PULUMI_BACKEND_URL in the CLI's environment reaches it
    plain = project_settings(settings, StackConfig("s3://team-state", "passphrase"))
    assert plain.to_dict()["backend"] == {"url": "s3://team-state"}
