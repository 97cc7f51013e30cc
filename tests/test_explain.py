"""``lstm-atlas explain`` on the committed index: self-explain, real reports, bands, CLI.

No TensorFlow: the index is built from the case library and the committed matrix
(reports/merged.json), whose messages TensorFlow itself produced.
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_atlas import cli
from lstm_atlas.case.load import load_text
from lstm_atlas.case.validate import build_case
from lstm_atlas.errors import CaseError
from lstm_atlas.explain.accuracy import query_text, without_report
from lstm_atlas.explain.index import Index, build_index, default_index_path, index_text
from lstm_atlas.explain.render import render_text, versions_text
from lstm_atlas.explain.score import LIKELY_AT, band_of, explain
from lstm_atlas.wild import load_corpus

from .conftest import GOOD_CASE

ROOT = Path(__file__).resolve().parent.parent
#: the real reports explain was first measured on (wild/tune/legacy.yaml), in the corpus format
WILD = [r for r in load_corpus(ROOT / "wild", splits=("tune",)) if r.path.endswith("legacy.yaml")]
MERGED = json.loads((ROOT / "reports" / "merged.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def index():
    return Index.load()


def _observed():
    for case_id, variants in sorted(MERGED["results"].items()):
        for device, by_env in variants.get("repro", {}).items():
            for env, cell in sorted(by_env.items()):
                if cell.get("exception_type") and cell.get("message"):
                    yield case_id, env, device, cell


def test_committed_index_is_current():
    built = index_text(build_index(ROOT / "cases", ROOT / "reports" / "merged.json", ROOT / "wild"))
    committed = default_index_path().read_text("utf-8")
    assert committed == built, "the explain index is stale: run `lstm-atlas explain --build-index` and commit it"


def test_every_observed_message_explains_back_to_its_case(index):
    """Each case's own message on each version ranks it first (ties only with cases raising the same text)."""
    wrong = []
    count = 0
    for case_id, env, _device, cell in _observed():
        count += 1
        answer = explain(f"{cell['exception_type']}: {cell['message']}", index)
        top = answer.matches[0]
        wanted_band = "likely" if answer.generic else "match"  # Python's own wording is capped
        if not (top.id == case_id or case_id in top.same_message_as) or top.band != wanted_band:
            wrong.append((case_id, env, top.id, top.score))
    assert count > 500
    assert wrong == []


def test_tied_cases_really_share_the_message(index):
    """A message that ranks another case first names its own case as a tie, and the case ranked first
    really records that message; the library has such messages, so the tie path is always checked."""
    ties = []
    for case_id, _env, _device, cell in _observed():
        answer = explain(cell["message"], index)
        top = answer.matches[0]
        assert top.id == case_id or case_id in top.same_message_as, (case_id, top.id)
        if top.id != case_id:
            ties.append((top.id, answer.query_template))
    assert ties, "no observed message ties with another case's: the tie path went unchecked"
    recorded = {(m["case"], m["template"]) for m in index.messages}
    assert [tie for tie in ties if tie not in recorded] == []


def test_known_messages_explain_to_their_case(index):
    known = [m for m in index.messages if m["origin"] == "known"]
    assert len(known) >= 5
    for doc in known:  # a message several cases raise is one answer, its cases the variants
        top = explain(doc["message"], index).matches[0]
        assert doc["case"] in [top.id] + top.variants


@pytest.fixture(scope="module")
def index_data():
    return json.loads(default_index_path().read_text("utf-8"))


def _held_out(index_data, report):
    """The answer for a report from an index without that report's own document (leave-one-out)."""
    return explain(query_text(report), Index(without_report(index_data, report.id, report.case, report.url)))


def test_real_reports_find_their_family_held_out(index_data):
    """Each legacy report scored without its own document: its family is among the first three answers
    for at least 85% of them (the target; benchmarks/explain_wild.py prints the whole corpus's figure)."""
    with_case = [r for r in WILD if r.case != "none"]
    found = [r.id for r in with_case if (a := _held_out(index_data, r)).known
             and r.family in [m.family for m in a.matches[:3]]]
    assert len(with_case) >= 25
    assert len(found) >= 0.85 * len(with_case), sorted({r.id for r in with_case} - set(found))


