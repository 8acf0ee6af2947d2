"""Which offerings each resource could run on, and why every other cloud/region is out.

Filtering here is exact (a candidate satisfies every per-replica requirement, in a region the capability
filter left in: ``capability``); the MILP then only handles what couples replicas and resources. Within one (cloud, region, spot) group an option survives
only if no other option is at least as good on every axis the model can care about (price, availability,
and vCPUs where a vCPU quota applies): the MILP would never pick a dominated option, so pruning it keeps
the model small without changing the optimum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from cloudorch.capabilities import Capability
from cloudorch.catalog.model import Catalog, Region
from cloudorch.placement.capability import Hosts, Unsupported, cloud_wide, no_gaps
from cloudorch.placement.dominance import undominated
from cloudorch.placement.model import HOURS_PER_MONTH, Exclusion
from cloudorch.placement.problem import BlocksLeft, Option
from cloudorch.placement.rates import NetworkRates
from cloudorch.spec.models import Compute, Database, Stack


@dataclass(frozen=True)
class PlacementSettings:
    """Installation-level knobs: which clouds are installed and what they cannot do, quotas, failures."""

    clouds: tuple[str, ...]
    #: what each cloud cannot host where: an ``Unsupported`` callable (requirement, cloud, region) ->
    #: {capability: reason}, or plain data for cloud-wide gaps, cloud -> {capability name: reason}
    unsupported: Unsupported | Mapping[str, Mapping[str, str]] = no_gaps
    #: "cloud" or "cloud/region" -> vCPU limit
    vcpu_quotas: Mapping[str, float] = None  # type: ignore[assignment]
    #: (cloud, region, instance_type) -> observed capacity failures
    capacity_failures: Mapping[tuple[str, str, str], int] = None  # type: ignore[assignment]
    #: what the network costs (``rates.network_rates``); None: the placement prices machines only
    rates: NetworkRates | None = None
    #: clouds whose one network spans regions (no link between two of its regions)
    global_clouds: frozenset[str] = frozenset()
    #: (cloud, region, instance_type) not to be used at all: a workflow's failover blocks an offering that
    #: just failed for lack of capacity, for the rest of its run
    blocked: frozenset[tuple[str, str, str]] = frozenset()
    #: stack network -> the address blocks earlier plans left it (``cloudorch.network`` reads them from the
    #: allocation record): a placement keeps to them (``blocks``)
    blocks_left: Mapping[str, BlocksLeft] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("vcpu_quotas", "capacity_failures"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, {})
        if isinstance(self.unsupported, Mapping):
            object.__setattr__(self, "unsupported", cloud_wide(self.unsupported))


def availability_score(zones, spot: bool, failures=0, spot_score=10):
    """Estimated probability that a replica on this offering is up; element-wise on numpy arrays.

    More zones offering the type means a zone outage or a capacity shortfall can be absorbed elsewhere in
    the region; spot capacity can be reclaimed; each observed capacity failure counts against it.

    ``spot_score``: the cloud's spot placement score (AWS, 1-10; 10 where none is known), used for spot
    options only, as the factor ``spot_score / 10``. The score is AWS's own scale of how likely a spot
    request succeeds now, and reading it as that likelihood keeps it on the same footing as the rest of
    this estimate: multiplied in like a zone or a recorded failure, a score of 10 changes nothing (so
    catalogs without scores plan as before) and a 3 leaves a third of the availability -- enough for the
    balanced and availability objectives to move spot replicas to a region AWS rates better, while the
    cost objective, which never weighs availability, is unmoved. A step table would claim a precision
    the score does not have; a bare threshold would ignore the difference between a 1 and a 6.
    """
    import numpy as np

    zones, failures = np.asarray(zones), np.asarray(failures)
    base = np.where(zones >= 3, 0.999, np.where(zones == 2, 0.995, 0.99))
    spot_factor = 0.95 * np.asarray(spot_score) / 10 if spot else 1.0
    score = np.round(base * spot_factor * (0.9**failures), 6)
    return float(score) if score.ndim == 0 else score


def allowed_regions(stack: Stack, catalog: Catalog, settings: PlacementSettings) -> tuple[list[Region], list[Exclusion]]:
    """Regions the stack's placement block allows, and an exclusion with its reason for each other one."""
    block = stack.placement
    clouds = set(block.clouds) if block.clouds is not None else set(settings.clouds)
    allowed, excluded = [], []
    for region in sorted(catalog.regions, key=lambda r: (r.cloud, r.name)):
        if region.cloud not in settings.clouds:
            excluded.append(Exclusion(cloud=region.cloud, reason="cloud", detail=f"no provider plugin for {region.cloud} is installed"))
        elif region.cloud not in clouds:
            excluded.append(Exclusion(cloud=region.cloud, reason="cloud", detail="not among placement.clouds"))
        elif block.geo is not None and region.geo not in block.geo:
            excluded.append(Exclusion(cloud=region.cloud, region=region.name, reason="geo",
                                      detail=f"in {region.geo}, outside placement.geo {block.geo}"))
        elif block.regions is not None and region.name not in block.regions:
            excluded.append(Exclusion(cloud=region.cloud, region=region.name, reason="region", detail="not in placement.regions"))
        elif region.name in block.exclude_regions:
            excluded.append(Exclusion(cloud=region.cloud, region=region.name, reason="region", detail="in placement.exclude_regions"))
        else:
            allowed.append(region)
    return allowed, _collapse_cloud_exclusions(excluded)


