"""Limits of Azure the user controls through the stack file, checked before anything is rendered."""

from __future__ import annotations

import ipaddress

from cloudorch.errors import Problem
from cloudorch.rendering import RenderContext

from cloudorch_azure.database import databases_in
from cloudorch_azure.links import vpn_sites
from cloudorch_azure.naming import GATEWAY_SUBNET_PREFIX, SMALLEST_VPN_BLOCK, database_room


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
        room = database_room(block.cidr)
        if len(placed) > room:
            problems.append(ctx.problem(("resources", network, "cidr"), (
                f"the block of {network} in azure/{block.region} ({block.cidr}) has room for {room} database "
                f"subnets beside its compute subnet and GatewaySubnet, and {len(placed)} databases are placed "
                "there; give the network a larger CIDR")))
    return problems
