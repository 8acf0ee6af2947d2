"""The webshop before and after a change a reviewer would see in a pull request: 6 -> 9 web replicas, and
europe-north1 (where half of it ran) excluded. Planned once per test session, in a project of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cloudorch import api
from tests.support import ROOT

BEFORE = (ROOT / "tests" / "data" / "webshop.yaml").read_text()
AFTER = BEFORE.replace("    count: 6 ", "    count: 9 ").replace(
    "  geo: [eu] ", "  exclude_regions: [europe-north1]\n  geo: [eu] ")


@pytest.fixture(scope="session")
def webshop_change(tmp_path_factory):
    """(directory, plan before, plan after)."""
    assert AFTER.count("count: 9") == 1 and "exclude_regions" in AFTER  # the edit above took
    root = tmp_path_factory.mktemp("webshop-change")
    (root / "cloudorch.toml").write_text("")
    (root / "before.yaml").write_text(BEFORE)
    (root / "after.yaml").write_text(AFTER)
    session = api.Session(api.Options(config_path=str(root / "cloudorch.toml")))
    before = api.plan(root / "before.yaml", session).plan
    after = api.plan(root / "after.yaml", session).plan
    (root / "before.json").write_text(before.to_json())
    (root / "after.json").write_text(after.to_json())
    return root, before, after


def _chromium() -> str | None:
    return shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if Path(p).exists()), None)


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        # the system browser, never one Playwright would download
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()
