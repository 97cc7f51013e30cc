"""The preprocessing steps (``preprocess: [{name: arg}, ...]``), applied in order after the fill.

Two of them are Keras utilities (``pad_sequences``, ``to_categorical``): they grow an
array after any count of its declared elements, which is why each step has its own size
rule. Keras is reached only through ``engine/compat.py``, and only when a step is built.
"""

from __future__ import annotations

import math
from dataclasses import replace

from lstm_atlas.case.dataops.kinds import Step
from lstm_atlas.case.dataops.lazy import compat, np
from lstm_atlas.case.dataops.sketch import (
    NUMBER_AS_TEXT_BYTES,
    Sketch,
    as_array,
    from_shape,
    number,
    object_item,
    reshaped,
    resolve,
    size_value,
)
from lstm_atlas.case.dtypes import code, item_bytes, numpy_type


def _kwargs(arg) -> str:
    return "".join(f", {k}={v!r}" for k, v in (arg or {}).items())


# --- pad_sequences: ragged sequences to one length ---------------------------------------------------------

def _pad(values, arg):
    kwargs = dict(arg or {})
    if "dtype" in kwargs:  # Keras takes a dtype name
        kwargs["dtype"] = np.dtype(numpy_type(kwargs["dtype"])).name if kwargs["dtype"] != "object" else "object"
    return compat().pad_sequences(values, **kwargs)


def _pad_size(s: Sketch, arg, where: tuple, error) -> list[Sketch]:
    arg = arg or {}
    length = size_value(arg["maxlen"]) if arg.get("maxlen") is not None else s.longest
    shape = (s.samples, length) + ((s.inner,) if s.inner > 1 else ())
    high = None if s.high is None else max(s.high, abs(number(arg.get("value", 0)) or 0))
    return [Sketch(math.prod(shape), item_bytes(arg.get("dtype", "int32")), shape, s.samples, length, s.inner, high)]


# --- astype, expand_dims, slice -----------------------------------------------------------------------------

def _astype_size(s: Sketch, arg, where: tuple, error) -> list[Sketch]:
    array = as_array(s)
    if arg == "str":
        return [replace(array, item=NUMBER_AS_TEXT_BYTES if s.item <= 8 else s.item)]
    return [replace(array, item=object_item(s) if arg == "object" else item_bytes(arg))]


def _expand_size(s: Sketch, arg, where: tuple, error) -> list[Sketch]:
    array = as_array(s)
    if array.shape is None:
        return [array]
    axis = arg if arg >= 0 else len(array.shape) + 1 + arg
    axis = min(max(axis, 0), len(array.shape))
    return [reshaped(array, array.shape[:axis] + (1,) + array.shape[axis:])]


def _slice_size(s: Sketch, arg, where: tuple, error) -> list[Sketch]:
    arg = arg or {}
    kept = len(range(s.samples)[arg.get("start"):arg.get("stop")])
    per_sample = s.count // s.samples if s.samples else 0
    shape = (kept,) + s.shape[1:] if s.shape else None
    return [replace(s, count=kept * per_sample, samples=kept, shape=shape)]


def _slice_code(name: str, arg) -> str:
    arg = arg or {}
    return f"{name} = {name}[{arg.get('start', '') or ''}:{arg.get('stop', '') or ''}]"


# --- to_categorical: one column per class -------------------------------------------------------------------

def _categorical_size(s: Sketch, arg, where: tuple, error) -> list[Sketch]:
    classes = (arg or {}).get("num_classes")
    if classes is None:
        if s.high is None:
            raise error("to_categorical without num_classes on values with no bound (normal, nan or inf fill) "
                        "could allocate any size; give num_classes", where)
        classes = int(s.high) + 1
    as_int = replace(as_array(s), item=8)
    base = s.shape if s.shape is not None else (s.count,)
    if len(base) > 1 and base[-1] == 1:
        base = base[:-1]
    return [as_int, from_shape(base + (classes,), 8, 1.0)]


def _same_elements(s: Sketch, arg, where: tuple, error) -> list[Sketch]:
    """transpose, squeeze: the same elements in another layout."""
    return [as_array(s)]


PREPROCESS: dict[str, Step] = {step.name: step for step in (
    Step("pad_sequences", build=_pad, size=_pad_size,
         render=lambda name, arg: f"{name} = keras.utils.pad_sequences({name}{_kwargs(arg)})"),
    Step("reshape", build=lambda values, arg: np.reshape(values, arg),
         size=lambda s, arg, where, error: [reshaped(as_array(s), resolve(arg, s.count))],
         render=lambda name, arg: f"{name} = np.reshape({name}, {tuple(arg)})"),
    Step("astype", build=lambda values, arg: np.asarray(values).astype(numpy_type(arg)), size=_astype_size,
         render=lambda name, arg: f"{name} = np.asarray({name}).astype({code(arg)})"),
    Step("expand_dims", build=lambda values, arg: np.expand_dims(values, arg), size=_expand_size,
         render=lambda name, arg: f"{name} = np.expand_dims({name}, {arg})"),
    Step("transpose", build=lambda values, arg: np.transpose(values, arg), size=_same_elements,
         render=lambda name, arg: f"{name} = np.transpose({name}, {tuple(arg)})"),
    Step("squeeze", build=lambda values, arg: np.squeeze(values, axis=arg), size=_same_elements,
         render=lambda name, arg: f"{name} = np.squeeze({name}, axis={arg})"),
    Step("to_categorical", build=lambda values, arg: compat().to_categorical(values, **(arg or {})),
         size=_categorical_size,
         render=lambda name, arg: f"{name} = keras.utils.to_categorical({name}{_kwargs(arg)})"),
    Step("slice", build=lambda values, arg: values[(arg or {}).get("start"):(arg or {}).get("stop")],
         size=_slice_size, render=_slice_code),
)}
