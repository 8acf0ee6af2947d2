"""The plan diff (cloudorch.report.diff): moves, rendered changes, cost and findings between two plans."""

from __future__ import annotations

import pytest

from cloudorch import api
from cloudorch.errors import ExitCode
from cloudorch.report import diff_plans, increase_refusal
from cloudorch.report.diff import Slot


def test_the_webshop_change_moves_web_and_the_database_and_prices_the_delta(webshop_change):
    root, before, after = webshop_change
    diff = api.diff(root / "before.json", root / "after.yaml",
                    api.Session(api.Options(config_path=str(root / "cloudorch.toml"))))
    assert diff == diff_plans(before, after)  # a saved plan and a stack planned now compare alike
    moves = {m.resource: m for m in diff.moves}
    web = moves["web"]
    assert web.status == "moved" and "count" in web.changes and "region" in web.changes
    assert sum(s.count for s in web.before) == 6 and sum(s.count for s in web.after) == 9
    assert any(s.region == "europe-north1" for s in web.before)
    assert not any(s.region == "europe-north1" for m in diff.moves for s in m.after)
    assert moves["orders-db"].changes == ["region"]  # same type, same count, another region
    total = diff.cost.total
    assert (total.before, total.after) == (before.cost.monthly_usd, after.cost.monthly_usd)
    assert total.delta == round(after.cost.monthly_usd - before.cost.monthly_usd, 2) > 0
    assert total.percent == round(100 * total.delta / total.before, 2)
    # the parts add up to the whole, per cloud and per resource
    assert round(sum(c.delta for c in diff.cost.by_cloud), 2) == pytest.approx(total.delta, abs=0.02)
    assert round(sum(c.delta for c in diff.cost.by_resource), 2) == pytest.approx(total.delta, abs=0.02)
    assert {c.name for c in diff.cost.by_resource} >= {"web", "orders-db", "net"}
    assert round(sum(c.delta for c in diff.cost.by_network_part), 2) == pytest.approx(
        after.cost.network_monthly_usd - before.cost.network_monthly_usd, abs=0.02)
    assert diff.changed and diff.moved == 3


def test_a_plan_saved_before_the_network_parts_compares_without_them(webshop_change):
    # a plan without network_by_part has a network all the same: every part would seem new
    _, before, after = webshop_change
    older = before.model_copy(update={"cost": before.cost.model_copy(update={"network_by_part": {}})})
    assert diff_plans(older, after).cost.by_network_part == []
    assert diff_plans(before, after).cost.by_network_part


def test_rendered_changes_name_what_was_added_removed_and_changed(webshop_change):
    _, before, after = webshop_change
    diff = diff_plans(before, after)
    names_before = {r.name for r in before.resources}
    names_after = {r.name for r in after.resources}
    by_status = {s: {r.name for r in diff.rendered if r.status == s} for s in ("added", "removed", "changed")}
    assert by_status["added"] == names_after - names_before
    assert by_status["removed"] == names_before - names_after
    assert by_status["changed"] and by_status["changed"] <= names_before & names_after
    resized = next(r for r in diff.rendered if r.status == "changed" and r.name.endswith("europe-west1-mig"))
    assert resized.fields == ["inputs.targetSize"]  # 2 -> 3 replicas in europe-west1


def test_findings_are_new_fixed_or_still_failing_counted_per_occurrence(webshop_change):
    _, before, after = webshop_change
    diff = diff_plans(before, after)
    failing = [f for f in after.policy["findings"] if f["status"] in ("fail", "error")]
    assert len(diff.findings.new) + len(diff.findings.still_failing) == len(failing)
    # a third GCP region's instances: one more of each finding GCP instances have, nothing else is new
    assert {(f.policy, f.cloud) for f in diff.findings.new} == {("compute.public-ip", "gcp"), ("encryption.disk-cmk", "gcp")}
    reverse = diff_plans(after, before)
    assert [f.policy for f in reverse.findings.fixed] == [f.policy for f in diff.findings.new]
    assert not reverse.findings.new


