"""What the journal teaches placement: offerings that recently ran out of capacity.

A capacity failure (an ``apply``, ``retry`` or ``failover`` record whose ``error_class`` is ``capacity``,
with ``cloud``, ``region`` and ``instance_type``) counts against that offering's availability with a
weight that halves every ``half_life_days``: a shortage an hour ago says a lot about now, one from last
quarter little. Ages are counted in whole days from the plan's ``today``, so a plan made twice on one day
places the same way, and a saved plan applied later that day is not stale for the clock's sake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cloudorch.journal.records import Entry

#: the record kinds a capacity failure is recorded under
CAPACITY_KINDS = frozenset({"apply", "retry", "failover"})
CAPACITY = "capacity"
#: how a capacity failure's record reads in canonical JSON: the cheap test before a record is parsed
CAPACITY_BYTES = b'"error_class":"capacity"'


@dataclass(frozen=True)
class CapacityHistory:
    cloud: str
    region: str
    instance_type: str
    failures: int
    latest: dt.date
    #: the failures' decayed weight: what placement counts them as (a fresh failure weighs 1)
    weight: float

    @property
    def offering(self) -> tuple[str, str, str]:
        return (self.cloud, self.region, self.instance_type)

    def describe(self) -> str:
        many = "s" if self.failures != 1 else ""
        return (f"{self.region} {self.instance_type} ({self.cloud}): {self.failures} capacity failure{many} in the "
                f"journal, latest {self.latest.isoformat()}; counted as {self.weight:g}")

    def to_dict(self) -> dict[str, Any]:
        return {"cloud": self.cloud, "region": self.region, "instance_type": self.instance_type,
                "failures": self.failures, "latest": self.latest.isoformat()}


def capacity_history(entries: Iterable[Entry], today: dt.date, half_life_days: float) -> list[CapacityHistory]:
    """The capacity failures in ``entries`` per offering, decayed to ``today``; those later than today (a
    clock ahead, a pinned ``today``) count in full."""
    seen: dict[tuple[str, str, str], list[dt.date]] = {}
    for entry in entries:
        fields = entry.fields
        if entry.kind not in CAPACITY_KINDS or fields.get("error_class") != CAPACITY:
            continue
        offering = tuple(fields.get(k) for k in ("cloud", "region", "instance_type"))
        if all(isinstance(part, str) and part for part in offering):
            seen.setdefault(offering, []).append(entry.moment.date())  # type: ignore[arg-type]
    found = []
    for (cloud, region, instance_type), days in sorted(seen.items()):
        weight = sum(0.5 ** (max((today - day).days, 0) / half_life_days) for day in days)
        found.append(CapacityHistory(cloud, region, instance_type, len(days), max(days), round(weight, 3)))
    return found
