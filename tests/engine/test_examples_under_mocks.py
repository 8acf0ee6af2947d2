"""The Pulumi program built from each example stack's real rendering runs under the SDK's mocks."""

from __future__ import annotations

import pytest

from cloudorch import api
from cloudorch.engine.program import build_program
from tests.support import ROOT

from .test_program import PASSWORD, SECRET_SIG, run_under_mocks

EXAMPLES = sorted((ROOT / "stacks").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_program_registers_every_rendered_resource(path, monkeypatch):
    rendered = api.plan(path).rendered
    mocks, _ = run_under_mocks(build_program(rendered), monkeypatch)

    assert {n: a.typ for n, a in mocks.registered.items()} == {r.name: r.type for r in rendered}
    providers = {r.name for r in rendered if r.is_provider}
    for r in rendered:
        registered = mocks.registered[r.name]
        if r.provider:
            assert f"::{r.provider}::" in registered.provider, f"{r.name} registered without its explicit provider"
        # every plain (non-reference) input reaches Pulumi unchanged, except numbers come back as floats
        for key, value in r.inputs.items():
            if isinstance(value, str):
                assert registered.inputs.get(key) == value, (r.name, key)
    assert providers


def test_generated_database_passwords_reach_pulumi_only_as_secrets(monkeypatch):
    path = ROOT / "stacks" / "fraud-scoring.yaml"  # mysql on a cloud that needs a generated password
    rendered = api.plan(path).rendered
    mocks, _ = run_under_mocks(build_program(rendered), monkeypatch)
    consumers = [r for r in rendered for v in r.inputs.values()
                 if isinstance(v, dict) and v.get("output") == "result" and "password" in v.get("$ref", "")]
    assert consumers, "expected a database whose password comes from a generated secret"
    for r in consumers:
        secrets = [v for v in mocks.registered[r.name].inputs.values() if isinstance(v, dict) and SECRET_SIG in v.values()]
        assert secrets and all(s["value"] == PASSWORD for s in secrets)
    plan_text = api.plan(path).plan.to_json()
    assert PASSWORD not in plan_text
