"""Databases on Azure: a flexible server reachable only through its own delegated subnet.

Each database gets its own subnet (flexible servers need a subnet delegated to their service) with its
own security group, so a database's ingress rules admit traffic to that database alone. Name resolution
goes through a private DNS zone linked to the network; there is no public endpoint at all.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from cloudorch.graph import flow_partners
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.roles import Role
from cloudorch.spec.models import Database

from cloudorch_azure import keys
from cloudorch_azure.naming import (
    CLOUD, ZONAL_REGIONS, database_prefix, database_slots, logical, make, rg_ref, server_name,
)
from cloudorch_azure.network import (
    hosts_balancer,
    FIRST_INGRESS_PRIORITY, SELF_PRIORITY, closing_deny, port_range, security_group, security_rule,
    subnet_name, vnet_name,
)

PASSWORD = "random:index/randomPassword:RandomPassword"
ADMIN_LOGIN = "cloudorch"
# Azure keeps flexible-server backups for 7 to 35 days and cannot turn them off.
MIN_BACKUP_DAYS = 7
# PostgreSQL flexible servers take only these disk sizes (GiB); MySQL takes any size from 20 GiB.
PG_STORAGE_SIZES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
MYSQL_MIN_STORAGE = 20


class _Engine(NamedTuple):
    token: str
    service: str  # the subnet delegation
    dns_suffix: str  # a private zone for the server must end with it
    dns_key: str  # the two APIs spell the zone property differently
    port: int


ENGINES = {
    "postgres": _Engine("azure-native:dbforpostgresql:Server", "Microsoft.DBforPostgreSQL/flexibleServers",
                        "postgres.database.azure.com", "privateDnsZoneArmResourceId", 5432),
    "mysql": _Engine("azure-native:dbformysql:Server", "Microsoft.DBforMySQL/flexibleServers",
                     "mysql.database.azure.com", "privateDnsZoneResourceId", 3306),
}


def sku_tier(sku: str) -> str:
    """Flexible-server tier from the SKU's family letter: B burstable, E memory optimised, else D-class."""
    family = sku.removeprefix("Standard_")[:1]
    return {"B": "Burstable", "E": "MemoryOptimized", "M": "MemoryOptimized"}.get(family, "GeneralPurpose")


def ha_mode(high_availability: bool, region: str, tier: str) -> str:
    """ZoneRedundant puts the standby in another zone, so only regions with zones offer it; SameZone is
    the HA offered everywhere. Burstable servers have no HA at all: fail at plan time, not at deploy."""
    if not high_availability:
        return "Disabled"
    if tier == "Burstable":
        raise ValueError("azure flexible servers of the Burstable tier cannot be highly available")
    return "ZoneRedundant" if region in ZONAL_REGIONS else "SameZone"


def storage_gb(engine: str, wanted: int) -> int:
    if engine == "mysql":
        return max(wanted, MYSQL_MIN_STORAGE)
    i = bisect.bisect_left(PG_STORAGE_SIZES, wanted)
    if i == len(PG_STORAGE_SIZES):
        raise ValueError(f"azure postgres storage tops out at {PG_STORAGE_SIZES[-1]} GiB, {wanted} asked")
    return PG_STORAGE_SIZES[i]


def server_version(engine: str, version: str) -> str:
    # The MySQL API names the 8.0 line by its first GA minor.
    return "8.0.21" if engine == "mysql" and version == "8.0" else version


def databases_in(ctx: RenderContext, network: str, region: str) -> list[str]:
    """Databases sharing this network block, by name: the order their subnets are created in."""
    return [
        other for other, placement in ctx.placed(Database)
        if ctx.stack.resources[other].network == network and (CLOUD, region) in placement.locations
    ]


def _client_sites(ctx: RenderContext, name: str, network: str, region: str) -> list[tuple[str, str]]:
    """(network, region) of the Azure sites, other than the database's own, where a resource runs that has
    a flow with it (either way), sorted."""
    sites = set()
    for end in flow_partners(ctx.stack, name):
        placement, other = ctx.placement.placements.get(end), getattr(ctx.stack.resources.get(end), "network", None)
        if placement is not None and other is not None:
            sites |= {(other, r) for c, r in placement.locations if c == CLOUD}
    return sorted(sites - {(network, region)})


