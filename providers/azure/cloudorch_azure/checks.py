"""Limits of Azure the user controls through the stack file, checked before anything is rendered."""

from __future__ import annotations

import ipaddress

from cloudorch.capabilities import Requirement, requirement_of
from cloudorch.errors import Problem
from cloudorch.rendering import RenderContext
from cloudorch.spec.models import Compute

from cloudorch_azure.database import databases_in
from cloudorch_azure.network import hosts_balancer
from cloudorch_azure.links import vpn_sites
from cloudorch_azure.naming import CLOUD, GATEWAY_SUBNET_PREFIX, SMALLEST_VPN_BLOCK, database_room

#: the smallest block whose second half holds the balancer's /27 and the GatewaySubnet's
SMALLEST_BALANCED_BLOCK = 25


def check(ctx: RenderContext) -> list[Problem]:
    problems = _passthrough_exposure(ctx)
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


def _passthrough_exposure(ctx: RenderContext) -> list[Problem]:
    """A Standard Load Balancer (``serve.protocol: tcp``) passes clients' addresses through, so the subnet of
    its replicas admits the internet on the backend port; machines of the same subnet with public addresses
    -- another resource's, or the served resource's own -- would be open on that port too, unless the
    resource asks for exactly that itself. Azure scopes a rule to some machines of a subnet only through
    application security groups, which cloudorch does not render, so it refuses the combination."""
    problems = []
    for b in ctx.balancers:
        if b.cloud != CLOUD or b.protocol != "tcp":
            continue
        spec = ctx.stack.resources[b.resource]
        exposed = [other for other, placement in ctx.placed(Compute)
                   if other != b.resource and ctx.stack.resources[other].network == b.network
                   and (CLOUD, b.region) in placement.locations and ctx.public_facing(ctx.stack.resources[other])]
        port = b.backend_port
        where = f"{b.resource} is served over tcp in azure/{b.region} by a Standard Load Balancer, which keeps the " \
                f"clients' addresses, so its replicas' subnet must admit the internet on {port}"
        if exposed:
            names = ", ".join(exposed)
            problems.append(ctx.problem(("resources", b.resource, "serve", "protocol"), (
                f"{where}; {names} {'has' if len(exposed) == 1 else 'have'} public addresses in that subnet and "
                f"would be open on {port} too. Serve {b.resource} over http or https (an Application Gateway, "
                f"which proxies), put {names} in another network, or keep {b.resource} out of "
                f"{'its' if len(exposed) == 1 else 'their'} regions (`apart: [{names}]`)")))
        elif (gap := passthrough_gap(requirement_of(spec))) is not None:
            # placement keeps such a resource off Azure (``Provider.unsupported``); a placement given
            # from outside it still meets this
            problems.append(ctx.problem(("resources", b.resource, "serve", "protocol"), f"{where}; {gap}"))
    return problems


def passthrough_gap(requirement: Requirement) -> str | None:
    """Why Azure cannot serve this compute requirement over a Standard Load Balancer, if it cannot: its
    replicas have public addresses of their own (ingress from outside private space), or resources of its
    network beside it do (``public_neighbour``: asked once a placement put it there), which the subnet's
    rule for the balancer's clients would open on the backend port beyond what their ingress asks."""
    if requirement.detail("serve_protocol") != "tcp":
        return None
    if requirement.detail("public_neighbour") == "yes":
        return ("a Standard Load Balancer (tcp) keeps the clients' addresses, so the replicas' subnet admits the "
                "internet on the backend port, and resources of the same network with public addresses in that "
                "region would be open on it too. Serve it over http or https (an Application Gateway, which "
                "proxies), or put those resources in another network")
    if requirement.detail("public_address") != "yes" or requirement.detail("internet_on_backend_port") != "no":
        return None
    return ("a Standard Load Balancer (tcp) keeps the clients' addresses, so the replicas' subnet admits the "
            "internet on the backend port, and their own public addresses (an ingress from outside private "
            "space) would be open on it too. Serve it over http or https (an Application Gateway, which "
            "proxies), drop that ingress and reach it through the balancer, or admit the internet on the "
            "backend port in its own ingress")
