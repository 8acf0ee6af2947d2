"""How each AWS resource this plugin renders bills, in the items of ``cloudorch/catalog/data/network.csv``."""

from __future__ import annotations

from cloudorch.rendering import RenderedResource
from cloudorch.rendering.meters import BILLABLE_ROLES, NAT_GATEWAY, Meter, Unmetered

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
    if resource.type in METERS:
        return METERS[resource.type]
    return None if resource.role in BILLABLE_ROLES else ()
