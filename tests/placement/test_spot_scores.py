"""AWS spot placement scores in the live catalog lower a spot option's availability (score / 10), so the
balanced and availability objectives move spot replicas to a region AWS rates better; `--explain` shows the
score each spot option was weighed with and why the cheaper region was left."""

from __future__ import annotations

import json

import pytest

from cloudorch.catalog.cache import cache_dir
from cloudorch.catalog.live import (OFFERINGS, PRICES, ZONES, MachineType, Price, SourceEntry, SpotScore,
                                    live_catalog_dir, read_spot_scores, write_live_catalog)
from cloudorch.catalog.model import Region
from cloudorch.cli.app import main
from cloudorch.placement.candidates import availability_score
from tests.placement.tiny import catalog, off, plan, stack, where

REGIONS = ("eu-west-1", "eu-central-1")
STACK = """stack: shop
placement:
  clouds: [aws]
  regions: [eu-west-1, eu-central-1]
  objective: {objective}
resources:
  net: {{kind: network, cidr: 10.40.0.0/16}}
  batch: {{kind: compute, network: net, count: 2, cpu: 4, memory_gb: 16, image: ubuntu-24.04, spot: true}}
"""


def write_catalog(scores: tuple[SpotScore, ...]) -> None:
    """m5.xlarge in both regions at the same on-demand price; spot cheaper in eu-west-1."""
    machines, prices = [], []
    for region, spot in zip(REGIONS, (0.06, 0.07)):
        zones = tuple(f"{region}{z}" for z in "abc")
        machines.append(MachineType(region, "m5.xlarge", 4, 16, "x86_64", zones=zones))
        prices += [Price(region, "m5.xlarge", 0.214)] + [Price(region, "m5.xlarge", spot, spot=True, zone=z) for z in zones]
    entry = lambda **rows: SourceEntry(fetched_at=1e9, regions=REGIONS, rows=rows)  # noqa: E731
    write_live_catalog(live_catalog_dir(cache_dir()), {"aws": {
        OFFERINGS: entry(machines=tuple(machines), restrictions=(), spot_scores=scores),
        PRICES: entry(prices=tuple(prices)),
        ZONES: entry(regions=tuple(Region("aws", r, "eu", tuple(f"{r}{z}" for z in "abc")) for r in REGIONS))}})


def plan_json(tmp_path, monkeypatch, capsys, objective: str = "balanced", config: str = "") -> dict:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text(config)
    (tmp_path / "stack.yaml").write_text(STACK.format(objective=objective))
    code = main(["plan", "stack.yaml", "--catalog", "live", "--offline", "--format", "json", "--explain"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def placed(plan: dict) -> set[tuple[str, str, bool]]:
    return {(p["region"], p["instance_type"], p["spot"]) for p in plan["placements"] if p["resource"] == "batch"}


def test_the_catalog_round_trips_the_scores():
    scores = (SpotScore("eu-west-1", "m5.xlarge", 2, "m5"), SpotScore("eu-central-1", "m5.xlarge", 9, "m5", 1))
    write_catalog(scores)
    assert read_spot_scores(live_catalog_dir(cache_dir())) == {"aws": sorted(scores)}


def test_a_low_score_moves_spot_replicas_to_the_region_aws_rates_better(tmp_path, monkeypatch, capsys):
    write_catalog(())  # no scores: the cheaper spot region wins
    assert placed(plan_json(tmp_path, monkeypatch, capsys)) == {("eu-west-1", "m5.xlarge", True)}

    write_catalog((SpotScore("eu-west-1", "m5.xlarge", 2, "m5"), SpotScore("eu-central-1", "m5.xlarge", 9, "m5")))
    result = plan_json(tmp_path, monkeypatch, capsys)
    assert placed(result) == {("eu-central-1", "m5.xlarge", True)}
    explain = result["explain"]["batch"]
    central = round(float(availability_score(3, True, 0, 9)), 6)
    assert explain["chosen"] == [f"2 x m5.xlarge (spot, spot placement score 9/10, availability {central:g}) "
                                 "in aws/eu-central-1"]
    west = round(float(availability_score(3, True, 0, 2)), 6)
    left = [e for e in explain["excluded"] if e["region"] == "eu-west-1"]
    assert left == [{"cloud": "aws", "region": "eu-west-1", "reason": "availability",
                     "detail": "cheapest fit $43.80/month per replica, but m5.xlarge (spot) has spot placement score "
                               f"2/10, availability {west:g}: less available than the chosen offering"}]
    assert any(a["region"] == "eu-west-1" and a["spot"] and "spot placement score 2/10" in a["why"]
               for a in explain["alternatives"])


def test_the_cost_objective_is_not_moved_by_a_score(tmp_path, monkeypatch, capsys):
    write_catalog((SpotScore("eu-west-1", "m5.xlarge", 2, "m5"),))
    assert placed(plan_json(tmp_path, monkeypatch, capsys, "cost")) == {("eu-west-1", "m5.xlarge", True)}


@pytest.mark.parametrize("objective", ["cost", "balanced"])
def test_explain_blames_the_score_only_where_it_decided(objective, tmp_path, monkeypatch, capsys):
    # the cheaper spot region (scored 9/10; the other has no score) is left because its vCPU quota holds
    # no replica: the quota is the reason, not the score
    write_catalog((SpotScore("eu-west-1", "m5.xlarge", 9, "m5"),))
    result = plan_json(tmp_path, monkeypatch, capsys, objective, config='[vcpu_quotas]\n"aws/eu-west-1" = 2\n')
    assert placed(result) == {("eu-central-1", "m5.xlarge", True)}
    west = [e for e in result["explain"]["batch"]["excluded"] if e["region"] == "eu-west-1"]
    assert [e["reason"] for e in west] == ["capacity"]


@pytest.mark.parametrize("score", [1, 5, 9])
def test_a_score_is_a_factor_on_spot_options_only(score):
    assert availability_score(3, True, 0, score) == pytest.approx(availability_score(3, True) * score / 10, abs=1e-6)
    assert availability_score(3, False, 0, score) == availability_score(3, False)


def test_offerings_without_a_score_plan_as_before():
    cat = catalog(off("aws/us-east-1", "m5.xlarge", 0.2, spot=0.05), off("aws/eu-west-1", "m5.xlarge", 0.2, spot=0.06))
    st = stack("api: {kind: compute, network: net, count: 1, cpu: 4, memory_gb: 16, image: ubuntu-24.04, spot: true}",
               "objective: balanced")
    assert where(plan(st, cat, clouds=("aws",)), "api") == [("aws", "us-east-1", "m5.xlarge", True, 1)]


def test_new_scores_alone_change_the_catalogs_digest():
    # an hourly refresh may change only the scores: a saved plan must see that its catalog changed
    from cloudorch import api
    from cloudorch.plugins import load_provider

    adapters = {"aws": load_provider("aws").catalog_adapter()}
    write_catalog((SpotScore("eu-west-1", "m5.xlarge", 2, "m5"),))
    first = api.live_catalog(adapters).digest
    write_catalog((SpotScore("eu-west-1", "m5.xlarge", 8, "m5"),))
    assert api.live_catalog(adapters).digest != first
    write_catalog((SpotScore("eu-west-1", "m5.xlarge", 2, "m5"),))
    assert api.live_catalog(adapters).digest == first
