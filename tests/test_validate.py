"""Schema validation of the library and the merged fix variant."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_atlas.case.load import LoadedDocument, load_text
from lstm_atlas.case.validate import build_case, deep_merge, load_case, steps_of
from lstm_atlas.errors import CaseError

from .conftest import CASES_DIR, good_case

LIBRARY = sorted(CASES_DIR.rglob("*.yaml"))


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_library_case_is_valid(path):
    case = load_case(path)
    assert case.family == path.parent.name, "a case lives in the folder of its family"
    assert case.variants["fix"]["expect"], "every case has a fix expectation"


def test_library_is_not_empty():
    assert len(LIBRARY) >= 10


def test_deep_merge_merges_dicts_replaces_lists_and_deletes_on_null():
    base = {"data": {"x": {"shape": [1, 2], "dtype": "float32"}}, "run": ["fit"], "keep": 1}
    out = deep_merge(base, {"data": {"x": {"shape": [3], "dtype": None}}, "run": ["predict"]})
    assert out == {"data": {"x": {"shape": [3]}}, "run": ["predict"], "keep": 1}
    assert base["data"]["x"]["shape"] == [1, 2], "the base is not modified"


def test_fix_variant_is_merged_and_expects_a_clean_run_by_default():
    case = build_case(load_text(good_case().replace("  expect: {ok: {loss: finite}}\n", "")))
    repro, fix = case.variants["repro"], case.variants["fix"]
    assert repro["data"]["x"]["shape"] == [4, 5]
    assert fix["data"]["x"]["shape"] == [4, 5, 3]
    assert fix["data"]["y"] == repro["data"]["y"]
    assert fix["expect"] == {"ok": True}
    assert "claim" not in fix, "the article's claim about the failing code is not a claim about the fix"
    assert steps_of(fix) == ["fit"]


def test_fix_overrides_are_validated_with_their_location():
    text = good_case().replace("    x: {shape: [4, 5, 3]}", "    x: {shape: [4, 5, 3], fill: sparkly}")
    with pytest.raises(CaseError) as info:
        build_case(load_text(text))
    assert info.value.field.startswith("fix.data.x")
    assert "sparkly" in info.value.message


def test_expect_needs_either_raises_with_stage_or_ok():
    text = good_case().replace("  stage: fit\n  match", "  match", 1)
    with pytest.raises(CaseError, match="schema"):
        build_case(load_text(text))


def test_claim_exception_name_is_checked():
    text = good_case().replace("raises: TypeError", "raises: TypeErorr")
    with pytest.raises(CaseError, match="unknown exception class 'TypeErorr'") as info:
        build_case(load_text(text))
    assert info.value.field == "claim.raises"


def _paths(value, prefix=()):
    """Every path into a case's plain data, for replacing one subtree at a time."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


def _replace(value, path, new):
    if not path:
        return new
    out = copy.deepcopy(value)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return out


_GOOD = load_text(good_case()).data
_GOOD_PATHS = list(_paths(_GOOD))[1:]
_SCALARS = (st.none() | st.booleans() | st.integers(-(10 ** 12), 10 ** 12) | st.floats()
            | st.sampled_from(["", "LSTM", "x", "float32", "none", "1e9", "-1", "object", "str", "layer"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["LSTM", "units", "layer", "cell", "cells", "class_name", "config", "shape", "fill", "x", "Dense",
                     "input_shape", "values", "preprocess", "to_categorical", "num_classes", "dtype"]),
    inner, max_size=3), max_leaves=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(_GOOD_PATHS), new=_VALUES)
def test_any_mutation_of_a_case_is_valid_or_a_located_case_error(path, new):
    """Whatever a field holds, validation answers with a CaseError naming the file, never another exception."""
    doc = LoadedDocument(path="<string>", data=_replace(_GOOD, path, new), lines={})
    try:
        build_case(doc)
    except CaseError as exc:
        assert exc.message


