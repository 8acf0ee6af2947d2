"""The AWS plugin is found through its entry point and stays cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

from cloudorch.plugins import load_provider
from cloudorch.provider import CloudProvider
from cloudorch_aws.provider import Provider


def test_discoverable_through_the_entry_point():
    provider = load_provider("aws")
    assert isinstance(provider, Provider) and isinstance(provider, CloudProvider)
    assert provider.name == "aws" and provider.display_name
    assert provider.unsupported_features() == {}


def test_importing_the_provider_loads_no_sdk():
    code = (
        "import json, sys, cloudorch_aws.provider; "
        "heavy = ('boto3', 'botocore', 'pulumi', 'pulumi_aws'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == []
