"""The Pulumi engine layer: run rendered resources through Pulumi under cloudorch's contract.

Importing this package does not import ``pulumi``; only running a command does (adapter.py, program.py).
"""

from cloudorch.engine.config import StackConfig, resolve_stack_config
from cloudorch.engine.errors import EngineRunError, classify, missing_cli_error
from cloudorch.engine.events import Event, Progress, ResourceProgress, json_line
from cloudorch.engine.locking import LockHeld, LockInfo
from cloudorch.engine.program import ProgramError, build_program, dependency_order
from cloudorch.engine.runner import EventCallback, PulumiEngine, UnlockResult, pinned_plugins, provider_pins
from cloudorch.engine.secrets import RedactingFilter, RedactingStream, Secrets, redact
from cloudorch.engine.workspace import EngineSettings, OutputValue, ResourceChange, RunResult, StackRun, Workspace

__all__ = [
    "EngineRunError", "EngineSettings", "Event", "EventCallback", "LockHeld", "LockInfo", "OutputValue",
    "ProgramError", "Progress", "PulumiEngine", "RedactingFilter", "RedactingStream", "ResourceChange",
    "ResourceProgress", "RunResult", "Secrets", "StackConfig", "StackRun", "UnlockResult", "Workspace",
    "build_program", "classify", "dependency_order", "json_line", "missing_cli_error", "pinned_plugins",
    "provider_pins", "redact", "resolve_stack_config",
]
