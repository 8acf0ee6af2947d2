"""A plan as a picture for docs and pull requests: every location (cloud and region) a box, the resources
placed there with their replicas inside, and the traffic between them (Mermaid or Graphviz DOT).

Edges come from the plan's proved flows, one per pair of locations a flow actually crosses, so the picture
shows which replicas talk to which database over which link, not just that `web` talks to `orders-db`.

Mermaid refuses a diagram over 500 edges or 50,000 characters (its defaults, which GitHub and GitLab use and a
reader cannot change), so a plan too big for that is drawn one node per location, its flows counted on the
edges between locations (DOT too, past 500 edges: ``to_dot``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudorch.graph import flow_ports
from cloudorch.plan import Plan


#: Mermaid's default ``maxEdges`` and ``maxTextSize``: past either it draws an error instead of the diagram
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    #: a network's site (its block) rather than a resource
    site: bool = False


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
    site_names = {(site["network"], f"{site['cloud']}/{site['region']}") for site in (network.sites if network else ())}
    ids: dict[tuple[str, str], str] = {}
    locations = []
    for location in sorted(places):
        nodes = []
        for resource in sorted(places[location]):
            ids[resource, location] = f"n{len(ids)}"
            nodes.append(Node(ids[resource, location], f"{resource}: {', '.join(places[location][resource])}",
                              site=(resource, location) in site_names))
        locations.append((location, tuple(nodes)))
    edges: set[Edge] = set()
    # one edge per pair of nodes, naming every port, so that two flows between the same replicas are one line;
    # a plan saved before flows recorded their range and protocol has single tcp ports
    ports: dict[tuple[str, str], set[tuple[int, int, str]]] = {}
    for flow in network.flows if network else ():
        port = (flow["port"], flow.get("last_port") or flow["port"], flow.get("protocol") or "tcp")
        for path in flow.get("paths", []):
            source = ids.get((flow["source"], _location(path["source_site"])))
            target = ids.get((flow["target"], _location(path["target_site"])))
            if source and target:
                ports.setdefault((source, target), set()).add(port)
    edges.update(Edge(s, t, ", ".join(f":{flow_ports(*p)}" for p in sorted(ps))) for (s, t), ps in ports.items())
    for link in network.links if network else ():
        a, b = (ids.get((site.split("@", 1)[0], _location(site))) for site in link.sites)
        if a and b:
            edges.add(Edge(a, b, link.kind, link=True))
    return PlanGraph(plan.stack, tuple(locations), tuple(sorted(edges, key=lambda e: (e.source, e.target, e.label))))


def _location(site: str) -> str:
    """`net@aws/eu-north-1` -> `aws/eu-north-1`."""
    return site.split("@", 1)[-1]


def to_mermaid(graph: PlanGraph) -> str:
    """Every resource in its location when Mermaid can draw that, else one node per location (module doc)."""
    detailed = _mermaid_detailed(graph)
    if len(graph.edges) <= MERMAID_MAX_EDGES and len(detailed) <= MERMAID_MAX_TEXT:
        return detailed
    summary = _by_location(graph)
    lines = ["flowchart LR", f"  %% {summary.note}"]
    lines += [f'  {node}["{_mermaid(label)}"]' for node, label in summary.nodes]
    shown = summary.edges[:MERMAID_MAX_EDGES]
    for a, b, label, link in shown:
        lines.append(f'  {a} -. "{label}" .-> {b}' if link else f'  {a} -- "{label}" --> {b}')
    left_out = [flows for _, _, _, _, flows in summary.weights[len(shown):]]
    if left_out:
        lines.append(f"  %% {len(left_out)} quieter location pairs ({sum(left_out)} flows) are not drawn")
    return "\n".join(lines) + "\n"


def to_dot(graph: PlanGraph) -> str:
    """Every resource in its location; past Mermaid's edge limit, one node per location laid out by sfdp
    (``layout=sfdp``, which `dot -Tsvg` honours): Graphviz's dot takes minutes on a few hundred edges
    between clusters, or stops with "trouble in init_rank" (2.42: from about 50 resources with a flow each)."""
    lines = [f"digraph {_dot(graph.stack)} {{", "  rankdir=LR;", "  node [shape=box];"]
    if len(graph.edges) > MERMAID_MAX_EDGES:
        summary = _by_location(graph)
        lines[1:2] = ["  layout=sfdp;", "  overlap=false;"]
        lines.append(f"  // {summary.note}")
        lines += [f"  {node} [label={_dot(label)}];" for node, label in summary.nodes]
        for a, b, label, link in summary.edges:
            style = ", style=dashed, dir=none" if link else ""
            lines.append(f"  {a} -> {b} [label={_dot(label)}{style}];")
        return "\n".join(lines) + "\n}\n"
    for i, (location, nodes) in enumerate(graph.locations):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={_dot(location)};")
        lines += [f"    {n.id} [label={_dot(n.label)}];" for n in nodes]
        lines.append("  }")
    for e in graph.edges:
        style = ", style=dashed, dir=none" if e.link else ""
        lines.append(f"  {e.source} -> {e.target} [label={_dot(e.label)}{style}];")
    return "\n".join(lines) + "\n}\n"


@dataclass(frozen=True)
class _Summary:
    """A plan drawn one node per location: (id, label) nodes, and (source, target, label, is a link) edges,
    links first, then flows between locations, the busiest pair first."""

    note: str
    nodes: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str, str, bool], ...]
    #: ``edges`` with the number of flows each carries (0 for links), same order
    weights: tuple[tuple[str, str, str, bool, int], ...]


def _by_location(graph: PlanGraph) -> _Summary:
    where = {n.id: f"L{i}" for i, (_, nodes) in enumerate(graph.locations) for n in nodes}
    flows: dict[tuple[str, str], int] = {}
    links: dict[tuple[str, str], set[str]] = {}
    for e in graph.edges:
        pair = (where[e.source], where[e.target])
        if e.link:
            links.setdefault(pair, set()).add(e.label)
        elif pair[0] != pair[1]:
            flows[pair] = flows.get(pair, 0) + len(e.label.split(", "))
    nodes = []
    for i, (location, members) in enumerate(graph.locations):
        count = sum(1 for n in members if not n.site)
        nodes.append((f"L{i}", f"{location}: {count} resource{'s' if count != 1 else ''}"))
    weights = [(a, b, " ".join(sorted(kinds)), True, 0) for (a, b), kinds in sorted(links.items())]
    weights += [(a, b, f"{n} flow{'s' if n != 1 else ''}", False, n)
                for (a, b), n in sorted(flows.items(), key=lambda item: (-item[1], item[0]))]
    resources = sum(1 for _, members in graph.locations for n in members if not n.site)
    note = (f"{resources} resources in {len(graph.locations)} locations, too many edges to draw one by one: "
            "one node per location")
    return _Summary(note, tuple(nodes), tuple(w[:4] for w in weights), tuple(weights))


def _mermaid_detailed(graph: PlanGraph) -> str:
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


def _mermaid(text: str) -> str:
    # Mermaid reads a double quote as the end of a label; its own entity keeps it
    return text.replace('"', "#quot;")


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
