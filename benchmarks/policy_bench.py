"""Policy engine benchmark: 10,000 rendered resources against the full baseline pack.

Target: at most 2 s per evaluation on a developer machine. Run with
``uv run --frozen python benchmarks/policy_bench.py [--resources N] [--repeat K]``.
The resources mix every type the baseline rules look at (firewalls, VMs, disks, databases, buckets and
their companion resources, keys, networks) over the three clouds, half of them compliant, each with the
role its provider gives it (rules about neutral matters target roles and read the providers' facts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from cloudorch.policy import PolicySubject, evaluate, load_packs
from cloudorch.rendering.model import RenderedResource, ref
from cloudorch.spec.loader import load_stack
from cloudorch_aws.roles import ROLES as AWS_ROLES
from cloudorch_azure.roles import ROLES as AZURE_ROLES
from cloudorch_gcp.roles import ROLES as GCP_ROLES

ROOT = Path(__file__).resolve().parent.parent
W = "0.0.0.0/0"
ROLES = {**AWS_ROLES, **AZURE_ROLES, **GCP_ROLES}


def _templates(i: int) -> list[tuple[str, str, str, dict]]:
    """(suffix, type token, spec source, inputs) for one group of resources; odd groups are compliant."""
    ok = i % 2 == 1
    return [
        ("sg", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "web",
         {"cidrIpv4": "10.0.0.0/8" if ok else W, "fromPort": 22, "toPort": 22, "ipProtocol": "tcp",
          "securityGroupId": ref(f"sg-{i}")}),
        ("lt", "aws:ec2/launchTemplate:LaunchTemplate", "web",
         {"metadataOptions": {"httpTokens": "required" if ok else "optional"},
          "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true" if ok else "false"}}]}),
        ("rds", "aws:rds/instance:Instance", "orders-db",
         {"storageEncrypted": ok, "publiclyAccessible": not ok, "backupRetentionPeriod": 14 if ok else 1}),
        ("s3", "aws:s3/bucketV2:BucketV2", "assets", {}),
        ("s3-pab", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "assets",
         {"bucket": ref(f"b{i}-s3"), "blockPublicAcls": True, "blockPublicPolicy": ok, "ignorePublicAcls": True,
          "restrictPublicBuckets": True}),
        ("vpc", "aws:ec2/vpc:Vpc", "net", {"cidrBlock": "10.40.0.0/20"}),
        ("nsg-rule", "azure-native:network:SecurityRule", "web",
         {"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "10.0.0.0/8" if ok else "*",
          "destinationPortRange": "3389"}),
        ("vm", "azure-native:compute:VirtualMachine", "web",
         {"osProfile": {"linuxConfiguration": {"disablePasswordAuthentication": ok}}}),
        ("sa", "azure-native:storage:StorageAccount", "assets",
         {"minimumTlsVersion": "TLS1_2" if ok else "TLS1_0", "enableHttpsTrafficOnly": ok, "location": "westeurope"}),
        ("pg", "azure-native:dbforpostgresql:Server", "orders-db",
         {"network": {"publicNetworkAccess": "Disabled" if ok else "Enabled"}, "location": "westeurope"}),
        ("fw", "gcp:compute/firewall:Firewall", "web",
         {"sourceRanges": ["10.0.0.0/8" if ok else W], "allows": [{"protocol": "tcp", "ports": ["22", "443"]}]}),
        ("gvm", "gcp:compute/instance:Instance", "web",
         {"metadata": {"block-project-ssh-keys": "true"}, "networkInterfaces": [{"network": ref("vpc")}]}),
        ("sql", "gcp:sql/databaseInstance:DatabaseInstance", "orders-db",
         {"settings": {"ipConfiguration": {"ipv4Enabled": not ok}, "backupConfiguration": {"enabled": ok}}}),
        ("gcs", "gcp:storage/bucket:Bucket", "assets",
         {"location": "EU", "publicAccessPrevention": "enforced" if ok else "inherited", "uniformBucketLevelAccess": ok}),
        ("subnet", "gcp:compute/subnetwork:Subnetwork", "net", {"ipCidrRange": "10.40.16.0/20"}),
        ("key", "aws:kms/key:Key", "assets", {"enableKeyRotation": ok}),
    ]


def resources(count: int) -> list[RenderedResource]:
    region = {"aws": "eu-west-1", "azure-native": "westeurope", "gcp": "europe-west4"}
    out: list[RenderedResource] = []
    i = 0
    while len(out) < count:
        for suffix, token, source, inputs in _templates(i):
            prefix = token.split(":", 1)[0]
            out.append(RenderedResource(name=f"b{i}-{suffix}", type=token, role=ROLES[token],
                                        cloud="azure" if prefix == "azure-native" else prefix,
                                        region=region[prefix], source=source, inputs=inputs))
            if len(out) == count:
                break
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    loaded = load_stack(ROOT / "stacks" / "webshop.yaml")
    packs = load_packs(["baseline"])
    rendered = resources(args.resources)
    subject = PolicySubject(loaded=loaded, placement=None, rendered=rendered)
    timings = []
    report = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = evaluate(subject, packs, today=dt.date(2026, 11, 25))
        timings.append(time.perf_counter() - start)
    assert report is not None
    counts = report.counts()
    print(f"{len(rendered):,} rendered resources x {len(packs[0].policies)} baseline policies: "
          f"best {min(timings):.3f} s, median {statistics.median(timings):.3f} s over {args.repeat} runs "
          f"({len(report.findings):,} findings: {counts['fail']:,} fail, {counts['pass']:,} pass, "
          f"{counts['waived']:,} waived, {counts['error']} errors)")
    print("target <= 2 s:", "met" if statistics.median(timings) <= 2.0 else "NOT met")
    return 0 if statistics.median(timings) <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
