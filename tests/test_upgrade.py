"""The upgrade classifier (matrix/upgrade.py), its renderers and `lstm-atlas upgrade`, on recorded results.

tests/data/results-tf215.json and results-tf221.json were written by real runs on TF 2.15.1 and
TF 2.21.0; reports/merged.json is the committed 12-environment matrix.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from lstm_atlas import cli
from lstm_atlas.matrix.diff import cell_changes
from lstm_atlas.matrix.markdown import cell, escape
from lstm_atlas.matrix.merge import merge, merge_files
from lstm_atlas.matrix.results import read_results
from lstm_atlas.matrix.upgrade import KINDS, classify, first_keras3_pair, outcome, summary_line, upgrade
from lstm_atlas.matrix.upgrade_render import render_markdown, render_text
from lstm_atlas.normalise import message_template

from .conftest import ROOT

DATA = Path(__file__).parent / "data"
MERGED = ROOT / "reports" / "merged.json"


@pytest.fixture(scope="module")
def recorded():
    return merge([(str(p), read_results(p)) for p in sorted(DATA.glob("results-*.json"))])


@pytest.fixture(scope="module")
def committed():
    return merge_files([MERGED])


def _changes(result: dict) -> dict:
    return {(c["case"], c["variant"]): group["kind"] for group in result["groups"] for c in group["changes"]}


def test_recorded_keras3_upgrade_breaks_the_nested_list_predict(recorded):
    result = upgrade(recorded, "2.15", "2.21")
    assert (result["from"]["env"], result["to"]["env"]) == ("tf215", "tf221")
    assert result["from"]["label"] == "TF 2.15.1 / Keras 2.15.0" and result["to"]["label"] == "TF 2.21.0 / Keras 3.13.2"
    changes = _changes(result)
    # recorded: Keras 2 predicts on the article's nested list, Keras 3 raises
    assert changes[("seed-000-prose-list-predict", "repro")] == "breaks"
    entry = result["groups"][0]["changes"][0]
    assert (entry["from"]["outcome"], entry["to"]["outcome"]) == ("ok@predict", "ValueError@predict")
    assert entry["fix_on_to"]["works"] and entry["fix_on_to"]["outcome"] == "ok@predict"
    assert entry["fix_on_to"]["explanation"] == recorded.cases["seed-000-prose-list-predict"]["fix_explanation"]
    # Keras 3 reworded the rank check: another template, same class
    assert changes[("extra-window-axis-4d-input", "repro")] == "message"


def test_groups_in_impact_order_and_every_compared_cell_accounted_for(committed):
    result = upgrade(committed, "2.15", "2.16")
    assert [g["kind"] for g in result["groups"]] == list(KINDS)
    s = result["summary"]
    assert [s[k] for k in KINDS] == [len(g["changes"]) for g in result["groups"]]
    assert s["compared"] == s["unchanged"] + sum(s[k] for k in KINDS)
    compared = 0
    changes = _changes(result)
    for (case_id, variant, device), by_env in committed.cells.items():
        old, new = by_env.get("tf215"), by_env.get("tf216")
        if device != "cpu" or "skip" in (old["verdict"], new["verdict"]):
            continue
        compared += 1
        kind = changes.get((case_id, variant))
        # each group's definition, checked on the raw cells without classify()
        if old["status"] == "ok" and new["status"] != "ok":
            assert kind == "breaks", case_id
        elif old["status"] != "ok" and new["status"] == "ok":
            assert kind == "now_works", case_id
        elif old["status"] == new["status"] == "raised" and old["exception_type"] != new["exception_type"]:
            assert kind == "exception_type", case_id
        elif old["status"] == "raised" and new["status"] == "crash":
            assert kind == "exception_type", case_id
        elif old["status"] == new["status"] == "raised" and (
                old["stage"] != new["stage"] or message_template(old["message"]) != message_template(new["message"])):
            assert kind == "message", case_id
        elif old["status"] == new["status"] == "raised" and old["message"] != new["message"]:
            assert kind in ("cosmetic", None), case_id
        else:
            assert kind is None, case_id
    assert compared == s["compared"] == 2 * len(committed.cases), "both variants of every case, on CPU"


def test_keras3_breaks_are_the_save_and_api_changes_with_their_fixes(committed):
    result = upgrade(committed, "tf215", "tf216")
    breaks = {(c["case"], c["variant"]): c for c in result["groups"][0]["changes"]}
    for case_id in ("save-model-without-extension", "save-weights-plain-h5-filename", "lstm-batch-input-shape-kwarg"):
        entry = breaks[(case_id, "repro")]
        assert entry["from"]["outcome"].startswith("ok@") and entry["to"]["outcome"].startswith("ValueError@")
        assert entry["fix_on_to"]["works"] and entry["fix_on_to"]["verdict"] == "pass"
        assert entry["family"] == committed.cases[case_id]["family"] and entry["title"]
    assert breaks[("save-model-without-extension", "repro")]["to"]["outcome"] == "ValueError@save"
    # the TFLite fixes ran clean on 2.15 and abort the interpreter on 2.16: a break, and the fix does not run clean
    tflite = breaks[("tflite-lstm-default-converter", "fix")]
    assert tflite["to"]["outcome"] == "crash" and not tflite["fix_on_to"]["works"]
    # an except ValueError stops catching
    types = {c["case"]: c for c in result["groups"][1]["changes"]}
    assert (types["bidirectional-initial-state-two-tensors"]["from"]["outcome"],
            types["bidirectional-initial-state-two-tensors"]["to"]["outcome"]) == ("ValueError@call", "IndexError@call")
    assert types["tflite-lstm-default-converter"]["to"]["outcome"] == "crash"
    now_works = {c["case"] for c in result["groups"][2]["changes"]}
    assert "lstm-initial-state-numpy-keras2" in now_works
    cosmetic = {c["case"] for c in result["groups"][4]["changes"]}
    assert "stateful-fit-partial-last-batch" in cosmetic


def _raised(exc="ValueError", stage="fit", message="expected 3 features, found 2"):
    return {"verdict": "pass", "status": "raised", "exception_type": exc, "exception": f"builtins.{exc}",
            "stage": stage, "message": message}


def test_classify_vocabulary():
    ok = {"verdict": "pass", "status": "ok", "exception_type": None, "stage": "fit", "message": ""}
    assert classify(ok, _raised()) == "breaks"
    assert classify(_raised(), ok) == "now_works"
    assert classify(_raised(), _raised("TypeError")) == "exception_type"
    assert classify(_raised(), dict(_raised(), status="crash", exception_type=None, stage=None)) == "exception_type"
    assert classify(ok, dict(ok, status="crash", stage=None)) == "breaks"
    assert classify(_raised(), _raised(stage="construct")) == "message"  # a stage move changes the meaning
    assert classify(_raised(), _raised(message="Shapes (None, 1) and (None, 3) are incompatible")) == "message"
    # numbers and names differ, the template is equal: wording only
    assert classify(_raised(), _raised(message="expected 4 features, found 2")) == "cosmetic"
    assert classify(_raised(message='layer "lstm_3"'), _raised(message='layer "lstm_12"')) is None
    assert classify(_raised(), _raised()) is None and classify(ok, ok) is None
    assert classify(ok, dict(ok, verdict="skip")) is None and classify(None, ok) is None
    assert classify(ok, dict(ok, status="error")) is None  # a harness fault is not TensorFlow's behaviour
    assert outcome(_raised()) == "ValueError@fit" and outcome(ok) == "ok@fit" and outcome(None) == "—"


def test_same_environment_gives_every_group_empty(committed):
    result = upgrade(committed, "tf221", "tf221")
    assert [g["kind"] for g in result["groups"]] == list(KINDS)
    assert all(g["changes"] == [] for g in result["groups"])
    assert result["summary"]["unchanged"] == 2 * len(committed.cases)


def test_unknown_environment_is_a_key_error(committed):
    with pytest.raises(KeyError, match="no results for '2.99'"):
        upgrade(committed, "2.15", "2.99")


def test_keras3_switch_pair(committed, recorded):
    assert first_keras3_pair(committed) == ("tf215", "tf216")
    assert first_keras3_pair(recorded) == ("tf215", "tf221")


def test_text_puts_breaks_first_and_folds_cosmetic(committed):
    result = upgrade(committed, "2.15", "2.16")
    text = render_text(result)
    lines = text.splitlines()
    assert lines[0] == summary_line(result)
    breaks = result["summary"]["breaks"]
    assert breaks >= 10 and lines[0].startswith(
        f"TF 2.15.1 / Keras 2.15.0 (tf215) -> TF 2.16.2 / Keras 3.3.3 (tf216), cpu: {breaks} breaks")
    heads = [line for line in lines if line and not line.startswith(" ")][1:]
    assert [h.split(" (")[0] for h in heads] == ["BREAKS", "EXCEPTION TYPE CHANGES", "NOW WORKS", "MESSAGE CHANGES",
                                                 "COSMETIC WORDING CHANGES"]
    assert text.index("save-model-without-extension [repro]") < text.index("bidirectional-initial-state-two-tensors")
    assert "      tf215: ok@predict -> tf216: ValueError@save" in text
    cosmetic = result["groups"][-1]["changes"]
    assert len(cosmetic) >= 1 and lines[-1] == "  " + ", ".join(f"{c['case']} [{c['variant']}]" for c in cosmetic)
    assert "fix on tf216: runs clean (ok@predict). Save to a path ending in .keras" in text


def test_markdown_escapes_case_text_and_environment_fields(committed):
    matrix = copy.deepcopy(committed)
    matrix.cases["save-model-without-extension"]["title"] = "<img src=x onerror=alert(1)> | `code`"
    matrix.environments["tf216"]["tensorflow"] = "2.16.2<script>alert(2)</script>"
    result = upgrade(matrix, "tf215", "tf216")
    md = render_markdown(result)
    counts = result["summary"]
    assert "<img" not in md and "<script" not in md
    assert "&lt;img src=x onerror=alert(1)&gt; \\| &#96;code&#96;" in md
    assert "2.16.2&lt;script&gt;alert(2)&lt;/script&gt;" in md
    assert md.index(f"## Breaks ({counts['breaks']})") < md.index("## Exception type changes") \
        < md.index("## Now works") < md.index("## Message changes") \
        < md.index(f"<details><summary>Cosmetic wording changes ({counts['cosmetic']})")


def test_markdown_helper():
    assert escape('<b onclick="x">a & b</b>\nnext') == '&lt;b onclick="x"&gt;a &amp; b&lt;/b&gt; next'
    assert cell("a | b `c`") == "a \\| b &#96;c&#96;" and escape(None) == ""


def test_cli_upgrade_formats_and_errors(tmp_path, monkeypatch, capsys):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "merged.json").write_bytes(MERGED.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["upgrade", "2.15", "2.16", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert "reading reports/merged.json" in err
    assert [g["kind"] for g in data["groups"]] == list(KINDS)
    assert data["from"]["env"] == "tf215" and data["to"]["env"] == "tf216"
    assert data["summary"]["breaks"] == len(data["groups"][0]["changes"]) >= 10
    first = data["groups"][0]["changes"][0]
    assert set(first) == {"case", "variant", "title", "family", "from", "to", "fix_on_to"}
    assert cli.main(["upgrade", "tf215", "tf216", "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Upgrading TF 2.15.1 / Keras 2.15.0 to TF 2.16.2 / Keras 3.3.3")
    assert cli.main(["upgrade", "2.15", "2.16", str(DATA / "results-tf215.json")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("lstm-atlas: error: no results for '2.16'")
    # the committed matrix ran on no GPU: said, not a silent "0 breaks"
    assert cli.main(["upgrade", "2.15", "2.16", "--device", "gpu"]) == 0
    out, err = capsys.readouterr()
    assert ", gpu: 0 breaks" in out and "warning: no case variant ran on gpu in both tf215 and tf216" in err
    (tmp_path / "bad.json").write_text("{oops")
    assert cli.main(["upgrade", "2.15", "2.16", "bad.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lstm-atlas: error: bad.json: not JSON")


def test_diff_sees_no_claim_change_from_a_cell_without_a_claim(committed):
    by_env = committed.cells[("tflite-lstm-default-converter", "repro", "cpu")]
    old, new = by_env["tf215"], by_env["tf216"]
    assert old["claim_verdict"] == "false" and new["claim_verdict"] is None and new["status"] == "crash"
    changes = cell_changes(old, new, "repro")
    assert not any("claim verdict" in c for c in changes)
    assert changes == ["outcome changed: ConverterError at convert -> crash"]
    assert "claim verdict changed: false -> partly" in cell_changes(old, dict(old, claim_verdict="partly"), "repro")
