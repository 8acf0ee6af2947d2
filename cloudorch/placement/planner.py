"""The planner: a stack and a catalog in, a frozen placement out (or an explained refusal).

Steps: allowed regions -> the regions each resource's cloud can host it in (``capability``, every kind)
-> per-resource options (exact filtering, dominated options pruned) -> one MILP per group of linked
resources (one MILP for all when a quota or an in-model budget couples them) -> buckets next to what they
serve -> explanations. Address blocks are the network stage's (``cloudorch.network``); a placement keeps to
the blocks each network has left (``blocks``).
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace

from cloudorch.capabilities import beside_public_requirement, cross_network_requirement
from cloudorch.catalog.model import Catalog
from cloudorch.errors import InfeasiblePlacement, OverBudget
from cloudorch.graph import flow_partners
from cloudorch.placement import milp
from cloudorch.placement.beside import while_solving
from cloudorch.placement.blocks import beyond_blocks, block_limits
from cloudorch.placement.bill import (beyond_limits, bucket_egress, most_taken_off, network_cost, network_terms,
                                     public_facing)
from cloudorch.placement.buckets import place_buckets
from cloudorch.placement.capability import CapabilityFilter, requirements_of
from cloudorch.placement.candidates import (
    OfferingIndex,
    PlacementSettings,
    allowed_regions,
    compute_options,
    database_options,
)
from cloudorch.placement.explain import every_fit, explain, restricted
from cloudorch.placement.floor import coupled_floor, network_floor, per_replica_terms
from cloudorch.placement.improve import Limit, improve
from cloudorch.placement.infeasible import analyse_infeasible
from cloudorch.placement.model import HOURS_PER_MONTH, PlacementResult, ResourcePlacement, Slot
from cloudorch.placement.problem import (BUDGET_GROUP, BlockLimit, Demand, NetworkTerms, Option, Problem, Solution,
                                        quota_covers)
from cloudorch.placement.rates import NetworkRates
from cloudorch.spec.models import Bucket, Compute, Database, Stack

#: the longest local search may take, so that no plan hangs (its move budget stops it long before, on the
#: same move on every machine: ``improve.Limit``)
LOCAL_SEARCH_SECONDS = 120.0


def plan_placement(stack: Stack, catalog: Catalog, settings: PlacementSettings,
                   index: OfferingIndex | None = None, *, explain_choices: bool = True) -> PlacementResult:
    with _cycle_collection.rarer():
        across: frozenset[str] = frozenset()
        beside: frozenset[str] = frozenset()
        result = _plan_placement(stack, catalog, settings, index, explain_choices)
        while True:
            found = peered_across(stack, result, settings) - across
            near_public = served_beside_public(stack, result, settings) - beside
            if not found and not near_public:
                return result
            # each pass moves at least one more resource off the clouds that cannot have it where it was: it ends
            across, beside = across | found, beside | near_public
            try:
                result = _plan_placement(stack, catalog, settings, index, explain_choices, across, beside)
            except InfeasiblePlacement:
                # nowhere else: the placement as it was, which its provider's checks refuse at the field to
                # change, naming what shares the cloud (clearer than "no placement" here)
                return result


def served_beside_public(stack: Stack, result: PlacementResult, settings: PlacementSettings) -> frozenset[str]:
    """The served resources this placement puts in a location with a resource of their network that has
    public addresses, on a cloud whose balancer of their protocol would open those addresses there (Azure's
    Standard Load Balancer, tcp: the NSG rule for its clients covers the whole subnet)."""
    public = {name: spec.network for name, spec in stack.resources.items()
              if isinstance(spec, Compute) and public_facing(spec)}
    out = set()
    for name, spec in stack.resources.items():
        placement = result.placements.get(name)
        if not isinstance(spec, Compute) or spec.serve is None or placement is None:
            continue
        wanted = beside_public_requirement(spec.serve.protocol)
        neighbours = [o for o, network in public.items() if o != name and network == spec.network and o in result.placements]
        for cloud, region in placement.locations:
            if any((cloud, region) in result.placements[o].locations for o in neighbours) \
                    and settings.unsupported(wanted, cloud, region):
                out.add(name)
    return frozenset(out)


def peered_across(stack: Stack, result: PlacementResult, settings: PlacementSettings) -> frozenset[str]:
    """The databases this placement puts on a cloud that cannot reach a database across the link between two
    stack networks (``Capability.CROSS_NETWORK_ACCESS``: Cloud SQL behind a VPC peering, which is not
    transitive) together with a flow partner of another network: only then does the cloud's gap matter, so a
    database whose partners run elsewhere (over a VPN, which does carry it) keeps the cloud."""
    wanted = cross_network_requirement()
    out = set()
    for name, spec in stack.resources.items():
        placement = result.placements.get(name)
        if not isinstance(spec, Database) or placement is None:
            continue
        lacking = {cloud for cloud, region in placement.locations if settings.unsupported(wanted, cloud, region)}
        if not lacking:
            continue
        partners = [result.placements[p] for p in flow_partners(stack, name) if p in result.placements
                    and getattr(stack.resources[p], "network", None) != spec.network]
        if any(lacking & set(p.clouds) for p in partners):
            out.add(name)
    return frozenset(out)


#: allocations between two young-generation cycle collections while placing (Python's default: 700)
COLLECT_EVERY = 200_000


class _CycleCollection:
    """The process's cycle-collection threshold, raised while any plan is being placed.

    Placing a large stack allocates millions of short-lived tuples and dicts, none of them in a cycle
    (reference counting frees them), while the options and models it keeps grow the heap the collector walks:
    at the default threshold it ran often enough to take a fifth of a 1,000-resource plan's time (2 s of
    10.5). Collections are made rarer, not stopped. The threshold is the process's, and a workflow places
    stacks on several threads at once: it is raised by the first plan to start and put back by the last to
    end, however they end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._placing = 0
        self._before: tuple[int, ...] = ()

    @contextmanager
    def rarer(self):
        with self._lock:
            if not self._placing:
                self._before = gc.get_threshold()
                gc.set_threshold(max(self._before[0], COLLECT_EVERY), *self._before[1:])
            self._placing += 1
        try:
            yield
        finally:
            with self._lock:
                self._placing -= 1
                if not self._placing:
                    gc.set_threshold(*self._before)


