"""Whether the firewalls let a flow through, from the providers' neutral facts: a part of the reachability
proof (``rendering.reach``).

Ingress: an allow rule of the target, on its cloud at its site, admits the flow's ports and protocol from a
range holding the source's block; the rule reaches the target's machines (a rule with target tags applies
only to machines carrying one: ``FirewallFacts.targets``, ``InstanceFacts``); and no deny rule of the
target, or of its network, that overlaps the flow is weighed before it (a priority no higher than the
allow's; a deny with no priority is weighed first). Egress alike at the source: a deny weighed before every
allow that lets the flow out stops it, even where the cloud lets everything else out by default.

A target with no machines described at its site (Cloud SQL sits behind its own peering, outside the VPC's
firewalls) has its rules judged as rendered, without targets. A value known only at deploy time makes the
pair unverified, never broken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal

from cloudorch.network.model import Site
from cloudorch.rendering.facts import FirewallFacts, InstanceFacts, TrafficRule
from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.rendering.model import RenderedResource

Status = Literal["proved", "broken", "unverified"]
#: (resource, cloud) -> (region, facts) of the machines and templates it renders there
Carriers = Mapping[tuple[str | None, str], Sequence[tuple[str | None, InstanceFacts]]]
#: resource (or network) name -> the firewalls rendered for it
BySource = Mapping[str | None, Sequence[tuple[RenderedResource, FirewallFacts]]]


def permitted(route, src: Site, dst: Site, by_source: BySource, carriers: Carriers, networks: Mapping[str, str],
              global_clouds: frozenset[str], carried: list[str]) -> tuple[Status, str | None]:
    """``networks``: resource -> its stack network, whose firewalls' deny rules guard it too."""
    status, reason = _ingress(route, src, dst, by_source, carriers, networks, global_clouds, carried)
    if status == "broken":
        return status, reason
    out, why = _egress(route, src, dst, by_source, carriers, networks, global_clouds)
    if out == "broken":
        return out, why
    return (status, reason) if status == "unverified" else (out, why)


def _rules(owner: str, site: Site, by_source: BySource, networks, direction: str, global_clouds):
    """(firewall, facts, rule, whether it belongs to ``owner`` itself) of ``direction`` at ``site``."""
    for who in dict.fromkeys((owner, networks.get(owner))):
        for res, facts in by_source.get(who, ()):
            if res.cloud != site.cloud or not (res.cloud in global_clouds or res.region in (None, site.region)):
                continue
            for rule in facts.rules:
                if rule.direction == direction:
                    yield res, facts, rule, who == owner


def _ingress(route, src, dst, by_source, carriers, networks, global_clouds, carried) -> tuple[Status, str | None]:
    allows, maybe, denies, untargeted, unknown = [], [], [], [], False
    for res, facts, rule, own in _rules(route.target, dst, by_source, networks, "ingress", global_clouds):
        if rule.action == "deny" and _overlaps(rule, route, src.cidr):
            # a deny naming targets hits only machines carrying one: none where the target has no machines
            if _reaches(facts, route.target, dst, carriers, every=False) not in (False, None):
                denies.append((res, rule))
        elif own and rule.admits and rule.covers(route.port) and rule.covers(route.last_port) \
                and rule.carries(route.protocol):
            if any(holds(p, src.cidr) for p in rule.peers):
                reach = _reaches(facts, route.target, dst, carriers, every=True)
                if reach is False:
                    untargeted.append((res, facts))
                else:
                    (maybe if reach is UNKNOWN else allows).append((res, rule))
            elif any(p is UNKNOWN for p in rule.peers):
                unknown = True
    what = f"{src.cidr} on port {route.port}"
    verdict = _weigh(allows, denies, what, "admits it")
    if verdict is not None and verdict[0] == "proved":
        carried += sorted({res.name for res, _ in allows})
        return verdict
    if (_weigh(maybe, denies, what, "admits it") or ("broken",))[0] == "proved":
        return "unverified", f"which of {route.target}'s machines its rules reach is known only at deploy time"
    if verdict is not None:
        return verdict
    if untargeted:
        res, facts = untargeted[0]
        return "broken", (f"{res.name} admits {what} only on machines carrying {list(facts.targets or ())}, "
                          f"which {route.target}'s at {dst} do not carry")
    if unknown:
        return "unverified", f"{route.target}'s rules admit a range known only at deploy time"
    return "broken", f"no firewall rule of {route.target} at {dst} admits {src.cidr} on port {route.port}"


