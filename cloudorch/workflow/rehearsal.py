"""The rehearsal engine: a ``Workspace`` (``cloudorch.engine.workspace``) that simulates Pulumi and the clouds.

A rehearsal is a real run with this adapter in place of the Automation API's (``engine/adapter.py``):
``PulumiEngine`` still takes the stack lock, classifies failures and masks outputs, and the workflow above
it cannot tell the two apart. State lives in ``.cloudorch/rehearsal/<project>/<stack>.json``; each resource
operation is written there twice, atomically (replace, never rewrite): first as Pulumi's *pending
operation*, then done. A process killed between the two leaves the pending operation behind exactly as an
interrupted ``pulumi up`` does, and ``repair_pending`` clears it as the real adapter does.

Faults (``--inject``) are raised as the clouds word them, so the real classifier (``engine.errors``) reads
their cloud, region and machine type:

- ``capacity:CLOUD/REGION/TYPE``: creating a machine or database of that offering fails for lack of capacity;
- ``transient:STACK:N``: the first N applies of STACK are throttled (429);
- ``crash:STEP[:K]``: the process dies (as ``kill -9`` would) while operation K (from 0) of stack STEP's
  apply is pending (default: the middle one; K at least the number of operations: after the apply, before
  anyone hears of it), or before check STEP runs;
- ``check:NAME``: check NAME fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudorch.engine.program import dependency_order
from cloudorch.engine.workspace import EngineSettings, OutputValue, RawEventHandler, StackRun
from cloudorch.errors import UsageError
from cloudorch.project import dot_dir
from cloudorch.provider import PulumiPlugin
from cloudorch.rendering.model import RenderedResource

#: the exit status of a process killed by SIGKILL, as a shell reports it: what a crash fault exits with
CRASH_STATUS = 137
#: what a rehearsal gives ``resolve_stack_config``: no secret is ever encrypted with it
PASSPHRASE = "rehearsal: nothing is encrypted"
_MACHINE_ROLES = ("instance", "instance-group", "database")

# Capacity failures as each cloud words them (the shapes tests/engine/test_errors.py holds the classifier to).
_CAPACITY = {
    "aws": "aws:ec2/instance:Instance ({name}): error: creating EC2 Instance: api error InsufficientInstanceCapacity: "
           "We currently do not have sufficient {type} capacity in the Availability Zone you requested ({region}a).",
    "gcp": "gcp:compute/instance:Instance ({name}): error: The zone 'projects/p/zones/{region}-a' does not have enough "
           "resources available to fulfill the request. code: ZONE_RESOURCE_POOL_EXHAUSTED machineTypes/{type}",
    "azure": "azure-native:compute:VirtualMachine ({name}): error: Status=\"Failed\" Code=\"AllocationFailed\" "
             "Message=\"Allocation failed. We do not have sufficient capacity for the requested VM size {type} in "
             "this region. Location: {region}\"",
}
_THROTTLED = "{name}: error: operation error: https response error StatusCode: 429, api error Throttling: Rate exceeded"


@dataclass
class Faults:
    """What ``--inject`` asked for; shared by the run's threads (counters under a lock)."""

    capacity: set[tuple[str, str, str]] = field(default_factory=set)
    transient: dict[str, int] = field(default_factory=dict)
    crash: dict[str, int | None] = field(default_factory=dict)
    checks: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Faults:
        faults = cls()
        for spec in specs:
            kind, _, rest = spec.partition(":")
            parts = rest.split(":")
            try:
                if kind == "capacity":
                    cloud, region, machine = rest.split("/")
                    if not (cloud and region and machine):
                        raise ValueError
                    faults.capacity.add((cloud, region, machine))
                elif kind == "transient" and len(parts) == 2:
                    faults.transient[parts[0]] = int(parts[1])
                elif kind == "crash" and len(parts) in (1, 2) and parts[0]:
                    faults.crash[parts[0]] = int(parts[1]) if len(parts) == 2 else None
                elif kind == "check" and rest:
                    faults.checks.add(rest)
                else:
                    raise ValueError
            except ValueError:
                raise UsageError(f"--inject {spec!r}: not a fault", hint="use capacity:CLOUD/REGION/TYPE, "
                                 "transient:STACK:N, crash:STEP[:K] or check:NAME") from None
        return faults

    @property
    def any(self) -> bool:
        return bool(self.capacity or self.transient or self.crash or self.checks)

    def take_transient(self, stack: str) -> bool:
        with self._lock:
            left = self.transient.get(stack, 0)
            if left > 0:
                self.transient[stack] = left - 1
            return left > 0


def crash() -> None:
    """Die at once, as ``kill -9`` would: no cleanup, no buffers flushed, no journal record."""
    os._exit(CRASH_STATUS)


def rehearsal_dir(project_dir: Path) -> Path:
    return dot_dir(project_dir) / "rehearsal"


def allocation_record(project_dir: Path, stack: str) -> Path:
    """The rehearsal's allocation record of ``stack``: the addresses its simulated applies were given, so that
    a rehearsal (a failover to a new location, a changed CIDR) never rewrites the project's committed record
    or reserves a block there for a location nothing ever ran in."""
    return rehearsal_dir(project_dir) / f"{stack}.network.json"


def state_file(project_dir: Path, project: str, stack: str) -> Path:
    return rehearsal_dir(project_dir) / project / f"{stack.replace('/', '__')}.json"


