"""Installation and team settings: the project's `cloudorch.toml` (see ``cloudorch.project`` for how it
is found), or `--config FILE`.

Everything here is optional; the defaults let `cloudorch plan` run on a fresh machine. Relative paths
in the file are relative to the file, so every command finds the same catalog and packs from any
directory of the project.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudorch.errors import Problem, SpecError
from cloudorch.project import PROJECT_NAME_RE, ProjectLocation, locate


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CapacityFailure(_Model):
    cloud: str
    region: str
    instance_type: str
    count: Annotated[int, Field(ge=1)] = 1


class Config(_Model):
    project: str | None = Field(
        default=None, pattern=PROJECT_NAME_RE,
        description="the Pulumi project of this project's stacks; default: derived from the directory, then pinned",
    )
    catalog: str | None = Field(default=None, description="SkyPilot catalog directory (<cloud>/vms.csv)")
    vcpu_quotas: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default={}, description='vCPU limits per "cloud" or "cloud/region"'
    )
    capacity_failures: list[CapacityFailure] = []
    policy_dirs: list[str] = []
    enforcement: dict[str, Literal["advisory", "mandatory", "disabled"]] = {}
    backend_url: str | None = None
    secrets_provider: str | None = None


def _message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown setting"
    if kind == "missing":
        return "required setting is missing"
    if kind in ("greater_than", "greater_than_equal"):
        return "must be a positive number"
    if kind == "string_pattern_mismatch":
        return "must be 1-100 letters, digits, '-', '_' or '.'"
    if kind == "literal_error":
        return f"must be one of {err.get('ctx', {}).get('expected', '')}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"must be a {kind.split('_')[0].replace('str', 'string').replace('dict', 'table')}"
    return err["msg"][0].lower() + err["msg"][1:]


def check_quota_keys(config: Config, clouds: set[str], regions: set[tuple[str, str]], file: str) -> None:
    """A quota for a cloud or region that does not exist would silently never apply: refuse it."""
    problems = []
    for key in sorted(config.vcpu_quotas):
        cloud, _, region = key.partition("/")
        if cloud not in clouds:
            problems.append(Problem(file, None, f"vcpu_quotas.{key}", f"unknown cloud {cloud!r} (installed: {', '.join(sorted(clouds))})"))
        elif region and (cloud, region) not in regions:
            problems.append(Problem(file, None, f"vcpu_quotas.{key}", f"unknown region {region!r} of {cloud}"))
    if problems:
        raise SpecError(problems, hint='keys are "cloud" or "cloud/region", e.g. "aws" or "gcp/europe-west4"')


def load_config(path: str | Path | None = None) -> Config:
    """The config of the project around the working directory, or of the file ``path`` names."""
    return read_config(locate(path))


def read_config(location: ProjectLocation) -> Config:
    file = location.config_file
    if file is None or not file.is_file():
        if location.explicit:
            raise SpecError([Problem(shown(file), None, "", "config file not found")])
        return Config()
    where = shown(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(where, None, "", f"cannot read config: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError([Problem(where, None, "", f"TOML syntax error: {exc}")]) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            [Problem(where, None, ".".join(str(p) for p in err["loc"]), _message(err)) for err in exc.errors()],
            hint="see the Configuration section of the README",
        ) from None
    return config.model_copy(update={
        "catalog": _beside(file, config.catalog) if config.catalog else None,
        "policy_dirs": [_beside(file, d) for d in config.policy_dirs],
    })


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
