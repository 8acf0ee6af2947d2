"""The stack file's network fields: links between networks, flow volumes, internet egress, cross_cloud."""

from __future__ import annotations

from cloudorch.graph import flows_of
from cloudorch.spec.loader import parse_stack
from tests.spec.test_loader import problems

TWO_NETS = """\
stack: shop
placement: {cross_cloud: forbid}
resources:
  front: {kind: network, cidr: 10.0.0.0/16%s}
  back: {kind: network, cidr: %s}
  web: {kind: compute, network: front, cpu: 2, memory_gb: 4, egress_gb_month: 300}
  db:
    kind: database
    network: back
    engine: postgres
    version: "16"
    ingress: [{port: 5432, from: web, gb_month: 120}]
"""


def test_a_flow_between_linked_networks_loads_with_its_volume():
    stack = parse_stack(TWO_NETS % (", links: [back]", "10.1.0.0/16"), "shop.yaml").stack
    [flow] = flows_of(stack)
    assert (flow.source, flow.target, flow.port, flow.gb_month) == ("web", "db", 5432, 120)
    assert flow.id == "web->db:5432"
    assert stack.resources["web"].egress_gb_month == 300 and stack.placement.cross_cloud == "forbid"


def test_a_flow_between_unlinked_networks_names_the_fix():
    [problem] = problems(TWO_NETS % ("", "10.1.0.0/16"))
    assert problem.startswith("shop.yaml:12: resources.db.ingress[0].from:")
    assert "not linked" in problem and "links: [front]" in problem


def test_linked_networks_must_not_overlap():
    [problem] = problems(TWO_NETS % (", links: [back]", "10.0.128.0/17"))
    assert problem.startswith("shop.yaml:4: resources.front.links[0]:") and "overlaps" in problem


def test_a_link_names_a_network_other_than_itself():
    found = problems(TWO_NETS % (", links: [web, front]", "10.1.0.0/16"))
    assert any("resources.front.links[0]" in p and "is a compute, expected a network" in p for p in found)
    assert any("resources.front.links[1]" in p and "cannot refer to itself" in p for p in found)


def test_gb_month_belongs_to_flows_between_resources():
    text = TWO_NETS.replace("{port: 5432, from: web, gb_month: 120}", "{port: 5432, from: internet, gb_month: 5}")
    [problem] = problems(text % (", links: [back]", "10.1.0.0/16"))
    assert "resources.db.ingress[0]" in problem and "egress_gb_month" in problem


def test_volumes_are_not_negative_and_cross_cloud_is_allow_or_forbid():
    assert any("gb_month" in p for p in problems(TWO_NETS.replace("gb_month: 120", "gb_month: -1")
                                                 % (", links: [back]", "10.1.0.0/16")))
    assert any("cross_cloud" in p for p in problems(TWO_NETS.replace("forbid", "sometimes")
                                                    % (", links: [back]", "10.1.0.0/16")))
