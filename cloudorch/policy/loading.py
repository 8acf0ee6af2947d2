"""Finding packs: installed ones through the ``cloudorch.policy_packs`` entry point, a team's own from
directories of YAML and Python policy files. Nothing is imported until a pack is asked for.

Installed packs are code the user installed, like cloudorch itself, and run in-process. A Python file in a
policy directory is the team's code from the working tree: it is imported and run only in a child process
(``teamcode``, ``sandbox``). YAML files are data, read by cloudorch's own parser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cloudorch.errors import PluginError, UsageError
from cloudorch.plugins import load_policy_pack_object, policy_pack_names
from cloudorch.policy import sandbox, teamcode
from cloudorch.policy.declarative import parse_policy_file
from cloudorch.policy.engine import merge_packs, pack_enforcement, resolve_enforcement
from cloudorch.policy.model import Pack


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
    except KeyboardInterrupt:
        raise  # in-process, this is the user's Ctrl-C
    except BaseException as exc:  # noqa: BLE001 - a factory's sys.exit(0) must not end the run as a success
        raise PluginError(f"policy pack {name!r} failed to build: it {sandbox.describe_exception(exc)}") from exc
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
            found = teamcode.load_file(path, default_name)
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
        pack = Pack(name=name, policies=tuple(policies), description=str(settings.get("description", "")),
                    enforcement=settings.get("enforcement"), origin=str(path))
    except ValueError as exc:
        raise PluginError(f"{path}: {exc}") from None
    # data, not code, but a `matches` expression can backtrack for ever on a value: it runs where the
    # team's Python runs, in a child with a time limit
    return teamcode.stubbed(pack, str(path.resolve()))


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
