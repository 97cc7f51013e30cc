"""Merging results, the upgrade diff, the report and the catalogue, on recorded results files.

tests/data/results-tf215.json and results-tf221.json were written by real runs of
`pytest cases/... --atlas-results` on TF 2.15.1 and TF 2.21.0.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from lstm_atlas import catalog, cli
from lstm_atlas.diff import cell_changes, normalise_message, upgrade_diff
from lstm_atlas.merge import merge, pick_env
from lstm_atlas.observe import message_core
from lstm_atlas.record import read_results
from lstm_atlas.report import render, short_cell, write_report

from .conftest import ROOT

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def recorded():
    return [(str(p), read_results(p)) for p in sorted(DATA.glob("results-*.json"))]


def test_recorded_results_are_valid_and_from_two_keras_generations(recorded):
    flavors = {doc["environment"]["keras_flavor"] for _, doc in recorded}
    assert flavors == {"keras2", "keras3"}


def test_merge_orders_envs_by_version_and_tolerates_partial_sets(recorded):
    matrix = merge(recorded)
    assert matrix.env_keys() == ["tf215", "tf221"]
    assert pick_env(matrix, "2.15") == "tf215" and pick_env(matrix, "2.21.0") == "tf221"
    with pytest.raises(KeyError, match="no results for '2.16'"):
        pick_env(matrix, "2.16")
    # a partial set: one env lacks a case entirely
    tf215 = copy.deepcopy(recorded[0][1])
    dropped = tf215["items"][0]["case_id"]
    tf215["items"] = [i for i in tf215["items"] if i["case_id"] != dropped]
    partial = merge([("a.json", tf215), recorded[1]])
    cells = partial.cells[(dropped, "repro", "cpu")]
    assert "tf215" not in cells and "tf221" in cells


def test_same_env_twice_keeps_the_later_file(recorded):
    later = copy.deepcopy(recorded[1][1])
    later["items"][0]["verdict"] = "fail"
    matrix = merge([recorded[1], ("later.json", later)])
    assert matrix.sources["tf221"] == "later.json"


def test_diff_reports_keras3_changes(recorded):
    matrix = merge(recorded)
    diff = upgrade_diff(matrix, "2.15", "2.21")
    assert diff["changed"], "Keras 3 changed at least one message in the recorded cases"
    for entry in diff["changed"].values():
        assert entry["changes"]


def test_cell_changes_vocabulary():
    raised = {"status": "raised", "exception_type": "TypeError", "exception": "builtins.TypeError",
              "stage": "call", "message": "x", "verdict": "pass", "claim_verdict": "holds", "mismatches": []}
    ok = {"status": "ok", "exception_type": None, "exception": None, "stage": "fit", "message": "",
          "verdict": "pass", "claim_verdict": "false", "mismatches": []}
    moved = dict(raised, exception_type="ValueError", exception="builtins.ValueError", stage="construct",
                 message="y")
    changes = cell_changes(raised, moved, "repro")
    assert "exception class changed: builtins.TypeError -> builtins.ValueError" in changes
    assert "stage moved: call -> construct" in changes and "message changed" in changes
    assert cell_changes(raised, ok, "repro")[0] == "stopped raising (was TypeError at call)"
    assert cell_changes(ok, raised, "repro")[0] == "started raising TypeError at call"
    assert "claim verdict changed: holds -> false" in cell_changes(raised, ok, "repro")
    broken_fix = cell_changes(ok, dict(ok, verdict="fail"), "fix")
    assert broken_fix == ["fix stopped working (fail)"]


def test_normalise_message_ignores_auto_names_and_addresses():
    assert normalise_message('layer "lstm_3" at 0x7f00ab') == normalise_message('layer "lstm_12"  at 0x1')


def test_message_core_strips_keras_wrapping():
    keras2 = ('in user code:\n\n    File "/x/training.py", line 1401, in train_function  *\n'
              '        return step_function(self, iterator)\n\n'
              '    ValueError: Exception encountered when calling layer \'sequential\' (type Sequential).\n\n'
              '    Input 0 of layer "lstm" is incompatible with the layer: expected ndim=3, found ndim=2.\n\n'
              "    Call arguments received by layer 'sequential' (type Sequential):\n      • inputs=x\n")
    assert message_core(keras2) == 'Input 0 of layer "lstm" is incompatible with the layer: expected ndim=3, ' \
                                   'found ndim=2.'
    keras3 = ("Exception encountered when calling Sequential.call().\n\nInvalid input shape for input.\n\n"
              "Arguments received by Sequential.call():\n  • inputs=x")
    assert message_core(keras3) == "Invalid input shape for input."
    assert message_core("plain message") == "plain message"
    assert message_core("in user code:\n\n    ValueError: Shapes (None, 1) and (None, 3) are incompatible\n") == \
        "Shapes (None, 1) and (None, 3) are incompatible"


def test_report_renders_grid_plot_and_markdown(recorded, tmp_path):
    matrix = merge(recorded)
    rendered = render(matrix)
    md, page = rendered["report.md"], rendered["report.html"]
    assert "| env | TensorFlow | Keras |" in md and "| tf215 | 2.15.1 |" in md
    assert rendered["verdicts.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("<tr data-family=") == len(matrix.cells)
    assert 'id="family"' in page and "data:image/png;base64," in page
    written = write_report(matrix, tmp_path)
    assert {p.name for p in written} == {"report.md", "report.html", "verdicts.png", "merged.json"}
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert merged["schema"] == "lstm-atlas-merged" and set(merged["environments"]) == {"tf215", "tf221"}


def test_short_cell():
    assert short_cell(None) == "—"
    assert short_cell({"verdict": "pass", "status": "raised", "exception_type": "ValueError", "stage": "fit"}) \
        == "ValueError@fit"
    assert short_cell({"verdict": "fail", "status": "ok"}) == "✗ ok"


def test_cli_report_and_diff(recorded, tmp_path, capsys):
    paths = [p for p, _ in recorded]
    assert cli.main(["report", *paths, "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "report.html").exists()
    capsys.readouterr()
    assert cli.main(["diff", "2.15", "2.21", *paths]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Upgrading tf215 (TF 2.15.1, Keras 2.15.0) -> tf221 (TF 2.21.0, Keras 3.13.2)")
    assert cli.main(["diff", "2.15", "2.99", *paths]) == 2


def test_committed_catalogue_is_current():
    text = catalog.render_catalog(catalog.load_library(ROOT / "cases"),
                                  catalog.read_merged(ROOT / "reports" / "merged.json"), root=ROOT)
    committed = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    assert committed == text, "docs/catalog.md is stale: run `lstm-atlas catalog`"


def test_workflow_runs_every_tox_env_and_merges():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "matrix.yml").read_text())
    jobs = workflow["jobs"]
    tox_envs = [line.strip() for line in (ROOT / "tox.ini").read_text().split("env_list =")[1]
                .split("\n\n")[0].splitlines()[1:] if line.strip() and not line.strip().startswith("#")]
    tox_envs = [e for e in tox_envs if "=" not in e and not e.startswith(("skip", "labels"))]
    assert jobs["cpu"]["strategy"]["matrix"]["env"] == tox_envs
    assert "gpu" in jobs["gpu"]["runs-on"]
    assert set(jobs["report"]["needs"]) == {"cpu", "gpu"} and jobs["report"]["if"] == "${{ always() }}"
    steps = " ".join(str(s.get("run", "")) for s in jobs["report"]["steps"])
    assert "lstm-atlas report results/*.json" in steps and "lstm-atlas diff 2.15 2.16" in steps
    for job in ("cpu", "gpu"):
        uploads = [s for s in jobs[job]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert uploads and uploads[0]["with"]["if-no-files-found"] == "error"


def test_report_puts_the_committed_fuzz_maps_side_by_side(recorded, tmp_path):
    import shutil

    from .conftest import ROOT

    maps = sorted((ROOT / "reports" / "fuzz").glob("tf*/map.json"))
    assert maps, "no committed fuzz map under reports/fuzz/"
    for path in maps:
        shutil.copytree(path.parent, tmp_path / "fuzz" / path.parent.name)
    written = write_report(merge(recorded), tmp_path)
    assert {p.name for p in written} >= {"index.md", "index.html"}
    index = (tmp_path / "fuzz" / "index.md").read_text()
    for path in maps:
        assert f"{path.parent.name}/heatmap.png" in index
