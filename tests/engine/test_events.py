"""Engine events → cloudorch events, JSON lines and the progress state machine."""

from __future__ import annotations

import json

from cloudorch.engine.events import Progress, json_line, normalize_op
from cloudorch.engine.secrets import Secrets

from .conftest import PASSWORD, diag, done, engine_event, failed, pre, summary, urn

VPC, SUBNET, STACK_T = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "pulumi:pulumi:Stack"
SOURCES = {"net-vpc": "net", "net-subnet-a": "net"}


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_an_update_drives_status_elapsed_and_summary():
    clock = Clock()
    progress = Progress(SOURCES, secrets=Secrets([PASSWORD]), clock=clock)
    assert progress.handle(pre(1, "create", "cloudorch-dev", STACK_T)) is None  # the root stack is noise
    start = progress.handle(pre(2, "create", "net-vpc", VPC))
    progress.handle(pre(3, "create", "net-subnet-a", SUBNET))
    clock.t = 112.5
    finish = progress.handle(done(4, "create", "net-vpc", VPC))
    clock.t = 130.0
    progress.handle(diag(5, f"creating subnet: InvalidParameter {PASSWORD}", name="net-subnet-a", type_=SUBNET))
    fail = progress.handle(failed(6, "create", "net-subnet-a", SUBNET))
    end = progress.handle(summary(7, {"create": 1}, seconds=30))

    assert (start.kind, start.status, start.stack_resource, start.name) == ("resource-start", "running", "net", "net-vpc")
    assert (finish.kind, finish.status, finish.elapsed_s) == ("resource-done", "done", 12.5)
    assert (fail.kind, fail.status, fail.elapsed_s) == ("resource-failed", "failed", 30.0)
    assert [(r.name, r.status) for r in progress.rows] == [("net-vpc", "done"), ("net-subnet-a", "failed")]
    assert progress.rows[0].elapsed(999.0) == 12.5  # finished rows stop their clock
    assert end.summary == {"create": 1} and progress.duration_s == 30.0
    assert progress.errors == ["creating subnet: InvalidParameter [secret]"]
    assert [c.op for c in progress.changes()] == ["create", "create"]


def test_preview_events_are_planned_with_diff_keys():
    progress = Progress(SOURCES)
    ev = progress.handle(pre(1, "update", "net-vpc", VPC, planning=True, diffs=["tags"],
                             detailedDiff={"cidrBlock": {"diffKind": "update-replace", "inputDiff": True}}))
    progress.handle(done(2, "update", "net-vpc", VPC))
    assert ev.status == "planned" and ev.diff == ("cidrBlock", "tags")
    assert progress.rows[0].status == "planned"


def test_ops_are_normalised_to_the_stack_vocabulary():
    assert normalize_op("create-replacement") == "replace"
    assert normalize_op("delete-replaced") == "replace"
    assert normalize_op("read") == "read"
    assert normalize_op("import") == "create"


def test_refresh_steps_report_drift():
    progress = Progress(SOURCES)
    progress.handle(pre(1, "refresh", "net-vpc", VPC, diffs=["tags"]))
    progress.handle(pre(2, "refresh", "net-subnet-a", SUBNET, old={"urn": urn("net-subnet-a", SUBNET)}))
    progress.handle(pre(3, "refresh", "other", VPC, old={"urn": urn("other", VPC)}, new={"urn": urn("other", VPC)}))
    assert [(c.name, c.op, c.stack_resource) for c in progress.changes()] == [
        ("net-vpc", "update", "net"), ("net-subnet-a", "delete", "net"), ("other", "same", None)]


def test_json_lines_are_one_object_per_line():
    progress = Progress(SOURCES)
    lines = [json_line(e) for e in filter(None, (
        progress.handle(pre(1, "create", "net-vpc", VPC)),
        progress.handle(diag(2, "multi\nline warning", severity="warning")),
        progress.handle(summary(3, {"create": 1})),
        progress.handle(engine_event(4, cancelEvent={})),
    ))]
    assert all("\n" not in line for line in lines)
    parsed = [json.loads(line) for line in lines]
    assert [p["kind"] for p in parsed] == ["resource-start", "diagnostic", "summary", "cancel"]
    assert parsed[0]["stack_resource"] == "net" and parsed[0]["op"] == "create"
    assert parsed[2]["summary"] == {"create": 1}


def test_ephemeral_diagnostics_are_dropped():
    progress = Progress()
    assert progress.handle(engine_event(1, diagnosticEvent={"message": "tick", "severity": "info",
                                                            "ephemeral": True})) is None
