"""The real Pulumi CLI with a local file backend: preview, up, outputs, drift and destroy of a tiny stack.

Runs wherever `pulumi` is on PATH (it downloads the `random` plugin on first use); skipped elsewhere.
"""

from __future__ import annotations

import json
import shutil

import pytest

from cloudorch.engine import EngineSettings, PulumiEngine, json_line
from cloudorch.engine.errors import EngineRunError
from cloudorch.project import StackIdentity
from cloudorch.rendering.model import RenderedResource

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH (not installed here)"),
]

PASSPHRASE = "integration-test-passphrase"


@pytest.fixture
def engine(tmp_path, monkeypatch) -> PulumiEngine:
    monkeypatch.setenv("CLOUDORCH_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    # Pin nothing: the random plugin is not one of the cloud providers' pins.
    settings = EngineSettings(project_dir=tmp_path, identity=StackIdentity("cloudorch-it", "it"))
    return PulumiEngine(settings, plugins_for=lambda rs: ())


RESOURCES = [
    RenderedResource(name="db-password", type="random:index/randomPassword:RandomPassword", cloud="aws",
                     source="db", inputs={"length": 20, "special": False}, secret_outputs=("result",)),
]


def test_preview_up_outputs_drift_destroy(engine, tmp_path):
    lines: list[str] = []

    def collect(event, progress):
        lines.append(json_line(event))

    preview = engine.preview(RESOURCES, on_event=collect)
    assert [(c.name, c.stack_resource, c.op) for c in preview.changed] == [("db-password", "db", "create")]
    assert preview.has_changes
    assert (tmp_path / ".cloudorch" / "state").is_dir()

    up = engine.apply(RESOURCES, on_event=collect)
    assert up.summary.get("create") == 1
    assert set(up.outputs) == {"db"} and "db-password" in up.outputs["db"]

    again = engine.preview(RESOURCES)
    assert not again.has_changes

    drift = engine.drift()
    assert not drift.has_changes

    destroyed = engine.destroy(on_event=collect)  # from the state alone
    assert destroyed.summary.get("delete") == 1
    assert [(c.name, c.stack_resource) for c in destroyed.changed] == [("db-password", "db")]
    assert all(json.loads(line)["kind"] for line in lines)
    assert PASSPHRASE not in "\n".join(lines)


def test_second_apply_while_locked_names_the_holder(engine, tmp_path):
    from cloudorch.engine import locking

    with locking.acquire(tmp_path, "it", "up"):
        with pytest.raises(locking.LockHeld, match="running up since"):
            engine.apply(RESOURCES)
    assert engine.unlock().cleared is None


def test_wrong_passphrase_is_classified(engine, monkeypatch):
    engine.apply(RESOURCES)
    monkeypatch.setenv("CLOUDORCH_PASSPHRASE", "not-the-passphrase")
    with pytest.raises(EngineRunError) as caught:
        engine.apply(RESOURCES)
    assert caught.value.kind == "auth" and "not-the-passphrase" not in str(caught.value.to_dict())


def test_repair_pending_of_a_clean_real_stack_clears_nothing(engine):
    engine.apply(RESOURCES)
    assert engine.repair_pending() == []
    engine.destroy()
