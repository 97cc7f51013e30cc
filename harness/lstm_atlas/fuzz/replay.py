"""``lstm-atlas fuzz replay``: run every example of a corpus on this environment and write its map.

No Hypothesis here: the examples are the corpus's, run in :func:`~lstm_atlas.fuzz.corpus.replay_order`
(call first, the fastest path; examples that build the same model next to each other so the warm
worker reuses it), so the same corpus gives the same map on the same environment, and each example
has one outcome per version. The map goes to the scratch folder (``results/fuzz/<env>/``), every
few examples and at the end; ``--publish`` copies a complete one into ``reports/fuzz/``.
"""

from __future__ import annotations

import signal
from pathlib import Path

from lstm_atlas.fuzz.corpus import CORPUS_FILE, read_corpus, replay_order
from lstm_atlas.fuzz.errormap import FuzzMap, write_index, write_map
from lstm_atlas.fuzz.oracle import Oracle, outcome_signature
from lstm_atlas.fuzz.publish import PUBLISHED_DIR, SCRATCH_DIR, copy_corpus, publish_map
from lstm_atlas.fuzz.supervisor import Worker

WRITE_EVERY = 50
REPLAY_TIMEOUT_S = 30.0


class Stopped(Exception):
    """SIGTERM during a replay: stop like Ctrl-C, so the partial map is written and nothing is published."""


def _stop(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def run_replay(*, corpus_path: str | Path = PUBLISHED_DIR / CORPUS_FILE, out_dir: str | Path = SCRATCH_DIR,
               publish: bool = False, publish_dir: str | Path = PUBLISHED_DIR, cases_dir="cases",
               merged="reports/merged.json", allow=None, examples: int | None = None,
               timeout_s: float = REPLAY_TIMEOUT_S, python: str | None = None, on_example=None) -> dict:
    """Replay the corpus; returns the map's JSON (``complete`` says whether every example ran)."""
    from lstm_atlas.case.library import load_library
    from lstm_atlas.fuzz.oracle import ALLOW_FILE

    corpus = read_corpus(corpus_path)
    entries = replay_order(corpus["examples"])[:examples]
    worker = Worker(timeout_s, python=python)
    previous = signal.signal(signal.SIGTERM, _stop)
    fmap = None
    complete = interrupted = False
    try:
        library = load_library(cases_dir) if Path(cases_dir).is_dir() else []  # while the worker imports TF
        env = dict(worker.wait_ready(), device_kind="cpu")
        oracle = Oracle.from_library(library, env, merged, allow if allow is not None else ALLOW_FILE)
        fmap = FuzzMap(worker.environment, "replay", None, corpus=corpus["corpus"], family_of=oracle.family_of)
        out_dir = Path(out_dir)
        copy_corpus(corpus_path, out_dir / CORPUS_FILE)
        for i, entry in enumerate(entries, 1):
            example = entry["example"]
            outcome = worker.run(example)
            outcome["signature"] = outcome_signature(outcome)
            reasons = oracle.explain(outcome, example)
            record = fmap.add(example, outcome, reasons)
            if record["minimal_example"] is None:
                record["minimal_example"] = example  # the corpus's examples are shrunk already
            if on_example:
                on_example(fmap, example, outcome)
            if i % WRITE_EVERY == 0:
                fmap.write(out_dir, heatmap=False)
        complete = len(entries) == len(corpus["examples"])
    except (KeyboardInterrupt, Stopped):
        complete, interrupted = False, True
    finally:
        signal.signal(signal.SIGTERM, previous)
        worker.stop()
    if fmap is None:
        raise RuntimeError("the replay stopped before the worker started")
    data = fmap.to_json()
    data["summary"]["worker_restarts"] = worker.restarts
    data["complete"], data["interrupted"] = complete, interrupted
    env_dir = Path(out_dir) / data["env"]
    write_map(data, env_dir)
    write_index(out_dir)
    data["published"] = []
    if publish and complete:
        data["published"] = [str(p) for p in publish_map(env_dir, publish_dir)]
    return data
