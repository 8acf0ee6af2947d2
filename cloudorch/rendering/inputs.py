"""Reading rendered inputs safely: nested paths, unknown values and the clouds' spellings of "open".

A value that is another resource's output (``{"$ref": ...}``) is *set, value unknown*: a reader must not
treat it as absent (that would flag every reference) nor as a known value. ``UNKNOWN`` stands for it, and
for a map whose keys are references (``{"$keys": ...}``) and any path through it: its keys are not known.
Providers read their own resources into neutral facts with these helpers; policy checks reach them as
``cloudorch.policy.values``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from cloudorch.rendering.model import KEYS, REF


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # an unknown value must not pass as False by accident
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN`")


UNKNOWN: Any = _Unknown()
MISSING: Any = None

WORLD_CIDRS = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any", "0.0.0.0"})


def get(data: Any, path: str, default: Any = MISSING) -> Any:
    """``get(inputs, "settings.ipConfiguration.ipv4Enabled")``; a list index is a number segment."""
    # every rendered-level rule reads through here (~70,000 calls for 10,000 resources): the reference test
    # is inlined and each step is one dict lookup
    node = data
    for part in _segments(path):
        if isinstance(node, dict):
            if REF in node or KEYS in node:
                return UNKNOWN
            node = node.get(part, _ABSENT)
            if node is _ABSENT:
                return default
        elif isinstance(node, list) and part.isdigit():
            index = int(part)
            if index >= len(node):
                return default
            node = node[index]
        else:
            return default
    if isinstance(node, dict) and (REF in node or KEYS in node):
        return UNKNOWN
    return default if node is None else node


_ABSENT = object()


@functools.lru_cache(maxsize=1024)
def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def items(data: Any, path: str) -> list[Any]:
    """The elements of a list input (empty when absent; ``[UNKNOWN]`` when the list itself is a reference)."""
    value = get(data, path)
    if value is UNKNOWN:
        return [UNKNOWN]
    return list(value) if isinstance(value, list) else []


def flag(value: Any) -> bool | None:
    """A boolean input, also spelt as a string ("true") as some providers type them; None if unknown/absent."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def is_world(source: Any) -> bool:
    """True for a source range that admits the whole internet."""
    return isinstance(source, str) and _world_text(source)


@functools.lru_cache(maxsize=4096)
def _world_text(source: str) -> bool:
    text = source.strip().lower()
    if text in WORLD_CIDRS:
        return True
    try:
        return ipaddress.ip_network(text, strict=False).prefixlen == 0
    except ValueError:
        return False


def port_range(spec: Any) -> tuple[int, int] | None:
    """Parse "22", "20-25", "*" (all ports), or an int; None when unknown or unparseable."""
    if spec is UNKNOWN or spec is None:
        return None
    if isinstance(spec, bool):
        return None
    if isinstance(spec, (int, float)):
        return int(spec), int(spec)
    text = str(spec).strip()
    if text in ("*", "-1", "all"):
        return 0, 65535
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        return None


#: IANA protocol numbers and the clouds' words for "every protocol", in the facts' words
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmp", "icmpv6": "icmp", "-1": "all", "*": "all",
              "all": "all", "any": "all"}


def protocol_name(value: Any) -> str | None:
    """A rule's protocol as ``TrafficRule`` names it: "tcp", "udp", "icmp", "all", another lower-case word
    of the cloud's ("esp"), or None when unknown. AWS and GCP also take IANA numbers ("6" is TCP)."""
    if value is UNKNOWN or value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lower()
    return _PROTOCOLS.get(text, text) or None


def any_on(values: Iterable[Any]) -> Any:
    """True if any value is on; else UNKNOWN if one is unknown (it may turn out on); else False."""
    values = list(values)
    if any(flag(v) for v in values):
        return True
    return UNKNOWN if any(v is UNKNOWN for v in values) else False


def covers(ranges: Sequence[tuple[int, int]], port: int) -> bool:
    return any(low <= port <= high for low, high in ranges)


def is_all_ports(ranges: Sequence[tuple[int, int]]) -> bool:
    """True when a range spans every port (1-65535; port 0 is reserved, so a rule from 1 counts)."""
    return any(low <= 1 and high >= 65535 for low, high in ranges)
