"""A record that contradicts itself (a merge of two branches, a hand edit) is refused whole when read, with
what is wrong, where, and how to fix it."""

from __future__ import annotations

import json

import pytest

from cloudorch.errors import ExitCode
from cloudorch.network.allocation import Allocation, allocate_asns, allocate_blocks
from cloudorch.network.record import RecordError, read_record, render_record, write_record


def block(network: str, location: str, cidr: str, network_cidr: str = "10.10.0.0/16") -> dict:
    cloud, region = location.split("/")
    return {"network": network, "cloud": cloud, "region": region, "network_cidr": network_cidr, "cidr": cidr}


def asn(network: str, location: str, number) -> dict:
    cloud, region = location.split("/")
    return {"network": network, "cloud": cloud, "region": region, "asn": number}


def record(tmp_path, blocks=(), asns=(), tunnels=()):
    path = tmp_path / ".cloudorch" / "s.network.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"format": 1, "stack": "s", "blocks": list(blocks), "asns": list(asns),
                                "tunnels": list(tunnels)}, indent=2))
    return path


def refused(path) -> RecordError:
    with pytest.raises(RecordError) as err:
        read_record(path)
    assert err.value.exit_code == ExitCode.INVALID_INPUT and str(path) in err.value.message
    return err.value


def test_two_branches_that_each_added_a_location_to_the_same_block_are_refused(tmp_path):
    # each branch allocated its new location the first free block; the merge keeps both lines
    path = record(tmp_path, [block("app", "aws/us-east-1", "10.10.0.0/20"),
                             block("app", "azure/eastus", "10.10.112.0/20"),
                             block("app", "gcp/us-central1", "10.10.112.0/20")])
    err = refused(path)
    assert "the blocks of app@azure/eastus and app@gcp/us-central1 are both 10.10.112.0/20" in err.message
    assert "remove one of the two entries" in err.hint and "free block on the next plan" in err.hint
    assert "applied" in err.hint


def test_overlapping_blocks_of_different_networks_are_not_a_contradiction(tmp_path):
    # unlinked networks may share address space; linked ones cannot (their CIDRs may not overlap)
    path = record(tmp_path, [block("a", "aws/us-east-1", "10.10.0.0/20"), block("b", "aws/us-east-1", "10.10.0.0/20")])
    assert len(read_record(path).blocks) == 2


def test_a_block_outside_its_network_or_not_one_of_its_blocks_is_refused(tmp_path):
    err = refused(record(tmp_path, [block("app", "aws/us-east-1", "10.11.0.0/20")]))
    assert "the block of app@aws/us-east-1, 10.11.0.0/20, is outside its network's CIDR 10.10.0.0/16" in err.message
    err = refused(record(tmp_path, [block("app", "aws/us-east-1", "10.10.0.0/21")]))
    assert "10.10.0.0/21, is not one of the /20 blocks 10.10.0.0/16 is split into" in err.message
    err = refused(record(tmp_path, [block("app", "aws/us-east-1", "10.10.0.1/20")]))
    assert "app@aws/us-east-1 is not an IPv4 block" in err.message


def test_one_site_listed_twice_with_two_blocks_is_refused(tmp_path):
    err = refused(record(tmp_path, [block("app", "aws/us-east-1", "10.10.0.0/20"),
                                    block("app", "aws/us-east-1", "10.10.16.0/20")]))
    assert "blocks lists app@aws/us-east-1 twice, as 10.10.0.0/20 in 10.10.0.0/16 and 10.10.16.0/20" in err.message
    # the same line twice (both branches added the same location alike) says nothing contradictory
    path = record(tmp_path, [block("app", "aws/us-east-1", "10.10.0.0/20")] * 2)
    assert read_record(path).blocks == {("app", "aws", "us-east-1"): ("10.10.0.0/16", "10.10.0.0/20")}


def test_an_asn_on_two_sites_is_refused(tmp_path):
    err = refused(record(tmp_path, asns=[asn("app", "aws/us-east-1", 64700), asn("app", "gcp/us-central1", 64700)]))
    assert "app@aws/us-east-1 and app@gcp/us-central1 have the same ASN 64700" in err.message
    assert "free ASN on the next plan" in err.hint


@pytest.mark.parametrize("number", [12, 65515, 65517, 65520, 64599, 65500, 4200000000])
def test_an_asn_outside_the_private_range_cloudorch_allocates_from_is_refused(tmp_path, number):
    err = refused(record(tmp_path, asns=[asn("app", "aws/us-east-1", number)]))
    assert f"the ASN of app@aws/us-east-1, {number}, is outside 64600-65499" in err.message


def test_an_asn_that_is_not_a_whole_number_is_not_a_record(tmp_path):
    with pytest.raises(RecordError, match="not a cloudorch allocation record"):
        read_record(record(tmp_path, asns=[asn("app", "aws/us-east-1", 64700.5)]))


def test_every_contradiction_is_named_up_to_five(tmp_path):
    asns = [asn("app", f"aws/r{i}", i) for i in range(7)]
    err = refused(record(tmp_path, asns=asns))
    assert err.message.count("is outside 64600-65499") == 5 and "(and 2 more)" in err.message


def test_what_the_allocator_writes_reads_back(tmp_path):
    allocation = Allocation()
    locations = [("app", "aws", f"r{i}") for i in range(16)]
    allocate_blocks({"app": "10.10.0.0/16"}, locations, allocation)
    allocate_asns(locations, allocation)
    allocate_blocks({"app": "10.10.0.0/15"}, locations[:3], allocation)  # a widened network: its blocks anew
    path = tmp_path / "s.network.json"
    write_record(path, "s", allocation)
    assert render_record("s", read_record(path)) == path.read_text()


def _allocations(count: int) -> list[Allocation]:
    """``count`` allocations that differ, each rendering to its own record."""
    out = []
    for i in range(count):
        allocation = Allocation()
        allocate_blocks({"app": f"10.{i}.0.0/16"}, [("app", "aws", "us-east-1"), ("app", "gcp", "us-central1")],
                        allocation)
        out.append(allocation)
    return out


def test_writers_of_one_record_at_once_never_leave_half_of_one(tmp_path):
    import threading

    path = tmp_path / ".cloudorch" / "s.network.json"
    allocations = _allocations(8)
    texts = {render_record("s", a) for a in allocations}
    failures: list[BaseException] = []
    start = threading.Barrier(len(allocations))

    def writer(allocation: Allocation) -> None:
        start.wait()
        try:
            for _ in range(40):
                write_record(path, "s", allocation)
                assert path.read_text() in texts
        except BaseException as exc:  # noqa: BLE001 - reported below, from the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(a,)) for a in allocations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert path.read_text() in texts
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_record_write_that_fails_keeps_the_old_record_and_leaves_nothing_beside_it(tmp_path, monkeypatch):
    import os

    path = tmp_path / ".cloudorch" / "s.network.json"
    old, new = _allocations(2)
    write_record(path, "s", old)
    before = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    monkeypatch.setattr(type(path), "replace", full_disk)
    with pytest.raises(OSError):
        write_record(path, "s", new)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
