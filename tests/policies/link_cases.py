"""Fixtures for the link policies, taken from a real rendering: the three-clouds stack (every kind of link on
every cloud) as the passing side, and the same rendering with chosen resources broken as the failing side.

Built from the providers' own output rather than hand-written inputs, so the fixtures move with the
rendering: a provider that stops setting IKEv2 fails the passing fixture.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

from cloudorch import api
from cloudorch.policy import PolicySubject
from cloudorch.spec.loader import parse_stack

STACK = Path(__file__).resolve().parents[1] / "network" / "stacks" / "three-clouds.yaml"


@cache
def _planned():
    result = api.plan(STACK)
    # findings point into "stack.yaml", as every other fixture's do
    loaded = dataclasses.replace(result.loaded, file="stack.yaml")
    return loaded, result.placement, result.rendered


def passing() -> PolicySubject:
    loaded, placement, rendered = _planned()
    return PolicySubject(loaded=loaded, placement=placement, rendered=list(rendered))


def _first(rendered, type_: str, **where):
    return next(r for r in rendered if r.type == type_ and all(str(r.inputs.get(k)) == v for k, v in where.items()))


def _broken(changes: dict[str, dict], loaded=None) -> PolicySubject:
    base_loaded, placement, rendered = _planned()
    out = [r.model_copy(update={"inputs": r.inputs | changes[r.name]}) if r.name in changes else r for r in rendered]
    return PolicySubject(loaded=loaded or base_loaded, placement=placement, rendered=out)


def ipsec_case():
    _, _, rendered = _planned()
    aws = _first(rendered, "aws:ec2/vpnConnection:VpnConnection")
    azure = _first(rendered, "azure-native:network:VirtualNetworkGatewayConnection")
    gcp = _first(rendered, "gcp:compute/vPNTunnel:VPNTunnel")
    failing = _broken({
        aws.name: {"tunnel1IkeVersions": ["ikev1", "ikev2"]},  # IKEv1 allowed on one tunnel
        azure.name: {"sharedKey": "not-a-generated-key"},  # a key in clear in the plan
        gcp.name: {"cipherSuite": None},  # Cloud VPN's default list, weak choices included
    })
    return passing(), failing, {("net", aws.name), ("net", azure.name), ("net", gcp.name)}


def default_route_case():
    _, _, rendered = _planned()
    route = next(r for r in rendered if r.type == "aws:ec2/route:Route" and "vpcPeeringConnectionId" in r.inputs)
    router = next(r for r in rendered if r.type == "gcp:compute/router:Router" and "vpn" in r.name)
    bgp = dict(router.inputs["bgp"])
    bgp["advertisedIpRanges"] = [*bgp["advertisedIpRanges"], {"range": "0.0.0.0/0"}]
    failing = _broken({route.name: {"destinationCidrBlock": "0.0.0.0/0"}, router.name: {"bgp": bgp}})
    # every tunnel ending on that router now advertises the default route
    tunnels = {r.name for r in rendered if r.type == "gcp:compute/vPNTunnel:VPNTunnel"
               and r.inputs.get("router", {}).get("$ref") == router.name}
    return passing(), failing, {("net", route.name)} | {("net", t) for t in tunnels}


def database_case():
    loaded, _, rendered = _planned()
    db = next(r for r in rendered if r.role == "database")
    settings = dict(db.inputs["settings"])
    settings["ipConfiguration"] = dict(settings["ipConfiguration"]) | {"ipv4Enabled": True}
    text = loaded.text.replace("- {port: 5432, from: web, gb_month: 300}",
                               "- {port: 5432, from: web, gb_month: 300}\n      - {port: 5432, from: 100.24.0.0/16}")
    public = parse_stack(text, "stack.yaml")
    return passing(), _broken({db.name: {"settings": settings}}, loaded=public), {("db", None), ("db", db.name)}
