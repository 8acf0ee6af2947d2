"""End-to-end plan benchmark: `cloudorch plan` on a 1,000-resource stack over a ~100,000-offering SkyPilot catalog.

Run: ``uv run --frozen python benchmarks/e2e_bench.py`` (``--resources N``, ``--seed S``, ``--profile``,
``--keep DIR`` to keep the written files). Every figure printed is measured in the same run.

The catalog of ``catalog_gen.py`` is written as SkyPilot-format ``<cloud>/vms.csv`` files (AWS rows per
availability-zone ID with an ``Arch`` column, GCP rows per zone without ``Arch`` and arm types named
t2a- / c4a- / n4a-, Azure rows per region with a quoted ``Generation`` column -- and an ``Arch`` column, see
AZURE_HEADER -- plus the retired ``_Promo`` and generation-1-only Azure rows real catalogs have, which the
reader must skip); it is read back and checked offering by offering. The stack of ``placement_bench.py`` is
written as a YAML file and its vCPU quotas as a ``cloudorch.toml``. Then, each in a fresh process, with a
private catalog cache (``CLOUDORCH_CACHE_DIR``) that starts empty:

1. ``cloudorch plan STACK --catalog DIR --config CFG --format json > /dev/null``: the first plan of this
   catalog, which parses it and fills the cache;
2. the same again (catalog from the cache);
3. the text output (``--explain`` off);
4. a breakdown: ``api.plan`` run in-process with each stage timed (imports, catalog, load + validate,
   placement, rendering, policy, plan document, text output);
5. with ``--profile`` (or when a target is missed): (2) under cProfile.

Wall time is measured around each child; peak RSS is the child's own ``ru_maxrss`` (``os.wait4``, the
per-child form of ``getrusage(RUSAGE_CHILDREN)``). The machine's other load is not controlled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
TARGET_WALL = 5.0
TARGET_RSS_MIB = 1024.0

AWS_HEADER = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuInfo", "Price",
              "SpotPrice", "Region", "AvailabilityZone", "Arch", "LocalDiskType", "NVMeSupported", "LocalDiskSize",
              "LocalDiskCount")
GCP_HEADER = ("InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount", "GpuInfo", "Region",
              "AvailabilityZone", "Price", "SpotPrice")
AZURE_HEADER = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuInfo", "Price",
                "SpotPrice", "Region", "Generation", "Arch")
# SkyPilot's Azure catalog has no Arch column, and the reader infers no Azure arm from names (its Arm SKUs,
# Standard_D2ps_v5 and the like, read as x86_64): the Arch column is added so that Azure's Arm offerings
# come through as arm64, as generated, instead of turning into cheap x86 offerings
#: Azure region names are one word with the geography inside (the reader infers the geo from the word)
AZURE_GEO_WORD = {"us": "us", "eu": "europe", "apac": "asia", "ca": "canada", "sa": "brazil", "me": "uae",
                  "af": "southafrica"}
#: GCP has no Arch column: the reader takes t2a- / c4a- / n4a- types as arm
GCP_ARM_PREFIX = {"5": "t2a-", "6": "t2a-", "7": "c4a-", "8": "n4a-"}


def _fmt(x: float | None) -> str:
    return "" if x is None else repr(float(x))


# ---------------------------------------------------------------- writing the catalog, stack and config

def region_name(cloud: str, name: str, geo: str) -> str:
    """A generated region name the reader's geo inference maps back to the same geography."""
    if cloud == "azure":
        return AZURE_GEO_WORD[geo] + name[len(geo):]  # euaz3 -> europeaz3
    return "ap-" + name[len("apac-"):] if name.startswith("apac-") else name  # apac-aw-1 -> ap-aw-1


def type_name(cloud: str, itype: str, arch: str) -> str:
    """A type name SkyPilot could publish. catalog_gen names AMD and Arm families alike (``a-ge5a.2x`` is
    both), which a real catalog never does and the reader would merge: Arm families get ``g`` instead."""
    if arch != "arm64":
        return itype
    if cloud == "gcp":
        return GCP_ARM_PREFIX[itype[4]] + itype[2:]  # g-ge7a.8x -> c4a-ge7a.8x
    return itype[:5] + "g" + itype[6:]  # a-ge7a.8x -> a-ge7g.8x


def zone_name(cloud: str, region: str, zone_index: int) -> str:
    if cloud == "aws":
        return f"{region.replace('-', '')}-az{zone_index + 1}"  # zone IDs, as SkyPilot's AWS catalog has them
    return f"{region}-{chr(ord('a') + zone_index)}"


