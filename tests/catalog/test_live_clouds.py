"""The live catalog of all three clouds end to end through the CLI: moto and the replay server for AWS, the
stand-ins for Azure and GCP, each reached through its cloud's standard credential chain; `catalog = "live"`
in the config; the catalog's age in the plan and `--max-catalog-age`."""

from __future__ import annotations

import json
import os

import pytest

from cloudorch.catalog.cache import cache_dir
from cloudorch.catalog.live import live_catalog_dir
from cloudorch.cli.app import main
from tests.catalog.stand_ins import StandIn
from tests.providers.aws.conftest import few_types_account, few_types_moto_url  # noqa: F401 - fixtures used by name
from tests.providers.aws.stand_ins import product
from tests.providers.azure import test_discovery as azure
from tests.providers.gcp import test_discovery as gcp

STACK = """stack: shop
placement:
  clouds: [{clouds}]
  regions: [{regions}]
resources:
  net: {{kind: network, cidr: 10.40.0.0/16}}
  api: {{kind: compute, network: net, count: 4, cpu: 4, memory_gb: 16, image: ubuntu-24.04}}
"""
AZURE_REGIONS = ("westeurope", "northeurope")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def clouds(few_types_account, monkeypatch, tmp_path):  # noqa: F811 - the imported fixture, by name
    """Stand-in Azure and GCP accounts beside the AWS one (a few instance families), reached through each cloud's standard chain."""
    stand_in = StandIn()
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", azure.SUB)
    monkeypatch.setenv("CLOUDORCH_AZURE_MANAGEMENT_ENDPOINT", stand_in.url)
    monkeypatch.setenv("CLOUDORCH_AZURE_PRICES_ENDPOINT", stand_in.url + azure.PRICES)
    azure.fake_az(tmp_path, monkeypatch)
    monkeypatch.setenv("CLOUDORCH_GCP_COMPUTE_ENDPOINT", stand_in.url)
    monkeypatch.setenv("CLOUDORCH_GCP_BILLING_ENDPOINT", stand_in.url)
    gcp.service_account_file(tmp_path / "sa.json", f"{stand_in.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text("")
    yield few_types_account, azure.Account(stand_in), gcp.Project(stand_in)
    stand_in.close()


def serve_azure(account, westeurope_cores: int) -> None:
    """D4s_v5 cheaper in westeurope; its family quota there is ``westeurope_cores`` vCPUs."""
    for region, usd, cores in (("westeurope", 0.192, westeurope_cores), ("northeurope", 0.21, 400)):
        account.region(region, [azure.sku("Standard_D4s_v5", region, 4, 16)],
                       [azure.usage("cores", "Total Regional vCPUs", 400, 0),
                        azure.usage("standardDSv5Family", "Standard DSv5 Family vCPUs", cores, 0)],
                       [[azure.price_item("Standard_D4s_v5", region, usd)]])


def refresh_all(capsys) -> str:
    code, _, err = run(capsys, "catalog", "refresh", "--regions", ",".join(("eu-west-1", *AZURE_REGIONS, "europe-west4")))
    assert code == 0, err
    return err


def test_refresh_fills_the_cache_for_all_three_clouds_and_plans_on_it(clouds, capsys, tmp_path):
    aws, az, gc = clouds
    aws.serve([product("m5.xlarge", 0.214)], {"L-1216C47A": 640.0}, region="eu-west-1")
    serve_azure(az, 400)
    gcp.standard_project(gc)
    err = refresh_all(capsys)
    for cloud in ("aws", "azure", "gcp"):
        for source in ("offerings", "prices", "quotas", "zones"):
            assert f"fetched {cloud} {source}" in err
    live = live_catalog_dir(cache_dir())
    assert {p.name for p in live.iterdir() if p.is_dir()} == {"aws", "azure", "gcp"}

    (tmp_path / "stack.yaml").write_text(STACK.format(clouds="aws, azure, gcp",
                                                      regions="eu-west-1, westeurope, northeurope, europe-west4"))
    code, out, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline", "--format", "json", "--explain")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["catalog"]["source"] == "live:aws+azure+gcp"
    assert set(plan["catalog"]["parts"]) == {f"{c}/{s}" for c in ("aws", "azure", "gcp")
                                            for s in ("offerings", "prices", "quotas", "zones")}
    # D4s_v5 at $0.192/h undercuts m5.xlarge ($0.214) and n2-standard-4 (4 x 0.0348 + 16 x 0.0047 = $0.2144)
    assert {(p["cloud"], p["instance_type"]) for p in plan["placements"] if p["resource"] == "api"} == {
        ("azure", "Standard_D4s_v5")}
    best_elsewhere = {(a["cloud"], a["instance_type"]) for a in plan["explain"]["api"]["alternatives"]
                      if a["why"].startswith("the best on")}
    assert best_elsewhere == {("aws", "m5.xlarge"), ("gcp", "n2-standard-4")}


def test_an_azure_quota_read_from_the_subscription_changes_the_placement(clouds, capsys, tmp_path):
    _, az, _ = clouds
    (tmp_path / "stack.yaml").write_text(STACK.format(clouds="azure", regions=", ".join(AZURE_REGIONS)))

    def placed(cores: int) -> tuple[list, str]:
        serve_azure(az, cores)
        code, _, err = run(capsys, "catalog", "refresh", "--cloud", "azure", "--regions", ",".join(AZURE_REGIONS))
        assert code == 0, err
        code, out, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline", "--format", "json",
                             "--explain")
        assert code == 0, err
        plan = json.loads(out)
        return sorted((p["region"], p["count"]) for p in plan["placements"] if p["resource"] == "api"), out

    assert placed(400)[0] == [("westeurope", 4)]
    found, out = placed(8)  # two of the four replicas' vCPUs in the cheaper region
    assert found == [("northeurope", 4)] and "vCPU quota" in out


