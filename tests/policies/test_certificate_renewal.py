"""``encryption.lb-certificate-renewal`` on real plans: the webshop example (web served under one name from
AWS and two GCP regions) under each steering, and the remedies its remediation names.

The fixtures in ``cases.py`` pin the rule on hand-written resources; these hold it to what the providers
render and where placement puts the balancers, so a change on either side that makes a certificate
validated elsewhere, or a name served from elsewhere, shows up here.
"""

from __future__ import annotations

import pytest

from cloudorch import api
from tests.support import ROOT

POLICY = "encryption.lb-certificate-renewal"
WEBSHOP = (ROOT / "stacks" / "webshop.yaml").read_text(encoding="utf-8")
GOOGLE_MANAGED = "gcp:compute/managedSslCertificate:ManagedSslCertificate"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """The webshop with ``old -> new`` edits, planned (once per edit)."""
    done: dict[tuple[tuple[str, str], ...], object] = {}

    def planned(*edits: tuple[str, str]):
        if edits not in done:
            text = WEBSHOP
            for old, new in edits:
                assert old in text, old
                text = text.replace(old, new)
            path = tmp_path_factory.mktemp("stacks") / "webshop.yaml"
            path.write_text(text, encoding="utf-8")
            done[edits] = api.plan(path)
        return done[edits]

    return planned


def _steered(steering: str, *order: str) -> tuple[str, str]:
    return ("steering: latency", f"steering: {steering}" + (f"\n  order: [{', '.join(order)}]" if order else ""))


def _findings(result, status: str) -> dict[str, str]:
    return {f.rendered: f.message for f in result.report.findings if f.policy == POLICY and f.status == status}


def _locations(result) -> list[tuple[str, str]]:
    return sorted({(s.cloud, s.region) for s in result.placement.placements["web"].slots})


def _google_certificates(result) -> dict[str, str]:
    """rendered name -> the region of the balancer it serves"""
    return {r.name: r.region for r in result.rendered if r.type == GOOGLE_MANAGED}


@pytest.mark.parametrize("steering", ["latency", "weighted"])
def test_every_google_certificate_of_a_name_served_elsewhere_too_fails(plan, steering):
    result = plan() if steering == "latency" else plan(_steered(steering))
    google = _google_certificates(result)
    assert len(google) >= 2 and any(cloud != "gcp" for cloud, _ in _locations(result))  # the example's shape
    failed = _findings(result, "fail")
    assert set(failed) == set(google)
    for name, region in google.items():
        others = [f"{c}/{r}" for c, r in _locations(result) if (c, r) != ("gcp", region)]
        assert f"balancers in {', '.join(others)}, steered by {steering}" in failed[name]
    # ACM validates in the zone, wherever the name resolves
    assert {r.cloud for r in result.rendered if r.name in _findings(result, "pass")} == {"aws"}


def test_failover_validates_the_first_location_only(plan):
    primary = sorted(_google_certificates(plan()).values())[0]
    result = plan(_steered("failover", primary))
    google = _google_certificates(result)
    assert primary in google.values()
    failed = _findings(result, "fail")
    assert set(failed) == {name for name, region in google.items() if region != primary}
    assert all(f"answered by gcp/{primary} while it is healthy, never by this backup" in m for m in failed.values())
    assert {name for name, region in google.items() if region == primary} <= set(_findings(result, "pass"))


def test_serving_the_name_from_one_google_location_passes(plan):
    result = plan(("clouds: [aws, azure, gcp]", "clouds: [gcp]\n  regions: [europe-west4]"),
                  ("provider: aws", "provider: gcp"), ("min_clouds: 2", "min_clouds: 1"),
                  ("max_per_region: 3", "max_per_region: 6"))
    assert _locations(result) == [("gcp", "europe-west4")]
    assert not _findings(result, "fail")
    assert set(_findings(result, "pass")) == set(_google_certificates(result))


def test_keeping_the_name_off_google_passes_and_azure_serves_the_operators_certificate(plan):
    result = plan(("clouds: [aws, azure, gcp]", "clouds: [aws, azure]"))
    assert {c for c, _ in _locations(result)} == {"aws", "azure"}
    assert not _findings(result, "fail") and _findings(result, "pass")
    azure_only = plan(("clouds: [aws, azure, gcp]", "clouds: [azure]"), ("provider: aws", "provider: azure"),
                      ("min_clouds: 2", "min_clouds: 1"))
    [finding] = [f for f in azure_only.report.findings if f.policy == POLICY]
    assert finding.status == "not-applicable" and "Key Vault certificate" in finding.message


def test_the_quick_start_example_still_plans_and_the_remediation_names_its_remedies(plan):
    result = plan()
    finding = next(f for f in result.report.findings if f.policy == POLICY and f.status == "fail")
    assert finding.enforcement == "advisory" and finding.severity == "high"
    assert not result.report.blocking  # the Quick start exits 0
    for remedy in ("`placement.regions`", "`placement.clouds`", "`steering: weighted`", "`steering: failover`",
                   "DNS authorization"):
        assert remedy in finding.remediation, remedy
