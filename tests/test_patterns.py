"""The pattern rule: case patterns compile under RE2, nest no unbounded repeats, and match in linear time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from lstm_atlas.patterns import compile_pattern, pattern_problem, search

from .conftest import ROOT


@pytest.mark.parametrize("pattern", [r"^(?:.|\S)*QQQ$", r"(a+)+$", r"(\w+\s?)*$", r"(a|aa)*b", r"(?:x*y?)+z",
                                     r"(.*,)*end", r"(?:ab{2,})*c"])
def test_patterns_that_backtrack_catastrophically_are_refused(pattern):
    assert "backtrack catastrophically" in pattern_problem(pattern)


@pytest.mark.parametrize("pattern, why", [(r"(a)\1", "RE2"), (r"(?<=a)b", "RE2"), (r"a(?!b)", "RE2"),
                                          (r"(", "does not compile"), (r"a{2,1}", "does not compile")])
def test_patterns_re2_or_re_cannot_compile_are_refused(pattern, why):
    assert why in pattern_problem(pattern)


@pytest.mark.parametrize("pattern", [r"expected ndim=3, found ndim=2", r"(?i)shape|ndim", r"(?:foo|bar) baz",
                                     r"Data cardinality is ambiguous.*sizes", r"\d+ (?:samples|steps)", r"x{1,3}",
                                     r"(?:ab)+c", r"too many values to unpack \(expected 2\)"])
def test_ordinary_patterns_follow_the_rule(pattern):
    assert pattern_problem(pattern) is None


def _library_patterns():
    for root in ("cases", "reports/candidates"):
        for path in sorted((ROOT / root).rglob("*.yaml")):
            def walk(node, where):
                if isinstance(node, dict):
                    for key, value in node.items():
                        if key in ("match", "warns", "no_warns") and isinstance(value, str):
                            yield where, value
                        yield from walk(value, where)
                elif isinstance(node, list):
                    for item in node:
                        yield from walk(item, where)
            yield from walk(yaml.safe_load(path.read_text("utf-8")), str(Path(path).relative_to(ROOT)))


def test_every_pattern_of_the_library_and_the_candidates_follows_the_rule():
    found = list(_library_patterns())
    assert len(found) > 150
    assert [(where, p, pattern_problem(p)) for where, p in found if pattern_problem(p)] == []


def test_matching_is_linear_even_for_a_pattern_the_rule_refuses():
    text = "x" * 1_000_000
    started = time.perf_counter()
    assert not search(r"^(?:.|\S)*QQQ$", text)
    assert not search(r"(a|aa)*b", "a" * 1_000_000)
    assert time.perf_counter() - started < 2.0


def test_flags_and_search_semantics_agree_with_re():
    assert search(r"shape|ndim", "expected ndim=3")
    assert not search(r"^ndim", "expected ndim=3")
    assert not search(r"SHAPE", "shape")
    assert search(r"SHAPE", "shape", ignore_case=True)
    assert not search(r"a.b", "a\nb")
    assert search(r"a.b", "a\nb", dot_all=True)
    assert compile_pattern(r"(?i)ndim").search("NDIM") is not None
