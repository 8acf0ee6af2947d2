"""The HTML report (cloudorch.report.html, `cloudorch report --html`): what it holds, that nothing from the
plan can inject markup, and, in headless Chromium, what a reviewer sees at desktop and phone widths."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from pathlib import Path

import pytest

from cloudorch.cli.app import main
from cloudorch.report import diff_plans
from cloudorch.report.diff import _by_resource
from cloudorch.report.html import CHART_BARS, to_html
from tests.report.plans import big_plan

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
HOSTILE_NAME = 'web"><svg onload="window.pwned=3">'


def hostile(plan):
    """``plan`` with a team policy's finding whose message is markup, on a resource whose name is too (a saved
    plan file is anyone's input)."""
    finding = {"policy": "team.<b>evil</b>", "title": HOSTILE, "severity": "high", "enforcement": "advisory",
               "status": "fail", "message": HOSTILE, "resource": HOSTILE_NAME, "rendered": HOSTILE, "cloud": "aws",
               "file": "x.yaml", "line": 1}
    placement = plan.placements[0].model_copy(update={"resource": HOSTILE_NAME})
    return plan.model_copy(update={"policy": {**plan.policy, "findings": [*plan.policy["findings"], finding]},
                                   "placements": [*plan.placements, placement]})


def test_the_page_shows_every_location_resource_cost_and_finding_and_is_the_same_every_time(webshop_change):
    _, before, _ = webshop_change
    page = to_html(before)
    assert page == to_html(before)
    for p in before.placements:
        assert f"{p.cloud}/{p.region}" in page and f">{p.resource}<" in page
    assert f"${before.cost.monthly_usd:,.2f}" in page
    for cloud, usd in before.cost.by_cloud.items():
        assert f">{cloud}: ${usd:,.2f}/month<" in page  # the chart's bar, by its title
    assert before.cost.network_by_part and all(f"{part} ${usd:,.2f}" in page for part, usd in before.cost.network_by_part.items())
    failing = [f for f in before.policy["findings"] if f["status"] == "fail"]
    assert failing and all(f">{f['policy']}: " in page and f">{f['message']}<" in page for f in failing)
    assert page.count('class="node"') == len({(p.cloud, p.region) for p in before.placements})
    assert page.count('<path class="link"') == 1 and page.count('<path class="flow"') == 2  # two regions -> the db's


