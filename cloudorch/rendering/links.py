"""The links of the network plan as cross-cloud elements, and what each side of one must export.

A peering is rendered by one provider on both sides (both sites are on its cloud), a VPN by a provider on
each side; either way each side is an endpoint (``elements.py``) and asks for the other side's outputs
through ``view.peer_output``. What each kind exports:

peering  side 0: ``network`` (ref: its network's id), ``connection`` (ref: the resource the other side
                 accepts or mirrors: AWS's peering connection; elsewhere its own peering resource)
         side 1: ``network``
vpn      each side: ``addresses`` (refs, one per tunnel in ``Link.tunnels`` order: the public address the
                 tunnel ends on at this side), ``asn`` (value: the side's BGP ASN, ``VpnSide.asn``)
         side 0 also: ``keys`` (refs, one per tunnel: the pre-shared key, a secret generated inside the
                 engine by ``preshared_key``; both sides use the same reference, so it is never a value)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from cloudorch.network.model import Link, NetworkPlan
from cloudorch.rendering.elements import Element, Endpoint, ExportShape
from cloudorch.rendering.model import RenderedResource
from cloudorch.rendering.roles import Role

#: pre-shared keys: letters only, so every cloud accepts them (AWS refuses a key starting with 0 and any
#: character outside letters, digits, '.' and '_'); 40 letters is over 220 bits
PSK_LENGTH = 40


class LinkElement(Element):
    kind: Literal["peering", "vpn"]
    link: Link

    def exports(self, index: int) -> Mapping[str, ExportShape]:
        if self.kind == "peering":
            return {"network": "ref", "connection": "ref"} if index == 0 else {"network": "ref"}
        shapes: dict[str, ExportShape] = {"addresses": "refs", "asn": "value"}
        return shapes | {"keys": "refs"} if index == 0 else shapes


def link_elements(plan: NetworkPlan | None) -> tuple[LinkElement, ...]:
    if plan is None:
        return ()
    return tuple(
        LinkElement(kind=link.kind, id=link.id, link=link, endpoints=tuple(
            Endpoint(cloud=s.cloud, region=s.region, network=s.network) for s in link.sites()))
        for link in plan.links)


def preshared_key(name: str, cloud: str, region: str | None, source: str | None = None) -> RenderedResource:
    """A tunnel's pre-shared key, generated inside the engine and kept in its encrypted state: the plan holds
    only the reference ``ref(name, "result")``."""
    return RenderedResource(
        name=name, type="random:index/randomPassword:RandomPassword", role=Role.SECRET, cloud=cloud, region=region,
        source=source, inputs={"length": PSK_LENGTH, "special": False, "numeric": False, "upper": True, "lower": True},
        secret_outputs=("result",))


class IpsecPolicy:
    """The one IPsec policy every side of every VPN link uses, in neutral words; each provider spells it in
    its cloud's terms (AWS ``AES256-GCM-16``/``SHA2-384``/group 20, Azure ``GCMAES256``/``SHA384``/``ECP384``,
    GCP ``AES-GCM-16-256``/``PRF-HMAC-SHA2-384``/``Group-20``). Chosen because it is the strongest set all
    three clouds accept on both IKE phases, so the two sides of any link agree without a fallback to a
    weaker default (AWS's defaults still include AES128, SHA1 and DH group 2)."""

    ike_version = "ikev2"
    encryption = "aes256-gcm16"
    integrity = "sha2-384"
    dh_group = 20
    pfs_group = 20
    #: seconds; the IKE SA lifetime every cloud accepts (Azure's is fixed at 28,800)
    ike_lifetime = 28800
    ipsec_lifetime = 3600

    #: how ``LinkFacts.ciphers`` names them, the words the link policies compare
    names = ("aes256-gcm16", "sha2-384", "dh20")
