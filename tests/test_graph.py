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


def test_flow_ids_name_the_protocol_unless_tcp():
    """Found by a user audit: tcp and udp flows on one port had one id, so links, --explain and what keys on it merged them."""
    from cloudorch.graph import flow_id, flows_of
    from cloudorch.spec.loader import parse_stack
    from tests.cli.test_plan_output import DNS

    ranges = "      - {port: 5000, to_port: 5100, protocol: udp, from: app}\n" \
             "      - {port: 8000, to_port: 8001, protocol: tcp, from: app}\n"
    stack = parse_stack(DNS + ranges, "dns.yaml").stack
    # tcp ids are those of earlier plans
    assert [f.id for f in flows_of(stack)] == ["app->dns:53", "app->dns:53/udp", "app->dns:5000-5100/udp",
                                               "app->dns:8000-8001"]
    assert flow_id("web", "db", 5432, 5432, "tcp") == "web->db:5432"
