"""The worker's handle tells a dying child from a hung one, without TensorFlow: the child here is a stand-in
interpreter that speaks the protocol and then aborts the way oneDNN does (pipe closed, then SIGABRT)."""

from __future__ import annotations

import sys

from lstm_atlas.fuzz.supervisor import Worker

EXAMPLE = {"layer": "LSTM", "config": {"units": 1}, "masking": False, "declared": None,
           "input": {"shape": [2, 3, 0], "dtype": "float32", "container": "ndarray"}, "step": "fit"}

#: Says hello, reads one example, closes its end of the pipe, and aborts a moment later: what a C++
#: runtime does on `terminate called after throwing ...` (the output is flushed and closed before the
#: kernel delivers SIGABRT and the parent can reap the child).
ABORTING_CHILD = """
import json, os, sys, time
sys.stdout.write(json.dumps({"ready": True, "environment": {"tensorflow": "0", "keras": "0"}}) + "\\n")
sys.stdout.flush()
sys.stdin.readline()
os.close(1)
time.sleep(0.5)
os.abort()
"""


def _fake_python(tmp_path, code: str) -> str:
    script = tmp_path / "child.py"
    script.write_text(code)
    launcher = tmp_path / "python"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    launcher.chmod(0o755)
    return str(launcher)


def test_a_child_that_closes_the_pipe_and_aborts_is_a_crash_not_a_timeout(tmp_path):
    worker = Worker(timeout_s=30.0, python=_fake_python(tmp_path, ABORTING_CHILD))
    try:
        worker.wait_ready()
        outcome = worker.run(EXAMPLE)
    finally:
        worker.stop()
    assert outcome["status"] == "crash", outcome
    assert outcome["detail"] == "interpreter died (SIGABRT)"
    assert outcome["duration_s"] < 10  # not the 30 s hang limit
