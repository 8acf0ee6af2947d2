"""The plan: everything cloudorch decided, as one versioned, deterministic document.

The same inputs give byte-identical JSON: no timestamps, no absolute paths, sorted collections. Secret
values never appear: generated secrets are references to the resources that generate them inside
Pulumi's encrypted state. The fingerprint lets `apply --plan` refuse a plan whose inputs changed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cloudorch.network.model import NetworkPlan
from cloudorch.placement.model import HOURS_PER_MONTH, PlacementResult
from cloudorch.plan.costs import Bill
from cloudorch.rendering import RenderedResource
from cloudorch.rendering.reach import NetworkProof

FORMAT_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Fingerprint(_Frozen):
    """What the plan was made from; any difference makes a saved plan stale."""

    cloudorch_version: str
    stack_sha256: str
    catalog_sha256: str
    policy_sha256: str

    def differences(self, other: Fingerprint) -> list[str]:
        labels = {
            "cloudorch_version": "the cloudorch version",
            "stack_sha256": "the stack file",
            "catalog_sha256": "the catalog",
            "policy_sha256": "the policy set",
        }
        return [label for key, label in labels.items() if getattr(self, key) != getattr(other, key)]


class PlacementEntry(_Frozen):
    resource: str
    kind: str
    cloud: str
    region: str
    instance_type: str | None = None
    spot: bool = False
    count: int
    hourly_usd: float
    monthly_usd: float


class ResourceEntry(_Frozen):
    name: str
    cloud: str
    region: str | None
    type: str
    role: str | None = None
    source: str | None
    provider: str | None
    inputs: dict[str, Any]
    depends_on: list[str]
    secret_outputs: list[str] = []


class Cost(_Frozen):
    """The monthly bill: every line below, summed. ``placement_monthly_usd`` is what the optimiser priced the
    same placement at (machines plus its network model); ``lower_bound_monthly_usd`` bounds any placement's."""

    currency: str = "USD"
    hourly_usd: float
    monthly_usd: float
    machines_monthly_usd: float = 0.0
    network_monthly_usd: float = 0.0
    #: what the network's part is made of (``Bill.network_by_part``): part ("links", "nat", "serving", ...,
    #: "traffic", "egress") -> USD, adding up to ``network_monthly_usd``
    network_by_part: dict[str, float] = {}
    placement_monthly_usd: float | None = None
    lower_bound_monthly_usd: float | None = None
    #: why the placement search stopped before proving optimality; None when proved (to within 1e-7)
    search_stopped: str | None = None
    budget_monthly_usd: float | None = None
    by_cloud: dict[str, float]
    lines: list[dict[str, Any]] = []
    #: resources and prices cloudorch could not price: counted as nothing, listed here
    unpriced: list[dict[str, Any]] = []


class LinkEntry(_Frozen):
    id: str
    kind: str
    sites: list[str]
    flows: list[str]
    asns: list[int] = []
    tunnels: int = 0


class NetworkSection(_Frozen):
    """Sites, links, every declared flow with its proof, and what admits the internet."""

    sites: list[dict[str, str]] = []
    links: list[LinkEntry] = []
    flows: list[dict[str, Any]] = []
    exposure: list[dict[str, Any]] = []
    #: per location of a served resource: internet -> balancer -> replicas proved, and no other way in
    services: list[dict[str, Any]] = []


class CatalogInfo(_Frozen):
    source: str
    as_of: str
    offerings: int
    unparsed_rows: int = 0
    unparsed_examples: list[str] = []
    #: a live catalog's parts ("aws/prices") -> when each was fetched (UTC): the age of each part, stable
    #: for as long as the catalog is, so a saved plan is stale exactly when the catalog was refreshed
    parts: dict[str, str] = {}


