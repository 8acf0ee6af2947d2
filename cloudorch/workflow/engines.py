"""Each stack's engine for a run: the real ``PulumiEngine``, or the same class over the rehearsal's workspace.

The one difference between a rehearsal and a real run is the ``open_workspace`` this module hands the
engine; the lock, the error classification, output masking and everything the workflow does are shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cloudorch import lifecycle
from cloudorch.api import PlanResult, Session
from cloudorch.engine import EngineSettings, PulumiEngine
from cloudorch.errors import EngineError
from cloudorch.provider import PulumiPlugin
from cloudorch.rendering.model import RenderedResource
from cloudorch.workflow.rehearsal import PASSPHRASE, Faults, RehearsalWorkspace, rehearsal_dir


def slots_of(result: PlanResult) -> dict[str, list[tuple[str, str, str]]]:
    """Stack resource -> the offerings (cloud, region, machine type) its placement uses."""
    return {name: [(s.cloud, s.region, s.instance_type) for s in placed.slots]
            for name, placed in result.placement.placements.items()}


class Engines:
    def __init__(self, session: Session, *, rehearse: bool = False, faults: Faults | None = None) -> None:
        self.session = session
        self.rehearse = rehearse
        self.faults = faults or Faults()

    def engine(self, stack: str, rendered: Sequence[RenderedResource] = (),
               slots: Mapping[str, Sequence[tuple[str, str, str]]] | None = None) -> PulumiEngine:
        """The engine of ``stack``; ``rendered`` is what an apply runs and ``slots`` its offerings (``slots_of``),
        which only a rehearsal needs (to fail the injected ones as the cloud would)."""
        identity = self.session.identity(stack)
        if not self.rehearse:
            return lifecycle.engine_for(identity, self.session)
        root = self.session.project.root
        slots = slots or {}
        faults = self.faults

        def open_workspace(settings: EngineSettings, config: Any, program: Any) -> RehearsalWorkspace:
            return RehearsalWorkspace(settings, rendered if program is not None else (), slots, faults)

        settings = EngineSettings(project_dir=root, identity=identity,
                                  backend_url=(rehearsal_dir(root) / "backend").resolve().as_uri())
        return PulumiEngine(settings, open_workspace=open_workspace, which=lambda _: "rehearsal",
                            plugins_for=lambda _: (), environ={"CLOUDORCH_PASSPHRASE": PASSPHRASE})

    def plugins(self, path: Path) -> Sequence[PulumiPlugin]:
        """The plugins a state operation on the stack in ``path`` installs (none in a rehearsal)."""
        return () if self.rehearse else lifecycle.stack_state(path, self.session).plugins

    def outputs(self, stack: str) -> Mapping[str, Any] | None:
        """The stack's outputs, or None when it has none yet (never applied, or no engine to ask)."""
        try:
            values = self.engine(stack).outputs()
        except EngineError as exc:
            if exc.kind == "missing-cli":
                return None
            raise
        return values or None
