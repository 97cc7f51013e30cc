"""A per-item time limit for items run in-process, so one hang cannot stall a whole run.

Two stages, because a hang may be in Python or inside TensorFlow's native code:

1. at ``seconds``, ``SIGALRM`` raises :class:`ItemTimeout` in the main thread; a hang that
   returns to the interpreter now and then (Python loops, sleeps, most TF ops) ends there and
   the item is recorded as ``timeout`` with the stack where it stood;
2. at ``seconds + grace``, :func:`faulthandler.dump_traceback_later` prints every thread's
   stack and ends the process: a native hang that never gives the interpreter a chance. Under
   pytest-xdist the controller then records the item as ``crash`` and starts a new worker;
   without xdist the results file written so far names the item that was running.

Only available where ``SIGALRM`` exists and in the main thread; elsewhere it does nothing.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager


class ItemTimeout(BaseException):
    """Raised by the alarm; a BaseException so the runner's ``except Exception`` does not eat it."""

    def __init__(self, seconds: float, stack: str):
        super().__init__(f"no result after {seconds:g} s")
        self.seconds = seconds
        self.stack = stack


def supported() -> bool:
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


def grace_for(seconds: float) -> float:
    """Time the soft stop gets before the hard one: a quarter of the limit, 5 to 60 s."""
    return min(60.0, max(5.0, seconds / 4))


@contextmanager
def item_deadline(seconds: float | None, grace: float | None = None):
    """Soft stop (``ItemTimeout``) at ``seconds``, hard stop at ``seconds + grace``; None/0: off."""
    if not seconds or seconds <= 0 or not supported():
        yield
        return
    grace = grace_for(seconds) if grace is None else grace

    def on_alarm(signum, frame):
        raise ItemTimeout(seconds, "".join(traceback.format_stack(frame)[-15:]))

    outer_remaining = signal.getitimer(signal.ITIMER_REAL)[0]  # e.g. pytest-timeout's, put back after
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    faulthandler.dump_traceback_later(seconds + grace, exit=True, file=sys.__stderr__)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer_remaining - (time.monotonic() - started), 0.001))
