"""The pytest plugin end to end, on real TensorFlow, through pytester subprocess runs."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from lstm_atlas.matrix.results import read_results

from .conftest import BROKEN_DIR, broken_expectations, good_case

pytestmark = pytest.mark.tf


PREPARE_EXPLODES = """
import lstm_atlas.engine.execute as run

_prepare = run.prepare


def prepare(case, variant):
    if case.id == "explodes":
        raise KeyError("boom")
    return _prepare(case, variant)


run.prepare = prepare
"""


def _results(pytester, name="r.json"):
    return read_results(pytester.path / name)


def test_broken_files_fail_alone_and_the_rest_runs(pytester, case_dir):
    for path in BROKEN_DIR.glob("*.yaml"):
        shutil.copy(path, pytester.path / "cases" / "input-rank" / path.name)
    case_dir("good-case", good_case())
    case_dir("wrong-claim", good_case("wrong-claim", raises="TypeError"))
    # A valid file whose preparation fails with something other than a CaseError fails alone too.
    case_dir("explodes", good_case("explodes"))
    pytester.makeconftest(PREPARE_EXPLODES)
    result = pytester.runpytest_subprocess("cases", "--atlas-devices", "cpu", "--atlas-results", "r.json")
    broken = broken_expectations()
    result.assert_outcomes(passed=3, failed=len(broken) + 2)
    out = result.stdout.str()
    assert "Interrupted" not in out and "error during collection" not in out
    assert out.count("invalid case file explodes.yaml") == 1
    assert "cannot prepare this case (KeyError: 'boom')" in out
    for path, line, field, _message in broken:
        # one located error per broken file, naming file, line and field
        assert out.count(f"invalid case file {path.name}") == 1
        assert f"{path.name}:{line}" in out, path.name
        if field:
            assert f"field '{field}'" in out, path.name
    # expected vs observed, not a harness traceback
    assert "expected: raises TypeError at fit" in out
    assert "observed: raised builtins.ValueError at fit" in out
    assert "exception class: expected TypeError, observed builtins.ValueError" in out
    assert "harness/lstm_atlas/plugin/" not in out and "Traceback" not in out
    # claim verdicts are shown
    assert "false  good-case[repro-cpu]: article says TypeError at fit; TensorFlow: ValueError at fit" in out
    data = _results(pytester)
    verdicts = {i["nodeid"].split("::")[-1]: i["verdict"] for i in data["items"]}
    assert verdicts["good-case[repro-cpu]"] == "pass" and verdicts["good-case[fix-cpu]"] == "pass"
    assert verdicts["wrong-claim[repro-cpu]"] == "fail"
    assert sum(v == "invalid" for v in verdicts.values()) == len(broken) + 1
    invalid = next(i for i in data["items"] if i["case_id"] == "unknown-layer")
    assert invalid["location"] == {"path": invalid["location"]["path"], "line": 9, "field": "model.layers[0]"}
    env = data["environment"]
    assert env["tensorflow"] and env["keras"] and env["numpy"] and env["devices"] == ["cpu"]
    fix = next(i for i in data["items"] if i["nodeid"].endswith("good-case[fix-cpu]"))
    assert fix["observed"]["status"] == "ok" and fix["observed"]["outcome"]["loss_finite"] is True
    assert data["cases"]["good-case"]["claims"]["repro"]["raises"] == "TypeError"


def test_xdist_workers_feed_one_results_file(pytester, case_dir):
    for n in range(3):
        case_dir(f"good-case-{n}", good_case(f"good-case-{n}"))
    result = pytester.runpytest_subprocess("cases", "-n", "2", "--atlas-devices", "cpu", "--atlas-results", "r.json")
    result.assert_outcomes(passed=6)
    data = _results(pytester)
    assert len(data["items"]) == 6 and data["summary"]["pass"] == 6
    assert data["run"]["workers"] == 2
    assert data["environment"]["keras_flavor"] in ("keras2", "keras3", "tf_keras")


def test_isolation_records_crash_and_timeout_and_goes_on(pytester, case_dir, monkeypatch):
    case_dir("crashy", good_case("crashy"))
    case_dir("hangy", good_case("hangy"))
    case_dir("steady", good_case("steady"))
    monkeypatch.setenv("ATLAS_TEST_CRASH_CASE", "crashy")
    monkeypatch.setenv("ATLAS_TEST_HANG_CASE", "hangy")
    result = pytester.runpytest_subprocess("cases", "-k", "repro", "--atlas-devices", "cpu", "--atlas-isolate",
                                           "--atlas-timeout", "60", "--atlas-results", "r.json")
    result.assert_outcomes(passed=1, failed=2, deselected=3)
    out = result.stdout.str()
    assert "crash: interpreter killed by SIGABRT" in out
    assert "timeout: no result after 60 s" in out
    verdicts = {i["case_id"]: i["verdict"] for i in _results(pytester)["items"]}
    assert verdicts == {"crashy": "crash", "hangy": "timeout", "steady": "pass"}


def test_device_axis_on_logical_cpus_and_markers(pytester, case_dir):
    case_dir("good-case", good_case())
    result = pytester.runpytest_subprocess("cases", "-v", "-m", "fixture and input-rank", "--atlas-logical-cpus", "2",
                                           "--atlas-results", "r.json")
    result.assert_outcomes(passed=4, skipped=2)
    out = result.stdout.str()
    for name in ("repro-cpu0", "repro-cpu1", "fix-cpu0", "fix-cpu1"):
        assert f"good-case[{name}] PASSED" in out
    assert "good-case[repro-gpu] SKIPPED" in out
    data = _results(pytester)
    assert data["environment"]["devices"] == ["cpu0", "cpu1"]
    skipped = [i for i in data["items"] if i["verdict"] == "skip"]
    assert {i["device"] for i in skipped} == {"gpu"} and "not visible" in skipped[0]["reason"]
    # the run really happened on the second logical CPU
    cpu1 = [i for i in data["items"] if i["device"] == "cpu1" and i["verdict"] == "pass"]
    assert len(cpu1) == 2


def test_results_json_is_plain_json(pytester, case_dir):
    """The results file is readable without the harness (CI artifacts are merged elsewhere)."""
    case_dir("good-case", good_case())
    case_dir("other-case", good_case("other-case"))
    result = pytester.runpytest_subprocess("cases", "-k", "good-case and fix-cpu", "-m", "not masking",
                                           "--atlas-results", "out/r.json")
    result.assert_outcomes(passed=1, deselected=7)
    raw = json.loads((pytester.path / "out" / "r.json").read_text())
    assert raw["schema"] == "lstm-atlas-results"
    assert [i["nodeid"].split("::")[1] for i in raw["items"]] == ["good-case[fix-cpu]"]


PLAIN_TEST = """\
import json, os, sys

