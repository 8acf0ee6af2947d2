"""The resource graph: which stack resources refer to which, and an order that respects it.

The loader has already rejected dangling, wrong-kind and cyclic references with located messages; here
the references become edges that later stages use (rendering order, what a change affects).
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from cloudorch.errors import Problem, SpecError
from cloudorch.spec.models import Compute, Database, Stack


@dataclass(frozen=True, order=True)
class Edge:
    source: str  # the resource holding the reference
    target: str  # the resource it names
    field: str  # network | near | apart | ingress

    def __str__(self) -> str:
        return f"{self.source} -{self.field}-> {self.target}"


@dataclass(frozen=True)
class ResourceGraph:
    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]

    def targets(self, source: str) -> tuple[str, ...]:
        return tuple(sorted({e.target for e in self.edges if e.source == source}))

    def dependents(self, target: str) -> tuple[str, ...]:
        return tuple(sorted({e.source for e in self.edges if e.target == target}))

    def order(self) -> tuple[str, ...]:
        """Every resource after the resources it names (ties by name, so the order is stable).

        ``apart`` and ingress are symmetric relations, not dependencies, so only network and near order.
        """
        sorter: TopologicalSorter[str] = TopologicalSorter()
        for node in self.nodes:
            sorter.add(node)
        for e in self.edges:
            if e.field in ("network", "near"):
                sorter.add(e.source, e.target)
        sorter.prepare()
        out: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            out += ready
            sorter.done(*ready)
        return tuple(out)


@dataclass(frozen=True, order=True)
class Flow:
    """Traffic the stack declares between two of its resources: an ingress entry whose ``from`` is a resource.

    ``source`` connects to ``target`` on ``port``..``last_port``; ``gb_month`` is what ``source`` sends a month.
    """

    target: str
    index: int  # position of the entry in the target's ingress list
    source: str
    port: int
    last_port: int
    protocol: str
    gb_month: float

    @property
    def id(self) -> str:
        return flow_id(self.source, self.target, self.port, self.last_port, self.protocol)


def flow_ports(port: int, last_port: int, protocol: str) -> str:
    """``53``, ``1000-2000``, ``53/udp``: a flow's ports as its id and drawings name them. tcp goes unnamed,
    so tcp flows keep the ids plans had before udp ones were told apart."""
    ports = f"{port}" if last_port == port else f"{port}-{last_port}"
    return ports if protocol == "tcp" else f"{ports}/{protocol}"


def flow_id(source: str, target: str, port: int, last_port: int, protocol: str) -> str:
    """``app->dns:53/udp``: one flow of a plan, named so that no two of its declared flows share a name (the
    loader refuses an ingress entry repeating another's ports, protocol and source)."""
    return f"{source}->{target}:{flow_ports(port, last_port, protocol)}"


def flows_of(stack: Stack) -> tuple[Flow, ...]:
    """Every declared flow, by target and position (the loader has checked the names)."""
    out = []
    for name, spec in sorted(stack.resources.items()):
        if isinstance(spec, (Compute, Database)):
            for i, rule in enumerate(spec.ingress):
                if rule.source_kind == "resource" and rule.from_ in stack.resources:
                    out.append(Flow(name, i, rule.from_, rule.port, rule.last_port, rule.protocol, rule.gb_month))
    return tuple(out)


def flow_partners(stack: Stack, name: str) -> frozenset[str]:
    """The resources a declared flow joins to ``name``, either way."""
    return frozenset(f.source if f.target == name else f.target for f in flows_of(stack)
                     if name in (f.source, f.target)) - {name}


def build_graph(stack: Stack, file: str = "<stack>") -> ResourceGraph:
    edges: list[Edge] = []
    for name, spec in stack.resources.items():
        network = getattr(spec, "network", None)
        if network:
            edges.append(Edge(name, network, "network"))
        if getattr(spec, "near", None):
            edges.append(Edge(name, spec.near, "near"))
        if isinstance(spec, Compute):
            edges += [Edge(name, other, "apart") for other in spec.apart]
        if isinstance(spec, (Compute, Database)):
            edges += [Edge(name, rule.from_, "ingress") for rule in spec.ingress if rule.source_kind == "resource"]
    missing = [e for e in edges if e.target not in stack.resources]
    if missing:  # the loader reports these with lines; a programmatic Stack may still carry them
        raise SpecError([Problem(file, None, f"resources.{e.source}.{e.field}", f"no resource named {e.target!r}")
                         for e in missing])
    graph = ResourceGraph(nodes=tuple(sorted(stack.resources)), edges=tuple(sorted(set(edges))))
    try:
        graph.order()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1]) if len(exc.args) > 1 else "?"
        raise SpecError([Problem(file, None, "resources", f"references form a cycle: {cycle}")]) from None
    return graph
