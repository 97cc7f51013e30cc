"""What a case may allocate, in bytes, computed from its data and model blocks before anything runs.

A 20 kB case can otherwise ask for tens of GiB: a long string ``fill: full`` value is
stored once per element, ``to_categorical``/``pad_sequences`` grow an array after any
count of its declared elements, and ``units`` or a declared input shape size the
weights. Every array the data stage builds is followed step by step (raw values, ``set``,
each preprocessing step, the container) with the bytes numpy or Keras really use per
element, and the model's weights and layer outputs are estimated from the layer configs;
each must stay under one of the caps below. Estimates err on the high side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

from lstm_atlas.case.allow import split_layer_spec
from lstm_atlas.errors import CaseError

MiB = 1024 * 1024

#: Largest single array the data stage may build: any input, label, state or validation array,
#: and every intermediate of its preprocessing and container conversion.
MAX_TENSOR_BYTES = 256 * MiB
#: All the data entries of one variant together.
MAX_DATA_BYTES = 512 * MiB
#: The model's weights (plus the state of stateful layers); optimizers and gradients add 2-3x more.
MAX_PARAM_BYTES = 64 * MiB
#: The largest layer output the model computes on the case's data (layer outputs share the tensor cap).
MAX_ACTIVATION_BYTES = MAX_TENSOR_BYTES

#: Longest sequence an ``unroll: true`` layer may see: unrolling copies the cell's graph once per step.
MAX_UNROLL_STEPS = 1000

#: Bytes per element of each case dtype in a numpy array; ``str`` from numbers is '<U32'.
ITEM_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16, "int8": 1,
              "int16": 2, "int32": 4, "int64": 8, "uint8": 1, "bool": 1, "str": 128, "object": 40}
#: A numpy object array holds a pointer plus one boxed Python scalar per element.
OBJECT_BYTES = 40
#: A Python list object before its pointers, and an ndarray object (a view) before its data.
LIST_HEADER_BYTES = 56
ARRAY_HEADER_BYTES = 128
#: '<U32', what numpy makes of a float or int converted to text.
NUMBER_AS_TEXT_BYTES = 4 * 32

Error = Callable[[str, tuple], CaseError]


def item_bytes(dtype: str) -> int:
    """Bytes per element of a dtype name; one this table does not know yet counts as the widest number."""
    return ITEM_BYTES.get(dtype, 16)


def human(n: float) -> str:
    for unit, size in (("EiB", 1024 ** 6), ("PiB", 1024 ** 5), ("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", MiB),
                       ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _number(value) -> float | None:
    """The numeric value numpy's int conversion would see, or None for text it cannot convert."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def size_value(value) -> int:
    """A size-bearing config value as Keras would use it (Keras 2 calls int() on units); 0 when unusable."""
    number = _number(value)
    if number is None or not math.isfinite(number) or number <= 0:
        return 0
    return int(math.ceil(number))


@dataclass(frozen=True)
class Sketch:
    """What the data stage holds for one entry at one step, without holding it.

    ``shape`` is None for a list of sequences of different lengths; ``longest`` and ``inner``
    are then what ``pad_sequences`` needs (the longest sequence, elements per time step).
    ``high`` bounds the absolute values (None: unbounded), for ``to_categorical``.
    """

    count: int
    item: int
    shape: tuple | None
    samples: int
    longest: int
    inner: int
    high: float | None

    @property
    def nbytes(self) -> int:
        return self.count * self.item


def _leaves(values):
    if isinstance(values, list):
        for v in values:
            yield from _leaves(v)
    else:
        yield values


def _count(values) -> int:
    return sum(_count(v) for v in values) if isinstance(values, list) else 1


def _rect_shape(values) -> tuple | None:
    if not isinstance(values, list):
        return ()
    shapes = {_rect_shape(v) for v in values}
    if len(shapes) > 1 or None in shapes:
        return None
    return (len(values),) + (shapes.pop() if shapes else ())


def _text_item(values, dtype: str | None) -> int:
    """Bytes per element when numpy converts these leaves to an array (text widens every element)."""
    if dtype and dtype != "str":
        return item_bytes(dtype)
    texts = [len(v) for v in values if isinstance(v, str)]
    if texts:
        return 4 * max(max(texts), 32 if len(texts) < len(values) else 1)
    return NUMBER_AS_TEXT_BYTES if dtype == "str" else 8


def _high_of(values) -> float | None:
    numbers = [abs(n) for n in map(_number, values) if n is not None]
    if any(not math.isfinite(n) for n in numbers):
        return None
    return max(numbers, default=0.0)