@pytest.mark.parametrize("seed,message", [
    ("100000000000000000000000000", "seed 100000000000000000000000000 is out of range"),
    ("4294967296", "seed 4294967296 is out of range: keras.utils.set_random_seed takes 0 to 2**32 - 1"),
    ("1.0e+26", "a seed is an integer, found float 1e+26"),
    ("3.0", "a seed is an integer, found float 3.0"),
    ("-1", "schema: -1 is less than the minimum of 0"),
    ("'7'", "schema: '7' is not of type 'integer'"),
])
def test_a_seed_the_seeding_call_refuses_is_refused_with_its_line(seed, message):
    """keras.utils.set_random_seed (Keras 2 and 3) takes 0 <= seed < 2**32; it used to fail at run, with a traceback."""
    text = good_case().replace("tags: [fixture]", f"tags: [fixture]\nseed: {seed}")
    with pytest.raises(CaseError) as info:
        build_case(load_text(text, "<string>"))
    assert info.value.field == "seed" and info.value.line == 5 and message in info.value.message


def test_the_largest_seed_validates_and_the_fix_runs_with_it():
    text = good_case().replace("tags: [fixture]", f"tags: [fixture]\nseed: {2**32 - 1}")
    case = build_case(load_text(text, "<string>"))
    assert case.variants["repro"]["seed"] == case.variants["fix"]["seed"] == 2**32 - 1


def test_a_pattern_that_backtracks_catastrophically_is_refused_with_its_location():
    text = good_case(match=r"^(?:.|\\S)*QQQ$")
    with pytest.raises(CaseError) as info:
        build_case(load_text(text, "good-case.yaml"))
    assert info.value.field == "expect.match"
    assert info.value.line == next(i for i, line in enumerate(text.splitlines(), 1) if "QQQ" in line)
    assert "backtrack catastrophically" in info.value.message


def test_a_pattern_re2_cannot_compile_is_refused_in_an_override():
    text = good_case().replace("expect:\n", "expect:\n  overrides:\n    - when: {tf: '<2.16'}\n"
                                            "      match: '(a)\\1'\n", 1)
    with pytest.raises(CaseError) as info:
        build_case(load_text(text))
    assert info.value.field == "expect.overrides[0].match"
    assert "RE2" in info.value.message


def _with_call(call: str, run: str = "call", extra: str = "") -> str:
    return f"""\
id: t
title: call options
family: api-change
source: {{url: "https://keras.io/api/layers/recurrent_layers/lstm/"}}
cause: test
model: {{layer: {{LSTM: {{units: 3}}}}}}
data: {{x: {{shape: [2, 4, 5]}}}}
run: {run}
call: {call}
{extra}expect: {{raises: ValueError, stage: call}}
fix: {{explanation: none}}
"""


def test_call_inputs_layer_is_an_allow_listed_layer_and_excludes_inputs():
    assert build_case(load_text(_with_call("{inputs_layer: {GRU: {units: 3}}}"))).variants["repro"]
    with pytest.raises(CaseError) as info:
        build_case(load_text(_with_call("{inputs_layer: {Lambda: {function: print}}}")))
    assert info.value.field == "call.inputs_layer"
    with pytest.raises(CaseError, match="not both"):
        build_case(load_text(_with_call("{inputs: x, inputs_layer: {GRU: {units: 3}}}")))


def test_call_positional_takes_data_names_and_literals_only():
    build_case(load_text(_with_call("{inputs: x, positional: [x, {value: true}, {value: null}, {value: 3}]}")))
    with pytest.raises(CaseError) as info:
        build_case(load_text(_with_call("{inputs: x, positional: [nowhere]}")))
    assert info.value.field == "call.positional[0]" and "unknown data 'nowhere'" in info.value.message
    with pytest.raises(CaseError, match="schema"):
        build_case(load_text(_with_call("{inputs: x, positional: [{value: 'print(1)'}]}")))


def test_tf_op_needs_a_declared_input_and_an_allow_listed_function():
    with pytest.raises(CaseError, match="needs model.input"):
        build_case(load_text(_with_call("{inputs: x}", run="[construct, tf_op]", extra="tf_op: {op: abs}\n")
                             .replace("model: {layer: {LSTM: {units: 3}}}",
                                      "model: {layers: [{LSTM: {units: 3}}]}")))
    with pytest.raises(CaseError, match="schema"):
        build_case(load_text(_with_call("{inputs: x}", run="[construct, tf_op]", extra="tf_op: {op: py_function}\n")
                             .replace("model: {layer: {LSTM: {units: 3}}}",
                                      "model: {input: {shape: [4, 5]}, layers: [{LSTM: {units: 3}}]}")))
