"""Contexts for the Azure provider's tests.

``webshop`` is the shared hand-made placement (tests/support.py); ``mixed`` is built here to reach what
the webshop does not: an arm64 spot slot, two slots of one resource in one region, a highly available
MySQL next to a second database in the same block, a public bucket, and resources placed on another
cloud that must not render here.
"""

from __future__ import annotations

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext
from cloudorch.spec.models import Stack
from tests.support import webshop_context

MIXED_STACK = {
    "stack": "mixed",
    "tags": {"env": "test"},
    "resources": {
        "net": {"kind": "network", "cidr": "10.60.0.0/16"},
        "api": {
            "kind": "compute", "network": "net", "count": 2, "cpu": 4, "memory_gb": 16, "arch": "arm64",
            "spot": True, "image": "ubuntu-22.04", "disk_gb": 20, "tags": {"tier": "api"},
            "ingress": [
                {"port": 443, "from": "internet"},
                {"port": 8000, "to_port": 8100, "from": "worker"},
                {"port": 22, "from": "203.0.113.0/24"},
            ],
        },
        "batch": {"kind": "compute", "network": "net", "count": 3, "cpu": 2, "memory_gb": 8, "image": "debian-12"},
        "worker": {"kind": "compute", "network": "net", "count": 1, "cpu": 2, "memory_gb": 4},
        "users-db": {
            "kind": "database", "network": "net", "engine": "mysql", "version": "8.0", "storage_gb": 20,
            "backup_days": 21, "high_availability": True, "ingress": [{"port": 3306, "from": "api"}],
        },
        "audit-db": {"kind": "database", "network": "net", "engine": "postgres", "version": "17", "backup_days": 3},
        "site": {"kind": "bucket", "public": True},
        "logs": {"kind": "bucket", "versioning": True},
    },
}


def _slot(cloud: str, region: str, itype: str, count: int, *, spot: bool = False, zones=("1", "2", "3")) -> Slot:
    return Slot(
        cloud=cloud, region=region, instance_type=itype, spot=spot, count=count, vcpus=4, memory_gib=16,
        zones=zones, hourly_usd=0.1 * count, monthly_usd=73.0 * count,
    )


def mixed_context() -> RenderContext:
    stack = Stack.model_validate(MIXED_STACK)
    placements = {
        "api": ResourcePlacement(resource="api", kind="compute", slots=(_slot("azure", "eastus", "Standard_D4ps_v5", 2, spot=True),)),
        "batch": ResourcePlacement(resource="batch", kind="compute", slots=(
            _slot("azure", "eastus", "Standard_D2s_v5", 2),
            _slot("azure", "eastus", "Standard_D2_v5", 1, spot=True, zones=()),
        )),
        "worker": ResourcePlacement(resource="worker", kind="compute", slots=(
            _slot("aws", "us-east-1", "m7g.large", 1, zones=("us-east-1a",)),
        )),
        "users-db": ResourcePlacement(resource="users-db", kind="database", slots=(_slot("azure", "eastus", "Standard_E2ds_v5", 1),)),
        "audit-db": ResourcePlacement(resource="audit-db", kind="database", slots=(_slot("azure", "eastus", "Standard_B2s", 1),)),
        "site": ResourcePlacement(resource="site", kind="bucket", cloud="azure", region="eastus"),
        "logs": ResourcePlacement(resource="logs", kind="bucket", cloud="aws", region="us-east-1"),
    }
    networks = (
        NetworkBlock(network="net", cloud="azure", region="eastus", cidr="10.60.0.0/20"),
        NetworkBlock(network="net", cloud="aws", region="us-east-1", cidr="10.60.16.0/20"),
    )
    return RenderContext(stack=stack, placement=PlacementResult(objective="cost", placements=placements, networks=networks), cloud="azure")


CONTEXTS = {"webshop": lambda: webshop_context("azure"), "mixed": mixed_context}
