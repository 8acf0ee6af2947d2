"""The three-clouds stack planned once, and the tools the reachability tests share: a provider describe, and
the rendering with resources removed or added, so a test can say what the proof must catch."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from cloudorch import api
from cloudorch.rendering.facts import GraphOf, LinkFacts
from cloudorch.rendering.model import RenderedResource
from tests.support import ROOT

STACK = ROOT / "tests" / "network" / "stacks" / "three-clouds.yaml"


@cache
def planned() -> api.PlanResult:
    return api.plan(STACK)


@cache
def providers() -> dict:
    return api.Session().providers()


def describe(resource: RenderedResource, graph):
    provider = providers().get(resource.cloud)
    return provider.describe(resource, graph) if provider is not None else None


def link_facts(rendered: Iterable[RenderedResource]) -> dict[str, LinkFacts]:
    """resource name -> its LinkFacts, for every rendered resource of role link."""
    rendered = tuple(rendered)
    graph = GraphOf(rendered)
    out = {}
    for res in rendered:
        if res.role == "link":
            facts = describe(res, graph)
            assert isinstance(facts, LinkFacts), (res.name, facts)
            out[res.name] = facts
    return out


def without(rendered: Iterable[RenderedResource], *names: str) -> tuple[RenderedResource, ...]:
    """The rendering as a provider that forgot ``names`` would make it: they and everything built on them
    (what refers to them, transitively) are gone, so the graph stays closed and the proof must judge it."""
    rendered = tuple(rendered)
    gone = set(names)
    assert gone <= {r.name for r in rendered}, gone - {r.name for r in rendered}
    while True:
        more = {r.name for r in rendered if r.name not in gone and gone & set(r.dependencies)}
        if not more:
            return tuple(r for r in rendered if r.name not in gone)
        gone |= more


def prove(rendered: Iterable[RenderedResource], result: api.PlanResult | None = None):
    """``api.prove_network`` over ``rendered`` with the plan's stack and network."""
    result = result or planned()
    return api.prove_network(result.loaded, result.network, tuple(rendered), providers())
