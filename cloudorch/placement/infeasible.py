"""Explaining an infeasible stack: the smallest set of constraints that conflict, and a priced way out.

A deletion filter over the named constraint groups finds an irreducible infeasible subset: drop one group
at a time and keep it dropped when the rest stays infeasible. What remains conflicts as a whole and every
member matters. Then each member is relaxed by the smallest step that makes the stack fit, and the
cheapest such relaxation is offered.
"""

from __future__ import annotations

import math
from dataclasses import replace

from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement import milp
from cloudorch.placement.problem import Problem, parse_group, vcpus_under


def _feasible(problem: Problem, disabled: frozenset[str]) -> bool:
    return milp.solve(replace(problem, objective="cost", disabled=disabled)) is not None


def conflicting_groups(problem: Problem) -> list[str]:
    """One irreducible infeasible subset of the constraint groups (empty if even none of them fit)."""
    sets = conflict_sets(problem, first_only=True)
    return sets[0] if sets else []


def conflict_sets(problem: Problem, first_only: bool = False) -> list[list[str]]:
    """Disjoint irreducible infeasible subsets, until switching them all off makes the stack fit.

    A stack can break several constraints independently (web's spread, and api both near and apart from
    web); reporting only the first would send the user round the loop once per conflict.
    """
    groups = problem.groups()
    if not _feasible(problem, frozenset(groups)):
        return []  # infeasible even without any coupling constraint: counts or options themselves
    found: list[list[str]] = []
    off: set[str] = set()
    while not _feasible(problem, frozenset(off)):
        needed = [g for g in groups if g not in off]
        for group in list(needed):
            trial = [g for g in needed if g != group]
            if not _feasible(problem, frozenset(set(groups) - set(trial))):
                needed = trial
        if not needed:
            break
        found.append(needed)
        if first_only:
            break
        off |= set(needed)
    return found


def _relaxations(problem: Problem, group: str):
    """Candidate relaxations of one group, smallest first: (description, relaxed problem)."""
    parsed = parse_group(group)
    if parsed.resource is not None:
        name = parsed.resource
        demand = next(d for d in problem.demands if d.name == name)

        def with_demand(**changes):
            demands = tuple(replace(d, **changes) if d.name == name else d for d in problem.demands)
            return replace(problem, demands=demands)

        if parsed.kind == "spread":
            rule, current = parsed.detail, getattr(demand, parsed.detail)
            # a maximum is raised towards the count, a minimum lowered towards one
            values = range((current or 0) + 1, demand.count + 1) if rule.startswith("max_") else range(current - 1, 0, -1)
            for value in values:
                yield f"{group}: {value}", with_demand(**{rule: value})
        elif parsed.kind == "near":
            yield f"no `near` on resources.{name}", with_demand(near=None)
        elif parsed.kind == "apart":
            other = parsed.detail
            yield f"resources.{name} not apart from {other}", with_demand(apart=tuple(a for a in demand.apart if a != other))
    elif parsed.kind == "quota":
        key = parsed.detail
        limit = problem.quotas[key]
        # rounded up, so that a small quota's first step is not itself (2 x 1.25 would round to 2)
        steps = sorted({math.ceil(limit * factor) for factor in (1.25, 1.5, 2, 3, 5, 10)} - {math.ceil(limit)})
        # and, when no step fits (a quota of 0 has no multiples), what the cheapest placement without it uses
        needed = _usage_without(problem, group, key)
        if needed is not None and needed > limit and (not steps or needed > steps[-1]):
            steps.append(needed)
        for value in steps:
            raised = dict(problem.quotas) | {key: value}
            yield f"a vCPU quota of {value:,} for {key}", replace(problem, quotas=raised)
    elif parsed.kind == "budget":
        yield "a larger budget", replace(problem, budget_monthly_usd=None)


def _usage_without(problem: Problem, group: str, key: str) -> int | None:
    solution = milp.solve(replace(problem, objective="cost", disabled=problem.disabled | {group}))
    if solution is None:
        return None
    return math.ceil(vcpus_under(key, problem.demands, solution.assignment))


def _scarce_offering(problem: Problem, group: str) -> str | None:
    """The root cause when a spread rule fails because what fits the resource exists on too few clouds or
    regions, whatever else holds: "L4 4 vCPU/16 GiB is offered only on gcp in the allowed regions"."""
    parsed = parse_group(group)
    if parsed.kind != "spread" or parsed.resource is None:
        return None
    demand = next(d for d in problem.demands if d.name == parsed.resource)
    clouds = sorted({o.cloud for o in demand.options})
    regions = sorted({f"{o.cloud}/{o.region}" for o in demand.options})
    rule, limit = parsed.detail, getattr(demand, parsed.detail)
    where = {"min_clouds": clouds, "max_per_cloud": clouds}.get(rule, regions)
    if rule.startswith("min_") and len(where) >= limit:
        return None
    if rule.startswith("max_") and len(where) * limit >= demand.count:
        return None
    offered = f"only on {_listed(clouds)} in the allowed regions" if where is clouds else \
        f"only in {len(regions)} allowed region{'s' if len(regions) != 1 else ''} ({_listed(regions)})"
    need = f"{group} {limit} needs {limit} {'clouds' if where is clouds else 'regions'}" if rule.startswith("min_") \
        else f"at most {len(where) * limit} of its {demand.count} replicas fit under {group} {limit}"
    return f"{_what(demand)} is offered {offered}: {need}"


