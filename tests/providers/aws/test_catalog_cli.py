"""`cloudorch catalog ...` and `plan --catalog live` end to end, against the stand-in AWS account (conftest.py)
offering a few instance families: what is asserted is what the commands do with the catalog read."""

from __future__ import annotations

import json
import os

import pytest

from cloudorch.catalog.cache import cache_dir
from cloudorch.catalog.live import live_catalog_dir
from cloudorch.cli.app import main
from tests.providers.aws.stand_ins import product

REGIONS = ("eu-west-1", "eu-central-1")
STACK = """stack: shop
placement:
  clouds: [aws]
  regions: [eu-west-1, eu-central-1]
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  api: {kind: compute, network: net, count: 4, cpu: 4, memory_gb: 16, image: ubuntu-24.04}
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def serve(account, standard_quota: float) -> None:
    # eu-west-1 cheaper than eu-central-1; only m5.xlarge priced, so only it is offered
    account.serve([product("m5.xlarge", 0.214)], {"L-1216C47A": standard_quota}, region="eu-west-1")
    account.serve([product("m5.xlarge", 0.23)], {"L-1216C47A": 640.0}, region="eu-central-1")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text("")
    (tmp_path / "stack.yaml").write_text(STACK)
    return tmp_path


def placements(capsys, *extra: str) -> tuple[list[tuple[str, int]], str]:
    code, out, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline", "--format", "json", *extra)
    assert code == 0, err + out
    plan = json.loads(out)
    return sorted((p["region"], p["count"]) for p in plan["placements"] if p["resource"] == "api"), plan["catalog"]


def test_refresh_then_plan_offline_on_the_live_catalog(few_types_account, project, capsys):
    serve(few_types_account, 640.0)
    code, out, err = run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", ",".join(REGIONS))
    assert code == 0, err
    assert "fetched aws prices" in err and "fetched aws offerings" in err and "fetched aws quotas" in err
    live = live_catalog_dir(cache_dir())
    assert {p.name for p in (live / "aws").iterdir()} == {"vms.csv", "quotas.csv", "restrictions.csv", "spot_scores.csv", "zones.csv"}
    found, catalog = placements(capsys)
    assert found == [("eu-west-1", 4)]
    assert catalog["source"].startswith("live:aws") and catalog["as_of"].endswith("Z")

    code, out, _ = run(capsys, "catalog", "show")
    assert code == 0 and "aws prices: fetched" in out and "(stale)" not in out


def test_a_quota_read_from_the_account_changes_the_placement(few_types_account, project, capsys):
    serve(few_types_account, 8.0)  # room for 2 of the 4 replicas in the cheaper region
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", ",".join(REGIONS))[0] == 0
    found, _ = placements(capsys)
    # half in each region would need a second site (NAT gateway, address, key): one dearer region is cheaper
    assert found == [("eu-central-1", 4)]
    code, out, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline", "--explain")
    assert code == 0 and "vCPU quota" in out, out


def test_running_instances_use_up_the_quota(few_types_account, project, capsys):
    serve(few_types_account, 16.0)
    few_types_account.ec2("eu-west-1").run_instances(ImageId="ami-12c6146b", InstanceType="m5.2xlarge", MinCount=1,
                                               MaxCount=1)  # 8 of the 16 vCPUs in use
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", ",".join(REGIONS))[0] == 0
    assert placements(capsys)[0] == [("eu-central-1", 4)]
    # the same quota with nothing running leaves room for all four
    ec2 = few_types_account.ec2("eu-west-1")
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
                                         for i in r["Instances"]])
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", ",".join(REGIONS))[0] == 0
    assert placements(capsys)[0] == [("eu-west-1", 4)]


def test_an_interrupted_refresh_leaves_the_previous_catalog_whole(few_types_account, project, capsys, monkeypatch):
    serve(few_types_account, 640.0)
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", "eu-west-1")[0] == 0
    live = live_catalog_dir(cache_dir())
    before = {p.name: p.read_bytes() for p in (live / "aws").iterdir()}
    target = os.readlink(live)

    import cloudorch.catalog.live as live_module

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed ^C while the catalog was being written

    monkeypatch.setattr(live_module, "_write_rows", killed)
    serve(few_types_account, 8.0)
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", "eu-west-1")[0] == 130
    assert os.readlink(live) == target
    assert {p.name: p.read_bytes() for p in (live / "aws").iterdir()} == before
    assert not list(live.parent.glob("*.partial"))


def test_without_credentials_the_cloud_is_skipped_with_the_reason(project, capsys, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "catalog", "refresh")
    assert code == 0 and "Traceback" not in err
    assert "skipped aws: no AWS credentials" in err and "skipped azure" in err and "skipped gcp" in err
    code, out, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline")
    assert code == 2 and "holds no cloud" in err and "no AWS credentials" in err


def test_plan_on_a_live_catalog_never_refreshed_is_a_usage_error(project, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path / "cache"))
    code, _, err = run(capsys, "plan", "stack.yaml", "--catalog", "live", "--offline")
    assert code == 2 and "catalog refresh" in err
    assert run(capsys, "catalog", "age")[0] == 2


def test_clear_forgets_the_cache_and_the_catalog(few_types_account, project, capsys):
    serve(few_types_account, 640.0)
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", "eu-west-1")[0] == 0
    code, _, err = run(capsys, "catalog", "clear")
    assert code == 0 and "cleared 4 cached source(s)" in err
    assert not live_catalog_dir(cache_dir()).exists()


def test_plan_refreshes_only_stale_sources_and_offline_fetches_nothing(few_types_account, project, capsys, monkeypatch):
    serve(few_types_account, 640.0)
    assert run(capsys, "catalog", "refresh", "--cloud", "aws", "--regions", ",".join(REGIONS))[0] == 0
    served = len(few_types_account.replay.requests)
    placements(capsys)  # --offline
    assert len(few_types_account.replay.requests) == served
    monkeypatch.setenv("CLOUDORCH_TTL_QUOTAS", "0")  # quotas are now stale, prices are not
    code, _, err = run(capsys, "plan", "stack.yaml", "--catalog", "live")
    assert code == 0, err
    assert few_types_account.replay.requests[served:] == ["ListServiceQuotas"] * 2  # the two regions refreshed before, no others
    code, out, _ = run(capsys, "catalog", "show")
    assert "aws quotas: fetched" in out and "(stale)" in out  # a TTL of 0 is stale as soon as fetched
