"""Network benchmark: the whole bill (sites, links, traffic) at scale, its LP gap, and what ignoring it costs.

Run: ``uv run --frozen python benchmarks/network_bench.py`` (``--resources N``, ``--flows F``). Every figure
printed is measured in the same run; benchmarks/README.md records one run's output.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_gen import generate_catalog  # noqa: E402
from placement_bench import CLOUDS, QUOTAS, build_stack, demands_of, independent_greedy, peak_rss_mib  # noqa: E402

from cloudorch.catalog.network import network_prices  # noqa: E402
from cloudorch.placement import milp  # noqa: E402
from cloudorch.placement.bill import network_cost, network_terms  # noqa: E402
from cloudorch.placement.candidates import PlacementSettings  # noqa: E402
from cloudorch.placement.planner import plan_placement  # noqa: E402
from cloudorch.placement.problem import Problem  # noqa: E402
from cloudorch.placement.rates import network_rates  # noqa: E402
from cloudorch.plugins import load_provider  # noqa: E402
from cloudorch.spec.models import Stack  # noqa: E402


def with_flows(spec: dict, flows: int, seed: int = 5) -> dict:
    """``flows`` ingress entries between resources, each with a monthly volume; mostly to nearby resources
    (services call a few neighbours), some fan-in to a few shared ones."""
    rng = random.Random(seed)
    names = [n for n, r in spec["resources"].items() if r["kind"] == "compute"]
    hubs = names[:: max(1, len(names) // 20)]
    added = 0
    pairs = set()
    while added < flows:
        target = rng.choice(names)
        source = rng.choice(hubs) if rng.random() < 0.2 else names[(names.index(target) + rng.randint(1, 15)) % len(names)]
        if source == target or (source, target) in pairs:
            continue
        pairs.add((source, target))
        spec["resources"][target].setdefault("ingress", []).append(
            {"port": 8000 + added % 1000, "from": source, "gb_month": rng.choice((0, 10, 50, 200, 1000, 5000))})
        added += 1
    return spec


def rates_for(catalog):
    providers = {c: load_provider(c) for c in CLOUDS}
    return (network_rates(replace(catalog, network=network_prices()), {c: p.network_shape() for c, p in providers.items()}),
            frozenset(c for c, p in providers.items() if p.global_network))


def run(stack: Stack, catalog, settings) -> tuple[float, float, object]:
    """Wall time, peak RSS and the plan; ``run.cpu`` keeps the CPU time (what a shared machine's load
    inflates least)."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    result = plan_placement(stack, catalog, settings, explain_choices=False)
    run.cpu = time.process_time() - cpu
    return time.perf_counter() - started, peak_rss_mib(), result


def study(catalog, rates, global_clouds, seed: int) -> tuple[int, int, float, float]:
    """A small stack where traffic binds: cost of the per-resource greedy choice (each resource's cheapest
    machine, wherever it is; then billed for the network it implies) against the planner's."""
    rng = random.Random(seed)
    n = rng.choice((4, 6, 8))
    spec = build_stack(n, seed=seed, coupled=False)
    spec = with_flows(spec, n + 2, seed=seed)
    for r in spec["resources"].values():
        for rule in r.get("ingress", []):
            rule["gb_month"] = rng.choice((200, 1000, 3000))
    stack = Stack.model_validate(spec)
    settings = PlacementSettings(clouds=CLOUDS, rates=rates, global_clouds=global_clouds)
    planned = plan_placement(stack, catalog, settings, explain_choices=False)
    demands = demands_of(stack, catalog, settings)
    greedy = independent_greedy(demands)
    assignment = {name: tuple((o, reps.count(o)) for o in sorted(set(reps), key=lambda o: o.sort_key))
                  for name, reps in greedy.items()}
    terms = network_terms(stack, tuple(demands), rates, global_clouds)
    greedy_total = sum(o.monthly_usd for reps in greedy.values() for o in reps) + network_cost(terms, assignment).monthly_usd
    flows = sum(len(r.get("ingress", [])) for r in spec["resources"].values())
    return n, flows, greedy_total, planned.monthly_usd


def _whole_bill(spec: dict, catalog, rates, global_clouds, resources: int, queue, plain_wall: float) -> None:
    flowing = Stack.model_validate(spec)
    settings = PlacementSettings(clouds=CLOUDS, vcpu_quotas=QUOTAS, rates=rates, global_clouds=global_clouds)
    wall, rss, result = run(flowing, catalog, settings)
    net = result.network_cost
    gap = (result.monthly_usd - result.lower_bound_monthly_usd) / result.monthly_usd
    # this machine's speed drifts by a quarter within minutes: the ratio to the run without the network, in
    # the same minute, is the figure the code controls (wall to wall: the floors run beside HiGHS, so CPU
    # counts two cores' time)
    per_site = Counter(end.strip() for x in net.lines if x.kind == "vpn-link" for end in x.what.split(" ~ "))
    busiest = max(per_site.items(), key=lambda kv: (kv[1], kv[0])) if per_site else None
    out = [f"wall {wall:.2f} s (target <= 10 s; {wall / plain_wall:.2f}x the run without the network), CPU "
           f"{run.cpu:.2f} s, peak RSS {rss:.0f} MiB (target <= 1024 MiB)",
           f"${result.monthly_usd:,.2f}/month = machines ${result.machines_monthly_usd:,.2f} + network "
           f"${net.monthly_usd:,.2f} ({sum(1 for x in net.lines if x.kind == 'vpn-link')} VPN links, "
           f"{sum(1 for x in net.lines if x.kind == 'site')} sites; the busiest gateway ends {busiest[1] if busiest else 0}: "
           f"{busiest[0] if busiest else '-'}; limits {({c: g.links for c, g in settings.rates.vpn_gateways.items()})})",
           f"lower bound ${result.lower_bound_monthly_usd:,.2f}: gap {gap:.5%} (target <= 0.1%)",
           f"search: {result.search_stopped or 'proved optimal'}"]
    unlimited = replace(settings, rates=replace(settings.rates, vpn_gateways={}))
    wall_free, _, free = run(flowing, catalog, unlimited)
    out.append(f"the same without the gateways' limits: wall {wall_free:.2f} s, ${free.monthly_usd:,.2f}/month, "
               f"{sum(1 for x in free.network_cost.lines if x.kind == 'vpn-link')} VPN links")
    started = time.perf_counter()
    explained = plan_placement(flowing, catalog, settings, explain_choices=True)
    out.append(f"the same with explanations (what `plan --explain` runs): wall {time.perf_counter() - started:.2f} s, "
               f"{len(explained.explanations):,} resources explained")
    if resources <= 200:
        demands = demands_of(flowing, catalog, settings)
        terms = network_terms(flowing, tuple(demands), rates, global_clouds)
        bound = milp.lp_bound(Problem(tuple(demands), "cost", QUOTAS, network=terms))
        out.append(f"independent LP relaxation bound ${bound:,.2f}")
    queue.put(out)


