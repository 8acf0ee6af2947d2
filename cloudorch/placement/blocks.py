"""The address blocks a stack network has left, as placement keeps to them.

Each location a stack network uses takes one of its blocks (``cloudorch.network.allocation``), and a block
once given is kept for ever, so a network of B blocks whose record holds R locations can use those and at
most B - R others. The network stage works out what each network has left (``BlocksLeft``); the planner
places as before, and only where that placement takes more locations than a network has blocks for does it
place again with the limit (``Problem.block_limits``): a constraint of the exact model, kept by local search
(its ledger charges a location beyond the limit more than any move saves). A stack within its blocks is
placed exactly as before; one beyond them gets the cheapest placement within them, or, where there is none,
the placement found, which the network stage refuses saying how to free blocks.
"""

from __future__ import annotations

from collections.abc import Mapping

from cloudorch.placement.problem import BlockLimit, BlocksLeft, Demand, Option
from cloudorch.spec.models import Stack

Location = tuple[str, str]


def block_limits(stack: Stack, demands: tuple[Demand, ...], left: Mapping[str, BlocksLeft]) -> tuple[BlockLimit, ...]:
    """One limit per stack network in ``left`` that any of ``demands`` is a member of."""
    members: dict[str, set[str]] = {}
    for d in demands:
        network = getattr(stack.resources[d.name], "network", None)
        if network in left:
            members.setdefault(network, set()).add(d.name)
    return tuple(BlockLimit(network, frozenset(names), left[network]) for network, names in sorted(members.items()))


def beyond_blocks(limits: tuple[BlockLimit, ...],
                  assignment: Mapping[str, tuple[tuple[Option, int], ...]]) -> list[tuple[BlockLimit, tuple[Location, ...]]]:
    """The limits ``assignment`` breaks, each with the unreserved locations its members use."""
    out = []
    for limit in limits:
        used = {o.location for name in limit.members for o, _ in assignment.get(name, ())}
        new = tuple(sorted(used - limit.left.reserved))
        if len(new) > limit.left.free:
            out.append((limit, new))
    return out


def others_at(members_at: Mapping[Location, int], own: set[Location]) -> set[Location]:
    """The locations a network's other members use (``members_at``: members per location, one of them the
    one whose locations are ``own``)."""
    return {loc for loc, n in members_at.items() if n > (loc in own)}


def no_block_left(limit: BlockLimit, taken: set[Location]) -> str:
    """Why a location is out for the network: every block is held, by the reserved locations and ``taken``
    (the unreserved ones its members use)."""
    left = limit.left
    held = sorted(left.reserved | taken)
    shown = ", ".join(f"{cloud}/{region}" for cloud, region in held[:6]) + (", ..." if len(held) > 6 else "")
    return (f"network {limit.network!r} ({left.cidr}) has no address block left for it: its {left.blocks} are held "
            f"by {shown} (blocks of locations no longer used stay reserved in .cloudorch/<stack>.network.json; "
            "delete their entries to free them)")
