"""Per-item isolation: run one item in a child interpreter so a crash or hang is recorded, not fatal.

The parent sends ``{path, variant, device, logical_cpus}``; the child loads the case itself
(cases are data, so nothing but a path crosses over) and prints one line holding the
observation as JSON. A non-zero exit is a ``crash``; running past the timeout is a ``timeout``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO

from .observe import Observation

MARKER = "ATLAS-OBSERVATION "
#: Fault injection for the harness's own tests: the child crashes or hangs for this case id.
CRASH_ENV = "ATLAS_TEST_CRASH_CASE"
HANG_ENV = "ATLAS_TEST_HANG_CASE"


def _tail(text: str, limit: int = 1500) -> str:
    text = (text or "").strip()
    return text[-limit:]


@dataclass
class Child:
    """A started child interpreter; its output goes to files so a child nobody waits on yet never blocks."""

    proc: subprocess.Popen
    stdout: IO[bytes]
    stderr: IO[bytes]
    started: float


def start(path: str, variant: str, device: str, logical_cpus: int = 0) -> Child:
    """Start the child for one item; :func:`finish` collects its observation."""
    payload = json.dumps({"path": str(path), "variant": variant, "device": device, "logical_cpus": logical_cpus})
    cmd = [sys.executable, "-m", "lstm_atlas.isolate", payload]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
    return Child(proc, out, err, time.monotonic())


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", "replace")
    handle.close()
    return text


def finish(child: Child, timeout: float) -> Observation:
    """Wait for the child, at most ``timeout`` seconds after it started, and read what it observed."""
    try:
        child.proc.wait(timeout=max(timeout - (time.monotonic() - child.started), 0.0))
    except subprocess.TimeoutExpired:
        child.proc.kill()
        child.proc.wait()
        _read(child.stdout)
        return Observation(status="timeout", detail=f"no result after {timeout:g} s; child killed",
                           duration_s=float(timeout), outcome={"stderr_tail": _tail(_read(child.stderr))})
    stdout, stderr = _read(child.stdout), _read(child.stderr)
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return Observation.from_dict(json.loads(line[len(MARKER):]))
    if child.proc.returncode < 0:
        try:
            name = signal.Signals(-child.proc.returncode).name
        except ValueError:
            name = f"signal {-child.proc.returncode}"
        detail = f"interpreter killed by {name}"
    else:
        detail = f"interpreter exited with code {child.proc.returncode} and no result"
    return Observation(status="crash", detail=detail, outcome={"stderr_tail": _tail(stderr)})


def stop(child: Child) -> None:
    """Kill a child whose result is no longer wanted (the session ended first)."""
    if child.proc.poll() is None:
        child.proc.kill()
        child.proc.wait()
    child.stdout.close()
    child.stderr.close()


def run_isolated(path: str, variant: str, device: str, timeout: float, logical_cpus: int = 0) -> Observation:
    return finish(start(path, variant, device, logical_cpus), timeout)


def _child(payload: dict) -> None:
    from . import compat
    from .run import execute, prepare
    from .errors import CaseError
    from .validate import load_case

    compat.configure_logical_cpus(payload.get("logical_cpus", 0))
    case = load_case(payload["path"])
    if os.environ.get(CRASH_ENV) == case.id:
        os.abort()
    if os.environ.get(HANG_ENV) == case.id:
        time.sleep(10_000)
    try:
        prepared = prepare(case, payload["variant"])
    except CaseError as exc:
        obs = Observation(status="error", detail=exc.located())
    else:
        seed = case.variants[payload["variant"]].get("seed", 0)
        obs = execute(prepared, payload["device"], seed)
    sys.stdout.write("\n" + MARKER + json.dumps(obs.to_dict(), default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
