"""The one place a workflow writes to and reads from the project's journal (``cloudorch.journal``).

The workflow has no record of its own: every step (the run's start and end, each stack's plan and apply,
each retried attempt, failover, rollback, check attempt and pending-operation repair) is a journal record
carrying the run's ``workflow_id`` and ``step``, so the journal alone says which steps of a run finished:
``--resume`` reads it back (``Progress.of``) and skips them. The workflow lock is the journal's
(``Journal.lock``), held as ``workflow NAME ID``: a resumed run is the same holder and takes over the lock
its killed predecessor left. Appends from the run's threads are serialised here; the journal chains them
in that order. A rehearsal's records say ``rehearsal: true`` (placement does not learn from them).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from cloudorch import api
from cloudorch.api import Session
from cloudorch.errors import UsageError
from cloudorch.journal import Journal

#: the outcome of a step that did what it set out to do (the word single-stack commands journal too)
SUCCEEDED = "succeeded"


def open_journal(session: Session) -> Journal:
    """The project's journal, where the config puts it (``journal_url``), as every other command opens it."""
    return api.journal(session)


def holder(workflow: str, workflow_id: str) -> str:
    """The workflow lock's holder: the same for a run and its resumption, and for nothing else."""
    return f"workflow {workflow} {workflow_id}"


def new_workflow_id() -> str:
    return uuid.uuid4().hex[:12]


class Recorder:
    def __init__(self, journal: Journal, workflow: str, workflow_id: str, rehearsal: bool) -> None:
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
    def of(cls, journal: Journal, workflow: str, rehearsal: bool) -> Progress:
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
        if last is None or any(e.kind == "workflow" and e.outcome == SUCCEEDED for e in runs[last]):
            what = "rehearsal" if rehearsal else "run"
            raise UsageError(f"no unfinished {what} of workflow {workflow!r} in the journal to resume",
                             hint="run it without --resume" + (" (and with --rehearse to resume a rehearsal)"
                                                               if not rehearsal else ""))
        progress = cls(last)
        for entry in runs[last]:
            step = (entry.fields or {}).get("step")
            if entry.kind in ("apply", "destroy", "check") and entry.outcome == SUCCEEDED and step:
                progress.done.add(step)
            elif entry.kind == "rollback" and entry.outcome == SUCCEEDED and step:
                progress.done.discard(step)
            elif entry.kind == "failover" and (entry.fields or {}).get("blocked"):
                cloud, region, machine = entry.fields["blocked"].split("/", 2)
                progress.blocked.add((cloud, region, machine))
        return progress
