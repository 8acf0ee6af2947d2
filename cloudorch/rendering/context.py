"""What a provider is given to render its share of a stack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from cloudorch.errors import Problem
from cloudorch.network.model import Link, NetworkPlan
from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement
from cloudorch.spec.loader import dotted_path
from cloudorch.spec.models import Bucket, Compute, Database, Ingress, Network, Stack

if TYPE_CHECKING:
    from cloudorch.rendering.elements import Element
    from cloudorch.rendering.service import Balancer
    from cloudorch.spec.loader import LoadedStack

T = TypeVar("T")


@dataclass(frozen=True)
class RenderContext:
    stack: Stack
    placement: PlacementResult
    cloud: str
    #: the stack file the stack came from, so a provider can point a user-fixable problem at its line
    source: LoadedStack | None = None
    #: the cross-cloud elements of the stack (links, global names), each rendered endpoint by endpoint
    elements: tuple[Element, ...] = ()
    #: the network stage's plan: blocks, links, flows. Without one (a hand-made context), the blocks are
    #: ``placement.networks`` and nothing is linked.
    network: NetworkPlan | None = None
    #: every location's balancer of every served resource, on every cloud (``rendering.service.balancers``)
    balancers: tuple[Balancer, ...] = ()

    # -- problems the user can fix ---------------------------------------------------------------------
    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        """A problem located at a stack-file field (``("resources", "web", "ingress", 3)``): a provider
        that meets a limit the user controls says which field to change, rather than raising a bare error."""
        file = self.source.file if self.source else "<stack>"
        line = self.source.line_of(*path) if self.source else None
        return Problem(file, line, dotted_path(path), message)

    def elements_at(self, region: str | None = None) -> tuple[Element, ...]:
        """Elements with an endpoint on this cloud (in ``region``, when given)."""
        return tuple(e for e in self.elements
                     if any(p.cloud == self.cloud and (region is None or p.region == region) for p in e.endpoints))

    def balancer_of(self, resource: str, region: str) -> Balancer | None:
        """The balancer in front of ``resource``'s replicas in ``region`` of this cloud, if it is served."""
        return next((b for b in self.balancers
                     if b.resource == resource and b.cloud == self.cloud and b.region == region), None)

    # -- memoised derivations --------------------------------------------------------------------------
    @cached_property
    def _memo(self) -> dict[Any, Any]:
        return {}

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """Compute something derived from this context once per render (a stack of 1,000 resources asks the
        same question once per resource; answering it each time makes rendering quadratic)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- what lands on this cloud --------------------------------------------------------------------
    def placed(self, kind: type[Compute] | type[Database] | type[Bucket]) -> list[tuple[str, ResourcePlacement]]:
        """(name, placement) of resources of ``kind`` with at least one location on this cloud, by name."""
        def compute() -> list[tuple[str, ResourcePlacement]]:
            out = []
            for name, spec in sorted(self.stack.resources.items()):
                placement = self.placement.placements.get(name)
                if isinstance(spec, kind) and placement and self.cloud in placement.clouds:
                    out.append((name, placement))
            return out

        return list(self.memo(("placed", kind), compute))

    @property
    def blocks(self) -> tuple[NetworkBlock, ...]:
        """Every site's block, on every cloud."""
        return self.network.blocks if self.network is not None else self.placement.networks

    def links(self, region: str | None = None, kind: str | None = None) -> tuple[Link, ...]:
        """Links with a side on this cloud (in ``region``, when given), of ``kind`` when given."""
        if self.network is None:
            return ()
        return tuple(link for link in self.network.links_of(self.cloud, region) if kind is None or link.kind == kind)

    def network_blocks(self) -> list[tuple[str, Network, NetworkBlock]]:
        """(network name, spec, block) for every network block allocated on this cloud, sorted."""
        out = []
        for block in sorted(self.blocks, key=lambda b: (b.network, b.region)):
            if block.cloud == self.cloud:
                spec = self.stack.resources[block.network]
                assert isinstance(spec, Network)
                out.append((block.network, spec, block))
        return out

    def block_for(self, network: str, region: str) -> NetworkBlock:
        for block in self.blocks:
            if block.network == network and block.cloud == self.cloud and block.region == region:
                return block
        raise KeyError(f"no block of network {network!r} in {self.cloud}/{region}")

    def regions(self) -> list[str]:
        """Every region of this cloud that hosts anything of the stack, sorted."""
        found = {b.region for b in self.blocks if b.cloud == self.cloud}
        for placement in self.placement.placements.values():
            found |= {region for cloud, region in placement.locations if cloud == self.cloud}
        return sorted(found)

    # -- ingress ---------------------------------------------------------------------------------------
    def source_cidrs(self, rule: Ingress) -> list[str]:
        """The address ranges an ingress rule admits.

        A resource name becomes the network blocks where that resource runs, on every cloud: cloudorch
        allocates non-overlapping blocks per cloud and region precisely so they can be interconnected.
        """
        if rule.source_kind == "internet":
            return ["0.0.0.0/0"]
        if rule.source_kind == "cidr":
            return [rule.from_]
        return self.blocks_of(rule.from_)

    def blocks_of(self, name: str) -> list[str]:
        """The blocks of ``name``'s network where ``name`` runs, on every cloud; none for a resource in no
        network or not placed."""
        placement = self.placement.placements.get(name)
        network = getattr(self.stack.resources[name], "network", None)
        if placement is None or network is None:
            return []
        wanted = set(placement.locations)
        return sorted({b.cidr for b in self.blocks if b.network == network and (b.cloud, b.region) in wanted})

    def flow_destinations(self, source: str) -> list[tuple[Ingress, str]]:
        """(rule, block) for every ingress rule of another resource that admits ``source``, with each block
        where that resource runs: where ``source`` opens connections (``source_cidrs`` the other way round),
        for a firewall that lets nothing out unless told."""
        def compute() -> dict[str, list[tuple[Ingress, str]]]:
            out: dict[str, list[tuple[Ingress, str]]] = {}
            for name, spec in sorted(self.stack.resources.items()):
                cidrs = self.blocks_of(name)
                for rule in getattr(spec, "ingress", ()):
                    if rule.source_kind == "resource":
                        out.setdefault(rule.from_, []).extend((rule, cidr) for cidr in cidrs)
            return out

        return list(self.memo("flow_destinations", compute).get(source, ()))

    @staticmethod
    def public_facing(spec: Compute | Database) -> bool:
        """Whether a resource must be reachable from outside private address space (needs a public address).

        One definition for every provider and for the placement's bill: a rule admitting the internet or
        any CIDR outside private space (``Ingress.from_outside_private_space``).
        """
        return any(rule.from_outside_private_space for rule in spec.ingress)

    def tags(self, resource: str | None = None) -> dict[str, str]:
        """Stack tags, then the resource's own, then cloudorch's bookkeeping tags (which always win)."""
        tags = dict(self.stack.tags)
        spec = self.stack.resources.get(resource) if resource else None
        if spec is not None:
            tags |= dict(spec.tags)
        tags["cloudorch-stack"] = self.stack.stack
        if resource:
            tags["cloudorch-resource"] = resource
        return dict(sorted(tags.items()))
