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


class _Deployment:
    def __init__(self, deployment):
        self.deployment = deployment


class _Stack:
    """What ``AutomationWorkspace.repair_pending`` asks of ``pulumi.automation.Stack``, recorded."""

    def __init__(self, pending, cancel_error=None, resources=()):
        self.pending = pending
        self.cancel_error = cancel_error
        self.resources = list(resources)
        self.calls = []

    def export_stack(self):
        self.calls.append("export")
        return _Deployment({"resources": self.resources, "pending_operations": self.pending})

    def cancel(self):
        self.calls.append("cancel")
        if self.cancel_error:
            raise self.cancel_error

    def refresh(self, **kwargs):
        self.calls.append(("refresh", kwargs.get("clear_pending_creates")))


def _workspace_over(stack):
    from cloudorch.engine.adapter import AutomationWorkspace

    workspace = object.__new__(AutomationWorkspace)  # no Pulumi CLI here: the Stack is the fake above
    workspace._stack = stack
    return workspace


def test_repair_pending_cancels_then_refreshes_clearing_pending_creates():
    pending = [{"type": "creating", "resource": {"urn": "urn:pulumi:it::p::aws:s3/bucket:Bucket::b"}},
               {"type": "updating", "resource": {"urn": "urn:pulumi:it::p::aws:ec2/vpc:Vpc::v"}}]
    stack = _Stack(pending, cancel_error=RuntimeError("no stack updates are currently in progress"))
    cleared = _workspace_over(stack).repair_pending()
    assert stack.calls == ["export", "cancel", ("refresh", True)]
    assert cleared == [{"op": "creating", "resource": "urn:pulumi:it::p::aws:s3/bucket:Bucket::b"},
                       {"op": "updating", "resource": "urn:pulumi:it::p::aws:ec2/vpc:Vpc::v"}]


def test_repair_pending_of_a_clean_stack_touches_nothing():
    stack = _Stack([])
    assert _workspace_over(stack).repair_pending() == []
    assert stack.calls == ["export"]


def test_resource_types_of_the_state_leave_out_pulumis_own():
    # as `pulumi stack export` lists them: the stack, then each provider, then the resources
    stack = _Stack([], resources=[{"type": "pulumi:pulumi:Stack", "urn": "urn:pulumi:it::p::pulumi:pulumi:Stack::p-it"},
                                  {"type": "pulumi:providers:aws", "urn": "urn:pulumi:it::p::pulumi:providers:aws::default"},
                                  {"type": "aws:ec2/vpc:Vpc", "urn": "urn:pulumi:it::p::aws:ec2/vpc:Vpc::v"},
                                  {"type": "random:index/randomPassword:RandomPassword", "urn": "urn:x"}])
    assert _workspace_over(stack).resource_types() == ["aws:ec2/vpc:Vpc", "random:index/randomPassword:RandomPassword"]
    assert stack.calls == ["export"]  # read only
