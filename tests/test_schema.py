"""The case format's vocabulary comes from its schema, and every `$schema` comment finds that schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lstm_atlas.case import schema
from lstm_atlas.case.library import case_files
from lstm_atlas.case.validate import load_case
from lstm_atlas.fuzz import candidates

from .conftest import CASES_DIR, ROOT

SCHEMA_FILE = ROOT / "harness" / "lstm_atlas" / "case" / "case.schema.json"
COMMENT_RE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)\s*$", re.M)


def _commented_files() -> list[Path]:
    files = [*case_files(CASES_DIR), *sorted((ROOT / "reports" / "candidates").rglob("*.yaml")),
             *sorted((ROOT / "tests" / "broken_cases").glob("*.yaml"))]
    return [p for p in files if COMMENT_RE.search(p.read_text("utf-8"))]


def test_the_package_reads_the_schema_file_of_the_checkout():
    assert schema.case_schema() == json.loads(SCHEMA_FILE.read_text("utf-8"))


@pytest.mark.parametrize("name,values", [("family", schema.FAMILIES), ("stage", schema.STAGES),
                                         ("step", schema.STEPS), ("dtype", schema.DTYPES)])
def test_vocabulary_is_the_schemas(name, values):
    enum = json.loads(SCHEMA_FILE.read_text("utf-8"))["$defs"][name]["enum"]
    assert list(values) == enum and len(set(values)) == len(values)


def test_the_steps_that_take_arguments_are_those_the_schema_gives_arguments():
    assert schema.STEP_ARGS == ("fit", "evaluate", "predict", "call", "save", "convert", "reset_states", "tf_op")
    properties = json.loads(SCHEMA_FILE.read_text("utf-8"))["$defs"]
    assert all(f"{step}Args" in properties for step in schema.STEP_ARGS)


def test_every_family_has_a_folder_and_every_case_sits_in_its_familys_folder():
    folders = {p.name for p in CASES_DIR.iterdir() if p.is_dir()}
    assert folders == set(schema.FAMILIES)
    for path in case_files(CASES_DIR):
        assert load_case(path).family == path.parent.name, path


def test_every_schema_comment_resolves_to_the_real_schema_file():
    files = _commented_files()
    candidates = sorted((ROOT / "reports" / "candidates").rglob("*.yaml"))
    missing = {*case_files(CASES_DIR), *candidates} - set(files)
    assert len(files) >= 98 and not missing, f"the library and the committed candidates carry the comment: {missing}"
    for path in files:
        target = COMMENT_RE.search(path.read_text("utf-8")).group(1)
        assert (path.parent / target).resolve() == SCHEMA_FILE.resolve(), f"{path}: {target}"


def test_candidates_are_written_with_a_comment_that_resolves_from_their_folder(tmp_path):
    written = candidates.write_candidate(tmp_path, {"id": "fuzz-x", "family": "input-rank"})
    target = COMMENT_RE.search(written.read_text("utf-8")).group(1)
    folder = ROOT / "reports" / "candidates" / "tf221"
    assert (folder / target).resolve() == SCHEMA_FILE.resolve()


def test_docs_examples_point_at_the_schema():
    for doc in (ROOT / "README.md", ROOT / "docs" / "adding-a-case.md"):
        targets = COMMENT_RE.findall(doc.read_text("utf-8"))
        assert targets, doc
        for target in targets:  # the examples are cases in cases/<family>/
            assert (CASES_DIR / "input-rank" / target).resolve() == SCHEMA_FILE.resolve(), (doc, target)
