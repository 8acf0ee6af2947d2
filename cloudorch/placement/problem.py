"""The placement problem: what the optimiser is asked (``Problem``) and what it answers (``Solution``).

The model, over the resources r that are placed together (compute and databases) and each one's options o
(``Option``: an offering, or a managed database class, in one cloud and region):

  variables
    x[r,o] in 0..count_r   replicas of r on o (integer)
    y[r,c] in {0, 1}       r uses cloud c; only for r with spread.min_clouds > 1
    z[r,g] in {0, 1}       r uses region g; only for r whose region matters (min_regions, near, apart, or
                           named by another resource's near / apart)
    y and z are tied to x by  sum_{o in c} x[r,o] <= cap * y[r,c]  and  y[r,c] <= sum_{o in c} x[r,o]
    (cap: the tightest per-cloud / per-region limit, so the LP relaxation stays tight)

  constraints, each in a named group (``spread_group``, ``quota_group``, ...) that the infeasibility
  analysis can switch off and relax on its own:
    sum_o x[r,o] = count_r                                    always
    sum_{o in g} x[r,o] <= max_per_region_r for each region g  resources.<r>.spread.max_per_region
    sum_{o in c} x[r,o] <= max_per_cloud_r for each cloud c    resources.<r>.spread.max_per_cloud
    sum_c y[r,c] >= min_clouds_r                              resources.<r>.spread.min_clouds
    sum_g z[r,g] >= min_regions_r                             resources.<r>.spread.min_regions
    z[r,g] <= z[t,g] (t = near_r; z[r,g] = 0 where t has none) resources.<r>.near
    z[r,g] + z[t,g] <= 1 for each t in apart_r                 resources.<r>.apart.<t>
    sum vcpus_o x[r,o] over counted r, o covered by k <= k's limit   quota.<k>  (k: "cloud" or "cloud/region")
    sum monthly_o x[r,o] <= budget                            budget.monthly_usd (availability / balanced only;
                                                              under cost the planner checks the optimum instead)
    sum_l t[n,l] <= free_n, t[n,l] >= z[r,l] for each member r of stack network n and each location l outside
    the ones holding its blocks                               the blocks n has left (``block_limits``: only where
                                                              a placement without it takes more, ``blocks``)

  objective (``Problem.objective``; ``replica_cost`` is each x column's coefficient)
    cost          minimise sum monthly_o x[r,o]
    balanced      minimise sum monthly_o (1 + BALANCED_PENALTY (1 - availability_o)) x[r,o]
    availability  maximise sum availability_o x[r,o], then the cheapest placement at that availability
    under cost and balanced each column also carries rank * 1e-7 (its position in price order), so equal
    prices break the same way every run. Only the options some optimum may use become columns
    (``presolve``: dominated options and regions are left out, which leaves the optimum unchanged).

The whole bill (``Problem.network``, ``NetworkTerms``; prices from ``rates``), over every demand that is a
member of a stack network (those get region indicators z):

  variables (continuous in [0, 1] or >= 0: at an optimum they take the values of the binaries they bound)
    s[n,l]       network n has a site in location l        s[n,l] >= z[r,l] for each member r of n
    w[a,b]       a VPN link joins sites a, b (other clouds) w[a,b] >= z[r,la] + z[t,lb] - 1 for each flow r->t
    g[a]         site a has a VPN gateway                  g[a] >= w[a,b] for each link
    v[r,c]       demand r uses cloud c                     v[r,c] <= sum_{l in c} z[r,l]
    q[f,l,k]     GB a month of flow f sent from location l along path kind k (same region, same cloud,
                 across clouds):  sum_k q[f,l,k] = gb_f / count_r * sum_{o at l} x[r,o]
                 q[f,l,same-region] <= gb_f z[t,l];  q[f,l,same-region] + q[f,l,same-cloud] <= gb_f v[t,c(l)]
    b[r,l]       served r has a balancer in location l      b[r,l] >= z[r,l]
    t[a] >= 0    tunnels past what site a's gateway includes, on a cloud billing them so (Azure: the first
                 10 come with the gateway): t[a] >= sum_b tunnels(a,b) w[a,b] - included_c (``tunnels_per_link``)
  objective terms (cost and balanced objectives; the availability objective's cost phase)
    + site_c s[n,l] + vpn_site_c g[a] + (link_c(a) + link_c(b)) w[a,b] + beyond_c t[a] + sum rate[l,k] q[f,l,k]
    + fixed_{r,c} b[r,l] (the balancer, its WAF and DNS health check: ``location_fixed``)
    + per replica on o at l: its internet egress (egress_gb / count * rate[l]) and, on a cloud whose NAT is
      billed per VM, that VM's price (compute without a public address: the VMs the NAT serves)
    - e[n,l] where that NAT is capped (GCP Cloud NAT: per VM up to 32, flat beyond), for each site whose
      network could put more VMs there than the cap, with y[n,l] binary:
      e <= rebate(N) y,  e <= per_vm sum x - beyond y,  sum x >= (cap + 1) y   (sum over the site's VMs,
      N the most it could hold): a site past the cap pays the flat rate, exactly (``Formulation.nat_rebates``)
  constraint group placement.cross_cloud (when it is forbid): for each flow r->t and cloud c,
    u[f,c] binary, sum_c u[f,c] = 1, sum_{o in c} x[r,o] <= count_r u[f,c], the same for t.
  constraint group of the VPN links a site's gateway takes, only where the model's placement breaks one
    (``Formulation.gateway_limits``: every link row, then): sum_b w[a,b] <= limit_c(a). Local search keeps to
    them its own way (``improve``, ``shed``); every bound leaves them out, a relaxation, so it stays a bound.

A GB is charged where it is sent (the flow's source), at the cheapest path its target's locations allow:
the same region, else another region of the same cloud (priced within the source's continent), else across
clouds (internet egress: every cloud bills VPN traffic as internet egress). Site, gateway and link prices
are per cloud, so two regions of one cloud and continent are interchangeable for every network term, which
keeps ``presolve.dominated_regions`` exact when it swaps all of a network's members at once.

Above ``milp.LOCAL_SEARCH_RESOURCES`` resources or ``milp.LOCAL_SEARCH_COLUMNS`` replica columns this
whole-bill model is not built (branch and bound does not improve on local search there in useful time).
The model without the terms that couple resources is solved instead -- the machines, plus what each
replica pays wherever the rest runs: its egress and NAT, and each GB it sends at the price of the nearest
path its target could take (``floor.per_replica_terms``) -- and its placement is improved by local search
(``improve``). Its bound plus what sites, links and the spread rules' forced paths add beyond it
(``floor.network_floor``) bounds the whole bill (``planner._solve_part``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from cloudorch.placement.model import HOURS_PER_MONTH
from cloudorch.placement.rates import NatPerVm, TunnelAllowance, link_price, tunnels_per_link

#: balanced objective: each point of unavailability costs ten times its share of the price
BALANCED_PENALTY = 10.0
#: the spread rules a demand can carry, in the order their groups are listed
SPREAD_RULES = ("min_clouds", "min_regions", "max_per_region", "max_per_cloud")
BUDGET_GROUP = "budget.monthly_usd"


@dataclass(frozen=True, slots=True)
class Option:
    """One replica's worth of an offering (or a managed database class) in one region."""

    cloud: str
    region: str
    instance_type: str
    spot: bool
    vcpus: float
    memory_gib: float
    hourly_usd: float  # per replica
    availability: float
    zones: tuple[str, ...] = ()
    accelerator: str | None = None
    accelerator_count: int = 0
    #: the cloud's spot placement score (1-10) that lowered a spot option's availability; None: none known
    spot_score: int | None = None
    # worked out once: local search asks for them millions of times at 1,000 resources
    location: tuple[str, str] = field(init=False, repr=False, compare=False)
    sort_key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "location", (self.cloud, self.region))
        object.__setattr__(self, "sort_key", (self.hourly_usd, -self.availability, self.cloud, self.region,
                                              self.instance_type, self.spot))

    @property
    def monthly_usd(self) -> float:
        return self.hourly_usd * HOURS_PER_MONTH


