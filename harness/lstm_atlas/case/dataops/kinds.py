"""The shape of a row in the data-op table: what building, sizing and rendering need of each op.

Every op carries three callables side by side, so the data stage (``build``), the budget
(``size``, at validate time, in bytes) and explain (``render``, paste-able code) cannot
disagree about what the op means; adding an op is one row and one schema entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from lstm_atlas.case.dataops.sketch import Error, Sketch
from lstm_atlas.case.dtypes import item_bytes


@dataclass(frozen=True)
class Fill:
    """Where an entry's values come from (``fill:``)."""

    name: str
    #: (spec, numpy Generator) -> the values before the dtype cast.
    build: Callable[[dict, Any], Any]
    #: spec -> the values before the cast, sketched.
    size: Callable[[dict], Sketch]
    #: spec -> a Python expression for the values before the cast.
    render: Callable[[dict], str]
    #: The field a size error points at.
    field: str = "shape"
    #: What ``astype(dtype or default)`` casts to when the case names no dtype; None: the fill makes its own dtype.
    default: str | None = "float32"
    #: Built in the case's dtype already when one is named, so the cast does not change the size.
    typed: bool = False

    def cast_to(self, spec: dict) -> str | None:
        """The dtype the values are cast to after the fill, None when there is no cast."""
        return None if self.default is None else (spec.get("dtype") or self.default)

    def cast_size(self, spec: dict, raw: Sketch) -> Sketch:
        """The array after that cast (numpy generates float64/int64 first)."""
        dtype = spec.get("dtype")
        if self.default is None or (self.typed and dtype):
            return raw
        item = item_bytes(dtype or self.default)
        if dtype == "str" and raw.item > 8:
            item = raw.item  # text values keep their width
        return replace(raw, item=item)


@dataclass(frozen=True)
class Entries:
    """The ``set:`` entries written into single elements after the fill."""

    #: (values, entries) -> values (an object array).
    build: Callable[[Any, list], Any]
    #: (sketch, entries) -> the object array.
    size: Callable[[Sketch, list], Sketch]
    #: (variable, entries) -> lines.
    render: Callable[[str, list], list[str]]


@dataclass(frozen=True)
class Step:
    """One ``preprocess:`` step, ``{name: arg}``."""

    name: str
    #: (values, arg) -> values.
    build: Callable[[Any, Any], Any]
    #: (sketch, arg, where, error) -> every array the step allocates, its result last.
    size: Callable[[Sketch, Any, tuple, Error], list[Sketch]]
    #: (variable, arg) -> one line.
    render: Callable[[str, Any], str]


@dataclass(frozen=True)
class Container:
    """What the values are handed to Keras as (``container:``)."""

    name: str
    #: (values, spec, entries built so far) -> the input.
    build: Callable[[Any, dict, dict], Any]
    #: sketch -> sketch of the container.
    size: Callable[[Sketch], Sketch]
    #: (variable, spec) -> lines.
    render: Callable[[str, dict], list[str]]
    #: The snippet needs ``import tensorflow as tf``.
    tf: bool = False
    #: Built after the other entries, because it zips one of them in.
    last: bool = False
