"""A saved plan file read as hostile input, and compared, whole, with the plan its inputs give now.

A saved plan is what a reviewer approved: its placements, cost and findings as much as its resources. So
`apply --plan` re-derives the plan and refuses any difference from the file (``differences``); formatting
(whitespace, key order, ``1`` for ``1.0``) is not a difference, a value's type is (``true`` is not ``1``).

The file comes from a person's editor or a CI artifact, so reading it (``read_document``) refuses, with a
line and a field path, what Python's ``json`` would accept or choke on: duplicated keys (the last one
would silently win), ``NaN``, nesting deeper than any plan has, integers too long to convert.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path as FilePath
from typing import Any

from pydantic import ValidationError

from cloudorch.errors import UsageError
from cloudorch.inputs import read_text
from cloudorch.plan import FORMAT_VERSION, Plan

#: deeper than any plan cloudorch writes (about 8 levels), far below what would exhaust the recursion limit
#: of the parser, the validator or the comparison
MAX_DEPTH = 64
#: Python refuses to convert longer integer literals (its guard against quadratic conversion)
MAX_DIGITS = 4300
#: list items are named by the first of these fields that names every item: `placements.web.region`
_ITEM_KEYS = ("name", "resource", "id")

Path = tuple[str | int, ...]


class _Refused(Exception):
    """A construct the parser met that a plan file may not hold; located afterwards by ``_locate``."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _Refused
    return data


def _constant(name: str) -> Any:
    raise _Refused


#: the largest plan file read: ~20 times a 1,000-resource plan, far below what would exhaust memory
MAX_PLAN_BYTES = 256 * 1024 * 1024


def read_plan_file(path: str | FilePath) -> tuple[Plan, dict[str, Any]]:
    """A plan file read as hostile input: the model, and the document as written (``UsageError``, located,
    for anything a plan file may not hold or a plan of another format version)."""
    name = str(path)
    if not os.path.lexists(path):
        raise UsageError(f"saved plan {name!r} not found", hint="make one with `cloudorch plan STACK --out FILE`")
    text = read_text(path, name, "plan file", max_bytes=MAX_PLAN_BYTES)
    data = read_document(text, name)
    version = data.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:  # `true == 1` in Python: the type is checked
        raise UsageError(f"{name}:{line_of(text, ('format_version',)) or 1}: format_version: "
                         f"{'missing' if version is None else json.dumps(version)}; "
                         f"this cloudorch reads version {FORMAT_VERSION}", hint="plan again with this version")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        raise UsageError(f"{name}:{line_of(text, loc) or 1}: {format_path(loc)}: {first['msg']}",
                         hint="a saved plan is written by `cloudorch plan STACK --out FILE`; make it again") from None
    return plan, data


def read_document(text: str, file: str) -> dict[str, Any]:
    """The JSON object in ``text``; a located ``UsageError`` for anything a plan file may not hold."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{file}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})",
                         hint="a saved plan is written by `cloudorch plan STACK --out FILE`; make it again") from None
    except (_Refused, RecursionError, ValueError):  # ValueError: an integer past Python's conversion limit
        raise _located(text, file) from None
    if not isinstance(data, dict):
        raise UsageError(f"{file}:1: a saved plan is a JSON object, not {_kind(data)}")
    if _too_deep(data):
        raise _located(text, file)
    return data


def _too_deep(data: Any) -> bool:
    # iterative: the point is to refuse what recursion would choke on
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values() if isinstance(v, (dict, list))]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value if isinstance(v, (dict, list))]
    return False


def _located(text: str, file: str) -> UsageError:
    for line, path, problem in _scan(text):
        if problem:
            return UsageError(f"{file}:{line}: {format_path(path) or '(top level)'}: {problem}",
                              hint="a saved plan is written by `cloudorch plan STACK --out FILE`; make it again")
    return UsageError(f"{file}: not a plan file cloudorch wrote")  # the scanner finds what the parser did


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _scan(text: str) -> Iterator[tuple[int, Path, str | None]]:
    """(line, field path, problem or None) at every value of ``text``, in order, without recursion; only run
    on a file already refused, to say where (it is a Python loop over every token)."""
    containers: list[tuple[str, set[str]]] = []  # ("{" with the keys seen, or "[")
    path: list[str | int] = []
    line, last = 1, 0
    expect_key = False
    for match in _TOKEN.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        token = match.group()
        if token == ":":
            continue
        if token == ",":
            if containers and containers[-1][0] == "[":
                path[-1] += 1
            expect_key = bool(containers) and containers[-1][0] == "{"
            continue
        if token in ("}", "]"):
            containers.pop()
            path.pop()
            continue
        if expect_key:
            key = json.loads(token) if token.startswith('"') else token
            keys = containers[-1][1]
            path[-1] = key
            expect_key = False
            if key in keys:
                yield line, tuple(path), f"key {key!r} appears twice in one object (the last would silently win)"
            keys.add(key)
            continue
        if token in ("{", "["):
            if len(containers) >= MAX_DEPTH:
                yield line, tuple(path), f"nested more than {MAX_DEPTH} levels deep (no plan is)"
                return
            containers.append((token, set()))
            path.append(0 if token == "[" else "")
            expect_key = token == "{"
            continue
        digits = len(token.lstrip("-").split(".")[0].split("e")[0].split("E")[0])
        if token in ("NaN", "Infinity", "-Infinity"):
            yield line, tuple(path), f"{token} is not a JSON number"
        elif digits > MAX_DIGITS:
            yield line, tuple(path), f"a number of {digits:,} digits (no plan holds one)"
        else:
            yield line, tuple(path), None


def line_of(text: str, path: Path) -> int | None:
    """The line where the value at ``path`` starts in ``text`` (for reporting a refused field)."""
    return next((line for line, at, _ in _scan(text) if at[:len(path)] == tuple(path)), None)


def format_path(path: Path, shown: int = 8) -> str:
    """`placements[0].region`; a path deeper than ``shown`` steps is cut, with its depth."""
    out = ""
    for step in path[:shown]:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out if len(path) <= shown else f"{out}... ({len(path)} levels)"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


# -- comparison ---------------------------------------------------------------------------------------

def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without what legitimately differs between two runs on the same inputs.

    A plan is deterministic except for how paths were spelled on the command line, which the fingerprint
    makes irrelevant:
    - the stack file's path in the policy report (``policy.file``, each finding's ``file``) is relative to
      the working directory: `plan stacks/x.yaml` at the root and `apply x.yaml` in stacks/ name one file,
      whose content ``fingerprint.stack_sha256`` pins;
    - a SkyPilot catalog's directory (``catalog.source``, ``skypilot:<dir>``) is spelled as it was given,
      and the catalog cache keeps the first spelling: ``fingerprint.catalog_sha256`` pins its content, so
      only the kind of source (embedded, skypilot) is compared;

    and for what a placement search that was stopped early proved, which depends on how far it got before
    its time limit on that machine at that moment: when the search stopped, the proven lower bound and
    which limit stopped it are left out (that it stopped is compared, and so is every price and placement).
    """
    out = dict(document)
    cost = out.get("cost")
    if isinstance(cost, dict) and cost.get("search_stopped") is not None:
        out["cost"] = {**{k: v for k, v in cost.items() if k != "lower_bound_monthly_usd"}, "search_stopped": "stopped"}
    catalog = out.get("catalog")
    if isinstance(catalog, dict) and isinstance(catalog.get("source"), str):
        out["catalog"] = {**catalog, "source": catalog["source"].split(":", 1)[0]}
    policy = out.get("policy")
    if isinstance(policy, dict):
        policy = {k: v for k, v in policy.items() if k != "file"}
        if isinstance(policy.get("findings"), list):
            policy["findings"] = [{k: v for k, v in f.items() if k != "file"} if isinstance(f, dict) else f
                                  for f in policy["findings"]]
        out["policy"] = policy
    return out


