"""Apply and the other engine operations, with the gates that run before Pulumi is touched.

Order matters and is tested: a saved plan that is stale or differs in anything from the plan its inputs
give now (exit 2), a mandatory policy failure (exit 3) and a budget overrun (exit 4) stop `apply` before
cloudorch even looks for the Pulumi CLI. A saved plan file is hostile input until it has been read
(``cloudorch.plan.document``): it is refused before anything is placed. The commands that
work from state (destroy, refresh, drift, outputs, unlock) need only the stack's identity: they pass none
of these gates, as none of them protects anything once the resources exist.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudorch import __version__, api
from cloudorch.api import PlanResult, Session
from cloudorch.engine import EngineSettings, PulumiEngine, provider_pins
from cloudorch.engine.errors import EngineRunError
from cloudorch.errors import CloudorchError, EngineError, UsageError
from cloudorch.journal import JournalError
from cloudorch.plan import Plan, sha256_text
from cloudorch.plan.document import comparable, differences, read_plan_file
from cloudorch.plugins import load_provider, provider_names
from cloudorch.project import StackIdentity
from cloudorch.provider import PulumiPlugin
from cloudorch.spec.loader import load_stack_header


@dataclass(frozen=True)
class SavedPlan:
    """A plan file as `apply --plan` reads it: the model, and the document the re-derived plan must equal."""

    path: str
    plan: Plan
    document: dict[str, Any]


def load_saved_plan(path: str | Path) -> SavedPlan:
    plan, data = read_plan_file(path)
    return SavedPlan(str(path), plan, data)


def stale_reasons(saved: Plan, current: Plan) -> list[str]:
    """Why a saved plan was made from other inputs than the current ones, in words; empty when it was not."""
    reasons = []
    if saved.stack != current.stack:
        reasons.append(f"it is a plan of stack {saved.stack!r}, not {current.stack!r}")
    reasons += [f"{what} changed since the plan was made" for what in saved.fingerprint.differences(current.fingerprint)]
    return reasons


def content_differences(saved: SavedPlan, current: Plan, shown: int = 4) -> list[str]:
    """How the saved plan differs from the plan re-derived from the same inputs: the resources summarised
    (what a reviewer needs), then the first differing fields of everything else."""
    reasons = []
    derived = json.loads(current.to_json())
    document = dict(saved.document)
    if saved.plan.resources != current.resources:
        reasons.append("the rendered resources differ from the plan (" + _resource_diff(saved.plan, current) + ")")
        document["resources"] = derived["resources"]  # summarised: not again field by field
    return reasons + differences(comparable(document), comparable(derived), shown)


def _resource_diff(saved: Plan, current: Plan, shown: int = 4) -> str:
    """Added, removed and changed resources by name, with the inputs that changed: what a reviewer needs."""
    before = {r.name: r for r in saved.resources}
    after = {r.name: r for r in current.resources}
    parts = []
    for label, names in (("added", sorted(after.keys() - before.keys())), ("removed", sorted(before.keys() - after.keys()))):
        if names:
            parts.append(f"{label} {', '.join(names[:shown])}" + (f" and {len(names) - shown} more" if len(names) > shown else ""))
    changed = []
    for name in sorted(before.keys() & after.keys()):
        if before[name] != after[name]:
            keys = sorted(k for k in before[name].inputs.keys() | after[name].inputs.keys()
                          if before[name].inputs.get(k) != after[name].inputs.get(k))
            changed.append(f"{name} [{', '.join(keys) or 'options'}]")
    if changed:
        parts.append(f"changed {', '.join(changed[:shown])}" + (f" and {len(changed) - shown} more" if len(changed) > shown else ""))
    return "; ".join(parts)


def gate(stack_path: str | Path, session: Session, plan_path: str | Path | None = None) -> PlanResult:
    """Everything `apply` checks before the engine: returns the plan to apply, or raises with exit 2/3/4/5.
    A refusal is journaled as an apply that did not happen (``outcome: refused``)."""
    with recorded(session, "apply", stack_path, quiet_success=True) as record:
        record.outcome = "refused"
        return _gate(stack_path, session, plan_path, record)


def _gate(stack_path: str | Path, session: Session, plan_path: str | Path | None, record: Record) -> PlanResult:
    saved = load_saved_plan(plan_path) if plan_path is not None else None
    if saved is not None:
        _refuse_if_stale(saved, _early_differences(saved.plan, stack_path, session), stack_path)
    # with the explanation if the saved plan has one: it is part of what was reviewed, and compared
    explain = saved.plan.explain is not None if saved is not None else None
    result = api.plan(stack_path, session, explain=explain)  # infeasible (5) raises here
    record.plan(result.plan)
    if saved is not None:
        refuse_unless_same(saved, result.plan, stack_path)
    refusal = result.refusal()
    if refusal is not None:
        raise refusal
    return result


def refuse_unless_same(saved: SavedPlan, current: Plan, stack_path: str | Path) -> None:
    """Refuse (2) a saved plan made from other inputs, or that says anything the re-derived plan does not."""
    _refuse_if_stale(saved, stale_reasons(saved.plan, current), stack_path)
    changed = content_differences(saved, current)
    if changed:
        hint = ("the plan applied must be the plan reviewed: review and save a new plan with "
                f"`cloudorch plan {stack_path} --out {saved.path}`")
        if _blocks(saved.document) != _blocks(json.loads(current.to_json())):
            # the stack's inputs are the same, so the addresses came from another allocation record: one not
            # committed with the plan (a CI checkout without it), or one another plan has changed since
            hint = (f"its address blocks differ: the plan was made with another allocation record than "
                    f".cloudorch/{current.stack}.network.json here (commit the record with the plan, or apply "
                    f"where it was made); else {hint}")
        raise UsageError(f"the saved plan {saved.path!r} is not the plan its inputs give: " + "; ".join(changed),
                         hint=hint)


def _blocks(document: dict) -> list:
    """The plan document's address blocks per site: what the allocation record decides."""
    return (document.get("network") or {}).get("sites") or []


