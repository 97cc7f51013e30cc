"""The `lstm-atlas` command: `validate` gives one line per bad file and never a traceback;
`report` and `diff` work on a fresh clone (only the committed reports/) and on bad input."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from lstm_atlas import cli
from lstm_atlas.install import locate
from lstm_atlas.matrix.results import read_results

from .conftest import BROKEN_DIR, CASES_DIR, ROOT, broken_expectations, good_case

DATA = Path(__file__).parent / "data"


def test_validate_reports_each_broken_file_on_one_line(capsys):
    assert cli.main(["validate", str(BROKEN_DIR)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    broken = broken_expectations()
    assert lines[-1] == f"0 valid, {len(broken)} invalid"
    assert len(lines) == len(broken) + 1, "one line per file"
    assert sum(1 for *_, field, _ in broken if field) >= 10, "most fixtures name the field they break"
    for (path, line, field, message), text in zip(broken, lines, strict=False):
        assert text.startswith(f"{path}:{line}"), text
        assert message in text, text
        if field:
            assert f"field '{field}'" in text, text
    assert "Traceback" not in out.out + out.err


def test_validate_says_the_library_is_valid(capsys):
    count = len(list(CASES_DIR.rglob("*.yaml")))
    assert cli.main(["validate", str(CASES_DIR)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{count} valid, 0 invalid"]


def test_validate_turns_an_unexpected_error_into_a_line(monkeypatch, capsys, tmp_path):
    import lstm_atlas.case.validate as validate

    def explode(path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(validate, "load_case", explode)
    path = tmp_path / "case.yaml"
    path.write_text("id: case\n")
    assert cli.main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: RecursionError: maximum recursion depth exceeded", "0 valid, 1 invalid"]


def test_validate_names_a_file_it_cannot_read(capsys, tmp_path):
    assert cli.main(["validate", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().out



@pytest.fixture
def fresh_clone(tmp_path, monkeypatch):
    """A folder holding what a clone has: reports/ with merged.json, and no results/."""
    (tmp_path / "reports").mkdir()
    shutil.copy(ROOT / "reports" / "merged.json", tmp_path / "reports" / "merged.json")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_diff_on_a_fresh_clone_reads_the_committed_matrix(fresh_clone, capsys):
    assert cli.main(["diff", "2.15", "2.16"]) == 0
    out, err = capsys.readouterr()
    assert out == (ROOT / "reports" / "diff-2.15-2.16.txt").read_text("utf-8")
    assert "reading reports/merged.json" in err


def test_report_on_a_fresh_clone_and_with_one_more_environment(fresh_clone, capsys):
    envs = len(json.loads((fresh_clone / "reports" / "merged.json").read_text())["environments"])
    assert cli.main(["report", "--out", "out"]) == 0
    assert {p.name for p in (fresh_clone / "out").iterdir()} == {"report.md", "report.html", "outcomes.png",
                                                                 "merged.json"}
    extra = copy.deepcopy(read_results(DATA / "results-tf221.json"))
    extra["environment"]["env_name"] = "tf221-another-keras"
    (fresh_clone / "extra.json").write_text(json.dumps(extra))
    assert cli.main(["report", "reports/merged.json", "extra.json", "--out", "reports"]) == 0
    merged = json.loads((fresh_clone / "reports" / "merged.json").read_text())
    assert len(merged["environments"]) == envs + 1 and "tf221-another-keras" in merged["environments"]
    assert "| tf221-another-keras | 2.21.0 |" in (fresh_clone / "reports" / "report.md").read_text()


@pytest.mark.parametrize("content, message", [
    (None, "lstm-atlas: error: bad.json: no such file"),
    ("{oops", "lstm-atlas: error: bad.json: not JSON (Expecting property name enclosed in double quotes at line 1, "
              "column 2)"),
    ('{"schema": "lstm-atlas-results", "schema_version": 2, "items": "x"}',
     "lstm-atlas: error: bad.json: does not follow the results schema"),
    ('{"name": "package.json of something"}', "lstm-atlas: error: bad.json: not an lstm-atlas results or merged file"),
])
@pytest.mark.parametrize("command", [["diff", "2.15", "2.16"], ["report", "--out", "out"]])
def test_a_bad_input_file_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, content, message, command):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "bad.json").write_text(content)
    assert cli.main([*command, "bad.json"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err and out == ""
    assert not (tmp_path / "out").exists()


def test_outside_a_project_diff_reads_the_shipped_matrix(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no cases/, no results/, no reports/: what a pip install sees
    assert cli.main(["diff", "2.15", "2.16"]) == 0
    captured = capsys.readouterr()
    shipped = locate.published_merged()
    assert captured.err == f"lstm-atlas: no results files in results/; reading {shipped}\n"
    assert captured.out == (ROOT / "reports" / "diff-2.15-2.16.txt").read_text("utf-8")


def test_an_install_that_ships_no_matrix_says_so_on_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(locate, "_package_dir", lambda: tmp_path / "site-packages" / "lstm_atlas")
    assert cli.main(["diff", "2.15", "2.16"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstm-atlas: error: this install of lstm_atlas ships no reports/") and err.count("\n") == 1


def test_results_files_win_over_the_committed_matrix(fresh_clone, capsys):
    (fresh_clone / "results").mkdir()
    for path in DATA.glob("results-*.json"):
        shutil.copy(path, fresh_clone / "results" / path.name)
    assert cli.main(["diff", "2.15", "2.16"]) == 2  # the recorded files hold 2.15 and 2.21 only
    assert "no results for '2.16'; have: tf215 (TF 2.15.1), tf221 (TF 2.21.0)" in capsys.readouterr().err


def test_diff_warns_when_a_side_is_partial(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    doc = copy.deepcopy(read_results(DATA / "results-tf221.json"))
    doc["schema_version"] = 2
    doc["run"].update({"exit_status": 2, "interrupted": True, "complete": False, "running": []})
    (tmp_path / "tf221.json").write_text(json.dumps(doc))
    assert cli.main(["diff", "2.15", "2.21", str(DATA / "results-tf215.json"), "tf221.json"]) == 0
    err = capsys.readouterr().err
    assert err == "warning: tf221 is partial: the run was interrupted (exit status 2); cells it lacks are not " \
                  "compared\n"


def test_catalog_over_a_malformed_case_is_one_line_and_exit_2(tmp_path, capsys):
    cases = tmp_path / "cases" / "input-rank"
    cases.mkdir(parents=True)
    (cases / "broken.yaml").write_text("id: broken\nfamily: input-rank\nlayers: [\n")
    assert cli.main(["catalog", "--cases", str(tmp_path / "cases"), "--out", str(tmp_path / "catalog.md")]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("lstm-atlas: error: ") and "broken.yaml" in err and err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "catalog.md").exists()


def test_validate_checks_duplicate_ids_per_case_library_only(tmp_path, monkeypatch, capsys):
    for folder in ("cases/a", "cases/b", "candidates/tf215", "candidates/tf221"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "good-case.yaml").write_text(good_case())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "candidates"]) == 0  # one candidate per environment: the same id is fine
    assert capsys.readouterr().out.splitlines() == ["2 valid, 0 invalid"]
    assert cli.main(["validate", "cases"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "cases/b/good-case.yaml:1: field 'id': duplicate case id 'good-case': already used by cases/a/good-case.yaml",
        "1 valid, 1 invalid"]


@pytest.mark.parametrize("command", [["catalog"], ["report"], ["catalog", "--check"]])
def test_outside_a_project_publishing_commands_refuse_without_out(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    assert cli.main(command) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (f"lstm-atlas: error: not inside an atlas project (no cases/ library or reports/merged.json "
                       f"here); `lstm-atlas {command[0]}` writes only where asked: pass --out")
    assert list(tmp_path.iterdir()) == []  # no docs/, no reports/


def test_regenerating_the_report_with_no_change_is_byte_identical(fresh_clone, capsys):
    committed = {p.name: p.read_bytes() for p in (ROOT / "reports").iterdir() if p.is_file()}
    assert cli.main(["report"]) == 0  # reads reports/merged.json, writes reports/
    first = {p.name: p.read_bytes() for p in (fresh_clone / "reports").iterdir()}
    assert cli.main(["report"]) == 0
    second = {p.name: p.read_bytes() for p in (fresh_clone / "reports").iterdir()}
    assert first == second
    # and equal to the committed files, which were generated from the same matrix
    assert {n: first[n] for n in ("merged.json", "report.md", "report.html", "outcomes.png")} == \
        {n: committed[n] for n in ("merged.json", "report.md", "report.html", "outcomes.png")}


def test_catalog_from_the_shipped_library_equals_the_committed_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # outside a project: the shipped library and matrix (here the checkout's)
    assert cli.main(["catalog", "--out", "catalog.md"]) == 0
    assert (tmp_path / "catalog.md").read_bytes() == (ROOT / "docs" / "catalog.md").read_bytes()


def test_only_run_passes_unknown_arguments_on(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        cli.main(["matrix", "--tf", "2.15", "-k", "lstm"])
    assert stop.value.code == 2
    assert "unrecognized arguments: -k (see lstm-atlas --help)" in capsys.readouterr().err


def test_outside_a_project_the_explain_index_is_checked_but_not_rewritten(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["explain", "--build-index", "--check"]) == 0  # the shipped index from the shipped data
    assert cli.main(["explain", "--build-index"]) == 2
    assert capsys.readouterr().err.endswith("`lstm-atlas explain --build-index` writes only where asked: "
                                            "pass --index\n")
