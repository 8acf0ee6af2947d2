"""The placement MILP, solved exactly with HiGHS.

Variables: x[r,o] = replicas of resource r on option o (integer); y[r,c] = "r uses cloud c" and
z[r,g] = "r uses region g" (binary), created only for resources whose constraints need them. Every
constraint belongs to a named group (``resources.web.spread.max_per_region``, ``quota.aws/eu-west-1``) so the
infeasibility analysis can switch groups off and relax them one at a time. Columns no optimal placement
needs are left out first (``presolve``); large models are solved through the LP's reduced costs (``_run``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from cloudorch.placement.candidates import Option
from cloudorch.placement.presolve import dominated_regions, location_linked, useful_options

#: balanced objective: each point of unavailability costs ten times its share of the price
BALANCED_PENALTY = 10.0


@dataclass(frozen=True)
class Demand:
    name: str
    kind: str
    count: int
    options: tuple[Option, ...]
    min_clouds: int = 1
    min_regions: int = 1
    max_per_region: int | None = None
    max_per_cloud: int | None = None
    near: str | None = None
    apart: tuple[str, ...] = ()
    counts_against_quota: bool = True


@dataclass(frozen=True)
class Problem:
    demands: tuple[Demand, ...]
    objective: str = "cost"
    #: "cloud" or "cloud/region" -> vCPU limit
    quotas: Mapping[str, float] = field(default_factory=dict)
    budget_monthly_usd: float | None = None
    #: constraint groups switched off (infeasibility analysis)
    disabled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Solution:
    assignment: dict[str, tuple[tuple[Option, int], ...]]
    monthly_usd: float
    lower_bound_monthly_usd: float


def groups_of(problem: Problem) -> list[str]:
    """Every constraint group the problem has, in a stable order."""
    out = []
    for d in problem.demands:
        base = f"resources.{d.name}"
        if d.min_clouds > 1:
            out.append(f"{base}.spread.min_clouds")
        if d.min_regions > 1:
            out.append(f"{base}.spread.min_regions")
        if d.max_per_region is not None and d.max_per_region < d.count:
            out.append(f"{base}.spread.max_per_region")
        if d.max_per_cloud is not None and d.max_per_cloud < d.count:
            out.append(f"{base}.spread.max_per_cloud")
        if d.near:
            out.append(f"{base}.near")
        out += [f"{base}.apart.{t}" for t in d.apart]
    out += [f"quota.{k}" for k in sorted(problem.quotas)]
    if problem.budget_monthly_usd is not None and problem.objective != "cost":
        out.append("budget.monthly_usd")
    return out


class _Builder:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[list[int], list[float], float, float]] = []

    def var(self, cost: float, upper: float) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(True)
        return len(self.cost) - 1

    def row(self, idx: list[int], val: list[float], lo: float, hi: float) -> None:
        if idx:
            self.rows.append((idx, val, lo, hi))


def _coefficient(o: Option, objective: str, rank: int) -> float:
    tie_break = rank * 1e-7  # deterministic preference among equal prices: the catalog's order
    if objective == "balanced":
        return o.monthly_usd * (1 + BALANCED_PENALTY * (1 - o.availability)) + tie_break
    return o.monthly_usd + tie_break


def _build(problem: Problem, objective_override: str | None = None, min_availability: float | None = None):
    b = _Builder()
    on = lambda group: group not in problem.disabled  # noqa: E731
    objective = objective_override or problem.objective
    xs: dict[str, list[tuple[int, Option]]] = {}
    region_vars: dict[str, dict[tuple[str, str], int]] = {}
    linked = location_linked(problem)
    dropped = dominated_regions(problem, linked)
    # named by another demand's near/apart: its region matters (one pass, not one scan per demand)
    referenced = {d.near for d in problem.demands if d.near} | {t for d in problem.demands for t in d.apart}
    for d in problem.demands:
        ranked = useful_options(d, problem, d.name in linked)
        if dropped.get(d.name):
            ranked = [o for o in ranked if o.location not in dropped[d.name]]
        cols = [
            (b.var(-o.availability if objective == "availability" else _coefficient(o, objective, i), d.count), o)
            for i, o in enumerate(ranked)
        ]
        xs[d.name] = cols
        b.row([c for c, _ in cols], [1.0] * len(cols), d.count, d.count)
        by_region: dict[tuple[str, str], list[int]] = defaultdict(list)
        by_cloud: dict[str, list[int]] = defaultdict(list)
        for c, o in cols:
            by_region[o.location].append(c)
            by_cloud[o.cloud].append(c)
        base = f"resources.{d.name}"
        # the tightest cap on replicas per region / cloud doubles as the indicators' big-M: a weaker M
        # makes the LP relaxation loose and the branch-and-bound slow
        region_cap = d.count
        if d.max_per_region is not None and on(f"{base}.spread.max_per_region"):
            region_cap = min(d.count, d.max_per_region)
        cloud_cap = d.count
        if d.max_per_cloud is not None and on(f"{base}.spread.max_per_cloud"):
            cloud_cap = min(d.count, d.max_per_cloud)
        needs_region_vars = d.min_regions > 1 or bool(d.near) or bool(d.apart) or d.name in referenced
        if region_cap < d.count and not needs_region_vars:
            for cs in by_region.values():
                b.row(cs, [1.0] * len(cs), 0, region_cap)
        if cloud_cap < d.count and not (d.min_clouds > 1 and on(f"{base}.spread.min_clouds")):
            for cs in by_cloud.values():
                b.row(cs, [1.0] * len(cs), 0, cloud_cap)
        if d.min_clouds > 1 and on(f"{base}.spread.min_clouds"):
            ys = [_indicator(b, cs, cloud_cap) for _, cs in sorted(by_cloud.items())]
            b.row(ys, [1.0] * len(ys), d.min_clouds, len(ys) + d.min_clouds)
        if needs_region_vars:
            region_vars[d.name] = {g: _indicator(b, cs, region_cap) for g, cs in sorted(by_region.items())}
            if d.min_regions > 1 and on(f"{base}.spread.min_regions"):
                zs = list(region_vars[d.name].values())
                b.row(zs, [1.0] * len(zs), d.min_regions, len(zs) + d.min_regions)
    for d in problem.demands:
        base = f"resources.{d.name}"
        mine = region_vars.get(d.name, {})
        if d.near and on(f"{base}.near") and d.near in region_vars:
            theirs = region_vars[d.near]
            for g, z in mine.items():
                if g in theirs:
                    b.row([z, theirs[g]], [1.0, -1.0], -1.0, 0.0)  # z[r,g] <= z[t,g]
                else:
                    b.row([z], [1.0], 0.0, 0.0)
        for t in d.apart:
            if on(f"{base}.apart.{t}") and t in region_vars:
                for g, z in mine.items():
                    if g in region_vars[t]:
                        b.row([z, region_vars[t][g]], [1.0, 1.0], 0.0, 1.0)
    for key, limit in sorted(problem.quotas.items()):
        if not on(f"quota.{key}"):
            continue
        cloud, _, region = key.partition("/")
        idx, val = [], []
        for d in problem.demands:
            if d.counts_against_quota:
                for c, o in xs[d.name]:
                    if o.cloud == cloud and (not region or o.region == region):
                        idx.append(c)
                        val.append(o.vcpus)
        b.row(idx, val, 0.0, limit)
    if problem.budget_monthly_usd is not None and problem.objective != "cost" and on("budget.monthly_usd"):
        cs = [(c, o) for cols in xs.values() for c, o in cols]
        b.row([c for c, _ in cs], [o.monthly_usd for _, o in cs], 0.0, problem.budget_monthly_usd)
    if min_availability is not None:
        cs = [(c, o) for cols in xs.values() for c, o in cols]
        b.row([c for c, _ in cs], [o.availability for _, o in cs], min_availability, float("inf"))
    return b, xs


def _indicator(b: _Builder, cols: list[int], cap: int) -> int:
    """A binary that is 1 exactly when any of ``cols`` is positive; their sum is also capped at ``cap``."""
    v = b.var(0.0, 1.0)
    b.row(cols + [v], [1.0] * len(cols) + [-float(cap)], -float("inf"), 0.0)  # sum x <= cap * v
    b.row(cols + [v], [1.0] * len(cols) + [-1.0], 0.0, float("inf"))  # v <= sum x
    return v


_banner_silenced = False


def _highs():
    """A quiet HiGHS instance. Its first construction prints a banner to fd 1, which would corrupt
    ``--format json`` output, so that one construction runs with stdout pointed at /dev/null."""
    global _banner_silenced
    import highspy

    if _banner_silenced:
        h = highspy.Highs()
    else:
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
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 1e-7)
    h.setOptionValue("random_seed", 0)
    return h


def _model(b: _Builder):
    """The builder's rows and columns as a HiGHS model (integer unless relaxed later)."""
    import highspy
    import numpy as np

    lp = highspy.HighsLp()
    lp.num_col_ = len(b.cost)
    lp.num_row_ = len(b.rows)
    lp.col_cost_ = np.array(b.cost, dtype=float)
    lp.col_lower_ = np.zeros(len(b.cost))
    lp.col_upper_ = np.array(b.upper, dtype=float)
    starts, index, value = [0], [], []
    lo, hi = [], []
    for idx, val, row_lo, row_hi in b.rows:
        index += idx
        value += val
        starts.append(len(index))
        lo.append(row_lo)
        hi.append(row_hi)
    lp.row_lower_ = np.array(lo, dtype=float)
    lp.row_upper_ = np.array(hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=float)
    return lp


