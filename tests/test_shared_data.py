"""Where ../shared is absent (a fresh clone), the tests that read it skip and say what it is."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT, SHARED_ABSENT

# marked `shared` (skipped by tests/conftest.py), and unmarked ones that call require_shared themselves
READERS = ["tests/catalog/test_skypilot.py::test_reads_all_three_clouds",
           "tests/cli/test_check_policy.py::test_sarif_validates_against_the_official_schema",
           "tests/test_lifecycle.py::test_saved_plan_is_stale_when_the_catalog_changed"]


def test_tests_that_read_shared_skip_saying_what_it_is(tmp_path):
    env = os.environ | {"CLOUDORCH_SHARED": str(tmp_path / "no-shared")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *READERS],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    counts = [int(line.split("[", 1)[1].split("]", 1)[0]) for line in skipped]  # pytest groups equal reasons
    assert sum(counts) == len(READERS), run.stdout
    assert all("reference data the project's CI provides" in line for line in skipped), skipped
    assert "reference data the project's CI provides" in SHARED_ABSENT
