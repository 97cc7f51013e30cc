"""Nothing lost, write failures reported, tampered cache entries never believed, Ctrl-C always interrupted.

Each row provokes one problem from outside (a real ``lstm-atlas`` or ``pytest`` child) and
asserts the promised outcome. Rows that need a prepared case run real TensorFlow (``tf``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..conftest import ROOT, good_case
from .table import Result, Row, assert_one_line_error, cli, pytest_run

DATA = ROOT / "tests" / "data"
HEADER = "# yaml-language-server: $schema=../../harness/lstm_atlas/case/case.schema.json\n"
#: A case that declares itself but is not valid: an invalid item, so a run needs no TensorFlow.
DECLARED_INVALID = HEADER + "id: {id}\nfamily: input-rank\n"

#: Makes every item take a while (``LOSS_SLOW`` seconds), so a signal or a second run lands during one.
SLOW_CONFTEST = """\
import os, time

def pytest_runtest_call(item):
    time.sleep(float(os.environ.get("LOSS_SLOW", "0")))
"""
#: Stands for TensorFlow's destructors, which ignore exceptions: a Ctrl-C that lands in one is swallowed.
SWALLOWING_CONFTEST = """\
import time

class NativeHandle:
    def __del__(self):
        time.sleep(30)  # the KeyboardInterrupt raised here is "ignored" by the interpreter

def pytest_runtest_call(item):
    handle = NativeHandle()
    del handle
"""


def _no_space_conftest(needle: str) -> str:
    """Every rename onto a path containing ``needle`` fails as on a full disk."""
    return f"""\
import errno, os
_real_replace = os.replace

def _full_disk(src, dst, *args, **kwargs):
    if {needle!r} in str(dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))
    return _real_replace(src, dst, *args, **kwargs)

os.replace = _full_disk
"""


def _project(tmp: Path, cases: dict[str, str], conftest: str | None = None) -> Path:
    """A pytest rootdir with ``cases/<relative>`` files (and a conftest)."""
    root = tmp / "proj"
    root.mkdir(exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    for relative, text in cases.items():
        path = root / "cases" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if conftest:
        (root / "conftest.py").write_text(conftest)
    return root


def _env(tmp: Path, **more) -> dict:
    return {"ATLAS_CACHE_DIR": str(tmp / "cache"), **more}


def _results(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def _no_temporaries(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*.tmp")] if folder.exists() else []
    assert not left, left


def _deliverable_sigint() -> None:
    """In the child: Ctrl-C as a terminal delivers it (default handler, unblocked), whatever the test
    process's own disposition or mask is (a CI shell running jobs in the background ignores SIGINT)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_deliverable_sigint,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **env))


