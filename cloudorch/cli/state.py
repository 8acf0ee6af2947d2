"""`cloudorch outputs | unlock`: read and repair a stack's state, found by the stack's identity alone."""

from __future__ import annotations

from pathlib import Path

from cloudorch import lifecycle
from cloudorch.cli.application import Application
from cloudorch.cli.shared import STACK, command_group, register

commands = command_group()


def outputs(app: Application, stack: Path = STACK) -> int:
    """Print the stack's outputs (secret values masked)."""
    values = lifecycle.stack_state(stack, app.session).engine.outputs()
    if app.json:
        app.emit_json({"outputs": values})
    else:
        for key, value in sorted(values.items()):
            app.out.print(f"{key} = {value}")
    return 0


def unlock(app: Application, stack: Path = STACK) -> int:
    """Clear a stale lock left by an interrupted apply."""
    result = lifecycle.stack_state(stack, app.session).engine.unlock()
    cleared = result.cleared
    if app.json:
        held = None if cleared is None else {"user": cleared.user, "host": cleared.host, "pid": cleared.pid,
                                             "since": cleared.since, "operation": cleared.operation}
        app.emit_json({"cleared": held, "backend": result.backend})
    elif cleared is None:
        app.out.print(f"no local lock was held; backend: {result.backend}")
    else:
        app.out.print(f"cleared the lock held by {cleared.user}@{cleared.host} (pid {cleared.pid}, "
                      f"{cleared.operation} since {cleared.since}); backend: {result.backend}")
    return 0


register(commands, "outputs", outputs)
register(commands, "unlock", unlock)
