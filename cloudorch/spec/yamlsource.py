"""YAML to plain data, keeping the line of every key and rejecting duplicate keys.

PyYAML silently keeps the last of two equal keys; a stack file where `cpu:` appears twice is a bug the
user needs to see, so we walk the composed node tree ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


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
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        result = Located(data=None)
        if node is not None:
            result.data = _convert(loader, node, (), result)
        return result
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path, out: Located) -> Any:
    out.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                key = str(key)
            line = key_node.start_mark.line + 1
            child = (*path, key if isinstance(key, (str, int)) else str(key))
            if key in first_seen:
                out.duplicates.append((child, line, first_seen[key]))
                continue
            first_seen[key] = line
            out.lines[child] = line
            mapping[key] = _convert(loader, value_node, child, out)
            out.lines[child] = line  # the key's line, not the value's, is where a reader looks
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), out) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