def _egress(route, src, dst, by_source, carriers, networks, global_clouds) -> tuple[Status, str | None]:
    allows, denies, restricted = [], [], False
    for res, facts, rule, own in _rules(route.source, src, by_source, networks, "egress", global_clouds):
        reach = _reaches(facts, route.source, src, carriers, every=rule.action != "deny")
        if rule.action == "deny":
            if _overlaps(rule, route, dst.cidr) and reach not in (False, None):
                denies.append((res, rule))
            continue
        if not own or reach is False:
            continue
        restricted = True  # the source's own egress rules: only what they let out leaves
        if (rule.action == "allow" and rule.covers(route.port) and rule.covers(route.last_port)
                and rule.carries(route.protocol) and any(holds(p, dst.cidr) for p in rule.peers)):
            allows.append((res, rule))
    if any(facts.egress_closed for res, facts in by_source.get(route.source, ())
           if res.cloud == src.cloud and (res.cloud in global_clouds or res.region in (None, src.region))):
        restricted = True
    if denies:
        verdict = _weigh(allows, denies, f"{route.source}'s egress to {dst.cidr} on port {route.port}", "lets it out")
        if verdict is not None and verdict[0] == "broken":
            return verdict
        if not allows and not restricted:  # the cloud's default lets it out, and the deny is weighed first
            res, rule = denies[0]
            return "broken", f"{res.name} denies {route.source}'s egress to {dst.cidr} on port {route.port}"
    if restricted and not allows:
        return "broken", f"{route.source}'s egress rules at {src} do not let port {route.port} out to {dst.cidr}"
    return "proved", None


def _weigh(allows, denies, what: str, verb: str) -> tuple[Status, str | None] | None:
    """The verdict of allows against the denies weighed before them; None when nothing allows."""
    if not allows:
        return None
    for res, rule in allows:
        if not any(_before(deny, rule) for _, deny in denies):
            return "proved", None
    res, rule = allows[0]
    deny_res, deny = next((d, r) for d, r in denies if _before(r, rule))
    at = f" at priority {deny.priority}" if deny.priority is not None else ""
    return "broken", f"{deny_res.name} denies {what}{at}, before {res.name} {verb}"


def _before(deny: TrafficRule, allow: TrafficRule) -> bool:
    # at equal priority GCP applies the deny; a rule whose order is not known is weighed first
    return deny.priority is None or allow.priority is None or deny.priority <= allow.priority


def _overlaps(rule: TrafficRule, route, cidr: str) -> bool:
    """Whether a deny rule can hit some of the flow: a port, the protocol, part of the block. A peer the
    proof cannot read as addresses (a cloud's name for a set of them) is taken to hit it."""
    if not any(lo <= route.last_port and route.port <= hi for lo, hi in rule.ports) and rule.ports:
        return False
    if rule.protocol not in (None, "all", route.protocol):
        return False
    return any(not isinstance(p, str) or _overlap_text(p, cidr) for p in rule.peers)


def _reaches(facts: FirewallFacts, owner: str, site: Site, carriers: Carriers, every: bool) -> Any:
    """Whether a firewall's rules reach ``owner``'s machines at ``site``: True, False, UNKNOWN, or None when
    ``owner`` has no machines described there. ``every``: all of them (an allow must reach every replica),
    else any (a deny stops the ones it reaches)."""
    if facts.targets is None:
        return True
    found = [f for region, f in carriers.get((owner, site.cloud), ()) if region in (None, site.region)]
    if not found:
        return None
    results = [_selected(facts.targets, f.tags) for f in found]
    if every:
        return False if False in results else UNKNOWN if any(r is UNKNOWN for r in results) else True
    return True if True in results else UNKNOWN if any(r is UNKNOWN for r in results) else False


def _selected(targets: tuple[Any, ...], tags: tuple[Any, ...]) -> Any:
    known = {t for t in targets if isinstance(t, str)} & {t for t in tags if isinstance(t, str)}
    if known:
        return True
    return UNKNOWN if any(t is UNKNOWN for t in (*targets, *tags)) else False


def holds(prefix, cidr: str) -> bool:
    """Whether ``prefix`` holds all of ``cidr`` (False for a value that is not a prefix)."""
    if not isinstance(prefix, str):
        return False
    return _covers_text(prefix, cidr)


@lru_cache(maxsize=65536)
def _covers_text(prefix: str, cidr: str) -> bool:
    # a large stack asks the same few pairs (a site's block, a firewall's peer) tens of thousands of times
    try:
        return ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(prefix, strict=False))
    except (ValueError, TypeError):
        return False


@lru_cache(maxsize=65536)
def _overlap_text(prefix: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(prefix, strict=False))
    except (ValueError, TypeError):
        return True  # a name for a set of addresses ("VirtualNetwork"): it may hold the block
