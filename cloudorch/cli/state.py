"""`cloudorch outputs | unlock`: read and repair a stack's state, found by the stack's identity alone."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape

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
            # escaped: Rich would read the `[secret]` mask as markup and print nothing
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            app.out.print(escape(f"{key} = {text}"))
    return 0


def unlock(app: Application, stack: Path = STACK) -> int:
    """Clear a stale lock left by an interrupted apply."""
    result = lifecycle.stack_state(stack, app.session).engine.unlock()
    cleared = result.cleared
    if app.json:
        held = None if cleared is None else {"user": cleared.user, "host": cleared.host, "pid": cleared.pid,
                                             "since": cleared.since, "operation": cleared.operation,
                                             "running": result.holder_running}
        app.emit_json({"cleared": held, "backend": result.backend})
    elif cleared is None:
        app.out.print(escape(f"no local lock was held; backend: {result.backend}"))
    else:
        app.out.print(escape(f"cleared the lock held by {cleared.user}@{cleared.host} (pid {cleared.pid}, "
                             f"{cleared.operation} since {cleared.since}); backend: {result.backend}"))
        app.out.print(_HOLDER[result.holder_running])
    return 0


# A run killed outright (SIGKILL, a lost CI runner) cannot release its lock; the next run on the same host
# sees its process gone and takes the lock over, so unlock is needed only for a lock from elsewhere.
_HOLDER = {
    False: "its process had ended (killed or crashed): the next run on this host would have taken the lock "
           "over by itself",
    True: "warning: that process is still running; if it is still changing the stack, wait for it",
    None: "whether that run still goes cannot be seen from this host: make sure it has ended",
}


register(commands, "outputs", outputs)
register(commands, "unlock", unlock)
