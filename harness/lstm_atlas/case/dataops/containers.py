"""The containers an entry is handed to Keras in (``container:``, ``ndarray`` by default).

Which container a user passes is itself a failure mode (a list of arrays, a ragged object
array, an unbatched dataset), so each is built exactly as a user would build it. The
TensorFlow ones reach TensorFlow through ``engine/compat.py``, only when built.
"""

from __future__ import annotations

import math
from dataclasses import replace

from lstm_atlas.case.dataops.kinds import Container
from lstm_atlas.case.dataops.lazy import np, tf
from lstm_atlas.case.dataops.sketch import ARRAY_HEADER_BYTES, LIST_HEADER_BYTES, Sketch, object_item


def _list(values, spec: dict, built: dict):
    if isinstance(values, np.ndarray):
        return values.tolist()
    return [v.tolist() if isinstance(v, np.ndarray) else v for v in values]


def _list_size(s: Sketch) -> Sketch:
    """Nested lists: a header per list, a pointer and a boxed scalar per element."""
    dims = s.shape if s.shape else (s.samples, s.longest, s.inner)
    lists = sum(math.prod(dims[:i]) for i in range(len(dims)))
    pointers = sum(math.prod(dims[:i + 1]) for i in range(len(dims)))
    total = LIST_HEADER_BYTES * lists + 8 * pointers + (object_item(s) - 8) * s.count
    return replace(s, item=math.ceil(total / max(s.count, 1)))


def _object_array(values, spec: dict, built: dict):
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def _object_array_size(s: Sketch) -> Sketch:
    """One ndarray object per sample, over the same elements."""
    per_sample = s.count / max(s.samples, 1)
    return replace(s, item=s.item + math.ceil(ARRAY_HEADER_BYTES / max(per_sample, 1)))


def _ndarray_code(name: str, spec: dict) -> list[str]:
    if spec.get("fill") == "literal" and not spec.get("dtype"):
        return [f"{name} = np.asarray({name})"]
    return []


def _ragged_tensor(values, spec: dict, built: dict):
    rows = [np.asarray(v) for v in values]
    return tf().RaggedTensor.from_row_lengths(np.concatenate(rows), [len(r) for r in rows])


def _dataset(values, spec: dict, built: dict):
    target = spec.get("targets")
    ds = tf().data.Dataset.from_tensor_slices((values, built[target]) if target else values)
    batch = spec.get("batch", None)
    return ds.batch(batch) if batch else ds


def _dataset_code(name: str, spec: dict) -> list[str]:
    target = spec.get("targets")
    source = f"({name}, {target})" if target else name
    lines = [f"{name} = tf.data.Dataset.from_tensor_slices({source})"]
    if spec.get("batch"):
        lines.append(f"{name} = {name}.batch({spec['batch']})")
    return lines


def _same_bytes(s: Sketch) -> Sketch:
    """The container copies the elements once."""
    return s


CONTAINERS: dict[str, Container] = {container.name: container for container in (
    Container("ndarray", build=lambda values, spec, built: values if isinstance(values, np.ndarray)
              else np.array(values), size=_same_bytes, render=_ndarray_code),
    Container("list", build=_list, size=_list_size,
              render=lambda name, spec: [f"{name} = [np.asarray(v).tolist() for v in {name}]"]),
    Container("list_of_arrays", build=lambda values, spec, built: [np.asarray(v) for v in values], size=_same_bytes,
              render=lambda name, spec: [f"{name} = [np.asarray(v) for v in {name}]"]),
    Container("object_array", build=_object_array, size=_object_array_size,
              render=lambda name, spec: [f"{name} = np.array({name} + [None], dtype=object)[:-1]  "
                                         "# one object per sample"]),
    Container("tensor", tf=True, build=lambda values, spec, built: tf().convert_to_tensor(values),
              size=_same_bytes, render=lambda name, spec: [f"{name} = tf.convert_to_tensor({name})"]),
    Container("ragged_tensor", tf=True, build=_ragged_tensor, size=_same_bytes,
              render=lambda name, spec: [f"{name} = tf.ragged.constant([np.asarray(v).tolist() for v in {name}], "
                                         "ragged_rank=1)"]),
    Container("dataset", tf=True, last=True, build=_dataset, size=_same_bytes, render=_dataset_code),
)}