@pytest.mark.parametrize("report", [r for r in WILD if r.unrelated], ids=lambda r: r.id)
def test_errors_outside_the_library_are_not_matched(index_data, report):
    answer = _held_out(index_data, report)
    assert not answer.known
    assert answer.matches[0].score < LIKELY_AT
    assert answer.nearest_families
    assert "No known case" in render_text(answer)


def test_bands_separate_known_from_unrelated(index_data):
    """The calibration behind LIKELY_AT on the legacy reports, each held out: every unrelated error stays
    below it with room, and it answers at least 85% of the reports that have a case."""
    known = [_held_out(index_data, r).matches[0].score for r in WILD if r.case != "none"]
    unrelated = [_held_out(index_data, r).matches[0].score for r in WILD if r.unrelated]
    assert LIKELY_AT > max(unrelated) + 0.05
    assert sum(s >= LIKELY_AT for s in known) >= 0.85 * len(known)
    assert band_of(1.0) == "match" and band_of(LIKELY_AT) == "likely" and band_of(0.2) == "guess"


def test_narrowing_by_version_reports_that_versions_facts(index):
    message = "ValueError: Unrecognized keyword arguments passed to LSTM: {'batch_input_shape': [8, 5, 3]}"
    top = explain(message, index, tf="2.16").matches[0]
    assert top.id == "lstm-batch-input-shape-kwarg"
    assert {v["tensorflow"][:4] for v in top.fix_verified_on} == {"2.16"}
    everywhere = explain(message, index).matches[0]
    assert len(everywhere.fix_verified_on) > len(top.fix_verified_on)
    in_matrix = [o for o in top.observed_on if o.get("env")]
    assert in_matrix and all(o["keras"].startswith("3.") for o in in_matrix)


def test_version_narrowing_prefers_the_wording_of_that_version(index):
    # Keras 2 and Keras 3 word the same 2-D input problem differently; the version picks the case's wording
    message = "expected ndim=3, found ndim=2"
    k2 = explain(message, index, keras="2").matches[0]
    assert any(o.get("keras", "").startswith("2.") for o in k2.observed_on)


def test_gpu_known_message_carries_its_source(index):
    answer = explain(next(r.message for r in WILD if "33148" in r.url), index, device="gpu")
    top = answer.matches[0]
    assert top.id == "left-padded-mask-cudnn"
    reported = [o for o in top.observed_on if o.get("source")]
    assert reported and reported[0]["device"] == "gpu" and reported[0]["verified"] is False


@pytest.mark.parametrize("case_id", sorted(json.loads(default_index_path().read_text("utf-8"))["cases"]))
def test_fix_snippet_is_python(index, case_id):
    snippet = index.cases[case_id]["fix_snippet"]
    ast.parse(snippet)
    assert "import keras" in snippet


def test_cli_json_lists_matches(capsys):
    rc = cli.main(["explain", "--json", "ValueError: Data cardinality is ambiguous: x sizes: 8 y sizes: 1 "
                   "Make sure all arrays contain the same number of samples."])
    assert rc == 0
    matches = json.loads(capsys.readouterr().out)
    assert matches[0]["family"] == "cardinality"
    for key in ("id", "family", "score", "cause", "fix", "observed_on"):
        assert key in matches[0]
    assert matches[0]["fix"]["snippet"].startswith("import numpy as np")


