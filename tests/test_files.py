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
