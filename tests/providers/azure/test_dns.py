"""Azure DNS holding other clouds' certificate-validation records: relative names, one record set per name."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from cloudorch.cli.app import main
from cloudorch.rendering import RenderedResource, ref
from cloudorch.rendering.elements import PEER, EndpointView, resolve
from cloudorch_azure.provider import Provider
from tests.providers.serving import https_balancer, names_over
from tests.support import ROOT, webshop_context

RECORD_SET = "azure-native:dns:RecordSet"
ZONE = "shop.example.com"


def _validations(resources) -> list[RenderedResource]:
    return [r for r in resources if r.type == RECORD_SET and "validation" in r.name]


# ACM's validation record is the same in every region of an account: two AWS regions share one record set
NAMES = names_over("azure", "latency", https_balancer("aws", "eu-central-1", "hostname", validations=1),
                   https_balancer("aws", "eu-west-1", "hostname", validations=1), https_balancer("azure", "westeurope"),
                   https_balancer("gcp", "europe-west4"))


def _aws_exports(i: int) -> dict:
    """What AWS's balancer at endpoint ``i`` exports, shaped as its renderer shapes it."""
    cert = f"cert-{i}"
    return {"target": ref(f"lb-{i}", "dnsName"),
            "validation_names": [ref(cert, "domainValidationOptions", path=(0, "resourceRecordName"))],
            "validation_values": [ref(cert, "domainValidationOptions", path=(0, "resourceRecordValue"))]}


def test_a_zone_on_azure_takes_other_clouds_validation_records(schema):
    ctx = dataclasses.replace(webshop_context("azure"), elements=(NAMES,))
    assert not [p for p in Provider().check(ctx) if "dns" in str(p)]  # no longer refused at dns.provider
    out = Provider().render_global_name(ctx, EndpointView(NAMES, 0)).resources
    record, = _validations(out)
    assert record.name == "dns-azure-global-validation-www-shop-example-com-aws-0"  # no region in it
    name, value = record.inputs["relativeRecordSetName"], record.inputs["cnameRecord"]["cname"]
    # the first AWS balancer's (endpoint 1); the name relative to the zone, the value as the cloud gives it
    assert name == {PEER: "global-names", "endpoint": 1, "output": "validation_names", "item": 0, "relative_to": ZONE}
    assert value == {PEER: "global-names", "endpoint": 1, "output": "validation_values", "item": 0}
    assert record.inputs["recordType"] == "CNAME" and record.region is None

    others = {("global-names", i): _aws_exports(i) if b.cloud == "aws" else {
        "target": ref(f"ip-{i}", "ipAddress"), "validation_names": [], "validation_values": []}
        for i, b in enumerate(NAMES.balancers, start=1)}
    resolved = resolve(list(out), others)
    record, = _validations(resolved)
    assert record.inputs["relativeRecordSetName"] == {
        "$ref": "cert-1", "output": "domainValidationOptions", "path": [0, "resourceRecordName"], "relative_to": ZONE}
    assert record.dependencies == ("azure-global", "cert-1", "dns-azure-global-zone", "webshop-azure-global-rg")
    assert [str(v) for r in resolved if r.type.startswith("azure-native:") for v in schema.check(r)] == []


def test_balancers_exporting_no_validation_records_get_none():
    names = names_over("azure", "weighted", https_balancer("azure", "westeurope"), https_balancer("gcp", "europe-west4"))
    ctx = dataclasses.replace(webshop_context("azure"), elements=(names,))
    assert _validations(Provider().render_global_name(ctx, EndpointView(names, 0)).resources) == []


@pytest.fixture
def cross_cloud(tmp_path):
    """stacks/webshop.yaml with its https web on AWS and GCP only, its zone on Azure DNS."""
    stack = yaml.safe_load((ROOT / "stacks" / "webshop.yaml").read_text())
    stack["placement"]["clouds"] = ["aws", "gcp"]
    stack["dns"]["provider"] = "azure"
    stack["resources"]["web"]["spread"] = {"min_clouds": 2, "min_regions": 3, "max_per_region": 2}
    path = tmp_path / "webshop.yaml"
    path.write_text(yaml.safe_dump(stack, sort_keys=False))
    return path


def test_a_stack_served_on_aws_and_gcp_with_its_zone_on_azure_plans(cross_cloud, capsys, schema):
    assert main(["plan", str(cross_cloud), "--format", "json"]) == 0
    first = capsys.readouterr().out
    plan = json.loads(first)
    by_name = {r["name"]: r for r in plan["resources"]}
    assert {r["cloud"] for r in plan["resources"] if r["role"] == "certificate"} == {"aws", "gcp"}
    records = [r for r in plan["resources"] if r["type"] == RECORD_SET and "validation" in r["name"]]
    aws_certs = sorted(n for n, r in by_name.items() if r["type"] == "aws:acm/certificate:Certificate")
    assert len(records) == 1 and aws_certs  # one per name and cloud, however many AWS regions
    name = records[0]["inputs"]["relativeRecordSetName"]
    assert name["relative_to"] == ZONE and name["$ref"] == aws_certs[0] and name["path"] == [0, "resourceRecordName"]
    assert records[0]["inputs"]["cnameRecord"]["cname"]["path"] == [0, "resourceRecordValue"]
    azure = [RenderedResource.model_validate(r) for r in plan["resources"] if r["type"].startswith("azure-native:")]
    assert [str(v) for r in azure for v in schema.check(r)] == []
    assert main(["plan", str(cross_cloud), "--format", "json"]) == 0
    assert capsys.readouterr().out == first  # byte for byte


@pytest.mark.parametrize(("regions", "location", "code"), [
    (None, "westeurope", 0),  # the Azure region standing for the stack's geography, as before
    (["eu-west-1", "eu-central-1", "europe-west4", "europe-west1", "northeurope"], "northeurope", 0),
    (["eu-west-1", "eu-central-1", "europe-west4", "europe-west1"], "westeurope", 3),  # no Azure region allowed
])
def test_the_zones_resource_group_keeps_its_metadata_where_the_stack_allows(cross_cloud, capsys, regions, location,
                                                                           code):
    # an allow-list without westeurope refused the plan at residency.geo on the zone's resource group although
    # it named an Azure region the group could use; naming none, residency still refuses it (README)
    stack = yaml.safe_load(cross_cloud.read_text())
    if regions is not None:
        stack["placement"]["regions"] = regions
        if "northeurope" in regions:  # a region may be listed only of a cloud the stack may use
            stack["placement"]["clouds"] = ["aws", "azure", "gcp"]
    cross_cloud.write_text(yaml.safe_dump(stack, sort_keys=False))
    assert main(["plan", str(cross_cloud), "--format", "json"]) == code
    plan = json.loads(capsys.readouterr().out)
    group = next(r for r in plan["resources"] if r["name"].endswith("-azure-global-rg"))
    assert group["inputs"]["location"] == location
