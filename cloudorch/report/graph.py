"""A plan as a picture for docs and pull requests: every location (cloud and region) a box, the resources
placed there with their replicas inside, and the traffic between them (Mermaid or Graphviz DOT).

Edges come from the plan's proved flows, one per pair of locations a flow actually crosses, so the picture
shows which replicas talk to which database over which link, not just that `web` talks to `orders-db`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudorch.plan import Plan


@dataclass(frozen=True)
class Node:
    id: str
    label: str


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    #: a site-to-site link (VPN, peering) rather than a flow
    link: bool = False


@dataclass(frozen=True)
class PlanGraph:
    stack: str
    #: (cloud/region, its nodes), sorted
    locations: tuple[tuple[str, tuple[Node, ...]], ...]
    edges: tuple[Edge, ...]


def plan_graph(plan: Plan) -> PlanGraph:
    """The locations, what runs in each, and the flows and links between them."""
    places: dict[str, dict[str, list[str]]] = {}  # location -> resource -> what of it is there
    for p in plan.placements:
        what = f"{p.count} x {p.instance_type}" if p.instance_type else p.kind
        places.setdefault(f"{p.cloud}/{p.region}", {}).setdefault(p.resource, []).append(what)
    network = plan.network
    for site in network.sites if network else ():
        places.setdefault(f"{site['cloud']}/{site['region']}", {}).setdefault(site["network"], []).append(site["cidr"])
    ids: dict[tuple[str, str], str] = {}
    locations = []
    for location in sorted(places):
        nodes = []
        for resource in sorted(places[location]):
            ids[resource, location] = f"n{len(ids)}"
            nodes.append(Node(ids[resource, location], f"{resource}: {', '.join(places[location][resource])}"))
        locations.append((location, tuple(nodes)))
    edges: set[Edge] = set()
    for flow in network.flows if network else ():
        for path in flow.get("paths", []):
            source = ids.get((flow["source"], _location(path["source_site"])))
            target = ids.get((flow["target"], _location(path["target_site"])))
            if source and target:
                edges.add(Edge(source, target, f":{flow['port']}"))
    for link in network.links if network else ():
        a, b = (ids.get((site.split("@", 1)[0], _location(site))) for site in link.sites)
        if a and b:
            edges.add(Edge(a, b, link.kind, link=True))
    return PlanGraph(plan.stack, tuple(locations), tuple(sorted(edges, key=lambda e: (e.source, e.target, e.label))))


def _location(site: str) -> str:
    """`net@aws/eu-north-1` -> `aws/eu-north-1`."""
    return site.split("@", 1)[-1]


def to_mermaid(graph: PlanGraph) -> str:
    lines = ["flowchart LR"]
    for i, (location, nodes) in enumerate(graph.locations):
        lines.append(f'  subgraph L{i}["{_mermaid(location)}"]')
        lines += [f'    {n.id}["{_mermaid(n.label)}"]' for n in nodes]
        lines.append("  end")
    for e in graph.edges:
        arrow = "-. " if e.link else "-- "
        tail = " .->" if e.link else " -->"
        lines.append(f'  {e.source} {arrow}"{_mermaid(e.label)}"{tail} {e.target}')
    return "\n".join(lines) + "\n"


def to_dot(graph: PlanGraph) -> str:
    lines = [f"digraph {_dot(graph.stack)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for i, (location, nodes) in enumerate(graph.locations):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={_dot(location)};")
        lines += [f"    {n.id} [label={_dot(n.label)}];" for n in nodes]
        lines.append("  }")
    for e in graph.edges:
        style = ", style=dashed, dir=none" if e.link else ""
        lines.append(f"  {e.source} -> {e.target} [label={_dot(e.label)}{style}];")
    return "\n".join(lines) + "\n}\n"


def _mermaid(text: str) -> str:
    # Mermaid reads a double quote as the end of a label; its own entity keeps it
    return text.replace('"', "#quot;")


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
