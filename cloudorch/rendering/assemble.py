"""Every provider renders its share of a stack, and the shares become one graph.

The order is what makes errors honest: limits the user controls are checked for every cloud before
anything is rendered (all of them reported at once, each at its stack-file line, exit 2); then each cloud
renders its own resources and its endpoints of the cross-cloud elements; then the endpoints' peer
placeholders are resolved into ordinary references, and the whole graph is checked closed and acyclic.
Anything a provider gets wrong past the first step is a bug in that provider (exit 1, naming it), never
reported as a problem with the user's input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from cloudorch.errors import CloudorchError, PluginBug, PluginError, Problem, SpecError
from cloudorch.rendering.context import RenderContext
from cloudorch.rendering.elements import Element, ElementProblem, EndpointRendering, EndpointView, check_exports, resolve
from cloudorch.rendering.model import RenderedResource
from cloudorch.rendering.order import RenderGraphProblem, dependency_order
from cloudorch.rendering.service import GlobalNames, check_balancer_exports, check_validations

if TYPE_CHECKING:
    from cloudorch.network.model import NetworkPlan
    from cloudorch.placement.model import PlacementResult
    from cloudorch.provider import CloudProvider
    from cloudorch.spec.loader import LoadedStack

T = TypeVar("T")


def render_stack(loaded: LoadedStack, placement: PlacementResult, providers: Mapping[str, CloudProvider],
                 elements: Sequence[Element] = (), network: NetworkPlan | None = None) -> tuple[RenderedResource, ...]:
    """All rendered resources of the stack, in each provider's order, cloud by cloud; the network plan's
    links are rendered as elements, after the other elements given."""
    from cloudorch.rendering.links import link_elements
    from cloudorch.rendering.service import balancers, global_names

    served = balancers(loaded.stack, placement,
                       {name: (p.balancer_target, p.balancer_validations) for name, p in providers.items()})
    names = global_names(loaded.stack, served)
    elements = (*elements, *link_elements(network), *((names,) if names else ()))
    blocks = network.blocks if network is not None else placement.networks
    clouds = sorted({cloud for p in placement.placements.values() for cloud, _ in p.locations}
                    | {b.cloud for b in blocks} | {e.cloud for el in elements for e in el.endpoints})
    missing = [c for c in clouds if c not in providers]
    if missing:
        raise PluginError(f"the placement uses {', '.join(missing)} but no provider plugin for it is installed",
                          hint="install it (e.g. pip install cloudorch-" + missing[0] + ") or leave it out of "
                               "placement.clouds")
    contexts = {cloud: RenderContext(stack=loaded.stack, placement=placement, cloud=cloud, source=loaded,
                                     elements=tuple(elements), network=network, balancers=served) for cloud in clouds}

    problems = [p for cloud in clouds for p in _guarded(cloud, lambda: list(providers[cloud].check(contexts[cloud])))]
    problems += _dns_problems(names, providers, contexts)
    if problems:
        raise SpecError(problems, hint="each problem names the field to change; the clouds' limits are in the "
                                       "README's provider notes")

    rendered: list[RenderedResource] = []
    for cloud in clouds:
        rendered += _own(cloud, _guarded(cloud, lambda: list(providers[cloud].render(contexts[cloud]))))

    exports: dict[tuple[str, int], Mapping[str, Any]] = {}
    parts: list[tuple[Element, int, str, EndpointRendering]] = []
    for balancer in served:
        part = _rendering(balancer.cloud, f"the balancer {balancer.id}",
                          lambda: providers[balancer.cloud].render_balancer(contexts[balancer.cloud], balancer))
        rendered += _own(balancer.cloud, list(part.resources))
        if names is not None and balancer in names.balancers:
            # the global name's balancer endpoints are these renderings: nothing is rendered twice
            parts.append((names, names.endpoint_of(balancer), balancer.cloud, part))
            _guarded(balancer.cloud, lambda: check_validations(balancer, part))
        else:
            _guarded(balancer.cloud, lambda: check_balancer_exports(balancer, part))
    for element in elements:
        for index, endpoint in enumerate(element.endpoints):
            if element is names and index > 0:
                continue
            view = EndpointView(element, index)
            provider, context = providers[endpoint.cloud], contexts[endpoint.cloud]
            render = provider.render_global_name if element is names else provider.render_endpoint
            part = _rendering(endpoint.cloud, f"endpoint {index} of {element.kind} {element.id!r}",
                              lambda: render(context, view))
            rendered += _own(endpoint.cloud, list(part.resources))
            parts.append((element, index, endpoint.cloud, part))
    # checked once every endpoint is rendered: an export may name anything its own provider rendered
    by_cloud: dict[str, set[str]] = {}
    for res in rendered:
        by_cloud.setdefault(res.cloud, set()).add(res.name)
    for element, index, cloud, part in parts:
        _guarded(cloud, lambda: check_exports(element, index, part, by_cloud.get(cloud, set())))
        exports[(element.id, index)] = part.exports

    resolved = _guarded(None, lambda: resolve(rendered, exports))
    try:
        dependency_order(resolved)
    except RenderGraphProblem as exc:
        raise PluginBug(", ".join(clouds), f"the providers' rendering is broken: {exc}") from None
    return tuple(resolved)


def _rendering(cloud: str, what: str, step: Callable[[], Any]) -> EndpointRendering:
    part = _guarded(cloud, step)
    if not isinstance(part, EndpointRendering):
        raise PluginBug(cloud, f"provider {cloud!r} returned {type(part).__name__} for {what}")
    return part


def _dns_problems(names: GlobalNames | None, providers: Mapping[str, CloudProvider],
                  contexts: Mapping[str, RenderContext]) -> list[Problem]:
    """The cloud named to serve the zone must render global names: a plugin lacking it is refused at
    ``dns.provider``, the field to change, before anything is rendered."""
    from cloudorch.capabilities import dns_requirement

    if names is None:
        return []
    cloud = names.endpoints[0].cloud
    gaps = providers[cloud].unsupported(dns_requirement(), "")
    return [contexts[cloud].problem(("dns", "provider"), f"{cloud} cannot serve the zone: {reason}; name another "
                                                         "cloud as dns.provider")
            for reason in gaps.values()]


def _own(cloud: str, resources: list[RenderedResource]) -> list[RenderedResource]:
    """A provider renders for its own cloud only: another cloud's name on a resource is a bug."""
    for res in resources:
        if not isinstance(res, RenderedResource):
            raise PluginBug(cloud, f"provider {cloud!r} rendered a {type(res).__name__}, not a RenderedResource")
        if res.cloud != cloud:
            raise PluginBug(cloud, f"provider {cloud!r} rendered {res.name!r} for cloud {res.cloud!r}")
    return resources


def _guarded(cloud: str | None, step: Callable[[], T]) -> T:
    """Run a provider step; the provider's own located errors pass through, anything else is its bug."""
    try:
        return step()
    except CloudorchError:
        raise
    except ElementProblem as exc:
        raise PluginBug(exc.cloud, f"provider {exc.cloud!r} broke a cross-cloud element: {exc}") from exc
    except Exception as exc:
        who = cloud or "provider"
        raise PluginBug(who, f"provider {who!r} failed: {type(exc).__name__}: {exc}") from exc
