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

from .observe import Observation

MARKER = "ATLAS-OBSERVATION "
#: Fault injection for the harness's own tests: the child crashes or hangs for this case id.
CRASH_ENV = "ATLAS_TEST_CRASH_CASE"
HANG_ENV = "ATLAS_TEST_HANG_CASE"


def _tail(text: str, limit: int = 1500) -> str:
    text = (text or "").strip()
    return text[-limit:]


def run_isolated(path: str, variant: str, device: str, timeout: float, logical_cpus: int = 0) -> Observation:
    payload = json.dumps({"path": str(path), "variant": variant, "device": device, "logical_cpus": logical_cpus})
    cmd = [sys.executable, "-m", "lstm_atlas.isolate", payload]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        return Observation(status="timeout", detail=f"no result after {timeout:g} s; child killed",
                           duration_s=float(timeout), outcome={"stderr_tail": _tail(str(exc.stderr or ""))})
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return Observation.from_dict(json.loads(line[len(MARKER):]))
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        detail = f"interpreter killed by {name}"
    else:
        detail = f"interpreter exited with code {proc.returncode} and no result"
    return Observation(status="crash", detail=detail, outcome={"stderr_tail": _tail(proc.stderr)})


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
        import time

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
