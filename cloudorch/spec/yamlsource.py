"""YAML to plain data, keeping the line of every key and rejecting duplicate keys.

PyYAML silently keeps the last of two equal keys; a stack file where `cpu:` appears twice is a bug the
user needs to see, so we walk the composed node tree ourselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

import yaml

from cloudorch.inputs import line_of, position

Path = tuple[str | int, ...]


#: a stack file is small; more nodes than this means alias expansion ("billion laughs") or a mistake
MAX_NODES = 200_000
#: a stack file nests six levels at most; far deeper is a mistake (or an attempt to exhaust the stack)
MAX_DEPTH = 64

#: how PyYAML's tags are named in messages
_TAG_NAMES = {"tag:yaml.org,2002:int": "integer", "tag:yaml.org,2002:float": "number",
              "tag:yaml.org,2002:bool": "boolean", "tag:yaml.org,2002:timestamp": "date",
              "tag:yaml.org,2002:binary": "base64 value", "tag:yaml.org,2002:null": "null"}


class YamlShapeError(ValueError):
    """A YAML document PyYAML accepts but a stack file must not be (recursion, merge keys, huge expansion,
    deep nesting, a value its tag cannot read), or text no YAML may hold (a control character)."""

    def __init__(self, message: str, line: int | None, column: int | None = None, path: Path = ()) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.path = path


@dataclass
class Located:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)  # path, line, first line

    def line_of(self, path: Path) -> int | None:
        """Line of the deepest known prefix of ``path`` (a missing field is reported at its parent)."""
        return line_of(self.lines, path)


def load_located(text: str) -> Located:
    """Parse one YAML document; raises ``yaml.YAMLError`` on syntax errors, ``YamlShapeError`` on the rest."""
    # libyaml's parser when PyYAML has it (its wheels do): the same nodes and marks, several times faster
    loader = None
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # the pure-Python one reads the text here
        node = loader.get_single_node()
        result = Located(data=None)
        if node is not None:
            result.data = _convert(loader, node, (), result, set(), [0])
        return result
    except yaml.reader.ReaderError as exc:
        # a character no YAML may hold. PyYAML gives only an offset (libyaml's counts UTF-8 bytes, not
        # characters); the reader stops at the first such character, so its first occurrence is the place
        found = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line, column = position(text, found if found >= 0 else exc.position)
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise YamlShapeError(f"character {what} is not allowed in YAML (a control or special character); "
                             "remove it", line, column) from None
    except RecursionError:  # the pure-Python composer, nesting deeper than the interpreter's stack
        raise YamlShapeError(f"nested more than {MAX_DEPTH} levels deep", None) from None
    finally:
        if loader is not None:
            loader.dispose()


def _convert(loader: Any, node: yaml.Node, path: Path, out: Located, active: set[int],
             budget: list[int]) -> Any:
    line = node.start_mark.line + 1
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise YamlShapeError(f"the document expands to more than {MAX_NODES:,} values (aliases?)", line)
    if len(path) > MAX_DEPTH:
        raise YamlShapeError(f"nested more than {MAX_DEPTH} levels deep", line,
                             path=tuple(takewhile(lambda part: isinstance(part, str), path[:4])))
    if id(node) in active:
        raise YamlShapeError("a YAML alias refers to the mapping or list that contains it", line)
    out.lines.setdefault(path, line)
    if isinstance(node, yaml.MappingNode):
        active.add(id(node))
        mapping: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlShapeError("YAML merge keys (<<) are not supported in stack files; write the fields out",
                                     key_line)
            if not isinstance(key_node, yaml.ScalarNode):
                # constructing it would expand every alias inside, uncounted (a "billion laughs" key)
                raise YamlShapeError("a key must be a plain name, not a list or mapping", key_line,
                                     key_node.start_mark.column + 1, path)
            budget[0] += 1
            key = _scalar(loader, key_node, path)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                key = str(key)
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
        items = []
        for i, item in enumerate(node.value):  # a loop, not a comprehension: one frame per level of nesting
            items.append(_convert(loader, item, (*path, i), out, active, budget))
        active.discard(id(node))
        return items
    if node.tag == "tag:yaml.org,2002:str" and node.style in (None, "") and _EXPONENT.match(node.value):
        return UnquotedExponent(node.value)
    return _scalar(loader, node, path)


#: a number with an exponent but no dot or no sign in it (1e3, 2.5e9, 1E-3): a float in YAML 1.2 and to
#: every reader, but a string to PyYAML's YAML 1.1 rules. Numbers are strict (``spec.models.INT``), so
#: read as a plain string it would be refused there; "1e3" in quotes stays a plain string
_EXPONENT = re.compile(r"^[-+]?([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class UnquotedExponent(str):
    """An unquoted scalar that reads as a number with an exponent (``1e3``): a number where a number field
    takes it (``spec.models.INT``/``FLOAT``), and the text it is where a string field does -- a tag's
    short git hash ``8356e21`` stays a string (found by review: read as a float, it was refused)."""

    @property
    def number(self) -> float:
        return float(self.replace("_", ""))


def _scalar(loader: Any, node: yaml.Node, path: Path) -> Any:
    try:
        value = loader.construct_object(node, deep=True)
        if isinstance(value, bytes):
            # pydantic would take b"" for the string "" behind every check that looks for a str
            raise YamlShapeError("binary values (!!binary) have no place in a stack file; write text",
                                 node.start_mark.line + 1, node.start_mark.column + 1, path)
        return value
    except (yaml.YAMLError, YamlShapeError):
        raise
    except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise whatever int(), date() and re raise
        what = _TAG_NAMES.get(node.tag, node.tag)
        text = str(node.value)
        if len(text) > 40:
            shown = f"{text[:20]}...{text[-10:]} ({len(text):,} characters)"
            why = ""
        else:
            # only a date's own reason reads well to a user ("day is out of range for month")
            dated = isinstance(exc, ValueError) and node.tag == "tag:yaml.org,2002:timestamp" and " " in str(exc)
            shown, why = repr(text), f" ({exc})" if dated else ""
        if "int_max_str_digits" in str(exc):
            why = " (too many digits)"
        raise YamlShapeError(f"{shown} is not a valid {what}{why}", node.start_mark.line + 1,
                             node.start_mark.column + 1, path) from None
