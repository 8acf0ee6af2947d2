"""Running a set of steps with dependencies between them, independent ones in parallel.

A step starts once every step it waits for has finished; after the first failure nothing new starts, the
ones running finish, and the first failure is raised (a half-applied wave is never left running).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait


def run_in_order(steps: Iterable[str], waits_for: Callable[[str], set[str]], run: Callable[[str], object],
                 parallel: int) -> None:
    pending = set(steps)
    running: dict[Future[object], str] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="cloudorch-step") as pool:
        while pending or running:
            if failure is None:
                busy = pending | set(running.values())
                for step in sorted(s for s in pending if not (waits_for(s) & busy)):
                    if len(running) >= parallel:
                        break
                    pending.discard(step)
                    running[pool.submit(run, step)] = step
            else:
                pending.clear()
            if not running:
                if pending:  # only a cycle could leave steps that wait on each other; the definition refuses them
                    raise RuntimeError(f"steps wait on each other: {sorted(pending)}")
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                running.pop(future)
                error = future.exception()
                if error is not None and failure is None:
                    failure = error
    if failure is not None:
        raise failure
