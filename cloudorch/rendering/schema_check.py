"""Check rendered resources against a Pulumi package schema.

The Pulumi SDK's mocks accept any type token and any input, so nothing else would notice a misspelt
property before a user's real `pulumi up`. This reads the package-schema layout
(``resources[token] = {inputProperties, requiredInputs}``, ``types[token]``) and reports, per resource,
an unknown type token, unknown or mistyped inputs and missing required inputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudorch.rendering.model import KEYS, REF, RenderedResource, is_keyed_map, is_ref


@dataclass(frozen=True)
class SchemaViolation:
    resource: str
    type: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource} ({self.type}): {self.path}: {self.message}" if self.path else (
            f"{self.resource} ({self.type}): {self.message}"
        )


class PackageSchema:
    def __init__(self, data: dict[str, Any]) -> None:
        self.name: str = data.get("name", "")
        self.version: str = data.get("version", "")
        self.resources: dict[str, Any] = data.get("resources", {})
        self.types: dict[str, Any] = data.get("types", {})

    @classmethod
    def load(cls, path: str | Path) -> PackageSchema:
        return cls(json.loads(Path(path).read_text()))

    def check(self, resource: RenderedResource) -> list[SchemaViolation]:
        spec = self.resources.get(resource.type)
        if spec is None:
            return [SchemaViolation(resource.name, resource.type, "", f"type token not in {self.name} {self.version}")]
        found: list[SchemaViolation] = []

        def report(path: str, message: str) -> None:
            found.append(SchemaViolation(resource.name, resource.type, path, message))

        self._check_object(resource.inputs, spec.get("inputProperties", {}), spec.get("requiredInputs", []), "", report)
        return found

    def _check_object(self, value: Any, properties: dict, required: Iterable[str], path: str, report) -> None:
        if not isinstance(value, dict):
            report(path, f"expected an object, got {type(value).__name__}")
            return
        for key in required:
            if key not in value:
                report(_join(path, key), "required input is missing")
        for key, item in value.items():
            prop = properties.get(key)
            if prop is None:
                close = sorted(p for p in properties if p.lower() == key.lower())
                report(_join(path, key), "unknown property" + (f" (did you mean {close[0]!r}?)" if close else ""))
                continue
            self._check_value(item, prop, _join(path, key), report)

    def _check_value(self, value: Any, prop: dict, path: str, report) -> None:
        if is_ref(value) or value is None:
            return  # an output of another resource: its type is the engine's business
        if "$ref" in prop:
            target = prop["$ref"]
            if target.startswith("pulumi.json#/"):
                return  # Any, Archive, Asset, Json
            type_spec = self.types.get(target.split("#/types/", 1)[-1])
            if type_spec is None:
                report(path, f"schema has no type {target}")
                return
            self._check_value(value, type_spec, path, report)
            return
        if is_keyed_map(value):
            self._check_keyed_map(value[KEYS], prop, path, report)
            return
        if "oneOf" in prop:
            if not any(self._fits(value, option) for option in prop["oneOf"]):
                report(path, f"{value!r} matches none of the allowed shapes")
            return
        if "enum" in prop:
            allowed = [e.get("value") for e in prop["enum"]]
            if value not in allowed:
                report(path, f"{value!r} is not one of {allowed}")
            return
        kind = prop.get("type")
        if kind == "object":
            if "properties" in prop:
                self._check_object(value, prop["properties"], prop.get("required", []), path, report)
            elif not isinstance(value, dict):
                report(path, f"expected a map, got {type(value).__name__}")
            elif "additionalProperties" in prop:
                for key, item in value.items():
                    self._check_value(item, prop["additionalProperties"], _join(path, key), report)
        elif kind == "array":
            if not isinstance(value, list):
                report(path, f"expected a list, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self._check_value(item, prop.get("items", {}), f"{path}[{i}]", report)
        elif kind and not _scalar_fits(value, kind):
            report(path, f"expected {kind}, got {type(value).__name__} {value!r}")

    def _check_keyed_map(self, pairs: Any, prop: dict, path: str, report) -> None:
        """A map with deploy-time keys fits where the schema wants a map (an object without named
        properties) and each of its values fits the map's value type."""
        if prop.get("type") != "object" or "properties" in prop:
            report(path, "a map with deploy-time keys where the schema wants "
                         + ("an object with named properties" if "properties" in prop else prop.get("type", "another shape")))
            return
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            report(path, f"{KEYS} must be a list of [key, value] pairs")
            return
        for key, item in pairs:
            if not (is_ref(key) or isinstance(key, str)):
                report(path, f"a map key must be a reference or a string, not {key!r}")
            elif "additionalProperties" in prop:
                shown = f"<{key[REF]}.{key.get('output', 'id')}>" if is_ref(key) else key
                self._check_value(item, prop["additionalProperties"], _join(path, shown), report)

    def _fits(self, value: Any, prop: dict) -> bool:
        errors: list[str] = []
        self._check_value(value, prop, "", lambda p, m: errors.append(m))
        return not errors


def _scalar_fits(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
