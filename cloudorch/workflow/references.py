"""Filling a stack file's ``${ALIAS.outputs.KEY}`` with its upstream stack's outputs, and saying what stays
unknown when the upstream is not applied yet.

A value is never invented: an upstream with no state leaves the reference as written, and the plan lists it
as unknown with the apply that settles it (Terragrunt's mock outputs ended up in saved plans: #2178).
Values go into the text itself, so the filled file keeps every line where it was and later messages still
point at the user's lines; only values that read the same as plain YAML anywhere are put in (ids, hosts,
CIDRs, ARNs), anything else is refused with the place that asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudorch.errors import Problem, SpecError
from cloudorch.workflow.definition import StackFile

#: what a value may hold to go into any YAML context unquoted or quoted alike
_PLAIN = re.compile(r"^[A-Za-z0-9._:/@,+=-]*$")
#: how the engine shows a secret output (``cloudorch.engine.secrets.MASK``)
_MASKED = "[secret]"


@dataclass(frozen=True)
class Unknown:
    """A value of ``stack`` that its upstream's apply will settle."""

    stack: str
    file: str
    line: int | None
    path: str
    reference: str
    upstream: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.reference} is unknown until stack {self.upstream!r} is applied"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "path": self.path, "reference": self.reference,
                "settled_by": f"apply {self.upstream}"}


def fill(stack: StackFile, outputs: Mapping[str, Mapping[str, Any] | None]) -> tuple[str | None, list[Unknown]]:
    """The stack's text with every reference whose upstream has outputs filled in, and the ones left unknown.

    ``outputs``: upstream stack name -> its outputs, or None when it has no state yet. Returns None for the
    text when the file has no references (the file is planned as it is).
    """
    if not stack.references:
        return None, []
    text = stack.text
    unknowns: list[Unknown] = []
    problems: list[Problem] = []
    for ref in stack.references:
        upstream = stack.uses[ref.alias]
        dotted = ".".join(map(str, ref.path))
        line = stack.line_of(ref.path)
        values = outputs.get(upstream)
        if values is None:
            unknowns.append(Unknown(stack.name, stack.file, line, dotted, ref.text, upstream))
            continue
        value, problem = _value(values, ref.key)
        if problem is not None:
            problems.append(Problem(stack.file, line, dotted, f"{ref.text}: {problem}"))
            continue
        text = text.replace(ref.text, value)
    if problems:
        raise SpecError(problems, hint="a reference names an output of the used stack: `cloudorch outputs FILE` "
                                       "lists them")
    return text, unknowns


def _value(outputs: Mapping[str, Any], key: tuple[str, ...]) -> tuple[str, str | None]:
    value: Any = outputs
    for i, part in enumerate(key):
        if not isinstance(value, Mapping) or part not in value:
            have = ", ".join(sorted(map(str, value))) if isinstance(value, Mapping) else "nothing"
            return "", f"no output {'.'.join(key[:i + 1])!r} (there are: {have or 'none'})"
        value = value[part]
    if isinstance(value, Mapping):
        # a stack resource's output is {rendered resource: id}: the reference means all of its ids
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value.values()):
            return "", "is a nested mapping; name one of its parts with .PART"
        value = ",".join(str(value[k]) for k in sorted(value))
    if isinstance(value, bool):
        value = "true" if value else "false"
    if value == _MASKED:
        return "", "is a secret; a secret never goes into a stack file's values (it would be in the plan)"
    if not isinstance(value, (str, int, float)):
        return "", f"is a {type(value).__name__}, not a value a stack file can hold"
    text = str(value)
    if not _PLAIN.match(text):
        return "", f"its value has characters that cannot go into YAML unquoted ({text[:40]!r})"
    return text, None
