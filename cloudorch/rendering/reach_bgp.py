"""Whether each tunnel's BGP session of a VPN link comes up, from what both sides' facts say of it
(``LinkFacts.sessions``): a part of the reachability proof (``rendering.reach``).

A session is established only when each side's speaker expects, as its peer, the ASN and inside address the
other side gives itself, and both addresses sit in the tunnel's /30. A wrong peer ASN or peer address on
one side alone keeps the session down for ever, and nothing is learned over that tunnel, however whole its
IPsec part is. A value known only at deploy time (UNKNOWN) cannot be compared: such a tunnel is unverified,
never called broken, as the proof treats unknown values everywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from cloudorch.network.model import Link, Tunnel
from cloudorch.rendering.facts import BgpSession
from cloudorch.rendering.inputs import UNKNOWN

Status = Literal["proved", "broken", "unverified"]
#: (link id, side, tunnel index) -> the sessions that side describes for that tunnel
Sessions = Mapping[tuple[str, int, int], Sequence[BgpSession]]
_RANK = {"proved": 0, "unverified": 1, "broken": 2}


def tunnel_sessions(link: Link, sessions: Sessions) -> dict[int, tuple[Status, str | None]]:
    """Tunnel index -> whether its session comes up, and why not. Several sessions on one side (a cloud that
    may run it from either instance) are each paired with the other side's: one agreeing pair is enough."""
    out: dict[int, tuple[Status, str | None]] = {}
    for tunnel in link.tunnels:
        a, b = (sessions.get((link.id, side, tunnel.index), ()) for side in (0, 1))
        if not a or not b:
            out[tunnel.index] = ("broken", f"side {0 if not a else 1} describes no BGP session on tunnel {tunnel.index}")
            continue
        out[tunnel.index] = min((_agree(tunnel, sa, sb) for sa in a for sb in b), key=lambda v: _RANK[v[0]])
    return out


def _agree(tunnel: Tunnel, a: BgpSession, b: BgpSession) -> tuple[Status, str | None]:
    unknown = False
    checks = [
        (_asn(a.peer_asn), _asn(b.asn), "side 0 expects peer ASN {}, side 1's is {}"),
        (_asn(b.peer_asn), _asn(a.asn), "side 1 expects peer ASN {}, side 0's is {}"),
        (_address(a.peer_address), _address(b.address), "side 0 expects its peer at {}, side 1 is at {}"),
        (_address(b.peer_address), _address(a.address), "side 1 expects its peer at {}, side 0 is at {}"),
    ]
    for expected, actual, words in checks:
        if expected is UNKNOWN or actual is UNKNOWN:
            unknown = True
        elif expected is None or actual is None or expected != actual:
            return "broken", f"tunnel {tunnel.index}: " + words.format(_said(expected), _said(actual))
    inside = ipaddress.ip_network(tunnel.inside_cidr)
    for side, own in ((0, _address(a.address)), (1, _address(b.address))):
        if own is not UNKNOWN and own is not None and own not in inside:
            return "broken", f"tunnel {tunnel.index}: side {side}'s inside address {own} is outside {tunnel.inside_cidr}"
    if _address(a.address) == _address(b.address) is not None and _address(a.address) is not UNKNOWN:
        return "broken", f"tunnel {tunnel.index}: both sides take the inside address {_address(a.address)}"
    if unknown:
        return "unverified", f"tunnel {tunnel.index}'s BGP peers are known only at deploy time"
    return "proved", None


def _said(value: Any) -> str:
    return "not said" if value is None else str(value)


def _asn(value: Any) -> Any:
    if value is UNKNOWN or isinstance(value, bool):
        return UNKNOWN if value is UNKNOWN else None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():  # AWS spells ASNs as text
        return int(value)
    return None


def _address(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    try:
        return ipaddress.ip_address(str(value).split("/")[0]) if value is not None else None
    except ValueError:
        return None
