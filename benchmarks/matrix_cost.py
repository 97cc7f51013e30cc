"""What one environment's run of the library costs, and how much of it is the harness's own.

Prints figures and ratios measured in one run on one machine; asserts nothing (targets are
read here, not enforced by timed tests). Every part runs in its own child process, so the
parts can be run separately on a busy machine and the lead can re-run all of them later:

    python benchmarks/matrix_cost.py                       # everything (about 4 runs of the library)
    python benchmarks/matrix_cost.py --floor --harness     # only some parts
    python benchmarks/matrix_cost.py --naive-sample 6 --json out.json

Parts:
  floor    the cases' own TensorFlow work: one warm interpreter imports TensorFlow, then builds
           and runs every case's repro and fix on the CPU (``run.prepare`` + ``run.execute``:
           data, model, compile, steps, in a fresh Keras session) and nothing else.
  harness  ``pytest cases/ --atlas-no-cache`` wall time, serial and ``-n 2``; per-item overhead
           (pytest's item time minus the observation's own duration) and RSS per item.
  naive    one fresh interpreter per case (TensorFlow import + both variants), on an evenly
           spread sample of cases, scaled to the whole library.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] if values else float("nan")


def case_paths(cases: Path) -> list[Path]:
    return sorted(p for p in cases.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))


# --- children -----------------------------------------------------------------------------------

def floor_child(cases: Path, out: Path, trim_every: int) -> None:
    """The floor, in this (fresh) interpreter: TF import, then every case's repro and fix on the CPU."""
    import ctypes
    import gc

    t0 = time.perf_counter()
    from lstm_atlas.engine import compat

    compat.keras()
    import_s = time.perf_counter() - t0
    from lstm_atlas.case.validate import load_case
    from lstm_atlas.engine.execute import execute, prepare

    libc = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
    rows, probes = [], []
    rss0 = rss_mb()
    t_loop = time.perf_counter()
    for path in case_paths(cases):
        case = load_case(path)
        for variant in ("repro", "fix"):
            if case.variants[variant]["expect"].get("crash"):
                # the variant is expected to kill its interpreter: the harness forks it, the floor cannot run it
                rows.append({"item": f"{case.id}[{variant}]", "s": 0.0, "status": "not run (expected crash)",
                             "rss_mb": rss_mb()})
                continue
            t = time.perf_counter()
            obs = execute(prepare(case, variant), "cpu", case.variants[variant].get("seed", 0))
            rows.append({"item": f"{case.id}[{variant}]", "s": time.perf_counter() - t, "status": obs.status,
                         "rss_mb": rss_mb()})
            if trim_every and len(rows) % trim_every == 0:
                before = rss_mb()
                gc.collect()
                after_gc = rss_mb()
                if libc is not None:
                    libc.malloc_trim(0)
                probes.append({"after_items": len(rows), "rss_mb": before, "after_gc_mb": after_gc,
                               "after_trim_mb": rss_mb(), "py_objects": len(gc.get_objects()),
                               "tf_functions": tf_function_count()})
    out.write_text(json.dumps({"import_s": import_s, "loop_s": time.perf_counter() - t_loop, "rss_start_mb": rss0,
                               "items": rows, "probes": probes}))


def tf_function_count() -> int | None:
    """Functions registered in TensorFlow's eager context (traced graphs it keeps alive); None if unknown."""
    try:
        from tensorflow.python.eager import context

        return len(context.context().list_function_names())
    except Exception:  # noqa: BLE001 - a private API; absent on some versions
        return None


def case_child(path: Path) -> None:
    """The naive runner's unit: a fresh interpreter runs one case (both variants) and exits."""
    from lstm_atlas.case.validate import load_case
    from lstm_atlas.engine.execute import execute, prepare

    case = load_case(path)
    for variant in ("repro", "fix"):
        execute(prepare(case, variant), "cpu", case.variants[variant].get("seed", 0))


# --- parts ----------------------------------------------------------------------------------------

CPU_S: dict = {}  # the last child's CPU seconds (user + system, its own children included)


