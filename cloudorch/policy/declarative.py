"""Declarative YAML policies: attribute conditions combined with and / or / not.

The condition describes a *compliant* resource, as Checkov's YAML policies do. Values that are references
to other resources' outputs are unknown, and the logic is three-valued (Kleene): a condition that cannot
be decided passes rather than flag every reference. A file holds one policy, or ``policies:`` with an
optional ``pack:`` name and pack-level ``enforcement:``. Every problem is reported with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from cloudorch.errors import Problem, SpecError
from cloudorch.policy.model import ENFORCEMENTS, LEVELS, POLICY_ID, SEVERITIES, Check, Policy, Violation
from cloudorch.rendering.model import is_ref
from cloudorch.spec.models import RESOURCE_KINDS
from cloudorch.spec.yamlsource import Located, load_located

Tri = bool | None  # True, False, or undecidable (an unknown value)
Cond = Callable[[Any], Tri]
_MISSING = object()
_UNKNOWN = object()

_NEGATIVE = {"not_equals", "not_in", "not_contains", "not_exists"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda v, x: v == x,
    "not_equals": lambda v, x: v != x,
    "in": lambda v, x: v in x,
    "not_in": lambda v, x: v not in x,
    "contains": lambda v, x: isinstance(v, (list, str, dict)) and x in v,
    "not_contains": lambda v, x: not (isinstance(v, (list, str, dict)) and x in v),
    "greater_than": lambda v, x: _num(v) is not None and _num(v) > x,
    "greater_than_or_equal": lambda v, x: _num(v) is not None and _num(v) >= x,
    "less_than": lambda v, x: _num(v) is not None and _num(v) < x,
    "less_than_or_equal": lambda v, x: _num(v) is not None and _num(v) <= x,
    "matches": lambda v, x: isinstance(v, str) and re.search(x, v) is not None,
    "is_true": lambda v, x: v is True or (isinstance(v, str) and v.lower() == "true"),
    "is_false": lambda v, x: v is False or (isinstance(v, str) and v.lower() == "false"),
    "exists": lambda v, x: True,
    "not_exists": lambda v, x: False,
}
_NO_VALUE = {"exists", "not_exists", "is_true", "is_false"}
_POLICY_KEYS = {"id", "title", "severity", "enforcement", "remediation", "description", "frameworks", "tags",
                "level", "resources", "condition", "message", "url"}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _values(data: Any, parts: tuple[str, ...]) -> list[Any]:
    """Every value at ``parts``; ``*`` fans out over a list. A missing value is ``_MISSING``."""
    nodes = [data]
    for part in parts:
        nxt: list[Any] = []
        for node in nodes:
            if node is _MISSING or node is _UNKNOWN:
                nxt.append(node)
            elif is_ref(node):
                nxt.append(_UNKNOWN)
            elif part == "*" and isinstance(node, list):
                nxt.extend(node)
            elif isinstance(node, dict):
                nxt.append(node.get(part, _MISSING))
            elif isinstance(node, list) and part.isdigit():
                nxt.append(node[int(part)] if int(part) < len(node) else _MISSING)
            else:
                nxt.append(_MISSING)
        nodes = nxt
    return [_UNKNOWN if is_ref(n) else (_MISSING if n is None else n) for n in nodes] or [_MISSING]


def _attribute(path: str, op: str, expected: Any, default: Any) -> Cond:
    parts = tuple(path.split("."))
    test = _OPS[op]

    def cond(data: Any) -> Tri:
        result: Tri = True
        for value in _values(data, parts):
            if value is _MISSING and default is not _MISSING:
                value = default
            if value is _UNKNOWN:
                if op not in ("exists", "not_exists"):
                    result = None
                    continue
                value = True  # a reference is set: it exists
            if value is _MISSING:
                ok = op in _NEGATIVE
            else:
                ok = test(value, expected)
            if not ok:
                return False
        return result

    return cond


def _all(conds: list[Cond]) -> Cond:
    def cond(data: Any) -> Tri:
        results = [c(data) for c in conds]
        return False if False in results else (None if None in results else True)
    return cond


def _any(conds: list[Cond]) -> Cond:
    def cond(data: Any) -> Tri:
        results = [c(data) for c in conds]
        return True if True in results else (None if None in results else False)
    return cond


def _not(inner: Cond) -> Cond:
    def cond(data: Any) -> Tri:
        result = inner(data)
        return None if result is None else not result
    return cond


class _Parser:
    def __init__(self, file: str, located: Located) -> None:
        self.file, self.located, self.problems = file, located, []

    def problem(self, path: tuple[Any, ...], message: str) -> None:
        dotted = ".".join(str(p) for p in path)
        self.problems.append(Problem(self.file, self.located.line_of(path), dotted, message))

    def condition(self, node: Any, path: tuple[Any, ...]) -> Cond | None:
        if not isinstance(node, dict):
            self.problem(path, "a condition must be a mapping: {attribute, operator, value} or and/or/not")
            return None
        combinators = [k for k in ("and", "or", "not") if k in node]
        if len(combinators) > 1 or (combinators and len(node) != 1):
            self.problem(path, "use exactly one of `and`, `or`, `not` per mapping")
            return None
        if combinators == ["not"]:
            inner = self.condition(node["not"], (*path, "not"))
            return _not(inner) if inner else None
        if combinators:
            key = combinators[0]
            items = node[key]
            if not isinstance(items, list) or not items:
                self.problem((*path, key), f"`{key}` needs a non-empty list of conditions")
                return None
            conds = [self.condition(c, (*path, key, i)) for i, c in enumerate(items)]
            if any(c is None for c in conds):
                return None
            return (_all if key == "and" else _any)(conds)  # type: ignore[arg-type]
        return self.attribute(node, path)

    def attribute(self, node: dict[str, Any], path: tuple[Any, ...]) -> Cond | None:
        unknown = set(node) - {"attribute", "operator", "value", "default"}
        for key in sorted(unknown, key=str):
            self.problem((*path, key), "unknown field (expected attribute, operator, value, default)")
        attr, op = node.get("attribute"), node.get("operator")
        if not isinstance(attr, str) or not attr:
            self.problem(path, "`attribute` (a dotted path such as metadataOptions.httpTokens) is required")
        if op not in _OPS:
            self.problem((*path, "operator") if "operator" in node else path,
                         f"`operator` must be one of {', '.join(sorted(_OPS))}, not {op!r}")
        if op in _OPS and op not in _NO_VALUE and "value" not in node:
            self.problem(path, f"operator {op} needs a `value`")
        if op in ("in", "not_in") and not isinstance(node.get("value"), list):
            self.problem((*path, "value"), f"operator {op} needs a list `value`")
        if op == "matches":
            try:
                re.compile(str(node.get("value")))
            except re.error as exc:
                self.problem((*path, "value"), f"not a valid regular expression: {exc}")
        if unknown or not isinstance(attr, str) or not attr or op not in _OPS:
            return None
        return _attribute(attr, op, node.get("value"), node.get("default", _MISSING))

    def policy(self, node: Any, path: tuple[Any, ...], origin: str) -> Policy | None:
        if not isinstance(node, dict):
            self.problem(path, "a policy must be a mapping")
            return None
        before = len(self.problems)
        for key in sorted(set(node) - _POLICY_KEYS, key=str):
            self.problem((*path, key), f"unknown field (expected one of {', '.join(sorted(_POLICY_KEYS))})")
        for key in ("id", "title", "severity", "level", "resources", "condition"):
            if key not in node:
                self.problem(path, f"required field `{key}` is missing")
        pid = node.get("id")
        if "id" in node and not (isinstance(pid, str) and POLICY_ID.match(pid)):
            self.problem((*path, "id"), f"{pid!r} is not a namespaced policy id such as `team.no-public-ip`")
        self._choice(node, path, "severity", SEVERITIES)
        self._choice(node, path, "enforcement", ENFORCEMENTS)
        self._choice(node, path, "level", LEVELS)
        resources = node.get("resources")
        if "resources" in node and not (isinstance(resources, list) and resources
                                        and all(isinstance(r, str) for r in resources)):
            self.problem((*path, "resources"), "a non-empty list of type tokens (rendered) or kinds (spec)")
        elif node.get("level") == "spec" and isinstance(resources, list):
            for i, kind in enumerate(resources):
                if kind not in (*RESOURCE_KINDS, "stack", "*"):
                    self.problem((*path, "resources", i), f"unknown kind {kind!r}")
        cond = self.condition(node["condition"], (*path, "condition")) if "condition" in node else None
        if len(self.problems) > before or cond is None:
            return None
        return _build(node, cond, origin)

    def _choice(self, node: dict[str, Any], path: tuple[Any, ...], key: str, allowed: tuple[str, ...]) -> None:
        if key in node and node[key] not in allowed:
            self.problem((*path, key), f"must be one of {', '.join(allowed)}, not {node[key]!r}")


def _build(node: dict[str, Any], cond: Cond, origin: str) -> Policy:
    level = node["level"]
    targets = tuple(t for t in node["resources"] if t != "*")
    message = node.get("message") or f"does not satisfy {node['id']}: {node['title']}"

    def check(target: Any, ctx: Any) -> list[Violation]:
        data = target.inputs if level == "rendered" else _spec_data(target)
        return [Violation(message)] if cond(data) is False else []

    frameworks = {str(k): tuple(str(i) for i in (v if isinstance(v, list) else [v]))
                  for k, v in (node.get("frameworks") or {}).items()}
    return Policy(
        id=node["id"], title=str(node["title"]), severity=node["severity"], checks=(Check(level, targets, check),),
        enforcement=node.get("enforcement", "mandatory"), remediation=str(node.get("remediation", "")),
        description=str(node.get("description", "")), frameworks=frameworks,
        tags=tuple(str(t) for t in node.get("tags", ())), url=node.get("url"), origin=origin,
    )


def _spec_data(target: Any) -> Any:
    data = target.model.model_dump(mode="json", by_alias=True)
    return data | {"name": target.name} if target.name else data


def parse_policy_file(text: str, file: str) -> tuple[dict[str, Any], list[Policy]]:
    """Returns (pack settings: name, enforcement, description; policies). Raises ``SpecError``."""
    try:
        located = load_located(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError([Problem(file, mark.line + 1 if mark else None, "", f"YAML syntax error: {exc}")],
                        hint="fix the policy file's YAML syntax") from None
    parser = _Parser(file, located)
    for path, line, first in located.duplicates:
        parser.problems.append(Problem(file, line, ".".join(map(str, path)), f"duplicate key (first on line {first})"))
    data = located.data
    settings: dict[str, Any] = {}
    policies: list[Policy] = []
    if isinstance(data, dict) and "policies" in data:
        for key in sorted(set(data) - {"pack", "enforcement", "description", "policies"}, key=str):
            parser.problem((key,), "unknown field (expected pack, enforcement, description, policies)")
        settings = {k: data[k] for k in ("pack", "enforcement", "description") if k in data}
        if "enforcement" in data:
            parser._choice(data, (), "enforcement", ENFORCEMENTS)
        items = data["policies"] if isinstance(data["policies"], list) else []
        if not isinstance(data["policies"], list):
            parser.problem(("policies",), "must be a list of policies")
        for i, node in enumerate(items):
            policy = parser.policy(node, ("policies", i), f"{file}:{located.line_of(('policies', i))}")
            policies.append(policy) if policy else None
    else:
        policy = parser.policy(data, (), f"{file}:1")
        policies.append(policy) if policy else None
    if parser.problems:
        raise SpecError(parser.problems, hint="see the YAML policy format in `cloudorch.policy.declarative`")
    return settings, policies
