"""AWS discovery against moto's EC2 server and replayed Price List / Service Quotas answers."""

from __future__ import annotations

import json

import pytest

from cloudorch.catalog.live import Quota
from cloudorch.plugins import load_provider
from cloudorch.provider import Discovery, DiscoveryScope
from cloudorch_aws.discovery import AwsDiscovery, on_demand_price, quota_code_of
from tests.providers.aws.stand_ins import PRICE_SAMPLE, product
from tests.support import require_shared

ALL = frozenset(DiscoveryScope)


def test_the_aws_plugin_offers_discovery_without_importing_boto3():
    import subprocess
    import sys

    code = ("import sys; from cloudorch.plugins import load_provider; d = load_provider('aws').discovery(); "
            "print(type(d).__name__, 'boto3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["AwsDiscovery", "False"]
    assert isinstance(load_provider("aws").discovery(), Discovery)


def test_no_credentials_is_one_line_reason(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    reason = AwsDiscovery().unavailable()
    assert reason and "credentials" in reason and "\n" not in reason


@pytest.mark.parametrize(("itype", "group"), [
    ("m5.large", "L-1216C47A"), ("i4i.xlarge", "L-1216C47A"), ("im4gn.large", "L-1216C47A"),
    ("d3.xlarge", "L-1216C47A"), ("dl1.24xlarge", "L-6E869C2A"), ("g6.xlarge", "L-DB2E81BA"),
    ("vt1.3xlarge", "L-DB2E81BA"), ("p4d.24xlarge", "L-417A185B"), ("inf2.xlarge", "L-1945791B"),
    ("trn1.2xlarge", "L-2C3B7624"), ("hpc7g.4xlarge", "L-F7808C92"), ("x2gd.large", "L-7295265B"),
    ("f1.2xlarge", "L-74FC7D96"), ("mac1.metal", None), ("u-6tb1.metal", None),
])
def test_each_family_counts_against_its_quota(itype, group):
    assert quota_code_of(itype) == group


def test_the_recorded_price_list_product_reads_as_an_hourly_price():
    sample = json.loads(require_shared(PRICE_SAMPLE).read_text())
    itype, usd = on_demand_price(sample)
    dimension = next(d for t in sample["terms"]["OnDemand"].values() for d in t["priceDimensions"].values())
    assert itype == "m5.large" and usd == float(dimension["pricePerUnit"]["USD"]) > 0


def test_discover_reads_types_zones_prices_and_quotas(aws_account):
    sample = json.loads(require_shared(PRICE_SAMPLE).read_text())
    aws_account.serve([sample, product("g6.xlarge", 0.8048)], {"L-1216C47A": 64.0, "L-DB2E81BA": 8.0,
                                                              "L-0263D0A3": 5.0})  # an unrelated (EIP) quota
    aws_account.ec2().run_instances(ImageId="ami-12c6146b", InstanceType="m5.large", MinCount=3, MaxCount=3)

    found = AwsDiscovery().discover(["us-east-1"], ALL)

    assert set(found.fetched_at) == {str(s) for s in DiscoveryScope} and not found.missing
    assert [r.name for r in found.regions] == ["us-east-1"] and "us-east-1a" in found.regions[0].zones
    g6 = next(m for m in found.machines if m.instance_type == "g6.xlarge")
    assert (g6.vcpus, g6.memory_gib, g6.arch, g6.accelerator, g6.accelerator_count) == (4, 16, "x86_64", "L4", 1)
    assert g6.zones and set(g6.zones) <= set(found.regions[0].zones)
    graviton = next(m for m in found.machines if m.instance_type == "m7g.large")
    assert graviton.arch == "arm64"
    on_demand = {p.instance_type: p.usd_hour for p in found.prices if not p.spot}
    assert on_demand == {"m5.large": on_demand_price(sample)[1], "g6.xlarge": 0.8048}
    assert any(p.spot and p.zone.startswith("us-east-1") for p in found.prices)
    quotas = {q.code: q for q in found.quotas}
    assert set(quotas) == {"L-1216C47A", "L-DB2E81BA"}  # On-Demand vCPU quotas only
    assert quotas["L-1216C47A"] == Quota("us-east-1", quotas["L-1216C47A"].name, 64.0, 6.0, "L-1216C47A")
    assert quotas["L-DB2E81BA"].used_vcpus == 0 and found.requests >= 6


def test_quotas_ask_only_the_running_types_not_the_whole_list(aws_account):
    aws_account.serve([], {"L-1216C47A": 64.0, "L-DB2E81BA": 8.0})
    aws_account.ec2().run_instances(ImageId="ami-12c6146b", InstanceType="m5.large", MinCount=2, MaxCount=2)
    aws_account.ec2().run_instances(ImageId="ami-12c6146b", InstanceType="g6.xlarge", MinCount=1, MaxCount=1)
    found = AwsDiscovery().discover(["us-east-1"], frozenset({DiscoveryScope.QUOTAS}))
    assert not found.missing
    assert {q.code: q.used_vcpus for q in found.quotas} == {"L-1216C47A": 4.0, "L-DB2E81BA": 4.0}
    asked = [sorted(v[0] for k, v in p.items() if k.startswith("InstanceType."))
             for p in aws_account.spot.passed if p.get("Action") == ["DescribeInstanceTypes"]]
    assert asked == [["g6.xlarge", "m5.large"]]  # one call by name, never the ~1,400 types of the region


def test_a_region_that_fails_is_reported_missing_not_raised(aws_account):
    aws_account.serve([], {})
    aws_account.replay.faults = [(400, {"__type": "AccessDeniedException", "message": "not allowed"})]
    found = AwsDiscovery().discover(["us-east-1"], frozenset({DiscoveryScope.QUOTAS}))
    assert found.quotas == () and len(found.missing) == 1
    assert found.missing[0].startswith("quotas us-east-1: AccessDeniedException")


def test_throttling_and_server_errors_are_retried_with_backoff(aws_account):
    aws_account.serve([product("m5.large", 0.096)], {})
    aws_account.replay.faults = [(400, {"__type": "ThrottlingException", "message": "slow down"}),
                                 (500, {"__type": "InternalFailure", "message": "oops"})]
    found = AwsDiscovery().discover(["us-east-1"], frozenset({DiscoveryScope.PRICES}))
    assert not found.missing and any(p.instance_type == "m5.large" and not p.spot for p in found.prices)
    assert aws_account.replay.requests == ["GetProducts"] * 3


def test_price_list_pages_are_followed(aws_account):
    aws_account.replay.pages["GetProducts"] = [
        {"FormatVersion": "aws_v1", "PriceList": [json.dumps(product("m5.large", 0.096))]},
        {"FormatVersion": "aws_v1", "PriceList": [json.dumps(product("c5.large", 0.085))]},
    ]
    found = AwsDiscovery().discover(["us-east-1"], frozenset({DiscoveryScope.PRICES}))
    assert {p.instance_type for p in found.prices if not p.spot} == {"m5.large", "c5.large"}
