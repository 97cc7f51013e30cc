"""The caps a case's allocations must stay under, and how their messages print sizes.

Both halves of the budget (arrays and model) read the caps from here at call time, so a
test that lowers one lowers it everywhere.
"""

from __future__ import annotations

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


def human(n: float) -> str:
    for unit, size in (("EiB", 1024 ** 6), ("PiB", 1024 ** 5), ("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", MiB),
                       ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"
