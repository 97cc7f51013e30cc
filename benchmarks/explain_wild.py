"""How right ``lstm-atlas explain`` is on public error reports (wild/); prints figures, asserts nothing.

    python benchmarks/explain_wild.py [--json] [--wild wild] [--misses] [--no-frozen] [--record]

(a) leave-one-report-out on wild/tune: each report is scored by an index rebuilt without that
report's own document, so the figure says how explain does on a report it was not given (the
headline); (b) wild/frozen, when present, scored by the whole tune index (never tuned on);
(c) the tuned-on figure: tune reports scored by the index that holds them (an upper bound, not a result).
Counting rules: lstm_atlas/explain/accuracy.py. The index is always built from the tune split alone (wild/frozen
never reaches it, not even as a count). ``--record`` writes the headline counts README states to
reports/explain-accuracy.json with a digest of their inputs (tests/test_readme.py fails when either drifts);
with ``--no-frozen`` the frozen figure recorded before is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lstm_atlas.explain import accuracy
from lstm_atlas.explain.index import build_index
from lstm_atlas.explain.score import LIKELY_AT, MATCH_AT
from lstm_atlas.files import read_json_file, write_json_atomic
from lstm_atlas.wild import load_corpus

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wild", default=str(ROOT / "wild"))
    parser.add_argument("--cases", default=str(ROOT / "cases"))
    parser.add_argument("--merged", default=str(ROOT / "reports" / "merged.json"))
    parser.add_argument("--json", action="store_true", help="machine-readable figures")
    parser.add_argument("--misses", action="store_true", help="list the reports missed (family top-3, rejection)")
    parser.add_argument("--no-frozen", action="store_true",
                        help="never read wild/frozen (tuning runs: the held-out split stays unseen)")
    parser.add_argument("--record", nargs="?", const=str(ROOT / "reports" / "explain-accuracy.json"), default=None,
                        help="write the headline counts README states (default reports/explain-accuracy.json)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    splits = ("tune",) if args.no_frozen else ("tune", "frozen")
    data = build_index(args.cases, args.merged, args.wild, splits=("tune",))
    reports = load_corpus(args.wild, {cid: c["family"] for cid, c in data["cases"].items()}, splits=splits)
    tune = [r for r in reports if r.split == "tune"]
    frozen = [r for r in reports if r.split == "frozen"]
    loro = accuracy.leave_one_out(data, tune)
    out = {"bands": {"match_at": MATCH_AT, "likely_at": LIKELY_AT},
           "tune_leave_one_report_out": accuracy.summarise(loro),
           "frozen": accuracy.summarise(accuracy.plain(data, frozen)) if frozen else None,
           "tune_tuned_on": accuracy.summarise(accuracy.plain(data, tune)),
           "calibration_tune_held_out": accuracy.calibrate(loro)}
    elapsed = time.perf_counter() - t0
    if args.record:
        _record(args, out)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"wild corpus: {len(tune)} tune reports, {len(frozen)} frozen ({elapsed:.1f} s); "
          f"bands match >= {MATCH_AT}, likely >= {LIKELY_AT}")
    n_without = sum(r.family_only for r in tune)
    print(f"case accuracy counts the {n_without} tune reports no case explains yet (reason: proposed, or not "
          "reproducible here) as misses;\nfamily top-k for them counts the nearest families of 'no known case'\n")
    print(accuracy.table(out["tune_leave_one_report_out"], "(a) tune, leave-one-report-out (headline)"))
    print()
    if frozen:
        print(accuracy.table(out["frozen"], "(b) frozen, scored by the whole tune index"))
    else:
        print("(b) frozen: not read (--no-frozen)" if args.no_frozen
              else "(b) frozen: wild/frozen/ holds no reports yet")
    print()
    print(accuracy.table(out["tune_tuned_on"], "(c) tune scored by the index that contains it: the tuned-on "
                         "figure, an upper bound, not a result"))
    print("\nband calibration on tune, held out report by report (frozen is never used for it): a threshold "
          "answers the reports\nwith a case scoring at or above it (and how many of those have the right family "
          "first), and rejects unrelated ones below it")
    print(f"{'threshold':>9} {'answered':>14} {'right family 1st':>17} {'unrelated rejected':>19}")
    for row in out["calibration_tune_held_out"]:
        if round(row["threshold"] * 100) % 5 == 0 or row["threshold"] in (MATCH_AT, LIKELY_AT):
            mark = {LIKELY_AT: " <- LIKELY_AT", MATCH_AT: " <- MATCH_AT"}.get(row["threshold"], "")
            print(f"{row['threshold']:>9.2f} {accuracy.pct(row['answered'], row['with_case']):>14} "
                  f"{accuracy.pct(row['right_family_first'], row['answered']):>17} "
                  f"{accuracy.pct(row['rejected'], row['unrelated']):>19}{mark}")
    if args.misses:
        print("\nmissed (leave-one-report-out):")
        for o in loro:
            bad = (o.unrelated and o.known) or (not o.unrelated and o.family != "none" and not o.family_at(3))
            if bad:
                got = o.answer_cases[:3] if o.known else f"no known case, nearest {o.nearest_families}"
                print(f"  {o.report_id}: want {o.case} ({o.family}); got {got}")
    return 0


def _record(args, out: dict) -> None:
    """The headline counts and the digest of their inputs; the frozen figure is kept when frozen was not read."""
    path = Path(args.record)
    before = read_json_file(path) if path.is_file() else {}
    digest = accuracy.inputs_digest(args.cases, args.merged, args.wild)
    frozen = dict(accuracy.headline(out["frozen"]), inputs_digest=digest) if out["frozen"] else None
    if args.no_frozen:
        frozen = before.get("frozen")
    write_json_atomic(path, {
        "schema": accuracy.RECORD_SCHEMA, "inputs_digest": digest,
        "bands": out["bands"], "tune_leave_one_report_out": accuracy.headline(out["tune_leave_one_report_out"]),
        "frozen": frozen})


if __name__ == "__main__":
    sys.exit(main())
