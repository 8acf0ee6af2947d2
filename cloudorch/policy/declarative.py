"""Declarative YAML policies: attribute conditions combined with and / or / not.

The condition describes a *compliant* resource, as Checkov's YAML policies do. Values that are references
to other resources' outputs are unknown, and the logic is three-valued (Kleene): a condition that cannot
be decided passes rather than flag every reference. A file holds one policy, or ``policies:`` with an
optional ``pack:`` name and pack-level ``enforcement:``.

Every field is type-checked when the file is read, including each operator's ``value`` (a number for
``greater_than``, a valid regular expression for ``matches``, a list for ``in``), and every problem of the
file is reported at once with its line and field path. A team's mistake is invalid input (exit 2) found
before anything runs, not a policy that fails at evaluation as if the stack broke it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

import yaml

from cloudorch.errors import Problem, SpecError
from cloudorch.policy.model import (
    ENFORCEMENTS, LEVELS, PACK_NAME, POLICY_ID, SEVERITIES, Check, Policy, Violation,
)
from cloudorch.rendering.model import is_deferred
from cloudorch.spec.models import RESOURCE_KINDS
from cloudorch.spec.yamlsource import Located, YamlShapeError, load_located

Tri = bool | None  # True, False, or undecidable (an unknown value)
#: how deep and / or / not may nest; a real policy needs a handful
MAX_DEPTH = 32
#: how deep a policy file's YAML may nest at all (conditions take about two levels each)
MAX_YAML_DEPTH = 100
Cond = Callable[[Any], Tri]
_MISSING = object()
_UNKNOWN = object()


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, expected: float) -> bool:
        number = _num(value)
        return number is not None and compare(number, expected)
    return test


def _contains(value: Any, expected: Any) -> bool:
    if isinstance(value, str):
        return isinstance(expected, str) and expected in value
    return isinstance(value, (list, dict)) and expected in value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


#: what an operator's ``value`` must be, as (test, description); None when the operator takes no value
_ValueKind = tuple[Callable[[Any], bool], str] | None
_ANY: _ValueKind = (lambda x: True, "any value")
_LIST: _ValueKind = (lambda x: isinstance(x, list), "a list")
_SCALAR: _ValueKind = (_is_scalar, "a string, number or boolean")
_NUMBER: _ValueKind = (_is_number, "a number")
_PATTERN: _ValueKind = (lambda x: isinstance(x, str), "a regular expression (a string)")

#: operator -> (test of an attribute's value against the expected one, what ``value`` must be)
_OPS: dict[str, tuple[Callable[[Any, Any], bool], _ValueKind]] = {
    "equals": (lambda v, x: v == x, _ANY),
    "not_equals": (lambda v, x: v != x, _ANY),
    "in": (lambda v, x: v in x, _LIST),
    "not_in": (lambda v, x: v not in x, _LIST),
    "contains": (_contains, _SCALAR),
    "not_contains": (lambda v, x: not _contains(v, x), _SCALAR),
    "greater_than": (_numeric(operator.gt), _NUMBER),
    "greater_than_or_equal": (_numeric(operator.ge), _NUMBER),
    "less_than": (_numeric(operator.lt), _NUMBER),
    "less_than_or_equal": (_numeric(operator.le), _NUMBER),
    "matches": (lambda v, x: isinstance(v, str) and x.search(v) is not None, _PATTERN),  # x: compiled
    "is_true": (lambda v, x: v is True or (isinstance(v, str) and v.lower() == "true"), None),
    "is_false": (lambda v, x: v is False or (isinstance(v, str) and v.lower() == "false"), None),
    "exists": (lambda v, x: True, None),
    "not_exists": (lambda v, x: False, None),
}
_NEGATIVE = {"not_equals", "not_in", "not_contains", "not_exists"}
_POLICY_KEYS = {"id", "title", "severity", "enforcement", "remediation", "description", "frameworks", "tags",
                "level", "resources", "condition", "message", "url"}
_REQUIRED_KEYS = ("id", "title", "severity", "level", "resources", "condition")
_OPTIONAL_TEXT = ("remediation", "description", "message", "url")


def _kind(value: Any) -> str:
    """How a YAML value reads to its author, for messages: ``must be a list, not a mapping``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__


