"""Load a stack file and report every problem in it, each with file, line and field path.

Three passes feed one list of problems: YAML (syntax, duplicate keys), the pydantic models (shape and
types), and references (dangling names, wrong kinds, unknown clouds and regions). The reference pass reads
the raw data, so a type error in one resource does not hide a dangling reference in another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from cloudorch.errors import Problem, SpecError
from cloudorch.inputs import dotted_path, read_text
from cloudorch.spec.models import NAME_PATTERN as NAME
from cloudorch.spec.models import RESOURCE_KINDS, Name, Stack
from cloudorch.spec.semantic import Place, contradictions
from cloudorch.spec.suggest import better_message, not_a_number, tab_in_indentation
from cloudorch.spec.yamlsource import Located, Path, YamlShapeError, load_located


@dataclass(frozen=True)
class Vocabulary:
    """What names mean on this installation: which clouds, regions and geographies exist."""

    clouds: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    geos: frozenset[str] = frozenset()
    images: frozenset[str] = frozenset()
    #: (cloud, region, geography) of every catalog region: what `placement.regions` is checked against
    places: frozenset[Place] = frozenset()


@dataclass(frozen=True)
class LoadedStack:
    """A valid stack with where it came from, so later stages can point back at lines."""

    stack: Stack
    file: str
    text: str
    lines: dict[Path, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, *path: str | int) -> int | None:
        return Located(None, self.lines).line_of(tuple(path))


def display_path(path: str | FsPath) -> str:
    """How a stack file is named in messages and plans: relative to the working directory when inside it,
    so `stacks/a.yaml`, `./stacks/a.yaml` and its absolute path give the same plan, byte for byte."""
    import os

    try:
        absolute = FsPath(path).resolve()
        relative = absolute.relative_to(FsPath.cwd().resolve())
    except (ValueError, OSError):
        return os.path.normpath(str(path))
    return relative.as_posix()


def load_stack(path: str | FsPath, vocabulary: Vocabulary | None = None) -> LoadedStack:
    return parse_stack(*_read(path), vocabulary)


def _read(path: str | FsPath) -> tuple[str, str]:
    """The stack file's text and its name in messages."""
    file = display_path(path)
    return read_text(path, file, "stack file"), file


@dataclass(frozen=True)
class StackHeader:
    """What the commands that work from state need of a stack file: its name (the stack of its identity)
    and the clouds it may use (whose Pulumi plugins to install). The rest of the file is not validated,
    so a stack whose resources, packs or regions no longer check out can still be read and torn down."""

    stack: str
    file: str
    clouds: tuple[str, ...] | None  # None: not restricted in the file


def load_stack_header(path: str | FsPath) -> StackHeader:
    text, file = _read(path)
    located = _locate(text, file)
    if "stack" not in located.data:
        errors = [{"type": "missing", "loc": ("stack",), "msg": "Field required"}]
    else:
        try:
            TypeAdapter(Name).validate_python(located.data["stack"])
            errors = []
        except ValidationError as exc:
            errors = [err | {"loc": ("stack",)} for err in exc.errors()]
    if errors:
        raise SpecError([_problem_from_pydantic(err, located, file) for err in errors])
    name = located.data["stack"]
    placement = located.data.get("placement")
    clouds = placement.get("clouds") if isinstance(placement, dict) else None
    listed = isinstance(clouds, list) and all(isinstance(c, str) for c in clouds)
    return StackHeader(stack=name, file=file, clouds=tuple(clouds) if listed else None)


def _locate(text: str, file: str) -> Located:
    """The file's YAML with the line of every value: a mapping, or a located error."""
    if not text.strip():
        raise SpecError([Problem(file, None, "", "file is empty")], hint="start from `stacks/webshop.yaml`")
    try:
        located = load_located(text)
    except YamlShapeError as exc:
        raise SpecError([Problem(file, exc.line, dotted_path(exc.path), str(exc), exc.column)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        tab = tab_in_indentation(text, line)
        if tab is not None:
            (line, column), what = tab, "a tab in the indentation; YAML indents with spaces only"
        raise SpecError([Problem(file, line, "", f"YAML syntax error: {what}", column)]) from None
    if located.data is None:
        raise SpecError([Problem(file, None, "", "file is empty")], hint="start from `stacks/webshop.yaml`")
    if not isinstance(located.data, dict):
        raise SpecError([Problem(file, 1, "", "the stack file must be a mapping with `stack:` and `resources:`")])
    return located


def parse_stack(text: str, file: str = "<stack>", vocabulary: Vocabulary | None = None) -> LoadedStack:
    located = _locate(text, file)
    problems = [
        Problem(file, line, dotted_path(path), f"duplicate key (first defined on line {first})")
        for path, line, first in located.duplicates
    ]
    stack: Stack | None = None
    try:
        stack = Stack.model_validate(located.data)
    except ValidationError as exc:
        problems += [_problem_from_pydantic(err, located, file) for err in exc.errors()]
    vocabulary = vocabulary or Vocabulary()
    problems += check_references(located, file, vocabulary)
    problems += [Problem(file, located.line_of(path), dotted_path(path), message)
                 for path, message in output_reference_problems(located.data)]
    problems += [Problem(file, located.line_of(path), dotted_path(path), message)
                 for path, message in contradictions(located.data, vocabulary.clouds, vocabulary.places)]
    if problems or stack is None:
        raise SpecError(_dedupe(problems))
    return LoadedStack(stack=stack, file=file, text=text, lines=located.lines)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems))


