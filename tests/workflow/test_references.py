"""Upstream outputs filled into a stack's values, and unknowns left as written, never invented."""

from __future__ import annotations

import pytest

from cloudorch.errors import SpecError
from cloudorch.spec.loader import parse_stack
from cloudorch.workflow.definition import load_workflow
from cloudorch.workflow.references import fill
from tests.workflow.conftest import write

DOWN = """\
stack: down
uses:
  up: up.yaml
resources:
  net: {kind: network, cidr: 10.50.0.0/16}
  s:
    kind: bucket
    tags: {vpc: "${up.outputs.net}", one: "${up.outputs.net.net-vpc}"}
"""


@pytest.fixture
def down(project):
    d = project / "w"
    write(d, "up.yaml", "stack: up\nresources: {s: {kind: bucket}}\n")
    write(d, "down.yaml", DOWN)
    return load_workflow([d]).stacks["down"]


def test_an_upstream_without_state_leaves_each_reference_unknown_with_its_line(down):
    text, unknowns = fill(down, {"up": None})
    assert text == DOWN  # nothing invented
    assert [(u.line, u.path, u.upstream) for u in unknowns] == [(8, "resources.s.tags.vpc", "up"),
                                                                (8, "resources.s.tags.one", "up")]
    assert "down.yaml:8: resources.s.tags.vpc: ${up.outputs.net} is unknown until stack 'up' is applied" in str(unknowns[0])


def test_outputs_fill_the_text_in_place_keeping_every_line(down):
    text, unknowns = fill(down, {"up": {"net": {"net-vpc": "vpc-123", "net-igw": "igw-9"}}})
    assert unknowns == []
    assert text.splitlines()[7] == '    tags: {vpc: "igw-9,vpc-123", one: "vpc-123"}'
    assert len(text.splitlines()) == len(DOWN.splitlines())
    assert parse_stack(text, "down.yaml").stack.resources["s"].tags == {"vpc": "igw-9,vpc-123", "one": "vpc-123"}


@pytest.mark.parametrize(("outputs", "problem"), [
    ({"other": {}}, "no output 'net' (there are: other)"),
    ({"net": "[secret]"}, "is a secret"),
    ({"net": {"net-vpc": "a b: c"}}, "cannot go into YAML"),
    ({"net": {"deep": {"x": 1}}}, "nested mapping"),
])
def test_an_output_that_cannot_be_filled_is_a_located_error(down, outputs, problem):
    with pytest.raises(SpecError) as caught:
        fill(down, {"up": outputs})
    vpc = next(p for p in caught.value.problems if p.path == "resources.s.tags.vpc")
    assert problem in str(vpc) and vpc.line == 8
