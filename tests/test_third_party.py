"""A third-party provider plugs in through the entry point group, with no change to the core.

"acme" is a fourth cloud written the way a third party would write it: its resources carry neutral roles
and it describes them in neutral facts. Being careless, it renders every database and bucket public and
unprotected whatever the stack asks. The proof: the same built-in rules that judge AWS, Azure and GCP flag
every one of those resources, each rule that targets a role among them; and `cloudorch check` places a
stack on acme from acme's own catalog rows and flags its firewall rule.
"""

from __future__ import annotations

import json
import sys

import pytest

from cloudorch import plugins

PROVIDER = '''\
from cloudorch.provider import Capability, CloudProvider, PulumiPlugin
from cloudorch.rendering import RenderedResource
from cloudorch.rendering.facts import BucketFacts, DatabaseFacts, FirewallFacts, TrafficRule
from cloudorch.spec.models import Bucket, Compute, Database


def _acme(name, type_, role, region, source, **inputs):
    return RenderedResource(name=name, type="acme:" + type_, role=role, cloud="acme", region=region,
                            source=source, provider="acme-" + region, inputs=inputs)


class Provider(CloudProvider):
    name = "acme"
    display_name = "Acme Cloud"
    pulumi_plugins = (PulumiPlugin("acme", "1.0.0"),)
    images = ("ubuntu-24.04",)

    def unsupported_features(self):
        return {Capability.GPU: "Acme has no GPUs"}

    def render(self, ctx):
        out = [RenderedResource(name="acme-" + region, type="pulumi:providers:acme", role="provider", cloud="acme",
                                region=region, inputs={}) for region in ctx.regions()]
        for network, _spec, block in ctx.network_blocks():
            out.append(_acme(network + "-" + block.region, "net:Network", "network", block.region, network,
                             cidr=block.cidr))
        for name, placement in ctx.placed(Compute):
            spec = ctx.stack.resources[name]
            for region in sorted({r for c, r in placement.locations if c == "acme"}):
                for i, rule in enumerate(spec.ingress):
                    out.append(_acme(f"{name}-{region}-in-{i}", "net:Rule", "firewall-rule", region, name,
                                     way="in", cidrs=ctx.source_cidrs(rule), ports=[rule.port, rule.last_port]))
                out.append(_acme(f"{name}-{region}-vms", "vm:Group", "instance-group", region, name, image=spec.image))
        for name, placement in ctx.placed(Database):
            for region in sorted({r for c, r in placement.locations if c == "acme"}):
                out.append(_acme(f"{name}-{region}-db", "db:Server", "database", region, name,
                                 publicEndpoint=True, encrypted=False, backupDays=0, protect=False))
        for name, placement in ctx.placed(Bucket):
            if placement.cloud == "acme":
                out.append(_acme(f"{name}-{placement.region}-bucket", "store:Bucket", "bucket", placement.region,
                                 name, anonymousRead=True))
        return out

    def describe(self, resource, graph):
        i = resource.inputs
        if resource.role == "firewall-rule":
            way = "ingress" if i["way"] == "in" else "egress"
            return FirewallFacts(rules=(TrafficRule(way, "allow", tuple(i["cidrs"]), (tuple(i["ports"]),), "tcp"),))
        if resource.role == "database":
            return DatabaseFacts(publicly_reachable=i["publicEndpoint"], encrypted_at_rest=i["encrypted"],
                                 backup_retention_days=i["backupDays"], deletion_protected=i["protect"],
                                 high_availability=False, enhanced_monitoring=False, performance_insights=False,
                                 iam_authentication=False, statement_logging="none")
        if resource.role == "bucket":
            return BucketFacts(public=i["anonymousRead"], public_access_blocked=False, encrypted_at_rest=False,
                               versioning=False, access_logging=False, lifecycle=False)
        return None
'''

STACK = """\
stack: acme-shop
tags: {team: shop, env: prod}
placement: {clouds: [acme]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  web:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 4
    ingress:
      - {port: 22, from: internet}
      - {port: 1, to_port: 65535, from: internet}
"""
DATA = """\
  orders-db: {kind: database, network: net, engine: postgres, version: "16", backup_days: 14, ingress: [{port: 5432, from: web}]}
  assets: {kind: bucket, versioning: true}
"""


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    package = tmp_path / "acme_cloud"
    package.mkdir()
    (package / "__init__.py").write_text(PROVIDER)
    dist = tmp_path / "acme_cloud-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cloud\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[cloudorch.providers]\nacme = acme_cloud:Provider\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for cached in (plugins.provider_names, plugins.load_provider):
        cached.cache_clear()
    yield
    for cached in (plugins.provider_names, plugins.load_provider):
        cached.cache_clear()
    sys.modules.pop("acme_cloud", None)


def test_third_party_provider_is_found_and_validated_like_the_builtins(third_party, tmp_path):
    from cloudorch import api

    assert "acme" in plugins.provider_names()
    provider = plugins.load_provider("acme")
    assert provider.unsupported_features() == {"gpu": "Acme has no GPUs"}
    stack = tmp_path / "s.yaml"
    stack.write_text("stack: s\nplacement: {clouds: [aws, acme]}\nresources:\n  net: {kind: network, cidr: 10.0.0.0/16}\n")
    assert api.validate([stack])[0].stack == "s"