def _render_one(ctx: RenderContext, name: str, spec: Database, region: str, instance_type: str) -> list[RenderedResource]:
    stack, engine, tags = ctx.stack.stack, ENGINES[spec.engine], ctx.tags(name)
    block = ctx.block_for(spec.network, region)
    rg = rg_ref(stack, region)
    nsg, subnet, zone, link = (logical(name, region, p) for p in ("nsg", "subnet", "dns", "dns-link"))
    password = logical(name, region, "password")
    tier = sku_tier(instance_type)
    out = [security_group(nsg, region, name, stack, tags)]
    # Own block on the engine's port: clients in the same network, and the HA standby's replication.
    out.append(security_rule(
        logical(name, region, "allow-self"), region, name, stack, nsg, priority=SELF_PRIORITY,
        source_prefix=block.cidr, ports=str(engine.port), protocol="Tcp", description=f"{name} from its own network",
    ))
    priority = FIRST_INGRESS_PRIORITY
    for rule in spec.ingress:
        for cidr in ctx.source_cidrs(rule):
            out.append(security_rule(
                logical(name, region, f"ingress-{priority - FIRST_INGRESS_PRIORITY + 1}"), region, name, stack,
                nsg, priority=priority, source_prefix=cidr, ports=port_range(rule.port, rule.to_port),
                protocol=rule.protocol.capitalize(), description=f"{name}: {rule.protocol} from {rule.from_}",
            ))
            priority += 1
    out.append(closing_deny(logical(name, region, "deny-vnet"), region, name, stack, nsg))

    neighbours = databases_in(ctx, spec.network, region)
    index = neighbours.index(name)
    # Azure rejects concurrent changes to one virtual network's subnets: create them one after another.
    previous = subnet_name(spec.network, region) if index == 0 else logical(neighbours[index - 1], region, "subnet")
    out.append(make(subnet, "azure-native:network:Subnet", region, name, {
        "resourceGroupName": rg,
        "virtualNetworkName": ref(vnet_name(spec.network, region), "name"),
        "addressPrefix": database_prefix(block.cidr, database_slots(
            block.cidr, neighbours, balanced=hosts_balancer(ctx, spec.network, region))[name]),
        "delegations": [{"name": "flexibleServers", "serviceName": engine.service}],
        "networkSecurityGroup": {"id": ref(nsg, "id")},
    }, depends_on=(previous,)))
    out.append(make(zone, "azure-native:privatedns:PrivateZone", region, name, {
        "resourceGroupName": rg, "location": "global", "tags": tags,
        "privateZoneName": f"{name}-{stack}.private.{engine.dns_suffix}",
    }))
    out.append(make(link, "azure-native:privatedns:VirtualNetworkLink", region, name, {
        "resourceGroupName": rg, "location": "global", "tags": tags,
        "privateZoneName": ref(zone, "name"),
        "virtualNetwork": {"id": ref(vnet_name(spec.network, region), "id")},
        "registrationEnabled": False,
    }))
    # the server's name resolves (to its private address) only in virtual networks linked to its zone: its
    # own, and every other Azure site its flows come from or go to (another region over peering, a linked
    # network), found by review: they reached the address but could not resolve the name
    for network, other in _client_sites(ctx, name, spec.network, region):
        out.append(make(logical(name, region, f"dns-link-{network}-{other}"), "azure-native:privatedns:VirtualNetworkLink",
                        region, name, {
            "resourceGroupName": rg, "location": "global", "tags": tags,
            "privateZoneName": ref(zone, "name"),
            "virtualNetwork": {"id": ref(vnet_name(network, other), "id")},
            "registrationEnabled": False,
        }))
    # Azure wants three of upper, lower, digit, symbol; symbols are left out so the password survives
    # connection strings unescaped.
    out.append(RenderedResource(
        name=password, type=PASSWORD, role=Role.SECRET, cloud=ctx.cloud, region=region, source=name,
        inputs={"length": 32, "special": False, "minUpper": 2, "minLower": 2, "minNumeric": 2},
        secret_outputs=("result",),
    ))
    out.append(make(logical(name, region, "server"), engine.token, region, name, {
        "resourceGroupName": rg,
        "location": region,
        "serverName": server_name(stack, name, region),
        "version": server_version(spec.engine, spec.version),
        "sku": {"name": instance_type, "tier": tier},
        "storage": {"storageSizeGB": storage_gb(spec.engine, spec.storage_gb), "autoGrow": "Enabled"},
        # Storage and backups are always encrypted at rest, with service-managed keys unless dataEncryption
        # names the stack's own (_data_key).
        "backup": {"backupRetentionDays": max(spec.backup_days, MIN_BACKUP_DAYS), "geoRedundantBackup": "Disabled"},
        "highAvailability": {"mode": ha_mode(spec.high_availability, region, tier)},
        "network": {
            "delegatedSubnetResourceId": ref(subnet, "id"),
            engine.dns_key: ref(zone, "id"),
            "publicNetworkAccess": "Disabled",
        },
        # No deletion_protection input: flexible servers have no such flag. Protecting one takes a
        # CanNotDelete management lock, a type outside the pinned schema subset; the spec's flag is not
        # honoured on Azure.
        "administratorLogin": ADMIN_LOGIN,
        "administratorLoginPassword": ref(password, "result"),
        **_auth(spec),
        **_data_key(spec, region),
        "tags": tags,
    }, depends_on=(link,)))
    return out


def _auth(spec: Database) -> dict:
    """Entra ID logins beside the password on PostgreSQL. A MySQL flexible server takes Entra ID only with an
    administrator resource and a managed identity outside the pinned schema subset, so it keeps passwords
    (its facts say so). Query Store and log_statement are server parameters, likewise outside the subset."""
    if spec.engine != "postgres" or not spec.iam_authentication:
        return {}
    return {"authConfig": {"activeDirectoryAuth": "Enabled", "passwordAuth": "Enabled"}}


def _data_key(spec: Database, region: str) -> dict:
    """With ``customer_managed_key``, storage and backups encrypted with the network site's Key Vault key
    (keys.py), used as the site's key identity, which the server carries: in a list on MySQL, in a map keyed
    by the identity's id on PostgreSQL."""
    if not spec.customer_managed_key:
        return {}
    attached = keys.attached_by_id if spec.engine == "postgres" else keys.attached
    return {"dataEncryption": keys.server_encryption(spec.network, region),
            "identity": attached(spec.network, region)}


def render_databases(ctx: RenderContext) -> list[RenderedResource]:
    out: list[RenderedResource] = []
    for name, placement in ctx.placed(Database):
        spec = ctx.stack.resources[name]
        for slot in sorted((s for s in placement.slots if s.cloud == ctx.cloud), key=lambda s: s.region):
            out.extend(_render_one(ctx, name, spec, slot.region, slot.instance_type))
    return out
