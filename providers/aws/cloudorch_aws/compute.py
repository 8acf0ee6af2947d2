"""Compute: per region a security group and an instance role; per slot a launch template and an ASG.

One auto scaling group per (region, instance type, spot) slot with a fixed size (desired = min = max =
the planned count): the planner decided the replica count, so nothing here may scale it away. The ASG
still replaces unhealthy or reclaimed spot instances, which plain instances would not.
"""

from __future__ import annotations

from cloudorch.placement.model import ResourcePlacement, Slot
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Compute

from cloudorch_aws.balancer import backend_rules
from cloudorch_aws.images import image_id, root_device
from cloudorch_aws.naming import CLOUD, assume_role_policy, logical, resource, subnets_for, tags
from cloudorch_aws.network import key_name, vpc_name
from cloudorch_aws.security import security_group

#: lets operators reach instances through Session Manager, so no SSH port needs to be opened for them
SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def render_compute(
    ctx: RenderContext, name: str, spec: Compute, placement: ResourcePlacement
) -> list[RenderedResource]:
    slots: dict[tuple[str, str, bool], list[Slot]] = {}
    for slot in placement.slots:
        if slot.cloud == CLOUD:
            slots.setdefault((slot.region, slot.instance_type, slot.spot), []).append(slot)
    out: list[RenderedResource] = []
    for region in sorted({region for region, _, _ in slots}):
        out += _regional(ctx, name, spec, region)
    for (region, itype, spot), group in sorted(slots.items()):
        out += _scaling_group(ctx, name, spec, region, itype, spot, group)
    return out


def _regional(ctx: RenderContext, name: str, spec: Compute, region: str) -> list[RenderedResource]:
    block = ctx.block_for(spec.network, region)
    out = security_group(ctx, name, block, vpc_name(spec.network, region), spec.ingress)
    balancer = ctx.balancer_of(name, region)
    if balancer is not None:
        out += backend_rules(ctx, name, region, balancer)
    role, profile = logical(name, region, "role"), logical(name, region, "profile")
    out += [
        resource("aws:iam/role:Role", name, region, "role", {
            "assumeRolePolicy": assume_role_policy("ec2.amazonaws.com"), "tags": tags(ctx, name, role),
        }),
        resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", name, region, "role-ssm", {
            "role": ref(role, "name"), "policyArn": SSM_CORE_POLICY,
        }),
        resource("aws:iam/instanceProfile:InstanceProfile", name, region, "profile", {
            "role": ref(role, "name"), "tags": tags(ctx, name, profile),
        }),
    ]
    return out


def _scaling_group(
    ctx: RenderContext, name: str, spec: Compute, region: str, itype: str, spot: bool, group: list[Slot]
) -> list[RenderedResource]:
    count = sum(slot.count for slot in group)
    zones = tuple(sorted({zone for slot in group for zone in slot.zones}))
    part = itype + ("-spot" if spot else "")
    lt, asg = logical(name, region, f"{part}-lt"), logical(name, region, f"{part}-asg")
    # One rule for all clouds: a public address exactly when something outside private space must reach in.
    public = ctx.public_facing(spec)
    instance_tags = tags(ctx, name, asg)

    template = {
        "imageId": image_id(spec.image, spec.arch),
        "instanceType": itype,
        "iamInstanceProfile": {"arn": ref(logical(name, region, "profile"), "arn")},
        # IMDSv2 only; a hop limit of 1 keeps the credentials away from containers on the host.
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{
            "deviceName": root_device(spec.image),
            "ebs": {
                "volumeSize": spec.disk_gb, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true",
                **({"kmsKeyId": ref(key_name(spec.network, region), "arn")} if spec.customer_managed_key else {}),
            },
        }],
        # Security groups go on the interface because a template that sets the interface (for the public
        # address) may not also set vpcSecurityGroupIds.
        "networkInterfaces": [{
            "deviceIndex": 0, "associatePublicIpAddress": "true" if public else "false",
            "securityGroups": [ref(logical(name, region, "sg"))], "deleteOnTermination": "true",
        }],
        "monitoring": {"enabled": True},
        "updateDefaultVersion": True,
        "tagSpecifications": [{"resourceType": kind, "tags": instance_tags} for kind in ("instance", "volume")],
        "tags": tags(ctx, name, lt),
    }
    if spot:
        template["instanceMarketOptions"] = {
            "marketType": "spot",
            "spotOptions": {"spotInstanceType": "one-time", "instanceInterruptionBehavior": "terminate"},
        }
    subnets = subnets_for(ctx, spec.network, region, "public" if public else "private", zones)
    scaling = {
        "desiredCapacity": count, "minSize": count, "maxSize": count,
        "vpcZoneIdentifiers": [ref(subnet) for subnet in subnets],
        # `$Latest` with updateDefaultVersion: a template change applies to the next replacement; a ref to
        # latestVersion would be an integer output where the input wants a string.
        "launchTemplate": {"id": ref(lt), "version": "$Latest"},
        "healthCheckType": "EC2", "healthCheckGracePeriod": 300,
        **_balanced(name, region, ctx),
        "tags": [{"key": k, "value": v, "propagateAtLaunch": False} for k, v in instance_tags.items()],
    }
    return [
        resource("aws:ec2/launchTemplate:LaunchTemplate", name, region, f"{part}-lt", template),
        resource("aws:autoscaling/group:Group", name, region, f"{part}-asg", scaling),
    ]


def _balanced(name: str, region: str, ctx: RenderContext) -> dict:
    """A served resource's groups join its balancer's target group, and replace a replica the balancer
    finds unhealthy (not only one EC2 finds broken)."""
    if ctx.balancer_of(name, region) is None:
        return {}
    return {"targetGroupArns": [ref(logical(name, region, "lb-tg"), "arn")], "healthCheckType": "ELB"}