def _wait_running(proc: subprocess.Popen, results: Path, timeout: float = 90.0) -> str:
    """Wait until the results file names a running item; its nodeid."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()
        try:
            running = _results(results)["run"]["running"]
        except (OSError, ValueError, KeyError):
            running = []
        if running:
            return running[0]
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"no item was running after {timeout} s")


def _finish(proc: subprocess.Popen, timeout: float = 60.0) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return Result(None, out.decode(), err.decode(), timeout, True)
    return Result(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), 0.0)


def _copy_results(tmp: Path, name: str = "tf221", to: str | None = None, **environment) -> Path:
    doc = json.loads((DATA / f"results-{name}.json").read_text())
    doc["environment"].update(environment)
    target = tmp / (to or f"{name}.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc))
    return target


# --- silent-loss ---------------------------------------------------------------------------------

def _same_environment_twice(tmp):
    first, second = _copy_results(tmp, to="a.json"), _copy_results(tmp, to="b.json")
    refused = cli(["report", str(first), str(second), "--out", str(tmp / "out")], cwd=tmp)
    assert_one_line_error(refused, "a.json", "b.json", "tf221", "--replace")
    assert not (tmp / "out").exists()  # nothing written from a refused merge
    replaced = cli(["report", str(first), str(second), "--out", str(tmp / "out"), "--replace"], cwd=tmp)
    assert replaced.rc == 0, replaced.stderr
    assert _results(tmp / "out" / "merged.json")["sources"] == {"tf221": str(second)}


def _two_environments_one_name(tmp):
    first = _copy_results(tmp, to="a.json", env_name=".venv")
    second = _copy_results(tmp, to="b.json", env_name=".venv", numpy="1.26.4")  # another venv, other numpy
    done = cli(["report", str(first), str(second), "--out", str(tmp / "out")], cwd=tmp)
    assert done.rc == 0, done.stderr
    merged = _results(tmp / "out" / "merged.json")
    assert len(merged["environments"]) == 2
    assert sorted(merged["sources"].values()) == [str(first), str(second)]


def _concurrent_runs(tmp):
    root = _project(tmp, {f"a/bad-{i}.yaml": DECLARED_INVALID.format(id=f"bad-{i}") for i in range(2)},
                    SLOW_CONFTEST)
    results = root / "results" / "r.json"
    first = _start(["cases", "--atlas-results", str(results)], root, _env(tmp, LOSS_SLOW="2"))
    _wait_running(first, results)
    second = pytest_run(["cases", "--atlas-results", str(results)], cwd=root, timeout=60, env=_env(tmp))
    assert_one_line_error(second, "in use by another run", str(results), status=4)
    done = _finish(first)
    assert done.rc == 1, done.stdout[-2000:]
    run = _results(results)
    assert run["run"]["complete"] and len(run["items"]) == 2, run["run"]


def _duplicate_ids_validate(tmp):
    root = _project(tmp, {"a/good-case.yaml": HEADER + good_case(), "b/good-case.yaml": HEADER + good_case()})
    found = cli(["validate", "cases"], cwd=root)
    assert found.rc == 1, found.stdout
    assert "cases/b/good-case.yaml:2: field 'id': duplicate case id 'good-case': already used by " \
           "cases/a/good-case.yaml" in found.stdout.replace(os.sep, "/"), found.stdout


def _duplicate_ids_pytest(tmp):
    root = _project(tmp, {"a/good-case.yaml": HEADER + good_case(), "b/good-case.yaml": HEADER + good_case()})
    ran = pytest_run(["cases", "-k", "invalid", "--atlas-results", "r.json"], cwd=root, env=_env(tmp))
    assert ran.rc == 1, ran.stdout[-2000:]
    items = _results(root / "r.json")["items"]
    assert [i["nodeid"] for i in items] == ["cases/b/good-case.yaml::good-case[invalid]"], items
    assert "already used by" in items[0]["reason"] and "cases/a/good-case.yaml" in items[0]["reason"]


def _bom_case_is_collected(tmp):
    root = _project(tmp, {"input-rank/good-case.yaml": "\ufeff" + good_case()})  # no schema comment
    assert cli(["validate", "cases"], cwd=root).stdout.strip().endswith("1 valid, 0 invalid")
    listed = pytest_run(["cases", "--collect-only", "-q", "--atlas-devices", "cpu"], cwd=root, env=_env(tmp))
    assert listed.rc == 0, listed.stdout[-2000:]
    assert "cases/input-rank/good-case.yaml::good-case[repro-cpu]" in listed.stdout, listed.stdout


def _undeclared_yaml_in_a_library(tmp):
    root = _project(tmp, {"a/declared.yaml": DECLARED_INVALID.format(id="declared"),
                          "a/broken.yaml": "id: broken\n  title: [oops\nfamily: input-rank\n",
                          "a/notes.yaml": "just: a mapping\n"})
    validated = cli(["validate", "cases"], cwd=root)
    assert "0 valid, 3 invalid" in validated.stdout, validated.stdout
    ran = pytest_run(["cases", "--atlas-results", "r.json"], cwd=root, env=_env(tmp))
    assert ran.rc == 1, ran.stdout[-2000:]
    reasons = {i["case_id"]: i["reason"] for i in _results(root / "r.json")["items"]}
    assert set(reasons) == {"declared", "broken", "notes"}, reasons
    for line in validated.stdout.splitlines()[:-1]:  # validate's words, file by file
        assert any(line.split(": ", 1)[1] in reason for reason in reasons.values()), (line, reasons)


def _named_inputs_are_never_dropped(tmp):
    json_file = _copy_results(tmp, "tf221", to="tf221.json")
    other = _copy_results(tmp, "tf215", to="runs/tf215.results")  # not named .json
    done = cli(["report", str(json_file), str(other), "--out", str(tmp / "out")], cwd=tmp)
    assert done.rc == 0, done.stderr
    assert sorted(_results(tmp / "out" / "merged.json")["environments"]) == ["tf215", "tf221"]
    (tmp / "notes.txt").write_text("not results\n")
    assert_one_line_error(cli(["report", str(json_file), str(tmp / "notes.txt"), "--out", str(tmp / "o2")],
                              cwd=tmp), "notes.txt")


def _paths_with_brackets_and_spaces(tmp):
    odd = _copy_results(tmp, "tf221", to="run [1]/tf 221 [final].json")
    done = cli(["report", str(odd), "--out", str(tmp / "out [x]")], cwd=tmp)
    assert done.rc == 0, done.stderr
    assert _results(tmp / "out [x]" / "merged.json")["sources"] == {"tf221": str(odd)}
    diffed = cli(["diff", "2.21", "2.21", str(odd)], cwd=tmp)
    assert diffed.rc == 0, diffed.stderr


# --- write-failure -------------------------------------------------------------------------------

def _results_on_a_full_disk(tmp):
    root = _project(tmp, {"a/bad-0.yaml": DECLARED_INVALID.format(id="bad-0")}, _no_space_conftest("r.json"))
    ran = pytest_run(["cases", "--atlas-results", "results/r.json"], cwd=root, env=_env(tmp))
    assert "INTERNALERROR" not in ran.stdout + ran.stderr, ran.stdout[-2000:]
    assert ran.rc == 1, ran.stdout[-2000:]  # the run's own status: its one item failed
    warnings = [line for line in ran.stdout.splitlines() if "lstm-atlas: warning" in line]
    assert len(warnings) == 1 and "No space left on device" in warnings[0], warnings
    assert not (root / "results" / "r.json").exists()
    _no_temporaries(root / "results")


def _results_in_an_unwritable_folder(tmp):
    root = _project(tmp, {"a/bad-0.yaml": DECLARED_INVALID.format(id="bad-0")})
    (root / "results").write_text("a file where the folder should be\n")
    ran = pytest_run(["cases", "--atlas-results", "results/r.json"], cwd=root, env=_env(tmp))
    assert "INTERNALERROR" not in ran.stdout + ran.stderr and "Traceback" not in ran.stdout, ran.stdout[-2000:]
    assert ran.rc == 1, ran.stdout[-2000:]
    warnings = [line for line in ran.stdout.splitlines() if "lstm-atlas: warning" in line]
    assert len(warnings) == 1 and "results/r.json" in warnings[0], warnings


def _cache_write_fails(tmp):
    root = _project(tmp, {"input-rank/good-case.yaml": HEADER + good_case()}, _no_space_conftest(str(tmp / "cache")))
    ran = pytest_run(["cases", "--atlas-devices", "cpu", "--atlas-results", "r.json"], cwd=root, env=_env(tmp))
    assert ran.rc == 0, ran.stdout[-3000:]
    assert {i["verdict"] for i in _results(root / "r.json")["items"]} == {"pass"}
    warnings = [line for line in ran.stdout.splitlines() if "lstm-atlas: warning" in line]
    assert len(warnings) == 1 and "2 results were not cached" in warnings[0], warnings
    assert not list((tmp / "cache").rglob("*.json")) and not list((tmp / "cache").rglob("*.tmp"))


def _read_only_out(tmp):
    results = _copy_results(tmp)
    (tmp / "blocked").write_text("a file, not a folder\n")
    assert_one_line_error(cli(["report", str(results), "--out", str(tmp / "blocked" / "out")], cwd=tmp),
                          "cannot write", "blocked")
    assert_one_line_error(cli(["catalog", "--cases", str(ROOT / "cases"), "--merged",
                               str(ROOT / "reports" / "merged.json"), "--out",
                               str(tmp / "blocked" / "catalog.md")], cwd=tmp), "cannot write", "blocked")


# --- trust ---------------------------------------------------------------------------------------

def _tampered_cache_entry(tmp):
    root = _project(tmp, {"input-rank/good-case.yaml": HEADER + good_case(raises="TypeError")})  # repro fails
    args = ["cases", "--atlas-devices", "cpu", "--atlas-results", "r.json"]
    assert pytest_run(args, cwd=root, env=_env(tmp)).rc == 1
    entries = [p for p in (tmp / "cache").rglob("*.json") if _results(p)["record"]["verdict"] == "fail"]
    assert len(entries) == 1, entries
    entry = _results(entries[0])
    entry["record"]["verdict"], entry["failure_block"] = "pass", None  # edited from fail to pass
    entries[0].write_text(json.dumps(entry))
    again = pytest_run(args, cwd=root, env=_env(tmp))
    assert again.rc == 1, again.stdout[-2000:]
    items = {i["variant"]: i for i in _results(root / "r.json")["items"]}
    assert items["repro"]["verdict"] == "fail" and not items["repro"].get("cached"), items["repro"]
    assert items["fix"].get("cached") is True  # the untouched entry is still reused
    assert "lstm-atlas: 1 cache entries failed their digest and were re-run" in again.stdout, again.stdout[-2000:]


def _symlink_outside(tmp):
    outside = tmp / "elsewhere" / "good-case.yaml"
    outside.parent.mkdir()
    outside.write_text(HEADER + good_case())
    root = _project(tmp, {})
    link = root / "cases" / "input-rank" / "good-case.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    ran = pytest_run(["cases", "--atlas-results", "r.json"], cwd=root, env=_env(tmp))
    assert ran.rc == 1, ran.stdout[-2000:]
    items = _results(root / "r.json")["items"]
    assert [i["verdict"] for i in items] == ["invalid"], items
    assert "outside the rootdir" in items[0]["reason"] and str(outside) in items[0]["reason"]


# --- interrupt -----------------------------------------------------------------------------------

def _interrupt(tmp, conftest: str, env: dict, cases: dict | None = None, timeout: float = 90.0) -> tuple:
    root = _project(tmp, cases or {f"a/bad-{i}.yaml": DECLARED_INVALID.format(id=f"bad-{i}") for i in range(3)},
                    conftest)
    results = root / "r.json"
    proc = _start(["cases", "--atlas-devices", "cpu", "--atlas-results", str(results)], root, _env(tmp, **env))
    victim = _wait_running(proc, results, timeout)
    time.sleep(0.5)  # inside the item, not at its edge
    proc.send_signal(signal.SIGINT)
    done = _finish(proc)
    assert not done.timed_out, "the run did not stop after Ctrl-C"
    run = _results(results)["run"]
    assert done.rc == 2, (done.rc, done.stdout[-2000:])
    assert run["interrupted"] is True and run["complete"] is False, run
    assert run["running"] == [victim], run
    return run, done


def _ctrl_c_in_an_item(tmp):
    _interrupt(tmp, SLOW_CONFTEST, {"LOSS_SLOW": "30"})


def _ctrl_c_swallowed_by_a_destructor(tmp):
    run, done = _interrupt(tmp, SWALLOWING_CONFTEST, {})
    assert "Exception ignored" in done.stdout + done.stderr, done.stdout[-2000:]  # it really was swallowed
    assert run["recorded_items"] < 3, run  # and the run stopped instead of finishing


def _ctrl_c_in_tensorflow(tmp):
    _interrupt(tmp, None, {"ATLAS_TEST_HANG_CASE": "good-case"},
               cases={"input-rank/good-case.yaml": HEADER + good_case()}, timeout=120)


ROWS = [
    Row("silent-loss", "two results files of one environment are refused unless --replace", _same_environment_twice),
    Row("silent-loss", "two environments of one name get two columns", _two_environments_one_name),
    Row("silent-loss", "a second run on one results path stops at its start", _concurrent_runs, seconds=120),
    Row("silent-loss", "validate names both files of a duplicate case id", _duplicate_ids_validate),
    Row("silent-loss", "pytest makes the second file of a duplicate id invalid", _duplicate_ids_pytest,
        seconds=120, tf=True),
    Row("silent-loss", "a case with a UTF-8 BOM is collected", _bom_case_is_collected, seconds=120, tf=True),
    Row("silent-loss", "every YAML file in a library is an item, broken or undeclared", _undeclared_yaml_in_a_library),
    Row("silent-loss", "inputs named to report are read or refused, never dropped", _named_inputs_are_never_dropped),
    Row("silent-loss", "paths with brackets and spaces work", _paths_with_brackets_and_spaces),
    Row("write-failure", "a results file on a full disk: one warning, the run's own status", _results_on_a_full_disk),
    Row("write-failure", "a results path that cannot be created: one warning", _results_in_an_unwritable_folder),
    Row("write-failure", "a failed cache write keeps the observed verdict", _cache_write_fails, seconds=120,
        tf=True),
    Row("write-failure", "an unwritable --out for report and catalog: one line, exit 2", _read_only_out),
    Row("trust", "a cache entry edited from fail to pass is re-run, and said so", _tampered_cache_entry,
        seconds=180, tf=True),
    Row("trust", "a symlink to a case outside the rootdir is refused", _symlink_outside),
    Row("interrupt", "Ctrl-C during an item names it", _ctrl_c_in_an_item, seconds=120),
    Row("interrupt", "Ctrl-C swallowed by a destructor still interrupts the run", _ctrl_c_swallowed_by_a_destructor,
        seconds=120),
    Row("interrupt", "Ctrl-C inside a TensorFlow item names it", _ctrl_c_in_tensorflow, seconds=180, tf=True),
]

