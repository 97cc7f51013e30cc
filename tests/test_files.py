"""Atomic writes (a reader sees the old file or the whole new one, a failed write leaves nothing) and bounded reads."""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from lstm_atlas import files
from lstm_atlas.errors import InputError


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out" / "results.json"
    files.write_json_atomic(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}

    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular"):
        files.write_json_atomic(target, circular)
    assert json.loads(target.read_text()) == {"a": 1}, "the old file survives a failed write"
    assert [p.name for p in target.parent.iterdir()] == ["results.json"], "no temporary file is left behind"


def test_failed_write_removes_its_temporary_file(tmp_path):
    target = tmp_path / "report.md"
    files.write_bytes_atomic(target, b"old")
    with pytest.raises(TypeError):
        files.write_bytes_atomic(target, "not bytes")  # fails inside the write, after the temp file exists
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_lock_is_exclusive_and_released_when_closed(tmp_path):
    lock = tmp_path / ".r.json.lock"
    first = files.hold_lock(lock, "results path r.json")
    with pytest.raises(files.LockHeld, match=r"results path r.json is in use by another run \(lock .* is held\)"):
        files.hold_lock(lock, "results path r.json")
    first.close()
    files.hold_lock(lock, "results path r.json").close()  # free again once the holder is gone


def test_a_lock_that_cannot_be_created_is_a_write_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(files.WriteError, match="cannot write .*file/.lock"):
        files.hold_lock(tmp_path / "file" / ".lock", "x")


# --- bounded reads ------------------------------------------------------------------------------

def test_read_bounded_reads_a_regular_file_up_to_its_cap(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"0123456789")
    assert files.read_bounded(path, 10) == b"0123456789"
    with pytest.raises(InputError, match=r"a\.txt: larger than 9 bytes \(10 bytes\); refused before reading"):
        files.read_bounded(path, 9)
    assert files.read_bounded(path, 4, truncate=True) == b"0123"


def test_an_oversized_file_is_refused_by_its_size_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(4 * 1024 ** 3)  # sparse: reading it would take 4 GB
    with pytest.raises(InputError, match="larger than 256 MiB"):
        files.read_json_file(path)


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: os.symlink("/dev/zero", p), "a device"),
    (lambda p: p.mkdir(), "a folder"),
])
def test_non_regular_files_are_refused_without_blocking(tmp_path, make, kind):
    path = tmp_path / "x.yaml"
    make(path)
    started = time.perf_counter()
    with pytest.raises(InputError, match=f"x.yaml: not a regular file \\({kind}\\)"):
        files.read_bounded(path, 1024)
    assert time.perf_counter() - started < 1.0


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="absent.json: no such file"):
        files.read_json_file(tmp_path / "absent.json")


def test_a_stream_is_read_up_to_its_cap():
    with open("/dev/zero", "rb") as zero:
        assert len(files.read_stream_bounded(zero, 3 * 1024 * 1024 + 5)) == 3 * 1024 * 1024 + 5
    assert files.read_stream_bounded(io.BytesIO(b"abc"), 10) == b"abc"


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("{not json", "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    ("[1, 2]", "not an object"),
])
def test_bad_json_is_one_line(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError, match=message) as info:
        files.read_json_file(path)
    assert "\n" not in str(info.value)