_cycle_collection = _CycleCollection()


def _plan_placement(stack: Stack, catalog: Catalog, settings: PlacementSettings, index: OfferingIndex | None,
                    explain_choices: bool, across: frozenset[str] = frozenset(),
                    beside: frozenset[str] = frozenset()) -> PlacementResult:
    regions, region_exclusions = allowed_regions(stack, catalog, settings)
    index = index or OfferingIndex(catalog, settings)
    quotas = {k: v for k, v in settings.vcpu_quotas.items() if v is not None}
    capability = CapabilityFilter(settings.unsupported, regions)
    demands, exclusions = _demands(stack, regions, catalog, index, capability, vcpu_matters=bool(quotas),
                                   across=across, beside=beside)
    for d in demands:
        if not d.options:
            raise _no_options(stack, d.name, region_exclusions + list(exclusions[d.name]))
    budget = stack.budget.monthly_usd
    # Buckets are placed after the solve, so the in-model budget (availability/balanced objectives) keeps
    # room for the most their storage could cost in any allowed region: the placement then always fits.
    model_budget = None if budget is None else budget - _max_storage_cost(stack, catalog, regions)
    terms = (network_terms(stack, tuple(demands), settings.rates, settings.global_clouds)
             if settings.rates is not None else None)
    problem = Problem(tuple(demands), stack.placement.objective, quotas, model_budget, network=terms)
    solution = _solve(problem)
    if solution is None:
        _refuse_if_only_over_budget(stack, problem)
        part, fixed = _infeasible_part(problem)
        raise analyse_infeasible(part, fixed)
    limits = block_limits(stack, problem.demands, settings.blocks_left)
    if limits and beyond_blocks(limits, solution.assignment):
        problem, solution = _within_blocks(stack, problem, solution, limits)
    if terms is not None:
        _refuse_beyond_limits(terms, solution, settings.rates)

    bucket_placements, bucket_cost, bucket_explanations = place_buckets(
        stack, catalog, solution, capability, region_exclusions, explain_choices)
    sent = bucket_egress(stack, bucket_placements)
    network = network_cost(terms, solution.assignment, settings.rates, sent) if terms is not None else None
    # placed after the solve, a bucket's egress is what it is: in the bound as in the cost
    sent_usd = sum(line.monthly_usd for line in network.lines if line.kind == "egress" and line.what in sent) \
        if network is not None else 0.0
    total = solution.monthly_usd + bucket_cost + (network.monthly_usd if network else 0.0)
    if budget is not None and total > budget + 1e-6:
        raise _over_budget(stack, problem, total, budget, bucket_cost)

    placements = {name: _to_placement(name, stack.resources[name].kind, chosen)
                  for name, chosen in solution.assignment.items()}
    placements.update(bucket_placements)
    placements = dict(sorted(placements.items()))
    explanations = {}
    if explain_choices:
        refused = restricted(stack, catalog, settings, capability)
        exclusions = {name: found + refused.get(name, ()) for name, found in exclusions.items()}
        explanations = dict(sorted({**explain(stack, problem, solution, region_exclusions, exclusions,
                                              every_fit(stack, catalog, index, capability, across, beside),
                                              settings.rates, sent),
                                    **bucket_explanations}.items()))
    return PlacementResult(
        objective=stack.placement.objective,
        placements=placements,
        explanations=explanations,
        # a bound is a bound below the cost: capped at it, and rounded down, never up past it; the search's
        # bound prices every GB sent out at the first tier, which the bill's later tiers may undercut
        lower_bound_monthly_usd=_bound(solution.lower_bound_monthly_usd + bucket_cost + sent_usd
                                       - _most_taken_off(problem, settings.rates, sent), total, problem.objective),
        network_cost=network,
        search_stopped=solution.stopped,
    )


