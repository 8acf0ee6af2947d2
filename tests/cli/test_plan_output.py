from __future__ import annotations

import json

import cloudorch.cli.plan as plan_cmd
from cloudorch.cli.app import main
from tests.support import ROOT

WEBSHOP = str(ROOT / "tests" / "data" / "webshop.yaml")


def test_text_plan_shows_placements_policy_and_total(capsys):
    assert main(["plan", WEBSHOP]) == 0
    out = capsys.readouterr().out
    assert "orders-db" in out and "db-custom-2-8192" in out
    assert "Resources per cloud:" in out and "Policy:" in out and "waived" in out
    # machines $800.14 (a replica on azure rather than aws: its VPN to GCP is two tunnels, aws's four) + the
    # VPN, NAT and traffic
    assert "Total: $1,109.84/month of a $6,000.00 budget (machines $800.14 + network $309.70" in out
    assert "network: links $211.70, egress $43.08, nat $40.15, " in out  # what the network is made of, dearest first


def test_text_plan_shows_the_links_and_flows(capsys):
    assert main(["plan", WEBSHOP]) == 0
    out = capsys.readouterr().out
    assert "link net@azure/swedencentral <-> net@gcp/europe-north1 (vpn, 2 tunnels, BGP" in out
    assert "Flows: 1 proved" in out
    assert "forced by" not in out
    assert main(["plan", WEBSHOP, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "forced by web->orders-db:5432" in out


def test_large_plans_print_aligned_columns_instead_of_a_boxed_table(capsys, monkeypatch):
    monkeypatch.setattr(plan_cmd, "PLAIN_TABLE_ROWS", 0)
    assert main(["plan", WEBSHOP]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("resource "))
    assert lines[header - 1] == "Placements (5 rows)"
    rows = lines[header + 1: header + 6]
    assert [r.split()[0] for r in rows] == ["assets", "orders-db", "web", "web", "web"]
    assert len({r.index(r.split()[-1]) + len(r.split()[-1]) for r in rows}) == 1  # $/month right-aligned


def test_explain_lists_alternatives_and_exclusions(capsys):
    assert main(["plan", WEBSHOP, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "alternative:" in out and "instead of" in out and "excluded" in out and "(geo)" in out


def test_a_plan_found_by_local_search_says_so_with_its_gap(capsys, monkeypatch):
    import cloudorch.placement.milp as milp

    monkeypatch.setattr(milp, "LOCAL_SEARCH_RESOURCES", 0)
    assert main(["plan", WEBSHOP]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "placement: found by local search, as a stack this size is not searched exactly; this placement is within" in out
    assert "of the cheapest possible (lower bound $" in out


DNS = """stack: dns
placement: {clouds: [aws, gcp], regions: [eu-west-1, europe-west4]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  app: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4, spread: {min_clouds: 2}}
  dns:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 4
    ingress:
      - {port: 53, from: app, gb_month: 10}
      - {port: 53, protocol: udp, from: app, gb_month: 500}
"""


def test_tcp_and_udp_flows_on_one_port_keep_apart_in_every_output(tmp_path, monkeypatch, capsys):
    """Found by a user audit: both were `app->dns:53` in the JSON, the link's flows, --explain and the graph."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    (tmp_path / "cloudorch.toml").write_text("")
    (tmp_path / "dns.yaml").write_text(DNS)
    assert main(["plan", "dns.yaml", "--out", "dns.json"]) == 0
    network = json.loads((tmp_path / "dns.json").read_text())["network"]
    assert sorted(f["flow"] for f in network["flows"]) == ["app->dns:53", "app->dns:53/udp"]
    assert [link["flows"] for link in network["links"]] == [["app->dns:53", "app->dns:53/udp"]]
    capsys.readouterr()
    assert main(["plan", "dns.yaml", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "forced by app->dns:53, app->dns:53/udp" in out
    assert "app->dns:53: proved" in out and "app->dns:53/udp: proved" in out
    assert main(["graph", "dns.json"]) == 0
    edges = [line for line in capsys.readouterr().out.splitlines() if "-->" in line]
    assert edges and all('":53, :53/udp"' in line for line in edges)
