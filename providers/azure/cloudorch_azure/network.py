"""A network block on Azure: a virtual network, its compute subnet, the subnet's security group and a
NAT gateway for outbound traffic.

The NAT gateway is not optional: VMs of a Flexible scale set get no default outbound access, and Azure
retired default outbound access for new virtual networks (September 2025), so without it replicas without
a public address could not reach package mirrors or any other internet endpoint.

Flow logs are not rendered: they need a Network Watcher and a flow-log resource, and neither is in the
azure-native schema subset cloudorch pins (see the provider's report).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloudorch.rendering import RenderContext, RenderedResource, ref

from cloudorch_azure.naming import CLOUD, balancer_prefix, compute_prefix, logical, make, rg_ref

if TYPE_CHECKING:
    from cloudorch.rendering.service import Balancer

NSG = "azure-native:network:NetworkSecurityGroup"
RULE = "azure-native:network:SecurityRule"

# Priorities: own block first, ingress rules from 200 up, and a closing deny at the bottom. The deny
# overrides Azure's built-in AllowVnetInBound (65000), which would otherwise admit every peered or
# VPN-connected range and make the ingress rules meaningless.
SELF_PRIORITY = 100
FIRST_INGRESS_PRIORITY = 200
DENY_PRIORITY = 4096
#: the replicas' rules admitting their balancer sit between the site's own block and the ingress rules:
#: four per served resource of the site (two sources, two ports at most), so up to 12 served resources
FIRST_BALANCER_PRIORITY = 150
#: the balancer subnet's group: the platform's rules first, then four listener ports per balancer
FIRST_LISTENER_PRIORITY = 110
_PER_BALANCER = 4
#: what an Application Gateway v2 subnet must admit: the platform's management of the gateway
#: (GatewayManager, ports 65200-65535) and Azure's load balancer probing its instances ("Application
#: Gateway infrastructure configuration", Microsoft Learn, read 2026-12)
GATEWAY_MANAGER_PORTS = "65200-65535"


def vnet_name(network: str, region: str) -> str:
    return logical(network, region, "vnet")


def subnet_name(network: str, region: str) -> str:
    return logical(network, region, "subnet")


def nsg_name(network: str, region: str) -> str:
    return logical(network, region, "nsg")


def balancer_subnet_name(network: str, region: str) -> str:
    return logical(network, region, "lb-subnet")


def balancer_nsg_name(network: str, region: str) -> str:
    return logical(network, region, "lb-nsg")


def hosts_balancer(ctx: RenderContext, network: str, region: str) -> bool:
    """Whether an Application Gateway of this cloud lives in this network block (it then has its own /27)."""
    return any(b.cloud == CLOUD and b.network == network and b.region == region and b.protocol != "tcp"
               for b in ctx.balancers)


def balancer_rule_priority(ctx: RenderContext, b: Balancer, k: int, *, backend: bool = False) -> int:
    """Priorities numbered by served resource within the site, so two balancers never collide."""
    site = sorted(x.resource for x in ctx.balancers
                  if x.cloud == CLOUD and x.network == b.network and x.region == b.region)
    first = FIRST_BALANCER_PRIORITY if backend else FIRST_LISTENER_PRIORITY
    priority = first + _PER_BALANCER * site.index(b.resource) + k
    if k >= _PER_BALANCER or priority >= (FIRST_INGRESS_PRIORITY if backend else DENY_PRIORITY):
        raise ValueError(f"too many served resources on network {b.network!r} in azure/{b.region}")
    return priority


def port_range(first: int, last: int | None = None) -> str:
    return str(first) if last in (None, first) else f"{first}-{last}"


def security_rule(
    name: str, region: str, source: str, stack: str, nsg: str, *, priority: int, source_prefix: str,
    ports: str, protocol: str, access: str = "Allow", description: str = "",
) -> RenderedResource:
    if not SELF_PRIORITY <= priority <= DENY_PRIORITY:
        raise ValueError(f"{name}: priority {priority} is outside Azure's 100-4096")
    inputs = {
        "resourceGroupName": rg_ref(stack, region),
        "networkSecurityGroupName": ref(nsg, "name"),
        "priority": priority,
        "direction": "Inbound",
        "access": access,
        "protocol": protocol,
        "sourceAddressPrefix": source_prefix,
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": ports,
    }
    if description:
        inputs["description"] = description[:140]
    return make(name, RULE, region, source, inputs)


def security_group(name: str, region: str, source: str, stack: str, tags: dict[str, str]) -> RenderedResource:
    return make(name, NSG, region, source, {
        "resourceGroupName": rg_ref(stack, region), "location": region, "tags": tags,
    })


def closing_deny(name: str, region: str, source: str, stack: str, nsg: str) -> RenderedResource:
    return security_rule(
        name, region, source, stack, nsg, priority=DENY_PRIORITY, source_prefix="VirtualNetwork", ports="*",
        protocol="*", access="Deny", description="only the rules above admit traffic from connected networks",
    )


def _nat_gateway(network: str, region: str, stack: str, tags: dict[str, str]) -> list[RenderedResource]:
    """A Standard public IP and the NAT gateway using it, both without zones: a zonal NAT gateway would
    only serve one zone's VMs, while the scale sets spread over all of them."""
    ip, nat = logical(network, region, "nat-ip"), logical(network, region, "nat")
    rg = rg_ref(stack, region)
    return [
        make(ip, "azure-native:network:PublicIPAddress", region, network, {
            "resourceGroupName": rg, "location": region,
            # NAT gateways take only Standard, static IPv4 addresses
            "sku": {"name": "Standard", "tier": "Regional"},
            "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4",
            "tags": tags,
        }),
        make(nat, "azure-native:network:NatGateway", region, network, {
            "resourceGroupName": rg, "location": region, "sku": {"name": "Standard"},
            "publicIpAddresses": [{"id": ref(ip, "id")}], "idleTimeoutInMinutes": 4,
            "tags": tags,
        }),
    ]


