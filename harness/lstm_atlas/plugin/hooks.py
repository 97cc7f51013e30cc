"""The pytest plugin (entry point ``pytest11``): ``pytest cases/`` runs the library.

Each case file becomes a :class:`CaseFile`; each case yields ``<id>[repro-<device>]`` and
``<id>[fix-<device>]`` items. A malformed file yields one ``<stem>[invalid]`` item that
fails with the file, line and field, and every other file still runs.

The plugin is installed for every pytest session of the environment, so it stays inert
until it collects a file that :mod:`lstm_atlas.case.discover` calls a case: only then does it
register its markers and set ``TF_CPP_MIN_LOG_LEVEL``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from lstm_atlas import files
from lstm_atlas.case import discover, schema
from lstm_atlas.case.schema import VARIANTS
from lstm_atlas.case.validate import Case, load_case
from lstm_atlas.engine import deadline
from lstm_atlas.engine.match import claim_verdict, describe, effective_expectation, verdict
from lstm_atlas.engine.observe import Observation
from lstm_atlas.errors import CaseError
from lstm_atlas.matrix import results as record
from lstm_atlas.plugin import cache

RECORD_KEY = "atlas"
ENV_KEY = "atlas_env"
ACTIVE_KEY = pytest.StashKey[bool]()
SPLIT_ERROR_KEY = pytest.StashKey[str]()
CACHE_STASH = pytest.StashKey["cache.ResultCache | None"]()


def pytest_addoption(parser):
    group = parser.getgroup("lstm-atlas", "LSTM Error Atlas")
    group.addoption("--atlas-results", metavar="PATH", default=None,
                    help="write the JSON results file (schema version 2) to PATH, atomically, after every item")
    group.addoption("--atlas-devices", metavar="LIST", default="cpu,gpu",
                    help="device kinds to parametrise items by (default: cpu,gpu; absent ones are skipped)")
    group.addoption("--atlas-logical-cpus", metavar="N", type=int, default=0,
                    help="split the CPU into N logical devices (cpu0..cpuN-1) to exercise the device axis")
    group.addoption("--atlas-isolate", action="store_true", default=False,
                    help="run every item in its own interpreter (crashes and hangs are recorded)")
    group.addoption("--atlas-timeout", metavar="SECONDS", type=float, default=300.0,
                    help="per-item time limit, isolated or in-process (default 300; 0: none). In-process, "
                         "a hang that never returns to Python ends the process after a grace period")
    parser.addini("atlas_case_dirs", type="args", default=list(discover.DEFAULT_CASE_DIRS),
                  help="folder names (glob patterns) whose YAML files may be atlas cases (default: cases); "
                       "a file must also declare itself a case, see harness/lstm_atlas/case/discover.py")
    group.addoption("--atlas-no-cache", action="store_true", default=False,
                    help="run every item even if the result cache ($ATLAS_CACHE_DIR or .atlas-cache/) has it")


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config):
    config.stash[CACHE_STASH] = None if config.getoption("atlas_no_cache") else cache.ResultCache(
        cache.cache_root(config.rootpath))
    if not _is_worker(config):
        # inert until it sees an atlas item or --atlas-results asks for a file
        config.pluginmanager.register(ResultsRecorder(config), "lstm-atlas-recorder")


def activate(config) -> None:
    """The first case file was found: register the markers, quieten TensorFlow's C++ logs."""
    if config.stash.get(ACTIVE_KEY, False):
        return
    config.stash[ACTIVE_KEY] = True
    # TensorFlow reads this when it is first imported; set before any item imports it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for family in schema.FAMILIES:
        config.addinivalue_line("markers", f"{family}: LSTM Error Atlas family '{family}'")
    config.addinivalue_line("markers", "atlas: every LSTM Error Atlas item")


def pytest_collect_file(file_path, parent):
    config = parent.config
    if discover.is_case_file(Path(file_path), config.getini("atlas_case_dirs"), config.rootpath):
        activate(config)
        return CaseFile.from_parent(parent, path=file_path)
    return None


