"""The results file: the controller gathers every item's record and keeps the file current.

Records reach the controller in reports' ``user_properties``, from this process or from
pytest-xdist workers alike; an item that left none (skipped by a mark, a harness error, a
worker that died) gets one built from its nodeid, so the file accounts for every item.

The file stays truthful whatever happens around it: one run holds a lock beside it (a
second run on the same path stops at its start), a write that fails (full disk, read-only
folder) is one warning in the terminal summary while the run goes on with its own exit
status, and Ctrl-C ends the run as interrupted naming the item it arrived in, even when
TensorFlow swallowed the ``KeyboardInterrupt`` (a destructor that ignores exceptions).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from lstm_atlas import files
from lstm_atlas.matrix import results as record
from lstm_atlas.plugin.claims import write_claims
from lstm_atlas.plugin.items import CaseItem, InvalidCaseItem
from lstm_atlas.plugin.keys import CACHE_REJECTED_KEY, CACHE_WRITE_FAILED_KEY, CASE_KEY, ENV_KEY, RECORD_KEY


class ResultsRecorder:
    """Controller-side: gathers item records (also from xdist workers) and writes the results file.

    The file is rewritten (atomically) when an item starts, so at any moment it holds every
    finished item and names the ones running: a run killed by a native crash leaves a file
    that says so (``run.interrupted``, ``run.running``). ``pytest_sessionfinish`` writes the
    final one with the exit status.
    """

    def __init__(self, config):
        self.config = config
        self.path = config.getoption("atlas_results")
        self.items: dict[str, dict] = {}  # nodeid -> record; a later report for the same item wins
        self.encoded: dict[str, str] = {}  # nodeid -> the record as JSON text, for the rewrites
        self.running: dict[str, str] = {}  # nodeid -> when it started
        self.expected: int | None = None
        self.cases: dict = {}
        self.environment: dict | None = None
        self.started = files.now_iso()
        self.t0 = time.perf_counter()
        self.writes = 0
        self.write_error: str | None = None  # the first write that failed, for the summary
        self.failed_writes = 0
        self.final_failed = False  # the last write failed: the file on disk is not this run's end
        self.lock = None
        self.session = None
        self.sigint_in: list[str] | None = None  # what was running when Ctrl-C arrived
        self._previous_handler = None
        self.cache_rejected: set[str] = set()  # nodeids whose cache entry failed its digest
        self.cache_unwritten: dict[str, str] = {}  # nodeid -> why its outcome was not cached

    def acquire(self) -> None:
        """Hold the lock beside the results path for the run (a second run there stops now)."""
        if not self.path:
            return
        target = Path(self.path)
        try:
            self.lock = files.hold_lock(target.with_name(f".{target.name}.lock"), f"results path {self.path}")
        except files.LockHeld as exc:
            raise pytest.UsageError(f"lstm-atlas: {exc}") from None
        except files.WriteError:  # the folder is not writable: the results writes fail too, and say so
            pass

    def pytest_unconfigure(self, config):
        if self.lock is not None:
            self.lock.close()
            self.lock = None

    def pytest_sessionstart(self, session):
        self.session = session
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame):
        """Remember Ctrl-C and what it interrupted, then raise as Python would."""
        if self.sigint_in is None:
            self.sigint_in = sorted(self.running)
        signal.default_int_handler(signum, frame)

    def pytest_runtest_logfinish(self, nodeid, location):
        # Ctrl-C arrived but the item finished anyway (TensorFlow swallowed the KeyboardInterrupt):
        # stop here, as pytest would have, instead of running on to a run that says `complete`.
        if self.sigint_in is not None and self.session is not None and not self.session.shouldstop:
            self.session.shouldstop = "interrupted by Ctrl-C (SIGINT)"

    def pytest_collection_finish(self, session):
        self.expected = sum(isinstance(item, (CaseItem, InvalidCaseItem)) for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        if self.expected is None:  # every worker collects the same items
            self.expected = sum(1 for nodeid in ids if record.NODEID_RE.match(nodeid))

    def pytest_runtest_logstart(self, nodeid, location):
        if record.NODEID_RE.match(nodeid):
            self.running[nodeid] = files.now_iso()
            self._write()

    def pytest_runtest_logreport(self, report):
        for key, value in report.user_properties:
            if key == RECORD_KEY and report.when == "call":
                self._keep(value)
            elif key == ENV_KEY and self.environment is None:
                self.environment = value
            elif key == CASE_KEY and report.when == "call":
                self.cases.setdefault(value[0], value[1])
            elif key == CACHE_REJECTED_KEY:
                self.cache_rejected.add(report.nodeid)
            elif key == CACHE_WRITE_FAILED_KEY:
                self.cache_unwritten.setdefault(report.nodeid, value)
        if report.when == "???":  # pytest-xdist: the worker died while running this item
            worker = getattr(getattr(report, "node", None), "gateway", None)
            self._add_synthetic(report.nodeid, "crash",
                                f"pytest-xdist worker {getattr(worker, 'id', '?')} died while running this item "
                                "(a native crash, or the hard stop of --atlas-timeout)")
            self.running.pop(report.nodeid, None)
            self._write()
        elif report.when in ("setup", "call") and (report.skipped or report.failed) \
                and report.nodeid not in self.items:  # skipped by a mark, or a harness error: no record
            verdict_name = "skip" if report.skipped else "error"
            why = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else str(report.longrepr)
            self._add_synthetic(report.nodeid, verdict_name, f"{verdict_name} at {report.when}: {why[-500:]}")
        elif report.when == "teardown":
            self.running.pop(report.nodeid, None)

    def _add_synthetic(self, nodeid: str, verdict_name: str, reason: str) -> None:
        rec = record.record_from_nodeid(nodeid, verdict_name, reason)
        if rec is not None:
            self._keep(rec)

    def _keep(self, rec: dict) -> None:
        self.items[rec["nodeid"]] = rec
        self.encoded.pop(rec["nodeid"], None)

    def _run_info(self, exitstatus=None, final: bool = False) -> dict:
        numprocesses = getattr(self.config.option, "numprocesses", 0)
        # stopped before running to the end: Ctrl-C or collection errors, internal or usage error
        sigint = self.sigint_in is not None
        interrupted = not final or int(exitstatus) in (2, 3, 4) or sigint
        done = len(self.items)
        if not final:
            running = sorted(self.running)
        elif sigint:
            running = self.sigint_in
        else:  # a KeyboardInterrupt leaves its item without a teardown report: still running
            running = sorted(self.running) if int(exitstatus) == 2 else []
        return {"started": self.started, "finished": files.now_iso() if final else None,
                "duration_s": round(time.perf_counter() - self.t0, 3), "argv": list(sys.argv),
                "workers": numprocesses if isinstance(numprocesses, int) else 0,
                "isolate": bool(self.config.getoption("atlas_isolate")),
                "exit_status": int(exitstatus) if final else None,
                "interrupted": interrupted,
                "complete": bool(final and int(exitstatus) in (0, 1) and not sigint and self.expected is not None
                                 and done >= self.expected),
                "expected_items": self.expected, "recorded_items": done,
                "running": running}

    def _write(self, exitstatus=None, final: bool = False) -> None:
        if not self.path:
            return
        text = record.results_text(self.environment, list(self.items.values()), self.cases,
                                   self._run_info(exitstatus, final), self.encoded)
        try:
            files.write_json_atomic(self.path, text, durable=final)
        except files.WriteError as exc:  # the run goes on; the summary says so once
            self._failed(exc)
            self.final_failed = final or self.final_failed
            return
        self.final_failed = False
        self.writes += 1

    def _failed(self, exc: files.WriteError) -> None:
        self.failed_writes += 1
        self.write_error = self.write_error or str(exc)

    def pytest_sessionfinish(self, session, exitstatus):
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None
        if self.sigint_in is not None and int(exitstatus) in (0, 1):
            session.exitstatus = exitstatus = pytest.ExitCode.INTERRUPTED
        self._write(exitstatus, final=True)

    def pytest_terminal_summary(self, terminalreporter):
        write_claims(terminalreporter, self.items.values(), self.environment)
        if self.cache_rejected:
            terminalreporter.write_line(f"lstm-atlas: {len(self.cache_rejected)} cache entries failed their digest "
                                        "and were re-run", yellow=True)
        if self.cache_unwritten:
            terminalreporter.write_line(f"lstm-atlas: warning: {len(self.cache_unwritten)} results were not cached "
                                        f"(their verdicts stand): {next(iter(self.cache_unwritten.values()))}",
                                        yellow=True)
        if self.write_error and (self.final_failed or not self.writes):
            terminalreporter.write_line(f"lstm-atlas: warning: the results file is missing or out of date "
                                        f"({self.failed_writes} writes failed): {self.write_error}", red=True)
        elif self.write_error:
            terminalreporter.write_line(f"lstm-atlas: warning: {self.failed_writes} rewrites of the results file "
                                        f"failed ({self.write_error}); the final one wrote {self.path}", yellow=True)
        elif self.path:
            terminalreporter.write_line(f"lstm-atlas: results written to {self.path}")