def _values(data: Any, parts: tuple[str, ...]) -> list[Any]:
    """Every value at ``parts``; ``*`` fans out over a list. A missing value is ``_MISSING``."""
    nodes = [data]
    for part in parts:
        nxt: list[Any] = []
        for node in nodes:
            if node is _MISSING or node is _UNKNOWN:
                nxt.append(node)
            elif is_deferred(node):
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
    return [_UNKNOWN if is_deferred(n) else (_MISSING if n is None else n) for n in nodes] or [_MISSING]


def _attribute(path: str, op: str, expected: Any, default: Any) -> Cond:
    parts = tuple(path.split("."))
    test = _OPS[op][0]

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

    # -- conditions ------------------------------------------------------------------------------------
    def condition(self, node: Any, path: tuple[Any, ...]) -> Cond | None:
        depth = sum(1 for p in path if p in ("and", "or", "not"))
        if depth > MAX_DEPTH:
            # checked before recursing: a condition nested a thousand deep would otherwise exhaust the stack,
            # both here and every time it is evaluated
            self.problem(path, f"conditions nest more than {MAX_DEPTH} deep; flatten them (`and`/`or` take lists)")
            return None
        if not isinstance(node, dict):
            self.problem(path, f"a condition must be a mapping: {{attribute, operator, value}} or and/or/not, "
                               f"not {_kind(node)}")
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
        before = len(self.problems)
        for key in sorted(set(node) - {"attribute", "operator", "value", "default"}, key=str):
            self.problem((*path, key), "unknown field (expected attribute, operator, value, default)")
        attr, op = node.get("attribute"), node.get("operator")
        if "attribute" not in node:
            self.problem(path, "`attribute` (a dotted path such as metadataOptions.httpTokens) is required")
        elif not (isinstance(attr, str) and "" not in attr.split(".")):
            self.problem((*path, "attribute"), f"must be a dotted path such as metadataOptions.httpTokens, "
                                               f"not {_kind(attr)}")
        if op not in _OPS:
            self.problem((*path, "operator") if "operator" in node else path,
                         f"`operator` must be one of {', '.join(sorted(_OPS))}, not {op!r}")
            return None
        expected = self.value(node, path, op)
        if len(self.problems) > before:
            return None
        return _attribute(attr, op, expected, node.get("default", _MISSING))  # type: ignore[arg-type]

    def value(self, node: dict[str, Any], path: tuple[Any, ...], op: str) -> Any:
        """The condition's ``value``, checked against what ``op`` compares with (a regex comes back compiled)."""
        kind, value, where = _OPS[op][1], node.get("value"), (*path, "value")
        if kind is None:
            if "value" in node:  # `exists` with `value: false` reads like `not_exists` but is not
                self.problem(where, f"operator {op} takes no `value`")
            return None
        if "value" not in node:
            self.problem(path, f"operator {op} needs a `value` ({kind[1]})")
        elif value is None:
            self.problem(where, "null never matches (an attribute set to null counts as missing); "
                                "use operator exists or not_exists")
        elif not kind[0](value):
            self.problem(where, f"operator {op} needs {kind[1]} as its `value`, not {_kind(value)}")
        elif op == "matches":
            try:
                return re.compile(value)
            except re.error as exc:
                self.problem(where, f"not a valid regular expression: {exc}")
        return value

    # -- policies --------------------------------------------------------------------------------------
    def policy(self, node: Any, path: tuple[Any, ...], origin: str) -> Policy | None:
        if not isinstance(node, dict):
            self.problem(path, f"a policy must be a mapping, not {_kind(node)}")
            return None
        before = len(self.problems)
        for key in sorted(set(node) - _POLICY_KEYS, key=str):
            self.problem((*path, key), f"unknown field (expected one of {', '.join(sorted(_POLICY_KEYS))})")
        for key in _REQUIRED_KEYS:
            if key not in node:
                self.problem(path, f"required field `{key}` is missing")
        pid = node.get("id")
        if "id" in node and not (isinstance(pid, str) and POLICY_ID.match(pid)):
            self.problem((*path, "id"), f"{pid!r} is not a namespaced policy id such as `team.no-public-ip`")
        if "title" in node and not (isinstance(node["title"], str) and node["title"].strip()):
            self.problem((*path, "title"), f"must be a non-empty string, not {_kind(node['title'])}")
        for key in _OPTIONAL_TEXT:
            self.text(node, path, key)
        self.choice(node, path, "severity", SEVERITIES)
        self.choice(node, path, "enforcement", ENFORCEMENTS)
        self.choice(node, path, "level", LEVELS)
        self.resources(node, path)
        self.tags(node, path)
        self.frameworks(node, path)
        cond = self.condition(node["condition"], (*path, "condition")) if "condition" in node else None
        if len(self.problems) > before or cond is None:
            return None
        return _build(node, cond, origin)

    def choice(self, node: dict[str, Any], path: tuple[Any, ...], key: str, allowed: tuple[str, ...]) -> None:
        if key in node and node[key] not in allowed:
            self.problem((*path, key), f"must be one of {', '.join(allowed)}, not {node[key]!r}")

    def text(self, node: dict[str, Any], path: tuple[Any, ...], key: str) -> None:
        if key in node and not isinstance(node[key], str):
            self.problem((*path, key), f"must be a string, not {_kind(node[key])}")

    def resources(self, node: dict[str, Any], path: tuple[Any, ...]) -> None:
        """What the policy applies to: spec kinds at ``level: spec``, Pulumi type tokens at ``rendered``."""
        resources, where = node.get("resources"), (*path, "resources")
        if "resources" not in node:
            return
        if not (isinstance(resources, list) and resources and all(isinstance(r, str) for r in resources)):
            self.problem(where, f"a non-empty list of type tokens (rendered) or kinds (spec), not {_kind(resources)}")
            return
        for i, target in enumerate(resources):
            if node.get("level") == "spec" and target not in (*RESOURCE_KINDS, "stack", "*"):
                self.problem((*where, i), f"unknown kind {target!r} (expected {', '.join(RESOURCE_KINDS)}, "
                                          "stack or *)")
            elif node.get("level") == "rendered" and target != "*" and ":" not in target:
                # a spec kind here would silently match nothing
                self.problem((*where, i), f"{target!r} is not a Pulumi type token such as aws:ec2/instance:Instance")

    def tags(self, node: dict[str, Any], path: tuple[Any, ...]) -> None:
        tags = node.get("tags")
        if "tags" in node and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            self.problem((*path, "tags"), f"must be a list of strings, not {_kind(tags)}")

    def frameworks(self, node: dict[str, Any], path: tuple[Any, ...]) -> None:
        """``{framework: control id or [control ids]}``; numbers must be quoted, as YAML reads 3.10 as 3.1."""
        frameworks, where = node.get("frameworks"), (*path, "frameworks")
        if "frameworks" not in node:
            return
        if not isinstance(frameworks, dict):
            self.problem(where, "must be a mapping of framework to control ids, such as "
                                f"{{checkov: [CKV_AWS_24], cis-aws-3.0: [\"5.2\"]}}, not {_kind(frameworks)}")
            return
        for name, controls in frameworks.items():
            if isinstance(controls, list) and not controls:
                self.problem((*where, name), "needs at least one control id")
            listed = controls if isinstance(controls, list) else [controls]
            for i, control in enumerate(listed):
                at = (*where, name, i) if isinstance(controls, list) else (*where, name)
                if isinstance(control, float):
                    self.problem(at, f"control id {control!r} was read as a number; quote it (\"3.10\", not 3.10)")
                elif not isinstance(control, (str, int)) or isinstance(control, bool):
                    self.problem(at, f"a control id must be a string, not {_kind(control)}")


