"""PulumiEngine against a fake workspace at the seam: order of gates, lock, events, errors, secrets."""

from __future__ import annotations

import json

import pytest

from cloudorch.engine import locking
from cloudorch.engine.errors import EngineRunError
from cloudorch.engine.events import json_line
from cloudorch.engine.locking import LockHeld
from cloudorch.engine.program import ProgramError
from cloudorch.engine.runner import PulumiEngine, pinned_plugins
from cloudorch.engine.workspace import OutputValue, StackRun
from cloudorch.errors import CloudorchError, EngineError
from cloudorch.provider import PulumiPlugin
from cloudorch.rendering.model import RenderedResource, ref

from .conftest import PASSPHRASE, PASSWORD, FakeWorkspace, diag, done, pre, summary

VPC, SUBNET, RDS = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:rds/instance:Instance"
PINS = (PulumiPlugin("aws", "7.0.0"), PulumiPlugin("random", "4.16.0"))
UP_EVENTS = [
    pre(1, "create", "net-vpc", VPC), done(2, "create", "net-vpc", VPC),
    pre(3, "create", "net-subnet-a", SUBNET), done(4, "create", "net-subnet-a", SUBNET),
    pre(5, "create", "orders-db", RDS),
    diag(6, f"rds: using master password {PASSWORD}", severity="info", name="orders-db", type_=RDS),
    done(7, "create", "orders-db", RDS),
    summary(8, {"create": 3}),
]


def make_engine(settings, environ, fake, **kw):
    kw.setdefault("which", lambda name: "/usr/local/bin/pulumi")
    return PulumiEngine(settings, open_workspace=fake.factory, plugins_for=lambda rs: PINS, environ=environ, **kw)


def test_apply_runs_in_order_and_returns_stack_terms(settings, environ, resources):
    fake = FakeWorkspace(UP_EVENTS, outputs={"net": OutputValue({"net-vpc": "vpc-123"}),
                                             "db-password": OutputValue(PASSWORD, secret=True)})
    seen = []
    result = make_engine(settings, environ, fake).apply(resources, on_event=lambda e, p: seen.append((e, len(p.rows))))

    assert fake.calls == ["open", "outputs", "install_plugins", "up", "outputs"]  # secret outputs known first
    assert fake.plugins == list(PINS) and callable(fake.program)
    assert fake.config.passphrase == PASSPHRASE
    assert [(c.name, c.stack_resource, c.op) for c in result.changes] == [
        ("net-vpc", "net", "create"), ("net-subnet-a", "net", "create"), ("orders-db", "orders-db", "create")]
    assert result.summary == {"create": 3} and result.has_changes and result.operation == "up"
    assert result.outputs == {"net": {"net-vpc": "vpc-123"}, "db-password": "[secret]"}
    assert [e.kind for e, _ in seen][:2] == ["resource-start", "resource-done"] and seen[-1][1] == 3


def test_lock_is_held_during_the_run_and_released_after(settings, environ, resources):
    observed = []
    fake = FakeWorkspace(UP_EVENTS, during=lambda: observed.append(locking.read_lock(settings.project_dir, "dev")))
    make_engine(settings, environ, fake).apply(resources)
    assert observed[0] is not None and observed[0].operation == "up"
    assert locking.read_lock(settings.project_dir, "dev") is None


def test_a_second_run_of_the_same_stack_is_refused_naming_the_holder(settings, environ, resources):
    second = FakeWorkspace()
    refused = []

    def start_second() -> None:
        with pytest.raises(LockHeld) as caught:
            make_engine(settings, environ, second).apply(resources)
        refused.append(caught.value)

    make_engine(settings, environ, FakeWorkspace(during=start_second)).apply(resources)
    assert second.calls == []  # refused before Pulumi was opened
    assert "running up since" in refused[0].message and refused[0].exit_code == 6


def test_missing_cli_is_reported_before_anything_else(settings, resources):
    fake = FakeWorkspace()
    engine = make_engine(settings, {}, fake, which=lambda name: None)  # no passphrase either
    runs = (lambda: engine.apply(resources), lambda: engine.preview(resources), engine.destroy, engine.refresh,
            engine.drift)
    for run in runs:
        with pytest.raises(EngineError) as caught:
            run()
        assert caught.value.kind == "missing-cli" and caught.value.exit_code == 6
        assert "curl -fsSL https://get.pulumi.com | sh" in caught.value.hint
    with pytest.raises(EngineError, match="not installed"):
        engine.outputs()
    assert fake.calls == [] and not (settings.project_dir / ".cloudorch").exists()


