"""When one option can take every replica of another: the one dominance relation every pruning rule uses.

Option a dominates option b when moving every replica from b to a keeps every constraint and never raises
any objective: a is at least as cheap and as available, counts against no vCPU quota that b escapes, and,
if it counts against any, uses no more vCPUs. Spread, near and apart care only about *where* an option is,
so each rule compares options in the same place only (same region, same cloud, or anywhere -- the caller's
``place``). Candidate filtering (``candidates``), the presolve (``presolve.useful_options``) and the
region-level reduction (``presolve.dominated_regions``) all prune with this relation and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from itertools import repeat
from typing import NamedTuple

from cloudorch.placement.problem import Option


class Merit(NamedTuple):
    """What dominance compares: price, availability, vCPUs, and the quotas counted against (a bit mask).

    Fields may be numpy arrays: ``dominates`` then compares element-wise (and broadcasts). Any 4-tuple in
    this order will do (a plain tuple is cheaper to build in the per-option loops).
    """

    price: object
    availability: object
    vcpus: object
    quotas: object


def dominates(a, b):
    """a can take b's replicas: never dearer, never less available, under no quota b escapes, and with no
    more vCPUs if under any quota at all. Works on scalars and, element-wise, on numpy arrays."""
    a_price, a_availability, a_vcpus, a_quotas = a
    b_price, b_availability, b_vcpus, b_quotas = b
    return ((a_price <= b_price) & (a_availability >= b_availability) & ((a_quotas & ~b_quotas) == 0)
            & ((a_quotas == 0) | (a_vcpus <= b_vcpus)))


def undominated(options: Iterable[Option], place: Callable[[Option], Hashable],
                quotas: Callable[[Option], int], price: Callable[[Option], float] | None = None) -> list[Option]:
    """The options no other option in the same place dominates, in ``Option.sort_key`` order.

    Sorted by price first, an option can only be dominated by one before it; of two that dominate each
    other the first (by ``sort_key``) is kept. ``price``: what a replica on the option costs an hour, where
    that is more than its machine (the network's per-replica part, which differs by location).
    """
    kept: dict[Hashable, list[tuple]] = defaultdict(list)
    out = []
    if price is None:
        ranked = sorted(options, key=lambda o: o.sort_key)
    else:
        ranked = sorted(options, key=lambda o: (price(o), -o.availability, o.sort_key))
    for o in ranked:
        mine = (o.hourly_usd if price is None else price(o), o.availability, o.vcpus, quotas(o))  # a Merit
        front = kept[place(o)]
        if front and any(map(dominates, front, repeat(mine))):
            continue
        front.append(mine)
        out.append(o)
    return out if price is None else sorted(out, key=lambda o: o.sort_key)
