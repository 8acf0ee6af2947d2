"""The placement MILP (the model is quoted in ``problem``, built by ``formulation``) solved exactly by HiGHS.

Columns no optimal placement needs are left out first (``presolve``); large models are solved through the
LP's reduced costs (``_run``); groups of demands nothing couples are found by ``components`` and solved on
their own by the planner.
"""

from __future__ import annotations

import math
import os
import threading
from collections import defaultdict
from dataclasses import replace

from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement.beside import solver_starts
from cloudorch.placement.formulation import Builder, Formulation, build, to_highs
from cloudorch.placement.presolve import useful_options
from cloudorch.placement.problem import CROSS_CLOUD_GROUP, Demand, Problem, Solution

_banner_silenced = False
#: fd 1 is the process's: two plans on two threads (a workflow) silencing it at once could each save the
#: other's /dev/null as "stdout" and leave it there for good
_banner_lock = threading.Lock()


def _highs():
    """A quiet HiGHS instance. Its first construction prints a banner to fd 1, which would corrupt
    ``--format json`` output, so that one construction runs with stdout pointed at /dev/null."""
    global _banner_silenced
    import highspy

    h = None
    if not _banner_silenced:
        with _banner_lock:
            if not _banner_silenced:
                saved = os.dup(1)
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, 1)
                    h = highspy.Highs()
                finally:
                    os.dup2(saved, 1)
                    os.close(saved)
                    os.close(devnull)
                _banner_silenced = True
    if h is None:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 1e-7)
    h.setOptionValue("random_seed", 0)
    return h


class SearchTimeout(InfeasiblePlacement):
    """No placement found within the search's time limit: the stack may well be feasible (exit 5, as for
    an infeasible one, since in both cases there is no plan)."""


class Stopped(Exception):
    """The search hit its limits before finding any placement of its own."""


class Limits:
    """How long one placement may search when the network's terms are priced, and what stopped it.

    Placement with the whole bill is a hard combinatorial problem (co-locating the two ends of every flow):
    a large stack may not be proved optimal in any reasonable time (benchmarks/README.md, "Network"). The
    search then stops after ``nodes`` branch-and-bound nodes or ``seconds``, whichever comes first; the
    best placement found (never worse than the start: the cheapest machines that keep every constraint) is
    used and its proven lower bound reported, so the gap is never hidden (``stopped`` says why, and the plan
    shows it). A stop on time depends on the machine's speed: the plan is then the same for the same inputs
    only on the same machine, which the plan says. Small stacks -- every example -- are proved optimal
    long before either limit."""

    def __init__(self, nodes: int | None = 2000, seconds: float = 20.0) -> None:
        import time

        self.nodes = nodes
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.stopped: str | None = None

    def apply(self, h) -> None:
        import time

        if self.nodes is not None:
            h.setOptionValue("mip_max_nodes", self.nodes)
        h.setOptionValue("time_limit", max(0.01, self.deadline - time.monotonic()))


#: the machines alone (no priced network) solve in seconds even at 1,000 resources; this ceiling only
#: guarantees that no plan hangs on an input nobody measured
UNPRICED_SECONDS = 300.0