def _build(node: dict[str, Any], cond: Cond, origin: str) -> Policy:
    level = node["level"]
    targets = tuple(t for t in node["resources"] if t != "*")
    message = node.get("message") or f"does not satisfy {node['id']}: {node['title']}"

    def check(target: Any, ctx: Any) -> list[Violation]:
        data = target.inputs if level == "rendered" else _spec_data(target)
        return [Violation(message)] if cond(data) is False else []

    frameworks = {str(k): tuple(str(i) for i in (v if isinstance(v, list) else [v]))
                  for k, v in node.get("frameworks", {}).items()}
    return Policy(
        id=node["id"], title=node["title"], severity=node["severity"], checks=(Check(level, targets, check),),
        enforcement=node.get("enforcement"), remediation=node.get("remediation", ""),
        description=node.get("description", ""), frameworks=frameworks, tags=tuple(node.get("tags", ())),
        url=node.get("url"), origin=origin,
    )


def _spec_data(target: Any) -> Any:
    data = target.model.model_dump(mode="json", by_alias=True)
    return data | {"name": target.name} if target.name else data


def parse_policy_file(text: str, file: str) -> tuple[dict[str, Any], list[Policy]]:
    """Returns (pack settings: name, enforcement, description; policies). Raises ``SpecError``."""
    located = _load(text, file)
    parser = _Parser(file, located)
    for path, line, first in located.duplicates:
        parser.problems.append(Problem(file, line, ".".join(map(str, path)), f"duplicate key (first on line {first})"))
    data = located.data
    settings: dict[str, Any] = {}
    policies: list[Policy] = []
    if isinstance(data, dict) and "policies" in data:
        settings = _pack_settings(parser, data)
        items = data["policies"] if isinstance(data["policies"], list) else []
        if not isinstance(data["policies"], list):
            parser.problem(("policies",), f"must be a list of policies, not {_kind(data['policies'])}")
        first_line: dict[str, int | None] = {}
        for i, node in enumerate(items):
            path = ("policies", i)
            pid = node.get("id") if isinstance(node, dict) else None
            if isinstance(pid, str) and pid in first_line:
                parser.problem((*path, "id"), f"policy {pid} is defined twice (first on line {first_line[pid]})")
            elif isinstance(pid, str):
                first_line[pid] = located.line_of((*path, "id"))
            policy = parser.policy(node, path, f"{file}:{located.line_of(path)}")
            policies.append(policy) if policy else None
    else:
        policy = parser.policy(data, (), f"{file}:1")
        policies.append(policy) if policy else None
    if parser.problems:
        raise SpecError(parser.problems, hint="see the YAML policy format in `cloudorch.policy.declarative`")
    return settings, policies


