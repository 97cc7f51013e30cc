"""Loader and validator errors name the file, the line and the field."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from lstm_atlas.case import load
from lstm_atlas.case.load import MAX_DEPTH, load_text
from lstm_atlas.case.validate import build_case, load_case
from lstm_atlas.errors import CaseError

from .conftest import CASES_DIR, broken_expectations


@pytest.mark.parametrize("path,line,field,message", broken_expectations(),
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
    from lstm_atlas.case.budget import limits

    monkeypatch.setattr(limits, "MAX_TENSOR_BYTES", 63)
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
    with pytest.raises(CaseError, match=r"\(8 elements x 8 bytes\), over the cap of 63 B") as info:
        build_case(load_text(text))
    assert info.value.field == "data.x.values"


def _laughs(levels: int) -> str:
    """A 'billion laughs' document: each level is ten aliases of the one before."""
    rows = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(rows) + "\n"


def test_alias_bomb_is_refused_before_anything_expands():
    text = _laughs(6)  # 10**6 entries, about 240 MiB once expanded; under 1 kB as text
    assert len(text) < 1024
    tracemalloc.start()
    try:
        with pytest.raises(CaseError, match="aliases are not allowed") as info:
            load_text(text, "bomb.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.line == 2, "the first alias is named"
    assert peak < 2 * 1024 * 1024, f"loading allocated {peak} bytes"


def test_self_referencing_alias_is_refused():
    with pytest.raises(CaseError, match=r"found alias \*a") as info:
        load_text("a: &a [1, *a]\n", "self.yaml")
    assert info.value.line == 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 3000, 50_000])
def test_deep_nesting_is_refused_without_recursion(depth):
    with pytest.raises(CaseError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_text("a: " + "[" * depth + "]" * depth + "\n", "deep.yaml")


def test_nesting_up_to_the_limit_loads():
    depth = MAX_DEPTH - 1  # the document's own mapping is the first level
    doc = load_text("a: " + "[" * depth + "1" + "]" * depth + "\n", "ok.yaml")
    value = doc.data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == [1]


@pytest.mark.parametrize("text,message", [
    ("1: x\n", "found key 1 of type int; keys are strings"),
    ("on: x\n", "found key True of type bool"),
    ("? [1, 2]\n: x\n", "of type list; keys are strings"),
    ("a: !!binary aGVsbG8=\n", "explicit YAML tags are not allowed"),
    ("a: !!python/name:os.system\n", "python tags are not allowed"),
])
def test_only_plain_data_loads(text, message):
    with pytest.raises(CaseError, match=re.escape(message)):
        load_text(text, "odd.yaml")


def test_dates_stay_text():
    """An invalid date used to raise ValueError from the timestamp constructor; a case has no dates."""
    assert load_text("a: 2024-13-45\nb: 2024-01-02\n", "d.yaml").data == {"a": "2024-13-45", "b": "2024-01-02"}


def test_any_unexpected_error_becomes_the_files_case_error(monkeypatch, tmp_path):
    import lstm_atlas.case.validate as validate

    def explode(doc):
        raise KeyError("no such thing")

    monkeypatch.setattr(validate, "build_case", explode)
    path = tmp_path / "case.yaml"
    path.write_text("id: case\n")
    with pytest.raises(CaseError, match=r"cannot validate this case \(KeyError: 'no such thing'\)") as info:
        validate.load_case(path)
    assert info.value.path == str(path)


def _outcome(path):
    try:
        doc = load_case(path)
        return ("valid", doc.spec)
    except CaseError as exc:
        return ("invalid", exc.line, exc.field, exc.message.split(":")[0])


@pytest.mark.skipif(len(load.LOADERS) < 2, reason="PyYAML without libyaml: one loader only")
def test_libyaml_and_pure_python_loaders_agree(monkeypatch):
    """libyaml parses, PyYAML's composer applies the rules; the pure-Python parser must give the same answers."""
    paths = sorted(CASES_DIR.rglob("*.yaml")) + [e[0] for e in broken_expectations()]
    outcomes = {}
    for loader in load.LOADERS:
        monkeypatch.setattr(load, "_CaseLoader", loader)
        outcomes[loader.__name__] = [_outcome(p) for p in paths]
    fast, pure = outcomes["_CCaseLoader"], outcomes["_PyCaseLoader"]
    assert [o[0] for o in fast].count("valid") >= 10
    for path, a, b in zip(paths, fast, pure, strict=False):
        assert a == b, path.name


@pytest.mark.parametrize("scalar,why", [
    ("1:30", "base-60"), ("-1:30:00", "base-60"), ("1:30.5", "base-60"),
    ("017", "octal or binary"), ("0o17", "octal or binary"), ("0b101", "octal or binary"),
    ("1e26", "an exponent needs a dot and a sign"), ("1.0e26", "an exponent needs a dot and a sign"),
    ("1e-3", "an exponent needs a dot and a sign"),
])
def test_numbers_yaml_versions_read_differently_are_refused_with_their_field(scalar, why, monkeypatch):
    """``units: 1:30`` was silently 90; now every loader refuses it, naming line and field."""
    text = f"id: x\nmodel:\n  layers:\n    - LSTM: {{units: {scalar}}}\n"
    for loader in load.LOADERS:
        monkeypatch.setattr(load, "_CaseLoader", loader)
        with pytest.raises(CaseError) as info:
            load_text(text, "n.yaml")
        assert (info.value.line, info.value.field) == (4, "model.layers[0].LSTM.units"), loader.__name__
        assert info.value.message.startswith(f"{scalar} is ") and why in info.value.message
        assert "quote it if it is text" in info.value.message


def test_plain_numbers_and_quoted_look_alikes_load_as_before(monkeypatch):
    text = ("a: [0, -2, +7, 1_000, 0x1F, 1.5, 1.0e+26, -0.5, .inf, 2.15]\n"
            "b: ['1:30', \"017\", '1e26', x1:30, 1:30 pm, v017]\n")
    for loader in load.LOADERS:
        monkeypatch.setattr(load, "_CaseLoader", loader)
        data = load_text(text, "n.yaml").data
        assert data["a"][:9] == [0, -2, 7, 1000, 31, 1.5, 1.0e26, -0.5, float("inf")] and data["a"][9] == 2.15
        assert data["b"] == ["1:30", "017", "1e26", "x1:30", "1:30 pm", "v017"]
        assert all(type(v) is str for v in data["b"])
