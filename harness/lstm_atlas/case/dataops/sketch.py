"""What sizing an array needs to know about it without building it, and the bytes numpy really spends.

Each data op's size rule maps one :class:`Sketch` to the next; the helpers here are what
several rules share (literal values, reshape targets, boxed elements). Plain Python: sizing
happens at validate time, before numpy or TensorFlow is asked for anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

from lstm_atlas.case.dtypes import DTYPE_TABLE, item_bytes
from lstm_atlas.errors import CaseError

#: A numpy object array holds a pointer plus one boxed Python scalar per element.
OBJECT_BYTES = DTYPE_TABLE["object"].item
#: A Python list object before its pointers, and an ndarray object (a view) before its data.
LIST_HEADER_BYTES = 56
ARRAY_HEADER_BYTES = 128
#: '<U32', what numpy makes of a float or int converted to text.
NUMBER_AS_TEXT_BYTES = DTYPE_TABLE["str"].item

#: Builds the located error a size rule raises: (message, field path) -> CaseError.
Error = Callable[[str, tuple], CaseError]


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


def number(value) -> float | None:
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
    n = number(value)
    if n is None or not math.isfinite(n) or n <= 0:
        return 0
    return int(math.ceil(n))


def leaves(values):
    if isinstance(values, list):
        for v in values:
            yield from leaves(v)
    else:
        yield values


def count(values) -> int:
    return sum(count(v) for v in values) if isinstance(values, list) else 1


def rect_shape(values) -> tuple | None:
    """The shape of nested lists, None when they are ragged."""
    if not isinstance(values, list):
        return ()
    shapes = {rect_shape(v) for v in values}
    if len(shapes) > 1 or None in shapes:
        return None
    return (len(values),) + (shapes.pop() if shapes else ())


def text_item(values, dtype: str | None) -> int:
    """Bytes per element when numpy converts these leaves to an array (text widens every element)."""
    if dtype and dtype != "str":
        return item_bytes(dtype)
    texts = [len(v) for v in values if isinstance(v, str)]
    if texts:
        return 4 * max(max(texts), 32 if len(texts) < len(values) else 1)
    return NUMBER_AS_TEXT_BYTES if dtype == "str" else 8


def high_of(values) -> float | None:
    """The largest absolute value among these, None when one is not finite."""
    numbers = [abs(n) for n in map(number, values) if n is not None]
    if any(not math.isfinite(n) for n in numbers):
        return None
    return max(numbers, default=0.0)


def resolve(target, total: int) -> tuple | None:
    """A reshape target with its -1 worked out, None when it does not fit ``total`` elements."""
    dims = [int(d) for d in target]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        if known <= 0 or total % known:
            return None
        dims[dims.index(-1)] = total // known
    return tuple(dims) if math.prod(dims) == total else None


def reshaped(s: Sketch, shape: tuple | None) -> Sketch:
    if shape is None:
        return s
    return replace(s, shape=shape, samples=shape[0] if shape else 1, longest=shape[1] if len(shape) > 1 else 1,
                   inner=math.prod(shape[2:]))


def from_shape(shape: tuple, item: int, high: float | None) -> Sketch:
    """A rectangular array: samples, time steps and features read off its shape."""
    return Sketch(math.prod(shape), item, shape, shape[0] if shape else 1, shape[1] if len(shape) > 1 else 1,
                  math.prod(shape[2:]), high)


def as_array(s: Sketch) -> Sketch:
    """What ``np.asarray`` makes of the values: ragged sequences become an object array."""
    return replace(s, item=s.item if s.shape is not None else OBJECT_BYTES)


def object_item(s: Sketch) -> int:
    """Per element of an object array or list: a pointer and a boxed scalar (a str object for text)."""
    return 8 + 56 + s.item // 4 if s.item > 8 else OBJECT_BYTES
