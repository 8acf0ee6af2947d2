"""Team policy code from a directory runs in a child process: what it does there is its own finding."""

from __future__ import annotations

import os
import textwrap

import pytest

from cloudorch.policy import Pack, PolicySubject, evaluate, load_policy_dir
from cloudorch.policy.teamcode import TeamCheck, team_files
from cloudorch.rendering.model import RenderedResource
from tests.policy.conftest import PUBLIC, TODAY

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the child process needs os.fork")

TEMPLATE = textwrap.dedent("""\
    import os, sys
    from cloudorch.policy import Pack, Policy, Violation, spec_check

    @spec_check("compute")
    def _check(target, ctx):
        {body}

    pack = Pack(name="team", policies=(Policy(id="team.rule", title="t", severity="low", checks=(_check,),
                                              enforcement="{enforcement}"),))
    """)


def _team(tmp_path, body, enforcement="mandatory"):
    (tmp_path / "rule.py").write_text(TEMPLATE.format(body=body, enforcement=enforcement))
    return load_policy_dir(tmp_path)


def _findings(subject, packs, policy="team.rule"):
    report = evaluate(subject, packs, today=TODAY)
    return report, [f for f in report.findings if f.policy == policy]


def test_loading_runs_nothing_here_and_gives_stand_ins(tmp_path):
    [pack] = _team(tmp_path, "return [Violation('big', ('cpu',))] if target.model.cpu > 2 else []")
    [check] = pack.policies[0].checks
    assert check.fn == TeamCheck(str(tmp_path / "rule.py"), "team.rule", 0)
    assert team_files([pack]) == [str(tmp_path / "rule.py")]
    assert load_policy_dir(tmp_path)[0].policies[0].same_rule(pack.policies[0])  # loaded twice: one rule


def test_a_team_policy_judges_like_any_other(tmp_path, subject):
    packs = _team(tmp_path, "return [Violation('big', ['cpu'])] if target.name == 'web' else []")
    report, found = _findings(subject, packs)
    assert sorted((f.resource, f.status) for f in found) == [("api-one", "pass"), ("web", "fail")]
    [fail] = [f for f in found if f.status == "fail"]
    assert fail.line == subject.loaded.line_of("resources", "web", "cpu")
    assert report.team_code == (str(tmp_path / "rule.py"),)


@pytest.mark.parametrize("body, said", [
    ("sys.exit(0)", "policy called sys.exit(0)"),
    ("raise KeyboardInterrupt", "policy raised KeyboardInterrupt"),
    ("raise SystemExit", "policy called sys.exit(None)"),
    ("return [Violation('x', {'a': 1})]", "Violation path must be a tuple"),
    ("return [Violation(42)]", "Violation message must be a string, not int"),
    ("return [Violation('x', ('ingress', 1.5))]", "Violation path parts must be"),
    ("return ['not a violation']", "policy returned str, not Violation or NotApplicable"),
    ("return 42", "policy raised TypeError"),
    ("return [os.environ['CLOUDORCH_PASSPHRASE']]", "policy raised KeyError: 'CLOUDORCH_PASSPHRASE'"),
])
def test_what_would_have_ended_or_broken_the_run_is_a_blocking_error(tmp_path, subject, monkeypatch, body, said):
    monkeypatch.setenv("CLOUDORCH_PASSPHRASE", "do-not-leak")
    report, found = _findings(subject, _team(tmp_path, body))
    assert {f.status for f in found} == {"error"} and all(said in f.message for f in found)
    assert found and set(found) <= set(report.blocking)
    assert "do-not-leak" not in str(report.to_dict())


def test_a_policy_that_never_ends_is_an_error_at_its_line_and_the_others_still_run(tmp_path, subject, monkeypatch):
    monkeypatch.setenv("CLOUDORCH_POLICY_TIMEOUT", "1")
    packs = _team(tmp_path, "while True: pass")
    report, [error] = _findings(subject, [*packs, Pack(name="test", policies=(PUBLIC,))])
    assert error.status == "error" and error in report.blocking
    assert error.message.startswith("policy did not finish within 1 s")
    assert f"at {tmp_path / 'rule.py'}:6" in error.message
    assert any(f.policy == "test.public-ingress" and f.status == "fail" for f in report.findings)


def test_an_advisory_policy_that_crashes_reports_but_does_not_block(tmp_path, subject):
    report, found = _findings(subject, _team(tmp_path, "sys.exit(0)", enforcement="advisory"))
    assert {f.status for f in found} == {"error"} and not report.blocking


def test_a_policy_ending_its_process_is_an_error_with_what_it_printed(tmp_path, subject, capfd):
    report, [error] = _findings(subject, _team(tmp_path, "print('about to go'); os._exit(9)"))
    assert error.message == "policy ended the policy process (exit code 9) (it printed: about to go)"
    assert capfd.readouterr().out == ""


def test_printing_never_reaches_stdout(tmp_path, subject, capfd):
    report, found = _findings(subject, _team(tmp_path, "print('noise'); os.write(1, b'more'); return []"))
    assert {f.status for f in found} == {"pass"}
    assert capfd.readouterr().out == ""


def test_files_in_the_working_directory_are_out_of_a_relative_paths_reach(tmp_path, subject, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "precious.txt").write_text("keep")
    monkeypatch.chdir(work)
    rules = tmp_path / "rules"
    rules.mkdir()
    report, found = _findings(subject, _team(rules, "os.remove('precious.txt'); return []"))
    assert {f.status for f in found} == {"error"}
    assert (work / "precious.txt").read_text() == "keep"


def test_a_module_changed_between_load_and_run_is_that_policys_error(tmp_path, subject):
    packs = _team(tmp_path, "return []")
    (tmp_path / "rule.py").write_text("raise RuntimeError('half-edited')\n")
    report, [error] = _findings(subject, packs)
    assert error.message == f"policy raised RuntimeError: half-edited at {tmp_path / 'rule.py'}:1"


def test_a_yaml_expression_that_backtracks_for_ever_is_stopped(tmp_path, loaded, monkeypatch):
    monkeypatch.setenv("CLOUDORCH_POLICY_TIMEOUT", "1")
    (tmp_path / "names.yaml").write_text(textwrap.dedent("""\
        id: team.names
        title: instance types are plain
        severity: low
        level: rendered
        resources: ["aws:ec2/instance:Instance"]
        condition: {attribute: instanceType, operator: matches, value: "^(a+)+$"}
        """))
    packs = load_policy_dir(tmp_path)
    assert team_files(packs) == []  # data, not code: nothing to warn about
    vm = RenderedResource(name="vm", type="aws:ec2/instance:Instance", cloud="aws", region="eu-west-1",
                          source="web", inputs={"instanceType": "a" * 64 + "!"})
    report, [error] = _findings(PolicySubject(loaded=loaded, rendered=[vm]), packs, "team.names")
    assert error.status == "error" and error.message.startswith("policy did not finish within 1 s")
