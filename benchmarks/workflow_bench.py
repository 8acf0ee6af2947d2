"""A workflow of many stacks rehearsed: how much running independent stacks at once buys, and what verifying
the journal the run wrote costs.

The workflow (seed 7, deterministic): ``--stacks`` stacks of ``--resources`` stack resources each (a network
and buckets, AWS eu-west-1, so placement is quick and the run measures the workflow, not the optimizer);
each stack after the first few uses one or two of the ten before it and tags a bucket with one of their
outputs, which makes a DAG with a long chain. It is applied with ``--rehearse`` (the simulated engine,
the real planner, journal and scheduler) in one process, with ``--parallel`` stacks at once, then again with
one at a time from a clean state.

Figures: wall time of the parallel run; the sum of every stack's duration (what a serial run would take if
each stack took as long); the critical path, the chain of ``uses`` whose durations (as measured in the
same run) add up most, which no scheduler can beat; the serial run's wall time; the journal's verify time.

Run: ``uv run --frozen python benchmarks/workflow_bench.py [--stacks 50] [--resources 20] [--parallel 8]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path


def write_workflow(root: Path, stacks: int, resources: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    (root / "cloudorch.toml").write_text('project = "bench"\n')
    d = root / "wf"
    d.mkdir()
    for i in range(stacks):
        uses = sorted(rng.sample(range(max(0, i - 10), i), k=min(i, rng.choice((1, 2))))) if i >= 3 else []
        lines = [f"stack: s{i:02d}", "placement: {clouds: [aws], regions: [eu-west-1]}"]
        if uses:
            lines.append("uses: {" + ", ".join(f"u{j:02d}: s{j:02d}.yaml" for j in uses) + "}")
        lines += ["resources:", f"  net: {{kind: network, cidr: 10.{i}.0.0/16}}"]
        for k in range(resources - 1):
            tag = f', tags: {{upstream: "${{u{uses[0]:02d}.outputs.b00}}"}}' if uses and k == 0 else ""
            lines.append(f"  b{k:02d}: {{kind: bucket{tag}}}")
        (d / f"s{i:02d}.yaml").write_text("\n".join(lines) + "\n")
    return d


def rehearse(root: Path, d: Path, parallel: int) -> tuple[float, dict[str, float], dict[str, set[str]], int]:
    """One rehearsed apply in ``root``: wall time, each stack's duration, each stack's upstreams, records."""
    from cloudorch.api import Session
    from cloudorch.workflow import RunOptions, apply_workflow, load_workflow

    os.chdir(root)
    start = time.perf_counter()
    result = apply_workflow([d], Session(), RunOptions(parallel=parallel, rehearse=True, sleep=lambda _: None))
    wall = time.perf_counter() - start
    workflow = load_workflow([d])
    durations = {name: outcome.duration_s for name, outcome in result.stacks.items()}
    rendered = sum(o.summary.get("create", 0) for o in result.stacks.values())
    return wall, durations, {s: workflow.upstream(s) for s in workflow.stacks}, rendered


def critical_path(durations: dict[str, float], upstream: dict[str, set[str]]) -> tuple[float, list[str]]:
    finish: dict[str, tuple[float, list[str]]] = {}

    def longest(stack: str) -> tuple[float, list[str]]:
        if stack not in finish:
            before = max((longest(u) for u in upstream[stack]), default=(0.0, []))
            finish[stack] = (before[0] + durations[stack], before[1] + [stack])
        return finish[stack]

    return max(longest(s) for s in durations)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=50)
    parser.add_argument("--resources", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--no-serial", action="store_true", help="skip the one-at-a-time run")
    args = parser.parse_args()
    from cloudorch.journal import Journal

    base = Path(tempfile.mkdtemp(prefix="workflow-bench-"))
    try:
        root = base / "parallel"
        root.mkdir()
        d = write_workflow(root, args.stacks, args.resources)
        wall, durations, upstream, created = rehearse(root, d, args.parallel)
        path_s, path = critical_path(durations, upstream)
        total = sum(durations.values())
        start = time.perf_counter()
        verification = Journal.open(root).verify()
        verify_s = time.perf_counter() - start
        assert verification.ok, verification

        print(f"workflow: {args.stacks} stacks x {args.resources} stack resources, {created} simulated resources "
              f"created, {sum(map(len, upstream.values()))} uses, critical path {len(path)} stacks deep")
        print(f"--parallel {args.parallel}: wall {wall:.2f} s")
        print(f"sum of the stacks' durations: {total:.2f} s ({total / wall:.2f}x the wall time)")
        shown = " -> ".join(path) if len(path) <= 4 else f"{' -> '.join(path[:3])} -> ... -> {path[-1]}"
        print(f"critical path ({shown}): {path_s:.2f} s "
              f"(wall = {wall / path_s:.2f}x the critical path)")
        print(f"journal: {verification.count} records verified in {verify_s * 1e3:.0f} ms")
        if not args.no_serial:
            root = base / "serial"
            root.mkdir()
            d = write_workflow(root, args.stacks, args.resources)
            serial, serial_durations, _, _ = rehearse(root, d, 1)
            serial_path, _ = critical_path(serial_durations, upstream)
            print(f"--parallel 1: wall {serial:.2f} s (sum of durations {sum(serial_durations.values()):.2f} s, "
                  f"critical path {serial_path:.2f} s); parallel speed-up {serial / wall:.2f}x")
    finally:
        os.chdir("/")
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
