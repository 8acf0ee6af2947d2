"""The plan's bill: a cost line for every rendered resource that bills, a line for every flow's traffic and
every resource's internet egress, and the list of what could not be priced.

Machines, managed databases and buckets cost what the placement chose (their offering's price): the line
goes to the resource that runs them (instance group, instance, database, bucket) in that cloud and region.
Everything else is priced from what its provider says it is billed as (``CloudProvider.meters``) and the
embedded network price list; traffic and egress come from the placement's own pricing of the declared
volumes. A resource that bills but cannot be priced is listed in ``unpriced`` and counted as nothing,
openly: the plan says so, the total says "at least".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from cloudorch.catalog.network import NetworkPrices
from cloudorch.placement.model import PlacementResult, cents
from cloudorch.rendering.meters import Unmetered
from cloudorch.rendering.model import RenderedResource
from cloudorch.rendering.roles import Role

#: roles whose cost is the placement's: what runs the placed machines, databases and buckets
PLACED_ROLES = (Role.INSTANCE_GROUP, Role.INSTANCE, Role.DATABASE, Role.BUCKET)

#: the parts of the network's bill (``Bill.network_by_part``), by the role of what bills: the same part on
#: every cloud, though each builds it of other resources (AWS bills a balancer, GCP its forwarding rules)
NETWORK_PARTS = {
    **dict.fromkeys((Role.LINK, Role.VPN_GATEWAY, Role.PEER_GATEWAY, Role.BGP_PEER, Role.ROUTER), "links"),
    Role.NAT_GATEWAY: "nat",
    Role.PUBLIC_IP: "addresses",
    **dict.fromkeys((Role.BALANCER, Role.BALANCER_LISTENER, Role.BALANCER_BACKEND, Role.BALANCER_ATTACHMENT,
                     Role.HEALTH_CHECK, Role.CERTIFICATE, Role.WEB_FIREWALL, Role.WEB_FIREWALL_ATTACHMENT,
                     Role.DNS_ZONE, Role.DNS_RECORD), "serving"),
    **dict.fromkeys((Role.FLOW_LOG, Role.LOG_GROUP, Role.KEY), "logs and keys"),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CostLine(_Frozen):
    resource: str
    cloud: str
    region: str | None = None
    #: "placement" (the offering the placement chose), "price-list" (its meters), "traffic", "egress"
    basis: str
    monthly_usd: float
    #: what it is billed as: "2 x vpn_connection_hour", "m6i.xlarge x 3"
    detail: str = ""
    #: what the line is part of in the network's bill (``NETWORK_PARTS``: "links", "nat", "serving", ...)
    #: for a price-list line
    part: str | None = None


class UnpricedLine(_Frozen):
    resource: str
    cloud: str
    reason: str


class Bill(_Frozen):
    lines: tuple[CostLine, ...] = ()
    unpriced: tuple[UnpricedLine, ...] = ()

    @property
    def monthly_usd(self) -> float:
        return cents(sum(line.monthly_usd for line in self.lines))

    def network_by_part(self, total: float) -> dict[str, float]:
        """What the network's part of the bill (everything but the placed machines, databases and buckets;
        ``total``, in dollars and cents) is made of: per part (``NETWORK_PARTS``: "links", "nat",
        "serving", ...), and the declared traffic ("traffic") and internet egress ("egress"); dearest
        first, in cents that add up to ``total``: each part rounded down, and the cents left given to the
        parts that rounding cut most (the largest-remainder method), so a part that is whole stays whole."""
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            if line.basis != "placement":
                out[line.part or (line.basis if line.basis in ("traffic", "egress") else "other")] += line.monthly_usd
        in_cents = {k: v * 100 for k, v in out.items()}
        floors = {k: math.floor(v + 1e-6) for k, v in in_cents.items()}
        left = round(total * 100) - sum(floors.values())
        by_cut = sorted(in_cents, key=lambda k: (-(in_cents[k] - floors[k]), k))
        order = by_cut if left > 0 else by_cut[::-1]
        for i in range(abs(left) if order else 0):  # the total's own rounding may leave a cent more than parts
            floors[order[i % len(order)]] += 1 if left > 0 else -1
        return {k: c / 100 for k, c in sorted(floors.items(), key=lambda kv: (-kv[1], kv[0])) if c}

    def by_cloud(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            out[line.cloud] += line.monthly_usd
        return {k: round(v, 2) for k, v in sorted(out.items())}


def bill_of(placement: PlacementResult, rendered: Sequence[RenderedResource], meters: Mapping[str, Any],
            prices: NetworkPrices | None, nat_vms: Mapping[tuple[str, str, str], int] | None = None) -> Bill:
    """``meters``: cloud -> its provider's ``meters`` callable; ``nat_vms``: (network, cloud, region) -> the
    VMs that site's NAT serves (``placement.bill.nat_site_vms``; a NAT billed per VM bills none elsewhere)."""
    lines: list[CostLine] = []
    unpriced: list[UnpricedLine] = []
    lines += _placed(placement, rendered)
    vms = nat_vms or {}
    for res in rendered:
        if res.role in PLACED_ROLES or res.is_provider or res.cloud not in meters:
            continue
        found = meters[res.cloud](res)
        if found == ():
            continue
        if found is None or isinstance(found, Unmetered):
            reason = found.reason if isinstance(found, Unmetered) else "no price for it in the embedded price list"
            unpriced.append(UnpricedLine(resource=res.name, cloud=res.cloud, reason=reason))
            continue
        usd, detail, missing, unknowable = 0.0, [], [], []
        for m in found:
            if isinstance(m, Unmetered):  # a part billed by a volume cloudorch cannot know
                unknowable.append(m.reason)
                continue
            price = None if prices is None else prices.monthly(res.cloud, m.item, m.quantity, m.scope,
                                                               vms=vms.get((res.source, res.cloud, res.region), 0))
            if price is None:
                missing.append(m.item)
                continue
            usd += price
            detail.append(f"{m.quantity:g} x {m.item}")
        if missing or unknowable:
            reasons = ([f"no published price for {', '.join(missing)}"] if missing else []) + unknowable
            unpriced.append(UnpricedLine(resource=res.name, cloud=res.cloud, reason="; ".join(reasons)))
        if detail:
            lines.append(CostLine(resource=res.name, cloud=res.cloud, region=res.region, basis="price-list",
                                  monthly_usd=round(usd, 4), detail=", ".join(detail),
                                  part=NETWORK_PARTS.get(res.role, str(res.role) if res.role else None)))
    if placement.network_cost is not None:
        for line in placement.network_cost.lines:
            if line.kind in ("traffic", "egress") and line.monthly_usd:
                lines.append(CostLine(resource=line.what, cloud=line.cloud, basis=line.kind,
                                      monthly_usd=line.monthly_usd))
            elif line.kind == "egress-tiers":  # negative: what the later tiers take off the egress above
                lines.append(CostLine(resource=f"{line.cloud} egress tiers", cloud=line.cloud, basis="egress",
                                      monthly_usd=line.monthly_usd, detail=line.what, part="egress tiers"))
        for item, reason in placement.network_cost.unpriced.items():
            unpriced.append(UnpricedLine(resource=item, cloud=item.split(":", 1)[0], reason=reason))
    return Bill(lines=tuple(lines), unpriced=tuple(sorted(set(unpriced), key=lambda u: (u.resource, u.reason))))


def _placed(placement: PlacementResult, rendered: Sequence[RenderedResource]) -> list[CostLine]:
    """The placement's prices, each on the (first, by name) resource that runs it in its cloud and region."""
    runs: dict[tuple[str, str, str | None], str] = {}
    for res in sorted(rendered, key=lambda r: (PLACED_ROLES.index(r.role) if r.role in PLACED_ROLES else 9, r.name)):
        if res.role in PLACED_ROLES and res.source:
            runs.setdefault((res.source, res.cloud, res.region), res.name)
    out = []
    for name, p in sorted(placement.placements.items()):
        if p.slots:
            for s in p.slots:
                holder = runs.get((name, s.cloud, s.region)) or name
                out.append(CostLine(resource=holder, cloud=s.cloud, region=s.region, basis="placement",
                                    monthly_usd=s.monthly_usd, detail=f"{s.count} x {s.instance_type}"
                                    + (" (spot)" if s.spot else "")))
        elif p.cloud and p.region:
            holder = runs.get((name, p.cloud, p.region)) or name
            out.append(CostLine(resource=holder, cloud=p.cloud, region=p.region, basis="placement",
                                monthly_usd=p.storage_monthly_usd, detail="storage"))
    return out
