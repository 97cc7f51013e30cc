"""Stage 5: pick the expectation that applies here and compare it with an observation.

Message and warning patterns are matched by RE2 (:mod:`lstm_atlas.patterns`), in time linear
in the message, so a pattern can never hang the verdict.

Pure logic on plain data (no TensorFlow), so it is unit-tested with recorded observations
and reused by the catalogue (``describe``) and the fuzz oracle (``effective_expectation``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from lstm_atlas.engine.observe import Observation
from lstm_atlas.patterns import search as pattern_search

OUTCOME_FIELDS = ("raises", "match", "stage", "ok", "crash")


def _version(text: str) -> Version | None:
    """The release part of a version: a 2.16 release candidate behaves as 2.16 does."""
    try:
        return Version(Version(text).base_version)
    except (InvalidVersion, TypeError):
        # e.g. '2.16.0-dev': keep the release part
        m = re.match(r"\d+(\.\d+)*", text or "")
        return Version(m.group(0)) if m else None


def _spec_holds(spec: str, version_text: str) -> bool:
    version = _version(version_text)
    return version is not None and SpecifierSet(spec).contains(version, prereleases=True)


def when_applies(when: dict, env: dict) -> bool:
    """``env`` has tensorflow, keras, numpy, keras_flavor and device_kind."""
    for key, env_key in (("tf", "tensorflow"), ("keras", "keras"), ("numpy", "numpy")):
        if key in when and not _spec_holds(when[key], env.get(env_key, "")):
            return False
    if "device" in when and when["device"] != env.get("device_kind"):
        return False
    if "keras_flavor" in when and when["keras_flavor"] != env.get("keras_flavor"):
        return False
    return True


def effective_expectation(expect: dict, env: dict) -> dict:
    """The base expectation with every applicable override laid on in order (later wins)."""
    out = {k: v for k, v in expect.items() if k != "overrides"}
    applied = []
    for i, override in enumerate(expect.get("overrides", [])):
        if not when_applies(override["when"], env):
            continue
        applied.append(i)
        if "ok" in override or "crash" in override:
            for key in OUTCOME_FIELDS:
                out.pop(key, None)
        if "raises" in override:
            out.pop("ok", None)
            out.pop("crash", None)
        for key, value in override.items():
            if key == "when":
                continue
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
    out["applied_overrides"] = applied
    return out


@dataclass
class Verdict:
    passed: bool
    mismatches: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "pass" if self.passed else "fail"


def _warning_texts(obs: Observation) -> list[str]:
    return [f"{w['category']}: {w['message']}" for w in obs.warnings]


def _check_ok(checks, obs: Observation, out: list[str]) -> None:
    if checks is True or not checks:
        return
    loss_rule = checks.get("loss")
    loss = obs.outcome.get("loss")
    if loss_rule and loss_rule != "any":
        if loss is None:
            out.append(f"expected loss {loss_rule}, but no loss was recorded")
        else:
            finite = obs.outcome.get("loss_finite", False)
            last_nan = loss != loss
            ok = {"finite": finite, "nan": last_nan, "nonfinite": not finite}[loss_rule]
            if not ok:
                out.append(f"expected loss {loss_rule}, observed loss history {obs.outcome.get('loss_history')}")
    if "output_shape" in checks:
        want, got = checks["output_shape"], obs.outcome.get("output_shape")
        if got is None or len(want) != len(got) or any(w is not None and w != g
                                                       for w, g in zip(want, got, strict=True)):
            out.append(f"expected output shape {want}, observed {got}")
    if "output_count" in checks and checks["output_count"] != obs.outcome.get("output_count"):
        out.append(f"expected {checks['output_count']} outputs, observed {obs.outcome.get('output_count')}")
    if "nonfinite_rows" in checks and checks["nonfinite_rows"] != obs.outcome.get("nonfinite_rows"):
        out.append(f"expected NaN/inf in output rows {checks['nonfinite_rows']}, "
                   f"observed {obs.outcome.get('nonfinite_rows')}")


def verdict(expectation: dict, obs: Observation) -> Verdict:
    """Compare; every mismatch is listed so the failure shows all of them at once."""
    out: list[str] = []
    if expectation.get("crash"):
        # only a death by a signal (abort, segfault) is a crash; a Python traceback is not
        if obs.status == "crash" and obs.outcome.get("signal"):
            return Verdict(True)
        return Verdict(False, [f"expected the interpreter to die by a signal, but the run ended with {obs.status}"
                               + (f" ({obs.exception.type} at {obs.stage})" if obs.raised else "")
                               + (f": {obs.detail}" if obs.detail and not obs.raised else "")])
    if obs.status in ("crash", "timeout", "error"):
        return Verdict(False, [f"run ended with {obs.status}: {obs.detail or ''}".strip()])
    if "raises" in expectation:
        if not obs.raised:
            out.append(f"expected {expectation['raises']} at {expectation.get('stage')}, but nothing was raised "
                       f"(ran {', '.join(obs.steps_run)})")
        else:
            exc = obs.exception
            if exc.type != expectation["raises"]:
                out.append(f"exception class: expected {expectation['raises']}, observed {exc.module}.{exc.type}")
            if expectation.get("stage") and obs.stage != expectation["stage"]:
                out.append(f"stage: expected {expectation['stage']}, observed {obs.stage}")
            if expectation.get("match") and not pattern_search(expectation["match"], exc.message):
                out.append(f"message does not match /{expectation['match']}/")
    else:
        if obs.raised:
            out.append(f"expected a clean run, but {obs.exception.type} was raised at {obs.stage}")
        else:
            _check_ok(expectation.get("ok"), obs, out)
    texts = _warning_texts(obs)
    if expectation.get("warns") and not any(pattern_search(expectation["warns"], t) for t in texts):
        out.append(f"no warning matches /{expectation['warns']}/ ({len(texts)} warnings seen)")
    if expectation.get("no_warns"):
        hits = [t for t in texts if pattern_search(expectation["no_warns"], t)]
        if hits:
            out.append(f"unexpected warning matching /{expectation['no_warns']}/: {hits[0][:200]}")
    return Verdict(not out, out)


def claim_verdict(claim: dict | None, obs: Observation) -> str | None:
    """How the source article's claim fares against what TensorFlow did here.

    ``holds``: the named exception (or a subclass) at the named step, or the clean run it
    promised with the loss behaviour it promised; ``partly``: the right exception at another
    step; ``false``: another exception, none where one was promised, an exception where a
    clean run was promised, or a loss that is not what was promised. ``None`` when there is no claim or the
    run did not finish.
    """
    if not claim or obs.status not in ("ok", "raised"):
        return None
    if "raises" in claim:
        if not obs.raised:
            return "false"
        if claim["raises"] not in obs.exception.hierarchy:
            return "false"
        if claim.get("stage") and claim["stage"] != obs.stage:
            return "partly"
        return "holds"
    if obs.raised:
        return "false"
    if claim.get("loss"):
        finite = obs.outcome.get("loss_finite")
        wanted_finite = claim["loss"] == "finite"
        return "holds" if finite is not None and finite == wanted_finite else "false"
    return "holds"


def describe(block: dict, code=lambda text: text, regex=lambda text: f"/{text}/") -> str:
    """One expectation block in words; the terminal and the catalogue quote code differently."""
    if block.get("crash"):
        text = "the interpreter crashes"
    elif "raises" in block:
        # no stage (an override that keeps the base's): say nothing rather than a '?'
        text = f"raises {code(block['raises'])}" + (f" at {code(block['stage'])}" if block.get("stage") else "")
        if block.get("match"):
            text += f", message {regex(block['match'])}"
    elif "ok" in block:
        checks = block["ok"]
        text = "runs clean" + (f" ({', '.join(f'{k}: {v}' for k, v in checks.items())})"
                               if isinstance(checks, dict) and checks else "")
    else:
        text = ""
    if block.get("warns"):
        text += f", warns {regex(block['warns'])}"
    if block.get("unverified"):
        text += " (unverified: from source, not yet run on this device)"
    return text.strip(", ")
