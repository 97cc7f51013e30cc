"""The wild corpus loader: safe bounded YAML, the report schema, unique ids and URLs, cases that exist.

No TensorFlow: the corpus is data, read like the case files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lstm_atlas import cli
from lstm_atlas import wild as corpus
from lstm_atlas.case.library import load_library
from lstm_atlas.errors import CaseError
from lstm_atlas.wild import load_corpus

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = {"good-case": "input-rank", "other-case": "cudnn"}

REPORT = """- id: {id}
  url: {url}
  date: '2021-03'
  tf: '2.4'
  keras: null
  backend: tensorflow
  era: keras2
  recurrent: true
  message: 'ValueError: Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=2'
  case: {case}
  family: {family}
"""


def _wild(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "wild"
    (root / "tune").mkdir(parents=True)
    (root / "frozen").mkdir()
    shutil.copy(ROOT / "wild" / corpus.SCHEMA_NAME, root / corpus.SCHEMA_NAME)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _report(**fields) -> str:
    values = {"id": "gh-a-b-1", "url": "https://github.com/a/b/issues/1", "case": "good-case",
              "family": "input-rank"} | fields
    return REPORT.format(**values)


def test_the_committed_corpus_is_valid():
    families = {c.id: c.spec["family"] for c in load_library(ROOT / "cases")}
    reports = load_corpus(ROOT / "wild", families)
    assert len(reports) >= 40
    assert all(r.split in corpus.SPLITS for r in reports)
    legacy = [r for r in reports if r.path.endswith("legacy.yaml")]
    assert len(legacy) == 40 and sum(r.case != "none" for r in legacy) >= 25


def test_a_good_file_loads_with_its_split_and_line(tmp_path):
    root = _wild(tmp_path, {"tune/a.yaml": _report() + _report(id="gh-a-b-2", url="https://github.com/a/b/issues/2"),
                            "frozen/b.yaml": _report(id="so-3", url="https://stackoverflow.com/q/3",
                                                     case="none", family="none") + "  reason: 'unrelated: x'\n"})
    reports = load_corpus(root, FAMILIES)
    assert [(r.id, r.split, r.line) for r in reports] == [("gh-a-b-1", "tune", 1), ("gh-a-b-2", "tune", 12),
                                                           ("so-3", "frozen", 1)]
    assert reports[0].versions_text() == "TF 2.4" and not reports[0].family_only and reports[2].unrelated


@pytest.mark.parametrize("text, where, words", [
    (_report().replace("  era: keras2\n", ""), ":1: field '[0].era'", "missing required field 'era'"),
    (_report() + "  colour: red\n", ":12: field '[0].colour'", "unknown field 'colour'"),
    (_report().replace("era: keras2", "era: keras9"), ":7: field '[0].era'", "schema:"),
    (_report(case="none", family="none"), ":1: field '[0].reason'", "missing required field 'reason'"),
    (_report(case="no-such-case"), ":10: field '[0].case'", "no case 'no-such-case'"),
    (_report(family="cudnn"), ":11: field '[0].family'", "in family 'input-rank', not 'cudnn'"),
    (_report(case="none", family="bogus") + "  reason: 'proposed: x'\n", ":11: field '[0].family'",
     "no family 'bogus'"),
    (_report() + _report(url="https://github.com/a/b/issues/2"), ":12: field '[1].id'", "already used at"),
    (_report() + _report(id="gh-a-b-2"), ":13: field '[1].url'", "already used at"),
    ("- &a {id: x}\n- *a\n", ":2", "aliases are not allowed"),
    ("id: x\n", ":1", "a corpus file is a YAML list of reports"),
    ("- [unclosed\n", ":2", "invalid YAML"),
])
def test_a_bad_report_is_one_located_line(tmp_path, text, where, words):
    root = _wild(tmp_path, {"tune/bad.yaml": text})
    with pytest.raises(CaseError) as info:
        load_corpus(root, FAMILIES)
    message = info.value.located()
    assert f"bad.yaml{where}" in message and words in message and "\n" not in message, message


def test_ids_are_unique_across_files_and_splits(tmp_path):
    root = _wild(tmp_path, {"tune/a.yaml": _report(), "frozen/b.yaml": _report(url="https://github.com/a/b/issues/9")})
    where = r"frozen/b\.yaml:1: field '\[0\]\.id': id 'gh-a-b-1' is already used at .*a\.yaml:1"
    with pytest.raises(CaseError, match=where):
        load_corpus(root, FAMILIES)


def test_a_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "MAX_CORPUS_FILE_BYTES", 100)
    root = _wild(tmp_path, {"tune/a.yaml": _report()})
    with pytest.raises(CaseError, match="larger than 100 bytes"):
        load_corpus(root, FAMILIES)


def test_build_index_with_a_bad_corpus_exits_2_on_one_line(tmp_path, capsys):
    root = _wild(tmp_path, {"tune/bad.yaml": _report(case="no-such-case")})
    rc = cli.main(["explain", "--build-index", "--check", "--index", str(tmp_path / "i.json"), "--cases",
                   str(ROOT / "cases"), "--merged", str(ROOT / "reports" / "merged.json"), "--wild", str(root)])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert "bad.yaml:10: field '[0].case'" in err and "\n" not in err
