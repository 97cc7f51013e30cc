"""What a case may allocate, in bytes, computed from its data and model blocks before anything runs.

A 20 kB case can otherwise ask for tens of GiB: a long string ``fill: full`` value is
stored once per element, ``to_categorical``/``pad_sequences`` grow an array after any
count of its declared elements, and ``units`` or a declared input shape size the
weights. :mod:`.arrays` follows every array the data stage builds with the bytes numpy or
Keras really use per element; :mod:`.model` estimates the model's weights and layer
outputs from the layer configs; each must stay under a cap of :mod:`.limits`. Estimates
err on the high side.
"""

from __future__ import annotations

from lstm_atlas.case.budget.arrays import check_data, tensor_steps
from lstm_atlas.case.budget.model import check_model, estimate_model
from lstm_atlas.case.dataops.sketch import Sketch

__all__ = ["Sketch", "check_data", "check_model", "estimate_model", "tensor_steps"]