def read_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"resources": {}, "pending": [], "generations": {}}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    # compact: json's C encoder (an indent falls back to the pure-Python one, ~15x slower: this is written
    # twice per simulated operation)
    tmp.write_text(json.dumps(state, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def _digest(resource: RenderedResource) -> str:
    body = json.dumps(resource.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class RehearsalWorkspace:
    """One stack's simulated Pulumi workspace. ``resources``: the program it runs (empty for destroy,
    refresh and outputs, which work from the state); ``slots``: stack resource -> the offerings placed."""

    def __init__(self, settings: EngineSettings, resources: Sequence[RenderedResource],
                 slots: Mapping[str, Sequence[tuple[str, str, str]]], faults: Faults) -> None:
        self._stack = settings.identity.stack
        self._path = state_file(settings.project_dir, settings.identity.project, self._stack)
        self._resources = list(resources)
        self._slots = slots
        self._faults = faults

    # -- the Workspace seam ---------------------------------------------------------------------------
    def install_plugins(self, plugins: Sequence[PulumiPlugin]) -> None:
        """Nothing to install: no provider runs."""

    def preview(self, on_event: RawEventHandler) -> StackRun:
        state = read_state(self._path)
        wanted = {r.name: _digest(r) for r in self._resources}
        have = state["resources"]
        summary = {"create": sum(n not in have for n in wanted),
                   "update": sum(n in have and have[n]["digest"] != d for n, d in wanted.items()),
                   "delete": sum(n not in wanted for n in have)}
        summary["same"] = len(wanted) - summary["create"] - summary["update"]
        return StackRun({k: v for k, v in summary.items() if v})

    def up(self, on_event: RawEventHandler) -> StackRun:
        if self._faults.take_transient(self._stack):
            raise RuntimeError(_THROTTLED.format(name=self._stack))
        state = read_state(self._path)
        ordered = dependency_order(self._resources)
        wanted = {r.name for r in ordered}
        steps: list[tuple[str, RenderedResource | None, str]] = []
        for r in ordered:
            current = state["resources"].get(r.name)
            if current is None:
                steps.append(("create", r, r.name))
            elif current["digest"] != _digest(r):
                steps.append(("update", r, r.name))
        # what the program no longer has goes last, dependents first: how Pulumi converges a smaller program
        steps += [("delete", None, name) for name in reversed(list(state["resources"])) if name not in wanted]
        return StackRun(self._run(state, steps))

    def destroy(self, on_event: RawEventHandler) -> StackRun:
        state = read_state(self._path)
        steps = [("delete", None, name) for name in reversed(list(state["resources"]))]
        return StackRun(self._run(state, steps))

    def refresh(self, on_event: RawEventHandler, *, preview_only: bool = False) -> StackRun:
        # the simulated clouds change only through this adapter: nothing ever drifts
        return StackRun({"same": len(read_state(self._path)["resources"])})

    def outputs(self) -> Mapping[str, OutputValue]:
        state = read_state(self._path)
        exported: dict[str, dict[str, str]] = {}
        for name, res in state["resources"].items():
            if res.get("source") and not res["type"].startswith("pulumi:providers:"):
                exported.setdefault(res["source"], {})[name] = res["id"]
        return {source: OutputValue(ids) for source, ids in sorted(exported.items())}

    def cancel(self) -> None:
        """No backend holds an update open."""

    def repair_pending(self) -> list[dict[str, str]]:
        """Clear the pending operations of an interrupted run, as the real adapter does (cancel, then
        refresh clearing pending creates): a simulated operation changes the clouds and the state in one
        write, so a pending one never happened and nothing is left behind."""
        state = read_state(self._path)
        pending = state.get("pending") or []
        if pending:
            state["pending"] = []
            _write_state(self._path, state)
        return list(pending)

    # -- the simulation -------------------------------------------------------------------------------
    def _run(self, state: dict[str, Any], steps: list[tuple[str, RenderedResource | None, str]]) -> dict[str, int]:
        crash_after = self._faults.crash.get(self._stack, -1)
        if crash_after is None:
            crash_after = len(steps) // 2
        counts: dict[str, int] = {}
        for done, (op, resource, name) in enumerate(steps):
            if resource is not None and op == "create":
                self._capacity(resource)  # refused by the cloud's API: nothing pending, nothing made
            state["pending"] = [{"op": op, "resource": name}]
            _write_state(self._path, state)
            if done == crash_after:
                crash()  # the operation is pending: Pulumi had started it when it died
            if resource is None:
                del state["resources"][name]
            else:
                generation = state["generations"].get(name, 0) + (op == "create")
                state["generations"][name] = generation
                seed = hashlib.sha256(f"{self._stack}/{name}/{generation}".encode()).hexdigest()[:12]
                state["resources"][name] = {"type": resource.type, "cloud": resource.cloud, "region": resource.region,
                                            "source": resource.source, "digest": _digest(resource),
                                            "id": f"sim-{seed}"}
            state["pending"] = []
            _write_state(self._path, state)
            counts[op] = counts.get(op, 0) + 1
        if crash_after != -1 and crash_after >= len(steps):  # after the apply (or a converged one)
            crash()
        return counts

    def _capacity(self, resource: RenderedResource) -> None:
        if not self._faults.capacity or resource.role is None or resource.role.value not in _MACHINE_ROLES:
            return
        for cloud, region, machine in self._slots.get(resource.source or "", ()):
            if (cloud, region, machine) in self._faults.capacity and (resource.cloud, resource.region) == (cloud, region):
                template = _CAPACITY.get(cloud, _CAPACITY["aws"])
                raise RuntimeError(template.format(name=resource.name, type=machine, region=region))