def _through_cli(spec: dict, catalog) -> None:
    """What a user runs: the stack, catalog and quotas as ``e2e_bench`` writes them, planned by a fresh
    process with the catalog already cached (a first run fills the cache, untimed): placement, links,
    rendering, the reachability proof, policies, the plan document."""
    import json
    import tempfile

    import e2e_bench

    with tempfile.TemporaryDirectory(prefix="cloudorch-network-") as tmp:
        work = Path(tmp)
        e2e_bench.write_catalog(catalog, work / "catalog")
        e2e_bench.write_stack({"stack": spec["stack"], "tags": {"team": "bench", "env": "prod"},
                               **{k: v for k, v in spec.items() if k != "stack"}}, work / "stack.yaml")
        e2e_bench.write_config(QUOTAS, work / "cloudorch.toml")
        e2e_bench.CACHE_ENV["CLOUDORCH_CACHE_DIR"] = str(work / "cache")
        cli = [sys.executable, "-m", "cloudorch.cli", "plan", str(work / "stack.yaml"), "--catalog", str(work / "catalog"),
               "--config", str(work / "cloudorch.toml"), "--format", "json"]
        e2e_bench.run_child(cli)
        with (work / "plan.json").open("wb") as out:
            wall, rss, code, err = e2e_bench.run_child(cli, stdout=out)
        plan = json.loads((work / "plan.json").read_text())
    if code not in (0, 3):  # 3: policies with findings, still a plan
        print(f"exit {code}: {plan.get('message') or err[-500:]}")
        return
    network = plan["network"]
    proved = sum(1 for f in network["flows"] if f["status"] == "proved")
    print(f"exit {code}, wall {wall:.2f} s, peak RSS {rss:.0f} MiB; ${plan['cost']['monthly_usd']:,.2f}/month, "
          f"{sum(1 for x in network['links'] if x['kind'] == 'vpn')} VPN links, {proved:,} of {len(network['flows']):,} "
          f"flows proved")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--flows", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=float, default=600.0, help="seconds the run with flows may take")
    args = parser.parse_args()
    catalog = generate_catalog(args.seed)
    rates, global_clouds = rates_for(catalog)
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; catalog {len(catalog.offerings):,} "
          f"offerings in {len(catalog.regions)} regions")

    plain = Stack.model_validate(build_stack(args.resources))
    wall, rss, result = run(plain, catalog, PlacementSettings(clouds=CLOUDS, vcpu_quotas=QUOTAS))
    print(f"\n== without the network: {args.resources} resources, machines only")
    print(f"wall {wall:.2f} s, CPU {run.cpu:.2f} s, peak RSS {rss:.0f} MiB, ${result.monthly_usd:,.2f}/month")
    if sys.flags.dont_write_bytecode:  # the run with flows imports nothing new: it is not affected
        print("note: PYTHONDONTWRITEBYTECODE is set: modules first imported by this plan were compiled from source "
              "inside its timing")

    spec = with_flows(build_stack(args.resources), args.flows)
    volume = sum(rule["gb_month"] for r in spec["resources"].values() for rule in r.get("ingress", []))
    print(f"\n== the whole bill: {args.resources} resources, {args.flows} flows ({volume:,} GB a month declared)")
    # in a child process, so a solve that runs past --limit is stopped and reported, and its peak RSS is its own
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_whole_bill, args=(spec, catalog, rates, global_clouds, args.resources, queue,
                                                      wall))
    child.start()
    child.join(args.limit)
    if child.is_alive():
        child.kill()
        child.join()
        print(f"NOT FINISHED: stopped after {args.limit} s (target <= 10 s): no plan, no gap to report")
    else:
        for line in queue.get(timeout=5):
            print(line)

    print("\n== through the CLI: `cloudorch plan --format json` on the same stack and catalog, written as files")
    _through_cli(spec, catalog)

    print("\n== study: per-resource greedy (cheapest machine each, network billed after) vs cloudorch")
    print("| stack | resources | flows | greedy $/month | cloudorch $/month | greedy costs more |")
    print("|---|---|---|---|---|---|")
    for seed in range(1, 7):
        n, flows, greedy_total, planned = study(catalog, rates, global_clouds, seed)
        print(f"| seed {seed} | {n} | {flows} | {greedy_total:,.2f} | {planned:,.2f} | "
              f"{(greedy_total - planned) / planned:+.1%} |")


if __name__ == "__main__":
    main()