def _raw(spec: dict) -> Sketch:
    fill = spec.get("fill", "random")
    dtype = spec.get("dtype")
    if fill == "literal":
        values = spec["values"]
        leaves = list(_leaves(values))
        shape = _rect_shape(values)
        samples = len(values)
        longest = max((len(v) for v in values if isinstance(v, list)), default=1)
        inner = max((_count(step) for v in values if isinstance(v, list) for step in v), default=1)
        return Sketch(len(leaves), _text_item(leaves, dtype), shape, samples, longest, inner, _high_of(leaves))
    if fill == "ragged":
        lengths, features = spec["lengths"], spec["features"]
        return Sketch(sum(lengths) * features, 8, None, len(lengths), max(lengths), features, 1.0)
    shape = tuple(spec["shape"])
    count = math.prod(shape)
    item = 8  # numpy generates float64/int64 before the final astype
    low, high = abs(_number(spec.get("low", 0)) or 0), abs(_number(spec.get("high", 1)) or 0)
    bound = {"random": max(low, high), "randint": max(low, high), "zeros": 1.0, "ones": 1.0, "normal": None,
             "nan": None, "inf": None, "arange": float(count)}.get(fill)
    if fill == "full":
        value = spec["value"]
        if dtype == "str":
            item = 4  # numpy's bare str dtype is '<U1': the value is cut to one character
        elif isinstance(value, str) and dtype is None:
            item = 4 * max(len(value), 1)  # '<U{len}' for every element
        elif isinstance(value, str) and dtype == "object":
            item = 8 + 56 + len(value)  # numpy stores a str object per element
        elif dtype:
            item = item_bytes(dtype)
        bound = _high_of([value])
    samples = shape[0] if shape else 1
    longest = shape[1] if len(shape) > 1 else 1
    return Sketch(count, item, shape, samples, longest, math.prod(shape[2:]), bound)


def _final_dtype(spec: dict, raw: Sketch) -> Sketch:
    """The ``astype(dtype or default)`` every generated fill goes through."""
    if spec.get("fill", "random") in ("literal", "ragged") or (spec.get("fill") == "full" and spec.get("dtype")):
        return raw  # already in its dtype; the astype copy is the same size
    dtype = spec.get("dtype")
    item = item_bytes(dtype) if dtype else (8 if spec.get("fill") == "randint" else 4)  # data.py's defaults
    if dtype == "str" and raw.item > 8:
        item = raw.item
    return replace(raw, item=item)


def _resolve(target, count: int) -> tuple | None:
    dims = [int(d) for d in target]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        if known <= 0 or count % known:
            return None
        dims[dims.index(-1)] = count // known
    return tuple(dims) if math.prod(dims) == count else None


def _reshaped(s: Sketch, shape: tuple | None) -> Sketch:
    if shape is None:
        return s
    return replace(s, shape=shape, samples=shape[0] if shape else 1, longest=shape[1] if len(shape) > 1 else 1,
                   inner=math.prod(shape[2:]))


def _step(s: Sketch, name: str, arg, where: tuple, error: Error) -> list[Sketch]:
    """The arrays one preprocessing step allocates, the last one being its result."""
    as_array = replace(s, item=s.item if s.shape is not None else OBJECT_BYTES)
    if name == "pad_sequences":
        arg = arg or {}
        length = size_value(arg["maxlen"]) if arg.get("maxlen") is not None else s.longest
        dtype = arg.get("dtype", "int32")
        shape = (s.samples, length) + ((s.inner,) if s.inner > 1 else ())
        high = None if s.high is None else max(s.high, abs(_number(arg.get("value", 0)) or 0))
        return [Sketch(math.prod(shape), item_bytes(dtype), shape, s.samples, length, s.inner, high)]
    if name == "reshape":
        return [_reshaped(as_array, _resolve(arg, s.count))]
    if name == "astype":
        if arg == "str":
            return [replace(as_array, item=NUMBER_AS_TEXT_BYTES if s.item <= 8 else s.item)]
        return [replace(as_array, item=_object_item(s) if arg == "object" else item_bytes(arg))]
    if name == "expand_dims":
        if as_array.shape is None:
            return [as_array]
        axis = arg if arg >= 0 else len(as_array.shape) + 1 + arg
        axis = min(max(axis, 0), len(as_array.shape))
        return [_reshaped(as_array, as_array.shape[:axis] + (1,) + as_array.shape[axis:])]
    if name == "to_categorical":
        classes = (arg or {}).get("num_classes")
        if classes is None:
            if s.high is None:
                raise error("to_categorical without num_classes on values with no bound (normal, nan or inf fill) "
                            "could allocate any size; give num_classes", where)
            classes = int(s.high) + 1
        as_int = replace(as_array, item=8)
        base = s.shape if s.shape is not None else (s.count,)
        if len(base) > 1 and base[-1] == 1:
            base = base[:-1]
        shape = base + (classes,)
        return [as_int, Sketch(math.prod(shape), 8, shape, shape[0], shape[1] if len(shape) > 1 else 1,
                               math.prod(shape[2:]), 1.0)]
    if name == "slice":
        arg = arg or {}
        kept = len(range(s.samples)[arg.get("start"):arg.get("stop")])
        per_sample = s.count // s.samples if s.samples else 0
        shape = (kept,) + s.shape[1:] if s.shape else None
        return [replace(s, count=kept * per_sample, samples=kept, shape=shape)]
    # transpose, squeeze: the same elements in another layout
    return [as_array]


