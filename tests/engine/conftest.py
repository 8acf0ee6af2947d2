"""Hand-built rendered resources, SDK-shaped engine events and a fake workspace at the engine's seam."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from cloudorch.engine.workspace import EngineSettings, OutputValue, StackRun
from cloudorch.project import StackIdentity
from cloudorch.provider import PulumiPlugin
from cloudorch.rendering.model import RenderedResource, ref

PASSWORD = "Zq8-secret-db-password-91x"
PASSPHRASE = "correct horse battery staple"
STACK = "dev"
PROJECT = "cloudorch"


def urn(name: str, type_: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


@pytest.fixture
def resources() -> list[RenderedResource]:
    return [
        RenderedResource(name="aws-eu-west-1", type="pulumi:providers:aws", cloud="aws", region="eu-west-1",
                         inputs={"region": "eu-west-1"}),
        RenderedResource(name="net-vpc", type="aws:ec2/vpc:Vpc", cloud="aws", region="eu-west-1", source="net",
                         inputs={"cidrBlock": "10.40.0.0/20", "tags": {"Name": "net"}}, provider="aws-eu-west-1"),
        RenderedResource(name="net-subnet-a", type="aws:ec2/subnet:Subnet", cloud="aws", region="eu-west-1",
                         source="net", inputs={"vpcId": ref("net-vpc"), "cidrBlock": "10.40.0.0/24"},
                         provider="aws-eu-west-1"),
        RenderedResource(name="orders-db-password", type="random:index/randomPassword:RandomPassword", cloud="aws",
                         source="orders-db", inputs={"length": 24, "special": False}, secret_outputs=("result",)),
        RenderedResource(name="orders-db", type="aws:rds/instance:Instance", cloud="aws", region="eu-west-1",
                         source="orders-db", provider="aws-eu-west-1",
                         inputs={"instanceClass": "db.m6g.large", "password": ref("orders-db-password", "result"),
                                 "dbSubnetGroupName": ref("net-subnet-a")},
                         depends_on=("net-vpc",)),
    ]


def engine_event(seq: int, **payload: Any) -> Any:
    """An SDK EngineEvent built from the event-log JSON, exactly as the Automation API delivers it."""
    from pulumi.automation.events import EngineEvent

    return EngineEvent.from_json({"sequence": seq, "timestamp": 1_700_000_000 + seq, **payload})


def step(op: str, name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"op": op, "urn": urn(name, type_), "type": type_, "provider": "", **extra}


def pre(seq: int, op: str, name: str, type_: str, *, planning: bool = False, **extra: Any) -> Any:
    return engine_event(seq, resourcePreEvent={"metadata": step(op, name, type_, **extra), "planning": planning})


def done(seq: int, op: str, name: str, type_: str, **extra: Any) -> Any:
    return engine_event(seq, resOutputsEvent={"metadata": step(op, name, type_, **extra)})


def failed(seq: int, op: str, name: str, type_: str) -> Any:
    return engine_event(seq, resOpFailedEvent={"metadata": step(op, name, type_), "status": 1, "steps": 1})


def diag(seq: int, message: str, severity: str = "error", name: str | None = None, type_: str = "") -> Any:
    data: dict[str, Any] = {"message": message, "color": "never", "severity": severity}
    if name:
        data["urn"] = urn(name, type_)
    return engine_event(seq, diagnosticEvent=data)


def summary(seq: int, changes: Mapping[str, int], seconds: int = 3) -> Any:
    return engine_event(seq, summaryEvent={"maybeCorrupt": False, "durationSeconds": seconds,
                                           "resourceChanges": dict(changes), "PolicyPacks": {}})


class FakeWorkspace:
    """The ``Workspace`` seam without Pulumi: replays scripted events, records what the engine asked."""

    def __init__(
        self,
        events: Sequence[Any] = (),
        *,
        summary: Mapping[str, int] | None = None,
        outputs: Mapping[str, OutputValue] | None = None,
        error: BaseException | None = None,
        during: Callable[[], None] | None = None,
    ) -> None:
        self.events = list(events)
        self.summary = dict(summary or {})
        self._outputs = dict(outputs or {})
        self.error = error
        self.during = during
        self.calls: list[str] = []
        #: what ``repair_pending`` reports it cleared
        self.pending: list[dict[str, str]] = []
        #: the resource types ``resource_types`` reports the state holds
        self.state: list[str] = []
        self.plugins: list[PulumiPlugin] = []
        self.program: Callable[[], None] | None = None
        self.config: Any = None
        self.settings: EngineSettings | None = None

    def factory(self, settings: EngineSettings, config: Any, program: Callable[[], None] | None) -> FakeWorkspace:
        self.calls.append("open")
        self.settings = settings
        self.config = config
        self.program = program
        return self

    def install_plugins(self, plugins: Sequence[PulumiPlugin]) -> None:
        self.calls.append("install_plugins")
        self.plugins = list(plugins)

    def _run(self, op: str, on_event: Callable[[Any], None]) -> StackRun:
        self.calls.append(op)
        if self.during:
            self.during()
        for event in self.events:
            on_event(event)
        if self.error:
            raise self.error
        return StackRun(self.summary, stdout="", stderr="")

    def preview(self, on_event: Callable[[Any], None]) -> StackRun:
        return self._run("preview", on_event)

    def up(self, on_event: Callable[[Any], None]) -> StackRun:
        return self._run("up", on_event)

    def destroy(self, on_event: Callable[[Any], None]) -> StackRun:
        return self._run("destroy", on_event)

    def refresh(self, on_event: Callable[[Any], None], *, preview_only: bool = False) -> StackRun:
        return self._run("preview_refresh" if preview_only else "refresh", on_event)

    def outputs(self) -> Mapping[str, OutputValue]:
        self.calls.append("outputs")
        return self._outputs

    def cancel(self) -> None:
        self.calls.append("cancel")

    def repair_pending(self) -> list[dict[str, str]]:
        self.calls.append("repair_pending")
        if self.error:
            raise self.error
        return list(self.pending)

    def resource_types(self) -> list[str]:
        self.calls.append("resource_types")
        return list(self.state)


@pytest.fixture
def settings(tmp_path: Path) -> EngineSettings:
    return EngineSettings(project_dir=tmp_path, identity=StackIdentity(PROJECT, STACK))


@pytest.fixture
def environ() -> dict[str, str]:
    return {"CLOUDORCH_PASSPHRASE": PASSPHRASE}
