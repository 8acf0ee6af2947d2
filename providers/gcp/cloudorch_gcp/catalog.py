"""GCP's rows of a SkyPilot catalog: Arm families by name, and GPU hosts priced with their GPUs.

SkyPilot's GCP file has no Arch column, and it prices an accelerator-optimised host (a2, a3, g2) and its
GPUs on separate rows: host rows have empty accelerator columns, GPU rows an empty InstanceType. The
offering a user buys is the host with its GPUs, so each host row gets the price of its GPUs (in the same
zone) added; the GPU rows themselves are folded into the hosts, not offerings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from cloudorch.catalog.adapter import (
    CsvRow, MachineRow, RowResult, SkippedRow, SkyPilotAdapter, each_row, number, parse_machine,
)

#: (host name pattern whose group is the GPU count, GPU, {vCPUs of a g2 size: its GPUs} where they differ)
_HOST_GPUS = (
    (re.compile(r"^a2-highgpu-(\d+)g$"), "A100", None),
    (re.compile(r"^a2-megagpu-(\d+)g$"), "A100", None),
    (re.compile(r"^a2-ultragpu-(\d+)g$"), "A100-80GB", None),
    (re.compile(r"^a3-(?:highgpu|megagpu|edgegpu)-(\d+)g$"), "H100", None),
    (re.compile(r"^g2-standard-(\d+)$"), "L4", {4: 1, 8: 1, 12: 1, 16: 1, 24: 2, 32: 1, 48: 4, 96: 8}),
)
#: Ampere Altra (t2a), Axion (c4a, n4a)
ARM_FAMILIES = ("t2a-", "c4a-", "n4a-")

GpuPrices = dict[tuple[str, str, str], tuple[float, float | None]]


def host_accelerator(itype: str) -> tuple[str, int] | None:
    for pattern, name, by_size in _HOST_GPUS:
        match = pattern.match(itype)
        if match:
            n = int(match.group(1))
            return name, by_size.get(n, n) if by_size else n
    return None


def _is_gpu_price(row: CsvRow) -> bool:
    return not row.get("InstanceType") and bool(row.get("AcceleratorName"))


class GcpSkyPilotAdapter(SkyPilotAdapter):
    version = "1"

    def read(self, rows: Sequence[CsvRow]) -> Iterator[RowResult]:
        prices: GpuPrices = {}
        for row in rows:
            if _is_gpu_price(row):
                try:
                    # full catalogs price 1, 2, 4, 8 ... GPUs on separate rows: keep the price of one
                    count = number(row.get("AcceleratorCount") or "1", "AcceleratorCount", positive=True)
                    spot = row.get("SpotPrice")
                    prices[(row.get("AcceleratorName"), row.get("Region"), row.get("AvailabilityZone"))] = (
                        number(row.get("Price"), "Price") / count, number(spot, "SpotPrice") / count if spot else None)
                except ValueError as exc:
                    yield SkippedRow(row.line, f"accelerator price row: {exc}")
        yield from each_row(rows, lambda row: None if _is_gpu_price(row) else self._machine(row, prices))

    def _machine(self, row: CsvRow, prices: GpuPrices) -> MachineRow:
        machine = parse_machine(row)
        if machine.instance_type.startswith(ARM_FAMILIES):
            machine = replace(machine, arch="arm64")
        host = host_accelerator(machine.instance_type)
        if host is None or machine.accelerator:
            return machine
        name, count = host
        gpu = prices.get((name, machine.region, machine.zone))
        if gpu is None:
            raise ValueError(f"{machine.instance_type} in {machine.zone or machine.region}: no {name} price row "
                             "to add to the host price")
        spot = machine.spot_price
        return replace(
            machine, accelerator=name, accelerator_count=count, price=round(machine.price + count * gpu[0], 6),
            spot_price=round(spot + count * gpu[1], 6) if spot is not None and gpu[1] is not None else None,
        )
