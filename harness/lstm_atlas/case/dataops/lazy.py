"""numpy and TensorFlow for the ops' ``build`` callables, imported when an op is first built.

The same rows are read at validate time (sizes) and by explain (code), which need neither:
``lstm-atlas validate`` stays free of numpy, and TensorFlow is reached only through the
one seam to it, ``engine/compat.py``.
"""

from __future__ import annotations


class _Numpy:
    """Stands for the numpy module; the import happens on the first attribute read."""

    def __getattr__(self, name: str):
        import numpy

        return getattr(numpy, name)


np = _Numpy()


def compat():
    """``lstm_atlas.engine.compat`` (Keras utilities, ``tf()``)."""
    from lstm_atlas.engine import compat as module

    return module


def tf():
    return compat().tf()
