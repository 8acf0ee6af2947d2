"""The network rules read protocols and port ranges: a UDP rule opens no SSH, and a range names itself."""

from __future__ import annotations

from cloudorch_policies import tokens as T
from cloudorch_policies.baseline.network import ADMIN_PORTS, ALL_PORTS, PUBLIC_INGRESS
from cloudorch_policies.baseline.database import PUBLIC as DATABASE_PUBLIC

from tests.policies.helpers import r, ref, run, stack, subject

UDP_ALL = "{kind: compute, network: net, cpu: 4, memory_gb: 16, ingress: [{port: 1, to_port: 65535, protocol: udp, from: internet}]}"
TCP_RANGE = "{kind: compute, network: net, cpu: 4, memory_gb: 16, ingress: [{port: 20, to_port: 25, from: 0.0.0.0/0}]}"


def _messages(policy, subj):
    return sorted(((f.rendered or ""), f.message) for f in run(policy, subj).findings if f.status == "fail")


def _sg(name, protocol, low, high):
    return r(name, T.AWS_SG_INGRESS, cidrIpv4="0.0.0.0/0", fromPort=low, toPort=high, ipProtocol=protocol,
             securityGroupId=ref("sg"))


def test_a_udp_rule_over_every_port_opens_no_admin_port():
    rendered = [_sg("udp", "udp", 1, 65535), _fw_udp()]
    assert _messages(ADMIN_PORTS, subject(stack(web=UDP_ALL), rendered)) == []


def _fw_udp():
    return r("fw", T.GCP_FIREWALL, sourceRanges=["0.0.0.0/0"], allows=[{"protocol": "udp", "ports": ["1-65535"]}],
             direction="INGRESS", network=ref("vpc"))


def test_tcp_by_protocol_number_and_every_protocol_still_count():
    rendered = [_sg("tcp6", "6", 22, 22), _sg("any", "-1", 0, 0)]
    found = _messages(ADMIN_PORTS, subject(stack(), rendered))
    assert ("tcp6", "port 22 (SSH) is open to the internet") in found
    assert {name for name, _ in found} == {"tcp6", "any"}


def test_a_range_is_named_as_a_range():
    assert _messages(ADMIN_PORTS, subject(stack(web=TCP_RANGE), [_sg("range", "tcp", 20, 30)])) == [
        ("", "ports 20-25 (including 22, SSH) are open to the internet"),
        ("range", "ports 20-30 (including 22, SSH) are open to the internet"),
    ]
    assert _messages(PUBLIC_INGRESS, subject(stack(web=TCP_RANGE))) == [
        ("", "ingress on tcp ports 20-25 is open to 0.0.0.0/0")]


def test_every_port_names_the_protocol():
    assert _messages(ALL_PORTS, subject(stack(web=UDP_ALL), [_sg("udp", "udp", 1, 65535)])) == [
        ("", "every udp port is open to the internet"), ("udp", "every udp port is open to the internet")]


def test_a_public_database_range_names_the_range():
    db = '{kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, to_port: 5433, from: internet}]}'
    assert _messages(DATABASE_PUBLIC, subject(stack(db=db))) == [("", "tcp ports 5432-5433 is open to internet")]
