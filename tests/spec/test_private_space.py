"""Private address space is RFC 1918 and IPv6 unique-local only: documentation, CGNAT and other special
ranges are not private (Python's ``is_private`` counts several of them), so a stack that names one is
reached from outside, over a public path."""

from __future__ import annotations

import pytest

from cloudorch.placement import bill
from cloudorch.rendering import RenderContext
from cloudorch.spec.models import Compute, Ingress, in_private_space
from tests.spec.test_loader import problems


@pytest.mark.parametrize(("cidr", "private"), [
    ("10.0.0.0/8", True), ("10.40.3.0/24", True), ("172.16.0.0/12", True), ("192.168.1.0/24", True),
    ("fd00::/8", True),
    ("203.0.113.0/24", False), ("198.51.100.7/32", False), ("192.0.2.0/24", False),  # RFC 5737
    ("100.64.0.0/10", False),  # CGNAT
    ("198.18.0.0/15", False),  # benchmarking
    ("52.94.0.0/16", False), ("0.0.0.0/0", False), ("2001:db8::/32", False),
    ("10.0.0.0/7", False),  # wider than the private block it starts in
])
def test_private_space(cidr, private):
    assert in_private_space(cidr) is private


@pytest.mark.parametrize(("source", "outside"), [
    ("internet", True), ("203.0.113.0/24", True), ("100.64.0.0/10", True), ("10.1.0.0/16", False), ("web", False),
])
def test_one_decision_for_the_public_address_and_the_bill(source, outside):
    spec = Compute(kind="compute", network="net", cpu=2, memory_gb=4, ingress=[Ingress(port=443, **{"from": source})])
    assert spec.ingress[0].from_outside_private_space is outside
    assert RenderContext.public_facing(spec) is outside
    assert bill.public_facing(spec) is outside


def test_a_network_must_be_private_space_not_a_special_range():
    [problem] = problems("stack: s\nresources:\n  net: {kind: network, cidr: 198.18.0.0/16}\n")
    assert "resources.net.cidr" in problem and "private range" in problem