def test_nothing_is_fetched_and_only_the_pages_own_style_and_script_may_run(webshop_change):
    _, before, _ = webshop_change
    page = to_html(before)
    assert not re.search(r"https?:|//[a-z]|\bsrc=|@import", page)
    assert re.findall(r"url\([^)]*\)", page) == ["url(#arrow)"] * page.count('class="flow"')
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in policy
    for tag in ("style", "script"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy
    assert page.count("<script>") == 1 and page.count("<style>") == 1


def test_markup_in_a_plan_is_shown_as_text(webshop_change):
    _, before, _ = webshop_change
    page = to_html(hostile(before))
    assert "<script>window" not in page and "<img" not in page and "<svg onload" not in page and "<b>evil" not in page
    assert "&lt;script&gt;window.pwned=2&lt;/script&gt;" in page and "team.&lt;b&gt;evil&lt;/b&gt;" in page
    assert 'web&quot;&gt;&lt;svg onload=&quot;window.pwned=3&quot;&gt;' in page


def test_against_a_base_plan_the_page_shows_what_moved_and_the_locations_left(webshop_change):
    _, before, after = webshop_change
    diff = diff_plans(before, after)
    page = to_html(after, diff)
    assert "What changed" in page and "monthly cost +$" in page
    for move in diff.moves:
        assert f"<td>{move.resource}</td><td>{move.kind}</td><td>{move.status}</td>" in page
    # europe-north1 ran half the web tier, the database and the bucket; excluded now, it stays as a ghost
    ghost = re.search(r'class="node ghost".*?</a>', page).group(0)
    left = sum(s.count for m in diff.moves for s in m.before if s.region == "europe-north1")
    assert "europe-north1" in ghost and f">-{left}<" in ghost and left >= 3
    assert "europe-north1" not in {p.region for p in after.placements}
    assert to_html(after) .count("What changed") == 0


def test_a_thousand_resources_are_one_node_per_location_collapsed_and_searchable():
    plan = big_plan()
    page = to_html(plan)
    locations = {(p.cloud, p.region) for p in plan.placements}
    assert page.count('class="node"') == len(locations) == 36
    assert page.count('<details id="loc-') == 36 and "<details id=\"loc-0\" data-group open" not in page
    assert page.count('<path class="flow"') == 120 and "120 busiest of" in page  # the rest listed, not drawn
    assert "more rows not shown" not in page  # every finding is there to be found
    assert len(page.encode()) < 4_000_000


def test_a_longer_list_shows_its_first_rows_and_counts_the_rest(monkeypatch):
    monkeypatch.setattr("cloudorch.report.html.MAX_ROWS", 7)
    page = to_html(big_plan(40))
    group = re.search(r"<summary>compute.public-ip: 40 failing.*?</details>", page, re.S).group(0)
    assert group.count("<tr data-s>") == 7 and "and 33 more rows not shown" in group


def test_report_command_writes_the_page_and_says_so(webshop_change, tmp_path, capsys, monkeypatch):
    root, before, after = webshop_change
    monkeypatch.chdir(root)
    out = tmp_path / "plan.html"
    assert main(["report", "after.json", "--html", str(out), "--compare-to", "before.json"]) == 0
    assert out.read_text() == to_html(after, diff_plans(before, after))
    assert capsys.readouterr().out.startswith(f"wrote {out} (")
    assert main(["report", "before.json", "--html", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"html": str(out), "bytes": len(to_html(before).encode())}
    assert out.stat().st_mode & 0o044  # for sharing, unlike mkstemp's private file


@pytest.mark.parametrize("args,message", [
    (["before.json"], "report needs --html FILE"),
    (["before.json", "--html", "."], "is a directory"),
    (["before.json", "--html", "missing/dir/x.html"], "cannot write the report"),
    (["nothing.json", "--html", "x.html"], "nothing.json"),
])
def test_report_refuses_bad_input_with_2_and_writes_nothing(webshop_change, capsys, monkeypatch, args, message):
    root, _, _ = webshop_change
    monkeypatch.chdir(root)
    assert main(["report", *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(root.glob("*.html")) and not list(root.glob(".x.html*"))


# -- as a person sees it: headless Chromium --------------------------------------------------------------

class Visit:
    """One page opened from its file in a fresh browser context: what it logged, asked for, and looked like."""

    def __init__(self, browser, path: Path, width: int):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.console, self.requests, self.dialogs = [], [], []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.context.route("**/*", self._route)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def _route(self, route):
        self.requests.append(route.request.url)
        route.continue_() if route.request.url == self.url else route.abort()

    def screenshot(self, path: Path) -> tuple[int, int]:
        """A full-page screenshot to ``path``; its width and height in pixels (from the PNG header)."""
        self.page.screenshot(path=str(path), full_page=True)
        return struct.unpack(">II", path.read_bytes()[16:24])

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser):
    opened = []

    def open_(path: Path, width: int = 1280) -> Visit:
        opened.append(Visit(browser, path, width))
        return opened[-1]

    yield open_
    for v in opened:
        v.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_chromium_shows_locations_costs_and_findings_without_errors_or_fetches(webshop_change, tmp_path, visit, width):
    root, before, after = webshop_change
    path = tmp_path / "report.html"
    path.write_text(to_html(after, diff_plans(before, after)))
    v = visit(path, width)
    shot_width, shot_height = v.screenshot(tmp_path / f"report-{width}.png")
    assert v.console == [] and v.requests == [v.url] and v.dialogs == []
    assert shot_width == width and shot_height > 1500  # nothing wider than the screen; the whole page drawn
    page = v.page
    for p in after.placements:
        node = page.locator("a.node", has=page.locator("text.region", has_text=re.compile(f"^{p.region}$")))
        assert node.count() == 1 and node.is_visible()
    assert "europe-north1" in page.locator("a.node.ghost").text_content()
    assert page.get_by_text(f"${after.cost.monthly_usd:,.2f}", exact=True).is_visible()
    bars = len(after.cost.by_cloud) + min(CHART_BARS, len(_by_resource(after)))
    assert page.locator("#cost svg.bars g").count() == bars
    failing = {f["policy"] for f in after.policy["findings"] if f["status"] == "fail"}
    for policy in failing:
        assert page.locator("summary", has_text=f"{policy}: ").is_visible()
    assert page.locator("#changes").is_visible() and page.locator("#changes td", has_text=re.compile("^moved$")).count() == 3


def test_chromium_runs_nothing_from_the_plan(webshop_change, tmp_path, visit):
    _, before, _ = webshop_change
    path = tmp_path / "hostile.html"
    path.write_text(to_html(hostile(before)))
    v = visit(path)
    assert v.page.evaluate("window.pwned") is None and v.dialogs == [] and v.console == []
    assert v.page.get_by_text(HOSTILE, exact=True).first.is_visible()  # the message, as text
    assert v.requests == [v.url]  # <img src=x> stayed text: nothing was asked for


def test_chromium_search_filters_a_thousand_resources(tmp_path, visit):
    path = tmp_path / "big.html"
    path.write_text(to_html(big_plan()))
    v = visit(path)
    page = v.page
    assert v.console == [] and page.locator("details[id^=loc-][open]").count() == 0
    page.fill("#q", "svc-0420")
    shown = page.locator("tr[data-s]:visible")
    texts = shown.all_inner_texts()
    assert texts and all("svc-0420" in t for t in texts)
    assert page.locator("#hits").inner_text() == f"{len(texts)} matching rows"
    where = next(p for p in big_plan().placements if p.resource == "svc-0420")
    assert page.locator("details[id^=loc-][open]", has_text=f"{where.cloud}/{where.region}").count() == 1
    assert page.locator("a.node:not(.miss)").count() == 1  # the map dims every other location
    page.fill("#q", "")
    assert page.locator("tr.miss").count() == 0


def test_what_the_egress_tiers_take_off_is_in_the_table_not_drawn_as_a_bar(tmp_path, monkeypatch):
    # found by review: the negative line was drawn as a 1-pixel bar over its own label and read "$-198.80"
    from cloudorch import api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.yaml").write_text("stack: b\nplacement: {clouds: [aws], geo: [eu]}\nresources:\n"
                                     "  assets: {kind: bucket, size_gb: 100, egress_gb_month: 50000}\n")
    page = to_html(api.plan(tmp_path / "b.yaml").plan)
    charts = page.split("By resource</figcaption>", 1)[1].split("</figure>", 1)[0]
    assert "assets" in charts and "egress tiers" not in charts
    assert "aws egress tiers" in page and "-$198.80" in page and "$-" not in page