def device_ids(config) -> list[str]:
    kinds = [k.strip() for k in config.getoption("atlas_devices").split(",") if k.strip()]
    n = config.getoption("atlas_logical_cpus")
    out = []
    for kind in kinds:
        if kind == "cpu" and n > 1:
            out.extend(f"cpu{i}" for i in range(n))
        else:
            out.append(kind)
    return out


_SESSION_ENV: dict = {}


def session_environment(config) -> dict:
    """Import TensorFlow once per interpreter and describe it (versions, devices).

    A ``--atlas-logical-cpus`` split that cannot be made raises ``pytest.UsageError``; the
    collector stashes it and :func:`pytest_collection_modifyitems` ends the session with it
    (exit 4): otherwise every cpu0/cpu1 item would skip and the run would look green.
    """
    if not _SESSION_ENV:
        from lstm_atlas.engine import compat

        count = config.getoption("atlas_logical_cpus")
        try:
            compat.configure_logical_cpus(count)
        except compat.DeviceSplitError as exc:
            message = f"lstm-atlas: --atlas-logical-cpus {count}: {exc}"
            config.stash[SPLIT_ERROR_KEY] = message
            raise pytest.UsageError(message) from None
        _SESSION_ENV.update(compat.environment())
    return _SESSION_ENV


def pytest_collection_modifyitems(config):
    # raised here, outside any one file's collection, so pytest exits with a usage error
    if SPLIT_ERROR_KEY in config.stash:
        raise pytest.UsageError(config.stash[SPLIT_ERROR_KEY])


def _relative(config, path) -> str:
    try:
        return str(Path(path).resolve().relative_to(config.rootpath))
    except ValueError:
        return str(path)


class CaseFile(pytest.File):
    def collect(self):
        try:
            case = load_case(self.path)
            keys, reused = self._cached(case)
            prepared = dict.fromkeys(VARIANTS)
            if not keys or len(reused) < len(keys):  # something to run: TensorFlow is needed
                # Resolve layer/optimizer/loss names now, so a typo is one error for the file.
                session_environment(self.config)
                from lstm_atlas.engine.execute import prepare

                prepared = {variant: prepare(case, variant) for variant in VARIANTS}
        except pytest.UsageError:
            return  # reported once for the session by pytest_collection_modifyitems
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with one file, it fails alone
            if not isinstance(exc, CaseError):
                exc = CaseError(f"cannot prepare this case ({type(exc).__name__}: {exc})", path=str(self.path))
            yield InvalidCaseItem.from_parent(self, name=f"{self.path.stem}[invalid]", error=exc)
            return
        for variant in VARIANTS:
            for device in device_ids(self.config):
                item = CaseItem.from_parent(self, name=f"{case.id}[{variant}-{device}]", case=case,
                                            variant=variant, device=device, prepared=prepared[variant],
                                            cache_key=keys.get((variant, device)),
                                            cached=reused.get((variant, device)))
                item.add_marker("atlas")
                item.add_marker(case.family)
                for tag in case.tags:
                    self.config.addinivalue_line("markers", f"{tag}: case tag")
                    item.add_marker(tag)
                yield item

    def _cached(self, case) -> tuple[dict, dict]:
        """Cache keys of this file's items, and the entries already stored for them."""
        store = self.config.stash[CACHE_STASH]
        if store is None:
            return {}, {}
        options = cache.outcome_options(self.config)
        content = Path(case.path).read_bytes()
        keys = {(variant, device): cache.item_key(content, variant, device, options)
                for variant in VARIANTS for device in device_ids(self.config)}
        reused = {slot: entry for slot, key in keys.items() if (entry := store.get(key)) is not None}
        return keys, reused


class AtlasMismatch(Exception):
    """Expected and observed differ; carries both for :meth:`CaseItem.repr_failure`."""

    def __init__(self, block: str):
        super().__init__(block)
        self.block = block


def _expected_line(expectation: dict) -> str:
    return describe(expectation)


