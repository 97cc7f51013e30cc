"""LSTM Error Atlas: TensorFlow/Keras LSTM failure modes as executable YAML cases.

Imported by every pytest session of its environment (the plugin's entry point) and by
``%load_ext lstm_atlas``, so it imports nothing: each entry below delegates when called.
The delegates are named by string (``import_module``), not by an import statement, because
the result cache keys on this file and on every module it imports (plugin/cache.py reads
the import statements); the explain hooks never run an item, so they stay out of that key.
"""

from importlib import import_module

__version__ = "0.1.0"


def explaining(*, tf=None, keras=None, device=None, stream=None, full=False, index=None):
    """``with lstm_atlas.explaining(): ...`` or ``@lstm_atlas.explaining()``: explain an escaping exception.

    The options are :class:`lstm_atlas.explain.hooks.explaining`'s.
    """
    hooks = import_module("lstm_atlas.explain.hooks")
    return hooks.explaining(tf=tf, keras=keras, device=device, stream=stream, full=full, index=index)


def load_ipython_extension(ipython) -> None:
    """``%load_ext lstm_atlas``: explain each cell's exception after its traceback."""
    import_module("lstm_atlas.explain.ipython").load(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext lstm_atlas``."""
    import_module("lstm_atlas.explain.ipython").unload(ipython)
