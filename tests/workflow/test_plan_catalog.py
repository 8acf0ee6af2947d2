"""A workflow is planned on the same catalog a single stack would be: --max-catalog-age judges it too."""

from __future__ import annotations

from cloudorch.cli.app import main
from tests.support import ROOT


def test_a_workflow_plan_honours_max_catalog_age(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    # the embedded catalog has no parts to age: asking is a usage error, for a directory as for a stack file
    assert main(["plan", str(ROOT / "stacks" / "release"), "--max-catalog-age", "1h"]) == 2
    assert "--max-catalog-age" in capsys.readouterr().err
