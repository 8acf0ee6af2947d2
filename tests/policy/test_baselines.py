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


@pytest.mark.parametrize("content", ["[" * 100_000 + "]" * 100_000, '{"version": ' + "1" * 5000 + "}"])
def test_a_hostile_baseline_is_an_input_error_not_a_crash(tmp_path, content):
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(UsageError) as err:
        read_baseline(path)
    assert err.value.exit_code == 2 and "cannot read baseline" in err.value.message


def test_a_device_is_refused_as_a_baseline_at_once():
    with pytest.raises(UsageError) as err:  # reading /dev/zero never ended
        read_baseline("/dev/zero")
    assert "not a regular file" in str(err.value.problems[0])
