"""A stack network on GCP: one global VPC, a subnetwork, router and NAT per region, firewall rules.

A GCP VPC is global, so unlike AWS/Azure there is one network per stack network, with regional
subnetworks carrying the per-region blocks. The VPC, its firewalls and its private service access are
global resources (region None) under the global provider, whatever regions come and go.

A site's block (the region's share of the stack network) is split in two halves: the subnetwork takes the
lower one, and the upper one is kept for the private-service-access range of Cloud SQL in that region.
Cloud SQL's private IPs live in that range, not in the subnetwork, and other clouds reach them over the
links only if the range is announced and never collides with another site: inside the site's own block
it is both, since a VPN's Cloud Router announces exactly the site's block. The split depends on the block
alone, so a database arriving later never shrinks (replaces) a subnetwork.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from cloudorch.errors import Problem, UsageError
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Database, Ingress

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


def vpn_router_name(network: str, region: str) -> str:
    """The Cloud Router of a site's VPN tunnels: BGP only, apart from the NAT router."""
    return f"{network}-{CLOUD}-{region}-vpn-router"


#: Private services access takes a /24 or larger allocated range (Google Cloud, "Configure private
#: services access", cloud.google.com/vpc/docs/configure-private-services-access, read 2026-12-07)
PSA_MAX_PREFIX = 24


def split_block(cidr: str) -> tuple[str, str | None]:
    """(subnetwork range, private-service-access range or None) of a site's block: its two halves when the
    upper half is large enough for private services access, else the whole block and no range."""
    block = ipaddress.IPv4Network(cidr)
    if block.prefixlen + 1 > PSA_MAX_PREFIX:
        return cidr, None
    low, high = block.subnets(prefixlen_diff=1)
    return str(low), str(high)


def check_sql_over_peering(ctx: RenderContext) -> list[Problem]:
    """Cloud SQL in one stack network cannot be reached from another network joined to it by VPC peering:
    peering is not transitive, and the database lives in Google's producer network, peered to its own VPC
    only (cloud.google.com/sql/docs/postgres/private-ip, "Connect from another VPC": over Cloud VPN). The
    links cloudorch renders between two GCP networks are peerings, so such a flow is refused where it is
    declared, with the ways to keep it (read 2026-12)."""
    if ctx.network is None:
        return []
    peered = {link.id for link in ctx.network.links if link.kind == "peering"
              and link.a.cloud == link.b.cloud == CLOUD and link.a.network != link.b.network}
    out = []
    for route in ctx.network.flows:
        spec, source = ctx.stack.resources.get(route.target), ctx.stack.resources.get(route.source)
        databases = [name for name, s in ((route.target, spec), (route.source, source))
                     if getattr(s, "kind", None) == "database"]
        if not databases or not any(link in peered for *_, link in route.pairs):
            continue
        index = next((i for i, rule in enumerate(spec.ingress) if rule.from_ == route.source and rule.port == route.port
                      and rule.protocol == route.protocol and rule.last_port == route.last_port), 0)
        out.append(ctx.problem(("resources", route.target, "ingress", index, "from"),
                               f"the flow from {route.source!r} to {route.target!r} crosses a GCP VPC peering between "
                               f"two networks, which Cloud SQL ({', '.join(repr(d) for d in databases)}) cannot be "
                               "reached or answer across (peering is not transitive); put both in one network, or "
                               "keep the database off GCP (placement.clouds / regions)"))
    return out


def check_psa_room(ctx: RenderContext) -> list[Problem]:
    """A Cloud SQL database needs its region's block split (``split_block``). Every block the allocator
    cuts from a valid network (a /20 or wider) can be; a block from elsewhere (an older record) may not."""
    problems = []
    for name, placement in ctx.placed(Database):
        network = ctx.stack.resources[name].network
        for region in sorted({s.region for s in placement.slots if s.cloud == CLOUD}):
            block = next((b.cidr for b in ctx.blocks if (b.network, b.cloud, b.region) == (network, CLOUD, region)), None)
            if block is not None and split_block(block)[1] is None:
                problems.append(ctx.problem(("resources", network, "cidr"), (
                    f"database {name!r} on gcp/{region} needs a private service access range of /{PSA_MAX_PREFIX} "
                    f"or larger in the upper half of the location's block {block}, which is too small: give the "
                    "network a wider CIDR")))
    return problems


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
            asn = vpn_site_asns(ctx).get((network, block.region))
            if asn is not None:
                out.append(_vpn_router(ctx, network, block.region, block.cidr, vpc, asn))
        out.append(_internal_rule(network, vpc, sorted(b.cidr for b in blocks)))
    return out


