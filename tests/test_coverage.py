"""The published matrix covers the library, and every count a page states comes from it.

The first tests check the coverage logic on small hand-built matrices. The ``published``
tests read the committed ``reports/merged.json``, ``cases/``, ``docs/catalog.md`` and
``reports/report.md``: they fail whenever a case is added without re-running the matrix,
or a page states a count the matrix does not give.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from lstm_atlas import cli
from lstm_atlas.case.library import load_library
from lstm_atlas.matrix.coverage import check_coverage, matrix_counts
from lstm_atlas.matrix.merge import read_merged

from .conftest import ROOT, good_case

MERGED = ROOT / "reports" / "merged.json"


def _cell(verdict="pass"):
    return {"verdict": verdict, "status": "ok"}


def _matrix(results: dict, envs=("tf215", "tf221")) -> dict:
    environments = {"tf215": {"tensorflow": "2.15.1", "keras": "2.15.0"},
                    "tf221": {"tensorflow": "2.21.0", "keras": "3.13.2"}}
    return {"schema": "lstm-atlas-merged", "schema_version": 2,
            "environments": {k: environments[k] for k in envs},
            "cases": {c: {"family": "input-rank"} for c in results}, "results": results}


def _both(*envs, verdict="pass"):
    return {v: {"cpu": {e: _cell(verdict) for e in envs}} for v in ("repro", "fix")}


def test_a_complete_matrix_has_nothing_missing():
    coverage = check_coverage(_matrix({"a": _both("tf215", "tf221")}), ["a"])
    assert coverage.complete and coverage.lines() == []


def test_each_case_and_environment_without_a_result_is_named_with_its_variants():
    results = {"a": _both("tf215", "tf221"), "b": _both("tf221")}
    results["b"]["fix"]["cpu"]["tf215"] = _cell()  # b's fix ran on tf215, its repro did not
    coverage = check_coverage(_matrix(results), ["a", "b", "new"])
    assert coverage.missing == [("b", "tf215", ["repro"]), ("new", "tf215", ["repro", "fix"]),
                                ("new", "tf221", ["repro", "fix"])]
    assert not coverage.complete
    assert "missing: new on tf221 (repro, fix)" in coverage.lines()


def test_a_gpu_cell_does_not_cover_the_cpu():
    results = {"a": {v: {"gpu": {"tf215": _cell(), "tf221": _cell()}} for v in ("repro", "fix")}}
    assert len(check_coverage(_matrix(results), ["a"]).missing) == 2


def test_results_for_a_case_that_no_longer_exists_are_stale():
    coverage = check_coverage(_matrix({"a": _both("tf215", "tf221"), "gone": _both("tf215", "tf221")}), ["a"])
    assert coverage.stale == ["gone"] and not coverage.complete


def test_counts_come_from_the_matrix():
    results = {"a": _both("tf215", "tf221"), "b": _both("tf221")}
    results["b"]["fix"]["cpu"]["tf221"] = _cell("fail")
    counts = matrix_counts(_matrix(results))
    assert counts["cases"] == 2 and counts["families"] == 1
    assert counts["environments"] == {"tf215": {"items": 2, "passed": 2}, "tf221": {"items": 4, "passed": 3}}


def _write_library(tmp_path, ids):
    folder = tmp_path / "cases" / "input-rank"
    folder.mkdir(parents=True)
    for case_id in ids:
        (folder / f"{case_id}.yaml").write_text(good_case(case_id))
    return tmp_path / "cases"


def test_cli_exits_1_naming_each_missing_pair(tmp_path, capsys):
    import json

    merged = tmp_path / "merged.json"
    merged.write_text(json.dumps(_matrix({"a": _both("tf215", "tf221")})))
    cases = _write_library(tmp_path, ["a", "b"])
    assert cli.main(["coverage", str(merged), str(cases)]) == 1
    out = capsys.readouterr().out
    assert "missing: b on tf215 (repro, fix)" in out and "missing: b on tf221 (repro, fix)" in out
    assert "2 cases x 2 environments: 2 (case, environment) pairs without a result" in out
    (cases / "input-rank" / "b.yaml").unlink()
    assert cli.main(["coverage", str(merged), str(cases)]) == 0


@pytest.mark.parametrize("bad", ["missing.json", "notjson.json", "cases-dir"])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, bad):
    (tmp_path / "notjson.json").write_text("{not json")
    merged, cases = str(tmp_path / bad), str(_write_library(tmp_path, ["a"]))
    if bad == "cases-dir":
        merged, cases = str(MERGED), str(tmp_path / "no-such-folder")
    assert cli.main(["coverage", merged, cases]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstm-atlas: error: ") and err.count("\n") == 1 and "Traceback" not in err


# --- the published facts -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def merged():
    return read_merged(MERGED)


@pytest.fixture(scope="module")
def library():
    return load_library(ROOT / "cases")


def test_published_matrix_has_every_case_on_every_environment(merged, library):
    coverage = check_coverage(merged, [c.id for c in library])
    assert coverage.complete, ("reports/merged.json is stale; run the matrix (tox p -p 2) and `lstm-atlas report`:\n"
                               + "\n".join(coverage.lines()[:40]))


def test_published_matrix_has_as_many_cases_and_families_as_the_library(merged, library):
    counts = matrix_counts(merged)
    assert counts["cases"] == len(library)
    assert counts["families"] == len({c.family for c in library})


def test_every_environment_ran_both_variants_of_every_case(merged, library):
    counts = matrix_counts(merged)
    assert {key: env["items"] for key, env in counts["environments"].items()} == \
        {key: 2 * len(library) for key in counts["environments"]}


def test_catalogue_states_the_matrix_counts(merged):
    text = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    m = re.search(r"^(\d+) cases in (\d+) families\.$", text, re.M)
    assert m, "docs/catalog.md states 'N cases in M families.'"
    counts = matrix_counts(merged)
    assert (int(m.group(1)), int(m.group(2))) == (counts["cases"], counts["families"])
    stated = {family: int(n) for family, n in re.findall(r"^- \[([\w-]+)\]\(#[\w-]+\) \((\d+)\)$", text, re.M)}
    in_matrix = Counter(merged["cases"][case]["family"] for case in merged["results"] if case in merged["cases"])
    assert stated == dict(in_matrix), "docs/catalog.md's per-family counts are not the matrix's"


def test_report_states_the_matrix_counts(merged):
    text = (ROOT / "reports" / "report.md").read_text("utf-8")
    m = re.search(r"^(\d+) cases, (\d+) environments", text, re.M)
    assert m, "reports/report.md states 'N cases, M environments'"
    counts = matrix_counts(merged)
    assert (int(m.group(1)), int(m.group(2))) == (counts["cases"], len(counts["environments"]))
    rows = re.findall(r"^\| ([\w.-]+) \| [\d.]+ \| [^|]+ \| [\d.]+ \| (\d+) \| (\d+) \| (\d+) \|", text, re.M)
    assert {key for key, *_ in rows} == set(counts["environments"])
    for key, passed, failed, other in rows:
        env = counts["environments"][key]
        assert int(passed) == env["passed"], f"report.md: {key} pass"
        assert int(passed) + int(failed) + int(other) == env["items"], f"report.md: {key} items"