def test_plain(request):
    seen = {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL"),
            "tensorflow imported": "tensorflow" in sys.modules,
            "markers": request.config.getini("markers")}
    print("\\nSEEN " + json.dumps(seen, sort_keys=True))
"""


def _comparable(result) -> list[str]:
    """Output lines without what differs between any two runs (plugin list, timings)."""
    return [line for line in result.stdout.lines
            if not line.startswith(("plugins:", "rootdir:", "cachedir:")) and " in " not in line]


def test_an_unrelated_project_runs_exactly_as_without_the_plugin(pytester, monkeypatch):
    """The plugin is installed for every pytest session: another project's YAML must stay its own."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    (pytester.path / "testcases").mkdir()
    (pytester.path / "testcases" / "login.yaml").write_text("id: login\nfamily: smoke\nsteps: [open, type]\n")
    (pytester.path / "testcases" / "logout.yml").write_text("- step: click\n")
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "checkout.yaml").write_text("id: checkout\nsteps: [pay]\n")
    (pytester.path / "test_plain.py").write_text(PLAIN_TEST)
    runs = {}
    for label, extra in (("with", []), ("without", ["-p", "no:lstm_atlas"])):
        collected = pytester.runpytest_subprocess("--collect-only", "-q", *extra)
        markers = pytester.runpytest_subprocess("--markers", *extra)
        ran = pytester.runpytest_subprocess("-s", "-rA", *extra)
        ran.assert_outcomes(passed=1)
        seen = json.loads(next(line for line in ran.stdout.lines if line.startswith("SEEN "))[5:])
        runs[label] = (collected.ret, _comparable(collected), _comparable(markers), ran.ret, _comparable(ran), seen)
    assert runs["with"] == runs["without"]
    assert runs["with"][1][0] == "test_plain.py::test_plain"
    assert runs["with"][5]["TF_CPP_MIN_LOG_LEVEL"] is None and not runs["with"][5]["tensorflow imported"]
    assert not any("atlas" in line.lower() for line in runs["with"][2])


