"""Hypothesis strategies for the fuzz map: shapes, dtypes, containers, recurrent layers, steps.

An example is plain data (a dict that JSON round-trips) so it crosses to the warm worker
process and lands in a candidate case unchanged. :func:`case_blocks` says what an example
means in the case format (``model``/``data``/``run`` blocks); the worker runs exactly those
blocks, so every example the map shows is one a case file can express.

Every strategy is small and composable; Hypothesis shrinks toward the first choice of each
(rank 0, dimension 0, float32, ndarray, LSTM, flags off, call), so a shrunk example reads
as "the least you need to get this error".
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import strategies as st

from lstm_atlas.case.dtypes import pick as pick_dtypes

MAX_RANK = 5
MAX_DIM = 8
#: float32 first: it is what users mean, so shrinking lands on it unless the dtype matters.
#: A subset of the case dtypes, checked against their table (``case/dtypes.py``) on import.
DTYPES = pick_dtypes("float32", "float16", "float64", "bfloat16", "int8", "int32", "int64", "uint8", "bool",
                     "complex64", "str", "object")
CONTAINERS = ("ndarray", "list", "tensor", "dataset")
LAYER_KINDS = ("LSTM", "GRU", "SimpleRNN", "Bidirectional", "RNN", "LSTMCell")
STEPS = ("call", "predict", "fit")
#: Flags of a full recurrent layer (RNN wrapper included); a cell takes none of them.
LAYER_FLAGS = ("return_sequences", "return_state", "stateful", "go_backwards", "unroll")
DROPOUTS = (0.0, 0.5)
#: 1 first (shrinks there); 0 is as likely as any other value, not half the draws.
UNITS = (1, 2, 3, 4, 5, 6, 7, 8, 0)
DATASET_BATCH = 2
#: What fit is given as ``y``: the container the labels come in (a list is how the seed's nested-list error arises).
TARGETS = ("ndarray", "list", "dataset")
#: The states a bare cell is called with: ``[h, c]``, none (the call needs them) or one of the two.
CELL_STATES = ("both", "none", "one")
#: Float inputs: values in [0, 1), NaN, or near float32's largest (inf in float16, sums overflow in float32);
#: for the numeric outcomes (``nonfinite``: NaN or inf in the loss or the output).
VALUES = ("unit", "nan", "large")
FLOAT_DTYPES = ("float32", "float16", "float64", "bfloat16")
LARGE_VALUE = (1e38, 3e38)


def dims(max_dim: int = MAX_DIM):
    return st.integers(min_value=0, max_value=max_dim)


def shapes(max_rank: int = MAX_RANK, max_dim: int = MAX_DIM):
    """An input shape: rank 0..5, each dimension 0..8."""
    return st.integers(min_value=0, max_value=max_rank).flatmap(
        lambda rank: st.lists(dims(max_dim), min_size=rank, max_size=rank))


def dtypes(names=DTYPES):
    return st.sampled_from(list(names))


def containers(names=CONTAINERS):
    return st.sampled_from(list(names))


def layer_kinds(names=LAYER_KINDS):
    return st.sampled_from(list(names))


def steps(names=STEPS):
    return st.sampled_from(list(names))


@st.composite
def layer_configs(draw, kind: str):
    """units, the recurrent flags (not for a bare cell) and dropout; defaults are left out."""
    config: dict = {"units": draw(st.sampled_from(UNITS))}
    if kind != "LSTMCell":
        for flag in LAYER_FLAGS:
            if draw(st.booleans()):
                config[flag] = True
    for name in ("dropout", "recurrent_dropout"):
        rate = draw(st.sampled_from(DROPOUTS))
        if rate:
            config[name] = rate
    return config


@st.composite
def declared_shapes(draw, actual: list[int]):
    """What the model declares (keras.Input), against the actual input: none, the same, or another."""
    choice = draw(st.sampled_from(("none", "same", "other")))
    if choice == "none":
        return None
    if choice == "same":
        return list(actual[1:])
    rank = draw(st.integers(min_value=1, max_value=3))
    return draw(st.lists(dims() | st.none(), min_size=rank, max_size=rank))


@st.composite
def examples(draw, layers=LAYER_KINDS, step_names=STEPS, dtype_names=DTYPES, container_names=CONTAINERS):
    """One fuzz example: a layer with its config, an input, and the step that feeds it.

    Keys that only some examples have (``states``, ``batch``, ``target``, ``input.values``) are left out
    when they do not apply, so an example's id (:func:`example_key`) names only what it depends on.
    """
    kind = draw(layer_kinds(layers))
    # a cell is called directly; RNN(LSTMCell) covers the cell inside a model
    step = "call" if kind == "LSTMCell" else draw(steps(step_names))
    config = draw(layer_configs(kind))
    shape = draw(shapes())
    dtype = draw(dtypes(dtype_names))
    # no tf.data dataset of a scalar: the harness cannot build one (corpus.ARTEFACTS)
    usable = [c for c in container_names if shape or c != "dataset"] or list(container_names)
    inp = {"shape": shape, "dtype": dtype, "container": draw(containers(usable))}
    if dtype in FLOAT_DTYPES:
        values = draw(st.sampled_from(VALUES))
        if values != "unit":
            inp["values"] = values
    example = {
        "layer": kind,
        "config": config,
        "masking": kind != "LSTMCell" and draw(st.booleans()),
        "declared": None if kind == "LSTMCell" else draw(declared_shapes(shape)),
        "input": inp,
        "step": step,
    }
    if kind == "LSTMCell":
        example["states"] = draw(st.sampled_from(CELL_STATES))
    if config.get("stateful"):
        # the batch size a stateful layer declares: the input's (when not 0: a declared batch is >= 1), another, or none
        actual = _batch_of(shape)
        example["batch"] = draw(st.sampled_from((actual if actual > 0 else None, None))
                                | st.integers(min_value=1, max_value=MAX_DIM))
    if step == "fit":
        example["target"] = draw(st.sampled_from(TARGETS))
    return example


def example_key(example: dict) -> str:
    """A stable id for an example (same example, same key, in any process)."""
    text = json.dumps(example, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _layer_spec(example: dict) -> dict:
    kind, config = example["layer"], dict(example["config"])
    if kind == "Bidirectional":
        return {"Bidirectional": {"layer": {"LSTM": config}}}
    if kind == "RNN":
        cell = {k: config.pop(k) for k in ("units", "dropout", "recurrent_dropout") if k in config}
        return {"RNN": dict(config, cell={"LSTMCell": cell})}
    return {kind: config}


def _batch_of(shape: list[int]) -> int:
    return shape[0] if shape else 1


def _input_tensor(spec: dict) -> dict:
    shape, dtype = list(spec["shape"]), spec["dtype"]
    if dtype == "str":
        tensor = {"shape": shape, "dtype": "str", "fill": "full", "value": "a"}
    elif dtype == "object":
        # mixed values: numbers with one string, as a CSV column with a stray label gives
        tensor = {"shape": shape, "dtype": "object", "fill": "random"}
        if all(shape):
            tensor["set"] = [{"index": [0] * len(shape), "value": "a"}]
    elif dtype in ("int8", "int32", "int64", "uint8", "bool"):
        tensor = {"shape": shape, "dtype": dtype, "fill": "randint", "low": 0, "high": 2 if dtype == "bool" else 3}
    elif spec.get("values") == "nan":
        tensor = {"shape": shape, "dtype": dtype, "fill": "nan"}
    elif spec.get("values") == "large":
        tensor = {"shape": shape, "dtype": dtype, "fill": "random", "low": LARGE_VALUE[0], "high": LARGE_VALUE[1]}
    else:
        tensor = {"shape": shape, "dtype": dtype, "fill": "random"}
    container = spec["container"]
    if container != "ndarray":
        tensor["container"] = container
    if container == "dataset":
        tensor["batch"] = DATASET_BATCH
    return tensor


def case_blocks(example: dict) -> dict:
    """The example as the case format's ``model``, ``data``, ``run`` and step blocks."""
    step, shape = example["step"], example["input"]["shape"]
    layer = _layer_spec(example)
    data = {"x": _input_tensor(example["input"])}
    blocks: dict = {}
    stack = ([{"Masking": {"mask_value": 0.0}}] if example.get("masking") else []) + [layer]
    declared = example.get("declared")
    declared_batch = example.get("batch")
    if declared is None and declared_batch is not None:
        declared = list(shape[1:])  # a batch size is declared with the input's own shape
    if step == "call" and declared is None and not example.get("masking"):
        model: dict = {"layer": layer}
    else:
        model = {"layers": stack + ([{"Dense": {"units": 1}}] if step != "call" else [])}
        if declared is not None:
            model_input = {"shape": list(declared)}
            if declared_batch is not None:
                model_input["batch_size"] = declared_batch
            model = {"input": model_input, **model}
    if example["layer"] == "LSTMCell":
        units, batch = example["config"]["units"], _batch_of(shape)
        states = {"both": ["h", "c"], "one": ["h"], "none": None}[example.get("states", "both")]
        call: dict = {"inputs": "x"}
        if states is not None:
            call["states"] = states
            for name in states:
                data[name] = {"shape": [batch, units], "dtype": "float32", "fill": "zeros"}
        blocks["call"] = call
    if step == "fit":
        model["compile"] = {"optimizer": "adam", "loss": "mse"}
        batch = _batch_of(shape)
        y_shape = [batch, shape[1], 1] if example["config"].get("return_sequences") and len(shape) >= 2 else [batch, 1]
        data["y"] = {"shape": y_shape, "dtype": "float32", "fill": "random"}
        if data["x"].get("container") == "dataset":
            data["x"]["targets"] = "y"
        elif example.get("target", "ndarray") != "ndarray":
            data["y"]["container"] = example["target"]
            if example["target"] == "dataset":
                data["y"]["batch"] = DATASET_BATCH
        blocks["fit"] = {"epochs": 1}
    return {"model": model, "data": data, "run": step, **blocks}


def describe(example: dict) -> str:
    """One line for progress output and candidate titles."""
    inp = example["input"]
    flags = ",".join(k for k, v in example["config"].items() if v and k != "units")
    extra = (" +Masking" if example.get("masking") else "") + (
        f" declared {tuple(example['declared'])}" if example.get("declared") is not None else "") + (
        f" batch_size={example['batch']}" if example.get("batch") is not None else "") + (
        f" states={example['states']}" if example.get("states") not in (None, "both") else "") + (
        f" y as {example['target']}" if example.get("target") not in (None, "ndarray") else "") + (
        f" values={inp['values']}" if inp.get("values") else "")
    return (f"{example['layer']}(units={example['config']['units']}{',' + flags if flags else ''}){extra} "
            f"{example['step']} on {inp['container']} {inp['dtype']} {tuple(inp['shape'])}")
