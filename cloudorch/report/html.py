"""A plan as one web page for the people who review it: where everything runs, what links the locations,
what it costs, which findings it has, and (against a base plan) what moved.

The page is self-contained -- its CSS, script and pictures (SVG) are inline, and its Content-Security-Policy
allows no fetch at all -- so it can be uploaded as a CI artifact and opened anywhere. Everything taken from
the plan (names, messages) is escaped, and the CSP admits only the page's own script and style by hash, so
a hostile finding message stays text. A large plan stays readable: one node per location (cloud and
region) rather than per resource, every long list collapsed in ``<details>``, and a search box that filters
the rows and opens the sections holding a match. The same plan gives the same bytes: everything is sorted
and nothing depends on the time or the machine.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from cloudorch.plan import Plan
from cloudorch.report.diff import FAILING, PlanDiff, _by_resource, percent_label, signed_usd
from cloudorch.report.markdown import headline

#: worst first; a severity the plan names that is not here sorts after these
SEVERITY_ORDER = ("critical", "high", "medium", "low")
#: the bars a chart shows before it sums the rest into one
CHART_BARS = 15
#: location pairs drawn with flow arrows, the busiest first (all of them are listed under Network)
MAX_FLOW_EDGES = 120
#: rows of one long list (findings of one policy, rendered changes) before the rest is only counted
MAX_ROWS = 2000

CLOUD_COLOURS = {"aws": "#d97706", "azure": "#0369a1", "gcp": "#15803d"}
OTHER_COLOURS = ("#7c3aed", "#be185d", "#0f766e", "#4d7c0f", "#9a3412")

# grid geometry (SVG user units): clouds are bands, each band's regions fill rows of COLUMNS cells
COLUMNS, CELL_W, CELL_H, GAP, BAND_LABEL = 5, 200, 78, 18, 86


class _Html(str):
    """Markup built here from escaped parts: ``_cells`` passes it through, escapes any other string."""


@dataclass
class _Location:
    cloud: str
    region: str
    #: (resource, kind, what: type or CIDR, replicas or None, monthly USD or None)
    rows: list[tuple[str, str, str, int | None, float | None]] = field(default_factory=list)
    monthly: float = 0.0
    #: replicas gained (+) or lost (-) since the base plan; None without one
    change: int | None = None

    @property
    def key(self) -> str:
        return f"{self.cloud}/{self.region}"

    @property
    def replicas(self) -> int:
        return sum(r[3] or 0 for r in self.rows)

    @property
    def resources(self) -> int:
        return len({r[0] for r in self.rows})


def to_html(plan: Plan, diff: PlanDiff | None = None) -> str:
    """The report page for ``plan``; with ``diff`` (from a base plan to ``plan``), also what changed."""
    locations = _locations(plan, diff)
    total = plan.cost.monthly_usd
    sections = [
        _summary(plan, locations),
        _section("changes", "What changed", _changes(diff)) if diff is not None else "",
        _section("map", "Locations", _map(plan, locations) + _location_details(locations)),
        _section("network", "Network", _network(plan)),
        _section("cost", f"Cost: ${total:,.2f} a month", _costs(plan)),
        _section("findings", "Policy findings", _findings(plan)),
    ]
    title = escape(f"cloudorch plan: {plan.stack}")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_policy()}">',
        '<link rel="icon" href="data:,">', f"<title>{title}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<header><h1>{title}</h1>",
        '<input type="search" id="q" placeholder="Search resources, locations, policies" '
        'aria-label="Search the report"> <span id="hits" aria-live="polite"></span></header>',
        "<main>", *sections, "</main>", f"<script>{SCRIPT}</script>", "</body>", "</html>", ""])


def _policy() -> str:
    """Nothing may be fetched; only this module's own style and script run (by hash), so markup that
    escaped escaping still could not execute."""
    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    return (f"default-src 'none'; img-src data:; style-src {digest(CSS)}; script-src {digest(SCRIPT)}; "
            "base-uri 'none'; form-action 'none'")


# -- what runs where --------------------------------------------------------------------------------------

def _locations(plan: Plan, diff: PlanDiff | None) -> list[_Location]:
    found: dict[tuple[str, str], _Location] = {}

    def at(cloud: str, region: str) -> _Location:
        return found.setdefault((cloud, region), _Location(cloud, region))

    for p in plan.placements:
        what = (p.instance_type or p.kind) + (" (spot)" if p.spot else "")
        at(p.cloud, p.region).rows.append((p.resource, p.kind, what, p.count, p.monthly_usd))
    for site in plan.network.sites if plan.network else ():
        at(site["cloud"], site["region"]).rows.append((site["network"], "network", site["cidr"], None, None))
    if plan.cost.lines:  # the bill of everything rendered there, not only the machines
        for line in plan.cost.lines:
            if line.get("region"):
                at(str(line.get("cloud")), str(line["region"])).monthly += float(line.get("monthly_usd") or 0.0)
    else:
        for p in plan.placements:
            at(p.cloud, p.region).monthly += p.monthly_usd
    if diff is not None:
        changes: dict[tuple[str, str], int] = defaultdict(int)
        for move in diff.moves:
            for sign, slots in ((-1, move.before), (1, move.after)):
                for slot in slots:
                    changes[slot.cloud, slot.region] += sign * slot.count
        for (cloud, region), change in changes.items():
            at(cloud, region).change = change  # a location the change emptied stays, as a ghost
    for loc in found.values():
        loc.rows.sort(key=lambda r: (r[0], r[2]))
    return [found[k] for k in sorted(found, key=_natural)]


def _natural(key: tuple[str, str]) -> tuple:
    """us-east-2 before us-east-10: regions sort by their numbers' values."""
    return tuple(tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)) for text in key)


