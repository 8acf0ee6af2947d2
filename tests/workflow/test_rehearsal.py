"""The rehearsal's engine: faults parsed, failures worded so the real classifier reads them, state converged."""

from __future__ import annotations

import pytest

from cloudorch.engine.errors import classify
from cloudorch.engine.workspace import EngineSettings
from cloudorch.errors import UsageError
from cloudorch.project import StackIdentity
from cloudorch.rendering.model import RenderedResource
from cloudorch.rendering.roles import Role
from cloudorch.workflow.rehearsal import Faults, RehearsalWorkspace, read_state, state_file


def test_faults_parse_every_kind_and_refuse_the_rest():
    faults = Faults.parse(["capacity:aws/eu-west-1/m6i.large", "transient:core:2", "crash:data", "crash:app:3",
                           "check:canary"])
    assert faults.capacity == {("aws", "eu-west-1", "m6i.large")}
    assert faults.transient == {"core": 2} and faults.crash == {"data": None, "app": 3} and faults.checks == {"canary"}
    assert [faults.take_transient("core") for _ in range(3)] == [True, True, False]
    for bad in ("capacity:aws/eu-west-1", "transient:core", "crash:", "flood:x", "transient:core:many"):
        with pytest.raises(UsageError, match="not a fault"):
            Faults.parse([bad])


@pytest.mark.parametrize(("cloud", "region", "machine"), [
    ("aws", "eu-west-1", "m6i.large"), ("gcp", "europe-west4", "n2-standard-4"),
    ("azure", "westeurope", "Standard_D4s_v5")])
def test_an_injected_capacity_failure_reads_as_the_clouds_own(tmp_path, cloud, region, machine):
    machine_resource = RenderedResource(name="web-0", type="x:compute:Instance", cloud=cloud, region=region,
                                        source="web", role=Role.INSTANCE)
    workspace = _workspace(tmp_path, [machine_resource], {"web": [(cloud, region, machine)]},
                           Faults(capacity={(cloud, region, machine)}))
    with pytest.raises(RuntimeError) as caught:
        workspace.up(lambda event: None)
    error = classify(str(caught.value), operation="up")
    assert (error.kind, error.cloud, error.region, error.machine_type) == ("capacity", cloud, region, machine)
    assert read_state(state_file(tmp_path, "p", "s"))["pending"] == []  # refused: nothing left pending


def test_up_converges_and_destroy_removes_everything(tmp_path):
    a = RenderedResource(name="a", type="t:x:A", cloud="aws", source="one")
    b = RenderedResource(name="b", type="t:x:B", cloud="aws", source="one", inputs={"v": 1})
    assert _workspace(tmp_path, [a, b]).up(lambda e: None).summary == {"create": 2}
    first = read_state(state_file(tmp_path, "p", "s"))
    changed = b.model_copy(update={"inputs": {"v": 2}})
    assert _workspace(tmp_path, [changed]).up(lambda e: None).summary == {"update": 1, "delete": 1}
    assert _workspace(tmp_path, [changed]).up(lambda e: None).summary == {}
    state = read_state(state_file(tmp_path, "p", "s"))
    assert set(state["resources"]) == {"b"} and state["resources"]["b"]["id"] == first["resources"]["b"]["id"]
    assert _workspace(tmp_path, []).outputs()["one"].value == {"b": state["resources"]["b"]["id"]}
    assert _workspace(tmp_path, []).destroy(lambda e: None).summary == {"delete": 1}
    assert read_state(state_file(tmp_path, "p", "s"))["resources"] == {}


def _workspace(root, resources, slots=None, faults=None):
    settings = EngineSettings(project_dir=root, identity=StackIdentity("p", "s"))
    return RehearsalWorkspace(settings, resources, slots or {}, faults or Faults())


def test_a_crash_fault_on_an_apply_with_nothing_to_do_still_crashes(tmp_path, monkeypatch):
    import cloudorch.workflow.rehearsal as rehearsal

    a = RenderedResource(name="a", type="t:x:A", cloud="aws", source="one")
    assert _workspace(tmp_path, [a]).up(lambda e: None).summary == {"create": 1}
    crashed = []
    monkeypatch.setattr(rehearsal, "crash", lambda: crashed.append(True))
    # converged: no operation to die during, so it dies after the apply, before anyone hears of it
    assert _workspace(tmp_path, [a], faults=Faults.parse(["crash:s"])).up(lambda e: None).summary == {}
    assert crashed == [True]
    crashed.clear()
    assert _workspace(tmp_path, [a], faults=Faults.parse(["crash:other"])).up(lambda e: None).summary == {}
    assert crashed == []
