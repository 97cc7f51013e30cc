"""Per-item isolation: run one item in a child interpreter so a crash or hang is recorded, not fatal.

The parent sends ``{path, variant, device, logical_cpus}``; the child loads the case itself
(cases are data, so nothing but a path crosses over) and prints one line holding the
observation as JSON. Death by a signal (abort, segfault) is a ``crash`` and names the signal;
an exit without a result (a Python traceback) is an ``error``; running past the timeout is a
``timeout``.

The child is started with ``-c`` and drops the current folder from ``sys.path`` before it
imports anything, so a user's own ``lstm_atlas/`` folder next to their cases cannot shadow
the installed package (``python -m`` would put the current folder first).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from .observe import Observation

MARKER = "ATLAS-OBSERVATION "
#: Fault injection for the harness's own tests, in the child and in-process alike: for this
#: case id the interpreter aborts (SIGABRT), hangs in Python, hangs where no signal handler
#: can run (a stand-in for a native hang), or dies of a Python exception.
CRASH_ENV = "ATLAS_TEST_CRASH_CASE"
HANG_ENV = "ATLAS_TEST_HANG_CASE"
NATIVE_HANG_ENV = "ATLAS_TEST_NATIVE_HANG_CASE"
RAISE_ENV = "ATLAS_TEST_RAISE_CASE"
#: The child's entry: drop '' (the current folder) from sys.path first, then run.
CHILD_CODE = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
              "from lstm_atlas.isolate import main; main()")


class InjectedFault(BaseException):
    """Escapes the runner's ``except Exception`` like a harness bug would."""


def inject_fault(case_id: str) -> None:
    """Fail the way the test environment asks for ``case_id``; nothing when no variable names it."""
    import time

    if os.environ.get(CRASH_ENV) == case_id:
        os.abort()
    if os.environ.get(HANG_ENV) == case_id:
        time.sleep(10_000)
    if os.environ.get(NATIVE_HANG_ENV) == case_id:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(10_000)
    if os.environ.get(RAISE_ENV) == case_id:
        raise InjectedFault(f"injected failure for {case_id}")


def _tail(text: str, limit: int = 1500) -> str:
    text = (text or "").strip()
    return text[-limit:]


def run_isolated(path: str, variant: str, device: str, timeout: float, logical_cpus: int = 0) -> Observation:
    payload = json.dumps({"path": str(path), "variant": variant, "device": device, "logical_cpus": logical_cpus})
    cmd = [sys.executable, "-c", CHILD_CODE, payload]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr
        return Observation(status="timeout", detail=f"no result after {timeout:g} s; child killed",
                           duration_s=float(timeout), outcome={"stderr_tail": _tail(stderr or "")})
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return Observation.from_dict(json.loads(line[len(MARKER):]))
    outcome = {"returncode": proc.returncode, "stderr_tail": _tail(proc.stderr)}
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        outcome["signal"] = name
        return Observation(status="crash", detail=f"interpreter killed by {name}", outcome=outcome)
    return Observation(status="error", detail=f"interpreter exited with code {proc.returncode} and no result",
                       outcome=outcome)


def _child(payload: dict) -> None:
    from . import compat
    from .run import execute, prepare
    from .errors import CaseError
    from .validate import load_case

    compat.configure_logical_cpus(payload.get("logical_cpus", 0))
    case = load_case(payload["path"])
    inject_fault(case.id)
    try:
        prepared = prepare(case, payload["variant"])
    except CaseError as exc:
        obs = Observation(status="error", detail=exc.located())
    else:
        seed = case.variants[payload["variant"]].get("seed", 0)
        obs = execute(prepared, payload["device"], seed)
    sys.stdout.write("\n" + MARKER + json.dumps(obs.to_dict(), default=str) + "\n")
    sys.stdout.flush()


def main() -> None:
    _child(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
