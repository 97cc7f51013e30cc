"""What writing the results file after every item costs, against one write at the end.

The plugin rewrites the whole file (atomically, no fsync) each time an item starts, so a
run that dies leaves a file naming what it finished and what it was running. This replays a
run of ``--items`` items, built from the recorded items in tests/data, through the same
writer and prints the figures. Asserts nothing.

    python benchmarks/results_writes.py [--items 188] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

from lstm_atlas import files
from lstm_atlas.matrix import results as record

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "results-tf221.json"


def replay(doc: dict, count: int, path: Path, every_item: bool) -> float:
    items = [copy.deepcopy(doc["items"][i % len(doc["items"])]) for i in range(count)]
    for n, item in enumerate(items):
        item["nodeid"] = f"{item['nodeid']}#{n}"
    run = dict(doc["run"], exit_status=None, interrupted=True, complete=False, running=[])
    started = time.perf_counter()
    done: list[dict] = []
    encoded: dict[str, str] = {}  # as the plugin's recorder keeps it
    for item in items:
        if every_item:
            files.write_json_atomic(path, record.results_text(doc["environment"], done, doc["cases"], run, encoded),
                                     durable=False)
        done.append(item)
    final = dict(run, exit_status=0, interrupted=False, complete=True)
    files.write_json_atomic(path, record.results_text(doc["environment"], done, doc["cases"], final, encoded))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=188, help="items in the run (the library has 188 on CPU)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    doc = record.read_results(DATA)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.json"
        once = statistics.median(replay(doc, args.items, path, False) for _ in range(args.repeat))
        each = statistics.median(replay(doc, args.items, path, True) for _ in range(args.repeat))
        size = path.stat().st_size
    print(f"items: {args.items}, final file: {size / 1024:.0f} KiB")
    print(f"one write at the end:      {once * 1000:8.1f} ms")
    print(f"a write before every item: {each * 1000:8.1f} ms in all, {each / args.items * 1000:.2f} ms per item")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