def render_networks(ctx: RenderContext) -> list[RenderedResource]:
    stack = ctx.stack.stack
    out: list[RenderedResource] = []
    for network, _spec, block in ctx.network_blocks():
        region, tags = block.region, ctx.tags(network)
        vnet, nsg = vnet_name(network, region), nsg_name(network, region)
        out.append(make(vnet, "azure-native:network:VirtualNetwork", region, network, {
            "resourceGroupName": rg_ref(stack, region),
            "location": region,
            "addressSpace": {"addressPrefixes": [block.cidr]},
            "tags": tags,
        }))
        out.append(security_group(nsg, region, network, stack, tags))
        out.append(security_rule(
            logical(network, region, "allow-self"), region, network, stack, nsg, priority=SELF_PRIORITY,
            source_prefix=block.cidr, ports="*", protocol="*", description=f"traffic inside {network}",
        ))
        out.append(closing_deny(logical(network, region, "deny-vnet"), region, network, stack, nsg))
        out += _nat_gateway(network, region, stack, tags)
        subnet = make(subnet_name(network, region), "azure-native:network:Subnet", region, network, {
            "resourceGroupName": rg_ref(stack, region),
            "virtualNetworkName": ref(vnet, "name"),
            "addressPrefix": compute_prefix(block.cidr),
            "networkSecurityGroup": {"id": ref(nsg, "id")},
            "natGateway": {"id": ref(logical(network, region, "nat"), "id")},
        })
        out.append(subnet)
        if hosts_balancer(ctx, network, region):
            out += _balancer_subnet(ctx, network, region, block.cidr, tags)
    return out


def _balancer_subnet(ctx: RenderContext, network: str, region: str, cidr: str, tags: dict[str, str]) -> list[RenderedResource]:
    """The Application Gateways' own subnet and its group: the platform's rules here, each balancer's
    listener ports (``balancer.render_balancer``), and a closing deny of the rest of private space. No NAT
    gateway: an Application Gateway v2 reaches the internet through its own public address."""
    from cloudorch_azure.database import databases_in

    stack = ctx.stack.stack
    nsg = balancer_nsg_name(network, region)
    databases = databases_in(ctx, network, region)
    # Azure refuses concurrent changes to one virtual network's subnets: after the databases' (the
    # GatewaySubnet comes after this one)
    after = logical(databases[-1], region, "subnet") if databases else subnet_name(network, region)
    return [
        security_group(nsg, region, network, stack, tags),
        security_rule(logical(network, region, "lb-gateway-manager"), region, network, stack, nsg,
                      priority=SELF_PRIORITY, source_prefix="GatewayManager", ports=GATEWAY_MANAGER_PORTS,
                      protocol="Tcp", description="Application Gateway v2 management (required by Azure)"),
        security_rule(logical(network, region, "lb-azure-probes"), region, network, stack, nsg,
                      priority=SELF_PRIORITY + 1, source_prefix="AzureLoadBalancer", ports="*", protocol="*",
                      description="Azure's load balancer in front of the gateway instances"),
        closing_deny(logical(network, region, "lb-deny-vnet"), region, network, stack, nsg),
        make(balancer_subnet_name(network, region), "azure-native:network:Subnet", region, network, {
            "resourceGroupName": rg_ref(stack, region), "virtualNetworkName": ref(vnet_name(network, region), "name"),
            "addressPrefix": balancer_prefix(cidr), "networkSecurityGroup": {"id": ref(nsg, "id")},
        }, depends_on=(after,)),
    ]
