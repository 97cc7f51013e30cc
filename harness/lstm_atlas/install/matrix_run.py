"""``lstm-atlas matrix``: cases on several TensorFlow versions, one uv environment each, merged into one report.

Environments run side by side (``--jobs``), each in its own thread driving a pytest subprocess, with
a progress bar per environment (items done of the items collected, and an ETA from the pace so
far, read from the results file the plugin rewrites at every item). One that fails to be created
or to run is reported with its log while the others finish. All share one result cache
(``$ATLAS_CACHE_DIR``), so an item already run with the same case, harness and versions is reused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.install import envs, locate
from lstm_atlas.install.plan import EnvPlan, plan

#: Exit statuses: every environment ran and every item passed; all ran, some item failed; some did not run.
ALL_PASSED, SOME_FAILED, NOT_ALL_RAN = 0, 1, 3


@dataclass
class EnvOutcome:
    plan: EnvPlan
    state: str = "waiting"  # waiting, creating, running, ran, failed
    reused: bool = False
    env_s: float = 0.0
    run_s: float = 0.0
    done: int = 0
    expected: int | None = None
    exit_status: int | None = None
    reason: str = ""
    results: Path | None = None
    log: Path | None = None
    counts: dict = field(default_factory=dict)


def rootdir_for(paths: list[Path]) -> Path:
    """pytest's rootdir: above every ``cases`` folder named (discovery looks for it below the rootdir)."""
    tops = []
    for path in paths:
        folder = path if path.is_dir() else path.parent
        cases = next((p for p in (folder, *folder.parents) if p.name == locate.CASES), None)
        tops.append((cases or folder).parent if cases else folder)
    return Path(os.path.commonpath([str(t) for t in tops]))


def _poll(outcome: EnvOutcome) -> None:
    """Items done and expected, from the results file the plugin rewrites at every item."""
    try:
        data = json.loads(outcome.results.read_text("utf-8"))
    except (OSError, ValueError):
        return
    run = data.get("run") or {}
    outcome.done, outcome.expected = run.get("recorded_items") or 0, run.get("expected_items")


def run_env(outcome: EnvOutcome, source: envs.Source, cases: list[Path], pytest_extra: list[str],
            out: Path, cache_dir: Path) -> None:
    """Create (or reuse) one environment and run the cases there; never raises: the outcome says."""
    key = outcome.plan.key
    outcome.results, outcome.log = out / "results" / f"{key}.json", out / "logs" / f"{key}.log"
    outcome.results.unlink(missing_ok=True)
    with open(outcome.log, "w", encoding="utf-8") as log:
        try:
            outcome.state, start = "creating", time.monotonic()
            outcome.reused = envs.ensure_env(outcome.plan, source, log)
            outcome.env_s = time.monotonic() - start
            outcome.state, start = "running", time.monotonic()
            env = dict(os.environ, ATLAS_ENV=key, ATLAS_CACHE_DIR=str(cache_dir), TF_CPP_MIN_LOG_LEVEL="2")
            env.pop("VIRTUAL_ENV", None)
            env.pop("PYTHONPATH", None)  # the environment's own lstm_atlas, not the caller's
            command = [str(envs.env_python(outcome.plan.env_dir)), "-m", "pytest", *map(str, cases),
                       "-p", "no:cacheprovider", "-q", "--atlas-results", str(outcome.results),
                       "--rootdir", str(rootdir_for(cases)), *pytest_extra]
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            while child.poll() is None:
                _poll(outcome)
                time.sleep(0.5)
            _poll(outcome)
            outcome.run_s, outcome.exit_status = time.monotonic() - start, child.returncode
            if child.returncode in (0, 1) and outcome.results.is_file():
                outcome.state = "ran"
            else:
                outcome.state = "failed"
                outcome.reason = f"pytest exited {child.returncode}" + ("" if outcome.results.is_file()
                                                                         else ", no results file")
        except Exception as exc:  # noqa: BLE001 - one environment's failure is reported, the others go on
            outcome.state, outcome.reason = "failed", f"{type(exc).__name__}: {exc}"
            log.write(f"\n{outcome.reason}\n")


def _progress(outcomes: list[EnvOutcome], stop: threading.Event, plain: bool) -> None:
    """A bar per environment with its ETA (rich), or nothing but the closing table when ``plain``."""
    if plain:
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description:<20}"), TextColumn("{task.fields[state]:<9}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, transient=False, refresh_per_second=2) as bar:
        tasks = {o.plan.key: bar.add_task(o.plan.key, total=None, state=o.state) for o in outcomes}
        while True:
            for o in outcomes:
                bar.update(tasks[o.plan.key], completed=o.done, total=o.expected, state=o.state)
                if o.state in ("ran", "failed") and o.expected is None:
                    bar.update(tasks[o.plan.key], total=max(o.done, 1), completed=max(o.done, 1))
            if stop.is_set():
                break
            time.sleep(0.5)