def _acme_placement():
    from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot

    def slot(itype: str) -> Slot:
        return Slot(cloud="acme", region="north-1", instance_type=itype, count=1, vcpus=2, memory_gib=4,
                    hourly_usd=0.1, monthly_usd=73.0)

    return PlacementResult(objective="cost", placements={
        "web": ResourcePlacement(resource="web", kind="compute", slots=(slot("vm.2"),)),
        "orders-db": ResourcePlacement(resource="orders-db", kind="database", slots=(slot("db.2"),)),
        "assets": ResourcePlacement(resource="assets", kind="bucket", cloud="acme", region="north-1"),
    }, networks=(NetworkBlock(network="net", cloud="acme", region="north-1", cidr="10.40.0.0/20"),))


def test_a_fourth_cloud_gets_every_neutral_rule(third_party, tmp_path):
    """The stage `plan` and `check` run (render, then the stack's packs over spec and rendering) flags each
    of acme's careless resources with the rules that flag the built-in clouds' equivalents."""
    from cloudorch import api
    from cloudorch.spec.loader import parse_stack
    from cloudorch_policies import baseline

    from tests.policies.cases import CASES

    loaded = parse_stack(STACK + DATA, str(tmp_path / "acme.yaml"))
    rendered = api.render(loaded, _acme_placement(), {"acme": plugins.load_provider("acme")})
    report, _ = api.check_policies(loaded, _acme_placement(), rendered, api.Session())
    assert not report.errors, [f.message for f in report.errors]
    flagged = {(f.policy, f.rendered) for f in report.findings if f.status == "fail" and f.cloud == "acme"}
    assert flagged == {
        ("network.public-ingress", "web-north-1-in-0"), ("network.public-ingress", "web-north-1-in-1"),
        ("network.admin-ports-open", "web-north-1-in-0"), ("network.admin-ports-open", "web-north-1-in-1"),
        ("network.all-ports-open", "web-north-1-in-1"),
        ("database.public", "orders-db-north-1-db"), ("encryption.database", "orders-db-north-1-db"),
        ("database.backups", "orders-db-north-1-db"), ("database.deletion-protection", "orders-db-north-1-db"),
        ("storage.public-bucket", "assets-north-1-bucket"), ("storage.public-access-block", "assets-north-1-bucket"),
        ("encryption.bucket", "assets-north-1-bucket"), ("storage.versioning", "assets-north-1-bucket"),
        ("storage.access-logging", "assets-north-1-bucket"), ("storage.lifecycle", "assets-north-1-bucket"),
        ("database.high-availability", "orders-db-north-1-db"), ("database.enhanced-monitoring", "orders-db-north-1-db"),
        ("database.performance-insights", "orders-db-north-1-db"), ("database.iam-authentication", "orders-db-north-1-db"),
        ("logging.database-statements", "orders-db-north-1-db"),
    }
    # every baseline rule that targets a role acme renders judges acme: none is left to the three built-ins
    acme_roles = {r.role for r in rendered}
    neutral = {p.id for p in baseline.pack().policies for c in p.checks if set(c.roles) & acme_roles}
    # a rule about traffic between clouds has nothing to judge on a stack that lives on one
    assert {policy for policy, _ in flagged} == neutral - {"database.cross-cloud-over-link"}
    # ... and the same rules flag the built-in clouds (their failing fixtures, exact sets in tests/policies)
    builtin_flagged = {case.policy for case in CASES if any(rendered for _, rendered in case.flagged)}
    assert neutral <= builtin_flagged


def test_check_places_a_stack_on_a_fourth_cloud_from_its_catalog_rows_and_flags_its_firewall(
        third_party, tmp_path, capsys):
    from cloudorch.cli.app import main
    from tests.support import write_vms_csv

    write_vms_csv(tmp_path / "catalog", "acme", ["InstanceType", "vCPUs", "MemoryGiB", "Price", "Region"],
                  [["vm.2", "2", "4", "0.05", "north-1"], ["vm.8", "8", "32", "0.4", "north-1"]])
    stack = tmp_path / "acme.yaml"
    stack.write_text(STACK)
    code = main(["check", str(stack), "--catalog", str(tmp_path / "catalog"), "--format", "json"])
    [report] = json.loads(capsys.readouterr().out)["reports"]
    rendered = {(f["policy"], f["rendered"]) for f in report["findings"] if f["status"] == "fail" and f["rendered"]}
    assert rendered == {
        ("network.public-ingress", "web-north-1-in-0"), ("network.public-ingress", "web-north-1-in-1"),
        ("network.admin-ports-open", "web-north-1-in-0"), ("network.admin-ports-open", "web-north-1-in-1"),
        ("network.all-ports-open", "web-north-1-in-1"),
    }
    assert code == 3  # network.admin-ports-open is mandatory: blocked, as on any other cloud
