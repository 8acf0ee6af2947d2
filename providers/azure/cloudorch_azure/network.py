"""A network block on Azure: a virtual network, its compute subnet, the subnet's security group and a
NAT gateway for outbound traffic.

The NAT gateway is not optional: VMs of a Flexible scale set get no default outbound access, and Azure
retired default outbound access for new virtual networks (September 2025), so without it replicas without
a public address could not reach package mirrors or any other internet endpoint.

Flow logs are not rendered: they need a Network Watcher and a flow-log resource, and neither is in the
azure-native schema subset cloudorch pins (see the provider's report).
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref

from cloudorch_azure.naming import compute_prefix, logical, make, rg_ref

NSG = "azure-native:network:NetworkSecurityGroup"
RULE = "azure-native:network:SecurityRule"

# Priorities: own block first, ingress rules from 200 up, and a closing deny at the bottom. The deny
# overrides Azure's built-in AllowVnetInBound (65000), which would otherwise admit every peered or
# VPN-connected range and make the ingress rules meaningless.
SELF_PRIORITY = 100
FIRST_INGRESS_PRIORITY = 200
DENY_PRIORITY = 4096


def vnet_name(network: str, region: str) -> str:
    return logical(network, region, "vnet")


def subnet_name(network: str, region: str) -> str:
    return logical(network, region, "subnet")


def nsg_name(network: str, region: str) -> str:
    return logical(network, region, "nsg")


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
        out.append(make(subnet_name(network, region), "azure-native:network:Subnet", region, network, {
            "resourceGroupName": rg_ref(stack, region),
            "virtualNetworkName": ref(vnet, "name"),
            "addressPrefix": compute_prefix(block.cidr),
            "networkSecurityGroup": {"id": ref(nsg, "id")},
            "natGateway": {"id": ref(logical(network, region, "nat"), "id")},
        }))
    return out
