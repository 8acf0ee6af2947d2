"""Planning a workflow: every selected stack in dependency order, with what its upstream outputs settle.

A stack whose upstream has no state yet is planned with the reference left as written, and the plan lists
the value as unknown with the apply that settles it: never a made-up value. Outputs are read from the
stacks' state (the rehearsal's with ``rehearse``); a plan never needs the Pulumi CLI, so without one, or
without the state's passphrase, an upstream's outputs are unknown too. Each stack's plan is journaled as a
single stack's is (``lifecycle.recorded``), naming the workflow and how many values were still unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudorch import api, lifecycle
from cloudorch.api import PlanResult, Session
from cloudorch.errors import EngineError
from cloudorch.workflow.definition import Workflow, load_workflow, select
from cloudorch.workflow.engines import Engines
from cloudorch.workflow.references import Unknown, fill
from cloudorch.workflow.rehearsal import allocation_record


@dataclass(frozen=True)
class StackPlan:
    stack: str
    file: str
    uses: tuple[str, ...]
    result: PlanResult
    unknowns: tuple[Unknown, ...]

    def to_dict(self) -> dict[str, Any]:
        import json

        return {"stack": self.stack, "file": self.file, "uses": list(self.uses),
                "unknowns": [u.to_dict() for u in self.unknowns], "plan": json.loads(self.result.plan.to_json())}


@dataclass(frozen=True)
class WorkflowPlan:
    workflow: Workflow
    stacks: tuple[StackPlan, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"workflow": self.workflow.name, "order": [s.stack for s in self.stacks],
                "phases": [p.label for p in self.workflow.phases], "stacks": [s.to_dict() for s in self.stacks]}


def plan_workflow(paths: list[Path], session: Session, *, rehearse: bool = False, targets: tuple[str, ...] = (),
                  excludes: tuple[str, ...] = ()) -> WorkflowPlan:
    workflow = load_workflow(paths)
    selected = select(workflow, list(targets), list(excludes))
    engines = Engines(session, rehearse=rehearse)

    def outputs(stack: str) -> Any:
        try:
            return engines.outputs(stack)
        except EngineError:  # no CLI, no passphrase, no backend: the plan says unknown rather than fail
            return None

    plans = []
    for name in workflow.order():
        if name not in selected:
            continue
        stack = workflow.stacks[name]
        upstream = sorted(set(stack.uses.values()))
        text, unknowns = fill(stack, {u: outputs(u) for u in upstream} if stack.references else {})
        # journaled as `cloudorch plan FILE` is, with the workflow it was planned in
        with lifecycle.recorded(session, "plan", stack.path, stack=name) as record:
            record.fields |= {"workflow": workflow.name, "unknowns": len(unknowns)} | (
                {"rehearsal": True} if rehearse else {})
            kept = allocation_record(session.location.root, name) if rehearse else None
            result = api.plan(stack.path, session, text=text, record=kept)
            record.plan(result.plan)
            refused = result.refusal()
            record.outcome = "succeeded" if refused is None else f"refused ({type(refused).__name__})"
        plans.append(StackPlan(name, stack.file, tuple(upstream), result, tuple(unknowns)))
    return WorkflowPlan(workflow, tuple(plans))
