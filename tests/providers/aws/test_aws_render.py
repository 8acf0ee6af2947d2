"""The AWS provider's rendering, pinned to hand-made placements (tests/support.py and one built here)."""

from __future__ import annotations

import pytest

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext, RenderedResource, refs_in
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.spec.models import Stack
from cloudorch_aws.provider import Provider
from tests.support import OUTSIDE_SCHEMA_SUBSET, SCHEMAS, require_shared, webshop_context, webshop_placement

ZONES = ("us-east-1a", "us-east-1b")
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _slot(cloud: str, region: str, itype: str, count: int, **kw) -> Slot:
    return Slot(cloud=cloud, region=region, instance_type=itype, count=count, vcpus=2, memory_gib=8,
                hourly_usd=0.1 * count, monthly_usd=73.0 * count, **kw)


def mixed_context() -> RenderContext:
    """arm64 spot workers, an HA mysql, a public bucket, and a replica group placed on gcp (not ours)."""
    stack = Stack.model_validate({
        "stack": "edge",
        "tags": {"team": "edge"},
        "resources": {
            "core": {"kind": "network", "cidr": "10.60.0.0/16"},
            "workers": {
                "kind": "compute", "network": "core", "count": 5, "cpu": 2, "memory_gb": 8, "arch": "arm64",
                "spot": True, "image": "debian-12", "disk_gb": 30,
                "ingress": [{"port": 8000, "to_port": 8080, "from": "192.168.10.0/24"}],
            },
            "ledger": {
                "kind": "database", "network": "core", "engine": "mysql", "version": "8.0", "storage_gb": 50,
                "backup_days": 30, "high_availability": True, "ingress": [{"port": 3306, "from": "workers"}],
            },
            "site": {"kind": "bucket", "public": True},
        },
    })
    placements = {
        "workers": ResourcePlacement(resource="workers", kind="compute", slots=(
            _slot("aws", "us-east-1", "m7g.large", 3, spot=True, zones=ZONES),
            _slot("gcp", "us-central1", "t2a-standard-2", 2, spot=True, zones=("us-central1-a",)),
        )),
        "ledger": ResourcePlacement(resource="ledger", kind="database", slots=(
            _slot("aws", "us-east-1", "db.r6g.large", 1, zones=ZONES),
        )),
        "site": ResourcePlacement(resource="site", kind="bucket", cloud="aws", region="us-east-1"),
    }
    networks = (
        NetworkBlock(network="core", cloud="aws", region="us-east-1", cidr="10.60.0.0/20"),
        NetworkBlock(network="core", cloud="gcp", region="us-central1", cidr="10.60.16.0/20"),
    )
    return RenderContext(stack=stack, placement=PlacementResult(objective="cost", placements=placements,
                                                                networks=networks), cloud="aws")


CONTEXTS = {"webshop": lambda: webshop_context("aws"), "mixed": mixed_context}


@pytest.fixture(params=sorted(CONTEXTS))
def rendered(request) -> list[RenderedResource]:
    return Provider().render(CONTEXTS[request.param]())


def by_type(resources: list[RenderedResource], token: str) -> list[RenderedResource]:
    return [r for r in resources if r.type == token]


def named(resources: list[RenderedResource], name: str) -> RenderedResource:
    return next(r for r in resources if r.name == name)


# -- schema conformance -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schema() -> PackageSchema:
    path = require_shared(SCHEMAS / "aws.json")
    return PackageSchema.load(path)


