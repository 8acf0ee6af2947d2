"""`plan --explain` names the offerings the live catalog lists as refused to the account (restricted, or offered
in no zone), with the cloud's reason, for the resources they would have fitted and only there."""

from __future__ import annotations

import json

from cloudorch.catalog.cache import cache_dir
from cloudorch.catalog.live import (OFFERINGS, PRICES, ZONES, MachineType, Price, Restriction, SourceEntry,
                                    live_catalog_dir, write_live_catalog)
from cloudorch.catalog.model import Region
from cloudorch.cli.app import main

STACK = """stack: shop
placement:
  clouds: [aws]
  regions: [eu-west-1]
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  api: {kind: compute, network: net, count: 2, cpu: 4, memory_gb: 16, image: ubuntu-24.04}
  gpu: {kind: compute, network: net, count: 1, cpu: 4, memory_gb: 16, image: ubuntu-24.04, accelerator: {type: L4, count: 1}}
"""
NO_ZONE = "no availability zone of {} offers it to this account"


def live_catalog() -> None:
    machines, restrictions, prices = [], [], []
    for region in ("eu-west-1", "eu-central-1"):
        zones = (f"{region}a", f"{region}b")
        machines += [MachineType(region, "m5.xlarge", 4, 16, "x86_64", zones=zones),
                     MachineType(region, "g6.xlarge", 4, 16, "x86_64", "L4", 1, zones=zones),
                     # offered in no zone: each a restriction (the discovery's own, as AWS's writes them)
                     MachineType(region, "m7i.xlarge", 4, 16, "x86_64"), MachineType(region, "m7i.large", 2, 8, "x86_64")]
        restrictions += [Restriction(region, t, NO_ZONE.format(region)) for t in ("m7i.xlarge", "m7i.large")]
        prices += [Price(region, t, usd) for t, usd in (("m5.xlarge", 0.214), ("g6.xlarge", 0.86), ("m7i.xlarge", 0.2),
                                                        ("m7i.large", 0.1))]
    entry = lambda **rows: SourceEntry(fetched_at=1e9, regions=("eu-west-1", "eu-central-1"), rows=rows)  # noqa: E731
    write_live_catalog(live_catalog_dir(cache_dir()), {"aws": {
        OFFERINGS: entry(machines=tuple(machines), restrictions=tuple(restrictions)), PRICES: entry(prices=tuple(prices)),
        ZONES: entry(regions=tuple(Region("aws", r, "eu", (f"{r}a", f"{r}b")) for r in ("eu-west-1", "eu-central-1")))}})


def test_a_zone_less_type_that_fits_is_named_where_the_stack_may_go(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text("")
    (tmp_path / "stack.yaml").write_text(STACK)
    live_catalog()
    assert "vCPUs" in (live_catalog_dir(cache_dir()) / "aws" / "restrictions.csv").read_text().splitlines()[0]
    code = main(["plan", "stack.yaml", "--catalog", "live", "--offline", "--format", "json", "--explain"])
    out, err = capsys.readouterr()
    assert code == 0, err
    explain = json.loads(out)["explain"]
    refused = {name: [e for e in explain[name]["excluded"] if e["reason"] == "restricted"] for name in ("api", "gpu")}
    # m7i.xlarge fits api (m7i.large is too small); eu-central-1 is outside placement.regions; nothing fits the GPU
    assert refused == {"api": [{"cloud": "aws", "region": "eu-west-1", "reason": "restricted",
                                "detail": f"m7i.xlarge ({NO_ZONE.format('eu-west-1')})"}], "gpu": []}
    assert {(p["resource"], p["instance_type"]) for p in json.loads(out)["placements"] if p["resource"] != "net"} == {
        ("api", "m5.xlarge"), ("gpu", "g6.xlarge")}  # never placed on what is refused, though it is cheaper


def test_past_three_types_a_region_says_how_many_more():
    from cloudorch.catalog.model import Catalog, Offering
    from cloudorch.placement.candidates import PlacementSettings
    from cloudorch.placement.capability import CapabilityFilter, no_gaps
    from cloudorch.placement.explain import restricted
    from cloudorch.spec.loader import parse_stack

    refused = tuple((Offering("aws", "eu-west-1", f"m{n}.xlarge", 4, 16, "x86_64", 0.0), f"reason {n}") for n in range(5))
    region = Region("aws", "eu-west-1", "eu", ("eu-west-1a",))
    catalog = Catalog("test", "2026-01-01", (region,), (), (), (), restricted=refused)
    stack = parse_stack(STACK, "shop.yaml").stack
    found = restricted(stack, catalog, PlacementSettings(("aws",)), CapabilityFilter(no_gaps, [region]))
    assert [e.detail for e in found["api"]] == ["m0.xlarge (reason 0); m1.xlarge (reason 1); m2.xlarge (reason 2); "
                                                "and 2 more"]
