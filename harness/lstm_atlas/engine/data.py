"""Stage 3a: build the declared inputs (arrays, lists, tensors, datasets) from a case's data block.

Everything here is driven by names from the data-op table (``case/dataops``), which also
sizes and renders each op; nothing in a case is evaluated. Exceptions raised here are real
observations (stage ``data``): numpy refusing a ragged list is one of the failure modes the
library records.
"""

from __future__ import annotations

import numpy as np

from lstm_atlas.case import dataops
from lstm_atlas.case.dataops import lazy
from lstm_atlas.case.dtypes import bind_resolver, numpy_type
from lstm_atlas.engine import compat

lazy.bind(compat)  # the ops reach TensorFlow through the engine's one seam to it
bind_resolver("bfloat16", compat.bfloat16_numpy_type)  # the bfloat16 this TensorFlow converts


def _values(spec: dict, rng: np.random.Generator):
    """The values before the container: the fill (and its dtype cast), ``set``, then each preprocessing step."""
    fill = dataops.fill_of(spec)
    values = fill.build(spec, rng)
    cast = fill.cast_to(spec)
    if cast is not None:
        values = values.astype(numpy_type(cast))
    if spec.get("set"):
        values = dataops.SET.build(values, spec["set"])
    for step in spec.get("preprocess", []):
        (name, arg), = step.items()
        values = dataops.step_of(name).build(values, arg)
    return values


def build_data(data_spec: dict, seed: int) -> dict:
    """Build every declared input, in declaration order, datasets last (they zip in their targets)."""
    rng = np.random.default_rng(seed)
    built: dict = {}
    for name, spec in dataops.ordered(data_spec):
        values = _values(spec, rng)
        built[name] = dataops.container_of(spec).build(values, spec, built)
    return built