def test_a_broken_graph_fails_before_the_cli_check(settings, environ):
    bad = [RenderedResource(name="a", type="aws:x:X", cloud="aws", inputs={"v": ref("ghost")})]
    fake = FakeWorkspace()
    with pytest.raises(ProgramError):
        make_engine(settings, environ, fake, which=lambda name: None).apply(bad)
    assert fake.calls == []


def test_failures_are_classified_redacted_and_release_the_lock(settings, environ, resources):
    events = [pre(1, "create", "web-0", "aws:ec2/instance:Instance"),
              diag(2, "creating EC2 Instance: api error InsufficientInstanceCapacity: We currently do not have "
                      "sufficient m7i.xlarge capacity in the Availability Zone you requested (eu-west-1a).")]
    error = RuntimeError(f"code: 255\n stderr: error: update failed (passphrase {PASSPHRASE}, pw {PASSWORD})")
    fake = FakeWorkspace(events, error=error)
    with pytest.raises(EngineRunError) as caught:
        make_engine(settings, environ, fake).apply(resources, secrets=[PASSWORD])
    err = caught.value
    assert (err.kind, err.cloud, err.region, err.machine_type) == ("capacity", "aws", "eu-west-1", "m7i.xlarge")
    assert err.retryable and err.exit_code == 6
    rendered = json.dumps(err.to_dict()) + str(err)
    assert PASSWORD not in rendered and PASSPHRASE not in rendered
    assert locking.read_lock(settings.project_dir, "dev") is None


def test_no_output_path_carries_a_secret(settings, environ, resources):
    events = [*UP_EVENTS[:5], diag(6, f"warning: password {PASSWORD} and passphrase {PASSPHRASE} echoed",
                                   severity="warning"), *UP_EVENTS[6:]]
    fake = FakeWorkspace(events, outputs={"pw": OutputValue(PASSWORD, secret=True),
                                          "echo": OutputValue(f"plain output containing {PASSWORD}")})
    lines: list[str] = []
    result = make_engine(settings, environ, fake).apply(resources, secrets=[PASSWORD],
                                                         on_event=lambda e, p: lines.append(json_line(e)))
    everything = "\n".join([*lines, json.dumps(result.to_dict()), repr(result)])
    for path in (settings.project_dir / ".cloudorch").rglob("*"):
        if path.is_file():
            everything += path.read_text(errors="replace")
    assert PASSWORD not in everything and PASSPHRASE not in everything
    assert "[secret]" in everything


def test_preview_drift_refresh_destroy_call_the_matching_workspace_operation(settings, environ, resources):
    drifted = [pre(1, "refresh", "net-vpc", VPC, diffs=["tags"]), summary(2, {"update": 1})]
    fake = FakeWorkspace(drifted)
    assert make_engine(settings, environ, fake).preview(resources).operation == "preview"
    assert fake.calls == ["open", "outputs", "install_plugins", "preview"] and fake.plugins == list(PINS)
    for method, op, after in [("drift", "preview_refresh", []), ("refresh", "refresh", ["outputs"]),
                              ("destroy", "destroy", [])]:
        fake = FakeWorkspace(drifted)
        result = getattr(make_engine(settings, environ, fake), method)(plugins=PINS[:1])
        # from the state: the stack outputs name the stack resources, then the given plugins, no program
        assert fake.calls == ["open", "outputs", "install_plugins", op, *after]
        assert fake.plugins == list(PINS[:1]) and fake.program is None
        assert result.operation == method


