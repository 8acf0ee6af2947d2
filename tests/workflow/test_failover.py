"""Failover: a capacity failure blocks its offering, the stack is re-placed with every constraint, budget and
policy, the change is shown and confirmed, and nothing the failed attempt made is left behind."""

from __future__ import annotations

import json

import pytest

from cloudorch.api import Session
from cloudorch.cli.app import main
from cloudorch.errors import ExitCode
from cloudorch.workflow import Faults, RunOptions, apply_workflow
from cloudorch.workflow.run import FailoverDeclined
from tests.workflow.conftest import write
from tests.workflow.test_run import entries, states

ONE = """\
    stack: one
    placement: {{clouds: [aws], regions: [eu-west-1]}}
    {budget}resources:
      net: {{kind: network, cidr: 10.30.0.0/16}}
      web: {{kind: compute, network: net, cpu: 2, memory_gb: 8}}
    """


def one_machine(project, budget: float | None = None):
    """A workflow of one stack with one machine; its directory and the machine its plan places."""
    d = project / "w"
    write(d, "one.yaml", ONE.format(budget=f"budget: {{monthly_usd: {budget}}}\n    " if budget else ""))
    return d


def planned(capsys, d) -> dict:
    capsys.readouterr()
    assert main(["plan", str(d / "one.yaml"), "--format", "json", "--explain"]) == 0
    return json.loads(capsys.readouterr().out)


def fitting_types(region, cpu, memory):
    from cloudorch.catalog import load_catalog

    return sorted({o.instance_type for o in load_catalog().offerings if o.cloud == "aws" and o.region == region
                   and o.vcpus >= cpu and o.memory_gib >= memory and not o.accelerator})


def test_nothing_feasible_after_failover_is_exit_5_and_the_stack_is_left_as_before(project, capsys):
    d = one_machine(project)
    machine = planned(capsys, d)["placements"][0]["instance_type"]
    # every machine that fits is out of capacity: block them all, one after another
    faults = [f"capacity:aws/eu-west-1/{t}" for t in fitting_types("eu-west-1", 2, 8)]
    assert f"capacity:aws/eu-west-1/{machine}" in faults
    code = main(["apply", str(d), "--rehearse", "--yes", *[x for f in faults for x in ("--inject", f)]])
    err = capsys.readouterr().err
    assert code == 5, err
    assert "no feasible placement" in err.lower() or "infeasible" in err.lower() or "no offering" in err.lower()
    assert states(project)["one"]["resources"] == {}  # what the failed attempts created was removed
    kinds = [(e.kind, e.outcome) for e in entries(project)]
    assert ("failover", "failed") in kinds and ("rollback", "succeeded") in kinds


def test_the_re_placement_is_held_to_the_budget(project, capsys):
    first = planned(capsys, one_machine(project))
    # a budget the first placement fits exactly: any other machine costs more
    d = one_machine(project, budget=first["cost"]["monthly_usd"])
    machine = planned(capsys, d)["placements"][0]["instance_type"]
    assert machine == first["placements"][0]["instance_type"]
    code = main(["apply", str(d), "--rehearse", "--yes", "--inject", f"capacity:aws/eu-west-1/{machine}"])
    assert code == int(ExitCode.OVER_BUDGET), capsys.readouterr().err
    failover = entries(project, "failover")
    assert [(f.outcome, f.fields["reason"]) for f in failover] == [("failed", "OverBudget")]
    assert states(project)["one"]["resources"] == {}


@pytest.mark.parametrize("answer", [True, False])
def test_the_change_is_shown_to_the_confirmation_and_a_refusal_restores_the_stack(project, capsys, answer):
    d = one_machine(project)
    machine = planned(capsys, d)["placements"][0]["instance_type"]
    asked = []

    def confirm(change) -> bool:
        asked.append(change)
        return answer

    options = RunOptions(rehearse=True, faults=Faults.parse([f"capacity:aws/eu-west-1/{machine}"]), confirm=confirm)
    if answer:
        result = apply_workflow([d], Session(), options)
        assert result.stacks["one"].failovers == asked
    else:
        with pytest.raises(FailoverDeclined, match="declined") as raised:
            apply_workflow([d], Session(), options)
        assert raised.value.exit_code == ExitCode.ENGINE_FAILURE
    [change] = asked
    assert change.blocked == ("aws", "eu-west-1", machine) and change.moves
    assert change.moves[0].startswith(f"web: 1x aws/eu-west-1/{machine} -> 1x aws/eu-west-1/")
    assert str(change).startswith(f"one: aws/eu-west-1/{machine} is out of capacity; re-placed: web:")
    outcomes = [e.outcome for e in entries(project, "failover")]
    assert outcomes == (["succeeded"] if answer else ["declined"])
    assert bool(states(project)["one"]["resources"]) is answer


def test_a_rehearsals_injected_capacity_failure_does_not_teach_real_placement(project, capsys):
    d = one_machine(project)
    before = planned(capsys, d)
    machine = before["placements"][0]["instance_type"]
    assert main(["apply", str(d), "--rehearse", "--yes", "--inject", f"capacity:aws/eu-west-1/{machine}"]) == 0
    assert [e.fields["instance_type"] for e in entries(project, "failover")] == [machine]
    after = planned(capsys, d)
    assert after["explain"].get("capacity_history", []) == []
    assert after["placements"] == before["placements"]