def _solve_model(lp, relax: bool, upper=None, start=None, limits: Limits | None = None, gap: float | None = None):
    """Solve; returns (column values, objective, dual bound, reduced costs) or None when infeasible.

    ``start``: a feasible placement to begin from (HiGHS then only has to prove nothing beats it).
    ``limits``: stop early with the best placement found (``limits.stopped`` says why).
    ``gap``: stop once the placement is within this relative gap of the proved bound."""
    import highspy

    integrality = lp.integrality_
    if relax:
        lp.integrality_ = []
    if upper is not None:
        saved, lp.col_upper_ = lp.col_upper_, upper
    h = _highs()
    if limits is not None and not relax:
        limits.apply(h)
    if gap is not None:
        h.setOptionValue("mip_rel_gap", gap)
    if relax:
        # HiGHS' presolve barely shrinks a placement LP and took 0.6 of its 1.1 s at 1,000 resources; the
        # simplex on the model as built needs ~6% more iterations and half the time
        h.setOptionValue("presolve", "off")
    h.passModel(lp)
    if upper is not None:
        lp.col_upper_ = saved
    lp.integrality_ = integrality
    if start is not None and any(v != v for v in start):  # NaN: a partial start HiGHS completes itself
        import numpy as np

        known = [i for i, v in enumerate(start) if v == v]
        h.setSolution(len(known), np.array(known, dtype=np.int32), np.array([start[i] for i in known], dtype=float))
    elif start is not None:
        incumbent = highspy.HighsSolution()
        incumbent.col_value = list(start)
        incumbent.value_valid = True
        h.setSolution(incumbent)
    solver_starts()
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if status != highspy.HighsModelStatus.kOptimal:
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        if limits is None:
            raise RuntimeError(f"HiGHS stopped with status {h.modelStatusToString(status)}")
        if info.primal_solution_status != 2:  # 2: a feasible solution is at hand
            raise Stopped(h.modelStatusToString(status))
        limits.stopped = ("the time limit" if status == highspy.HighsModelStatus.kTimeLimit
                          else f"{limits.nodes:,} search nodes")
    solution = h.getSolution()
    values = list(solution.col_value)
    if start is not None and abs(sum(c * v for c, v in zip(lp.col_cost_, values)) - info.objective_function_value) \
            > 1e-6 * max(1.0, abs(info.objective_function_value)):
        # HiGHS (1.x) can report the optimum it found while handing back the start's values: solve cold
        return _solve_model(lp, relax, upper, limits=limits, gap=gap)
    bound = info.objective_function_value if relax else info.mip_dual_bound
    return values, info.objective_function_value, bound, (solution.col_dual if relax else None)


#: up to this many (flow, pair of locations) link rows the model is built whole; above, the rows are lazy
EAGER_LINK_PAIRS = 20_000
#: above this many columns, solve through the LP relaxation's reduced costs (see ``_run``)
GUIDED_COLUMNS = 20_000
#: a restricted placement this close to the LP bound (relative) is returned with that bound: step 3 could
#: find at most this much cheaper, and proving it costs the 1,000-resource bench ~2 s of its ~6 (1e-5: a
#: hundredth of the 0.1% gap the plan promises; $1.77 above a $1,261,365 bound there)
PROVED_ENOUGH = 1e-5
#: how near its bound a placement that only starts local search must be (HiGHS' default MIP gap): the
#: search then moves 2% of the bill, and proving the machines' last 0.01% took the 1,000-resource bench ~0.8 s
START_GAP = 1e-4


