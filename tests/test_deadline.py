"""The in-process per-item time limit (no TensorFlow needed: the hang is a plain sleep)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from lstm_atlas.engine import deadline

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")


def test_a_python_hang_is_interrupted_with_its_stack():
    started = time.perf_counter()
    with pytest.raises(deadline.ItemTimeout) as info:
        with deadline.item_deadline(0.5, grace=30):
            time.sleep(30)
    assert time.perf_counter() - started < 5
    assert info.value.seconds == 0.5 and "time.sleep(30)" in info.value.stack


def test_the_timer_is_gone_after_the_block():
    before = signal.getsignal(signal.SIGALRM)
    with deadline.item_deadline(5, grace=5):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    time.sleep(0.1)  # nothing fires later


def test_runner_exceptions_do_not_swallow_it():
    """The runner catches Exception for TensorFlow's errors; the timeout must get past that."""
    with pytest.raises(deadline.ItemTimeout):
        with deadline.item_deadline(0.3, grace=30):
            try:
                time.sleep(30)
            except Exception:  # noqa: BLE001 - any error ends the loop the test waits in
                pytest.fail("ItemTimeout was caught as an Exception")


def test_zero_means_no_limit():
    with deadline.item_deadline(0):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_hang_that_never_returns_to_python_ends_the_process():
    """SIGALRM blocked stands in for native code that never runs the handler: the hard stop ends it."""
    code = ("import signal, time; from lstm_atlas.engine import deadline\n"
            "with deadline.item_deadline(0.5, grace=1):\n"
            "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
            "    time.sleep(60)\n")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert time.perf_counter() - started < 20
    assert proc.returncode != 0 and "Timeout" in proc.stderr and "time.sleep" not in proc.stdout


def test_grace_is_bounded():
    assert deadline.grace_for(4) == 5 and deadline.grace_for(100) == 25 and deadline.grace_for(3600) == 60


def test_an_outer_timer_is_put_back():
    """pytest-timeout (signal method) arms the same timer; the item's limit must not cancel it."""
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        with deadline.item_deadline(5, grace=5):
            pass
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 25 < remaining <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired
