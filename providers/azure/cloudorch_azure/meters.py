"""How the Azure resources this plugin renders bill, in the items of ``cloudorch/catalog/data/network.csv``.

Virtual machines, flexible servers and storage accounts are priced by the placement; here is everything
else that bills on its own. Connections and peerings have no charge of their own: a VpnGw1AZ gateway's
hourly price includes its site-to-site tunnels (up to 30 on VpnGw1AZ; Basic gateways stop at 10, and the
tunnels beyond those included would bill per hour: cloudorch renders at most four per link and one gateway
per site, well inside), and a peering bills per GB crossing it, which the plan prices from the flows'
volumes (``peering_out_gb`` / ``peering_in_gb``), not as a resource.
"""

from __future__ import annotations

from cloudorch.rendering.meters import NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.model import RenderedResource

#: type -> what one of it bills every month
METERS: dict[str, tuple[Meter, ...] | Unmetered] = {
    "azure-native:network:VirtualNetworkGateway": (Meter("vpn_gateway_hour"),),
    # every Standard public IP, the NAT gateway's and the VPN gateway's alike
    "azure-native:network:PublicIPAddress": (Meter("public_ipv4_hour"),),
    "azure-native:network:NatGateway": (Meter(NAT_GATEWAY),),
    "azure-native:network:VirtualNetworkGatewayConnection": (),
    "azure-native:network:LocalNetworkGateway": (),
    "azure-native:network:VirtualNetworkPeering": (),
    "azure-native:network:FlowLog": Unmetered("flow logs bill per GB of logs collected and stored, a volume "
                                              "cloudorch cannot know before the network carries traffic"),
    # software-protected keys of a Standard vault: a month's storage item (free on Azure), operations aside
    "azure-native:keyvault:Key": (Meter("kms_key_month"),),
}


def of(resource: RenderedResource) -> tuple[Meter, ...] | Unmetered | None:
    """The meters of one resource; the rest of what this plugin renders bills nothing of its own, except
    machines, servers and accounts, which the placement prices."""
    return METERS.get(resource.type, ())
