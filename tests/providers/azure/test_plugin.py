"""The Azure plugin is found through its entry point and stays cheap to import."""

from __future__ import annotations

import subprocess
import sys

from cloudorch.plugins import load_provider
from cloudorch.provider import PulumiPlugin
from cloudorch_azure.provider import Provider


def test_discoverable():
    provider = load_provider("azure")
    assert isinstance(provider, Provider)
    assert provider.name == "azure"
    assert PulumiPlugin("azure-native", "3.29.0") in provider.pulumi_plugins
    # customer-managed keys are a gap per resource kind (tests/providers/azure/test_keys.py)
    assert dict(provider.unsupported_features()) == {}


def test_import_is_light():
    code = (
        "import sys, cloudorch_azure.provider; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'pulumi', 'pulumi_azure_native')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
