"""Each cloud's discovery belongs to its plugin and loads its SDK only when it runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cloudorch.plugins import load_provider
from cloudorch.provider import Discovery


@pytest.mark.parametrize(("cloud", "name", "sdk"), [
    ("aws", "AwsDiscovery", "boto3"), ("azure", "AzureDiscovery", "azure."), ("gcp", "GcpDiscovery", "google."),
])
def test_each_plugin_offers_discovery_without_importing_its_sdk(cloud, name, sdk):
    code = (f"import sys; from cloudorch.plugins import load_provider; d = load_provider({cloud!r}).discovery(); "
            f"print(type(d).__name__, any(m == {sdk!r} or m.startswith({sdk!r}) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [name, "False"]
    assert isinstance(load_provider(cloud).discovery(), Discovery)
