"""How each AWS resource this plugin renders bills, in the items of ``cloudorch/catalog/data/network.csv``."""

from __future__ import annotations

from cloudorch.rendering import RenderedResource
from cloudorch.catalog.network import HOURS_PER_MONTH
from cloudorch.rendering.meters import BILLABLE_ROLES, DNS_QUERIES, NAT_GATEWAY, Meter, Unmetered

#: tags carrying a balancer's and a web ACL's declared volume, so their meters read it off the resource
#: (a meter sees one resource; the stack's figures reach it only through its inputs)
TRAFFIC_TAG = "cloudorch-gb-month"
REQUESTS_TAG = "cloudorch-requests-million-month"
#: a zone's declared queries (millions a month) and how its records route them (Route 53 prices latency
#: records' queries above standard ones; weighted and failover records answer standard queries)
QUERIES_TAG = "cloudorch-queries-million-month"
ROUTING_TAG = "cloudorch-routing"

_FLOW_LOG_VOLUME = ("flow logs bill per GB ingested into CloudWatch Logs (flow_log_ingest_gb), a volume set by the "
                    "traffic, which cloudorch cannot know")

METERS: dict[str, tuple[Meter, ...] | Unmetered] = {
    "aws:ec2/natGateway:NatGateway": (Meter(NAT_GATEWAY),),
    # every Amazon-provided public IPv4 address bills by the hour, the NAT gateway's included
    "aws:ec2/eip:Eip": (Meter("public_ipv4_hour"),),
    # one connection is two tunnels; their outside addresses are AWS's, priced within the connection-hour
    "aws:ec2/vpnConnection:VpnConnection": (Meter("vpn_connection_hour"),),
    # no charge of its own, listed so the plan shows it as priced at zero rather than unpriced
    "aws:ec2/vpnGateway:VpnGateway": (Meter("vpn_gateway_hour"),),
    # no hourly charge: a peering bills only the transfer across it, priced by the flows
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": (),
    "aws:ec2/flowLog:FlowLog": Unmetered(_FLOW_LOG_VOLUME),
    "aws:cloudwatch/logGroup:LogGroup": Unmetered(
        "a log group bills per GB stored (log_storage_gb_month), which grows with the flow-log volume"),
    "aws:kms/key:Key": (Meter("kms_key_month"),),
}


def meters_of(resource: RenderedResource) -> tuple[Meter, ...] | Unmetered | None:
    """The resource's meters; unknown (None) for a billable role this table does not price, free otherwise."""
    if resource.type in SERVING:
        return SERVING[resource.type](resource)
    if resource.type in METERS:
        return METERS[resource.type]
    return None if resource.role in BILLABLE_ROLES else ()


def _balancer(resource: RenderedResource) -> tuple[Meter, ...]:
    """Hours all month and capacity units from the declared traffic: one (N)LCU processes 1 GB an hour for
    instance targets, so an evenly spread ``gb_month`` keeps gb_month / 730 units busy every hour (new
    connections, active connections and rule evaluations are not declared, so this is a floor)."""
    network = resource.inputs.get("loadBalancerType") == "network"
    lcus = float(resource.inputs.get("tags", {}).get(TRAFFIC_TAG, 0) or 0) / HOURS_PER_MONTH
    return (Meter("net_load_balancer_hour" if network else "app_load_balancer_hour"),
            Meter("net_load_balancer_lcu_hour" if network else "app_load_balancer_lcu_hour", lcus))


def _health_check(resource: RenderedResource) -> tuple[Meter, ...]:
    # a balancer of this stack on AWS is an AWS endpoint; an address or another cloud's name is not
    own = str(resource.inputs.get("referenceName", "")).find("-aws-") >= 0
    return (Meter("dns_health_check_month", scope=None if own else "external"),)


def _web_acl(resource: RenderedResource) -> tuple[Meter, ...]:
    millions = float(resource.inputs.get("tags", {}).get(REQUESTS_TAG, 0) or 0)
    return (Meter("waf_web_acl_month"), Meter("waf_rule_month", len(resource.inputs.get("rules", []))),
            Meter("waf_requests", millions))


def _zone(resource: RenderedResource) -> tuple[Meter, ...]:
    declared = resource.inputs.get("tags", {}).get(QUERIES_TAG)
    if declared is None:
        return (Meter("dns_zone_month"), DNS_QUERIES)
    routing = "latency" if resource.inputs["tags"].get(ROUTING_TAG) == "latency" else None
    return (Meter("dns_zone_month"), Meter("dns_queries_million", float(declared), scope=routing))


SERVING = {"aws:lb/loadBalancer:LoadBalancer": _balancer, "aws:route53/healthCheck:HealthCheck": _health_check,
           "aws:wafv2/webAcl:WebAcl": _web_acl, "aws:route53/zone:Zone": _zone}


#: what render_balancer and render_global_name build, in the meters above, for placement
#: (``NetworkShape.serving``): one (N)LCU-hour per GB processed, the managed rule groups' count of WAF rules
SERVING_SHAPE: dict[str, tuple[Meter, ...]] = {
    "application": (Meter("app_load_balancer_hour"),),
    "network": (Meter("net_load_balancer_hour"),),
    "application_gb": (Meter("app_load_balancer_lcu_hour", 1 / HOURS_PER_MONTH),),
    "network_gb": (Meter("net_load_balancer_lcu_hour", 1 / HOURS_PER_MONTH),),
    "waf": (Meter("waf_web_acl_month"), Meter("waf_rule_month", 3)),
    "waf_million": (Meter("waf_requests"),),
    "zone": (Meter("dns_zone_month"),),
    "name_check": (Meter("dns_health_check_month"),),
    "name_check_external": (Meter("dns_health_check_month", scope="external"),),
}
