"""Print what validation costs: the library (time per case) and each broken fixture (time, peak memory).

The bombs in tests/broken_cases/ are small files that used to expand to gigabytes or
recurse until Python gave up; this shows each is now refused in milliseconds and
kilobytes. No TensorFlow is imported.

    python benchmarks/validate_cost.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

from lstm_atlas.case.validate import load_case
from lstm_atlas.errors import CaseError

ROOT = Path(__file__).resolve().parent.parent


def _best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _refuse(path: Path) -> str:
    try:
        load_case(path)
    except CaseError as exc:
        return exc.message
    return "(valid)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    library = sorted((ROOT / "cases").rglob("*.yaml"))
    seconds = _best_of(args.repeat, lambda: [load_case(p) for p in library])
    print(f"library: {len(library)} cases validated in {seconds * 1000:.0f} ms "
          f"({seconds * 1000 / len(library):.2f} ms per case, best of {args.repeat})")

    print(f"{'broken fixture':<28} {'bytes':>7} {'ms':>7} {'peak KiB':>9}  error")
    for path in sorted((ROOT / "tests" / "broken_cases").glob("*.yaml")):
        seconds = _best_of(args.repeat, lambda path=path: _refuse(path))
        tracemalloc.start()
        message = _refuse(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{path.stem:<28} {path.stat().st_size:>7} {seconds * 1000:>7.2f} {peak / 1024:>9.0f}  {message[:70]}")


if __name__ == "__main__":
    main()
