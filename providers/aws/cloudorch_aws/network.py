"""One VPC per network block: public and private subnets per zone, internet and NAT egress, flow logs, the
site's customer-managed key, and the VPC's default security group stripped of its rules.

Public subnets route to an internet gateway and only hold what the stack exposes to the internet; private
subnets reach out through a single NAT gateway per region (one, not one per zone: a NAT per zone costs more
than it is worth for egress-only traffic, and a zone outage then only delays outbound calls).
"""

from __future__ import annotations

from cloudorch.placement.model import NetworkBlock
from cloudorch.rendering import RenderContext, RenderedResource, ref

from cloudorch_aws.naming import (
    assume_role_policy, logical, network_zones, policy_json, resource, subnet_cidrs, subnet_name, subnet_part, tags,
    zone_input,
)

FLOW_LOG_RETENTION_DAYS = 365
#: the longest KMS allows between scheduling a key's deletion and the deletion: time to notice a mistake
KEY_DELETION_DAYS = 30
#: the EC2 Auto Scaling service-linked role, which launches the instances and so uses their volumes' key
AUTOSCALING_ROLE = "arn:aws:iam::*:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
#: the subnet tiers, each with its own route table: every route a link adds goes into both
TIERS = ("public", "private")


def vpc_name(network: str, region: str) -> str:
    return logical(network, region, "vpc")


def key_name(network: str, region: str) -> str:
    """The site's customer-managed key: its flow logs, and the disks and databases that ask for one."""
    return logical(network, region, "key")


def route_tables(network: str, region: str) -> dict[str, str]:
    """tier -> the name of its route table: every route table of a network's VPC in ``region``, all of them
    used by subnets."""
    return {tier: logical(network, region, f"{tier}-rt") for tier in TIERS}


class _Builder:
    """Collects one network block's resources; every part is tagged unless the type has no tags."""

    def __init__(self, ctx: RenderContext, network: str, region: str) -> None:
        self.ctx, self.network, self.region = ctx, network, region
        self.out: list[RenderedResource] = []

    def add(self, type_: str, part: str, inputs: dict, *, taggable: bool = True, **extra) -> str:
        name = logical(self.network, self.region, part)
        if taggable:
            inputs = inputs | {"tags": tags(self.ctx, self.network, name)}
        self.out.append(resource(type_, self.network, self.region, part, inputs, **extra))
        return name


def render_network(ctx: RenderContext, network: str, block: NetworkBlock) -> list[RenderedResource]:
    region = block.region
    zones = network_zones(ctx, network, region)
    b = _Builder(ctx, network, region)
    vpc = b.add("aws:ec2/vpc:Vpc", "vpc", {
        "cidrBlock": block.cidr, "enableDnsHostnames": True, "enableDnsSupport": True,
    })
    igw = b.add("aws:ec2/internetGateway:InternetGateway", "igw", {"vpcId": ref(vpc)})

    for (tier, zone), cidr in sorted(subnet_cidrs(block.cidr, zones).items()):
        # No public IP by default even in public subnets: a launch template asks for one explicitly.
        b.add("aws:ec2/subnet:Subnet", subnet_part(region, zone, tier), {
            "vpcId": ref(vpc), "cidrBlock": cidr, **zone_input(zone), "mapPublicIpOnLaunch": False,
        })

    eip = b.add("aws:ec2/eip:Eip", "nat-eip", {"domain": "vpc"})
    nat = b.add("aws:ec2/natGateway:NatGateway", "nat", {
        "allocationId": ref(eip), "subnetId": ref(subnet_name(network, region, zones[0], "public")),
        "connectivityType": "public",
    }, depends_on=(igw,))  # AWS refuses a public NAT gateway until the VPC has an internet gateway

    targets = {"public": {"gatewayId": ref(igw)}, "private": {"natGatewayId": ref(nat)}}
    for tier in TIERS:
        target = targets[tier]
        table = b.add("aws:ec2/routeTable:RouteTable", f"{tier}-rt", {"vpcId": ref(vpc)})
        b.add("aws:ec2/route:Route", f"{tier}-default", {
            "routeTableId": ref(table), "destinationCidrBlock": "0.0.0.0/0", **target,
        }, taggable=False)
        for zone in zones:
            b.add("aws:ec2/routeTableAssociation:RouteTableAssociation", subnet_part(region, zone, tier) + "-rta", {
                "subnetId": ref(subnet_name(network, region, zone, tier)), "routeTableId": ref(table),
            }, taggable=False)

    # AWS's default group admits all traffic among its members and lets everything out; nothing uses it, so
    # adopting it with no rules leaves it admitting nothing (CIS AWS 5.4).
    b.add("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg", {"vpcId": ref(vpc)})
    group_name = f"/cloudorch/{b.ctx.stack.stack}/{b.network}/flow-logs"
    key = _key(b, vpc, group_name)
    _flow_logs(b, vpc, group_name, key)
    return b.out


