"""The seam between cloudorch and Pulumi: a small interface, its settings and typed results.

``PulumiEngine`` (runner.py) holds every rule cloudorch adds around Pulumi (CLI check, lock, plugins,
progress, error classification, redaction) and talks to Pulumi only through a ``Workspace``. The real
one lives in adapter.py; tests put a fake here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from cloudorch.project import StackIdentity, dot_dir, state_dir
from cloudorch.provider import PulumiPlugin

Op = Literal["create", "update", "delete", "replace", "same", "read"]
Operation = Literal["preview", "up", "destroy", "refresh", "drift"]

#: receives Pulumi's engine events as the SDK delivers them (``pulumi.automation.events.EngineEvent``)
RawEventHandler = Callable[[Any], None]


@dataclass(frozen=True)
class EngineSettings:
    """Which stack, and where its state and secrets live. Everything has a working default for one person."""

    #: the project root (``cloudorch.project``): the default state, the lock and Pulumi's files live under it
    project_dir: Path
    identity: StackIdentity
    #: False when the project name was derived or pinned locally rather than set in cloudorch.toml: such a
    #: name is refused for state outside the project, which every checkout must find under the same name
    project_named_in_config: bool = True
    #: any Pulumi backend URL; default ``file://<project_dir>/.cloudorch/state`` (or $PULUMI_BACKEND_URL)
    backend_url: str | None = None
    #: None/"passphrase" for a passphrase, or a KMS URL (awskms://, azurekeyvault://, gcpkms://, hashivault://)
    secrets_provider: str | None = None
    #: limit of concurrent resource operations; None lets Pulumi decide
    parallel: int | None = None
    #: extra environment for the Pulumi CLI (credentials profiles etc.)
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return self.identity.stack

    @property
    def state_dir(self) -> Path:
        return state_dir(self.project_dir)

    @property
    def work_dir(self) -> Path:
        # Persistent, because Pulumi.<stack>.yaml holds the passphrase provider's salt.
        return dot_dir(self.project_dir) / "pulumi"


@dataclass(frozen=True)
class ResourceChange:
    op: Op
    urn: str
    type: str
    name: str  # the rendered resource's logical name
    stack_resource: str | None  # the stack file resource it was rendered from
    diff: tuple[str, ...] = ()  # changed properties, when Pulumi reports them


@dataclass(frozen=True)
class RunResult:
    operation: Operation
    stack: str
    summary: Mapping[str, int]  # op → count, as Pulumi counts them
    changes: tuple[ResourceChange, ...]
    outputs: Mapping[str, Any]  # secret outputs already masked
    duration_s: float

    @property
    def changed(self) -> tuple[ResourceChange, ...]:
        return tuple(c for c in self.changes if c.op not in ("same", "read"))

    @property
    def has_changes(self) -> bool:
        """For --detailed-exitcode: anything to do (preview) or anything drifted (drift)."""
        return bool(self.changed) or any(n for op, n in self.summary.items() if op not in ("same", "read"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "stack": self.stack,
            "summary": dict(self.summary),
            "changes": [c.__dict__ | {"diff": list(c.diff)} for c in self.changes],
            "outputs": dict(self.outputs),
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class StackRun:
    """What a workspace returns from one Pulumi command, before cloudorch interprets it."""

    summary: Mapping[str, int]
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class OutputValue:
    value: Any
    secret: bool = False


class Workspace(Protocol):
    """One stack of one backend, with the program already attached."""

    def install_plugins(self, plugins: Sequence[PulumiPlugin]) -> None: ...

    def preview(self, on_event: RawEventHandler) -> StackRun: ...

    def up(self, on_event: RawEventHandler) -> StackRun: ...

    def destroy(self, on_event: RawEventHandler) -> StackRun: ...

    def refresh(self, on_event: RawEventHandler, *, preview_only: bool = False) -> StackRun: ...

    def outputs(self) -> Mapping[str, OutputValue]: ...

    def cancel(self) -> None:
        """Cancel the backend's in-progress update, clearing Pulumi's own lock on the stack."""
        ...

    def repair_pending(self) -> list[dict[str, str]]:
        """Clear the pending operations an interrupted update left in the state; returns them."""
        ...

    def resource_types(self) -> list[str]:
        """The type of every resource the stack's state holds (Pulumi's own stack and providers left out)."""
        ...
