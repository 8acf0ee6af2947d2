"""A rendered resource: one concrete Pulumi resource, by type token, with plain-data inputs.

Inputs are JSON-shaped data. A value that is another resource's output is a reference
``{"$ref": "<logical name>", "output": "<property>"}``: the program builder turns it into a Pulumi
``Output``, the policy engine can follow it, and the plan file shows it without any resolved value. That
is also how secrets stay out of plans: a generated password is a reference to the resource that generates
it inside Pulumi's encrypted state, never a value cloudorch holds.

A map whose *keys* are known only at deploy time (Azure's ``userAssignedIdentities``, keyed by an identity's
resource id) is ``{"$keys": [[<key>, <value>], ...]}`` (``keyed_map``): a JSON object cannot have a reference
as a key, so the pairs are a list, which the program builder turns into a map once the keys resolve.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloudorch.rendering.roles import Role

REF = "$ref"
KEYS = "$keys"


def ref(name: str, output: str = "id", *, path: tuple[str | int, ...] = (), prefix: str = "", suffix: str = "",
        relative_to: str = "") -> dict:
    """A reference to another resource's output; ``path`` picks a part of a structured output
    (``ref(gateway, "vpnInterfaces", path=(0, "ipAddress"))``: the first interface's address); ``prefix`` and
    ``suffix`` surround the (string) value: an id of a child the cloud derives from its parent's id, or a
    policy document that must name a generated ARN or account (a policy input is one string).

    ``relative_to`` names a DNS zone: the (string) value, an absolute name in that zone, becomes the name
    relative to it (``relative_name``), after ``prefix`` and ``suffix``; for a zone that names its records
    relatively (Azure DNS) when another cloud's output is absolute (ACM's validation record name). A value
    outside the zone fails the deployment rather than land in the zone under a name nobody asked for."""
    out: dict = {REF: name, "output": output}
    if path:
        out["path"] = list(path)
    if prefix:
        out["prefix"] = prefix
    if suffix:
        out["suffix"] = suffix
    if relative_to:
        out["relative_to"] = relative_to
    return out


def relative_name(name: str | None, zone: str) -> str | None:
    """``name`` relative to ``zone``: ``_x.www.example.com.`` in ``example.com`` is ``_x.www``, the zone's own
    name ``@``. Either may end with the root's dot; DNS names compare case-insensitively, so the part kept
    keeps its case. None (an output not reported yet) stays None; a name outside the zone is a ValueError."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise ValueError(f"{name!r} is not a DNS name, so it cannot be made relative to {zone!r}")
    bare, apex = name.rstrip("."), zone.rstrip(".")
    if bare.lower() == apex.lower():
        return "@"
    if apex and bare.lower().endswith("." + apex.lower()):
        return bare[: -len(apex) - 1]
    raise ValueError(f"{name!r} is not in the zone {zone!r}, so it has no name relative to it")


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and REF in value


def keyed_map(entries: Iterable[tuple[dict | str, Any]]) -> dict:
    """A map with deploy-time keys: ``keyed_map([(ref(identity, "id"), {})])`` is ``{<identity's id>: {}}``
    once deployed. A key is a reference (or a plain string); a value is any input, references too. The pairs
    are sorted, since a map has no order, so the same map renders the same JSON whatever order it was given in.
    Readers of inputs treat it as they treat a reference: set, contents unknown until deploy time."""
    pairs = []
    for key, value in entries:
        if not (is_ref(key) or isinstance(key, str)):
            raise ValueError(f"a map key must be a reference or a string, not {key!r}")
        pairs.append([key, value])
    return {KEYS: sorted(pairs, key=lambda pair: json.dumps(pair, sort_keys=True))}


def is_keyed_map(value: Any) -> bool:
    return isinstance(value, dict) and KEYS in value


def is_deferred(value: Any) -> bool:
    """A reference or a map with deploy-time keys: set, but not known before deploy time."""
    return isinstance(value, dict) and (REF in value or KEYS in value)


def refs_in(value: Any) -> Iterator[dict[str, str]]:
    """Every reference inside ``value``, depth first. Collected into a list by plain recursion rather than
    nested generators: a large stack's rendering, proof and policies walk millions of input values, and a
    generator frame per level was a fifth of `plan`'s time outside placement."""
    found: list[dict[str, str]] = []
    _collect_refs(value, found)
    return iter(found)


def _collect_refs(value: Any, found: list) -> None:
    if isinstance(value, dict):
        if REF in value:
            found.append(value)
            return
        for item in value.values():
            if isinstance(item, (dict, list)):
                _collect_refs(item, found)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                _collect_refs(item, found)


class RenderedResource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="logical name, unique within the stack")
    type: str = Field(description="Pulumi type token, e.g. aws:ec2/instance:Instance or pulumi:providers:aws")
    role: Role | None = Field(default=None, description="what it is on any cloud (firewall-rule, database, ...); "
                              "every provider sets it, and role-targeted policies see nothing without it")
    cloud: str
    region: str | None = None
    source: str | None = Field(default=None, description="the stack resource it was rendered from")
    inputs: dict[str, Any] = {}
    depends_on: tuple[str, ...] = Field(default=(), description="explicit dependencies beyond input references")
    provider: str | None = Field(default=None, description="logical name of the explicit provider resource")
    secret_outputs: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _provider_not_self(self) -> RenderedResource:
        if self.provider == self.name:
            raise ValueError("a resource cannot be its own provider")
        return self

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    @property
    def dependencies(self) -> tuple[str, ...]:
        """Everything this resource waits for: referenced resources, explicit ones and its provider."""
        names = {r[REF] for r in refs_in(self.inputs)} | set(self.depends_on)
        if self.provider:
            names.add(self.provider)
        return tuple(sorted(names))