def _observed_line(obs: Observation) -> str:
    if obs.raised:
        exc = obs.exception
        first = exc.message.strip().splitlines()[0] if exc.message.strip() else ""
        return f"raised {exc.module}.{exc.type} at {obs.stage}: {first[:300]}"
    if obs.status == "ok":
        bits = []
        if "loss_history" in obs.outcome:
            bits.append(f"loss {obs.outcome['loss_history']}")
        if "output_shape" in obs.outcome:
            bits.append(f"output shape {obs.outcome['output_shape']}")
        return "ran clean through " + ", ".join(obs.steps_run) + (f" ({'; '.join(bits)})" if bits else "")
    return f"{obs.status}: {obs.detail}"


class CaseItem(pytest.Item):
    def __init__(self, *, case: Case, variant: str, device: str, prepared=None, cache_key=None, cached=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.cache_key = cache_key
        self.cached = cached
        self.recorded: dict | None = None
        self.prepared = prepared
        self.case = case
        self.variant = variant
        self.device = device
        self.spec = case.variants[variant]

    def reportinfo(self):
        return self.path, self.case.line_of("id"), f"{self.case.id} [{self.variant} on {self.device}]"

    def _record(self, **fields):
        base = record.item_record(self.nodeid, self.case.id, _relative(self.config, self.case.path), self.variant,
                                  self.device, family=self.case.family, tags=self.case.tags,
                                  claim=self.spec.get("claim"), **fields)
        self.recorded = base
        self.user_properties.append((RECORD_KEY, base))
        summary = record.case_summary(self.case, _relative(self.config, self.case.path))
        self.user_properties.append(("atlas_case", (self.case.id, summary)))

    def runtest(self):
        if self.cached is not None:
            return self._replay(self.cached)
        env = session_environment(self.config)
        self.user_properties.append((ENV_KEY, env))
        kind = record.device_kind(self.device)
        if self.device not in env["devices"]:
            reason = f"device {self.device} not visible to TensorFlow {env['tensorflow']} here"
            self._record(verdict="skip", reason=reason)
            self._remember(env)
            pytest.skip(reason)
        match_env = dict(env, device_kind=kind)
        expectation = effective_expectation(self.spec["expect"], match_env)
        obs = self._observe()
        result = verdict(expectation, obs)
        claim = claim_verdict(self.spec.get("claim"), obs)
        status = result.name if result.passed else {"crash": "crash", "timeout": "timeout", "error": "error"}.get(
            obs.status, result.name)
        self._record(verdict=status, expected=expectation, observed=obs.to_dict(), mismatches=result.mismatches,
                     claim_verdict=claim, unverified=bool(expectation.get("unverified")),
                     reason=obs.detail)
        block = None if result.passed else self._failure_block(expectation, obs, result.mismatches, env)
        self._remember(env, block)
        if block is not None:
            raise AtlasMismatch(block)

    def _remember(self, env: dict, block: str | None = None) -> None:
        store = self.config.stash[CACHE_STASH]
        if store is not None and self.cache_key is not None and self.recorded is not None:
            store.put(self.cache_key, self.recorded, env, block)

    def _replay(self, entry: dict) -> None:
        """Report a cached outcome as if it had just run; TensorFlow is not touched."""
        record_ = cache.replayed_record(entry, self.nodeid)
        self.user_properties.append((ENV_KEY, cache.replayed_environment(entry.get("environment"))))
        self.user_properties.append((RECORD_KEY, record_))
        self.user_properties.append(("atlas_case", (self.case.id, record.case_summary(
            self.case, _relative(self.config, self.case.path)))))
        note = f"(cached result observed {entry['observed_at']}; --atlas-no-cache runs it again)"
        if record_["verdict"] == "skip":
            pytest.skip(f"{record_.get('reason')} {note}")
        if record_["verdict"] == "fail":
            raise AtlasMismatch(f"{entry.get('failure_block') or record_.get('reason')}\n  {note}")

    def _observe(self) -> Observation:
        isolate = self.config.getoption("atlas_isolate") or self.case.spec.get(
            "isolate", "convert" in self.prepared.steps)
        if isolate:
            from lstm_atlas.engine.isolate import run_isolated

            timeout = self.case.spec.get("timeout", self.config.getoption("atlas_timeout"))
            return run_isolated(self.case.path, self.variant, self.device, timeout,
                                self.config.getoption("atlas_logical_cpus"))
        from lstm_atlas.engine.execute import execute
        from lstm_atlas.engine.isolate import inject_fault

        limit = self.case.spec.get("timeout", self.config.getoption("atlas_timeout"))
        try:
            with deadline.item_deadline(limit):
                inject_fault(self.case.id)
                return execute(self.prepared, self.device, self.spec.get("seed", 0))
        except deadline.ItemTimeout as exc:
            return Observation(status="timeout", detail=f"no result after {exc.seconds:g} s (in-process); "
                               "item interrupted", duration_s=float(exc.seconds), outcome={"stack": exc.stack})

    def _failure_block(self, expectation, obs, mismatches, env) -> str:
        line = self.case.line_of("expect" if self.variant == "repro" else "fix")
        lines = [f"{self.case.id} [{self.variant} on {self.device}] — {self.case.spec['title']}",
                 f"  file:     {self.case.path}:{line}",
                 f"  env:      TensorFlow {env['tensorflow']}, Keras {env['keras']} ({env['keras_flavor']}), "
                 f"numpy {env['numpy']}",
                 f"  expected: {_expected_line(expectation)}",
                 f"  observed: {_observed_line(obs)}"]
        lines += [f"  - {m}" for m in mismatches]
        if obs.raised and obs.exception.message.count("\n"):
            lines.append("  full message:")
            lines += ["    " + line for line in obs.exception.message.strip().splitlines()[:25]]
        if obs.outcome.get("stderr_tail"):
            lines.append("  child stderr (tail):")
            lines += ["    " + line for line in obs.outcome["stderr_tail"].splitlines()[-15:]]
        return "\n".join(lines)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, AtlasMismatch):
            return excinfo.value.block
        return super().repr_failure(excinfo, style=style)


