"""How the Azure resources this plugin renders bill, in the items of ``cloudorch/catalog/data/network.csv``.

Virtual machines, flexible servers and storage accounts are priced by the placement; here is everything
else that bills on its own. Connections and peerings have no charge of their own: a VpnGw1AZ gateway's
hourly price includes its first ten site-to-site tunnels and each one beyond bills by the hour, so the
gateway carries its links' tunnels (``vpn_gateway_tunnel_hour``, whose tiers hold the allowance; the
placement prices the same count: ``NetworkShape.vpn_gateway_tunnel``), and a peering bills per GB crossing
it, which the plan prices from the flows' volumes (``peering_out_gb`` / ``peering_in_gb``), not as a
resource.

Serving: an Application Gateway v2 bills a fixed price per hour and capacity units per hour (the WAF_v2
SKU at its own, higher, rates: scope ``waf``); a WAF policy attached to it bills nothing of its own. A
capacity unit is 2.22 Mbit/s of throughput (or 2,500 persistent connections, or one compute unit,
whichever is highest); cloudorch prices the throughput of the declared ``gb_month`` spread evenly over the
month, a floor (connections and TLS handshakes are not declared). The gateway autoscales from zero
reserved instances, so no reserved units bill. A Standard Load Balancer (tcp) bills its first five rules
together by the hour, each rule beyond by the hour, and the GBs it processes (the declared ``gb_month``).

Traffic Manager bills a health check per endpoint a month (an external endpoint more than an Azure one, and
fast 10-second probing as an add-on on top) and DNS queries per million, a volume no stack file says.
"""

from __future__ import annotations

from cloudorch.catalog.network import HOURS_PER_MONTH
from cloudorch.rendering.meters import DNS_QUERIES, NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.model import RenderedResource

from cloudorch_azure.links import GATEWAY_TUNNELS_TAG

#: a tag carrying a balancer's declared traffic (GB a month), so its meter reads it off the resource (a
#: meter sees one resource; the stack's figures reach it only through its inputs)
TRAFFIC_TAG = "cloudorch-gb-month"
#: a tag on a Traffic Manager profile carrying how many endpoints it probes, so its meter can bill their
#: fast-probing add-on (the interval is the profile's; the endpoints only name it)
ENDPOINTS_TAG = "cloudorch-endpoints"
#: a zone's declared DNS queries (millions a month): known, yet not priced (see ``QUERIES_DISAGREE``)
QUERIES_TAG = "cloudorch-queries-million-month"
QUERIES_DISAGREE = Unmetered("the declared queries are not priced: Azure DNS's and Traffic Manager's published "
                             "query prices disagree between sources or are undated (SOURCES.md, az-dns)")
#: the rules a Standard Load Balancer's hourly charge covers; each one beyond bills on its own
INCLUDED_RULES = 5
#: Traffic Manager's fast probing interval, billed as an add-on per endpoint
FAST_PROBING_S = 10
#: throughput of one capacity unit ("Understanding pricing for Application Gateway", Microsoft Learn)
CAPACITY_UNIT_MBPS = 2.22
#: capacity units kept busy all month by one GB a month, evenly spread
UNITS_PER_GB_MONTH = 8_000 / (HOURS_PER_MONTH * 3_600) / CAPACITY_UNIT_MBPS

#: type -> what one of it bills every month
METERS: dict[str, tuple[Meter, ...] | Unmetered] = {
    # every Standard public IP, the NAT gateway's, the VPN gateway's and a balancer's alike
    "azure-native:network:PublicIPAddress": (Meter("public_ipv4_hour"),),
    "azure-native:network:NatGateway": (Meter(NAT_GATEWAY),),
    "azure-native:network:VirtualNetworkGatewayConnection": (),
    "azure-native:network:LocalNetworkGateway": (),
    "azure-native:network:VirtualNetworkPeering": (),
    "azure-native:network:FlowLog": Unmetered("flow logs bill per GB of logs collected and stored, a volume "
                                              "cloudorch cannot know before the network carries traffic"),
    # software-protected keys of a Standard vault: a month's storage item (free on Azure), operations aside
    "azure-native:keyvault:Key": (Meter("kms_key_month"),),
    # WAF policies bill within the WAF_v2 gateway's rates
    "azure-native:network:WebApplicationFirewallPolicy": (),
    # the database's private zone (and its records' queries): Azure DNS bills private zones per zone-month,
    # but only the public zone's price was found with a source (SOURCES.md az-dns)
    "azure-native:privatedns:PrivateZone": Unmetered("a private DNS zone bills per zone-month and per million "
                                                     "queries; cloudorch found no dated price for it (az-dns)"),
}

#: a gateway's site-to-site tunnels, priced together by the price list's tiers (the first ten in the
#: gateway's hourly price: SOURCES.md az-vpn)
TUNNELS = Meter("vpn_gateway_tunnel_hour")