def test_the_new_finding_is_the_one_on_the_newly_rendered_resource(webshop_change):
    """Found by a user: a region sorting before the one already there (europe-west3 beside europe-west4)
    had the finding of the old region's template reported as the new one."""
    from tests.report.plans import plan_with

    def finding(rendered: str) -> dict:
        return {"policy": "encryption.disk-cmk", "severity": "low", "enforcement": "advisory", "status": "fail",
                "resource": "app", "rendered": rendered, "cloud": "gcp", "message": "disk 0 uses a platform-managed key"}

    west4, west3 = finding("app-gcp-europe-west4-template"), finding("app-gcp-europe-west3-template")
    base = plan_with([], policy={"findings": [west4]})
    wider = plan_with([], policy={"findings": [west4, west3]})
    diff = diff_plans(base, wider)
    assert [f.rendered for f in diff.findings.new] == ["app-gcp-europe-west3-template"]
    assert [f.rendered for f in diff.findings.still_failing] == ["app-gcp-europe-west4-template"]
    assert [f.rendered for f in diff_plans(wider, base).findings.fixed] == ["app-gcp-europe-west3-template"]
    # replicas moved to another region of the cloud: the same finding, still failing, not fixed and new again
    moved = diff_plans(base, plan_with([], policy={"findings": [west3]})).findings
    assert not moved.new and not moved.fixed and [f.rendered for f in moved.still_failing] == [west3["rendered"]]
    # the webshop's third GCP region: every new finding is on a rendered resource the change adds
    _, before, after = webshop_change
    added = {r.name for r in diff_plans(before, after).rendered if r.status == "added"}
    assert {f.rendered for f in diff_plans(before, after).findings.new} <= added


def test_a_plan_compared_with_itself_has_no_change(webshop_change):
    _, before, _ = webshop_change
    diff = diff_plans(before, before)
    assert not diff.changed and not diff.moves and not diff.rendered and not diff.findings.new
    assert diff.cost.total.delta == 0 and len(diff.findings.still_failing) == before.policy["summary"]["fail"]


def test_a_resource_added_or_removed_is_a_move_of_its_own(webshop_change):
    _, before, _ = webshop_change
    smaller = before.model_copy(update={"placements": [p for p in before.placements if p.resource != "assets"]})
    diff = diff_plans(smaller, before)
    assert [(m.resource, m.status, m.before, [s.region for s in m.after]) for m in diff.moves] == [
        ("assets", "added", [], [p.region for p in before.placements if p.resource == "assets"])]
    assert [m.status for m in diff_plans(before, smaller).moves] == ["removed"]


def test_replicas_shifted_between_the_same_regions_are_a_move():
    from tests.report.plans import plan_with

    a = plan_with([Slot(cloud="aws", region="eu-west-1", instance_type="m7i.large", count=2),
                   Slot(cloud="aws", region="eu-central-1", instance_type="m7i.large", count=1)])
    b = plan_with([Slot(cloud="aws", region="eu-west-1", instance_type="m7i.large", count=1),
                   Slot(cloud="aws", region="eu-central-1", instance_type="m7i.large", count=2)])
    assert [m.changes for m in diff_plans(a, b).moves] == [["region"]]
    c = plan_with([Slot(cloud="gcp", region="europe-west1", instance_type="n2-standard-2", count=3)])
    assert diff_plans(a, c).moves[0].changes == ["cloud", "region", "type"]


@pytest.mark.parametrize(("max_usd", "max_pct", "refused"), [
    (None, None, False), (366.18, None, True), (366.19, None, False), (None, 32.3, True), (None, 32.4, False),
    (1000, 10, True), (0, None, True)])
def test_the_budget_gate_on_the_change(max_usd, max_pct, refused):
    from tests.report.plans import costing

    diff = diff_plans(costing(1131.27), costing(1497.46))  # +$366.19, +32.37%
    refusal = increase_refusal(diff, max_usd, max_pct)
    assert (refusal is not None) == refused
    if refusal is not None:
        assert refusal.exit_code == ExitCode.OVER_BUDGET
        assert "+$366.19 (+32.4%)" in refusal.message and refusal.monthly_usd == 1497.46


def test_a_falling_cost_passes_any_gate_and_a_rise_from_nothing_fails_any_percentage():
    from tests.report.plans import costing

    assert increase_refusal(diff_plans(costing(100), costing(50)), 0, 0) is None
    rise = diff_plans(costing(0), costing(5))
    assert rise.cost.total.percent is None
    assert increase_refusal(rise, None, 1000) is not None and increase_refusal(rise, 5, None) is None
