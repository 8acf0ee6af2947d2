"""A security group with no inline rules and one rule resource per (port range, source CIDR).

Separate rule resources (aws:vpc/...) rather than inline `ingress` blocks: each rule is its own resource
with its own tags, policies can judge each one, and adding a CIDR does not rewrite the whole group.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudorch.placement.model import NetworkBlock
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Ingress

from cloudorch_aws.naming import logical, resource, slug, tags

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def security_group(
    ctx: RenderContext, source: str, block: NetworkBlock, vpc: str, ingress: Iterable[Ingress], *, egress: bool = True
) -> list[RenderedResource]:
    """The group and its rules. Without ``egress`` the group lets out only the flows ``source`` opens to
    other resources of the stack (``RenderContext.flow_destinations``): AWS's implicit allow-all is removed
    by the provider when it creates a group, so nothing else leaves."""
    region = block.region
    sg = logical(source, region, "sg")
    out = [resource("aws:ec2/securityGroup:SecurityGroup", source, region, "sg", {
        "description": f"cloudorch {ctx.stack.stack}/{source}", "vpcId": ref(vpc),
        "revokeRulesOnDelete": True, "tags": tags(ctx, source, sg),
    })]

    def rule(type_: str, part: str, inputs: dict) -> None:
        name = logical(source, region, part)
        out.append(resource(type_, source, region, part, {"securityGroupId": ref(sg)} | inputs | {
            "tags": tags(ctx, source, name),
        }))

    seen: set[tuple] = set()
    for item in ingress:
        for cidr in ctx.source_cidrs(item):
            key = (item.protocol, item.port, item.last_port, cidr)
            if key in seen:
                continue
            seen.add(key)
            ports = f"{item.port}" if item.last_port == item.port else f"{item.port}-{item.last_port}"
            family = "cidrIpv6" if ":" in cidr else "cidrIpv4"
            rule(INGRESS, f"in-{item.protocol}-{ports}-{_cidr_part(cidr)}", {
                "ipProtocol": item.protocol, "fromPort": item.port, "toPort": item.last_port, family: cidr,
                "description": f"{item.protocol}/{ports} from {item.from_}",
            })
    # Replicas of one network talk to each other freely; everything else must be admitted by a rule.
    rule(INGRESS, "in-network", {
        "ipProtocol": "-1", "cidrIpv4": block.cidr, "description": f"all traffic inside {block.network}",
    })
    if egress:
        rule(EGRESS, "out-all", {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0", "description": "all outbound"})
        return out
    for item, cidr in ctx.flow_destinations(source):
        key = ("out", item.protocol, item.port, item.last_port, cidr)
        if key in seen:
            continue
        seen.add(key)
        ports = f"{item.port}" if item.last_port == item.port else f"{item.port}-{item.last_port}"
        rule(EGRESS, f"out-{item.protocol}-{ports}-{_cidr_part(cidr)}", {
            "ipProtocol": item.protocol, "fromPort": item.port, "toPort": item.last_port, "cidrIpv4": cidr,
            "description": f"{item.protocol}/{ports} to the flows it opens",
        })
    return out


def _cidr_part(cidr: str) -> str:
    return {"0.0.0.0/0": "any", "::/0": "any6"}.get(cidr) or slug(cidr)
