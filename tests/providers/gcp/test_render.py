"""The GCP provider's rendering: schema conformance and the structural promises of the provider contract."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext, RenderedResource, refs_in
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.spec.models import Stack
from cloudorch_gcp.provider import Provider
from tests.support import SCHEMAS, require_shared, webshop_context, webshop_placement

LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def _slot(cloud: str, region: str, itype: str, count: int, zones: tuple[str, ...] = (), **kw) -> Slot:
    return Slot(cloud=cloud, region=region, instance_type=itype, count=count, vcpus=4, memory_gib=16,
                zones=zones, hourly_usd=0.1 * count, monthly_usd=73.0 * count, **kw)


def mixed_context() -> RenderContext:
    """Arm64 spot workers, an HA mysql, a public bucket, and resources that live (partly) on aws."""
    stack = Stack.model_validate({
        "stack": "batch-jobs",
        "tags": {"Cost Center": "R&D/42", "9lives": "Yes!"},
        "resources": {
            "net": {"kind": "network", "cidr": "10.50.0.0/16"},
            "workers": {
                "kind": "compute", "network": "net", "count": 4, "cpu": 4, "memory_gb": 16,
                "arch": "arm64", "spot": True, "image": "debian-12", "disk_gb": 60,
                "ingress": [{"port": 8000, "to_port": 8080, "from": "10.99.0.0/24"}],
            },
            "api": {
                "kind": "compute", "network": "net", "count": 4, "cpu": 2, "memory_gb": 8,
                "ingress": [{"port": 443, "from": "internet"}],
            },
            "aws-only": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4},
            "jobs-db": {
                "kind": "database", "network": "net", "engine": "mysql", "version": "8.0",
                "high_availability": True, "backup_days": 30, "storage_gb": 50,
                "ingress": [{"port": 3306, "from": "workers"}, {"port": 3306, "from": "api"}],
            },
            "downloads": {"kind": "bucket", "public": True},
            "aws-bucket": {"kind": "bucket"},
        },
    })
    zones = ("us-central1-a", "us-central1-b", "us-central1-f")
    placements = {
        "workers": ResourcePlacement(resource="workers", kind="compute", slots=(
            _slot("gcp", "us-central1", "t2a-standard-4", 4, zones, spot=True),
        )),
        "api": ResourcePlacement(resource="api", kind="compute", slots=(
            _slot("aws", "us-east-1", "m7i.large", 2),
            _slot("gcp", "us-central1", "n2-standard-2", 1, zones),
            _slot("gcp", "us-central1", "n2d-standard-2", 1, zones),
        )),
        "aws-only": ResourcePlacement(resource="aws-only", kind="compute", slots=(
            _slot("aws", "us-east-1", "m7i.large", 1),
        )),
        "jobs-db": ResourcePlacement(resource="jobs-db", kind="database", slots=(
            _slot("gcp", "us-central1", "db-custom-4-16384", 1),
        )),
        "downloads": ResourcePlacement(resource="downloads", kind="bucket", cloud="gcp", region="us-central1"),
        "aws-bucket": ResourcePlacement(resource="aws-bucket", kind="bucket", cloud="aws", region="us-east-1"),
    }
    networks = (
        NetworkBlock(network="net", cloud="gcp", region="us-central1", cidr="10.50.0.0/20"),
        NetworkBlock(network="net", cloud="aws", region="us-east-1", cidr="10.50.16.0/20"),
    )
    return RenderContext(stack=stack, placement=PlacementResult(objective="cost", placements=placements,
                                                                networks=networks), cloud="gcp")


CONTEXTS = {"webshop": lambda: webshop_context("gcp"), "mixed": mixed_context}


@cache
def rendered(which: str) -> tuple[RenderedResource, ...]:
    return tuple(Provider().render(CONTEXTS[which]()))


def by_name(which: str) -> dict[str, RenderedResource]:
    return {r.name: r for r in rendered(which)}


def of_type(which: str, token: str) -> list[RenderedResource]:
    return [r for r in rendered(which) if r.type == token]


@cache
def gcp_schema() -> PackageSchema:
    path = require_shared(SCHEMAS / "gcp.json")
    return PackageSchema.load(path)


# -- schema ------------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_every_resource_conforms_to_the_gcp_schema(which):
    schema = gcp_schema()
    checked = [r for r in rendered(which) if not r.is_provider and not r.type.startswith("random:")]
    assert checked
    violations = [str(v) for r in checked for v in schema.check(r)]
    assert violations == []
    assert {r.type for r in checked} <= set(schema.resources)


# -- structure ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_names_are_unique_lower_case_and_ours(which):
    names = [r.name for r in rendered(which)]
    assert len(names) == len(set(names))
    assert all(n == n.lower() for n in names)
    assert all(r.cloud == "gcp" for r in rendered(which))
    assert all("-gcp-" in n or n.startswith("gcp-") for n in names)


@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_refs_and_dependencies_point_at_rendered_resources(which):
    names = set(by_name(which))
    for r in rendered(which):
        targets = {x["$ref"] for x in refs_in(r.inputs)} | set(r.depends_on)
        assert targets <= names, r.name


@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_every_resource_has_a_provider_of_its_region(which):
    resources = by_name(which)
    providers = {r.name: r for r in rendered(which) if r.is_provider}
    assert providers and all(p.type == "pulumi:providers:gcp" for p in providers.values())
    regional = [p for p in providers.values() if p.region is not None]
    assert all(p.inputs == {"region": p.region} and p.name == f"gcp-{p.region}" for p in regional)
    assert providers["gcp-global"].region is None and providers["gcp-global"].inputs == {}
    for r in resources.values():
        if r.is_provider or r.type.startswith("random:"):
            continue
        assert r.provider in providers, r.name
        assert providers[r.provider].region == r.region, r.name
        assert r.source, r.name


def test_the_global_network_is_under_the_global_provider():
    network = by_name("webshop")["net-gcp-network"]
    assert network.provider == "gcp-global" and network.region is None
    assert network.inputs["autoCreateSubnetworks"] is False
    assert len(of_type("webshop", "gcp:compute/network:Network")) == 1
    subnets = {r.region: r.inputs for r in of_type("webshop", "gcp:compute/subnetwork:Subnetwork")}
    # the lower half of each block; the upper half is kept for that region's private service access
    assert {region: s["ipCidrRange"] for region, s in subnets.items()} == {
        "europe-west4": "10.40.0.0/21", "europe-west1": "10.40.16.0/21"}
    assert all(s["privateIpGoogleAccess"] and s["logConfig"] for s in subnets.values())
    assert {r.region for r in of_type("webshop", "gcp:compute/routerNat:RouterNat")} == set(subnets)


@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_rendering_is_deterministic(which):
    ctx = CONTEXTS[which]()
    first = [r.model_dump() for r in Provider().render(ctx)]
    assert json.dumps(first) == json.dumps([r.model_dump() for r in Provider().render(CONTEXTS[which]())])
    rest = [(r["region"] or "", r["name"]) for r in first if not r["type"].startswith("pulumi:providers:")]
    assert rest == sorted(rest)


def test_nothing_renders_for_another_cloud():
    stack, placement = webshop_placement("aws")
    assert Provider().render(RenderContext(stack=stack, placement=placement, cloud="gcp")) == []
    sources = {r.source for r in rendered("mixed")}
    assert "aws-only" not in sources and "aws-bucket" not in sources
    assert {r.region for r in rendered("mixed")} == {None, "us-central1"}


def test_only_gcp_slots_of_a_multi_cloud_compute_render():
    migs = [r for r in of_type("mixed", "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager")
            if r.source == "api"]
    assert sorted(m.inputs["targetSize"] for m in migs) == [1, 1]
    assert len({m.name for m in migs}) == 2


@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_target_size_equals_slot_count_and_zones_spread(which):
    ctx = CONTEXTS[which]()
    resources = by_name(which)
    for r in of_type(which, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager"):
        slots = [s for s in ctx.placement.placements[r.source].slots if s.cloud == "gcp" and s.region == r.region]
        template = resources[r.inputs["versions"][0]["instanceTemplate"]["$ref"]]
        slot = next(s for s in slots if s.instance_type == template.inputs["machineType"])
        assert r.inputs["targetSize"] == slot.count
        assert r.inputs["distributionPolicyZones"] == list(slot.zones)
    web = [r.inputs["targetSize"] for r in of_type("webshop",
           "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager")]
    assert web == [3, 3]


def test_database_is_private_and_keeps_backup_days():
    sql = by_name("webshop")["orders-db-gcp-europe-west4-sql"]
    settings = sql.inputs["settings"]
    assert sql.inputs["databaseVersion"] == "POSTGRES_16"
    assert settings["ipConfiguration"]["ipv4Enabled"] is False
    assert "authorizedNetworks" not in settings["ipConfiguration"]
    assert settings["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    assert settings["backupConfiguration"]["enabled"] is True
    assert settings["backupConfiguration"]["backupRetentionSettings"]["retainedBackups"] == 14
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert settings["availabilityType"] == "ZONAL" and settings["tier"] == "db-custom-2-8192"
    assert settings["diskSize"] == 100
    assert "net-gcp-psa-connection" in sql.depends_on


def test_ha_mysql_is_regional_with_binary_logs():
    sql = by_name("mixed")["jobs-db-gcp-us-central1-sql"]
    settings = sql.inputs["settings"]
    assert sql.inputs["databaseVersion"] == "MYSQL_8_0"
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["backupConfiguration"]["binaryLogEnabled"] is True
    assert settings["backupConfiguration"]["backupRetentionSettings"]["retainedBackups"] == 30
    assert settings["ipConfiguration"]["ipv4Enabled"] is False


@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_password_is_a_secret_reference_never_a_value(which):
    users = of_type(which, "gcp:sql/user:User")
    assert users
    resources = by_name(which)
    for user in users:
        password = user.inputs["password"]
        assert password["output"] == "result"
        generator = resources[password["$ref"]]
        assert generator.type == "random:index/randomPassword:RandomPassword"
        assert generator.secret_outputs == ("result",)


def test_bucket_public_access_prevention_unless_public():
    private = by_name("webshop")["assets-gcp-europe-west4-bucket"].inputs
    assert private["publicAccessPrevention"] == "enforced"
    assert private["uniformBucketLevelAccess"] is True and private["versioning"] == {"enabled": True}
    assert private["location"] == "EUROPE-WEST4"
    # the only grant on a private bucket lets Cloud Storage deliver usage logs into its log bucket
    [writer] = of_type("webshop", "gcp:storage/bucketIAMBinding:BucketIAMBinding")
    assert writer.inputs["members"] == ["group:cloud-storage-analytics@google.com"]
    assert writer.inputs["role"] == "roles/storage.objectCreator"
    assert private["logging"]["logBucket"] == {"$ref": "assets-gcp-europe-west4-logs", "output": "name"}
    public = by_name("mixed")["downloads-gcp-us-central1-bucket"].inputs
    assert public["publicAccessPrevention"] == "inherited"
    (binding,) = of_type("mixed", "gcp:storage/bucketIAMBinding:BucketIAMBinding")
    assert binding.inputs["members"] == ["allUsers"] and binding.inputs["role"] == "roles/storage.objectViewer"


def test_bucket_names_are_valid_and_distinct():
    names = [r.inputs["name"] for ctx in CONTEXTS for r in of_type(ctx, "gcp:storage/bucket:Bucket")]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name) and "google" not in name


def _firewalls(which: str, source: str) -> list[RenderedResource]:
    return [r for r in of_type(which, "gcp:compute/firewall:Firewall") if r.source == source]


def test_internet_443_is_a_firewall_admitting_everyone_on_443_only():
    for which, source in (("webshop", "web"), ("mixed", "api")):  # both reached per replica
        (rule,) = _firewalls(which, source)
        assert rule.inputs["sourceRanges"] == ["0.0.0.0/0"]
        assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
        assert rule.inputs["targetTags"] == [f"cloudorch-{source}"]
        assert rule.inputs["direction"] == "INGRESS"
    templates = of_type("webshop", "gcp:compute/instanceTemplate:InstanceTemplate")
    assert all(t.inputs["tags"] == ["cloudorch-web"] for t in templates)


def test_served_replicas_get_no_internet_firewall():
    # served (stacks/webshop.yaml), and no balancer in this context: nothing admits the internet to web
    rendered = Provider().render(webshop_context("gcp", served=True))
    assert not [r for r in rendered if r.type == "gcp:compute/firewall:Firewall" and r.source == "web"
                and "0.0.0.0/0" in r.inputs.get("sourceRanges", [])]


def test_db_ingress_from_web_admits_exactly_the_web_blocks():
    (rule,) = _firewalls("webshop", "orders-db")
    assert rule.inputs["sourceRanges"] == ["10.40.0.0/20", "10.40.16.0/20"]
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["5432"]}]
    rules = {tuple(r.inputs["sourceRanges"]) for r in _firewalls("mixed", "jobs-db")}
    # api runs on aws and gcp: its rule admits both clouds' blocks, workers only the gcp one
    assert rules == {("10.50.0.0/20",), ("10.50.0.0/20", "10.50.16.0/20")}


def test_internal_traffic_is_allowed_and_nothing_else_opened():
    internal = by_name("webshop")["net-gcp-allow-internal"].inputs
    assert internal["sourceRanges"] == ["10.40.0.0/20", "10.40.16.0/20"]
    opened = {p for r in of_type("webshop", "gcp:compute/firewall:Firewall") if r.name != "net-gcp-allow-internal"
              for a in r.inputs["allows"] for p in a.get("ports", ["all"])}
    assert opened == {"443", "5432"}  # no 22/3389 unless the stack asks


def test_external_ip_only_with_public_ingress():
    def public(name: str) -> bool:
        return "accessConfigs" in by_name("mixed")[name].inputs["networkInterfaces"][0]
    assert public("api-gcp-us-central1-n2-standard-2-template")
    assert not public("workers-gcp-us-central1-template")  # 10.99.0.0/24 is private address space
    (rule,) = _firewalls("mixed", "workers")
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["8000-8080"]}]


def test_images_resolve_per_arch_and_spot_scheduling():
    web = by_name("webshop")["web-gcp-europe-west4-template"].inputs
    workers = by_name("mixed")["workers-gcp-us-central1-template"].inputs
    web_image, arm_image = web["disks"][0]["sourceImage"], workers["disks"][0]["sourceImage"]
    assert web_image.endswith("ubuntu-2404-lts-amd64") and arm_image.endswith("debian-12-arm64")
    assert web_image != arm_image
    assert workers["machineType"] == "t2a-standard-4" and workers["disks"][0]["diskSizeGb"] == 60
    assert workers["scheduling"] == {
        "provisioningModel": "SPOT", "preemptible": True, "automaticRestart": False,
        "onHostMaintenance": "TERMINATE", "instanceTerminationAction": "STOP"}
    assert web["scheduling"]["provisioningModel"] == "STANDARD"
    assert web["metadata"]["block-project-ssh-keys"] == "true"
    assert all(web["shieldedInstanceConfig"].values())


def _label_maps(r: RenderedResource) -> list[dict]:
    maps = [r.inputs.get("labels"), r.inputs.get("settings", {}).get("userLabels")]
    maps += [d.get("labels") for d in r.inputs.get("disks", [])]
    return [m for m in maps if m is not None]


@pytest.mark.parametrize("which", sorted(CONTEXTS))
def test_labels_are_valid_gcp_labels(which):
    labelled = [r for r in rendered(which) if _label_maps(r)]
    assert {r.type for r in labelled} >= {"gcp:storage/bucket:Bucket", "gcp:sql/databaseInstance:DatabaseInstance",
                                          "gcp:compute/instanceTemplate:InstanceTemplate"}
    for r in labelled:
        for labels in _label_maps(r):
            assert labels["cloudorch-stack"] and labels["cloudorch-resource"] == r.source
            for key, value in labels.items():
                assert LABEL_KEY.match(key) and LABEL_VALUE.match(value), (r.name, key, value)
