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
        raise SpecError([
            Problem(str(file), None, ".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
        ]) from None
    if config.catalog and not Path(config.catalog).is_absolute():
        config = config.model_copy(update={"catalog": str((file.parent / config.catalog).resolve())})
    return config
