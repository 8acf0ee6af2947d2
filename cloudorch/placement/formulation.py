"""The placement model as rows and columns (quoted in ``problem``'s docstring): one method per family of
constraints (``Formulation``), collected by a ``Builder`` and handed to HiGHS as a matrix (``to_highs``).
``milp`` solves it.
"""

from __future__ import annotations

from collections import defaultdict

from cloudorch.placement.presolve import dominated_regions, useful_options
from cloudorch.placement.problem import (
    BUDGET_GROUP,
    CROSS_CLOUD_GROUP,
    Demand,
    Option,
    Problem,
    apart_group,
    near_group,
    spread_group,
)


class Builder:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[list[int], list[float], float, float]] = []

    def var(self, cost: float, upper: float, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, idx: list[int], val: list[float], lo: float, hi: float) -> None:
        if idx:
            self.rows.append((idx, val, lo, hi))


def build(problem: Problem, objective: str | None = None, min_availability: float | None = None,
           lazy_links: bool = False, gateway_limits: bool = False):
    """The model of ``problem`` (under ``objective`` if given); returns the formulation (its builder ``b``,
    each demand's columns ``xs``). ``lazy_links``: without the link rows, which ``violated_links`` adds;
    ``gateway_limits``: with the VPN links each site's gateway takes (every link row, then)."""
    f = Formulation(problem, objective or problem.objective, lazy_links)
    f.replicas()
    f.location_ties()
    f.quotas()
    f.budget()
    f.network()
    f.nat_rebates()
    f.blocks()
    if gateway_limits:
        f.gateway_limits()
    if min_availability is not None:  # the second solve of the availability objective
        f.b.row(*f.total(lambda o: o.availability), min_availability, float("inf"))
    return f


