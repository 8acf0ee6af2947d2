"""Limits of Azure the user controls through the stack file, checked before anything is rendered."""

from __future__ import annotations

import ipaddress

from cloudorch.errors import Problem
from cloudorch.rendering import RenderContext

from cloudorch_azure.database import databases_in
from cloudorch_azure.network import hosts_balancer
from cloudorch_azure.links import vpn_sites
from cloudorch_azure.naming import GATEWAY_SUBNET_PREFIX, SMALLEST_VPN_BLOCK, database_room

#: the smallest block whose second half holds the balancer's /27 and the GatewaySubnet's
SMALLEST_BALANCED_BLOCK = 25


def check(ctx: RenderContext) -> list[Problem]:
    problems = []
    for site in vpn_sites(ctx):
        if ipaddress.IPv4Network(site.cidr).prefixlen > SMALLEST_VPN_BLOCK:
            problems.append(ctx.problem(("resources", site.network, "cidr"), (
                f"the block of {site} ({site.cidr}) is too small for a VPN gateway: Azure needs a "
                f"/{GATEWAY_SUBNET_PREFIX} GatewaySubnet beside the compute subnet, so a block of /{SMALLEST_VPN_BLOCK} "
                "or larger; give the network a larger CIDR")))
    for network, _spec, block in ctx.network_blocks():
        placed = databases_in(ctx, network, block.region)
        balanced = hosts_balancer(ctx, network, block.region)
        room = database_room(block.cidr, balanced)
        beside = "compute subnet, GatewaySubnet and balancer subnet" if balanced else "compute subnet and GatewaySubnet"
        if balanced and ipaddress.IPv4Network(block.cidr).prefixlen > SMALLEST_BALANCED_BLOCK:
            problems.append(ctx.problem(("resources", network, "cidr"), (
                f"the block of {network} in azure/{block.region} ({block.cidr}) is too small for an Application "
                f"Gateway: it needs a /{GATEWAY_SUBNET_PREFIX} subnet of its own beside the compute subnet and "
                f"GatewaySubnet, so a block of /{SMALLEST_BALANCED_BLOCK} or larger; give the network a larger CIDR")))
        elif len(placed) > room:
            problems.append(ctx.problem(("resources", network, "cidr"), (
                f"the block of {network} in azure/{block.region} ({block.cidr}) has room for {room} database "
                f"subnets beside its {beside}, and {len(placed)} databases are placed "
                "there; give the network a larger CIDR")))
    return problems