# --- constraint-group names -------------------------------------------------------------------------------
# Users see these names (an infeasible stack names the groups that conflict), and they read like the stack
# file's field paths on purpose.

def spread_group(resource: str, rule: str) -> str:
    return f"resources.{resource}.spread.{rule}"


def near_group(resource: str) -> str:
    return f"resources.{resource}.near"


def apart_group(resource: str, other: str) -> str:
    return f"resources.{resource}.apart.{other}"


def quota_group(key: str) -> str:
    return f"quota.{key}"


class Group(NamedTuple):
    """A constraint-group name taken apart: kind is spread | near | apart | quota | budget."""

    kind: str
    resource: str | None = None
    #: spread: the rule (``max_per_region``); apart: the other resource; quota: the key
    detail: str | None = None


def parse_group(name: str) -> Group:
    if name == BUDGET_GROUP:
        return Group("budget")
    if name == CROSS_CLOUD_GROUP:
        return Group("cross_cloud")
    if name.startswith("quota."):
        return Group("quota", detail=name.split(".", 1)[1])
    _, resource, kind, *rest = name.split(".", 3)
    return Group(kind, resource, rest[0] if rest else None)


# --- vCPU quotas --------------------------------------------------------------------------------------------

def quota_covers(key: str, cloud: str, region: str) -> bool:
    """A vCPU quota key -- ``cloud`` or ``cloud/region`` -- covers every option in that cloud (and region)."""
    scope_cloud, _, scope_region = key.partition("/")
    return cloud == scope_cloud and (not scope_region or region == scope_region)