def _regional(network: str, region: str, cidr: str, vpc: str) -> list[RenderedResource]:
    subnet = subnet_name(network, region)
    router = f"{network}-{CLOUD}-{region}-router"
    return [
        resource(subnet, SUBNETWORK, region, network, {
            "network": ref(vpc, "id"),
            "region": region,
            "ipCidrRange": split_block(cidr)[0],
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


def vpn_site_asns(ctx: RenderContext) -> dict[tuple[str, str], int]:
    """(network, region) -> BGP ASN of every site of this cloud that ends VPN links."""
    out: dict[tuple[str, str], int] = {}
    for link in ctx.links(kind="vpn"):
        for site, side in ((link.a, link.a_side), (link.b, link.b_side)):
            if site.cloud == CLOUD and side is not None:
                out[(site.network, site.region)] = side.asn
    return out


def _vpn_router(ctx: RenderContext, network: str, region: str, cidr: str, vpc: str, asn: int) -> RenderedResource:
    # Custom mode with the site's block as the only prefix: DEFAULT mode would announce every subnetwork
    # of the (global) VPC from every region, and nothing else - never a default route - may cross a link.
    # The block holds the region's private-service-access range too (split_block), so Cloud SQL is announced.
    return resource(vpn_router_name(network, region), ROUTER, region, network, {
        "network": ref(vpc, "id"),
        "region": region,
        "description": f"BGP of network {network}'s VPN links in {region}",
        "bgp": {
            "asn": asn,
            "advertiseMode": "CUSTOM",
            "advertisedIpRanges": [{"range": cidr, "description": f"network {network} in {CLOUD}/{region}"}],
        },
    })


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


def psa_connection_name(network: str) -> str:
    return f"{network}-{CLOUD}-psa-connection"


def psa_range_name(network: str, region: str) -> str:
    """The allocated range of a network's private service access in ``region`` (upper half of its block)."""
    return f"{network}-{CLOUD}-{region}-psa-range"


PEERING_ROUTES = "gcp:compute/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig"


def psa_routes_name(network: str) -> str:
    return f"{network}-{CLOUD}-psa-routes"


def private_service_access(ctx: RenderContext, network: str, regions: list[str]) -> list[RenderedResource]:
    """The peering Cloud SQL's private IPs live behind, with a range in each region that has a database.

    One connection per VPC, not per database: servicenetworking allows a single connection per network and
    service, so every database on the network shares it; it takes one allocated range per region, each the
    upper half of that region's block (``split_block``), so no range ever overlaps another site, on any cloud.
    Google would otherwise pick a free range of the VPC, which knows nothing of the other clouds' blocks.
    """
    out, ranges = [], []
    for region in sorted(set(regions)):
        psa = split_block(ctx.block_for(network, region).cidr)[1]
        if psa is None:  # check_psa_room reports it before rendering
            raise UsageError(f"network {network!r} has no room for private service access in gcp/{region}")
        address, prefix = psa.split("/")
        name = psa_range_name(network, region)
        ranges.append(ref(name, "name"))
        out.append(resource(name, GLOBAL_ADDRESS, None, network, {
            "purpose": "VPC_PEERING",
            "addressType": "INTERNAL",
            "address": address,
            "prefixLength": int(prefix),
            "network": ref(network_name(network), "id"),
            "description": f"private service access for network {network} in {region}",
            "labels": labels(ctx, network),
        }))
    connection = psa_connection_name(network)
    if any(link.kind == "vpn" and network in (link.a.network, link.b.network) for link in ctx.links()):
        # Cloud SQL lives in Google's producer network, peered to ours: it learns the routes back to the
        # other clouds' blocks (learned over the VPN) only if this peering exports custom routes. Without
        # it a client on AWS or Azure reaches the database and never hears back. The type is
        # pulumi-gcp's compute.NetworkPeeringRoutesConfig (10.2.0), absent from the schema subset in
        # ../shared; the schema tests allow it by name for that reason.
        out.append(resource(psa_routes_name(network), PEERING_ROUTES, None, network, {
            "network": ref(network_name(network), "name"),
            "peering": ref(connection, "peering"),
            "exportCustomRoutes": True,
            "importCustomRoutes": False,
        }))
    return out + [
        resource(connection, SERVICE_CONNECTION, None, network, {
            "network": ref(network_name(network), "id"),
            "service": "servicenetworking.googleapis.com",
            "reservedPeeringRanges": ranges,
            # Cloud SQL holds on to the peering for days after its instances are deleted, so a plain
            # delete fails ("Producer services ... are still using this connection") and the peering
            # then blocks deleting the VPC; REMOVE_PEERING drops the peering in that case.
            "deletionPolicy": "REMOVE_PEERING",
        }),
    ]
