"""numpy and TensorFlow for the ops' ``build`` callables, imported when an op is first built.

The same rows are read at validate time (sizes) and by explain (code), which need neither:
``lstm-atlas validate`` stays free of numpy. TensorFlow is reached only through the one seam
to it, ``engine/compat.py``, which the engine hands over (:func:`bind`) before it builds
anything: the case format never imports the engine.
"""

from __future__ import annotations


class _Numpy:
    """Stands for the numpy module; the import happens on the first attribute read."""

    def __getattr__(self, name: str):
        import numpy

        return getattr(numpy, name)


np = _Numpy()


_seam = None


def bind(compat_module) -> None:
    """Called by ``engine/data.py``: the module the ops reach TensorFlow and Keras utilities through."""
    global _seam
    _seam = compat_module


def compat():
    """``lstm_atlas.engine.compat`` (Keras utilities, ``tf()``), as the engine bound it."""
    if _seam is None:
        raise RuntimeError("data ops are built by lstm_atlas.engine.data, which binds the TensorFlow seam")
    return _seam


def tf():
    return compat().tf()
