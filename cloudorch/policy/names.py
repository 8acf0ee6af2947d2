"""The policy names a stack file gives -- packs, waivers, enforcement overrides -- checked against the packs
that exist, before anything is placed (``api.validate`` and ``api.plan`` ask)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from cloudorch.errors import CloudorchError, Problem
from cloudorch.policy.loading import available_pack_names, load_packs
from cloudorch.spec.loader import LoadedStack, dotted_path
from cloudorch.spec.suggest import did_you_mean, nearest


def policy_name_problems(loaded: LoadedStack, policy_dirs: list[str]) -> list[Problem]:
    """Unknown pack names, and waivers or enforcement overrides naming no policy of the loaded packs.

    Such a waiver waives nothing and such an override overrides nothing, silently: the rule it meant still
    blocks (or no longer advises), and nobody learns why until a plan fails.
    """
    problems: list[Problem] = []

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(loaded.file, loaded.line_of(*path), dotted_path(path), message))

    installed = set(available_pack_names())
    packs = _stack_packs(loaded, policy_dirs, installed, add)
    if problems:
        return problems  # the policy ids of a pack that did not load are unknown: judging waivers would mislead
    settings = loaded.stack.policies
    ids = {policy.id for pack in packs for policy in pack.policies}
    names = {pack.name for pack in packs}
    listed = ", ".join(sorted(names)) or "none"
    unknown = _unknown_policy_name(installed, names)
    for i, waiver in enumerate(settings.waivers):
        if not any(fnmatchcase(policy_id, waiver.policy) for policy_id in ids):
            add(("policies", "waivers", i, "policy"), f"no policy {waiver.policy!r} in the packs {listed}: the "
                                                      f"waiver waives nothing{unknown(waiver.policy, ids)}")
    for key in settings.enforcement:
        if key not in ids and key not in names:
            add(("policies", "enforcement", key), f"{key!r} is neither a policy id nor a pack of this stack "
                                                  f"({listed}){unknown(key, ids | names)}")
    return problems


def _stack_packs(loaded: LoadedStack, policy_dirs: list[str], installed: set[str], add) -> list[Any]:
    """The packs the stack's ``policies.packs`` loads; each name that loads none is passed to ``add``."""
    base = Path(loaded.file).parent
    usable = []
    for i, name in enumerate(loaded.stack.policies.packs):
        if "/" in name or name.startswith("."):  # a directory of the stack's own rules (``load_packs``)
            if (base / name).is_dir():
                usable.append(name)
            else:
                add(("policies", "packs", i), f"no policy directory {name!r} (relative to the stack file: {base / name})")
        elif name in installed:
            usable.append(name)
    # a missing --policy-dir is the run's problem, not the stack's: `plan` reports it; here its packs are unknown
    dirs = [d for d in policy_dirs if Path(d).is_dir()]
    packs = load_packs(usable, policy_dirs=dirs, base_dir=base)
    known = installed | {p.name for p in packs}
    for i, name in enumerate(loaded.stack.policies.packs):
        if not ("/" in name or name.startswith(".")) and name not in known:
            add(("policies", "packs", i), f"no policy pack named {name!r}{did_you_mean(name, known)} "
                                          f"(installed: {', '.join(sorted(installed)) or 'none'})")
    return packs


def _unknown_policy_name(installed: set[str], loaded: set[str]):
    """The tail of a message about a policy id (or pack) the stack's packs lack: where it is, or what was meant."""
    elsewhere: dict[str, str] | None = None  # policy id -> an installed pack the stack does not list

    def unknown(name: str, candidates: set[str]) -> str:
        nonlocal elsewhere
        if name in installed:
            return "; it is an installed pack, which policies.packs does not list"
        if elsewhere is None:  # loaded only when a name is unknown: most stacks never pay for it
            elsewhere = {}
            for other in sorted(installed - loaded, reverse=True):  # the first pack by name wins a shared id
                try:
                    elsewhere |= {policy.id: other for pack in load_packs([other]) for policy in pack.policies}
                except CloudorchError:
                    pass  # a broken pack the stack does not use must not hide the stack's own mistake
        match = name if name in elsewhere else nearest(name, candidates | elsewhere.keys())
        if match is None:
            return "; `cloudorch policy list` shows every policy id"
        unlisted = f"the {elsewhere[match]} pack, which policies.packs does not list" if match not in candidates else ""
        if match == name:
            return f"; it is in {unlisted}"
        return f"; did you mean {match}" + (f" (in {unlisted})?" if unlisted else "?")

    return unknown
