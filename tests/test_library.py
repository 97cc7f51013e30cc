"""The library: every case once; a second file of one id is an error naming both files."""

from __future__ import annotations

import pytest

from lstm_atlas.case.library import load_library
from lstm_atlas.errors import CaseError

from .conftest import good_case


def test_a_duplicate_id_names_both_files(tmp_path):
    for family in ("a", "b"):
        (tmp_path / family).mkdir()
        (tmp_path / family / "good-case.yaml").write_text(good_case())
    with pytest.raises(CaseError) as info:
        load_library(tmp_path)
    message = info.value.located()
    assert message.startswith(f"{tmp_path / 'b' / 'good-case.yaml'}:1: field 'id': duplicate case id 'good-case'")
    assert message.endswith(f"already used by {tmp_path / 'a' / 'good-case.yaml'}")


def test_distinct_ids_load_in_order(tmp_path):
    (tmp_path / "one.yaml").write_text(good_case("one"))
    (tmp_path / "two.yaml").write_text(good_case("two"))
    assert [case.id for case in load_library(tmp_path)] == ["one", "two"]
