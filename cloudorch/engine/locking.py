"""One run per stack at a time, with a message naming who holds the stack and since when.

The lock is a file, ``.cloudorch/locks/<stack>.lock`` under the project, written completely to a private
temporary file and then hard-linked into place: ``link`` is atomic and fails if the name exists, so a
reader never sees a half-written lock and exactly one of two racing runs wins.

Why a lock of our own when Pulumi locks too: Pulumi's DIY backends (file, s3, azblob, gs) and Pulumi Cloud
do refuse a second concurrent update, but only once the engine is running, and for the file backend the
message names a lock file rather than a person. This lock fails fast, before plugins are installed, and
says who and since when. Its limit: it is local to the project directory, so two machines sharing a remote
backend are kept apart by Pulumi's backend lock alone; that error is classified as ``kind="lock"`` as
well (see ``errors.classify``), and ``cloudorch unlock`` clears both (the adapter cancels the backend lock).

Staleness is judged only on the host that took the lock, by pid; a lock from another host is never
broken automatically, because its process cannot be seen from here.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudorch.errors import EngineError
from cloudorch.project import dot_dir


@dataclass(frozen=True)
class LockInfo:
    stack: str
    user: str
    host: str
    pid: int
    since: str  # UTC, ISO 8601
    operation: str = "run"
    token: str = ""  # tells two locks of one process apart, so a late release never drops a newer lock

    @property
    def holder(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid})"


class LockHeld(EngineError):
    """Another run holds the stack."""

    def __init__(self, info: LockInfo) -> None:
        super().__init__(
            f"stack {info.stack!r} is locked by {info.holder}, running {info.operation} since {info.since}",
            hint=f"wait for that run to finish; if it died, run `cloudorch unlock {info.stack}`",
            retryable=True,
            kind="lock",
        )
        self.info = info

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"holder": self.info.holder, "since": self.info.since}


def lock_path(project_dir: Path, stack: str) -> Path:
    # Fully qualified stack names (org/project/stack) must not become directories.
    return dot_dir(project_dir) / "locks" / f"{stack.replace('/', '__')}.lock"


def read_lock(project_dir: Path, stack: str) -> LockInfo | None:
    path = lock_path(project_dir, stack)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return _parse(raw, stack, path)


class StackLock:
    """Held while a run touches the stack; a context manager that always releases."""

    def __init__(self, project_dir: Path, stack: str, info: LockInfo) -> None:
        self.path = lock_path(project_dir, stack)
        self.info = info

    def release(self) -> None:
        # Only remove our own lock: `cloudorch unlock` and a new run may have replaced it meanwhile.
        current = _parse(_read(self.path), self.info.stack, self.path) if self.path.exists() else None
        if current == self.info:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StackLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(project_dir: Path, stack: str, operation: str = "run") -> StackLock:
    """Take the stack's lock or raise ``LockHeld`` naming the holder; a dead local holder's lock is taken over."""
    path = lock_path(project_dir, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = LockInfo(
        stack=stack, user=_user(), host=socket.gethostname(), pid=os.getpid(),
        since=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), operation=operation,
        token=uuid.uuid4().hex,
    )
    for _ in range(2):  # second attempt only after clearing a stale lock
        if _try_create(path, info):
            return StackLock(project_dir, stack, info)
        held = read_lock(project_dir, stack)
        if held is None:
            continue  # released between our attempt and the read
        if not _is_stale(held) or not _break_stale(path, held):
            raise LockHeld(held)
    held = read_lock(project_dir, stack)
    raise LockHeld(held or info)


def unlock(project_dir: Path, stack: str) -> LockInfo | None:
    """Clear the stack's local lock whoever holds it; returns what was cleared (None if unlocked)."""
    held = read_lock(project_dir, stack)
    lock_path(project_dir, stack).unlink(missing_ok=True)
    return held


def _try_create(path: Path, info: LockInfo) -> bool:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".lock")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(info), handle)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def _break_stale(path: Path, held: LockInfo) -> bool:
    """Move the stale lock aside; renaming is atomic, so of two runs breaking it only one succeeds."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return True  # someone else cleared it; try again
    moved = _parse(_read(aside), held.stack, aside)
    if moved != held:
        # It was replaced by a live run between our read and the rename: put it back.
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        aside.unlink(missing_ok=True)
        return False
    aside.unlink(missing_ok=True)
    return True


def _is_stale(info: LockInfo) -> bool:
    return holder_running(info) is False


def holder_running(info: LockInfo) -> bool | None:
    """Whether the process holding ``info`` still runs; None where that cannot be seen from here (another
    host, an unreadable lock, Windows)."""
    if info.host != socket.gethostname() or info.pid <= 0:
        return None
    if sys.platform == "win32":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _parse(raw: str, stack: str, path: Path) -> LockInfo:
    try:
        data = json.loads(raw)
        return LockInfo(**{k: data[k] for k in ("stack", "user", "host", "pid", "since", "operation")},
                        token=str(data.get("token", "")))
    except (ValueError, KeyError, TypeError):
        # Unreadable (hand-edited, or from another tool): still a lock, reported by its file's age.
        try:
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
        except FileNotFoundError:
            mtime = "unknown"
        return LockInfo(stack=stack, user="unknown", host="unknown", pid=0, since=mtime)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
