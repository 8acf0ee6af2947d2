"""Input files are refused before any parser sees them when they cannot be one: special, huge, not UTF-8."""

from __future__ import annotations

import os
import threading
import time

import pytest

from cloudorch.cli.app import main
from cloudorch.errors import SpecError
from cloudorch.inputs import MAX_FILE_BYTES, position, read_text


def _refusal(path, what="stack file") -> str:
    with pytest.raises(SpecError) as info:
        read_text(path, "in.yaml", what)
    assert info.value.exit_code == 2
    [problem] = info.value.problems
    return str(problem)


def test_a_device_is_refused_without_reading_it():
    started = time.monotonic()
    assert _refusal("/dev/zero") == ("in.yaml: is not a regular file (a device, pipe or socket), so it cannot be a "
                                     "stack file")
    assert time.monotonic() - started < 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "stack.yaml"
    os.mkfifo(fifo)
    done = threading.Event()

    def refuse() -> None:
        assert "is not a regular file" in _refusal(fifo)
        done.set()

    worker = threading.Thread(target=refuse, daemon=True)
    worker.start()
    worker.join(5)
    if not done.is_set():  # unblock the open() so the thread can end, then fail
        with open(fifo, "w"):
            pass
        pytest.fail("reading a named pipe blocked")


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    assert _refusal(big) == (f"in.yaml: is {MAX_FILE_BYTES + 1:,} bytes; a stack file may have at most "
                             f"{MAX_FILE_BYTES:,}")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_named_with_how_to_convert(tmp_path, encoding):
    path = tmp_path / "s.yaml"
    path.write_text("stack: shop\nresources: {}\n", encoding=encoding)
    name = "UTF-32" if "32" in encoding else "UTF-16"
    with pytest.raises(SpecError) as info:
        read_text(path, "s.yaml", "stack file")
    assert str(info.value.problems[0]) == f"s.yaml:1: the file is {name}-encoded; a stack file must be UTF-8"
    assert f"iconv -f {name} -t UTF-8 s.yaml" in info.value.hint


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbfstack: shop\n")
    assert read_text(path, "s.yaml", "stack file") == "stack: shop\n"


def test_a_bad_byte_is_placed_by_line_and_column(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"stack: shop\n# caf\xc3\xa9\ndescription: \xff\n")
    assert _refusal(path) == ("in.yaml:3:14: not UTF-8 text: byte 0xff cannot start or continue a character; a stack "
                              "file must be UTF-8")


def test_position_counts_from_one():
    assert position("ab\ncd", 0) == (1, 1)
    assert position("ab\ncd", 4) == (2, 2)
    assert position(b"ab\ncd", 3) == (2, 1)


def test_validate_dev_zero_exits_2_at_once(capsys):
    started = time.monotonic()
    assert main(["validate", "/dev/zero"]) == 2
    assert time.monotonic() - started < 5
    assert "/dev/zero: is not a regular file" in capsys.readouterr().err