def _object_item(s: Sketch) -> int:
    """Per element of an object array or list: a pointer and a boxed scalar (a str object for text)."""
    return 8 + 56 + s.item // 4 if s.item > 8 else OBJECT_BYTES


def _container(s: Sketch, container: str) -> Sketch:
    if container == "list":  # nested lists: a header per list, a pointer and a boxed scalar per element
        dims = s.shape if s.shape else (s.samples, s.longest, s.inner)
        lists = sum(math.prod(dims[:i]) for i in range(len(dims)))
        pointers = sum(math.prod(dims[:i + 1]) for i in range(len(dims)))
        boxed = _object_item(s) - 8
        total = LIST_HEADER_BYTES * lists + 8 * pointers + boxed * s.count
        return replace(s, item=math.ceil(total / max(s.count, 1)))
    if container == "object_array":  # one ndarray object per sample, over the same elements
        per_sample = s.count / max(s.samples, 1)
        return replace(s, item=s.item + math.ceil(ARRAY_HEADER_BYTES / max(per_sample, 1)))
    return s  # ndarray, list_of_arrays, tensor, ragged_tensor and dataset copy the elements once


def tensor_steps(spec: dict, where: tuple, error: Error) -> list[tuple[Sketch, tuple, str]]:
    """(sketch, field, what) for every array the data stage builds for one entry, in order."""
    fill = spec.get("fill", "random")
    field = {"literal": "values", "ragged": "lengths", "full": "value"}.get(fill, "shape")
    raw = _raw(spec)
    out = [(raw, where + (field,), f"fill: {fill}")]
    final = _final_dtype(spec, raw)
    if final.item != raw.item:
        out.append((final, where + ("dtype",), f"dtype {spec.get('dtype') or 'float32'}"))
    current = final
    if spec.get("set"):
        numbers = [e["value"] for e in spec["set"]]
        high = None if current.high is None else _high_of([current.high] + numbers)
        current = replace(current, item=_object_item(current), high=high)
        out.append((current, where + ("set",), "set (an object array)"))
    for i, step in enumerate(spec.get("preprocess", [])):
        (name, arg), = step.items()
        for sketch in _step(current, name, arg, where + ("preprocess", i), error):
            out.append((sketch, where + ("preprocess", i), name))
            current = sketch
    container = spec.get("container", "ndarray")
    out.append((_container(current, container), where + (("container",) if "container" in spec else (field,)),
                f"container {container}"))
    return out


def check_data(data: dict, where: tuple, error: Error) -> dict[str, Sketch]:
    """Refuse a data block whose arrays exceed the caps; returns each entry's final sketch."""
    finals = {}
    total = 0
    for name, spec in data.items():
        steps = tensor_steps(spec, where + (name,), error)
        for sketch, field, what in steps:
            if sketch.nbytes > MAX_TENSOR_BYTES:
                raise error(f"{what} builds a {human(sketch.nbytes)} array ({sketch.count} elements x {sketch.item} "
                            f"bytes), over the cap of {human(MAX_TENSOR_BYTES)} (MAX_TENSOR_BYTES)", field)
        finals[name] = steps[-1][0]
        total += steps[-1][0].nbytes
        if total > MAX_DATA_BYTES:
            raise error(f"the data entries together hold {human(total)}, over the cap of {human(MAX_DATA_BYTES)} "
                        "(MAX_DATA_BYTES)", where + (name,))
    return finals


# --- the model ---------------------------------------------------------------------------------------------

