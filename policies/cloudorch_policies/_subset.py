"""Framework packs re-publish baseline rules (same ids, same checks) with the framework's requirements."""

from __future__ import annotations

from dataclasses import replace

from cloudorch.policy import Pack

from cloudorch_policies.baseline import pack as baseline


def subset(name: str, framework: str, mapping: dict[str, tuple[str, ...]], *, description: str,
           enforcement: str | None = "mandatory") -> Pack:
    base = baseline()
    policies = tuple(
        replace(policy, frameworks={**policy.frameworks, framework: mapping[policy.id]})
        for policy in base.policies if policy.id in mapping
    )
    missing = sorted(set(mapping) - {p.id for p in policies})
    if missing:
        raise ValueError(f"pack {name} maps unknown baseline policies: {', '.join(missing)}")
    return Pack(name=name, policies=policies, description=description, enforcement=enforcement,  # type: ignore[arg-type]
                version=base.version)
