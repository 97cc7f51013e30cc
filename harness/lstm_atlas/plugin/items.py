"""Items: each case variant on each device is a ``pytest.Item`` that runs it and judges it.

A mismatch fails with a block of expected vs observed (:class:`AtlasMismatch`), not a
harness traceback; an unloadable file is an :class:`InvalidCaseItem` that fails with the
file, line and field. Every item leaves its record in ``user_properties`` for the recorder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_atlas.case.validate import Case
from lstm_atlas.engine import deadline
from lstm_atlas.engine.match import claim_verdict, describe, effective_expectation, verdict
from lstm_atlas.engine.observe import Observation
from lstm_atlas.errors import CaseError
from lstm_atlas.files import WriteError
from lstm_atlas.matrix import results as record
from lstm_atlas.plugin import cache
from lstm_atlas.plugin.keys import CACHE_STASH, CACHE_WRITE_FAILED_KEY, CASE_KEY, ENV_KEY, RECORD_KEY
from lstm_atlas.plugin.session import session_environment


def _relative(config, path) -> str:
    try:
        return str(Path(path).resolve().relative_to(config.rootpath))
    except ValueError:
        return str(path)


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
    """One variant of one case on one device: run it (or replay its cached result) and judge it."""

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
        self.user_properties.append((CASE_KEY, (self.case.id, summary)))

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
        obs, result = self._observe_and_judge(expectation)
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
            try:
                store.put(self.cache_key, self.recorded, env, block)
            except WriteError as exc:  # the observed verdict stands; it is only not cached
                self.user_properties.append((CACHE_WRITE_FAILED_KEY, str(exc)))

    def _replay(self, entry: dict) -> None:
        """Report a cached outcome as if it had just run; TensorFlow is not touched."""
        record_ = cache.replayed_record(entry, self.nodeid)
        self.user_properties.append((ENV_KEY, cache.replayed_environment(entry.get("environment"))))
        self.user_properties.append((RECORD_KEY, record_))
        self.user_properties.append((CASE_KEY, (self.case.id, record.case_summary(
            self.case, _relative(self.config, self.case.path)))))
        note = f"(cached result observed {entry['observed_at']}; --atlas-no-cache runs it again)"
        if record_["verdict"] == "skip":
            pytest.skip(f"{record_.get('reason')} {note}")
        if record_["verdict"] == "fail":
            raise AtlasMismatch(f"{entry.get('failure_block') or record_.get('reason')}\n  {note}")

    def _observe_and_judge(self, expectation: dict):
        """Run the item and compare, both inside the item's deadline: a slow match is a timeout, never a hang."""
        limit = self.case.spec.get("timeout", self.config.getoption("atlas_timeout"))
        isolate = self.config.getoption("atlas_isolate") or self.case.spec.get(
            "isolate", "convert" in self.prepared.steps)
        obs = None
        try:
            if isolate:  # the child has its own limit; the parent's verdict gets one too
                from lstm_atlas.engine.isolate import run_isolated

                obs = run_isolated(self.case.path, self.variant, self.device, limit,
                                   self.config.getoption("atlas_logical_cpus"))
                with deadline.item_deadline(limit):
                    return obs, verdict(expectation, obs)
            from lstm_atlas.engine.execute import execute
            from lstm_atlas.engine.isolate import inject_fault

            with deadline.item_deadline(limit):
                inject_fault(self.case.id)
                obs = execute(self.prepared, self.device, self.spec.get("seed", 0))
                return obs, verdict(expectation, obs)
        except deadline.ItemTimeout as exc:
            where = "while matching its expectation" if obs is not None else "(in-process)"
            timed_out = Observation(status="timeout", detail=f"no result after {exc.seconds:g} s {where}; "
                                    "item interrupted", duration_s=float(exc.seconds), outcome={"stack": exc.stack})
            return timed_out, verdict(expectation, timed_out)

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
