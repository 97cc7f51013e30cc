"""The facts written once: the data-op table, the dtype table, save suffixes and optimizer classes.

Each test ties a table to the other place that names the same things (the schema, numpy,
the fuzzer, the snippet renderer, the installed Keras), so the two cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_atlas.case import allow, dataops, dtypes
from lstm_atlas.case.schema import DTYPES, case_schema
from lstm_atlas.engine import compat
from lstm_atlas.engine.data import build_data
from lstm_atlas.explain.snippet import render_variant


def _tensor_schema() -> dict:
    return case_schema()["$defs"]["tensor"]["properties"]


def test_schema_enums_name_exactly_the_data_ops():
    assert set(_tensor_schema()["fill"]["enum"]) == set(dataops.FILLS)
    assert set(case_schema()["$defs"]["preprocessStep"]["properties"]) == set(dataops.PREPROCESS)
    assert set(_tensor_schema()["container"]["enum"]) == set(dataops.CONTAINERS)
    assert dataops.DEFAULT_FILL in dataops.FILLS and dataops.DEFAULT_CONTAINER in dataops.CONTAINERS


def test_every_schema_dtype_has_one_row_and_no_row_is_extra():
    assert set(dtypes.DTYPE_TABLE) == set(DTYPES)


@pytest.mark.parametrize("name", DTYPES)
def test_every_schema_dtype_has_a_size_and_a_numpy_type(name):
    row = dtypes.DTYPE_TABLE[name]
    numpy_dtype = np.dtype(dtypes.numpy_type(name))
    assert row.item > 0
    if name == "str":  # numbers converted to text: '<U32'
        assert np.array([1.5, 2]).astype(dtypes.numpy_type(name)).dtype.itemsize == row.item
    elif name != "object":  # a boxed Python object has no fixed numpy size; 40 is the estimate
        assert numpy_dtype.itemsize == row.item
        assert numpy_dtype.name == name


@pytest.mark.parametrize("name", DTYPES)
def test_the_code_a_snippet_writes_names_the_numpy_type(name):
    import builtins

    import ml_dtypes

    # the snippet's names: `np.x`, `ml_dtypes.x` (imported when used) or a builtin
    module, _, attr = dtypes.code(name).rpartition(".")
    written = getattr({"np": np, "ml_dtypes": ml_dtypes, "": builtins}[module], attr)
    assert np.dtype(written) == np.dtype(dtypes.numpy_type(name))


def test_derived_dtype_lists_come_from_the_table():
    from lstm_atlas.fuzz import strategies

    assert set(strategies.DTYPES) <= set(dtypes.DTYPE_TABLE)
    with pytest.raises(KeyError, match="complex128"):
        dtypes.pick("float32", "complex128")
    layer_dtypes = [row.keras for row in dtypes.DTYPE_TABLE.values() if row.keras]
    assert list(allow.DTYPES) == layer_dtypes + list(allow.DTYPE_POLICIES)
    assert dtypes.item_bytes("complex128") == dtypes.WIDEST_ITEM  # not a case dtype


def test_save_formats_have_one_suffix_table():
    assert set(compat.SAVE_SUFFIX) == set(case_schema()["$defs"]["saveArgs"]["properties"]["format"]["enum"])
    assert compat.WEIGHTS_FORMATS <= set(compat.SAVE_SUFFIX)
    for fmt, suffix in compat.SAVE_SUFFIX.items():
        code = render_variant({"data": {}, "run": ["save", "load"], "save": {"format": fmt}})
        method = "save_weights" if fmt in compat.WEIGHTS_FORMATS else "save"
        assert f"model.{method}('model{suffix}')" in code, code
        assert compat.save_path_suffix(fmt) == suffix


def _compiled(optimizer: str) -> dict:
    return {"data": {}, "run": ["construct"], "model": {"layers": [{"Dense": {"units": 1}}],
            "compile": {"optimizer": optimizer, "learning_rate": 0.01, "loss": "mse"}}}


def test_snippets_name_only_allow_listed_optimizers():
    for name, cls in allow.OPTIMIZERS.items():
        assert f"optimizer=keras.optimizers.{cls}(learning_rate=0.01)" in render_variant(_compiled(name.upper()))
    with pytest.raises(ValueError, match="'lion' is not in the allow-list"):
        render_variant(_compiled("lion"))


#: One entry per op of the table (every fill, set, every step, every container), small.
SAMPLES = {
    "random": {"shape": [3, 4, 2], "low": -1, "high": 2},
    "normal": {"shape": [3, 2], "fill": "normal", "dtype": "float64"},
    "randint": {"shape": [6], "fill": "randint", "high": 4, "preprocess": [{"to_categorical": {"num_classes": 4}}]},
    "zeros-set": {"shape": [2, 3], "fill": "zeros", "set": [{"index": [0, 1], "value": 5}]},
    "ones": {"shape": [2, 3], "fill": "ones", "dtype": "int32", "container": "list"},
    "nan": {"shape": [2, 2], "fill": "nan", "container": "tensor"},
    "inf": {"shape": [2, 2], "fill": "inf", "preprocess": [{"expand_dims": -1}, {"squeeze": 2}]},
    "full": {"shape": [4, 3], "fill": "full", "value": 7, "dtype": "uint8", "preprocess": [{"slice": {"start": 1}}]},
    "arange": {"shape": [2, 6], "fill": "arange", "preprocess": [{"reshape": [2, 3, 2]}, {"transpose": [0, 2, 1]},
                                                                 {"astype": "int16"}]},
    "literal": {"fill": "literal", "values": [[1, 2], [3]], "preprocess": [{"pad_sequences": {"padding": "post"}}],
                "container": "list_of_arrays"},
    "ragged": {"fill": "ragged", "lengths": [2, 1, 3], "features": 2, "container": "ragged_tensor"},
    "ragged-objects": {"fill": "ragged", "lengths": [2, 1], "features": 1, "container": "object_array"},
    "dataset": {"shape": [4, 2], "container": "dataset", "targets": "labels", "batch": 2},
    "labels": {"shape": [4, 1], "fill": "randint", "high": 2},
}


def _plain(value):
    if hasattr(value, "as_numpy_iterator"):
        return [_plain(v) for v in value.as_numpy_iterator()]
    if hasattr(value, "to_list"):
        return value.to_list()
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return np.asarray(value).tolist()


def test_samples_cover_every_op():
    specs = SAMPLES.values()
    assert {s.get("fill", dataops.DEFAULT_FILL) for s in specs} == set(dataops.FILLS)
    assert {next(iter(step)) for s in specs for step in s.get("preprocess", [])} == set(dataops.PREPROCESS)
    assert {s.get("container", dataops.DEFAULT_CONTAINER) for s in specs} == set(dataops.CONTAINERS)
    assert any("set" in s for s in specs)


@pytest.mark.tf
def test_rendered_data_lines_build_what_the_data_stage_builds():
    """The snippet's data lines, run on real TensorFlow, give the values build_data gives, op for op."""
    data = {name.replace("-", "_"): dict(spec) for name, spec in SAMPLES.items()}
    built = build_data(data, seed=3)
    namespace: dict = {}
    exec(render_variant({"data": data, "run": [], "seed": 3}), namespace)  # our own rendering of SAMPLES
    for name, value in built.items():
        assert type(namespace[name]).__name__ == type(value).__name__, name
        np.testing.assert_equal(_plain(namespace[name]), _plain(value), err_msg=name)


@pytest.mark.tf
def test_allow_listed_optimizer_classes_exist_in_the_installed_keras():
    keras = compat.keras()
    assert [cls for cls in allow.OPTIMIZERS.values() if not hasattr(keras.optimizers, cls)] == []
