"""Logical names, Azure names and the address layout of a network block.

Everything here is a pure function of its arguments so a re-render produces the same names and
prefixes; Azure treats a changed name or prefix as a replacement.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any

from cloudorch.rendering import RenderedResource, ref

from cloudorch_azure.roles import ROLES

CLOUD = "azure"
PACKAGE = "azure-native"

#: regions with availability zones: zone-redundant storage and zone-redundant database HA exist only here
ZONAL_REGIONS = frozenset({
    "australiaeast", "brazilsouth", "canadacentral", "centralindia", "centralus", "eastasia", "eastus",
    "eastus2", "francecentral", "germanywestcentral", "israelcentral", "italynorth", "japaneast",
    "koreacentral", "mexicocentral", "northeurope", "norwayeast", "polandcentral", "qatarcentral",
    "southafricanorth", "southcentralus", "southeastasia", "spaincentral", "swedencentral",
    "switzerlandnorth", "uaenorth", "uksouth", "westeurope", "westus2", "westus3",
})


def provider_name(region: str) -> str:
    return f"{CLOUD}-{region}"


def logical(source: str, region: str, part: str) -> str:
    return f"{source}-{CLOUD}-{region}-{part}"


def resource_group(stack: str, region: str) -> str:
    """Logical name of the region's resource group (also its Azure name, stable and readable)."""
    return f"{stack}-{CLOUD}-{region}-rg"


def rg_ref(stack: str, region: str) -> dict[str, str]:
    return ref(resource_group(stack, region), "name")


def make(name: str, type_: str, region: str, source: str | None, inputs: dict[str, Any], **kw: Any) -> RenderedResource:
    """An azure-native resource bound to its region's explicit provider."""
    return RenderedResource(
        name=name, type=type_, role=ROLES[type_], cloud=CLOUD, region=region, source=source, inputs=inputs,
        provider=provider_name(region), **kw,
    )


def region_base(ctx: Any, region: str) -> list[RenderedResource]:
    """A region's explicit provider and its resource group: Azure resources must live in one, and a group
    per region keeps a region's teardown independent of the others."""
    from cloudorch.rendering.roles import Role

    rg = resource_group(ctx.stack.stack, region)
    return [
        RenderedResource(name=provider_name(region), type=f"pulumi:providers:{PACKAGE}", role=Role.PROVIDER,
                         cloud=CLOUD, region=region, inputs={"location": region}),
        make(rg, "azure-native:resources:ResourceGroup", region, None, {
            "resourceGroupName": rg, "location": region, "tags": ctx.tags()}),
    ]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _digest(stack: str, resource: str, region: str) -> str:
    return hashlib.sha256(f"{stack}/{resource}/{region}".encode()).hexdigest()[:8]


# Names that are part of a public DNS name must be unique across all of Azure. A readable prefix plus a
# hash of (stack, resource, region) is deterministic, so a re-render keeps the resource, and the hash
# keeps two stacks with a resource of the same name from colliding.
def storage_account_name(stack: str, resource: str, region: str) -> str:
    """3-24 lower-case alphanumerics."""
    prefix = re.sub(r"[^a-z0-9]", "", f"{stack}{resource}".lower())[:16]
    return f"{prefix}{_digest(stack, resource, region)}"


def vault_name(stack: str, resource: str, region: str) -> str:
    """3-24 letters, digits and hyphens, starting with a letter (Key Vault names are global DNS names)."""
    prefix = slug(f"{stack}-{resource}")[:14].strip("-")
    return f"v{prefix}-{_digest(stack, resource + '/vault', region)}"[:24]


def server_name(stack: str, resource: str, region: str) -> str:
    """3-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen."""
    prefix = slug(f"{stack}-{resource}")[:54].strip("-")
    return f"{prefix}-{_digest(stack, resource, region)}"


def key_vault_name(stack: str, site: str, region: str) -> str:
    """The name of a site's customer-managed-key vault: 3-24 letters, digits and hyphens, starting with a letter."""
    prefix = re.sub(r"[^a-z0-9]", "", f"{stack}{site}".lower())[:13]
    return f"kv{prefix}-{_digest(stack, site, region)}"