def write_catalog(catalog, directory: Path) -> tuple[dict, int, dict]:
    """Write ``catalog`` as SkyPilot CSVs; returns the offerings the reader should produce, keyed by
    (cloud, region, type), the number of rows it must skip, and per-file row counts."""
    import csv

    from cloudorch.catalog.model import Offering

    regions = {(r.cloud, r.name): r for r in catalog.regions}
    expected: dict[tuple[str, str, str], Offering] = {}
    rows: dict[str, list[tuple]] = {"aws": [], "gcp": [], "azure": []}
    for o in catalog.offerings:
        region = regions[(o.cloud, o.region)]
        rname = region_name(o.cloud, o.region, region.geo)
        itype = type_name(o.cloud, o.instance_type, o.arch)
        acc, count = (o.accelerator or "", str(o.accelerator_count) if o.accelerator else "")
        if o.cloud == "azure":
            zones: tuple[str, ...] = ()
            rows["azure"].append((itype, acc, count, _fmt(o.vcpus), _fmt(o.memory_gib), "", _fmt(o.price),
                                  _fmt(o.spot_price), rname, "V1,V2", o.arch))
        else:
            zones = tuple(zone_name(o.cloud, rname, region.zones.index(z)) for z in o.zones)
            for zone in zones:
                if o.cloud == "aws":
                    rows["aws"].append((itype, acc, count, _fmt(o.vcpus), _fmt(o.memory_gib), "", _fmt(o.price),
                                        _fmt(o.spot_price), rname, zone, o.arch, "", "False", "", ""))
                else:
                    rows["gcp"].append((itype, _fmt(o.vcpus), _fmt(o.memory_gib), acc, count, "", rname, zone,
                                        _fmt(o.price), _fmt(o.spot_price)))
        assert (o.cloud, rname, itype) not in expected, (o.cloud, rname, itype)
        expected[(o.cloud, rname, itype)] = Offering(o.cloud, rname, itype, o.vcpus, o.memory_gib, o.arch, o.price,
                                                     o.spot_price, o.accelerator, o.accelerator_count,
                                                     tuple(sorted(zones)))
    # what real Azure catalogs also hold and the reader must skip: retired promotional SKUs and sizes that
    # boot generation-1 images only (Basic_A*), in every region
    skipped = 0
    for r in catalog.regions:
        if r.cloud != "azure":
            continue
        rname = region_name(r.cloud, r.name, r.geo)
        for size, (vcpus, mem, price) in enumerate(((1, 0.75, 0.018), (1, 1.75, 0.044), (2, 3.5, 0.088),
                                                      (4, 7.0, 0.176), (8, 14.0, 0.352))):
            rows["azure"].append((f"Basic_A{size}", "", "", _fmt(vcpus), _fmt(mem), "", _fmt(price),
                                  _fmt(price * 0.7), rname, "V1", "x86_64"))
            rows["azure"].append((f"a-ge5i.{2 ** (size + 1)}x_Promo", "", "", _fmt(2.0 ** (size + 1)),
                                  _fmt(4 * 2.0 ** (size + 1)), "", _fmt(0.04 * 2 ** (size + 1)), "", rname, "V1,V2",
                                  "x86_64"))
            skipped += 2
    counts = {}
    for cloud, header in (("aws", AWS_HEADER), ("gcp", GCP_HEADER), ("azure", AZURE_HEADER)):
        (directory / cloud).mkdir(parents=True, exist_ok=True)
        region_col, zone_col = header.index("Region"), header.index("AvailabilityZone") if "AvailabilityZone" in header else None
        rows[cloud].sort(key=lambda row: (row[0], row[region_col], row[zone_col] if zone_col is not None else ""))
        with (directory / cloud / "vms.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows[cloud])
        counts[cloud] = len(rows[cloud])
    return expected, skipped, counts


def write_stack(spec: dict, path: Path) -> None:
    import yaml

    path.write_text(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=120), encoding="utf-8")


def write_config(quotas: dict[str, float], path: Path) -> None:
    path.write_text("[vcpu_quotas]\n" + "".join(f'"{k}" = {v}\n' for k, v in quotas.items()), encoding="utf-8")


# ---------------------------------------------------------------- child processes

#: the children's catalog cache (set in main: a private one, fresh each run)
CACHE_ENV: dict[str, str] = {}


