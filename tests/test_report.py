"""Merging results, the upgrade diff, the report and the catalogue, on recorded results files.

tests/data/results-tf215.json and results-tf221.json were written by real runs of
`pytest cases/... --atlas-results` on TF 2.15.1 and TF 2.21.0.
"""

from __future__ import annotations

import configparser
import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from lstm_atlas import cli
from lstm_atlas.case.library import load_library
from lstm_atlas.errors import InputError
from lstm_atlas.matrix import catalog
from lstm_atlas.matrix.diff import cell_changes, same_message, strip_volatile, upgrade_diff
from lstm_atlas.matrix.merge import merge, pick_env, read_merged
from lstm_atlas.matrix.report import render, short_cell, write_report
from lstm_atlas.matrix.results import read_results
from lstm_atlas.normalise import message_core

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


def test_same_env_twice_keeps_the_later_file_only_when_asked(recorded):
    later = copy.deepcopy(recorded[1][1])
    later["items"][0]["verdict"] = "fail"
    with pytest.raises(InputError, match=r"results-tf221.json and later.json both hold environment tf221"):
        merge([recorded[1], ("later.json", later)])
    matrix = merge([recorded[1], ("later.json", later)], replace=True)
    assert matrix.sources["tf221"] == "later.json"


def _outcome(cell: dict) -> tuple:
    return (cell["verdict"], cell["status"], cell["exception_type"], cell["stage"],
            strip_volatile(cell["message"]), cell.get("claim_verdict"))


def test_diff_reports_keras3_changes(recorded):
    matrix = merge(recorded)
    diff = upgrade_diff(matrix, "2.15", "2.21")
    assert (diff["old"], diff["new"]) == ("tf215", "tf221")
    changed = diff["changed"]
    # recorded: Keras 2 predicts on the article's nested list, Keras 3 raises
    assert changed[("seed-000-prose-list-predict", "repro")]["changes"][0] == "started raising ValueError at predict"
    assert "message changed" in changed[("extra-window-axis-4d-input", "repro")]["changes"]
    compared = 0
    for (case_id, variant, kind), by_env in matrix.cells.items():
        old, new = by_env.get("tf215"), by_env.get("tf221")
        if kind != "cpu" or old is None or new is None or "skip" in (old["verdict"], new["verdict"]):
            continue
        compared += 1
        # listed exactly when the two recorded outcomes differ, checked here without cell_changes
        assert ((case_id, variant) in changed) == (_outcome(old) != _outcome(new)), (case_id, variant)
    assert compared > len(changed) > 0, "both changed and unchanged cells were compared"


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


def test_strip_volatile_ignores_auto_names_and_addresses():
    assert strip_volatile('layer "lstm_3" at 0x7f00ab') == strip_volatile('layer "lstm_12"  at 0x1')


def test_strip_volatile_ignores_the_run_directory_and_trace_numbers():
    # both pairs were 'message changed' in a diff of two runs on the same TF before this
    a = "The filename must end in `.weights.h5`. Received: filepath=/tmp/atlas-lfmyxm_p/model.h5"
    b = "The filename must end in `.weights.h5`. Received: filepath=/tmp/atlas-rh8gxt58/model.h5"
    assert strip_volatile(a) == strip_volatile(b)
    assert strip_volatile("lstm/TensorArrayV2_1@__inference_function_2074") == \
        strip_volatile("lstm/TensorArrayV2_1@__inference_function_2386")
    assert strip_volatile(a) != strip_volatile(a.replace("model.h5", "model.keras"))
    assert strip_volatile("single positional argument") != strip_volatile("single required positional argument")


