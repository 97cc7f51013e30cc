"""Throughput of the fuzz map: examples per second through the whole path, per step.

The path measured is the one ``lstm-atlas fuzz`` uses: Hypothesis draws an example in this
process, it goes over the pipe to the warm worker, which builds the data, constructs (or
reuses) the model and runs the step, and the outcome comes back and is reduced to its
signature. The worker's start (TensorFlow import) is left out and printed apart. The worker
is one process, so the figures are per core. Prints figures; asserts nothing.

Then the replay path (``lstm-atlas fuzz replay``): the committed corpus's examples in replay order
(no Hypothesis), per step, with the oracle's attribution included; the target is the call path at
30 examples/s per core or more.

    python benchmarks/fuzz_throughput.py [--examples 300] [--fit-examples 60] [--seed 0] [--corpus F]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def measure(worker, step: str, count: int, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    from lstm_atlas.fuzz.oracle import outcome_signature
    from lstm_atlas.fuzz.strategies import examples

    seen: dict = {"examples": 0, "reused": 0, "signatures": set(), "worker_s": 0.0}

    @hypothesis_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(examples(step_names=(step,)))
    def probe(example):
        if example["step"] != step:  # LSTMCell examples are always calls
            return
        outcome = worker.run(example)
        seen["examples"] += 1
        seen["reused"] += bool(outcome.get("reused"))
        seen["worker_s"] += float(outcome.get("duration_s") or 0.0)
        seen["signatures"].add(outcome_signature(outcome))

    started = time.perf_counter()
    probe()
    elapsed = time.perf_counter() - started
    return dict(seen, signatures=len(seen["signatures"]), seconds=elapsed)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=300, help="call-path examples")
    parser.add_argument("--fit-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", default="reports/fuzz/corpus.json", help="corpus for the replay figures")
    parser.add_argument("--replay-examples", type=int, default=None, help="replay at most this many (all)")
    args = parser.parse_args()

    from lstm_atlas.fuzz.supervisor import Worker

    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"(1/5/15 min) on {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    worker = Worker(timeout_s=120.0)
    worker.wait_ready()
    env = worker.environment
    print(f"worker start (TensorFlow {env['tensorflow']}, Keras {env['keras']} import): "
          f"{time.perf_counter() - t0:.1f} s")
    try:
        for step, count in (("call", args.examples), ("predict", args.fit_examples), ("fit", args.fit_examples)):
            r = measure(worker, step, count, args.seed)
            print(f"{step:8s} {r['examples']:4d} examples in {r['seconds']:6.1f} s: "
                  f"{r['examples'] / r['seconds']:6.1f} examples/s end to end "
                  f"({r['examples'] / r['worker_s']:6.1f}/s inside the worker), "
                  f"{r['reused']} reused models, {r['signatures']} signatures")
        measure_replay(worker, args.corpus, args.replay_examples)
    finally:
        worker.stop()
    return 0


def measure_replay(worker, corpus_path: str, limit: int | None) -> None:
    """The corpus in replay order through the worker and the oracle, per step."""
    from pathlib import Path

    from lstm_atlas.case.library import load_library
    from lstm_atlas.fuzz.corpus import read_corpus, replay_order
    from lstm_atlas.fuzz.oracle import Oracle, outcome_signature

    if not Path(corpus_path).exists():
        print(f"replay: no corpus at {corpus_path}")
        return
    corpus = read_corpus(corpus_path)
    oracle = Oracle.from_library(load_library("cases"), dict(worker.environment, device_kind="cpu"),
                                 "reports/merged.json")
    per_step: dict = {}
    for entry in replay_order(corpus["examples"])[:limit]:
        started = time.perf_counter()
        outcome = worker.run(entry["example"])
        outcome["signature"] = outcome_signature(outcome)
        oracle.explain(outcome, entry["example"])
        step = per_step.setdefault(entry["example"]["step"], {"examples": 0, "seconds": 0.0, "reused": 0})
        step["examples"] += 1
        step["seconds"] += time.perf_counter() - started
        step["reused"] += bool(outcome.get("reused"))
    total = sum(s["examples"] for s in per_step.values())
    seconds = sum(s["seconds"] for s in per_step.values())
    print(f"replay of corpus {corpus['corpus']}: {total} examples in {seconds:.1f} s, {total / seconds:.1f} "
          f"examples/s end to end")
    for name, s in per_step.items():
        print(f"  {name:8s} {s['examples']:4d} examples: {s['examples'] / s['seconds']:6.1f} examples/s, "
              f"{s['reused']} reused models")


if __name__ == "__main__":
    raise SystemExit(main())
