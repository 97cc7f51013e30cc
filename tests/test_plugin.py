"""The pytest plugin end to end, on real TensorFlow, through pytester subprocess runs."""

from __future__ import annotations

import json
import shutil

import pytest

from lstm_atlas.record import read_results

from .conftest import BROKEN_DIR, broken_expectations, good_case

pytestmark = pytest.mark.tf


PREPARE_EXPLODES = """
import lstm_atlas.run as run

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
    for path, line, field, message in broken:
        # one located error per broken file, naming file, line and field
        assert out.count(f"invalid case file {path.name}") == 1
        assert f"{path.name}:{line}" in out, path.name
        if field:
            assert f"field '{field}'" in out, path.name
    # expected vs observed, not a harness traceback
    assert "expected: raises TypeError at fit" in out
    assert "observed: raised builtins.ValueError at fit" in out
    assert "exception class: expected TypeError, observed builtins.ValueError" in out
    assert "lstm_atlas/plugin.py" not in out and "Traceback" not in out
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
                                           "--atlas-timeout", "25", "--atlas-results", "r.json")
    result.assert_outcomes(passed=1, failed=2, deselected=3)
    out = result.stdout.str()
    assert "crash: interpreter killed by SIGABRT" in out
    assert "timeout: no result after 25 s" in out
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
