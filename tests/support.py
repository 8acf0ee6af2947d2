"""Hand-made placements for provider tests, independent of the planner.

The planner's own output is exercised end to end in tests/test_api.py; these fixtures pin a provider's
rendering to a known placement so a planner change cannot hide a rendering regression.
"""

from __future__ import annotations

import os
from pathlib import Path

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext
from cloudorch.spec.loader import load_stack

ROOT = Path(__file__).resolve().parent.parent
#: the reference data beside the checkout (CLOUDORCH_SHARED moves it, for a CI that keeps it elsewhere)
SHARED = Path(os.environ.get("CLOUDORCH_SHARED") or ROOT.parent / "shared")
SCHEMAS = SHARED / "data" / "pulumi-schemas"
#: why a test that reads it skips where it is absent: a fresh clone does not have it, and that is no fault
SHARED_ABSENT = ("../shared is absent: the reference data the project's CI provides beside the checkout "
                 "(real SkyPilot catalogs, Pulumi schema subsets, the SARIF schema; see its README.md there)")


def require_shared(path: Path = SHARED) -> Path:
    """``path`` (inside ../shared), or a skip that says what ../shared is when it is not there."""
    if not path.exists():
        import pytest

        missing = "" if path == SHARED else f"; missing: {path.relative_to(SHARED.parent)}"
        pytest.skip(SHARED_ABSENT + missing)
    return path


#: types rendered on purpose though the schema subsets in ../shared lack them, each with the reason
OUTSIDE_SCHEMA_SUBSET = {
    # pulumi-gcp 10.2.0's compute.NetworkPeeringRoutesConfig: Cloud SQL answers clients on other clouds only
    # when its service peering exports the routes learned over the VPN (providers/gcp network.py)
    "gcp:compute/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig",
    # pulumi-aws 7.51.1's rds.ParameterGroup: PostgreSQL's statement logging (log_statement) is a server
    # parameter, and RDS sets parameters only through a parameter group (providers/aws database.py)
    "aws:rds/parameterGroup:ParameterGroup",
    # pulumi-aws 7.51.1's ec2.DefaultSecurityGroup: the only way to strip the rules AWS gives every VPC's
    # default security group (all traffic among its members, all outbound; CIS AWS 5.4, CKV2_AWS_12)
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    # azure-native 3.29.0's storage.ManagementPolicy: a bucket's `lifecycle` (archiving, expiry) is the
    # storage account's management policy on Azure, with no other way to express it (providers/azure bucket.py)
    "azure-native:storage:ManagementPolicy",
    # pulumi-gcp 10.2.0's kms.CryptoKeyIAMMember and projects.ServiceIdentity: a Cloud KMS key is usable only
    # once the service using it is granted it, and Cloud SQL's service agent exists only once generated
    # (providers/gcp keys.py)
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:projects/serviceIdentity:ServiceIdentity",
    # azure-native 3.29.0's keyvault.Key and compute.DiskEncryptionSet: a customer-managed key on Azure is a
    # Key Vault key, and scale-set disks reach one only through a disk encryption set (providers/azure keys.py)
    "azure-native:keyvault:Key",
    "azure-native:compute:DiskEncryptionSet",
}

REGIONS = {"aws": ("eu-west-1", "eu-central-1"), "azure": ("westeurope", "northeurope"), "gcp": ("europe-west4", "europe-west1")}
WEB_TYPES = {"aws": "m7i.xlarge", "azure": "Standard_D4s_v5", "gcp": "n2-standard-4"}
DB_TYPES = {"aws": "db.m6g.large", "azure": "Standard_D2ds_v5", "gcp": "db-custom-2-8192"}
ZONES = {
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
    "westeurope": ("1", "2", "3"),
    "northeurope": ("1", "2", "3"),
    "europe-west4": ("europe-west4-a", "europe-west4-b", "europe-west4-c"),
    "europe-west1": ("europe-west1-b", "europe-west1-c", "europe-west1-d"),
}


