"""The per-stack lock: exclusive, names its holder, recovers from dead local holders, unlockable."""

from __future__ import annotations

import dataclasses
import getpass
import json
import multiprocessing
import os
import socket
import subprocess
import sys

import pytest

from cloudorch.engine import locking
from cloudorch.engine.locking import LockHeld


def test_second_acquisition_fails_naming_the_holder(tmp_path):
    with locking.acquire(tmp_path, "prod", "up") as held:
        with pytest.raises(LockHeld) as caught:
            locking.acquire(tmp_path, "prod", "up")
    err = caught.value
    assert err.kind == "lock" and err.exit_code == 6 and err.retryable is True  # waiting is the remedy
    assert f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()})" in err.message
    with pytest.raises(dataclasses.FrozenInstanceError):
        held.info.pid = 1  # type: ignore[misc]
    assert held.info.since in err.message and "cloudorch unlock prod" in err.hint
    # --format json shows who and since when as fields of their own
    data = err.to_dict()
    assert (data["holder"], data["since"]) == (held.info.holder, held.info.since) and data["message"] == err.message
    assert not locking.lock_path(tmp_path, "prod").exists()  # released on exit


def test_other_stacks_are_independent(tmp_path):
    with locking.acquire(tmp_path, "prod"), locking.acquire(tmp_path, "org/proj/staging"):
        assert locking.read_lock(tmp_path, "org/proj/staging").stack == "org/proj/staging"


def _contend(project: str, stack: str, start, finish, results) -> None:
    start.wait()
    try:
        lock = locking.acquire(project, stack, "up")
    except LockHeld as exc:
        results.put(("held", exc.info.pid))
        return
    results.put(("won", os.getpid()))
    finish.wait(20)  # hold the lock until every contender has tried
    lock.release()


def test_concurrent_processes_exactly_one_wins(tmp_path):
    n = 4
    ctx = multiprocessing.get_context("spawn")
    start, finish, results = ctx.Barrier(n), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(str(tmp_path), "prod", start, finish, results)) for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in range(n)]
    finish.set()
    for p in procs:
        p.join(timeout=20)
    assert all(p.exitcode == 0 for p in procs)
    assert not locking.lock_path(tmp_path, "prod").exists()
    winners = [pid for what, pid in outcomes if what == "won"]
    assert len(winners) == 1
    assert all(pid == winners[0] for what, pid in outcomes if what == "held")


def test_stale_lock_of_a_dead_local_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    path = locking.lock_path(tmp_path, "prod")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"stack": "prod", "user": "ana", "host": socket.gethostname(), "pid": pid,
                                "since": "2026-11-01T08:00:00Z", "operation": "up"}))
    with locking.acquire(tmp_path, "prod") as lock:
        assert lock.info.pid == os.getpid()
        # the dead holder's lock, moved aside to break it, is gone too
        assert [p.name for p in path.parent.iterdir()] == ["prod.lock"]


def test_lock_from_another_host_is_never_broken(tmp_path):
    path = locking.lock_path(tmp_path, "prod")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"stack": "prod", "user": "ben", "host": "build-box-9", "pid": 1,
                                "since": "2026-11-01T08:00:00Z", "operation": "destroy"}))
    with pytest.raises(LockHeld) as caught:
        locking.acquire(tmp_path, "prod")
    assert "ben@build-box-9 (pid 1)" in caught.value.message and "destroy" in caught.value.message
    assert "2026-11-01T08:00:00Z" in caught.value.message


def test_unlock_clears_any_lock_and_reports_it(tmp_path):
    lock = locking.acquire(tmp_path, "prod")
    cleared = locking.unlock(tmp_path, "prod")
    assert cleared == lock.info
    assert locking.read_lock(tmp_path, "prod") is None
    assert locking.unlock(tmp_path, "prod") is None
    with locking.acquire(tmp_path, "prod"):
        lock.release()  # the old holder's late release must not remove the new lock
        assert locking.read_lock(tmp_path, "prod") is not None


def test_unreadable_lock_still_blocks(tmp_path):
    path = locking.lock_path(tmp_path, "prod")
    path.parent.mkdir(parents=True)
    path.write_text("garbage")
    with pytest.raises(LockHeld, match=r"unknown@unknown \(pid 0\)"):  # no pid to probe: never judged stale
        locking.acquire(tmp_path, "prod")


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _write_lock(tmp_path, **fields) -> dict:
    data = {"stack": "prod", "user": "ana", "host": socket.gethostname(), "pid": _dead_pid(),
            "since": "2026-11-01T08:00:00Z", "operation": "up", "token": "old"} | fields
    path = locking.lock_path(tmp_path, "prod")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return data