class Plan(_Frozen):
    format_version: int = FORMAT_VERSION
    stack: str
    objective: str
    fingerprint: Fingerprint
    catalog: CatalogInfo
    placements: list[PlacementEntry]
    resources: list[ResourceEntry]
    policy: dict[str, Any] = Field(default_factory=dict)
    cost: Cost
    network: NetworkSection | None = None
    explain: dict[str, Any] | None = None

    def to_json(self) -> str:
        # pydantic's Rust serializer: the same document as json.dumps(indent=2, ensure_ascii=False), ~7x faster
        # on large plans (tests/test_plan.py holds the two to the same bytes)
        return self.model_dump_json(indent=2) + "\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def placement_entries(placement: PlacementResult) -> list[PlacementEntry]:
    out = []
    for name, p in sorted(placement.placements.items()):
        if p.slots:
            out += [
                PlacementEntry(resource=name, kind=p.kind, cloud=s.cloud, region=s.region, instance_type=s.instance_type,
                               spot=s.spot, count=s.count, hourly_usd=s.hourly_usd, monthly_usd=s.monthly_usd)
                for s in p.slots
            ]
        elif p.cloud and p.region:
            out.append(PlacementEntry(resource=name, kind=p.kind, cloud=p.cloud, region=p.region, count=1,
                                      hourly_usd=round(p.storage_monthly_usd / HOURS_PER_MONTH, 6),
                                      monthly_usd=p.storage_monthly_usd))
    return out


def resource_entries(rendered: list[RenderedResource]) -> list[ResourceEntry]:
    return [
        ResourceEntry(name=r.name, cloud=r.cloud, region=r.region, type=r.type, role=str(r.role) if r.role else None,
                      source=r.source, provider=r.provider,
                      inputs=r.inputs, depends_on=list(r.dependencies), secret_outputs=list(r.secret_outputs))
        for r in rendered
    ]


def cost_of(placement: PlacementResult, budget: float | None, bill: Bill | None = None) -> Cost:
    """The plan's cost: the bill of the rendered resources when there is one, else the placement's price."""
    if bill is None:
        by_cloud: dict[str, float] = {}
        for entry in placement_entries(placement):
            by_cloud[entry.cloud] = round(by_cloud.get(entry.cloud, 0.0) + entry.monthly_usd, 2)
        monthly = placement.monthly_usd
        return Cost(hourly_usd=round(monthly / HOURS_PER_MONTH, 4), monthly_usd=monthly,
                    machines_monthly_usd=placement.machines_monthly_usd,
                    network_monthly_usd=round(monthly - placement.machines_monthly_usd, 2),
                    placement_monthly_usd=monthly, lower_bound_monthly_usd=placement.lower_bound_monthly_usd,
                    budget_monthly_usd=budget, by_cloud=dict(sorted(by_cloud.items())))
    monthly = bill.monthly_usd
    machines = round(sum(line.monthly_usd for line in bill.lines if line.basis == "placement"), 2)
    network = round(monthly - machines, 2)
    lower = placement.lower_bound_monthly_usd
    return Cost(hourly_usd=round(monthly / HOURS_PER_MONTH, 4), monthly_usd=monthly, machines_monthly_usd=machines,
                network_monthly_usd=network, network_by_part=bill.network_by_part(network),
                placement_monthly_usd=placement.monthly_usd,
                lower_bound_monthly_usd=None if lower is None else min(lower, monthly), budget_monthly_usd=budget,
                search_stopped=placement.search_stopped,
                by_cloud=bill.by_cloud(), lines=[line.model_dump() for line in bill.lines],
                unpriced=[u.model_dump() for u in bill.unpriced])


def network_section(network: NetworkPlan, proof: NetworkProof | None) -> NetworkSection:
    sites = [{"network": b.network, "cloud": b.cloud, "region": b.region, "cidr": b.cidr}
             for b in sorted(network.blocks, key=lambda b: (b.network, b.cloud, b.region))]
    links = [LinkEntry(id=link.id, kind=link.kind, sites=[str(link.a), str(link.b)], flows=list(link.flows),
                       asns=[link.a_side.asn, link.b_side.asn] if link.a_side and link.b_side else [],
                       tunnels=len(link.tunnels)) for link in network.links]
    flows = [f.model_dump(mode="json") for f in proof.flows] if proof else [f.model_dump(mode="json") for f in network.flows]
    exposure = [e.model_dump(mode="json") for e in proof.exposure] if proof else []
    services = [s.model_dump(mode="json") for s in proof.services] if proof else []
    return NetworkSection(sites=sites, links=links, flows=flows, exposure=exposure, services=services)


def explain_section(placement: PlacementResult) -> dict[str, Any]:
    """Why each resource is where it is (which flows forced each link: ``network.links[].flows``)."""
    return {name: e.model_dump(mode="json") for name, e in sorted(placement.explanations.items())}
