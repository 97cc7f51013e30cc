"""The table format of the reliability suite, and the helpers its rows share.

A row names the kind of trouble (``hang``, ``unbounded-read``, ``silent-loss``,
``write-failure``, ``trust``, ``validate``, ``traceback``, ...), a short name, and a check:
a function of a fresh temporary folder that provokes the trouble and asserts the outcome
the project promises (one clear line and exit status 2, nothing lost, nothing believed).
Rows time themselves out: a hang is a failure of the row, never of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lstm_atlas.interpreter import entry_argv

#: The kinds a row may name; the closing table of the reliability issue is grouped by these.
KINDS = ("hang", "unbounded-read", "silent-loss", "write-failure", "trust", "validate", "traceback", "interrupt")


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    check: Callable[[Path], None]
    #: Seconds the check may take before it counts as a hang.
    seconds: float = 60.0
    #: The check imports TensorFlow (run under the ``tf`` marker).
    tf: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown reliability kind {self.kind!r} (one of {', '.join(KINDS)})")


@dataclass
class Result:
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


def cli(args: list[str], cwd: Path, stdin: bytes | None = None, timeout: float = 30.0,
        env: dict | None = None) -> Result:
    """``lstm-atlas ARGS`` in a child interpreter (the installed package, never the cwd's)."""
    started = time.perf_counter()
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    try:
        proc = subprocess.run(entry_argv("lstm_atlas.cli", *args), cwd=cwd, input=stdin, capture_output=True,
                              timeout=timeout, env=full_env, check=False)
    except subprocess.TimeoutExpired as exc:
        return Result(None, (exc.stdout or b"").decode("utf-8", "replace"),
                      (exc.stderr or b"").decode("utf-8", "replace"), time.perf_counter() - started, True)
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                  time.perf_counter() - started)


def pytest_run(args: list[str], cwd: Path, timeout: float = 300.0, env: dict | None = None) -> Result:
    """``pytest ARGS`` in a child interpreter, for rows about collection and runs."""
    started = time.perf_counter()
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                              capture_output=True, timeout=timeout, env=full_env, check=False)
    except subprocess.TimeoutExpired as exc:
        return Result(None, (exc.stdout or b"").decode("utf-8", "replace"),
                      (exc.stderr or b"").decode("utf-8", "replace"), time.perf_counter() - started, True)
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                  time.perf_counter() - started)


def assert_one_line_error(result: Result, *needles: str, status: int = 2) -> None:
    """The promise for bad input: exit ``status``, one line on stderr naming the problem, no traceback."""
    assert not result.timed_out, f"hung for {result.seconds:.1f} s"
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert result.rc == status, (result.rc, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines[:5]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
