"""Rebuild the embedded catalog's machines.csv from a recorded price catalog (SkyPilot layout).

    uv run python tools/rebuild_catalog.py RECORDING --as-of 2026-12-07 \\
        --source "cloudorch catalog refresh, public price APIs, 2026-12-07"
    uv run python tools/rebuild_catalog.py RECORDING ... --dry-run     # the summary only, nothing written

RECORDING is a directory of <cloud>/vms.csv files: what `cloudorch catalog refresh` writes (its `live/`
directory in the cache) or a checkout of SkyPilot's public catalog (e.g. skypilot-catalog/catalogs/v7).
Rewrites cloudorch/catalog/data/machines.csv (the types in tools/catalog_selection.csv) and the generated
section of SOURCES.md; the other data files are hand-curated (see SOURCES.md). The logic lives in
cloudorch/catalog/rebuild.py; this file parses arguments and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "cloudorch" / "catalog" / "data"
SELECTION = ROOT / "tools" / "catalog_selection.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path, help="directory of <cloud>/vms.csv (SkyPilot layout)")
    parser.add_argument("--as-of", required=True, help="date of the recording, YYYY-MM-DD")
    parser.add_argument("--source", required=True, help="what the recording is (written to SOURCES.md)")
    parser.add_argument("--data", type=Path, default=DATA, help="catalog data directory to rewrite")
    parser.add_argument("--selection", type=Path, default=SELECTION, help="which types to keep")
    parser.add_argument("--dry-run", action="store_true", help="print the summary, write nothing")
    args = parser.parse_args(argv)

    from cloudorch.catalog.rebuild import ADDED, MISSING, NOT_ADDED, REMOVED, UNCHANGED, UPDATED, rebuild, write
    from cloudorch.errors import CloudorchError
    from cloudorch.plugins import catalog_adapters

    try:
        result = rebuild(args.data, args.recording, args.selection, catalog_adapters(), as_of=args.as_of,
                         source=args.source)
        if not args.dry_run:
            write(args.data, result)
    except CloudorchError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return int(exc.exit_code)
    for outcome in result.outcomes:
        if outcome.status != UNCHANGED:
            print(f"{outcome.status:>9}  {outcome.cloud} {outcome.instance_type}: {outcome.detail}")
    for note in result.notes:
        print(f"     note  {note}")
    counts = ", ".join(f"{result.count(s)} {s}" for s in (UPDATED, UNCHANGED, ADDED, MISSING, NOT_ADDED, REMOVED))
    print(f"{'would rewrite' if args.dry_run else 'rewrote'} {args.data / 'machines.csv'}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
