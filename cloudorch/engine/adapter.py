"""The Automation API adapter: the only module that imports ``pulumi.automation``.

It implements the ``Workspace`` seam for one stack and nothing more; locking, progress, classification
and redaction live above it (runner.py) so they are tested against a fake at this seam. ``pulumi`` is
imported inside functions: loading the Automation API costs ~0.4 s and most commands never need it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cloudorch.engine.config import StackConfig
from cloudorch.engine.errors import missing_cli_error
from cloudorch.engine.secrets import url_credentials
from cloudorch.engine.workspace import EngineSettings, OutputValue, RawEventHandler, StackRun
from cloudorch.provider import PulumiPlugin


def find_cli(which: Callable[[str], str | None] = shutil.which) -> str:
    """The Pulumi CLI's path, or the missing-cli error with install instructions."""
    path = which("pulumi")
    if path is None:
        raise missing_cli_error()
    return path


def open_workspace(
    settings: EngineSettings, config: StackConfig, program: Callable[[], None] | None
) -> AutomationWorkspace:
    return AutomationWorkspace(settings, config, program)


def _no_program() -> None:
    """Stands in where the Automation API insists on an inline program but none will run: outputs and cancel,
    and destroy, refresh and drift, which Pulumi runs from the state."""


def project_settings(settings: EngineSettings, config: StackConfig) -> Any:
    """The Pulumi.yaml the Automation API writes into the work directory.

    The backend is named there only when its URL holds no credentials: the file stays on disk, and
    PULUMI_BACKEND_URL in the CLI's environment (which Pulumi prefers to the project's) reaches it anyway.
    """
    import pulumi.automation as auto

    backend = None if url_credentials(config.backend_url) else auto.ProjectBackend(config.backend_url)
    return auto.ProjectSettings(name=settings.identity.project, runtime="python", backend=backend)


class AutomationWorkspace:
    """One stack on one backend, driven through ``pulumi.automation``."""

    def __init__(self, settings: EngineSettings, config: StackConfig, program: Callable[[], None] | None) -> None:
        import pulumi.automation as auto

        try:
            command = auto.PulumiCommand(skip_version_check=False)
        except FileNotFoundError:  # the CLI vanished between find_cli and here
            raise missing_cli_error() from None
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        env = {"PULUMI_SKIP_UPDATE_CHECK": "true", **settings.env, **config.env, "PULUMI_BACKEND_URL": config.backend_url}
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(settings.work_dir),
            env_vars=env,
            secrets_provider=config.secrets_provider,
            project_settings=project_settings(settings, config),
            pulumi_command=command,
        )
        self._settings = settings
        self._stack = auto.create_or_select_stack(
            stack_name=settings.identity.stack, project_name=settings.identity.project, program=program or _no_program, opts=opts
        )

    def install_plugins(self, plugins: Sequence[PulumiPlugin]) -> None:
        workspace = self._stack.workspace
        for plugin in plugins:
            version = plugin.version if plugin.version.startswith("v") else f"v{plugin.version}"
            workspace.install_plugin(plugin.name, version)

    def _common(self, on_event: RawEventHandler) -> dict[str, Any]:
        return {"on_event": on_event, "color": "never", "parallel": self._settings.parallel}

    def preview(self, on_event: RawEventHandler) -> StackRun:
        result = self._stack.preview(diff=True, **self._common(on_event))
        return StackRun(_counts(result.change_summary), result.stdout, result.stderr)

    def up(self, on_event: RawEventHandler) -> StackRun:
        result = self._stack.up(show_secrets=False, suppress_outputs=True, **self._common(on_event))
        return StackRun(_counts(result.summary.resource_changes), result.stdout, result.stderr)

    def destroy(self, on_event: RawEventHandler) -> StackRun:
        result = self._stack.destroy(show_secrets=False, suppress_outputs=True, **self._common(on_event))
        return StackRun(_counts(result.summary.resource_changes), result.stdout, result.stderr)

    def refresh(self, on_event: RawEventHandler, *, preview_only: bool = False) -> StackRun:
        if preview_only:
            preview = self._stack.preview_refresh(show_secrets=False, **self._common(on_event))
            return StackRun(_counts(preview.change_summary), preview.stdout, preview.stderr)
        result = self._stack.refresh(show_secrets=False, suppress_outputs=True, **self._common(on_event))
        return StackRun(_counts(result.summary.resource_changes), result.stdout, result.stderr)

    def outputs(self) -> Mapping[str, OutputValue]:
        return {key: OutputValue(out.value, bool(out.secret)) for key, out in self._stack.outputs().items()}

    def cancel(self) -> None:
        self._stack.cancel()

    def repair_pending(self) -> list[dict[str, str]]:
        """Clear what an interrupted update left pending, the way Pulumi documents it ("Interrupted updates"):
        cancel the update still marked as running, then refresh, which reads the interrupted updates and
        deletes back from the clouds and clears those operations; pending creates are cleared with
        ``clear_pending_creates`` (the CLI's ``--clear-pending-creates``), since a refresh cannot know them.
        Returns the operations found (``op``, ``resource`` URN), for the caller to record and report: a create
        the cloud did finish is no longer tracked, and the caller says to check for it."""
        deployment = self._stack.export_stack().deployment or {}
        pending = deployment.get("pending_operations") or []
        if not pending:
            return []
        try:
            self._stack.cancel()
        except Exception:  # noqa: BLE001 - "no update in progress": the usual case once the CLI was killed
            pass
        self._stack.refresh(clear_pending_creates=True, color="never", show_secrets=False, suppress_outputs=True)
        return [{"op": str(op.get("type", "")), "resource": str((op.get("resource") or {}).get("urn", ""))}
                for op in pending]


    def resource_types(self) -> list[str]:
        deployment = self._stack.export_stack().deployment or {}
        types = (str(r.get("type", "")) for r in deployment.get("resources") or [] if isinstance(r, dict))
        return [t for t in types if not t.startswith("pulumi:")]


def _counts(changes: Mapping[Any, int] | None) -> dict[str, int]:
    return {str(getattr(op, "value", op)): int(n) for op, n in (changes or {}).items()}
