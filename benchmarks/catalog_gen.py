"""A synthetic but realistically shaped catalog of ~100,000 offerings, for the placement benchmark.

Three clouds with ~33 regions each (us, eu, apac and a few elsewhere), two to four zones per region, many
machine families (general / compute / memory / high-memory / storage / burstable / network-optimised) in
Intel, AMD and Arm flavours over four generations and twelve sizes, GPU families with 1-8 accelerators,
spot prices for most offerings, managed databases and object storage. Prices follow the clouds' own
shape: a per-vCPU rate by family kind, an arch discount, a regional price level and a little per-type
noise. Everything comes from one ``random.Random(seed)``, so a seed always gives the same catalog.

Why synthetic: the real SkyPilot rows in ../shared are a few thousand; the benchmark needs the size of a
full three-cloud catalog, and a fresh clone has no ../shared at all.
"""

from __future__ import annotations

import random

from cloudorch.catalog.model import Catalog, DatabaseOffering, Offering, Region, StoragePrice

#: per cloud: geo -> number of regions
GEOS = {"us": 10, "eu": 9, "apac": 9, "ca": 2, "sa": 1, "me": 1, "af": 1}
#: kind -> (USD per vCPU-hour, GiB of memory per vCPU, category)
KINDS = {
    "general": (0.048, 4, "general"),
    "compute": (0.0425, 2, "compute"),
    "memory": (0.063, 8, "memory"),
    "highmem": (0.089, 16, "memory"),
    "storage": (0.078, 8, "storage"),
    "burst": (0.0416, 4, "general"),
    "network": (0.061, 4, "general"),
}
ARCHES = {"intel": ("x86_64", 1.0), "amd": ("x86_64", 0.9), "arm": ("arm64", 0.8)}
GENERATIONS = {5: 1.0, 6: 1.0, 7: 1.05, 8: 1.1}
SIZES = (2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192)
#: accelerator -> (USD per GPU-hour, counts offered, vCPUs per GPU, GiB per GPU)
GPUS = {
    "T4": (0.35, (1, 2, 4), 4, 16),
    "L4": (0.56, (1, 2, 4, 8), 4, 16),
    "A10G": (0.75, (1, 4, 8), 4, 16),
    "A100": (2.93, (1, 2, 4, 8), 12, 85),
    "H100": (9.8, (1, 8), 26, 234),
}
CLOUD_LEVEL = {"aws": 1.0, "azure": 0.99, "gcp": 1.01}


def _regions(rng: random.Random) -> tuple[list[Region], dict[tuple[str, str], float]]:
    regions, factors = [], {}
    for cloud in CLOUD_LEVEL:
        for geo, n in GEOS.items():
            for i in range(1, n + 1):
                name = f"{geo}-{cloud[:2]}-{i}" if cloud != "azure" else f"{geo}{cloud[:2]}{i}"
                zone_count = rng.choice((2, 3, 3, 3, 4))
                zones = tuple(f"{name}-{chr(ord('a') + z)}" for z in range(zone_count))
                regions.append(Region(cloud, name, geo, zones, f"{cloud} {geo} {i}"))
                base = 1.0 if geo == "us" else 1.12 if geo == "eu" else 1.25 if geo == "apac" else 1.3
                factors[(cloud, name)] = round(base * rng.uniform(0.95, 1.12), 3)
    return regions, factors


def _machine_types(cloud: str, rng: random.Random) -> list[dict]:
    types = []
    for kind, (per_vcpu, mem_ratio, category) in KINDS.items():
        for flavour, (arch, arch_factor) in ARCHES.items():
            for gen, gen_factor in GENERATIONS.items():
                family = f"{kind[:2]}{gen}{flavour[0]}"
                noise = rng.uniform(0.97, 1.03)
                for vcpus in SIZES:
                    types.append({
                        "instance_type": f"{cloud[0]}-{family}.{vcpus}x", "vcpus": float(vcpus),
                        "memory": float(vcpus * mem_ratio), "arch": arch, "category": category,
                        "accelerator": None, "accelerator_count": 0,
                        "price": per_vcpu * vcpus * arch_factor * gen_factor * noise * CLOUD_LEVEL[cloud],
                    })
    for gpu, (per_gpu, counts, vcpu_per, mem_per) in GPUS.items():
        for count in counts:
            vcpus = vcpu_per * count
            types.append({
                "instance_type": f"{cloud[0]}-gpu-{gpu.lower()}.{count}g", "vcpus": float(vcpus),
                "memory": float(mem_per * count), "arch": "x86_64", "category": "gpu", "accelerator": gpu,
                "accelerator_count": count, "price": (per_gpu * count + 0.04 * vcpus) * CLOUD_LEVEL[cloud],
            })
    return types


def generate_catalog(seed: int = 7, availability: float = 0.97) -> Catalog:
    """~100,000 offerings: each machine type is offered in ``availability`` of its cloud's regions."""
    rng = random.Random(seed)
    regions, factors = _regions(rng)
    offerings: list[Offering] = []
    by_cloud = {cloud: _machine_types(cloud, rng) for cloud in CLOUD_LEVEL}
    for region in regions:
        factor = factors[(region.cloud, region.name)]
        for t in by_cloud[region.cloud]:
            gpu = t["accelerator"] is not None
            if rng.random() > (availability * (0.6 if gpu else 1.0)):
                continue
            price = round(t["price"] * factor * rng.uniform(0.995, 1.005), 5)
            spot = round(price * rng.uniform(0.25, 0.55), 5) if rng.random() < 0.85 else None
            zones = region.zones[: rng.randint(1, len(region.zones))]
            offerings.append(Offering(
                region.cloud, region.name, t["instance_type"], t["vcpus"], t["memory"], t["arch"], price, spot,
                t["accelerator"], t["accelerator_count"], zones, t["category"],
            ))
    databases = [
        DatabaseOffering(r.cloud, r.name, engine, f"db-{r.cloud[0]}-{kind}-{vcpus}", float(vcpus), float(vcpus * ratio),
                         round((0.075 if kind == "std" else 0.1) * vcpus * factors[(r.cloud, r.name)], 5),
                         0.115 if r.cloud != "gcp" else 0.17)
        for r in regions
        for engine in ("postgres", "mysql")
        for kind, ratio in (("std", 4), ("mem", 8))
        for vcpus in (2, 4, 8, 16, 32)
    ]
    storage = [StoragePrice(r.cloud, r.name, round(0.02 * factors[(r.cloud, r.name)], 5)) for r in regions]
    return Catalog(source=f"synthetic:seed={seed}", as_of="synthetic", regions=tuple(regions),
                   offerings=tuple(offerings), databases=tuple(databases), storage=tuple(storage),
                   fingerprint=f"synthetic-{seed}-{availability}")


if __name__ == "__main__":
    import time

    started = time.perf_counter()
    catalog = generate_catalog()
    print(f"{len(catalog.offerings):,} offerings in {len(catalog.regions)} regions "
          f"({time.perf_counter() - started:.2f} s)")
