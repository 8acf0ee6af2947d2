"""The pull-request comment (cloudorch.report.markdown), read with a real Markdown parser as GitHub reads it
(CommonMark with tables): every table whole, every value in its cell, under GitHub's size limit."""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

from cloudorch.plan import ResourceEntry
from cloudorch.report import MAX_CHARS, diff_plans, marker, to_markdown
from cloudorch.report.diff import Slot
from tests.report.plans import plan_with

PARSER = MarkdownIt("commonmark").enable("table")


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Each table of ``text`` as (header cells, rows of cells), in the parser's reading; and no line that
    looks like a table row is left outside a table (that is what a broken table looks like)."""
    tokens = PARSER.parse(text)
    found, in_table = [], set()
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            in_table |= set(range(*token.map))
            found.append(([], []))
        elif token.type == "tr_open":
            found[-1][1].append([])
        elif token.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            found[-1][1][-1].append(token.content)
    stray = [n for n, line in enumerate(text.splitlines()) if line.startswith("|") and n not in in_table]
    assert not stray, f"table-like lines outside any table: {stray[:5]}"
    return [(rows[0], rows[1:]) for _, rows in found]


def cells_text(text: str) -> list[str]:
    """Every table cell's text as GitHub shows it (after the parser undoes the escapes)."""
    rendered = PARSER.render(text)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", rendered, flags=re.S)]


def test_the_webshop_comment_has_a_headline_a_table_and_the_details_collapsed(webshop_change):
    _, before, after = webshop_change
    diff = diff_plans(before, after)
    text = to_markdown(diff)
    assert text.splitlines()[0] == marker("webshop") == "<!-- cloudorch-diff: webshop -->"
    total = diff.cost.total
    assert (f"**monthly cost +${total.delta:,.2f} (+{total.percent:.1f}%), 3 resources move, "
            f"{len(diff.findings.new)} new findings**") in text
    parsed = tables(text)
    header, rows = parsed[0]
    assert header == ["resource", "before", "after", "$/month before", "$/month after", "change"]
    web = next(r for r in rows if r[0] == "web")
    assert web[1].startswith("6 in ") and web[2].startswith("9 in ") and "europe-north1" not in web[2]
    for header, rows in parsed:
        assert all(len(row) == len(header) for row in rows)  # markdown-it pads or cuts a row that is not
    assert text.count("<details>") == text.count("</details>") == len(parsed) - 1
    assert "<summary>New findings (2)</summary>" in text
    parts = [c for c in diff.cost.by_network_part if c.delta]
    assert parts and f"<summary>Network cost by part, changed ({len(parts)})</summary>" in text
    assert [row[0] for row in next(rows for header, rows in parsed if header[0] == "part")] == [c.name for c in parts]
    assert to_markdown(diff_plans(before, after)) == text  # the same inputs, the same comment


def test_values_with_markdown_or_html_stay_inside_their_cell():
    hostile = "a | b <script>alert(1)</script> *x* `y` [l](http://e) \\ & done"
    policy = {"findings": [{"policy": "p.one", "severity": "high", "enforcement": "mandatory", "status": "fail",
                            "resource": "web", "cloud": "aws", "message": hostile}]}
    diff = diff_plans(plan_with([]), plan_with([], policy=policy))
    text = to_markdown(diff)
    assert "<script>" not in PARSER.render(text)
    findings = next(rows for header, rows in tables(text) if header[-1] == "message")
    assert len(findings) == 1 and findings[0][:4] == ["high", "mandatory", "p.one", "web"]
    assert cells_text(text)[-1] == hostile  # shown literally: no link, no emphasis, no code, no split cell


def test_a_huge_diff_is_cut_under_githubs_limit_and_says_so():
    resources = [ResourceEntry(name=f"web-{i:05d}-{'x' * 40}", cloud="aws", region="eu-west-1", type="aws:ec2/instance:Instance",
                               source="web", provider=None, inputs={}, depends_on=[]) for i in range(5000)]
    before = plan_with([Slot(cloud="aws", region="eu-west-1", instance_type="m7i.large", count=2)])
    after = plan_with([Slot(cloud="aws", region="eu-west-1", instance_type="m7i.large", count=5000)],
                      resources=resources)
    text = to_markdown(diff_plans(before, after))
    assert len(text) <= MAX_CHARS < len(to_markdown(diff_plans(before, after), limit=10**7))
    shown = len(tables(text)[-1][1])
    hidden = 5000 - shown
    assert 0 < shown and f"**Cut to fit GitHub's comment limit**: {hidden:,} rows are left out" in text
    assert f"…and {hidden:,} more rows" in text
    assert tables(text)[0][1][0][0] == "web"  # what matters most is never what is cut
    small = to_markdown(diff_plans(before, after), limit=20_000)
    assert len(small) <= 20_000 and "Cut to fit" in small


def test_nothing_changed_reads_as_such():
    plan = plan_with([Slot(cloud="aws", region="eu-west-1", instance_type="m7i.large", count=2)])
    text = to_markdown(diff_plans(plan, plan))
    assert "**no change to placement, resources, cost or findings**" in text
    assert "Cut to fit" not in text
