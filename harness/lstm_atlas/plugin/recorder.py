"""The results file: the controller gathers every item's record and keeps the file current.

Records reach the controller in reports' ``user_properties``, from this process or from
pytest-xdist workers alike; an item that left none (skipped by a mark, a harness error, a
worker that died) gets one built from its nodeid, so the file accounts for every item.
"""

from __future__ import annotations

import sys
import time

import pytest

from lstm_atlas import files
from lstm_atlas.matrix import results as record
from lstm_atlas.plugin.claims import write_claims
from lstm_atlas.plugin.items import CaseItem, InvalidCaseItem
from lstm_atlas.plugin.keys import CASE_KEY, ENV_KEY, RECORD_KEY


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
        interrupted = not final or int(exitstatus) in (2, 3, 4)
        done = len(self.items)
        return {"started": self.started, "finished": files.now_iso() if final else None,
                "duration_s": round(time.perf_counter() - self.t0, 3), "argv": list(sys.argv),
                "workers": numprocesses if isinstance(numprocesses, int) else 0,
                "isolate": bool(self.config.getoption("atlas_isolate")),
                "exit_status": int(exitstatus) if final else None,
                "interrupted": interrupted,
                "complete": bool(final and int(exitstatus) in (0, 1) and self.expected is not None
                                 and done >= self.expected),
                "expected_items": self.expected, "recorded_items": done,
                "running": sorted(self.running) if not final else []}

    def _write(self, exitstatus=None, final: bool = False) -> None:
        if not self.path:
            return
        text = record.results_text(self.environment, list(self.items.values()), self.cases,
                                   self._run_info(exitstatus, final), self.encoded)
        files.write_json_atomic(self.path, text, durable=final)
        self.writes += 1

    def pytest_sessionfinish(self, session, exitstatus):
        self.running.clear()
        self._write(exitstatus, final=True)

    def pytest_terminal_summary(self, terminalreporter):
        write_claims(terminalreporter, self.items.values(), self.environment)
        if self.path:
            terminalreporter.write_line(f"lstm-atlas: results written to {self.path}")
