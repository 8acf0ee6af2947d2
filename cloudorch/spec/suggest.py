"""What a user most likely meant: the nearest valid name, the unit a number should lose, the tab in YAML.

Messages here replace pydantic's and PyYAML's where theirs name the symptom ("unknown field", "must be a
number", "cannot start any token") but not the mistake a first stack file makes most often.
"""

from __future__ import annotations

import difflib
import math
import re
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from cloudorch.spec.models import Stack

#: names other tools give a field, where spelling alone would not lead to ours
SYNONYMS = {
    "replicas": "count", "instances": "count", "instance_count": "count",
    "vcpu": "cpu", "vcpus": "cpu", "cpus": "cpu", "cores": "cpu",
    "mem": "memory_gb", "ram": "memory_gb", "memory_gib": "memory_gb", "disk_size": "disk_gb",
    "cloud": "clouds", "provider": "clouds", "providers": "clouds",
    "region": "regions", "location": "regions", "locations": "regions",
    "source": "from", "cidr_blocks": "from", "proto": "protocol", "ports": "port", "from_port": "port",
    "gpu": "accelerator", "gpus": "accelerator", "preemptible": "spot",
    "os": "image", "ami": "image", "versioned": "versioning", "multi_az": "high_availability",
    "ha": "high_availability", "backup_retention_days": "backup_days",
    "pack": "packs", "waiver": "waivers", "budget_usd": "monthly_usd",
}


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The one candidate ``word`` most likely meant, or None when nothing is close enough to say."""
    pool = sorted(set(candidates))
    lowered = word.lower().replace("-", "_")
    if lowered in pool and lowered != word:
        return lowered
    if SYNONYMS.get(lowered) in pool:
        return SYNONYMS[lowered]
    with_unit = [c for c in pool if c.startswith(lowered + "_")]  # memory -> memory_gb, disk -> disk_gb
    if len(with_unit) == 1:
        return with_unit[0]
    close = difflib.get_close_matches(lowered, pool, n=1, cutoff=0.75)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean X?"`` or nothing: the tail of a message about an unknown name."""
    found = nearest(word, candidates)
    return f"; did you mean {found}?" if found else ""


def fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names valid beside the last element of pydantic's ``loc`` (which keeps the ``kind`` tags)."""
    node: Any = Stack
    for part in loc[:-1]:
        node = _step(_unwrap(node), part)
        if node is None:
            return []
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return [f.alias or name for name, f in node.model_fields.items()]
    return []


def _unwrap(node: Any) -> Any:
    """Strip ``Annotated`` and an optional ``None``; a union of several models stays a union."""
    while True:
        origin = get_origin(node)
        if origin is Annotated:
            node = get_args(node)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(node) if a is not type(None)]
            if len(members) != 1:
                return node
            node = members[0]
        else:
            return node


def _step(node: Any, part: Any) -> Any:
    if isinstance(node, type) and issubclass(node, BaseModel):
        field = node.model_fields.get(part) or next(
            (f for f in node.model_fields.values() if f.alias == part), None)
        return field.annotation if field is not None else None
    origin = get_origin(node)
    if origin is list:
        return get_args(node)[0]
    if origin is dict:
        return get_args(node)[1]
    if origin in (Union, types.UnionType):  # a discriminated union: pydantic's loc names the member by its tag
        for member in get_args(node):
            kind = getattr(member, "model_fields", {}).get("kind")
            if kind is not None and get_origin(kind.annotation) is Literal and part in get_args(kind.annotation):
                return member
    return None


def unknown_field(loc: tuple[Any, ...], present: Iterable[str] = ()) -> str:
    """The message for a field the model forbids, with the valid one it was most likely meant to be.

    A field already set beside it is never suggested: `replicas: 3` next to `count: 2` is not a typo of it.
    """
    name = str(loc[-1])
    valid = set(fields_at(loc)) - set(present)
    return "unknown field" + did_you_mean(name, valid)


#: what a number means, by field name: the unit a value must leave out
UNITS = {
    "memory_gb": "GiB", "disk_gb": "GB", "storage_gb": "GB", "size_gb": "GB", "gb_month": "GB a month",
    "egress_gb_month": "GB a month", "monthly_usd": "US dollars", "cpu": "vCPUs", "count": "replicas",
    "backup_days": "days",
}
_WITH_UNIT = re.compile(r"^\s*\$?\s*[0-9][0-9_,]*(\.[0-9]+)?\s*[A-Za-z$%][A-Za-z$%/ ]*$")


def number_with_unit(field: Any, value: Any) -> str | None:
    """For ``memory_gb: 8GB`` and the like: a message saying the number goes without its unit, else None."""
    if not isinstance(value, str) or not (_WITH_UNIT.match(value) or value.strip().startswith("$")):
        return None
    unit = UNITS.get(str(field)) or ("days" if str(field).endswith("_days") else None)
    what = f"a number of {unit}" if unit else "a number"
    return f"must be {what}, without the unit (not {value!r})"


def not_a_number(expected: str, value: Any) -> str:
    """For a boolean or a string where ``expected`` ("an integer", "a number") belongs: what the value is,
    and how to write the number instead."""
    if isinstance(value, bool):
        # the user may well have typed yes or on: name what YAML reads as this boolean
        spelled, read = ("true, yes and on", "true") if value else ("false, no and off", "false")
        return f"expected {expected}, got the boolean {read} (YAML reads {spelled} as {read}): write a number"
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and (expected != "an integer" or number.is_integer()):
        return f"expected {expected}, got the string {value!r}: write {text} without quotes"
    return f"must be {expected}"


def better_message(err: dict[str, Any], data: Any) -> str | None:
    """A clearer message than the generic one for a pydantic error, or None to keep that one."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden" and loc:
        return unknown_field(loc, _keys_beside(loc, data))
    if err["type"] in ("float_parsing", "int_parsing", "number_is_string") and loc:
        return number_with_unit(loc[-1], err.get("input"))
    return None


def _keys_beside(loc: tuple[Any, ...], data: Any) -> list[str]:
    """The keys of the mapping holding ``loc``'s last element (``kind`` tags in ``loc`` are not in the data)."""
    node = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif not (isinstance(node, dict) and node.get("kind") == part):
            return []
    return [str(k) for k in node] if isinstance(node, dict) else []


def tab_in_indentation(text: str, before_line: int | None) -> tuple[int, int] | None:
    """(line, column) of the first tab in a line's indentation, at or before ``before_line`` when given.

    PyYAML reports such a tab as "found character that cannot start any token" (or worse, as a mapping
    error a line later); the user needs to hear that YAML indents with spaces only.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if before_line is not None and number > before_line:
            break
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return number, indent.index("\t") + 1
    return None
