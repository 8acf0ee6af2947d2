"""A resource billed partly by a volume nobody declares: the rest priced, that part listed as unpriced."""

from __future__ import annotations

from cloudorch import api
from tests.support import ROOT


def test_a_zone_is_priced_by_the_month_and_its_queries_listed_as_unknowable(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    plan = api.plan(ROOT / "stacks" / "webshop.yaml").plan
    zone = next(r for r in plan.resources if r.role == "dns-zone")
    priced = [line for line in plan.cost.lines if line["resource"] == zone.name]
    assert priced and priced[0]["basis"] == "price-list" and "dns_zone_month" in priced[0]["detail"]
    reason, = [u["reason"] for u in plan.cost.unpriced if u["resource"] == zone.name]
    # the price is published; the volume is what cannot be known
    assert "cannot know" in reason and "no published price" not in reason


def test_declared_queries_are_priced_by_how_the_records_route_them(monkeypatch, tmp_path):
    # webshop's zone is on Route 53 with latency records: 40 million queries at the latency rate
    text = (ROOT / "stacks" / "webshop.yaml").read_text()
    declared = text.replace("  steering: latency", "  queries_million_month: 40\n  steering: latency", 1)
    assert declared != text
    (tmp_path / "webshop.yaml").write_text(declared)
    monkeypatch.chdir(tmp_path)
    plan = api.plan(tmp_path / "webshop.yaml").plan
    zone = next(r for r in plan.resources if r.role == "dns-zone")
    line, = [line for line in plan.cost.lines if line["resource"] == zone.name]
    assert line["detail"] == "1 x dns_zone_month, 40 x dns_queries_million"
    assert line["monthly_usd"] == 0.5 + 40 * 0.6
    assert not [u for u in plan.cost.unpriced if u["resource"] == zone.name]
