"""TensorFlow, imported and described once per interpreter, for collection and for items alike.

Its own module because both :mod:`lstm_atlas.plugin.collect` (a case needs TensorFlow to be
prepared) and :mod:`lstm_atlas.plugin.items` (an item records the environment it ran in) need
it, and the collector imports the items.
"""

from __future__ import annotations

import pytest

from lstm_atlas.plugin.keys import SPLIT_ERROR_KEY

_SESSION_ENV: dict = {}


def session_environment(config) -> dict:
    """Import TensorFlow once per interpreter and describe it (versions, devices).

    A ``--atlas-logical-cpus`` split that cannot be made raises ``pytest.UsageError``; the
    collector stashes it and :func:`lstm_atlas.plugin.hooks.pytest_collection_modifyitems`
    ends the session with it (exit 4): otherwise every cpu0/cpu1 item would skip and the run
    would look green.
    """
    if not _SESSION_ENV:
        from lstm_atlas.engine import compat

        count = config.getoption("atlas_logical_cpus")
        try:
            compat.configure_logical_cpus(count)
        except compat.DeviceSplitError as exc:
            message = f"lstm-atlas: --atlas-logical-cpus {count}: {exc}"
            config.stash[SPLIT_ERROR_KEY] = message
            raise pytest.UsageError(message) from None
        _SESSION_ENV.update(compat.environment())
    return _SESSION_ENV
