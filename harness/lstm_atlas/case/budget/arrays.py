"""Array sizing: every array the data stage builds for a data block, in bytes, before it is built.

Each entry is followed step by step (raw values, dtype cast, ``set``, each preprocessing
step, the container) with the size rules of the data-op table, so the budget sizes exactly
the ops the data stage runs; each array must fit the tensor cap, all entries the data cap.
"""

from __future__ import annotations

from lstm_atlas.case import dataops
from lstm_atlas.case.budget import limits
from lstm_atlas.case.dataops.sketch import Error, Sketch


def tensor_steps(spec: dict, where: tuple, error: Error) -> list[tuple[Sketch, tuple, str]]:
    """(sketch, field, what) for every array the data stage builds for one entry, in order."""
    fill = dataops.fill_of(spec)
    raw = fill.size(spec)
    out = [(raw, where + (fill.field,), f"fill: {fill.name}")]
    current = fill.cast_size(spec, raw)
    if current.item != raw.item:
        out.append((current, where + ("dtype",), f"dtype {spec.get('dtype') or 'float32'}"))
    if spec.get("set"):
        current = dataops.SET.size(current, spec["set"])
        out.append((current, where + ("set",), "set (an object array)"))
    for i, step in enumerate(spec.get("preprocess", [])):
        (name, arg), = step.items()
        for sketch in dataops.step_of(name).size(current, arg, where + ("preprocess", i), error):
            out.append((sketch, where + ("preprocess", i), name))
            current = sketch
    container = dataops.container_of(spec)
    field = where + (("container",) if "container" in spec else (fill.field,))
    out.append((container.size(current), field, f"container {container.name}"))
    return out


def check_data(data: dict, where: tuple, error: Error) -> dict[str, Sketch]:
    """Refuse a data block whose arrays exceed the caps; returns each entry's final sketch."""
    finals = {}
    total = 0
    for name, spec in data.items():
        steps = tensor_steps(spec, where + (name,), error)
        for sketch, field, what in steps:
            if sketch.nbytes > limits.MAX_TENSOR_BYTES:
                raise error(f"{what} builds a {limits.human(sketch.nbytes)} array ({sketch.count} elements x "
                            f"{sketch.item} bytes), over the cap of {limits.human(limits.MAX_TENSOR_BYTES)} "
                            "(MAX_TENSOR_BYTES)", field)
        finals[name] = steps[-1][0]
        total += steps[-1][0].nbytes
        if total > limits.MAX_DATA_BYTES:
            raise error(f"the data entries together hold {limits.human(total)}, over the cap of "
                        f"{limits.human(limits.MAX_DATA_BYTES)} (MAX_DATA_BYTES)", where + (name,))
    return finals