def _within_blocks(stack: Stack, problem: Problem, solution: Solution,
                   limits: tuple[BlockLimit, ...]) -> tuple[Problem, Solution]:
    """The problem with the blocks its networks have left as a constraint, and its optimum, where
    ``solution`` takes more (``blocks``). Where no placement keeps within them, ``problem`` and ``solution``
    stand: the network stage refuses it naming the network, and how to free its blocks. Within them only
    over an in-model budget is over budget."""
    limited = replace(problem, block_limits=limits)
    found = _solve(limited)
    if found is not None:
        return limited, found
    _refuse_if_only_over_budget(stack, limited)
    return problem, solution


def _refuse_if_only_over_budget(stack: Stack, problem: Problem) -> None:
    """For a ``problem`` that has no solution: OverBudget (4), naming the cheapest placement, where only its
    in-model budget (non-cost objectives) stood in the way."""
    if problem.budget_in_model and _solve(replace(problem, disabled=frozenset({BUDGET_GROUP}))) is not None:
        cheapest = _solve(replace(problem, objective="cost", budget_monthly_usd=None))
        assert cheapest is not None and stack.budget.monthly_usd is not None
        raise _over_budget(stack, problem, cheapest.monthly_usd, stack.budget.monthly_usd, 0.0)


def _most_taken_off(problem: Problem, rates: NetworkRates | None, buckets: dict) -> float:
    net = problem.network
    if net is None or rates is None:
        return 0.0
    sending = [d for d in problem.demands if net.replica_egress_gb.get(d.name)]
    gb = sum(net.replica_egress_gb[d.name] * d.count for d in sending) + sum(g for _, g in buckets.values())
    return most_taken_off(gb, rates, {o.cloud for d in sending for o in d.options} | {loc[0] for loc, _ in buckets.values()})


