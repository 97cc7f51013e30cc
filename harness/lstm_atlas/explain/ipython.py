"""``%load_ext lstm_atlas``: explain a cell's exception right after IPython has shown its traceback.

It listens to IPython's documented ``post_run_cell`` event, which fires after the cell ran and
its traceback was displayed, with the exception in ``result.error_in_exec``. Unlike
``set_custom_exc`` (one slot for the whole shell, and it also receives the SyntaxErrors of
parsing a cell) or a ``showtraceback`` wrapper, an event callback leaves IPython's own display
untouched, composes with other extensions, and ``%unload_ext`` removes exactly it.
"""

from __future__ import annotations

import sys

from lstm_atlas.explain import hooks

#: The shell attribute holding this extension's callback while it is loaded.
_CALLBACK_ATTR = "_lstm_atlas_explain_callback"


def _callback(result) -> None:
    """Explain the cell's exception (to stdout, where the cell's output goes); never raises."""
    exc = getattr(result, "error_in_exec", None)  # result is None when the cell was cancelled
    if exc is not None:
        hooks.report(exc, sys.stdout)


def load(shell) -> None:
    if getattr(shell, _CALLBACK_ATTR, None) is not None:
        return  # loaded already (IPython calls this again on %reload_ext after unloading)
    shell.events.register("post_run_cell", _callback)
    setattr(shell, _CALLBACK_ATTR, _callback)


def unload(shell) -> None:
    callback = getattr(shell, _CALLBACK_ATTR, None)
    if callback is None:
        return
    try:
        shell.events.unregister("post_run_cell", callback)
    except ValueError:  # someone removed it already
        pass
    setattr(shell, _CALLBACK_ATTR, None)
