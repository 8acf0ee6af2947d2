"""Buckets, placed after the solve: next to what they serve, else where object storage is cheapest.

A bucket has no replicas to spread and no machine to price, so it needs no place in the MILP: it goes where
the replicas of the resource it is `near` are densest, otherwise to the cheapest region (preferring one the
stack already uses: no cross-region traffic) -- in both cases only among the regions whose cloud can host
it (``capability``). Its explanation says why it went there and why every other region did not get it.
"""

from __future__ import annotations

from collections import Counter

from cloudorch.catalog.model import Catalog
from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement.capability import CapabilityFilter, Hosts, requirements_of
from cloudorch.placement.explain import collapse_outside_geo
from cloudorch.placement.model import Exclusion, Explanation, ResourcePlacement
from cloudorch.placement.problem import Solution, near_group
from cloudorch.spec.models import Bucket, Stack


def place_buckets(stack: Stack, catalog: Catalog, solution: Solution, capability: CapabilityFilter,
                  region_exclusions: list[Exclusion], explain_choices: bool):
    """Every bucket's placement, their storage cost per month, and (with ``explain_choices``) explanations."""
    used = Counter()
    for chosen in solution.assignment.values():
        for o, n in chosen:
            used[o.location] += n
    placements, explanations, total = {}, {}, 0.0
    for name, spec in sorted(stack.resources.items()):
        if not isinstance(spec, Bucket):
            continue
        hosts = capability.hosts(requirements_of(stack, name))
        choice = _Choice(spec, hosts, catalog, used, solution)
        if not choice.ranked:
            raise _nowhere(name, spec, hosts)
        cloud, region = choice.ranked[0]
        storage = round(spec.size_gb * catalog.storage_index.get((cloud, region), 0.0), 2)
        total += storage
        placements[name] = ResourcePlacement(resource=name, kind="bucket", cloud=cloud, region=region,
                                             storage_monthly_usd=storage)
        if explain_choices:
            explanations[name] = choice.explanation(name, collapse_outside_geo(region_exclusions, stack.placement.geo))
    return placements, round(total, 2), explanations


class _Choice:
    """The regions a bucket could go to, best first, and the order's reasons."""

    def __init__(self, spec: Bucket, hosts: Hosts, catalog: Catalog, used: Counter, solution: Solution) -> None:
        self.spec, self.hosts = spec, hosts
        self.price = catalog.storage_index
        self.hostable = [(r.cloud, r.name) for r in hosts.regions]
        if spec.near:
            self.replicas = Counter()
            for o, n in solution.assignment.get(spec.near, ()):
                self.replicas[o.location] += n
            near = [g for g in self.hostable if g in self.replicas]
            self.ranked = sorted(near, key=lambda g: (-self.replicas[g], self.price.get(g, 1e9), g))
        else:
            self.used = used
            priced = [g for g in self.hostable if g in self.price]
            self.ranked = sorted(priced, key=lambda g: (self.price[g], -used[g], g))

    def explanation(self, name: str, region_exclusions: list[Exclusion]) -> Explanation:
        chosen = self.ranked[0]
        where = f"bucket in {chosen[0]}/{chosen[1]}"
        if chosen in self.price:
            where += f" (object storage ${self.price[chosen]:.4f}/GB-month)"
        if self.spec.near:
            where += f", next to {self.replicas[chosen]} of {self.spec.near}'s replicas"
        others = [self._why_not(g, chosen) for g in self.hostable if g != chosen]
        return Explanation(resource=name, chosen=(where,), excluded=tuple(sorted(
            [*region_exclusions, *self.hosts.excluded, *others], key=lambda e: (e.cloud, e.region or "", e.reason))))

    def _why_not(self, g: tuple[str, str], chosen: tuple[str, str]) -> Exclusion:
        near = self.spec.near
        if near and g not in self.replicas:
            reason, detail = "near", f"does not host {near}"
        elif near and self.replicas[g] < self.replicas[chosen]:
            reason, detail = "density", f"hosts {self.replicas[g]} of {near}'s replicas, the chosen region {self.replicas[chosen]}"
        elif g not in self.price:
            reason, detail = "no-offering", "the catalog prices no object storage here"
        elif chosen in self.price and self.price[g] > self.price[chosen]:
            reason, detail = "price", f"object storage ${self.price[g]:.4f}/GB-month"
        elif not near and self.used[g] < self.used[chosen]:
            reason, detail = "tie", "as cheap; the chosen region already runs more of the stack (no cross-region traffic)"
        else:
            reason, detail = "tie", "as cheap; equal choices are broken by region name"
        return Exclusion(cloud=g[0], region=g[1], reason=reason, detail=detail)


def _nowhere(name: str, spec: Bucket, hosts: Hosts) -> InfeasiblePlacement:
    gaps = sorted({f"{e.cloud}: {e.detail}" for e in hosts.excluded})
    message = f"bucket {name!r} has no region to go to"
    if spec.near:
        message += f" next to {spec.near}"
    if gaps:
        message += " (" + "; ".join(gaps) + ")"
    return InfeasiblePlacement(
        message,
        conflicts=[near_group(name) if spec.near else "placement"],
        hint="widen placement.clouds / geo / regions, or check that the catalog prices object storage there"
             + (f"; or place {spec.near} where a bucket can go" if spec.near and gaps else ""),
    )