def _collapse_cloud_exclusions(excluded: list[Exclusion]) -> list[Exclusion]:
    """One line per excluded cloud rather than one per region of it."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in excluded:
        if e.region is None:
            if (e.cloud, e.detail) in seen:
                continue
            seen.add((e.cloud, e.detail))
        out.append(e)
    return out


class OfferingIndex:
    """Per-region numpy columns over the catalog, sorted by price, built once per catalog and settings.

    A 100,000-offering catalog and 1,000 resources would mean 10^8 Python-level comparisons; masks over
    columns make the same filter a few vector operations per region.
    """

    def __init__(self, catalog: Catalog, settings: PlacementSettings) -> None:
        import numpy as np

        groups: dict[tuple[str, str], list] = defaultdict(list)
        for o in catalog.offerings:
            if (o.cloud, o.region, o.instance_type) not in settings.blocked:
                groups[(o.cloud, o.region)].append(o)
        zones_of = {(r.cloud, r.name): r.zones for r in catalog.regions}
        self.regions: dict[tuple[str, str], tuple[list, dict]] = {}
        for key, offerings in groups.items():
            offerings.sort(key=lambda o: (o.price, o.instance_type))
            fallback = len(zones_of.get(key, ()))
            cols = {
                "price": np.array([o.price for o in offerings]),
                # position by name, the last tie-break of Option.sort_key
                "name_rank": np.argsort(np.argsort(np.array([o.instance_type for o in offerings]), kind="stable")),
                "vcpus": np.array([o.vcpus for o in offerings]),
                "memory": np.array([o.memory_gib for o in offerings]),
                "arm": np.array([o.arch == "arm64" for o in offerings]),
                "accel": np.array([(o.accelerator or "").lower() for o in offerings]),
                "accel_count": np.array([o.accelerator_count for o in offerings]),
                "burstable": np.array([o.burstable for o in offerings], dtype=bool),
                "spot": np.array([np.nan if o.spot_price is None else o.spot_price for o in offerings]),
                "zones": np.array([len(o.zones) or fallback for o in offerings]),
                "failures": np.array([
                    settings.capacity_failures.get((o.cloud, o.region, o.instance_type), 0) for o in offerings
                ]),
                # 10 (no effect) where the catalog has no score: every catalog but a live AWS one
                "spot_score": np.array([catalog.spot_scores.get((o.cloud, o.region, o.instance_type), 10)
                                        for o in offerings]),
                "scored": np.array([(o.cloud, o.region, o.instance_type) in catalog.spot_scores for o in offerings],
                                   dtype=bool),
            }
            self.regions[key] = (offerings, cols)
        self._cache: dict[tuple, tuple[tuple[Option, ...], tuple[Exclusion, ...]]] = {}


def _pareto(ordered, scores, vcpus=None):
    """Of the positions ``ordered`` (in ``Option.sort_key`` order: ``_in_order``), those no other dominates
    (``dominance.dominates``, every option under the same quotas: all of them when ``vcpus`` is given, none
    otherwise), as ``prune_dominated`` keeps them -- a property test holds the two equal.

    An offering survives only if every one at least as cheap (ties broken as ``Option.sort_key`` does) is
    less available or, with ``vcpus``, uses more vCPUs. Vectorised over the few availability levels a
    region has: for each level, the running minimum of vCPUs among earlier offerings at or above it.
    """
    import numpy as np

    if ordered.size == 0:
        return ordered
    s = scores[ordered]
    if vcpus is None:
        best_before = np.maximum.accumulate(np.concatenate(([-1.0], s[:-1])))
        return ordered[s > best_before]
    v = vcpus[ordered]
    keep = np.zeros(ordered.size, dtype=bool)
    for level in np.unique(s):
        at_or_above = np.where(s >= level, v, np.inf)
        fewest_before = np.minimum.accumulate(np.concatenate(([np.inf], at_or_above[:-1])))
        here = s == level
        keep[here] = v[here] < fewest_before[here]
    return ordered[keep]


def compute_options(spec: Compute, hosts: Hosts, index: OfferingIndex, vcpu_matters: bool = False,
                    prune: bool = True) -> tuple[tuple[Option, ...], tuple[Exclusion, ...]]:
    """Options for one replica of ``spec`` in the regions that can host it; cached, since large stacks repeat
    the same requirements. ``prune=False`` keeps the dominated ones too."""
    key = (*_requirement(spec), hosts.key, vcpu_matters, prune)
    if key not in index._cache:
        index._cache[key] = _compute_options(spec, hosts, index, vcpu_matters, prune)
    return index._cache[key]


def cheapest_fits(spec: Compute, hosts: Hosts, index: OfferingIndex, location: tuple[str, str], spot: bool,
                  take: int) -> tuple[Option, ...]:
    """The first ``take`` options, in ``Option.sort_key`` order, for one replica of ``spec`` in ``location`` with
    the ``spot`` flag, dominated ones included: what `--explain` names as the other types in a chosen region.

    Why not ``compute_options(prune=False)`` filtered: that builds an Option for every fitting offering in
    every region (1.7 M at 1,000 resources) to show two per chosen region. Here only the order is kept (per
    requirements and location, cached), and only the options shown are built."""
    key = ("cheapest-fits", *_requirement(spec), hosts.key, location, spot)
    if key not in index._cache:
        region = next((r for r in hosts.regions if (r.cloud, r.name) == location), None)
        found = None if region is None else _fitting(spec, hosts, index, region)
        variant = next((v for v in found if v.spot == spot), None) if isinstance(found, list) else None
        index._cache[key] = None if variant is None else (region, variant, _in_order(index, region, variant))
    if index._cache[key] is None:
        return ()
    region, variant, order = index._cache[key]
    return tuple(_options(index, region, variant, order[:take]))


class _Variant(NamedTuple):
    """The offerings of one region that fit, on demand or spot, with the price and availability they have so."""

    spot: bool
    prices: object  # numpy columns over the region's offerings
    scores: object
    indices: object  # the fitting offerings' positions


def _requirement(spec: Compute) -> tuple:
    """What of a compute resource decides its options (cache keys: large stacks repeat requirements)."""
    return (spec.cpu, spec.memory_gb, spec.arch, spec.accelerator, spec.spot, spec.burstable)


def _fitting(spec: Compute, hosts: Hosts, index: OfferingIndex, region: Region) -> list[_Variant] | Exclusion:
    """The offerings in ``region`` that fit one replica of ``spec``, per variant (on demand, and spot where
    the resource allows it and the region offers it), or why none does."""
    import numpy as np

    offerings, cols = index.regions.get((region.cloud, region.name), ([], None))
    if not offerings:
        return _no_offering(region, spec, 0)
    fits = (cols["vcpus"] >= spec.cpu) & (cols["memory"] >= spec.memory_gb)
    if spec.accelerator:
        fits &= (cols["accel"] == spec.accelerator.type.lower()) & (cols["accel_count"] >= spec.accelerator.count)
    else:
        fits &= cols["accel"] == ""  # never pay for a GPU nobody asked for
    right_arch = fits & (cols["arm"] == (spec.arch == "arm64"))
    # credits run out under a steady load: a type that bursts is chosen only where the resource allows it
    matching = np.flatnonzero(right_arch if spec.burstable else right_arch & ~cols["burstable"])
    if matching.size == 0:
        return _no_offering(region, spec, int(fits.sum()), bursting=int(right_arch.sum()))
    variants = [(False, cols["price"], matching)]
    if spec.spot and hosts.allows((region.cloud, region.name), Capability.SPOT):
        with_spot = matching[~np.isnan(cols["spot"][matching])]
        if with_spot.size:
            variants.append((True, cols["spot"], with_spot))
    return [_Variant(spot, prices, _scores(index, region, spot), idx) for spot, prices, idx in variants]


def _scores(index: OfferingIndex, region: Region, spot: bool):
    """``availability_score`` of every offering of the region, on demand or spot: the same for every
    requirement, so worked out once per index."""
    key = ("scores", region.cloud, region.name, spot)
    if key not in index._cache:
        cols = index.regions[(region.cloud, region.name)][1]
        index._cache[key] = availability_score(cols["zones"], spot, cols["failures"], cols["spot_score"])
    return index._cache[key]


def _options(index: OfferingIndex, region: Region, variant: _Variant, chosen) -> list[Option]:
    """The Options for the offerings at positions ``chosen`` of ``region``, as ``variant`` prices them."""
    offerings, cols = index.regions[(region.cloud, region.name)]
    spot, prices, scores = variant.spot, variant.prices, variant.scores
    return [
        Option(o.cloud, o.region, o.instance_type, spot, o.vcpus, o.memory_gib, float(prices[i]),
               float(scores[i]), o.zones or region.zones, o.accelerator, o.accelerator_count,
               int(cols["spot_score"][i]) if spot and cols["scored"][i] else None)
        for i in chosen.tolist()
        for o in (offerings[i],)
    ]


def _compute_options(spec: Compute, hosts: Hosts, index: OfferingIndex, vcpu_matters: bool,
                     prune: bool = True) -> tuple[tuple[Option, ...], tuple[Exclusion, ...]]:
    options: list[Option] = []
    exclusions: list[Exclusion] = []
    for region in hosts.regions:
        found = _fitting(spec, hosts, index, region)
        if isinstance(found, Exclusion):
            exclusions.append(found)
            continue
        cols = index.regions[(region.cloud, region.name)][1]
        for variant in found:
            chosen = _pareto(_in_order(index, region, variant), variant.scores,
                             cols["vcpus"] if vcpu_matters else None) if prune else variant.indices
            options += _options(index, region, variant, chosen)
    return tuple(options), tuple(exclusions)


def _in_order(index: OfferingIndex, region: Region, variant: _Variant):
    """The variant's fitting offerings in ``Option.sort_key`` order within one location and spot flag: price,
    availability (higher first), name. The whole region is sorted once per index and spot flag -- the same
    for every requirement (a 1,000-resource stack has ~47 over ~84 regions) -- and each requirement keeps
    its fitting ones in that order (a total order: the same as sorting them alone)."""
    import numpy as np

    key = ("order", region.cloud, region.name, variant.spot)
    if key not in index._cache:
        name_rank = index.regions[(region.cloud, region.name)][1]["name_rank"]
        index._cache[key] = np.lexsort((name_rank, -variant.scores, variant.prices))
    order = index._cache[key]
    fits = np.zeros(order.size, dtype=bool)
    fits[variant.indices] = True
    return order[fits[order]]


def _no_offering(region: Region, spec: Compute, wrong_arch: int, bursting: int = 0) -> Exclusion:
    if bursting:
        return Exclusion(cloud=region.cloud, region=region.name, reason="no-offering",
                         detail="only burstable types fit (`burstable: true` allows them)")
    if wrong_arch:
        return Exclusion(cloud=region.cloud, region=region.name, reason="arch",
                         detail=f"offerings that fit are not {spec.arch}")
    need = f"{spec.cpu} vCPU / {spec.memory_gb:g} GiB"
    if spec.accelerator:
        need += f" with {spec.accelerator.count}x {spec.accelerator.type}"
    return Exclusion(cloud=region.cloud, region=region.name, reason="no-offering", detail=f"no {spec.arch} type with {need}")


def database_options(spec: Database, hosts: Hosts, catalog: Catalog,
                     prune: bool = True) -> tuple[tuple[Option, ...], tuple[Exclusion, ...]]:
    by_region: dict[tuple[str, str], list] = defaultdict(list)
    for d in catalog.databases:
        if d.engine == spec.engine:
            by_region[(d.cloud, d.region)].append(d)
    options, exclusions = [], []
    ha = 2 if spec.high_availability else 1
    for region in hosts.regions:
        found = [
            Option(d.cloud, d.region, d.instance_class, False, d.vcpus, d.memory_gib,
                   round(d.price * ha + spec.storage_gb * d.storage_gb_month / HOURS_PER_MONTH, 6),
                   availability_score(3 if spec.high_availability else 1, False), region.zones)
            for d in by_region.get((region.cloud, region.name), ())
            if d.vcpus >= spec.cpu and d.memory_gib >= spec.memory_gb
        ]
        if found:
            # managed DBs do not count against VM quotas
            options += prune_dominated(found, vcpu_matters=False) if prune else found
        else:
            exclusions.append(Exclusion(cloud=region.cloud, region=region.name, reason="no-offering",
                                        detail=f"no managed {spec.engine} class with {spec.cpu} vCPU / {spec.memory_gb:g} GiB"))
    return tuple(options), tuple(exclusions)


def prune_dominated(options: list[Option], vcpu_matters: bool) -> list[Option]:
    """Keep, per (cloud, region, spot), only the options no other dominates (``dominance``); vCPUs count when
    ``vcpu_matters`` (some quota might cover the option)."""
    return undominated(options, place=lambda o: (o.cloud, o.region, o.spot), quotas=lambda o: int(vcpu_matters))
