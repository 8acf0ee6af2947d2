"""Blocks, ASNs and tunnel addresses: disjoint, deterministic, and never moved once recorded."""

from __future__ import annotations

import ipaddress
import json
import random

import pytest

from cloudorch.errors import InfeasiblePlacement
from cloudorch.network.allocation import (
    ASN_FIRST,
    ASN_LAST,
    Allocation,
    InsideAddressing,
    TunnelDemand,
    allocate_asns,
    allocate_blocks,
    allocate_tunnels,
    blocks_in,
    blocks_left,
    common_ranges,
    excluding,
    group_count,
    larger_network,
    renumberings,
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


@pytest.mark.parametrize("seed", range(20))
def test_every_placement_within_what_a_network_has_left_gets_its_blocks(seed):
    # what placement keeps to (the reserved locations and at most `free` others) is exactly what allocation
    # can give: any such set of locations gets a block each, and one location more than that never does
    rng = random.Random(seed)
    network = {"net": rng.choice(["10.0.0.0/20", "10.0.0.0/22", "10.0.0.0/19"])}
    allocation = Allocation()
    allocate_blocks(network, sites(*rng.sample(LOCATIONS, rng.randint(0, 4))), allocation)
    allocation.blocks[("net", "aws", "gone")] = ("10.9.0.0/20", "10.9.0.0/22")  # of the network's earlier CIDR
    allocation.blocks[("other", "aws", "us-east-1")] = ("10.1.0.0/20", "10.1.0.0/22")  # of another network
    left = blocks_left(network, allocation)["net"]
    assert left.blocks == blocks_in(int(network["net"].split("/")[1])) == 4
    assert left.reserved == {(s[1], s[2]) for s in allocation.blocks if s[0] == "net" and s[2] != "gone"}
    others = [loc for loc in LOCATIONS if tuple(loc.split("/")) not in left.reserved]
    kept = [f"{c}/{r}" for c, r in sorted(left.reserved) if rng.random() < 0.7]
    new = rng.sample(others, left.free)
    assert len(allocate_blocks(network, sites(*kept, *new), allocation.copy())) == len(kept) + len(new)
    with pytest.raises(InfeasiblePlacement, match="no block left"):
        allocate_blocks(network, sites(*kept, *new, others[-1] if others[-1] not in new else others[0]), allocation.copy())


@pytest.mark.parametrize("prefix", [18, 19, 20])
def test_the_hint_of_a_full_network_names_a_network_that_really_holds_more(prefix):
    # a /18, /19 and /20 all hold four blocks (/20s, /21s, /22s): only a /16 holds four times as many
    full = {"net": f"10.0.0.0/{prefix}"}
    allocation = Allocation()
    allocate_blocks(full, sites("aws/a", "aws/b", "aws/c", "aws/d"), allocation)
    with pytest.raises(InfeasiblePlacement) as err:
        allocate_blocks(full, sites("aws/a", "aws/b", "aws/c", "aws/d", "aws/e"), allocation)
    assert "a larger network holds more blocks (a /16 holds 16)" in err.value.hint


def test_every_suggested_larger_network_holds_more_blocks():
    for prefix in range(9, 21):
        larger = larger_network(prefix)
        assert larger is not None and 8 <= larger < prefix and blocks_in(larger) > blocks_in(prefix)
        assert blocks_in(larger) >= 4 * blocks_in(prefix) or larger == 8
        # and it is the smallest such: one bit longer holds fewer than four times as many
        assert larger == 8 or blocks_in(larger + 1) < 4 * blocks_in(prefix)
    assert larger_network(8) is None  # nothing private is larger than 10.0.0.0/8


def test_asns_are_private_distinct_and_kept():
    allocation = Allocation()
    first = allocate_asns(sites(*LOCATIONS), allocation)
    assert len(set(first.values())) == len(first)
    assert all(ASN_FIRST <= asn <= ASN_LAST and asn not in (65515, 65517, 65518, 65519, 65520) for asn in first.values())
    assert allocate_asns(sites(*LOCATIONS[3:]), allocation) == {k: first[k] for k in sites(*LOCATIONS[3:])}


SHARED = ("169.254.21.0/24", "169.254.22.0/24")
EVERYWHERE = ("169.254.0.0/16",)


def demand(link: str, a: str, b: str, ranges: tuple[str, ...] = SHARED) -> TunnelDemand:
    return TunnelDemand(link=link, gateways=(a, b), ranges=ranges)


def thirties(tunnels) -> list[ipaddress.IPv4Network]:
    return [ipaddress.ip_network(t.inside_cidr) for t in tunnels]


def test_links_that_share_a_gateway_get_disjoint_thirties_in_the_range_both_accept():
    allocation = Allocation()
    # a hub gateway with 32 links: every one of the range's 32 groups of four /30s, once each
    tunnels = allocate_tunnels([demand(f"link-{i}", "hub", f"spoke-{i}") for i in range(32)], allocation)
    cidrs = [c for ts in tunnels.values() for c in thirties(ts)]
    assert len(cidrs) == 128 and len(set(cidrs)) == 128
    apipa = [ipaddress.ip_network(r) for r in SHARED]
    assert all(c.prefixlen == 30 and any(c.subnet_of(r) for r in apipa) for c in cidrs)
    t = tunnels["link-0"][0]
    assert ipaddress.ip_address(t.a_address) in ipaddress.ip_network(t.inside_cidr)
    assert t.a_address != t.b_address
    with pytest.raises(InfeasiblePlacement, match="no inside addresses left") as refused:
        allocate_tunnels([demand("one-more", "hub", "elsewhere")], allocation)
    assert "hub" in refused.value.message and "{" not in refused.value.message


def test_links_on_different_gateways_may_reuse_addresses_so_a_stack_holds_more_than_32():
    """The clouds ask a tunnel's /30 unique per gateway (AWS per virtual private gateway, Azure per VPN
    gateway), not per stack: 40 links between 80 gateways all get addresses in the shared range."""
    allocation = Allocation()
    tunnels = allocate_tunnels([demand(f"link-{i}", f"a-{i}", f"b-{i}") for i in range(40)], allocation)
    assert len(tunnels) == 40
    assert len({c for ts in tunnels.values() for c in thirties(ts)}) < 160  # some /30s serve two links


def test_a_gateway_full_in_the_shared_range_goes_on_where_both_sides_accept_more():
    allocation = Allocation()
    aws_ranges = excluding("169.254.0.0/16", ("169.254.0.0/30", "169.254.1.0/30", "169.254.169.252/30"))
    tunnels = allocate_tunnels([demand(f"link-{i:02}", "gcp-net", f"aws-{i}", aws_ranges) for i in range(40)],
                               allocation)
    cidrs = [c for ts in tunnels.values() for c in thirties(ts)]
    assert len(set(cidrs)) == 160  # one gateway (the GCP network): all distinct
    shared = [ipaddress.ip_network(r) for r in SHARED]
    beyond = [c for c in cidrs if not any(c.subnet_of(r) for r in shared)]
    assert len(beyond) == 8 * 4  # the 33rd to 40th link, past the range every cloud accepts
    reserved = [ipaddress.ip_network(r) for r in ("169.254.0.0/30", "169.254.1.0/30", "169.254.169.252/30")]
    assert not any(c.overlaps(r) for c in beyond for r in reserved)


def test_a_departed_link_keeps_its_addresses_reserved_on_its_gateways_only():
    allocation = Allocation()
    first = allocate_tunnels([demand("gone", "x", "y")], allocation)["gone"]
    # "gone" leaves: a new link on gateway x must not take its addresses; one elsewhere may
    again = allocate_tunnels([demand("new", "x", "z")], allocation, departed=[demand("gone", "x", "y")])
    assert not set(thirties(again["new"])) & set(thirties(first))
    # a recorded link whose gateways are unknown (a hand-edited id) is reserved everywhere
    alone = Allocation()
    allocate_tunnels([demand("far", "p", "q")], alone)
    elsewhere = allocate_tunnels([demand("far", "p", "q")], Allocation(dict(), dict(), {"?": alone.tunnel_groups["far"]}))
    assert set(thirties(elsewhere["far"])).isdisjoint(thirties(allocate_tunnels([demand("far", "p", "q")], alone)["far"]))


def test_a_recorded_group_never_moves_even_where_a_new_link_hashes_to_it():
    allocation = Allocation()
    kept = allocate_tunnels([demand("l1", "x", "y")], allocation)["l1"]
    group = allocation.tunnel_groups["l1"]
    later = allocate_tunnels([demand("l0", "x", "y"), demand("l1", "x", "y"), demand("l2", "x", "w")], allocation)
    assert later["l1"] == kept and allocation.tunnel_groups["l1"] == group
    assert len({allocation.tunnel_groups[k] for k in ("l0", "l1", "l2")}) == 3


def test_random_meshes_never_give_one_gateway_a_thirty_twice():
    rng = random.Random(4)
    kinds = {"aws": ("site", excluding("169.254.0.0/16", ("169.254.0.0/30", "169.254.169.252/30"))),
             "azure": ("site", SHARED), "gcp": ("network", EVERYWHERE)}
    for _ in range(30):
        sites_ = [(f"n{rng.randint(0, 1)}", c, f"r{rng.randint(0, 6)}") for c in kinds for _ in range(rng.randint(1, 7))]
        sites_ = sorted(set(sites_))
        pairs = {tuple(sorted(rng.sample(sites_, 2))) for _ in range(rng.randint(1, 60))}
        pairs = [(a, b) for a, b in pairs if a[1] != b[1]]
        allocation, demands = Allocation(), []
        for a, b in pairs:
            addr = [InsideAddressing(ranges=kinds[s[1]][1], scope=kinds[s[1]][0]) for s in (a, b)]
            demands.append(TunnelDemand(link=f"{a}~{b}", gateways=(addr[0].gateway(a), addr[1].gateway(b)),
                                        ranges=common_ranges(addr[0].ranges, addr[1].ranges)))
        tunnels = allocate_tunnels(demands, allocation)
        seen: dict[str, set] = {}
        for d in demands:
            accepted = [ipaddress.ip_network(r) for r in d.ranges]
            for c in thirties(tunnels[d.link]):
                assert any(c.subnet_of(r) for r in accepted)
                for gateway in d.gateways:
                    assert c not in seen.setdefault(gateway, set()), (gateway, c)
                    seen[gateway].add(c)


def test_accepted_ranges_cut_and_meet():
    assert excluding("169.254.0.0/16", ("169.254.169.252/30", "169.254.169.0/24")) == excluding(
        "169.254.0.0/16", ("169.254.169.0/24",))
    assert "169.254.169.0/24" not in excluding("169.254.0.0/16", ("169.254.169.0/24",))
    assert common_ranges(SHARED, EVERYWHERE) == SHARED
    assert common_ranges(("169.254.21.0/24",), ("169.254.22.0/24",)) == ()
    # no range in common: the link cannot be given addresses, and says so
    with pytest.raises(InfeasiblePlacement, match="none"):
        allocate_tunnels([demand("l", "x", "y", ())], Allocation())


def test_the_first_group_is_still_where_records_of_the_first_format_point():
    tunnels = allocate_tunnels([demand("l", "x", "y")], Allocation(dict(), dict(), {"l": 0}))
    assert tunnels["l"][0].inside_cidr == "169.254.21.0/30" and group_count() == 4096


def test_record_round_trips_and_is_one_entry_per_line(tmp_path):
    allocation = Allocation()
    allocate_blocks(NET, sites(*LOCATIONS[:3]), allocation)
    allocate_asns(sites(*LOCATIONS[:2]), allocation)
    allocate_tunnels([demand("l", "x", "y")], allocation)
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


def test_a_record_naming_a_tunnel_group_that_does_not_exist_is_a_clear_error(tmp_path):
    path = tmp_path / "s.network.json"
    path.write_text(json.dumps({"format": 1, "stack": "s", "blocks": [], "asns": [],
                                "tunnels": [{"link": "l", "group": group_count()}]}))
    with pytest.raises(RecordError, match="tunnel group of l outside 0-4095"):
        read_record(path)


def test_a_record_edited_into_addresses_no_cloud_takes_is_a_clear_error():
    from cloudorch.errors import UsageError

    # a group outside the range both sides accept (group 32 is past Azure's APIPA range)
    with pytest.raises(UsageError, match="inside addresses its gateways do not accept") as refused:
        allocate_tunnels([demand("l", "x", "y")], Allocation({}, {}, {"l": 32}))
    assert refused.value.exit_code == 2 and "version control" in refused.value.hint
    # two links on one gateway with the same group
    with pytest.raises(UsageError, match="the VPN links a and b the same inside addresses .group 3. on the gateway x"):
        allocate_tunnels([demand("a", "x", "y"), demand("b", "x", "z")], Allocation({}, {}, {"a": 3, "b": 3}))
    # on different gateways the same group is fine
    assert len(allocate_tunnels([demand("a", "x", "y"), demand("b", "w", "z")], Allocation({}, {}, {"a": 3, "b": 3}))) == 2


def test_a_changed_network_cidr_says_which_recorded_blocks_move_and_which_are_let_go():
    allocation = Allocation()
    first = {(b.cloud, b.region): b.cidr for b in allocate_blocks(NET, sites(*LOCATIONS[:3]), allocation)}
    allocate_blocks({"other": "10.1.0.0/16"}, sites("aws/us-east-1", network="other"), allocation)
    recorded = dict(allocation.blocks)
    networks = {"net": "10.0.0.0/15", "other": "10.2.0.0/16"}  # "other" has no site in this plan: untouched
    blocks = allocate_blocks(networks, sites(*LOCATIONS[:2]), allocation)
    now = {(b.cloud, b.region): b.cidr for b in blocks}
    (change,) = renumberings(networks, recorded, blocks)
    assert (change.network, change.recorded_cidr, change.cidr) == ("net", "10.0.0.0/16", "10.0.0.0/15")
    assert change.moved == tuple(sorted((loc, first[tuple(loc.split("/"))], now[tuple(loc.split("/"))])
                                        for loc in LOCATIONS[:2] if first[tuple(loc.split("/"))] != now[tuple(loc.split("/"))]))
    assert change.released == (LOCATIONS[2],)
    assert "network 'net' is 10.0.0.0/15 now, recorded as 10.0.0.0/16" in change.describe()
    # an unchanged network moves nothing
    assert renumberings(networks, dict(allocation.blocks), blocks) == ()
