"""The one capability filter every kind of resource goes through: which regions can host it, and why not.

A resource's requirements are its own (``capabilities.requirement_of``) and, when it joins a network, that
network's: a machine cannot go where its network cannot be built. Each requirement is put to the cloud
that would host it, per region, through ``PlacementSettings.unsupported`` -- the installed providers'
``CloudProvider.unsupported`` in a real run, plain data in tests -- so placement never imports a
provider. Answers are remembered per (requirement, cloud, region): a 1,000-resource stack over ~90 regions
asks each provider only for its few distinct requirements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from cloudorch.capabilities import (Capability, Requirement, beside_public_requirement, cross_network_requirement,
                                    requirement_of)
from cloudorch.catalog.model import Region
from cloudorch.graph import flow_partners
from cloudorch.placement.model import Exclusion
from cloudorch.spec.models import Stack

#: (requirement, cloud, region) -> each capability the cloud lacks there for it, with the reason
Unsupported = Callable[[Requirement, str, str], Mapping[Capability, str]]


def cloud_wide(features: Mapping[str, Mapping[str, str]]) -> Unsupported:
    """``Unsupported`` for clouds whose gaps are the same in every region: cloud -> {capability: reason}.

    The same answer ``CloudProvider.unsupported`` gives by default from ``unsupported_features``.
    """
    return lambda requirement, cloud, region: requirement.gaps(features.get(cloud, {}))


def no_gaps(requirement: Requirement, cloud: str, region: str) -> Mapping[Capability, str]:
    return {}


def requirements_of(stack: Stack, name: str, across: frozenset[str] = frozenset(),
                    beside: frozenset[str] = frozenset()) -> tuple[tuple[str | None, Requirement], ...]:
    """What resource ``name`` needs wherever it goes: its own requirement (labelled None), if it joins a
    network the network's (labelled with the network), and for a database in ``across`` -- one a placement
    put on a cloud together with a flow partner of another stack network (``planner.peered_across``) -- to
    be reached across the link between the two networks; for a served resource in ``beside`` -- one a
    placement put in a location with public resources of its network (``planner.served_beside_public``) --
    to be served there without opening them."""
    spec = stack.resources[name]
    own: tuple[tuple[str | None, Requirement], ...] = ((None, requirement_of(spec)),)
    network = getattr(spec, "network", None)
    if network is None or network not in stack.resources:
        return own
    own = (*own, (f"network {network!r}", requirement_of(stack.resources[network])))
    if name in across and (others := _networks_talked_to(stack, name, network)):
        own = (*own, (f"its flows with network {', '.join(map(repr, others))}", cross_network_requirement()))
    if name in beside and getattr(spec, "serve", None) is not None:
        own = (*own, (f"public resources of network {network!r} beside it", beside_public_requirement(spec.serve.protocol)))
    return own


def _networks_talked_to(stack: Stack, name: str, network: str) -> list[str]:
    """The other stack networks whose resources have a flow with ``name`` (either way), sorted."""
    return sorted({n for p in flow_partners(stack, name) if (n := getattr(stack.resources[p], "network", None))
                   not in (None, network)})


@dataclass(frozen=True)
class Hosts:
    """The regions that can host a resource, what it does without in each, and why the others cannot."""

    regions: tuple[Region, ...]
    #: (cloud, region) -> the preferred capabilities (spot) a region lacks; absent where it lacks none
    without: Mapping[tuple[str, str], frozenset[Capability]]
    excluded: tuple[Exclusion, ...]
    #: hashable and equal for equal hosts: callers cache work per set of hosts on it
    key: tuple = field(repr=False)

    def allows(self, location: tuple[str, str], capability: Capability) -> bool:
        return capability not in self.without.get(location, ())


class CapabilityFilter:
    """Sorts the candidate ``regions`` into hosts and exclusions for each set of requirements, asking
    ``unsupported`` once per (requirement, cloud, region)."""

    def __init__(self, unsupported: Unsupported, regions: Iterable[Region]) -> None:
        self._unsupported = unsupported
        self._regions = tuple(regions)
        self._gaps: dict[tuple[Requirement, str, str], dict[Capability, str]] = {}
        self._hosts: dict[tuple[tuple[str | None, Requirement], ...], Hosts] = {}

    def gaps(self, requirement: Requirement, cloud: str, region: str) -> dict[Capability, str]:
        key = (requirement, cloud, region)
        if key not in self._gaps:
            answer = self._unsupported(requirement, cloud, region)
            # only what the requirement asks about, in a stable order, never without a reason to show
            self._gaps[key] = {Capability(c): answer[c] or f"{cloud} does not support {c} in {region}"
                               for c in sorted(requirement.capabilities) if c in answer}
        return self._gaps[key]

    def hosts(self, requirements: Iterable[tuple[str | None, Requirement]]) -> Hosts:
        """Where a resource with these (labelled) requirements can go: ``requirements_of``'s answer."""
        requirements = tuple(requirements)
        if requirements not in self._hosts:
            self._hosts[requirements] = self._sort(requirements)
        return self._hosts[requirements]

    def _sort(self, requirements: tuple[tuple[str | None, Requirement], ...]) -> Hosts:
        hosting, without, excluded = [], {}, []
        for region in self._regions:
            missing, soft = [], set()
            for label, requirement in requirements:
                for capability, reason in self.gaps(requirement, region.cloud, region.name).items():
                    if capability in requirement.needs:
                        missing.append(f"cannot host {label}: {reason}" if label else reason)
                    else:
                        soft.add(capability)
            if missing:
                excluded.append(Exclusion(cloud=region.cloud, region=region.name, reason="capability",
                                          detail="; ".join(missing)))
                continue
            hosting.append(region)
            if soft:
                without[(region.cloud, region.name)] = frozenset(soft)
        key = tuple((r.cloud, r.name, tuple(sorted(without.get((r.cloud, r.name), ())))) for r in hosting)
        return Hosts(tuple(hosting), without, tuple(_per_cloud(excluded, self._regions)), key)


def _per_cloud(excluded: list[Exclusion], regions: tuple[Region, ...]) -> list[Exclusion]:
    """One line for a cloud whose every candidate region is out for the same reason (a cloud-wide gap)."""
    out = []
    for cloud in sorted({e.cloud for e in excluded}):
        mine = [e for e in excluded if e.cloud == cloud]
        details = {e.detail for e in mine}
        if len(mine) > 1 and len(mine) == sum(r.cloud == cloud for r in regions) and len(details) == 1:
            out.append(Exclusion(cloud=cloud, reason="capability", detail=details.pop()))
        else:
            out += mine
    return out
