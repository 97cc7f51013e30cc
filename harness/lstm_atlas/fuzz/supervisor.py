"""The parent's handle on the warm fuzz worker: start it, send it examples, restart it.

The child (:mod:`lstm_atlas.fuzz.worker`) imports TensorFlow; this side never does, so
an example that kills or hangs the child is an outcome (``crash``/``timeout``) that this
handle records before it starts a fresh child, and the run goes on. The child is started
with :func:`lstm_atlas.interpreter.entry_argv`, not ``python -m``, so a folder named
``lstm_atlas/`` in the user's current directory cannot shadow the installed package.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from lstm_atlas.interpreter import entry_argv

WORKER_MODULE = "lstm_atlas.fuzz.worker"


class Worker:
    """The warm child process; ``run`` never raises for what happens inside it."""

    def __init__(self, timeout_s: float, python: str | None = None):
        self.timeout_s = timeout_s
        self.python = python or sys.executable
        self.proc: subprocess.Popen | None = None
        self.environment: dict | None = None
        self.restarts = 0
        self._stderr = tempfile.TemporaryFile()
        self.spawn()

    def spawn(self) -> None:
        """Start the child; it imports TensorFlow while the parent goes on (see :meth:`wait_ready`)."""
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        self._stderr.seek(0)
        self._stderr.truncate()
        self.proc = subprocess.Popen(entry_argv(WORKER_MODULE, python=self.python), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True, bufsize=1)
        self.environment = None

    def wait_ready(self) -> dict:
        """The child's environment, once it has imported TensorFlow and said hello."""
        if self.environment is not None:
            return self.environment
        hello = self._read(timeout=300.0)
        if hello is None or not hello.get("ready"):
            raise RuntimeError(f"the fuzz worker did not start: {self._stderr_tail()}")
        self.environment = hello["environment"]
        return self.environment

    def _read(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else None

    def _stderr_tail(self, chars: int = 600) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - chars))
        return self._stderr.read().decode("utf-8", "replace").strip()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.spawn()
        self.wait_ready()

    def run(self, example: dict) -> dict:
        """The child's outcome for ``example``, or a ``timeout``/``crash`` outcome and a fresh child."""
        started = time.perf_counter()
        try:
            self.proc.stdin.write(json.dumps(example) + "\n")
            self.proc.stdin.flush()
            answer = self._read(self.timeout_s)
        except (BrokenPipeError, OSError, ValueError):
            answer = None
        if answer is not None:
            return answer
        elapsed = round(time.perf_counter() - started, 3)
        if self.proc.poll() is None:
            outcome = {"status": "timeout", "stage": example["step"], "exception": None,
                       "detail": f"no answer within {self.timeout_s:g} s", "duration_s": elapsed}
        else:
            code = self.proc.returncode
            name = signal.Signals(-code).name if code < 0 and -code in signal.Signals._value2member_map_ else None
            outcome = {"status": "crash", "stage": example["step"], "exception": None,
                       "detail": f"interpreter died ({name or f'exit code {code}'})", "duration_s": elapsed,
                       "stderr_tail": self._stderr_tail()}
        self._restart()
        return outcome
