"""Cross-cloud elements: one thing made of parts on several clouds.

A VPN link between AWS and GCP is a virtual private gateway and VPN connections on one side, an HA VPN
gateway, Cloud Router peers and tunnels on the other; a global DNS name is a record set on one cloud
pointing at balancers on all of them. No single provider can render such a thing: each side needs the
other side's outputs (tunnel addresses, gateway IPs), and each provider's resource names are its own.

So an element is split into endpoints, each rendered by its own cloud's provider. A side never names the
other provider's resources; it asks for an output the other side *exports* (``view.peer_output(...)``),
which is a placeholder in its inputs. Every side declares what it exports (references into its own
resources, or plain values); once all sides are rendered, ``resolve`` replaces each placeholder with an
ordinary ``{"$ref", "output"}`` reference, so the engine resolves it like any other, and the rendered-graph
check orders and closes the whole graph across providers.

Element kinds are a closed union discriminated on ``kind``; each kind states what each endpoint must
export, so a provider that forgets an output is caught here (a bug in that provider), not by Pulumi.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudorch.rendering.model import REF, RenderedResource, is_ref, relative_name

PEER = "$peer"

#: what an exported output is: a reference to one of the side's own resources, a list of them, or a
#: JSON value the side computed (an ASN, an address)
ExportShape = Literal["ref", "refs", "value"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Endpoint(_Frozen):
    """One side of an element: the location whose provider renders it."""

    cloud: str
    region: str | None = None
    network: str | None = Field(default=None, description="the stack network this side belongs to, if any")


class Element(_Frozen):
    """Base of every cross-cloud element kind. ``id`` is unique within a stack and stable across plans."""

    kind: str
    id: str = Field(min_length=1)
    endpoints: tuple[Endpoint, ...] = Field(min_length=2)

    def exports(self, index: int) -> Mapping[str, ExportShape]:
        """The outputs endpoint ``index`` must export for the others. Each kind overrides this."""
        raise NotImplementedError(f"element kind {self.kind!r} does not declare its exports")

    def clouds(self) -> tuple[str, ...]:
        return tuple(sorted({e.cloud for e in self.endpoints}))


def peer_ref(element: str, endpoint: int, output: str, item: int | None = None, *,
             relative_to: str = "") -> dict[str, Any]:
    """A placeholder for an output another endpoint exports; ``item`` picks one entry of a ``refs`` output;
    ``relative_to`` asks for the name relative to that DNS zone (``model.ref``)."""
    placeholder: dict[str, Any] = {PEER: element, "endpoint": endpoint, "output": output}
    if item is not None:
        placeholder["item"] = item
    if relative_to:
        placeholder["relative_to"] = relative_to
    return placeholder


def is_peer_ref(value: Any) -> bool:
    return isinstance(value, dict) and PEER in value


@dataclass(frozen=True)
class EndpointView:
    """What a provider is given to render one endpoint: the element, which side it is, and how to name the
    other sides' outputs."""

    element: Element
    index: int

    @property
    def endpoint(self) -> Endpoint:
        return self.element.endpoints[self.index]

    @property
    def peers(self) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.element.endpoints)) if i != self.index)

    def peer_output(self, output: str, item: int | None = None, *, endpoint: int | None = None,
                    relative_to: str = "") -> dict[str, Any]:
        """A reference to what another endpoint exports (the only other one, unless ``endpoint`` says);
        ``relative_to``: the name it holds relative to that DNS zone (``model.ref``)."""
        if endpoint is None:
            if len(self.peers) != 1:
                raise ValueError(f"element {self.element.id!r} has several other endpoints: name one")
            endpoint = self.peers[0]
        if endpoint == self.index:
            raise ValueError("an endpoint refers to its own resources directly, not through peer_output")
        if output not in self.element.exports(endpoint):
            raise ValueError(f"endpoint {endpoint} of {self.element.kind} {self.element.id!r} exports no {output!r}")
        return peer_ref(self.element.id, endpoint, output, item, relative_to=relative_to)


@dataclass(frozen=True)
class EndpointRendering:
    """A provider's rendering of one endpoint: its resources and what it exports to the other sides."""

    resources: tuple[RenderedResource, ...]
    exports: Mapping[str, Any]


