"""Merging: nothing is dropped silently, and the merged file is itself an input (recorded results)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from lstm_atlas.errors import InputError
from lstm_atlas.matrix.merge import merge, merge_files, read_input
from lstm_atlas.matrix.report import render
from lstm_atlas.matrix.results import read_results

from .conftest import ROOT

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def recorded():
    return [(str(p), read_results(p)) for p in sorted(DATA.glob("results-*.json"))]


def _v2(doc, **run):
    out = copy.deepcopy(doc)
    out["schema_version"] = 2
    out["run"].update({"exit_status": 1, "interrupted": False, "complete": True, "running": [],
                       "expected_items": len(out["items"]), "recorded_items": len(out["items"])})
    out["run"].update(run)
    return out


def test_a_file_without_environment_is_listed_as_missing(recorded):
    empty = _v2(recorded[0][1], exit_status=None, interrupted=True, complete=False, recorded_items=0)
    empty["environment"], empty["items"] = None, []
    matrix = merge([recorded[1], ("results/tf216.json", empty)])
    assert matrix.env_keys() == ["tf221"]
    assert matrix.missing == [{"source": "results/tf216.json",
                               "reason": "no item ran, so the file names no environment; the run was interrupted"}]
    md = render(matrix)["report.md"]
    assert "## Missing or partial runs" in md and "(no environment)** missing (`results/tf216.json`)" in md
    assert json.loads(json.dumps(matrix.to_json()))["missing"] == matrix.missing


def test_a_run_that_died_is_partial_and_its_running_item_a_crash(recorded):
    doc = _v2(recorded[1][1], exit_status=None, interrupted=True, complete=False)
    victim = doc["items"].pop(0)
    doc["run"]["running"] = [victim["nodeid"]]
    matrix = merge([("results/tf221.json", doc)])
    assert matrix.runs["tf221"]["state"] == "partial"
    assert matrix.runs["tf221"]["reason"] == f"the run died while running {victim['nodeid']}"
    cell = matrix.cells[(victim["case_id"], victim["variant"], victim["device_kind"])]["tf221"]
    assert cell["verdict"] == "crash" and "died while this item was running" in cell["reason"]
    page = render(matrix)["report.html"]
    assert '<li data-state="partial"><b>tf221</b> partial' in page


def test_an_incomplete_run_is_partial(recorded):
    doc = _v2(recorded[1][1], complete=False, expected_items=400)
    matrix = merge([("r.json", doc)])
    assert matrix.problems() == [{"env": "tf221", "state": "partial", "source": "r.json",
                                  "reason": f"{len(doc['items'])} of 400 items have a result (exit status 1)"}]


def test_a_failure_on_the_second_logical_cpu_shows(recorded):
    doc = copy.deepcopy(recorded[1][1])
    first = next(i for i in doc["items"] if i["verdict"] == "pass" and i["device"] == "cpu")
    cpu0 = dict(first, device="cpu0", nodeid=first["nodeid"].replace("-cpu]", "-cpu0]"))
    cpu1 = dict(first, device="cpu1", nodeid=first["nodeid"].replace("-cpu]", "-cpu1]"), verdict="fail",
                mismatches=["stage: expected fit, observed predict"])
    doc["items"] = [cpu0, cpu1]
    cell = merge([("r.json", doc)]).cells[(first["case_id"], first["variant"], "cpu")]["tf221"]
    assert cell["verdict"] == "fail" and cell["device"] == "cpu1"
    assert cell["per_device"] == {"cpu0": "pass", "cpu1": "fail"}
    doc["items"] = [cpu1, cpu0]  # order does not matter
    assert merge([("r.json", doc)]).cells[(first["case_id"], first["variant"], "cpu")]["tf221"]["verdict"] == "fail"


def test_the_merged_file_reads_back_into_the_same_report(recorded, tmp_path):
    matrix = merge(recorded)
    path = tmp_path / "merged.json"
    path.write_text(json.dumps(matrix.to_json()))
    again = merge_files([path])
    assert again.env_keys() == matrix.env_keys() and again.cells == matrix.cells
    assert again.cases == matrix.cases and again.sources == matrix.sources
    assert again.created == matrix.created == max(doc["created"] for _, doc in recorded)
    first, second = render(matrix), render(again)
    for name in ("report.md", "report.html"):  # the date is the inputs', so the pages are equal to the byte
        assert first[name] == second[name]


def test_a_results_file_adds_to_or_replaces_a_merged_one(recorded, tmp_path):
    only_215 = merge(recorded[:1]).to_json()
    extra = copy.deepcopy(recorded[1][1])
    extra["environment"]["env_name"] = "tf221-keras-latest"
    matrix = merge([("merged.json", only_215), ("extra.json", extra)])
    assert matrix.env_keys() == ["tf215", "tf221-keras-latest"]
    replaced = copy.deepcopy(recorded[0][1])
    replaced["items"][0]["verdict"] = "fail"
    with pytest.raises(InputError, match=r"\(in merged.json\) and new215.json both hold environment tf215"):
        merge([("merged.json", only_215), ("new215.json", replaced)])
    matrix = merge([("merged.json", only_215), ("new215.json", replaced)], replace=True)
    assert matrix.sources["tf215"] == "new215.json"


def test_two_environments_of_one_name_get_two_keys(recorded):
    other = copy.deepcopy(recorded[1][1])
    other["environment"]["numpy"] = "1.26.4"  # another venv also called .venv: same key, other identity
    other["items"][0]["verdict"] = "fail"
    matrix = merge([recorded[1], ("other.json", other)])
    assert len(matrix.env_keys()) == 2 and matrix.env_keys()[0] == "tf221"
    second = matrix.env_keys()[1]
    assert second.startswith("tf221-") and matrix.sources[second] == "other.json"
    first = other["items"][0]
    cell = matrix.cells[(first["case_id"], first["variant"], first["device_kind"])]
    assert cell[second]["verdict"] == "fail" and cell["tf221"]["verdict"] != "fail"
    # the key is stable: merging the merged matrix again gives the same keys
    again = merge([("m.json", json.loads(json.dumps(matrix.to_json())))])
    assert again.env_keys() == matrix.env_keys()


def test_the_committed_merged_file_is_readable():
    doc = read_input(ROOT / "reports" / "merged.json")
    matrix = merge([("reports/merged.json", doc)])
    assert len(matrix.env_keys()) >= 11 and matrix.cells


@pytest.mark.parametrize("doc, message", [
    ({"schema": "lstm-atlas-merged", "schema_version": 9},
     "merged schema_version 9 is not supported (this harness reads 1, 2)"),
    ({"schema": "lstm-atlas-merged", "schema_version": 2}, "merged file lacks its 'environments' or 'results' object"),
    ({"tool": "something"}, "not an lstm-atlas results or merged file (schema None)"),
])
def test_foreign_or_broken_merged_files_are_refused(tmp_path, doc, message):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as info:
        read_input(path)
    assert str(info.value) == f"{path}: {message}"


@pytest.mark.parametrize("damage, where", [
    (lambda d: d["results"].__setitem__("c", {"repro": {"cpu": {"tf221": "pass"}}}), "results/c/repro/cpu/tf221"),
    (lambda d: d["results"].__setitem__("c", []), "results/c"),
    (lambda d: d["environments"].__setitem__("tf221", 5), "environments/tf221"),
    (lambda d: d.__setitem__("runs", []), "runs"),
    (lambda d: d.__setitem__("missing", [3]), "missing"),
])
def test_a_malformed_merged_file_is_one_line_naming_where(tmp_path, damage, where):
    doc = json.loads((ROOT / "reports" / "merged.json").read_text("utf-8"))
    damage(doc)
    path = tmp_path / "merged.json"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(InputError, match=f"malformed merged file at {where}"):
        read_input(path)