def _run(b: Builder, relax: bool = False, start=None, limits: Limits | None = None, gap: float | None = None):
    """Solve; returns (column values, objective, dual bound) or None when infeasible.

    A large MILP is solved exactly in three steps rather than handed to HiGHS whole (whose presolve and
    heuristics on ~10^5 columns take tens of seconds): (1) the LP relaxation gives a lower bound LB and
    reduced costs rc; (2) the MILP restricted to columns with rc ~ 0 gives a feasible placement, cost UB
    (the restriction only fixes columns at zero); (3) a column with rc > UB - LB cannot appear in any
    placement cheaper than UB -- forcing it to 1 raises the LP bound by rc -- so the MILP over the columns
    with rc <= UB - LB has the same optimum as the whole one. Placement LPs are tight, so step 3 is small;
    it is skipped when UB is within ``PROVED_ENOUGH`` of LB (the plan then reports LB as its bound). Step 2
    is searched only to half that of its own bound (which is LB or a little above), not to the optimum:
    proving its last $1 took the 1,000-resource bench 0.75 of its 1.35 s.
    ``start``: a feasible placement; UB is the cheaper of it and step 2's.
    ``gap``: a placement within this relative gap of its bound will do (``START_GAP``); None: the optimum.
    """
    import numpy as np

    lp = to_highs(b)
    if relax or len(b.cost) <= GUIDED_COLUMNS:
        result = _solve_model(lp, relax, start=start, limits=limits, gap=gap)
        if result is not None and not relax and limits is not None and limits.stopped and not result[2] > -float("inf"):
            # stopped before the search proved any bound: the LP relaxation is one
            relaxed = _solve_model(lp, relax=True)
            return result[0], result[1], relaxed[1] if relaxed is not None else -float("inf")
        return None if result is None else result[:3]
    relaxed = _solve_model(lp, relax=True)
    if relaxed is None:
        return None
    lower, rc = relaxed[1], np.asarray(relaxed[3])
    upper = np.asarray(lp.col_upper_)
    slack = 1e-9 * max(1.0, abs(lower))
    while True:
        restricted = _solve_model(lp, relax=False, upper=np.where(rc > slack, 0.0, upper), limits=limits,
                                  gap=PROVED_ENOUGH / 2 if gap is None else gap)
        if start is not None and not np.isnan(start).any():
            known = float(np.dot(lp.col_cost_, start))
            if restricted is None or known < restricted[1]:
                restricted = (list(start), known)
        if restricted is not None:
            above = restricted[1] - lower
            if above <= max(slack, max(gap or 0.0, PROVED_ENOUGH) * abs(lower)):
                return restricted[0], restricted[1], lower
            final = _solve_model(lp, relax=False, upper=np.where(rc > above + 1e-9 * max(1.0, abs(lower)), 0.0, upper),
                                 start=restricted[0], limits=limits, gap=gap)
            assert final is not None  # it contains the restricted problem's solution
            # stopped early, the restricted search's bound is no bound of the whole: the LP's is
            return (final[0], final[1], lower) if limits is not None and limits.stopped else final[:3]
        if slack > float(np.max(rc, initial=0.0)):
            return None  # nothing was fixed and still infeasible
        slack = max(slack * 100, 1e-3 * max(1.0, abs(lower)) / max(1, lp.num_col_) ** 0.5)


#: a priced model with more resources than this, or more replica columns, is placed by local search
LOCAL_SEARCH_RESOURCES = 10
LOCAL_SEARCH_COLUMNS = 5_000
#: up to this many, a locally searched model's LP relaxation is solved for its bound (seconds, not minutes)
RELAXED_BOUND_COLUMNS = 20_000


def replica_columns(problem: Problem, above: int | None = None) -> int:
    """How many replica columns the model of ``problem`` would have (its size, before it is built); with
    ``above``, at least ``above + 1`` when it is sure to have more -- a demand whose location matters keeps
    one of its options in each location it has any, so counting those locations can settle it without
    pruning a thousand demands' options."""
    linked = problem.location_linked()
    if above is not None:
        least = sum(len({o.location for o in d.options}) if d.name in linked else min(1, len(d.options))
                    for d in problem.demands)
        if least > above:
            return least
    return sum(len(useful_options(d, problem, d.name in linked)) for d in problem.demands)


def searched_locally(problem: Problem) -> bool:
    """Whether the planner improves a feasible placement by local moves rather than searching this model:
    the whole bill priced with terms that couple resources (the hard, quadratic-assignment-like part), for
    more than ``LOCAL_SEARCH_RESOURCES`` resources or ``LOCAL_SEARCH_COLUMNS`` replica columns. Measured
    (benchmarks/README.md, "Network"): from 15 resources with flows, branch and bound neither proves nor
    finds in its 20 s a placement as cheap as local search does in a few seconds (40 resources on the
    embedded catalog: $20,689 after 33 s against $18,305 in 3 s); the examples (2-3 coupled resources) are
    proved optimal in well under a second. The cost objective only (the others' second phase is bounded by
    the first's optimum), and not under ``cross_cloud: forbid``, whose rows the moves would have to keep."""
    net = problem.network
    if problem.objective != "cost" or net is None or not net.couples:
        return False
    if net.cross_cloud_forbidden and problem.enabled(CROSS_CLOUD_GROUP):
        return False
    return len(problem.demands) > LOCAL_SEARCH_RESOURCES or replica_columns(problem) > LOCAL_SEARCH_COLUMNS


