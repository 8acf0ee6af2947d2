"""Checks between waves inside a run: the example's HTTP probe against a local server, a command that stops
the run, a stack output waited for, and a rollback to the stack's previous apply."""

from __future__ import annotations

import sys

from cloudorch.cli.app import main
from tests.workflow.conftest import small_stack, write
from tests.workflow.test_run import entries, states


def probe_for_real(release, url: str, retries: int = 5) -> None:
    """The example's canary probe sent to ``url`` in the rehearsal too (``rehearsal: run``), quickly retried."""
    path = release / "workflow.yaml"
    path.write_text(path.read_text().replace("http://127.0.0.1:8080/healthz", url)
                    .replace("interval_s: 10", "interval_s: 0.01").replace("retries: 5", f"retries: {retries}")
                    .replace("on_failure: rollback", "on_failure: rollback\n    rehearsal: run"))


def test_the_examples_http_probe_passes_against_a_healthy_canary(release, server, capsys):
    probe_for_real(release, f"{server}/healthz")
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    [check] = entries(release.parent, "check")
    assert check.outcome == "succeeded" and check.fields["detail"].startswith(f"GET {server}/healthz: 200 in ")
    assert check.fields["latency_ms"] > 0
    assert states(release.parent)["release-app"]["resources"]


def test_a_canary_answering_503_is_rolled_back_and_wave_two_never_starts(release, server, capsys):
    probe_for_real(release, f"{server}/down", retries=2)
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 6
    err = capsys.readouterr().err
    assert "status 503, expected 200" in err and "rolled back: release-app-canary" in err
    assert [e.fields["attempt"] for e in entries(release.parent, "check")] == [1, 2, 3]
    assert [e.stack for e in entries(release.parent, "rollback")] == ["release-app-canary"]
    state = states(release.parent)
    assert state["release-app-canary"]["resources"] == {} and "release-app" not in state


def test_a_rollback_returns_the_canary_to_its_previous_apply(release, capsys):
    path = release / "workflow.yaml"
    path.write_text(path.read_text().replace("interval_s: 10", "interval_s: 0.01").replace("retries: 5", "retries: 0"))
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    previous = states(release.parent)["release-app-canary"]
    canary = release / "app-canary.yaml"
    canary.write_text(canary.read_text().replace("wave: canary}", "wave: canary, build: '2'}"))
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "check:canary-healthy"]) == 6
    after = states(release.parent)["release-app-canary"]
    assert after["resources"] == previous["resources"]  # same resources, same ids: the previous apply's
    assert [(e.stack, e.outcome) for e in entries(release.parent, "rollback")] == [("release-app-canary", "succeeded")]


def two_stacks_and_a_check(project, check: str):
    d = project / "w"
    write(d, "a.yaml", small_stack("a"))
    write(d, "b.yaml", small_stack("b"))
    write(d, "workflow.yaml", "workflow: steps\nsteps:\n  - stacks: [a]\n" + check + "  - stacks: [b]\n")
    return d


def test_a_failing_command_with_stop_ends_the_run_without_rolling_back(project, capsys):
    d = two_stacks_and_a_check(project, f"""\
  - check: smoke
    command: {{run: ["{sys.executable}", "-c", "import sys; sys.exit('smoke failed')"], timeout_s: 30}}
    on_failure: stop
    rehearsal: run
""")
    assert main(["apply", str(d), "--rehearse", "--yes"]) == 6
    assert "check 'smoke' failed" in capsys.readouterr().err
    assert "exit 1: smoke failed" in entries(project, "check")[0].fields["detail"]
    assert not entries(project, "rollback")
    state = states(project)
    assert state["a"]["resources"] and "b" not in state
    assert [e.outcome for e in entries(project, "workflow")] == ["started", "failed"]


def test_an_output_condition_waits_on_the_rehearsed_stacks_outputs(project, capsys):
    d = two_stacks_and_a_check(project, """\
  - check: store-exists
    output: {stack: a, key: store-0, matches: "sim-", timeout_s: 5, interval_s: 0.1}
    rehearsal: run
  - check: never
    output: {stack: a, key: store-0, equals: nothing, timeout_s: 0.3, interval_s: 0.1}
    on_failure: continue
    rehearsal: run
""")
    assert main(["apply", str(d), "--rehearse", "--yes", "--format", "json"]) == 0
    checks = {e.fields["step"]: e for e in entries(project, "check")}
    assert checks["check:store-exists"].outcome == "succeeded"
    assert checks["check:store-exists"].fields["detail"].startswith("a.store-0 = ")
    assert checks["check:never"].outcome == "failed" and "after 0.3 s" in checks["check:never"].fields["detail"]
    assert states(project)["b"]["resources"]  # continue: the run went on
