"""Cost guardrails on the spec and its placement: the budget, machine size, spot capacity outside prod."""

from __future__ import annotations

from functools import cache

from cloudorch.policy import STACK, NotApplicable, Pack, Policy, Violation, spec_check


@spec_check(STACK)
def _budget(target, ctx):
    budget = ctx.stack.budget.monthly_usd
    if budget is None:
        return [NotApplicable("the stack sets no budget.monthly_usd")]
    if ctx.placement is None:
        return [NotApplicable("not placed yet")]
    total = ctx.placement.monthly_usd
    if total <= budget:
        return []
    return [Violation(f"placement costs ${total:,.2f}/month, over the ${budget:,.2f} budget", ("budget", "monthly_usd"))]


BUDGET = Policy(
    id="cost.budget",
    title="The placement fits the stack's monthly budget",
    severity="high",
    checks=(_budget,),
    remediation="Lower counts or sizes, allow more clouds or regions, use spot, or raise budget.monthly_usd.",
    tags=("cost",),
)


@spec_check("compute", "database")
def _max_size(target, ctx):
    limit = float(ctx.config.get("max_vcpus", 64))
    out = []
    if target.model.cpu > limit:
        out.append(Violation(f"asks for {target.model.cpu} vCPUs per replica (limit {limit:g})", ("cpu",)))
    placed = ctx.placement_of(target.name)
    for slot in placed.slots if placed else ():
        if slot.vcpus > limit and target.model.cpu <= limit:
            out.append(Violation(f"placed on {slot.instance_type} in {slot.cloud}/{slot.region} with "
                                 f"{slot.vcpus:g} vCPUs (limit {limit:g})", ("cpu",)))
    return out


MAX_MACHINE_SIZE = Policy(
    id="cost.max-machine-size",
    title="Machines stay below the maximum size",
    severity="medium",
    checks=(_max_size,),
    description="Neither the requested nor the placed machine exceeds `max_vcpus` (default 64).",
    remediation="Scale out (count) instead of up, or raise max_vcpus for this policy.",
    tags=("cost",),
    config={"max_vcpus": 64},
)


@spec_check("compute")
def _spot(target, ctx):
    env = ctx.tags_of(target.name).get("env")
    if not env:
        return [NotApplicable("no env tag")]
    production = {str(v).lower() for v in ctx.config.get("production_envs", ("prod", "production"))}
    if env.lower() in production:
        return [NotApplicable("production capacity may be on demand")]
    placed = ctx.placement_of(target.name)
    spot = target.model.spot or bool(placed and placed.slots and all(s.spot for s in placed.slots))
    return [] if spot else [Violation(f"env {env} runs on on-demand capacity", ("spot",))]


SPOT_FOR_NONPROD = Policy(
    id="cost.spot-for-nonprod",
    title="Non-production compute runs on spot capacity",
    severity="low",
    checks=(_spot,),
    remediation="Set spot: true for compute whose env tag is not prod.",
    tags=("cost",),
    config={"production_envs": ("prod", "production")},
)


@cache
def pack() -> Pack:
    return Pack(name="cost", policies=(BUDGET, MAX_MACHINE_SIZE, SPOT_FOR_NONPROD), enforcement=None,
                description="Cost guardrails: budget, maximum machine size, spot outside production.",
                version="1.0.0")
