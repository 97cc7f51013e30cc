"""The catalogue says only what the matrix says: "Verified on", override stages, environment labels.

Unit tests on small hand-built matrices and one real case file; the last tests read the committed
docs/catalog.md and reports/merged.json.
"""

from __future__ import annotations

import re

from lstm_atlas.case.library import load_library
from lstm_atlas.case.validate import load_case
from lstm_atlas.matrix import catalog
from lstm_atlas.matrix.merge import read_merged
from lstm_atlas.versions import env_label

from .conftest import ROOT, good_case

ENVS = {"tf215": {"tensorflow": "2.15.1", "keras": "2.15.0"},
        "tf216": {"tensorflow": "2.16.2", "keras": "3.3.3"},
        "tf221": {"tensorflow": "2.21.0", "keras": "3.13.2"},
        "tf221-keras-latest": {"tensorflow": "2.21.0", "keras": "3.15.1"},
        "tf221-legacy": {"tensorflow": "2.21.0", "keras": "2.21.0", "legacy_keras": True}}


def _merged(case_id: str, fix: dict, repro: dict | None = None) -> dict:
    repro = repro or {k: {"verdict": "pass", "status": "raised"} for k in ENVS}
    return {"environments": ENVS, "results": {case_id: {"repro": {"cpu": repro}, "fix": {"cpu": fix}}}}


def _verified_line(tmp_path, merged: dict) -> str:
    path = tmp_path / "cases" / "input-rank" / "good-case.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(good_case())
    text = catalog.render_catalog([load_case(path)], merged, root=tmp_path)
    return next(line for line in text.splitlines() if line.startswith("**Verified on:**"))


def test_verified_on_lists_only_environments_where_the_fix_passed_and_ran_clean(tmp_path):
    fix = {"tf215": {"verdict": "pass", "status": "ok"},
           "tf216": {"verdict": "pass", "status": "crash"},  # expected crash: passes, fixes nothing
           "tf221": {"verdict": "fail", "status": "raised"},
           "tf221-keras-latest": {"verdict": "pass", "status": "ok"}}
    line = _verified_line(tmp_path, _merged("good-case", fix))
    assert line == "**Verified on:** CPU: TF 2.15.1 / Keras 2.15.0, TF 2.21.0 / Keras 3.15.1"


def test_a_reproduced_repro_does_not_verify_anything(tmp_path):
    fix = {"tf215": {"verdict": "fail", "status": "raised"}}
    line = _verified_line(tmp_path, _merged("good-case", fix))
    assert line == "**Verified on:** none: the fix has not passed in the matrix"


def test_every_environment_verified_is_said_once_with_its_span(tmp_path):
    fix = {k: {"verdict": "pass", "status": "ok"} for k in ENVS}
    line = _verified_line(tmp_path, _merged("good-case", fix))
    assert line == "**Verified on:** CPU: all 5 environments (TF 2.15.1 to 2.21.0, and tf_keras)"


def test_two_environments_on_one_tensorflow_get_distinct_labels():
    listed = catalog.env_list(["tf221", "tf221-keras-latest", "tf221-legacy"], ENVS)
    labels = listed.split(", ")
    assert labels == [env_label(ENVS[k]) for k in ("tf221", "tf221-keras-latest", "tf221-legacy")]
    assert len(set(labels)) == 3


def test_claim_verdicts_name_environments_by_their_unique_labels():
    text = catalog.group_by_verdict({"tf221": "holds", "tf221-keras-latest": "false"}, ENVS)
    assert text == "false on TF 2.21.0 / Keras 3.15.1; holds on TF 2.21.0 / Keras 3.13.2"


def test_an_override_that_changes_the_exception_keeps_the_base_stage():
    expect = {"raises": "ValueError", "stage": "fit", "match": "a",
              "overrides": [{"when": {"keras": "<3"}, "raises": "TypeError", "match": "b"},
                            {"when": {"keras": "<3.12"}, "raises": "KeyError", "stage": "predict"}]}
    text = catalog.describe_expectation(expect)
    assert "when keras &lt;3: raises `TypeError` at `fit`, message matching `b`" in text
    assert "when keras &lt;3.12: raises `KeyError` at `predict`" in text
    assert "?" not in text


def test_no_override_of_the_library_describes_its_stage_as_unknown():
    for case in load_library(ROOT / "cases"):
        for variant in case.variants.values():
            assert "`?`" not in catalog.describe_expectation(variant["expect"]), case.id


def test_committed_catalogue_verified_lines_are_the_matrix_fix_passes():
    merged = read_merged(ROOT / "reports" / "merged.json")
    text = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    assert "`?`" not in text
    _, verified = catalog.matrix_facts(merged)
    envs = merged["environments"]
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    for section in sections:
        case_id = re.search(r"^`([\w.-]+)` · tags", section, re.M).group(1)
        line = re.search(r"^\*\*Verified on:\*\* (.+)$", section, re.M).group(1)
        assert line == (catalog.verified_text(verified.get(case_id, {}), envs)
                        or "none: the fix has not passed in the matrix"), case_id
        for key in envs:  # a fix that did not run clean there is never listed
            cell = merged["results"].get(case_id, {}).get("fix", {}).get("cpu", {}).get(key)
            if cell is None or cell.get("status") != "ok" or cell.get("verdict") != "pass":
                assert f"all {len(envs)} environments" not in line, case_id
                assert env_label(envs[key]) + "," not in line + ",", (case_id, key)


def test_catalogue_says_how_many_public_reports_each_case_explains(tmp_path):
    """"Seen in public reports" counts the wild corpus (tune and frozen) and is absent without it."""
    from lstm_atlas.case.library import load_library
    from lstm_atlas.wild import load_corpus

    cases = load_library(ROOT / "cases")
    reports = load_corpus(ROOT / "wild", {c.id: c.family for c in cases})
    text = catalog.render_catalog(cases, None, root=ROOT)
    for case in cases:
        n = sum(r.case == case.id for r in reports)
        block = text.split(f"{case.id}` · tags")[1].split("Case file:")[0]
        assert (f"**Seen in public reports:** {n} (" in block) == (n > 0), case.id
    assert "Seen in public reports" not in catalog.render_catalog(cases, None, root=tmp_path)