class Formulation:
    """Rows and columns of the model, one method per family of constraints (see ``problem``'s docstring).

    The objective is each replica column's ``Problem.replica_cost``; terms over other variables (fixed costs
    per location, links) would be added by their own method here, as columns on the region indicators.
    """

    def __init__(self, problem: Problem, objective: str, lazy_links: bool = False) -> None:
        self.problem = problem
        self.objective = objective
        self.b = Builder()
        #: demand -> its replica columns x[r,o]
        self.xs: dict[str, list[tuple[int, Option]]] = {}
        #: demand -> region -> z[r,g], for demands whose region matters
        self.region_vars: dict[str, dict[tuple[str, str], int]] = {}
        #: link rows are added only when a placement needs them (``violated_links``)
        self.lazy_links = lazy_links
        self.link_flows: list[tuple[str, str, dict, dict]] = []
        self.link_rows: set[tuple[int, int]] = set()
        self.links: dict[tuple, int] = {}
        self.gateways: dict[tuple[str, str, str], int] = {}
        #: site -> t[a], the tunnels past its gateway's allowance, with its row's columns and coefficients (a
        #: link made later adds its own to them: ``_link``)
        self.tunnels: dict[tuple[str, str, str], tuple[int, list[int], list[float]]] = {}

    def total(self, value) -> tuple[list[int], list[float]]:
        """The row sum_{r,o} value(o) x[r,o] over every replica column, as (columns, coefficients)."""
        cols = [(c, o) for d in self.problem.demands for c, o in self.xs[d.name]]
        return [c for c, _ in cols], [value(o) for _, o in cols]

    def replicas(self) -> None:
        """x columns (only the useful ones), each demand's count, and its spread rules."""
        problem, b = self.problem, self.b
        linked = problem.location_linked()
        dropped = dominated_regions(problem, linked)
        # named by another demand's near/apart: its region matters (one pass, not one scan per demand)
        referenced = {d.near for d in problem.demands if d.near} | {t for d in problem.demands for t in d.apart}
        for d in problem.demands:
            ranked = useful_options(d, problem, d.name in linked)
            if dropped.get(d.name):
                ranked = [o for o in ranked if o.location not in dropped[d.name]]
            extra = self._replica_extra(d.name)
            cols = [(b.var(problem.replica_cost(o, i, self.objective) + extra.get(o.location, 0.0), d.count), o)
                    for i, o in enumerate(ranked)]
            self.xs[d.name] = cols
            b.row([c for c, _ in cols], [1.0] * len(cols), d.count, d.count)
            self._spread(d, cols, needs_region_vars=d.min_regions > 1 or bool(d.near) or bool(d.apart)
                         or d.name in referenced or problem.network_member(d.name) or problem.block_member(d.name))

    def _spread(self, d: Demand, cols: list[tuple[int, Option]], needs_region_vars: bool) -> None:
        b, active = self.b, self.problem.active(d)
        by_region: dict[tuple[str, str], list[int]] = defaultdict(list)
        by_cloud: dict[str, list[int]] = defaultdict(list)
        for c, o in cols:
            by_region[o.location].append(c)
            by_cloud[o.cloud].append(c)
        # the tightest cap on replicas per region / cloud doubles as the indicators' big-M: a weaker M
        # makes the LP relaxation loose and the branch-and-bound slow
        region_cap = d.max_per_region if spread_group(d.name, "max_per_region") in active else d.count
        cloud_cap = d.max_per_cloud if spread_group(d.name, "max_per_cloud") in active else d.count
        min_clouds = spread_group(d.name, "min_clouds") in active
        if region_cap < d.count and not needs_region_vars:
            for cs in by_region.values():
                b.row(cs, [1.0] * len(cs), 0, region_cap)
        if cloud_cap < d.count and not min_clouds:
            for cs in by_cloud.values():
                b.row(cs, [1.0] * len(cs), 0, cloud_cap)
        if min_clouds:
            ys = [_indicator(b, cs, cloud_cap) for _, cs in sorted(by_cloud.items())]
            b.row(ys, [1.0] * len(ys), d.min_clouds, len(ys) + d.min_clouds)
        if needs_region_vars:
            self.region_vars[d.name] = {g: _indicator(b, cs, region_cap) for g, cs in sorted(by_region.items())}
            if spread_group(d.name, "min_regions") in active:
                zs = list(self.region_vars[d.name].values())
                b.row(zs, [1.0] * len(zs), d.min_regions, len(zs) + d.min_regions)

    def _priced(self) -> bool:
        """Network terms enter the objective wherever it is a cost (not the availability objective's first phase)."""
        return self.problem.network is not None and self.objective != "availability"

    def _replica_extra(self, name: str) -> dict[tuple[str, str], float]:
        if not self._priced():
            return {}
        return dict(self.problem.network.replica_extra.get(name, {}))

    def network(self) -> None:
        """Sites, VPN gateways and links, traffic, and the cross-cloud rule (see ``problem``'s docstring)."""
        net = self.problem.network
        if net is None:
            return
        if net.cross_cloud_forbidden and self.problem.enabled(CROSS_CLOUD_GROUP):
            self._same_cloud(net)
        if not self._priced():
            return
        b, z = self.b, self.region_vars
        sites: dict[tuple[str, str, str], int] = {}
        for name, network in sorted(net.member_of.items()):
            for loc, zv in sorted(z.get(name, {}).items()):
                key = (network, *loc)
                if key not in sites:
                    sites[key] = b.var(net.site.get(loc[0], 0.0), 1.0, integer=False)
                b.row([sites[key], zv], [1.0, -1.0], 0.0, float("inf"))  # s >= z
        for name, fixed in sorted(net.location_fixed.items()):
            for loc, zv in sorted(z.get(name, {}).items()):
                if fixed.get(loc[0]):
                    served = b.var(fixed[loc[0]], 1.0, integer=False)
                    b.row([served, zv], [1.0, -1.0], 0.0, float("inf"))  # b >= z
        for f in net.flows:
            src_net, dst_net = net.member_of.get(f.source), net.member_of.get(f.target)
            if src_net is None or dst_net is None:
                continue
            if self.lazy_links:
                self.link_flows.append((src_net, dst_net, z.get(f.source, {}), z.get(f.target, {})))
            else:
                for ls, zv_s in sorted(z.get(f.source, {}).items()):
                    for lt, zv_t in sorted(z.get(f.target, {}).items()):
                        self._link_row((src_net, ls, zv_s), (dst_net, lt, zv_t))
        clouds_of: dict[str, dict[str, int]] = {}
        for f in net.flows:
            if f.gb_month > 0 and f.source in self.xs and f.target in self.xs:
                self._traffic(f, net, clouds_of)

    def nat_rebates(self) -> None:
        """A capped NAT per site (``NetworkTerms.nat_capped``): every VM's column carries the per-VM price, and a
        site whose network's NAT-using members could put more VMs there than the cap gets back the difference:
        e[n,l] <= M y[n,l], e[n,l] <= per_vm * sum x - beyond * y[n,l], sum x >= (cap + 1) y[n,l], y binary,
        e at -1 in the objective (M: the rebate of every such VM there). Exact: y = 1 only past the cap, and
        then the site pays ``beyond``; a site that can never pass the cap gets no columns."""
        net = self.problem.network
        if net is None or not net.nat_capped or not self._priced():
            return
        counts = {d.name: d.count for d in self.problem.demands}
        by_site: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        most: dict[tuple[str, str, str], int] = defaultdict(int)
        for name, network in sorted(net.nat_members.items()):
            locations = set()
            for c, o in self.xs.get(name, ()):
                if o.cloud in net.nat_capped:
                    by_site[(network, *o.location)].append(c)
                    locations.add(o.location)
            for loc in locations:
                most[(network, *loc)] += counts[name]
        b = self.b
        for site, cols in sorted(by_site.items()):
            nat = net.nat_capped[site[1]]
            if most[site] <= nat.up_to:
                continue
            ceiling = nat.rebate(most[site])
            e = b.var(-1.0, ceiling, integer=False)
            y = b.var(0.0, 1.0)
            b.row([e, y], [1.0, -ceiling], -float("inf"), 0.0)
            b.row([e, y, *cols], [1.0, nat.beyond] + [-nat.per_vm] * len(cols), -float("inf"), 0.0)
            b.row([y, *cols], [-(nat.up_to + 1.0)] + [1.0] * len(cols), 0.0, float("inf"))

    def blocks(self) -> None:
        """The blocks a stack network has left (``Problem.block_limits``): its members use at most ``free``
        locations outside the reserved ones, sum_l t[n,l] <= free with t[n,l] >= z[r,l] for each member r
        (t continuous: at most free of them can be pushed to 1 by binaries)."""
        b = self.b
        for limit in self.problem.block_limits:
            at: dict[tuple[str, str], list[int]] = defaultdict(list)
            for name in sorted(limit.members):
                for loc, zv in self.region_vars.get(name, {}).items():
                    if loc not in limit.left.reserved:
                        at[loc].append(zv)
            if len(at) <= limit.left.free:
                continue  # not enough other locations to break it
            used = []
            for _, zvs in sorted(at.items()):
                if len(zvs) == 1:
                    used.append(zvs[0])
                    continue
                t = b.var(0.0, 1.0, integer=False)
                for zv in zvs:
                    b.row([t, zv], [1.0, -1.0], 0.0, float("inf"))
                used.append(t)
            b.row(used, [1.0] * len(used), -float("inf"), max(0, limit.left.free))

    def gateway_limits(self) -> None:
        """Every link row, and for each site of a cloud that limits them, sum_b w[a,b] <= its limit: exact,
        since a link a placement uses has w = 1 and any other may sit at 0. Built for small models only (the
        exact search), so every row at once is cheap; priced or not (the availability objective's first
        solve counts links too)."""
        net = self.problem.network
        if net is None or not net.vpn_links:
            return
        z = self.region_vars
        for f in net.flows:
            src_net, dst_net = net.member_of.get(f.source), net.member_of.get(f.target)
            if src_net is None or dst_net is None:
                continue
            for ls, zv_s in sorted(z.get(f.source, {}).items()):
                for lt, zv_t in sorted(z.get(f.target, {}).items()):
                    if (zv_s, zv_t) not in self.link_rows and self._link_row((src_net, ls, zv_s), (dst_net, lt, zv_t)):
                        self.link_rows.add((zv_s, zv_t))
        at_site: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for (a, c), w in sorted(self.links.items()):
            at_site[a].append(w)
            at_site[c].append(w)
        for site, ws in sorted(at_site.items()):
            limit = net.vpn_links.get(site[1])
            if limit is not None and len(ws) > limit:
                self.b.row(ws, [1.0] * len(ws), -float("inf"), limit)

    def _link(self, a: tuple[str, str, str], c: tuple[str, str, str]) -> int:
        """w[a,c], the VPN link between two sites (a < c), with its gateway rows g >= w and, at a gateway that
        includes some tunnels, its tunnels in t[a]'s row; made when first needed (priced only where the
        objective is a cost)."""
        if (a, c) not in self.links:
            net, priced = self.problem.network, self._priced()
            self.links[(a, c)] = w = self.b.var(net.link(a[1], c[1]) if priced else 0.0, 1.0, integer=False)
            for end in (a, c):
                if end not in self.gateways:
                    self.gateways[end] = self.b.var(net.vpn_site.get(end[1], 0.0) if priced else 0.0, 1.0, integer=False)
                self.b.row([self.gateways[end], w], [1.0, -1.0], 0.0, float("inf"))  # g >= w
                allowance = net.tunnel_allowance.get(end[1]) if priced else None
                if allowance is not None:
                    if end not in self.tunnels:
                        # t - sum tunnels * w >= -included: the row's lists are the builder's, so the links
                        # made later at this gateway join it
                        t = self.b.var(allowance.beyond, float("inf"), integer=False)
                        self.tunnels[end] = (t, [t], [1.0])
                        self.b.row(self.tunnels[end][1], self.tunnels[end][2], -allowance.included, float("inf"))
                    _, columns, coefficients = self.tunnels[end]
                    columns.append(w)
                    coefficients.append(-float(net.link_tunnels(a[1], c[1])))
        return self.links[(a, c)]

    def tunnels_past_allowance(self, values: list[float]) -> None:
        """Set each t[a] in ``values`` (a start) to what its gateway's links there need: the least it may be."""
        net = self.problem.network
        for end, (t, columns, coefficients) in self.tunnels.items():
            needed = -sum(k * values[w] for w, k in zip(columns[1:], coefficients[1:], strict=True))
            values[t] = max(0.0, needed - net.tunnel_allowance[end[1]].included)

    def _link_row(self, source, target) -> bool:
        """w[a,b] >= z[r,la] + z[t,lb] - 1 for one flow r->t and one pair of its ends' locations in other clouds
        (``source``, ``target``: (network, location, z column)); False when the pair needs no link."""
        (src_net, ls, zv_s), (dst_net, lt, zv_t) = source, target
        if ls[0] == lt[0]:
            return False  # same cloud: a peering or one global network, no fixed price
        a, c = sorted(((src_net, *ls), (dst_net, *lt)))
        self.b.row([self._link(a, c), zv_s, zv_t], [1.0, -1.0, -1.0], -1.0, float("inf"))
        return True

    def all_links(self) -> int:
        """Every link row now (a small model solves faster whole than in rounds); how many were added."""
        added = 0
        for src_net, dst_net, zs, zt in self.link_flows:
            for ls, zv_s in zs.items():
                for lt, zv_t in zt.items():
                    if (zv_s, zv_t) not in self.link_rows and self._link_row((src_net, ls, zv_s), (dst_net, lt, zv_t)):
                        self.link_rows.add((zv_s, zv_t))
                        added += 1
        return added

    def link_pairs(self) -> int:
        return sum(len(zs) * len(zt) for _, _, zs, zt in self.link_flows)

    def violated_links(self, values) -> int:
        """Lazy link rows: add the rows ``w[a,b] >= z[r,la] + z[t,lb] - 1`` that the placement ``values``
        breaks (a flow whose ends sit at la and lb while no link joins them), and return how many.

        All the rows would be one per flow and pair of locations in other clouds -- ~5,000 per flow over
        ~80 regions, most of them about regions no optimum uses -- so the model starts without them and
        gets, round by round, those the current placement needs. A placement that breaks none is feasible for
        the whole model and optimal for a model with fewer rows: optimal for the whole one, and the bound
        proved on the smaller model bounds the whole one too."""
        added = 0
        for src_net, dst_net, zs, zt in self.link_flows:
            here = [(ls, zv) for ls, zv in zs.items() if values[zv] > 0.5]
            there = [(lt, zv) for lt, zv in zt.items() if values[zv] > 0.5]
            for ls, zv_s in here:
                for lt, zv_t in there:
                    if ls[0] == lt[0]:
                        continue
                    a, c = sorted(((src_net, *ls), (dst_net, *lt)))
                    w = self.links.get((a, c))
                    if w is None or w >= len(values) or values[w] < 0.5:
                        if (zv_s, zv_t) in self.link_rows:
                            continue  # already in the model: the solver set w from it
                        self.link_rows.add((zv_s, zv_t))
                        self._link_row((src_net, ls, zv_s), (dst_net, lt, zv_t))
                        added += 1
        return added

    def _cloud_vars(self, name: str, cache: dict[str, dict[str, int]]) -> dict[str, int]:
        """v[r,c] <= sum of r's region indicators in c: r uses cloud c (no more than its regions there say)."""
        if name not in cache:
            by_cloud: dict[str, list[int]] = defaultdict(list)
            for (cloud, _), zv in sorted(self.region_vars.get(name, {}).items()):
                by_cloud[cloud].append(zv)
            out = {}
            for cloud, zvs in sorted(by_cloud.items()):
                out[cloud] = v = self.b.var(0.0, 1.0, integer=False)
                self.b.row([v, *zvs], [1.0] + [-1.0] * len(zvs), -float("inf"), 0.0)
            cache[name] = out
        return cache[name]

    def _traffic(self, f, net, clouds_of: dict[str, dict[str, int]]) -> None:
        b = self.b
        demand = next(d for d in self.problem.demands if d.name == f.source)
        target_z = self.region_vars.get(f.target, {})
        target_clouds = self._cloud_vars(f.target, clouds_of)
        share = f.gb_month / demand.count
        by_location: dict[tuple[str, str], list[int]] = defaultdict(list)
        for c, o in self.xs[f.source]:
            by_location[o.location].append(c)
        for loc, cols in sorted(by_location.items()):
            local = b.var(net.per_gb.get((*loc, "same-region"), 0.0), f.gb_month, integer=False)
            cloud = b.var(net.per_gb.get((*loc, "same-cloud"), 0.0), f.gb_month, integer=False)
            cross = b.var(net.per_gb.get((*loc, "cross-cloud"), 0.0), f.gb_month, integer=False)
            # the GBs sent from here are the replicas here times each one's share
            b.row([local, cloud, cross, *cols], [1.0, 1.0, 1.0] + [-share] * len(cols), 0.0, 0.0)
            if loc in target_z:
                b.row([local, target_z[loc]], [1.0, -f.gb_month], -float("inf"), 0.0)
            else:
                b.row([local], [1.0], 0.0, 0.0)
            if loc[0] in target_clouds:
                b.row([local, cloud, target_clouds[loc[0]]], [1.0, 1.0, -f.gb_month], -float("inf"), 0.0)
            else:
                b.row([local, cloud], [1.0, 1.0], 0.0, 0.0)

    def _same_cloud(self, net) -> None:
        """placement.cross_cloud: forbid -- both ends of every flow in one cloud, the same for both."""
        b = self.b
        counts = {d.name: d.count for d in self.problem.demands}
        for f in net.flows:
            if f.source not in self.xs or f.target not in self.xs:
                continue
            clouds = sorted({o.cloud for n in (f.source, f.target) for _, o in self.xs[n]})
            us = {c: b.var(0.0, 1.0) for c in clouds}
            b.row(list(us.values()), [1.0] * len(us), 1.0, 1.0)
            for name in (f.source, f.target):
                for cloud, u in us.items():
                    cols = [c for c, o in self.xs[name] if o.cloud == cloud]
                    if cols:
                        b.row(cols + [u], [1.0] * len(cols) + [-float(counts[name])], -float("inf"), 0.0)

    def location_ties(self) -> None:
        """near: z[r,g] <= z[t,g]; apart: z[r,g] + z[t,g] <= 1."""
        problem, b, region_vars = self.problem, self.b, self.region_vars
        for d in problem.demands:
            mine = region_vars.get(d.name, {})
            if d.near and problem.enabled(near_group(d.name)) and d.near in region_vars:
                theirs = region_vars[d.near]
                for g, z in mine.items():
                    if g in theirs:
                        b.row([z, theirs[g]], [1.0, -1.0], -1.0, 0.0)
                    else:
                        b.row([z], [1.0], 0.0, 0.0)
            for t in d.apart:
                if problem.enabled(apart_group(d.name, t)) and t in region_vars:
                    for g, z in mine.items():
                        if g in region_vars[t]:
                            b.row([z, region_vars[t][g]], [1.0, 1.0], 0.0, 1.0)

    def quotas(self) -> None:
        problem = self.problem
        keys = problem.active_quotas()
        masks = problem.quota_masks(keys)
        counted = [d for d in problem.demands if d.counts_against_quota]
        for i, key in enumerate(keys):
            covered = [(c, o.vcpus) for d in counted for c, o in self.xs[d.name] if masks[o.location] >> i & 1]
            self.b.row([c for c, _ in covered], [v for _, v in covered], 0.0, problem.quotas[key])

    def budget(self) -> None:
        if self.problem.budget_in_model and self.problem.enabled(BUDGET_GROUP):
            self.b.row(*self.total(lambda o: o.monthly_usd), 0.0, self.problem.budget_monthly_usd)


def _indicator(b: Builder, cols: list[int], cap: int) -> int:
    """A binary that is 1 exactly when any of ``cols`` is positive; their sum is also capped at ``cap``."""
    v = b.var(0.0, 1.0)
    b.row(cols + [v], [1.0] * len(cols) + [-float(cap)], -float("inf"), 0.0)  # sum x <= cap * v
    b.row(cols + [v], [1.0] * len(cols) + [-1.0], 0.0, float("inf"))  # v <= sum x
    return v


def to_highs(b: Builder):
    """The builder's rows and columns as a HiGHS model (integer unless relaxed later)."""
    import highspy
    import numpy as np

    lp = highspy.HighsLp()
    lp.num_col_ = len(b.cost)
    lp.num_row_ = len(b.rows)
    lp.col_cost_ = np.array(b.cost, dtype=float)
    lp.col_lower_ = np.zeros(len(b.cost))
    lp.col_upper_ = np.array(b.upper, dtype=float)
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in b.integer]
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
