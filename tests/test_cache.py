"""The result cache: keys change with every input that can change an outcome; entries round-trip;
a damaged entry is a miss. The last test runs the plugin twice on real TensorFlow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_atlas.matrix.merge import cell_of
from lstm_atlas.matrix.results import read_results
from lstm_atlas.plugin import cache

from .conftest import good_case

LOCK = {"distributions": {"tensorflow-cpu": "2.21.0", "keras": "3.13.2", "numpy": "2.4.6"}, "python": "3.11.9",
        "implementation": "CPython", "platform": "Linux-x86_64", "machine": "x86_64",
        "variables": {"TF_USE_LEGACY_KERAS": None}, "gpus": []}
OPTIONS = {"isolate": False, "logical_cpus": 0, "timeout": None}
CASE = good_case().encode()


def key(**changes):
    args = {"case_bytes": CASE, "variant": "repro", "device": "cpu", "options": OPTIONS, "lock": LOCK,
            "harness": "h1"}
    args.update(changes)
    return cache.item_key(**args)


def test_key_is_stable_and_a_sha256():
    assert key() == key()
    assert len(key()) == 64 and int(key(), 16) >= 0


@pytest.mark.parametrize("change", [
    {"case_bytes": CASE.replace(b"units: 4", b"units: 5")},
    {"case_bytes": CASE + b"\n"},  # any byte counts, even a comment or a blank line
    {"variant": "fix"},
    {"device": "gpu"},
    {"options": dict(OPTIONS, isolate=True, timeout=300.0)},
    {"options": dict(OPTIONS, logical_cpus=2)},
    {"harness": "h2"},
    {"lock": dict(LOCK, distributions=dict(LOCK["distributions"], keras="3.13.1"))},
    {"lock": dict(LOCK, distributions=dict(LOCK["distributions"], numpy="1.26.4"))},
    {"lock": dict(LOCK, python="3.12.1")},
    {"lock": dict(LOCK, platform="Darwin-arm64")},
    {"lock": dict(LOCK, variables={"TF_USE_LEGACY_KERAS": "1"})},
    {"lock": dict(LOCK, gpus=["0000:01:00.0"])},
], ids=lambda c: next(iter(c)))
def test_every_input_changes_the_key(change):
    assert key(**change) != key()


def test_environment_lock_is_read_without_importing_tensorflow():
    code = ("import sys, json; from lstm_atlas.plugin import cache; lock = cache.environment_lock(); "
            "print(json.dumps([lock, 'tensorflow' in sys.modules, 'keras' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lock, tf_imported, keras_imported = json.loads(out)
    assert not tf_imported and not keras_imported
    assert "numpy" in lock["distributions"] and lock["python"] == sys.version
    assert "TF_USE_LEGACY_KERAS" in lock["variables"]


def _copy_package(tmp_path: Path) -> Path:
    package = tmp_path / "lstm_atlas"
    shutil.copytree(Path(cache.__file__).parent.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    return package


def test_harness_version_follows_the_outcome_folders_not_presentation(tmp_path):
    package = _copy_package(tmp_path)
    before = cache.source_hash(package)
    (package / "matrix" / "report.py").write_text("# presentation only\n", "utf-8")
    (package / "matrix" / "templates" / "report.md.j2").write_text("changed", "utf-8")
    (package / "explain" / "score.py").write_text("# explain does not judge items\n", "utf-8")
    (package / "fuzz" / "driver.py").write_text("# nor does the fuzzer\n", "utf-8")
    assert cache.source_hash(package) == before
    with (package / "engine" / "match.py").open("a", encoding="utf-8") as handle:
        handle.write("\n# a change to how items are judged\n")
    assert cache.source_hash(package) != before
    assert cache.source_hash(_copy_package(tmp_path / "again")) == before


def test_a_new_module_in_an_outcome_folder_is_covered_without_being_named(tmp_path):
    package = _copy_package(tmp_path)
    before = cache.source_hash(package)
    (package / "engine" / "new_step.py").write_text("X = 1\n", "utf-8")
    assert cache.source_hash(package) != before


def test_a_top_level_module_counts_once_an_outcome_folder_imports_it(tmp_path):
    package = _copy_package(tmp_path)
    files = {p.relative_to(package).as_posix() for p in cache.outcome_files(package)}
    assert "errors.py" in files, "case/ and engine/ import the errors module"
    assert "cli.py" not in files and not any(f.startswith(("explain/", "fuzz/")) for f in files)
    (package / "helper.py").write_text("Y = 2\n", "utf-8")
    before = cache.source_hash(package)
    (package / "helper.py").write_text("Y = 3\n", "utf-8")
    assert cache.source_hash(package) == before, "not imported by an outcome folder yet"
    with (package / "engine" / "match.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom lstm_atlas import helper  # noqa: F401\n")
    with_import = cache.source_hash(package)
    (package / "helper.py").write_text("Y = 4\n", "utf-8")
    assert cache.source_hash(package) != with_import


RECORD = {"nodeid": "cases/x.yaml::good-case[repro-cpu]", "case_id": "good-case", "variant": "repro",
          "device": "cpu", "verdict": "pass", "observed": {"status": "raised"}, "mismatches": []}
ENV = {"tensorflow": "2.21.0", "keras": "3.13.2", "env_name": "tf221"}


def test_put_then_get_round_trips_with_the_observation_date(tmp_path):
    store = cache.ResultCache(tmp_path)
    assert store.get(key()) is None
    assert store.put(key(), RECORD, ENV, None) is True
    entry = store.get(key())
    assert entry["record"] == RECORD and entry["environment"] == ENV and entry["observed_at"][:2] == "20"
    assert (tmp_path / key()[:2] / f"{key()}.json").is_file()
    assert not list(tmp_path.rglob("*.tmp"))  # written atomically: no temporary left behind
    replayed = cache.replayed_record(entry, "other/nodeid")
    assert replayed["cached"] is True and replayed["observed_at"] == entry["observed_at"]
    assert replayed["nodeid"] == "other/nodeid" and replayed["verdict"] == "pass"


def test_a_failure_keeps_its_block(tmp_path):
    store = cache.ResultCache(tmp_path)
    store.put(key(), dict(RECORD, verdict="fail"), ENV, "expected: raises TypeError\nobserved: ...")
    assert store.get(key())["failure_block"].startswith("expected: raises TypeError")


@pytest.mark.parametrize("verdict", ["crash", "timeout", "error", "invalid"])
def test_non_deterministic_verdicts_are_not_stored(tmp_path, verdict):
    store = cache.ResultCache(tmp_path)
    assert store.put(key(), dict(RECORD, verdict=verdict), ENV) is False
    assert store.get(key()) is None and not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"format": 999}', b"\xff\xfe"])
def test_a_damaged_entry_is_a_miss(tmp_path, content):
    store = cache.ResultCache(tmp_path)
    store.put(key(), RECORD, ENV)
    (tmp_path / key()[:2] / f"{key()}.json").write_bytes(content)
    assert store.get(key()) is None


def test_an_entry_under_another_key_or_oversized_is_a_miss(tmp_path, monkeypatch):
    store = cache.ResultCache(tmp_path)
    store.put(key(), RECORD, ENV)
    path = tmp_path / key()[:2] / f"{key()}.json"
    other = key(device="gpu")
    (tmp_path / other[:2]).mkdir(exist_ok=True)
    shutil.copy(path, tmp_path / other[:2] / f"{other}.json")
    assert store.get(other) is None
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 10)
    assert store.get(key()) is None


def test_cache_root_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.CACHE_DIR_ENV, raising=False)
    assert cache.cache_root(tmp_path) == tmp_path / ".atlas-cache"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "shared"))
    assert cache.cache_root(tmp_path) == tmp_path / "shared"


def test_replayed_environment_takes_this_interpreters_env_name(monkeypatch):
    monkeypatch.setenv("ATLAS_ENV", "tf221-ci")
    assert cache.replayed_environment(ENV) == dict(ENV, env_name="tf221-ci")
    assert cache.replayed_environment(None) is None


def test_report_cell_carries_the_date_only_for_reused_items():
    item = dict(RECORD, observed={"status": "ok", "stage": "fit", "exception": None, "outcome": {}})
    assert cell_of(item)["observed_at"] is None
    assert cell_of(dict(item, observed_at="2026-11-20T10:00:00+00:00"))["observed_at"] is None
    reused = cell_of(dict(item, cached=True, observed_at="2026-11-20T10:00:00+00:00"))
    assert reused["observed_at"] == "2026-11-20T10:00:00+00:00"


# --- end to end on real TensorFlow -------------------------------------------------------------

PROBE = """\
import sys
def pytest_sessionfinish(session):
    open("tf-imported.txt", "w").write(str("tensorflow" in sys.modules))
