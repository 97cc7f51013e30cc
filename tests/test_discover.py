"""The collection rule: which YAML files the plugin treats as atlas cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_atlas.case import discover

from .conftest import BROKEN_DIR, CASES_DIR, good_case

HEADER = "# yaml-language-server: $schema=../../harness/lstm_atlas/case/case.schema.json\n"


@pytest.mark.parametrize("relative, expected", [
    ("cases/input-rank/a.yaml", True),
    ("cases/a.yml", True),
    ("project/cases/deep/er/a.yaml", True),
    ("testcases/a.yaml", False),
    ("my_cases/a.yaml", False),
    ("cases/a.json", False),
    ("cases.yaml", False),
])
def test_folder_rule_matches_the_exact_name(tmp_path, relative, expected):
    assert discover.in_case_dir(tmp_path / relative, root=tmp_path) is expected


def test_folder_rule_ignores_folders_above_the_rootdir_and_takes_patterns(tmp_path):
    root = tmp_path / "cases" / "project"
    assert not discover.in_case_dir(root / "testcases" / "a.yaml", root=root)
    assert discover.in_case_dir(root / "my-cases" / "a.yaml", ("*-cases",), root=root)
    assert not discover.in_case_dir(root / "cases" / "a.yaml", ("*-cases",), root=root)


def test_content_rule():
    assert discover.declares_case(HEADER + "whatever: 1\n")
    assert discover.declares_case(good_case())  # top-level id and family
    assert not discover.declares_case("id: login\nsteps: [open, type]\n")  # id alone is anybody's
    assert not discover.declares_case("name: x\n  id: nested\n  family: nested\n")
    assert not discover.declares_case("# a comment naming case.schema.json in prose\nid: 1\n")


def test_every_library_case_and_broken_fixture_is_collected():
    paths = sorted(CASES_DIR.rglob("*.yaml"))
    assert len(paths) > 50
    assert all(discover.is_case_file(p, root=CASES_DIR.parent) for p in paths)
    # the broken fixtures must still be collected (to fail alone), so each declares itself
    assert all(discover.declares_case(p.read_text()) for p in BROKEN_DIR.glob("*.yaml"))


def test_foreign_and_unreadable_files_are_not_cases(tmp_path):
    foreign = tmp_path / "cases" / "login.yaml"
    foreign.parent.mkdir()
    foreign.write_text("id: login\nsteps: [open, type]\n")
    assert not discover.is_case_file(foreign, root=tmp_path)
    assert not discover.is_case_file(tmp_path / "cases" / "absent.yaml", root=tmp_path)
    big = tmp_path / "cases" / "big.yaml"
    big.write_text("rows:\n" + "  - x\n" * 200_000 + "id: a\nfamily: b\n")  # keys beyond the sniffed head
    assert not discover.is_case_file(big, root=tmp_path)
    assert Path(big).stat().st_size > discover.SNIFF_BYTES


def test_a_byte_order_mark_does_not_hide_a_case(tmp_path):
    assert discover.declares_case("\ufeff" + good_case())
    assert discover.declares_case("\ufeff" + HEADER + "whatever: 1\n")
    case = tmp_path / "cases" / "a.yaml"
    case.parent.mkdir()
    case.write_bytes(b"\xef\xbb\xbf" + good_case().encode())
    assert discover.is_case_file(case, root=tmp_path)


def test_in_an_atlas_library_every_yaml_file_is_a_case(tmp_path):
    folder = tmp_path / "cases"
    (folder / "input-rank").mkdir(parents=True)
    (folder / "input-rank" / "good.yaml").write_text(HEADER + "id: good\n")
    broken = folder / "input-rank" / "broken.yaml"
    broken.write_text("id: broken\n  title: [oops\n")  # broken before its family: line
    undeclared = folder / "notes.yaml"
    undeclared.write_text("just: a mapping\n")
    assert discover.is_case_file(broken, root=tmp_path)
    assert discover.is_case_file(undeclared, root=tmp_path)
    assert not discover.is_case_file(folder / "notes.json", root=tmp_path)
    # another project's cases/ folder, where nothing declares itself, stays its own
    other = tmp_path / "other" / "cases" / "login.yaml"
    other.parent.mkdir(parents=True)
    other.write_text("id: login\nsteps: [open]\n")
    assert not discover.is_case_file(other, root=tmp_path / "other")
