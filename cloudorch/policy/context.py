"""What a check sees: the subject under evaluation and read-only indexes over it.

The indexes are built once per evaluation (not per policy and never on a shared policy object), so a
relationship rule such as "every S3 bucket has a public-access block" costs one dictionary lookup. So are
the neutral facts of rendered resources (``Context.facts``): each is read once, by the provider that
rendered it, however many rules ask.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudorch.errors import CloudorchError, PluginError
from cloudorch.placement.model import PlacementResult, ResourcePlacement
from cloudorch.plugins import load_provider
from cloudorch.policy.geo import region_geo
from cloudorch.rendering.facts import FACTS_OF_ROLE, PARTS_OF_ROLE, Describe, Facts, RenderedGraph
from cloudorch.rendering.model import REF, RenderedResource, refs_in
from cloudorch.spec.loader import LoadedStack
from cloudorch.spec.models import Stack

RegionGeo = Callable[[str, str], "str | None"]


def describe_with_providers(resource: RenderedResource, graph: RenderedGraph) -> Facts | None:
    """The facts of ``resource`` as the installed provider of its cloud reads them."""
    return load_provider(resource.cloud).describe(resource, graph)


@dataclass(frozen=True)
class PolicySubject:
    """Everything the policies judge for one stack: the spec, where it goes, and what it becomes.

    ``describe`` reads a rendered resource into neutral facts; by default the installed providers do.
    """

    loaded: LoadedStack
    placement: PlacementResult | None = None
    rendered: tuple[RenderedResource, ...] | list[RenderedResource] = ()
    describe: Describe = describe_with_providers

    @property
    def stack(self) -> Stack:
        return self.loaded.stack


@dataclass(frozen=True, slots=True)
class SpecTarget:
    """A spec-level check's target: one stack resource, or the stack itself (``name`` None, kind ``stack``)."""

    name: str | None
    kind: str
    model: Any


@dataclass
class _Indexes:
    by_name: dict[str, RenderedResource]
    by_type: dict[str, list[RenderedResource]]
    referrers: dict[str, list[RenderedResource]]
    #: rendered name -> its facts, filled as rules ask
    facts: dict[str, Facts]
    #: (name, types) -> its referrers of those types, filled as rules ask (a network or resource group has
    #: thousands of referrers, asked for by type once per resource it holds)
    referrers_of_types: dict[tuple[str, tuple[str, ...]], list[RenderedResource]] = field(default_factory=dict)


def _build_indexes(rendered: Iterable[RenderedResource]) -> _Indexes:
    by_name: dict[str, RenderedResource] = {}
    by_type: dict[str, list[RenderedResource]] = defaultdict(list)
    referrers: dict[str, list[RenderedResource]] = defaultdict(list)
    for res in rendered:
        by_name[res.name] = res
        by_type[res.type].append(res)
        targets = {r[REF] for r in refs_in(res.inputs)}
        # a provider may also name a sibling by its logical name as a plain string
        targets |= {v for v in res.inputs.values() if isinstance(v, str)}
        for target in targets:
            referrers[target].append(res)
    return _Indexes(dict(by_name), dict(by_type), dict(referrers), {})


