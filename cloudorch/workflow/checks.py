"""The steps that are not stacks: an HTTP probe, a command with a timeout, a stack output meeting a condition.

Each probe returns a ``Probe`` (passed, what was seen) and never raises for the thing it probes failing:
what to do about a failure (retry, roll back, stop, carry on) is the check's ``on_failure``, decided by
the run. Probes only GET and only run what the workflow file names, with no shell.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudorch.workflow.definition import Check, CommandProbe, HttpProbe, OutputCondition

#: how much of a body or a command's output a failed probe quotes
_QUOTED = 200


@dataclass(frozen=True)
class Probe:
    passed: bool
    detail: str
    latency_ms: float | None = None


def http_probe(probe: HttpProbe) -> Probe:
    started = time.monotonic()
    try:
        request = urllib.request.Request(probe.url, method="GET", headers={"User-Agent": "cloudorch-check"})
        with urllib.request.urlopen(request, timeout=probe.timeout_s) as response:  # noqa: S310 - http(s) only, by the model
            status, body = response.status, response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(1 << 20) if exc.fp else b""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Probe(False, f"GET {probe.url}: {reason}")
    latency = (time.monotonic() - started) * 1000
    text = body.decode("utf-8", errors="replace")
    problems = []
    if status != probe.status:
        problems.append(f"status {status}, expected {probe.status}")
    if probe.body is not None and not re.search(probe.body, text):
        problems.append(f"body does not match {probe.body!r} ({text[:_QUOTED]!r})")
    if probe.max_latency_ms is not None and latency > probe.max_latency_ms:
        problems.append(f"took {latency:.0f} ms, more than {probe.max_latency_ms:.0f} ms")
    seen = f"GET {probe.url}: {status} in {latency:.0f} ms"
    return Probe(not problems, seen + (": " + "; ".join(problems) if problems else ""), latency)


def command_probe(probe: CommandProbe) -> Probe:
    try:
        done = subprocess.run(probe.run, capture_output=True, text=True, timeout=probe.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return Probe(False, f"{probe.run[0]}: still running after {probe.timeout_s:g} s (stopped)")
    except OSError as exc:
        return Probe(False, f"{probe.run[0]}: {exc.strerror or exc}")
    if done.returncode == 0:
        return Probe(True, f"{probe.run[0]}: exit 0")
    tail = (done.stderr or done.stdout).strip()[-_QUOTED:]
    return Probe(False, f"{probe.run[0]}: exit {done.returncode}" + (f": {tail}" if tail else ""))


def output_probe(condition: OutputCondition, outputs: Callable[[str], Mapping[str, Any] | None],
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Probe:
    """Wait until the stack's output meets the condition, reading it every ``interval_s`` up to ``timeout_s``."""
    deadline = clock() + condition.timeout_s
    while True:
        seen = _output(outputs(condition.stack), condition.key)
        if seen is _MISSING:
            detail = f"{condition.stack} has no output {condition.key!r}"
        else:
            meets = (condition.equals is None or seen == condition.equals) and \
                (condition.matches is None or re.search(condition.matches, str(seen)) is not None)
            detail = f"{condition.stack}.{condition.key} = {seen!r}"
            if meets:
                return Probe(True, detail)
        if clock() + condition.interval_s > deadline:
            return Probe(False, f"{detail} after {condition.timeout_s:g} s")
        sleep(condition.interval_s)


_MISSING = object()


def _output(values: Mapping[str, Any] | None, key: str) -> Any:
    value: Any = values
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def run_probe(check: Check, outputs: Callable[[str], Mapping[str, Any] | None]) -> Probe:
    if check.http is not None:
        return http_probe(check.http)
    if check.command is not None:
        return command_probe(check.command)
    assert check.output is not None  # the model holds exactly one
    return output_probe(check.output, outputs)
