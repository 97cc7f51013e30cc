"""What every isolated item needs, imported once in the fork server that forks each item.

Importing TensorFlow and Keras takes seconds; an isolated item's own work is often less.
``multiprocessing``'s fork server imports this module once (without running any
TensorFlow op, so no runtime threads or device state exist yet) and forks a fresh process
per item from it: each item still has its own process, which may crash or hang alone, but
none pays for the import.
"""

from __future__ import annotations

from lstm_atlas.case import validate  # noqa: F401 - imported for the forked children
from lstm_atlas.engine import (
    compat,
    execute,  # noqa: F401 - imported for the forked children
)

compat.keras()  # resolve tf.keras (Keras 2, Keras 3 or tf_keras) once, before forking
