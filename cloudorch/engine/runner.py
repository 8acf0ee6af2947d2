"""``PulumiEngine``: the contract cloudorch keeps around every Pulumi run.

In order, each run: checks the rendered graph (pure), finds the Pulumi CLI, resolves backend and
secrets, takes the stack lock, opens the workspace, installs the pinned plugins, runs with live events,
and turns any failure into a classified, redacted ``EngineError``. The gates that need no engine (stale
plan, policy, budget) belong to the caller and run before any of this.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudorch.engine import locking
from cloudorch.engine.adapter import open_workspace
from cloudorch.engine.config import StackConfig, resolve_stack_config
from cloudorch.engine.errors import classify, missing_cli_error
from cloudorch.engine.events import Event, Progress
from cloudorch.engine.program import GENERATED_SECRETS, build_program, dependency_order, package_of
from cloudorch.engine.secrets import MASK, Secrets
from cloudorch.engine.workspace import EngineSettings, Operation, OutputValue, RunResult, StackRun, Workspace
from cloudorch.errors import CloudorchError, PluginError
from cloudorch.plugins import load_provider
from cloudorch.project import record as record_project
from cloudorch.provider import PulumiPlugin
from cloudorch.rendering.model import RenderedResource

#: called for every surfaced event with the live progress state (rows, summary) after the event applied
EventCallback = Callable[[Event, Progress], None]
WorkspaceFactory = Callable[[EngineSettings, StackConfig, Callable[[], None] | None], Workspace]


def pinned_plugins(resources: Iterable[RenderedResource]) -> tuple[PulumiPlugin, ...]:
    """The plugin pins of the providers that rendered ``resources``, for the packages they use.

    The pins live with each provider plugin (``CloudProvider.pulumi_plugins``): the schema its rendering
    was written for. A package no provider pins is left to Pulumi's own plugin resolution.
    """
    resources = list(resources)
    packages = {package_of(r.type) for r in resources}
    return tuple(p for p in provider_pins(r.cloud for r in resources) if p.name in packages)


def provider_pins(clouds: Iterable[str]) -> tuple[PulumiPlugin, ...]:
    """Every plugin pin of these clouds' providers, by name; a cloud with no installed provider pins nothing
    (the plan could not have rendered it either)."""
    pins: dict[str, PulumiPlugin] = {}
    for cloud in sorted(set(clouds)):
        try:
            provider = load_provider(cloud)
        except PluginError:
            continue
        for plugin in getattr(provider, "pulumi_plugins", ()):
            pins.setdefault(plugin.name, plugin)
    return tuple(pins[name] for name in sorted(pins))


@dataclass(frozen=True)
class UnlockResult:
    cleared: locking.LockInfo | None  # the local lock removed, if any
    backend: str  # what happened to Pulumi's own backend lock
    #: whether the cleared lock's process was still running (None: nothing cleared, or not visible from here)
    holder_running: bool | None = None


class PulumiEngine:
    def __init__(
        self,
        settings: EngineSettings,
        *,
        open_workspace: WorkspaceFactory | None = None,
        which: Callable[[str], str | None] = shutil.which,
        plugins_for: Callable[[Sequence[RenderedResource]], Sequence[PulumiPlugin]] = pinned_plugins,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._open = open_workspace
        self._which = which
        self._plugins_for = plugins_for
        self._environ = environ
        self._clock = clock

    # -- the commands ---------------------------------------------------------------------------------
    # Each takes an optional ``on_event(event, progress)`` callback and ``secrets``: values marked secret
    # in the stack, sent to Pulumi as secrets and scrubbed from every event, result and error. preview and
    # apply run the rendered resources as the program; destroy, refresh and drift work from the state
    # alone and take only the plugins to install (Pulumi does not run the program for them).

    def preview(self, resources: Sequence[RenderedResource], *, on_event: EventCallback | None = None,
                secrets: Iterable[str] = ()) -> RunResult:
        return self._run("preview", resources, None, lambda ws, h: ws.preview(h), on_event, secrets)

    def apply(self, resources: Sequence[RenderedResource], *, on_event: EventCallback | None = None,
              secrets: Iterable[str] = ()) -> RunResult:
        return self._run("up", resources, None, lambda ws, h: ws.up(h), on_event, secrets)

    def destroy(self, *, plugins: Sequence[PulumiPlugin] = (), on_event: EventCallback | None = None,
                secrets: Iterable[str] = ()) -> RunResult:
        return self._run("destroy", (), plugins, lambda ws, h: ws.destroy(h), on_event, secrets)

    def refresh(self, *, plugins: Sequence[PulumiPlugin] = (), on_event: EventCallback | None = None,
                secrets: Iterable[str] = ()) -> RunResult:
        return self._run("refresh", (), plugins, lambda ws, h: ws.refresh(h), on_event, secrets)

    def drift(self, *, plugins: Sequence[PulumiPlugin] = (), on_event: EventCallback | None = None,
              secrets: Iterable[str] = ()) -> RunResult:
        """A refresh in preview mode: what differs between the cloud and the state, changing nothing."""
        return self._run("drift", (), plugins, lambda ws, h: ws.refresh(h, preview_only=True), on_event, secrets)

    def outputs(self, *, secrets: Iterable[str] = ()) -> dict[str, Any]:
        return self._with_state("outputs", self._masked_outputs, secrets)

    def unlock(self) -> UnlockResult:
        """Clear the stack's local lock and cancel Pulumi's backend lock (the latter needs the CLI)."""
        cleared = locking.unlock(self.settings.project_dir, self.settings.stack)
        running = locking.holder_running(cleared) if cleared is not None else None
        if self._which("pulumi") is None:
            return UnlockResult(cleared, "skipped: no Pulumi CLI to clear a backend lock", running)
        config = self._config()
        try:
            self._workspace(config, None).cancel()
        except Exception as exc:  # "no update in progress" is the usual and harmless outcome
            text = Secrets(exact=config.secret_values).redact(str(exc)).strip().splitlines()
            return UnlockResult(cleared, f"not cancelled: {text[-1] if text else type(exc).__name__}", running)
        return UnlockResult(cleared, "cancelled", running)

    def repair_pending(self) -> list[dict[str, str]]:
        """Clear the pending operations a killed run left in the stack's state (the workspace does it as Pulumi
        documents it) under the stack's lock; returns them (``op``, ``resource``), none when it was clean."""
        self._require_cli()  # "install Pulumi" before any lock is taken or waited for
        with locking.acquire(self.settings.project_dir, self.settings.stack, "repair"):
            return self._with_state("refresh", lambda ws, _: list(ws.repair_pending()))

    def resource_types(self) -> list[str]:
        """The type of every resource in the stack's state, read without changing anything (what a destroy
        would delete, shown before it is confirmed)."""
        return self._with_state("state", lambda ws, _: list(ws.resource_types()))

    def _with_state(self, operation: str, call: Callable[[Workspace, Secrets], Any], secrets: Iterable[str] = ()) -> Any:
        """``call`` on the stack's workspace with no program (the state alone); a failure is classified as
        an engine run's is, with every known secret masked."""
        self._require_cli()
        config = self._config()
        known = Secrets(secrets, exact=config.secret_values)
        try:
            return call(self._workspace(config, None), known)
        except CloudorchError:
            raise
        except Exception as exc:
            raise self._failure(exc, operation, known, []) from None

    def preflight(self) -> None:
        """What every run needs before it touches anything (the Pulumi CLI, the backend, the secrets'
        passphrase), checked alone: a command asks the user to confirm only once these are there."""
        self._require_cli()
        self._config()

    # -- the contract ------------------------------------------------------------------------------
    def _run(
        self,
        operation: Operation,
        resources: Sequence[RenderedResource],
        plugins: Sequence[PulumiPlugin] | None,
        call: Callable[[Workspace, Callable[[Any], None]], StackRun],
        on_event: EventCallback | None,
        secrets: Iterable[str],
    ) -> RunResult:
        """Runs ``resources`` as the program (``plugins`` None: their providers' pins), or with no program
        from the state when ``resources`` is empty."""
        dependency_order(resources)  # a broken graph is a rendering bug, reported even without the CLI
        self._require_cli()
        config = self._config()
        secret_values = [s for s in secrets if s]
        if plugins is None:
            plugins = tuple(self._plugins_for(resources)) if resources else ()
        known = Secrets(secret_values, exact=config.secret_values)
        # values generated during the run (pre-shared keys on a first apply) are scrubbed from then on
        program = build_program(
            resources, plugin_versions={p.name: p.version for p in plugins}, secret_values=secret_values,
            on_secret=lambda value: known.add(*_leaves(value)),
        ) if resources else None
        callback_errors: list[BaseException] = []
        progress = Progress(secrets=known, clock=self._clock)

        def handle(raw: Any) -> None:
            event = progress.handle(raw)
            if event is not None and on_event is not None and not callback_errors:
                try:
                    on_event(event, progress)
                except Exception as exc:  # raising here would kill Pulumi's event thread silently
                    callback_errors.append(exc)

        started = self._clock()
        with locking.acquire(self.settings.project_dir, self.settings.stack, operation):
            try:
                workspace = self._workspace(config, program)
                # The stack's secret outputs are known before the run: a provider's error may echo one.
                existing = workspace.outputs()
                known.add(*_secret_leaves(existing))
                # Events name resources in the stack's terms: the rendered resources say which stack
                # resource each came from; without them, the stack outputs do (program.py exports them).
                progress.name_sources({r.name: r.source for r in resources} if resources else _sources_in(existing))
                workspace.install_plugins(plugins)
                run = call(workspace, handle)
                outputs = self._masked_outputs(workspace, known) if operation in ("up", "refresh") else {}
            except CloudorchError:
                raise
            except Exception as exc:
                raise self._failure(exc, operation, known, progress.errors) from None
        if callback_errors:
            raise callback_errors[0]
        return RunResult(
            operation=operation,
            stack=self.settings.stack,
            summary=progress.summary or dict(run.summary),
            changes=progress.changes(),
            outputs=outputs,
            duration_s=self._clock() - started,
        )

    def _require_cli(self) -> None:
        # Before anything else that involves Pulumi, so the user gets install instructions, not a trace.
        if self._which("pulumi") is None:
            raise missing_cli_error()

    def _config(self) -> StackConfig:
        # Pin the project name before any state exists under it: state found later without a pin is
        # taken for state of the time before projects had names (cloudorch.project).
        record_project(self.settings.project_dir, self.settings.identity.project)
        if self._environ is None:
            return resolve_stack_config(self.settings)
        return resolve_stack_config(self.settings, self._environ)

    def _workspace(self, config: StackConfig, program: Callable[[], None] | None) -> Workspace:
        if self._open is None:
            return open_workspace(self.settings, config, program)
        return self._open(self.settings, config, program)

    @staticmethod
    def _masked_outputs(workspace: Workspace, known: Secrets) -> dict[str, Any]:
        values = workspace.outputs()
        known.add(*_secret_leaves(values))
        # the generated secrets are cloudorch's to redact with, not outputs of the user's stack
        return {k: MASK if v.secret else known.redact_data(v.value) for k, v in values.items()
                if k != GENERATED_SECRETS}

    @staticmethod
    def _failure(exc: BaseException, operation: str, known: Secrets, diagnostics: list[str]) -> CloudorchError:
        # Pulumi's stderr often says only "update failed"; the provider's reason is in the diagnostics.
        text = "\n".join([*diagnostics, str(exc)]) if diagnostics else str(exc)
        if isinstance(exc, FileNotFoundError) and "pulumi" in str(exc):
            return missing_cli_error()
        error = classify(known.redact(text), operation=operation)
        error.message = known.redact(error.message)
        error.args = (error.message,)
        return error


def _sources_in(outputs: Mapping[str, OutputValue]) -> dict[str, str]:
    """Rendered resource name -> stack resource, from the program's exports ``{stack resource: {name: id}}``."""
    return {name: source for source, out in outputs.items() if not out.secret and isinstance(out.value, dict)
            for name in out.value}


def _secret_leaves(outputs: Mapping[str, OutputValue]) -> list[Any]:
    return [leaf for v in outputs.values() if v.secret for leaf in _leaves(v.value)]


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield value
