"""The fuzz strategies: examples stay in bounds and every one is expressible as a valid case."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from lstm_atlas.case.validate import load_case
from lstm_atlas.fuzz import strategies
from lstm_atlas.fuzz.candidates import build_candidate, write_candidate

ENV = {"tensorflow": "2.21.0", "keras": "3.13.2"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strategies.examples())
def test_examples_stay_within_the_declared_space(example):
    shape = example["input"]["shape"]
    assert 0 <= len(shape) <= strategies.MAX_RANK
    assert all(0 <= d <= strategies.MAX_DIM for d in shape)
    assert example["input"]["dtype"] in strategies.DTYPES
    assert example["input"]["container"] in strategies.CONTAINERS
    assert example["step"] in strategies.STEPS
    assert example["layer"] in strategies.LAYER_KINDS


@settings(max_examples=30, deadline=None)
@given(strategies.examples(layers=("LSTMCell",)))
def test_a_cell_is_called_directly_with_two_one_or_no_states_and_no_rnn_flags(example):
    assert example["layer"] == "LSTMCell"
    assert example["step"] == "call"
    assert not set(example["config"]) & set(strategies.LAYER_FLAGS)
    blocks = strategies.case_blocks(example)
    expected = {"both": ["h", "c"], "one": ["h"], "none": None}[example["states"]]
    assert blocks["call"].get("states") == expected
    assert sorted(k for k in blocks["data"] if k != "x") == sorted(expected or [])


def test_the_new_dimensions_are_all_reachable():
    """y as list, ndarray or dataset; 0, 1 or 2 cell states; a stateful batch size; NaN and huge values."""
    from hypothesis import find

    assert {find(strategies.examples(step_names=("fit",)), lambda e, t=t: e.get("target") == t)["target"]
            for t in strategies.TARGETS} == set(strategies.TARGETS)
    for states in strategies.CELL_STATES:
        find(strategies.examples(layers=("LSTMCell",)), lambda e, s=states: e["states"] == s)
    stateful = find(strategies.examples(layers=("LSTM",)),
                    lambda e: e["config"].get("stateful") and e.get("batch") not in (None, 1))
    assert strategies.case_blocks(stateful)["model"]["input"]["batch_size"] == stateful["batch"]
    for values, fill in (("nan", "nan"), ("large", "random")):
        e = find(strategies.examples(), lambda e, v=values: e["input"].get("values") == v)
        x = strategies.case_blocks(e)["data"]["x"]
        assert x["fill"] == fill and (values != "large" or x["low"] >= 1e38)


def test_y_as_a_list_or_dataset_is_handed_to_fit_in_that_container():
    base = {"layer": "LSTM", "config": {"units": 2}, "masking": False, "declared": None,
            "input": {"shape": [4, 3, 2], "dtype": "float32", "container": "ndarray"}, "step": "fit"}
    assert "container" not in strategies.case_blocks(dict(base, target="ndarray"))["data"]["y"]
    assert strategies.case_blocks(dict(base, target="list"))["data"]["y"]["container"] == "list"
    y = strategies.case_blocks(dict(base, target="dataset"))["data"]["y"]
    assert y["container"] == "dataset" and y["batch"] == strategies.DATASET_BATCH


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strategies.examples())
def test_every_example_written_as_a_candidate_passes_validate(tmp_path_factory, example):
    outcome = {"status": "raised", "stage": example["step"],
               "exception": {"type": "ValueError", "message": "expected ndim=3, found ndim=2", "core": "x"}}
    case = build_candidate("ValueError: expected ndim=<num>, found ndim=<num>", example, outcome, ENV, 1)
    path = write_candidate(tmp_path_factory.mktemp("cand"), case)
    loaded = load_case(path)
    assert loaded.variants["repro"]["run"] == example["step"]
    # the fix replaces the input: nothing of the repro input (a stray string, a container) survives
    fixed_x = loaded.variants["fix"]["data"]["x"]
    assert fixed_x["shape"] == [2, 3, 2] and fixed_x["dtype"] == "float32"
    assert "set" not in fixed_x and "container" not in fixed_x


def test_example_key_is_stable_and_distinguishes_examples():
    a = {"layer": "LSTM", "config": {"units": 1}, "masking": False, "declared": None,
         "input": {"shape": [2, 3], "dtype": "float32", "container": "ndarray"}, "step": "call"}
    b = dict(a, input=dict(a["input"], shape=[2, 3, 1]))
    assert strategies.example_key(a) == strategies.example_key(dict(reversed(list(a.items()))))
    assert strategies.example_key(a) != strategies.example_key(b)


def test_case_blocks_for_a_fit_with_return_sequences_give_per_step_targets():
    example = {"layer": "RNN", "config": {"units": 4, "return_sequences": True, "dropout": 0.5}, "masking": True,
               "declared": [5, 3], "input": {"shape": [7, 5, 3], "dtype": "float32", "container": "dataset"},
               "step": "fit"}
    blocks = strategies.case_blocks(example)
    assert blocks["model"]["input"] == {"shape": [5, 3]}
    masking, rnn, dense = blocks["model"]["layers"]
    assert masking == {"Masking": {"mask_value": 0.0}} and dense == {"Dense": {"units": 1}}
    # the flags go on the RNN wrapper, units and dropout on its cell
    assert rnn == {"RNN": {"return_sequences": True, "cell": {"LSTMCell": {"units": 4, "dropout": 0.5}}}}
    assert blocks["data"]["y"]["shape"] == [7, 5, 1]
    assert blocks["data"]["x"]["targets"] == "y" and blocks["data"]["x"]["batch"] == strategies.DATASET_BATCH


def test_object_input_mixes_a_string_into_numbers():
    example = {"layer": "GRU", "config": {"units": 2}, "masking": False, "declared": None,
               "input": {"shape": [2, 3, 1], "dtype": "object", "container": "ndarray"}, "step": "predict"}
    x = strategies.case_blocks(example)["data"]["x"]
    assert x["dtype"] == "object" and x["set"] == [{"index": [0, 0, 0], "value": "a"}]