def _bound(bound: float, total: float, objective: str) -> float | None:
    """The lower bound shown: capped at the cost and rounded down, never up past it; the cost itself under
    the non-cost objectives (their optimum is not the cheapest); None when the search proved none."""
    if objective != "cost":
        return round(total, 2)
    if not math.isfinite(bound):
        return None
    return math.floor(round(min(bound, total) * 100, 6)) / 100


def _max_storage_cost(stack: Stack, catalog: Catalog, regions) -> float:
    prices = [catalog.storage_index[(r.cloud, r.name)] for r in regions if (r.cloud, r.name) in catalog.storage_index]
    top = max(prices, default=0.0)
    return sum(spec.size_gb * top for spec in stack.resources.values() if isinstance(spec, Bucket))


def _demands(stack: Stack, regions, catalog: Catalog, index: OfferingIndex, capability: CapabilityFilter,
             vcpu_matters: bool, across: frozenset[str] = frozenset(),
             beside: frozenset[str] = frozenset()) -> tuple[list[Demand], dict[str, tuple]]:
    demands, exclusions = [], {}
    for name, spec in sorted(stack.resources.items()):
        if not isinstance(spec, (Compute, Database)):
            continue
        hosts = capability.hosts(requirements_of(stack, name, across, beside))
        if isinstance(spec, Compute):
            options, excluded = compute_options(spec, hosts, index, vcpu_matters)
            demands.append(Demand(
                name, "compute", spec.count, options, spec.spread.min_clouds, spec.spread.min_regions,
                spec.spread.max_per_region, spec.spread.max_per_cloud, spec.near, tuple(spec.apart),
            ))
        else:
            options, excluded = database_options(spec, hosts, catalog)
            demands.append(Demand(name, "database", 1, options, near=spec.near, counts_against_quota=False))
        exclusions[name] = hosts.excluded + excluded
    return demands, exclusions


def _solve(problem: Problem, gap: float | None = None) -> Solution | None:
    """Solve each group of linked demands on its own; exact, since nothing else couples them (``gap``: a
    placement that near its bound will do, ``milp.solve``).

    Demands are linked by near / apart and by a vCPU quota both could count against (``milp.components``).
    A quota that cannot bind -- every demand using its largest option under it still fits -- links nothing
    and is dropped. An in-model budget (non-cost objectives) couples every demand: one MILP then.
    """
    if problem.budget_in_model:
        return _limited(problem, milp.solve(problem, gap), gap)
    quotas = _binding(problem)
    current = replace(problem, quotas=quotas)
    assignment, monthly, bound, stopped, cut_short = {}, 0.0, 0.0, set(), False
    for group, keys in milp.components(current):
        part = _solve_part(_part(current, group, keys), gap)
        if part is None:
            return None
        assignment.update(part.assignment)
        bound += part.lower_bound_monthly_usd
        if part.stopped:
            stopped.add(part.stopped)
        cut_short |= part.cut_short
    monthly = sum(o.monthly_usd * n for chosen in assignment.values() for o, n in chosen)  # unrounded parts
    if problem.network is None:
        bound = min(bound, monthly)  # with a network the bound covers it too; plan_placement caps it at the bill
    return Solution(dict(sorted(assignment.items())), round(monthly, 2), round(bound, 4),
                    stopped="; ".join(sorted(stopped)) or None, cut_short=cut_short)


