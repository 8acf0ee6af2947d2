"""Discovery benchmark: `catalog refresh` of all three clouds from local stand-ins, and plan time on the live
catalog against the embedded one, in the same run.

AWS is moto's server plus the replay server for the Price List and Service Quotas (tests/providers/aws);
Azure and GCP are the stand-in of tests/catalog/stand_ins.py, reached through each cloud's standard
credential chain exactly as the tests do (a fake `az`, a service-account key whose token endpoint is the
stand-in). Each cloud serves ``--types`` priced machine types in each of ``--regions`` regions, prices split
over pages of 100 (Azure) and SKUs of every family (GCP). Figures: wall time of the refresh, requests made
(per cloud), the cache's size on disk, and `plan` on the live catalog vs the embedded one.

Run: ``uv run --frozen python benchmarks/discovery_bench.py [--types 200] [--regions 3]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AWS = ("eu-west-1", "eu-central-1", "eu-west-2", "eu-west-3", "eu-north-1")
AZURE = ("westeurope", "northeurope", "germanywestcentral", "uksouth", "swedencentral")
GCP = ("europe-west4", "europe-west1", "europe-west3", "europe-north1", "europe-west2")


class Patch:
    """monkeypatch's setenv/delenv for a script (the test helpers take one)."""

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value

    def delenv(self, name: str, raising: bool = True) -> None:
        os.environ.pop(name, None)


def serve(args, aws_account, azure_account, gcp_project) -> None:
    from tests.providers.aws.stand_ins import product
    from tests.providers.azure import test_discovery as azure
    from tests.providers.gcp import test_discovery as gcp

    sizes = [(2 ** (i % 6 + 1), i) for i in range(args.types)]
    for region in AWS[:args.regions]:
        aws_account.serve([product(f"m5.{n}xlarge", 0.05 * v) for n, (v, _) in enumerate(sizes, 1)]
                          + [product("m5.xlarge", 0.214)], {"L-1216C47A": 640.0}, region=region)
    for region in AZURE[:args.regions]:
        skus = [azure.sku(f"Standard_D{v}s_v{i}", region, v, 4 * v) for v, i in sizes]
        items = [azure.price_item(f"Standard_D{v}s_v{i}", region, 0.048 * v) for v, i in sizes]
        azure_account.region(region, skus, [azure.usage("cores", "Total Regional vCPUs", 400, 0)],
                             [items[k:k + 100] for k in range(0, len(items), 100)] or [[]])
    zones = {f"{r}-{z}": [gcp.machine_type(f"f{i}-standard-{v}", f"{r}-{z}", v, 4 * v) for v, i in sizes]
             for r in GCP[:args.regions] for z in "ab"}
    skus = [sku for r in GCP[:args.regions] for i in range(args.types) for sku in gcp.rates(r, f"f{i}", 0.03, 0.004)]
    gcp_project.serve(zones, [gcp.region(r, 400, 400) for r in GCP[:args.regions]],
                      [skus[k:k + 5000] for k in range(0, len(skus), 5000)] or [[]])


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", type=int, default=200, help="priced machine types per region and cloud")
    parser.add_argument("--regions", type=int, default=3, choices=range(1, 6), help="regions per cloud")
    args = parser.parse_args()

    from tests.catalog.stand_ins import StandIn
    from tests.providers.aws.stand_ins import Account, Replay, SpotScores, account_environment, start_moto
    from tests.providers.azure import test_discovery as azure
    from tests.providers.gcp import test_discovery as gcp

    work = Path(tempfile.mkdtemp(prefix="discovery-bench-"))
    moto, moto_url = start_moto()
    replay, stand_in = Replay(), StandIn()
    spot = SpotScores(moto_url)  # EC2 through the front that answers spot placement scores, as in the tests
    try:
        patch = Patch()
        account_environment(patch, work, spot.url, replay.url)
        for name, value in (("AZURE_SUBSCRIPTION_ID", azure.SUB), ("CLOUDORCH_AZURE_MANAGEMENT_ENDPOINT", stand_in.url),
                            ("CLOUDORCH_AZURE_PRICES_ENDPOINT", stand_in.url + azure.PRICES),
                            ("CLOUDORCH_GCP_COMPUTE_ENDPOINT", stand_in.url), ("CLOUDORCH_GCP_BILLING_ENDPOINT", stand_in.url),
                            ("GOOGLE_APPLICATION_CREDENTIALS", str(work / "sa.json"))):
            os.environ[name] = value
        azure.fake_az(work, patch)
        gcp.service_account_file(work / "sa.json", f"{stand_in.url}/token")
        serve(args, Account(moto_url, replay, spot), azure.Account(stand_in), gcp.Project(stand_in))
        os.chdir(work)
        (work / "cloudorch.toml").write_text("")

        from cloudorch import api

        regions = [*AWS[:args.regions], *AZURE[:args.regions], *GCP[:args.regions]]
        started = time.perf_counter()
        result = api.refresh_catalog(api.Session(), (), regions)
        refresh_s = time.perf_counter() - started
        per_cloud: dict[str, int] = {}
        for event in result.events:
            per_cloud[event.cloud] = per_cloud.get(event.cloud, 0) + event.requests
        slowest = sorted(result.events, key=lambda e: -e.seconds)[:4]
        failed = [f"{e.cloud} {e.source}: {e.detail}" for e in result.events if e.status in ("failed", "skipped")]
        cache = Path(os.environ["CLOUDORCH_CACHE_DIR"])

        stack = work / "stack.yaml"
        stack.write_text("stack: bench\nplacement:\n  clouds: [aws, azure, gcp]\n  geo: [eu]\nresources:\n"
                         "  net: {kind: network, cidr: 10.40.0.0/16}\n"
                         "  api: {kind: compute, network: net, count: 6, cpu: 4, memory_gb: 16, image: ubuntu-24.04}\n")
        timings = {}
        for label, catalog in (("live", api.LIVE_CATALOG), ("embedded", None)):
            started = time.perf_counter()
            plan = api.plan(stack, api.Session(api.Options(catalog_dir=catalog))).plan
            timings[label] = (time.perf_counter() - started, plan.catalog.offerings)

        print(f"refresh of aws, azure, gcp ({args.regions} regions each, {args.types} types per region): "
              f"{refresh_s:.2f} s, {result.requests} requests ({', '.join(f'{c} {n}' for c, n in sorted(per_cloud.items()))})")
        print(f"cache: {size_of(cache / 'discovery') / 2**20:.2f} MiB of entries, live catalog "
              f"{size_of(next(cache.glob('live-*'))) / 2**20:.2f} MiB")
        for label, (seconds, offerings) in timings.items():
            print(f"plan on the {label} catalog: {seconds:.2f} s ({offerings} offerings)")
        print(f"spot placement score calls: {len(spot.asked)} (one per family of three or more spot types per "
              "ten regions)")
        print("slowest sources: " + ", ".join(f"{e.cloud} {e.source} {e.seconds:.1f} s" for e in slowest))
        if failed:
            print("not read: " + "; ".join(failed))
    finally:
        spot.close()
        stand_in.close()
        replay.close()
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
