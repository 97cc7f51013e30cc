"""Candidate cases: the match pattern fits the real message, the file validates, crashes are isolated."""

from __future__ import annotations

import json
import re

from lstm_atlas.case.schema import case_schema
from lstm_atlas.case.validate import load_case
from lstm_atlas.fuzz.candidates import build_candidate, candidate_id, family_of, message_pattern, write_candidate

from .conftest import ROOT

EXAMPLE = {"layer": "LSTM", "config": {"units": 1}, "masking": False, "declared": None,
           "input": {"shape": [], "dtype": "float32", "container": "ndarray"}, "step": "predict"}
ENV = {"tensorflow": "2.21.0", "keras": "3.13.2"}


def recorded_messages():
    merged = json.loads((ROOT / "reports" / "merged.json").read_text("utf-8"))
    for variants in merged["results"].values():
        for devices in variants.values():
            for cell in devices.get("cpu", {}).values():
                if cell.get("status") == "raised" and cell.get("message"):
                    yield cell["message"]


def test_pattern_matches_every_recorded_message_it_was_built_from():
    messages = sorted(set(recorded_messages()))
    assert len(messages) > 50
    for message in messages:
        pattern = message_pattern(message)
        assert pattern and re.search(pattern, message), message


def test_pattern_ignores_layer_names_and_numbers():
    pattern = message_pattern("Input 0 of layer \"lstm_3\" is incompatible with the layer: expected ndim=3, "
                              "found ndim=2. Full shape received: (None, 5)")
    assert re.search(pattern, "Input 0 of layer \"lstm_17\" is incompatible with the layer: expected ndim=3, "
                              "found ndim=4. Full shape received: (None, 5, 2, 1)")


def test_candidate_validates_and_carries_the_shrunk_example(tmp_path):
    message = "tuple index out of range"
    outcome = {"status": "raised", "stage": "predict", "exception": {"type": "IndexError", "message": message,
                                                                     "core": message}}
    case = build_candidate("IndexError: tuple index out of range", EXAMPLE, outcome, ENV, 11)
    loaded = load_case(write_candidate(tmp_path, case))
    assert loaded.id == candidate_id("IndexError: tuple index out of range")
    assert "suspected-bug" in loaded.tags
    assert loaded.spec["source"]["fuzz"] == "tf221"
    assert loaded.variants["repro"]["data"]["x"]["shape"] == []
    assert loaded.variants["repro"]["expect"]["raises"] == "IndexError"


def test_crash_becomes_an_isolated_crash_expectation(tmp_path):
    outcome = {"status": "crash", "stage": "fit", "exception": None, "detail": "interpreter died (SIGABRT)"}
    case = build_candidate("crash: interpreter died (SIGABRT)", dict(EXAMPLE, step="fit"), outcome, ENV, 1)
    loaded = load_case(write_candidate(tmp_path, case))
    assert loaded.spec["isolate"] is True and loaded.variants["repro"]["expect"]["crash"] is True


def test_family_is_always_one_of_the_twenty():
    families = set(case_schema()["$defs"]["family"]["enum"])
    variants = [EXAMPLE, dict(EXAMPLE, layer="LSTMCell"), dict(EXAMPLE, input={**EXAMPLE["input"], "shape": [0, 3, 2]}),
                dict(EXAMPLE, input={**EXAMPLE["input"], "shape": [2, 3, 2]}, config={"units": 1, "stateful": True})]
    assert {family_of(v, None) for v in variants} <= families
    assert family_of(variants[1], None) == "cell-api" and family_of(variants[2], None) == "empty-input"


def test_exception_class_outside_the_format_falls_back_to_a_known_base(tmp_path):
    outcome = {"status": "raised", "stage": "fit",
               "exception": {"type": "StagingError", "hierarchy": ["StagingError", "Exception"],
                             "message": "list assignment index out of range", "core": "list assignment"}}
    case = build_candidate("StagingError: list assignment index out of range", dict(EXAMPLE, step="fit"),
                           outcome, ENV, 8)
    loaded = load_case(write_candidate(tmp_path, case))
    assert loaded.variants["repro"]["expect"]["raises"] == "Exception"
    assert "StagingError" in loaded.variants["repro"]["expect"]["note"]