def _solve_model(lp, relax: bool, upper=None, start=None):
    """Solve; returns (column values, objective, dual bound, reduced costs) or None when infeasible.

    ``start``: a feasible placement to begin from (HiGHS then only has to prove nothing beats it)."""
    import highspy

    lp.integrality_ = [] if relax else [highspy.HighsVarType.kInteger] * lp.num_col_
    if upper is not None:
        saved, lp.col_upper_ = lp.col_upper_, upper
    h = _highs()
    h.passModel(lp)
    if upper is not None:
        lp.col_upper_ = saved
    if start is not None:
        incumbent = highspy.HighsSolution()
        incumbent.col_value = list(start)
        incumbent.value_valid = True
        h.setSolution(incumbent)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        raise RuntimeError(f"HiGHS stopped with status {h.modelStatusToString(status)}")
    info = h.getInfo()
    solution = h.getSolution()
    bound = info.objective_function_value if relax else info.mip_dual_bound
    return list(solution.col_value), info.objective_function_value, bound, (solution.col_dual if relax else None)


#: above this many columns, solve through the LP relaxation's reduced costs (see ``_run``)
GUIDED_COLUMNS = 20_000


def _run(b: _Builder, relax: bool = False):
    """Solve; returns (column values, objective, dual bound) or None when infeasible.

    A large MILP is solved exactly in three steps rather than handed to HiGHS whole (whose presolve and
    heuristics on ~10^5 columns take tens of seconds): (1) the LP relaxation gives a lower bound LB and
    reduced costs rc; (2) the MILP restricted to columns with rc ~ 0 gives a feasible placement, cost UB
    (the restriction only fixes columns at zero); (3) a column with rc > UB - LB cannot appear in any
    placement cheaper than UB -- forcing it to 1 raises the LP bound by rc -- so the MILP over the columns
    with rc <= UB - LB has the same optimum as the whole one. Placement LPs are tight, so step 3 is small.
    """
    import numpy as np

    lp = _model(b)
    if relax or len(b.cost) <= GUIDED_COLUMNS:
        result = _solve_model(lp, relax)
        return None if result is None else result[:3]
    relaxed = _solve_model(lp, relax=True)
    if relaxed is None:
        return None
    lower, rc = relaxed[1], np.asarray(relaxed[3])
    upper = np.asarray(lp.col_upper_)
    slack = 1e-9 * max(1.0, abs(lower))
    while True:
        restricted = _solve_model(lp, relax=False, upper=np.where(rc > slack, 0.0, upper))
        if restricted is not None:
            gap = restricted[1] - lower
            if gap <= slack:
                return restricted[0], restricted[1], lower
            final = _solve_model(lp, relax=False, upper=np.where(rc > gap + 1e-9 * max(1.0, abs(lower)), 0.0, upper),
                                 start=restricted[0])
            assert final is not None  # it contains the restricted problem's solution
            return final[:3]
        if slack > float(np.max(rc, initial=0.0)):
            return None  # nothing was fixed and still infeasible
        slack = max(slack * 100, 1e-3 * max(1.0, abs(lower)) / max(1, lp.num_col_) ** 0.5)


