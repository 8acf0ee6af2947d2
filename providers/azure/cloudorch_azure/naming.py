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


def server_name(stack: str, resource: str, region: str) -> str:
    """3-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen."""
    prefix = slug(f"{stack}-{resource}")[:54].strip("-")
    return f"{prefix}-{_digest(stack, resource, region)}"


def vault_name(stack: str, site: str, region: str) -> str:
    """A Key Vault's name: 3-24 letters, digits and hyphens, starting with a letter."""
    prefix = re.sub(r"[^a-z0-9]", "", f"{stack}{site}".lower())[:13]
    return f"kv{prefix}-{_digest(stack, site, region)}"


# -- address layout ------------------------------------------------------------------------------------
# The first half of a block is the compute subnet; the second half is cut into /27s: its last one is kept
# for the site's GatewaySubnet (whether or not the site has a VPN link yet, so that adding a link never
# moves a database), the others go one per database, because a flexible server needs a subnet delegated to
# its service alone.
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


def database_prefix(cidr: str, index: int) -> str:
    candidates = _second_half(cidr)[:-1]  # the last one is the GatewaySubnet's
    if not 0 <= index < len(candidates):
        raise ValueError(
            f"network block {cidr} has no room for database subnet #{index + 1} (/{DB_SUBNET_PREFIX} each, "
            f"{len(candidates)} in all beside the GatewaySubnet)"
        )
    return str(candidates[index])


def database_room(cidr: str) -> int:
    """How many database subnets the block holds beside the GatewaySubnet."""
    return len(_second_half(cidr)) - 1


def database_slots(cidr: str, databases: list[str]) -> dict[str, int]:
    """database -> the index of its subnet among the block's database subnets (see ``database_prefix``).

    By a stable hash of the database's name, probing onwards only on collision: numbering by name order
    would move every later database's subnet (and so replace its server) when an earlier-named one is
    added. The hash still ranges over the whole second half, GatewaySubnet's slot included, and probes
    past that slot: only a database whose hash picks it moved when the slot was reserved.
    """
    size, room = len(_second_half(cidr)), database_room(cidr)
    if len(databases) > room:
        raise ValueError(f"network block {cidr} has room for {room} database subnets, {len(databases)} needed")
    out: dict[str, int] = {}
    for name in sorted(databases):
        slot = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % size
        while slot in out.values() or slot == room:
            slot = (slot + 1) % size
        out[name] = slot
    return out
