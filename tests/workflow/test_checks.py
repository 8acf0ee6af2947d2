"""The probes between waves: HTTP against a local test server, a command with a timeout, an output condition."""

from __future__ import annotations

import sys
import time

from cloudorch.workflow.checks import command_probe, http_probe, output_probe
from cloudorch.workflow.definition import CommandProbe, HttpProbe, OutputCondition


def test_http_probe_checks_status_body_and_latency(server):
    assert http_probe(HttpProbe(url=f"{server}/healthz", body=r"canary v\d")).passed
    down = http_probe(HttpProbe(url=f"{server}/down"))
    assert not down.passed and "status 503, expected 200" in down.detail
    assert http_probe(HttpProbe(url=f"{server}/down", status=503, body="starting")).passed
    wrong = http_probe(HttpProbe(url=f"{server}/healthz", body="v3"))
    assert not wrong.passed and "does not match 'v3'" in wrong.detail
    slow = http_probe(HttpProbe(url=f"{server}/slow", max_latency_ms=100))
    assert not slow.passed and "more than 100 ms" in slow.detail and slow.latency_ms >= 300


def test_http_probe_of_nothing_listening_fails_without_raising():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = http_probe(HttpProbe(url=f"http://127.0.0.1:{port}/", timeout_s=2))
    assert not probe.passed and f"127.0.0.1:{port}" in probe.detail


def test_command_probe_exit_status_output_and_timeout():
    assert command_probe(CommandProbe(run=[sys.executable, "-c", "pass"])).passed
    failed = command_probe(CommandProbe(run=[sys.executable, "-c", "import sys; sys.exit('not ready')"]))
    assert not failed.passed and "exit 1: not ready" in failed.detail
    started = time.monotonic()
    slow = command_probe(CommandProbe(run=[sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5))
    assert not slow.passed and "still running after 0.5 s" in slow.detail and time.monotonic() - started < 10
    assert "No such file" in command_probe(CommandProbe(run=["/nonexistent/probe"])).detail


def test_output_probe_waits_until_the_condition_holds():
    reads = iter([None, {"web": {"state": "pending"}}, {"web": {"state": "running"}}])
    clock = [0.0]
    probe = output_probe(OutputCondition(stack="app", key="web.state", equals="running", timeout_s=60, interval_s=5),
                         lambda stack: next(reads), sleep=lambda s: clock.__setitem__(0, clock[0] + s),
                         clock=lambda: clock[0])
    assert probe.passed and clock[0] == 10
    never = output_probe(OutputCondition(stack="app", key="web.state", matches="^run", timeout_s=12, interval_s=5),
                         lambda stack: {"web": {"state": "pending"}}, sleep=lambda s: clock.__setitem__(0, clock[0] + s),
                         clock=lambda: clock[0])
    assert not never.passed and "'pending' after 12 s" in never.detail
