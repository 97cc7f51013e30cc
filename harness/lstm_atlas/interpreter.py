"""The command line of a fresh interpreter that runs one ``lstm_atlas`` entry point.

The isolated item (:mod:`lstm_atlas.engine.isolate`) and the fuzz worker
(:mod:`lstm_atlas.fuzz.worker`) both run as child interpreters started from a user's
project folder. ``python -m lstm_atlas...`` would put that folder first on ``sys.path``, so
a folder of the user's own named ``lstm_atlas/`` would be imported instead of the installed
package. The child is therefore started with ``-c`` and drops '' and '.' (the current
folder) from ``sys.path`` before it imports anything of ours.
"""

from __future__ import annotations

import sys

#: Run first in the child: the current folder off ``sys.path``.
DROP_CURRENT_FOLDER = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "


def entry_code(module: str) -> str:
    """The ``-c`` program: clean ``sys.path``, then exit with ``module.main()``'s return value."""
    return f"{DROP_CURRENT_FOLDER}from {module} import main; sys.exit(main())"


def entry_argv(module: str, *args: str, python: str | None = None) -> list[str]:
    """``[python, "-c", program, *args]``; the child sees ``args`` as ``sys.argv[1:]``."""
    return [python or sys.executable, "-c", entry_code(module), *args]