def _slot(cloud: str, region: str, itype: str, count: int, vcpus: float, mem: float, price: float, **kw) -> Slot:
    return Slot(
        cloud=cloud, region=region, instance_type=itype, count=count, vcpus=vcpus, memory_gib=mem,
        zones=ZONES.get(region, ()), hourly_usd=round(price * count, 6), monthly_usd=round(price * count * 730, 2), **kw,
    )


def webshop_placement(cloud: str, *, served: bool = False) -> tuple[object, PlacementResult]:
    """The webshop example with web split over two regions of ``cloud`` and db + bucket in the first; its web
    tier reached per replica (``tests/data/webshop.yaml``), or through balancers when ``served``
    (``stacks/webshop.yaml``)."""
    loaded = load_stack(ROOT / "stacks" / "webshop.yaml" if served else ROOT / "tests" / "data" / "webshop.yaml")
    first, second = REGIONS[cloud]
    placements = {
        "web": ResourcePlacement(resource="web", kind="compute", slots=(
            _slot(cloud, first, WEB_TYPES[cloud], 3, 4, 16, 0.2),
            _slot(cloud, second, WEB_TYPES[cloud], 3, 4, 16, 0.21),
        )),
        "orders-db": ResourcePlacement(resource="orders-db", kind="database", slots=(
            _slot(cloud, first, DB_TYPES[cloud], 1, 2, 8, 0.18),
        )),
        "assets": ResourcePlacement(resource="assets", kind="bucket", cloud=cloud, region=first),
    }
    networks = (
        NetworkBlock(network="net", cloud=cloud, region=first, cidr="10.40.0.0/20"),
        NetworkBlock(network="net", cloud=cloud, region=second, cidr="10.40.16.0/20"),
    )
    return loaded.stack, PlacementResult(objective="cost", placements=placements, networks=networks)


def webshop_context(cloud: str, *, served: bool = False) -> RenderContext:
    stack, placement = webshop_placement(cloud, served=served)
    return RenderContext(stack=stack, placement=placement, cloud=cloud)


# -- SkyPilot catalogs ---------------------------------------------------------------------------------
SKYPILOT = SHARED / "data" / "skypilot"


def write_vms_csv(root: Path, cloud: str, header: list[str], rows: list[list[str]]) -> None:
    import csv

    (root / cloud).mkdir(parents=True, exist_ok=True)
    with (root / cloud / "vms.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def offering(catalog, cloud: str, region: str, itype: str):
    """The one offering of ``itype`` in ``cloud``/``region``."""
    found = [o for o in catalog.offerings if (o.cloud, o.region, o.instance_type) == (cloud, region, itype)]
    assert len(found) == 1, (cloud, region, itype, found)
    return found[0]


def real_skypilot_catalog():
    """The real rows in ../shared read with the installed providers' adapters; skips where ../shared is absent."""
    from cloudorch.catalog.skypilot import read_skypilot_catalog
    from cloudorch.plugins import catalog_adapters

    return read_skypilot_catalog(require_shared(SKYPILOT), catalog_adapters())


# -- facts -----------------------------------------------------------------------------------------------
class LoneGraph:
    """A rendered graph holding nothing else: for reading one resource on its own."""

    def rendered(self, name):
        return None

    def referrers(self, name, *types):
        return []


def describe_alone(cloud: str, type_: str, **inputs):
    """The facts ``cloud``'s provider reads from one resource of ``type_`` with ``inputs``, role as it renders it."""
    from importlib import import_module

    from cloudorch.plugins import load_provider
    from cloudorch.rendering.model import RenderedResource

    role = import_module(f"cloudorch_{cloud}.roles").ROLES[type_]
    resource = RenderedResource(name="r", type=type_, role=role, cloud=cloud, inputs=inputs)
    return load_provider(cloud).describe(resource, LoneGraph())
