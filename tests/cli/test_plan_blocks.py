"""A network whose recorded blocks fill it plans into the locations that hold them: placement keeps to the
blocks each network has left (.cloudorch/<stack>.network.json), and only a stack that cannot is refused."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from cloudorch.network.allocation import Allocation
from cloudorch.network.record import write_record

#: four /22s of a /20, each given by an earlier plan in one AWS region (us-east-1 one outside the EU)
RECORDED = {
    "eu-central-1": "10.90.8.0/22", "eu-north-1": "10.90.4.0/22", "eu-west-2": "10.90.12.0/22", "us-east-1": "10.90.0.0/22",
}
SMALL = """\
stack: small
placement: {clouds: [aws], geo: [eu]%s}
policies: {packs: []}
resources:
  net: {kind: network, cidr: 10.90.0.0/20}
  web: {kind: compute, network: net, cpu: 2, memory_gb: 4%s}
"""


@pytest.fixture
def project(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    (tmp_path / "cloudorch.toml").write_text("")
    return tmp_path


def record(project, regions) -> str:
    path = project / ".cloudorch" / "small.network.json"
    write_record(path, "small", Allocation(blocks={("net", "aws", r): ("10.90.0.0/20", RECORDED[r]) for r in regions}))
    return path.read_text()


def planned(project, capsys, placement: str = "", web: str = "", *args: str) -> tuple[int, dict, str]:
    """The exit code, the plan (or the error) as JSON and stderr."""
    (project / "small.yaml").write_text(SMALL % (placement, web))
    capsys.readouterr()
    code = main(["plan", "small.yaml", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def regions(plan: dict) -> set[str]:
    return {p["region"] for p in plan["placements"]}


def test_a_full_network_plans_into_the_locations_that_hold_its_blocks(project, capsys):
    # eu-north-1, the cheapest, is left out; eu-west-1, the next, would need a fifth block of four
    text = record(project, RECORDED)
    code, plan, err = planned(project, capsys, ", exclude_regions: [eu-north-1]", "", "--explain")
    assert code == 0, err
    assert regions(plan) == {"eu-west-2"}  # the cheaper of the two EU regions that hold blocks
    assert {s["region"]: s["cidr"] for s in plan["network"]["sites"]} == {"eu-west-2": RECORDED["eu-west-2"]}
    excluded = {e["region"]: e for e in plan["explain"]["web"]["excluded"]}
    assert excluded["eu-west-1"]["reason"] == "blocks"
    assert "network 'net' (10.90.0.0/20) has no address block left for it: its 4 are held by aws/eu-central-1, " \
           "aws/eu-north-1, aws/eu-west-2, aws/us-east-1" in excluded["eu-west-1"]["detail"]
    assert "eu-west-1" not in {a["region"] for a in plan["explain"]["web"]["alternatives"]}
    # and recording the plan changes nothing: no block was allocated
    assert main(["plan", "small.yaml", "--out", "p.json"]) == 0
    assert (project / ".cloudorch" / "small.network.json").read_text() == text


def test_one_free_block_gives_one_new_location(project, capsys):
    # three regions, one replica each: eu-north-1 and eu-west-1 are the cheapest, but only one block is free
    record(project, {"us-east-1", "eu-central-1", "eu-west-2"})
    code, plan, err = planned(project, capsys, "", ", count: 3, spread: {max_per_region: 1}")
    assert code == 0, err
    assert regions(plan) == {"eu-north-1", "eu-west-2", "eu-central-1"}
    assert len(regions(plan) - set(RECORDED)) <= 1
    record_now = json.loads((project / ".cloudorch" / "small.network.json").read_text())
    assert len(record_now["blocks"]) == 3  # a plan alone records nothing


def test_a_stack_that_cannot_keep_within_its_blocks_is_refused_with_the_way_to_free_them(project, capsys):
    record(project, {"us-east-1", "eu-central-1", "eu-west-2"})
    # two regions fit: the cheapest (eu-north-1, new) and the one of eu-west-1 and eu-west-2 that holds a block
    code, plan, err = planned(project, capsys, ", exclude_regions: [eu-central-1]", ", count: 2, spread: {max_per_region: 1}")
    assert code == 0 and regions(plan) == {"eu-north-1", "eu-west-2"}, err
    # three do not: eu-north-1 and eu-west-1 are both new, and one block is free
    code, error, _ = planned(project, capsys, ", exclude_regions: [eu-central-1]", ", count: 3, spread: {max_per_region: 1}")
    assert code == 5
    assert "network 'net' (10.90.0.0/20) has no block left for aws/eu-" in error["message"]
    assert "delete their entries to free them" in error["hint"]
    # a full network: the one region left that holds a block is not enough for two
    record(project, RECORDED)
    code, error, _ = planned(project, capsys, ", exclude_regions: [eu-central-1, eu-north-1]",
                             ", count: 2, spread: {max_per_region: 1}")
    assert code == 5
    assert "network 'net' (10.90.0.0/20) has no block left for aws/eu-west-1" in error["message"]
    assert "delete their entries to free them" in error["hint"]


def test_a_stack_within_its_blocks_plans_as_it_did_without_the_limit(project, capsys, monkeypatch):
    import cloudorch.api

    record(project, {"us-east-1", "eu-central-1"})
    code, limited, err = planned(project, capsys, "", ", count: 2, spread: {max_per_region: 1}", "--explain")
    assert code == 0, err
    monkeypatch.setattr(cloudorch.api, "stack_blocks_left", lambda stack, allocation: {})
    code, unlimited, err = planned(project, capsys, "", ", count: 2, spread: {max_per_region: 1}", "--explain")
    assert code == 0 and limited == unlimited