def _key(b: _Builder, vpc: str, group_name: str) -> str:
    """One key per site, rotated yearly: a key per resource would bill $1 a month each for the same trust.

    Its policy is one string, and the account's statement must name the account, which only a deploy-time
    output carries (the VPC's ownerId): the document is completed around that reference. CloudWatch Logs
    may use it for this site's flow-log group alone; the Auto Scaling service-linked role, which launches
    the instances and so creates their volumes, through EC2 in this region alone (the account in its ARN is
    left open: a role of another account would also need an IAM grant, which service-linked roles lack).
    """
    region = b.region
    head, tail = policy_json({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": "@ACCOUNT@"}, "Action": "kms:*",
             "Resource": "*"},
            {"Sid": "FlowLogs", "Effect": "Allow", "Principal": {"Service": f"logs.{region}.amazonaws.com"},
             "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
             "Resource": "*", "Condition": {"ArnLike": {
                 "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:*:log-group:{group_name}"}}},
            {"Sid": "AutoScalingVolumes", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"},
                                            "ArnLike": {"aws:PrincipalArn": AUTOSCALING_ROLE}}},
            {"Sid": "AutoScalingGrants", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant",
             "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"},
                                            "ArnLike": {"aws:PrincipalArn": AUTOSCALING_ROLE}}},
        ],
    }).split("@ACCOUNT@")
    return b.add("aws:kms/key:Key", "key", {
        "description": f"cloudorch {b.ctx.stack.stack}/{b.network} in {region}",
        "enableKeyRotation": True, "deletionWindowInDays": KEY_DELETION_DAYS,
        "policy": ref(vpc, "ownerId", prefix=head, suffix=tail),
    })


def _flow_logs(b: _Builder, vpc: str, group_name: str, key: str) -> None:
    # A fixed log-group name lets the delivery role's policy (and the key's) name that one group instead of
    # `*`: a policy document is a plain string, so it cannot embed the ARN output of a resource.
    group = b.add("aws:cloudwatch/logGroup:LogGroup", "flow-logs", {
        "name": group_name, "retentionInDays": FLOW_LOG_RETENTION_DAYS, "kmsKeyId": ref(key, "arn"),
    })
    # The actions are the ones AWS documents as the flow-log role's minimum. DescribeLogGroups cannot be
    # narrowed to one group (IAM evaluates it against `log-group:*`), so it gets its own statement; the
    # writes name the group both bare and with `:*`, the forms its actions are evaluated against.
    group_arn = f"arn:aws:logs:{b.region}:*:log-group:{group_name}"
    writer = policy_json({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
                ],
                "Resource": [group_arn, f"{group_arn}:*"],
            },
            {
                "Effect": "Allow", "Action": "logs:DescribeLogGroups",
                "Resource": f"arn:aws:logs:{b.region}:*:log-group:*",
            },
        ],
    })
    role = b.add("aws:iam/role:Role", "flow-logs-role", {
        "assumeRolePolicy": assume_role_policy("vpc-flow-logs.amazonaws.com"),
        "inlinePolicies": [{"name": "write-flow-logs", "policy": writer}],
    })
    b.add("aws:ec2/flowLog:FlowLog", "flow-log", {
        "vpcId": ref(vpc), "trafficType": "ALL", "logDestinationType": "cloud-watch-logs",
        "logDestination": ref(group, "arn"), "iamRoleArn": ref(role, "arn"), "maxAggregationInterval": 60,
    })
