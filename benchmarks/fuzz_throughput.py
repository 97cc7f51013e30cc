"""Throughput of the fuzz map: examples per second through the whole path, per step.

The path measured is the one ``lstm-atlas fuzz`` uses: Hypothesis draws an example in this
process, it goes over the pipe to the warm worker, which builds the data, constructs (or
reuses) the model and runs the step, and the outcome comes back and is reduced to its
signature. The worker's start (TensorFlow import) is left out and printed apart. The worker
is one process, so the figures are per core. Prints figures; asserts nothing.

    python benchmarks/fuzz_throughput.py [--examples 300] [--fit-examples 60] [--seed 0]
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
    finally:
        worker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
