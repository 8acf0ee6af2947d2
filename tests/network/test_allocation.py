"""Blocks, ASNs and tunnel addresses: disjoint, deterministic, and never moved once recorded."""

from __future__ import annotations

import ipaddress
import json

import pytest

from cloudorch.errors import InfeasiblePlacement
from cloudorch.network.allocation import (
    ASN_FIRST,
    ASN_LAST,
    Allocation,
    allocate_asns,
    allocate_blocks,
    allocate_tunnels,
)
from cloudorch.network.record import RecordError, read_record, render_record, write_record

NET = {"net": "10.0.0.0/16"}
LOCATIONS = ["aws/us-east-1", "aws/eu-west-1", "azure/eastus", "gcp/us-central1", "gcp/europe-west4",
             "azure/westeurope", "aws/ap-south-1", "gcp/asia-east1", "azure/japaneast", "aws/us-west-2",
             "gcp/us-east1", "azure/uksouth"]


def sites(*locations: str, network: str = "net") -> list[tuple[str, str, str]]:
    return [(network, *loc.split("/")) for loc in locations]


def test_blocks_are_disjoint_inside_the_network_one_per_location():
    blocks = allocate_blocks(NET, sites(*LOCATIONS[:5]), Allocation())
    assert sorted(f"{b.cloud}/{b.region}" for b in blocks) == sorted(LOCATIONS[:5])
    nets = [ipaddress.ip_network(b.cidr) for b in blocks]
    assert all(n.subnet_of(ipaddress.ip_network("10.0.0.0/16")) and n.prefixlen == 20 for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_ten_locations_added_one_by_one_never_move_an_earlier_block(tmp_path):
    record = tmp_path / "s.network.json"
    seen: dict[tuple, str] = {}
    for n in range(2, 12):
        allocation = read_record(record)
        blocks = allocate_blocks(NET, sites(*LOCATIONS[:n]), allocation)
        now = {(b.cloud, b.region): b.cidr for b in blocks}
        assert {k: now[k] for k in seen} == seen, f"a block moved when location {n} was added"
        assert len(set(now.values())) == len(now)
        seen = now
        write_record(record, "s", allocation)


def test_a_first_allocation_depends_only_on_its_locations_not_their_order():
    assert allocate_blocks(NET, sites(*LOCATIONS), Allocation()) == allocate_blocks(NET, sites(*reversed(LOCATIONS)), Allocation())
    assert allocate_blocks(NET, sites(*LOCATIONS), Allocation()) == allocate_blocks(NET, sites(*LOCATIONS), Allocation())


def test_a_location_that_leaves_keeps_its_block_reserved_and_gets_it_back():
    allocation = Allocation()
    first = {(b.cloud, b.region): b.cidr for b in allocate_blocks(NET, sites(*LOCATIONS[:4]), allocation)}
    allocate_blocks(NET, sites(*LOCATIONS[1:4]), allocation)
    again = {(b.cloud, b.region): b.cidr for b in allocate_blocks(NET, sites(*LOCATIONS[:4]), allocation)}
    assert again == first


def test_a_changed_network_cidr_is_a_new_network():
    allocation = Allocation()
    allocate_blocks(NET, sites("aws/us-east-1"), allocation)
    blocks = allocate_blocks({"net": "10.9.0.0/16"}, sites("aws/us-east-1"), allocation)
    assert ipaddress.ip_network(blocks[0].cidr).subnet_of(ipaddress.ip_network("10.9.0.0/16"))


def test_a_network_too_small_for_its_locations_names_the_field():
    small = {"net": "10.0.0.0/20"}  # four /22 blocks
    assert len(allocate_blocks(small, sites("aws/a", "aws/b", "aws/c", "aws/d"), Allocation())) == 4
    with pytest.raises(InfeasiblePlacement, match="no block left") as err:
        allocate_blocks(small, sites("aws/a", "aws/b", "aws/c", "aws/d", "aws/e"), Allocation())
    assert err.value.conflicts == ["resources.net.cidr"]


def test_asns_are_private_distinct_and_kept():
    allocation = Allocation()
    first = allocate_asns(sites(*LOCATIONS), allocation)
    assert len(set(first.values())) == len(first)
    assert all(ASN_FIRST <= asn <= ASN_LAST and asn not in (65515, 65517, 65518, 65519, 65520) for asn in first.values())
    assert allocate_asns(sites(*LOCATIONS[3:]), allocation) == {k: first[k] for k in sites(*LOCATIONS[3:])}


def test_tunnels_get_disjoint_link_local_thirties_in_azures_apipa_range():
    allocation = Allocation()
    tunnels = allocate_tunnels([f"link-{i}" for i in range(32)], allocation)
    cidrs = [ipaddress.ip_network(t.inside_cidr) for ts in tunnels.values() for t in ts]
    assert len(cidrs) == 128 and len(set(cidrs)) == 128
    apipa = [ipaddress.ip_network("169.254.21.0/24"), ipaddress.ip_network("169.254.22.0/24")]
    assert all(c.prefixlen == 30 and any(c.subnet_of(r) for r in apipa) for c in cidrs)
    t = tunnels["link-0"][0]
    assert ipaddress.ip_address(t.a_address) in ipaddress.ip_network(t.inside_cidr)
    assert t.a_address != t.b_address
    with pytest.raises(InfeasiblePlacement, match="cross-cloud links") as refused:
        allocate_tunnels(["one-more"], allocation)
    assert "each of 32 links" in refused.value.message and "{" not in refused.value.message


def test_record_round_trips_and_is_one_entry_per_line(tmp_path):
    allocation = Allocation()
    allocate_blocks(NET, sites(*LOCATIONS[:3]), allocation)
    allocate_asns(sites(*LOCATIONS[:2]), allocation)
    allocate_tunnels(["l"], allocation)
    path = tmp_path / ".cloudorch" / "s.network.json"
    assert write_record(path, "s", allocation) is True
    assert write_record(path, "s", allocation) is False  # unchanged: not rewritten
    text = path.read_text()
    assert json.loads(text)["stack"] == "s"
    assert text == render_record("s", read_record(path))
    assert sum(1 for line in text.splitlines() if '"cidr"' in line) == 3


def test_a_broken_record_is_a_clear_error(tmp_path):
    path = tmp_path / "s.network.json"
    path.write_text('{"format": 1, "blocks": "no"}')
    with pytest.raises(RecordError, match="not a cloudorch allocation record"):
        read_record(path)
