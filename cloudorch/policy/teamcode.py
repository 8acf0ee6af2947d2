"""Policy files from a team's policy directory: their checks run only in a child process (``sandbox``).

Loading imports a Python file in a child and brings back its packs with every check replaced by a
``TeamCheck``, a plain value naming the file, the policy and the check. cloudorch's own process then knows
the policies' ids, titles, levels and targets, and never runs a line of the file. Evaluating imports the
files again in a child and runs the checks there (``run_policies``). YAML files are data that cloudorch
parses itself, but their checks run in the child too: a ``matches`` expression can backtrack for ever.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from cloudorch.errors import PluginError, Problem, SpecError
from cloudorch.policy import crossguard, sandbox
from cloudorch.policy.declarative import parse_policy_file
from cloudorch.policy.model import Pack, Policy

TRUST_NOTE = ("policy code is trusted code: it runs with your rights (in a child process with a time limit, "
              "not a sandbox); review it as you would any code you run")


@dataclass(frozen=True)
class TeamCheck:
    """Stands for check ``index`` of policy ``policy`` in ``file``, whose code runs only in a child."""

    file: str
    policy: str
    index: int

    def __call__(self, target: Any, ctx: Any) -> Any:
        raise PluginError(f"policy {self.policy} from {self.file} runs only through cloudorch.policy.evaluate",
                          hint="team policy code runs in a child process; evaluate the pack instead of calling it")


def is_team_policy(policy: Policy) -> bool:
    return any(isinstance(check.fn, TeamCheck) for check in policy.checks)


def team_files(packs: Iterable[Pack]) -> list[str]:
    """The Python files whose code these packs run, for telling the user that they run."""
    return sorted({c.fn.file for p in packs for pol in p.policies for c in pol.checks
                   if isinstance(c.fn, TeamCheck) and c.fn.file.endswith(".py")})


# -- loading ----------------------------------------------------------------------------------------------
class NotAPolicyModule(Exception):
    """A module that imported but does not hold policies as cloudorch reads them (its message says how)."""


def _describe(exc: BaseException) -> str:
    """How the team's code failed, in words that follow "it": "raised KeyError: 'x'", "defines no policies"."""
    return str(exc) if isinstance(exc, NotAPolicyModule) else sandbox.describe_exception(exc)


def load_file(path: Path, default_name: str) -> list[Pack]:
    """The packs a Python policy file defines, imported in a child. A file that cannot be imported, raises,
    exits, loops or defines no policies is invalid input (exit 2) located at its file and line."""
    file = str(path.resolve())
    [outcome] = sandbox.run([lambda _: [stubbed(p, file) for p in _import_packs(Path(file), default_name)]],
                            files=[file], describe=_describe)
    error = outcome.error
    if outcome.ok and not outcome.value:
        error = "defines no policies: define `pack = Pack(...)`, a `policies` list, or CrossGuard ResourceValidationPolicy objects"
    if error is not None:
        where, line = outcome.where or (file, None)
        what = "this policy module" if where == file else f"policy module {file}"
        raise SpecError([Problem(where, line, "", f"cannot load {what}: it {error}{_printed(outcome.output)}")],
                        hint="a policy module is imported and run when it is loaded: it must define its policies "
                             "and return, without exiting, reading input or waiting on the network")
    return outcome.value


def _printed(output: str) -> str:
    return f" (it printed: {output.strip()})" if output.strip() else ""


def stubbed(pack: Pack, file: str) -> Pack:
    """``pack`` as data: each check's function replaced by the ``TeamCheck`` naming it."""
    policies = tuple(
        replace(policy, checks=tuple(replace(check, fn=TeamCheck(file, policy.id, i))
                                     for i, check in enumerate(policy.checks)))
        for policy in pack.policies
    )
    return replace(pack, policies=policies)