def test_catalog_live_in_the_config_and_the_age_limit(clouds, capsys, tmp_path):
    _, az, _ = clouds
    serve_azure(az, 400)
    (tmp_path / "stack.yaml").write_text(STACK.format(clouds="azure", regions=", ".join(AZURE_REGIONS)))
    code, _, err = run(capsys, "plan", "stack.yaml", "--max-catalog-age", "1h")
    assert code == 2 and "--catalog live" in err  # the embedded catalog has no parts to judge

    assert run(capsys, "catalog", "refresh", "--cloud", "azure", "--regions", ",".join(AZURE_REGIONS))[0] == 0
    (tmp_path / "cloudorch.toml").write_text('catalog = "live"\n')
    code, out, err = run(capsys, "plan", "stack.yaml", "--offline", "--max-catalog-age", "1h", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["catalog"]["source"].startswith("live:azure")

    code, out, err = run(capsys, "plan", "stack.yaml", "--offline", "--max-catalog-age", "0")
    assert code == 2 and "older than --max-catalog-age" in err and "azure prices (fetched" in err and out == ""
    code, _, err = run(capsys, "plan", "stack.yaml", "--offline", "--max-catalog-age", "soon")
    assert code == 2 and "not an age" in err


def test_an_azure_refresh_killed_half_way_leaves_the_catalog_whole(clouds, capsys, monkeypatch):
    _, az, _ = clouds
    serve_azure(az, 400)
    assert run(capsys, "catalog", "refresh", "--cloud", "azure", "--regions", ",".join(AZURE_REGIONS))[0] == 0
    live = live_catalog_dir(cache_dir())
    before, target = (live / "azure" / "vms.csv").read_bytes(), os.readlink(live)

    import cloudorch_azure.discovery as discovery

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # ^C while the prices are being read, after the offerings were cached

    monkeypatch.setattr(discovery, "retail_prices", killed)
    serve_azure(az, 8)
    assert run(capsys, "catalog", "refresh", "--cloud", "azure", "--regions", ",".join(AZURE_REGIONS))[0] == 130
    assert os.readlink(live) == target and (live / "azure" / "vms.csv").read_bytes() == before
    assert not list(live.parent.glob("*.partial"))


def test_a_size_azure_restricts_is_named_with_its_reason_by_explain(clouds, capsys, tmp_path):
    _, az, _ = clouds
    # the cheaper region refuses the subscription the size; a smaller size it does not refuse fits no replica
    az.region("westeurope", [azure.sku("Standard_D4s_v5", "westeurope", 4, 16,
                                       restrictions=[azure.restriction("Location", "westeurope")]),
                             azure.sku("Standard_D2s_v5", "westeurope", 2, 8)],
              [azure.usage("cores", "Total Regional vCPUs", 400, 0)],
              [[azure.price_item("Standard_D4s_v5", "westeurope", 0.18), azure.price_item("Standard_D2s_v5", "westeurope", 0.09)]])
    az.region("northeurope", [azure.sku("Standard_D4s_v5", "northeurope", 4, 16)],
              [azure.usage("cores", "Total Regional vCPUs", 400, 0)],
              [[azure.price_item("Standard_D4s_v5", "northeurope", 0.21)]])
    assert run(capsys, "catalog", "refresh", "--cloud", "azure", "--regions", ",".join(AZURE_REGIONS))[0] == 0
    (tmp_path / "stack.yaml").write_text(STACK.format(clouds="azure", regions=", ".join(AZURE_REGIONS)))
    code, out, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline", "--format", "json", "--explain")
    assert code == 0, err
    plan = json.loads(out)
    assert {p["region"] for p in plan["placements"] if p["resource"] == "api"} == {"northeurope"}
    refused = [e for e in plan["explain"]["api"]["excluded"] if e["reason"] == "restricted"]
    assert refused == [{"cloud": "azure", "region": "westeurope", "reason": "restricted",
                        "detail": "Standard_D4s_v5 (NotAvailableForSubscription: not offered to this subscription "
                                  "in westeurope)"}]
    code, out, _ = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline", "--explain")
    assert code == 0 and "excluded azure/westeurope (restricted): Standard_D4s_v5 (NotAvailableForSubscription" in out
