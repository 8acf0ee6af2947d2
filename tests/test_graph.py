from __future__ import annotations

import pytest

from cloudorch.errors import SpecError
from cloudorch.graph import Edge, build_graph
from cloudorch.spec.loader import load_stack
from cloudorch.spec.models import Stack
from tests.support import ROOT


def test_webshop_graph_edges_and_order():
    graph = build_graph(load_stack(ROOT / "stacks" / "webshop.yaml").stack)
    assert set(graph.edges) == {
        Edge("web", "net", "network"), Edge("orders-db", "net", "network"), Edge("orders-db", "web", "near"),
        Edge("orders-db", "web", "ingress"), Edge("assets", "web", "near"),
    }
    order = graph.order()
    assert order.index("net") < order.index("web") < order.index("orders-db")
    assert order.index("web") < order.index("assets")
    assert graph.dependents("web") == ("assets", "orders-db")
    assert graph.targets("orders-db") == ("net", "web")


def test_order_is_stable():
    stack = load_stack(ROOT / "stacks" / "fraud-scoring.yaml").stack
    assert build_graph(stack).order() == build_graph(stack).order()


def test_programmatic_stack_with_dangling_reference_is_rejected():
    stack = Stack.model_validate({"stack": "s", "resources": {
        "web": {"kind": "compute", "network": "ghost", "cpu": 1, "memory_gb": 1}}})
    with pytest.raises(SpecError, match="problem") as info:
        build_graph(stack)
    assert "no resource named 'ghost'" in str(info.value.problems[0])