def test_an_example_with_every_flag_still_writes_a_valid_candidate(tmp_path):
    # SimpleRNN with every flag, Masking and a declared shape describes itself in ~190 characters
    example = {"layer": "SimpleRNN", "masking": True, "declared": [7, 7, 7, 7, 7],
               "config": {"units": 8, "dropout": 0.5, "recurrent_dropout": 0.5,
                          **dict.fromkeys(("return_sequences", "return_state", "stateful", "go_backwards",
                                           "unroll"), True)},
               "input": {"shape": [0, 0, 0, 0, 0], "dtype": "bfloat16", "container": "list_of_arrays"},
               "step": "predict"}
    outcome = {"status": "raised", "stage": "predict",
               "exception": {"type": "ValueError", "message": "expected ndim=3, found ndim=5", "core": "x"}}
    case = build_candidate("ValueError: expected ndim=<num>, found ndim=<num>", example, outcome, ENV, 1)
    limit = case_schema()["properties"]["title"]["maxLength"]
    assert case["title"].startswith("Fuzz: SimpleRNN") and len(case["title"]) == limit
    assert load_case(write_candidate(tmp_path, case)).id == case["id"]


def test_an_unrolled_layer_with_open_declared_axes_still_writes_a_valid_candidate(tmp_path):
    # found by Hypothesis: the open time axis was sized as the whole sample (1008 steps) and the
    # unroll cap refused the candidate; it takes the fed data's axis (4 steps) instead
    example = {"layer": "LSTM", "config": {"units": 1, "unroll": True}, "masking": False, "declared": [None, None],
               "input": {"shape": [1, 4, 6, 6, 7], "dtype": "float32", "container": "ndarray"}, "step": "call"}
    outcome = {"status": "raised", "stage": "call",
               "exception": {"type": "ValueError", "message": "expected ndim=3, found ndim=6", "core": "x"}}
    case = build_candidate("ValueError: expected ndim=<num>, found ndim=<num>", example, outcome, ENV, 1)
    assert load_case(write_candidate(tmp_path, case)).id == case["id"]


def test_the_fix_of_a_cell_called_without_states_calls_it_with_both(tmp_path):
    cell = {"layer": "LSTMCell", "config": {"units": 2}, "masking": False, "declared": None, "states": "none",
            "input": {"shape": [2, 3], "dtype": "float32", "container": "ndarray"}, "step": "call"}
    outcome = {"status": "raised", "stage": "call", "exception": {
        "type": "TypeError", "message": "missing a required argument: 'states'", "core": "x"}}
    loaded = load_case(write_candidate(tmp_path, build_candidate("TypeError: x", cell, outcome, ENV, 1)))
    assert "states" not in loaded.variants["repro"]["call"]
    assert loaded.variants["fix"]["call"]["states"] == ["h", "c"]
    assert set(loaded.variants["fix"]["data"]) >= {"x", "h", "c"}


def test_the_fix_of_a_stateful_layer_with_a_wrong_batch_declares_its_own(tmp_path):
    stateful = {"layer": "LSTM", "config": {"units": 2, "stateful": True}, "masking": False, "declared": None,
                "batch": 5, "input": {"shape": [2, 3, 2], "dtype": "float32", "container": "ndarray"},
                "step": "predict"}
    outcome = {"status": "raised", "stage": "predict", "exception": {"type": "ValueError", "message": "m", "core": "m"}}
    loaded = load_case(write_candidate(tmp_path, build_candidate("ValueError: m", stateful, outcome, ENV, 1)))
    assert loaded.variants["repro"]["model"]["input"] == {"shape": [3, 2], "batch_size": 5}
    assert loaded.variants["fix"]["model"]["input"] == {"shape": [3, 2], "batch_size": 2}


def test_the_fix_of_a_stateful_cell_called_directly_replaces_the_bare_layer(tmp_path):
    # a stateful RNN(cell) called on a tensor: the repro is a bare `layer`, the fix declares its batch with `layers`
    stateful = {"layer": "RNN", "config": {"units": 1, "stateful": True, "recurrent_dropout": 0.5}, "masking": False,
                "declared": None, "input": {"shape": [4, 4, 3], "dtype": "float32", "container": "ndarray"},
                "step": "call"}
    outcome = {"status": "raised", "stage": "call", "exception": {"type": "ValueError", "message": "m", "core": "m"}}
    loaded = load_case(write_candidate(tmp_path, build_candidate("ValueError: m", stateful, outcome, ENV, 1)))
    assert "layer" in loaded.variants["repro"]["model"]
    assert "layer" not in loaded.variants["fix"]["model"] and loaded.variants["fix"]["model"]["layers"]