def vcpus_under(key: str, demands, assignment: Mapping[str, tuple]) -> float:
    """vCPUs ``assignment`` (name -> (option, replicas)...) uses under the quota ``key``, counting only the
    ``demands`` that count against quotas."""
    return sum(o.vcpus * n for d in demands if d.counts_against_quota
               for o, n in assignment.get(d.name, ()) if quota_covers(key, o.cloud, o.region))


def quota_mask(keys: tuple[str, ...], cloud: str, region: str) -> int:
    """Bit i is set when ``keys[i]`` covers the location: the quotas an option there counts against."""
    return sum(1 << i for i, key in enumerate(keys) if quota_covers(key, cloud, region))


class QuotaMasks(dict):
    """(cloud, region) -> ``quota_mask`` of ``keys``, each location worked out once."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__()
        self.keys = keys

    def __missing__(self, location: tuple[str, str]) -> int:
        mask = self[location] = quota_mask(self.keys, *location)
        return mask


# --- the problem ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Demand:
    """One stack resource to place: how many replicas, on which options, under which spread and ties."""

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
    #: facts derived from this demand under a problem's conditions (``presolve.useful_options``), kept with
    #: the demand so every problem built from it -- the whole stack, its linked groups, the infeasibility
    #: analysis' variants -- computes them once; ``dataclasses.replace`` starts a new demand with an empty one
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def groups(self) -> tuple[str, ...]:
        """The constraint groups that can bind this demand, in a stable order."""
        out = []
        for rule in SPREAD_RULES:
            value = getattr(self, rule)
            if value is not None and (value > 1 if rule.startswith("min_") else value < self.count):
                out.append(spread_group(self.name, rule))
        if self.near:
            out.append(near_group(self.name))
        return (*out, *(apart_group(self.name, t) for t in self.apart))

    @property
    def has_spread(self) -> bool:
        return any(parse_group(g).kind == "spread" for g in self.groups())


@dataclass(frozen=True)
class FlowTerm:
    """A declared flow as the model sees it: source and target demands, GB a month the source sends."""

    source: str
    target: str
    gb_month: float


@dataclass(frozen=True)
class NetworkTerms:
    """The network's part of the objective (see the module docstring); built by the planner."""

    #: demand -> the stack network it is a member of
    member_of: Mapping[str, str]
    flows: tuple[FlowTerm, ...]
    #: cloud -> monthly USD of a site, of a VPN site's gateway, of one side of one VPN link
    site: Mapping[str, float]
    vpn_site: Mapping[str, float]
    vpn_link_side: Mapping[str, float]
    #: (cloud, region, path kind) -> USD per GB sent
    per_gb: Mapping[tuple[str, str, str], float]
    #: demand -> USD a month per replica at each location it may use: egress to the internet, NAT per VM
    replica_extra: Mapping[str, Mapping[tuple[str, str], float]]
    #: the internet-egress part of ``replica_extra`` (the rest is NAT billed per VM)
    replica_egress: Mapping[str, Mapping[tuple[str, str], float]] = field(default_factory=dict)
    #: demand -> GB a month each replica sends to the internet (its share of ``egress_gb_month``): the volume
    #: the egress tiers are counted on (``rates.EgressTiers``)
    replica_egress_gb: Mapping[str, float] = field(default_factory=dict)
    #: demand -> cloud -> USD a month of each location it runs in (a served resource's balancer, its web
    #: firewall and DNS health check): the location's fixed cost, weighed against spreading
    location_fixed: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: the part of ``replica_extra`` that is a balancer's traffic (GBs processed, requests inspected)
    replica_serving: Mapping[str, Mapping[tuple[str, str], float]] = field(default_factory=dict)
    #: cloud -> what serving costs there whatever the placement (the stack's DNS zone), for the reported price
    stack_fixed: Mapping[str, float] = field(default_factory=dict)
    #: clouds whose one network spans regions: two regions of one network there need no link
    global_clouds: frozenset[str] = frozenset()
    cross_cloud_forbidden: bool = False
    #: cloud -> at most this many VPN links on one site's gateway there (local search keeps to it; the
    #: relaxations that give the bound leave it out, so the bound stays below every placement that keeps it)
    vpn_links: Mapping[str, int] = field(default_factory=dict)
    #: cloud -> its NAT's price by the VMs using it, where billed per VM with a cap (GCP Cloud NAT: per VM
    #: up to 32, flat beyond); ``replica_extra`` charges each VM the per-VM price, and a site of more VMs
    #: than the cap is rebated the difference (``NatPerVm.rebate``)
    nat_capped: Mapping[str, NatPerVm] = field(default_factory=dict)
    #: demand -> its network, for the demands whose replicas are VMs that use their site's NAT (compute
    #: without a public address): the VMs a site's NAT counts
    nat_members: Mapping[str, str] = field(default_factory=dict)
    #: cloud -> monthly USD of its side of one tunnel of a link, and its gateway's public addresses, which
    #: decide a link's tunnels (``rates.tunnels_per_link``)
    vpn_tunnel: Mapping[str, float] = field(default_factory=dict)
    vpn_interfaces: Mapping[str, int] = field(default_factory=dict)
    #: cloud -> the tunnels its VPN gateway's price includes and what each beyond costs: a site's gateway
    #: there is charged for its links' tunnels together, past the allowance (``gateway_tunnels``)
    tunnel_allowance: Mapping[str, TunnelAllowance] = field(default_factory=dict)

    def nat_rebate(self, site: tuple[str, str, str], vms: int) -> float:
        nat = self.nat_capped.get(site[1])
        return nat.rebate(vms) if nat is not None else 0.0

    def link(self, cloud_a: str, cloud_b: str) -> float:
        return link_price(self.vpn_link_side, self.vpn_tunnel, self.vpn_interfaces, cloud_a, cloud_b)

    def link_tunnels(self, cloud_a: str, cloud_b: str) -> int:
        """The tunnels a VPN link between gateways on these clouds has (each end's gateway holds them all)."""
        return tunnels_per_link(self.vpn_interfaces.get(cloud_a, 2), self.vpn_interfaces.get(cloud_b, 2))

    def gateway_tunnels(self, cloud: str, tunnels: int) -> float:
        """What ``tunnels`` ending on one site's gateway on ``cloud`` cost a month beyond the gateway itself."""
        allowance = self.tunnel_allowance.get(cloud)
        return allowance.monthly(tunnels) if allowance is not None else 0.0

    @property
    def couples(self) -> bool:
        """Whether any term ties one resource's location to another's (a site, a link, traffic): the hard
        part of the problem, searched within ``milp.Limits``."""
        return (any(self.site.values()) or any(self.vpn_site.values()) or any(self.vpn_link_side.values())
                or any(self.vpn_tunnel.values())
                or any(f.gb_month > 0 for f in self.flows) or any(any(v.values()) for v in self.location_fixed.values()))


