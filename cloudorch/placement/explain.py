"""Why each resource went where it went: the chosen offering, the next alternatives, every exclusion."""

from __future__ import annotations

from cloudorch.placement import milp
from cloudorch.placement.model import Alternative, Exclusion, Explanation
from cloudorch.spec.models import Stack

ALTERNATIVES = 3


def explain(stack: Stack, problem: milp.Problem, solution: milp.Solution,
            region_exclusions: list[Exclusion], option_exclusions: dict[str, tuple[Exclusion, ...]]) -> dict[str, Explanation]:
    out = {}
    cheapest: dict[int, dict[tuple[str, str], float]] = {}
    by_price: dict[tuple[str, str, float], Exclusion] = {}
    for demand in problem.demands:
        chosen = solution.assignment.get(demand.name, ())
        chosen_keys = {(o.cloud, o.region, o.instance_type, o.spot) for o, _ in chosen}
        used_locations = {o.location for o, _ in chosen}
        alternatives = []
        seen = set()
        for o in sorted(demand.options, key=lambda o: o.sort_key):
            key = (o.cloud, o.region, o.instance_type, o.spot)
            if key in chosen_keys or key in seen:
                continue
            seen.add(key)
            alternatives.append(Alternative(cloud=o.cloud, region=o.region, instance_type=o.instance_type, spot=o.spot,
                                            monthly_usd=round(o.monthly_usd * demand.count, 2)))
            if len(alternatives) == ALTERNATIVES:
                break
        excluded = list(region_exclusions) + list(option_exclusions.get(demand.name, ()))
        # regions that had offerings but were not chosen: price (or a coupling constraint) decided
        # resources with the same requirements share one options tuple: price each location once for all
        cheapest_at = cheapest.get(id(demand.options))
        if cheapest_at is None:
            cheapest_at = cheapest[id(demand.options)] = {}
            for o in demand.options:
                if o.hourly_usd < cheapest_at.get(o.location, float("inf")):
                    cheapest_at[o.location] = o.hourly_usd
        cheapest_used = min((o.hourly_usd for o, _ in chosen), default=0.0)
        dearest_used = max((o.hourly_usd for o, _ in chosen), default=0.0)
        for cloud, region in sorted(set(cheapest_at) - used_locations):
            best = cheapest_at[(cloud, region)]
            if demand.near and best <= cheapest_used:
                excluded.append(Exclusion(cloud=cloud, region=region, reason="near", detail=f"does not host {demand.near}"))
                continue
            if best <= dearest_used + 1e-9:
                # as cheap as something chosen: spread limits or the deterministic tie-break sent replicas elsewhere
                excluded.append(Exclusion(cloud=cloud, region=region, reason="tie",
                                          detail=f"as cheap as a chosen offering (${best * 730:,.2f}/month per replica); "
                                                 "equal prices are broken by catalog order"))
                continue
            key = (cloud, region, best)
            if key not in by_price:  # frozen, so one object can serve every resource it applies to
                by_price[key] = Exclusion(cloud=cloud, region=region, reason="price",
                                          detail=f"cheapest fit ${best * 730:,.2f}/month per replica")
            excluded.append(by_price[key])
        out[demand.name] = Explanation(
            resource=demand.name,
            chosen=tuple(f"{n} x {o.instance_type}{' (spot)' if o.spot else ''} in {o.cloud}/{o.region}"
                         for o, n in chosen),
            alternatives=tuple(alternatives),
            excluded=tuple(sorted(excluded, key=lambda e: (e.cloud, e.region or "", e.reason))),
        )
    return out
