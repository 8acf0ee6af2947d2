"""Rendering across providers: cross-cloud elements, peer outputs, and who is to blame when it breaks.

Two toy providers ("left" and "right") render a toy tunnel element: each side renders a gateway with an
address and a connection that needs the *other* side's address. Neither knows the other's resource names;
the assembly resolves each side's peer placeholder into an ordinary reference into the other provider's
resources, and the engine's program then resolves it like any other reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import pytest

from cloudorch.errors import ExitCode, PluginBug, PluginError, SpecError
from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement
from cloudorch.provider import CloudProvider
from cloudorch.rendering import RenderedResource, ref
from cloudorch.rendering.assemble import render_stack
from cloudorch.rendering.elements import Element, EndpointRendering, EndpointView, peer_ref
from cloudorch.spec.loader import parse_stack

STACK = """\
stack: toy
resources:
  net: {kind: network, cidr: 10.0.0.0/16}
  web:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 4
"""


class Tunnel(Element):
    kind: Literal["toy-tunnel"] = "toy-tunnel"

    def exports(self, index: int) -> Mapping[str, Any]:
        # the sides are deliberately asymmetric: the right side also hands over a plain value
        return {"address": "ref"} if index == 0 else {"address": "ref", "asn": "value"}


class Toy(CloudProvider):
    name: ClassVar[str] = "toy"
    display_name: ClassVar[str] = "Toy"
    pulumi_plugins = ()
    images = ("ubuntu-24.04",)
    breaks: str | None = None

    def __init__(self, name: str, breaks: str | None = None) -> None:
        self.name, self.breaks = name, breaks

    def check(self, ctx):
        if self.breaks == "limit":
            return [ctx.problem(("resources", "web", "cpu"), f"{self.name} has no machine that small")]
        return []

    def render(self, ctx):
        if self.breaks == "crash":
            raise ValueError("index out of range")
        if self.breaks == "user-error":
            raise SpecError([ctx.problem(("resources", "net", "cidr"), "too small for this cloud")])
        cloud = "elsewhere" if self.breaks == "foreign" else self.name
        return [RenderedResource(name=f"{self.name}-vpc", type=f"{self.name}:net:Vpc", cloud=cloud)]

    def render_endpoint(self, ctx, view: EndpointView) -> EndpointRendering:
        me = self.name
        gateway_inputs: dict[str, Any] = {"vpc": ref(f"{me}-vpc")}
        if self.breaks == "cycle":  # the gateway itself waits for the peer, which waits for this gateway
            gateway_inputs["peer"] = view.peer_output("address")
        gateway = RenderedResource(name=f"{me}-gw", type=f"{me}:net:Gateway", cloud=me, inputs=gateway_inputs)
        conn = RenderedResource(name=f"{me}-conn", type=f"{me}:net:Connection", cloud=me, inputs={
            "gateway": ref(gateway.name), "remoteAddress": view.peer_output("address"),
            "remote": {"addresses": [view.peer_output("address")]},
        })
        exports: dict[str, Any] = {"address": ref(gateway.name, "publicIp")}
        if view.index == 1:
            exports["asn"] = 65010
            conn = conn.model_copy(update={"inputs": conn.inputs | {"note": "right"}})
        else:
            conn = conn.model_copy(update={"inputs": conn.inputs | {"remoteAsn": view.peer_output("asn")}})
        if self.breaks == "no-export":
            exports.pop("address")
        if self.breaks == "foreign-export":
            exports["address"] = ref("someone-elses-gw", "publicIp")
        if self.breaks == "unknown-output":
            conn = conn.model_copy(update={"inputs": {"x": peer_ref(view.element.id, 1 - view.index, "nope")}})
        return EndpointRendering(resources=(gateway, conn), exports=exports)


def _placement() -> PlacementResult:
    return PlacementResult(
        objective="cost",
        placements={"web": ResourcePlacement(resource="web", kind="compute", slots=())},
        networks=(NetworkBlock(network="net", cloud="left", region="l1", cidr="10.0.0.0/20"),
                  NetworkBlock(network="net", cloud="right", region="r1", cidr="10.0.16.0/20")),
    )


TUNNEL = Tunnel(id="net:left/l1~right/r1", endpoints=({"cloud": "left", "region": "l1", "network": "net"},
                                                     {"cloud": "right", "region": "r1", "network": "net"}))


def _render(left: str | None = None, right: str | None = None):
    loaded = parse_stack(STACK, "stacks/toy.yaml")
    return render_stack(loaded, _placement(), {"left": Toy("left", left), "right": Toy("right", right)}, [TUNNEL])


def test_each_side_refers_to_the_other_providers_resources_by_ordinary_references():
    by_name = {r.name: r for r in _render()}
    assert by_name["left-conn"].inputs["remoteAddress"] == {"$ref": "right-gw", "output": "publicIp"}
    assert by_name["right-conn"].inputs["remoteAddress"] == {"$ref": "left-gw", "output": "publicIp"}
    assert by_name["left-conn"].inputs["remote"] == {"addresses": [{"$ref": "right-gw", "output": "publicIp"}]}
    assert by_name["left-conn"].inputs["remoteAsn"] == 65010  # a value export arrives as the value
    assert "right-gw" in by_name["left-conn"].dependencies  # ordered across providers


def test_the_engine_resolves_references_across_providers(monkeypatch):
    pulumi = pytest.importorskip("pulumi")
    from cloudorch.engine.program import build_program

    class Mocks(pulumi.runtime.Mocks):
        registered: dict[str, Any] = {}
        addresses = {"left-gw": "203.0.113.1", "right-gw": "198.51.100.2"}

        def new_resource(self, args):
            self.registered[args.name] = args
            outputs = dict(args.inputs)
            if args.name in self.addresses:
                outputs["publicIp"] = self.addresses[args.name]
            return f"{args.name}-id", outputs

        def call(self, args):
            return {}

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="toy", stack="dev", preview=False)
    monkeypatch.setattr(pulumi, "export", lambda *a: None)
    program = build_program([r for r in _render()])

    @pulumi.runtime.test
    def run():
        program()

    run()
    assert mocks.registered["left-conn"].inputs["remoteAddress"] == "198.51.100.2"
    assert mocks.registered["right-conn"].inputs["remoteAddress"] == "203.0.113.1"
    assert mocks.registered["left-conn"].inputs["remoteAsn"] == 65010


@pytest.mark.parametrize(("right", "fragment"), [
    ("no-export", "does not export 'address'"),
    ("foreign-export", "which this endpoint did not render"),
    ("unknown-output", "exports no such output"),
    ("crash", "ValueError: index out of range"),
    ("foreign", "for cloud 'elsewhere'"),
])
def test_a_provider_breaking_the_contract_is_its_bug_exit_1_naming_it(right, fragment):
    with pytest.raises(PluginBug) as caught:
        _render(right=right)
    assert caught.value.exit_code == ExitCode.UNEXPECTED
    assert fragment in caught.value.message
    assert caught.value.plugin == "right"
    assert "right" in caught.value.hint and "not in your stack" in caught.value.hint


def test_a_cycle_across_providers_is_caught_by_the_graph_check():
    with pytest.raises(PluginBug, match="dependency cycle"):
        _render(left="cycle", right="cycle")


def test_limits_the_user_controls_are_reported_for_every_cloud_before_rendering_with_lines():
    with pytest.raises(SpecError) as caught:
        _render(left="limit", right="limit")
    err = caught.value
    assert err.exit_code == ExitCode.INVALID_INPUT
    assert [str(p) for p in err.problems] == [
        "stacks/toy.yaml:7: resources.web.cpu: left has no machine that small",
        "stacks/toy.yaml:7: resources.web.cpu: right has no machine that small",
    ]


def test_a_located_error_raised_while_rendering_stays_the_users_exit_2():
    with pytest.raises(SpecError) as caught:
        _render(right="user-error")
    assert [str(p) for p in caught.value.problems] == ["stacks/toy.yaml:3: resources.net.cidr: too small for this cloud"]


def test_an_element_on_a_cloud_without_a_plugin_is_an_installation_problem():
    loaded = parse_stack(STACK, "stacks/toy.yaml")
    with pytest.raises(PluginError, match="right") as caught:
        render_stack(loaded, _placement(), {"left": Toy("left")}, [TUNNEL])
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_peer_output_refuses_names_the_element_does_not_declare():
    view = EndpointView(TUNNEL, 0)
    assert view.peer_output("asn") == {"$peer": TUNNEL.id, "endpoint": 1, "output": "asn"}
    with pytest.raises(ValueError, match="exports no 'asn'"):
        EndpointView(TUNNEL, 1).peer_output("asn")