def run_child(command: list[str], *, stdout=subprocess.DEVNULL) -> tuple[float, float, int, str]:
    """Run ``command`` in a fresh process; returns wall seconds, its own peak RSS (MiB), exit code, stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CLOUDORCH_NO_CACHE", "COLUMNS")}
    env.update(CACHE_ENV)  # measure what users get: bytecode cached, catalog cache on
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    rss = usage.ru_maxrss / 1024 if platform.system() != "Darwin" else usage.ru_maxrss / 2**20
    return wall, rss, proc.returncode, text


def stages(catalog_dir: str, stack_path: str, config_path: str) -> None:
    """Child mode: ``api.plan`` in-process with each stage timed (wrapping the functions it calls, so the
    pipeline run is exactly the CLI's); prints one JSON line."""
    from collections import defaultdict
    from time import perf_counter

    started = perf_counter()
    import cloudorch.catalog
    import cloudorch.catalog.skypilot  # noqa: F401
    import cloudorch.graph
    import cloudorch.placement.planner as planner
    import cloudorch.plan
    import cloudorch.plugins  # noqa: F401
    import cloudorch.policy  # noqa: F401
    import cloudorch.rendering  # noqa: F401
    from cloudorch import api
    from cloudorch.cli import plan as cli_plan
    from cloudorch.cli.application import Application

    timings: dict[str, float] = defaultdict(float)
    timings["imports"] = perf_counter() - started

    def timed(label, fn):
        def wrapper(*args, **kwargs):
            t = perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[label] += perf_counter() - t
        return wrapper

    cloudorch.catalog.load_catalog = timed("catalog (load_catalog)", cloudorch.catalog.load_catalog)
    api.load_stack = timed("load + validate", api.load_stack)
    cloudorch.graph.build_graph = timed("load + validate", cloudorch.graph.build_graph)
    api.Session.providers = timed("providers", api.Session.providers)
    planner.plan_placement = timed("placement", planner.plan_placement)
    api.render = timed("rendering", api.render)
    api.check_policies = timed("policy", api.check_policies)
    api._build_plan = timed("plan document", api._build_plan)

    session = api.Session(api.Options(catalog_dir=catalog_dir, config_path=config_path, explain=True))
    t = perf_counter()
    result = api.plan(stack_path, session)
    in_plan = perf_counter() - t
    timings["other (vocabulary, settings)"] = in_plan - sum(v for k, v in timings.items() if k != "imports")
    t = perf_counter()
    document = result.plan.to_json()
    timings["plan document"] += perf_counter() - t
    t = perf_counter()
    cloudorch.plan.explain_section(result.placement)
    explain = perf_counter() - t
    t = perf_counter()
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        try:
            cli_plan._render(Application(), result, False)
        finally:
            sys.stdout = saved
    text_output = perf_counter() - t
    placement = result.placement
    print(json.dumps({
        "timings": timings, "explain_section": explain, "text_output": text_output, "total": perf_counter() - started,
        "monthly_usd": placement.monthly_usd, "placements": len(placement.placements),
        "slots": sum(len(p.slots) for p in placement.placements.values()),
        "rendered": len(result.rendered), "findings": len(result.plan.policy.get("findings", [])),
        "blocked": result.blocked, "document_bytes": len(document.encode()),
        "offerings": result.plan.catalog.offerings, "unparsed_rows": result.plan.catalog.unparsed_rows,
        "regions": len(session.catalog.regions),
        "by_geo": {g: sum(r.geo == g for r in session.catalog.regions) for g in session.catalog.geos},
    }))


def profile_child(out: str, argv: list[str]) -> None:
    """Child mode: the CLI under cProfile, stats dumped to ``out``."""
    import cProfile

    from cloudorch.cli.app import main as cli_main

    profiler = cProfile.Profile()
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        try:
            profiler.runcall(cli_main, argv)
        finally:
            sys.stdout = saved
    profiler.dump_stats(out)


#: the pipeline's stages, by the function that runs each (file suffix, function name)
PROFILE_STAGES = (
    ("catalog (load_catalog, cache hit)", "cloudorch/catalog/__init__.py", "load_catalog"),
    ("load + validate", "spec/loader.py", "load_stack"),
    ("graph", "cloudorch/graph.py", "build_graph"),
    ("placement", "placement/planner.py", "plan_placement"),
    ("  of which MILP (planner._solve)", "placement/planner.py", "_solve"),
    ("  of which explanations", "placement/explain.py", "explain"),
    ("rendering (all providers)", "cloudorch/api.py", "render"),
    ("policy evaluation", "cloudorch/api.py", "check_policies"),
    ("plan document (Plan built)", "cloudorch/api.py", "_build_plan"),
    ("  of which policy report to_dict", "policy/report.py", "to_dict"),
    ("Plan.to_json (json.dumps, indent=2)", "cloudorch/plan.py", "to_json"),
)


def print_profile(path: str, top: int = 25) -> None:
    import pstats

    stats = pstats.Stats(path)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        rows.append((ct, tt, nc, f"{_short(file)}:{line}({func})"))
    total = max(r[0] for r in rows)
    print(f"  stages (cumulative under the profiler, which inflates Python-heavy code; total {total:.2f} s):")
    for label, suffix, name in PROFILE_STAGES:
        ct = max((v[3] for (f, _, fn), v in stats.stats.items() if f.endswith(suffix) and fn == name), default=0.0)
        print(f"  {label:<38} {ct:6.2f}  {ct / total:5.1%}")
    print(f"  top {top} by cumulative time (cloudorch and extension code):")
    print(f"  {'cumulative':>10} {'own':>7} {'calls':>9}  function")
    shown = 0
    for ct, tt, nc, name in sorted(rows, reverse=True):
        if "cloudorch" in name or "highs" in name.lower() or name.startswith("~"):
            print(f"  {ct:10.2f} {tt:7.2f} {nc:9d}  {name}")
            shown += 1
            if shown >= top:
                break
    print("  top 12 by own time:")
    for ct, tt, nc, name in sorted(rows, key=lambda r: -r[1])[:12]:
        print(f"  {ct:10.2f} {tt:7.2f} {nc:9d}  {name}")


def _short(file: str) -> str:
    for marker in ("/cloudorch/", "/site-packages/", "/lib/python3"):
        if marker in file:
            return file[file.index(marker) + 1:]
    return file


# ---------------------------------------------------------------- main

def main() -> None:
    if sys.argv[1:2] == ["--profile-child"]:  # child mode; the CLI's own options follow
        sys.path.insert(0, str(ROOT))
        return profile_child(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="also profile the json run with cProfile")
    parser.add_argument("--keep", help="write the catalog, stack and config here and keep them")
    parser.add_argument("--stages", nargs=3, metavar=("CATALOG", "STACK", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        sys.path.insert(0, str(ROOT))
        return stages(*args.stages)

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from catalog_gen import generate_catalog
    from placement_bench import QUOTAS, build_stack

    from cloudorch.catalog.skypilot import read_skypilot_catalog
    from cloudorch.plugins import catalog_adapters

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="cloudorch-e2e-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        catalog_dir, stack_path, config_path = work / "catalog", work / "stack.yaml", work / "cloudorch.toml"

        started = time.perf_counter()
        catalog = generate_catalog(args.seed)
        expected, skipped, counts = write_catalog(catalog, catalog_dir)
        # placement_bench's stack, with the ownership tags the baseline pack requires (mandatory), so that the
        # plan is one a user could apply rather than one refused with exit 3; placement is unaffected
        spec = build_stack(args.resources)
        spec = {"stack": spec.pop("stack"), "tags": {"team": "bench", "env": "prod"}, **spec}
        write_stack(spec, stack_path)
        write_config(QUOTAS, config_path)
        size = sum(f.stat().st_size for f in catalog_dir.rglob("vms.csv"))
        print(f"catalog: {len(catalog.offerings):,} offerings written as {sum(counts.values()):,} SkyPilot rows "
              f"({', '.join(f'{c} {n:,}' for c, n in counts.items())}; {size / 2**20:.1f} MiB) incl. {skipped} "
              f"Azure _Promo / V1-only rows to skip; stack {stack_path.stat().st_size / 1024:.0f} KiB "
              f"({args.resources} compute resources); written in {time.perf_counter() - started:.1f} s")

        # the reader must give back exactly the generated offerings (category aside: SkyPilot has none)
        started = time.perf_counter()
        parsed = read_skypilot_catalog(catalog_dir, catalog_adapters())
        parse_time = time.perf_counter() - started
        got = {(o.cloud, o.region, o.instance_type): o for o in parsed.offerings}
        differ = sum(got.get(k) != v for k, v in expected.items())
        print(f"read back: {len(got):,} offerings ({len(set(got) - set(expected))} unexpected, {differ} differing "
              f"from the generated ones), {len(parsed.issues)} rows skipped (expected {skipped}), "
              f"{len(parsed.regions)} regions; parsed in {parse_time:.2f} s (in this process, no cache)")
        if differ or len(got) != len(expected) or len(parsed.issues) != skipped:
            raise SystemExit("the written catalog does not read back as generated")
        del parsed, got, catalog, expected

        py = sys.executable
        me = str(Path(__file__).resolve())
        cli = [py, "-m", "cloudorch.cli", "plan", str(stack_path), "--catalog", str(catalog_dir),
               "--config", str(config_path)]

        CACHE_ENV["CLOUDORCH_CACHE_DIR"] = str(work / "cache")  # private; the key names the catalog directory
        # warm-up: bytecode of every module the plan imports, as on users' machines (not timed)
        run_child([py, "-c", "import cloudorch.api, cloudorch.cli.app, cloudorch.cli.plan, cloudorch.catalog.skypilot, "
                   "cloudorch.catalog.cache, cloudorch.placement.planner, cloudorch.policy, cloudorch.plan, "
                   "cloudorch.plugins as p; [p.load_provider(n) for n in p.provider_names()]"])
        # end to end, one fresh process each: the first plan of this catalog parses it and fills the cache
        wall_cold, rss_cold, code_cold, err_cold = run_child([*cli, "--format", "json"])
        wall_json, rss_json, code_json, err_json = run_child([*cli, "--format", "json"])
        wall_text, rss_text, code_text, err_text = run_child(cli)

        # breakdown, cache warm like the runs above
        with tempfile.TemporaryFile() as out:
            wall, rss, code, err = run_child([py, me, "--stages", str(catalog_dir), str(stack_path), str(config_path)],
                                             stdout=out)
            out.seek(0)
            lines = out.read().decode().strip().splitlines()
        if code != 0 or not lines:
            raise SystemExit(f"breakdown run failed ({code}): {err[-2000:]}")
        b = json.loads(lines[-1])
        t = b["timings"]
        print(f"\nplan: {b['placements']:,} placements ({b['slots']:,} slots), ${b['monthly_usd']:,.2f}/month, "
              f"{b['rendered']:,} rendered resources, {b['findings']:,} policy findings"
              f"{' (blocked)' if b['blocked'] else ''}, JSON document {b['document_bytes'] / 2**20:.1f} MiB; "
              f"catalog {b['offerings']:,} offerings / {b['unparsed_rows']} rows skipped / {b['regions']} regions "
              f"{b['by_geo']}")


        print("\n== breakdown (one fresh process, api.plan in-process, stages timed; seconds)")
        stage_order = ("imports", "catalog (load_catalog)", "providers", "load + validate", "other (vocabulary, settings)",
                       "placement", "rendering", "policy", "plan document")
        for stage in stage_order:
            extra = f"  (of which explain section {b['explain_section']:.2f})" if stage == "plan document" else ""
            print(f"  {stage:<30} {t.get(stage, 0.0):6.2f}  {t.get(stage, 0.0) / b['total']:5.1%}{extra}")
        print(f"  {'text output (rich, not json)':<30} {b['text_output']:6.2f}")
        print(f"  {'in-process total':<30} {b['total']:6.2f}   (child wall {wall:.2f} s incl. interpreter start, "
              f"peak RSS {rss:.0f} MiB)")

        print("\n== end to end (`cloudorch plan`, one fresh process each; stdout to /dev/null)")
        placement_only = t["placement"]
        for label, w, r, c in (("json, first run (parse+cache)", wall_cold, rss_cold, code_cold),
                               ("json, catalog cached", wall_json, rss_json, code_json),
                               ("text, catalog cached", wall_text, rss_text, code_text)):
            ok = "meets" if w <= TARGET_WALL and r <= TARGET_RSS_MIB else "MISSES"
            print(f"  {label:<30} wall {w:5.2f} s (target <= {TARGET_WALL:.0f} s: {w / TARGET_WALL:4.2f}x), "
                  f"peak RSS {r:4.0f} MiB (target <= {TARGET_RSS_MIB:.0f}), exit {c}: {ok} the target")
        print(f"  end to end / placement only (same run, placement {placement_only:.2f} s): "
              f"json first run {wall_cold / placement_only:.2f}x, json cached {wall_json / placement_only:.2f}x, "
              f"text cached {wall_text / placement_only:.2f}x")
        for label, c, e in (("json first", code_cold, err_cold), ("json", code_json, err_json), ("text", code_text, err_text)):
            if c not in (0, 3):
                print(f"  {label} run failed with exit {c}: {e[-1500:]}")

        missed = max(wall_cold, wall_json, wall_text) > TARGET_WALL or max(rss_cold, rss_json, rss_text) > TARGET_RSS_MIB
        if args.profile or missed:
            stats = str(work / "plan.prof")
            wall_p, _, code_p, err_p = run_child([py, me, "--profile-child", stats, "plan", str(stack_path),
                                                  "--catalog", str(catalog_dir), "--config", str(config_path),
                                                  "--format", "json"])
            print(f"\n== cProfile of the json run ({wall_p:.2f} s under the profiler, exit {code_p})")
            if Path(stats).is_file():
                print_profile(stats)
            else:
                print(err_p[-2000:])


if __name__ == "__main__":
    main()