def _strip_union_tags(loc: tuple[Any, ...], data: Any) -> Path:
    """Pydantic puts the discriminator value into ``loc`` (resources.web.compute.cpu); users never wrote it."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and part in RESOURCE_KINDS and node.get("kind") == part:
            continue
        out.append(part)
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None
        )
    return tuple(out)


_MESSAGES = {
    "extra_forbidden": "unknown field{suggest}",
    "missing": "required field is missing",
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be a string (quote it in YAML)",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "date_from_datetime_parsing": "must be a date such as 2027-06-30",
    "date_parsing": "must be a date such as 2027-06-30",
    "date_type": "must be a date such as 2027-06-30",
    "union_tag_invalid": "unknown kind {tag!r}: use one of " + ", ".join(RESOURCE_KINDS),
    "union_tag_not_found": "missing `kind:` (one of " + ", ".join(RESOURCE_KINDS) + ")",
    "too_short": "must not be empty",
    "finite_number": "must be a finite number",
    "int_parsing_size": "is too large a number",
}


def _problem_from_pydantic(err: Any, located: Located, file: str) -> Problem:
    path = _strip_union_tags(tuple(err["loc"]), located.data)
    if path and path[-1] == "[key]":  # pydantic's marker for an invalid mapping key
        path = path[:-1]
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "greater_than" and ctx.get("gt") == 0:
        message = "must be a positive integer" if isinstance(err.get("input"), int) else "must be a positive number"
    elif kind in ("int_parsing", "int_from_float") and isinstance(err.get("input"), float) and abs(err["input"]) >= 2**63:
        message = "is too large a number (see Limits in the README)"  # 1e30: whole, but past any integer's range
    elif kind == "less_than_equal":
        message = f"must be at most {ctx['le']:,.0f} (see Limits in the README)"
    elif kind == "string_pattern_mismatch":
        message = f"{err.get('input')!r} is not a valid name: lower-case letters, digits and dashes, 1-40 characters"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind in ("literal_error", "enum"):
        message = f"must be one of {ctx.get('expected', '')}, not {err.get('input')!r}"
    elif kind in ("number_is_bool", "number_is_string"):
        message = not_a_number(ctx["expected"], err.get("input"))
    elif kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
    elif kind in _MESSAGES:
        message = _MESSAGES[kind].format(suggest="", tag=ctx.get("tag"))
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
    message = better_message(err, located.data) or message
    if kind == "missing" and path:
        # a missing field has no line of its own: point at its parent mapping
        return Problem(file, located.line_of(path[:-1]), dotted_path(path), message)
    return Problem(file, located.line_of(path), dotted_path(path), message)


# --- references --------------------------------------------------------------------------------------

_REF_FIELDS = {
    # field: (kinds that may have it, kinds it may point at)
    "network": (("compute", "database"), ("network",)),
    "near": (("compute", "database", "bucket"), ("compute", "database")),
}


def check_references(located: Located, file: str, vocab: Vocabulary) -> list[Problem]:
    data = located.data
    problems: list[Problem] = []

    def add(path: Path, message: str) -> None:
        problems.append(Problem(file, located.line_of(path), dotted_path(path), message))

    resources = data.get("resources")
    kinds: dict[str, str] = {}
    if isinstance(resources, dict):
        kinds = {str(n): r.get("kind") for n, r in resources.items() if isinstance(r, dict)}
        for name, res in resources.items():
            if not isinstance(res, dict):
                continue
            kind = res.get("kind")
            for fld, (owners, targets) in _REF_FIELDS.items():
                target = res.get(fld)
                if kind in owners and isinstance(target, str):
                    _check_target(add, ("resources", name, fld), str(name), target, targets, kinds)
            image = res.get("image")
            if kind == "compute" and isinstance(image, str) and vocab.images and image not in vocab.images:
                add(("resources", name, "image"),
                    f"unknown image {image!r}; the installed providers resolve {', '.join(sorted(vocab.images))}")
            apart = res.get("apart")
            if kind == "compute" and isinstance(apart, list):
                for i, target in enumerate(apart):
                    if isinstance(target, str):
                        _check_target(add, ("resources", name, "apart", i), str(name), target, ("compute", "database"), kinds)
            ingress = res.get("ingress")
            if isinstance(ingress, list):
                for i, rule in enumerate(ingress):
                    src = rule.get("from") if isinstance(rule, dict) else None
                    if isinstance(src, str) and src != "internet" and NAME.match(src):
                        _check_target(add, ("resources", name, "ingress", i, "from"), str(name), src,
                                      ("compute", "database"), kinds)
                _check_repeated_flows(add, ("resources", name, "ingress"), ingress)
            links = res.get("links")
            if kind == "network" and isinstance(links, list):
                for i, target in enumerate(links):
                    if isinstance(target, str):
                        _check_target(add, ("resources", name, "links", i), str(name), target, ("network",), kinds)
        _check_near_cycles(add, resources)
        _check_links(add, resources, kinds)

    dns = data.get("dns")
    if isinstance(dns, dict) and isinstance(dns.get("provider"), str) and vocab.clouds \
            and dns["provider"] not in vocab.clouds:
        add(("dns", "provider"), f"unknown cloud {dns['provider']!r} (installed providers: {', '.join(sorted(vocab.clouds))})")
    placement = data.get("placement")
    if isinstance(placement, dict):
        _check_vocab(add, placement, "clouds", vocab.clouds, "cloud", "installed providers")
        _check_vocab(add, placement, "geo", vocab.geos, "geography", "known geographies")
        _check_vocab(add, placement, "regions", vocab.regions, "region", "catalog regions")
        _check_vocab(add, placement, "exclude_regions", vocab.regions, "region", "catalog regions")
    return problems


def _check_target(add, path: Path, owner: str, target: str, allowed: tuple[str, ...], kinds: dict[str, str]) -> None:
    if target == owner:
        add(path, "a resource cannot refer to itself")
        return
    elif target not in kinds:
        known = ", ".join(sorted(n for n, k in kinds.items() if k in allowed)) or "none"
        add(path, f"no resource named {target!r} (resources of kind {'/'.join(allowed)}: {known})")
    elif kinds[target] not in allowed:
        add(path, f"{target!r} is a {kinds[target]}, expected a {' or '.join(allowed)}")


def _check_repeated_flows(add, at: Path, ingress: list[Any]) -> None:
    """Two entries with the same ports, protocol and source resource are one flow declared twice: its traffic
    would be billed twice, and the plan would hold two flows of one id (``graph.flow_id``)."""
    first: dict[tuple, int] = {}
    for i, rule in enumerate(ingress):
        if not isinstance(rule, dict):
            continue
        port, to_port, protocol, src = rule.get("port"), rule.get("to_port"), rule.get("protocol", "tcp"), rule.get("from")
        if not (type(port) is int and (to_port is None or type(to_port) is int) and isinstance(protocol, str)
                and isinstance(src, str) and src != "internet" and NAME.match(src)):
            continue
        key = (port, to_port or port, protocol, src)
        if key in first:
            add((*at, i), f"repeats ingress[{first[key]}] (the same ports, protocol and `from`): one flow is one "
                          "entry; put the traffic of both in one gb_month")
        else:
            first[key] = i


def _check_near_cycles(add, resources: dict[Any, Any]) -> None:
    near = {n: r.get("near") for n, r in resources.items() if isinstance(r, dict) and isinstance(r.get("near"), str)}
    reported: set[str] = set()
    for start in sorted(near, key=str):
        seen = [start]
        cur = near.get(start)
        if cur == start:
            continue  # self-reference, reported by _check_target
        while cur in near and cur not in seen:
            seen.append(cur)
            cur = near[cur]
        if cur == start and start not in reported:
            reported.update(seen)
            add(("resources", start, "near"), "`near` forms a cycle: " + " -> ".join([*seen, start]))


def _check_links(add, resources: dict[Any, Any], kinds: dict[str, str]) -> None:
    """Linked networks must not overlap (their blocks are routed to each other), and a flow between two
    networks needs them linked: cloudorch never joins networks the user kept apart."""
    import ipaddress

    def cidr(net: str) -> ipaddress.IPv4Network | None:
        try:
            return ipaddress.IPv4Network(resources[net].get("cidr"), strict=True)
        except (TypeError, ValueError, AttributeError, KeyError):
            return None

    linked: set[frozenset[str]] = set()
    for name, res in resources.items():
        links = res.get("links") if isinstance(res, dict) and res.get("kind") == "network" else None
        for i, target in enumerate(links if isinstance(links, list) else []):
            if not isinstance(target, str) or kinds.get(target) != "network" or target == name:
                continue
            linked.add(frozenset((str(name), target)))
            mine, theirs = cidr(str(name)), cidr(target)
            if mine is not None and theirs is not None and mine.overlaps(theirs):
                add(("resources", name, "links", i), f"{name!r} ({mine}) overlaps {target!r} ({theirs}): linked "
                    "networks are routed to each other, so give them address spaces that do not overlap")
    for name, res in resources.items():
        if not isinstance(res, dict) or not isinstance(res.get("ingress"), list):
            continue
        mine = res.get("network")
        for i, rule in enumerate(res["ingress"]):
            src = rule.get("from") if isinstance(rule, dict) else None
            other = resources.get(src) if isinstance(src, str) and src != name else None
            theirs = other.get("network") if isinstance(other, dict) else None
            if (isinstance(mine, str) and isinstance(theirs, str) and mine != theirs
                    and kinds.get(mine) == kinds.get(theirs) == "network" and frozenset((mine, theirs)) not in linked):
                add(("resources", name, "ingress", i, "from"),
                    f"{src!r} is in network {theirs!r} and {name!r} in {mine!r}, which are not linked; add "
                    f"`links: [{theirs}]` to network {mine!r} to join them, or put both in one network")


def _check_vocab(add, block: dict[str, Any], key: str, known: frozenset[str], what: str, where: str) -> None:
    values = block.get(key)
    if not known or not isinstance(values, list):
        return
    for i, value in enumerate(values):
        if isinstance(value, str) and value not in known:
            close = sorted(k for k in known if k[:3] == value[:3])[:5]
            suggestion = f"; did you mean {', '.join(close)}?" if close else ""
            add(("placement", key, i), f"unknown {what} {value!r} (not among the {where}){suggestion}")


#: a value naming another stack's output (``Stack.uses``): ``${core.outputs.net}``, ``${core.outputs.db.host}``
OUTPUT_REF = re.compile(r"\$\{([^{}]*)\}")
_REF_BODY = re.compile(r"^(?P<alias>[a-z][a-z0-9-]*)\.outputs\.(?P<key>[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$")


@dataclass(frozen=True)
class OutputReference:
    """One ``${ALIAS.outputs.KEY}`` in a stack file: where it is, which used stack, and which output."""

    path: Path
    text: str  # as written, ``${...}`` included
    alias: str
    key: tuple[str, ...]


def output_references(data: Any, path: Path = ()) -> tuple[list[OutputReference], list[tuple[Path, str]]]:
    """Every output reference in the file's data, and the malformed ones as (path, problem)."""
    found: list[OutputReference] = []
    problems: list[tuple[Path, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            more, bad = output_references(value, (*path, key))
            found += more
            problems += bad
    elif isinstance(data, list):
        for i, value in enumerate(data):
            more, bad = output_references(value, (*path, i))
            found += more
            problems += bad
    elif isinstance(data, str):
        for match in OUTPUT_REF.finditer(data):
            body = _REF_BODY.match(match.group(1).strip())
            if body is None:
                problems.append((path, f"{match.group(0)!r} is not an output reference; write ${{ALIAS.outputs.KEY}} "
                                       "with ALIAS a stack named under `uses`"))
            else:
                found.append(OutputReference(path, match.group(0), body["alias"], tuple(body["key"].split("."))))
    return found, problems


def output_reference_problems(data: Any) -> list[tuple[Path, str]]:
    """References that are malformed or name no stack of ``uses`` (the used files are the workflow's to find)."""
    if not isinstance(data, dict):
        return []
    uses = data.get("uses")
    aliases = set(uses) if isinstance(uses, dict) else set()
    found, problems = output_references({k: v for k, v in data.items() if k != "uses"})
    for ref in found:
        if ref.alias not in aliases:
            known = ", ".join(sorted(map(str, aliases))) or "none"
            problems.append((ref.path, f"{ref.text} names {ref.alias!r}, which is not under `uses` (used stacks: {known})"))
    return problems


def read_located(path: str | FsPath) -> tuple[str, str, Located]:
    """A YAML file's text, its name in messages and its data with lines (a mapping), or a located SpecError:
    for the files beside stack files that are read the same way (a workflow's ``workflow.yaml``)."""
    text, file = _read(path)
    return text, file, _locate(text, file)


def validation_problems(errors: list[Any], located: Located, file: str) -> list[Problem]:
    """pydantic's errors (``ValidationError.errors()``) on ``located``'s data as located problems, worded as
    the stack file's are."""
    return [_problem_from_pydantic(err, located, file) for err in errors]
