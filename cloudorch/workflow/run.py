"""Applying a workflow: its phases in order, the stacks of a wave in dependency order and in parallel, the
checks between them, transient errors retried, capacity failures re-placed, every step in the journal.

How one stack is applied (``_Run.apply_stack``):

1. skipped when the journal says this run already applied it (``--resume``);
2. its ``${ALIAS.outputs.KEY}`` are filled from the upstream stacks' outputs (already applied: they run first);
3. pending operations a killed run left in its Pulumi state are cleared first (``PulumiEngine.repair_pending``);
4. it is planned with the run's blocked offerings; a mandatory policy (3) or the budget (4) stops it there;
5. the engine applies it; a transient error (``EngineError.retryable``: throttling, 5xx, a held lock) is
   retried with exponential backoff and jitter (tenacity), each attempt recorded;
6. a capacity or quota failure blocks its offering (cloud, region, machine type) for the rest of the run and
   the stack is planned again by the same optimizer with every constraint, budget and policy; the change is
   shown (and confirmed, when the caller asks), and the next apply converges on the new placement, which
   deletes what the failed attempt created in the old one. Nothing feasible left: the stack goes back to
   where it was before the run (exit 5, with ``plan``'s explanation).

A check that keeps failing does what its ``on_failure`` says: ``continue``, ``stop`` (exit 6) or
``rollback`` (the stacks of the wave before it, or those it names, go back to their previous apply, in
reverse order; then exit 6).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudorch import api
from cloudorch.api import PlanResult, Session
from cloudorch.errors import CloudorchError, EngineError, UsageError
from cloudorch.journal import Journal, JournalError, JournalLocked
from cloudorch.lifecycle import failure_fields, plan_hash
from cloudorch.network.record import read_record, record_path, write_record
from cloudorch.workflow.checks import run_probe
from cloudorch.workflow.definition import Check, Workflow, load_workflow, select
from cloudorch.workflow.engines import Engines, slots_of
from cloudorch.workflow.record import SUCCEEDED, Progress, Recorder, holder, new_workflow_id, open_journal
from cloudorch.workflow.references import fill
from cloudorch.workflow.rehearsal import Faults, allocation_record, crash
from cloudorch.workflow.schedule import run_in_order
from cloudorch.workflow.snapshots import Snapshots

DEFAULT_PARALLEL = 4
_FAILOVER_KINDS = ("capacity", "quota")


class CheckFailed(EngineError):
    """A check of the workflow kept failing and its ``on_failure`` stopped the run (exit 6)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, kind="check")


class FailoverDeclined(EngineError):
    def __init__(self, message: str) -> None:
        super().__init__(message, hint="rerun to try again, or with --no-failover to stop at the capacity error",
                         kind="failover")


@dataclass(frozen=True)
class Event:
    """What the run reports as it goes, for the CLI to show: ``step`` is ``stack:NAME`` or ``check:NAME``."""

    step: str
    status: str
    message: str = ""


@dataclass(frozen=True)
class Replacement:
    """A failover's change: the blocked offering and where each affected resource moves."""

    stack: str
    blocked: tuple[str, str, str]
    moves: tuple[str, ...]
    monthly_before: float
    monthly_after: float

    def __str__(self) -> str:
        moves = "; ".join(self.moves) or "no resource moves"
        return (f"{self.stack}: {'/'.join(self.blocked)} is out of capacity; re-placed: {moves} "
                f"(${self.monthly_before:,.2f} -> ${self.monthly_after:,.2f} a month)")


@dataclass
class RunOptions:
    parallel: int | None = None  # None: the workflow file's, else DEFAULT_PARALLEL
    rehearse: bool = False
    faults: Faults = field(default_factory=Faults)
    failover: bool = True
    resume: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    #: asked before a re-placement is applied; None: go ahead (``--yes``, or nobody to ask)
    confirm: Callable[[Replacement], bool] | None = None
    on_event: Callable[[Event], None] | None = None
    #: how retries wait (tests and the benchmark pass one that does not)
    sleep: Callable[[float], None] = time.sleep


