"""Where the time of `pytest cases/` goes: TensorFlow import, case loading, session reset, items.

Prints figures; asserts nothing (speed targets are read here, not enforced by timed tests).

    python benchmarks/harness_overhead.py [--cases cases] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(fn, repeat=1):
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=str(Path(__file__).resolve().parent.parent / "cases"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from lstm_atlas.case.validate import load_case

    paths = sorted(Path(args.cases).rglob("*.yaml"))
    t_load = timed(lambda: [load_case(p) for p in paths], args.repeat)
    print(f"load + validate {len(paths)} case files: {t_load * 1000:.1f} ms "
          f"({t_load / max(len(paths), 1) * 1000:.2f} ms per file)")

    t0 = time.perf_counter()
    from lstm_atlas.engine import compat

    compat.keras()
    env = compat.environment()
    print(f"import TensorFlow {env['tensorflow']} / Keras {env['keras']}: {time.perf_counter() - t0:.2f} s")

    keras = compat.keras()
    keras.Sequential([keras.Input((3, 2)), keras.layers.LSTM(4)])  # leave some garbage behind, as a case does
    try:
        t_full = timed(lambda: keras.backend.clear_session(free_memory=True), args.repeat)
    except TypeError:
        t_full = timed(keras.backend.clear_session, args.repeat)
    t_fast = timed(compat.clear_session, args.repeat)
    print(f"clear_session: default {t_full * 1000:.1f} ms, harness (no forced gc) {t_fast * 1000:.1f} ms")
    print(f"gc.collect(): {timed(gc.collect, args.repeat) * 1000:.1f} ms")

    from lstm_atlas.engine.execute import execute, prepare

    cases = [load_case(p) for p in paths]
    rows = []
    t_all = time.perf_counter()
    for case in cases:
        for variant in ("repro", "fix"):
            prepared = prepare(case, variant)
            t = time.perf_counter()
            obs = execute(prepared, "cpu", case.variants[variant].get("seed", 0))
            rows.append((time.perf_counter() - t, case.id, variant, obs.status))
    total = time.perf_counter() - t_all
    durations = [r[0] for r in rows]
    print(f"{len(rows)} items in-process: total {total:.1f} s, median {statistics.median(durations) * 1000:.0f} ms, "
          f"p90 {sorted(durations)[int(0.9 * (len(durations) - 1))] * 1000:.0f} ms")
    print("slowest items:")
    for duration, case_id, variant, status in sorted(rows, reverse=True)[:8]:
        print(f"  {duration:6.2f} s  {case_id}[{variant}] ({status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