CROSS_CLOUD_GROUP = "placement.cross_cloud"


@dataclass(frozen=True)
class BlocksLeft:
    """A stack network's address blocks as earlier plans left them (the network stage works this out from its
    allocation record): one block per location, ``blocks`` in all, those of ``reserved`` kept for ever."""

    cidr: str
    blocks: int
    #: the locations holding one of its blocks, used now or not
    reserved: frozenset[tuple[str, str]] = frozenset()

    @property
    def free(self) -> int:
        """How many more locations it has blocks for."""
        return self.blocks - len(self.reserved)


@dataclass(frozen=True)
class BlockLimit:
    """The members of one stack network use its reserved locations and at most ``left.free`` others."""

    network: str
    members: frozenset[str]
    left: BlocksLeft


@dataclass(frozen=True)
class Problem:
    demands: tuple[Demand, ...]
    objective: str = "cost"
    #: "cloud" or "cloud/region" -> vCPU limit
    quotas: Mapping[str, float] = field(default_factory=dict)
    budget_monthly_usd: float | None = None
    #: constraint groups switched off (infeasibility analysis)
    disabled: frozenset[str] = frozenset()
    #: the network's part of the bill; None: machines only
    network: NetworkTerms | None = None
    #: the address blocks each stack network has left, where a placement without this limit took more: not
    #: a group the infeasibility analysis relaxes (the planner keeps a placement that breaks it, which the
    #: network stage then refuses saying how to free blocks)
    block_limits: tuple[BlockLimit, ...] = ()
    #: what this problem derives more than once (quota masks); a new problem starts with an empty one
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def enabled(self, group: str) -> bool:
        return group not in self.disabled

    def active(self, d: Demand) -> frozenset[str]:
        """The groups of ``d`` that bind in this problem (present and not switched off)."""
        return frozenset(g for g in d.groups() if g not in self.disabled)

    @property
    def budget_in_model(self) -> bool:
        """The budget is a constraint only under the non-cost objectives (the cost optimum is checked instead)."""
        return self.budget_monthly_usd is not None and self.objective != "cost"

    def groups(self) -> list[str]:
        """Every constraint group the problem has, in a stable order."""
        out = [g for d in self.demands for g in d.groups()]
        out += [quota_group(k) for k in sorted(self.quotas)]
        if self.network is not None and self.network.cross_cloud_forbidden and self.network.flows:
            out.append(CROSS_CLOUD_GROUP)
        if self.budget_in_model:
            out.append(BUDGET_GROUP)
        return out

    def active_quotas(self) -> tuple[str, ...]:
        return tuple(sorted(k for k in self.quotas if self.enabled(quota_group(k))))

    def quota_masks(self, keys: tuple[str, ...]) -> QuotaMasks:
        """Per location, which of ``keys`` (a tuple from ``active_quotas``, or empty) cover it."""
        if ("quota_masks", keys) not in self.memo:
            self.memo[("quota_masks", keys)] = QuotaMasks(keys)
        return self.memo[("quota_masks", keys)]

    def location_linked(self) -> set[str]:
        """Demands that another demand's (enabled) `near` or `apart` names: their region matters to it."""
        return ({d.near for d in self.demands if d.near and self.enabled(near_group(d.name))}
                | {t for d in self.demands for t in d.apart if self.enabled(apart_group(d.name, t))}
                | ({d.name for d in self.demands if self.network_member(d.name) or self.block_member(d.name)}))

    def ties(self) -> DisjointSets:
        """Demands joined, directly or through others, by near / apart (enabled or not), and by the network:
        members of one stack network share its sites, and a flow joins its two ends."""
        sets = DisjointSets(d.name for d in self.demands)
        for d in self.demands:
            for other in ([d.near] if d.near else []) + list(d.apart):
                sets.union(d.name, other)
        if self.network is not None:
            first: dict[str, str] = {}
            for name, net in sorted(self.network.member_of.items()):
                sets.union(name, first.setdefault(net, name))
            for f in self.network.flows:
                sets.union(f.source, f.target)
        for limit in self.block_limits:  # the members of a network share its blocks
            present = [d.name for d in self.demands if d.name in limit.members]
            for name in present[1:]:
                sets.union(name, present[0])
        return sets

    def network_member(self, name: str) -> bool:
        """Whether the demand's locations carry network terms (its region matters to the objective)."""
        return self.network is not None and name in self.network.member_of

    def block_member(self, name: str) -> bool:
        """Whether the demand's locations count against its network's blocks (``block_limits``)."""
        return any(name in limit.members for limit in self.block_limits)

    def replica_cost(self, o: Option, rank: int, objective: str | None = None) -> float:
        """The objective coefficient of one replica on ``o``, the ``rank``-th option of its demand in price order."""
        objective = objective or self.objective
        if objective == "availability":
            return -o.availability
        tie_break = rank * 1e-7  # deterministic preference among equal prices: the catalog's order
        if objective == "balanced":
            return o.monthly_usd * (1 + BALANCED_PENALTY * (1 - o.availability)) + tie_break
        return o.monthly_usd + tie_break


@dataclass(frozen=True)
class Solution:
    assignment: dict[str, tuple[tuple[Option, int], ...]]
    monthly_usd: float
    lower_bound_monthly_usd: float
    #: why the search stopped before proving the optimum (``milp.Limits``), or None when it is proved
    stopped: str | None = None
    #: local search stopped at one of its limits (``improve.Limit``) before running out of moves that pay
    cut_short: bool = False


class DisjointSets:
    """Union-find over names: which demands belong together."""

    def __init__(self, names) -> None:
        self._parent = {n: n for n in names}

    def find(self, name: str) -> str:
        parent = self._parent
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def union(self, a: str, b: str) -> None:
        """Join the sets of ``a`` and ``b``; a name outside the sets joins nothing."""
        if a in self._parent and b in self._parent:
            self._parent[self.find(a)] = self.find(b)
