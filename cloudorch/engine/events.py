"""Pulumi's engine events as cloudorch's own small event model, and the progress state a display renders.

The SDK's events are read by attribute (duck typing) rather than imported, so this module works on the
objects the Automation API delivers and on test doubles alike without importing ``pulumi``. Each event is
named in the stack's own terms: the rendered resource's logical name and the stack resource it came from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cloudorch.engine.secrets import Secrets
from cloudorch.engine.workspace import Op, ResourceChange

Kind = Literal["resource-start", "resource-done", "resource-failed", "diagnostic", "summary", "cancel"]
Status = Literal["planned", "running", "done", "failed"]

_STACK_TYPE = "pulumi:pulumi:Stack"
_OPS: dict[str, Op] = {
    "same": "same", "create": "create", "update": "update", "delete": "delete", "replace": "replace",
    "create-replacement": "replace", "delete-replaced": "replace", "discard-replaced": "replace",
    "read": "read", "read-replacement": "read", "import": "create", "import-replacement": "replace",
    "discard": "delete", "remove-pending-replace": "delete",
}


@dataclass(frozen=True)
class Event:
    kind: Kind
    sequence: int = 0
    op: Op | None = None
    urn: str | None = None
    type: str | None = None
    name: str | None = None
    stack_resource: str | None = None
    status: Status | None = None
    elapsed_s: float | None = None
    message: str | None = None
    severity: str | None = None
    diff: tuple[str, ...] = ()
    summary: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v not in (None, (), {})}
        if "diff" in data:
            data["diff"] = list(data["diff"])
        if "summary" in data:
            data["summary"] = dict(data["summary"])
        return data


def json_line(event: Event) -> str:
    """One compact JSON object, no newline inside: the ``--format json`` stream for CI."""
    return json.dumps(event.to_dict(), sort_keys=True, separators=(",", ":"), default=str)


def name_of(urn: str) -> str:
    """The logical name at the end of a URN (``urn:pulumi:stack::project::type::name``)."""
    return urn.rsplit("::", 1)[-1]


def normalize_op(raw: Any, step: Any = None) -> Op:
    op = str(getattr(raw, "value", raw))
    if op == "refresh":
        # A refresh step is drift when Pulumi found differences or the resource is gone.
        if step is not None and getattr(step, "old", None) is not None and getattr(step, "new", None) is None:
            return "delete"
        return "update" if step is not None and (_diff_keys(step)) else "same"
    return _OPS.get(op, "update")


def _diff_keys(step: Any) -> tuple[str, ...]:
    detailed = getattr(step, "detailed_diff", None) or {}
    return tuple(sorted(set(getattr(step, "diffs", None) or ()) | set(detailed)))


@dataclass
class ResourceProgress:
    urn: str
    type: str
    name: str
    stack_resource: str | None
    op: Op
    status: Status
    started: float
    finished: float | None = None
    diff: tuple[str, ...] = ()

    def elapsed(self, now: float) -> float:
        return (self.finished if self.finished is not None else now) - self.started


class Progress:
    """Per-resource status and elapsed time, fed one SDK engine event at a time.

    ``handle`` returns the translated ``Event`` (or None for events cloudorch does not surface) so a
    caller can both drive a live display from ``rows`` and stream JSON lines.
    """

    def __init__(
        self,
        sources: Mapping[str, str | None] | None = None,
        *,
        secrets: Secrets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sources = dict(sources or {})
        self._secrets = secrets or Secrets()
        self._clock = clock
        self._rows: dict[str, ResourceProgress] = {}
        self.summary: dict[str, int] = {}
        self.duration_s: float | None = None
        self.errors: list[str] = []  # error diagnostics, redacted: what a failure is classified from

    def name_sources(self, sources: Mapping[str, str | None]) -> None:
        """Which stack resource each rendered resource came from, when known only once the stack is open."""
        self._sources.update(sources)

    @property
    def rows(self) -> list[ResourceProgress]:
        return list(self._rows.values())

    def now(self) -> float:
        return self._clock()

    def changes(self) -> tuple[ResourceChange, ...]:
        return tuple(
            ResourceChange(op=r.op, urn=r.urn, type=r.type, name=r.name, stack_resource=r.stack_resource, diff=r.diff)
            for r in self._rows.values()
        )

    def handle(self, raw: Any) -> Event | None:
        seq = int(getattr(raw, "sequence", 0) or 0)
        if getattr(raw, "resource_pre_event", None) is not None:
            pre = raw.resource_pre_event
            return self._start(seq, pre.metadata, bool(getattr(pre, "planning", False)))
        if getattr(raw, "res_outputs_event", None) is not None:
            return self._finish(seq, raw.res_outputs_event.metadata, failed=False)
        if getattr(raw, "res_op_failed_event", None) is not None:
            return self._finish(seq, raw.res_op_failed_event.metadata, failed=True)
        if getattr(raw, "diagnostic_event", None) is not None:
            return self._diagnostic(seq, raw.diagnostic_event)
        if getattr(raw, "summary_event", None) is not None:
            ev = raw.summary_event
            counts = {str(getattr(k, "value", k)): int(v) for k, v in (ev.resource_changes or {}).items()}
            self.summary = counts
            self.duration_s = float(getattr(ev, "duration_seconds", 0) or 0)
            return Event("summary", seq, elapsed_s=self.duration_s, summary=counts)
        if getattr(raw, "cancel_event", None) is not None:
            return Event("cancel", seq, message="the run was cancelled")
        return None

    def _start(self, seq: int, step: Any, planning: bool) -> Event | None:
        if step.type == _STACK_TYPE:
            return None
        name = name_of(step.urn)
        row = ResourceProgress(
            urn=step.urn, type=step.type, name=name, stack_resource=self._sources.get(name),
            op=normalize_op(step.op, step), status="planned" if planning else "running",
            started=self.now(), diff=_diff_keys(step),
        )
        self._rows[step.urn] = row
        return self._event("resource-start", seq, row)

    def _finish(self, seq: int, step: Any, *, failed: bool) -> Event | None:
        if step.type == _STACK_TYPE:
            return None
        row = self._rows.get(step.urn)
        if row is None:  # an outputs event without a pre event (e.g. a `same` step)
            self._start(seq, step, planning=False)
            row = self._rows[step.urn]
        if row.status != "planned":
            row.status = "failed" if failed else "done"
            row.finished = self.now()
        if not failed:
            row.diff = row.diff or _diff_keys(step)
        return self._event("resource-failed" if failed else "resource-done", seq, row)

    def _diagnostic(self, seq: int, diag: Any) -> Event | None:
        message = self._secrets.redact(str(getattr(diag, "message", "") or "")).strip()
        if not message or getattr(diag, "ephemeral", False):
            return None
        severity = str(getattr(diag, "severity", "info") or "info")
        if severity.startswith("error"):
            self.errors.append(message)
        urn = getattr(diag, "urn", None) or None
        name = name_of(urn) if urn else None
        return Event(
            "diagnostic", seq, urn=urn, name=name, stack_resource=self._sources.get(name) if name else None,
            message=message, severity=severity,
        )

    def _event(self, kind: Kind, seq: int, row: ResourceProgress) -> Event:
        return Event(
            kind, seq, op=row.op, urn=row.urn, type=row.type, name=row.name, stack_resource=row.stack_resource,
            status=row.status, elapsed_s=round(row.elapsed(self.now()), 3), diff=row.diff,
        )