def _solve_part(part: Problem, gap: float | None = None) -> Solution | None:
    """One linked group: exactly (``milp``), or -- the whole bill priced, too large to search exactly --
    the cheapest placement, keeping every constraint, of the machines and what each replica pays of the
    network wherever the rest runs (its egress and NAT, its GBs at the price of the nearest path their
    target could take: ``per_replica_terms``), made cheaper by local moves (``improve``). Its lower bound
    is that solve's bound plus what the network must cost beyond it (``network_floor``), or the coupled
    floor or the model's LP relaxation where higher (the latter where the model is small enough to solve
    in seconds).

    The network's floors need no placement: they are worked out beside the machines' solve (``beside``).
    """
    if not milp.searched_locally(part):
        return _limited(part, milp.solve(part, gap), gap)
    with while_solving(lambda: (network_floor(part), coupled_floor(part))) as floors:
        # they only start the search, which moves 1-2% of the bill: they need not be proved optimal
        machines = _solve(replace(part, network=per_replica_terms(part)), milp.START_GAP)
        if machines is None:
            return None  # the same constraints (cross_cloud: forbid is never searched locally)
        network, coupled = floors.result()
    limit = Limit(deadline=time.monotonic() + LOCAL_SEARCH_SECONDS)
    assignment = improve(part, machines.assignment, limit)
    floor = max(machines.lower_bound_monthly_usd + network, coupled)
    local = Solution(dict(sorted(assignment.items())), round(_machines(assignment), 2), round(floor, 4),
                     stopped=f"local search{f' (stopped at {limit.reason})' if limit.reason else ''}, as a stack "
                             "this size is not searched exactly", cut_short=limit.reason is not None)
    if milp.replica_columns(part, above=milp.RELAXED_BOUND_COLUMNS) <= milp.RELAXED_BOUND_COLUMNS:
        relaxed = milp.relaxed_bound(part)
        if relaxed is not None and relaxed > floor:
            local = replace(local, lower_bound_monthly_usd=round(relaxed, 4))
    return local


def _refuse_beyond_limits(terms: NetworkTerms, solution: Solution, rates: NetworkRates) -> None:
    """A placement whose links end more VPN links on a site's gateway than its cloud lets it is refused, with
    the sites that break them. Local search keeps to the limits where it can, and the exact search solves
    again with them where its placement breaks one (``_limited``): this is a placement neither could bring
    within them."""
    over = beyond_limits(terms, solution.assignment)
    if over:
        site, links, _ = over[0]
        refusal = rates.vpn_gateways[site[1]].refusal(site, links, "no placement found keeps to what the VPN gateways "
                                                      "take: ", len(over) - 1)
        if solution.cut_short:
            # it may have run out of moves rather than of placements: say so
            refusal.hint = f"the search stopped short ({solution.stopped}); " + (refusal.hint or "")
        raise refusal


def _limited(problem: Problem, solution: Solution | None, gap: float | None) -> Solution | None:
    """The exact model leaves the VPN links each site's gateway takes out (it would need every link row, too
    many for all but small models): where its placement breaks one, it is solved again with them. Without
    a placement that keeps them, the first stands, and the planner refuses it naming the sites."""
    if solution is None or problem.network is None or not beyond_limits(problem.network, solution.assignment):
        return solution
    return milp.solve(problem, gap, gateway_limits=True) or solution


def _machines(assignment) -> float:
    return sum(o.monthly_usd * n for chosen in assignment.values() for o, n in chosen)


def _infeasible_part(problem: Problem) -> tuple[Problem, float]:
    """The linked groups that cannot be placed (analysing only them keeps a large stack's refusal fast),
    and what the groups that can be placed cost."""
    if problem.budget_in_model:
        return problem, 0.0
    quotas = _binding(problem)
    failing, fixed = [], 0.0
    current = replace(problem, quotas=quotas)
    for group, keys in milp.components(current):
        part = _part(current, group, keys)
        solution = _solve_part(part)
        if solution is None:
            failing.append(part)
        else:
            fixed += sum(o.monthly_usd * n for chosen in solution.assignment.values() for o, n in chosen)
    if not failing:
        return problem, 0.0
    merged_quotas = {k: v for p in failing for k, v in p.quotas.items()}
    return replace(problem, demands=tuple(d for p in failing for d in p.demands), quotas=merged_quotas,
                   budget_monthly_usd=None), fixed


def _part(problem: Problem, demands, quota_keys) -> Problem:
    """One linked group of ``problem``'s demands with the quotas they share (the budget is checked on the whole)."""
    return replace(problem, demands=tuple(demands), quotas={k: problem.quotas[k] for k in quota_keys},
                   budget_monthly_usd=None)


