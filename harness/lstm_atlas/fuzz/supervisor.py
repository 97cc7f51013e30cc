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
#: How long a child that closed its pipe may take to exit before it counts as hung. A child that
#: aborts (oneDNN's SIGABRT) closes the pipe a moment before the kernel reaps it: read before then,
#: it looked alive, and the abort was recorded as a timeout.
EXIT_GRACE_S = 10.0
_EOF = object()


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
        if not isinstance(hello, dict) or not hello.get("ready"):
            raise RuntimeError(f"the fuzz worker did not start: {self._stderr_tail()}")
        self.environment = hello["environment"]
        return self.environment

    def _read(self, timeout: float):
        """The next message; None when nothing came within ``timeout``; ``_EOF`` when the child closed the pipe."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else _EOF

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
            answer = _EOF
        if isinstance(answer, dict):
            return answer
        elapsed = round(time.perf_counter() - started, 3)
        if answer is _EOF:  # the child is going: wait for its exit status instead of calling it hung
            try:
                self.proc.wait(timeout=EXIT_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            outcome = {"status": "timeout", "stage": example["step"], "exception": None,
                       "detail": f"no answer within {self.timeout_s:g} s", "duration_s": elapsed}
        else:
            code = self.proc.returncode
            # a signal is a negative code; 128 + N is how a shell or a wrapper reports one
            number = -code if code < 0 else code - 128 if code > 128 else None
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else None
            outcome = {"status": "crash", "stage": example["step"], "exception": None,
                       "detail": f"interpreter died ({name or f'exit code {code}'})", "duration_s": elapsed,
                       "stderr_tail": self._stderr_tail()}
        self._restart()
        return outcome
