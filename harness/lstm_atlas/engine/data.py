"""Stage 3a: build the declared inputs (arrays, lists, tensors, datasets) from a case's data block.

Everything here is driven by names from fixed allow-lists; nothing in a case is evaluated.
Exceptions raised here are real observations (stage ``data``): numpy refusing a ragged
list is one of the failure modes the library records.
"""

from __future__ import annotations

import numpy as np

from lstm_atlas.engine import compat

DTYPES = {"float16": np.float16, "float32": np.float32, "float64": np.float64, "int8": np.int8,
          "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8, "bool": np.bool_,
          "object": object, "str": np.str_, "complex64": np.complex64}
try:  # bfloat16 has no numpy type of its own; ml_dtypes (a TensorFlow dependency) provides it
    import ml_dtypes

    DTYPES["bfloat16"] = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover - TensorFlow always installs it
    pass


def _dtype(name, default=None):
    return DTYPES[name] if name else default


def _raw_values(spec: dict, rng: np.random.Generator):
    """The values before preprocessing: an ndarray, a nested list, or a list of sequences."""
    fill = spec.get("fill", "random")
    shape = tuple(spec.get("shape", ()))
    dtype = _dtype(spec.get("dtype"))
    if fill == "literal":
        values = spec["values"]
        return np.array(values, dtype=dtype) if dtype is not None else values
    if fill == "ragged":
        feats = spec["features"]
        return [rng.random((n, feats)).astype(dtype or np.float32) for n in spec["lengths"]]
    if fill == "random":
        low, high = spec.get("low", 0.0), spec.get("high", 1.0)
        arr = rng.uniform(low, high, size=shape)
    elif fill == "normal":
        arr = rng.standard_normal(size=shape)
    elif fill == "randint":
        arr = rng.integers(int(spec.get("low", 0)), int(spec.get("high", 2)), size=shape)
    elif fill == "zeros":
        arr = np.zeros(shape)
    elif fill == "ones":
        arr = np.ones(shape)
    elif fill == "nan":
        arr = np.full(shape, np.nan)
    elif fill == "inf":
        arr = np.full(shape, np.inf)
    elif fill == "full":
        arr = np.full(shape, spec["value"], dtype=dtype)
    elif fill == "arange":
        arr = np.arange(int(np.prod(shape)) if shape else 1).reshape(shape)
    else:  # the schema rules this out
        raise ValueError(f"unknown fill {fill!r}")
    default = np.int64 if fill == "randint" else np.float32
    return arr.astype(dtype or default)


def _apply_set(values, entries):
    if not entries:
        return values
    arr = np.array(values, dtype=object) if not isinstance(values, np.ndarray) else values.astype(object)
    for entry in entries:
        arr[tuple(entry["index"])] = entry["value"]
    return arr


def _preprocess(values, steps):
    for step in steps:
        (name, arg), = step.items()
        if name == "pad_sequences":
            kwargs = dict(arg or {})
            if "dtype" in kwargs:
                kwargs["dtype"] = np.dtype(DTYPES[kwargs["dtype"]]).name if kwargs["dtype"] != "object" else "object"
            values = compat.pad_sequences(values, **kwargs)
        elif name == "reshape":
            values = np.reshape(values, arg)
        elif name == "astype":
            values = np.asarray(values).astype(DTYPES[arg])
        elif name == "expand_dims":
            values = np.expand_dims(values, arg)
        elif name == "transpose":
            values = np.transpose(values, arg)
        elif name == "squeeze":
            values = np.squeeze(values, axis=arg)
        elif name == "to_categorical":
            values = compat.to_categorical(values, **(arg or {}))
        elif name == "slice":
            values = values[(arg or {}).get("start"):(arg or {}).get("stop")]
        else:  # the schema rules this out
            raise ValueError(f"unknown preprocessing step {name!r}")
    return values


def _to_container(values, container: str, spec: dict, built: dict):
    if container == "ndarray":
        return values if isinstance(values, np.ndarray) else np.array(values)
    if container == "list":
        if isinstance(values, np.ndarray):
            return values.tolist()
        return [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
    if container == "list_of_arrays":
        return [np.asarray(v) for v in values]
    if container == "object_array":
        out = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            out[i] = v
        return out
    tf = compat.tf()
    if container == "tensor":
        return tf.convert_to_tensor(values)
    if container == "ragged_tensor":
        rows = [np.asarray(v) for v in values]
        return tf.RaggedTensor.from_row_lengths(np.concatenate(rows), [len(r) for r in rows])
    if container == "dataset":
        target = spec.get("targets")
        source = (values, built[target]) if target else values
        ds = tf.data.Dataset.from_tensor_slices(source)
        batch = spec.get("batch", None)
        return ds.batch(batch) if batch else ds
    raise ValueError(f"unknown container {container!r}")


def build_data(data_spec: dict, seed: int) -> dict:
    """Build every declared input, in declaration order, datasets last (they zip in their targets)."""
    rng = np.random.default_rng(seed)
    built: dict = {}
    ordered = sorted(data_spec.items(), key=lambda kv: kv[1].get("container") == "dataset")
    for name, spec in ordered:
        values = _raw_values(spec, rng)
        values = _apply_set(values, spec.get("set"))
        values = _preprocess(values, spec.get("preprocess", []))
        built[name] = _to_container(values, spec.get("container", "ndarray"), spec, built)
    return built
