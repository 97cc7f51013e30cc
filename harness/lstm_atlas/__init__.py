"""LSTM Error Atlas: TensorFlow/Keras LSTM failure modes as executable YAML cases.

Imported by every pytest session of its environment (the plugin's entry point) and by
``%load_ext lstm_atlas``, so it imports nothing: each entry below delegates when called.
"""

__version__ = "0.1.0"


def explaining(*, tf=None, keras=None, device=None, stream=None, full=False, index=None):
    """``with lstm_atlas.explaining(): ...`` or ``@lstm_atlas.explaining()``: explain an escaping exception.

    The options are :class:`lstm_atlas.explain.hooks.explaining`'s.
    """
    from lstm_atlas.explain.hooks import explaining as explaining_

    return explaining_(tf=tf, keras=keras, device=device, stream=stream, full=full, index=index)


def load_ipython_extension(ipython) -> None:
    """``%load_ext lstm_atlas``: explain each cell's exception after its traceback."""
    from lstm_atlas.explain.ipython import load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext lstm_atlas``."""
    from lstm_atlas.explain.ipython import unload

    unload(ipython)
