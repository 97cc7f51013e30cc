"""``lstm-atlas fuzz`` end to end on real TensorFlow: the ci profile, a worker that dies or hangs, and a
worker started from a folder holding a user's own ``lstm_atlas/``."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from lstm_atlas.case.validate import load_case
from lstm_atlas.fuzz.corpus import read_corpus
from lstm_atlas.fuzz.driver import run_fuzz
from lstm_atlas.fuzz.supervisor import Worker

from .conftest import CASES_DIR, ROOT

pytestmark = pytest.mark.tf

FIT = {"layer": "LSTM", "config": {"units": 2}, "masking": False, "declared": [3, 2],
       "input": {"shape": [4, 3, 2], "dtype": "float32", "container": "ndarray"}, "step": "fit"}
CALL_2D = {"layer": "LSTM", "config": {"units": 2}, "masking": False, "declared": None,
           "input": {"shape": [4, 3], "dtype": "float32", "container": "ndarray"}, "step": "call"}


def test_ci_profile_writes_the_map_valid_candidates_and_its_corpus(tmp_path):
    data = run_fuzz(profile="ci", out_dir=tmp_path / "fuzz", candidates_dir=tmp_path / "candidates",
                    cases_dir=CASES_DIR, merged=ROOT / "reports" / "merged.json", progress=False)
    summary = data["summary"]
    assert 0 < summary["examples"] <= 40 + 30  # the budget plus the shrinking allowance
    assert summary["distinct_signatures"] >= 2 and summary["explained_by_case"] >= 1
    env_dir = tmp_path / "fuzz" / data["env"]
    on_disk = json.loads((env_dir / "map.json").read_text())
    assert on_disk["summary"]["examples"] == summary["examples"] == len(on_disk["outcomes"])
    assert (env_dir / "heatmap.png").stat().st_size > 1000
    assert (tmp_path / "fuzz" / "index.html").exists()
    # a signature some of whose examples no case of their kind explains gets its shrunk example and a candidate
    with_candidate = [s for s in on_disk["signatures"] if s["candidate"]]
    assert with_candidate, "the ci profile found nothing unexplained, so no candidate was written or checked"
    assert all(s["minimal_example"] and s["explained_count"] < s["count"] for s in with_candidate)
    candidates = sorted((tmp_path / "candidates" / data["env"]).glob("*.yaml"))
    assert candidates == sorted(Path(s["candidate"]) for s in with_candidate)
    assert len(candidates) == summary["candidates"]
    for path in candidates:
        case = load_case(path)  # valid case YAML, holding a shrunk example
        assert "fuzz" in case.tags
    corpus = read_corpus(env_dir / "corpus.json")  # the run's corpus, checked (ids are the examples' hashes)
    assert 0 < len(corpus["examples"]) <= summary["examples"]
    assert {e["id"] for e in corpus["examples"]} <= set(on_disk["outcomes"])


@pytest.fixture(scope="module")
def worker():
    w = Worker(timeout_s=120.0)
    w.wait_ready()
    yield w
    w.stop()


def test_worker_reports_a_real_tensorflow_error(worker):
    outcome = worker.run(CALL_2D)
    assert outcome["status"] == "raised" and outcome["stage"] == "call"
    assert "ndim=3" in outcome["exception"]["message"]


def test_a_hang_is_recorded_as_timeout_and_the_next_example_runs(worker):
    worker.timeout_s = 0.001  # nothing answers that fast: the example counts as hung
    try:
        outcome = worker.run(FIT)
    finally:
        worker.timeout_s = 120.0
    assert outcome["status"] == "timeout" and outcome["stage"] == "fit"
    assert worker.restarts == 1
    assert worker.run(CALL_2D)["status"] == "raised"


def test_a_dead_interpreter_is_recorded_as_crash_and_the_worker_restarts(worker):
    restarts = worker.restarts
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait()
    outcome = worker.run(FIT)
    assert outcome["status"] == "crash" and "SIGKILL" in outcome["detail"]
    assert worker.restarts == restarts + 1
    assert worker.run(FIT)["status"] == "ok"


def test_a_users_own_lstm_atlas_folder_does_not_shadow_the_worker(tmp_path, monkeypatch):
    decoy = tmp_path / "lstm_atlas"
    (decoy / "fuzz").mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the decoy package was imported')\n")
    (decoy / "fuzz" / "__init__.py").write_text("")
    (decoy / "fuzz" / "worker.py").write_text("raise SystemExit(42)\n")
    monkeypatch.chdir(tmp_path)
    fresh = Worker(timeout_s=120.0)
    try:
        environment = fresh.wait_ready()  # raises, with the child's stderr, if the decoy was imported
        outcome = fresh.run(CALL_2D)
    finally:
        fresh.stop()
    assert environment["tensorflow"]
    assert outcome["status"] == "raised" and "ndim=3" in outcome["exception"]["message"]
    assert fresh.restarts == 0