def differences(saved: Any, derived: Any, limit: int = 4) -> list[str]:
    """The first ``limit`` differences between two plan documents, each as `path: saved X, re-derived Y`."""
    if json.dumps(saved, sort_keys=True) == json.dumps(derived, sort_keys=True):
        return []  # the usual case, decided in C: the walk below is a Python loop over every value
    return list(islice(_walk(saved, derived, ""), limit))


def _walk(saved: Any, derived: Any, path: str) -> Iterator[str]:
    if isinstance(saved, dict) and isinstance(derived, dict):
        for key in sorted(saved.keys() | derived.keys()):
            at = f"{path}.{key}" if path else key
            if key not in derived:
                yield f"{at}: in the saved plan ({_short(saved[key])}), not in the re-derived one"
            elif key not in saved:
                yield f"{at}: missing from the saved plan (re-derived {_short(derived[key])})"
            else:
                yield from _walk(saved[key], derived[key], at)
    elif isinstance(saved, list) and isinstance(derived, list):
        yield from _walk_list(saved, derived, path)
    elif not _same_scalar(saved, derived):
        yield f"{path}: saved {_short(saved)}, re-derived {_short(derived)}"


def _walk_list(saved: list, derived: list, path: str) -> Iterator[str]:
    key = _item_key(saved, derived)
    if key is None:
        for i in range(max(len(saved), len(derived))):
            if i >= len(derived):
                yield f"{path}[{i}]: in the saved plan ({_short(saved[i])}), not in the re-derived one"
            elif i >= len(saved):
                yield f"{path}[{i}]: missing from the saved plan (re-derived {_short(derived[i])})"
            else:
                yield from _walk(saved[i], derived[i], f"{path}[{i}]")
        return
    before, after = _by_label(saved, key), _by_label(derived, key)
    for label in sorted(before.keys() | after.keys()):
        at = f"{path}.{label}"
        if len(before.get(label, ())) != len(after.get(label, ())):
            # one resource's entries (its slots): which one went missing is the reviewer's to see; say how many
            n = len(before.get(label, ()))
            yield f"{at}: {n} entr{'y' if n == 1 else 'ies'} in the saved plan, {len(after.get(label, ()))} re-derived"
        elif len(before[label]) == 1:
            yield from _walk(before[label][0], after[label][0], at)
        else:
            for i, (a, b) in enumerate(zip(before[label], after[label], strict=True)):
                yield from _walk(a, b, f"{at}[{i}]")


def _item_key(*lists: list) -> str | None:
    items = [item for items in lists for item in items]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return next((k for k in _ITEM_KEYS if all(isinstance(item.get(k), str) for item in items)), None)


def _by_label(items: list[dict], key: str) -> dict[str, list[dict]]:
    """Items by their name, in order; several items share a name where one resource has several slots."""
    out: dict[str, list[dict]] = {}
    for item in items:
        out.setdefault(item[key], []).append(item)
    return out


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b  # 1 and 1.0 are one JSON number
    return type(a) is type(b) and a == b


def _short(value: Any, width: int = 60) -> str:
    if isinstance(value, dict):
        return f"an object of {len(value)} field{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width - 3] + "..."