def solve(problem: Problem, gap: float | None = None, gateway_limits: bool = False) -> Solution | None:
    """The optimal placement of every demand, or None when the constraints cannot all be met; with ``gap``,
    a placement within that relative gap of the bound it reports; with ``gateway_limits``, keeping the VPN
    links each site's gateway takes (``Formulation.gateway_limits``: a small model only)."""
    objective = problem.objective
    min_availability = None
    if objective == "availability":
        # lexicographic: the most available placement first, then the cheapest among those
        first = _run(build(problem, gateway_limits=gateway_limits).b)
        if first is None:
            return None
        min_availability = -first[1] - 1e-6
        objective = "cost"
    f = build(problem, objective, min_availability, lazy_links=True, gateway_limits=gateway_limits)
    if f.link_pairs() <= EAGER_LINK_PAIRS:
        f.all_links()
    priced = f._priced() and problem.network.couples
    limits = Limits() if priced else Limits(nodes=None, seconds=UNPRICED_SECONDS)
    # a start helps HiGHS on a large model; a small one is proved optimal long before the limits, and its
    # start is worked out only if the search stops with nothing of its own
    large = priced and len(f.b.cost) > GUIDED_COLUMNS
    start, fallback = _start(problem, f) if large else (None, None)
    try:
        result = _solve_lazily(f, start, limits, gap)
    except Stopped:
        if not priced:
            raise SearchTimeout(
                f"the placement search found no placement within its {limits.seconds:.0f} s limit "
                f"({len(problem.demands)} resources, {len(f.b.cost):,} columns)",
                conflicts=[], hint="split the stack, or relax its spread rules and quotas, so it places faster") \
                from None
        if fallback is None:
            _, fallback = _start(problem, f)
        if fallback is None:
            raise
        # nothing better found in time: the start (the cheapest machines keeping every constraint) it is,
        # bounded by the LP relaxation of the model without link rows (a relaxation of the whole model)
        relaxed = _run(f.b, relax=True)
        limits.stopped = "the time limit, before improving on the start"
        return Solution(fallback.assignment, fallback.monthly_usd,
                        relaxed[1] if relaxed is not None else -float("inf"), stopped=limits.stopped)
    if result is None:
        return None
    return _finish(problem, f, result, objective, limits)


def _solve_lazily(f: Formulation, start, limits: Limits | None, gap: float | None = None):
    """Solve, adding the link rows the placement breaks, until it breaks none (then it is optimal for the
    whole model, and the bound proved on the smaller one bounds the whole)."""
    result = _run(f.b, start=start, limits=limits, gap=gap)
    while result is not None and f.violated_links(result[0]):
        # the last placement, with its new links paid, is feasible for the model with the new rows
        start = list(result[0]) + [0.0] * (len(f.b.cost) - len(result[0]))
        for (a, c), w in f.links.items():
            if w >= len(result[0]):
                start[w] = 1.0
        for end, g in f.gateways.items():
            if g >= len(result[0]) or start[g] < 1.0:
                start[g] = max(start[g], max((start[w] for (a, c), w in f.links.items() if end in (a, c)), default=0.0))
        f.tunnels_past_allowance(start)
        result = _run(f.b, start=start, limits=limits, gap=gap)
    return result


def _finish(problem: Problem, f: Formulation, result, objective: str, limits: Limits | None) -> Solution:
    values, _, bound = result
    xs = f.xs
    assignment = {}
    monthly = 0.0
    for name, cols in xs.items():
        chosen = []
        for c, o in cols:
            n = int(round(values[c]))
            if n > 0:
                chosen.append((o, n))
                monthly += o.monthly_usd * n
        assignment[name] = tuple(chosen)
    lower = bound if objective == "cost" and problem.objective == "cost" else monthly
    if problem.network is None:
        lower = min(lower, monthly)  # with a network, the bound covers it too: the planner caps it at the whole bill
    # rounded down: a thousand linked groups' bounds are added up, and each must stay a bound
    return Solution(assignment=assignment, monthly_usd=round(monthly, 2), lower_bound_monthly_usd=_down(lower),
                    stopped=limits.stopped if limits is not None else None)