def _tag(resource: RenderedResource, key: str) -> float:
    return float(resource.inputs.get("tags", {}).get(key, 0) or 0)


def _vpn_gateway(resource: RenderedResource) -> tuple[Meter, ...]:
    tunnels = int(_tag(resource, GATEWAY_TUNNELS_TAG))
    return (Meter("vpn_gateway_hour"), *((Meter(TUNNELS.item, tunnels),) if tunnels else ()))


def _gateway(resource: RenderedResource) -> tuple[Meter, ...]:
    waf = str(resource.inputs.get("sku", {}).get("name", "")).startswith("WAF")
    scope = "waf" if waf else None
    return (Meter("app_load_balancer_hour", scope=scope),
            Meter("app_load_balancer_lcu_hour", _tag(resource, TRAFFIC_TAG) * UNITS_PER_GB_MONTH, scope=scope))


def _load_balancer(resource: RenderedResource) -> tuple[Meter, ...]:
    """Load-balancing, outbound and inbound NAT rules all count (cloudorch renders load-balancing rules only:
    the site's NAT gateway carries outbound); a balancer without rules bills nothing but its traffic."""
    rules = sum(len(resource.inputs.get(kind, [])) for kind in ("loadBalancingRules", "outboundRules", "inboundNatRules"))
    extra, gb_month = max(0, rules - INCLUDED_RULES), _tag(resource, TRAFFIC_TAG)
    return (((Meter("forwarding_rules_base_hour"),) if rules else ())
            + ((Meter("forwarding_rule_extra_hour", extra),) if extra else ())
            + ((Meter("lb_processed_gb", gb_month),) if gb_month else ()))


def _profile(resource: RenderedResource) -> tuple[Meter, ...] | Unmetered:
    """Its queries (unknown volume), and the fast-probing add-on of each endpoint when it probes every 10 s."""
    fast = resource.inputs.get("monitorConfig", {}).get("intervalInSeconds") == FAST_PROBING_S
    endpoints = _tag(resource, ENDPOINTS_TAG)
    # cloudorch's endpoints are all external (they name a balancer's address or host name, not an Azure resource)
    return ((Meter("dns_health_check_fast_month", endpoints, scope="external"),) if fast and endpoints else ()) + (
        DNS_QUERIES,)


def _zone(resource: RenderedResource) -> tuple[Meter | Unmetered, ...]:
    declared = QUERIES_TAG in resource.inputs.get("tags", {})
    return (Meter("dns_zone_month"), QUERIES_DISAGREE if declared else DNS_QUERIES)


def _endpoint(resource: RenderedResource) -> tuple[Meter, ...]:
    external = resource.inputs.get("endpointType") != "AzureEndpoints"
    return (Meter("dns_health_check_month", scope="external" if external else None),)


_BY_TYPE = {"azure-native:network:ApplicationGateway": _gateway, "azure-native:network:LoadBalancer": _load_balancer,
            "azure-native:network:VirtualNetworkGateway": _vpn_gateway,
            "azure-native:trafficmanager:Profile": _profile, "azure-native:trafficmanager:Endpoint": _endpoint,
            "azure-native:dns:Zone": _zone}


def of(resource: RenderedResource) -> tuple[Meter, ...] | Unmetered | None:
    """The meters of one resource; the rest of what this plugin renders bills nothing of its own, except
    machines, servers and accounts, which the placement prices."""
    if resource.type in _BY_TYPE:
        return _BY_TYPE[resource.type](resource)
    return METERS.get(resource.type, ())


#: what ``balancer`` and ``dns`` build per location and per stack, in the meters above, for placement
#: (``NetworkShape.serving``): a gateway (WAF_v2 at its own rates) or a Standard Load Balancer (a rule per
#: port, well within the five its hourly charge covers), each behind one Standard public IP; the WAF policy
#: bills within the gateway; Traffic Manager's basic check of each balancer, an external endpoint wherever it
#: runs (fast probing's add-on is left out here: a floor)
SERVING_SHAPE: dict[str, tuple[Meter, ...]] = {
    "application": (Meter("app_load_balancer_hour"), Meter("public_ipv4_hour")),
    "application_waf": (Meter("app_load_balancer_hour", scope="waf"), Meter("public_ipv4_hour")),
    "network": (Meter("forwarding_rules_base_hour"), Meter("public_ipv4_hour")),
    "application_gb": (Meter("app_load_balancer_lcu_hour", UNITS_PER_GB_MONTH),),
    "application_gb_waf": (Meter("app_load_balancer_lcu_hour", UNITS_PER_GB_MONTH, scope="waf"),),
    "network_gb": (Meter("lb_processed_gb"),),
    "zone": (Meter("dns_zone_month"),),
    "name_check": (Meter("dns_health_check_month", scope="external"),),
    "name_check_external": (Meter("dns_health_check_month", scope="external"),),
}
