"""`cloudorch graph`'s content (cloudorch.report.graph): locations, what runs there, flows and links."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from cloudorch.cli.app import main
from cloudorch.report.graph import plan_graph, to_dot, to_mermaid


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
        (("aws/eu-north-1", "net"), ("gcp/europe-north1", "net"), "vpn")]


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