def test_results_are_written_as_items_run_and_an_in_process_crash_leaves_a_partial_file(
        pytester, case_dir, monkeypatch):
    """No isolation, no xdist: a harness error is an error item; a Python hang is stopped by the per-item
    limit; an abort kills pytest, and the file written so far holds the finished items and names the one
    that died."""
    case_dir("a-raisy", good_case("a-raisy"))
    case_dir("a-steady", good_case("a-steady"))
    case_dir("b-hangy", good_case("b-hangy"))
    case_dir("c-crashy", good_case("c-crashy"))
    case_dir("d-never", good_case("d-never"))
    monkeypatch.setenv("ATLAS_TEST_RAISE_CASE", "a-raisy")
    monkeypatch.setenv("ATLAS_TEST_HANG_CASE", "b-hangy")
    monkeypatch.setenv("ATLAS_TEST_CRASH_CASE", "c-crashy")
    result = pytester.runpytest_subprocess("cases", "-p", "no:faulthandler", "-k", "repro", "--atlas-devices", "cpu",
                                           "--atlas-timeout", "8", "--atlas-results", "r.json")
    assert result.ret == -6  # SIGABRT: pytest itself died
    data = _results(pytester)
    assert data["schema_version"] == 2
    verdicts = {i["case_id"]: i["verdict"] for i in data["items"]}
    assert verdicts == {"a-raisy": "error", "a-steady": "pass", "b-hangy": "timeout"}
    hang = next(i for i in data["items"] if i["case_id"] == "b-hangy")
    assert "no result after 8 s (in-process)" in hang["reason"]
    assert "inject_fault" in hang["observed"]["outcome"]["stack"]
    run = data["run"]
    assert run["interrupted"] is True and run["complete"] is False and run["exit_status"] is None
    assert run["running"] == ["cases/input-rank/c-crashy.yaml::c-crashy[repro-cpu]"]
    assert run["expected_items"] == 5 and run["recorded_items"] == 3
    report = pytester.run(sys.executable, "-m", "lstm_atlas.cli", "report", "r.json", "--out", "rep")
    assert report.ret == 0
    md = (pytester.path / "rep" / "report.md").read_text()
    assert "the run died while running cases/input-rank/c-crashy.yaml::c-crashy[repro-cpu]" in md
    assert "| c-crashy | repro | ✗ crash |" in md


def test_under_xdist_a_dead_worker_is_a_crash_item_and_the_run_goes_on(pytester, case_dir, monkeypatch):
    """In-process items under xdist: an abort, and a hang no signal handler can end (the hard stop)."""
    case_dir("crashy", good_case("crashy"))
    case_dir("stuck", good_case("stuck"))
    case_dir("steady", good_case("steady"))
    monkeypatch.setenv("ATLAS_TEST_CRASH_CASE", "crashy")
    monkeypatch.setenv("ATLAS_TEST_NATIVE_HANG_CASE", "stuck")
    result = pytester.runpytest_subprocess("cases", "-n", "2", "-k", "repro", "--atlas-devices", "cpu",
                                           "--atlas-timeout", "3", "--atlas-results", "r.json")
    result.assert_outcomes(passed=1, failed=2)
    assert "worker 'gw" in result.stdout.str() and "crashed while running" in result.stdout.str()
    data = _results(pytester)
    verdicts = {i["case_id"]: i["verdict"] for i in data["items"]}
    assert verdicts == {"crashy": "crash", "stuck": "crash", "steady": "pass"}
    crash = next(i for i in data["items"] if i["case_id"] == "stuck")
    assert "died while running this item" in crash["reason"] and crash["variant"] == "repro"
    run = data["run"]
    assert (run["exit_status"], run["interrupted"], run["complete"], run["running"]) == (1, False, True, [])


def test_a_logical_cpu_split_that_cannot_be_made_is_a_usage_error(pytester, case_dir):
    case_dir("good-case", good_case())
    # TensorFlow initialised before the plugin could split the CPU
    pytester.makeconftest("import tensorflow as tf\ntf.constant(1.0) + 1.0\n")
    result = pytester.runpytest_subprocess("cases", "--atlas-logical-cpus", "2", "--atlas-results", "r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "lstm-atlas: --atlas-logical-cpus 2: cannot split the CPU into 2 logical devices" in result.stdout.str() \
        + result.stderr.str()
    data = _results(pytester)
    assert data["items"] == [] and data["environment"] is None
    assert (data["run"]["exit_status"], data["run"]["interrupted"], data["run"]["complete"]) == (4, True, False)
