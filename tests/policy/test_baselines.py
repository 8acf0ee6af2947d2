from __future__ import annotations

import dataclasses

import pytest

from cloudorch.errors import UsageError
from cloudorch.policy import apply_baseline, evaluate, read_baseline, write_baseline
from tests.policy.conftest import TODAY


def test_round_trip_hides_known_failures(tmp_path, subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    path = tmp_path / "baseline.json"
    assert write_baseline(path, report) == 1
    first = path.read_text()
    write_baseline(path, [report])
    assert path.read_text() == first  # deterministic
    [filtered] = apply_baseline(report, read_baseline(path))
    assert filtered.failures == () and filtered.baselined == 1 and not filtered.blocking
    assert [f.status for f in filtered.findings if f.status == "waived"] == ["waived"]


def test_fingerprint_ignores_the_line(subject, pack):
    [fail] = evaluate(subject, [pack], today=TODAY).failures
    moved = dataclasses.replace(fail, line=fail.line + 10, message="reworded")
    assert moved.fingerprint == fail.fingerprint
    assert dataclasses.replace(fail, rendered="x").fingerprint != fail.fingerprint


def test_new_failures_still_show(tmp_path, subject, pack):
    path = tmp_path / "b.json"
    path.write_text('{"version": 1, "tool": "cloudorch", "findings": []}')
    [report] = apply_baseline(evaluate(subject, [pack], today=TODAY), read_baseline(path))
    assert len(report.failures) == 1 and report.baselined == 0


def test_bad_baseline_files(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        read_baseline(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(UsageError, match="not a cloudorch baseline"):
        read_baseline(tmp_path / "x.json")
