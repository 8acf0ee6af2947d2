"""Published network prices: the shipped file parses, covers what the placement needs, and the lookups are
exact (hand-computed tiers, GiB conversion, None where nothing is published)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from importlib.resources import files

import pytest

from cloudorch.catalog import load_catalog
from cloudorch.catalog.network import (
    GIB_PER_GB,
    UNITS,
    VPN_EGRESS_ITEM,
    NetworkPriceError,
    network_prices,
    parse_network_prices,
    path_scopes,
    price,
    tiered,
)

CLOUDS = ("aws", "azure", "gcp")
TEXT = files("cloudorch.catalog").joinpath("data", "network.csv").read_text(encoding="utf-8")
SOURCES = files("cloudorch.catalog").joinpath("data", "SOURCES.md").read_text(encoding="utf-8")
HEADER = "cloud,item,unit,usd,from_gb,to_gb,scope,source,note\n"


@pytest.fixture(scope="module")
def prices():
    return network_prices()


def test_the_shipped_file_parses_with_known_units_and_non_negative_prices(prices):
    assert len(prices.rows) >= 50
    assert {r.cloud for r in prices.rows} == set(CLOUDS)
    for row in prices.rows:
        assert row.unit in UNITS, row
        assert row.usd >= 0, row
        assert row.note and row.source, row


def test_every_source_key_is_explained_in_sources_md(prices):
    section = SOURCES[SOURCES.index("## Network prices"):]
    documented = set(re.findall(r"^#### `([a-z0-9-]+)`", section, flags=re.MULTILINE))
    assert {r.source for r in prices.rows} <= documented


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_cloud_prices_what_the_placement_needs(prices, cloud):
    assert prices.nat_gateway_hourly(cloud, 4) > 0
    assert prices.price(cloud, "nat_processed_gb") > 0
    assert prices.price(cloud, "public_ipv4_hour") > 0
    vpn = [prices.price(cloud, item) for item in ("vpn_gateway_hour", "vpn_connection_hour", "vpn_tunnel_hour")]
    assert any(p is not None and p > 0 for p in vpn)
    assert prices.price(cloud, "inter_region_gb", path_scopes("us", "us")) > 0
    egress = prices.tiers(cloud, VPN_EGRESS_ITEM)
    assert len(egress) >= 2 and egress[0].from_gb == 0 and egress[0].usd == 0  # a free allowance, then paid tiers


def test_tiers_are_contiguous_and_ordered(prices):
    keys = {(r.cloud, r.item, r.scope) for r in prices.rows}
    for key in keys:
        tiers = prices.tiers(*key)
        assert tiers[0].from_gb == 0, key
        for lower, upper in zip(tiers, tiers[1:]):
            assert lower.to_gb == upper.from_gb, key
        assert all(t.to_gb is not None for t in tiers[:-1]), key


def test_aws_egress_across_two_tier_boundaries_is_hand_computed(prices):
    # 100 GB free, then 10,140 GB at 0.09, then 9,760 GB at 0.085
    assert prices.tiered("aws", "internet_egress_gb", 20_000) == pytest.approx(10_140 * 0.09 + 9_760 * 0.085)
    assert prices.tiered("aws", "internet_egress_gb", 100) == 0
    assert prices.tiered("aws", "internet_egress_gb", 0) == 0
    assert prices.tiered("aws", "internet_egress_gb", 200_000) == pytest.approx(
        10_140 * 0.09 + 40_960 * 0.085 + 102_400 * 0.07 + 46_400 * 0.05)
    assert prices.price("aws", "internet_egress_gb") == 0.09  # the first paid tier, not the free allowance


def test_gib_priced_rows_are_converted_from_declared_gb(prices):
    gib = 2_000 * GIB_PER_GB  # 2,000 GB = 1,862.6 GiB: 1 GiB free, 1,023 GiB at 0.12, the rest at 0.11
    assert tiered("gcp", "internet_egress_gb", 2_000) == pytest.approx(1_023 * 0.12 + (gib - 1_024) * 0.11)
    assert price("gcp", "nat_processed_gb") == pytest.approx(0.045 * 10**9 / 2**30)


def test_unknown_items_scopes_and_volumes_are_none_never_zero(prices):
    assert prices.price("aws", "no_such_item") is None
    assert prices.tiered("gcp", "no_such_item", 10) is None
    assert prices.price("oracle", "nat_gateway_hour") is None
    # Azure publishes inter-region transfer only within a continent in what we found
    assert prices.price("azure", "inter_region_gb", path_scopes("us", "apac")) is None
    assert prices.price("azure", "inter_region_gb") is None
    # beyond the last tier found (Azure egress above 10 TB) the price is unknown, not extrapolated
    assert prices.tiered("azure", "internet_egress_gb", 10_240) == pytest.approx(10_140 * 0.0875)
    assert prices.tiered("azure", "internet_egress_gb", 10_241) is None


def test_scopes_resolve_most_specific_first_then_unscoped(prices):
    assert path_scopes("us", "eu") == ("between:eu-na", "inter-continent")
    assert path_scopes("ca", "us") == ("within:na", "same-continent")
    assert prices.price("gcp", "inter_region_gb", path_scopes("us", "eu")) == pytest.approx(0.05 * GIB_PER_GB)
    # the Asia-Europe price (Tokyo to Zurich in Google's example) is Asia's: without region names apac is
    # not known to be Asia
    assert prices.price("gcp", "inter_region_gb", path_scopes("apac", "eu", "asia-northeast1", "europe-west6")) \
        == pytest.approx(0.08 * GIB_PER_GB)
    assert prices.price("gcp", "inter_region_gb", path_scopes("apac", "eu")) is None
    # AWS bills inter-region transfer by the source region only: one unscoped row serves every path
    assert prices.price("aws", "inter_region_gb", path_scopes("us", "apac")) == 0.02
    assert prices.price("gcp", "kms_key_month", "hsm") == 1.0
    assert prices.price("gcp", "kms_key_month") == 0.06


def test_asia_pacific_splits_into_asia_and_oceania_by_region_name(prices):
    assert path_scopes("apac", "apac", "asia-southeast1", "asia-northeast1") == ("within:asia", "within:apac",
                                                                               "same-continent")
    assert path_scopes("apac", "apac", "australia-southeast1", "asia-south1") == ("between:asia-oceania",
                                                                                "within:apac", "inter-continent")
    assert path_scopes("apac", "apac", "australiaeast", "ap-southeast-2")[0] == "within:oceania"
    assert path_scopes("eu", "eu", "europe-west1", "europe-north1") == ("within:eu", "same-continent")
    # GCP (SOURCES.md gcp-transfer): within Europe and within Asia found; Oceania's own price was not, so a
    # Sydney path is unknown rather than priced as Asia's
    assert prices.price("gcp", "inter_region_gb", path_scopes("eu", "eu")) == pytest.approx(0.02 * GIB_PER_GB)
    assert prices.price("gcp", "inter_region_gb", path_scopes("apac", "apac", "asia-southeast1", "asia-south1")) \
        == pytest.approx(0.08 * GIB_PER_GB)
    assert prices.price("gcp", "inter_region_gb",
                        path_scopes("apac", "apac", "australia-southeast1", "australia-southeast1")) is None
    assert prices.price("gcp", "inter_region_gb", path_scopes("apac", "apac", "australia-southeast1", "asia-south1")) \
        is None


def test_gcp_cloud_nat_is_per_vm_up_to_32_then_flat(prices):
    assert prices.nat_gateway_hourly("gcp", 10) == pytest.approx(10 * 0.0014)
    assert prices.nat_gateway_hourly("gcp", 32) == pytest.approx(32 * 0.0014)
    assert prices.nat_gateway_hourly("gcp", 40) == 0.044
    assert prices.nat_gateway_hourly("aws", 40) == 0.045
    assert prices.nat_gateway_hourly("oracle", 1) is None


def test_an_azure_vpn_gateway_includes_ten_tunnels_and_bills_each_beyond(prices):
    from cloudorch.placement.rates import Charge, TunnelAllowance, tunnel_allowance

    assert prices.monthly("azure", "vpn_gateway_tunnel_hour", 10) == 0
    assert prices.monthly("azure", "vpn_gateway_tunnel_hour", 12) == pytest.approx(2 * 0.015 * 730)
    assert tunnel_allowance(prices, "azure", Charge("vpn_gateway_tunnel_hour")) == TunnelAllowance(10, 0.015 * 730)
    assert tunnel_allowance(prices, "gcp", Charge("vpn_gateway_tunnel_hour")) is None


def test_published_zeros_are_kept_apart_from_unknowns(prices):
    assert prices.price("gcp", "cloud_router_hour") == 0.0
    assert prices.price("aws", "vpn_gateway_hour") == 0.0
    assert prices.price("aws", "cloud_router_hour") is None


def test_azure_traffic_within_one_region_is_published_as_free_so_it_is_no_longer_unpriced(prices):
    # Microsoft doesn't charge across availability zones of one region (SOURCES.md az-bandwidth): a flow
    # between two resources of one Azure region was listed as unpriced, as if no one knew
    from cloudorch.placement.rates import network_rates
    from cloudorch.plugins import load_provider
    from cloudorch.catalog.embedded import embedded_catalog

    assert prices.price("azure", "inter_zone_gb", "same-region") == 0.0
    catalog = embedded_catalog()
    rates = network_rates(catalog, {"azure": load_provider("azure").network_shape()})
    assert ("azure", "eastus", "same-region") not in rates.unknown_gb
    assert rates.per_gb[("azure", "eastus", "same-region")] == 0.0


def test_digest_changes_when_a_price_changes():
    edited = TEXT.replace("aws,nat_gateway_hour,hour,0.045,", "aws,nat_gateway_hour,hour,0.046,")
    assert edited != TEXT
    assert parse_network_prices(TEXT).digest == network_prices().digest
    assert parse_network_prices(edited).digest != network_prices().digest
    embedded = load_catalog()
    assert embedded.network is network_prices()
    assert replace(embedded, network=parse_network_prices(edited)).digest != embedded.digest
    assert replace(embedded, network=None).digest != embedded.digest


@pytest.mark.parametrize(("rows", "line", "message"), [
    ("aws,x,furlong,1,,,,s,n\n", 2, "unknown unit 'furlong'"),
    ("aws,x,gb,-1,,,,s,n\n", 2, "must not be negative"),
    ("aws,x,gb,one,,,,s,n\n", 2, "usd 'one' is not a number"),
    ("aws,x,gb,1,5,5,,s,n\n", 2, "to_gb 5 must be above from_gb 5"),
    ("aws,x,gb,1,,,,,n\n", 2, "cloud, item and source are required"),
    ("aws,x,gb,1,,,,s,n,extra\n", 2, "10 fields, expected 9"),
    ("aws,x,gb,0,0,10,,s,n\naws,x,gb,1,20,,,s,n\n", 3, "tier starts at 20 but the previous one ends at 10"),
    ("aws,x,gb,0,0,10,,s,n\naws,x,gib,1,10,,,s,n\n", 3, "unit gib differs from gb on line 2"),
    ("aws,x,gb,1,,,,s,n\naws,x,gb,2,,,,s,n\n", 3, "the previous one ends at an open-ended tier"),
])
def test_a_malformed_row_is_reported_with_its_line(rows, line, message):
    with pytest.raises(NetworkPriceError) as caught:
        parse_network_prices(HEADER + rows)
    assert caught.value.line == line
    assert message in caught.value.message
    assert caught.value.message.startswith(f"network.csv:{line}: ")


def test_a_wrong_header_is_reported():
    with pytest.raises(NetworkPriceError, match=r"network.csv:2: header must be"):
        parse_network_prices("# comment\ncloud,item,usd\n")


def test_comment_lines_keep_line_numbers_right():
    with pytest.raises(NetworkPriceError) as caught:
        parse_network_prices("# one\n# two\n" + HEADER + "aws,x,furlong,1,,,,s,n\n")
    assert caught.value.line == 4


def test_importing_the_catalog_stays_light():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, cloudorch.catalog; cloudorch.catalog.network_prices(); "
         "print(sorted(m for m in ('pydantic', 'numpy', 'highspy', 'pulumi') if m in sys.modules))"],
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
