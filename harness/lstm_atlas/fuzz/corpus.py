"""The fuzz corpus: the examples every environment replays, so each example has an outcome per version.

An explore run generates examples at random; two versions' explore maps therefore describe two
samples, and "this cell changed" compares samples, not behaviours. The corpus fixes the inputs:
an explore run keeps the examples worth replaying (:func:`select`: every shrunk example plus a few
per (layer, step, signature), so the corpus is balanced over layers, steps and outcomes rather
than dominated by the commonest error), :func:`merge` unions the corpora of several runs, and
``lstm-atlas fuzz replay`` runs every example of it on one environment.

Format (``reports/fuzz/corpus.json``)::

    {"schema": "lstm-atlas-fuzz-corpus", "schema_version": 1, "corpus": "<id>",
     "sources": [{"env": "tf221", "seed": 1, "examples": 800}, ...],
     "examples": [{"id": "<example id>", "example": {...}}, ...],
     "dropped": [{"id": "<example id>", "reason": "..."}, ...]}

``dropped`` (optional) lists examples left out as harness artefacts (:data:`ARTEFACTS`), with why.

An example's id is :func:`~lstm_atlas.fuzz.strategies.example_key` (a hash of its canonical JSON),
the corpus id a hash of its sorted examples: the same examples give the same ids in any process.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.files import read_json_file, write_json_atomic
from lstm_atlas.fuzz.strategies import example_key

CORPUS_SCHEMA = "lstm-atlas-fuzz-corpus"
#: Its name in a fuzz folder (``reports/fuzz/corpus.json``, or a scratch folder's).
CORPUS_FILE = "corpus.json"
CORPUS_VERSION = 1
#: Examples kept per (layer, step, signature) besides the shrunk ones.
PER_BUCKET = 3
STEP_ORDER = {"call": 0, "predict": 1, "fit": 2}


def corpus_id(examples: list[dict]) -> str:
    """A hash of the examples in id order: the corpus's name in every map replayed from it."""
    canonical = json.dumps(sorted(examples, key=lambda e: e["id"]), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


#: Inputs the harness cannot build as the example asks, so their outcome says nothing about a layer:
#: (test, reason). The strategy no longer draws them (:func:`~lstm_atlas.fuzz.strategies.examples`);
#: :func:`make_corpus` leaves out any an older run kept, and lists them under ``dropped`` with the reason.
ARTEFACTS = (
    (lambda e: e["input"]["container"] == "dataset" and not e["input"]["shape"],
     "a tf.data dataset built from a scalar: the harness unbatches x into a dataset, which tf.data refuses "
     "for a 0-d array ('Unbatching a tensor is only supported for rank >= 1') before any layer runs"),
)


def artefact_reason(example: dict) -> str | None:
    """Why the harness cannot build this example faithfully, or None."""
    return next((reason for test, reason in ARTEFACTS if test(example)), None)


def make_corpus(examples: list[dict], sources: list[dict], dropped: list[dict] | None = None) -> dict:
    entries = sorted(({"id": example_key(e), "example": e} for e in examples), key=lambda e: e["id"])
    unique = list({e["id"]: e for e in entries}.values())
    dropped = {d["id"]: d for d in dropped or []}
    for entry in unique:
        reason = artefact_reason(entry["example"])
        if reason:
            dropped.setdefault(entry["id"], {"id": entry["id"], "reason": reason})
    kept = [e for e in unique if e["id"] not in dropped]
    corpus = {"schema": CORPUS_SCHEMA, "schema_version": CORPUS_VERSION, "corpus": corpus_id(kept),
              "sources": sources, "examples": kept}
    if dropped:
        corpus["dropped"] = sorted(dropped.values(), key=lambda d: d["id"])
    return corpus


def select(seen: list[tuple[dict, str]], shrunk: list[dict], per_bucket: int = PER_BUCKET) -> list[dict]:
    """What an explore run keeps: every shrunk example, then up to ``per_bucket`` per (layer, step, signature).

    ``seen`` is (example, signature) in the order the run met them.
    """
    kept = {example_key(e): e for e in shrunk}
    buckets: Counter = Counter()
    for example, sig in seen:
        bucket = (example["layer"], example["step"], sig)
        if buckets[bucket] >= per_bucket:
            continue
        buckets[bucket] += 1
        kept.setdefault(example_key(example), example)
    return list(kept.values())


def merge(*corpora: dict | None) -> dict:
    """One corpus holding every example of the given ones (deduplicated by id), their sources listed."""
    examples, sources, dropped = {}, [], []
    for corpus in corpora:
        if not corpus:
            continue
        sources.extend(corpus.get("sources") or [])
        dropped.extend(corpus.get("dropped") or [])
        for entry in corpus["examples"]:
            examples.setdefault(entry["id"], entry["example"])
    return make_corpus(list(examples.values()), sources, dropped)


def read_corpus(path: str | Path, missing_ok: bool = False) -> dict | None:
    """A corpus file, checked: its schema, and that each id is the hash of its example."""
    path = Path(path)
    if not path.exists():
        if missing_ok:
            return None
        raise InputError(f"{path}: no such corpus (build one with `lstm-atlas fuzz --profile explore --publish`)")
    data = read_json_file(path)
    if not isinstance(data, dict) or data.get("schema") != CORPUS_SCHEMA:
        raise InputError(f"{path}: not a fuzz corpus (schema {CORPUS_SCHEMA!r} expected)")
    if data.get("schema_version") != CORPUS_VERSION:
        raise InputError(f"{path}: corpus schema_version {data.get('schema_version')!r}, this version reads "
                         f"{CORPUS_VERSION}")
    entries = data.get("examples")
    if not isinstance(entries, list):
        raise InputError(f"{path}: examples: expected a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("example"), dict):
            raise InputError(f"{path}: examples[{i}]: expected {{id, example}}")
        if example_key(entry["example"]) != entry.get("id"):
            raise InputError(f"{path}: examples[{i}]: id {entry.get('id')!r} is not the hash of its example")
    if corpus_id(entries) != data.get("corpus"):
        raise InputError(f"{path}: corpus id {data.get('corpus')!r} does not match its examples")
    return data


def write_corpus(path: str | Path, corpus: dict) -> Path:
    write_json_atomic(path, corpus)
    return Path(path)


def replay_order(entries: list[dict]) -> list[dict]:
    """Examples in the order replay runs them: call, predict, fit, and within a step examples that build
    the same model next to each other, so the worker reuses it."""
    def key(entry):
        e = entry["example"]
        return (STEP_ORDER.get(e["step"], 9), e["layer"], json.dumps(e["config"], sort_keys=True),
                bool(e.get("masking")), json.dumps(e.get("declared")), len(e["input"]["shape"]),
                e["input"]["dtype"], e["input"]["container"], entry["id"])
    return sorted(entries, key=key)


def balance(corpus: dict) -> dict:
    """How the corpus spreads over layers, steps, dtypes and containers (for the README and the index)."""
    out: dict[str, Counter] = {"layer": Counter(), "step": Counter(), "dtype": Counter(), "container": Counter()}
    for entry in corpus["examples"]:
        e = entry["example"]
        out["layer"][e["layer"]] += 1
        out["step"][e["step"]] += 1
        out["dtype"][e["input"]["dtype"]] += 1
        out["container"][e["input"]["container"]] += 1
    return {k: dict(sorted(v.items())) for k, v in out.items()}
