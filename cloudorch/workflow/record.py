"""The one place a workflow writes to and reads from the journal (``cloudorch.journal``).

Every step is recorded with the run's ``workflow_id``, so the journal alone says which stacks of a run
finished: ``--resume`` reads it back (``Progress.of``) and skips them. Appends from the run's threads are
serialised here; the journal chains them in that order.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudorch.errors import UsageError


def open_journal(project_dir: Path, url: str | None = None) -> Any:
    from cloudorch.journal import Journal  # the journal's stores import what they need only when opened

    return Journal.open(project_dir, url=url)


def new_workflow_id() -> str:
    return uuid.uuid4().hex[:12]


class Recorder:
    def __init__(self, journal: Any, workflow: str, workflow_id: str, rehearsal: bool) -> None:
        self.journal = journal
        self.workflow = workflow
        self.workflow_id = workflow_id
        self.rehearsal = rehearsal
        self._lock = threading.Lock()

    def __call__(self, kind: str, *, stack: str | None = None, outcome: str, **fields: Any) -> None:
        fields = {"workflow": self.workflow, "workflow_id": self.workflow_id, **fields}
        if self.rehearsal:
            fields["rehearsal"] = True
        with self._lock:
            self.journal.append(kind, stack=stack, outcome=outcome, **fields)


@dataclass
class Progress:
    """What the journal says an earlier run of a workflow did: the steps that finished (a stack applied
    and not rolled back since, a check that passed) and the offerings its failovers blocked."""

    workflow_id: str
    done: set[str] = field(default_factory=set)
    blocked: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, journal: Any, workflow: str, rehearsal: bool) -> Progress:
        """The last run of ``workflow`` that did not finish, or a usage error when there is none."""
        runs: dict[str, list[Any]] = {}
        last: str | None = None
        for entry in journal.entries():
            fields = entry.fields or {}
            if fields.get("workflow") != workflow or bool(fields.get("rehearsal")) != rehearsal:
                continue
            wid = fields.get("workflow_id")
            if wid is None:
                continue
            runs.setdefault(wid, []).append(entry)
            if entry.kind == "workflow" and entry.outcome == "started":
                last = wid
        if last is None or any(e.kind == "workflow" and e.outcome == "ok" for e in runs[last]):
            what = "rehearsal" if rehearsal else "run"
            raise UsageError(f"no unfinished {what} of workflow {workflow!r} in the journal to resume",
                             hint="run it without --resume" + (" (and with --rehearse to resume a rehearsal)"
                                                               if not rehearsal else ""))
        progress = cls(last)
        for entry in runs[last]:
            step = (entry.fields or {}).get("step")
            if entry.kind in ("apply", "destroy", "check") and entry.outcome == "ok" and step:
                progress.done.add(step)
            elif entry.kind == "rollback" and entry.outcome == "ok" and step:
                progress.done.discard(step)
            elif entry.kind == "failover" and (entry.fields or {}).get("blocked"):
                cloud, region, machine = entry.fields["blocked"].split("/", 2)
                progress.blocked.add((cloud, region, machine))
        return progress
