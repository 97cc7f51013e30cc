"""Candidate cases: an unexplained fuzz signature written as a case file to review.

The candidate holds Hypothesis's shrunk example in the case format (the blocks the worker
ran), the exception and a ``match`` built from the message's literal parts, so
``lstm-atlas validate`` accepts it and ``pytest`` can run it. Its ``fix`` feeds the same
layer what it asks for, a float32 (batch, timesteps, features) array; a reviewer writes the
real cause and fix before moving it into ``cases/``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from lstm_atlas.case.schema import case_schema
from lstm_atlas.case.validate import KNOWN_EXCEPTIONS
from lstm_atlas.files import write_bytes_atomic
from lstm_atlas.fuzz.oracle import INTERNAL_ERRORS
from lstm_atlas.fuzz.strategies import case_blocks, describe, example_key
from lstm_atlas.normalise import message_template
from lstm_atlas.versions import env_key

_PLACEHOLDER_RE = re.compile(r"<[a-z]+>")
MAX_MATCH_CHARS = 120
#: A candidate's title is cut to what the case schema allows, so every candidate validates.
TITLE_CHARS = case_schema()["properties"]["title"]["maxLength"]


def candidate_id(sig: str) -> str:
    head = re.sub(r"[^a-z0-9]+", "-", sig.split(":", 1)[0].lower()).strip("-") or "outcome"
    return f"fuzz-{head}-{hashlib.sha256(sig.encode('utf-8')).hexdigest()[:8]}"


def family_of(example: dict, exc_type: str | None) -> str:
    """The likeliest of the 20 families, from what the shrunk example still needs."""
    inp, config = example["input"], example["config"]
    if example["layer"] == "LSTMCell":
        return "cell-api"
    if 0 in inp["shape"] or example["step"] == "predict" and inp["shape"][:1] == [0]:
        return "empty-input"
    if inp["dtype"] not in ("float32", "float64", "float16"):
        return "input-dtype"
    if inp["container"] != "ndarray":
        return "input-container"
    if len(inp["shape"]) != 3:
        return "input-rank"
    if config.get("stateful"):
        return "stateful"
    if example["layer"] == "Bidirectional":
        return "wrapper"
    if example.get("masking"):
        return "masking"
    if config.get("return_sequences") or config.get("return_state"):
        return "return-sequences"
    return "feature-dim"


def message_pattern(message: str) -> str | None:
    """A regex of the message's literal parts (placeholders become ``.*?``) that matches ``message``."""
    # the template keeps ranks ("ndim=rank3") for explain; a candidate's pattern matches any rank
    template = re.sub(r"\brank\d\b", "<num>", message_template(message))
    chunks = [c.strip() for c in _PLACEHOLDER_RE.split(template)]
    parts, length = [], 0
    for chunk in chunks:
        if not chunk:
            continue
        if length and length + len(chunk) > MAX_MATCH_CHARS:
            break
        parts.append(re.sub(r"(\\ )+", r"\\s+", re.escape(chunk)))
        length += len(chunk)
    pattern = "(?s)" + ".*?".join(parts) if parts else ""
    if parts and re.search(pattern, message):
        return pattern
    first = (message.strip().splitlines() or [""])[0][:60]
    return re.escape(first) if first else None


def _fix_blocks(example: dict) -> dict:
    """Same layer, fed what it declares: float32 ndarray (2, 3, 2) and a matching declaration."""
    fixed = dict(example, masking=example.get("masking", False),
                 input={"shape": [2, 3, 2], "dtype": "float32", "container": "ndarray"})
    if example.get("declared") is not None:
        fixed["declared"] = [3, 2]
    if fixed["config"].get("units", 1) < 1:
        fixed["config"] = dict(fixed["config"], units=1)
    if example["layer"] == "LSTMCell":
        fixed["states"] = "both"  # a cell is called with its [h, c]
    if example.get("target") is not None:
        fixed["target"] = "ndarray"
    if fixed["config"].get("stateful"):
        fixed["batch"] = 2  # the batch size of the fix's input
    blocks, original = case_blocks(fixed), case_blocks(example)
    data = blocks["data"]
    for name, tensor in original["data"].items():
        # the fix is deep-merged onto the case: null out what the repro input has and the fix must not
        data[name] = dict({k: None for k in tensor if k not in data.get(name, {})}, **data.get(name, {}))
    # likewise the model: a repro's bare `layer` must not survive under the fix's declared `layers`
    model = dict({k: None for k in original["model"] if k not in blocks["model"]}, **blocks["model"])
    fix = {"model": model, "data": data}
    if "call" in blocks and blocks["call"] != original.get("call"):
        fix["call"] = blocks["call"]  # e.g. a cell called without its states: the fix passes them
    return fix


def build_candidate(sig: str, example: dict, outcome: dict, env: dict, count: int) -> dict:
    blocks = case_blocks(example)
    exc = outcome.get("exception") or {}
    suspected = outcome["status"] in ("crash", "timeout") or exc.get("type") in INTERNAL_ERRORS
    case: dict = {
        "id": candidate_id(sig),
        "title": f"Fuzz: {describe(example)}"[:TITLE_CHARS],
        "family": family_of(example, exc.get("type")),
        "tags": ["fuzz", "candidate"] + (["suspected-bug"] if suspected else []),
        "source": {"fuzz": env_key(env), "note": f"Hypothesis example {example_key(example)}"},
        "symptom": (exc.get("core") or sig)[:200] or sig,
        "cause": (f"Found by `lstm-atlas fuzz` on TensorFlow {env.get('tensorflow')} / Keras {env.get('keras')} "
                  f"({count} examples with this signature); Hypothesis's shrunk example. To review: the cause."),
    }
    case.update(blocks)
    if outcome["status"] == "raised":
        known = [c for c in [exc["type"], *exc.get("hierarchy", [])] if c in KNOWN_EXCEPTIONS]
        expect = {"raises": known[0] if known else "Exception", "stage": outcome["stage"]}
        if expect["raises"] != exc["type"]:
            # e.g. autograph's StagingError: the case format names built-in and tf.errors classes only
            expect["note"] = f"TensorFlow raised {exc['type']}, a subclass of {expect['raises']}"
        pattern = message_pattern(exc["message"])
        if pattern:
            expect["match"] = pattern
    else:
        case["isolate"] = True
        # the case format has no "hangs" expectation: a hang is written as a crash for the reviewer to judge
        expect = {"crash": True, "note": f"the fuzzer saw {outcome['status']}: {outcome.get('detail') or ''}"[:300]}
    case["expect"] = expect
    fix = {"explanation": "Feed the layer a float32 (batch, timesteps, features) array that matches what it "
                          "declares. Written by the fuzzer as a starting point: review before moving to cases/."}
    fix.update(_fix_blocks(example))
    if "fit" in blocks:
        fix["fit"] = dict(blocks["fit"])  # a copy: a shared object would be written as a YAML alias
    case["fix"] = fix
    return case


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated objects out in full: a case file reads better without YAML anchors."""

    def ignore_aliases(self, data) -> bool:
        return True


def write_candidate(directory: str | Path, case: dict) -> Path:
    path = Path(directory) / f"{case['id']}.yaml"
    header = "# yaml-language-server: $schema=../../../harness/lstm_atlas/case/case.schema.json\n"
    text = header + yaml.dump(case, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100)
    write_bytes_atomic(path, text.encode("utf-8"))
    return path
