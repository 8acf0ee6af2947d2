"""Start-up benchmark: how long the commands people type most take, against bare Python in the same run.

Run with ``uv run --frozen python benchmarks/startup_bench.py [--repeat K]``. Each command runs in a fresh
process (as a user's would), after one warm-up run so bytecode caches exist; the figure is the median.
Targets: `--help` well under 0.3 s; `validate` in a blink.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cloudorch.cli"]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "cloudorch --help": [*CLI, "--help"],
    "cloudorch validate webshop": [*CLI, "validate", "stacks/webshop.yaml"],
    "cloudorch plan webshop": [*CLI, "plan", "stacks/webshop.yaml"],
    "cloudorch plan webshop --format json": [*CLI, "plan", "stacks/webshop.yaml", "--format", "json"],
}
TARGETS = {"cloudorch --help": 0.3}


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # measure what users get
    baseline = None
    for label, command in COMMANDS.items():
        wall(command, env)  # warm-up: writes bytecode
        median = statistics.median(wall(command, env) for _ in range(args.repeat))
        baseline = baseline or median
        target = TARGETS.get(label)
        verdict = "" if target is None else f"  target <= {target:.2f} s: {'met' if median <= target else 'MISSED'}"
        print(f"{label:40} median {median:6.3f} s  ({median / baseline:5.1f} x bare python){verdict}")


if __name__ == "__main__":
    main()
