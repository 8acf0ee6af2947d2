"""What the planner decides: where each replica of each resource runs, and what it costs.

Frozen results; the planner never mutates its input. ``HOURS_PER_MONTH`` is the billing convention used by
all three clouds' calculators.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from cloudorch.catalog.network import HOURS_PER_MONTH  # one billing month for machines and network



def cents(usd: float) -> float:
    """``usd`` to the cent, half up, past the float noise of a sum of lines: the placement's total and the
    bill's add the same amounts in different orders and groupings, and round(630.1949999999999, 2) and
    round(630.1950000000001, 2) part them by a cent (found by review)."""
    return math.floor(usd * 100 + 0.5 + 1e-6) / 100

class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Slot(_Frozen):
    """A group of identical replicas on one offering."""

    cloud: str
    region: str
    instance_type: str
    spot: bool = False
    count: int
    vcpus: float
    memory_gib: float
    zones: tuple[str, ...] = ()
    accelerator: str | None = None
    accelerator_count: int = 0
    hourly_usd: float = Field(description="for all `count` replicas")
    monthly_usd: float = Field(description="for all `count` replicas")
    availability: float = Field(default=1.0, description="estimated probability a replica is available")


class ResourcePlacement(_Frozen):
    """Where one stack resource goes. Compute has one or more slots, a database one, a bucket a region only."""

    resource: str
    kind: str
    slots: tuple[Slot, ...] = ()
    cloud: str | None = Field(default=None, description="bucket only: its cloud")
    region: str | None = Field(default=None, description="bucket only: its region")
    storage_monthly_usd: float = 0.0

    @property
    def locations(self) -> tuple[tuple[str, str], ...]:
        if self.slots:
            return tuple(sorted({(s.cloud, s.region) for s in self.slots}))
        return ((self.cloud, self.region),) if self.cloud and self.region else ()

    @property
    def clouds(self) -> tuple[str, ...]:
        return tuple(sorted({c for c, _ in self.locations}))

    @property
    def count(self) -> int:
        return sum(s.count for s in self.slots) or (1 if self.locations else 0)

    @property
    def hourly_usd(self) -> float:
        return round(sum(s.hourly_usd for s in self.slots) + self.storage_monthly_usd / HOURS_PER_MONTH, 6)

    @property
    def monthly_usd(self) -> float:
        return round(sum(s.monthly_usd for s in self.slots) + self.storage_monthly_usd, 2)


class NetworkBlock(_Frozen):
    """The share of a stack network's address space given to one cloud and region."""

    network: str
    cloud: str
    region: str
    cidr: str


class Alternative(_Frozen):
    """The chosen placement with one slot moved to another offering, still meeting the stack's constraints."""

    cloud: str
    region: str
    instance_type: str
    spot: bool
    monthly_usd: float = Field(description="the resource's monthly cost with this change, plus what the change "
                               "adds to or saves on the network's bill (links, traffic)")
    replaces: str | None = Field(default=None, description="which chosen slot moves here")
    why: str | None = Field(default=None, description="why it is shown: another type in the chosen region, the best "
                            "offering on another cloud, or one of the next cheapest placements")


class Exclusion(_Frozen):
    cloud: str
    region: str | None = None
    reason: str = Field(
        description="geo | region | cloud | capability | arch | no-offering | price | tie | near | apart | spread | "
                    "capacity | network | availability | search | blocks (its network has no address block left"
                    " for another location)"
                    " | density (a bucket: fewer replicas of what it is near) | restricted (types that would fit, refused to the"
                    " account: the live catalog's restrictions, with the cloud's reason) | availability (cheaper, but a"
                    " low spot placement score makes it less available than what was chosen)"
    )
    detail: str


class Explanation(_Frozen):
    resource: str
    chosen: tuple[str, ...]
    alternatives: tuple[Alternative, ...] = ()
    excluded: tuple[Exclusion, ...] = ()


class NetworkCostLine(_Frozen):
    """One part of the network's monthly bill as the placement priced it."""

    kind: str = Field(description="site | vpn-gateway | vpn-link | traffic | egress | nat-per-vm (a NAT billed "
                                  "per VM: per resource, or per site where its price is capped) | egress-tiers "
                                  "(negative: what a cloud's later egress tiers take off its volume)")
    what: str
    cloud: str
    monthly_usd: float


class NetworkCost(_Frozen):
    lines: tuple[NetworkCostLine, ...] = ()
    monthly_usd: float = 0.0
    #: "cloud: item" -> why it could not be priced (left out of the total, never counted as zero silently)
    unpriced: dict[str, str] = {}


class PlacementResult(_Frozen):
    objective: str
    placements: dict[str, ResourcePlacement]
    networks: tuple[NetworkBlock, ...] = ()
    explanations: dict[str, Explanation] = {}
    lower_bound_monthly_usd: float | None = Field(
        default=None, description="LP-relaxation bound on the cost; equal to the cost when proven optimal"
    )
    #: the network's part of the bill (sites, VPN gateways and links, traffic, egress); None: not priced
    network_cost: NetworkCost | None = None
    #: why the search stopped before proving this placement optimal (then the lower bound is below the
    #: cost by the gap it could not close); None: proved optimal
    search_stopped: str | None = None

    @property
    def machines_monthly_usd(self) -> float:
        return round(sum(p.monthly_usd for p in self.placements.values()), 2)

    @property
    def monthly_usd(self) -> float:
        """The whole monthly bill the placement optimised: machines, databases, storage and the network."""
        network = self.network_cost.monthly_usd if self.network_cost is not None else 0.0
        return cents(self.machines_monthly_usd + network)

    def blocks(self, network: str, cloud: str | None = None) -> tuple[NetworkBlock, ...]:
        return tuple(b for b in self.networks if b.network == network and (cloud is None or b.cloud == cloud))
