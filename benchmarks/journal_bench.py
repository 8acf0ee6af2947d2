"""The local journal at scale: append N records (each fsynced and linked into place), verify them all,
read them back, and what a plan pays to read the capacity history from a journal that long.

    uv run --frozen python benchmarks/journal_bench.py [--records 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from cloudorch.journal import Journal
from cloudorch.journal.history import CAPACITY_BYTES, CAPACITY_KINDS, capacity_history


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="journal-bench-"))
    try:
        journal = Journal.open(root, environ={})
        start = time.perf_counter()
        for i in range(args.records):
            failed = i % 100 == 0
            journal.append("failover" if failed else "apply", stack=f"stack-{i % 50}", outcome="succeeded",
                           duration_s=1.25, plan_hash="a" * 64, inputs_hash="b" * 64, workflow_id="release-1",
                           step=i, attempt=1, **({"error_class": "capacity", "cloud": "aws", "region": "eu-west-1",
                                                  "instance_type": "m5.large"} if failed else {}))
        append_s = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (root / ".cloudorch" / "journal" / "records").iterdir())

        start = time.perf_counter()
        verification = Journal.open(root, environ={}).verify()
        verify_s = time.perf_counter() - start
        assert verification.ok and verification.count == args.records, verification

        start = time.perf_counter()
        entries = Journal.open(root, environ={}).entries(stack="stack-7")
        read_s = time.perf_counter() - start

        start = time.perf_counter()
        history = capacity_history(Journal.open(root, environ={}).entries(kinds=CAPACITY_KINDS, containing=CAPACITY_BYTES), dt.date.today(), 14)
        history_s = time.perf_counter() - start

        start = time.perf_counter()
        Journal.open(root, environ={}).append("plan", outcome="succeeded")
        open_append_s = time.perf_counter() - start

        n = args.records
        print(f"records: {n:,} ({size / 2**20:.1f} MiB, {size / n:.0f} bytes each)")
        print(f"append: {append_s:.2f} s ({append_s / n * 1e3:.2f} ms a record, {n / append_s:,.0f}/s; each fsynced)")
        print(f"verify: {verify_s:.2f} s ({n / verify_s:,.0f} records/s)")
        print(f"log --stack (read and filter all): {read_s:.2f} s, {len(entries)} records")
        print(f"capacity history for a plan: {history_s:.2f} s ({history[0].failures} failures of one offering)")
        print(f"open and append once more (the listing a new run pays): {open_append_s * 1e3:.1f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
