"""Loader and validator errors name the file, the line and the field."""

from __future__ import annotations

import pytest

from lstm_atlas.errors import CaseError
from lstm_atlas.load import load_text
from lstm_atlas.validate import build_case, load_case

from .conftest import broken_expectations

NEEDS_KERAS = {"unknown-layer", "unknown-optimizer"}  # resolved against Keras; see test_plugin


@pytest.mark.parametrize("path,line,field,message",
                         [e for e in broken_expectations() if e[0].stem not in NEEDS_KERAS],
                         ids=lambda v: v.stem if hasattr(v, "stem") else None)
def test_broken_case_is_located(path, line, field, message):
    with pytest.raises(CaseError) as info:
        load_case(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line, err.located()
    assert err.field == field, err.located()
    assert message in err.message, err.located()
    assert str(path) in err.located() and f":{line}" in err.located()


def test_python_tag_is_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = f'id: x\nmodel: !!python/object/apply:os.system ["touch {marker}"]\n'
    with pytest.raises(CaseError):
        load_text(text, "x.yaml")
    assert not marker.exists()


def test_multiple_documents_are_refused():
    with pytest.raises(CaseError, match="invalid YAML"):
        load_text("id: a\n---\nid: b\n", "two.yaml")


def test_line_map_points_at_nested_fields():
    doc = load_text("id: a\ndata:\n  x:\n    shape: [1, 2]\n", "a.yaml")
    assert doc.line_of(("data", "x", "shape")) == 4
    assert doc.line_of(("data", "x", "shape", 1)) == 4
    assert doc.line_of(("data", "missing")) == 2


def test_oversized_file_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("id: big\nnote: '" + "x" * 300_000 + "'\n")
    with pytest.raises(CaseError, match="larger than"):
        load_case(path)


def test_non_utf8_file_refused(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"id: caf\xe9\n")
    with pytest.raises(CaseError, match="not UTF-8"):
        load_case(path)


def test_literal_size_is_capped_before_allocation(monkeypatch):
    import lstm_atlas.validate as validate

    monkeypatch.setattr(validate, "MAX_ELEMENTS", 5)
    text = """\
id: lit
title: literal too large
family: input-rank
source: {url: "https://keras.io"}
cause: fixture
model: {layers: [{LSTM: {units: 2}}]}
data:
  x: {fill: literal, values: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}
run: predict
expect: {ok: true}
fix: {explanation: none}
"""
    with pytest.raises(CaseError, match="8 elements, over the cap of 5") as info:
        build_case(load_text(text))
    assert info.value.field == "data.x"