class ElementProblem(ValueError):
    """An endpoint's rendering breaks the element's contract: always a provider bug, never the user's."""

    def __init__(self, cloud: str, message: str) -> None:
        super().__init__(message)
        self.cloud = cloud


def check_exports(element: Element, index: int, rendering: EndpointRendering,
                  shared: Collection[str] = ()) -> None:
    """Every declared output is exported in its shape, and every reference points at this side's resources:
    the endpoint's own, or ``shared`` ones its provider rendered for the site (the network a peering joins,
    the one VPN gateway a site's links share, a peering two links between the same networks share)."""
    cloud = element.endpoints[index].cloud
    own = {r.name for r in rendering.resources} | set(shared)
    where = f"endpoint {index} ({cloud}) of {element.kind} {element.id!r}"
    declared = element.exports(index)
    extra = sorted(set(rendering.exports) - set(declared))
    if extra:
        raise ElementProblem(cloud, f"{where} exports undeclared outputs: {', '.join(extra)}")
    for name, shape in declared.items():
        if name not in rendering.exports:
            raise ElementProblem(cloud, f"{where} does not export {name!r}")
        value = rendering.exports[name]
        refs = [value] if shape == "ref" else value if shape == "refs" else []
        if shape == "refs" and not isinstance(value, list | tuple):
            raise ElementProblem(cloud, f"{where}: {name!r} must be a list of references")
        if shape == "value" and (is_ref(value) or is_peer_ref(value)):
            raise ElementProblem(cloud, f"{where}: {name!r} must be a plain value")
        for item in refs:
            if not is_ref(item):
                raise ElementProblem(cloud, f"{where}: {name!r} must be a reference to one of its resources")
            if item[REF] not in own:
                raise ElementProblem(cloud, f"{where}: {name!r} refers to {item[REF]!r}, which this endpoint did not render")


def resolve(resources: list[RenderedResource],
            exports: Mapping[tuple[str, int], Mapping[str, Any]]) -> list[RenderedResource]:
    """Every peer placeholder replaced by what the named endpoint exports; unknown ones are provider bugs."""

    def substitute(value: Any, owner: RenderedResource) -> Any:
        if is_peer_ref(value):
            key = (value[PEER], value.get("endpoint"))
            found = exports.get(key, {})
            if value.get("output") not in found:
                raise ElementProblem(owner.cloud, f"resource {owner.name!r} asks for {value.get('output')!r} of "
                                                  f"endpoint {key[1]} of element {key[0]!r}, which exports no such output")
            out = found[value["output"]]
            if "item" in value:
                if not isinstance(out, list | tuple) or not 0 <= value["item"] < len(out):
                    raise ElementProblem(owner.cloud, f"resource {owner.name!r} asks for item {value['item']} of "
                                                      f"{value['output']!r} of element {key[0]!r}, which has no such item")
                out = out[value["item"]]
            if value.get("relative_to"):
                out = _relative(out, value["relative_to"], owner)
            return dict(out) if isinstance(out, dict) else out
        if isinstance(value, dict):
            return {k: substitute(v, owner) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v, owner) for v in value]
        return value

    out = []
    for res in resources:
        if _has_peer_ref(res.inputs):
            res = res.model_copy(update={"inputs": substitute(res.inputs, res)})
        out.append(res)
    return out


def _relative(export: Any, zone: str, owner: RenderedResource) -> Any:
    """An export asked for relative to ``zone``: a reference carries the transform to deploy time, a plain
    name is shortened now."""
    if is_ref(export) and export.get("relative_to", zone) == zone:
        return export | {"relative_to": zone}
    if isinstance(export, str):
        try:
            return relative_name(export, zone)
        except ValueError as exc:
            raise ElementProblem(owner.cloud, f"resource {owner.name!r}: {exc}") from None
    raise ElementProblem(owner.cloud, f"resource {owner.name!r} asks for {export!r} relative to {zone!r}: "
                                      "only a name or a single reference can be")


def _has_peer_ref(value: Any) -> bool:
    if is_peer_ref(value):
        return True
    if isinstance(value, dict):
        return any(_has_peer_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_peer_ref(v) for v in value)
    return False