def _too_deep(text: str) -> int | None:
    """The line where the YAML nests deeper than ``MAX_YAML_DEPTH``, if it does. Read from the parser's event
    stream, which keeps no stack of its own, before anything builds the nested values recursively."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()
    return None


def _load(text: str, file: str) -> Located:
    try:
        line = _too_deep(text)
        if line is not None:
            raise SpecError([Problem(file, line, "", f"nests mappings and lists more than {MAX_YAML_DEPTH} deep")],
                            hint="a policy needs a few levels; flatten conditions with `and`/`or` lists")
        return load_located(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = Problem(file, mark.line + 1 if mark else None, "", f"YAML syntax error: {exc}")
    except YamlShapeError as exc:  # aliases that expand without end, merge keys
        problem = Problem(file, exc.line, "", str(exc))
    raise SpecError([problem], hint="fix the policy file's YAML")


def _pack_settings(parser: _Parser, data: dict[str, Any]) -> dict[str, Any]:
    """The ``pack:``, ``enforcement:`` and ``description:`` of a file of several policies."""
    for key in sorted(set(data) - {"pack", "enforcement", "description", "policies"}, key=str):
        parser.problem((key,), "unknown field (expected pack, enforcement, description, policies)")
    name = data.get("pack")
    if "pack" in data and not (isinstance(name, str) and PACK_NAME.match(name)):
        parser.problem(("pack",), f"{name!r} is not a pack name (lower-case letters, digits and dashes)")
    parser.choice(data, (), "enforcement", ENFORCEMENTS)
    parser.text(data, (), "description")
    return {k: data[k] for k in ("pack", "enforcement", "description") if k in data}