def _colour(cloud: str, clouds: Sequence[str]) -> str:
    others = [c for c in clouds if c not in CLOUD_COLOURS]
    return CLOUD_COLOURS.get(cloud) or OTHER_COLOURS[others.index(cloud) % len(OTHER_COLOURS)]


def _map(plan: Plan, locations: list[_Location]) -> str:
    """The cloud x region grid as SVG: a node per location, links as dashed lines, flows as arrows."""
    clouds = sorted({loc.cloud for loc in locations})
    centre: dict[str, tuple[float, float]] = {}
    bands, cells, y = [], [], GAP
    width = BAND_LABEL + COLUMNS * (CELL_W + GAP) + GAP
    for cloud in clouds:
        here = [loc for loc in locations if loc.cloud == cloud]
        height = math.ceil(len(here) / COLUMNS) * (CELL_H + GAP)
        colour = _colour(cloud, clouds)
        bands.append(f'<rect class="band" x="4" y="{y - GAP / 2}" width="{width - 8}" height="{height}" rx="8"/>'
                     f'<text class="cloud" x="14" y="{y + 22}" fill="{colour}">{escape(cloud)}</text>')
        for i, loc in enumerate(here):
            x = BAND_LABEL + (i % COLUMNS) * (CELL_W + GAP)
            top = y + (i // COLUMNS) * (CELL_H + GAP)
            centre[loc.key] = (x + CELL_W / 2, top + CELL_H / 2)
            cells.append(_node(loc, x, top, colour, locations.index(loc)))
        y += height
    flows, pairs = _flow_edges(plan, centre)
    # edges under the nodes: a line reaches a node's border and stops there
    svg = (f'<svg class="grid" viewBox="0 0 {width} {y + GAP / 2}" role="img" '
           f'aria-label="{len(locations)} locations by cloud and region">'
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>'
           + "".join(bands) + "".join(_link_edges(plan, centre)) + "".join(flows) + "".join(cells) + "</svg>")
    legend = ('<p class="legend"><span class="key link"></span> link between networks (VPN, peering) '
              '<span class="key flow"></span> traffic between locations (arrow: towards the target)'
              + (f"; the {MAX_FLOW_EDGES} busiest of {pairs} location pairs drawn, all listed under Network"
                 if pairs > MAX_FLOW_EDGES else "") + "</p>")
    return f'<div class="scroll">{svg}</div>{legend}'


def _node(loc: _Location, x: float, y: float, colour: str, index: int) -> str:
    ghost = not loc.rows
    lines = [f'<text class="region" x="{x + 10}" y="{y + 22}">{escape(loc.region)}</text>',
             f'<text x="{x + 10}" y="{y + 44}">{_n(loc.resources, "resource")} · {_n(loc.replicas, "replica")}</text>'
             if not ghost else f'<text x="{x + 10}" y="{y + 44}">nothing runs here now</text>',
             f'<text x="{x + 10}" y="{y + 64}">${loc.monthly:,.2f}/mo</text>' if not ghost else ""]
    if loc.change:
        sign = "up" if loc.change > 0 else "down"
        lines.append(f'<text class="change {sign}" x="{x + CELL_W - 10}" y="{y + 22}" text-anchor="end">'
                     f'{loc.change:+d}</text>')
    names = ", ".join(sorted({r[0] for r in loc.rows}))
    tip = escape(f"{loc.key}: {names}" if names else loc.key)
    return (f'<a href="#loc-{index}" class="node{" ghost" if ghost else ""}" data-s><title>{tip}</title>'
            f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" rx="6" stroke="{colour}"/>'
            + "".join(lines) + "</a>")


def _link_edges(plan: Plan, centre: dict[str, tuple[float, float]]) -> list[str]:
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for link in plan.network.links if plan.network else ():
        ends = sorted({_site_location(s) for s in link.sites})
        if len(ends) == 2 and all(e in centre for e in ends):
            pairs[ends[0], ends[1]].add(link.kind)
    return [_edge(centre[a], centre[b], "link", f"{a} - {b}: {', '.join(sorted(kinds))}", bend=0.0)
            for (a, b), kinds in sorted(pairs.items())]


def _flow_edges(plan: Plan, centre: dict[str, tuple[float, float]]) -> tuple[list[str], int]:
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for flow in plan.network.flows if plan.network else ():
        for path in flow.get("paths", []):
            a, b = _site_location(path["source_site"]), _site_location(path["target_site"])
            if a != b and a in centre and b in centre:
                pairs[a, b].add(str(flow.get("flow")))
    busiest = sorted(pairs.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:MAX_FLOW_EDGES]
    return [_edge(centre[a], centre[b], "flow", f"{a} -> {b}: {len(flows)} flows ({', '.join(sorted(flows)[:5])}"
                  f"{', ...' if len(flows) > 5 else ''})", bend=0.18)
            for (a, b), flows in sorted(busiest)], len(pairs)


def _edge(a: tuple[float, float], b: tuple[float, float], kind: str, tip: str, bend: float) -> str:
    (x1, y1), (x2, y2) = a, b
    # a flow bends to its right, so two opposite flows and the link between them stay apart
    cx, cy = (x1 + x2) / 2 - bend * (y2 - y1), (y1 + y2) / 2 + bend * (x2 - x1)
    # from border to border: the nodes are drawn over the edges, and an arrowhead inside one would be hidden
    (x1, y1), (x2, y2) = _border(a, (cx, cy)), _border(b, (cx, cy))
    end = ' marker-end="url(#arrow)"' if kind == "flow" else ""
    return (f'<path class="{kind}" d="M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}"{end}>'
            f"<title>{escape(tip)}</title></path>")


def _border(centre: tuple[float, float], toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a node's centre towards ``toward`` leaves the node."""
    dx, dy = toward[0] - centre[0], toward[1] - centre[1]
    t = min(CELL_W / 2 / abs(dx) if dx else math.inf, CELL_H / 2 / abs(dy) if dy else math.inf)
    t = min(t, 1.0)
    return centre[0] + dx * t, centre[1] + dy * t


def _site_location(site: str) -> str:
    """`net@aws/eu-north-1` -> `aws/eu-north-1`."""
    return site.split("@", 1)[-1]


def _location_details(locations: list[_Location]) -> str:
    out = []
    for i, loc in enumerate(locations):
        change = f" ({loc.change:+d} replicas)" if loc.change else ""
        summary = (f"{loc.key}: {_n(loc.resources, 'resource')}, {_n(loc.replicas, 'replica')}, "
                   f"${loc.monthly:,.2f}/month{change}")
        rows = [[name, kind, what, "" if n is None else str(n), "" if usd is None else f"${usd:,.2f}"]
                for name, kind, what, n, usd in loc.rows]
        out.append(f'<details id="loc-{i}" data-group><summary>{escape(summary)}</summary>'
                   + _table(["resource", "kind", "type / block", "replicas", "$/month"], rows, numeric={3, 4})
                   + "</details>")
    return "".join(out)


# -- network, cost, findings ------------------------------------------------------------------------------

def _network(plan: Plan) -> str:
    network = plan.network
    if network is None or not (network.links or network.flows):
        return "<p>No links and no flows between resources.</p>"
    links = [[link.id, link.kind, " - ".join(link.sites), str(len(link.flows)), str(link.tunnels)]
             for link in sorted(network.links, key=lambda link: link.id)]
    flows = [[str(f.get("flow")), str(f.get("status")), _Html("<br>".join(
        escape(f"{p['source_site']} -> {p['target_site']}" + (f" over {p['link']}" if p.get("link") else ""))
        for p in f.get("paths", [])))] for f in sorted(network.flows, key=lambda f: str(f.get("flow")))]
    return (_group(_n(len(links), "link"), _table(["link", "kind", "sites", "flows", "tunnels"], links, numeric={3, 4}),
                   open_=len(links) <= 20)
            + _group(_n(len(flows), "flow"), _table(["flow", "status", "paths"], flows), open_=len(flows) <= 20))


def _costs(plan: Plan) -> str:
    cost = plan.cost
    clouds = sorted(cost.by_cloud)
    by_cloud = [(c, cost.by_cloud[c], _colour(c, clouds)) for c in clouds]
    by_resource = sorted(_by_resource(plan).items(), key=lambda kv: (-kv[1], kv[0]))
    # a line that takes off (a cloud's egress tiers) is no bar: it is in the table and the network's parts
    charted = [(name, usd) for name, usd in by_resource if usd >= 0]
    top = [(name, usd, "#475569") for name, usd in charted[:CHART_BARS]]
    rest = charted[CHART_BARS:]
    if rest:
        top.append((f"{len(rest)} others", sum(usd for _, usd in rest), "#94a3b8"))
    budget = (f" of a ${cost.budget_monthly_usd:,.2f} budget" if cost.budget_monthly_usd is not None else "")
    parts = "".join(f"{', ' if i else ' ('}{escape(part)} {'-' if usd < 0 else ''}${abs(usd):,.2f}"
                    for i, (part, usd) in enumerate(cost.network_by_part.items()))
    note = f"<p>${cost.monthly_usd:,.2f} a month{escape(budget)}: machines ${cost.machines_monthly_usd:,.2f}, " \
           f"network ${cost.network_monthly_usd:,.2f}{parts + ')' if parts else ''}.</p>"
    table = _table(["resource", "$/month"], [[n, f"{'-' if usd < 0 else ''}${abs(usd):,.2f}"] for n, usd in by_resource],
                   numeric={1})
    return (note + '<div class="charts"><figure><figcaption>By cloud</figcaption>' + _bars(by_cloud)
            + "</figure><figure><figcaption>By resource</figcaption>" + _bars(top) + "</figure></div>"
            + _group(f"every resource's cost ({len(by_resource)})", table))


def _bars(items: Sequence[tuple[str, float, str]]) -> str:
    """A horizontal bar chart: label, bar, dollars."""
    if not items:
        return "<p>Nothing is billed.</p>"
    top = max(usd for _, usd, _ in items) or 1.0
    rows = []
    for i, (label, usd, colour) in enumerate(items):
        y = i * 26
        short = label if len(label) <= 24 else label[:23] + "…"
        rows.append(f'<g data-s><title>{escape(f"{label}: ${usd:,.2f}/month")}</title>'
                    f'<text x="0" y="{y + 16}">{escape(short)}</text>'
                    f'<rect x="170" y="{y + 4}" width="{max(1.0, 300 * usd / top):.1f}" height="16" fill="{colour}"/>'
                    f'<text x="{176 + 300 * usd / top:.1f}" y="{y + 16}">${usd:,.0f}</text></g>')
    return f'<svg class="bars" viewBox="0 0 560 {len(items) * 26 + 4}" role="img">{"".join(rows)}</svg>'


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _findings(plan: Plan) -> str:
    findings = [f for f in plan.policy.get("findings", []) if isinstance(f, dict)]
    failing = [f for f in findings if f.get("status") in FAILING]
    waived = [f for f in findings if f.get("status") == "waived"]
    summary = plan.policy.get("summary", {})
    counts: dict[str, int] = defaultdict(int)
    for f in failing:
        counts[str(f.get("severity"))] += 1
    badges = "".join(f'<span class="sev {escape(s)}">{counts[s]} {escape(s)}</span>'
                     for s in sorted(counts, key=lambda s: (_severity_rank(s), s)))
    head = (f"<p>{len(failing)} failing{badges and ' '}{badges}, {summary.get('blocking', 0)} blocking, "
            f"{len(waived)} waived, {summary.get('pass', 0)} passed.</p>")
    by_policy: dict[str, list[dict]] = defaultdict(list)
    for f in failing + waived:
        by_policy[str(f.get("policy"))].append(f)

    def order(policy: str) -> tuple:
        first = by_policy[policy][0]
        return first.get("status") == "waived", _severity_rank(str(first.get("severity"))), policy

    groups = []
    for policy in sorted(by_policy, key=order):
        items = sorted(by_policy[policy], key=lambda f: tuple(str(f.get(k) or "") for k in
                                                              ("status", "resource", "rendered", "cloud", "message")))
        first = items[0]
        rows = [[_Html(f'<span class="sev {escape(str(f.get("severity")))}">{escape(str(f.get("severity")))}</span>'),
                 str(f.get("status")), str(f.get("enforcement")), str(f.get("resource") or ""),
                 str(f.get("rendered") or ""), str(f.get("cloud") or ""), str(f.get("message") or ""),
                 f"{f.get('file')}:{f.get('line')}" if f.get("file") else ""] for f in items]
        label = f"{policy}: {len(items)} {'waived' if first.get('status') == 'waived' else 'failing'}" \
                f" ({first.get('severity')}, {first.get('enforcement')}) -- {first.get('title') or ''}"
        groups.append(_group(label, _table(["severity", "status", "enforcement", "resource", "rendered", "cloud",
                                            "message", "where"], rows), open_=len(failing) <= 12))
    return head + ("".join(groups) or "<p>No findings.</p>")


# -- against a base plan ----------------------------------------------------------------------------------

def _changes(diff: PlanDiff) -> str:
    total = diff.cost.total
    out = [f'<p class="headline">{escape(headline(diff))}</p>',
           f"<p>Monthly cost ${total.before:,.2f} -> ${total.after:,.2f} ({escape(signed_usd(total.delta))}, "
           f"{escape(percent_label(total))})"
           + (escape(f"; compared with stack {diff.base_stack}") if diff.base_stack != diff.stack else "") + ".</p>"]
    moves = [[m.resource, m.kind, m.status, ", ".join(m.changes), "; ".join(s.label() for s in m.before),
              "; ".join(s.label() for s in m.after)] for m in diff.moves]
    out.append(_group(f"{_n(len(moves), 'resource')} moved, added or removed",
                      _table(["resource", "kind", "status", "what", "before", "after"], moves), open_=True))
    cost_rows = [[c.name, f"${c.before:,.2f}", f"${c.after:,.2f}", signed_usd(c.delta), percent_label(c)]
                 for c in (*diff.cost.by_cloud, *sorted((c for c in diff.cost.by_resource if c.delta),
                                                       key=lambda c: (-abs(c.delta), c.name)))]
    out.append(_group("cost by cloud, then by resource (changed ones)",
                      _table(["", "before", "after", "change", "%"], cost_rows, numeric={1, 2, 3, 4}), open_=True))
    rendered = [[r.status, r.name, r.type, r.cloud, ", ".join(r.fields)] for r in diff.rendered]
    out.append(_group(f"rendered resources: {diff.count('added')} added, {diff.count('removed')} removed, "
                      f"{diff.count('changed')} changed",
                      _table(["status", "name", "type", "cloud", "fields"], rendered)))
    f = diff.findings
    rows = [[label, x.severity, x.policy, x.resource or "", x.cloud or "", x.message]
            for label, found in (("new", f.new), ("fixed", f.fixed)) for x in found]
    out.append(_group(f"findings: {len(f.new)} new, {len(f.fixed)} fixed, {len(f.still_failing)} still failing",
                      _table(["", "severity", "policy", "resource", "cloud", "message"], rows), open_=bool(f.new)))
    return "".join(out)


# -- building blocks --------------------------------------------------------------------------------------

def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _section(id_: str, title: str, body: str) -> str:
    return f'<section id="{id_}"><h2>{escape(title)}</h2>{body}</section>'


def _group(summary: str, body: str, open_: bool = False) -> str:
    return f'<details data-group{" open" if open_ else ""}><summary>{escape(summary)}</summary>{body}</details>'


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int] = frozenset()) -> str:
    rows = list(rows)
    if not rows:
        return "<p>None.</p>"

    def cell(i: int, value: str, tag: str = "td") -> str:
        text = value if isinstance(value, _Html) else escape(value)
        return f'<{tag} class="num">{text}</{tag}>' if i in numeric else f"<{tag}>{text}</{tag}>"

    head = "<tr>" + "".join(cell(i, c, "th") for i, c in enumerate(columns)) + "</tr>"
    body = "".join("<tr data-s>" + "".join(cell(i, v) for i, v in enumerate(r)) + "</tr>" for r in rows[:MAX_ROWS])
    more = (f'<p class="more">and {len(rows) - MAX_ROWS} more rows not shown (the plan file has them all)</p>'
            if len(rows) > MAX_ROWS else "")
    return f'<div class="scroll"><table><thead>{head}</thead><tbody>{body}</tbody></table></div>{more}'


