"""Atomic writes: a reader sees the old file or the whole new one, and a failed write leaves nothing."""

from __future__ import annotations

import json

import pytest

from lstm_atlas import files


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
