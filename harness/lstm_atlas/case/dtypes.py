"""The case dtypes, one row each: bytes per element, numpy type, how a snippet spells it, Keras' name.

The schema decides which names a case may use (``lstm_atlas.case.schema.DTYPES``; a test
checks this table has exactly those). Everything else about a dtype is here, once: the
budget sizes arrays with ``item``, the data stage builds them with ``numpy``, explain writes
``code``, and the allow-list of layer dtypes is the rows with a ``keras`` name. The numpy type
is named, not imported: validation needs no numpy, and bfloat16's ml_dtypes takes 0.5 s.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class DType:
    name: str
    #: Bytes per element in a numpy array built from numbers ('<U32' for str, a pointer and a box for object).
    item: int
    #: ``module.attr`` of the type numpy builds the array with.
    numpy: str
    #: The type as a pasted snippet writes it.
    code: str
    #: The name a layer's or an Input's ``dtype`` gives it; None where Keras layers take no such dtype.
    keras: str | None = None


#: In the allow-list's order of layer dtypes (``allow.DTYPES`` is the rows with a Keras name, in order).
_ROWS = (
    DType("float16", 2, "numpy.float16", "np.float16", "float16"),
    # numpy has no bfloat16; ml_dtypes (a TensorFlow dependency) has, and a snippet imports it
    DType("bfloat16", 2, "ml_dtypes.bfloat16", "ml_dtypes.bfloat16", "bfloat16"),
    DType("float32", 4, "numpy.float32", "np.float32", "float32"),
    DType("float64", 8, "numpy.float64", "np.float64", "float64"),
    DType("int8", 1, "numpy.int8", "np.int8", "int8"),
    DType("int16", 2, "numpy.int16", "np.int16", "int16"),
    DType("int32", 4, "numpy.int32", "np.int32", "int32"),
    DType("int64", 8, "numpy.int64", "np.int64", "int64"),
    DType("uint8", 1, "numpy.uint8", "np.uint8", "uint8"),
    DType("bool", 1, "numpy.bool_", "bool", "bool"),
    DType("str", 4 * 32, "numpy.str_", "str", "string"),
    DType("object", 40, "builtins.object", "object"),
    DType("complex64", 8, "numpy.complex64", "np.complex64"),
)

DTYPE_TABLE: dict[str, DType] = {row.name: row for row in _ROWS}

#: Bytes per element assumed for a name the table does not know: the widest number.
WIDEST_ITEM = 16


def item_bytes(name: str) -> int:
    """Bytes per element of a dtype name (the widest number for one the table does not know)."""
    row = DTYPE_TABLE.get(name)
    return row.item if row else WIDEST_ITEM


#: Resolvers the engine binds for dtypes whose numpy type depends on the installed TensorFlow
#: (bfloat16: TF <= 2.13 converts its own type and refuses, or lacks, ml_dtypes'). case/ never imports the engine.
_RESOLVERS: dict = {}


def bind_resolver(name: str, resolver) -> None:
    """Let the engine decide the numpy type of ``name`` (called once, from ``engine/data.py``)."""
    _RESOLVERS[name] = resolver
    numpy_type.cache_clear()


@lru_cache(maxsize=None)
def numpy_type(name: str):
    """The numpy type a case dtype builds with, imported on first use (or as the engine resolves it)."""
    if name in _RESOLVERS:
        return _RESOLVERS[name]()
    module, attr = DTYPE_TABLE[name].numpy.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def code(name: str) -> str:
    """The dtype as a snippet writes it."""
    return DTYPE_TABLE[name].code


def keras_names() -> tuple[str, ...]:
    """The Keras names of the dtypes a layer may take, in table order."""
    return tuple(row.keras for row in _ROWS if row.keras)


def pick(*names: str) -> tuple[str, ...]:
    """``names`` in the given order, each checked against the table: a subset that cannot drift."""
    unknown = [name for name in names if name not in DTYPE_TABLE]
    if unknown:
        raise KeyError(f"not case dtypes: {', '.join(unknown)}")
    return names
