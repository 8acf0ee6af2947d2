"""Sizes past the documented limits (README, "Limits") are refused at load, before they reach the solver.

`count: 1e30` used to make HiGHS fail (exit 1); `count: 1000000000` with `max_per_region: 1` made the
search for a way out take a solve per replica (a hang); `.inf` traffic overflowed the bill.
"""

from __future__ import annotations

import time

import pytest

from cloudorch import inputs
from cloudorch.cli.app import main
from cloudorch.spec.models import Stack
from tests.spec.test_loader import GOOD, problems
from tests.support import ROOT

WEB = GOOD + "    count: 2\n    spread: {max_per_region: 1}\n    egress_gb_month: 5\n    accelerator: {type: T4}\n"


@pytest.mark.parametrize("old,new,expected", [
    ("count: 2", "count: 1.0e+30", "shop.yaml:11: resources.web.count: is too large a number"),
    ("count: 2", "count: 1e30", "shop.yaml:11: resources.web.count: is too large a number"),  # YAML 1.2: a float
    ("count: 2", "count: 1000000000", "shop.yaml:11: resources.web.count: must be at most 1,000"),
    ("count: 2", f"count: {10**50}", "shop.yaml:11: resources.web.count: must be at most 1,000"),
    ("count: 2", "count: .inf", "shop.yaml:11: resources.web.count: must be a finite number"),
    ("max_per_region: 1", "max_per_region: 1001", "shop.yaml:12: resources.web.spread.max_per_region: must be at most 1,000"),
    ("cpu: 2", "cpu: 5000", "shop.yaml:9: resources.web.cpu: must be at most 4,096"),
    ("memory_gb: 4", "memory_gb: .nan", "shop.yaml:10: resources.web.memory_gb: must be a finite number"),
    ("memory_gb: 4", "memory_gb: 1e300", "shop.yaml:10: resources.web.memory_gb: must be at most 65,536"),
    ("egress_gb_month: 5", "egress_gb_month: .inf", "shop.yaml:13: resources.web.egress_gb_month: must be a finite number"),
    ("egress_gb_month: 5", "egress_gb_month: 1e300", "shop.yaml:13: resources.web.egress_gb_month: must be at most "
                                                     "1,000,000,000"),
    ("{type: T4}", "{type: T4, count: 100}", "shop.yaml:14: resources.web.accelerator.count: must be at most 64"),
])
def test_numbers_past_their_limit_are_refused(old, new, expected):
    found = problems(WEB.replace(old, new))
    assert [p.split(" (see Limits")[0] for p in found] == [expected]


def test_budgets_and_stored_data_are_bounded_too():
    found = problems(WEB + "  files:\n    kind: bucket\n    size_gb: 1e12\n    lifecycle: {delete_after_days: 100000}\n"
                           "budget: {monthly_usd: .inf}\n")
    assert found == ["shop.yaml:17: resources.files.size_gb: must be at most 1,000,000,000 (see Limits in the README)",
                     "shop.yaml:18: resources.files.lifecycle.delete_after_days: must be at most 36,500 (see Limits in "
                     "the README)",
                     "shop.yaml:19: budget.monthly_usd: must be a finite number"]


def test_the_limits_are_in_the_json_schema_and_the_readme():
    schema = Stack.model_json_schema(by_alias=True)["$defs"]
    assert schema["Compute"]["properties"]["count"]["maximum"] == inputs.MAX_REPLICAS
    assert schema["Spread"]["properties"]["max_per_region"]["anyOf"][0]["maximum"] == inputs.MAX_REPLICAS
    assert schema["Compute"]["properties"]["cpu"]["maximum"] == inputs.MAX_VCPUS
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    limits = readme[readme.index("### Limits"):]
    for figure in (inputs.MAX_REPLICAS, inputs.MAX_VCPUS, inputs.MAX_MEMORY_GB, inputs.MAX_ACCELERATORS, inputs.MAX_DAYS,
                   int(inputs.MAX_GB_MONTH), int(inputs.MAX_MONTHLY_USD), inputs.MAX_VCPU_QUOTA,
                   inputs.MAX_FILE_BYTES // 2**20):
        assert f"{figure:,}" in limits, figure


def test_a_billion_replicas_with_one_per_region_exits_2_at_once(tmp_path, capsys):
    text = (ROOT / "stacks" / "webshop.yaml").read_text(encoding="utf-8")
    stack = tmp_path / "huge.yaml"
    stack.write_text(text.replace("count: 6 ", "count: 1000000000 ").replace("max_per_region: 3", "max_per_region: 1"))
    started = time.monotonic()
    assert main(["plan", str(stack)]) == 2
    assert time.monotonic() - started < 20
    assert "resources.web.count: must be at most 1,000" in capsys.readouterr().err