class Context:
    """Read-only view of the subject for checks, plus the current policy's parameters (``config``)."""

    __slots__ = ("subject", "today", "config", "_geo", "_idx")

    def __init__(
        self,
        subject: PolicySubject,
        *,
        today: dt.date,
        region_geo: RegionGeo = region_geo,
        config: Mapping[str, Any] | None = None,
        _idx: _Indexes | None = None,
    ) -> None:
        self.subject = subject
        self.today = today
        self.config: Mapping[str, Any] = config or {}
        self._geo = region_geo
        self._idx = _idx or _build_indexes(subject.rendered)

    def for_policy(self, config: Mapping[str, Any]) -> Context:
        return Context(self.subject, today=self.today, region_geo=self._geo, config=config, _idx=self._idx)

    # -- spec and placement -----------------------------------------------------------------------------
    @property
    def stack(self) -> Stack:
        return self.subject.stack

    @property
    def placement(self) -> PlacementResult | None:
        return self.subject.placement

    def placement_of(self, name: str) -> ResourcePlacement | None:
        placement = self.subject.placement
        return placement.placements.get(name) if placement else None

    def tags_of(self, name: str | None) -> dict[str, str]:
        """Stack tags overlaid with the resource's own: what every cloud will see."""
        tags = dict(self.stack.tags)
        spec = self.stack.resources.get(name) if name else None
        if spec is not None:
            tags |= dict(getattr(spec, "tags", {}))
        return tags

    def geo_of(self, cloud: str, region: str) -> str | None:
        return self._geo(cloud, region)

    # -- rendered resources -----------------------------------------------------------------------------
    def rendered(self, name: str) -> RenderedResource | None:
        return self._idx.by_name.get(name)

    def of_type(self, *types: str) -> list[RenderedResource]:
        return [r for t in types for r in self._idx.by_type.get(t, ())]

    def referrers(self, name: str, *types: str) -> list[RenderedResource]:
        """Rendered resources (of ``types``, if given) whose inputs refer to ``name``."""
        key = (name, types)
        found = self._idx.referrers_of_types.get(key)
        if found is None:
            found = self._idx.referrers_of_types[key] = [r for r in self._idx.referrers.get(name, ())
                                                         if not types or r.type in types]
        return list(found)

    def facts(self, resource: RenderedResource) -> Any:
        """The neutral facts of a rendered resource (``FirewallFacts`` for a firewall rule, ...), as the
        provider that rendered it reads them. A resource its provider cannot describe is an error of that
        provider, raised here so the rule reports it instead of passing the resource unseen."""
        cached = self._idx.facts.get(resource.name)
        if cached is not None:
            return cached
        try:
            facts = self.subject.describe(resource, self)
        except CloudorchError:
            raise
        except Exception as exc:  # a provider bug: name the provider, not just the exception
            raise PluginError(f"the {resource.cloud} provider failed to describe {resource.name}: "
                              f"{type(exc).__name__}: {exc}") from exc
        expected = FACTS_OF_ROLE.get(resource.role) if resource.role else None
        if facts is None or (expected is not None and not isinstance(facts, expected)):
            wanted = expected.__name__ if expected else "any facts"
            role = f"a {resource.role}" if resource.role else "a resource without a role"
            raise PluginError(
                f"the {resource.cloud} provider renders {resource.name} ({resource.type}) as {role} "
                f"but describes it with {type(facts).__name__ if facts is not None else 'nothing'}, not {wanted}",
                hint="the provider's describe() must read every resource of a role that has facts",
            )
        if facts.parts:
            _check_parts(resource, facts)
        self._idx.facts[resource.name] = facts
        return facts

    def parts(self, resource: RenderedResource, role: str) -> list[RenderedResource]:
        """What ``resource`` holds inline in ``role`` (an Application Gateway's listeners), each as a rendered
        resource of that role named ``<resource>.<path>``, its inputs the entry's own, its facts the part's:
        a rule of that role judges it as it judges a listener resource, never learning the cloud's shape."""
        out = []
        for part in self.facts(resource).parts:
            if part.role != role:
                continue
            name = f"{resource.name}.{part.path}"
            entries = resource.inputs.get(part.collection)
            entry = entries[part.index] if isinstance(entries, list) and part.index < len(entries) else {}
            # model_copy, not a new model: the holder's fields are already valid, and this runs per policy
            out.append(resource.model_copy(update={"name": name, "role": part.role,
                                                   "inputs": entry if isinstance(entry, dict) else {}}))
            self._idx.facts[name] = part.facts
        return out


def _check_parts(resource: RenderedResource, facts: Facts) -> None:
    allowed = PARTS_OF_ROLE.get(resource.role, frozenset()) if resource.role else frozenset()
    for part in facts.parts:
        expected = FACTS_OF_ROLE.get(part.role)
        if part.role not in allowed or expected is None or not isinstance(part.facts, expected):
            raise PluginError(
                f"the {resource.cloud} provider describes {part.path} of {resource.name} ({resource.role}) as a "
                f"{part.role} part with {type(part.facts).__name__}",
                hint="a part's role must be one PARTS_OF_ROLE allows its holder, its facts those FACTS_OF_ROLE names",
            )


def spec_targets(stack: Stack) -> list[SpecTarget]:
    targets = [SpecTarget(name, resource.kind, resource) for name, resource in sorted(stack.resources.items())]
    return [*targets, SpecTarget(None, "stack", stack)]
