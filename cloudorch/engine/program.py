"""The inline Pulumi program: rendered resources registered in dependency order.

The graph is checked (unknown references, unknown providers, cycles) when the program is *built*, so a
broken rendering fails before the Pulumi runtime or CLI is touched. ``pulumi`` itself is imported only
inside the returned callable, which Pulumi runs.

Rendered resources are untyped (a token and a dict), so they are registered as plain
``CustomResource``/``ProviderResource``. Such a resource only exposes an output as an attribute if the
property was named in its props at registration, so every property another resource asks for (and every
secret output) is declared with a ``None`` value: the SDK drops ``None`` inputs on the wire but still
creates the ``Output`` for that property.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cloudorch.errors import EngineError
from cloudorch.rendering.model import KEYS, REF, RenderedResource, is_keyed_map, is_ref, refs_in, relative_name
from cloudorch.rendering.order import RenderGraphProblem
from cloudorch.rendering.order import dependency_order as order_resources

PROVIDER_PREFIX = "pulumi:providers:"
#: the stack output holding every generated secret (a database password, a tunnel's pre-shared key), itself
#: secret: what lets cloudorch know, before any later run, the values a provider's error may echo. Stack
#: resource names have no underscore, so it names none of them.
GENERATED_SECRETS = "_generated_secrets"


class ProgramError(EngineError):
    """The rendered resources do not form a program Pulumi could run (a rendering bug, not a cloud error)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(
            message,
            hint=hint or "this is a rendering bug in a provider plugin; `cloudorch plan --format json` shows the resources",
            kind="engine",
        )


def package_of(token: str) -> str:
    """The Pulumi package a type token belongs to: ``aws:ec2/vpc:Vpc`` and ``pulumi:providers:aws`` → ``aws``."""
    if token.startswith(PROVIDER_PREFIX):
        return token[len(PROVIDER_PREFIX):]
    return token.split(":", 1)[0]


def dependency_order(resources: Sequence[RenderedResource]) -> list[RenderedResource]:
    """Resources in dependency order; a broken graph is a ProgramError, raised before Pulumi is touched."""
    try:
        return order_resources(resources)
    except RenderGraphProblem as exc:
        raise ProgramError(str(exc)) from None


def requested_outputs(resources: Iterable[RenderedResource]) -> dict[str, set[str]]:
    """For each resource, the output properties the program will read from it."""
    wanted: dict[str, set[str]] = {r.name: set(r.secret_outputs) for r in resources}
    for res in resources:
        for r in refs_in(res.inputs):
            wanted.setdefault(r[REF], set()).add(r.get("output", "id"))
    return wanted