RNN_GATES = {"LSTM": 4, "LSTMCell": 4, "GRU": 3, "GRUCell": 3, "SimpleRNN": 1, "SimpleRNNCell": 1}
SHAPE_KEYS = ("input_shape", "batch_input_shape", "batch_shape")


@dataclass
class _Layer:
    params: int
    out: tuple
    field: tuple
    what: str


def _dims(values, unknown: int) -> tuple:
    return tuple(unknown if v is None else size_value(v) for v in values)


class _ModelEstimate:
    """Follows the per-sample shape through a stack of layer specs, counting weights and outputs."""

    def __init__(self, error: Error, unknown: int, item: int):
        self.error = error
        self.item = item  # bytes per weight and per output element
        self.unknown = unknown  # stands for a dimension the case leaves open (None)
        self.layers: list[_Layer] = []
        self.batch = 1  # the batch size a layer or the input declares (stateful states are per batch row)
        self.rows = 1  # samples in the case's largest data entry

    def declared(self, name: str, config: dict) -> tuple[tuple, str] | None:
        """The per-sample input shape a layer declares, and the key it is under.

        Besides ``input_shape``/``batch_input_shape``, Keras 2 turns ``input_dim`` (and for the
        recurrent layers ``input_length``; for ``Embedding`` only ``input_length``) into one.
        """
        if config.get("batch_size") is not None:
            self.batch = max(self.batch, size_value(config["batch_size"]))
        for key in SHAPE_KEYS:
            value = config.get(key)
            if isinstance(value, list):
                dims = _dims(value, self.unknown)
                if key != "input_shape":
                    self.batch = max(self.batch, dims[0] if dims else 1)
                    dims = dims[1:]
                return dims, key
        if name == "Embedding":
            length = config.get("input_length")
            return ((size_value(length),), "input_length") if length is not None else None
        if config.get("input_dim") is None and config.get("input_length") is None:
            return None
        key = "input_dim" if config.get("input_dim") is not None else "input_length"
        dims = _dims([config.get("input_dim")], self.unknown)
        if name in RNN_GATES and not name.endswith("Cell"):
            dims = _dims([config.get("input_length")], self.unknown) + dims
        return dims, key

    def check_declared(self, shape: tuple, field: tuple) -> None:
        """A declared input shape sizes every batch the model takes; it must fit the tensor cap."""
        nbytes = math.prod(shape) * max(self.batch, 1) * self.item
        if nbytes > MAX_TENSOR_BYTES:
            raise self.error(f"declared input of {human(nbytes)} per batch, over the cap of "
                             f"{human(MAX_TENSOR_BYTES)} (MAX_TENSOR_BYTES)", field)

    def layer(self, spec, shape: tuple, where: tuple) -> tuple:
        name, config, at = split_layer_spec(spec, where, self.error)
        declared = self.declared(name, config)
        if declared is not None:
            shape, key = declared
            self.check_declared(shape, at + (key,))
        shape = shape or (1,)
        feat = shape[-1]
        units_at = at + ("units",)
        params, out = 0, shape
        if config.get("unroll") and not name.endswith("Cell") and len(shape) > 1 and shape[0] > MAX_UNROLL_STEPS:
            raise self.error(f"unroll over {shape[0]} time steps copies the cell {shape[0]} times, over the cap of "
                             f"{MAX_UNROLL_STEPS} (MAX_UNROLL_STEPS)", at + ("unroll",))
        if name in RNN_GATES:
            units = size_value(config.get("units"))
            gates = RNN_GATES[name]
            params = gates * units * (feat + units + 2)
            if config.get("stateful"):
                params += self.batch * units * (2 if gates == 4 else 1)
            if name.endswith("Cell"):
                out = (units,)
            else:
                out = shape[:-1] + (units,) if config.get("return_sequences") else (units,)
        elif name == "RNN":
            cell = config.get("cell")
            inner = self.layer(cell, (feat,), at + ("cell",)) if isinstance(cell, dict) else (feat,)
            units_at = at + ("cell",)
            out = shape[:-1] + inner if config.get("return_sequences") else inner
        elif name == "StackedRNNCells":
            inner = (feat,)
            for i, cell in enumerate(config.get("cells") or []):
                inner = self.layer(cell, inner, at + ("cells", i))
            units_at = at + ("cells",)
            out = inner
        elif name == "Bidirectional":
            forward = config.get("layer")
            inner = self.layer(forward, shape, at + ("layer",)) if isinstance(forward, dict) else shape
            backward = config.get("backward_layer")
            if isinstance(backward, dict):
                self.layer(backward, shape, at + ("backward_layer",))
            elif isinstance(forward, dict):  # Keras copies the forward layer
                self.layer(forward, shape, at + ("layer",))
            units_at = at + ("layer",)
            out = inner[:-1] + (inner[-1] * (1 if config.get("merge_mode") in ("sum", "mul", "ave") else 2),)
        elif name == "TimeDistributed":
            inner = self.layer(config["layer"], shape[1:], at + ("layer",)) if isinstance(config.get("layer"), dict) \
                else shape[1:]
            units_at = at + ("layer",)
            out = shape[:1] + inner
        elif name == "Dense":
            units = size_value(config.get("units"))
            params, out = feat * units + units, shape[:-1] + (units,)
        elif name == "Embedding":
            input_dim, output_dim = size_value(config.get("input_dim")), size_value(config.get("output_dim"))
            params, out = input_dim * output_dim, shape + (output_dim,)
            units_at = at + ("input_dim" if input_dim >= output_dim else "output_dim",)
        elif name == "Flatten":
            out = (math.prod(shape),)
        elif name in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
            out = shape[1:] or shape
        elif name == "RepeatVector":
            out = (size_value(config.get("n")),) + shape
            units_at = at + ("n",)
        elif name == "Reshape":
            target = config.get("target_shape")
            resolved = _resolve([size_value(d) if d != -1 else -1 for d in target], math.prod(shape)) \
                if isinstance(target, list) else None
            out = resolved or shape
        elif name == "LayerNormalization":
            params = 2 * feat
        elif name == "BatchNormalization":
            params = 4 * feat
        self.layers.append(_Layer(params, out, units_at, name))
        return out