def _early_differences(saved: Plan, stack_path: str | Path, session: Session) -> list[str]:
    """What can be compared before placing anything: so a stale plan is refused (2) even when the changed
    stack would now fail placement or the budget."""
    reasons = []
    if saved.fingerprint.cloudorch_version != __version__:
        reasons.append("the cloudorch version changed since the plan was made")
    try:
        text = Path(stack_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return reasons  # the loader reports it properly
    if saved.fingerprint.stack_sha256 != sha256_text(text):
        reasons.append("the stack file changed since the plan was made")
    if saved.fingerprint.catalog_sha256 != session.catalog.digest:
        reasons.append("the catalog changed since the plan was made")
    return reasons


def _refuse_if_stale(saved: SavedPlan, reasons: list[str], stack_path) -> None:
    if reasons:
        raise UsageError(f"the saved plan {saved.path!r} is stale: " + "; ".join(reasons),
                         hint=f"review and save a new plan: cloudorch plan {stack_path} --out {saved.path}")


@dataclass(frozen=True)
class StackState:
    """A stack as the commands that work from its state see it (destroy, refresh, drift, outputs, unlock):
    its identity and engine, from the stack file's name alone, with no placement, rendering or policy.

    Pulumi destroys and refreshes from the state; the program is not run. What it needs besides is the
    resource plugins, which come from the provider classes of the clouds the stack may use, so a stack
    that today's catalog, budget or policy packs would refuse can still be torn down.
    """

    identity: StackIdentity
    engine: PulumiEngine
    plugins: tuple[PulumiPlugin, ...]
    #: the clouds the stack file limits it to (``placement.clouds``); empty: any installed cloud
    clouds: tuple[str, ...] = ()


def stack_state(stack_path: str | Path, session: Session) -> StackState:
    header = load_stack_header(stack_path)
    identity = session.identity(header.stack)
    clouds = header.clouds if header.clouds is not None else provider_names()
    return StackState(identity, engine_for(identity, session), provider_pins(clouds), tuple(header.clouds or ()))


def clouds_of_types(types: Iterable[str]) -> Counter[str]:
    """Resources per cloud, from their Pulumi types: a type's package is the cloud whose provider plugin pins
    it first (``azure-native`` is azure); packages several clouds use (random, tls) count as ``other``."""
    owner = {}
    for name in provider_names():
        plugins = load_provider(name).pulumi_plugins
        if plugins:
            owner[plugins[0].name] = name
    return Counter(owner.get(t.split(":", 1)[0], "other") for t in types)


def require_credentials(clouds: Iterable[str]) -> None:
    """Refuse, before anyone is asked to confirm, a run whose clouds' Pulumi providers would find no
    credentials on this machine: every such cloud named with where its plugin looked."""
    missing = {}
    for cloud in sorted(set(clouds)):
        reason = load_provider(cloud).engine_credentials()
        if reason:
            missing[cloud] = reason
    if missing:
        raise EngineError(
            f"no credentials for {', '.join(missing)}: " + "; ".join(f"{c}: {r}" for c, r in missing.items()),
            hint="set them as each cloud's standard chain expects (README: Applying: what you need); if Pulumi's stack "
                 "configuration holds them instead (`pulumi config set aws:accessKey ...`), pass --yes: nothing "
                 "is asked then, and Pulumi reads its own configuration",
            kind="missing-credentials",
        )


def engine_for(identity: StackIdentity, session: Session) -> PulumiEngine:
    project, config = session.project, session.config
    return PulumiEngine(EngineSettings(
        project_dir=project.root, identity=identity, project_named_in_config=project.source == "config",
        backend_url=config.backend_url, secrets_provider=config.secrets_provider,
    ))


# -- the journal -------------------------------------------------------------------------------------------

@dataclass
class Record:
    """What a run adds to its journal record while it runs: the stack once known, the plan, the outcome."""

    stack: str | None = None
    outcome: str = "succeeded"
    fields: dict[str, Any] = field(default_factory=dict)

    def plan(self, plan: Plan) -> None:
        self.stack = plan.stack
        self.fields["plan_hash"] = plan_hash(plan)

    def result(self, run: Any) -> None:
        """An engine run's result: what Pulumi counted, per operation."""
        self.fields["changes"] = dict(run.summary)


#: the engine operations that change something, and so are journaled (preview and drift only look)
JOURNALED = frozenset({"apply", "destroy", "refresh"})


def recorded_operation(session: Session, operation: str, stack_path: str | Path, stack: str) -> Any:
    """``recorded`` for a journaled operation; for one that only looks, a record that goes nowhere."""
    return recorded(session, operation, stack_path, stack=stack) if operation in JOURNALED else nullcontext(Record())


@contextmanager
def recorded(session: Session, kind: str, stack_path: str | Path, *, stack: str | None = None,
             quiet_success: bool = False) -> Iterator[Record]:
    """Journal one single-stack command (plan, apply, destroy, refresh) however it ends: its inputs hash,
    duration and outcome; a failure with its error class (and the cloud, region and machine type of a
    capacity or quota error, which placement learns from). ``quiet_success``: record only a failure (the
    gate, whose success the apply it lets through records).

    A journal that cannot be written fails a run that succeeded (6), since an unrecorded change is what
    the journal exists to prevent; when the run failed anyway, its own error is the one reported.
    """
    record = Record(stack=stack, fields={"stack_file": str(stack_path), "inputs_hash": inputs_hash(stack_path, session)})
    succeeded = record.outcome
    start = time.monotonic()
    try:
        yield record
    except BaseException as exc:
        outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else (
            record.outcome if record.outcome != succeeded else "failed")
        try:
            _append(session, kind, record, outcome, start, failure_fields(exc))
        except JournalError:
            pass
        raise
    if not quiet_success:
        _append(session, kind, record, record.outcome, start, {})


def _append(session: Session, kind: str, record: Record, outcome: str, start: float, extra: dict[str, Any]) -> None:
    api.journal(session).append(kind, stack=record.stack, outcome=outcome,
                                duration_s=round(time.monotonic() - start, 3), **record.fields, **extra)


def failure_fields(exc: BaseException) -> dict[str, Any]:
    """How a failure is journaled: its class (the engine's kind: capacity, quota, lock, ...) and, for a
    classified engine failure, where it happened."""
    if not isinstance(exc, CloudorchError):
        return {"error_class": type(exc).__name__}
    found: dict[str, Any] = {"error_class": exc.kind if isinstance(exc, EngineError) else type(exc).__name__,
                             "exit_code": int(exc.exit_code), "message": exc.message}
    if isinstance(exc, EngineRunError):
        found |= {k: v for k, v in (("cloud", exc.cloud), ("region", exc.region), ("instance_type", exc.machine_type))
                  if v}
    return found


def plan_hash(plan: Plan) -> str:
    """The plan's identity in the journal: sha256 of its JSON document, as `plan --out` writes it."""
    return sha256_text(plan.to_json())


def inputs_hash(stack_path: str | Path, session: Session) -> str | None:
    """sha256 over the stack file's bytes and the config file's (the inputs a run is made from); None when
    the stack file cannot be read (the run reports why)."""
    digest = hashlib.sha256()
    try:
        digest.update(Path(stack_path).read_bytes())
    except OSError:
        return None
    config = session.location.config_file
    digest.update(b"\0")
    if config is not None and config.is_file():
        digest.update(config.read_bytes())
    return digest.hexdigest()
