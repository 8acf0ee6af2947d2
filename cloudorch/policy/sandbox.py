"""Run a team's policy code in a child process, so that it cannot end, stall or garble cloudorch's run.

A Python file in a policy directory is code the team wrote, loaded from the working tree; cloudorch imports
it and calls it, at load time (the module's top level, a ``pack()`` function) and for every target it checks.
Run in cloudorch's own process, one ``sys.exit(0)`` made ``check`` pass, one endless loop hung CI, one
``print`` corrupted ``--format json``. So each such task runs in a forked child, one after another:

- a time limit per task (``CLOUDORCH_POLICY_TIMEOUT`` seconds, default 30): the child is killed, with the
  process group it leads, and the task reports where the code was (file:line) when time ran out;
- what it raises, whatever it is (``SystemExit``, ``KeyboardInterrupt``, ...), or ending the process
  (``os._exit``, a crash), is that task's error, never the run's; a Ctrl-C of the user still reaches only
  cloudorch (the child leads its own process group), which stops with 130;
- its stdout and stderr (the file descriptors, so subprocesses too) go to a file, not to cloudorch's output;
- it works in an empty temporary directory, with an environment stripped to what a program needs to run
  (``PATH``, ``HOME``, locale, time zone, temporary directory): no credentials, no passphrase.

Why a fork rather than a fresh interpreter: the child starts at once with everything a policy reads already
in memory (the stack, the rendered resources, the providers that describe them), and nothing has to be
pickled on the way in; only results come back. Built-in and installed packs are trusted, are not team code
from a working tree, and keep running in-process (the 10,000-resource benchmark is theirs).

What this is not: a security boundary. The child runs with the user's rights: it can read and write any file
the user can (by absolute path), reach the network, start processes. Policy code is trusted code that the
team reviews like any other code it runs; cloudorch says so whenever it runs some. Where ``os.fork`` does
not exist (Windows), tasks run in-process with only the catching of what they raise and their
``sys.stdout``/``sys.stderr``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

LIMIT_ENV = "CLOUDORCH_POLICY_TIMEOUT"
DEFAULT_LIMIT = 30.0
#: the longest the parent waits on the child without running Python code (see ``_Child._next``)
WAIT_SLICE = 0.25
#: how much of a task's output is kept for its error message
OUTPUT_LIMIT = 2000
#: what the child keeps of the environment: enough to run Python and read the clock and locale
_KEEP_ENV = re.compile(r"^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TEMP|TMP|SYSTEMROOT|PYTHONHASHSEED)$")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


@dataclass(frozen=True)
class Outcome:
    """What one task came to: its value, or why there is none (``error``, words such as "raised KeyError:
    'x'" or "did not finish within 30 s"), where in the team's code that happened, and what it printed."""

    value: Any = None
    error: str | None = None
    output: str = ""
    where: tuple[str, int] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def time_limit() -> float:
    """Seconds each task may take: ``CLOUDORCH_POLICY_TIMEOUT``, else 30."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT
    return value if value > 0 else DEFAULT_LIMIT


def describe_exception(exc: BaseException, limit: int = 500) -> str:
    """``called sys.exit(3)`` or ``raised KeyError: 'x'``: how code ended, in words (its own ``__str__`` may
    itself be hostile, so it is guarded and cut short)."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"[:limit]
    if isinstance(exc, SyntaxError):
        return f"has a syntax error: {exc.msg}"[:limit]
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - an exception whose __str__ raises still has a name
        text = "<unprintable>"
    said = f"raised {type(exc).__name__}: {text}" if text else f"raised {type(exc).__name__}"
    return said if len(said) <= limit else said[: limit - 3] + "..."


def where_in(exc: BaseException, files: Sequence[str]) -> tuple[str, int] | None:
    """Where in ``files`` (or a file beside them) ``exc`` was raised: a syntax error's own place, else the
    innermost frame of its traceback there."""
    if isinstance(exc, SyntaxError) and exc.filename and _ours(exc.filename, files):
        return (exc.filename, exc.lineno or 1)
    found = None
    tb = exc.__traceback__
    while tb is not None:
        file = tb.tb_frame.f_code.co_filename
        if _ours(file, files):
            found = (file, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _ours(file: str, files: Sequence[str]) -> bool:
    return any(file == f or os.path.dirname(file) == os.path.dirname(f) for f in files)


def run(tasks: Sequence[Callable[[Any], Any]], *, setup: Callable[[], Any] = lambda: None,
        files: Sequence[str] = (), describe: Callable[[BaseException], str] = describe_exception,
        limit: float | None = None) -> list[Outcome]:
    """Run ``task(setup())`` for each task, in order, in a child process; one ``Outcome`` per task.

    ``setup`` (importing the team's modules) runs once in each child; if it fails, every task still to run
    fails with its error. ``files`` are the team's code, for locating where a task was when it timed out.
    ``describe`` words what a task raised (it runs in the child, with the traceback at hand).
    """
    limit = time_limit() if limit is None else limit
    if not hasattr(os, "fork"):
        return _run_here(tasks, setup, files, describe)
    outcomes: list[Outcome] = []
    while len(outcomes) < len(tasks):
        outcomes += _Child(tasks, len(outcomes), setup, files, describe, limit).collect()
    return outcomes


def _run_here(tasks: Sequence[Callable[[Any], Any]], setup: Callable[[], Any], files: Sequence[str],
              describe: Callable[[BaseException], str]) -> list[Outcome]:
    """Without fork: catch what the code raises (a real Ctrl-C cannot be told apart here, so it stops the
    run) and its ``sys.stdout``/``sys.stderr``; no time limit."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            state = setup()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - team code must not end the run
        return [Outcome(error=describe(exc), output=out.getvalue()[-OUTPUT_LIMIT:], where=where_in(exc, files))
                for _ in tasks]
    outcomes = []
    for task in tasks:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                outcomes.append(Outcome(value=task(state), output=out.getvalue()[-OUTPUT_LIMIT:]))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(Outcome(error=describe(exc), output=out.getvalue()[-OUTPUT_LIMIT:],
                                    where=where_in(exc, files)))
    return outcomes


class _Child:
    """One forked child running ``tasks[start:]`` until they are done or one of them kills it."""

    def __init__(self, tasks: Sequence[Callable[[Any], Any]], start: int, setup: Callable[[], Any],
                 files: Sequence[str], describe: Callable[[BaseException], str], limit: float) -> None:
        self.tasks, self.start, self.setup, self.files, self.describe, self.limit = (
            tasks, start, setup, files, describe, limit)
        self.pid, self.reaped = 0, False

    def collect(self) -> list[Outcome]:
        from multiprocessing.connection import Pipe  # ~10 ms; only runs that have team code pay it

        home = tempfile.mkdtemp(prefix="cloudorch-policy-")
        reader, writer = Pipe(duplex=False)
        output = os.open(os.path.join(home, ".output"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        dump = os.open(os.path.join(home, ".stack"), os.O_RDWR | os.O_CREAT, 0o600)
        for stream in (sys.stdout, sys.stderr):  # else the child could write the parent's buffered text again
            with contextlib.suppress(Exception):
                stream.flush()
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks (HiGHS keeps a worker thread): the child
            # runs only policy code and never touches what such a thread could hold, and it has a time limit
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: never return into the caller's frames
            try:
                reader.close()
                self._serve(writer, home, output, dump)
            finally:
                os._exit(0)
        writer.close()
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also done by the child: whichever runs first, a kill reaches its group
        self.pid, self.reaped = pid, False
        try:
            return self._receive(reader, output, dump)
        finally:
            if not self.reaped:
                _kill(pid)
            reader.close()
            os.close(output)
            os.close(dump)
            shutil.rmtree(home, ignore_errors=True)

    # -- the parent's side ----------------------------------------------------------------------------------
    def _receive(self, reader: Any, output: int, dump: int) -> list[Outcome]:
        outcomes: list[Outcome] = []
        index = self.start
        ready = False  # until setup is done, a failure is setup's, and fails every task left
        while index < len(self.tasks):
            message = self._next(reader, time.monotonic() + self.limit)
            if message is None or message == "gone":
                error, where = self._stopped(dump, timed_out=message is None)
                failed = Outcome(error=error, output=_read(output), where=where)
                return outcomes + [failed] * (len(self.tasks) - index if not ready else 1)
            kind, payload, text = message
            if kind == "ready":
                ready = True
            elif kind == "ok":
                outcomes.append(Outcome(value=payload, output=text))
                index += 1
            else:
                failed = Outcome(error=payload[0], output=text, where=payload[1])
                if kind == "setup":
                    return outcomes + [failed] * (len(self.tasks) - index)
                outcomes.append(failed)
                index += 1
        return outcomes

    def _next(self, reader: Any, deadline: float) -> Any:
        """The child's next message; None when the deadline passed, "gone" when the child ended."""
        try:
            # in short waits: a Ctrl-C the kernel hands to another thread (HiGHS keeps one) is only acted on
            # when this thread next runs Python code, so one long wait would hold it for the whole time limit
            while not reader.poll(min(WAIT_SLICE, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    return None
            return reader.recv()
        except (EOFError, OSError):
            return "gone"

    def _stopped(self, dump: int, *, timed_out: bool) -> tuple[str, tuple[str, int] | None]:
        """Why the child stopped answering, and where; it is killed (with its process group) and reaped here."""
        where = _where_stuck(self.pid, dump, self.files) if timed_out else None
        status = _kill(self.pid)
        self.reaped = True
        if timed_out:
            return f"did not finish within {self.limit:g} s (the time limit, set by {LIMIT_ENV})", where
        return f"ended the policy process ({_exit_status(status)})", None

    # -- the child's side -----------------------------------------------------------------------------------
    def _serve(self, writer: Any, home: str, output: int, dump: int) -> None:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        _isolate(home, output, dump)

        def send(kind: str, payload: Any) -> None:
            text = _take_output(output)
            try:
                writer.send((kind, payload, text))
            except Exception as exc:  # noqa: BLE001 - a value that cannot be pickled is the task's error
                writer.send(("error", (f"returned a value cloudorch cannot read back: {describe_exception(exc)}",
                                       None), text))

        try:
            state = self.setup()
        except BaseException as exc:  # noqa: BLE001 - whatever team code raises is its own failure
            send("setup", (self.describe(exc), where_in(exc, self.files)))
            return
        send("ready", None)
        for task in self.tasks[self.start:]:
            try:
                value = task(state)
            except BaseException as exc:  # noqa: BLE001
                send("error", (self.describe(exc), where_in(exc, self.files)))
            else:
                send("ok", value)


def _isolate(home: str, output: int, dump: int) -> None:
    """In the child: an empty working directory, a stripped environment, output to a file, and a traceback
    dump on SIGUSR1 (so the parent can say where code was when its time ran out)."""
    import faulthandler

    os.chdir(home)
    for key in [k for k in os.environ if not _KEEP_ENV.match(k)]:
        del os.environ[key]
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(output, 1)
    os.dup2(output, 2)
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
    signal.signal(signal.SIGINT, signal.default_int_handler)
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=False)


def _take_output(fd: int) -> str:
    """What the current task wrote (then cleared, so the next task's output is its own)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    text = _read(fd)
    os.ftruncate(fd, 0)
    return text


def _read(fd: int) -> str:
    data = os.pread(fd, OUTPUT_LIMIT * 4 + 4, 0)
    text = data.decode("utf-8", errors="replace")
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "..."


def _where_stuck(pid: int, dump: int, files: Sequence[str]) -> tuple[str, int] | None:
    """Ask the child for its stack (faulthandler, on SIGUSR1) and find the innermost line of team code."""
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError:
        return None
    text = ""
    for _ in range(20):  # the dump is written by a signal handler: give it a moment
        time.sleep(0.025)
        text = os.pread(dump, 64 * 1024, 0).decode("utf-8", errors="replace")
        if text.count("\n") >= 2:
            break
    for line in text.splitlines():  # most recent call first
        match = _FRAME.match(line)
        if match and _ours(match["file"], files):
            return match["file"], int(match["line"])
    return None


def _kill(pid: int) -> int | None:
    """Kill the child and what it started, then reap it: in this order, so that its process group id cannot
    have gone to an unrelated process yet. Returns its exit status."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def _exit_status(code: int | None) -> str:
    if code is None:
        return "it is gone"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"
