"""Work that needs no solver result, done on a second thread while HiGHS solves.

HiGHS lets go of the interpreter while it solves, so on a machine with two cores Python work can run
beside it for free; beside Python work (building the model, say) it would only take turns with it. So
the work waits until the solve starts (``solver_starts``, which ``milp`` calls just before HiGHS runs)
and is done in the planner's thread, as before, if no solve ever starts.

The job waiting is kept in a context variable: each thread (a workflow places stacks on several at once)
sees only its own, and the job's own thread, started with an empty context, starts none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

T = TypeVar("T")


class Job(Generic[T]):
    """One piece of work, done once: beside a solve if one starts, else when its result is asked for."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None or self._done:
                return
            self._thread = threading.Thread(target=self._run, name="cloudorch-beside-solver", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as error:  # handed to whoever asks for the result, in their thread
            self._error = error
        self._done = True

    def result(self) -> T:
        with self._lock:
            started = self._thread is not None
        if started:
            self._thread.join()
        elif not self._done:
            self._run()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


_waiting: ContextVar[Job | None] = ContextVar("cloudorch_beside_solver", default=None)


@contextmanager
def while_solving(work: Callable[[], T]) -> Iterator[Job[T]]:
    """``work`` done beside the next solve this thread starts inside the block (or when asked for). The
    block does not end before the work has: nothing is left running behind a plan."""
    job: Job[T] = Job(work)
    token = _waiting.set(job)
    try:
        yield job
    finally:
        _waiting.reset(token)
        if job._thread is not None:
            job._thread.join()


def solver_starts() -> None:
    """Called just before HiGHS runs: the work waiting in this thread, if any, starts beside it."""
    job = _waiting.get()
    if job is not None:
        job.start()