@dataclass
class StackOutcome:
    stack: str
    status: str  # applied | skipped (done before a resume) | rolled-back | destroyed
    attempts: int = 1
    failovers: list[Replacement] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass
class WorkflowResult:
    workflow: str
    workflow_id: str
    rehearsal: bool
    stacks: dict[str, StackOutcome] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # name -> passed | failed (continued)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "workflow_id": self.workflow_id, "rehearsal": self.rehearsal,
                "duration_s": round(self.duration_s, 3), "checks": self.checks,
                "stacks": {name: {"status": o.status, "attempts": o.attempts, "summary": o.summary,
                                  "duration_s": round(o.duration_s, 3), "failovers": [str(r) for r in o.failovers]}
                           for name, o in self.stacks.items()}}


def apply_workflow(paths: list[Any], session: Session, options: RunOptions) -> WorkflowResult:
    """Apply every selected stack of the workflow at ``paths`` (a directory, or stack files)."""
    workflow = load_workflow([_path(p) for p in paths])
    selected = select(workflow, list(options.targets), list(options.excludes))
    journal = open_journal(session)
    progress = Progress.of(journal, workflow.name, options.rehearse) if options.resume else None
    workflow_id = progress.workflow_id if progress is not None else new_workflow_id()
    record = Recorder(journal, workflow.name, workflow_id, options.rehearse)
    run = _Run(workflow, session, options, record, selected, progress)
    with _journaled(journal, run, "resumed" if progress else "started", stacks=sorted(selected),
                    parallel=run.parallel, done=sorted(progress.done) if progress else []):
        previous_wave: tuple[str, ...] = ()
        for phase in workflow.phases:
            if phase.check is not None:
                run.check(phase.check, previous_wave)
            else:
                members = [s for s in phase.stacks if s in selected]
                run_in_order(members, lambda s: workflow.upstream(s) & set(members), run.apply_stack, run.parallel)
                previous_wave = tuple(members) or previous_wave
    return run.result


def destroy_workflow(paths: list[Any], session: Session, options: RunOptions) -> WorkflowResult:
    """Destroy every selected stack, each after every stack that uses it (the reverse of apply's order)."""
    workflow = load_workflow([_path(p) for p in paths])
    selected = select(workflow, list(options.targets), list(options.excludes))
    journal = open_journal(session)
    record = Recorder(journal, workflow.name, new_workflow_id(), options.rehearse)
    run = _Run(workflow, session, options, record, selected, None)
    with _journaled(journal, run, "started", operation="destroy", stacks=sorted(selected)):
        run_in_order(sorted(selected), lambda s: workflow.downstream(s) & selected, run.destroy_stack, run.parallel)
    return run.result


@contextmanager
def _locked(journal: Journal, record: Recorder) -> Iterator[None]:
    """The journal's workflow lock as this run; held by an earlier run of this workflow, the way on is
    ``--resume`` (it is the same holder), which the journal's own hint cannot name."""
    with ExitStack() as held:
        try:
            held.enter_context(journal.lock(holder(record.workflow, record.workflow_id)))
        except JournalLocked as exc:
            if exc.holder.startswith(holder(record.workflow, "")):
                exc.hint = ("if that run was killed, continue it with --resume (it takes its own lock over); "
                            "if it still runs, wait for it; to give it up, `cloudorch audit unlock --force`")
            raise
        yield


@contextmanager
def _journaled(journal: Journal, run: _Run, outcome: str, **fields: Any) -> Iterator[None]:
    """The run under the journal's workflow lock, between its ``workflow`` records: started (or resumed),
    then succeeded, failed (with the error's class, and where for an engine failure) or interrupted. A
    journal that cannot take the failure's record does not hide the failure."""
    record = run.record
    operation = {"operation": fields["operation"]} if "operation" in fields else {}
    started = time.monotonic()
    with _locked(journal, record):
        record("workflow", outcome=outcome, **fields)
        try:
            yield
        except BaseException as exc:
            ended = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            try:
                record("workflow", outcome=ended, duration_s=round(time.monotonic() - started, 3), **operation,
                       **failure_fields(exc))
            except JournalError:
                pass
            raise
        run.result.duration_s = time.monotonic() - started
        record("workflow", outcome=SUCCEEDED, duration_s=round(run.result.duration_s, 3), **operation)


