"""How a rendered resource bills, in the price list's terms, so the plan can give every resource a cost line.

A provider answers ``CloudProvider.meters(resource)`` for its own resources: the items of the embedded
network price list (``cloudorch/catalog/data/network.csv``: ``vpn_connection_hour``, ``public_ipv4_hour``,
...) the resource is charged as, and how many of each. ``()`` means it costs nothing of its own (a route,
a security group); ``None`` means it bills but cloudorch cannot price it (the plan lists it as unpriced,
never as zero). Machines, managed databases and buckets are priced by the placement, not by meters.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudorch.catalog.network import NAT_GATEWAY as CATALOG_NAT_GATEWAY
from cloudorch.placement.rates import Charge
from cloudorch.rendering.roles import Role

#: the item of a NAT gateway's hourly charge, flat or per VM (the plan counts the VMs of the site)
NAT_GATEWAY = CATALOG_NAT_GATEWAY

#: roles whose resources bill on their own; a provider that gives no meters for one leaves it unpriced
BILLABLE_ROLES = frozenset({Role.NAT_GATEWAY, Role.PUBLIC_IP, Role.VPN_GATEWAY, Role.LINK, Role.BALANCER,
                            Role.FLOW_LOG, Role.LOG_GROUP, Role.KEY, Role.DNS_ZONE,
                            Role.HEALTH_CHECK, Role.WEB_FIREWALL})


#: ``quantity`` of the price list's ``item`` (for an hourly item: that many running all month), with a scope
#: of the price list (a SKU qualifier such as ``hsm``) where the item has several; the placement's ``Charge``
Meter = Charge


@dataclass(frozen=True)
class Unmetered:
    """Bills, but by a volume cloudorch cannot know (flow-log GBs): listed as unpriced with this reason.
    Also one part of a resource's meters (a DNS zone's queries beside its monthly charge)."""

    reason: str


#: a public zone bills per million queries too, at a published price, but how many queries a name gets is
#: set by its clients and the resolvers' caching (the records' TTL), which only the stack's author can say
DNS_QUERIES = Unmetered("queries bill per million (dns_queries), a volume set by the name's clients and "
                        "resolver caching, which cloudorch cannot know: declare dns.queries_million_month to "
                        "price them")
