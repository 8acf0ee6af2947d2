"""`cloudorch doctor`: what this machine can do with the clouds, checked rather than assumed.

Per cloud: whether its discovery finds credentials (the same probe a refresh makes, ``Discovery.unavailable``)
and whether each endpoint it would call answers (one bare GET each, bounded by a timeout; any HTTP status
is an answer). Beside them the facts that explain a surprising run: where the cache and the live catalog
are and how old each part is, whether the Pulumi CLI is on PATH, where the journal is written. The checks
run in parallel threads: every one waits on the network or a subprocess, so the report takes as long as
the slowest probe, not their sum.

``api.doctor`` assembles the report; this module only checks and holds the results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from cloudorch.catalog.http import probe

#: seconds each endpoint has to answer
PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class EndpointCheck:
    name: str
    url: str
    answers: bool
    detail: str


@dataclass(frozen=True)
class CloudCheck:
    cloud: str
    #: why discovery cannot read this cloud (no credentials, a broken profile); None: credentials found
    unavailable: str | None = None
    endpoints: tuple[EndpointCheck, ...] = ()
    #: the provider offers no discovery at all, and why: nothing of it to check, and nothing missing
    not_offered: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        if self.not_offered is not None:
            return ()
        found = [f"{self.cloud}: {self.unavailable}"] if self.unavailable else []
        return tuple(found + [f"{self.cloud} {e.name} endpoint {e.url} {e.detail}" for e in self.endpoints
                              if not e.answers])


@dataclass(frozen=True)
class PartAge:
    """One part of the live catalog: how long ago it was fetched, and its TTL."""

    cloud: str
    source: str
    age_seconds: float
    ttl: int
    stale: bool


@dataclass(frozen=True)
class DoctorReport:
    clouds: tuple[CloudCheck, ...]
    cache_dir: str
    cache_writable: bool
    #: the live catalog's directory, None before the first refresh
    live_catalog: str | None
    parts: tuple[PartAge, ...]
    #: the Pulumi CLI's path, None when it is not on PATH
    pulumi: str | None
    #: where the journal is written (credentials redacted), or why it cannot be
    journal: str
    journal_problem: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """What is missing, one line each: every one makes some command fail (`doctor` exits 6)."""
        found = [p for c in self.clouds for p in c.problems]
        if not self.cache_writable:
            found.append(f"the cache directory {self.cache_dir} is not writable (catalog refresh cannot store anything)")
        if self.pulumi is None:
            found.append("the Pulumi CLI is not on PATH (apply, preview, destroy, refresh, drift and outputs need it)")
        if self.journal_problem:
            found.append(f"the journal: {self.journal_problem}")
        return tuple(found)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clouds"] = [asdict(c) | {"usable": not c.problems} for c in self.clouds]
        return data | {"ok": self.ok, "problems": list(self.problems)}


def check_clouds(discoveries: Mapping[str, Any], timeout: float = PROBE_TIMEOUT) -> tuple[CloudCheck, ...]:
    """``discoveries``: cloud -> its ``Discovery``, or the reason (a string) it offers none."""
    offered = {c: d for c, d in discoveries.items() if not isinstance(d, str)}
    with ThreadPoolExecutor(max_workers=max(1, 4 * len(offered))) as pool:
        reasons = {c: pool.submit(_guarded, d.unavailable) for c, d in offered.items()}
        endpoints = {c: _guarded(d.endpoints) for c, d in offered.items()}
        probes = {(c, name): pool.submit(probe, url, timeout)
                  for c, found in endpoints.items() if isinstance(found, Mapping) for name, url in found.items()}
        checks = []
        for cloud in sorted(discoveries):
            if cloud not in offered:
                checks.append(CloudCheck(cloud, not_offered=str(discoveries[cloud])))
                continue
            found = endpoints[cloud]
            if isinstance(found, Mapping):
                rows = tuple(EndpointCheck(name, url, *probes[(cloud, name)].result()) for name, url in found.items())
            else:  # the endpoints could not even be worked out (a broken profile file): said as one
                rows = (EndpointCheck("endpoints", "-", False, f"cannot be resolved: {found}"),)
            checks.append(CloudCheck(cloud, reasons[cloud].result(), rows))
    return tuple(checks)


def _guarded(call: Callable[[], Any]) -> Any:
    """A plugin's check that raises instead of answering is a one-line reason, never a traceback."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - a plugin's crash in a check is that check's answer
        from cloudorch.catalog.live import one_line

        return one_line(exc)
