"""A rendered resource: one concrete Pulumi resource, by type token, with plain-data inputs.

Inputs are JSON-shaped data. A value that is another resource's output is a reference
``{"$ref": "<logical name>", "output": "<property>"}``: the program builder turns it into a Pulumi
``Output``, the policy engine can follow it, and the plan file shows it without any resolved value. That
is also how secrets stay out of plans: a generated password is a reference to the resource that generates
it inside Pulumi's encrypted state, never a value cloudorch holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloudorch.rendering.roles import Role

REF = "$ref"


def ref(name: str, output: str = "id", *, path: tuple[str | int, ...] = (), prefix: str = "", suffix: str = "") -> dict:
    """A reference to another resource's output; ``path`` picks a part of a structured output
    (``ref(gateway, "vpnInterfaces", path=(0, "ipAddress"))``: the first interface's address); ``prefix`` and
    ``suffix`` surround the (string) value: an id of a child the cloud derives from its parent's id, or a
    policy document that must name a generated ARN or account (a policy input is one string)."""
    out: dict = {REF: name, "output": output}
    if path:
        out["path"] = list(path)
    if prefix:
        out["prefix"] = prefix
    if suffix:
        out["suffix"] = suffix
    return out


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and REF in value


def refs_in(value: Any) -> Iterator[dict[str, str]]:
    if is_ref(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


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