def test_a_dead_pid_on_another_host_still_holds_the_lock(tmp_path):
    # The pid means nothing here: on its own host that process may well be alive.
    _write_lock(tmp_path, host="build-box-9")
    before = locking.lock_path(tmp_path, "prod").read_text()
    with pytest.raises(LockHeld, match="ana@build-box-9"):
        locking.acquire(tmp_path, "prod")
    assert locking.lock_path(tmp_path, "prod").read_text() == before


def test_a_holder_we_may_not_signal_is_alive_not_stale(tmp_path, monkeypatch):
    # kill(pid, 0) raising PermissionError means the process exists under another user.
    _write_lock(tmp_path, pid=4242)

    def not_ours(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", not_ours)
    with pytest.raises(LockHeld, match=r"\(pid 4242\)"):
        locking.acquire(tmp_path, "prod")
    assert locking.read_lock(tmp_path, "prod").pid == 4242


def test_a_live_lock_that_replaced_a_stale_one_mid_takeover_is_put_back(tmp_path, monkeypatch):
    """Run A finds a dead holder's lock; before A moves it aside, run B breaks it and takes the stack.

    A then moves B's live lock aside: it must notice, put B's lock back and give up, not take over."""
    _write_lock(tmp_path)
    live = {"stack": "prod", "user": "ben", "host": socket.gethostname(), "pid": os.getpid(),
            "since": "2026-11-01T09:00:00Z", "operation": "up", "token": "new"}
    real_is_stale = locking._is_stale
    raced = []

    def is_stale_then_race(info):
        stale = real_is_stale(info)
        if not raced:
            raced.append(True)
            locking.lock_path(tmp_path, "prod").write_text(json.dumps(live))
        return stale

    monkeypatch.setattr(locking, "_is_stale", is_stale_then_race)
    with pytest.raises(LockHeld):
        locking.acquire(tmp_path, "prod")
    held = locking.read_lock(tmp_path, "prod")
    assert (held.user, held.pid, held.token) == ("ben", os.getpid(), "new")
    assert sorted(p.name for p in locking.lock_path(tmp_path, "prod").parent.iterdir()) == ["prod.lock"]


def test_a_lock_that_keeps_reappearing_stale_is_reported_not_ignored(tmp_path, monkeypatch):
    # every attempt finds a fresh lock of a dead process (runs that keep dying as they start): after
    # clearing it twice, acquire gives up with LockHeld rather than returning without a lock
    dead = _dead_pid()

    def someone_else_first(path, info):
        path.write_text(json.dumps({"stack": "prod", "user": "ana", "host": socket.gethostname(), "pid": dead,
                                    "since": "2026-11-01T08:00:00Z", "operation": "up"}))
        return False

    monkeypatch.setattr(locking, "_try_create", someone_else_first)
    with pytest.raises(LockHeld):
        locking.acquire(tmp_path, "prod")


def test_a_lock_released_between_our_attempt_and_our_look_is_taken(tmp_path, monkeypatch):
    real_try = locking._try_create
    attempts = []

    def beaten_once(path, info):
        attempts.append(info)
        return False if len(attempts) == 1 else real_try(path, info)  # the other run is gone by the time we look

    monkeypatch.setattr(locking, "_try_create", beaten_once)
    with locking.acquire(tmp_path, "prod") as lock:
        assert len(attempts) == 2 and locking.read_lock(tmp_path, "prod") == lock.info


def test_a_stale_lock_another_run_cleared_first_is_taken(tmp_path, monkeypatch):
    # both runs find the dead holder's lock; the other one moves it aside first: ours finds nothing to move
    _write_lock(tmp_path)
    real_is_stale = locking._is_stale

    def cleared_meanwhile(info):
        stale = real_is_stale(info)
        locking.lock_path(tmp_path, "prod").unlink(missing_ok=True)
        return stale

    monkeypatch.setattr(locking, "_is_stale", cleared_meanwhile)
    with locking.acquire(tmp_path, "prod") as lock:
        assert lock.info.pid == os.getpid()


def test_a_user_with_no_passwd_entry_is_named_by_uid(tmp_path, monkeypatch):
    # containers often run as a uid that /etc/passwd does not know
    def no_entry():
        raise KeyError("getpwuid(): uid not found: 12345")

    monkeypatch.setattr(locking.getpass, "getuser", no_entry)
    with locking.acquire(tmp_path, "prod") as lock:
        assert lock.info.user == f"uid{os.getuid()}"
