"""`cloudorch graph`'s content (cloudorch.report.graph): locations, what runs there, flows and links."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cloudorch.cli.app import main
from cloudorch.report.graph import MERMAID_MAX_EDGES, MERMAID_MAX_TEXT, plan_graph, to_dot, to_mermaid
from tests.report.plans import big_plan

#: Mermaid's own parser (the npm package's browser bundle), which .ci/run installs where npm exists
MERMAID_JS = Path(os.environ.get("CLOUDORCH_MERMAID_JS", Path.home() / ".cache" / "cloudorch-ci" / "mermaid"
                                 / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"))


def test_every_placement_is_in_its_location_and_every_flow_path_is_an_edge(webshop_change):
    _, before, _ = webshop_change
    graph = plan_graph(before)
    locations = dict(graph.locations)
    assert sorted(locations) == sorted({f"{p.cloud}/{p.region}" for p in before.placements})
    labels = {loc: [n.label for n in nodes] for loc, nodes in locations.items()}
    for p in before.placements:
        if p.instance_type:
            assert f"{p.resource}: {p.count} x {p.instance_type}" in labels[f"{p.cloud}/{p.region}"]
    ids = {n.id: (loc, n.label.split(":")[0]) for loc, nodes in graph.locations for n in nodes}
    flows = {(ids[e.source], ids[e.target]) for e in graph.edges if not e.link}
    expected = {((p["source_site"].split("@")[1], f["source"]), (p["target_site"].split("@")[1], f["target"]))
                for f in before.network.flows for p in f["paths"]}
    assert flows == expected and len(expected) == 3  # web in three regions -> orders-db
    links = [e for e in graph.edges if e.link]
    assert [(ids[e.source], ids[e.target], e.label) for e in links] == [
        (("azure/swedencentral", "net"), ("gcp/europe-north1", "net"), "vpn")]


def test_mermaid_and_dot_say_the_same_and_dot_parses(webshop_change):
    _, before, _ = webshop_change
    graph = plan_graph(before)
    mermaid, dot = to_mermaid(graph), to_dot(graph)
    assert mermaid.startswith("flowchart LR\n") and mermaid.count("subgraph") == len(graph.locations)
    assert len(re.findall(r"-->|\.->", mermaid)) == len(re.findall(r" -> ", dot)) == len(graph.edges)
    assert to_mermaid(plan_graph(before)) == mermaid  # deterministic
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: the DOT text is not parsed here")
    subprocess.run(["dot", "-Tsvg"], input=dot, text=True, check=True, capture_output=True)


def test_graph_command_draws_a_saved_plan(webshop_change, capsys, monkeypatch):
    root, _, _ = webshop_change
    monkeypatch.chdir(root)
    assert main(["graph", "before.json", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "webshop" {')
    assert main(["graph", "before.json"]) == 0
    assert capsys.readouterr().out.startswith("flowchart LR")
    assert main(["graph", "before.json", "--format", "json"]) == 0
    drawn = json.loads(capsys.readouterr().out)
    assert drawn["stack"] == "webshop" and len(drawn["edges"]) == 4


@pytest.fixture(scope="module")
def mermaid_parse(browser):
    """Parses diagram text with Mermaid itself in Chromium: None when it parses, else Mermaid's message."""
    if not MERMAID_JS.is_file():
        pytest.skip(f"Mermaid's bundle is not at {MERMAID_JS} (npm install mermaid@11.17.2 there; .ci/run does; "
                    "or set CLOUDORCH_MERMAID_JS)")
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><title>parse</title>")
    page.add_script_tag(path=str(MERMAID_JS))
    page.evaluate("mermaid.initialize({startOnLoad: false})")

    def parse(text: str) -> str | None:
        return page.evaluate(
            "async t => { try { await mermaid.parse(t); return null } catch (e) { return String(e.message || e) } }",
            text)

    yield parse
    context.close()


def test_mermaid_parses_in_mermaid_itself_and_a_broken_diagram_does_not(webshop_change, mermaid_parse):
    _, before, after = webshop_change
    for plan in (before, after, big_plan(200), big_plan(1000)):
        assert mermaid_parse(to_mermaid(plan_graph(plan))) is None
    # the parser is real: an unclosed subgraph label and a dangling arrow are refused
    assert mermaid_parse('flowchart LR\n  subgraph a["x]\n  a -->\n') is not None


