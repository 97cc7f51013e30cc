"""Building declared inputs: fills, element overrides and containers (numpy only, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_atlas.engine.data import build_data


def test_random_fill_is_seeded_and_float32_by_default():
    a = build_data({"x": {"shape": [2, 3, 4]}}, seed=7)["x"]
    b = build_data({"x": {"shape": [2, 3, 4]}}, seed=7)["x"]
    assert a.dtype == np.float32 and a.shape == (2, 3, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, build_data({"x": {"shape": [2, 3, 4]}}, seed=8)["x"])


@pytest.mark.parametrize("fill,check", [
    ("zeros", lambda a: (a == 0).all()),
    ("ones", lambda a: (a == 1).all()),
    ("nan", lambda a: np.isnan(a).all()),
    ("inf", lambda a: np.isinf(a).all()),
    ("arange", lambda a: a.ravel().tolist() == list(range(6))),
])
def test_constant_fills(fill, check):
    assert check(build_data({"x": {"shape": [2, 3], "fill": fill}}, 0)["x"])


def test_randint_respects_bounds_and_is_integer():
    y = build_data({"y": {"shape": [100], "fill": "randint", "low": 0, "high": 3}}, 0)["y"]
    assert y.dtype == np.int64 and set(np.unique(y)) <= {0, 1, 2}


def test_literal_keeps_python_lists_unless_a_dtype_is_given():
    values = [[[1, 2], [3, 4]], [[5, 6]]]
    assert build_data({"x": {"fill": "literal", "values": values, "container": "list"}}, 0)["x"] == values
    arr = build_data({"x": {"fill": "literal", "values": [[1, "a"]], "dtype": "object"}}, 0)["x"]
    assert arr.dtype == object and arr[0, 1] == "a"


def test_ragged_to_ndarray_raises_numpys_own_error():
    with pytest.raises(ValueError, match="inhomogeneous"):
        build_data({"x": {"fill": "ragged", "lengths": [3, 2], "features": 2}}, 0)


def test_ragged_containers():
    spec = {"fill": "ragged", "lengths": [3, 2], "features": 2}
    arrays = build_data({"x": dict(spec, container="list_of_arrays")}, 0)["x"]
    assert [a.shape for a in arrays] == [(3, 2), (2, 2)]
    objects = build_data({"x": dict(spec, container="object_array")}, 0)["x"]
    assert objects.dtype == object and objects.shape == (2,)
    nested = build_data({"x": dict(spec, container="list")}, 0)["x"]
    assert isinstance(nested[0], list) and len(nested[1]) == 2


def test_set_writes_a_string_into_numbers():
    x = build_data({"x": {"shape": [2, 2], "set": [{"index": [1, 0], "value": "N/A"}]}}, 0)["x"]
    assert x.dtype == object and x[1, 0] == "N/A"


def test_numpy_preprocessing_steps():
    x = build_data({"x": {"shape": [2, 3, 4], "preprocess": [{"transpose": [0, 2, 1]}, {"reshape": [2, 12]},
                                                             {"expand_dims": -1}, {"astype": "float64"}]}}, 0)["x"]
    assert x.shape == (2, 12, 1) and x.dtype == np.float64
