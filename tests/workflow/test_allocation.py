"""A workflow's stacks keep their addresses as a single stack's plans do (.cloudorch/<stack>.network.json), and a
rehearsal keeps the addresses its simulated applies were given apart from the project's record."""

from __future__ import annotations

import json

from cloudorch.cli.app import main
from cloudorch.workflow.rehearsal import allocation_record, rehearsal_dir
from tests.workflow.conftest import write
from tests.workflow.test_run import entries

#: two clouds joined by a VPN link: a failover of the AWS machine moves the AWS site and its link
EDGE = """\
    stack: edge
    placement: {clouds: [aws, gcp], geo: [eu]}
    policies: {packs: []}
    resources:
      net: {kind: network, cidr: 10.70.0.0/16}
      front:
        kind: compute
        network: net
        count: 2
        cpu: 2
        memory_gb: 4
        spread: {min_clouds: 2, max_per_cloud: 1}
      store:
        kind: database
        network: net
        engine: postgres
        version: "16"
        ingress:
          - {port: 5432, from: front, gb_month: 50}
    """


def planned(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["plan", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def sites(plan: dict) -> dict[str, str]:
    return {f"{s['cloud']}/{s['region']}": s["cidr"] for s in plan["network"]["sites"]}


def aws_offering(plan: dict) -> str:
    [slot] = [p for p in plan["placements"] if p["resource"] == "front" and p["cloud"] == "aws"]
    return f"aws/{slot['region']}/{slot['instance_type']}"


def test_a_rehearsed_failover_keeps_its_new_addresses_out_of_the_projects_record(project, capsys):
    d = project / "w"
    write(d, "edge.yaml", EDGE)
    first = planned(capsys, str(d / "edge.yaml"), "--out", str(project / "edge.plan.json"))
    committed = project / ".cloudorch" / "edge.network.json"
    before = committed.read_bytes()
    blocked = aws_offering(first)
    assert main(["apply", str(d), "--rehearse", "--yes", "--inject", f"capacity:{blocked}"]) == 0, capsys.readouterr()
    assert [e.outcome for e in entries(project, "failover")] == ["succeeded"]
    # the project's record and its plans are as before the rehearsal
    assert committed.read_bytes() == before
    assert planned(capsys, str(d / "edge.yaml")) == first

    # the rehearsal's record: every block the project had, unmoved, and the re-placed site's new one, which
    # the rehearsed network was built with
    kept = json.loads(allocation_record(project, "edge").read_text())
    recorded = {f"{b['cloud']}/{b['region']}": b["cidr"] for b in kept["blocks"]}
    assert recorded.items() > sites(first).items(), "the failover was meant to move a site"
    [new] = recorded.keys() - sites(first).keys()
    applied = (rehearsal_dir(project) / "applied" / "edge.json").read_text()
    assert f'"cidrBlock":"{recorded[new]}"' in applied.replace(" ", "")


def test_a_rehearsal_starts_from_the_projects_addresses(project, capsys):
    d = project / "w"
    write(d, "edge.yaml", EDGE)
    first = planned(capsys, str(d / "edge.yaml"), "--out", str(project / "edge.plan.json"))
    committed = project / ".cloudorch" / "edge.network.json"
    data = json.loads(committed.read_text())
    # an address no plan of this stack alone would pick (the last block of the network): kept from the record
    data["blocks"][0]["cidr"] = "10.70.240.0/20"
    committed.write_text(json.dumps(data, indent=2))
    moved = f"{data['blocks'][0]['cloud']}/{data['blocks'][0]['region']}"
    assert sites(first)[moved] != "10.70.240.0/20"
    assert main(["apply", str(d), "--rehearse", "--yes"]) == 0, capsys.readouterr()
    rehearsed = planned(capsys, str(d), "--rehearse")["stacks"][0]["plan"]
    assert sites(rehearsed)[moved] == "10.70.240.0/20"
    assert json.loads(allocation_record(project, "edge").read_text())["blocks"] == data["blocks"]