def _start(problem: Problem, f: Formulation) -> tuple[list[float] | None, Solution | None]:
    """A feasible placement to start the priced search from, so it always has one: the same problem with the
    network's prices set to nothing (its constraints kept), solved fast, its replicas and region indicators
    set in ``f``'s columns; HiGHS completes the rest of the start itself (sparse start)."""
    from dataclasses import replace as copy

    net = problem.network
    # per-GB prices and per-replica extras stay: they decide which regions presolve keeps, so the start's
    # columns are the priced model's
    free = copy(net, site={}, vpn_site={}, vpn_link_side={}, vpn_tunnel={}, tunnel_allowance={},
                flows=tuple(copy(flow, gb_month=0.0) for flow in net.flows))
    found = solve(copy(problem, network=free, objective="cost"))
    if found is None:
        return None, None
    chosen = {(name, o.location, o.instance_type, o.spot): n for name, picks in found.assignment.items()
              for o, n in picks}
    values = [float("nan")] * len(f.b.cost)
    for name, cols in f.xs.items():
        for c, o in cols:
            values[c] = float(chosen.get((name, o.location, o.instance_type, o.spot), 0))
    for name, zs in f.region_vars.items():
        used = {o.location for c, o in f.xs.get(name, ()) if values[c] > 0}
        for location, zv in zs.items():
            values[zv] = 1.0 if location in used else 0.0
    return values, found


def relaxed_bound(problem: Problem) -> float | None:
    """The LP relaxation of the whole-bill model (link rows included when few, else left out: still a
    relaxation), a lower bound on any placement's bill; None when even the relaxation is infeasible."""
    f = build(problem, lazy_links=True)
    if f.link_pairs() <= EAGER_LINK_PAIRS:
        f.all_links()
    result = _run(f.b, relax=True)
    return None if result is None else result[1]


def lp_bound(problem: Problem) -> float | None:
    """The LP relaxation's optimum under the cost objective: a lower bound on any placement's cost."""
    result = _run(build(replace(problem, objective="cost")).b, relax=True)
    return None if result is None else result[1]


def _down(usd: float) -> float:
    """``usd`` rounded down to a hundredth of a cent (a search stopped before proving any bound: -inf)."""
    return math.floor(round(usd * 10_000, 6)) / 10_000 if math.isfinite(usd) else usd


def components(problem: Problem) -> list[tuple[list[Demand], tuple[str, ...]]]:
    """Groups of demands that can be solved on their own, each with the vCPU quotas it must share.

    Demands are linked by near / apart and by a quota that both could count against through their useful
    options (an option that is useless to the optimum links nothing).
    """
    ties = problem.ties()
    touches: dict[str, set[str]] = defaultdict(set)
    if problem.quotas:
        linked = problem.location_linked()
        keys = problem.active_quotas()
        first: dict[str, str] = {}
        for d in problem.demands:
            if not d.counts_against_quota:
                continue
            masks = problem.quota_masks(keys)
            under = 0
            # a demand whose location matters keeps one of its options in every location it has any (the
            # pruning is per location), so its useful options cover the quotas all of them do
            options = d.options if d.name in linked else useful_options(d, problem, False)
            for location in {o.location for o in options}:
                under |= masks[location]
            for i, k in enumerate(keys):
                if under >> i & 1:
                    touches[d.name].add(k)
                    if k in first:
                        ties.union(d.name, first[k])
                    else:
                        first[k] = d.name
    groups: dict[str, list[Demand]] = defaultdict(list)
    for d in problem.demands:
        groups[ties.find(d.name)].append(d)
    return [
        (groups[k], tuple(sorted(set().union(*(touches[d.name] for d in groups[k])))))
        for k in sorted(groups)
    ]
