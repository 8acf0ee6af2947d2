"""Finding packs: installed ones through the ``cloudorch.policy_packs`` entry point, a team's own from
directories of YAML and Python policy files. Nothing is imported until a pack is asked for.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from cloudorch.errors import PluginError, UsageError
from cloudorch.plugins import load_policy_pack_object, policy_pack_names
from cloudorch.policy import crossguard
from cloudorch.policy.declarative import parse_policy_file
from cloudorch.policy.engine import merge_packs, pack_enforcement, resolve_enforcement
from cloudorch.policy.model import Pack, Policy


def load_packs(
    names: Sequence[str],
    *,
    policy_dirs: Sequence[str | Path] = (),
    base_dir: str | Path | None = None,
) -> list[Pack]:
    """Installed packs by name, plus every pack found in ``policy_dirs``.

    A name that looks like a path (``./policies``, ``team/rules``) is a policy directory relative to
    ``base_dir`` (the stack file's directory), so a stack file can bring its team's rules along.
    """
    dirs = [Path(d) for d in policy_dirs]
    installed: list[str] = []
    for name in names:
        if "/" in name or name.startswith("."):
            dirs.append(Path(base_dir or ".") / name)
        else:
            installed.append(name)
    from_dirs: dict[str, Pack] = {}
    for directory in dirs:
        for pack in load_policy_dir(directory):
            from_dirs[pack.name] = _merge(from_dirs[pack.name], pack) if pack.name in from_dirs else pack
    packs: list[Pack] = []
    for name in dict.fromkeys(installed):
        if name in from_dirs:
            continue  # a directory pack of that name was given explicitly: it wins
        packs.append(load_installed_pack(name))
    packs += [from_dirs[name] for name in sorted(from_dirs)]
    merge_packs(packs)  # fail early on two different rules sharing an id
    return packs


def load_installed_pack(name: str) -> Pack:
    obj = load_policy_pack_object(name)
    try:
        pack = obj() if callable(obj) and not isinstance(obj, Pack) else obj
    except Exception as exc:
        raise PluginError(f"policy pack {name!r} failed to build: {type(exc).__name__}: {exc}") from exc
    if not isinstance(pack, Pack):
        raise PluginError(f"entry point for policy pack {name!r} gave {type(pack).__name__}, not a Pack",
                          hint="the entry point must name a Pack or a function returning one")
    if pack.name != name:
        raise PluginError(f"policy pack registered as {name!r} calls itself {pack.name!r}")
    return pack


def available_pack_names() -> tuple[str, ...]:
    return policy_pack_names()


def load_policy_dir(directory: str | Path) -> list[Pack]:
    """Every ``*.yaml``/``*.yml``/``*.py`` file of ``directory`` (not recursive), grouped into packs."""
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"policy directory {str(root)!r} does not exist or is not a directory",
                         hint="pass --policy-dir an existing directory of .yaml or .py policy files")
    default_name = _pack_name(root.resolve().name)
    packs: dict[str, Pack] = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith(("_", ".")) or not path.is_file():
            continue
        if path.suffix in (".yaml", ".yml"):
            found = [_pack_from_yaml(path, default_name)]
        elif path.suffix == ".py":
            found = _packs_from_python(path, default_name)
        else:
            continue
        for pack in found:
            packs[pack.name] = _merge(packs[pack.name], pack) if pack.name in packs else pack
    return [packs[name] for name in sorted(packs)]


def _pack_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name if name and name[0].isalpha() else f"team-{name or 'policies'}"


def _merge(a: Pack, b: Pack) -> Pack:
    try:
        return replace(a, policies=(*a.policies, *b.policies), enforcement=a.enforcement or b.enforcement)
    except ValueError as exc:
        raise PluginError(f"{exc} (in {a.origin} and {b.origin})", hint="policy ids must be unique") from None


def _pack_from_yaml(path: Path, default_name: str) -> Pack:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read policy file {path}: {exc}") from None
    settings, policies = parse_policy_file(text, str(path))
    name = str(settings.get("pack") or default_name)
    try:
        return Pack(name=name, policies=tuple(policies), description=str(settings.get("description", "")),
                    enforcement=settings.get("enforcement"), origin=str(path))
    except ValueError as exc:
        raise PluginError(f"{path}: {exc}") from None


def _packs_from_python(path: Path, default_name: str) -> list[Pack]:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"cloudorch_user_policies_{digest}.{path.stem}"
    captured: list[Any] = []
    try:
        with crossguard.capture_policy_packs(captured, enabled="pulumi_policy" in path.read_text(errors="ignore")):
            module = _import_path(module_name, path)
        # a module that declared its CrossGuard PolicyPack has said which validators it means
        packs = _packs_in_module(module, path, default_name, include_crossguard=not captured)
        packs += [crossguard.pack_from_crossguard(obj, origin=str(path)) for obj in captured]
    except SyntaxError as exc:
        raise PluginError(f"{path}:{exc.lineno}: syntax error: {exc.msg}", hint="fix the policy module") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a module's sys.exit(3) must not pass for "policy blocked"
        raise _load_failure(path, exc) from None
    if not packs:
        raise PluginError(f"{path} defines no policies",
                          hint="define `pack = Pack(...)`, a `policies` list, or CrossGuard ResourceValidationPolicy objects")
    return packs


def _load_failure(path: Path, exc: BaseException) -> PluginError:
    """A module that raised (or called ``sys.exit``) while cloudorch ran its code, named by its file."""
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, SystemExit):
        what = f"called sys.exit({exc.code!r})"
    else:
        what = f"raised {type(exc).__name__}: {exc}" if str(exc) else f"raised {type(exc).__name__}"
    return PluginError(f"cannot load policy module {path}: it {what}",
                       hint="a policy module is imported and run; it must not exit, need arguments or network")


def _import_path(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import {path}")
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
    try:
        return [Pack(name=default_name, policies=tuple(policies), origin=str(path))]
    except ValueError as exc:
        raise PluginError(f"{path}: {exc}") from None


def list_policies(
    packs: Sequence[Pack], *, pack: str | None = None, overrides: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Rows for ``cloudorch policy list``: one per policy, sorted by id.

    ``enforcement_by_pack`` is what each publishing pack applies on its own (``{"baseline": "advisory",
    "pci-dss": "mandatory"}``). ``enforcement`` is, with ``pack``, that pack's own entry: the level a stack
    listing only that pack runs the policy at. Without ``pack`` it is the strictest over every pack that
    publishes the policy, which is what a stack listing all of them runs it at (as ``evaluate`` resolves it).
    """
    overrides = overrides or {}
    rows = []
    for policy, owners in merge_packs(packs):
        names = sorted(p.name for p in owners)
        if pack is not None and pack not in names:
            continue
        by_pack = {p.name: pack_enforcement(policy.id, p, overrides) for p in sorted(owners, key=lambda p: p.name)}
        rows.append({
            "id": policy.id,
            "title": policy.title,
            "packs": names,
            "severity": policy.severity,
            "enforcement": by_pack[pack] if pack is not None else resolve_enforcement(policy, owners, overrides),
            "enforcement_by_pack": by_pack,
            "levels": list(policy.levels),
            "frameworks": {k: list(v) for k, v in sorted(policy.frameworks.items())},
            "remediation": policy.remediation,
        })
    if pack is not None and not rows and pack not in {p.name for p in packs}:
        raise UsageError(f"no loaded pack named {pack!r}",
                         hint=f"loaded packs: {', '.join(sorted(p.name for p in packs)) or 'none'}")
    return rows
