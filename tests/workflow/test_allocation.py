"""A workflow's stacks keep their addresses as a single stack's plans do (.cloudorch/<stack>.network.json), and a
rehearsal keeps the addresses its simulated applies were given apart from the project's record."""

from __future__ import annotations

import json

import pytest

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


def warned_moves(capsys, d) -> str:
    """What a rehearsal's plan of the workflow warns of (stderr)."""
    capsys.readouterr()
    assert main(["plan", str(d), "--rehearse"]) == 0
    return capsys.readouterr().err


def test_a_rolled_back_cidr_change_is_still_a_move_to_warn_of(release, capsys):
    path = release / "workflow.yaml"
    path.write_text(path.read_text().replace("interval_s: 10", "interval_s: 0.01").replace("retries: 5", "retries: 0"))
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    record = allocation_record(release.parent, "release-app-canary")
    applied = record.read_bytes()
    canary = release / "app-canary.yaml"
    canary.write_text(canary.read_text().replace("cidr: 10.62.0.0/16", "cidr: 10.64.0.0/16"))
    assert "10.62.96.0/20 -> 10.64.96.0/20" in warned_moves(capsys, release)
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "check:canary-healthy"]) == 6
    # the canary runs on its old block again: so says its record, and the next plan still warns of the move
    assert record.read_bytes() == applied
    assert "10.62.96.0/20 -> 10.64.96.0/20" in warned_moves(capsys, release)


def test_a_declined_re_placement_puts_the_record_back_with_the_stack(project, capsys):
    from cloudorch.api import Session
    from cloudorch.workflow import Faults, RunOptions, apply_workflow
    from cloudorch.workflow.run import FailoverDeclined

    d = project / "w"
    write(d, "edge.yaml", EDGE)
    assert main(["apply", str(d), "--rehearse", "--yes"]) == 0
    record = allocation_record(project, "edge")
    applied = record.read_bytes()
    # a new CIDR, and more memory: a machine of another type, created, and out of capacity
    stack = d / "edge.yaml"
    stack.write_text(stack.read_text().replace("10.70.0.0/16", "10.80.0.0/16").replace("memory_gb: 4", "memory_gb: 8"))
    blocked = aws_offering(planned(capsys, str(stack)))
    options = RunOptions(rehearse=True, faults=Faults.parse([f"capacity:{blocked}"]), confirm=lambda change: False)
    with pytest.raises(FailoverDeclined):
        apply_workflow([d], Session(), options)
    assert record.read_bytes() == applied
    assert "10.70." in warned_moves(capsys, d)



def test_a_first_apply_rolled_back_to_nothing_leaves_no_blocks_in_the_record(release, capsys):
    # the canary is created by this run, then its check fails: it is destroyed, and the blocks its attempt
    # recorded must go with it, or they fill its network for locations where nothing runs (found by review)
    path = release / "workflow.yaml"
    path.write_text(path.read_text().replace("interval_s: 10", "interval_s: 0.01").replace("retries: 5", "retries: 0"))
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "check:canary-healthy"]) == 6
    assert not allocation_record(release.parent, "release-app-canary").exists()
    assert not list((rehearsal_dir(release.parent) / "applied").glob("*.before.network.json"))


@pytest.mark.parametrize("recorded_before", [False, True])
def test_a_declined_first_apply_puts_the_record_back_as_it_was_before_the_run(project, capsys, recorded_before):
    from cloudorch.api import Session
    from cloudorch.workflow import Faults, RunOptions, apply_workflow
    from cloudorch.workflow.run import FailoverDeclined

    d = project / "w"
    write(d, "edge.yaml", EDGE)
    blocked = aws_offering(planned(capsys, str(d / "edge.yaml")))
    record = allocation_record(project, "edge")
    if recorded_before:  # a block for a location of an earlier plan: kept, as it was
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"format": 1, "stack": "edge", "blocks": [
            {"cidr": "10.70.192.0/20", "cloud": "aws", "network": "net", "network_cidr": "10.70.0.0/16",
             "region": "eu-south-2"}], "asns": [], "tunnels": []}))
    before = record.read_bytes() if recorded_before else None
    options = RunOptions(rehearse=True, faults=Faults.parse([f"capacity:{blocked}"]), confirm=lambda change: False)
    with pytest.raises(FailoverDeclined):
        apply_workflow([d], Session(), options)
    assert (record.read_bytes() if record.exists() else None) == before

#: one machine in the EU on a /20 network: four blocks, which earlier plans in four regions took
FULL = """\
    stack: small
    placement: {clouds: [aws], geo: [eu]}
    policies: {packs: []}
    resources:
      net: {kind: network, cidr: 10.90.0.0/20}
      web: {kind: compute, network: net, cpu: 2, memory_gb: 4}
    """


def test_a_failover_in_a_full_network_re_places_into_a_location_that_holds_a_block(project, capsys):
    from cloudorch.network.allocation import Allocation
    from cloudorch.network.record import write_record

    d = project / "w"
    write(d, "small.yaml", FULL)
    recorded = {"eu-central-1": "10.90.8.0/22", "eu-north-1": "10.90.4.0/22", "eu-west-2": "10.90.12.0/22",
                "us-east-1": "10.90.0.0/22"}
    write_record(project / ".cloudorch" / "small.network.json", "small",
                 Allocation(blocks={("net", "aws", r): ("10.90.0.0/20", b) for r, b in recorded.items()}))
    assert sites(planned(capsys, str(d / "small.yaml"))) == {"aws/eu-north-1": recorded["eu-north-1"]}
    # eu-north-1 runs out of the two cheapest types; eu-west-1, the next cheapest region, has no block left
    faults = ["--inject", "capacity:aws/eu-north-1/c7i.large", "--inject", "capacity:aws/eu-north-1/m6i.large"]
    assert main(["apply", str(d), "--rehearse", "--yes", *faults]) == 0, capsys.readouterr()
    assert [e.outcome for e in entries(project, "failover")] == ["succeeded", "succeeded"]
    kept = json.loads(allocation_record(project, "small").read_text())
    assert {b["region"]: b["cidr"] for b in kept["blocks"]} == recorded
    applied = (rehearsal_dir(project) / "applied" / "small.json").read_text().replace(" ", "")
    assert f'"cidrBlock":"{recorded["eu-west-2"]}"' in applied
