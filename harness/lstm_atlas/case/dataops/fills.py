"""The fills (where an entry's values come from) and the ``set`` entries written over them.

A generated fill makes float64/int64 values and then goes through ``astype(dtype or
default)`` (see :class:`~lstm_atlas.case.dataops.kinds.Fill`); ``literal`` and ``ragged``
make their own dtype. Each row's ``build``, ``size`` and ``render`` are kept side by side
so the data stage, the budget and explain agree on what the fill does.
"""

from __future__ import annotations

import math
from dataclasses import replace

from lstm_atlas.case.dataops.kinds import Entries, Fill
from lstm_atlas.case.dataops.lazy import np
from lstm_atlas.case.dataops.sketch import (
    Sketch,
    count,
    from_shape,
    high_of,
    leaves,
    number,
    object_item,
    rect_shape,
    text_item,
)
from lstm_atlas.case.dtypes import code, item_bytes, numpy_type


def _shape(spec: dict) -> tuple:
    return tuple(spec.get("shape", ()))


def _case_dtype(spec: dict):
    return numpy_type(spec["dtype"]) if spec.get("dtype") else None


# --- literal: the values written out in the case ---------------------------------------------------------

def _literal(spec: dict, rng):
    dtype = _case_dtype(spec)
    return np.array(spec["values"], dtype=dtype) if dtype is not None else spec["values"]


def _literal_size(spec: dict) -> Sketch:
    values = spec["values"]
    flat = list(leaves(values))
    longest = max((len(v) for v in values if isinstance(v, list)), default=1)
    inner = max((count(step) for v in values if isinstance(v, list) for step in v), default=1)
    return Sketch(len(flat), text_item(flat, spec.get("dtype")), rect_shape(values), len(values), longest, inner,
                  high_of(flat))


def _literal_code(spec: dict) -> str:
    # without a dtype the harness keeps the nested list until the container step
    dtype = spec.get("dtype")
    return f"np.array({spec['values']!r}, dtype={code(dtype)})" if dtype else repr(spec["values"])


# --- ragged: sequences of the given lengths ---------------------------------------------------------------

def _ragged(spec: dict, rng):
    dtype = _case_dtype(spec) or np.float32
    return [rng.random((n, spec["features"])).astype(dtype) for n in spec["lengths"]]


def _ragged_size(spec: dict) -> Sketch:
    lengths, features = spec["lengths"], spec["features"]
    return Sketch(sum(lengths) * features, 8, None, len(lengths), max(lengths), features, 1.0)


def _ragged_code(spec: dict) -> str:
    return (f"[rng.random((n, {spec['features']})).astype({code(spec.get('dtype') or 'float32')}) "
            f"for n in {spec['lengths']!r}]")


# --- generated fills: a shape and a rule ------------------------------------------------------------------

def _sized(bound):
    """The size rule of a generated fill: float64/int64 elements, values bounded by ``bound(spec, count)``."""
    def size(spec: dict) -> Sketch:
        shape = tuple(spec["shape"])
        return from_shape(shape, 8, bound(spec, math.prod(shape)))
    return size


def _low_high(spec: dict, _count: int) -> float:
    low, high = abs(number(spec.get("low", 0)) or 0), abs(number(spec.get("high", 1)) or 0)
    return max(low, high)


def _unbounded(spec: dict, _count: int) -> None:
    return None


def _unit(spec: dict, _count: int) -> float:
    return 1.0


def _full(spec: dict, rng):
    return np.full(_shape(spec), spec["value"], dtype=_case_dtype(spec))


def _full_size(spec: dict) -> Sketch:
    value, dtype = spec["value"], spec.get("dtype")
    item = 8
    if dtype == "str":
        item = 4  # numpy's bare str dtype is '<U1': the value is cut to one character
    elif isinstance(value, str) and dtype is None:
        item = 4 * max(len(value), 1)  # '<U{len}' for every element
    elif isinstance(value, str) and dtype == "object":
        item = 8 + 56 + len(value)  # numpy stores a str object per element
    elif dtype:
        item = item_bytes(dtype)
    return from_shape(tuple(spec["shape"]), item, high_of([value]))


def _arange(spec: dict, rng):
    shape = _shape(spec)
    return np.arange(int(np.prod(shape)) if shape else 1).reshape(shape)


FILLS: dict[str, Fill] = {fill.name: fill for fill in (
    Fill("random", build=lambda spec, rng: rng.uniform(spec.get("low", 0.0), spec.get("high", 1.0), size=_shape(spec)),
         size=_sized(_low_high),
         render=lambda spec: f"rng.uniform({spec.get('low', 0.0)}, {spec.get('high', 1.0)}, size={_shape(spec)})"),
    Fill("normal", build=lambda spec, rng: rng.standard_normal(size=_shape(spec)), size=_sized(_unbounded),
         render=lambda spec: f"rng.standard_normal({_shape(spec)})"),
    Fill("randint", default="int64",
         build=lambda spec, rng: rng.integers(int(spec.get("low", 0)), int(spec.get("high", 2)), size=_shape(spec)),
         size=_sized(_low_high),
         render=lambda spec: f"rng.integers({int(spec.get('low', 0))}, {int(spec.get('high', 2))}, "
                             f"size={_shape(spec)})"),
    Fill("zeros", build=lambda spec, rng: np.zeros(_shape(spec)), size=_sized(_unit),
         render=lambda spec: f"np.zeros({_shape(spec)})"),
    Fill("ones", build=lambda spec, rng: np.ones(_shape(spec)), size=_sized(_unit),
         render=lambda spec: f"np.ones({_shape(spec)})"),
    Fill("nan", build=lambda spec, rng: np.full(_shape(spec), np.nan), size=_sized(_unbounded),
         render=lambda spec: f"np.full({_shape(spec)}, np.nan)"),
    Fill("inf", build=lambda spec, rng: np.full(_shape(spec), np.inf), size=_sized(_unbounded),
         render=lambda spec: f"np.full({_shape(spec)}, np.inf)"),
    Fill("full", field="value", typed=True, build=_full, size=_full_size,
         render=lambda spec: f"np.full({_shape(spec)}, {spec.get('value')!r})"),
    Fill("arange", build=_arange, size=_sized(lambda spec, n: float(n)),
         render=lambda spec: f"np.arange({math.prod(_shape(spec))}).reshape({_shape(spec)})"),
    Fill("literal", field="values", default=None, build=_literal, size=_literal_size, render=_literal_code),
    Fill("ragged", field="lengths", default=None, build=_ragged, size=_ragged_size, render=_ragged_code),
)}


# --- set: single elements written over the values ---------------------------------------------------------

def _set(values, entries: list):
    arr = np.array(values, dtype=object) if not isinstance(values, np.ndarray) else values.astype(object)
    for entry in entries:
        arr[tuple(entry["index"])] = entry["value"]
    return arr


def _set_size(s: Sketch, entries: list) -> Sketch:
    high = None if s.high is None else high_of([s.high] + [e["value"] for e in entries])
    return replace(s, item=object_item(s), high=high)


def _set_code(name: str, entries: list) -> list[str]:
    lines = []
    for entry in entries:
        lines.append(f"{name} = np.asarray({name}, dtype=object)")
        lines.append(f"{name}[{tuple(entry['index'])}] = {entry['value']!r}")
    return lines


SET = Entries(build=_set, size=_set_size, render=_set_code)
