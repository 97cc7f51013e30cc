"""``lstm-atlas fuzz reattribute``: a map's attribution rebuilt from its stored outcomes, without TensorFlow.

The fixture is a corpus of four examples and a map of their outcomes as a worker records them (the
messages are TensorFlow's, recorded), next to a one-case library copied from cases/.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from lstm_atlas.cli import main
from lstm_atlas.errors import InputError
from lstm_atlas.fuzz.corpus import make_corpus, write_corpus
from lstm_atlas.fuzz.errormap import FuzzMap, write_map
from lstm_atlas.fuzz.oracle import Oracle, load_triage
from lstm_atlas.fuzz.reattribute import reattribute
from lstm_atlas.fuzz.strategies import example_key

from .conftest import CASES_DIR

ENV = {"tensorflow": "2.21.0", "keras": "3.13.2", "keras_flavor": "keras3"}
CASE = "predict-on-scalar-input"


def example(shape, step="predict"):
    return {"layer": "LSTM", "config": {"units": 1}, "masking": False, "declared": None,
            "input": {"shape": list(shape), "dtype": "float32", "container": "ndarray"}, "step": step}


def raised(cls, message, stage):
    return {"status": "raised", "stage": stage, "duration_s": 0.01, "reused": False,
            "exception": {"type": cls, "module": "builtins", "hierarchy": [cls, "Exception"], "message": message,
                          "core": message}}


#: (example, outcome): the case's own error, an error no case matches (twice: predict and call), an ok.
RUNS = [(example(()), raised("IndexError", "tuple index out of range", "predict")),
        (example((0,)), raised("IndexError", "list index out of range", "predict")),
        (example((0,), step="call"), raised("IndexError", "list index out of range", "call")),
        (example((2, 3, 1)), {"status": "ok", "stage": "predict", "duration_s": 0.02, "reused": True})]


@pytest.fixture
def folder(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(next(CASES_DIR.glob(f"*/{CASE}.yaml")), cases / f"{CASE}.yaml")
    fuzz = tmp_path / "fuzz"
    corpus = make_corpus([e for e, _ in RUNS], [])
    fuzz.mkdir()
    write_corpus(fuzz / "corpus.json", corpus)
    oracle = Oracle.from_library([], ENV, merged=None, allow=None, triage=None)  # attributed with no library
    fmap = FuzzMap(ENV, "replay", None, corpus=corpus["corpus"], family_of=oracle.family_of)
    for ex, outcome in RUNS:
        fmap.add(ex, dict(outcome), oracle.explain(outcome, ex))
    write_map(fmap.to_json(), fuzz / "tf221", heatmap=False)
    return tmp_path


def run(folder, triage=None):
    return reattribute(folder / "fuzz", cases_dir=folder / "cases", merged=None, allow=None, triage=triage)


def summary(folder):
    return json.loads((folder / "fuzz" / "tf221" / "map.json").read_text("utf-8"))["summary"]


def test_the_current_library_explains_stored_outcomes_and_a_second_run_rewrites_nothing(folder):
    assert summary(folder)["explained_by_case"] == 0
    result = run(folder)
    assert result["changed"] == ["tf221"]
    s = summary(folder)
    assert (s["failing_examples"], s["explained_by_case"], s["unexplained_examples"]) == (3, 1, 2)
    assert (folder / "fuzz" / "index.md").exists() and (folder / "fuzz" / "tf221" / "heatmap.png").exists()
    before = (folder / "fuzz" / "tf221" / "map.json").read_bytes()
    again = run(folder)
    assert again["changed"] == [] and again["unchanged"] == ["tf221"]
    assert (folder / "fuzz" / "tf221" / "map.json").read_bytes() == before


def test_a_triaged_signature_is_explained_by_its_case_only_for_examples_of_its_kind(folder):
    triage = folder / "triage.yaml"
    triage.write_text(yaml.safe_dump([{"signature": "IndexError: list index out of range",
                                       "disposition": "duplicate", "case": CASE, "reason": "r"}]), "utf-8")
    assert load_triage(triage) == {"IndexError list index out of range": {CASE}}
    run(folder, triage)
    data = json.loads((folder / "fuzz" / "tf221" / "map.json").read_text("utf-8"))
    # the case runs predict: the predict example is credited, the call example is not
    assert data["outcomes"][example_key(RUNS[1][0])]["cases"] == [CASE]
    assert data["outcomes"][example_key(RUNS[2][0])]["cases"] == []
    assert data["summary"]["explained_by_case"] == 2
    # the run's own timings are the replay's, not the re-attribution's
    assert data["summary"]["models_reused"] == 1 and data["started"] and data["attributed"]


def test_an_example_dropped_from_the_corpus_leaves_the_map(folder):
    kept = [e for e, _ in RUNS[:3]]
    corpus = make_corpus(kept, [])
    write_corpus(folder / "fuzz" / "corpus.json", corpus)
    run(folder)
    data = json.loads((folder / "fuzz" / "tf221" / "map.json").read_text("utf-8"))
    assert sorted(data["outcomes"]) == sorted(example_key(e) for e in kept)
    assert data["summary"]["corpus"] == corpus["corpus"] and data["summary"]["ok_examples"] == 0


def test_a_map_without_raw_outcomes_or_missing_an_example_is_refused_on_one_line(folder, capsys):
    path = folder / "fuzz" / "tf221" / "map.json"
    data = json.loads(path.read_text("utf-8"))
    for outcome in data["outcomes"].values():
        del outcome["raw"]
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(InputError, match="no raw outcome"):
        run(folder)
    data["outcomes"].pop(example_key(RUNS[0][0]))
    path.write_text(json.dumps(data), "utf-8")
    code = main(["fuzz", "reattribute", str(folder / "fuzz"), "--cases", str(folder / "cases"),
                 "--publish-candidates", str(folder / "candidates")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "no outcome for 1 corpus examples" in err and "\n" not in err


def test_bad_triage_rows_are_refused(tmp_path):
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump([{"signature": "X: y", "disposition": "case"}]), "utf-8")
    with pytest.raises(InputError, match=r"\[0\]: case"):
        load_triage(path)


def test_a_triage_row_written_with_an_older_normaliser_still_finds_its_signature():
    from lstm_atlas.fuzz.oracle import triage_key

    then = "TypeError: int<shape> argument must be a <dtype>, a bytes-like <dtype> or a real number, not <name>"
    now = "TypeError: int() argument must be a <dtype>, a bytes-like <dtype> or a real number, not <name>"
    assert triage_key(then) == triage_key(now)
    assert triage_key("InvalidArgumentError: slice index <num> of dimension <num> out of bounds. [Op:StridedSlice]") \
        == triage_key("InvalidArgumentError: slice index <num> of dimension <num> out of bounds.")
    assert triage_key(now) != triage_key("TypeError: float() argument must be a string or a real number")


def test_each_signature_left_unexplained_gets_one_candidate_which_validates(folder):
    from lstm_atlas.case.validate import load_case

    reattribute(folder / "fuzz", cases_dir=folder / "cases", merged=None, allow=None, triage=None,
                candidates_dir=folder / "candidates")
    written = sorted((folder / "candidates" / "tf221").glob("fuzz-*.yaml"))
    assert len(written) == 1 and "indexerror" in written[0].name  # 'list index out of range', twice
    assert load_case(written[0]).id == written[0].stem
    data = json.loads((folder / "fuzz" / "tf221" / "map.json").read_text("utf-8"))
    assert data["summary"]["candidates"] == 1


def test_a_candidate_whose_signature_is_now_explained_leaves_the_folder(folder):
    stale = folder / "candidates" / "tf221" / "fuzz-valueerror-00000000.yaml"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("id: fuzz-valueerror-00000000\n", "utf-8")
    kept_note = folder / "candidates" / "tf221" / "README.md"
    kept_note.write_text("not a candidate\n", "utf-8")
    reattribute(folder / "fuzz", cases_dir=folder / "cases", merged=None, allow=None, triage=None,
                candidates_dir=folder / "candidates")
    names = sorted(p.name for p in (folder / "candidates" / "tf221").iterdir())
    assert len(names) == 2 and "README.md" in names and "fuzz-valueerror-00000000.yaml" not in names


def test_a_triaged_signature_is_no_candidate_but_its_examples_stay_unexplained(folder):
    reattribute(folder / "fuzz", cases_dir=folder / "cases", merged=None, allow=None, triage=None,
                candidates_dir=folder / "candidates")
    before = json.loads((folder / "fuzz" / "tf221" / "map.json").read_text("utf-8"))
    sig = next(s["signature"] for s in before["signatures"] if s.get("candidate"))
    (folder / "fuzz" / "triage.yaml").write_text(
        f"- candidate: x.yaml\n  signature: {json.dumps(sig)}\n  disposition: allow\n  reason: judged\n", "utf-8")
    reattribute(folder / "fuzz", cases_dir=folder / "cases", merged=None, allow=None, triage=None,
                candidates_dir=folder / "candidates")
    after = json.loads((folder / "fuzz" / "tf221" / "map.json").read_text("utf-8"))
    assert not list((folder / "candidates" / "tf221").glob("fuzz-*.yaml"))
    assert after["summary"]["candidates"] == 0
    assert after["summary"]["explained_by_case"] == before["summary"]["explained_by_case"]
    assert after["summary"]["unexplained_examples"] == before["summary"]["unexplained_examples"]