# -- address layout ------------------------------------------------------------------------------------
# The first half of a block is the compute subnet; the second half is cut into /27s: its last one is kept
# for the site's GatewaySubnet (whether or not the site has a VPN link yet, so that adding a link never
# moves a database), the others go one per database, because a flexible server needs a subnet delegated to
# its service alone. A site that hosts a balancer also keeps the /27 before the GatewaySubnet for the
# Application Gateway, which needs a subnet of its own (27 addresses: up to 22 instances besides Azure's
# five); only there, so that a block without balancers keeps all its database room.
DB_SUBNET_PREFIX = 27
#: the subnet an Azure VPN gateway must live in: this exact name, /27 or larger recommended ("VPN Gateway
#: requires a subnet named exactly GatewaySubnet with minimum /27 prefix", Microsoft azure-skills networking
#: constraints and learn.microsoft.com vpn-gateway-about-vpn-gateway-settings, read 2026-06)
GATEWAY_SUBNET = "GatewaySubnet"
GATEWAY_SUBNET_PREFIX = 27
#: the smallest block with room for the compute half and the GatewaySubnet /27
SMALLEST_VPN_BLOCK = 26


def compute_prefix(cidr: str) -> str:
    block = ipaddress.IPv4Network(cidr)
    return str(next(block.subnets(prefixlen_diff=1)))


def _second_half(cidr: str) -> list[ipaddress.IPv4Network]:
    second_half = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=1))[1]
    return list(second_half.subnets(new_prefix=max(second_half.prefixlen, DB_SUBNET_PREFIX)))


def gateway_prefix(cidr: str) -> str:
    """The GatewaySubnet: the last /27 of the block (see ``check`` for blocks too small to hold it)."""
    if ipaddress.IPv4Network(cidr).prefixlen > SMALLEST_VPN_BLOCK:
        raise ValueError(f"network block {cidr} has no room for a /{GATEWAY_SUBNET_PREFIX} GatewaySubnet beside "
                         "its compute subnet")
    return str(_second_half(cidr)[-1])


def balancer_prefix(cidr: str) -> str:
    """The Application Gateway's subnet: the /27 before the GatewaySubnet (``check`` refuses smaller blocks)."""
    slots = _second_half(cidr)
    if len(slots) < 2:
        raise ValueError(f"network block {cidr} has no room for a /{DB_SUBNET_PREFIX} balancer subnet beside its "
                         "compute subnet and GatewaySubnet")
    return str(slots[-2])


def database_prefix(cidr: str, index: int) -> str:
    candidates = _second_half(cidr)[:-1]  # the last one is the GatewaySubnet's
    if not 0 <= index < len(candidates):
        raise ValueError(
            f"network block {cidr} has no room for database subnet #{index + 1} (/{DB_SUBNET_PREFIX} each, "
            f"{len(candidates)} in all beside the GatewaySubnet)"
        )
    return str(candidates[index])


def database_room(cidr: str, balanced: bool = False) -> int:
    """How many database subnets the block holds beside the GatewaySubnet (and a balancer's subnet)."""
    return max(len(_second_half(cidr)) - 1 - balanced, 0)


def database_slots(cidr: str, databases: list[str], balanced: bool = False) -> dict[str, int]:
    """database -> the index of its subnet among the block's database subnets (see ``database_prefix``).

    By a stable hash of the database's name, probing onwards only on collision: numbering by name order
    would move every later database's subnet (and so replace its server) when an earlier-named one is
    added. The hash still ranges over the whole second half, GatewaySubnet's slot included, and probes
    past that slot: only a database whose hash picks it moved when the slot was reserved.
    """
    size, room = len(_second_half(cidr)), database_room(cidr)
    # a balancer's subnet is the slot just before the GatewaySubnet's (``balancer_prefix``)
    taken = {room, room - 1} if balanced else {room}
    if len(databases) > room - balanced:
        raise ValueError(f"network block {cidr} has room for {room} database subnets, {len(databases)} needed")
    out: dict[str, int] = {}
    for name in sorted(databases):
        slot = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % size
        while slot in out.values() or slot in taken:
            slot = (slot + 1) % size
        out[name] = slot
    return out
