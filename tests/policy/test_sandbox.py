"""The child process team policy code runs in: whatever the code does, the run goes on and says what happened."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from cloudorch.policy import sandbox

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the child process needs os.fork")

HERE = __file__


def _line_of(text: str) -> int:
    return next(i for i, line in enumerate(open(HERE).read().splitlines(), 1) if text in line)


def test_values_come_back_in_order_and_failures_are_the_tasks_own():
    def exits(_):
        sys.exit(0)

    def interrupts(_):
        raise KeyboardInterrupt  # the policy's doing, not the user's Ctrl-C

    def ends(_):
        os._exit(7)

    outcomes = sandbox.run([lambda _: 1, exits, interrupts, lambda _: [2], ends, lambda _: 3], files=[HERE])
    assert [o.value for o in outcomes] == [1, None, None, [2], None, 3]
    assert [o.error for o in outcomes] == [None, "called sys.exit(0)", "raised KeyboardInterrupt", None,
                                           "ended the policy process (exit code 7)", None]
    assert outcomes[2].where == (HERE, _line_of("raise KeyboardInterrupt  # the policy's"))


def test_a_task_that_never_ends_is_stopped_where_it_was_and_the_next_one_still_runs():
    def spins(_):
        while True:  # stuck here
            pass

    start = time.monotonic()
    stuck, after = sandbox.run([spins, lambda _: "next"], files=[HERE], limit=0.5)
    assert time.monotonic() - start < 10
    assert stuck.error.startswith("did not finish within 0.5 s") and "CLOUDORCH_POLICY_TIMEOUT" in stuck.error
    assert stuck.where in {(HERE, _line_of("while True:  # stuck here")), (HERE, _line_of("while True:") + 1)}
    assert after.value == "next"


def test_output_is_captured_not_written_to_cloudorchs_own(capfd):
    def loud(_):
        print("to stdout")
        os.write(1, b"raw fd 1\n")
        os.system("echo from a subprocess")
        return "done"

    [outcome] = sandbox.run([loud])
    assert outcome.value == "done"
    assert "to stdout" in outcome.output and "raw fd 1" in outcome.output and "from a subprocess" in outcome.output
    assert capfd.readouterr() == ("", "")


def test_the_child_works_in_an_empty_directory_without_the_users_secrets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "precious.txt").write_text("keep")
    monkeypatch.setenv("CLOUDORCH_PASSPHRASE", "s3cret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cret")

    def snoops(_):
        return os.getcwd(), sorted(os.listdir(".")), {k: v for k, v in os.environ.items() if "s3cret" in v}

    def deletes(_):
        os.remove("precious.txt")

    [seen, deleted] = sandbox.run([snoops, deletes])
    cwd, listed, secrets = seen.value
    assert cwd != str(tmp_path) and secrets == {}
    assert "precious.txt" not in listed
    assert deleted.error.startswith("raised FileNotFoundError")
    assert (tmp_path / "precious.txt").read_text() == "keep"
    assert not os.path.exists(cwd)  # the temporary directory goes with the child


def test_a_failed_setup_fails_every_task_with_its_reason():
    def setup():
        raise ImportError("no module named team_helpers")

    outcomes = sandbox.run([lambda s: 1, lambda s: 2], setup=setup)
    assert [o.error for o in outcomes] == ["raised ImportError: no module named team_helpers"] * 2


def test_setup_runs_once_per_child_and_tasks_see_its_state():
    calls = []

    def setup():
        calls.append(1)
        return len(calls)

    outcomes = sandbox.run([lambda n: n, lambda n: n], setup=setup)
    assert [o.value for o in outcomes] == [1, 1] and calls == []  # it ran in the child, not here


def test_a_value_that_cannot_come_back_is_the_tasks_error():
    [outcome] = sandbox.run([lambda _: (lambda: None)])
    assert outcome.error.startswith("returned a value cloudorch cannot read back")


@pytest.mark.parametrize("landing", ["on the main thread", "on another thread"])
def test_the_users_ctrl_c_stops_the_run_and_the_child_at_once(tmp_path, landing):
    # a process-directed SIGINT may land on any thread (HiGHS keeps one): either way the thread waiting on the
    # child acts on it within a moment, not when the time limit ends its wait, and the child is killed
    pid_file = tmp_path / "pid"

    def waits(_):
        pid_file.write_text(str(os.getpid()))
        time.sleep(30)

    def interrupt():
        while not pid_file.exists():
            time.sleep(0.05)
        if landing == "on the main thread":
            os.kill(os.getpid(), signal.SIGINT)
        else:
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    started = time.monotonic()
    try:
        outcomes = sandbox.run([waits], limit=20)
    except KeyboardInterrupt:
        pass
    else:  # it failed once in a loaded full run: say what came back, and whether the child ever started
        pytest.fail(f"no KeyboardInterrupt: the run returned {outcomes!r}; the child wrote its pid: {pid_file.exists()}")
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(int(pid_file.read_text()), 0)


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLOUDORCH_POLICY_TIMEOUT", "2.5")
    assert sandbox.time_limit() == 2.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("CLOUDORCH_POLICY_TIMEOUT", bad)
        assert sandbox.time_limit() == sandbox.DEFAULT_LIMIT


def test_a_hostile_exception_is_still_described():
    class Hostile(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert sandbox.describe_exception(Hostile()) == "raised Hostile: <unprintable>"
    assert len(sandbox.describe_exception(ValueError("x" * 10_000))) <= 500