def test_teardown_names_changes_in_the_stacks_terms_from_its_outputs(settings, environ):
    drifted = [pre(1, "refresh", "net-vpc", VPC, diffs=["tags"]), summary(2, {"update": 1})]
    exports = {"net": OutputValue({"net-vpc": "vpc-1", "net-subnet-a": "subnet-1"}), "pw": OutputValue(PASSWORD, True)}
    drift = make_engine(settings, environ, FakeWorkspace(drifted, outputs=exports)).drift()
    assert [(c.stack_resource, c.op, c.diff) for c in drift.changed] == [("net", "update", ("tags",))]
    assert drift.has_changes
    unknown = make_engine(settings, environ, FakeWorkspace(drifted)).drift()
    assert [(c.name, c.stack_resource) for c in unknown.changed] == [("net-vpc", None)]
    clean = make_engine(settings, environ, FakeWorkspace([summary(1, {"same": 5})])).drift()
    assert not clean.has_changes


def test_outputs_mask_secrets(settings, environ):
    fake = FakeWorkspace(outputs={"db": OutputValue({"orders-db": "db-1"}), "pw": OutputValue(PASSWORD, True)})
    assert make_engine(settings, environ, fake).outputs() == {"db": {"orders-db": "db-1"}, "pw": "[secret]"}


def test_unlock_clears_the_local_lock_and_cancels_the_backend(settings, environ):
    held = locking.acquire(settings.project_dir, "dev", "up")
    fake = FakeWorkspace()
    result = make_engine(settings, environ, fake).unlock()
    assert result.cleared == held.info and result.backend == "cancelled" and fake.calls == ["open", "cancel"]
    offline = make_engine(settings, environ, FakeWorkspace(), which=lambda name: None).unlock()
    assert offline.cleared is None and offline.backend.startswith("skipped")


def test_a_failing_event_callback_surfaces_after_the_run(settings, environ, resources):
    def boom(event, progress):
        raise KeyError("display broke")

    fake = FakeWorkspace(UP_EVENTS)
    with pytest.raises(KeyError):
        make_engine(settings, environ, fake).apply(resources, on_event=boom)
    assert fake.calls[-2:] == ["up", "outputs"] and locking.read_lock(settings.project_dir, "dev") is None


def test_cloudorch_errors_from_the_workspace_pass_through(settings, environ, resources):
    fake = FakeWorkspace(error=EngineError("already classified", kind="auth"))
    with pytest.raises(CloudorchError, match="already classified"):
        make_engine(settings, environ, fake).apply(resources)


def test_pinned_plugins_come_from_the_providers_for_the_packages_used(resources, monkeypatch):
    class FakeProvider:
        pulumi_plugins = (PulumiPlugin("aws", "7.1.0"), PulumiPlugin("random", "4.16.0"), PulumiPlugin("tls", "5.0.0"))

    monkeypatch.setattr("cloudorch.engine.runner.load_provider", lambda name: FakeProvider())
    assert pinned_plugins(resources) == (PulumiPlugin("aws", "7.1.0"), PulumiPlugin("random", "4.16.0"))


OPERATIONS = {"apply": lambda e, rs, cb: e.apply(rs, on_event=cb), "preview": lambda e, rs, cb: e.preview(rs, on_event=cb),
              "destroy": lambda e, rs, cb: e.destroy(on_event=cb), "refresh": lambda e, rs, cb: e.refresh(on_event=cb),
              "drift": lambda e, rs, cb: e.drift(on_event=cb)}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_secret_stack_output_echoed_by_a_provider_is_hidden(settings, environ, resources, operation):
    """The stack's secret outputs are read before the run, so a failure or diagnostic quoting one is redacted."""
    events = [diag(1, f"error: provider rejected vpn key {PASSWORD}")]
    fake = FakeWorkspace(events, outputs={"vpn-key": OutputValue({"psk": PASSWORD}, secret=True)},
                         error=RuntimeError(f"code: 1\n stderr: error: invalid pre-shared key {PASSWORD}"))
    lines: list[str] = []
    with pytest.raises(EngineRunError) as caught:
        OPERATIONS[operation](make_engine(settings, environ, fake), resources, lambda e, p: lines.append(json_line(e)))
    shown = json.dumps(caught.value.to_dict()) + str(caught.value) + "\n".join(lines)
    assert PASSWORD not in shown and "[secret]" in shown