def _import_packs(path: Path, default_name: str) -> list[Pack]:
    """Import ``path`` (in the child) and collect its packs: ``pack``, ``policies``, policies at module level,
    or CrossGuard policies and ``PolicyPack(...)`` calls."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"cloudorch_user_policies_{digest}.{path.stem}"
    captured: list[Any] = []
    with crossguard.capture_policy_packs(captured, enabled="pulumi_policy" in path.read_text(errors="ignore")):
        module = _import_path(module_name, path)
    # a module that declared its CrossGuard PolicyPack has said which validators it means
    packs = _packs_in_module(module, path, default_name, include_crossguard=not captured)
    return packs + [crossguard.pack_from_crossguard(obj, origin=str(path)) for obj in captured]


def _import_path(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise NotAPolicyModule("cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # a half-run module must not be found by a later import
        raise
    return module


def _packs_in_module(module: ModuleType, path: Path, default_name: str, *, include_crossguard: bool) -> list[Pack]:
    pack = getattr(module, "pack", None)
    if callable(pack) and not isinstance(pack, Pack):
        pack = pack()
    if isinstance(pack, Pack):
        return [replace(pack, origin=pack.origin or str(path))]
    if pack is not None:
        raise NotAPolicyModule(f"defines `pack` as {type(pack).__name__}, not a Pack (or a function returning one)")
    candidates: Iterable[Any] = getattr(module, "policies", None) or [
        value for key, value in sorted(vars(module).items()) if not key.startswith("_")
    ]
    policies: list[Policy] = []
    for obj in candidates:
        if isinstance(obj, Policy):
            policies.append(obj)
        elif include_crossguard and crossguard.is_resource_policy(obj):
            policies.append(crossguard.policy_from_crossguard(obj, origin=str(path)))
    if not policies:
        return []
    return [Pack(name=default_name, policies=tuple(policies), origin=str(path))]


# -- evaluating -------------------------------------------------------------------------------------------
#: runs one policy's checks (the real ones, in the child) and returns what its findings are made from
Runner = Callable[[Policy, Any], Any]


def run_policies(jobs: Sequence[tuple[Policy, Any]], runner: Runner) -> list[sandbox.Outcome]:
    """Run each ``(policy, ctx)`` of team code through ``runner`` in a child, one outcome per job.

    The child imports the policies' files again and hands ``runner`` the real policy for each stand-in; a
    file that no longer defines the policy as it was loaded is that policy's error.
    """
    files = sorted({c.fn.file for policy, _ in jobs for c in policy.checks if isinstance(c.fn, TeamCheck)})

    def setup() -> dict[tuple[str, str], Policy]:
        found: dict[tuple[str, str], Policy] = {}
        for file in files:
            for policy in _policies_in(file):
                found.setdefault((file, policy.id), policy)
        return found

    def task(policy: Policy, ctx: Any) -> Callable[[dict[tuple[str, str], Policy]], Any]:
        def run(found: dict[tuple[str, str], Policy]) -> Any:
            return runner(_real(policy, found), ctx)
        return run

    return sandbox.run([task(policy, ctx) for policy, ctx in jobs], setup=setup, files=files, describe=_describe)


def _policies_in(file: str) -> list[Policy]:
    if file.endswith((".yaml", ".yml")):
        return parse_policy_file(Path(file).read_text(encoding="utf-8"), file)[1]
    return [policy for pack in _import_packs(Path(file), "team") for policy in pack.policies]


def _real(stand_in: Policy, found: dict[tuple[str, str], Policy]) -> Policy:
    first = stand_in.checks[0].fn
    real = found.get((first.file, stand_in.id))
    same = real is not None and len(real.checks) == len(stand_in.checks) and all(
        (a.level, a.targets, a.roles) == (b.level, b.targets, b.roles) for a, b in zip(real.checks, stand_in.checks))
    if not same:
        raise NotAPolicyModule(f"is no longer defined by {first.file} as it was when it was loaded")
    return real  # type: ignore[return-value]
