"""Every cloud's inbound firewall rule, read into one shape: who may connect, to which ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudorch.policy.values import UNKNOWN, covers, flag, get, is_all_ports, is_world, items, port_range
from cloudorch.rendering.model import RenderedResource
from cloudorch.spec.models import Ingress

from cloudorch_policies import tokens as T

ALL = (0, 65535)


@dataclass(frozen=True)
class Inbound:
    sources: tuple[Any, ...]
    ports: tuple[tuple[int, int], ...]  # empty when the ports are unknown

    @property
    def world(self) -> bool:
        return any(is_world(s) for s in self.sources)

    def covers(self, port: int) -> bool:
        return covers(self.ports, port)

    @property
    def all_ports(self) -> bool:
        return is_all_ports(self.ports)


def _aws(protocol: Any, from_port: Any, to_port: Any, sources: list[Any]) -> Inbound:
    if str(protocol).lower() in ("-1", "all"):
        return Inbound(tuple(sources), (ALL,))
    low, high = port_range(from_port), port_range(to_port)
    if low is None or high is None:
        return Inbound(tuple(sources), ())
    return Inbound(tuple(sources), ((low[0], high[1]),))


def _azure(rule: Any) -> Inbound | None:
    if str(get(rule, "direction", "Inbound")).lower() != "inbound" or str(get(rule, "access", "Allow")).lower() != "allow":
        return None
    sources = [get(rule, "sourceAddressPrefix"), *items(rule, "sourceAddressPrefixes")]
    specs = [get(rule, "destinationPortRange"), *items(rule, "destinationPortRanges")]
    ports = tuple(r for r in (port_range(s) for s in specs if s is not None) if r)
    return Inbound(tuple(s for s in sources if s is not None), ports)


def _gcp(res: RenderedResource) -> list[Inbound]:
    inputs = res.inputs
    if str(get(inputs, "direction", "INGRESS")).upper() != "INGRESS" or flag(get(inputs, "disabled")) is True:
        return []
    sources = tuple(items(inputs, "sourceRanges"))
    out = []
    for allow in items(inputs, "allows"):
        if allow is UNKNOWN:
            continue
        ports = items(allow, "ports")
        if not ports or str(get(allow, "protocol")).lower() == "all":
            out.append(Inbound(sources, (ALL,)))
        else:
            out.append(Inbound(sources, tuple(r for r in (port_range(p) for p in ports) if r)))
    return out


def inbound_rules(res: RenderedResource) -> list[Inbound]:
    """The allow-inbound rules a rendered firewall resource creates (empty for other types)."""
    inputs = res.inputs
    if res.type == T.AWS_SG_INGRESS:
        sources = [get(inputs, "cidrIpv4"), get(inputs, "cidrIpv6")]
        return [_aws(get(inputs, "ipProtocol"), get(inputs, "fromPort"), get(inputs, "toPort"),
                     [s for s in sources if s is not None])]
    if res.type == T.AWS_SG_RULE:
        if get(inputs, "type") != "ingress":
            return []
        sources = [*items(inputs, "cidrBlocks"), *items(inputs, "ipv6CidrBlocks")]
        return [_aws(get(inputs, "protocol"), get(inputs, "fromPort"), get(inputs, "toPort"), sources)]
    if res.type == T.AWS_SG:
        return [_aws(get(r, "protocol"), get(r, "fromPort"), get(r, "toPort"),
                     [*items(r, "cidrBlocks"), *items(r, "ipv6CidrBlocks")])
                for r in items(inputs, "ingress") if r is not UNKNOWN]
    if res.type == T.AZ_SECURITY_RULE:
        rule = _azure(inputs)
        return [rule] if rule else []
    if res.type == T.AZ_NSG:
        return [r for r in (_azure(rule) for rule in items(inputs, "securityRules") if rule is not UNKNOWN) if r]
    if res.type == T.GCP_FIREWALL:
        return _gcp(res)
    return []


def spec_ingress_path(spec: Any, port: int | None = None) -> tuple[str | int, ...]:
    """The stack-file path of the spec ingress entry a world-open rendered rule most likely came from."""
    for i, rule in enumerate(getattr(spec, "ingress", ()) or ()):
        if isinstance(rule, Ingress) and rule.is_world_open and (port is None or rule.port <= port <= rule.last_port):
            return ("ingress", i)
    return ()
