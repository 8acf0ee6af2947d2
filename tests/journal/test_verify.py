"""`verify` finds any edited, deleted, inserted or reordered record, and names the first one."""

from __future__ import annotations

import json
import os

import pytest

from cloudorch.journal import Journal
from cloudorch.journal.records import digest


@pytest.fixture
def journal(tmp_path):
    journal = Journal.open(tmp_path, environ={})
    for i in range(6):
        journal.append("apply", stack=f"s{i}", outcome="succeeded", duration_s=i)
    return journal


def _records(tmp_path):
    return tmp_path / ".cloudorch" / "journal" / "records"


def _file(tmp_path, seq):
    return _records(tmp_path) / f"{seq:012d}.json"


def _reseal(path, **changes):
    """Rewrite a record with ``changes`` and a hash that matches them: a forger who knows the format."""
    data = json.loads(path.read_text()) | changes
    data["hash"] = digest(data)
    path.write_text(json.dumps(data))
    return data


def test_an_untouched_journal_verifies(journal):
    result = journal.verify()
    assert result.ok and result.count == 6 and result.problem is None
    assert result.head == journal.entries()[-1].hash


def test_every_single_byte_change_is_found(journal, tmp_path):
    """Flip each byte of one record in turn: every change is caught (edited, or no longer a record)."""
    path = _file(tmp_path, 3)
    original = path.read_bytes()
    for offset in range(len(original)):
        changed = bytearray(original)
        changed[offset] ^= 0x01
        path.write_bytes(bytes(changed))
        result = journal.verify()
        assert not result.ok and result.problem.seq == 3, (offset, result)
    path.write_bytes(original)
    assert journal.verify().ok


def test_an_edit_that_keeps_the_json_valid(journal, tmp_path):
    data = json.loads(_file(tmp_path, 2).read_text())
    data["outcome"] = "failed"
    _file(tmp_path, 2).write_text(json.dumps(data))
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (2, "edited")


def test_a_resealed_edit_breaks_the_next_link(journal, tmp_path):
    _reseal(_file(tmp_path, 2), outcome="failed")
    problem = journal.verify().problem
    assert problem.seq == 3 and problem.what in ("edited", "inserted")


def test_a_deleted_record(journal, tmp_path):
    _file(tmp_path, 4).unlink()
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (4, "deleted")


def test_a_deleted_tail_is_caught_by_the_head_index(journal, tmp_path):
    _file(tmp_path, 6).unlink()
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (6, "deleted")


def test_an_inserted_record_renumbering_the_rest(journal, tmp_path):
    for seq in range(6, 2, -1):
        os.rename(_file(tmp_path, seq), _file(tmp_path, seq + 1))
    before = json.loads(_file(tmp_path, 2).read_text())
    forged = json.loads(_file(tmp_path, 4).read_text()) | {"seq": 3, "prev": before["hash"], "stack": "forged"}
    forged["hash"] = digest(forged)
    _file(tmp_path, 3).write_text(json.dumps(forged))
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (4, "inserted")


def test_a_record_slipped_in_at_the_end(journal, tmp_path):
    forged = json.loads(_file(tmp_path, 6).read_text()) | {"seq": 7, "prev": "f" * 64}
    forged["hash"] = digest(forged)
    _file(tmp_path, 7).write_text(json.dumps(forged))
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (7, "inserted")


def test_a_stray_file_is_an_insertion(journal, tmp_path):
    (_records(tmp_path) / "000000000003.json.orig").write_text("{}")
    assert journal.verify().problem.what == "inserted"


def test_swapped_records(journal, tmp_path):
    a, b = _file(tmp_path, 2), _file(tmp_path, 3)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    problem = journal.verify().problem
    assert (problem.seq, problem.what) == (2, "reordered")


def test_swapped_and_resealed_under_their_new_numbers(journal, tmp_path):
    """A forger who renumbers two records and reseals both still cannot fake the links."""
    two, three = json.loads(_file(tmp_path, 2).read_text()), json.loads(_file(tmp_path, 3).read_text())
    _file(tmp_path, 2).write_text(json.dumps(three))
    _file(tmp_path, 3).write_text(json.dumps(two))
    _reseal(_file(tmp_path, 2), seq=2)
    _reseal(_file(tmp_path, 3), seq=3)
    problem = journal.verify().problem
    assert problem.seq == 2 and problem.what in ("reordered", "edited", "inserted")


def test_appending_after_a_missing_head_index_still_verifies(journal, tmp_path):
    (tmp_path / ".cloudorch" / "journal" / "head.json").unlink()
    assert journal.verify().ok
    Journal.open(tmp_path, environ={}).append("plan", outcome="succeeded")
    assert journal.verify().ok and journal.verify().count == 7
