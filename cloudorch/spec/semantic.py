"""Contradictions inside a stack file that no catalog or placement can resolve, found before placing.

Each value here is valid on its own (a known region, a positive number); together they rule out every
placement, and the planner would only say so later, without a line and with a hint about cpu and memory.
Like the reference pass, this reads the raw data, so a type error elsewhere does not hide these.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cloudorch.spec.yamlsource import Path

#: (cloud, region, geography) of a region the catalog knows
Place = tuple[str, str, str]


def contradictions(data: Any, clouds: Iterable[str], places: Iterable[Place]) -> list[tuple[Path, str]]:
    """(field path, message) for each contradiction; ``clouds`` are the installed providers, the default of
    ``placement.clouds``. Without ``places`` (no region knowledge) the region checks are skipped."""
    if not isinstance(data, dict):
        return []
    found: list[tuple[Path, str]] = []
    placement = data.get("placement")
    if isinstance(placement, dict):
        found += _regions(placement, set(clouds), places)
    resources = data.get("resources")
    if isinstance(resources, dict):
        for name, res in resources.items():
            if isinstance(res, dict) and res.get("kind") == "compute":
                found += _spread(("resources", name), res)
                found += _serve(("resources", name), res, data.get("dns"))
    return found


def _names(values: Any) -> list[str] | None:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    return values


def _regions(placement: dict[str, Any], installed: set[str], places: Iterable[Place]) -> list[tuple[Path, str]]:
    where: dict[str, list[tuple[str, str]]] = defaultdict(list)  # region -> [(cloud, geo)]
    for cloud, region, geo in places:
        where[region].append((cloud, geo))
    regions = _names(placement.get("regions"))
    if not where or not regions:
        return []
    listed = _names(placement.get("clouds"))
    clouds = set(listed) if listed is not None else installed
    geos = _names(placement.get("geo"))
    excluded = set(_names(placement.get("exclude_regions")) or ())
    found: list[tuple[Path, str]] = []
    for i, region in enumerate(regions):
        homes = where.get(region)
        if not homes:
            continue  # unknown: the vocabulary pass names it
        path: Path = ("placement", "regions", i)
        owners = sorted({cloud for cloud, _ in homes})
        if not clouds & set(owners):
            others = " or ".join(sorted(clouds)) or "an installed cloud"
            if listed is not None:
                why = f"not among placement.clouds [{', '.join(listed)}]; add {owners[0]} there"
            else:
                why = f"whose provider plugin is not installed; install cloudorch-{owners[0]}"
            found.append((path, f"{region!r} is a region of {' and '.join(owners)}, {why} or name a region of {others}"))
        elif geos is not None and not {geo for cloud, geo in homes if cloud in clouds} & set(geos):
            geo = sorted({geo for cloud, geo in homes if cloud in clouds})[0]
            found.append((path, f"{region!r} is in {geo}, outside placement.geo [{', '.join(geos)}]; "
                                f"add {geo} to placement.geo or leave the region out"))
        elif region in excluded:
            found.append((path, f"{region!r} is also in placement.exclude_regions; keep it in one list"))
    return found


def _spread(at: Path, res: dict[str, Any]) -> list[tuple[Path, str]]:
    """Each cloud (region) of ``min_clouds`` (``min_regions``) needs a replica of its own."""
    spread = res.get("spread")
    count = res.get("count", 1)
    if not isinstance(spread, dict) or type(count) is not int or count < 1:
        return []
    found: list[tuple[Path, str]] = []
    for key, what in (("min_clouds", "cloud"), ("min_regions", "region")):
        wanted = spread.get(key)
        if type(wanted) is int and wanted > count:
            found.append(((*at, "spread", key), f"{key} {wanted} is more than count {count}: each {what} needs a "
                                                 f"replica of its own; raise count to {wanted} or lower {key}"))
    return found


def _serve(at: Path, res: dict[str, Any], dns: Any) -> list[tuple[Path, str]]:
    """A global name needs the stack's zone, and https needs a name: the cloud's managed certificate is
    issued for it, validated by a record in that zone."""
    serve = res.get("serve")
    if not isinstance(serve, dict):
        return []
    zone = dns.get("zone") if isinstance(dns, dict) else None
    if serve.get("name") is not None and not zone:
        return [((*at, "serve", "name"), "a global name lives in the stack's DNS zone: add "
                                         "`dns: {zone: example.com, provider: aws}` at the top of the stack")]
    if serve.get("protocol", "https") == "https" and serve.get("name") is None:
        return [((*at, "serve", "protocol"), "https needs a name for its managed certificate: give serve.name (with a "
                                             "stack-level `dns: {zone: ..., provider: ...}`), or serve http or tcp")]
    return []