def _counts(path: Path) -> dict:
    from collections import Counter

    data = json.loads(path.read_text("utf-8"))
    return dict(Counter(item["verdict"] for item in data.get("items", [])))


def summary_lines(outcomes: list[EnvOutcome], report_s: float, report_dir: Path | None) -> list[str]:
    lines = [f"{'env':<20} {'python':<7} {'environment':<22} {'cases run':>9}  {'result'}"]
    for o in outcomes:
        env_note = f"{'reused' if o.reused else 'created'} {o.env_s:.0f} s" if o.state != "failed" or o.env_s \
            else "-"
        counts = ", ".join(f"{n} {v}" for v, n in sorted(o.counts.items())) or "-"
        result = counts if o.state == "ran" else f"FAILED: {o.reason} (log {o.log})"
        lines.append(f"{o.plan.key:<20} {o.plan.python:<7} {env_note:<22} {o.run_s:>7.0f} s  {result}")
    if report_dir is not None:
        lines.append(f"report: {report_dir} (merged in {report_s:.1f} s)")
    return lines


def matrix_command(args) -> int:
    from lstm_atlas.install.plan import parse_versions
    from lstm_atlas.matrix.merge import merge_files
    from lstm_atlas.matrix.report import write_report

    started = time.monotonic()
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, not {args.jobs}")
    library = locate.library()
    cases = [Path(p).resolve() for p in (args.cases or [str(library)])]
    for path in cases:
        if not path.exists():
            raise InputError(f"{path}: no such case folder or file")
    out = Path(args.out).resolve()
    published = Path(str(locate.published_merged().path)).resolve().parent
    if out == published or published in out.parents:
        raise InputError(f"--out {args.out}: inside the published matrix ({published}); pick another folder")
    source = envs.install_source()
    plans = plan(parse_versions(args.tf), Path(str(locate.constraints_dir())), locate.user_cache_dir() / "envs",
                 source.identity, envs.current_python(), keras_latest=args.keras_latest, python=args.python)
    for sub in ("results", "logs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    root = locate.project_root()
    cache_dir = Path(os.environ.get("ATLAS_CACHE_DIR") or (root / ".atlas-cache" if root else
                                                           locate.user_cache_dir() / "results-cache"))
    pytest_extra = []
    if not args.cases and library.origin == "shipped":  # a pytest configuration around site-packages has no say
        (out / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        pytest_extra = ["-c", str(out / "pytest.ini")]
    outcomes = [EnvOutcome(p) for p in plans]
    print(f"lstm-atlas matrix: {len(cases)} case path(s) on {', '.join(p.key for p in plans)} "
          f"({args.jobs} at a time); environments in {locate.user_cache_dir() / 'envs'}, result cache {cache_dir}",
          flush=True)
    stop = threading.Event()
    plain = args.no_progress or not sys.stdout.isatty()
    drawer = threading.Thread(target=_progress, args=(outcomes, stop, plain), daemon=True)
    drawer.start()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_env, o, source, cases, pytest_extra, out, cache_dir) for o in outcomes]
        for future, o in zip(futures, outcomes, strict=True):
            future.result()
            if plain:
                state = "ran" if o.state == "ran" else f"FAILED ({o.reason})"
                print(f"{o.plan.key}: {state}; environment {'reused' if o.reused else 'created'} in {o.env_s:.0f} s, "
                      f"cases {o.run_s:.0f} s", flush=True)
    stop.set()
    drawer.join()
    ran = [o for o in outcomes if o.state == "ran"]
    for o in ran:
        o.counts = _counts(o.results)
    report_dir, report_start = None, time.monotonic()
    if ran:
        report_dir = out / "report"
        write_report(merge_files([o.results for o in ran]), report_dir)
    for line in summary_lines(outcomes, time.monotonic() - report_start, report_dir):
        print(line)
    print(f"total {time.monotonic() - started:.0f} s")
    if len(ran) < len(outcomes):
        print(f"lstm-atlas matrix: {len(outcomes) - len(ran)} of {len(outcomes)} environments did not run",
              file=sys.stderr)
        return NOT_ALL_RAN
    return ALL_PASSED if all(set(o.counts) <= {"pass", "skip"} for o in ran) else SOME_FAILED
