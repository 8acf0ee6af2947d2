"""Installation and team settings: the project's `cloudorch.toml` (see ``cloudorch.project`` for how it
is found), or `--config FILE`.

Everything here is optional; the defaults let `cloudorch plan` run on a fresh machine. Relative paths
in the file are relative to the file, so every command finds the same catalog and packs from any
directory of the project.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from cloudorch.errors import Problem, SpecError
from cloudorch.inputs import MAX_REPLICAS, MAX_VCPU_QUOTA, MAX_VPN_LINKS, dotted_path, line_of, position, read_text
from cloudorch.project import PROJECT_NAME_RE, ProjectLocation, locate

HINT = "see the Configuration section of the README"


class _Model(BaseModel):
    # strict: TOML's values are typed, so `aws = true` or `count = 1e20` is a mistake, never a number to coerce
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class CapacityFailure(_Model):
    cloud: str
    region: str
    instance_type: str
    count: Annotated[int, Field(ge=1, le=MAX_REPLICAS)] = 1


class Config(_Model):
    project: str | None = Field(
        default=None, pattern=PROJECT_NAME_RE,
        description="the Pulumi project of this project's stacks; default: derived from the directory, then pinned",
    )
    catalog: str | None = Field(default=None, description='SkyPilot catalog directory (<cloud>/vms.csv), or "live": the '
                                'catalog `cloudorch catalog refresh` reads from the accounts')
    vcpu_quotas: dict[str, Annotated[float, Field(gt=0, le=MAX_VCPU_QUOTA)]] = Field(
        default={}, description='vCPU limits per "cloud" or "cloud/region"'
    )
    vpn_links_per_site: dict[str, Annotated[int, Field(gt=0, le=MAX_VPN_LINKS)]] = Field(
        default={}, description="per cloud, how many VPN links one site's gateway takes where your account's quota "
                                "was raised (AWS: half its Site-to-Site VPN connections per virtual private gateway)"
    )
    capacity_failures: list[CapacityFailure] = []
    policy_dirs: list[str] = []
    enforcement: dict[str, Literal["advisory", "mandatory", "disabled"]] = {}
    backend_url: str | None = None
    #: where the journal lives: None, the project's .cloudorch/journal/; s3://bucket/prefix, file:///dir
    journal_url: str | None = None
    #: how fast a capacity failure recorded in the journal is forgotten by placement: its weight halves
    journal_half_life_days: Annotated[float, Field(gt=0, le=3650)] = 14.0
    secrets_provider: str | None = None
    #: the file and the line of every key in it, so that later checks (quota keys) can point at them too
    _source: tuple[str, dict[tuple[str | int, ...], int]] = PrivateAttr(default=("cloudorch.toml", {}))

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        file, lines = self._source
        return Problem(file, line_of(lines, path), dotted_path(path), message)


_TYPES = {"string": "a string (in quotes)", "int": "an integer", "float": "a number", "bool": "true or false",
          "dict": "a table", "list": "a list (in brackets)"}


def _message(err: dict) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown setting"
    if kind == "missing":
        return "required setting is missing"
    if kind in ("greater_than", "greater_than_equal"):
        return "must be a positive number"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']:,.0f} (see Limits in the README)"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "string_pattern_mismatch":
        return "must be 1-100 letters, digits, '-', '_' or '.'"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind.endswith(("_type", "_parsing")):
        return "must be " + _TYPES.get(kind.rsplit("_", 1)[0], "of another type")
    return err["msg"][0].lower() + err["msg"][1:]


class ConfigError(SpecError):
    """The config's own problems (types, shape, unknown settings), with what of it is sound: the checks that
    judge its names against the installed clouds and the catalog (``api.check_config``) still run on
    ``partial`` and on the keys of ``data``'s tables, so that every problem of the file is reported at once,
    not a second round after the first is fixed."""

    def __init__(self, problems: list[Problem], partial: Config, data: dict[str, Any]) -> None:
        super().__init__(problems, hint=HINT)
        self.partial = partial
        self.data = data


#: the settings that are tables of per-cloud entries: a bad entry is dropped from ``ConfigError.partial``, not
#: the whole table
_TABLES = ("vcpu_quotas", "vpn_links_per_site", "enforcement")


def _sound_part(data: dict[str, Any], errors: list[Any]) -> Config:
    """The config ``data`` would give without the settings (or table entries) pydantic refused."""
    sound = dict(data)
    for err in errors:
        loc = [part for part in err["loc"] if part != "[key]"]
        if loc and loc[0] in _TABLES and len(loc) > 1 and isinstance(sound.get(loc[0]), dict):
            sound[loc[0]] = {k: v for k, v in sound[loc[0]].items() if k != loc[1]}
        elif loc:
            sound.pop(loc[0], None)
    try:
        return Config.model_validate(sound)
    except ValidationError:  # every setting has a default: only a bug of this function ends here
        return Config()


def quota_key_problems(config: Config, keys: list[str], clouds: set[str],
                       regions: set[tuple[str, str]] | None) -> list[Problem]:
    """A quota for a cloud or region that does not exist would silently never apply. ``regions`` None: the
    catalog could not be read, so only the clouds are judged."""
    problems = []
    for key in sorted(keys):
        cloud, _, region = key.partition("/")
        if cloud not in clouds:
            problems.append(config.problem(("vcpu_quotas", key), f"unknown cloud {cloud!r} (installed: {', '.join(sorted(clouds))})"))
        elif region and regions is not None and (cloud, region) not in regions:
            problems.append(config.problem(("vcpu_quotas", key), f"unknown region {region!r} of {cloud}"))
    return problems


QUOTA_KEYS_HINT = 'vcpu_quotas keys are "cloud" or "cloud/region", e.g. "aws" or "gcp/europe-west4"'


def load_config(path: str | Path | None = None) -> Config:
    """The config of the project around the working directory, or of the file ``path`` names."""
    return read_config(locate(path))


def read_config(location: ProjectLocation) -> Config:
    file = location.config_file
    if file is None or not (location.explicit or file.is_file()):
        return Config()
    where = shown(file)
    if location.explicit and not file.exists():
        raise SpecError([Problem(where, None, "", "config file not found")], hint="check the path given to "
                        "--config or in $CLOUDORCH_CONFIG")
    text = read_text(file, where, "config file")
    data = _parse(text, where)
    lines = key_lines(text)

    def placed(config: Config) -> Config:
        config = config.model_copy(update={
            # "live" names the discovered catalog, not a directory beside the file
            "catalog": _beside(file, config.catalog) if config.catalog and config.catalog != "live" else config.catalog,
            "policy_dirs": [_beside(file, d) for d in config.policy_dirs],
        })
        config._source = (where, lines)
        return config

    try:
        return placed(Config.model_validate(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = tuple(part for part in err["loc"] if part != "[key]")
            problems.append(Problem(where, line_of(lines, path), dotted_path(path), _message(err)))
        raise ConfigError(problems, placed(_sound_part(data, exc.errors())), data) from None


def _parse(text: str, where: str) -> dict[str, Any]:
    def refuse(message: str, offset: int | None = None) -> SpecError:
        line, column = position(text, offset) if offset is not None else (None, None)
        return SpecError([Problem(where, line, "", message, column)], hint=HINT)

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the place at the end of its message: "Invalid value (at line 3, column 7)", or
        # "Unterminated string (at end of document)"
        found = re.search(r"^(.*) \(at (?:line (\d+), column (\d+)|(end of document))\)$", str(exc), re.DOTALL)
        if found is None:
            raise refuse(f"TOML syntax error: {exc}") from None
        if found[4]:
            raise refuse(f"TOML syntax error: {found[1]} at the end of the file", len(text)) from None
        raise SpecError([Problem(where, int(found[2]), "", f"TOML syntax error: {found[1]}", int(found[3]))],
                        hint=HINT) from None
    except RecursionError:  # tomllib recurses once per level of nested arrays and inline tables
        raise refuse("arrays or tables nested too deeply", _too_deep(text)) from None
    except ValueError:  # an integer with more digits than Python converts (4,300)
        digits = re.search(r"\d{1000,}", text)
        raise refuse("a number with too many digits", digits.start() if digits else None) from None


def _too_deep(text: str, limit: int = 64) -> int | None:
    """Where brackets first nest deeper than ``limit`` (strings are not told apart: this only places an
    error tomllib already found)."""
    depth = 0
    for offset, char in enumerate(text):
        depth += 1 if char in "[{" else -1 if char in "]}" else 0
        if depth > limit:
            return offset
    return None


#: one key of a dotted key: bare, "basic" or 'literal'
_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_KEYS = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ARRAY_TABLE = re.compile(rf"^\s*\[\[\s*({_KEYS})\s*\]\]")
_TABLE = re.compile(rf"^\s*\[\s*({_KEYS})\s*\]")
_ASSIGNMENT = re.compile(rf"^\s*({_KEYS})\s*=")


def key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The line of every table and key of a TOML document that tomllib has already accepted (tomllib keeps
    no positions). Keys inside inline tables and arrays are not listed: their key's line stands for them."""
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    table: tuple[str | int, ...] = ()
    arrays: dict[tuple[str | int, ...], int] = {}
    open_quote = None  # inside a multi-line string, its delimiter
    depth = 0  # inside a multi-line array or inline table
    for number, line in enumerate(text.splitlines(), 1):
        if open_quote:
            if line.count(open_quote) % 2:
                open_quote = None
            continue
        if depth > 0:
            depth += _depth_change(line)
            continue
        if found := _ARRAY_TABLE.match(line):
            keys = _split(found[1])
            arrays[keys] = arrays.get(keys, -1) + 1
            table = (*keys, arrays[keys])
            lines.setdefault(keys, number)
            lines[table] = number
        elif found := _TABLE.match(line):
            table = _split(found[1])
            lines.setdefault(table, number)
        elif found := _ASSIGNMENT.match(line):
            keys = _split(found[1])
            for end in range(1, len(keys) + 1):
                lines.setdefault((*table, *keys[:end]), number)
            depth = max(0, _depth_change(line[found.end():]))
        open_quote = next((q for q in ('"""', "'''") if line.count(q) % 2), None)
    return lines


def _split(keys: str) -> tuple[str, ...]:
    return tuple(_unquote(part) for part in re.findall(_KEY, keys))


def _unquote(key: str) -> str:
    if key.startswith('"'):
        try:
            return json.loads(key)  # TOML's escapes in basic strings are JSON's, but for rare ones
        except ValueError:
            return key[1:-1]
    return key.strip("'")


def _depth_change(text: str) -> int:
    """How much deeper a line leaves arrays and inline tables (brackets in strings are not told apart: the
    count only keeps the lines of a multi-line array from being read as keys)."""
    return sum(text.count(c) for c in "[{") - sum(text.count(c) for c in "]}")


def _beside(file: Path, path: str) -> str:
    return str((file.parent / path).resolve()) if not Path(path).is_absolute() else path


def shown(file: Path | None) -> str:
    """A config file as messages name it: relative to the working directory when inside it."""
    if file is None:
        return "cloudorch.toml"
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)