def test_a_short_password_in_the_backend_url_is_hidden_from_failures(tmp_path, environ, resources):
    from cloudorch.engine.workspace import EngineSettings
    from cloudorch.project import StackIdentity

    settings = EngineSettings(project_dir=tmp_path, identity=StackIdentity("cloudorch", "dev"),
                              backend_url="postgres://pulumi:zq9@db.internal/state")
    fake = FakeWorkspace(error=RuntimeError("error: could not connect to postgres://pulumi:zq9@db.internal/state"))
    with pytest.raises(EngineRunError) as caught:
        make_engine(settings, environ, fake).apply(resources)
    assert "zq9" not in json.dumps(caught.value.to_dict()) and "pulumi:[secret]@db.internal" in caught.value.message

    class Refusing(FakeWorkspace):
        def cancel(self) -> None:
            raise RuntimeError("error: no update to cancel on postgres://pulumi:zq9@db.internal/state")

    backend = make_engine(settings, environ, Refusing()).unlock().backend
    assert "zq9" not in backend and "[secret]" in backend


def test_generated_secrets_redact_but_are_not_shown_as_outputs(settings, environ, resources):
    from cloudorch.engine.program import GENERATED_SECRETS

    psk = "GeneratedTunnelKeyLettersOnlyAbcdefghij"
    generated = {GENERATED_SECRETS: OutputValue({"link-psk": {"result": psk}}, secret=True),
                 "db": OutputValue({"orders-db": "db-1"})}
    assert make_engine(settings, environ, FakeWorkspace(outputs=generated)).outputs() == {"db": {"orders-db": "db-1"}}
    failing = FakeWorkspace(outputs=generated, error=RuntimeError(f"error: VpnConnection: invalid PSK {psk}"))
    with pytest.raises(EngineRunError) as caught:
        make_engine(settings, environ, failing).refresh()
    assert psk not in json.dumps(caught.value.to_dict())


def test_repair_pending_runs_under_the_stack_lock_and_reports_what_it_cleared(settings, environ):
    fake = FakeWorkspace()
    fake.pending = [{"op": "creating", "resource": "urn:pulumi:dev::cloudorch::aws:ec2/vpc:Vpc::net-vpc"}]
    seen = []
    original = fake.repair_pending

    def repair():
        seen.append(locking.read_lock(settings.project_dir, "dev"))
        return original()

    fake.repair_pending = repair
    assert make_engine(settings, environ, fake).repair_pending() == fake.pending
    assert seen[0] is not None and seen[0].operation == "repair"
    assert locking.read_lock(settings.project_dir, "dev") is None


def test_repair_pending_failures_are_classified_engine_errors(settings, environ):
    fake = FakeWorkspace(error=RuntimeError("error: the stack is currently locked by 1 lock(s)"))
    with pytest.raises(EngineRunError) as caught:
        make_engine(settings, environ, fake).repair_pending()
    assert caught.value.kind == "lock" and caught.value.exit_code == 6


@pytest.mark.parametrize("outcome", ["error", "warning"])
def test_a_key_generated_during_a_first_apply_is_hidden_from_what_echoes_it(settings, environ, resources, monkeypatch,
                                                                          outcome):
    """On a stack's first apply its generated secrets (a VPN link's pre-shared key) are in no output yet: the
    program hands each to the run's secrets as it is generated, before what uses it is created, so a provider
    error or diagnostic quoting it is scrubbed (found by review: it reached the error, events and journal)."""
    from .test_program import run_under_mocks

    class Deploying(FakeWorkspace):
        def up(self, on_event):
            self.calls.append("up")
            run_under_mocks(self.program, monkeypatch)  # the mocks generate PASSWORD for the RandomPassword
            on_event(diag(1, f"error: VpnConnection: invalid PreSharedKey {PASSWORD}", severity=outcome))
            if outcome == "error":
                raise RuntimeError(f"code: 255\n stderr: error: update failed: invalid PreSharedKey {PASSWORD}")
            return StackRun({}, stdout="", stderr="")

    fake = Deploying()  # no outputs: nothing was ever applied
    lines: list[str] = []
    shown = ""
    try:
        result = make_engine(settings, environ, fake).apply(resources, on_event=lambda e, p: lines.append(json_line(e)))
        shown = json.dumps(result.to_dict())
    except EngineRunError as caught:
        shown = json.dumps(caught.to_dict()) + str(caught)
    shown += "\n".join(lines)
    assert "up" in fake.calls and PASSWORD in repr(run_under_mocks(fake.program, monkeypatch)[1])
    assert PASSWORD not in shown and "[secret]" in shown
