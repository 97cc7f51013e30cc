"""Byte estimates against what numpy and Keras really allocate, and the caps that use them."""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest

from lstm_atlas.case import budget
from lstm_atlas.case.budget import limits
from lstm_atlas.case.load import load_text
from lstm_atlas.case.validate import build_case
from lstm_atlas.engine.data import build_data
from lstm_atlas.errors import CaseError

from .conftest import good_case


def _error(message, parts):
    return CaseError(message, field=".".join(map(str, parts)))


def _deep_bytes(value, seen=None) -> int:
    """Bytes a built value holds: array buffers, boxed elements of object arrays and lists, each object once."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return value.nbytes + sum(_deep_bytes(v, seen) for v in value.ravel())
        return value.nbytes
    if isinstance(value, list):
        return sys.getsizeof(value) + sum(_deep_bytes(v, seen) for v in value)
    return sys.getsizeof(value)


NUMPY_SPECS = {
    "random-float32": {"shape": [10, 20, 5], "dtype": "float32"},
    "randint-default": {"shape": [40, 25], "fill": "randint", "high": 9},
    "long-string-full": {"shape": [50, 4], "fill": "full", "value": "x" * 300, "dtype": "str"},
    "string-full-object": {"shape": [50, 4], "fill": "full", "value": "x" * 300, "dtype": "object"},
    "numbers-as-text": {"shape": [20, 10], "dtype": "str"},
    "mixed-literal": {"fill": "literal", "values": [[1.5, "a" * 40], [2, 3]]},
    "set-makes-objects": {"shape": [20, 10], "set": [{"index": [0, 0], "value": "oops"}]},
    "as-python-list": {"shape": [20, 10, 3], "container": "list"},
    "as-python-list-of-rows-of-one": {"shape": [20, 10, 1], "container": "list"},
    "ragged-arrays": {"fill": "ragged", "lengths": [3, 50, 7], "features": 4, "container": "list_of_arrays"},
    "reshape-astype": {"shape": [6, 100], "fill": "arange",
                       "preprocess": [{"reshape": [-1, 20, 5]}, {"transpose": [0, 2, 1]}, {"astype": "float64"}]},
    "slice-object": {"shape": [30, 8], "preprocess": [{"slice": {"start": 5}}], "container": "object_array"},
}


@pytest.mark.parametrize("name", NUMPY_SPECS)
def test_estimate_covers_what_numpy_allocates(name):
    spec = NUMPY_SPECS[name]
    steps = budget.tensor_steps(spec, ("data", "x"), _error)
    build_data({"x": spec}, seed=0)  # first use of numpy's generators allocates their own tables
    tracemalloc.start()
    try:
        built = build_data({"x": spec}, seed=0)["x"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    final = steps[-1][0].nbytes
    real = _deep_bytes(built)
    assert real <= final, f"estimated {final} bytes for the result, it holds {real}"
    assert final <= 4 * real + 4096, f"estimated {final} bytes, far above the real {real}"
    allocated = sum(s.nbytes for s, _, _ in steps)
    assert peak <= allocated + 64 * 1024, f"numpy peaked at {peak} bytes, the steps add up to {allocated}"


def test_text_widens_every_element():
    """One long string makes numpy store every element at its width: the element count hides it."""
    spec = {"fill": "literal", "values": ["x" * 1000] + [1] * 99}
    sketch = budget.tensor_steps(spec, ("data", "x"), _error)[-1][0]
    assert sketch.count == 100 and sketch.item == 4000
    assert np.array(spec["values"]).nbytes == sketch.nbytes


def test_to_categorical_without_num_classes_needs_bounded_values():
    spec = {"shape": [8], "fill": "normal", "preprocess": [{"to_categorical": {}}]}
    with pytest.raises(CaseError, match="give num_classes") as info:
        budget.tensor_steps(spec, ("data", "y"), _error)
    assert info.value.field == "data.y.preprocess.0"
    bounded = {"shape": [8], "fill": "randint", "high": 1000, "preprocess": [{"to_categorical": {}}]}
    assert budget.tensor_steps(bounded, ("data", "y"), _error)[-1][0].shape == (8, 1001)


def test_caps_are_in_bytes_not_elements(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TENSOR_BYTES", 8000)
    budget.check_data({"x": {"shape": [1000], "fill": "zeros", "dtype": "float32"}}, ("data",), _error)
    with pytest.raises(CaseError, match=r"fill: zeros builds a 7\.8 KiB array .*1001 elements x 8 bytes") as info:
        budget.check_data({"x": {"shape": [1001], "fill": "zeros", "dtype": "float32"}}, ("data",), _error)
    assert info.value.field == "data.x.shape", "numpy makes float64 zeros before the float32 copy"
    with pytest.raises(CaseError, match=r"dtype str builds .*\(1000 elements x 128 bytes\)") as info:
        budget.check_data({"x": {"shape": [1000], "fill": "zeros", "dtype": "str"}}, ("data",), _error)
    assert info.value.field == "data.x.dtype"


def test_the_data_entries_together_are_capped(monkeypatch):
    monkeypatch.setattr(limits, "MAX_DATA_BYTES", 6000)
    data = {"x": {"shape": [1000], "dtype": "float32"}, "y": {"shape": [1000], "dtype": "float32"}}
    with pytest.raises(CaseError, match="together hold 7.8 KiB") as info:
        budget.check_data(data, ("data",), _error)
    assert info.value.field == "data.y"


def _case_with(model_lines: str, data_lines: str = "  x: {shape: [4, 5, 3]}\n  y: {shape: [4, 1]}\n") -> str:
    text = good_case()
    head, rest = text.split("model:\n", 1)
    rest = rest.split("run: fit\n", 1)[1]
    return head + "model:\n" + model_lines + "data:\n" + data_lines + "run: fit\n" + rest


@pytest.mark.parametrize("model,field,message", [
    ("  layers:\n    - LSTM: {units: 3000}\n    - Dense: {units: 1}\n  compile: {optimizer: adam, loss: mse}\n",
     "model.layers[0].LSTM.units", "MAX_PARAM_BYTES"),
    ("  layers:\n    - Embedding: {input_dim: 10000000, output_dim: 8}\n  compile: {optimizer: adam, loss: mse}\n",
     "model.layers[0].Embedding.input_dim", "MAX_PARAM_BYTES"),
    ("  layers:\n    - Bidirectional: {layer: {LSTM: {units: 4, return_sequences: true}}}\n"
     "    - Flatten: {}\n    - Dense: {units: 2000000}\n  compile: {optimizer: adam, loss: mse}\n",
     "model.layers[2].Dense.units", "MAX_PARAM_BYTES"),
    ("  layers:\n    - LSTM: {units: 4, stateful: true, batch_input_shape: [100000000, 5, 3]}\n"
     "  compile: {optimizer: adam, loss: mse}\n", "model.layers[0].LSTM.batch_input_shape", "declared input"),
    ("  layers:\n    - LSTM: {units: 4}\n    - RepeatVector: {n: 100000000}\n  compile: {optimizer: adam, loss: mse}\n",
     "model.layers[1].RepeatVector.n", "MAX_ACTIVATION_BYTES"),
    ("  layers:\n    - LSTM: {units: '100000'}\n  compile: {optimizer: adam, loss: mse}\n",
     "model.layers[0].LSTM.units", "MAX_PARAM_BYTES"),
    ("  layers:\n    - Dense: {units: 64, input_dim: 10000000}\n  compile: {optimizer: adam, loss: mse}\n",
     "model.layers[0].Dense.units", "MAX_PARAM_BYTES"),
    ("  layers:\n    - LSTM: {units: 4, input_dim: 3, input_length: 100000000}\n"
     "  compile: {optimizer: adam, loss: mse}\n", "model.layers[0].LSTM.input_dim", "declared input"),
    ("  input: {shape: [null, 3]}\n  layers:\n    - RNN: {cell: {LSTMCell: {units: 4}}, unroll: true}\n"
     "  compile: {optimizer: adam, loss: mse}\n", "model.layers[0].RNN.unroll", "MAX_UNROLL_STEPS"),
])
def test_model_sizes_are_capped_before_building(model, field, message):
    data = "  x: {shape: [4, 5000, 3]}\n  y: {shape: [4, 1]}\n" if "unroll" in model else None
    with pytest.raises(CaseError, match=message) as info:
        build_case(load_text(_case_with(model, data) if data else _case_with(model)))
    assert info.value.field == field


def test_fix_variant_is_capped_too():
    text = good_case().replace("    x: {shape: [4, 5, 3]}", "    x: {shape: [4, 5, 3], fill: full, value: '"
                               + "x" * 20000 + "'}")
    text = text.replace("x: {shape: [4, 5]}", "x: {shape: [4, 5]}", 1)
    budget_case = text.replace("[4, 5, 3], fill", "[400, 500, 3], fill")
    with pytest.raises(CaseError, match="MAX_TENSOR_BYTES") as info:
        build_case(load_text(budget_case))
    assert info.value.field == "fix.data.x.value"


@pytest.mark.tf
def test_weight_estimates_cover_what_keras_builds():
    """The estimate is an upper bound of count_params() and stays close to it, on the installed Keras."""
    from lstm_atlas.engine import compat
    from lstm_atlas.engine.build import resolve_model

    models = [
        [{"LSTM": {"units": 16, "return_sequences": True}}, {"GRU": {"units": 8}}, {"Dense": {"units": 3}}],
        [{"Bidirectional": {"layer": {"LSTM": {"units": 8}}}}, {"Dense": {"units": 1}}],
        [{"RNN": {"cell": {"LSTMCell": {"units": 6}}, "return_sequences": True}},
         {"TimeDistributed": {"layer": {"Dense": {"units": 2}}}}, {"Flatten": {}}, {"Dense": {"units": 4}}],
        [{"SimpleRNN": {"units": 5}}, {"LayerNormalization": {}}, {"Dense": {"units": 2}}],
    ]
    finals = {"x": budget.Sketch(4 * 5 * 3, 4, (4, 5, 3), 4, 5, 3, 1.0)}
    for layers in models:
        model = {"input": {"shape": [5, 3]}, "layers": layers}
        estimate = budget.estimate_model(model, {}, finals, ("model",), _error)
        estimated = sum(layer.params for layer in estimate.layers)
        built = resolve_model(model, _error).construct()
        real = built.count_params()
        assert real <= estimated <= 1.25 * real, (layers, real, estimated)
        compat.clear_session()