def test_dot_of_a_big_plan_is_drawn_by_location_and_graphviz_lays_it_out_quickly():
    plan = big_plan(1000)
    dot = to_dot(plan_graph(plan))
    assert "subgraph" not in dot and "layout=sfdp;" in dot
    nodes = re.findall(r'(L\d+) \[label="[^"]+: (\d+) resources?"\]', dot)
    assert sum(int(n) for _, n in nodes) == len(plan.placements)
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (Debian: apt-get install graphviz; .ci/run installs it)")
    # dot itself on a detailed graph this size runs for minutes; the summary is laid out by sfdp in a second
    subprocess.run(["dot", "-Tsvg"], input=dot, text=True, check=True, capture_output=True, timeout=60)
    broken = subprocess.run(["dot", "-Tsvg"], input=dot.replace(" -> ", " -> ;", 1), text=True, capture_output=True)
    assert broken.returncode != 0


def test_a_plan_too_big_for_mermaid_is_drawn_by_location_and_still_counts_every_flow():
    plan = big_plan(1000)
    graph = plan_graph(plan)
    assert len(graph.edges) > MERMAID_MAX_EDGES  # the limit the detailed drawing would break
    mermaid = to_mermaid(graph)
    assert len(mermaid) <= MERMAID_MAX_TEXT and "subgraph" not in mermaid
    edges = re.findall(r'-- "(\d+) flows?" -->', mermaid)
    assert 0 < len(edges) <= MERMAID_MAX_EDGES
    crossing = {(f["paths"][0]["source_site"], f["paths"][0]["target_site"]) for f in plan.network.flows}
    left_out = re.search(r"%% (\d+) quieter location pairs \((\d+) flows\) are not drawn", mermaid)
    assert len(edges) + int(left_out[1]) == len({(_location_of(graph, e.source), _location_of(graph, e.target))
                                                  for e in graph.edges if not e.link} - {(a, a) for a, _ in graph.locations})
    assert sum(map(int, edges)) + int(left_out[2]) == sum(
        len(e.label.split(", ")) for e in graph.edges if not e.link and _location_of(graph, e.source) != _location_of(graph, e.target))
    assert len(crossing) >= len(edges)
    resources = re.findall(r'L\d+\["[^"]+: (\d+) resources?"\]', mermaid)
    assert sum(map(int, resources)) == len(plan.placements)


def _location_of(graph, node_id):
    return next(loc for loc, nodes in graph.locations if any(n.id == node_id for n in nodes))


def test_an_edge_names_each_flow_s_ports_and_protocol():
    """Found by a user audit: tcp and udp flows on port 53 were drawn as ":53" alike, a range by its first port."""
    from cloudorch.plan import NetworkSection
    from cloudorch.report.diff import Slot
    from tests.report.plans import plan_with

    plan = plan_with([Slot(cloud="aws", region="eu-west-1", instance_type="m7i.large", count=1)], resource="app")
    plan = plan.model_copy(update={"placements": [*plan.placements, plan.placements[0].model_copy(
        update={"resource": "dns"})]})
    path = [{"source_site": "net@aws/eu-west-1", "target_site": "net@aws/eu-west-1", "link": None, "status": "proved"}]
    flows = [{"flow": f, "source": "app", "target": "dns", "port": port, "last_port": last, "protocol": protocol,
              "status": "proved", "paths": path}
             for f, port, last, protocol in (("app->dns:53/udp", 53, 53, "udp"), ("app->dns:53", 53, 53, "tcp"),
                                             ("app->dns:5000-5100/udp", 5000, 5100, "udp"))]
    # a plan saved before flows recorded their range and protocol: one tcp port
    flows.append({"flow": "app->dns:22", "source": "app", "target": "dns", "port": 22, "status": "proved",
                  "paths": path})
    graph = plan_graph(plan.model_copy(update={"network": NetworkSection(flows=flows)}))
    assert [e.label for e in graph.edges] == [":22, :53, :53/udp, :5000-5100/udp"]