def _what(demand) -> str:
    """What fits a resource, as its smallest offering says it (the accelerator first, when all share one)."""
    smallest = min(demand.options, key=lambda o: (o.vcpus, o.memory_gib))
    size = f"{smallest.vcpus:g} vCPU/{smallest.memory_gib:g} GiB"
    accelerators = {o.accelerator for o in demand.options}
    if len(accelerators) == 1 and None not in accelerators:
        return f"{accelerators.pop()} {size}"
    return f"{'a managed database class' if demand.kind == 'database' else 'a machine type'} that fits " \
           f"{demand.name} ({size} or more)"


def _listed(names: list[str], shown: int = 4) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


#: how many constraints one suggested way out may relax together
MAX_RELAXED = 4


def analyse_infeasible(problem: Problem, fixed_monthly_usd: float = 0.0) -> InfeasiblePlacement:
    """``problem`` is the part of the stack that cannot be placed; ``fixed_monthly_usd`` what the rest costs."""
    sets = conflict_sets(problem)
    if not sets:
        return InfeasiblePlacement(
            "no placement can host every replica, even without spread, co-location and quota constraints",
            conflicts=["resources (count)"],
            hint="`cloudorch plan --explain` shows which regions each resource could use",
        )
    conflicts = [g for s in sets for g in s]
    message = "no placement satisfies these constraints together: " + "; ".join(", ".join(s) for s in sets)
    causes = [cause for group in conflicts if (cause := _scarce_offering(problem, group))]
    if causes:
        # the spread rule is only where it shows: what the user must change is where the offering exists
        message = "; ".join(causes) + f" ({message})"
    way_out = _per_conflict_way_out(problem, sets) or _way_out(problem, sets[0])
    if way_out is None:
        return InfeasiblePlacement(message, conflicts=conflicts, hint="relax one of the constraints named above")
    cost, steps = way_out
    cost += fixed_monthly_usd
    description = " and ".join(steps)
    return InfeasiblePlacement(
        message, conflicts=conflicts, relaxation=description, relaxation_monthly_usd=round(cost, 2),
        hint=f"with {description} it fits, at ${cost:,.2f}/month",
    )


def _per_conflict_way_out(problem: Problem, sets: list[list[str]]) -> tuple[float, list[str]] | None:
    """The smallest, cheapest relaxation of each conflict set in turn (later sets switched off meanwhile)."""
    current, steps = problem, []
    for i, conflict in enumerate(sets):
        later = frozenset(g for s in sets[i + 1:] for g in s)
        best = None
        for group in conflict:  # the smallest step of each group that resolves the conflict
            fitting = _smallest_fitting(list(_relaxations(current, group)), later)
            if fitting is not None and (best is None or fitting[0] < best[0]):
                best = fitting
        if best is None:
            return None
        steps.append(best[1])
        current = best[2]
    final = milp.solve(replace(current, objective="cost"))
    return None if final is None else (final.monthly_usd, steps)




def _smallest_fitting(relaxations: list, off: frozenset[str] = frozenset()) -> tuple[float, str, Problem] | None:
    """The cost, description and problem of the first of ``relaxations`` that fits (with the groups ``off``
    switched off), found by bisection: each relaxes the one before it (a maximum raised, a minimum lowered,
    a quota raised), so once one fits all later ones do -- about 10 solves for a rule of 1,000 replicas
    instead of up to 1,000."""
    def solved(i: int):
        relaxed = relaxations[i][1]
        return milp.solve(replace(relaxed, objective="cost", disabled=relaxed.disabled | off))

    low, high = 0, len(relaxations) - 1
    if high < 0 or (found := solved(high)) is None:
        return None
    while low < high:
        middle = (low + high) // 2
        if (attempt := solved(middle)) is not None:
            high, found = middle, attempt
        else:
            low = middle + 1
    return found.monthly_usd, relaxations[high][0], relaxations[high][1]


def _way_out(problem: Problem, conflicts: list[str]) -> tuple[float, list[str]] | None:
    """The cheapest single smallest relaxation that makes the stack fit; when none does on its own (a
    stack can violate several constraints independently), relax one conflict fully and look again."""
    steps: list[str] = []
    current = problem
    for _ in range(MAX_RELAXED):
        best: tuple[float, str] | None = None
        for group in conflicts:
            fitting = _smallest_fitting(list(_relaxations(current, group)))
            if fitting is not None and (best is None or fitting[0] < best[0]):
                best = fitting[:2]
        if best is not None:
            return best[0], [*steps, best[1]]
        widest = list(_relaxations(current, conflicts[0]))
        if not widest:
            return None
        description, current = widest[-1]
        steps.append(description)
        conflicts = conflicting_groups(current)
        if not conflicts:
            return None
    return None