@pytest.mark.shared
def test_every_resource_conforms_to_the_schema(rendered, schema):
    checked = [r for r in rendered if not r.is_provider and r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert checked
    assert {r.type for r in checked} <= set(schema.resources)
    violations = [str(v) for r in checked for v in schema.check(r)]
    assert violations == []


@pytest.mark.shared
def test_schema_version_matches_the_declared_plugin(schema):
    pins = {p.name: p.version for p in Provider.pulumi_plugins}
    assert pins[schema.name] == schema.version
    random = PackageSchema.load(SCHEMAS / "random.json")  # the links' generated pre-shared keys
    assert pins == {schema.name: schema.version, random.name: random.version}


# -- graph structure --------------------------------------------------------------------------------------
def test_names_unique_lower_case_and_cloud_scoped(rendered):
    names = [r.name for r in rendered]
    assert len(names) == len(set(names))
    for r in rendered:
        assert r.name == r.name.lower() and r.cloud == "aws"
        if not r.is_provider:
            assert r.name.startswith(f"{r.source}-aws-{r.region}-")


def test_every_dependency_is_rendered(rendered):
    names = {r.name for r in rendered}
    for r in rendered:
        assert set(r.dependencies) <= names, r.name


def test_every_resource_uses_the_provider_of_its_region(rendered):
    providers = {r.name: r for r in rendered if r.is_provider}
    assert all(p.type == "pulumi:providers:aws" and p.inputs["region"] == p.region for p in providers.values())
    for r in rendered:
        if not r.is_provider:
            assert r.provider in providers and providers[r.provider].region == r.region, r.name


def test_rendering_is_deterministic_and_sorted():
    for make in CONTEXTS.values():
        first, second = Provider().render(make()), Provider().render(make())
        assert first == second
        assert [(r.region, r.name) for r in first] == sorted((r.region, r.name) for r in first)


def test_nothing_renders_for_another_cloud():
    rendered = Provider().render(mixed_context())
    assert {r.region for r in rendered} == {"us-east-1"}
    assert not [r for r in rendered if "gcp" in r.name or "us-central1" in r.name]
    stack, placement = webshop_placement("gcp")
    assert Provider().render(RenderContext(stack=stack, placement=placement, cloud="aws")) == []


def test_taggable_resources_carry_the_stack_tags(rendered, schema):
    for r in rendered:
        if not r.is_provider and ("tags" in schema.resources[r.type]["inputProperties"]
                                  if r.type in schema.resources else "tags" in r.inputs):
            tags = r.inputs["tags"]
            tags = {t["key"]: t["value"] for t in tags} if isinstance(tags, list) else tags
            assert tags["cloudorch-resource"] == r.source, r.name


# -- compute ----------------------------------------------------------------------------------------------
def test_scaling_groups_are_fixed_at_the_slot_count():
    ctx = webshop_context("aws")
    rendered = Provider().render(ctx)
    groups = by_type(rendered, "aws:autoscaling/group:Group")
    slots = ctx.placement.placements["web"].slots
    assert len(groups) == len(slots)
    for slot in slots:
        (group,) = [g for g in groups if g.region == slot.region]
        assert group.inputs["desiredCapacity"] == group.inputs["minSize"] == group.inputs["maxSize"] == slot.count


def test_internet_ingress_on_443_admits_the_world_on_443_only():
    rendered = Provider().render(webshop_context("aws"))
    for region in ("eu-west-1", "eu-central-1"):
        sg = f"web-aws-{region}-sg"
        rules = [r for r in by_type(rendered, INGRESS)
                 if r.inputs["securityGroupId"]["$ref"] == sg]
        world = [r.inputs for r in rules if r.inputs.get("cidrIpv4") == "0.0.0.0/0"]
        assert world == [{**world[0], "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}]
        # the only other rule is the resource's own network block
        others = {r.inputs["cidrIpv4"] for r in rules if r.inputs.get("cidrIpv4") != "0.0.0.0/0"}
        assert others == {webshop_context("aws").block_for("net", region).cidr}


def test_internet_facing_groups_use_public_subnets_private_ones_do_not():
    web = named(Provider().render(webshop_context("aws")), "web-aws-eu-west-1-m7i-xlarge-asg")
    assert {s["$ref"] for s in web.inputs["vpcZoneIdentifiers"]} == {
        f"net-aws-eu-west-1-public-{z}" for z in "abc"}
    workers = named(Provider().render(mixed_context()), "workers-aws-us-east-1-m7g-large-spot-asg")
    assert {s["$ref"] for s in workers.inputs["vpcZoneIdentifiers"]} == {
        "core-aws-us-east-1-private-a", "core-aws-us-east-1-private-b"}


def test_launch_templates_are_hardened_and_spot_only_when_asked():
    on_demand = named(Provider().render(webshop_context("aws")), "web-aws-eu-west-1-m7i-xlarge-lt").inputs
    spot = named(Provider().render(mixed_context()), "workers-aws-us-east-1-m7g-large-spot-lt").inputs
    for template, size in ((on_demand, 40), (spot, 30)):
        assert template["metadataOptions"]["httpTokens"] == "required"
        (disk,) = template["blockDeviceMappings"]
        assert disk["ebs"] == {**disk["ebs"], "encrypted": "true", "volumeSize": size, "volumeType": "gp3"}
    assert "instanceMarketOptions" not in on_demand
    assert spot["instanceMarketOptions"]["marketType"] == "spot"
    assert on_demand["networkInterfaces"][0]["associatePublicIpAddress"] == "true"
    assert spot["networkInterfaces"][0]["associatePublicIpAddress"] == "false"


def test_images_resolve_per_architecture():
    from cloudorch_aws.images import image_id

    spot = named(Provider().render(mixed_context()), "workers-aws-us-east-1-m7g-large-spot-lt").inputs
    assert spot["imageId"] == image_id("debian-12", "arm64")
    assert spot["imageId"] == "resolve:ssm:/aws/service/debian/release/12/latest/arm64"
    for image in Provider.images:
        x86, arm = image_id(image, "x86_64"), image_id(image, "arm64")
        assert x86 != arm and x86.startswith("resolve:ssm:/aws/service/")
        assert "amd64" in x86 and "arm64" in arm
    assert {"ubuntu-24.04", "ubuntu-22.04", "debian-12"} <= set(Provider.images)


def test_unknown_image_is_a_usage_error():
    from cloudorch.errors import UsageError
    from cloudorch_aws.images import image_id

    with pytest.raises(UsageError):
        image_id("windows-95", "x86_64")


# -- database ---------------------------------------------------------------------------------------------
def test_database_is_private_encrypted_and_backed_up():
    for make, name, days, ha in ((lambda: webshop_context("aws"), "orders-db-aws-eu-west-1-db", 14, False),
                                 (mixed_context, "ledger-aws-us-east-1-db", 30, True)):
        db = named(Provider().render(make()), name).inputs
        assert db["publiclyAccessible"] is False and db["storageEncrypted"] is True
        assert db["backupRetentionPeriod"] == days and db["multiAz"] is ha
        assert db["manageMasterUserPassword"] is True and "password" not in db
        assert db["deletionProtection"] is True and db["finalSnapshotIdentifier"]


def test_database_ingress_from_a_resource_admits_exactly_its_blocks():
    ctx = webshop_context("aws")
    rules = [r.inputs for r in by_type(Provider().render(ctx), INGRESS)
             if r.source == "orders-db" and r.inputs.get("fromPort") == 5432]
    assert {r["cidrIpv4"] for r in rules} == {b.cidr for b in ctx.placement.blocks("net")}
    assert all(r["toPort"] == 5432 and r["ipProtocol"] == "tcp" for r in rules)
    # mysql: the workers run on aws and gcp, so both clouds' blocks are admitted
    mixed = mixed_context()
    rules = [r.inputs for r in by_type(Provider().render(mixed), INGRESS)
             if r.source == "ledger" and r.inputs.get("fromPort") == 3306]
    assert {r["cidrIpv4"] for r in rules} == {"10.60.0.0/20", "10.60.16.0/20"}


def test_database_subnet_group_spans_private_subnets_of_two_zones():
    group = named(Provider().render(mixed_context()), "ledger-aws-us-east-1-subnets").inputs
    assert [s["$ref"] for s in group["subnetIds"]] == ["core-aws-us-east-1-private-a", "core-aws-us-east-1-private-b"]


# -- buckets ----------------------------------------------------------------------------------------------
def test_private_bucket_blocks_all_public_access_and_public_one_does_not():
    private = Provider().render(webshop_context("aws"))
    block = named(private, "assets-aws-eu-west-1-public-access").inputs
    assert all(block[k] is True for k in BLOCKS)
    assert named(private, "assets-aws-eu-west-1-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    public = Provider().render(mixed_context())
    block = named(public, "site-aws-us-east-1-public-access").inputs
    assert not any(block[k] for k in BLOCKS)
    assert named(public, "site-aws-us-east-1-versioning").inputs["versioningConfiguration"]["status"] == "Suspended"
    for rendered, name in ((private, "assets-aws-eu-west-1"), (public, "site-aws-us-east-1")):
        (rule,) = named(rendered, f"{name}-encryption").inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        assert named(rendered, f"{name}-ownership").inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_prefix_is_a_valid_s3_prefix():
    from cloudorch_aws.bucket import MAX_PREFIX, bucket_prefix

    prefix = bucket_prefix("a-very-long-stack-name-for-testing", "and-a-long-bucket-name-too")
    assert len(prefix) <= MAX_PREFIX and prefix.endswith("-") and prefix == prefix.lower() and "--" not in prefix


# -- network ----------------------------------------------------------------------------------------------
def test_network_has_flow_logs_and_subnets_inside_the_block():
    import ipaddress

    ctx = webshop_context("aws")
    rendered = Provider().render(ctx)
    for _, _, block in ctx.network_blocks():
        vpc = named(rendered, f"net-aws-{block.region}-vpc")
        assert vpc.inputs["cidrBlock"] == block.cidr and vpc.inputs["enableDnsHostnames"] is True
        subnets = [r for r in by_type(rendered, "aws:ec2/subnet:Subnet") if r.region == block.region]
        nets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
        assert len(subnets) == 6 and all(n.subnet_of(ipaddress.ip_network(block.cidr)) for n in nets)
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
        (flow,) = [r for r in by_type(rendered, "aws:ec2/flowLog:FlowLog") if r.region == block.region]
        assert flow.inputs["vpcId"]["$ref"] == vpc.name and flow.inputs["trafficType"] == "ALL"


def test_no_secret_values_in_inputs(rendered):
    for r in rendered:
        for key in ("password", "masterPassword", "adminPassword"):
            assert key not in r.inputs
        assert all(ref["$ref"] for ref in refs_in(r.inputs))


def _egress(rendered: list[RenderedResource], region: str) -> dict[str, RenderedResource]:
    """Where each subnet of the region sends traffic for the internet: the resource its table's default
    route points at (a subnet with no association, or a table with no default route, is missing here)."""
    by_name = {r.name: r for r in rendered}
    default_route = {r.inputs["routeTableId"]["$ref"]: r for r in by_type(rendered, "aws:ec2/route:Route")
                     if r.region == region and r.inputs["destinationCidrBlock"] == "0.0.0.0/0"}
    out = {}
    for rta in by_type(rendered, "aws:ec2/routeTableAssociation:RouteTableAssociation"):
        route = default_route.get(rta.inputs["routeTableId"]["$ref"]) if rta.region == region else None
        if route is not None:
            target = route.inputs.get("gatewayId") or route.inputs.get("natGatewayId")
            assert rta.inputs["subnetId"]["$ref"] not in out, "a subnet associated twice"
            out[rta.inputs["subnetId"]["$ref"]] = by_name[target["$ref"]]
    return out


def test_public_subnets_reach_the_internet_through_the_gateway_private_ones_through_the_nat(rendered):
    regions = {r.region for r in by_type(rendered, "aws:ec2/vpc:Vpc")}
    assert regions
    for region in regions:
        subnets = [s for s in by_type(rendered, "aws:ec2/subnet:Subnet") if s.region == region]
        egress = _egress(rendered, region)
        assert set(egress) == {s.name for s in subnets}, "every subnet of every zone has a default route"
        (igw,) = [r for r in by_type(rendered, "aws:ec2/internetGateway:InternetGateway") if r.region == region]
        (nat,) = [r for r in by_type(rendered, "aws:ec2/natGateway:NatGateway") if r.region == region]
        for subnet in subnets:
            public = "-public-" in subnet.name
            assert egress[subnet.name] == (igw if public else nat), subnet.name
            # no subnet hands out public addresses; a launch template asks for one where ingress needs it
            assert subnet.inputs["mapPublicIpOnLaunch"] is False, subnet.name
        assert "-public-" in nat.inputs["subnetId"]["$ref"] and nat.inputs["connectivityType"] == "public"
        # AWS refuses a public NAT gateway in a VPC that has no internet gateway yet
        assert igw.name in nat.dependencies
        # a NAT gateway's public address must be a VPC Elastic IP
        eip = next(r for r in rendered if r.name == nat.inputs["allocationId"]["$ref"])
        assert eip.type == "aws:ec2/eip:Eip" and eip.inputs["domain"] == "vpc"


def test_the_vpc_resolves_names(rendered):
    # RDS endpoints and the SSM agent need the Amazon resolver and DNS hostnames inside the VPC
    for vpc in by_type(rendered, "aws:ec2/vpc:Vpc"):
        assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True


def test_flow_logs_reach_their_log_group_through_a_role_allowed_to_write_it(rendered):
    import json

    for flow in by_type(rendered, "aws:ec2/flowLog:FlowLog"):
        group = named(rendered, flow.inputs["logDestination"]["$ref"])
        role = named(rendered, flow.inputs["iamRoleArn"]["$ref"])
        assert flow.inputs["logDestinationType"] == "cloud-watch-logs" and group.type.startswith("aws:cloudwatch/")
        assert flow.inputs["maxAggregationInterval"] == 60  # one minute, the finest AWS offers (else 600)
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        (inline,) = role.inputs["inlinePolicies"]
        document = json.loads(inline["policy"])
        assert document["Version"] == trust["Version"] == "2012-10-17"  # the current IAM policy language
        allowed = [st for st in document["Statement"] if st["Effect"] == "Allow"]
        writes = next(st for st in allowed if "logs:PutLogEvents" in st["Action"])
        assert f"log-group:{group.inputs['name']}:*" in " ".join(writes["Resource"])
        assert any(st["Action"] == "logs:DescribeLogGroups" for st in allowed)


def test_flow_logs_are_kept_for_a_year(rendered):
    # a year is what PCI DSS 10.5.1 asks (logging.log-retention); keeping them longer would cost for nothing
    groups = [g for g in by_type(rendered, "aws:cloudwatch/logGroup:LogGroup") if g.name.endswith("-flow-logs")]
    assert groups and all(g.inputs["retentionInDays"] == 365 for g in groups)