def solve(problem: Problem) -> Solution | None:
    """The optimal placement of every demand, or None when the constraints cannot all be met."""
    objective = problem.objective
    min_availability = None
    if objective == "availability":
        # lexicographic: the most available placement first, then the cheapest among those
        b, _ = _build(problem)
        first = _run(b)
        if first is None:
            return None
        min_availability = -first[1] - 1e-6
        objective = "cost"
    b, xs = _build(problem, objective_override=objective, min_availability=min_availability)
    result = _run(b)
    if result is None:
        return None
    values, _, bound = result
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
    return Solution(assignment=assignment, monthly_usd=round(monthly, 2), lower_bound_monthly_usd=round(min(lower, monthly), 4))


def lp_bound(problem: Problem) -> float | None:
    """The LP relaxation's optimum under the cost objective: a lower bound on any placement's cost."""
    b, _ = _build(Problem(problem.demands, "cost", problem.quotas, problem.budget_monthly_usd, problem.disabled))
    result = _run(b, relax=True)
    return None if result is None else result[1]


def components(problem: Problem) -> list[tuple[list[Demand], tuple[str, ...]]]:
    """Groups of demands that can be solved on their own, each with the vCPU quotas it must share.

    Demands are linked by near / apart and by a quota that both could count against through their useful
    options (an option that is useless to the optimum links nothing).
    """
    demands = problem.demands
    parent = {d.name: d.name for d in demands}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for d in demands:
        for other in ([d.near] if d.near else []) + list(d.apart):
            if other in parent:
                parent[find(d.name)] = find(other)
    touches: dict[str, set[str]] = defaultdict(set)
    if problem.quotas:
        linked = location_linked(problem)
        keys = [(k, *k.partition("/")[::2]) for k in problem.quotas if f"quota.{k}" not in problem.disabled]
        first: dict[str, str] = {}
        for d in demands:
            if not d.counts_against_quota:
                continue
            for o in useful_options(d, problem, d.name in linked):
                for k, cloud, region in keys:
                    if o.cloud == cloud and (not region or o.region == region) and k not in touches[d.name]:
                        touches[d.name].add(k)
                        if k in first:
                            parent[find(d.name)] = find(first[k])
                        else:
                            first[k] = d.name
    groups: dict[str, list[Demand]] = defaultdict(list)
    for d in demands:
        groups[find(d.name)].append(d)
    return [
        (groups[k], tuple(sorted(set().union(*(touches[d.name] for d in groups[k])))))
        for k in sorted(groups)
    ]