class InvalidCaseItem(pytest.Item):
    """Stands in for a case file that cannot be loaded; fails with the located error."""

    def __init__(self, *, error: CaseError, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def reportinfo(self):
        return self.path, (self.error.line or 1) - 1, f"invalid case file {self.path.name}"

    def runtest(self):
        self.user_properties.append((RECORD_KEY, record.item_record(
            self.nodeid, self.path.stem, _relative(self.config, self.path), "invalid", None, verdict="invalid",
            reason=self.error.located(),
            location={"path": self.error.path, "line": self.error.line, "field": self.error.field})))
        raise self.error

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseError):
            return f"invalid case: {excinfo.value.located()}"
        return super().repr_failure(excinfo, style=style)


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
            elif key == "atlas_case" and report.when == "call":
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
        claims = [i for i in self.items.values() if i.get("claim_verdict")]
        if not claims:
            if self.path:
                terminalreporter.write_line(f"lstm-atlas: results written to {self.path}")
            return
        terminalreporter.section("LSTM Error Atlas: source claims vs TensorFlow")
        env = self.environment or {}
        terminalreporter.write_line(f"TensorFlow {env.get('tensorflow', '?')}, Keras {env.get('keras', '?')}")
        for item in sorted(claims, key=lambda i: i["nodeid"]):
            claim = item["claim"]
            said = (f"{claim['raises']}" + (f" at {claim['stage']}" if claim.get("stage") else "")
                    if "raises" in claim else "runs" + (f" with {claim['loss']} loss" if claim.get("loss") else ""))
            obs = item.get("observed") or {}
            exc = obs.get("exception")
            saw = (f"{exc['type']} at {obs.get('stage')}" if exc else
                   "runs" + (f" (final loss {obs['outcome'].get('loss')})" if obs.get("outcome", {}).get("loss")
                             is not None else ""))
            terminalreporter.write_line(
                f"{item['claim_verdict']:>6}  {item['case_id']}[{item['variant']}-{item['device']}]: "
                f"article says {said}; TensorFlow: {saw}")
        if self.path:
            terminalreporter.write_line(f"lstm-atlas: results written to {self.path}")
