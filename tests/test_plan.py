from __future__ import annotations

import json

from cloudorch import api
from tests.support import ROOT


def test_fast_serialisation_equals_the_reference_encoder():
    for path in sorted((ROOT / "stacks").glob("*.yaml")):
        plan = api.plan(path, api.Session(api.Options(explain=True))).plan
        reference = json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        assert plan.to_json() == reference


def test_every_resource_entry_names_its_neutral_role():
    plan = api.plan(ROOT / "stacks" / "webshop.yaml").plan
    entries = plan.model_dump(mode="json")["resources"]
    assert entries and all(entry["role"] for entry in entries)
    assert {e["role"] for e in entries if e["type"].startswith("pulumi:providers:")} == {"provider"}
