"""How the Azure plugin reads security rules and storage into neutral facts: what only Azure spells so."""

from __future__ import annotations

from tests.support import describe_alone


def facts(type_: str, **inputs):
    return describe_alone("azure", type_, **inputs)


RULE = "azure-native:network:SecurityRule"


def test_service_tags_for_the_internet_read_as_the_whole_address_space():
    for tag in ("*", "Internet", "Any"):
        [rule] = facts(RULE, sourceAddressPrefix=tag, destinationPortRange="22").rules
        assert rule.peers == ("0.0.0.0/0",) and rule.admits
    [vnet] = facts(RULE, sourceAddressPrefix="VirtualNetwork", destinationPortRange="*", access="Deny").rules
    assert (vnet.peers, vnet.action, vnet.all_ports) == (("VirtualNetwork",), "deny", True)


def test_an_outbound_rules_far_end_is_its_destination():
    [rule] = facts(RULE, direction="Outbound", sourceAddressPrefix="10.0.0.0/8", destinationAddressPrefix="Internet",
                   destinationPortRange="443", protocol="Tcp").rules
    assert (rule.direction, rule.peers, rule.protocol, rule.admits) == ("egress", ("0.0.0.0/0",), "tcp", False)
