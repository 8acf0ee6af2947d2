"""The fuzz runner: thousands of mutated stack files, configs and SkyPilot catalogs through `validate` and
`plan`, counting what must never happen (issue 15).

    uv run python benchmarks/fuzz_bench.py                 # 10,000 cases from seed 0, two workers
    uv run python benchmarks/fuzz_bench.py --cases 500 --seed 7 --kind config
    uv run python benchmarks/fuzz_bench.py --replay 1234    # one case: its files and both commands' output

Cases are seeds (tests/fuzz/harness.py builds each from its seed, so a reported case can be replayed).
Worker processes run the CLI in process, one case at a time; the runner gives each case ``--timeout``
seconds per command and kills and replaces a worker that overruns it (a hang). It prints the cases, the
exit codes, and each class of finding with examples: bugs (exit 1 or another code outside the contract),
tracebacks, hangs, leaks (a planted secret echoed) and problems reported without a line.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz.harness import KINDS, SECRET, findings, make_case, run, write  # noqa: E402

#: a worker is replaced after this many cases, so that nothing a long run accumulates skews it
RECYCLE = 500
CLASSES = ("bug", "traceback", "hang", "leak", "lineless")


def _environment() -> None:
    os.environ["CLOUDORCH_PASSPHRASE"] = SECRET
    os.environ["CLOUDORCH_NO_CACHE"] = "1"  # every mutated catalog would otherwise fill the cache
    os.environ["NO_COLOR"] = "1"
    os.environ.pop("CLOUDORCH_CONFIG", None)


def _worker(conn, work: str) -> None:
    _environment()
    os.chdir(work)
    while True:
        job = conn.recv()
        if job is None:
            return
        seed, kind = job
        directory = Path(tempfile.mkdtemp(dir=work))
        case = make_case(seed, kind)
        try:
            outcomes = run(case, directory)
            result = {"kind": case.kind, "stack": case.stack, "found": findings(outcomes),
                      "codes": [(o.command, o.code) for o in outcomes], "seconds": sum(o.seconds for o in outcomes)}
        except BaseException as exc:  # noqa: BLE001 - the harness itself failing is a finding, not a stop
            result = {"kind": case.kind, "stack": case.stack, "found": {"bug": [f"harness: {exc!r}"]},
                      "codes": [], "seconds": 0.0}
        shutil.rmtree(directory, ignore_errors=True)
        conn.send(result)


class Runner:
    def __init__(self, seeds: list[int], kind: str | None, workers: int, timeout: float) -> None:
        self.jobs: queue.Queue[int] = queue.Queue()
        for seed in seeds:
            self.jobs.put(seed)
        self.kind, self.workers, self.timeout = kind, workers, timeout
        self.lock = threading.Lock()
        self.results: dict[int, dict] = {}
        self.total = len(seeds)
        self.work = tempfile.mkdtemp(prefix="cloudorch-fuzz-")
        # spawn, not fork: the runner forks from threads, and a fresh interpreter shares no state with it
        self.context = multiprocessing.get_context("spawn")

    def _spawn(self):
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(child, self.work), daemon=True)
        process.start()
        return process, parent

    def _slot(self) -> None:
        process, conn = self._spawn()
        done = 0
        while True:
            try:
                seed = self.jobs.get_nowait()
            except queue.Empty:
                break
            if done and done % RECYCLE == 0:
                conn.send(None)
                process.join(10)
                process, conn = self._spawn()
            conn.send((seed, self.kind))
            # two commands, each allowed the timeout
            if conn.poll(2 * self.timeout):
                result = conn.recv()
            else:
                process.kill()
                process.join()
                result = {"kind": self.kind or "?", "stack": "?", "codes": [], "seconds": 2 * self.timeout,
                          "found": {"hang": [f"no answer in {2 * self.timeout:.0f} s"]}}
                process, conn = self._spawn()
            done += 1
            with self.lock:
                self.results[seed] = result
                if len(self.results) % 250 == 0:
                    print(f"  {len(self.results):,}/{self.total:,} cases", file=sys.stderr, flush=True)
        conn.send(None)
        process.join(10)

    def run(self) -> float:
        started = time.monotonic()
        threads = [threading.Thread(target=self._slot) for _ in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        shutil.rmtree(self.work, ignore_errors=True)
        return time.monotonic() - started


def report(results: dict[int, dict], seconds: float, args) -> int:
    kinds = Counter(r["kind"] for r in results.values())
    print(f"fuzz: {len(results):,} cases from seed {args.seed} ({', '.join(f'{k} {n:,}' for k, n in sorted(kinds.items()))}), "
          f"{args.workers} workers, timeout {args.timeout:.0f} s per command; {seconds:,.0f} s "
          f"({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores)")
    for command in ("validate", "plan"):
        codes = Counter(code for r in results.values() for c, code in r["codes"] if c == command)
        print(f"  {command} exit codes: " + ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items())))
    slowest = max(results.items(), key=lambda item: item[1]["seconds"], default=None)
    if slowest:
        print(f"  slowest case: {slowest[0]} ({slowest[1]['kind']}, {slowest[1]['seconds']:.1f} s for both commands)")
    failed = 0
    for name in CLASSES:
        cases = {seed: r for seed, r in results.items() if r["found"].get(name)}
        failed += len(cases) if name != "lineless" else 0
        messages = Counter(m for r in cases.values() for m in r["found"][name])
        print(f"{name}: {len(cases):,} cases, {sum(messages.values()):,} findings, {len(messages):,} distinct")
        for seed, r in list(cases.items())[:args.show]:
            print(f"  case {seed} ({r['kind']}, from {r['stack']}): {r['found'][name][0][:240]}")
    print("replay one: uv run python benchmarks/fuzz_bench.py --replay SEED [--kind KIND]")
    return 1 if failed else 0


def replay(seed: int, kind: str | None, keep: str | None) -> int:
    """One case in this process: where its files are, what each command printed, what the judge found."""
    _environment()
    case = make_case(seed, kind)
    directory = Path(keep or tempfile.mkdtemp(prefix=f"cloudorch-fuzz-{seed}-"))
    directory.mkdir(parents=True, exist_ok=True)
    write(case, directory)
    print(f"case {seed}: {case.kind}, from stacks/{case.stack}; files in {directory}")
    outcomes = run(case, directory)
    for o in outcomes:
        print(f"--- {o.command}: exit {o.code} in {o.seconds:.2f} s\n{o.output[:4000]}")
    print(f"findings: {findings(outcomes) or 'none'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0, help="the first case's seed; cases are consecutive seeds")
    parser.add_argument("--kind", choices=KINDS, help="mutate only this input (default: stacks 7, configs 2, catalogs 1)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per command before a case is a hang")
    parser.add_argument("--show", type=int, default=5, help="examples shown per class of finding")
    parser.add_argument("--replay", type=int, help="run one case (a seed) and show its output")
    parser.add_argument("--keep", help="with --replay: write the case's files here")
    args = parser.parse_args()
    if args.replay is not None:
        return replay(args.replay, args.kind, args.keep)
    runner = Runner(list(range(args.seed, args.seed + args.cases)), args.kind, args.workers, args.timeout)
    seconds = runner.run()
    return report(runner.results, seconds, args)


if __name__ == "__main__":
    sys.exit(main())