def run_child(args: list[str], env=None) -> float:
    """Wall seconds of one child; its CPU seconds go to CPU_S["last"] (steadier than wall on a busy box)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    rc = subprocess.run([sys.executable, *args], check=False, cwd=ROOT, env=env).returncode
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_S["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if rc not in (0, 1):  # 1: some item failed; the figures still stand, the summary shows it
        raise SystemExit(f"{args[:3]} exited with {rc}")
    return wall


def measure_floor(cases: Path, trim_every: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "floor.json"
        load = load_average()
        wall = run_child([__file__, "--_floor-child", str(out), "--cases", str(cases),
                          "--trim-every", str(trim_every)])
        data = json.loads(out.read_text())
    rss = [r["rss_mb"] for r in data["items"]]
    return {"wall_s": wall, "cpu_s": CPU_S["last"], "import_s": data["import_s"], "loop_s": data["loop_s"],
            "items": len(data["items"]),
            "median_item_s": statistics.median(r["s"] for r in data["items"]),
            "rss_start_mb": data["rss_start_mb"], "rss_peak_mb": max(rss), "rss_end_mb": rss[-1],
            "rss_growth_per_item_mb": (rss[-1] - rss[0]) / max(len(rss) - 1, 1),
            "probes": data["probes"], "per_item": {r["item"]: r["s"] for r in data["items"]}, "load": load}


def measure_harness(cases: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        results, junit, probe = Path(tmp) / "r.json", Path(tmp) / "j.xml", Path(tmp) / "rss.jsonl"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
                   ATLAS_RSS_PROBE=str(probe))
        argv = ["-m", "pytest", str(cases), "-q", "-p", "no:cacheprovider", "-p", "atlas_rss_probe",
                "--atlas-no-cache", "--atlas-results", str(results), "--junitxml", str(junit)]
        if workers:
            argv += ["-n", str(workers)]
        load = load_average()
        wall = run_child(argv, env=env)
        data = json.loads(results.read_text())
        times = {}
        for case in ET.parse(junit).getroot().iter("testcase"):
            times[case.get("name")] = float(case.get("time") or 0)
        rss_rows = [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []
    isolated_ids = isolated_items(cases)
    overhead, isolated = [], []
    for item in data["items"]:
        name = item["nodeid"].split("::")[-1]
        obs = item.get("observed") or {}
        if item["verdict"] == "skip" or name not in times or "duration_s" not in obs:
            continue
        bucket = isolated if (item["case_id"], item["variant"]) in isolated_ids else overhead
        bucket.append(times[name] - obs["duration_s"])
    by_pid: dict = {}
    for row in rss_rows:
        by_pid.setdefault(row["pid"], []).append(row["rss_mb"])
    growth = [(r[-1] - r[0]) / max(len(r) - 1, 1) for r in by_pid.values() if r]
    return {"wall_s": wall, "cpu_s": CPU_S["last"], "items": len(data["items"]), "summary": data["summary"],
            "overhead_median_s": statistics.median(overhead) if overhead else None,
            "overhead_p90_s": pct(overhead, 0.9), "overhead_max_s": max(overhead, default=None),
            "overhead_total_s": sum(overhead),
            "isolated_items": len(isolated), "isolated_overhead_total_s": sum(isolated),
            "rss_peak_mb": max((max(r) for r in by_pid.values()), default=None),
            "rss_first_mb": min((r[0] for r in by_pid.values()), default=None),
            "rss_growth_per_item_mb": max(growth, default=None), "load": load}


def isolated_items(cases: Path) -> set:
    """(case id, variant) pairs the plugin runs in a child interpreter (``isolate``, or a convert step)."""
    from lstm_atlas.case.schema import VARIANTS
    from lstm_atlas.case.validate import load_case, steps_of

    out = set()
    for path in case_paths(cases):
        case = load_case(path)
        for variant in VARIANTS:
            if case.spec.get("isolate", "convert" in steps_of(case.variants[variant])):
                out.add((case.id, variant))
    return out


def measure_naive(cases: Path, sample: int) -> dict:
    paths = case_paths(cases)
    step = max(len(paths) // sample, 1)
    chosen = paths[::step][:sample]
    load = load_average()
    walls = [run_child([__file__, "--_case-child", str(p)]) for p in chosen]
    return {"sample": len(chosen), "mean_case_s": statistics.mean(walls), "cases": len(paths),
            "scaled_s": statistics.mean(walls) * len(paths), "load": load}


def report(res: dict) -> None:
    print(f"\nmachine: {os.cpu_count()} CPUs; load average (1/5/15 min) at start of each part in brackets")
    f, s, p, n = res.get("floor"), res.get("serial"), res.get("parallel"), res.get("naive")
    rows = []
    if f:
        rows.append(("TF import (one interpreter)", f"{f['import_s']:.1f} s", f["load"]))
        rows.append(("floor child process: wall / CPU", f"{f['wall_s']:.1f} / {f['cpu_s']:.1f} s", f["load"]))
        rows.append((f"floor: {f['items']} items, one warm process", f"{f['loop_s']:.1f} s "
                     f"(median item {f['median_item_s']:.2f} s)", f["load"]))
        rows.append(("floor RSS start / peak / end", f"{f['rss_start_mb']:.0f} / {f['rss_peak_mb']:.0f} / "
                     f"{f['rss_end_mb']:.0f} MB ({f['rss_growth_per_item_mb']:.2f} MB per item)", f["load"]))
        for probe in f["probes"]:
            rows.append((f"  after {probe['after_items']} items: rss / after gc / after malloc_trim",
                         f"{probe['rss_mb']:.0f} / {probe['after_gc_mb']:.0f} / {probe['after_trim_mb']:.0f} MB; "
                         f"{probe.get('py_objects')} Python objects, {probe.get('tf_functions')} TF functions", ""))
    for label, h in (("harness serial", s), ("harness -n 2", p)):
        if h:
            rows.append((f"{label}: pytest cases/ ({h['items']} items)", f"{h['wall_s']:.1f} s "
                         f"(CPU {h['cpu_s']:.1f} s) {h['summary']}", h["load"]))
            if h["overhead_median_s"] is not None:
                rows.append((f"  {label} per-item overhead median / p90 / max / sum",
                             f"{h['overhead_median_s'] * 1000:.0f} / {h['overhead_p90_s'] * 1000:.0f} / "
                             f"{h['overhead_max_s'] * 1000:.0f} ms / {h['overhead_total_s']:.1f} s", ""))
            if h["isolated_items"]:
                rows.append((f"  {label} isolated items (child interpreter each): overhead sum",
                             f"{h['isolated_overhead_total_s']:.1f} s over {h['isolated_items']} items", ""))
            if h["rss_peak_mb"] is not None:
                rows.append((f"  {label} RSS first / peak per process",
                             f"{h['rss_first_mb']:.0f} / {h['rss_peak_mb']:.0f} MB "
                             f"({h['rss_growth_per_item_mb']:.2f} MB per item)", ""))
    if n:
        rows.append((f"naive: process per case, {n['sample']} sampled, x{n['cases']}",
                     f"{n['scaled_s']:.1f} s (mean {n['mean_case_s']:.1f} s per case)", n["load"]))
    ratios = []
    if f and s:
        value = (s["wall_s"] - f["import_s"]) / f["loop_s"]
        ratios.append(("harness / floor = (serial - TF import) / floor loop", value, "<=", 1.10))
        ratios.append(("harness / floor in CPU seconds (both whole processes)", s["cpu_s"] / f["cpu_s"],
                       "<=", 1.10))
    if n and s:
        ratios.append(("naive / harness serial", n["scaled_s"] / s["wall_s"], ">=", 15))
    if s and p:
        ratios.append(("serial / -n 2", s["wall_s"] / p["wall_s"], ">=", 1.7))
    width = max((len(r[0]) for r in rows + ratios), default=10)
    for label, value, load in rows:
        print(f"{label:<{width}}  {value}" + (f"  [load {load}]" if load else ""))
    for label, value, op, target in ratios:
        met = value <= target if op == "<=" else value >= target
        print(f"{label:<{width}}  {value:.2f}  (target {op} {target}: {'met' if met else 'NOT met'})")
    res["ratios"] = {label: value for label, value, _, _ in ratios}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=ROOT / "cases")
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--harness", action="store_true", help="serial and -n 2")
    parser.add_argument("--serial", action="store_true", help="harness, serial only")
    parser.add_argument("--parallel", action="store_true", help="harness, -n 2 only")
    parser.add_argument("--naive-sample", type=int, default=None, metavar="N")
    parser.add_argument("--trim-every", type=int, default=40, metavar="N",
                        help="floor: every N items, measure RSS before/after gc.collect and malloc_trim (0: never)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--_floor-child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_case-child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._floor_child:
        floor_child(args.cases, args._floor_child, args.trim_every)
        return 0
    if args._case_child:
        case_child(args._case_child)
        return 0
    everything = not (args.floor or args.harness or args.serial or args.parallel or args.naive_sample)
    res: dict = {"cpus": os.cpu_count(), "load_start": load_average(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if args.floor or everything:
        res["floor"] = measure_floor(args.cases, args.trim_every)
    if args.harness or args.serial or everything:
        res["serial"] = measure_harness(args.cases, 0)
    if args.harness or args.parallel or everything:
        res["parallel"] = measure_harness(args.cases, 2)
    if args.naive_sample or everything:
        res["naive"] = measure_naive(args.cases, args.naive_sample or 6)
    res["load_end"] = load_average()
    report(res)
    print(f"load average: start {res['load_start']}, end {res['load_end']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
