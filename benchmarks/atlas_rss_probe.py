"""pytest plugin for benchmarks/matrix_cost.py: the process's RSS after each item, one JSON line each.

Loaded with ``-p atlas_rss_probe`` (benchmarks/ on PYTHONPATH); writes to ``$ATLAS_RSS_PROBE``.
Each xdist worker appends its own lines, tagged with its pid.
"""

import json
import os

import psutil

_PROCESS = psutil.Process()


def pytest_runtest_logfinish(nodeid, location):
    path = os.environ.get("ATLAS_RSS_PROBE")
    if path:
        line = json.dumps({"pid": os.getpid(), "nodeid": nodeid, "rss_mb": _PROCESS.memory_info().rss / 2**20})
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