def build_program(
    resources: Sequence[RenderedResource],
    *,
    plugin_versions: Mapping[str, str] | None = None,
    secret_values: Iterable[str] = (),
    on_secret: Callable[[Any], None] | None = None,
) -> Callable[[], None]:
    """A zero-argument inline program registering ``resources``.

    ``plugin_versions`` (package → version) pins each resource to the plugin its inputs were rendered for.
    Inputs referring to a secret output, and any input equal to one of ``secret_values``, reach Pulumi as
    secrets, so they are encrypted in state and masked in Pulumi's own output.

    ``on_secret`` is handed each value a resource generates as secret (a VPN link's pre-shared key, a
    database password) as soon as it exists during the run, before anything that uses it is created: on a
    stack's first apply those values are in no output yet, and a provider's error or diagnostic echoing one
    must still be scrubbed (the runner's ``Secrets``).
    """
    ordered = dependency_order(resources)
    wanted = requested_outputs(ordered)
    secret_refs = {(r.name, out) for r in ordered for out in r.secret_outputs}
    versions = dict(plugin_versions or {})
    secrets = frozenset(s for s in secret_values if s)

    def program() -> None:
        import pulumi

        registered: dict[str, pulumi.Resource] = {}

        def convert(value: Any) -> Any:
            if is_ref(value):
                target, prop = value[REF], value.get("output", "id")
                out = _output_of(registered[target], prop)
                if value.get("path"):
                    out = out.apply(lambda v, path=tuple(value["path"]): _dig(v, path))
                if value.get("prefix") or value.get("suffix"):
                    out = out.apply(lambda v, pre=value.get("prefix", ""), suf=value.get("suffix", ""):
                                    None if v is None else f"{pre}{v}{suf}")
                if value.get("relative_to"):
                    out = out.apply(lambda v, zone=value["relative_to"]: _relative(v, zone))
                return pulumi.Output.secret(out) if (target, prop) in secret_refs else out
            if is_keyed_map(value):
                # one Output for the whole map: its keys exist only once the resources they name do, and
                # Output.all carries their secrecy (and that of any value) over to the map
                pairs = [(convert(k), convert(v)) for k, v in value[KEYS]]
                return pulumi.Output.all(*(k for k, _ in pairs), *(v for _, v in pairs)).apply(
                    lambda resolved, n=len(pairs): _keyed(resolved[:n], resolved[n:]))
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, str) and value in secrets:
                return pulumi.Output.secret(value)
            return value

        for res in ordered:
            props = {prop: None for prop in wanted.get(res.name, ()) if prop not in ("id", "urn")}
            props.update({k: convert(v) for k, v in res.inputs.items()})
            opts = pulumi.ResourceOptions(
                provider=registered[res.provider] if res.provider else None,
                depends_on=[registered[d] for d in res.depends_on] or None,
                additional_secret_outputs=list(res.secret_outputs) or None,
                version=versions.get(package_of(res.type)),
            )
            if res.is_provider:
                registered[res.name] = pulumi.ProviderResource(package_of(res.type), res.name, props, opts)
            else:
                registered[res.name] = pulumi.CustomResource(res.type, res.name, props, opts)

        for source, members in _by_source(ordered).items():
            pulumi.export(source, {name: registered[name].id for name in members})
        generated = {res.name: {prop: _seen(_output_of(registered[res.name], prop), on_secret)
                                for prop in res.secret_outputs}
                     for res in ordered if res.secret_outputs}
        if generated:
            pulumi.export(GENERATED_SECRETS, pulumi.Output.secret(generated))

    return program


def _seen(output: Any, on_secret: Callable[[Any], None] | None) -> Any:
    """``output``, whose value goes to ``on_secret`` once known (never in a preview, where it is unknown).
    Exported, so the SDK runs the callback; it resolves with the value that dependents wait for, long before
    a provider could answer for them."""
    if on_secret is None:
        return output

    def hand_over(value: Any) -> Any:
        on_secret(value)
        return value

    return output.apply(hand_over)


def _output_of(resource: Any, prop: str) -> Any:
    if prop == "id":
        return resource.id
    if prop == "urn":
        return resource.urn
    # Declared in props at registration (see module docstring), so the SDK put an Output there.
    return resource.__dict__[prop]


def _keyed(keys: Sequence[Any], values: Sequence[Any]) -> dict[str, Any]:
    """A map with deploy-time keys, resolved; a key that resolved to no string is a rendering bug, named here
    rather than left for the provider's serializer to trip over."""
    bad = [k for k in keys if not isinstance(k, str)]
    if bad:
        raise ProgramError(f"a map key resolved to {bad[0]!r}, not a string")
    return dict(zip(keys, values, strict=True))


def _relative(name: Any, zone: str) -> str | None:
    """A reference's ``relative_to``, applied once its value is known; a value outside the zone stops the
    deployment here, naming both, rather than the cloud creating a record under a name nobody asked for."""
    try:
        return relative_name(name, zone)
    except ValueError as exc:
        raise ProgramError(f"a reference relative to a zone resolved outside it: {exc}") from None


def _dig(value: Any, path: tuple) -> Any:
    """The part of a structured output at ``path``; None where it has no such part (what Pulumi's mocks
    return, or a resource that has not reported it), which the provider then rejects by name."""
    for step in path:
        try:
            value = None if value is None else value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _by_source(resources: Iterable[RenderedResource]) -> dict[str, list[str]]:
    """Stack resource name → its rendered (non-provider) resources, for the stack outputs."""
    groups: dict[str, list[str]] = {}
    for res in resources:
        if res.source and not res.is_provider:
            groups.setdefault(res.source, []).append(res.name)
    return groups