def _path(value: Any) -> Any:
    from pathlib import Path

    return Path(value)


class _Run:
    def __init__(self, workflow: Workflow, session: Session, options: RunOptions, record: Recorder,
                 selected: set[str], progress: Progress | None) -> None:
        self.workflow = workflow
        self.session = session
        self.options = options
        self.record = record
        self.selected = selected
        self.engines = Engines(session, rehearse=options.rehearse, faults=options.faults)
        self.snapshots = Snapshots(session.project.root, options.rehearse)
        self.done = set(progress.done) if progress else set()
        self.blocked: set[tuple[str, str, str]] = set(progress.blocked) if progress else set()
        self.parallel = options.parallel or workflow.settings.parallel or DEFAULT_PARALLEL
        self.result = WorkflowResult(workflow.name, record.workflow_id, options.rehearse)

    def event(self, step: str, status: str, message: str = "") -> None:
        if self.options.on_event is not None:
            self.options.on_event(Event(step, status, message))

    # -- stacks ---------------------------------------------------------------------------------------
    def apply_stack(self, name: str) -> None:
        step = f"stack:{name}"
        if step in self.done:
            self.result.stacks[name] = StackOutcome(name, "skipped")
            self.event(step, "skipped", "applied before the run was interrupted")
            return
        started = time.monotonic()
        text = self._filled(name)
        engine = self.engines.engine(name)
        repaired = engine.repair_pending()
        if repaired:
            self.record("repair", stack=name, outcome=SUCCEEDED, step=step, operations=repaired)
            self.event(step, "repaired", f"cleared {len(repaired)} pending operation(s) of an interrupted run")
        outcome = StackOutcome(name, "applied")
        result = self._plan(name, text)
        if self.snapshots.read(name) is None:  # a rollback to nothing puts this record back
            self.snapshots.keep_record_before(name, self._record(name), resumed=self.options.resume)
        while True:
            self.event(step, "applying")
            engine = self.engines.engine(name, result.rendered, slots_of(result))
            api.record_allocation(result, self.session, self._record(name))
            try:
                run = self._retrying(step, name, lambda: engine.apply(result.rendered), outcome)
                break
            except EngineError as exc:
                offering = (getattr(exc, "cloud", None), getattr(exc, "region", None), getattr(exc, "machine_type", None))
                if exc.kind not in _FAILOVER_KINDS or not self.options.failover or None in offering:
                    self.record("apply", stack=name, outcome="failed", step=step, attempts=outcome.attempts,
                                duration_s=round(time.monotonic() - started, 3), **failure_fields(exc))
                    raise
                result = self._failover(name, text, result, exc, offering, outcome)  # type: ignore[arg-type]
        self.snapshots.applied(name, tuple(result.rendered), self._record(name))
        outcome.summary = dict(run.summary)
        outcome.duration_s = time.monotonic() - started
        self.record("apply", stack=name, outcome=SUCCEEDED, step=step, plan_hash=plan_hash(result.plan),
                    inputs_hash=_hash(text or self.workflow.stacks[name].text), attempts=outcome.attempts,
                    summary=outcome.summary, duration_s=round(outcome.duration_s, 3))
        self.result.stacks[name] = outcome
        self.event(step, "applied", _counts(outcome.summary))

    def _filled(self, name: str) -> str | None:
        """The stack's text with its upstream outputs in; a value still unknown here stops the run (exit 2):
        its upstream was left out of this run and never applied."""
        stack = self.workflow.stacks[name]
        if not stack.references:
            return None
        outputs = {u: self.engines.outputs(u) for u in set(stack.uses.values())}
        text, unknowns = fill(stack, outputs)
        if unknowns:
            raise UsageError(f"stack {name!r} needs outputs no applied stack has: " + "; ".join(map(str, unknowns)),
                             hint="apply the stacks it uses first (leave them in the run: no --target/--exclude)")
        return text

    def _plan(self, name: str, text: str | None) -> PlanResult:
        stack = self.workflow.stacks[name]
        self.event(f"stack:{name}", "planning")
        result = api.plan(stack.path, self.session, text=text, blocked=frozenset(self.blocked),
                          record=self._record(name))
        for warning in result.warnings:  # blocks that move: seen before the stack is applied
            self.event(f"stack:{name}", "warning", warning)
        refusal = result.refusal()
        self.record("plan", stack=name, outcome="refused" if refusal else SUCCEEDED, step=f"stack:{name}",
                    plan_hash=plan_hash(result.plan), inputs_hash=_hash(text or stack.text),
                    monthly_usd=result.plan.cost.monthly_usd,
                    blocked=sorted("/".join(b) for b in self.blocked))
        if refusal is not None:
            raise refusal
        return result

    def _record(self, name: str) -> Path:
        """Where the stack's addresses are kept: the project's record, or in a rehearsal its own."""
        root = self.session.location.root
        return allocation_record(root, name) if self.options.rehearse else record_path(root, name)

    def _retrying(self, step: str, name: str, call: Callable[[], Any], outcome: StackOutcome) -> Any:
        from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

        policy = self.workflow.settings.retry

        def transient(exc: BaseException) -> bool:
            return isinstance(exc, EngineError) and exc.retryable and exc.kind not in _FAILOVER_KINDS

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait_s = state.next_action.sleep if state.next_action else 0.0
            outcome.attempts = state.attempt_number + 1
            self.record("retry", stack=name, outcome="retrying", step=step, attempt=state.attempt_number,
                        error_class=getattr(exc, "kind", type(exc).__name__), wait_s=round(wait_s, 3),
                        error=str(exc)[:300])
            self.event(step, "retrying", f"attempt {state.attempt_number} failed ({exc}); again in {wait_s:.1f} s")

        retrying = Retrying(stop=stop_after_attempt(policy.attempts), reraise=True, sleep=self.options.sleep,
                            wait=wait_exponential_jitter(multiplier=policy.initial_s, max=policy.max_s, jitter=policy.jitter_s),
                            retry=retry_if_exception(transient), before_sleep=before_sleep)
        return retrying(call)

    def _failover(self, name: str, text: str | None, failed: PlanResult, exc: EngineError,
                  offering: tuple[str, str, str], outcome: StackOutcome) -> PlanResult:
        step = f"stack:{name}"
        self.blocked.add(offering)
        fields = dict(blocked="/".join(offering), cloud=offering[0], region=offering[1], instance_type=offering[2],
                      error_class=exc.kind)
        try:
            result = self._plan(name, text)
        except CloudorchError as refused:
            self.record("failover", stack=name, outcome="failed", step=step, reason=type(refused).__name__, **fields)
            self._restore(name, "current", f"failover found no placement: {refused.message}")
            raise
        change = _replacement(name, offering, failed, result)
        if self.options.confirm is not None and not self.options.confirm(change):
            self.record("failover", stack=name, outcome="declined", step=step, **fields)
            self._restore(name, "current", "the re-placement was declined")
            raise FailoverDeclined(f"stack {name!r}: the re-placement after a {exc.kind} failure was declined")
        self.record("failover", stack=name, outcome=SUCCEEDED, step=step, replaced=list(change.moves),
                    monthly_before=change.monthly_before, monthly_after=change.monthly_after, **fields)
        outcome.failovers.append(change)
        self.event(step, "failover", str(change))
        return result

    def _restore(self, name: str, which: str, why: str) -> None:
        """Take the stack back to its snapshot ``which`` (the rendered resources of an earlier apply; none:
        nothing), removing what a failed or rejected attempt created, and its allocation record to what that
        apply left: the attempt's record would tell the next plan its blocks are in place."""
        step = f"stack:{name}"
        to = self.snapshots.read(name, which)
        engine = self.engines.engine(name, to or ())
        if to:
            engine.apply(list(to))
            kept = self.snapshots.record(name, which)
            if kept is not None:
                write_record(self._record(name), name, read_record(kept))
        else:
            engine.destroy(plugins=self.engines.plugins(self.workflow.stacks[name].path))
            self.snapshots.put_record_back(name, which, self._record(name))
        self.snapshots.rolled_back(name, to, which)
        self.record("rollback", stack=name, outcome=SUCCEEDED, step=step, reason=why)
        self.result.stacks[name] = StackOutcome(name, "rolled-back")
        self.done.discard(step)
        self.event(step, "rolled-back", why)

    def destroy_stack(self, name: str) -> None:
        step = f"stack:{name}"
        started = time.monotonic()
        engine = self.engines.engine(name)
        repaired = engine.repair_pending()
        if repaired:
            self.record("repair", stack=name, outcome=SUCCEEDED, step=step, operations=repaired)
        run = engine.destroy(plugins=self.engines.plugins(self.workflow.stacks[name].path))
        self.snapshots.destroyed(name)
        duration = time.monotonic() - started
        self.record("destroy", stack=name, outcome=SUCCEEDED, step=step, summary=dict(run.summary),
                    duration_s=round(duration, 3))
        self.result.stacks[name] = StackOutcome(name, "destroyed", summary=dict(run.summary), duration_s=duration)
        self.event(step, "destroyed", _counts(run.summary))

    # -- checks ---------------------------------------------------------------------------------------
    def check(self, check: Check, previous_wave: tuple[str, ...]) -> None:
        step = f"check:{check.check}"
        if step in self.done:
            self.event(step, "skipped", "passed before the run was interrupted")
            return
        if check.check in self.options.faults.crash:
            crash()
        probe = None
        for attempt in range(1, check.retries + 2):
            probe = self._probe(check)
            self.record("check", outcome=SUCCEEDED if probe.passed else "failed", step=step, attempt=attempt,
                        detail=probe.detail, latency_ms=probe.latency_ms)
            if probe.passed:
                self.result.checks[check.check] = "passed"
                self.event(step, "passed", probe.detail)
                return
            if attempt <= check.retries:
                self.event(step, "retrying", f"{probe.detail}; again in {check.interval_s:g} s")
                self.options.sleep(check.interval_s)
        assert probe is not None
        self.event(step, "failed", probe.detail)
        if check.on_failure == "continue":
            self.result.checks[check.check] = "failed"
            return
        if check.on_failure == "rollback":
            targets = [s for s in (check.rollback or previous_wave) if s in self.selected]
            for name in reversed(self.workflow.order()):
                if name in targets:
                    self._restore(name, "previous", f"check {check.check} failed")
        raise CheckFailed(f"check {check.check!r} failed: {probe.detail}" +
                          (" (rolled back: " + ", ".join(sorted(targets)) + ")" if check.on_failure == "rollback" else ""),
                          hint="fix what the check found and run the workflow again (--resume continues this run)")

    def _probe(self, check: Check) -> Any:
        from cloudorch.workflow.checks import Probe

        if self.options.rehearse and check.rehearsal == "simulate":
            failed = check.check in self.options.faults.checks
            return Probe(not failed, "simulated in the rehearsal" + (" (injected failure)" if failed else ""))
        return run_probe(check, self.engines.outputs)


def _replacement(name: str, blocked: tuple[str, str, str], before: PlanResult, after: PlanResult) -> Replacement:
    old, new = before.placement.placements, after.placement.placements
    moves = []
    for resource in sorted(set(old) | set(new)):
        a, b = _where(old.get(resource)), _where(new.get(resource))
        if a != b:
            moves.append(f"{resource}: {a} -> {b}")
    return Replacement(name, blocked, tuple(moves), before.plan.cost.monthly_usd, after.plan.cost.monthly_usd)


def _where(placed: Any) -> str:
    if placed is None:
        return "nothing"
    if not placed.slots:
        return ", ".join(f"{c}/{r}" for c, r in placed.locations)
    return ", ".join(f"{s.count}x {s.cloud}/{s.region}/{s.instance_type}" for s in placed.slots)


def _counts(summary: dict[str, int]) -> str:
    shown = [f"{n} {op}" for op, n in sorted(summary.items()) if n and op != "same"]
    return ", ".join(shown) or "no changes"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
