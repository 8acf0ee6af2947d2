from __future__ import annotations

import pytest

from cloudorch.cli.app import main
from cloudorch.config import load_config
from cloudorch.errors import SpecError
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")


def test_no_config_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    assert load_config().vcpu_quotas == {}


def test_bad_settings_are_reported_together(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('catalgo = 3\n[vcpu_quotas]\naws = -1\n')
    with pytest.raises(SpecError) as info:
        load_config(path)
    assert [str(p) for p in info.value.problems] == [f"{path}: catalgo: unknown setting",
                                                     f"{path}: vcpu_quotas.aws: must be a positive number"]


def test_toml_syntax_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[vcpu_quotas\n")
    with pytest.raises(SpecError, match="problem") as info:
        load_config(path)
    assert "TOML syntax error" in str(info.value.problems[0])


def test_quota_for_unknown_cloud_or_region_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('[vcpu_quotas]\n"aws/xx-fake-1" = 10\n')
    assert main(["plan", WEBSHOP]) == 2
    assert "vcpu_quotas.aws/xx-fake-1: unknown region 'xx-fake-1' of aws" in capsys.readouterr().err


def test_quotas_steer_placement(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cloudorch.toml").write_text('[vcpu_quotas]\ngcp = 4\n')
    assert main(["plan", WEBSHOP, "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    gcp_vcpus = sum(4 * p["count"] for p in plan["placements"] if p["cloud"] == "gcp" and p["kind"] == "compute")
    assert gcp_vcpus <= 4
