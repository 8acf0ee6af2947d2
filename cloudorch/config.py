"""Installation and team settings: `cloudorch.toml` in the working directory, or `--config FILE`.

Everything here is optional; the defaults let `cloudorch plan` run on a fresh machine.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudorch.errors import Problem, SpecError

DEFAULT_FILE = "cloudorch.toml"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CapacityFailure(_Model):
    cloud: str
    region: str
    instance_type: str
    count: Annotated[int, Field(ge=1)] = 1


class Config(_Model):
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


def config_file(path: str | Path | None = None) -> str:
    explicit = path or os.environ.get("CLOUDORCH_CONFIG")
    return str(explicit or DEFAULT_FILE)


def load_config(path: str | Path | None = None) -> Config:
    explicit = path or os.environ.get("CLOUDORCH_CONFIG")
    file = Path(explicit) if explicit else Path(DEFAULT_FILE)
    if not file.is_file():
        if explicit:
            raise SpecError([Problem(str(file), None, "", "config file not found")])
        return Config()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(file), None, "", f"cannot read config: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError([Problem(str(file), None, "", f"TOML syntax error: {exc}")]) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            [Problem(str(file), None, ".".join(str(p) for p in err["loc"]), _message(err)) for err in exc.errors()],
            hint="see the Configuration section of the README",
        ) from None
    if config.catalog and not Path(config.catalog).is_absolute():
        config = config.model_copy(update={"catalog": str((file.parent / config.catalog).resolve())})
    return config
