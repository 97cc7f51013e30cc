"""How fast and how right ``lstm-atlas explain`` is; prints figures, asserts nothing.

    python benchmarks/explain_latency.py [--cold-runs 10]

Cold: a fresh ``lstm-atlas explain`` process per query (Python start, imports, index load,
one query), the way a user runs it. Warm: queries against an index already loaded. Quality:
self-explain over every observed message of the committed matrix (reports/merged.json), the
same with each environment's messages left out of the index (does a version's wording get
recognised from the other versions?), and the real reports of wild/tune/legacy.yaml
(benchmarks/explain_wild.py measures the whole corpus, leave-one-report-out).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lstm_atlas.explain.accuracy import plain
from lstm_atlas.explain.index import Index, default_index_path
from lstm_atlas.explain.score import explain
from lstm_atlas.wild import load_corpus

ROOT = Path(__file__).resolve().parent.parent


def _observed(merged: dict):
    for case_id, variants in sorted(merged["results"].items()):
        for _device, by_env in variants.get("repro", {}).items():
            for env, cell in sorted(by_env.items()):
                if cell.get("exception_type") and cell.get("message"):
                    yield case_id, env, f"{cell['exception_type']}: {cell['message']}"


def _first(answer, case_id) -> tuple[bool, bool]:
    top = answer.matches[0]
    return top.id == case_id, top.id == case_id or case_id in top.same_message_as


def cold(runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of whole ``lstm-atlas explain`` processes; CPU time does not grow
    when other processes compete for the cores, wall time does."""
    exe = shutil.which("lstm-atlas") or str(Path(sys.executable).with_name("lstm-atlas"))
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([exe, "explain", "ValueError: Input 0 of layer lstm_3 is incompatible with the layer: "
                        "expected ndim=3, found ndim=2. Full shape received: (None, 60)"],
                       capture_output=True, check=False)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold-runs", type=int, default=10)
    args = parser.parse_args()
    merged = json.loads((ROOT / "reports" / "merged.json").read_text("utf-8"))
    wild = [r for r in load_corpus(ROOT / "wild", splits=("tune",)) if r.path.endswith("legacy.yaml")]

    t0 = time.perf_counter()
    index = Index.load()
    load_s = time.perf_counter() - t0
    queries = list(_observed(merged))
    per_query = []
    strict = tied = 0
    for case_id, _, text in queries:
        t0 = time.perf_counter()
        answer = explain(text, index)
        per_query.append(time.perf_counter() - t0)
        s, t = _first(answer, case_id)
        strict += s
        tied += t
    n = len(queries)
    print(f"self-explain: {tied}/{n} ranked first ({100 * tied / n:.1f}%), {strict} of them alone, "
          f"{tied - strict} tied with cases that raise the identical message")

    # leave one environment out: its messages are not in the index, the other versions' are
    data = json.loads(default_index_path().read_text("utf-8"))
    lo_strict = lo_tied = lo_n = 0
    for env in sorted(data["environments"]):
        reduced = dict(data)
        reduced["messages"] = []
        for doc in data["messages"]:
            if doc["origin"] == "observed":
                seen = [s for s in doc["seen"] if s[0] != env]
                if not seen:
                    continue
                doc = dict(doc, seen=seen)
            reduced["messages"].append(doc)
        held = Index(reduced)
        for case_id, e, text in queries:
            if e != env:
                continue
            s, t = _first(explain(text, held), case_id)
            lo_strict += s
            lo_tied += t
            lo_n += 1
    print(f"leave-one-environment-out: {lo_tied}/{lo_n} ranked first ({100 * lo_tied / lo_n:.1f}%), "
          f"{lo_strict} alone")

    rows = plain(data, wild)  # these reports are in the index: a tuned-on figure, labelled so
    known = [o for o in rows if o.case != "none"]
    unknown = [o for o in rows if o.unrelated]
    print(f"legacy reports (tuned on, and in the index; the honest figure is benchmarks/explain_wild.py): "
          f"{sum(o.family_at(1) for o in known)}/{len(known)} to the right family first, "
          f"{sum(not o.known for o in unknown)}/{len(unknown)} unrelated errors answered 'no known case'")

    per_query.sort()
    print(f"warm: index load {1000 * load_s:.0f} ms; per query median {1000 * statistics.median(per_query):.1f} ms, "
          f"p95 {1000 * per_query[int(0.95 * len(per_query))]:.1f} ms, max {1000 * per_query[-1]:.1f} ms "
          f"({len(per_query)} queries)")
    walls, cpus = (sorted(v) for v in cold(args.cold_runs))
    print(f"cold process (python start + imports + index + query): wall median {statistics.median(walls):.3f} s, "
          f"max {walls[-1]:.3f} s; CPU median {statistics.median(cpus):.3f} s, max {cpus[-1]:.3f} s "
          f"({len(walls)} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
