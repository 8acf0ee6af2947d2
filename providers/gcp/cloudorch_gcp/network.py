"""A stack network on GCP: one global VPC, a subnetwork, router and NAT per region, firewall rules.

A GCP VPC is global, so unlike AWS/Azure there is one network per stack network, with regional
subnetworks carrying the per-region blocks. The VPC, its firewalls and its private service access are
global resources (region None) under the global provider, whatever regions come and go.
"""

from __future__ import annotations

from collections import defaultdict

from cloudorch.errors import UsageError
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Ingress

from cloudorch_gcp.naming import CLOUD, labels, resource

NETWORK = "gcp:compute/network:Network"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
ROUTER_NAT = "gcp:compute/routerNat:RouterNat"
FIREWALL = "gcp:compute/firewall:Firewall"
GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
SERVICE_CONNECTION = "gcp:servicenetworking/connection:Connection"

#: below GCP's default 1000 so an allow here is not shadowed by a hand-made broad rule at the default
RULE_PRIORITY = 900


def network_name(network: str) -> str:
    return f"{network}-{CLOUD}-network"


def subnet_name(network: str, region: str) -> str:
    return f"{network}-{CLOUD}-{region}-subnet"


def check_blocks(ctx: RenderContext, network: str) -> None:
    """Fail early when a resource of ``network`` runs on gcp but the network has no block here."""
    if not any(b.network == network and b.cloud == CLOUD for b in ctx.blocks):
        raise UsageError(
            f"network {network!r} has no address block on gcp",
            hint="the placement must allocate a block wherever a resource of the network runs",
        )


def render_networks(ctx: RenderContext) -> list[RenderedResource]:
    by_network: dict[str, list] = defaultdict(list)
    for network, _spec, block in ctx.network_blocks():
        by_network[network].append(block)
    out: list[RenderedResource] = []
    for network, blocks in sorted(by_network.items()):
        vpc = network_name(network)
        out.append(resource(vpc, NETWORK, None, network, {
            "autoCreateSubnetworks": False,
            # GLOBAL: routes learnt by a router in one region (VPN, interconnect to the other clouds'
            # blocks) must reach subnetworks in every region of the stack
            "routingMode": "GLOBAL",
            "description": f"cloudorch stack {ctx.stack.stack}, network {network}",
        }))
        for block in sorted(blocks, key=lambda b: b.region):
            out.extend(_regional(network, block.region, block.cidr, vpc))
        out.append(_internal_rule(network, vpc, sorted(b.cidr for b in blocks)))
    return out


def _regional(network: str, region: str, cidr: str, vpc: str) -> list[RenderedResource]:
    subnet = subnet_name(network, region)
    router = f"{network}-{CLOUD}-{region}-router"
    return [
        resource(subnet, SUBNETWORK, region, network, {
            "network": ref(vpc, "id"),
            "region": region,
            "ipCidrRange": cidr,
            "stackType": "IPV4_ONLY",
            # instances have no external IP by default; this lets them reach Google APIs anyway
            "privateIpGoogleAccess": True,
            "logConfig": {
                "aggregationInterval": "INTERVAL_5_SEC",
                "flowSampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
        }),
        resource(router, ROUTER, region, network, {"network": ref(vpc, "id"), "region": region}),
        # Cloud NAT gives private instances egress (package updates) without exposing them
        resource(f"{network}-{CLOUD}-{region}-nat", ROUTER_NAT, region, network, {
            "router": ref(router, "name"),
            "region": region,
            "natIpAllocateOption": "AUTO_ONLY",
            "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
            "subnetworks": [{"name": ref(subnet, "id"), "sourceIpRangesToNats": ["ALL_IP_RANGES"]}],
            "logConfig": {"enable": True, "filter": "ERRORS_ONLY"},
        }),
    ]


def _internal_rule(network: str, vpc: str, cidrs: list[str]) -> RenderedResource:
    # Everything else inbound hits GCP's implied deny-all-ingress (priority 65535); an explicit copy would
    # only add a resource, and GCP does not let it be removed anyway.
    return resource(f"{network}-{CLOUD}-allow-internal", FIREWALL, None, network, {
        "network": ref(vpc, "id"),
        "description": f"traffic inside network {network}'s gcp blocks",
        "direction": "INGRESS",
        "priority": RULE_PRIORITY,
        "sourceRanges": cidrs,
        "allows": [{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}],
    })


def ingress_rules(
    ctx: RenderContext, source: str, network: str, rules: list[Ingress], target_tag: str
) -> list[RenderedResource]:
    """One firewall per ingress rule, admitting ctx.source_cidrs(rule) to the instances tagged target_tag."""
    check_blocks(ctx, network)
    out = []
    for i, rule in enumerate(rules):
        cidrs = ctx.source_cidrs(rule)
        if not cidrs:
            # a GCP ingress rule without any source admits 0.0.0.0/0: a rule whose source resource is not
            # placed anywhere must admit nothing, so it is not rendered at all
            continue
        ports = str(rule.port) if rule.last_port == rule.port else f"{rule.port}-{rule.last_port}"
        out.append(resource(f"{source}-{CLOUD}-ingress-{i}-{rule.protocol}-{ports}", FIREWALL, None, source, {
            "network": ref(network_name(network), "id"),
            "description": f"{source}: {rule.protocol}/{ports} from {rule.from_}",
            "direction": "INGRESS",
            "priority": RULE_PRIORITY,
            "sourceRanges": cidrs,
            "targetTags": [target_tag],
            "allows": [{"protocol": rule.protocol, "ports": [ports]}],
            "logConfig": {"metadata": "EXCLUDE_ALL_METADATA"},
        }))
    return out


def psa_names(network: str) -> tuple[str, str]:
    """(reserved range, peering connection) of a network's private service access."""
    return f"{network}-{CLOUD}-psa-range", f"{network}-{CLOUD}-psa-connection"


def private_service_access(ctx: RenderContext, network: str) -> list[RenderedResource]:
    """The peering Cloud SQL's private IPs live behind.

    One per VPC, not per database: servicenetworking allows a single connection per network and service,
    so every database on the network shares it.
    """
    range_name, connection = psa_names(network)
    return [
        resource(range_name, GLOBAL_ADDRESS, None, network, {
            "purpose": "VPC_PEERING",
            "addressType": "INTERNAL",
            # /20 (4096 addresses) is plenty for a stack's Cloud SQL instances; Google picks the range
            # among the ranges free in the VPC
            "prefixLength": 20,
            "network": ref(network_name(network), "id"),
            "description": f"private service access for network {network}",
            "labels": labels(ctx, network),
        }),
        resource(connection, SERVICE_CONNECTION, None, network, {
            "network": ref(network_name(network), "id"),
            "service": "servicenetworking.googleapis.com",
            "reservedPeeringRanges": [ref(range_name, "name")],
            # Cloud SQL holds on to the peering for days after its instances are deleted, so a plain
            # delete fails ("Producer services ... are still using this connection") and the peering
            # then blocks deleting the VPC; REMOVE_PEERING drops the peering in that case.
            "deletionPolicy": "REMOVE_PEERING",
        }),
    ]
