"""Schema validation of the library and the merged fix variant."""

from __future__ import annotations

import pytest

from lstm_atlas.errors import CaseError
from lstm_atlas.load import load_text
from lstm_atlas.validate import build_case, deep_merge, load_case, steps_of

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
