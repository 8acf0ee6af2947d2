"""YAML to plain data, keeping the line of every key and rejecting duplicate keys.

PyYAML silently keeps the last of two equal keys; a stack file where `cpu:` appears twice is a bug the
user needs to see, so we walk the composed node tree ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


#: a stack file is small; more nodes than this means alias expansion ("billion laughs") or a mistake
MAX_NODES = 200_000


class YamlShapeError(ValueError):
    """A YAML document PyYAML accepts but a stack file must not be (recursion, merge keys, huge expansion)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Located:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)  # path, line, first line

    def line_of(self, path: Path) -> int | None:
        """Line of the deepest known prefix of ``path`` (a missing field is reported at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def load_located(text: str) -> Located:
    """Parse one YAML document; raises ``yaml.YAMLError`` on syntax errors."""
    # libyaml's parser when PyYAML has it (its wheels do): the same nodes and marks, several times faster
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        result = Located(data=None)
        if node is not None:
            result.data = _convert(loader, node, (), result, set(), [0])
        return result
    finally:
        loader.dispose()


def _convert(loader: Any, node: yaml.Node, path: Path, out: Located, active: set[int],
             budget: list[int]) -> Any:
    line = node.start_mark.line + 1
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise YamlShapeError(f"the document expands to more than {MAX_NODES:,} values (aliases?)", line)
    if id(node) in active:
        raise YamlShapeError("a YAML alias refers to the mapping or list that contains it", line)
    out.lines.setdefault(path, line)
    if isinstance(node, yaml.MappingNode):
        active.add(id(node))
        mapping: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlShapeError("YAML merge keys (<<) are not supported in stack files; write the fields out",
                                     key_node.start_mark.line + 1)
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                key = str(key)
            key_line = key_node.start_mark.line + 1
            child = (*path, key if isinstance(key, (str, int)) else str(key))
            if key in first_seen:
                out.duplicates.append((child, key_line, first_seen[key]))
                continue
            first_seen[key] = key_line
            out.lines[child] = key_line
            mapping[key] = _convert(loader, value_node, child, out, active, budget)
            out.lines[child] = key_line  # the key's line, not the value's, is where a reader looks
        active.discard(id(node))
        return mapping
    if isinstance(node, yaml.SequenceNode):
        active.add(id(node))
        items = [_convert(loader, item, (*path, i), out, active, budget) for i, item in enumerate(node.value)]
        active.discard(id(node))
        return items
    return loader.construct_object(node, deep=True)