"""


def _by_name(path):
    return {i["nodeid"].split("::")[-1]: i for i in read_results(path)["items"]}


@pytest.mark.tf
def test_second_run_reuses_results_and_an_edit_reruns_only_that_case(pytester, case_dir):
    pytester.makeconftest(PROBE)
    case_dir("case-a", good_case("case-a"))
    case_b = case_dir("case-b", good_case("case-b"))
    case_dir("case-wrong", good_case("case-wrong", raises="TypeError"))
    argv = ["cases", "--atlas-devices", "cpu", "-p", "no:cacheprovider"]

    first = pytester.runpytest_subprocess(*argv, "--atlas-results", "r1.json")
    first.assert_outcomes(passed=5, failed=1)
    assert not any(i.get("cached") for i in _by_name(pytester.path / "r1.json").values())

    second = pytester.runpytest_subprocess(*argv, "--atlas-results", "r2.json")
    second.assert_outcomes(passed=5, failed=1)
    items = _by_name(pytester.path / "r2.json")
    assert all(i["cached"] and i["observed_at"] for i in items.values())
    assert (pytester.path / "tf-imported.txt").read_text() == "False"
    # a cached failure still fails, with its expected-vs-observed block
    out = second.stdout.str()
    assert "expected: raises TypeError at fit" in out and "cached result observed" in out
    # the reused items carry the first run's observations and environment
    first_items = _by_name(pytester.path / "r1.json")
    for name, item in items.items():
        assert item["observed"] == first_items[name]["observed"], name
    assert read_results(pytester.path / "r2.json")["environment"]["tensorflow"]

    case_b.write_text(case_b.read_text().replace("title: LSTM fed a 2-D array", "title: LSTM fed a matrix"))
    third = pytester.runpytest_subprocess(*argv, "--atlas-results", "r3.json")
    third.assert_outcomes(passed=5, failed=1)
    rerun = {name for name, item in _by_name(pytester.path / "r3.json").items() if not item.get("cached")}
    assert rerun == {"case-b[repro-cpu]", "case-b[fix-cpu]"}

    forced = pytester.runpytest_subprocess(*argv, "--atlas-no-cache", "--atlas-results", "r4.json")
    forced.assert_outcomes(passed=5, failed=1)
    assert not any(i.get("cached") for i in _by_name(pytester.path / "r4.json").values())


def _entry_path(tmp_path):
    return tmp_path / key()[:2] / f"{key()}.json"


@pytest.mark.parametrize("edit", [
    lambda e: e["record"].update(verdict="pass"),  # fail edited to pass
    lambda e: e.update(failure_block=None),
    lambda e: e["environment"].update(tensorflow="9.9.9"),
    lambda e: e.update(observed_at="2000-01-01T00:00:00+00:00"),
    lambda e: e.pop("digest"),
])
def test_a_tampered_entry_is_a_counted_miss(tmp_path, edit):
    store = cache.ResultCache(tmp_path)
    store.put(key(), dict(RECORD, verdict="fail"), ENV, "expected: raises TypeError")
    entry = json.loads(_entry_path(tmp_path).read_text())
    assert entry["digest"] == cache.entry_digest(key(), entry)
    edit(entry)
    _entry_path(tmp_path).write_text(json.dumps(entry))
    assert store.get(key()) is None
    assert store.rejected == {key()}


def test_an_intact_entry_is_believed_and_not_counted(tmp_path):
    store = cache.ResultCache(tmp_path)
    store.put(key(), dict(RECORD, verdict="fail"), ENV, "block")
    assert store.get(key())["record"]["verdict"] == "fail" and not store.rejected
    assert cache.ResultCache(tmp_path).get(key(device="gpu")) is None  # no entry: a plain miss


def test_an_entry_of_another_format_is_a_plain_miss(tmp_path):
    store = cache.ResultCache(tmp_path)
    store.put(key(), RECORD, ENV)
    entry = json.loads(_entry_path(tmp_path).read_text())
    _entry_path(tmp_path).write_text(json.dumps(dict(entry, format=cache.CACHE_FORMAT - 1)))
    assert store.get(key()) is None and not store.rejected