def test_cli_reads_file_and_stdin(tmp_path, capsys, monkeypatch):
    path = tmp_path / "tb.txt"
    path.write_text(next(r.message for r in WILD if "sports-betting" in r.url), encoding="utf-8")
    assert cli.main(["explain", "--full", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "input-dtype" in out and "Fix as code" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("Unrolling requires a fixed number of timesteps."))
    assert cli.main(["explain"]) == 0
    assert "lstm-unroll-variable-timesteps" in capsys.readouterr().out


def test_cli_unknown_and_bad_input(tmp_path, capsys, monkeypatch):
    assert cli.main(["explain", "ModuleNotFoundError: No module named 'tensorflow'"]) == 1
    assert "No known case" in capsys.readouterr().out
    assert cli.main(["explain", "--json", "ModuleNotFoundError: No module named 'tensorflow'"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "nearest families" in captured.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("   \n"))
    assert cli.main(["explain"]) == 2
    assert cli.main(["explain", "--file", str(tmp_path / "missing.txt")]) == 2
    bad = tmp_path / "index.json"
    bad.write_text("{}", encoding="utf-8")
    assert cli.main(["explain", "--index", str(bad), "x"]) == 2
    assert "cannot read the explain index" in capsys.readouterr().err


def test_cli_build_index_check(tmp_path, capsys):
    out = tmp_path / "index.json"
    assert cli.main(["explain", "--build-index", "--index", str(out), "--cases", str(ROOT / "cases"),
                     "--merged", str(ROOT / "reports" / "merged.json")]) == 0
    assert cli.main(["explain", "--build-index", "--check", "--index", str(out), "--cases", str(ROOT / "cases"),
                     "--merged", str(ROOT / "reports" / "merged.json")]) == 0
    out.write_text("{}", encoding="utf-8")
    assert cli.main(["explain", "--build-index", "--check", "--index", str(out), "--cases", str(ROOT / "cases"),
                     "--merged", str(ROOT / "reports" / "merged.json")]) == 1


def test_explain_does_not_import_tensorflow():
    """The query path stays cold-start cheap: no TensorFlow/Keras, and none of the case machinery."""
    code = ("import sys; from lstm_atlas.cli import main; main(['explain', 'list index out of range']); "
            "heavy = sorted({'tensorflow', 'keras', 'yaml', 'jsonschema'} & set(sys.modules)); "
            "print(heavy, file=sys.stderr); sys.exit(3 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _case_with(known: str) -> str:
    return GOOD_CASE.format(id="good-case", raises="ValueError", match="ndim") + known


def test_known_messages_are_validated():
    ok = _case_with("known_messages:\n  - {message: 'expected ndim=3, found ndim=2', exception: ValueError,\n"
                    "     source: 'https://example.org/a', versions: Keras 2.0, device: gpu, unverified: true}\n")
    case = build_case(load_text(ok))
    assert "known_messages" not in case.variants["repro"] and "known_messages" not in case.variants["fix"]
    for bad, field in ((" - {message: 'x y z', source: 'not a url'}\n", "known_messages[0].source"),
                       (" - {message: 'x y z', source: 'https://e.org', exception: NoSuchError}\n",
                        "known_messages[0].exception")):
        with pytest.raises(CaseError) as info:
            build_case(load_text(_case_with("known_messages:\n " + bad)))
        assert info.value.field == field


def test_versions_read_as_runs_of_the_matrix(index):
    envs = sorted(e for e in index.envs if not index.envs[e]["legacy_keras"])
    text = versions_text([{"env": e, "device": "cpu"} for e in envs[:3] + envs[-1:]], index)
    first, third, last = (index.envs[e]["tensorflow"] for e in (envs[0], envs[2], envs[-1]))
    assert text.startswith(f"cpu: TF {first}-{third} (Keras ")
    assert f"TF {last} (Keras" in text
    reported = versions_text([{"versions": "Keras 2.0", "device": "gpu", "source": "https://e.org"}], index)
    assert reported == "Keras 2.0, gpu (reported, not run here: https://e.org)"


def test_python_wording_alone_is_at_most_likely_but_a_keras_traceback_settles_it(index):
    bare = explain("IndexError: list index out of range", index)
    assert bare.generic and bare.matches[0].band == "likely"
    assert "Python's own wording" in render_text(bare)
    traceback = ('Traceback (most recent call last):\n  File "train.py", line 9, in <module>\n    out = cell(x, [h])\n'
                 '  File "/usr/lib/python3.11/site-packages/keras/src/layers/rnn/lstm.py", line 160, in call\n'
                 '    c_tm1 = states[1]\nIndexError: list index out of range')
    full = explain(traceback, index)
    assert not full.generic and full.matches[0].band == "match"


def test_attribute_names_tell_python_errors_apart(index):
    answer = explain("AttributeError: 'Sequential' object has no attribute 'predict_classes'", index)
    assert not answer.known  # the library's AttributeErrors are about other attributes ('reset_states', 'rank')
    assert explain("AttributeError: 'Sequential' object has no attribute 'reset_states'", index) \
        .matches[0].id == "model-reset-states-removed"


def test_warnings_are_recognised_by_the_cases_warning_patterns(index):
    warning = ("WARNING:tensorflow:Layer lstm will not use cuDNN kernels since it doesn't meet the criteria. "
               "It will use a generic GPU kernel as fallback when running on GPU.")
    assert explain(warning, index).matches[0].id == "recurrent-dropout-disables-cudnn"


def test_a_progress_line_with_nan_loss_points_at_nan_causes(index):
    answer = explain("Epoch 1/10\n32/32 [==============================] - 2s 10ms/step - loss: nan", index)
    assert answer.known
    assert {m.family for m in answer.matches[:2]} <= {"divergence", "masking", "mixed-precision"}


def _recorded_tracebacks():
    for path in sorted((ROOT / "tests" / "data").glob("tracebacks-*.json")):
        doc = json.loads(path.read_text("utf-8"))
        for record in doc["records"]:
            if record["traceback"]:
                yield pytest.param(record, id=f"{path.stem[11:]}-{record['mistake']}")


def test_recorded_tracebacks_cover_keras_2_and_3():
    """The parametrised test below would silently run nothing if the recordings lost their tracebacks."""
    assert {param.id.split("-")[0] for param in _recorded_tracebacks()} == {"tf215", "tf221"}


@pytest.mark.parametrize("record", list(_recorded_tracebacks()))
def test_whole_recorded_tracebacks_explain_to_their_family(index, record):
    """Tracebacks copied whole from TF 2.15 (Keras 2) and TF 2.21 (Keras 3) runs (tests/data/make_tracebacks.py):
    Keras' filtered frames, "in user code:" from a tf.function, "Graph execution error" with its node stack."""
    answer = explain(record["traceback"], index)
    top = answer.matches[0]
    tied = [top] + [m for m in answer.matches if m.id in top.same_message_as]
    assert top.band == "match"
    assert any(m.family in record["families"] for m in tied)


def test_index_templates_come_from_the_shared_normaliser(index):
    """Explain and the fuzz map's signature() share normalise.message_template: no second normaliser."""
    from lstm_atlas.normalise import message_template, signature

    whole = [doc for doc in index.messages if len(doc["message"]) < 600]  # longer ones are stored cut
    assert len(whole) > 200
    assert [doc for doc in whole if doc["template"] != message_template(doc["message"])] == []
    observed = [doc for doc in index.messages if doc["origin"] == "observed"]
    assert observed and all(doc["exception"] for doc in observed)  # the index keeps only raised messages
    with_class = [doc for doc in whole if doc["exception"]]
    assert len(with_class) > 100
    assert [doc for doc in with_class
            if signature(doc["exception"], doc["message"]) != f"{doc['exception']}: {doc['template']}"] == []


def test_a_version_outside_the_matrix_says_so(index):
    message = "ValueError: Unrecognized keyword arguments passed to LSTM: {'batch_input_shape': [8, 5, 3]}"
    answer = explain(message, index, tf="2.4")
    top = answer.matches[0]
    assert top.fix_verified_on and not any(e["asked_version"] for e in top.fix_verified_on)
    assert "not run on the version/device you gave" in render_text(answer, index=index)


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.__setitem__("messages", {}), "'messages' is not a JSON list"),
    (lambda d: d["messages"][0].pop("template"), "messages[0] lacks 'template'"),
    (lambda d: d["messages"][0].__setitem__("case", "no-such-case"), "messages[0] names an unknown case"),
    (lambda d: next(iter(d["cases"].values())).__setitem__("patterns", [3]), "not text"),
    (lambda d: next(iter(d["cases"].values())).__setitem__("patterns", ["(a)\\1"]), "RE2 cannot compile"),
    (lambda d: d.__setitem__("family_messages", [{"family": 3}]), "'family_messages' is not a list"),
])
def test_a_malformed_index_is_a_one_line_error(tmp_path, capsys, damage, message):
    data = json.loads(default_index_path().read_text("utf-8"))
    damage(data)
    path = tmp_path / "index.json"
    path.write_text(json.dumps(data), "utf-8")
    first = data["messages"][0]["message"] if isinstance(data["messages"], list) else "x"
    assert cli.main(["explain", "--index", str(path), first]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cannot read the explain index") and message in err and "\n" not in err, err


def test_hostile_pastes_are_explained_in_bounded_time(index):
    import time

    for text in ("ValueError: " + "Data cardinality is ambiguous: 'x' sizes: 8 " * 3600,
                 "ValueError: " + "a/" * 100_000, "[" * 100_000 + "]" * 100_000):
        started = time.perf_counter()
        answer = explain(text, index)
        assert time.perf_counter() - started < 2.0, text[:60]
    assert answer.matches  # the deep brackets still get an answer (no known case)


def test_binary_stdin_is_decoded_not_a_traceback(capsys, monkeypatch):
    payload = b"\xff\xfeValueError: Unrolling requires a fixed number of timesteps.\x80"
    stream = io.TextIOWrapper(io.BytesIO(payload), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdin", stream)
    assert cli.main(["explain", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["family"]


def _fixture_report(rid, case, family, era="keras2", reason="", message="x"):
    from lstm_atlas.wild import Report

    return Report(id=rid, url=f"https://e.org/{rid}", date="2021", tf=None, keras=None, backend=None, era=era,
                  recurrent=True, message=message, case=case, family=family, split="tune", path="t.yaml", line=1,
                  reason=reason)


def test_accuracy_arithmetic_on_a_tiny_corpus():
    """benchmarks/explain_wild.py's counting (lstm_atlas.explain.accuracy) on hand-made outcomes."""
    from lstm_atlas.explain import accuracy
    from lstm_atlas.explain.score import Answer, Match

    def answer(*found, nearest=(), score=0.9):
        matches = [Match(id=c, family=f, title="", score=score, band=band_of(score), cause="", fix="", fix_snippet="",
                         fix_verified_on=[], observed_on=[], matched_message="", matched_origin="observed",
                         variants=list(v), variant_families=[f] * len(v)) for c, f, *v in found]
        return Answer(query_exception=None, query_template="", matches=matches,
                      nearest_families=[(f, 0.4) for f in nearest])

    rows = [
        accuracy.outcome(_fixture_report("r1", "a", "fa"), answer(("a", "fa"))),                 # all right
        accuracy.outcome(_fixture_report("r2", "b", "fb"), answer(("x", "fx"), ("y", "fb", "b"))),  # 2nd, variant
        accuracy.outcome(_fixture_report("r3", "c", "fc", era="keras3"), answer(("c", "fc"), score=0.3,
                                                                                   nearest=("fc",))),  # no answer
        accuracy.outcome(_fixture_report("r4", "none", "fd", reason="proposed: d"),
                         answer(("z", "fz"), score=0.3, nearest=("fz", "fd"))),                # proposed
        accuracy.outcome(_fixture_report("r5", "none", "none", reason="unrelated: e"), answer(("a", "fa"))),
        accuracy.outcome(_fixture_report("r6", "none", "none", reason="unrelated: e"), answer(("a", "fa"), score=0.2)),
    ]
    s = accuracy.summarise(rows)["all"]
    assert (s["family_n"], s["family_top1"], s["family_top3"]) == (4, 1, 3)  # r3 unanswered: a miss
    assert (s["case_n"], s["case_top1"], s["case_top3"]) == (4, 1, 2)  # r4 (proposed) counts, as a miss
    assert (s["unrelated_n"], s["unrelated_rejected"], s["proposed"]) == (2, 1, 1)
    by_era = accuracy.summarise(rows)["era"]
    assert by_era["keras3"]["family_n"] == 1 and by_era["keras3"]["family_top3"] == 0
    cal = {row["threshold"]: row for row in accuracy.calibrate(rows, grid=[0.25, 0.5])}
    assert (cal[0.25]["answered"], cal[0.25]["rejected"]) == (3, 1)
    assert (cal[0.5]["answered"], cal[0.5]["right_family_first"], cal[0.5]["rejected"]) == (2, 1, 1)
    assert "family top-3" in accuracy.table(accuracy.summarise(rows), "t")


def test_leave_one_out_removes_the_reports_own_document(index_data):
    """Held out, a report's own document and its count in "seen in N public reports" are gone."""
    from lstm_atlas.explain import accuracy

    report = next(r for r in WILD if r.case != "none")
    held = without_report(index_data, report.id, report.case)
    assert not [m for m in held["messages"] if m.get("report") == report.id]
    assert [m for m in index_data["messages"] if m.get("report") == report.id]
    assert held["cases"][report.case]["public_reports"] == index_data["cases"][report.case]["public_reports"] - 1
    assert len(accuracy.leave_one_out(index_data, [report])) == 1
    known = next(m for m in index_data["messages"] if m["origin"] == "known")  # the same post as a case's quote
    assert known not in without_report(index_data, "some-report", None, known["source"] + "/")["messages"]
    assert known in without_report(index_data, "some-report", None, "https://example.org/other")["messages"]


def test_seen_in_public_reports_counts_the_whole_corpus(index):
    from lstm_atlas.wild import load_corpus as load

    reports = load(ROOT / "wild")
    for case_id, case in index.cases.items():
        assert case["public_reports"] == sum(r.case == case_id for r in reports), case_id
    frozen_ids = {r.id for r in reports if r.split == "frozen"}
    assert not [m for m in index.messages if m.get("report") in frozen_ids]  # frozen: counted, never indexed
    top = explain("ValueError: Unrecognized keyword arguments passed to LSTM: {'batch_input_shape': (1, 1, 7)}",
                  index).matches[0]
    assert top.public_reports >= 1 and "Seen in" in render_text(explain(top.matched_message, index), index=index)


def test_compact_answer_fits_fifteen_lines_and_full_has_everything(index):
    answer = explain("ValueError: Input 0 of layer lstm_3 is incompatible with the layer: expected ndim=3, "
                     "found ndim=2. Full shape received: (None, 60)", index)
    compact = render_text(answer, index=index).splitlines()
    full = render_text(answer, index=index, full=True)
    runners_up = [m for m in answer.matches if m.band != "guess"][1:3]
    assert len(compact) - len(runners_up) - 1 <= 15
    assert compact[0].startswith("1. [match") and "Cause:" in "\n".join(compact)
    assert "Fix as code" in full and "Fix as code" not in "\n".join(compact)


def test_identical_messages_are_one_answer_with_variants(index):
    """Cases that raise the identical message are one answer; the JSON names case, family and variants."""
    answer = explain("ValueError: Input 0 of layer \"lstm\" is incompatible with the layer: expected ndim=3, "
                     "found ndim=2. Full shape received: (None, 5)", index)
    ids = [m.id for m in answer.matches]
    assert len(ids) == len(set(ids))
    top = answer.matches[0]
    assert top.variants and not set(top.variants) & set(ids)
    first = top.to_json()
    assert first["case"] == top.id and first["family"] == top.family and first["variants"] == top.variants


def test_a_keras3_wording_ranks_the_plain_case_over_the_articles_dense_case(index):
    """With --keras 3.x a plain rank-2 message names the plain case first, not the article's Dense->LSTM case."""
    answer = explain("ValueError: Input 0 of layer lstm_3 is incompatible with the layer: expected ndim=3, "
                     "found ndim=2", index, keras="3.x")
    assert answer.generation == "3"
    assert answer.matches[0].id != "seed-003-ex3-dense-2d-into-lstm"
    assert answer.matches[0].family == "input-rank"


def test_explain_text_is_the_stable_entry_point():
    from lstm_atlas.explain.command import explain_text

    text = explain_text("Unrolling requires a fixed number of timesteps.")
    assert text.startswith("1. [match") and "lstm-unroll-variable-timesteps" in text
    assert "Fix as code" in explain_text("Unrolling requires a fixed number of timesteps.", full=True)


def test_readme_states_the_bands_in_the_code():
    from lstm_atlas.explain.score import MATCH_AT

    text = " ".join((ROOT / "README.md").read_text("utf-8").split())
    assert f"`match` (score >= {MATCH_AT})" in text and f"`likely` (>= {LIKELY_AT})" in text


def test_the_common_cudnn_failure_without_a_case_names_the_cudnn_family(index):
    """"Fail to find the dnn implementation" has no case (cuDNN could not start); the public reports of it
    still name its family first and say what it is, without calling it a match."""
    answer = explain("tensorflow.python.framework.errors_impl.UnknownError: Fail to find the dnn implementation. "
                     "[Op:CudnnRNN]", index)
    assert not answer.known
    assert answer.nearest_families[0][0] == "cudnn"
    assert answer.uncased and answer.uncased["family"] == "cudnn"
    assert "without a case yet" in render_text(answer, index=index)


@pytest.mark.parametrize("message, kind", [
    ("Input 0 of layer conv2d is incompatible with the layer: : expected min_ndim=4, found ndim=3", "conv2d"),
    ("ValueError: Input 0 is incompatible with layer flatten_3: expected min_ndim=3, found ndim=2", "flatten"),
    ("Input 0 of layer \"lstm_1\" is incompatible with the layer: expected ndim=3, found ndim=2", "recurrent"),
    ("Input 0 with name 'None' of layer 'lstm' is incompatible with the layer", "recurrent"),
    ("Error when checking input: expected lstm_1_input to have 3 dimensions", "recurrent"),
    ("Input 0 of layer sequential_1 is incompatible with the layer", "model"),
    ("Input 0 of layer encoder1_ is incompatible with the layer", None),  # a custom name says nothing
    ("Data cardinality is ambiguous", None),
    # no layer in the words: the first layer in the path of the graph node the op ran in
    ("Incompatible shapes: [128,100] vs. [10]\n [[Node: gradients/batch_normalization_1/batchnorm/mul_1_grad/"
     "BroadcastGradientArgs = BroadcastGradientArgs[T=DT_INT32]]]", "batchnormalization"),
    ("Dimensions must be equal, but are 8 and 4 for '{{node sequential_1/lstm_1/lstm_cell_1/add}} = AddV2'",
     "recurrent"),
])
def test_layer_kind_reads_the_layer_a_message_names(message, kind):
    from lstm_atlas.explain.wording import layer_kind

    assert layer_kind(message) == kind


def test_a_conv_layers_rank_error_is_not_an_lstm_case(index):
    """Another layer (Conv2D) and a rank an LSTM never expects (min_ndim=4): no known case."""
    answer = explain("ValueError: Input 0 of layer conv2d is incompatible with the layer: : expected min_ndim=4, "
                     "found ndim=3. Full shape received: [32, 300, 300]", index)
    assert not answer.known


def test_generation_of_versions():
    from lstm_atlas.explain.wording import generation_of

    assert [generation_of("3.x"), generation_of("2.15"), generation_of(None, "2.16"), generation_of(None, "2.4"),
            generation_of(None, "1.15"), generation_of()] == ["3", "2", "3", "2", "2", None]


def test_what_a_wording_names_that_its_template_hides():
    from lstm_atlas.explain.wording import dtypes_named, named_arguments, steps_shown, target_output_difference

    assert named_arguments("LSTMCell.call() missing 1 required positional argument: 'states'") == {"states"}
    assert named_arguments("TypeError: missing a required argument: 'sequences'") == {"sequences"}
    assert named_arguments("got an unexpected keyword argument 'return_state'") == {"return_state"}
    assert dtypes_named("Input 'b' of 'MatMul' Op has type float16 that does not match type float32") == \
        {"float16", "float32"}
    assert dtypes_named("Qr[T=DT_HALF]; Tensor(\"x:0\", shape=(2,), dtype=int32)") == {"float16"}  # reprs skipped
    assert target_output_difference("A target array with shape (60, 2) was passed for an output of shape "
                                    "(None, 15, 2) while using as loss") == "rank"
    assert target_output_difference("A target array with shape (60, 6) was passed for an output of shape "
                                    "(None, 10) while using as loss") == "features"
    assert target_output_difference("Data cardinality is ambiguous") is None
    assert steps_shown('  File "lite.py", line 4, in convert\n    converter.convert()') >= {"convert"}
    assert steps_shown("model.fit(x, y)") == {"fit"}


def test_the_same_wording_naming_another_argument_is_another_cause(index):
    assert explain("TypeError: missing a required argument: 'states'", index).matches[0].id == \
        "lstmcell-called-without-states"
    other = explain("TypeError: missing a required argument: 'sequences'", index)
    assert not other.known or other.matches[0].id != "lstmcell-called-without-states"


def test_the_same_wording_naming_other_dtypes_is_another_cause(index):
    same = explain("Input 'b' of 'MatMul' Op has type float32 that does not match type int32 of argument 'a'.",
                   index)
    assert same.known and same.matches[0].id == "integer-declared-input-dtype"
    # float64/int64: a pair no case raises and no public report of wild/tune names (float16/float32 is now the
    # reported mixed-precision case, mixed-float16-stateful-lstm)
    other = explain("Input 'b' of 'MatMul' Op has type float64 that does not match type int64 of argument 'a'.",
                    index)
    assert not other.known


def test_a_non_recurrent_layers_error_with_no_recurrent_layer_in_the_paste_is_not_a_case(index):
    message = "ValueError: Input 0 is incompatible with layer conv1d_1: expected ndim=3, found ndim=4"
    assert not explain(message, index).known