def _fed_shape(variant: dict, finals: dict) -> tuple | None:
    """Per-sample shape of the data the model is first fed (fit/predict/evaluate x, call inputs, or x)."""
    names = [(variant.get(step) or {}).get(key) for step, key in
             (("fit", "x"), ("predict", "x"), ("evaluate", "x"), ("call", "inputs"))] + ["x"]
    for name in names:
        if isinstance(name, str) and name in finals:
            sketch = finals[name]
            if sketch.shape is not None:
                return sketch.shape[1:]
            return (sketch.longest, sketch.inner)
    return None


def estimate_model(model: dict, variant: dict, finals: dict, where: tuple, error: Error) -> _ModelEstimate:
    """Follow the model's layers over the case's data: weights and output shape of each layer."""
    per_sample = [s.count // max(s.samples, 1) for s in finals.values()]
    unknown = max(per_sample + [1])
    item = 8 if "float64" in repr(model) else 4
    estimate = _ModelEstimate(error, unknown, item)
    estimate.rows = max([s.samples for s in finals.values()] + [1])
    declared_input = model.get("input")
    fed = _fed_shape(variant, finals)
    if declared_input is not None:
        estimate.batch = size_value(declared_input.get("batch_size")) or 1
        shape = _dims(declared_input["shape"], unknown)
        if fed is not None and len(fed) == len(shape):  # an open (None) dimension takes the fed data's
            shape = tuple(f if d is None else s for d, s, f in zip(declared_input["shape"], shape, fed, strict=False))
        estimate.check_declared(shape, where + ("input", "shape"))
    else:
        shape = fed or (unknown,)
    if "layer" in model:
        estimate.layer(model["layer"], shape, where + ("layer",))
    for i, spec in enumerate(model.get("layers", [])):
        shape = estimate.layer(spec, shape, where + ("layers", i))
    return estimate


def check_model(model: dict, variant: dict, finals: dict, where: tuple, error: Error) -> None:
    """Refuse a model whose weights or layer outputs on the case's data exceed the caps."""
    estimate = estimate_model(model, variant, finals, where, error)
    item = estimate.item
    total = sum(layer.params for layer in estimate.layers) * item
    if total > MAX_PARAM_BYTES:
        largest = max(estimate.layers, key=lambda layer: layer.params)
        raise error(f"the model holds about {human(total)} of weights ({largest.what} alone "
                    f"{human(largest.params * item)}), over the cap of {human(MAX_PARAM_BYTES)} (MAX_PARAM_BYTES)",
                    largest.field)
    rows = max(estimate.rows, estimate.batch)
    for layer in estimate.layers:
        out_bytes = rows * math.prod(layer.out) * item
        if out_bytes > MAX_ACTIVATION_BYTES:
            raise error(f"{layer.what} outputs about {human(out_bytes)} on this case's data, over the cap of "
                        f"{human(MAX_ACTIVATION_BYTES)} (MAX_ACTIVATION_BYTES)", layer.field)
