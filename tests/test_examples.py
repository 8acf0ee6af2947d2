"""Every example stack is validated, planned and rendered end to end, and every rendered resource of
every example conforms to its provider's Pulumi schema."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from cloudorch import api
from cloudorch.catalog import load_catalog
from cloudorch.cli.app import main
from cloudorch.rendering.schema_check import PackageSchema
from tests.support import OUTSIDE_SCHEMA_SUBSET, ROOT, SCHEMAS, SKYPILOT, require_shared

EXAMPLES = sorted((ROOT / "stacks").glob("*.yaml"))
#: example workflows: directories of stack files (``cloudorch.workflow``)
WORKFLOWS = sorted(p for p in (ROOT / "stacks").iterdir() if p.is_dir())
SCHEMA_FILES = {"aws": "aws.json", "azure-native": "azure-native.json", "gcp": "gcp.json"}
#: packages whose schemas are not among the shared subsets; their resources are checked by shape below
OTHER_PACKAGES = {"random", "tls"}


@cache
def planned(path: Path) -> api.PlanResult:
    return api.plan(path, api.Session(api.Options(explain=True)))


@cache
def schema(package: str) -> PackageSchema:
    return PackageSchema.load(SCHEMAS / SCHEMA_FILES[package])


def test_there_are_examples_from_more_than_one_field():
    assert {p.name for p in EXAMPLES} >= {"webshop.yaml", "fraud-scoring.yaml", "telemetry.yaml"}


def test_every_example_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    listed = readme.split("Examples in `stacks/`:", 1)[1].split("\n\n", 1)[0]
    assert {p.name for p in EXAMPLES} == set(re.findall(r"`([a-z0-9-]+\.yaml)`", listed))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_and_plans(path, capsys):
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    assert main(["plan", str(path), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["format_version"] == 1 and plan["resources"] and plan["placements"]
    cost = plan["cost"]
    assert cost["machines_monthly_usd"] == pytest.approx(sum(p["monthly_usd"] for p in plan["placements"]), abs=0.05)
    assert cost["monthly_usd"] == pytest.approx(sum(line["monthly_usd"] for line in cost["lines"]), abs=0.05)
    # the optimiser priced the same placement at the same figure: its network model matches what is rendered
    assert cost["placement_monthly_usd"] == pytest.approx(cost["monthly_usd"], abs=0.05)
    assert cost["lower_bound_monthly_usd"] <= cost["monthly_usd"]
    assert {f["status"] for f in plan["network"]["flows"]} == {"proved"}


@pytest.mark.shared
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_rendered_resource_conforms_to_its_provider_schema(path):
    require_shared(SCHEMAS)
    violations, checked = [], 0
    for resource in planned(path).rendered:
        package = resource.type.split(":")[2] if resource.is_provider else resource.type.split(":")[0]
        if resource.is_provider or package in OTHER_PACKAGES or resource.type in OUTSIDE_SCHEMA_SUBSET:
            continue
        violations += [str(v) for v in schema(package).check(resource)]
        checked += 1
    assert checked > 20
    assert violations == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_rendered_graph_is_closed_and_providers_are_explicit(path):
    rendered = planned(path).rendered
    names = {r.name for r in rendered}
    assert len(names) == len(rendered)
    providers = {r.name: r for r in rendered if r.is_provider}
    for r in rendered:
        assert set(r.dependencies) <= names, r.name
        if r.is_provider or r.type.split(":")[0] in OTHER_PACKAGES:
            continue
        assert r.provider in providers, f"{r.name} has no explicit provider"
        assert providers[r.provider].type == f"pulumi:providers:{r.type.split(':')[0]}"
        assert providers[r.provider].region == r.region


def test_webshop_done_when(capsys, tmp_path):
    """Issue 8's acceptance (replicas on two clouds, all in the EU, the database beside web replicas) and issue
    9's: a balancer in each web location, one global name over them, managed TLS, no web replica with a
    public address, so pci-dss raises no compute.public-ip; the bill prices every balancer."""
    assert main(["plan", str(ROOT / "stacks" / "webshop.yaml"), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    web = [p for p in plan["placements"] if p["resource"] == "web"]
    db = [p for p in plan["placements"] if p["resource"] == "orders-db"]
    assert sum(p["count"] for p in web) == 6
    assert len({p["cloud"] for p in web}) >= 2
    assert all(p["count"] <= 3 for p in web)
    catalog = load_catalog()
    assert all(catalog.region(p["cloud"], p["region"]).geo == "eu" for p in web + db)
    assert (db[0]["cloud"], db[0]["region"]) in {(p["cloud"], p["region"]) for p in web}
    assert plan["cost"]["monthly_usd"] <= 6000

    rendered = plan["resources"]
    web_locations = {(p["cloud"], p["region"]) for p in web}
    balancers = [r for r in rendered if r["role"] == "balancer" and r["source"] == "web"]
    assert sorted((r["cloud"], r["region"]) for r in balancers) == sorted(web_locations)
    # Route 53 (the stack's dns.provider): one health-checked record of the name per location, on any cloud
    records = [r for r in rendered if r["role"] == "dns-record" and r["inputs"]["name"] == "www.shop.example.com"]
    assert sorted(r["inputs"]["setIdentifier"] for r in records) == sorted(f"web-{c}-{g}" for c, g in web_locations)
    assert all(r["inputs"]["healthCheckId"] for r in records)
    # a certificate the cloud manages in every location; TLS 1.2+ and redirect-only port 80 are judged below
    managed = {"aws:acm/certificate:Certificate", "gcp:compute/managedSslCertificate:ManagedSslCertificate"}
    certificates = {(r["cloud"], r["region"]) for r in rendered if r["type"] in managed}
    assert certificates == {loc for loc in web_locations if loc[0] != "azure"}  # Azure: a Key Vault certificate
    templates = [r for r in rendered if r["role"] == "instance-template" and r["source"] == "web"]
    assert {r["cloud"] for r in templates} == {c for c, _ in web_locations}
    for t in templates:
        for nic in t["inputs"].get("networkInterfaces", []):
            assert nic.get("associatePublicIpAddress", "false") == "false" and not nic.get("accessConfigs")
    assert {s["status"] for s in plan["network"]["services"]} == {"proved"}
    assert len(plan["network"]["services"]) == len(web_locations)
    # the bill prices each location's balancer, and the zone once; and it is what the placement weighed
    priced = {r["resource"] for r in plan["cost"]["lines"] if r["basis"] == "price-list"}
    priced_at = {(r["cloud"], r["region"]) for r in rendered if r["source"] == "web" and r["name"] in priced
                 and r["role"] in ("balancer", "balancer-listener")}
    assert priced_at == web_locations
    assert len([r for r in rendered if r["type"] == "aws:route53/zone:Zone" and r["name"] in priced]) == 1
    assert plan["cost"]["monthly_usd"] == plan["cost"]["placement_monthly_usd"]

    pci = tmp_path / "webshop.yaml"  # the pack added to the stack: its WAF turns on by default too
    pci.write_text((ROOT / "stacks" / "webshop.yaml").read_text().replace("packs: [baseline]", "packs: [baseline, pci-dss]"))
    assert main(["plan", str(pci), "--format", "json"]) in (0, 3)
    guarded = json.loads(capsys.readouterr().out)
    findings = guarded["policy"]["findings"]
    assert not [f for f in findings if f["policy"] in ("compute.public-ip", "network.lb-waf", "encryption.lb-https")
                and f["status"] == "fail"]
    served_at = {(p["cloud"], p["region"]) for p in guarded["placements"] if p["resource"] == "web"}
    firewalls = {"aws:wafv2/webAclAssociation:WebAclAssociation", "gcp:compute/securityPolicy:SecurityPolicy",
                 "azure-native:network:WebApplicationFirewallPolicy"}
    assert {(r["cloud"], r["region"]) for r in guarded["resources"] if r["type"] in firewalls} == served_at


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_plan_is_byte_identical_across_runs(path, capsys, tmp_path):
    outputs = []
    for i in range(2):
        out = tmp_path / f"plan{i}.json"
        assert main(["plan", str(path), "--out", str(out)]) == 0
        outputs.append(out.read_bytes())
    capsys.readouterr()
    assert outputs[0] == outputs[1]


def test_fraud_scoring_constraints():
    result = planned(ROOT / "stacks" / "fraud-scoring.yaml")
    p = result.placement.placements
    arch = {(o.cloud, o.region, o.instance_type): o.arch for o in load_catalog().offerings}
    assert {arch[(s.cloud, s.region, s.instance_type)] for s in p["ingest"].slots} == {"arm64"}
    assert not any(s.spot for s in p["scorer"].slots)  # scorer does not allow spot
    assert len({s.region for s in p["ingest"].slots}) >= 2 and all(s.count <= 4 for s in p["ingest"].slots)
    assert {s.accelerator for s in p["trainer"].slots} == {"A100"}
    assert not set(p["trainer"].locations) & set(p["scorer"].locations)
    assert set(p["ledger"].locations) <= set(p["scorer"].locations)
    assert p["features"].locations[0] in p["trainer"].locations


def test_telemetry_lands_on_aws_graviton():
    """The AWS-heavy example: arm64 compute-optimized types and an HA Postgres are cheapest on AWS in the US."""
    result = planned(ROOT / "stacks" / "telemetry.yaml")
    p = result.placement.placements
    arch = {(o.cloud, o.region, o.instance_type): o.arch for o in load_catalog().offerings}
    assert {cloud for placed in p.values() for cloud in placed.clouds} == {"aws"}
    assert {arch[(s.cloud, s.region, s.instance_type)] for name in ("api", "rollup") for s in p[name].slots} == {"arm64"}
    assert len(p["api"].locations) >= 2 and all(s.count <= 2 for s in p["api"].slots)
    assert set(p["metrics"].locations) <= set(p["api"].locations)
    assert set(p["rollup"].locations) <= set(p["metrics"].locations)
    assert p["archive"].locations == p["rollup"].locations
    rendered = {r.type: r for r in result.rendered if r.source == "metrics" and r.type == "aws:rds/instance:Instance"}
    (db,) = rendered.values()
    assert db.inputs["multiAz"] is True and db.inputs["engine"] == "postgres"
    assert {r.cloud for r in result.rendered} == {"aws"}


@pytest.mark.shared
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_on_real_skypilot_rows_render_schema_conformant_resources(path):
    """Real catalogs bring real quirks (AWS zone IDs, Azure generations, GCP GPU hosts) into rendering."""
    catalog, _ = require_shared(SKYPILOT), require_shared(SCHEMAS)
    result = api.plan(path, api.Session(api.Options(catalog_dir=str(catalog))))
    violations = []
    for resource in result.rendered:
        package = resource.type.split(":")[0]
        if not resource.is_provider and package not in OTHER_PACKAGES and resource.type not in OUTSIDE_SCHEMA_SUBSET:
            violations += [str(v) for v in schema(package).check(resource)]
    assert violations == []
    assert result.plan.catalog.source.startswith("skypilot:") and result.plan.catalog.unparsed_rows > 0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_explanations_never_contradict_the_placement(path):
    result = planned(path)
    placements = result.placement.placements
    stack = result.loaded.stack
    geo_of = {(r.cloud, r.name): r.geo for r in load_catalog().regions}
    apart = {name: set(getattr(spec, "apart", ())) | {other for other, s in stack.resources.items() if name in getattr(s, "apart", ())}
             for name, spec in stack.resources.items()}
    alternatives = 0
    for name, explanation in result.placement.explanations.items():
        used = set(placements[name].locations)
        spec = stack.resources[name]
        for e in explanation.excluded:
            assert e.region is None or (e.cloud, e.region) not in used, (name, e)
            if e.reason == "near":
                assert (e.cloud, e.region) not in set(placements[spec.near].locations), (name, e)
        for a in explanation.alternatives:
            # one chosen slot moved to another offering, still meeting the stack's constraints
            alternatives += 1
            where = (a.cloud, a.region)
            assert a.replaces in explanation.chosen, (name, a)
            assert stack.placement.geo is None or geo_of[where] in stack.placement.geo, (name, a)
            assert not any(where in placements[other].locations for other in apart[name]), (name, a)
            assert spec.near is None or where in placements[spec.near].locations, (name, a)
            if result.placement.objective == "cost":
                # the chosen placement is optimal, so no alternative that keeps the constraints is cheaper
                assert a.monthly_usd >= placements[name].monthly_usd - 0.01, (name, a)
    assert alternatives, "every example has resources with alternatives to explain"


def test_there_is_an_example_workflow():
    assert [p.name for p in WORKFLOWS] == ["release"]


@pytest.mark.parametrize("directory", WORKFLOWS, ids=lambda p: p.name)
def test_example_workflow_validates_and_plans_every_stack(directory, capsys):
    stacks = sorted(p for p in directory.glob("*.yaml") if p.name != "workflow.yaml")
    assert main(["validate", *map(str, stacks)]) == 0
    capsys.readouterr()
    assert main(["plan", str(directory), "--format", "json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert len(planned["stacks"]) == len(stacks)
    for stack in planned["stacks"]:
        plan = stack["plan"]
        assert plan["resources"] and plan["placements"]
        assert {f["status"] for f in plan["network"]["flows"]} <= {"proved"}
        # nothing applied here: every value an upstream settles is unknown, named with its apply, never invented
        for unknown in stack["unknowns"]:
            assert unknown["reference"].startswith("${") and unknown["settled_by"].startswith("apply ")
    assert any(s["unknowns"] for s in planned["stacks"])


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
@pytest.mark.parametrize("packs", ["[baseline]", "[baseline, pci-dss]"])
def test_the_placement_prices_each_clouds_balancers_as_the_bill_does(cloud, packs, capsys, tmp_path):
    """The webshop served from one cloud (its zone too), with and without a WAF: the placement's serving shape
    (``NetworkShape.serving``) adds up to what the rendered balancers, firewalls and zone bill."""
    text = (ROOT / "stacks" / "webshop.yaml").read_text()
    for old, new in (("clouds: [aws, azure, gcp]", f"clouds: [{cloud}]"), ("  provider: aws", f"  provider: {cloud}"),
                     ("min_clouds: 2 ", "min_regions: 2"), ("packs: [baseline]", f"packs: {packs}")):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "webshop.yaml"
    path.write_text(text)
    assert main(["plan", str(path), "--format", "json"]) in (0, 3)
    plan = json.loads(capsys.readouterr().out)
    assert {p["cloud"] for p in plan["placements"]} == {cloud}
    assert len([r for r in plan["resources"] if r["role"] == "balancer"]) >= 2
    assert len([r for r in plan["resources"] if r["role"] == "dns-zone" and r["region"] is None]) == 1
    assert plan["cost"]["placement_monthly_usd"] == pytest.approx(plan["cost"]["monthly_usd"], abs=0.05)
