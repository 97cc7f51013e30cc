"""Per-item isolation: run one item in a child interpreter so a crash or hang is recorded, not fatal.

The parent sends ``{path, variant, device, logical_cpus}``; the child loads the case itself
(cases are data, so nothing but a path crosses over) and prints one line holding the
observation as JSON. Death by a signal (abort, segfault) is a ``crash`` and names the signal;
an exit without a result (a Python traceback) is an ``error``; running past the timeout is a
``timeout``.

Where the platform has it, the child is forked from a warm fork server that imported
TensorFlow once (:mod:`lstm_atlas.engine.zygote`), so an isolated item costs its own work and not
one TensorFlow import each; its stdout and stderr go to a file the parent reads back.
Elsewhere (or with ``ATLAS_ISOLATE_START=spawn``) the child is a fresh interpreter, started
with ``-c`` and with the current folder dropped from ``sys.path`` before it imports anything
(:func:`lstm_atlas.interpreter.entry_argv`, shared with the fuzz worker), so a user's own
``lstm_atlas/`` folder next to their cases cannot shadow the installed package (``python -m``
would put the current folder first).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import lru_cache

from lstm_atlas.engine.observe import Observation
from lstm_atlas.interpreter import entry_argv

MARKER = "ATLAS-OBSERVATION "
#: Fault injection for the harness's own tests, in the child and in-process alike: for this
#: case id the interpreter aborts (SIGABRT), hangs in Python, hangs where no signal handler
#: can run (a stand-in for a native hang), or dies of a Python exception.
CRASH_ENV = "ATLAS_TEST_CRASH_CASE"
HANG_ENV = "ATLAS_TEST_HANG_CASE"
NATIVE_HANG_ENV = "ATLAS_TEST_NATIVE_HANG_CASE"
RAISE_ENV = "ATLAS_TEST_RAISE_CASE"
FAULT_ENVS = (CRASH_ENV, HANG_ENV, NATIVE_HANG_ENV, RAISE_ENV)
#: ``spawn`` forces a fresh interpreter per isolated item instead of a fork of the warm server.
START_ENV = "ATLAS_ISOLATE_START"


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
    payload = {"path": str(path), "variant": variant, "device": device, "logical_cpus": logical_cpus,
               "faults": {name: os.environ.get(name) for name in FAULT_ENVS}}
    context = _fork_server()
    if context is None:
        return _run_spawned(payload, timeout)
    return _run_forked(context, payload, timeout)


@lru_cache(maxsize=None)
def _fork_server():
    """The fork-server context, preloaded with TensorFlow; None where it cannot be had."""
    if os.environ.get(START_ENV) == "spawn" or "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    context.set_forkserver_preload(["lstm_atlas.engine.zygote"])
    return context


def _outcome_of_exit(returncode: int, output: str) -> Observation:
    """No observation came back: a signal death is a crash, anything else an error."""
    outcome = {"returncode": returncode, "stderr_tail": _tail(output)}
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        outcome["signal"] = name
        return Observation(status="crash", detail=f"interpreter killed by {name}", outcome=outcome)
    return Observation(status="error", detail=f"interpreter exited with code {returncode} and no result",
                       outcome=outcome)


def _run_forked(context, payload: dict, timeout: float) -> Observation:
    with tempfile.TemporaryDirectory(prefix="atlas-isolate-") as folder:
        output = os.path.join(folder, "output.txt")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_forked_child, args=(payload, sender, output), daemon=True)
        process.start()
        sender.close()
        deadline = time.monotonic() + timeout if timeout and timeout > 0 else None
        result = None
        try:
            if receiver.poll(None if deadline is None else max(0.0, deadline - time.monotonic())):
                result = receiver.recv()
        except (EOFError, OSError):
            result = None  # the child died before it could answer
        process.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
            return Observation(status="timeout", detail=f"no result after {timeout:g} s; child killed",
                               duration_s=float(timeout), outcome={"stderr_tail": _read_tail(output)})
        receiver.close()
        if result is not None:
            return Observation.from_dict(result)
        return _outcome_of_exit(process.exitcode, _read_tail(output))


def _read_tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            return _tail(handle.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def _run_spawned(payload: dict, timeout: float) -> Observation:
    cmd = entry_argv("lstm_atlas.engine.isolate", json.dumps(payload))
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout or None, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr
        return Observation(status="timeout", detail=f"no result after {timeout:g} s; child killed",
                           duration_s=float(timeout), outcome={"stderr_tail": _tail(stderr or "")})
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return Observation.from_dict(json.loads(line[len(MARKER):]))
    return _outcome_of_exit(proc.returncode, proc.stderr)


def _forked_child(payload: dict, sender, output: str) -> None:
    """Entry of a child forked from the warm server: output to a file, the observation down the pipe."""
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        obs = _observe_in_child(payload)
    except BaseException:  # noqa: BLE001 - reported as the exit of a child without a result
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sender.send(obs.to_dict())
    sender.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _observe_in_child(payload: dict) -> Observation:
    from lstm_atlas.case.validate import load_case
    from lstm_atlas.engine import compat
    from lstm_atlas.engine.execute import execute, prepare
    from lstm_atlas.errors import CaseError

    for name, value in (payload.get("faults") or {}).items():  # the parent's, not the server's
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    compat.configure_logical_cpus(payload.get("logical_cpus", 0))
    case = load_case(payload["path"])
    inject_fault(case.id)
    try:
        prepared = prepare(case, payload["variant"])
    except CaseError as exc:
        return Observation(status="error", detail=exc.located())
    seed = case.variants[payload["variant"]].get("seed", 0)
    return execute(prepared, payload["device"], seed)


def _child(payload: dict) -> None:
    obs = _observe_in_child(payload)
    sys.stdout.write("\n" + MARKER + json.dumps(obs.to_dict(), default=str) + "\n")
    sys.stdout.flush()


def main() -> None:
    _child(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
