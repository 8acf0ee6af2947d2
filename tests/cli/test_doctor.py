"""`cloudorch doctor` against stand-in accounts of all three clouds (moto and the replay server for AWS, the local
stand-in for Azure and GCP), each reached through its standard chain and its configured endpoints."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.catalog.test_live_clouds import AZURE_REGIONS, clouds, run, serve_azure  # noqa: F401 - fixture by name
from tests.providers.aws.conftest import few_types_account, few_types_moto_url  # noqa: F401 - fixtures used by name
from tests.providers.aws.stand_ins import free_port
from tests.providers.azure import test_discovery as azure


@pytest.fixture
def pulumi_on_path(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text("#!/bin/sh\necho v3.0.0\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return str(exe)


def doctor(capsys, *args: str) -> tuple[int, dict, str]:
    code, out, err = run(capsys, "doctor", "--format", "json", *args)
    return code, json.loads(out), err


def test_every_cloud_usable_is_exit_0_with_each_configured_endpoint_answering(clouds, pulumi_on_path, capsys):  # noqa: F811 - the imported fixture
    aws, az, _ = clouds
    code, report, _ = doctor(capsys)
    assert code == 0 and report["ok"] and report["problems"] == []
    endpoints = {(c["cloud"], e["name"]): e for c in report["clouds"] for e in c["endpoints"]}
    # the URLs are the configured ones (AWS_ENDPOINT_URL_<SERVICE>, the CLOUDORCH_* variables), not the public hosts
    assert {k: e["url"] for k, e in endpoints.items()} == {
        ("aws", "ec2"): aws.spot.url, ("aws", "pricing"): aws.replay.url, ("aws", "service-quotas"): aws.replay.url,
        ("azure", "management"): az.stand_in.url, ("azure", "prices"): az.stand_in.url + azure.PRICES,
        ("gcp", "compute"): az.stand_in.url, ("gcp", "billing"): az.stand_in.url,
    }
    assert all(e["answers"] and e["detail"].startswith("answers (HTTP ") for e in endpoints.values())
    assert all(c["unavailable"] is None and c["usable"] for c in report["clouds"])
    assert report["pulumi"] == pulumi_on_path and report["live_catalog"] is None and report["parts"] == []
    assert report["journal"].endswith(os.path.join(".cloudorch", "journal"))
    assert report["cache_dir"] == os.environ["CLOUDORCH_CACHE_DIR"] and report["cache_writable"]


def test_a_closed_port_does_not_answer_and_is_exit_6(clouds, pulumi_on_path, capsys, monkeypatch):  # noqa: F811 - the imported fixture
    closed = f"http://127.0.0.1:{free_port()}/api/retail/prices"  # nothing listens there
    monkeypatch.setenv("CLOUDORCH_AZURE_PRICES_ENDPOINT", closed)
    code, report, _ = doctor(capsys, "--cloud", "azure")
    assert code == 6 and [c["cloud"] for c in report["clouds"]] == ["azure"]
    prices = next(e for e in report["clouds"][0]["endpoints"] if e["name"] == "prices")
    assert prices["url"] == closed and not prices["answers"] and prices["detail"].startswith("does not answer")
    assert report["problems"] == [f"azure prices endpoint {closed} {prices['detail']}"]

    code, out, err = run(capsys, "doctor", "--cloud", "azure")  # the same, for people
    assert code == 6 and "does not answer" in out and "1 problem(s)" in err and closed in err


def test_no_credentials_and_no_pulumi_are_each_a_problem(clouds, capsys, monkeypatch, tmp_path):  # noqa: F811 - the imported fixture
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no pulumi (nor az) anywhere
    code, report, _ = doctor(capsys, "--cloud", "azure", "--cloud", "gcp")
    assert code == 6
    azure_check = next(c for c in report["clouds"] if c["cloud"] == "azure")
    assert "AZURE_SUBSCRIPTION_ID" in azure_check["unavailable"] and not azure_check["usable"]
    assert report["pulumi"] is None
    assert report["problems"] == [f"azure: {azure_check['unavailable']}",
                                  "the Pulumi CLI is not on PATH (apply, preview, destroy, refresh, drift and outputs "
                                  "need it)"]


def test_the_live_catalog_age_per_part(clouds, pulumi_on_path, capsys):  # noqa: F811 - the imported fixture
    _, az, _ = clouds
    serve_azure(az, 400)
    assert run(capsys, "catalog", "refresh", "--cloud", "azure", "--regions", ",".join(AZURE_REGIONS))[0] == 0
    code, report, _ = doctor(capsys, "--cloud", "azure")
    assert code == 0 and report["live_catalog"]
    assert {(p["cloud"], p["source"]) for p in report["parts"]} == {("azure", s) for s in
                                                                     ("offerings", "prices", "quotas", "zones")}
    assert all(0 <= p["age_seconds"] < 60 and not p["stale"] for p in report["parts"])
    code, out, _ = run(capsys, "doctor", "--cloud", "azure")
    assert code == 0 and "azure prices: fetched" in out


def test_an_unknown_cloud_or_timeout_is_a_usage_error(capsys):
    assert run(capsys, "doctor", "--cloud", "oracle")[0] == 2
    assert run(capsys, "doctor", "--timeout", "0")[0] == 2
