"""Finding a workflow's stacks, ordering them by `uses`, and refusing what cannot be ordered (exit 2)."""

from __future__ import annotations

import pytest

from cloudorch.cli.app import main
from cloudorch.errors import SpecError, UsageError
from cloudorch.workflow.definition import load_workflow, select
from tests.workflow.conftest import write


def test_the_example_orders_by_uses_and_steps(release):
    workflow = load_workflow([release])
    assert workflow.name == "release"
    assert workflow.order() == ["release-core", "release-data", "release-app-canary", "release-app"]
    assert [p.label for p in workflow.phases] == ["wave foundation", "wave canary", "check canary-healthy", "wave main"]
    assert workflow.upstream("release-data") == {"release-core"}
    assert workflow.downstream("release-data") == {"release-app-canary", "release-app"}


def test_without_a_workflow_file_every_stack_is_one_wave_in_dependency_order(project):
    d = project / "w"
    write(d, "c.yaml", "stack: c\nuses: {b: b.yaml}\nresources: {s: {kind: bucket}}\n")
    write(d, "b.yaml", "stack: b\nuses: {a: a.yaml}\nresources: {s: {kind: bucket}}\n")
    write(d, "a.yaml", "stack: a\nresources: {s: {kind: bucket}}\n")
    write(d, "z.yaml", "stack: z\nresources: {s: {kind: bucket}}\n")
    workflow = load_workflow([d])
    assert len(workflow.phases) == 1
    assert workflow.order() == ["a", "z", "b", "c"]


def test_a_cycle_names_every_use_on_it_with_file_and_line(project, capsys):
    d = project / "w"
    write(d, "a.yaml", "stack: a\nuses:\n  b: b.yaml\nresources: {s: {kind: bucket}}\n")
    write(d, "b.yaml", "stack: b\nuses:\n  c: c.yaml\nresources: {s: {kind: bucket}}\n")
    write(d, "c.yaml", "stack: c\nresources: {s: {kind: bucket}}\nuses:\n  a: a.yaml\n")
    with pytest.raises(SpecError) as caught:
        load_workflow([d])
    text = str(caught.value.problems[0])
    assert "a.yaml:3: a uses b" in text and "b.yaml:3: b uses c" in text and "c.yaml:4: c uses a" in text
    assert main(["apply", str(d), "--rehearse", "--yes"]) == 2
    assert "cycle" in capsys.readouterr().err


def test_a_used_file_outside_the_workflow_and_a_duplicate_name_are_located(project):
    d = project / "w"
    write(d, "a.yaml", "stack: a\nuses:\n  other: ../elsewhere.yaml\nresources: {s: {kind: bucket}}\n")
    write(d, "b.yaml", "stack: a\nresources: {s: {kind: bucket}}\n")
    with pytest.raises(SpecError) as caught:
        load_workflow([d])
    messages = [str(p) for p in caught.value.problems]
    assert any("w/a.yaml:3: uses.other" in m and "not a stack file of this workflow" in m for m in messages)
    assert any("b.yaml:1: stack" in m and "also the stack of" in m for m in messages)


def test_steps_that_contradict_uses_or_name_unknown_stacks_are_refused(project):
    d = project / "w"
    write(d, "a.yaml", "stack: a\nresources: {s: {kind: bucket}}\n")
    write(d, "b.yaml", "stack: b\nuses:\n  a: a.yaml\nresources: {s: {kind: bucket}}\n")
    write(d, "workflow.yaml", "steps:\n  - stacks: [b]\n  - stacks: [a, nope]\n")
    with pytest.raises(SpecError) as caught:
        load_workflow([d])
    assert "no stack 'nope'" in str(caught.value.problems[0])
    write(d, "workflow.yaml", "steps:\n  - stacks: [b]\n  - stacks: [a]\n")
    with pytest.raises(SpecError) as caught:
        load_workflow([d])
    assert "b.yaml:3: uses: b uses a, which" in str(caught.value.problems[0])


def test_a_bad_check_is_located_in_the_workflow_file(project):
    d = project / "w"
    write(d, "a.yaml", "stack: a\nresources: {s: {kind: bucket}}\n")
    write(d, "workflow.yaml", "steps:\n  - stacks: [a]\n  - check: probe\n    http: {url: ftp://x}\n")
    with pytest.raises(SpecError) as caught:
        load_workflow([d])
    assert "workflow.yaml:4" in str(caught.value.problems[0])


def test_unlisted_stacks_run_after_what_they_use(project):
    d = project / "w"
    write(d, "a.yaml", "stack: a\nresources: {s: {kind: bucket}}\n")
    write(d, "b.yaml", "stack: b\nresources: {s: {kind: bucket}}\n")
    write(d, "c.yaml", "stack: c\nuses: {b: b.yaml}\nresources: {s: {kind: bucket}}\n")
    write(d, "workflow.yaml", "steps:\n  - stacks: [a]\n  - check: x\n    command: {run: ['true']}\n  - stacks: [b]\n")
    workflow = load_workflow([d])
    assert [p.stacks for p in workflow.phases] == [("a",), (), ("b", "c")]


def test_target_and_exclude_select_stacks_by_name(release):
    workflow = load_workflow([release])
    assert select(workflow, ["release-app"], []) == {"release-app"}
    assert select(workflow, [], ["release-app"]) == set(workflow.stacks) - {"release-app"}
    with pytest.raises(UsageError, match="no stack 'nope'"):
        select(workflow, ["nope"], [])


def test_references_to_an_alias_not_under_uses_are_stack_file_errors(project, capsys):
    path = write(project, "a.yaml", 'stack: a\nresources:\n  s: {kind: bucket, tags: {x: "${core.outputs.net}"}}\n')
    assert main(["validate", str(path)]) == 2
    assert "a.yaml:3: resources.s.tags.x: ${core.outputs.net} names 'core', which is not under `uses`" in capsys.readouterr().err
    write(project, "b.yaml", 'stack: b\nresources:\n  s: {kind: bucket, tags: {x: "${core.net}"}}\n')
    assert main(["validate", str(project / "b.yaml")]) == 2
    assert "is not an output reference" in capsys.readouterr().err
