"""How one cloud's rows of a SkyPilot ``vms.csv`` become offerings: the part a provider plugin supplies.

The generic reader (``skypilot.py``) finds ``<cloud>/vms.csv``, reads rows by header name, merges the
rows of one (region, instance type) into one offering and reports every skipped row with file, line and
reason. What a row *means* is the cloud's business: GCP prices its GPU hosts without their GPUs, Azure
lists sizes the rendered images cannot boot, neither has an Arch column. A provider returns its
``SkyPilotAdapter`` from ``CloudProvider.catalog_adapter()``; a cloud without quirks uses this base class,
which reads the columns as SkyPilot documents them.

An adapter is pure (the same rows give the same results) and stateless (one instance serves every read).
Its ``identity()`` is part of the catalog cache key and of the catalog's fingerprint, so a changed adapter
never serves offerings parsed by the old one and makes saved plans stale.
"""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row of a ``vms.csv``: its line in the file and its cells by column name."""

    line: int
    cells: Mapping[str, str | None]

    def get(self, column: str) -> str:
        """The cell's text without surrounding blanks; empty when the column or the cell is missing."""
        return (self.cells.get(column) or "").strip()


@dataclass(frozen=True, slots=True)
class MachineRow:
    """One row understood as a machine offering in one zone (or a whole region when ``zone`` is empty)."""

    line: int
    instance_type: str
    region: str
    zone: str
    arch: str
    vcpus: float
    memory_gib: float
    price: float
    spot_price: float | None
    accelerator: str | None
    accelerator_count: int


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row that is not an offering, with the reason shown to users (never dropped silently)."""

    line: int
    reason: str


RowResult = MachineRow | SkippedRow


class SkyPilotAdapter:
    #: bump when the same rows give different offerings (the source digest in ``identity`` catches the rest)
    version: ClassVar[str] = "1"

    def read(self, rows: Sequence[CsvRow]) -> Iterator[RowResult]:
        """Every row's meaning, in file order. Override to look at all rows first (a price table)."""
        return each_row(rows, self.machine)

    def machine(self, row: CsvRow) -> MachineRow | None:
        """One row as an offering; raise ``ValueError`` with the reason to skip it, return None to fold it
        into others silently (a row that is part of another row's price, not an offering)."""
        return parse_machine(row)

    def identity(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}/{self.version}/{_source_digest(cls)}"


def each_row(rows: Iterable[CsvRow], parse: Callable[[CsvRow], MachineRow | None]) -> Iterator[RowResult]:
    for row in rows:
        try:
            machine = parse(row)
        except ValueError as exc:
            yield SkippedRow(row.line, str(exc))
        else:
            if machine is not None:
                yield machine


def number(text: str, what: str, *, positive: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{what} {text!r} is out of range")
    return value


def parse_machine(row: CsvRow) -> MachineRow:
    """The columns as SkyPilot documents them: InstanceType, vCPUs, MemoryGiB, Price, SpotPrice (empty: no
    spot offering), Region, AvailabilityZone, AcceleratorName/Count and Arch (empty: x86_64)."""
    itype, region = row.get("InstanceType"), row.get("Region")
    if not itype or not region:
        raise ValueError("empty InstanceType or Region")
    price_text = row.get("Price")
    if not price_text:
        # SkyPilot lists some types with no on-demand price where they cannot be bought: not an error
        raise ValueError(f"{itype} in {region}: no on-demand Price")
    spot_text = row.get("SpotPrice")
    accelerator = row.get("AcceleratorName") or None
    count_text = row.get("AcceleratorCount")
    arch = row.get("Arch").lower() or "x86_64"
    if arch in ("arm", "aarch64"):
        arch = "arm64"
    if arch not in ("x86_64", "arm64"):
        raise ValueError(f"{itype}: unknown Arch {arch!r}")
    return MachineRow(
        line=row.line, instance_type=itype, region=region, zone=row.get("AvailabilityZone"), arch=arch,
        vcpus=number(row.get("vCPUs"), "vCPUs", positive=True),
        memory_gib=number(row.get("MemoryGiB"), "MemoryGiB", positive=True),
        price=number(price_text, "Price"),
        spot_price=number(spot_text, "SpotPrice") if spot_text else None,
        accelerator=accelerator,
        accelerator_count=int(number(count_text, "AcceleratorCount")) if accelerator and count_text else 0,
    )


@cache
def _source_digest(cls: type) -> str:
    """A digest of the source of every adapter class ``cls`` inherits from: a changed adapter is a new key
    even when nobody remembered to bump ``version`` (the usual case while developing one)."""
    h = hashlib.sha256()
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, SkyPilotAdapter):
            try:
                h.update(inspect.getsource(inspect.getmodule(klass)).encode())  # type: ignore[arg-type]
            except (OSError, TypeError):  # no source (a zipped or frozen install): the version must do
                h.update(klass.__qualname__.encode())
    return h.hexdigest()[:16]
