"""Workflows: several stacks applied as one release (``cloudorch plan|apply|destroy DIR``).

definition.py finds the stacks and orders them by their ``uses``; references.py fills their outputs in;
planning.py and run.py plan and apply them (checks.py probes between waves, schedule.py runs independent
stacks in parallel); engines.py builds each stack's engine, real or the rehearsal's (rehearsal.py);
record.py is the one door to the journal, snapshots.py what a rollback goes back to.
"""

from cloudorch.workflow.definition import Workflow, load_workflow
from cloudorch.workflow.planning import StackPlan, WorkflowPlan, plan_workflow
from cloudorch.workflow.rehearsal import Faults
from cloudorch.workflow.run import (
    CheckFailed,
    Event,
    Replacement,
    RunOptions,
    WorkflowResult,
    apply_workflow,
    destroy_workflow,
)

__all__ = ["CheckFailed", "Event", "Faults", "Replacement", "RunOptions", "StackPlan", "Workflow", "WorkflowPlan",
           "WorkflowResult", "apply_workflow", "destroy_workflow", "load_workflow", "plan_workflow"]
