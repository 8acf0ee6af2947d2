import pytest

from cloudorch.policy.values import covers, is_all_ports, port_range


@pytest.mark.parametrize("spec, all_ports", [("*", True), ("0-65535", True), ("1-65535", True), ("2-65535", False),
                                             ("22", False), ("-1", True), (-1, False)])
def test_is_all_ports(spec, all_ports):
    assert is_all_ports([port_range(spec)]) is all_ports


def test_covers():
    assert covers([(20, 25), (443, 443)], 22) and covers([(20, 25), (443, 443)], 443)
    assert not covers([(20, 25)], 26) and not covers([], 22)