def _binding(problem: Problem) -> dict[str, float]:
    """The quotas that can bind: those some placement could exceed, every demand on its largest option under
    the quota. The largest option per location is worked out once per option set (resources with the same
    requirements share theirs), and per quota once per option set too."""
    most_at: dict[int, dict[tuple[str, str], float]] = {}
    most: dict[tuple[int, str], float] = {}
    out = {}
    for key, limit in problem.quotas.items():
        total = 0.0
        for d in problem.demands:
            if not d.counts_against_quota:
                continue
            options = id(d.options)
            if (options, key) not in most:
                if options not in most_at:
                    at: dict[tuple[str, str], float] = {}
                    for o in d.options:
                        if o.vcpus > at.get(o.location, -1.0):
                            at[o.location] = o.vcpus
                    most_at[options] = at
                most[(options, key)] = max((v for (cloud, region), v in most_at[options].items()
                                            if quota_covers(key, cloud, region)), default=0.0)
            total += d.count * most[(options, key)]
        if total > limit:
            out[key] = limit
    return out


def _to_placement(name: str, kind: str, chosen: tuple[tuple[Option, int], ...]) -> ResourcePlacement:
    slots = tuple(
        Slot(cloud=o.cloud, region=o.region, instance_type=o.instance_type, spot=o.spot, count=n, vcpus=o.vcpus,
             memory_gib=o.memory_gib, zones=o.zones, accelerator=o.accelerator, accelerator_count=o.accelerator_count,
             hourly_usd=round(o.hourly_usd * n, 6), monthly_usd=round(o.hourly_usd * n * HOURS_PER_MONTH, 2),
             availability=o.availability)
        for o, n in sorted(chosen, key=lambda c: (c[0].cloud, c[0].region, c[0].instance_type, c[0].spot))
    )
    return ResourcePlacement(resource=name, kind=kind, slots=slots)


def _no_options(stack: Stack, name: str, exclusions: list) -> InfeasiblePlacement:
    reasons = Counter(e.reason for e in exclusions)
    # what ruled out the regions the stack allows says more than the list of regions it never allowed
    inside = [e for e in exclusions if e.reason not in ("geo", "region", "cloud")]
    shown = inside or exclusions
    by_detail: dict[str, list[str]] = {}
    for e in shown:
        by_detail.setdefault(e.detail, []).append(f"{e.cloud}/{e.region}" if e.region else e.cloud)
    detail = "; ".join(f"{d} ({', '.join(sorted(w)[:4])}{', ...' if len(w) > 4 else ''})"
                       for d, w in sorted(by_detail.items())[:4])
    conflicts = [f"resources.{name}"]
    block = stack.placement
    if reasons.get("geo"):
        conflicts.append(f"placement.geo {block.geo}")
    if reasons.get("region"):
        conflicts.append("placement.regions/exclude_regions")
    if reasons.get("arch"):
        conflicts.append(f"resources.{name}.arch")
    if shown and all(e.reason == "capability" for e in shown):
        # no machine size is at fault: the clouds allowed lack something the resource asks for
        hint = ("the reason given says what the resource asks that those clouds cannot give there: change that, "
                "or widen placement.clouds / geo / regions to a cloud that can")
    else:
        hint = ("relax the resource's requirements (cpu, memory_gb, arch, accelerator) or widen "
                "placement.clouds / geo / regions")
    return InfeasiblePlacement(f"no offering can host {name!r}: {detail or 'no candidate region'}",
                               conflicts=conflicts, hint=hint)


def _over_budget(stack: Stack, problem: Problem, total: float, budget: float, bucket_cost: float) -> OverBudget:
    cheapest = total
    if problem.objective != "cost":
        cheap = _solve(replace(problem, objective="cost", budget_monthly_usd=None))
        cheapest = (cheap.monthly_usd if cheap else total) + bucket_cost
    return OverBudget(
        f"the placement costs ${total:,.2f}/month, over the budget of ${budget:,.2f}/month",
        monthly_usd=round(total, 2), budget_usd=budget,
        hint=f"the cheapest feasible placement costs ${cheapest:,.2f}/month; raise budget.monthly_usd "
             "or reduce counts / sizes",
    )