def test_messages_cut_at_the_cell_limit_compare_as_far_as_both_go():
    # merge keeps 600 characters; a shorter trace number leaves a different tail inside the cut
    head = "error: loc(" + "x" * 560
    old = (head + "@__inference_function_2074 at fused")[:600]
    new = (head + "@__inference_function_86 at fused[StatefulPar")[:600]
    assert len(old) == len(new) == 600 and strip_volatile(old) != strip_volatile(new)
    assert same_message(old, new)
    assert not same_message(old, old.replace("error", "warning"))
    assert not same_message("short", "short but longer")


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
    assert rendered["outcomes.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("<tr data-family=") == len(matrix.cells)
    assert 'id="family"' in page and "data:image/png;base64," in page
    written = write_report(matrix, tmp_path)
    assert {p.name for p in written} == {"report.md", "report.html", "outcomes.png", "merged.json"}
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
    text = catalog.render_catalog(load_library(ROOT / "cases"),
                                  read_merged(ROOT / "reports" / "merged.json"), root=ROOT)
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
    assert "tf221-keras-latest" in tox_envs
    steps = " ".join(str(s.get("run", "")) for s in jobs["report"]["steps"])
    assert "lstm-atlas report results/*.json" in steps and "lstm-atlas diff 2.15 2.16" in steps
    assert "lstm-atlas diff tf221 tf221-keras-latest" in steps
    for job in ("cpu", "gpu"):
        uploads = [s for s in jobs[job]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert uploads and uploads[0]["with"]["if-no-files-found"] == "error"
        # failing items fail the job (no `|| echo`), and the results are uploaded all the same
        assert uploads[0]["if"] == "${{ always() }}"
        assert not any("||" in str(s.get("run", "")) for s in jobs[job]["steps"])
    assert any("pytest tests/" in str(s.get("run", "")) for s in jobs["tests"]["steps"])


def test_html_escapes_titles_versions_and_messages_once(recorded):
    matrix = merge(copy.deepcopy(recorded))
    case_id = next(iter(matrix.cases))
    matrix.cases[case_id]["title"] = "<script>alert('title')</script>"
    matrix.environments["tf221"]["tensorflow"] = "2.21.0<img src=x onerror=alert(1)>"
    rendered = render(matrix)
    page, md = rendered["report.html"], rendered["report.md"]
    assert "<script>alert(" not in page and "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "2.21.0&lt;img src=x onerror=alert(1)&gt;" in page
    # the word diff is built as HTML (escaped word by word), so it is not escaped a second time
    assert '<span class="del">' in page and "&lt;span" not in page and "&amp;lt;" not in page
    # Markdown renders raw HTML: escaped there too, once
    assert "<img src=x" not in md and "<script>" not in md
    assert "| 2.21.0&lt;img src=x onerror=alert(1)&gt; |" in md and "&amp;lt;" not in md
    # the page's embedded JSON cannot close its <script> element
    data = page.split('<script type="application/json" id="upgrade-data">')[1].split("</script>")[0]
    assert "<" not in data and json.loads(data)["labels"]["tf221"].startswith("TF 2.21.0<img")


def test_report_md_escapes_case_text(recorded):
    matrix = merge(copy.deepcopy(recorded))
    matrix.cases["seed-000-prose-list-predict"]["title"] = "<img src=x onerror=alert(1)>"
    md = render(matrix)["report.md"]
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "## Upgrading TF 2.15.1 / Keras 2.15.0 to TF 2.21.0 / Keras 3.13.2" in md
    assert "- **seed-000-prose-list-predict** [repro] &lt;img src=x onerror=alert(1)&gt;: ok@predict → " \
           "ValueError@predict" in md


def test_page_embeds_the_classifier_output_for_every_ordered_pair(recorded):
    from lstm_atlas.matrix.report import upgrade_data
    from lstm_atlas.matrix.upgrade import upgrade

    matrix = merge(recorded)
    data = upgrade_data(matrix)
    envs = matrix.env_keys()
    assert set(data["pairs"]) == {f"cpu|{a}|{b}" for a in envs for b in envs if a != b}
    assert data["default"] == ["tf215", "tf221"]
    for key, pair in data["pairs"].items():
        _, old, new = key.split("|")
        expected = upgrade(matrix, old, new)
        assert pair["summary"] == expected["summary"]
        assert [[kind, [c[:4] for c in changes]] for kind, changes in pair["groups"]] == \
            [[g["kind"], [[c["case"], c["variant"], c["from"]["outcome"], c["to"]["outcome"]] for c in g["changes"]]]
             for g in expected["groups"]]


def test_grid_cells_show_behaviour_and_transitions(recorded):
    page = render(merge(recorded))["report.html"]
    row = page.split('data-case="seed-000-prose-list-predict" data-variant="repro">')[1].split("</tr>")[0]
    assert 'data-outcome="ok@predict"' in row and 'data-outcome="ValueError@predict"' in row
    assert 'data-transition="breaks"' in row and "ValueError<wbr>@predict" in row


def _workflow_jobs() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "matrix.yml").read_text())["jobs"]


