"""The oracle, on messages TensorFlow really produced (recorded in reports/merged.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lstm_atlas.case.library import load_library
from lstm_atlas.fuzz.oracle import (
    ALLOW_FILE,
    Oracle,
    is_suspected_bug,
    load_allow,
    merged_signatures,
    outcome_signature,
)
from lstm_atlas.normalise import signature

from .conftest import CASES_DIR, ROOT

MERGED = ROOT / "reports" / "merged.json"
ENV_221 = {"tensorflow": "2.21.0", "keras": "3.13.2", "numpy": "2.4.6", "keras_flavor": "keras3"}
ENV_215 = {"tensorflow": "2.15.1", "keras": "2.15.0", "numpy": "1.26.4", "keras_flavor": "keras2"}


def recorded(case_id: str, env: str) -> dict:
    cell = json.loads(MERGED.read_text("utf-8"))["results"][case_id]["repro"]["cpu"][env]
    return {"status": "raised", "stage": cell["stage"],
            "exception": {"type": cell["exception_type"], "message": cell["message"]}}


@pytest.fixture(scope="module")
def library():
    return load_library(CASES_DIR)


def test_a_library_case_explains_its_own_recorded_error_on_each_version(library):
    for env_name, env in (("tf221", ENV_221), ("tf215", ENV_215)):
        oracle = Oracle.from_library(library, env, merged=None, allow=None)
        reasons = oracle.explain(recorded("predict-on-zero-samples", env_name))
        assert "case:predict-on-zero-samples" in reasons, env_name


def test_keras3_internal_error_is_a_suspected_bug_even_when_explained():
    outcome = recorded("predict-on-zero-samples", "tf221")
    assert outcome["exception"]["type"] == "UnboundLocalError"
    assert is_suspected_bug(outcome)
    assert not is_suspected_bug(recorded("predict-on-zero-samples", "tf215"))  # Keras 2: a clear ValueError
    assert is_suspected_bug({"status": "crash", "detail": "interpreter died (SIGABRT)"})
    assert is_suspected_bug({"status": "timeout", "detail": "no answer within 60 s"})


def test_observed_messages_explain_by_signature_equality():
    sigs = merged_signatures(MERGED)
    oracle = Oracle(by_signature=sigs)
    outcome = recorded("stateful-lstm-without-batch-size", "tf221")
    # another shape in the same message is the same signature
    outcome["exception"]["message"] = outcome["exception"]["message"].replace("(None, 5, 3)", "(None, 8, 2)")
    assert "observed:stateful-lstm-without-batch-size" in oracle.explain(outcome)


def test_unknown_error_is_unexplained():
    oracle = Oracle.from_library([], ENV_221, merged=MERGED, allow=None)
    outcome = {"status": "raised", "stage": "call",
               "exception": {"type": "ValueError", "message": "Unbatching a tensor is only supported for rank >= 1"}}
    assert oracle.explain(outcome) == []


def test_value_reprs_collapse_into_one_signature():
    dataset = ("Only input tensors may be passed as positional arguments. The following argument value should be "
               "passed as a keyword argument: <_BatchDataset element_spec=TensorSpec(shape=(None, 2), "
               "dtype=tf.float32, name=None)> (of type <class 'tensorflow.python.data.ops.batch_op._BatchDataset'>)")
    scalar = ("Only input tensors may be passed as positional arguments. The following argument value should be "
              "passed as a keyword argument: True (of type <class 'bool'>)")
    assert signature("ValueError", dataset) == signature("ValueError", scalar)
    a = "Invalid input shape for input [[0.1 0.2] [0.3 0.4]] with name 'x' and path ''. Expected shape (None, 3), " \
        "but input has incompatible shape (2, 2)"
    b = "Invalid input shape for input [] with name 'x' and path ''. Expected shape (None, 4), " \
        "but input has incompatible shape (0, 2)"
    assert signature("ValueError", a) == signature("ValueError", b)
    op = ("{{function_node __wrapped__StridedSlice_device_/job:localhost/replica:0/task:0/device:CPU:0}} slice index "
          "0 of dimension 0 out of bounds. [Op:StridedSlice] name: lstm_3/strided_slice/")
    # which kernel reported it is not the cause (issue 17: op suffixes split one cause into several)
    assert signature("InvalidArgumentError", op) == \
        "InvalidArgumentError: slice index <num> of dimension <num> out of bounds."


def test_crash_signature_keeps_the_signal_and_timeout_drops_timings():
    assert outcome_signature({"status": "crash", "detail": "interpreter died (SIGABRT)"}) == \
        "crash: interpreter died (SIGABRT)"
    assert outcome_signature({"status": "timeout", "detail": "no answer within 3 s"}) == "timeout"


def test_shipped_allow_file_loads_and_bad_entries_are_refused(tmp_path):
    entries = load_allow(ALLOW_FILE)
    assert entries and all(e["reason"] for e in entries)
    bad = tmp_path / "allow.yaml"
    bad.write_text("- pattern: '('\n  reason: broken\n")
    with pytest.raises(ValueError, match="does not compile"):
        load_allow(bad)
    bad.write_text("- pattern: 'x'\n")
    with pytest.raises(ValueError, match="needs a 'pattern' and a 'reason'"):
        load_allow(bad)


def test_allow_entry_explains_with_its_reason(tmp_path):
    allow = tmp_path / "allow.yaml"
    allow.write_text("- pattern: '^ValueError: Unbatching'\n  reason: tf.data says it plainly\n")
    oracle = Oracle.from_library([], ENV_221, merged=None, allow=allow)
    outcome = {"status": "raised", "stage": "call",
               "exception": {"type": "ValueError", "message": "Unbatching a tensor is only supported for rank >= 1"}}
    assert oracle.explain(outcome) == ["allow:tf.data says it plainly"]


def test_allow_file_path_is_in_the_package():
    assert ALLOW_FILE.parent == Path(__file__).resolve().parent.parent / "harness" / "lstm_atlas" / "fuzz"


def test_keras2_tensor_reprs_and_dtype_lists_collapse():
    two = ("Layer 'sequential' expects 1 input(s), but it received 2 input tensors. Inputs received: "
           "[<tf.Tensor: shape=(), dtype=int64, numpy=2>, <tf.Tensor: shape=(), dtype=int64, numpy=1>]")
    three = ("Layer 'sequential_4' expects 1 input(s), but it received 3 input tensors. Inputs received: "
             "[<tf.Tensor: shape=(2,), dtype=float32, numpy=array([0.5, 0.1], dtype=float32)>, "
             "<tf.Tensor: shape=(), dtype=int64, numpy=1>, <tf.Tensor: shape=(), dtype=int64, numpy=0>]")
    assert signature("ValueError", two) == signature("ValueError", three)
    short = "Value for attr 'T' of string is not in the list of allowed values: half, float ; NodeDef: {{node MatMul}}"
    long = ("Value for attr 'T' of bool is not in the list of allowed values: bfloat16, half, float, double, int32 "
            "; NodeDef: {{node MatMul}}")
    assert signature("InvalidArgumentError", short) == signature("InvalidArgumentError", long)


def test_a_crash_case_explains_crashes(library):
    oracle = Oracle.from_library(library, ENV_221, merged=None, allow=None, triage=None)
    reasons = oracle.explain({"status": "crash", "detail": "interpreter died (SIGABRT)"})
    assert "case:masking-recurrent-dropout-zero-features-aborts" in reasons
    assert oracle.explain({"status": "timeout", "detail": "no answer within 30 s"}) == []


# --- attribution by kind (issue 17) ----------------------------------------------------------------------

from lstm_atlas.fuzz.kinds import case_traits, example_traits, fits, same_step  # noqa: E402
from lstm_atlas.fuzz.oracle import explaining_cases  # noqa: E402


def _example(layer="LSTM", shape=(4, 5, 3), dtype="float32", container="ndarray", step="call", **extra):
    config = extra.pop("config", {"units": 2})
    return {"layer": layer, "config": config, "masking": extra.pop("masking", False), "declared": None,
            "input": {"shape": list(shape), "dtype": dtype, "container": container}, "step": step, **extra}


def test_traits_are_read_from_the_configs_of_both_sides(library):
    by_id = {c.id: c for c in library}
    assert case_traits(by_id["masking-recurrent-dropout-zero-features-aborts"].variants["repro"]) == \
        {"masking", "recurrent_dropout", "x:zero-size"}
    assert case_traits(by_id["stateful-fit-partial-last-batch"].variants["repro"]) == {"stateful"}
    assert case_traits(by_id["seed-000-ex1-nested-list-fit"].variants["repro"]) == {"x:list"}
    assert case_traits(by_id["seed-001-ex2-2d-no-declared-input"].variants["repro"]) == frozenset()
    zero = _example("GRU", shape=(3, 7, 0), step="predict")
    assert example_traits(zero) == {"x:zero-size"}
    assert example_traits(_example("LSTMCell", config={"units": 2, "recurrent_dropout": 0.5}, masking=True,
                                   target="list", container="list", dtype="int8")) == \
        {"cell", "recurrent_dropout", "masking", "x:list", "x:int", "y:list"}
    assert fits(frozenset(), example_traits(zero)) and not fits(frozenset({"masking"}), example_traits(zero))


def test_run_steps_must_agree_but_build_errors_fit_any_step():
    assert same_step("fit", "fit") and not same_step("fit", "predict")
    assert same_step("construct", "fit") and same_step("fit", "construct") and same_step(None, "call")


def test_a_case_explains_only_examples_of_its_kind(library):
    """The issue's wrong attributions: a stateful case for any "Incompatible shapes", the Masking +
    recurrent_dropout case for any zero-feature abort."""
    oracle = Oracle.from_library(library, ENV_221, MERGED)
    shapes = {"status": "raised", "stage": "call", "exception": {
        "type": "InvalidArgumentError", "message": "Incompatible shapes: [4,0,12] vs. [4,12] [Op:AddV2] name: "}}
    blind = explaining_cases(oracle.explain(shapes))
    assert any(c.startswith("stateful-") for c in blind)  # the pattern alone fits the stateful cases
    rank4 = _example("RNN", (4, 5, 0, 5))
    assert not any(c.startswith("stateful-") for c in explaining_cases(oracle.explain(shapes, rank4)))
    stateful = _example(config={"units": 2, "stateful": True}, step="fit")
    assert "stateful-fit-partial-last-batch" in explaining_cases(oracle.explain(dict(shapes, stage="fit"), stateful))
    crash = {"status": "crash", "stage": "fit", "detail": "interpreter died (SIGABRT)"}
    plain = explaining_cases(oracle.explain(crash, _example(shape=(3, 7, 0), step="fit")))
    assert "masking-recurrent-dropout-zero-features-aborts" not in plain
    masked = _example(shape=(3, 7, 0), step="fit", masking=True, config={"units": 2, "recurrent_dropout": 0.5})
    assert "masking-recurrent-dropout-zero-features-aborts" in explaining_cases(oracle.explain(crash, masked))
    # a crash is explained by a crash case only: never by an error case, and a hang by none
    assert explaining_cases(oracle.explain(dict(crash, stage="call"), _example(shape=(4, 5, 3)))) == []


ATTRIBUTION = Path(__file__).resolve().parent / "data" / "attribution.yaml"
#: Measured on tests/data/attribution.yaml on TF 2.21 / Keras 3.13 when attribution by kind was added
#: (the pattern alone: 0.67); precision of the cases the oracle names.
ATTRIBUTION_PRECISION_FLOOR = 0.95


@pytest.mark.tf
def test_attribution_precision_on_the_labelled_set(library):
    """Every labelled example runs on real TensorFlow; each case the oracle names is checked against the labels."""
    import yaml

    from lstm_atlas.fuzz.supervisor import Worker

    rows = yaml.safe_load(ATTRIBUTION.read_text("utf-8"))
    worker = Worker(timeout_s=120.0)
    try:
        env = dict(worker.wait_ready(), device_kind="cpu")
        oracle = Oracle.from_library(library, env, MERGED)
        figures = {"kind": [0, 0], "pattern only": [0, 0]}
        wrong_named = []
        for row in rows:
            outcome = worker.run(row["example"])
            for label, reasons in (("kind", oracle.explain(outcome, row["example"])),
                                   ("pattern only", oracle.explain(outcome))):
                for case_id in explaining_cases(reasons):
                    right = case_id in row["right"]
                    figures[label][0] += right
                    figures[label][1] += 1
                    if label == "kind" and not right:
                        wrong_named.append((row["name"], case_id))
    finally:
        worker.stop()
    precision = {k: (r / n if n else 1.0) for k, (r, n) in figures.items()}
    print(f"\nattribution on {len(rows)} labelled examples ({env['tensorflow']}, Keras {env['keras']}): precision "
          f"{precision['kind']:.2f} by kind ({figures['kind'][1]} named), {precision['pattern only']:.2f} by "
          f"pattern only ({figures['pattern only'][1]} named)")
    assert figures["kind"][1] >= 10, "too few attributions to measure: the labelled examples no longer raise"
    assert precision["kind"] >= ATTRIBUTION_PRECISION_FLOOR, wrong_named
    assert precision["kind"] > precision["pattern only"]