def _summary(plan: Plan, locations: list[_Location]) -> str:
    failing = sum(1 for f in plan.policy.get("findings", []) if isinstance(f, dict) and f.get("status") in FAILING)
    here = [loc for loc in locations if loc.rows]
    facts = [("monthly cost", f"${plan.cost.monthly_usd:,.2f}"), ("locations", str(len(here))),
             ("clouds", str(len({loc.cloud for loc in here}))), ("resources", f"{len({p.resource for p in plan.placements}):,}"),
             ("replicas", f"{sum(p.count for p in plan.placements):,}"), ("failing findings", f"{failing:,}")]
    tiles = "".join(f'<div class="tile"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in facts)
    meta = escape(f"objective {plan.objective} · catalog {plan.catalog.source} as of {plan.catalog.as_of} · "
                  f"cloudorch {plan.fingerprint.cloudorch_version}")
    return f'<section id="summary"><div class="tiles">{tiles}</div><p class="meta">{meta}</p></section>'


CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;background:#f8fafc}
header{position:sticky;top:0;z-index:1;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;
 padding:10px 16px;background:#0f172a;color:#f8fafc}
h1{font-size:18px;margin:0;flex:1 1 auto;overflow-wrap:anywhere}
#q{flex:1 1 220px;max-width:360px;padding:6px 10px;border-radius:6px;border:1px solid #334155;font:inherit}
#hits{font-size:12px;color:#cbd5e1}
main{max-width:1240px;margin:0 auto;padding:8px 16px 40px}
section{margin:18px 0}
h2{font-size:16px;margin:0 0 8px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px}
.tile{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px 12px}
.tile b{display:block;font-size:20px}.tile span{color:#475569;font-size:12px}
.meta,.legend,.more{color:#475569;font-size:12px}
.scroll{overflow-x:auto;max-width:100%}
svg.grid{display:block;min-width:640px;width:100%;height:auto;font-size:13px}
.band{fill:#f1f5f9}.cloud{font-weight:700;font-size:15px}
.node rect{fill:#fff;stroke-width:2}.node text{fill:#0f172a}.node .region{font-weight:700}
.node.ghost rect{stroke-dasharray:5 4;fill:#f8fafc}.node.ghost text{fill:#64748b}
.node:hover rect,.node:focus rect{fill:#eff6ff}
.change{font-weight:700}.change.up{fill:#b91c1c}.change.down{fill:#15803d}
path.link{stroke:#7c3aed;stroke-width:3;stroke-dasharray:8 5;fill:none}
path.flow{stroke:#64748b;stroke-width:1.4;fill:none;opacity:.8}
.key{display:inline-block;width:28px;height:0;vertical-align:middle;margin:0 4px 0 12px}
.key.link{border-top:3px dashed #7c3aed}.key.flow{border-top:2px solid #64748b}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
svg.bars{width:100%;height:auto;font-size:12px}svg.bars text{fill:#0f172a}
details{background:#fff;border:1px solid #e2e8f0;border-radius:8px;margin:6px 0;padding:4px 10px}
summary{cursor:pointer;font-weight:600;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;min-width:600px;margin:6px 0;font-size:13px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #f1f5f9;vertical-align:top;overflow-wrap:break-word}
th{color:#475569;font-weight:600;white-space:nowrap}.num{text-align:right;white-space:nowrap}
.sev{display:inline-block;white-space:nowrap;border-radius:10px;padding:0 8px;margin:0 2px;font-size:12px;font-weight:600;
 background:#e2e8f0}
.sev.critical{background:#7f1d1d;color:#fff}.sev.high{background:#dc2626;color:#fff}
.sev.medium{background:#f59e0b;color:#1c1917}.sev.low{background:#bfdbfe;color:#1e3a8a}
.headline{font-size:16px;font-weight:600}
tr.miss,details.miss{display:none}.node.miss,g.miss{opacity:.2}
""".strip()

#: the search box: a row matches when its text holds the query; sections with no match hide, and those with
#: one open. Reads the page's own text only, so nothing from the plan is ever evaluated.
SCRIPT = """
(function () {
  var q = document.getElementById("q"), hits = document.getElementById("hits");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-s]"));
  var texts = items.map(function (e) { return e.textContent.toLowerCase(); });
  var groups = Array.prototype.slice.call(document.querySelectorAll("details[data-group]"));
  function run() {
    var term = q.value.trim().toLowerCase(), rows = 0;
    items.forEach(function (e, i) {
      var miss = term !== "" && texts[i].indexOf(term) < 0;
      e.classList.toggle("miss", miss);
      if (!miss && term !== "" && e.tagName === "TR") { rows += 1; }
    });
    groups.forEach(function (d) {
      var inside = d.querySelectorAll("tr[data-s]"), shown = d.querySelectorAll("tr[data-s]:not(.miss)");
      var hide = term !== "" && inside.length > 0 && shown.length === 0;
      d.classList.toggle("miss", hide);
      if (term !== "" && !hide) { d.open = true; }
    });
    hits.textContent = term === "" ? "" : rows + (rows === 1 ? " matching row" : " matching rows");
  }
  q.addEventListener("input", run);
})();
""".strip()
