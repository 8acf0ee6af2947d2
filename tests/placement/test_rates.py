"""What a VPN link costs: each side's charges per link, and per tunnel times the link's tunnels."""

from __future__ import annotations

import pytest

from cloudorch import api
from cloudorch.catalog.network import HOURS_PER_MONTH
from cloudorch.placement.rates import network_rates, tunnels_per_link


@pytest.mark.parametrize(("a", "b", "tunnels"), [(2, 2, 2), (2, 4, 4), (4, 2, 4), (4, 4, 4)])
def test_two_gateways_of_two_addresses_each_have_two_tunnels_any_other_pair_four(a, b, tunnels):
    assert tunnels_per_link(a, b) == tunnels


def test_the_installed_clouds_price_a_link_by_its_tunnels():
    session = api.Session()
    providers = session.providers()
    rates = network_rates(session.catalog, api.network_shapes(providers, session.config))
    tunnel = 0.05 * HOURS_PER_MONTH  # GCP bills each HA VPN tunnel; AWS each connection (two a link)
    assert rates.link("azure", "gcp") == pytest.approx(2 * tunnel)  # found by review: four were billed
    assert rates.link("aws", "gcp") == pytest.approx(2 * tunnel + 4 * tunnel)
    assert rates.link("aws", "azure") == pytest.approx(2 * tunnel)  # Azure's connections are in its gateway
    assert {c: rates.vpn_interfaces[c] for c in ("aws", "azure", "gcp")} == {
        c: providers[c].vpn_interfaces for c in ("aws", "azure", "gcp")}


def test_each_built_in_shape_says_the_addresses_its_links_are_wired_to():
    # the bench prices links from the shapes directly: a shape left at the default priced AWS-GCP links for two
    # tunnels while four were rendered (found while measuring)
    for name, provider in api.Session().providers().items():
        assert provider.network_shape().vpn_interfaces == provider.vpn_interfaces, name