def test_workflow_fails_when_a_case_fails_and_still_uploads_the_results():
    jobs = _workflow_jobs()
    assert not jobs["cpu"].get("continue-on-error")
    for job in ("cpu", "gpu"):
        case_runs = [s for s in jobs[job]["steps"] if "tox -e" in str(s.get("run", ""))]
        assert case_runs, f"{job} job runs no cases"
        for step in case_runs:
            # `|| echo`, `|| true` or `; exit 0` would turn a failing case into a green job
            assert "||" not in step["run"] and "exit 0" not in step["run"], step["run"]
            assert not step.get("continue-on-error")
        uploads = [s for s in jobs[job]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert "always()" in str(uploads[0].get("if", "")), f"{job}: results of a failing run must still be uploaded"


def test_workflow_runs_the_tests_with_chromium():
    jobs = _workflow_jobs()
    test_jobs = [name for name, job in jobs.items()
                 if any(re.search(r"pytest tests/?(\s|$)", str(s.get("run", ""))) for s in job["steps"])]
    assert test_jobs, "no job runs `pytest tests/`"
    job = jobs[test_jobs[0]]
    runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert not job.get("continue-on-error") and "||" not in runs
    extras = set(re.search(r"-e '\.\[([\w,]+)\]'", runs).group(1).split(","))
    assert {"cpu", "browser"} <= extras, "the tests need TensorFlow and Playwright"
    assert "lint" in extras and "ruff check ." in runs, "the same job runs the linter"
    # tests/test_report_browser.py finds Chromium as `chromium` on PATH (and errors under CI without it)
    assert "playwright install" in runs and "/chromium" in runs
    assert " -k " not in runs and "--deselect" not in runs


def test_keras_latest_env_pins_tensorflow_but_not_keras():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    section = tox["testenv:tf221-keras-latest"]
    constraints = "{toxinidir}/constraints/tf-2.21-keras-latest.txt"
    assert f"-c {constraints}" in section["deps"].split("\n")
    assert f"UV_CONSTRAINT = {constraints}" in section["set_env"]
    assert f"PIP_CONSTRAINT = {constraints}" in section["set_env"]
    assert "ATLAS_ENV = {envname}" in section["set_env"]
    text = (ROOT / "constraints" / "tf-2.21-keras-latest.txt").read_text()
    pins = [line.split("#")[0].strip() for line in text.splitlines()]
    pins = [p for p in pins if p]
    assert pins == ["tensorflow-cpu==2.21.0"], "TF pinned, Keras left to the resolver (the newest)"
    assert "tf221-keras-latest" in tox["tox"]["labels"].split("keras3 =")[1]


RESULTS = ROOT / "reports" / "results"


def test_newest_keras_results_are_a_real_newer_keras_and_all_pass():
    pinned, latest = read_results(RESULTS / "tf221.json"), read_results(RESULTS / "tf221-keras-latest.json")
    pin = next(line for line in (ROOT / "constraints" / "tf-2.21.txt").read_text().splitlines()
               if line.startswith("keras=="))
    assert pinned["environment"]["keras"] == pin.split("==")[1]
    assert pinned["environment"]["tensorflow"] == latest["environment"]["tensorflow"] == "2.21.0"
    assert Version(latest["environment"]["keras"]) > Version(pinned["environment"]["keras"])
    assert latest["environment"]["env_name"] == "tf221-keras-latest" and pinned["environment"]["env_name"] == "tf221"
    items = []
    for doc in (pinned, latest):
        verdicts = {(i["case_id"], i["variant"], i.get("device_kind")): i["verdict"] for i in doc["items"]}
        assert set(verdicts.values()) <= {"pass", "skip"}, [k for k, v in verdicts.items() if v not in ("pass", "skip")]
        assert "pass" in verdicts.values()
        items.append(set(verdicts))
    assert items[0] == items[1], "both runs must cover the same cases for the diff to mean anything"
    # where Keras 3.14 changed the behaviour, the base expectation is the newest Keras and the
    # pinned 3.13.2 passes through an override keyed on the Keras version
    def applied(doc):
        return {i["case_id"]: i["expected"]["applied_overrides"] for i in doc["items"]
                if i["variant"] == "repro" and i["device_kind"] == "cpu"}
    for case_id in ("seed-003-ex3-lstmcell-in-sequential", "stateful-fit-partial-last-batch"):
        assert applied(latest)[case_id] == [] and applied(pinned)[case_id] == [0]


def test_committed_newest_keras_diff_is_current(capsys):
    paths = [str(RESULTS / "tf221.json"), str(RESULTS / "tf221-keras-latest.json")]
    assert cli.main(["diff", "tf221", "tf221-keras-latest", *paths]) == 0
    rendered = capsys.readouterr().out
    committed = (ROOT / "reports" / "diff-tf221-keras-latest.txt").read_text("utf-8")
    assert committed == rendered, "reports/diff-tf221-keras-latest.txt is stale: rerun `lstm-atlas diff`"
    assert "stateful-fit-partial-last-batch [repro]" in rendered
    assert "exception class changed: tensorflow.python.framework.errors_impl.OperatorNotAllowedInGraphError" in rendered


def test_report_puts_the_committed_fuzz_maps_side_by_side(recorded, tmp_path):
    import shutil

    from .conftest import ROOT

    maps = sorted((ROOT / "reports" / "fuzz").glob("tf*/map.json"))
    assert maps, "no committed fuzz map under reports/fuzz/"
    for path in maps:
        shutil.copytree(path.parent, tmp_path / "fuzz" / path.parent.name)
    assert cli.main(["report", *(path for path, _ in recorded), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").exists() and (tmp_path / "fuzz" / "index.html").exists()
    index = (tmp_path / "fuzz" / "index.md").read_text()
    for path in maps:
        assert f"{path.parent.name}/heatmap.png" in index
