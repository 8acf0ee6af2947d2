"""HTML report benchmark: `cloudorch report PLAN --html FILE` on the 1,000-resource stack of
placement_bench.py, and how long the page takes to load (and to search) in headless Chromium.

Run: ``uv run --frozen python benchmarks/report_bench.py`` (``--resources N``, ``--keep DIR``). The stack,
catalog and quotas are e2e_bench.py's; the stack is planned once (``plan --out``, not timed here: see
e2e_bench.py), then reported from the saved plan in fresh processes. Chromium is the system's
(/usr/bin/chromium), driven by playwright. Every figure printed is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = 3


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def in_chromium(page_path: Path, term: str) -> dict[str, float]:
    """Milliseconds: navigation to the load event (median of RUNS fresh pages), and one search keystroke."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    loads, searches = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        for _ in range(RUNS):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_path.as_uri())
            loads.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
            searches.append(page.evaluate("""term => { const q = document.getElementById('q'); q.value = term;
                const t = performance.now(); q.dispatchEvent(new Event('input')); return performance.now() - t; }""",
                                          term))
            if errors:
                raise SystemExit(f"the page logged errors: {errors[:3]}")
            page.close()
        browser.close()
    return {"load": statistics.median(loads), "search": statistics.median(searches)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="write the catalog, stack, plan and report here and keep them")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from catalog_gen import generate_catalog
    from e2e_bench import write_catalog, write_config, write_stack
    from placement_bench import QUOTAS, build_stack

    from cloudorch.plan.document import read_plan_file
    from cloudorch.report.html import to_html

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="cloudorch-report-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        catalog_dir, stack, config = work / "catalog", work / "stack.yaml", work / "cloudorch.toml"
        plan_file, page = work / "plan.json", work / "report.html"
        write_catalog(generate_catalog(args.seed), catalog_dir)
        spec = build_stack(args.resources)
        write_stack({"stack": spec.pop("stack"), "tags": {"team": "bench", "env": "prod"}, **spec}, stack)
        write_config(QUOTAS, config)
        env_cache = {"CLOUDORCH_CACHE_DIR": str(work / "cache")}
        os.environ.update(env_cache)
        py = sys.executable
        started = time.perf_counter()
        subprocess.run([py, "-m", "cloudorch.cli", "plan", str(stack), "--catalog", str(catalog_dir), "--config",
                        str(config), "--out", str(plan_file)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        planned = time.perf_counter() - started

        plan = read_plan_file(plan_file)[0]
        findings = sum(1 for f in plan.policy.get("findings", []) if f.get("status") in ("fail", "error"))
        locations = len({(p.cloud, p.region) for p in plan.placements})
        print(f"plan: {len({p.resource for p in plan.placements}):,} resources in {len(plan.placements):,} placements "
              f"over {locations} locations, {len(plan.resources):,} rendered resources, {findings:,} failing "
              f"findings, {len(plan.network.flows) if plan.network else 0:,} flows; plan file "
              f"{plan_file.stat().st_size / 2**20:.1f} MiB (planned in {planned:.0f} s, not part of the figures below)")

        walls = [timed([py, "-m", "cloudorch.cli", "report", str(plan_file), "--html", str(page)]) for _ in range(RUNS)]
        started = time.perf_counter()
        html = to_html(plan)
        render = time.perf_counter() - started
        size = page.stat().st_size
        print(f"report --html (fresh process, saved plan; median of {RUNS}): {statistics.median(walls):.2f} s wall "
              f"(min {min(walls):.2f}); to_html alone in-process {render:.2f} s; page {size / 2**20:.2f} MiB "
              f"({size:,} bytes; {len(html.encode()) == size and 'same bytes as the command' or 'DIFFERS'})")

        if shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists():
            print("chromium: not installed, no load time (apt-get install chromium)")
            return
        term = plan.placements[len(plan.placements) // 2].resource
        timing = in_chromium(page, term)
        print(f"chromium (headless, 1280 px, median of {RUNS} fresh pages): load event at {timing['load']:.0f} ms; "
              f"a search for {term!r} filters the page in {timing['search']:.0f} ms")


if __name__ == "__main__":
    main()
